"""Any text in any field gives a picture that parses and contains nothing executable."""
from __future__ import annotations

import io

import defusedxml.ElementTree as DET
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from renderers import FEATURE_CATEGORIES, PictureInput, ScoreInfo, build_scene, render_png, render_svg
from renderers.checks import layout_problems
from renderers.charts import bar_chart, calibration_chart, cohort_conversion_chart, readiness_funnel_chart
from renderers.samples import HOSTILE_TEXT, RTL_TEXT
from locales import LANGUAGES
from renderers.svg import devanagari_font_css

SVG = "{http://www.w3.org/2000/svg}"
ALLOWED = {"svg", "title", "desc", "style", "g", "rect", "line", "circle", "polygon", "polyline", "text"}
ATTRS = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "width", "height", "points", "fill",
         "stroke", "stroke-width", "stroke-dasharray", "stroke-linecap", "stroke-linejoin",
         "font-size", "font-weight", "font-family", "text-anchor", "id", "class", "role",
         "aria-labelledby", "viewBox", "lang", "version", "baseProfile"}

NASTY = [
    "<script>alert(1)</script>", "]]>", "<![CDATA[x]]>", "<!-- -->", "&amp;", "&#x3C;", "\"", "'",
    "javascript:alert(1)", "onload=alert(1)", "<foreignObject>", "<a href='http://x'>", "\x00", "\x1b",
    "\x7f", "\x85", "\ufffe", "\uffff", "\ud7ff", "\u202e", "\u2066", "\u200f", "\u061c", "\r\n", "\t",
    "İıIi", "ąęłżźćń", "नमस्ते", "👨\u200d👩\u200d👧", "🇵🇱", "x" * 300, HOSTILE_TEXT, RTL_TEXT,
]

texts = st.one_of(
    st.text(max_size=120),
    st.text(st.characters(codec="utf-8"), max_size=60),
    st.lists(st.sampled_from(NASTY), max_size=6).map("".join),
    st.sampled_from(NASTY),
)
maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731


@st.composite
def pictures(draw):
    feats = {c: (draw(maybe(st.booleans())), tuple(draw(st.lists(texts, max_size=3))))
             for c in draw(st.lists(st.sampled_from(FEATURE_CATEGORIES), unique=True))}
    return PictureInput(
        shop_id=draw(maybe(texts)), owner_name=draw(maybe(texts)),
        market=draw(maybe(st.sampled_from(["PL", "TR", "IN", "XX"]))),
        merchant_language=draw(maybe(st.one_of(st.sampled_from(["pl", "tr", "hi", "en"]), texts))),
        persona=draw(maybe(st.one_of(st.sampled_from(["first_steps", "ecommerce_pro"]), texts))),
        hours_per_week=draw(maybe(st.one_of(st.floats(0, 200, allow_nan=False), st.floats()))),
        experience_level=draw(maybe(st.one_of(st.sampled_from(["none", "expert"]), texts))),
        known_topics=draw(maybe(st.lists(texts, max_size=6).map(tuple))),
        needs=draw(maybe(st.lists(texts, max_size=6).map(tuple))),
        main_goal=draw(maybe(texts)), business_type=draw(maybe(texts)),
        business_category=draw(maybe(texts)), business_model=draw(maybe(texts)),
        catalogue_size=draw(maybe(st.integers(0, 10 ** 12))),
        turnover_band=draw(maybe(texts)), turnover_amount=draw(maybe(st.one_of(st.floats(0, 1e13, allow_nan=False), st.floats()))),
        turnover_currency=draw(maybe(st.sampled_from(["PLN", "TRY", "INR", "EUR"]))),
        sells_abroad=draw(maybe(st.booleans())),
        stage=draw(maybe(st.one_of(st.sampled_from(["legal", "launched"]), texts))),
        percent=draw(maybe(st.one_of(st.floats(-50, 500, allow_nan=False), st.floats()))),
        first_open=draw(maybe(texts)), first_open_label=draw(maybe(texts)),
        features=feats or None,
        score=draw(maybe(st.builds(ScoreInfo, maybe(st.floats()), maybe(texts),
                                   st.booleans()))),
        next_step=draw(maybe(texts)), next_call=draw(maybe(texts)),
        changed=frozenset(draw(st.lists(texts, max_size=3))) | frozenset(draw(st.lists(
            st.sampled_from(["owner.name", "features.payments", "score", "readiness.stage"]), max_size=3))),
        choice_labels=draw(maybe(st.dictionaries(texts, st.fixed_dictionaries({"en": texts}), max_size=3))),
    )


def assert_safe(data: bytes) -> None:
    root = DET.fromstring(data)  # parses, and defusedxml forbids entities/DTDs
    assert b"<!DOCTYPE" not in data and b"<!ENTITY" not in data and b"<![CDATA[" not in data
    for el in root.iter():
        tag = el.tag.replace(SVG, "")
        assert tag in ALLOWED, tag
        if tag == "style":  # only the shipped Devanagari font, never a word of the picture's data
            assert el.text == devanagari_font_css() and not list(el) and not el.attrib
            continue
        for name, value in el.attrib.items():
            assert name in ATTRS, name
            assert not name.lower().startswith("on")
            assert "javascript:" not in value.lower() and "url(" not in value.lower()
        for chunk in (el.text or "", el.tail or ""):
            assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in chunk), repr(chunk)
            assert not any(c in chunk for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pic=pictures(), lang=st.sampled_from([*LANGUAGES, "xx"]),
       layout=st.sampled_from(["wide", "narrow"]))
def test_any_text_gives_a_safe_parseable_svg(pic, lang, layout):
    scene = build_scene(pic, lang, layout=layout)
    data = render_svg(scene)
    assert_safe(data)
    assert render_svg(scene) == data  # deterministic
    assert layout_problems(scene) == []  # and nothing leaves its box or overlaps


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pic=pictures())
def test_any_text_gives_a_png_and_the_svgwrite_engine_agrees(pic):
    scene = build_scene(pic, "en")
    assert render_svg(scene, engine="svgwrite") == render_svg(scene)
    with Image.open(io.BytesIO(render_png(scene))) as im:
        assert im.size == (1200, 760)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(texts, st.integers(0, 10 ** 6), st.integers(0, 10 ** 6)), max_size=30),
       lang=st.sampled_from(LANGUAGES))
@example(rows=[("", 0, 0)] * 28 + [("000000000000", 0, 0)], lang="en")  # the last bar's label left the panel
def test_charts_with_any_labels_are_safe(rows, lang):
    rows = [(c, t, min(k, t)) for c, t, k in rows]
    bins = [((i % 10) / 10, (t % 100) / 100, t) for i, (_, t, _) in enumerate(rows)]
    for scene in (cohort_conversion_chart(rows, lang=lang),
                  readiness_funnel_chart([(c, t) for c, t, _ in rows], lang=lang),
                  calibration_chart(bins, lang=lang),
                  bar_chart([(c, (k - t / 2) / (t or 1), -1.0, 1.0, k / (t or 1)) for c, t, k in rows],
                            title=rows[0][0] if rows else "t", lang=lang),
                  bar_chart([(c, k - t, None, None, t) for c, t, k in rows], title="n", lang=lang,
                            value_format="number")):
        assert_safe(render_svg(scene))
        assert layout_problems(scene) == []
