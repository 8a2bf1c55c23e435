"""The picture: fixed layout, no overflow or overlap, accessibility, determinism, PNG."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as DET
import pytest
from PIL import Image

import renderers
from renderers import PictureInput, ScoreInfo, build_scene, render, render_png, render_svg
from renderers.checks import layout_problems
from renderers.layout import PANEL_ORDER
from renderers.samples import LONG_NAME_80, personas
from renderers.scene import Rect, iter_text
from locales import LANGUAGES

SVG = "{http://www.w3.org/2000/svg}"
PERSONAS = personas()
LANGS = LANGUAGES
LAYOUTS = ("wide", "narrow")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_no_text_leaves_its_panel_or_overlaps_another(name, lang, layout):
    pic, _ = PERSONAS[name]
    scene = build_scene(pic, lang, layout=layout)
    assert layout_problems(scene) == []


@pytest.mark.parametrize("layout,size", [("wide", (1200, 760)), ("narrow", (400, 2132))])
def test_fixed_layout_same_panels_same_places(layout, size):
    places = set()
    for pic, lang in PERSONAS.values():
        scene = build_scene(pic, lang, layout=layout)
        assert (scene.width, scene.height) == size
        names = [g.name for g in scene.items]
        assert names == ["header", *PANEL_ORDER]
        places.add(tuple((g.box.x, g.box.y, g.box.w, g.box.h) for g in scene.items))
    assert len(places) == 1  # every shop: the same drawing


def _svg_root(data: bytes):
    return DET.fromstring(data)


def test_svg_is_accessible_image_with_title_and_desc():
    pic, lang = PERSONAS["pl_first_steps"]
    root = _svg_root(render(pic, "svg", lang))
    assert root.get("role") == "img"
    ids = root.get("aria-labelledby").split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert [title.get("id"), desc.get("id")] == ids
    assert "Agnieszka Wiśniewska" in title.text
    assert "Agnieszka Wiśniewska" in desc.text and "30%" in desc.text
    assert root.get("viewBox") == "0 0 1200 760"


def test_cut_text_keeps_the_full_text_in_a_title_tooltip():
    pic = PictureInput(owner_name=LONG_NAME_80 + " " + LONG_NAME_80, market="PL")
    root = _svg_root(render(pic, "svg"))
    cut = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cut"]
    tooltips = [g.find(f"{SVG}title").text for g in cut]
    assert any(t == LONG_NAME_80 + " " + LONG_NAME_80 for t in tooltips)
    for g in cut:
        assert g.find(f"{SVG}text").text.endswith("…")


def test_unknown_facts_are_shown_as_unknown_never_guessed():
    scene = build_scene(PictureInput(), "en")
    texts = [r.text for r in iter_text(scene)]
    assert texts.count("?") >= 10
    assert "Not known yet" in texts and "No score yet" in texts
    assert not any(t.endswith("%") for t in texts)  # no percentage without facts
    dashed = [i for i in renderers.scene.iter_items(scene.items) if getattr(i, "dash", None)]
    assert len(dashed) >= 10


def test_colour_is_never_the_only_signal_for_features():
    pic, lang = PERSONAS["in_global_seller"]
    texts = [r.text for r in iter_text(build_scene(pic, lang))]
    assert texts.count("✓ Connected") == 4
    assert texts.count("× Not connected") == 1
    assert texts.count("? Unknown") == 1


def test_changes_since_last_call_are_marked_with_badge_and_word():
    pic, lang = PERSONAS["pl_first_steps"]
    scene = build_scene(pic, "en")
    texts = [r.text for r in iter_text(scene)]
    assert texts.count("changed") == 2 and texts.count("new") == 1
    assert any("3 changes since the last call" in t for t in texts)
    none = build_scene(PictureInput(owner_name="A"), "en")
    assert "No changes since the last call" in [r.text for r in iter_text(none)]


@pytest.mark.parametrize("lang,word", [("en", "Readiness to launch"), ("pl", "Gotowość do startu"),
                                       ("tr", "Açılışa hazırlık")])
def test_labels_follow_the_consultant_language(lang, word):
    pic, _ = PERSONAS["tr_marketplace_fast"]
    assert word in [r.text for r in iter_text(build_scene(pic, lang))]


def test_numbers_money_and_dates_follow_the_market():
    texts = lambda name: " | ".join(r.text for r in iter_text(build_scene(PERSONAS[name][0], "en")))
    assert "₹12,34,567" in texts("in_global_seller")  # lakh grouping
    assert "1,250 products" in texts("in_global_seller")
    assert "%64" in texts("tr_marketplace_fast")  # Turkish percent sign first
    assert "₺850.000" in texts("tr_marketplace_fast")
    assert "6000\xa0zł" in texts("pl_first_steps")  # pl: no grouping of four digits
    assert "12\xa0000 products" in texts("pl_ecommerce_pro")
    assert "11.11.2026" in texts("pl_first_steps")
    assert "11/11/2026" in texts("in_global_seller")


def test_merchant_text_is_shown_as_written():
    pic, _ = PERSONAS["tr_marketplace_fast"]
    joined = " ".join(r.full_text or r.text for r in iter_text(build_scene(pic, "en")))
    assert "İPEK IŞIL ÇAĞLAYAN-İNCEOĞLU" in joined  # no casing games
    assert "Iğdır" in joined


def test_same_profile_gives_the_same_bytes():
    for pic, lang in PERSONAS.values():
        assert render(pic, "svg", lang) == render(pic, "svg", lang)
    pic, lang = PERSONAS["pl_first_steps"]
    assert render(pic, "png", lang) == render(pic, "png", lang)


def test_svg_engines_agree_byte_for_byte():
    for pic, lang in PERSONAS.values():
        for layout in LAYOUTS:
            scene = build_scene(pic, lang, layout=layout)
            assert render_svg(scene) == render_svg(scene, engine="svgwrite")


@pytest.mark.parametrize("layout,scale,size", [("wide", 1.0, (1200, 760)), ("wide", 2.0, (2400, 1520)),
                                               ("narrow", 1.0, (400, 2132))])
def test_png_has_the_expected_size(layout, scale, size):
    pic, lang = PERSONAS["in_global_seller"]
    data = render(pic, "png", lang, layout=layout, scale=scale)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == size
        assert im.mode in ("RGB", "P")


def test_png_and_svg_draw_the_same_scene():
    """Where the scene puts the lit payments tile, the PNG has the tile's blue."""
    pic, lang = PERSONAS["pl_ecommerce_pro"]
    scene = build_scene(pic, lang)
    features = next(g for g in scene.items if g.name == "features")
    tile = next(i for i in features.items if isinstance(i, Rect) and i.fill == "#0072B2")
    with Image.open(io.BytesIO(render_png(scene))) as im:
        px = im.convert("RGB").getpixel((int(tile.x + 6), int(tile.y + tile.h - 6)))
    assert px == (0, 0x72, 0xB2)


