"""Draw a :class:`~renderers.scene.Scene` as SVG.

The scene is first turned into a small tree of plain nodes ``(tag, attrs, text,
children)``; two serialisers write that tree:

- ``engine="svgwrite"``: svgwrite builds the document (the reference);
- ``engine="fast"`` (default): a direct writer producing the *same bytes* (sorted
  attributes, ElementTree's escaping) about ten times faster, which is what makes
  the 2 ms budget. A test renders every sample with both and compares the bytes.

Safety: every string that reaches the document (text, tooltips, title, description)
goes through :func:`renderers.text.clean_text` and is escaped by the writer; numbers
are formatted here, never taken as strings from the scene; the only elements written
are svg, title, desc, style, g, rect, line, circle, polygon, polyline and text, with
presentation attributes only: no script, no event handler, no link, no image, no
foreignObject. Ids come from a hash of the scene, so the same scene always gives the
same bytes.

Devanagari (Hindi): a picture with Devanagari text carries the shipped Lohit Devanagari as
an ``@font-face`` with a ``data:`` URL in its one ``<style>``: an SVG shown through
``<img>`` may load nothing from outside, and a viewer without a Devanagari font would
otherwise draw boxes. Latin-only pictures stay as small as before.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from .scene import Circle, Group, Line, Polygon, Rect, Scene, TextRun, iter_text
from .text import FONT_FAMILY, clean_text, font_paths

ENGINES = ("fast", "svgwrite")
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
EV_NS = "http://www.w3.org/2001/xml-events"
DEFAULT_INK = "#1a1a1a"

_ID_SAFE = str.maketrans({c: "-" for c in " \t\"'<>&/\\=:;,."})

Node = tuple  # (tag: str, attrs: dict[str, str], text: str | None, children: list[Node])


@lru_cache(maxsize=65536)
def _n(value: float) -> str:
    """Stable, short number formatting: at most 2 decimals, no trailing zeros."""
    s = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _paint(attrs: dict, fill, stroke, stroke_width, dash) -> dict:
    attrs["fill"] = fill or "none"
    if stroke:
        attrs["stroke"] = stroke
        attrs["stroke-width"] = _n(stroke_width)
        if dash:
            attrs["stroke-dasharray"] = " ".join(_n(d) for d in dash)
    return attrs


#: What ElementTree (and so svgwrite) escapes, in its order: in element text, and further in attribute values.
_CDATA_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIB_ESCAPES = (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;"))


def _replace_each(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


def _escape_cdata(text: str) -> str:
    """Escape element text exactly as ElementTree (and so svgwrite) does."""
    return _replace_each(text, _CDATA_ESCAPES)


def _escape_attrib(text: str) -> str:
    """Escape an attribute value exactly as ElementTree (and so svgwrite) does."""
    return _replace_each(_escape_cdata(text), _ATTRIB_ESCAPES)


def _scene_id(scene: Scene) -> str:
    digest = hashlib.sha1(
        f"{scene.kind}\x00{scene.title}\x00{scene.desc}".encode("utf-8", "replace")
    ).hexdigest()
    return "cp" + digest[:8]


def _safe_name(name: str) -> str:
    return "".join(c for c in name.translate(_ID_SAFE) if c.isascii() and (c.isalnum() or c in "-_"))


def _rect(item: Rect, **extra) -> Node:
    attrs = dict(extra)
    attrs.update(x=_n(item.x), y=_n(item.y), width=_n(item.w), height=_n(item.h))
    if item.rx:
        attrs["rx"] = _n(item.rx)
    return ("rect", _paint(attrs, item.fill, item.stroke, item.stroke_width, item.dash), None, [])


def _text(run: TextRun) -> Node:
    attrs = {"x": _n(run.x), "y": _n(run.y), "font-size": _n(run.size)}
    if run.weight == "bold":
        attrs["font-weight"] = "bold"
    if run.anchor != "start":
        attrs["text-anchor"] = run.anchor
    if run.fill != DEFAULT_INK:
        attrs["fill"] = run.fill
    node = ("text", attrs, clean_text(run.text), [])
    if run.full_text:
        # The whole value as a tooltip: <g><title>full</title><text>cut…</text></g>
        return ("g", {"class": "cut"}, None, [("title", {}, clean_text(run.full_text), []), node])
    return node


class _Box:
    """A panel's box rectangle (written with class="panel-box")."""

    __slots__ = ("rect",)

    def __init__(self, rect: Rect):
        self.rect = rect

    def __hash__(self) -> int:
        return hash(("panel-box", self.rect))

    def __eq__(self, other) -> bool:
        return isinstance(other, _Box) and other.rect == self.rect


