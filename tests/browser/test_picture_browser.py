"""The picture in real headless Chromium: no text leaves its panel, no two texts overlap.

The SVG is put inline into a page that declares the shipped fonts with @font-face (so
the browser lays text out with the same fonts the renderer measured with, whatever is
installed), then Chromium's own ``getBBox()`` of every <text> is checked against its
panel's box and against the other texts of the panel. Screenshots of each picture, at
a screen and at a 360 px phone width, go to ``test-output/browser/``.
"""
from __future__ import annotations

import base64

import pytest

from renderers import build_scene, render_svg
from renderers.charts import calibration_chart, cohort_conversion_chart, readiness_funnel_chart
from renderers.samples import personas
from renderers.text import font_paths
from locales import LANGUAGES

pytestmark = pytest.mark.browser

HARD = ("hostile", "pl_ecommerce_pro", "in_global_seller", "tr_marketplace_fast", "tr_offline_unknowns",
        "in_side_project_unknown", "unknown_everything", "pl_first_steps")
TOLERANCE = 0.5  # px: sub-pixel rounding of glyph advances

CHECK_JS = """
(tol) => {
  const svg = document.querySelector('svg');
  const problems = [];
  const panels = [...svg.querySelectorAll('g.panel')];
  let count = 0;
  for (const g of panels) {
    const box = g.querySelector(':scope > rect.panel-box').getBBox();
    const texts = [...g.querySelectorAll('text')].map(t => ({s: t.textContent, b: t.getBBox()}));
    count += texts.length;
    for (const {s, b} of texts) {
      if (b.x < box.x - tol || b.y < box.y - tol || b.x + b.width > box.x + box.width + tol ||
          b.y + b.height > box.y + box.height + tol) {
        problems.push(`${g.id}: "${s}" leaves its panel ` + JSON.stringify([b.x, b.y, b.width, b.height]));
      }
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].b, c = texts[j].b;
        if (a.x < c.x + c.width - tol && c.x < a.x + a.width - tol &&
            a.y < c.y + c.height - tol && c.y < a.y + a.height - tol) {
          problems.push(`${g.id}: "${texts[i].s}" overlaps "${texts[j].s}"`);
        }
      }
    }
  }
  return {problems, panels: panels.length, texts: count,
          scripts: document.querySelectorAll('svg script, svg foreignObject, svg [href], svg a').length};
}
"""


def _font_face_css() -> str:
    faces = []
    for face, path in font_paths().items():
        family = "Lohit Devanagari" if face == "deva" else "DejaVu Sans"
        weight = "bold" if face == "bold" else "normal"
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        faces.append(f'@font-face{{font-family:"{family}";font-weight:{weight};'
                     f'src:url(data:font/ttf;base64,{data}) format("truetype");}}')
    return "\n".join(faces)


@pytest.fixture(scope="module")
def shell(browser_context, no_remote_requests):
    """A page with the shipped fonts loaded, into which each SVG is placed in turn."""
    page = browser_context.new_page()
    no_remote_requests(page)
    requests = []
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("data:", "about:")) else None)
    page.set_content(
        "<!doctype html><html><head><meta charset='utf-8'><style>"
        + _font_face_css()
        + "body{margin:0;background:#fff} #stage svg{display:block;width:100%;height:auto}"
        "</style></head><body><div id='stage'></div></body></html>"
    )
    page.evaluate("""async () => {
        await Promise.all([
          document.fonts.load('16px "DejaVu Sans"'), document.fonts.load('bold 16px "DejaVu Sans"'),
          document.fonts.load('16px "Lohit Devanagari"', 'नमस्ते')]);
        await document.fonts.ready; }""")
    assert page.evaluate("document.fonts.check('16px \"Lohit Devanagari\"', 'न')")
    yield page
    assert requests == []  # the pictures referred to nothing outside themselves
    page.close()


def _show(page, svg: bytes, width: int) -> dict:
    markup = svg.decode("utf-8").split("?>", 1)[1]
    page.set_viewport_size({"width": width, "height": 800})
    page.evaluate("(m) => { document.getElementById('stage').innerHTML = m; }", markup)
    page.evaluate("async () => { await document.fonts.ready; }")
    return page.evaluate(CHECK_JS, TOLERANCE)