def test_render_rejects_unknown_formats():
    with pytest.raises(ValueError):
        render(PictureInput(), "gif")


def test_feature_states_accept_tuples_and_mappings():
    pic = PictureInput(features={"payments": (True, ["payu"]), "shipping": {"connected": False}})
    assert pic.feature("payments").providers == ("payu",)
    assert pic.feature("shipping").connected is False
    assert pic.feature("domain").connected is None


def test_score_with_fallback_says_so():
    pic = PictureInput(score=ScoreInfo(0.5, "Rules only", True))
    texts = [r.text for r in iter_text(build_scene(pic, "en"))]
    assert "Simpler model: little history yet" in texts and "50%" in texts


def test_parsed_svg_text_matches_the_scene_text():
    pic, lang = PERSONAS["in_global_seller"]
    scene = build_scene(pic, lang)
    root = ET.fromstring(render_svg(scene))
    svg_texts = [t.text for t in root.iter(f"{SVG}text")]
    assert svg_texts == [r.text for r in iter_text(scene)]


def test_numbers_that_are_not_numbers_are_unknown():
    pic = PictureInput(hours_per_week=float("nan"), percent=float("inf"), turnover_amount=float("-inf"),
                       catalogue_size=True, score=ScoreInfo(float("nan"), "r"))
    assert pic.hours_per_week is None and pic.percent is None and pic.turnover_amount is None
    assert pic.catalogue_size is None and pic.score.probability is None
    assert "Not known yet" in [r.text for r in iter_text(build_scene(pic, "en"))]


