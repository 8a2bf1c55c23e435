"""`/fonts/<face>.ttf`: the fonts shipped with the picture renderer, for the pages' own text.

Phones and desktops without a Devanagari font would draw Hindi as boxes; the style sheet
names Lohit Devanagari in an ``@font-face`` (for Devanagari code points only, so a page in
Polish never downloads it) and this route serves the very file the picture is measured and
drawn with. Public (the merchant survey has no login), cached for a long time, read only.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, request

from renderers.text import font_paths

bp = Blueprint("fonts", __name__)

#: How long browsers and proxies keep a font (the files change only with a release).
FONT_CACHE = "public, max-age=31536000"


def shipped_fonts() -> dict[str, object]:
    """File stem ("Lohit-Devanagari") -> path of each shipped font."""
    return {path.stem: path for path in font_paths().values()}


@bp.get("/fonts/<face>.ttf")
def font(face: str):
    """One shipped font file, by its name; 404 for anything else."""
    path = shipped_fonts().get(face)
    if path is None:
        abort(404)
    resp = Response(path.read_bytes(), mimetype="font/ttf")
    resp.headers["Cache-Control"] = FONT_CACHE
    resp.headers["Access-Control-Allow-Origin"] = "*"  # a font is no secret; lets an SVG opened alone use it
    resp.add_etag()
    return resp.make_conditional(request)
