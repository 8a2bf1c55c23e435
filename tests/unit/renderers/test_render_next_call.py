"""The next planned call on the picture: one line under the next step, in the reader's language.

Without a next call the picture is exactly what it was (the golden files check the bytes);
with one, the panels keep their places and sizes, and no text leaves its panel or overlaps.
"""
from __future__ import annotations

import dataclasses

import pytest

from renderers import PictureInput, build_scene, render_png, render_svg
from renderers.checks import layout_problems
from renderers.layout import PANEL_ORDER, describe
from renderers.samples import DEVANAGARI_NAME, EMOJI_TEXT, LONG_NAME_80, personas
from renderers.scene import iter_text

PERSONAS = personas()
CALLS = {
    "en": "Tue 1 Dec, 10:00 · The merchant asked for a call",
    "pl": "wt., 1 gru, 10:00 · Utknął na etapie „Produkty” od 24 lis 2026",
    "tr": "1 Ara Sal 12:00 · 24 Kas 2026'dan beri 'Ürünler' aşamasında",
}
LABELS = {"en": "Next call", "pl": "Następna rozmowa", "tr": "Sonraki görüşme"}


def _with_call(pic: PictureInput, call: str | None) -> PictureInput:
    return dataclasses.replace(pic, next_call=call)


def _texts(scene) -> list[str]:
    return [run.text for run in iter_text(scene)]


@pytest.mark.parametrize("layout", ("wide", "narrow"))
@pytest.mark.parametrize("lang", sorted(CALLS))
@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_next_call_stays_in_its_panel_and_overlaps_nothing(name, lang, layout):
    pic, _ = PERSONAS[name]
    scene = build_scene(_with_call(pic, CALLS[lang]), lang, layout=layout)
    assert layout_problems(scene) == []
    texts = _texts(scene)
    assert LABELS[lang] in texts
    assert any(t.startswith(CALLS[lang][:10]) for t in texts)  # the moment comes first: never cut


@pytest.mark.parametrize("call", [LONG_NAME_80 * 3, EMOJI_TEXT * 2, DEVANAGARI_NAME * 2, "x" * 400, " "])
def test_long_or_odd_calls_are_cut_cleanly(call):
    for pic, lang in PERSONAS.values():
        for layout in ("wide", "narrow"):
            assert layout_problems(build_scene(_with_call(pic, call), lang, layout=layout)) == []


def test_same_panels_same_places_with_or_without_a_call():
    for pic, lang in PERSONAS.values():
        for layout in ("wide", "narrow"):
            plain = build_scene(pic, lang, layout=layout)
            called = build_scene(_with_call(pic, CALLS["en"]), lang, layout=layout)
            assert (plain.width, plain.height) == (called.width, called.height)
            assert [g.name for g in called.items] == ["header", *PANEL_ORDER]
            assert [g.box for g in plain.items] == [g.box for g in called.items]


def test_no_call_draws_nothing_new():
    pic, lang = PERSONAS["pl_first_steps"]
    assert render_svg(build_scene(_with_call(pic, None), lang)) == render_svg(build_scene(pic, lang))
    assert render_svg(build_scene(_with_call(pic, ""), lang)) == render_svg(build_scene(pic, lang))
    assert LABELS[lang] not in _texts(build_scene(pic, lang))


def test_the_description_says_the_next_call_for_screen_readers():
    pic, _ = PERSONAS["pl_first_steps"]
    assert describe(_with_call(pic, CALLS["pl"]), "pl").endswith(f"Następna rozmowa: {CALLS['pl']}.")
    assert "Next call" not in describe(pic, "en")


def test_svg_and_png_render_with_a_call():
    pic, lang = PERSONAS["tr_marketplace_fast"]
    scene = build_scene(_with_call(pic, CALLS["tr"]), lang)
    assert "Sonraki görüşme" in render_svg(scene).decode("utf-8")
    assert render_png(scene).startswith(b"\x89PNG")


def test_adapter_passes_the_call_through():
    from renderers.from_profile import picture_input_from_profile

    class Profile:  # duck-typed, as the adapter reads it
        shop, market, language, facts = "pl-1", "PL", "pl", {}

    assert picture_input_from_profile(Profile(), next_call=CALLS["en"]).next_call == CALLS["en"]
    assert picture_input_from_profile(Profile()).next_call is None