def _node(item, prefix: str) -> Node:
    if isinstance(item, _Box):
        return _rect(item.rect, **{"class": "panel-box"})
    if isinstance(item, TextRun):
        return _text(item)
    if isinstance(item, Rect):
        return _rect(item)
    if isinstance(item, Line):
        attrs = {"x1": _n(item.x1), "y1": _n(item.y1), "x2": _n(item.x2), "y2": _n(item.y2),
                 "stroke": item.stroke, "stroke-width": _n(item.stroke_width)}
        if item.dash:
            attrs["stroke-dasharray"] = " ".join(_n(x) for x in item.dash)
        return ("line", attrs, None, [])
    if isinstance(item, Circle):
        attrs = {"cx": _n(item.cx), "cy": _n(item.cy), "r": _n(item.r)}
        return ("circle", _paint(attrs, item.fill, item.stroke, item.stroke_width, item.dash), None, [])
    if isinstance(item, Polygon):
        attrs = {"points": " ".join(f"{_n(x)},{_n(y)}" for x, y in item.points)}
        _paint(attrs, item.fill if item.closed else None, item.stroke, item.stroke_width, None)
        if not item.closed:
            attrs["stroke-linecap"] = "round"
            attrs["stroke-linejoin"] = "round"
        return ("polygon" if item.closed else "polyline", attrs, None, [])
    if isinstance(item, Group):
        children = []
        if item.box is not None:
            children.append(_rect(item.box, **{"class": "panel-box"}))
        children.extend(_node(child, prefix) for child in item.items)
        return ("g", {"id": f"{prefix}-{_safe_name(item.name)}", "class": "panel"}, None, children)
    raise TypeError(f"unknown scene item {type(item).__name__}")  # pragma: no cover


#: The family of the Lohit Devanagari embedded for Devanagari text: a name of its own, so a page
#: that inlines the SVG and declares its own "Lohit Devanagari" (for every character) changes nothing.
DEVA_FAMILY = "Concierge Devanagari"


def _is_deva(ch: str) -> bool:
    return "\u0900" <= ch <= "\u097f" or "\ua8e0" <= ch <= "\ua8ff" or "\u1cd0" <= ch <= "\u1cff"


def has_devanagari(scene: Scene) -> bool:
    """Whether any text of ``scene`` (title and description included) is written in Devanagari."""
    texts = [scene.title, scene.desc, *(run.text for run in iter_text(scene))]
    return any(_is_deva(ch) for text in texts if text for ch in text)


@lru_cache(maxsize=1)
def devanagari_font_css() -> str:
    """``@font-face`` of the shipped Lohit Devanagari as a ``data:`` URL (read once)."""
    data = base64.b64encode(font_paths()["deva"].read_bytes()).decode("ascii")
    # the embedded face first: Chromium drew some Devanagari runs (bold ones, panel titles) with
    # DejaVu Sans' empty boxes when DejaVu came first; its unicode-range keeps Latin with DejaVu,
    # as measured
    return (f"@font-face{{font-family:'{DEVA_FAMILY}';src:url(data:font/ttf;base64,{data}) format('truetype');"
            "unicode-range:U+0900-097F,U+1CD0-1CFF,U+200C-200D,U+25CC,U+A8E0-A8FF}"
            f"svg{{font-family:'{DEVA_FAMILY}',{FONT_FAMILY}}}")


def scene_tree(scene: Scene, *, deva: bool | None = None) -> Node:
    """The document as plain nodes (what both serialisers write); ``deva``: embed the Devanagari
    font (None: when the scene has Devanagari text)."""
    if deva is None:
        deva = has_devanagari(scene)
    prefix = _scene_id(scene)
    w, h = _n(scene.width), _n(scene.height)
    root_attrs = {
        "width": w, "height": h, "viewBox": f"0 0 {w} {h}", "role": "img",
        "aria-labelledby": f"{prefix}-title {prefix}-desc", "font-family": FONT_FAMILY,
        "fill": DEFAULT_INK, "lang": _safe_name(scene.lang) or "en",
        "class": f"concierge-{_safe_name(scene.kind)}",
    }
    children: list[Node] = [
        ("title", {"id": f"{prefix}-title"}, clean_text(scene.title), []),
        ("desc", {"id": f"{prefix}-desc"}, clean_text(scene.desc), []),
        *([("style", {}, devanagari_font_css(), [])] if deva else []),
        ("rect", {"x": "0", "y": "0", "width": w, "height": h, "fill": scene.background}, None, []),
    ]
    children.extend(_node(item, prefix) for item in scene.items)
    return ("svg", root_attrs, None, children)


