"""Golden files: the SVG of each persona, byte for byte.

They are stored one element per line (`stored_form`: a newline between two tags), so a
change to the picture can be reviewed as a diff; the renderer itself writes the SVG on
one line, and the test checks it never puts a newline between tags, so the stored form
still pins every byte.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/unit/renderers``
and look at the diff (and the pictures) before committing. The bytes depend on the
text measurements, so they are kept for Pillow with libraqm (HarfBuzz shaping), which
the PyPI wheels bring; without it the test skips and says why.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import features

from renderers import build_scene, render_svg
from renderers.charts import BarRow, bar_chart, calibration_chart, cohort_conversion_chart, readiness_funnel_chart
from renderers.samples import GOLDEN_PERSONAS, personas
from renderers.svg import devanagari_font_css

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

pytestmark = pytest.mark.skipif(
    not features.check("raqm"),
    reason="golden SVGs were measured with Pillow's raqm layout (libraqm/fribidi); this Pillow has none",
)


def _scenes():
    people = personas()
    for name in GOLDEN_PERSONAS:
        pic, lang = people[name]
        yield f"picture_{name}_{lang}", build_scene(pic, lang)
    pic, lang = people["pl_first_steps"]
    yield "picture_pl_first_steps_pl_narrow", build_scene(pic, lang, layout="narrow")
    pic, _ = people["in_global_seller"]
    yield "picture_in_global_seller_tr", build_scene(pic, "tr")
    yield "picture_in_global_seller_hi", build_scene(pic, "hi")
    yield "chart_cohorts_pl", cohort_conversion_chart(
        [(f"2026-{m:02d}", 100 + 13 * m, 10 + 3 * m) for m in range(1, 13)], lang="pl", market="PL")
    yield "chart_funnel_tr", readiness_funnel_chart(
        [("setting_up", 1500), ("products", 1100), ("payments_shipping", 640), ("legal", 420),
         ("ready", 300), ("launched", 45)], lang="tr", market="TR")
    yield "chart_calibration_en_in", calibration_chart(
        [(0.05, 0.03, 400), (0.15, 0.12, 300), (0.35, 0.33, 150), (0.7, 0.62, 40)], lang="en", market="IN")
    yield "chart_bars_pl", bar_chart(
        [BarRow("Polska", 0.12, 0.05, 0.2), BarRow("Turcja", -0.04, -0.1, 0.02, muted=True),
         BarRow("Indie", 0.3, 0.22, 0.38, reference=0.25), BarRow("Brak", None)],
        title="Zysk z rozmów", lang="pl", y_label="Dodatkowe konwersje", reference_label="Pojemność")


CASES = dict(_scenes())


def test_there_are_golden_personas_for_every_market():
    markets = {personas()[n][0].market for n in GOLDEN_PERSONAS}
    assert {"PL", "TR", "IN"} <= markets and len(GOLDEN_PERSONAS) >= 6


FONT_CSS = devanagari_font_css().encode()
FONT_STAND_IN = b"/* the shipped Lohit Devanagari as @font-face (renderers.svg.devanagari_font_css) */"


def stored_form(svg: bytes) -> bytes:
    """The SVG as the golden file keeps it: one element per line (a newline between two tags), the
    embedded Devanagari font (200 kB of base64, pinned by its own test) written as a stand-in."""
    return svg.replace(FONT_CSS, FONT_STAND_IN).replace(b"><", b">\n<")


def test_the_stored_form_is_one_element_per_line_and_keeps_every_byte():
    svg = b'<svg a="1"><text>x &gt; y</text><g/></svg>'
    assert stored_form(svg) == b'<svg a="1">\n<text>x &gt; y</text>\n<g/>\n</svg>'
    assert stored_form(svg).replace(b">\n<", b"><") == svg


@pytest.mark.parametrize("name", sorted(CASES))
def test_svg_matches_golden_file(name):
    path = GOLDEN / f"{name}.svg"
    rendered = render_svg(CASES[name])
    # the renderer writes no newline between tags (beyond the XML declaration's), so the stored
    # form maps back to exactly these bytes
    assert rendered.count(b">\n<") == 1 and rendered.startswith(b"<?xml"), name
    data = stored_form(rendered)
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing golden file {path}; run with UPDATE_GOLDEN=1 to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert data == path.read_bytes(), f"{name} differs from {path} (UPDATE_GOLDEN=1 to accept)"
