"""Draw a :class:`~renderers.scene.Scene` as PNG with Pillow.

The same scene the SVG backend draws, so the pictures agree: text positions come from
the scene's measured widths, and each text run is drawn font-run by font-run with the
shipped fonts (``renderers.text.run_widths``) the way a browser's font fallback would.
Clusters no shipped font covers (colour emoji) are drawn as an outlined box of the
width they were measured with.
"""

from __future__ import annotations

import math
import struct
import zlib
from functools import lru_cache

from PIL import Image, ImageDraw

from .scene import Circle, Group, Line, Polygon, Rect, Scene, TextRun
from .text import FONT_LOCK, get_font, run_widths

#: zlib level for PNG output: 1 is several times faster than the default 6 and, for
#: flat graphics like ours, only slightly larger.
PNG_COMPRESS_LEVEL = 1


@lru_cache(maxsize=2048)
def _glyph_mask(face: str, size: float, text: str):
    """The rendered coverage mask of a text run (labels repeat: render them once)."""
    font = get_font(face, size)
    with FONT_LOCK:
        return font.getmask2(text, "L", anchor="ls")


def _dashes(x1, y1, x2, y2, pattern, scale):
    """Yield the visible segments of a dashed line."""
    length = math.hypot(x2 - x1, y2 - y1)
    if length == 0:
        return
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    pattern = [max(p * scale, 1.0) for p in pattern] or [4.0 * scale]
    if len(pattern) % 2:
        pattern = pattern * 2
    pos, k = 0.0, 0
    while pos < length:
        seg = pattern[k % len(pattern)]
        end = min(pos + seg, length)
        if k % 2 == 0:
            yield (x1 + ux * pos, y1 + uy * pos, x1 + ux * end, y1 + uy * end)
        pos = end
        k += 1


class _Painter:
    def __init__(self, draw: ImageDraw.ImageDraw, scale: float):
        self.d = draw
        self.s = scale

    def w(self, width: float) -> int:
        return max(1, round(width * self.s))

    def paint(self, item) -> None:
        s = self.s
        d = self.d
        if isinstance(item, Group):
            if item.box is not None:
                self.paint(item.box)
            for child in item.items:
                self.paint(child)
        elif isinstance(item, TextRun):
            self.text(item)
        elif isinstance(item, Rect):
            box = (item.x * s, item.y * s, (item.x + item.w) * s - 1, (item.y + item.h) * s - 1)
            solid = item.stroke if (item.stroke and not item.dash) else None
            width = self.w(item.stroke_width) if solid else 0
            if item.rx:
                d.rounded_rectangle(box, radius=item.rx * s, fill=item.fill, outline=solid, width=width)
            else:
                d.rectangle(box, fill=item.fill, outline=solid, width=width)
            if item.stroke and item.dash:
                x0, y0, x1, y1 = box
                for a, b, c, e in ((x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)):
                    for seg in _dashes(a, b, c, e, item.dash, s):
                        d.line(seg, fill=item.stroke, width=self.w(item.stroke_width))
        elif isinstance(item, Line):
            coords = (item.x1 * s, item.y1 * s, item.x2 * s, item.y2 * s)
            if item.dash:
                for seg in _dashes(*coords, item.dash, s):
                    d.line(seg, fill=item.stroke, width=self.w(item.stroke_width))
            else:
                d.line(coords, fill=item.stroke, width=self.w(item.stroke_width))
        elif isinstance(item, Circle):
            cx, cy, r = item.cx * s, item.cy * s, item.r * s
            box = (cx - r, cy - r, cx + r, cy + r)
            solid = item.stroke if (item.stroke and not item.dash) else None
            d.ellipse(box, fill=item.fill, outline=solid, width=self.w(item.stroke_width) if solid else 0)
            if item.stroke and item.dash and r > 0:
                dash = item.dash[0] * s
                gap = (item.dash[1] if len(item.dash) > 1 else item.dash[0]) * s
                step = math.degrees((dash + gap) / r)
                span = math.degrees(dash / r)
                a = -90.0
                while a < 270.0 - 1e-6:
                    d.arc(box, a, min(a + span, 270.0), fill=item.stroke, width=self.w(item.stroke_width))
                    a += step
        elif isinstance(item, Polygon):
            pts = [(x * s, y * s) for x, y in item.points]
            if item.closed:
                d.polygon(pts, fill=item.fill, outline=item.stroke,
                          width=self.w(item.stroke_width) if item.stroke else 0)
            elif item.stroke:
                d.line(pts, fill=item.stroke, width=self.w(item.stroke_width), joint="curve")
        else:  # pragma: no cover
            raise TypeError(f"unknown scene item {type(item).__name__}")

    def text(self, run: TextRun) -> None:
        s = self.s
        bold = run.weight == "bold"
        runs = run_widths(run.text, run.size, bold)
        drawn = sum(width for _, _, width in runs)
        if run.anchor == "middle":
            x = (run.x - drawn / 2) * s
        elif run.anchor == "end":
            x = (run.x - drawn) * s
        else:
            x = run.x * s
        y = run.y * s
        size = run.size * s
        for face, chunk, width in runs:
            if face is None:
                em = size
                self.d.rounded_rectangle(
                    (x + 0.1 * em, y - 0.8 * em, x + width * s - 0.1 * em, y + 0.1 * em),
                    radius=0.15 * em, outline=run.fill, width=max(1, round(s)),
                )
            else:
                self._draw_run(face, size, chunk, x, y, run.fill)
            x += width * s

    def _draw_run(self, face: str, size: float, chunk: str, x: float, y: float, fill: str) -> None:
        core = getattr(self.d, "draw", None)
        if core is None or not hasattr(core, "draw_bitmap"):  # pragma: no cover - other Pillow
            with FONT_LOCK:
                self.d.text((x, y), chunk, font=get_font(face, size), fill=fill, anchor="ls")
            return
        mask, (ox, oy) = _glyph_mask(face, size, chunk)
        core.draw_bitmap((round(x) + ox, round(y) + oy), mask, self.d._getink(fill)[0])


def render_image(scene: Scene, scale: float = 1.0) -> Image.Image:
    """Draw ``scene`` onto a new RGB Pillow image ``scale`` times the viewBox size."""
    size = (max(1, round(scene.width * scale)), max(1, round(scene.height * scale)))
    image = Image.new("RGB", size, scene.background)
    painter = _Painter(ImageDraw.Draw(image), scale)
    for item in scene.items:
        painter.paint(item)
    return image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(image: Image.Image, level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """A minimal PNG of an RGB image: IHDR, one IDAT (filter "none"), IEND.

    Pillow's encoder tries every PNG filter on every row; for a flat picture filter
    "none" compresses as well and the whole encode is about 2.5x faster. No time
    stamps or text chunks, so the bytes depend on the pixels only.
    """
    image = image.convert("RGB") if image.mode != "RGB" else image
    width, height = image.size
    stride = width * 3
    raw = image.tobytes()
    rows = b"".join(b"\x00" + raw[i:i + stride] for i in range(0, stride * height, stride))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows, level)) + _chunk(b"IEND", b""))


def render_png(scene: Scene, scale: float = 1.0) -> bytes:
    """Draw ``scene`` as PNG bytes (deterministic: no timestamps or text chunks)."""
    return encode_png(render_image(scene, scale))
