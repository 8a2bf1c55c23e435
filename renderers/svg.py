"""Draw a :class:`~renderers.scene.Scene` as SVG with svgwrite.

Safety: every string that reaches the document (text, tooltips, title, description)
goes through :func:`renderers.text.clean_text` and is escaped by the XML serializer;
numbers are formatted here, never taken as strings from the scene; the only elements
written are svg, title, desc, g, rect, line, circle, polygon, polyline and text, with
presentation attributes only, so there is no script, no event handler, no link, no
image and no foreignObject. Ids are derived from a hash of the scene, so the same
scene always gives the same bytes.
"""

from __future__ import annotations

import hashlib

import svgwrite
from svgwrite.base import Desc, Title

from .scene import Circle, Group, Line, Polygon, Rect, Scene, TextRun
from .text import FONT_FAMILY, clean_text

_ID_SAFE = str.maketrans({c: "-" for c in " \t\"'<>&/\\=:;,."})


def _n(value: float) -> str:
    """Stable, short number formatting: at most 2 decimals, no trailing zeros."""
    s = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _paint(attrs: dict, fill, stroke, stroke_width, dash) -> None:
    attrs["fill"] = fill or "none"
    if stroke:
        attrs["stroke"] = stroke
        attrs["stroke-width"] = _n(stroke_width)
        if dash:
            attrs["stroke-dasharray"] = " ".join(_n(d) for d in dash)


def _scene_id(scene: Scene) -> str:
    digest = hashlib.sha1(
        f"{scene.kind}\x00{scene.title}\x00{scene.desc}".encode("utf-8", "replace")
    ).hexdigest()
    return "cp" + digest[:8]


def _safe_name(name: str) -> str:
    return "".join(c for c in name.translate(_ID_SAFE) if c.isascii() and (c.isalnum() or c in "-_"))


class _Writer:
    def __init__(self, dwg: svgwrite.Drawing, prefix: str):
        self.dwg = dwg
        self.prefix = prefix

    def add(self, parent, item) -> None:
        d = self.dwg
        if isinstance(item, Rect):
            attrs = {"x": _n(item.x), "y": _n(item.y), "width": _n(item.w), "height": _n(item.h)}
            if item.rx:
                attrs["rx"] = _n(item.rx)
            _paint(attrs, item.fill, item.stroke, item.stroke_width, item.dash)
            parent.add(d.rect(**{k.replace("-", "_"): v for k, v in attrs.items()}))
        elif isinstance(item, TextRun):
            self._text(parent, item)
        elif isinstance(item, Line):
            attrs = {"stroke": item.stroke, "stroke_width": _n(item.stroke_width)}
            if item.dash:
                attrs["stroke_dasharray"] = " ".join(_n(x) for x in item.dash)
            parent.add(
                d.line(start=(_n(item.x1), _n(item.y1)), end=(_n(item.x2), _n(item.y2)), **attrs)
            )
        elif isinstance(item, Circle):
            attrs = {"cx": _n(item.cx), "cy": _n(item.cy), "r": _n(item.r)}
            _paint(attrs, item.fill, item.stroke, item.stroke_width, item.dash)
            el = d.circle(center=(attrs.pop("cx"), attrs.pop("cy")), r=attrs.pop("r"))
            el.update(attrs)
            parent.add(el)
        elif isinstance(item, Polygon):
            pts = [(_n(x), _n(y)) for x, y in item.points]
            attrs: dict = {}
            _paint(attrs, item.fill if item.closed else None, item.stroke, item.stroke_width, None)
            if not item.closed:
                attrs["stroke-linecap"] = "round"
                attrs["stroke-linejoin"] = "round"
            el = d.polygon(pts) if item.closed else d.polyline(pts)
            el.update(attrs)
            parent.add(el)
        elif isinstance(item, Group):
            g = d.g(id=f"{self.prefix}-{_safe_name(item.name)}", class_="panel")
            if item.box is not None:
                box = item.box
                attrs = {"x": _n(box.x), "y": _n(box.y), "width": _n(box.w), "height": _n(box.h)}
                if box.rx:
                    attrs["rx"] = _n(box.rx)
                _paint(attrs, box.fill, box.stroke, box.stroke_width, box.dash)
                el = d.rect(class_="panel-box")
                el.update(attrs)
                g.add(el)
            for child in item.items:
                self.add(g, child)
            parent.add(g)
        else:  # pragma: no cover - the scene types are closed
            raise TypeError(f"unknown scene item {type(item).__name__}")

    def _text(self, parent, run: TextRun) -> None:
        d = self.dwg
        el = d.text(clean_text(run.text), insert=(_n(run.x), _n(run.y)))
        el["font-size"] = _n(run.size)
        if run.weight == "bold":
            el["font-weight"] = "bold"
        if run.anchor != "start":
            el["text-anchor"] = run.anchor
        if run.fill != "#1a1a1a":
            el["fill"] = run.fill
        if run.full_text:
            g = d.g(class_="cut")
            g.add(Title(clean_text(run.full_text)))
            g.add(el)
            parent.add(g)
        else:
            parent.add(el)


def render_svg(scene: Scene) -> bytes:
    """Serialise ``scene`` as a standalone, accessible SVG document (UTF-8 bytes)."""
    prefix = _scene_id(scene)
    dwg = svgwrite.Drawing(
        size=(_n(scene.width), _n(scene.height)), profile="full", debug=False
    )
    dwg["viewBox"] = f"0 0 {_n(scene.width)} {_n(scene.height)}"
    dwg["role"] = "img"
    dwg["aria-labelledby"] = f"{prefix}-title {prefix}-desc"
    dwg["font-family"] = FONT_FAMILY
    dwg["fill"] = "#1a1a1a"
    dwg["lang"] = _safe_name(scene.lang) or "en"
    dwg["class"] = f"concierge-{_safe_name(scene.kind)}"
    title, desc = Title(clean_text(scene.title)), Desc(clean_text(scene.desc))
    title.xml.set("id", f"{prefix}-title")
    desc.xml.set("id", f"{prefix}-desc")
    dwg.add(title)
    dwg.add(desc)
    dwg.add(
        dwg.rect(insert=(0, 0), size=(_n(scene.width), _n(scene.height)), fill=scene.background)
    )
    writer = _Writer(dwg, prefix)
    for item in scene.items:
        writer.add(dwg, item)
    # svgwrite always writes an empty <defs/>; drop it, nothing refers to it.
    dwg.elements = [e for e in dwg.elements if e.elementname != "defs"]
    body = dwg.tostring()
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