# ----------------------------------------------------------------------------- writers

_ROOT_EXTRA = {"xmlns": SVG_NS, "xmlns:xlink": XLINK_NS, "xmlns:ev": EV_NS,
               "baseProfile": "full", "version": "1.1"}


def _write_fast(node: Node, out: list[str]) -> None:
    tag, attrs, text, children = node
    out.append("<" + tag)
    for key in sorted(attrs):
        value = attrs[key]
        if value:
            out.append(f' {key}="{_escape_attrib(value)}"')
    if text or children:
        out.append(">")
        if text:
            out.append(_escape_cdata(text))
        for child in children:
            _write_fast(child, out)
        out.append(f"</{tag}>")
    else:
        out.append(" />")


def _serialize_fast(tree: Node) -> str:
    tag, attrs, text, children = tree
    out: list[str] = []
    _write_fast((tag, {**attrs, **_ROOT_EXTRA}, text, children), out)
    return "".join(out)


@lru_cache(maxsize=16384)
def _leaf_xml(item) -> str:
    """The markup of one primitive (scene items are immutable: icons, labels and boxes
    recur from picture to picture, so most of a document comes from this cache)."""
    out: list[str] = []
    _write_fast(_node(item, ""), out)
    return "".join(out)


def _write_items_fast(items, prefix: str, out: list[str]) -> None:
    for item in items:
        if isinstance(item, Group):
            tag, attrs, _, _ = _node(Group(item.name, ()), prefix)
            opening = f'<g class="{_escape_attrib(attrs["class"])}" id="{_escape_attrib(attrs["id"])}"'
            if item.box is None and not item.items:
                out.append(opening + " />")
                continue
            out.append(opening + ">")
            if item.box is not None:
                out.append(_leaf_xml(_Box(item.box)))
            _write_items_fast(item.items, prefix, out)
            out.append("</g>")
        else:
            out.append(_leaf_xml(item))


def _render_fast(scene: Scene) -> str:
    """The same bytes as ``_serialize_fast(scene_tree(scene))``, from cached pieces."""
    prefix = _scene_id(scene)
    _, root_attrs, _, head = scene_tree(Scene(scene.width, scene.height, (), scene.title, scene.desc,
                                              scene.background, scene.lang, scene.kind),
                                        deva=has_devanagari(scene))
    out: list[str] = []
    _write_fast(("svg", {**root_attrs, **_ROOT_EXTRA}, None, head), out)
    out[-1:] = []  # reopen the root: drop "</svg>"
    _write_items_fast(scene.items, prefix, out)
    out.append("</svg>")
    return "".join(out)


def _serialize_svgwrite(tree: Node) -> str:
    import svgwrite
    from svgwrite.base import Desc, Title

    class _Style(Title):  # svgwrite's own style() writes CDATA; this is the plain element the fast writer writes
        elementname = "style"

    _, root_attrs, _, children = tree
    dwg = svgwrite.Drawing(size=(root_attrs["width"], root_attrs["height"]), profile="full", debug=False)
    dwg.update({k: v for k, v in root_attrs.items() if k not in ("width", "height")})

    def build(node: Node):
        tag, attrs, text, kids = node
        if tag in ("title", "desc", "style"):
            el = (Title if tag == "title" else Desc if tag == "desc" else _Style)(text)
            for key, value in attrs.items():
                el.xml.set(key, value)
            return el
        if tag == "text":
            el = dwg.text(text)
        elif tag in ("polygon", "polyline"):
            pts = [tuple(p.split(",")) for p in attrs["points"].split(" ")]
            el = dwg.polygon(pts) if tag == "polygon" else dwg.polyline(pts)
            attrs = {k: v for k, v in attrs.items() if k != "points"}
        else:
            el = getattr(dwg, tag)()  # rect, line, circle, g: defaults overwritten below
        el.update(attrs)
        for kid in kids:
            el.add(build(kid))
        return el

    for child in children:
        dwg.add(build(child))
    dwg.elements = [e for e in dwg.elements if getattr(e, "elementname", None) != "defs"]
    return dwg.tostring()


def render_svg(scene: Scene, *, engine: str = "fast") -> bytes:
    """Serialise ``scene`` as a standalone, accessible SVG document (UTF-8 bytes)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown SVG engine {engine!r}; expected one of {ENGINES}")
    body = _render_fast(scene) if engine == "fast" else _serialize_svgwrite(scene_tree(scene))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
