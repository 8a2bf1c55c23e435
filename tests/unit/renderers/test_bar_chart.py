"""The dashboard's generic bar chart: values per row, interval whiskers, reference marks, negatives."""
from __future__ import annotations

import io

import defusedxml.ElementTree as DET
import pytest
from PIL import Image

from renderers import render_png, render_svg
from renderers.charts import BarRow, bar_chart
from renderers.checks import layout_problems
from renderers.layout import FAINT, INK, VERMILLION
from renderers.scene import Line, Rect, TextRun, iter_items, iter_text
from locales import LANGUAGES

LIFT = [BarRow("PL", 0.12, 0.05, 0.20), BarRow("TR", -0.04, -0.10, 0.02),
        BarRow("IN", 0.30, 0.22, 0.38, reference=0.25), BarRow("XX", None)]


def texts(scene):
    return [r.text for r in iter_text(scene)]


def items(scene, cls):
    return [i for i in iter_items(scene.items) if isinstance(i, cls)]


def bars(scene):
    """The filled or outlined bars: rects inside the plot, not the frame or the legend swatches."""
    return [r for r in items(scene, Rect) if r.w >= 3 and r.y > 100 and r.w < scene.width / 2]


def zero_line(scene):
    [line] = [ln for ln in items(scene, Line) if ln.stroke == INK and ln.y1 == ln.y2 and ln.x2 - ln.x1 > 300]
    return line


def test_negative_bars_hang_below_a_drawn_zero_line_to_scale():
    scene = bar_chart(LIFT[:3], title="Gain from calls", lang="en")
    zero = zero_line(scene).y1
    pl, tr, india = sorted(bars(scene), key=lambda r: r.x)
    assert pl.y + pl.h == pytest.approx(zero) and india.y + india.h == pytest.approx(zero)  # up from zero
    assert tr.y == pytest.approx(zero) and tr.h > 0  # down from zero
    scale = pl.h / 0.12  # user units per unit of value, from one bar: the others must agree
    assert india.h == pytest.approx(0.30 * scale, rel=1e-6)
    assert tr.h == pytest.approx(0.04 * scale, rel=1e-6)
    assert "-4%" in texts(scene) and "12%" in texts(scene)  # values printed beside their bars


def test_whiskers_span_the_interval_with_caps_and_are_described():
    scene = bar_chart(LIFT[:3], title="Gain from calls", lang="en")
    zero = zero_line(scene).y1
    pl = min(bars(scene), key=lambda r: r.x)
    scale = pl.h / 0.12
    cx = pl.x + pl.w / 2
    at_bar = [ln for ln in items(scene, Line) if ln.stroke == INK and abs((ln.x1 + ln.x2) / 2 - cx) < 1e-6]
    [stem] = [ln for ln in at_bar if ln.x1 == ln.x2]
    caps = sorted((ln for ln in at_bar if ln.y1 == ln.y2), key=lambda ln: ln.y1)
    assert len(caps) == 2 and all(c.x2 > c.x1 for c in caps)
    top, bottom = sorted((stem.y1, stem.y2))
    assert top == pytest.approx(zero - 0.20 * scale) and bottom == pytest.approx(zero - 0.05 * scale)
    assert [c.y1 for c in caps] == pytest.approx([top, bottom])
    # the negative bar's interval crosses zero
    tr = sorted(bars(scene), key=lambda r: r.x)[1]
    tx = tr.x + tr.w / 2
    [tstem] = [ln for ln in items(scene, Line) if ln.stroke == INK and ln.x1 == ln.x2 == tx]
    assert sorted((tstem.y1, tstem.y2)) == pytest.approx([zero - 0.02 * scale, zero + 0.10 * scale])
    assert "PL 12%, interval 5% to 20%" in scene.desc
    assert "TR -4%, interval -10% to 2%" in scene.desc
    assert "Interval" in texts(scene)  # the legend names the whisker