def test_rendering_from_many_threads_gives_the_same_bytes():
    """A threaded web server renders concurrently; shared fonts and caches must cope."""
    from concurrent.futures import ThreadPoolExecutor

    from renderers import text as T

    jobs = [(pic, lang, fmt) for pic, lang in PERSONAS.values() for fmt in ("svg", "png")]
    expected = [render(pic, fmt, lang) for pic, lang, fmt in jobs]
    T._width_ref.cache_clear()
    T._run_width_ref.cache_clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda job: render(job[0], job[2], job[1]), jobs * 3))
    assert got == expected * 3


def test_devanagari_provider_names_on_two_lines_do_not_overlap():
    """Found by hypothesis: Lohit's taller glyphs made two provider lines touch at 15 px."""
    from renderers import PictureInput, build_scene, layout_problems
    from renderers.picture_input import FeatureState

    pic = PictureInput(features={"payments": FeatureState(connected=None, providers=("000000ऀ", "0000000ऀ"))})
    for layout in ("wide", "narrow"):
        assert layout_problems(build_scene(pic, "en", layout=layout)) == []


def _english_words() -> set[str]:
    """Every English word of the picture's tables (labels.yaml, the samples' choice labels) whose
    Hindi differs: one of them on a Hindi picture is an English fallback."""
    from renderers.labels import table
    from renderers.samples import _COMMON

    words: set[str] = set()
    for section, entries in table().data.items():
        for key, en in entries.items():
            pairs = [(en, table().text((section, key), "hi"))] if isinstance(en, str) else [
                (en["one"], table().plural((section, key), 1, "hi")), (en["other"], table().plural((section, key), 5, "hi"))]
            words.update(e.split("{")[0].strip() or e for e, hi in pairs if e != hi)

    def walk(node):
        if isinstance(node, dict) and "en" in node and "hi" in node:
            for en, hi in ((node["en"], node["hi"]),) if isinstance(node["en"], str) else zip(
                    node["en"].values(), node["hi"].values()):
                if en != hi:
                    words.add(en.split("{")[0].strip() or en)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(_COMMON)
    return {w for w in words if len(w) > 2}


def test_a_hindi_picture_speaks_hindi_in_devanagari_with_the_shipped_font():
    """Issue 15: the picture in Hindi: every label and choice in Devanagari (no English fallback
    for a translated word), nothing leaves its box, the SVG carries Lohit Devanagari (an <img>
    may load no font from outside) and the PNG draws with it."""
    import base64
    import re

    from renderers.png import render_png
    from renderers.svg import devanagari_font_css, render_svg
    from renderers.text import FONT_FAMILY, font_paths, segments

    pic, _ = PERSONAS["in_global_seller"]
    english = _english_words()
    for layout in LAYOUTS:
        scene = build_scene(pic, "hi", layout=layout)
        assert layout_problems(scene) == []
        words = [r.text for r in iter_text(scene)]
        shown = {re.sub(r"^[^\w]+\s*", "", w) for w in words} | set(words)
        assert sorted(shown & english) == []
        assert sum(1 for w in words if re.search("[\u0900-\u097f]", w)) > 30
        svg = render_svg(scene)
        assert render_svg(scene, engine="svgwrite") == svg
        css = re.search(rb"<style>(.*?)</style>", svg).group(1).decode()
        assert css == devanagari_font_css() and "font-family:'Concierge Devanagari'" in css
        assert "Lohit Devanagari" in FONT_FAMILY
        font = re.search(r"base64,([A-Za-z0-9+/=]+)", css).group(1)
        assert base64.b64decode(font) == font_paths()["deva"].read_bytes()
        assert render_png(scene)[:8] == b"\x89PNG\r\n\x1a\n"
    # the PNG and the measurements draw Devanagari with Lohit, Latin with DejaVu
    assert [face for face, _ in segments("मार्केट IN")] == ["deva", "regular"]
    assert [face for face, _ in segments("शॉप IN-7", bold=True)] == ["deva", "bold"]
    # a picture without Devanagari stays small: no font inside
    plain = render_svg(build_scene(*PERSONAS["pl_first_steps"]))
    assert b"<style" not in plain and b"@font-face" not in plain
