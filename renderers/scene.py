"""The scene: a picture laid out once as plain drawing primitives.

Layout code (``layout.py``, ``charts.py``) produces a :class:`Scene`; the SVG backend
(``svg.py``, svgwrite) and the PNG backend (``png.py``, Pillow) each draw the same
scene, so the two outputs cannot disagree. Every primitive is a frozen dataclass of
plain numbers and strings: no fonts, no callbacks, nothing backend-specific.

Coordinates are user units of the scene's viewBox (px at scale 1); text ``y`` is the
baseline, as in SVG. Colours are ``#rrggbb`` strings. ``dash`` is a tuple of dash and
gap lengths (SVG ``stroke-dasharray``); None draws a solid stroke.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

Anchor = Literal["start", "middle", "end"]
Weight = Literal["normal", "bold"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Painted:
    """The paint of a filled, outlined shape (Rect, Circle), given by keyword after its geometry.

    ``fill`` None leaves the inside empty; ``stroke`` None draws no outline.
    """

    fill: str | None = None
    stroke: str | None = None
    stroke_width: float = 1.0
    dash: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Rect(Painted):
    """An axis-aligned rectangle; ``rx`` > 0 (by keyword, like the paint) rounds its corners."""

    x: float
    y: float
    w: float
    h: float
    rx: float = field(default=0.0, kw_only=True)


@dataclass(frozen=True, slots=True)
class Circle(Painted):
    cx: float
    cy: float
    r: float


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = "#000000"
    stroke_width: float = 1.0
    dash: tuple[float, ...] | None = None


@dataclass(frozen=True, slots=True)
class Polygon:
    """A closed polygon, or an open polyline when ``closed`` is False (icons, markers)."""

    points: tuple[tuple[float, float], ...]
    fill: str | None = None
    stroke: str | None = None
    stroke_width: float = 1.0
    closed: bool = True


@dataclass(frozen=True, slots=True)
class TextRun:
    """One line of already-fitted text.

    ``text`` is what is drawn (clean, possibly cut with "…"); ``width`` its measured
    width at ``size``; ``full_text`` the whole text when it was cut (the backends put it
    in a tooltip), else None.
    """

    x: float
    y: float
    text: str
    size: float
    width: float
    fill: str = "#1a1a1a"
    weight: Weight = "normal"
    anchor: Anchor = "start"
    full_text: str | None = None

    @property
    def left(self) -> float:
        if self.anchor == "start":
            return self.x
        if self.anchor == "middle":
            return self.x - self.width / 2
        return self.x - self.width


@dataclass(frozen=True, slots=True)
class Group:
    """A named group (a panel); ``box`` is drawn first and bounds all its text."""

    name: str
    items: tuple["Item", ...]
    box: Rect | None = None


Item = Union[Rect, Line, Circle, Polygon, TextRun, Group]


@dataclass(frozen=True, slots=True)
class Scene:
    """A whole picture: size (the viewBox), items in paint order, title and description."""

    width: float
    height: float
    items: tuple[Item, ...]
    title: str
    desc: str
    background: str = "#ffffff"
    lang: str = "en"
    kind: str = "picture"


def iter_items(items, depth: int = 0):
    """Yield every primitive (groups flattened, boxes included) in paint order."""
    for item in items:
        if isinstance(item, Group):
            if item.box is not None:
                yield item.box
            yield from iter_items(item.items, depth + 1)
        else:
            yield item


def iter_text(scene: Scene):
    """Yield every :class:`TextRun` of ``scene``."""
    for item in iter_items(scene.items):
        if isinstance(item, TextRun):
            yield item
