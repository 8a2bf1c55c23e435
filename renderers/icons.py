"""Icons drawn as primitives (polygons, lines, circles): no images, no external refs.

Each function draws into a 32x32 box at (x, y) with stroke colour ``c`` and returns a
tuple of scene items. ``bg`` is the colour behind the icon (used to knock out shapes
that overlap, like truck wheels).
"""

from __future__ import annotations

import math
from functools import lru_cache

from .scene import Circle, Line, Polygon, Rect

SW = 2.0  # icon stroke width


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 24) -> tuple[tuple[float, float], ...]:
    return tuple(
        (round(cx + rx * math.cos(2 * math.pi * k / n), 2), round(cy + ry * math.sin(2 * math.pi * k / n), 2))
        for k in range(n)
    )


def _arc(cx, cy, r, a0, a1, n=10):
    return tuple(
        (round(cx + r * math.cos(math.radians(a0 + (a1 - a0) * k / n)), 2),
         round(cy + r * math.sin(math.radians(a0 + (a1 - a0) * k / n)), 2))
        for k in range(n + 1)
    )


def payments(x, y, c, bg):
    return (
        Rect(x + 2, y + 7, 28, 19, fill=bg, stroke=c, stroke_width=SW, rx=3),
        Line(x + 2, y + 12.5, x + 30, y + 12.5, stroke=c, stroke_width=3),
        Line(x + 6, y + 20.5, x + 14, y + 20.5, stroke=c, stroke_width=SW),
    )


def shipping(x, y, c, bg):
    return (
        Rect(x + 1, y + 8, 19, 14, fill=bg, stroke=c, stroke_width=SW),
        Polygon(((x + 20, y + 12), (x + 26, y + 12), (x + 31, y + 17), (x + 31, y + 22), (x + 20, y + 22)),
                fill=bg, stroke=c, stroke_width=SW),
        Circle(x + 8, y + 24, 3.5, fill=bg, stroke=c, stroke_width=SW),
        Circle(x + 25, y + 24, 3.5, fill=bg, stroke=c, stroke_width=SW),
    )


def marketplaces(x, y, c, bg):
    return (
        Rect(x + 4, y + 13, 24, 16, fill=bg, stroke=c, stroke_width=SW),
        Polygon(((x + 4, y + 4), (x + 28, y + 4), (x + 31, y + 13), (x + 1, y + 13)),
                fill=bg, stroke=c, stroke_width=SW),
        Line(x + 12, y + 4, x + 11, y + 13, stroke=c, stroke_width=SW),
        Line(x + 20, y + 4, x + 21, y + 13, stroke=c, stroke_width=SW),
        Rect(x + 13, y + 19, 6, 10, fill=bg, stroke=c, stroke_width=SW),
    )


def invoicing(x, y, c, bg):
    return (
        Polygon(((x + 6, y + 2), (x + 20, y + 2), (x + 26, y + 8), (x + 26, y + 30), (x + 6, y + 30)),
                fill=bg, stroke=c, stroke_width=SW),
        Polygon(((x + 20, y + 2), (x + 20, y + 8), (x + 26, y + 8)), stroke=c, stroke_width=SW, closed=False),
        Line(x + 10, y + 14, x + 22, y + 14, stroke=c, stroke_width=SW),
        Line(x + 10, y + 19, x + 22, y + 19, stroke=c, stroke_width=SW),
        Line(x + 10, y + 24, x + 18, y + 24, stroke=c, stroke_width=SW),
    )


def marketing(x, y, c, bg):
    return (
        Polygon(((x + 10, y + 20), (x + 14, y + 20), (x + 16, y + 28), (x + 12, y + 28)),
                fill=bg, stroke=c, stroke_width=SW),
        Polygon(((x + 3, y + 12), (x + 10, y + 12), (x + 23, y + 5), (x + 23, y + 27), (x + 10, y + 20), (x + 3, y + 20)),
                fill=bg, stroke=c, stroke_width=SW),
        Line(x + 26, y + 11, x + 30, y + 8, stroke=c, stroke_width=SW),
        Line(x + 26, y + 16, x + 31, y + 16, stroke=c, stroke_width=SW),
        Line(x + 26, y + 21, x + 30, y + 24, stroke=c, stroke_width=SW),
    )


def domain(x, y, c, bg):
    return (
        Circle(x + 16, y + 16, 13, fill=bg, stroke=c, stroke_width=SW),
        Polygon(_ellipse(x + 16, y + 16, 5.5, 13), stroke=c, stroke_width=SW * 0.8),
        Line(x + 3, y + 16, x + 29, y + 16, stroke=c, stroke_width=SW * 0.8),
        Polygon(_arc(x + 16, y + 25, 15, 218, 322), stroke=c, stroke_width=SW * 0.8, closed=False),
        Polygon(_arc(x + 16, y + 7, 15, 38, 142), stroke=c, stroke_width=SW * 0.8, closed=False),
    )


def person(x, y, c, bg, size=48):
    k = size / 48
    return (
        Circle(x + 24 * k, y + 16 * k, 9 * k, fill=c),
        Polygon(
            tuple((px, min(py, y + 44 * k)) for px, py in _arc(x + 24 * k, y + 46 * k, 17 * k, 180, 360, 16)),
            fill=c,
        ),
    )


def globe_small(x, y, c, bg):
    """A 16x16 globe, for the 'sells abroad' row."""
    return (
        Circle(x + 8, y + 8, 7, fill=bg, stroke=c, stroke_width=1.5),
        Polygon(_ellipse(x + 8, y + 8, 3, 7, 16), stroke=c, stroke_width=1.2),
        Line(x + 1, y + 8, x + 15, y + 8, stroke=c, stroke_width=1.2),
    )


def check(x, y, c, size=8.0):
    """A tick in a ``size`` box centred at (x, y)."""
    h = size / 2
    return (Polygon(((x - h, y), (x - h / 3, y + h * 0.7), (x + h, y - h * 0.7)),
                    stroke=c, stroke_width=2, closed=False),)


def cross(x, y, c, size=8.0):
    h = size / 2
    return (Line(x - h, y - h, x + h, y + h, stroke=c, stroke_width=2),
            Line(x - h, y + h, x + h, y - h, stroke=c, stroke_width=2))


def diamond(cx, cy, r, fill):
    return Polygon(((cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)), fill=fill)


def triangle_up(cx, top, w, h, fill):
    return Polygon(((cx, top), (cx + w / 2, top + h), (cx - w / 2, top + h)), fill=fill)


# Icons are pure functions of their place and colours: cache them (a scene is immutable).
FEATURE_ICONS = {
    name: lru_cache(maxsize=1024)(fn)
    for name, fn in (("payments", payments), ("shipping", shipping), ("marketplaces", marketplaces),
                     ("invoicing", invoicing), ("marketing", marketing), ("domain", domain))
}
person = lru_cache(maxsize=64)(person)
globe_small = lru_cache(maxsize=64)(globe_small)