def test_reference_marks_and_no_value_and_small_samples():
    rows = [*LIFT, BarRow("tiny", 0.5, muted=True)]
    scene = bar_chart(rows, title="t", lang="en", reference_label="Capacity")
    zero = zero_line(scene).y1
    pl = min(bars(scene), key=lambda r: r.x)
    scale = pl.h / 0.12
    [ref] = [ln for ln in items(scene, Line) if ln.stroke == VERMILLION and ln.y1 > 100]
    assert ref.y1 == pytest.approx(zero - 0.25 * scale)
    assert "Capacity" in texts(scene) and "IN 30%, interval 22% to 38%, Capacity 25%" in scene.desc
    assert "XX No data yet" in scene.desc  # no value: said, not drawn as a zero bar
    dashed = [r for r in bars(scene) if r.dash and r.stroke == FAINT]
    assert len(dashed) == 2  # the empty slot and the small sample, both outlined, not filled
    assert "tiny 50%, Small sample" in scene.desc and "Small sample" in texts(scene)


def test_numbers_are_grouped_for_the_locale():
    scene = bar_chart([("Mon", 1500), ("Tue", 2750)], title="Calls due", lang="pl", value_format="number")
    assert "2750" in texts(scene)  # pl: four digits stay ungrouped (CLDR minimumGroupingDigits=2)
    scene = bar_chart([("Mon", 15000), ("Tue", 27500)], title="Calls due", lang="en", value_format="number")
    assert "27,500" in texts(scene) and "Mon 15,000" in scene.desc


def test_long_labels_are_fitted_and_many_bars_thin_their_labels():
    long = "An extraordinarily long consultant name that cannot fit under one bar"
    scene = bar_chart([(long, 0.2), *((f"c{i}", i / 10) for i in range(7))], title="t", lang="tr")
    assert layout_problems(scene) == []
    cut = [r for r in iter_text(scene) if isinstance(r, TextRun) and r.full_text]
    assert [r.full_text for r in cut] == [long]
    many = bar_chart([(f"2026-W{i:02d}", i / 100) for i in range(1, 53)], title="t", lang="en")
    assert layout_problems(many) == []
    shown = [t for t in texts(many) if t.startswith("2026-W")]
    assert 5 <= len(shown) < 52 and "2026-W52 52%" in many.desc


def test_hostile_labels_are_escaped():
    scene = bar_chart([("<script>alert(1)</script>", 0.2), ('"><img src=x>', 0.1)], title="<b>t</b>", lang="en")
    svg = render_svg(scene)
    assert b"<script" not in svg and b"<img" not in svg and b"<b>" not in svg
    assert b"&lt;script&gt;" in svg
    DET.fromstring(svg)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_renders_to_svg_and_png_without_overflow(lang):
    scene = bar_chart(LIFT, title="Gain from calls", lang=lang, y_label="Incremental conversions",
                      reference_label="Capacity")
    assert layout_problems(scene) == []
    root = DET.fromstring(render_svg(scene))
    assert root.get("role") == "img"
    with Image.open(io.BytesIO(render_png(scene))) as im:
        assert im.size == (round(scene.width), round(scene.height))


def test_empty_and_all_zero_and_bad_format():
    assert "Henüz veri yok" in texts(bar_chart([], title="t", lang="tr"))
    zeros = bar_chart([("a", 0.0), ("b", 0.0)], title="t", lang="en")
    assert layout_problems(zeros) == [] and "a 0%; b 0%" in zeros.desc
    with pytest.raises(ValueError):
        bar_chart([("a", 1)], title="t", value_format="money")


def test_rows_as_mappings_and_tuples_agree():
    as_rows = bar_chart([BarRow("PL", 0.1, 0.05, 0.2, 0.15)], title="t")
    as_maps = bar_chart([{"label": "PL", "value": 0.1, "low": 0.05, "high": 0.2, "reference": 0.15}], title="t")
    as_tuples = bar_chart([("PL", 0.1, 0.05, 0.2, 0.15)], title="t")
    assert render_svg(as_rows) == render_svg(as_maps) == render_svg(as_tuples)