CASES = [(name, layout) for name in HARD for layout in ("wide", "narrow")]


@pytest.mark.parametrize("name,layout", CASES, ids=[f"{n}-{l}" for n, l in CASES])
def test_no_text_leaves_its_panel_or_overlaps_in_chromium(shell, output_dir, name, layout):
    pic, lang = personas()[name]
    svg = render_svg(build_scene(pic, lang, layout=layout))
    width = 1200 if layout == "wide" else 360
    result = _show(shell, svg, width)
    shell.screenshot(path=str(output_dir / f"picture-{name}-{layout}.png"), full_page=True)
    assert result["panels"] == 7
    assert result["texts"] > 30
    assert result["scripts"] == 0
    assert result["problems"] == []


@pytest.mark.parametrize("layout", ["wide", "narrow"])
def test_the_hindi_picture_in_chromium(shell, output_dir, layout):
    """Hindi labels, Devanagari names: laid out by Chromium with the Lohit the SVG carries."""
    pic, _ = personas()["in_global_seller"]
    svg = render_svg(build_scene(pic, "hi", layout=layout))
    result = _show(shell, svg, 1200 if layout == "wide" else 360)
    shell.screenshot(path=str(output_dir / f"picture-in_global_seller-hi-{layout}.png"), full_page=True)
    assert result["panels"] == 7 and result["texts"] > 30 and result["scripts"] == 0
    assert result["problems"] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_hard_profile_in_every_consultant_language(shell, lang):
    pic, _ = personas()["hostile"]
    assert _show(shell, render_svg(build_scene(pic, lang)), 1200)["problems"] == []


def test_charts_in_chromium(shell, output_dir):
    charts = {
        "cohorts": cohort_conversion_chart([(f"2026-{m:02d}", 90 + m, 9 + m) for m in range(1, 13)],
                                           lang="pl", market="PL"),
        "funnel": readiness_funnel_chart([("setting_up", 1500), ("products", 1100), ("payments_shipping", 640),
                                          ("legal", 420), ("ready", 300), ("launched", 45)],
                                         lang="tr", market="TR"),
        "calibration": calibration_chart([(0.05, 0.03, 400), (0.35, 0.33, 150), (0.7, 0.62, 40)],
                                         lang="en", market="IN"),
    }
    for name, scene in charts.items():
        result = _show(shell, render_svg(scene), int(scene.width))
        shell.screenshot(path=str(output_dir / f"chart-{name}.png"), full_page=True)
        assert result["problems"] == [], name


def test_standalone_svg_document_renders_as_an_image(page, output_dir):
    """Opened on its own (as the web layer serves it), the SVG draws and runs nothing."""
    pic, lang = personas()["tr_marketplace_fast"]
    path = output_dir / "picture-standalone.svg"
    path.write_bytes(render_svg(build_scene(pic, lang)))
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    size = page.evaluate("() => { const b = document.documentElement.getBBox(); return [b.width, b.height]; }")
    assert size == [1200, 760]
    assert page.evaluate("document.documentElement.getAttribute('role')") == "img"
    page.screenshot(path=str(output_dir / "picture-standalone.png"))
    assert errors == []


def test_the_check_detects_overflow_and_overlap(shell):
    """Guard: a text wider than its panel and two texts on top of each other are caught."""
    from renderers.scene import Group, Rect, Scene, TextRun

    scene = Scene(300, 200, (Group("p", (
        TextRun(10, 20, "WWWWWWWWWWWWWWWWWWWWWWWW", 16, 10),
        TextRun(12, 62, "one", 16, 10), TextRun(14, 64, "two", 16, 10),
    ), Rect(0, 0, 120, 100)),), "t", "d")
    problems = _show(shell, render_svg(scene), 300)["problems"]
    assert len(problems) == 2
    assert "leaves its panel" in problems[0] and "overlaps" in problems[1]
