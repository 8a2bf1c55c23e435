"""The picture: a shop's profile in, a picture out (SVG or PNG); charts for managers.

Pure package: no Flask, no database, no import of ``concierge``. The picture is laid out
once as a scene of primitives (``layout.build_scene``) and drawn by two backends,
svgwrite (``svg.render_svg``) and Pillow (``png.render_png``), so they never disagree.

    >>> from renderers import PictureInput, render
    >>> svg_bytes = render(PictureInput(owner_name="Anna", market="PL"), fmt="svg", lang="pl")
"""

from __future__ import annotations

from .checks import layout_problems
from .layout import build_scene, describe
from .picture_input import FEATURE_CATEGORIES, FIELD_KEYS, STAGES, FeatureState, PictureInput, ScoreInfo
from .png import render_image, render_png
from .scene import Scene
from .svg import render_svg
from .text import font_paths

FORMATS = ("svg", "png")


def render(pic: PictureInput, fmt: str = "svg", lang: str = "en", *, layout: str = "wide",
           scale: float = 1.0) -> bytes:
    """Build the picture of ``pic`` in ``lang`` and draw it as ``fmt`` ("svg" or "png")."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    scene = build_scene(pic, lang, layout=layout)
    if fmt == "svg":
        return render_svg(scene)
    return render_png(scene, scale=scale)


__all__ = [
    "FEATURE_CATEGORIES", "FIELD_KEYS", "FORMATS", "STAGES", "FeatureState", "PictureInput",
    "Scene", "ScoreInfo", "build_scene", "describe", "font_paths", "layout_problems", "render", "render_image",
    "render_png", "render_svg",
]
