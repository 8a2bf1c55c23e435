"""Text cleaning, measuring and fitting: hard strings never leave their box."""
from __future__ import annotations

import unicodedata

import pytest
import regex

from renderers import text as T
from renderers.samples import DEVANAGARI_NAME, EMOJI_TEXT, LONG_NAME_80, RTL_TEXT, TURKISH_NAME


def clusters(s: str) -> list[str]:
    return regex.findall(r"\X", s)


def assert_cluster_prefix(cut: str, full: str) -> None:
    """``cut`` (without its ellipsis) is a whole-cluster prefix of ``full``."""
    body = cut[:-1] if cut.endswith(T.ELLIPSIS) else cut
    body = body.rstrip()
    full_clusters = clusters(full)
    body_clusters = clusters(body)
    assert full_clusters[: len(body_clusters)] == body_clusters, (cut, full)


# ----------------------------------------------------------------------------- cleaning


def test_clean_text_strips_controls_bidi_and_collapses_space():
    raw = "a\x00b\x1b[31m\tc\n\r d\u202eevil\u202c\u200f \u2066x\u2069\ufeff\x85 e\u2028f"
    assert T.clean_text(raw) == "ab[31m c devil x e f"


def test_clean_text_normalises_to_nfc():
    nfd = unicodedata.normalize("NFD", "Łódź Iğdır İstanbul")
    assert len(nfd) > len("Łódź Iğdır İstanbul")
    assert T.clean_text(nfd) == "Łódź Iğdır İstanbul"


def test_clean_text_keeps_joiners_needed_by_emoji_and_indic_scripts():
    family = "👩\u200d👧"
    assert T.clean_text(family) == family
    assert T.clean_text("क्\u200cष") == "क्\u200cष"


def test_clean_text_of_none_and_numbers():
    assert T.clean_text(None) == ""
    assert T.clean_text(12.5) == "12.5"


# ----------------------------------------------------------------------------- fonts


def test_shipped_fonts_exist_are_small_and_licensed():
    paths = T.font_paths()
    total = sum(p.stat().st_size for p in paths.values())
    assert total < 3 * 1024 * 1024
    assert (T.FONT_DIR / "LICENSE-DejaVu.txt").read_text().count("Bitstream") > 3
    assert "SIL OPEN FONT LICENSE" in (T.FONT_DIR / "LICENSE-Lohit-Devanagari-OFL.txt").read_text()


@pytest.mark.parametrize("ch", list("ąćęłńóśźżĄĆĘŁŃÓŚŹŻçğıİöşüÇĞÖŞÜ₹₺…✓×→◆"))
def test_latin_fonts_cover_polish_turkish_and_symbols(ch):
    assert ord(ch) in T.font_coverage("regular")
    assert ord(ch) in T.font_coverage("bold")


def test_devanagari_font_covers_devanagari():
    for ch in "नमस्तेदुकानक्षत्रज्ञ":
        assert ord(ch) in T.font_coverage("deva")


def test_segments_choose_a_font_per_cluster():
    runs = T.segments("Ana नमस्ते 👍🏽 İı")
    assert [face for face, _ in runs] == ["regular", "deva", "regular", None, "regular"]
    assert "".join(r for _, r in runs) == "Ana नमस्ते 👍🏽 İı"


# ----------------------------------------------------------------------------- measuring


def test_measure_scales_linearly_with_size():
    w10 = T.measure("Zażółć gęślą jaźń", 10)
    w20 = T.measure("Zażółć gęślą jaźń", 20)
    assert w20 == pytest.approx(2 * w10)


def test_bold_is_wider_than_regular():
    assert T.measure("Agnieszka Wiśniewska", 16, bold=True) > T.measure("Agnieszka Wiśniewska", 16)


def test_emoji_and_missing_glyphs_are_measured_conservatively():
    for emoji in ("👍", "👩\u200d👧", "🇵🇱", "❤️", "👍🏽"):
        assert T.measure(emoji, 20) == pytest.approx(T.MISSING_EM * 20)


def test_devanagari_has_a_safety_margin():
    raw = T.get_font("deva", T.REF_SIZE).getlength("नमस्ते") * 16 / T.REF_SIZE
    assert T.measure("नमस्ते", 16) == pytest.approx(raw * T.DEVA_SAFETY)


# ----------------------------------------------------------------------------- fitting

HARD = [LONG_NAME_80, TURKISH_NAME, DEVANAGARI_NAME, EMOJI_TEXT, RTL_TEXT,
        "İİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİ", "ııııııııııııııııııııııııııııııııııııııııı",
        "W" * 80, "नमस्ते दुकान " * 8, "👨\u200d👩\u200d👧\u200d👦" * 20]


@pytest.mark.parametrize("value", HARD)
@pytest.mark.parametrize("max_w", [40, 120, 250])
def test_fit_never_exceeds_the_box_and_cuts_between_clusters(value, max_w):
    fitted = T.fit(value, max_w, 16, bold=True)
    assert fitted.width <= max_w + T.EPS
    assert T.measure(fitted.text, 16, True) == pytest.approx(fitted.width)
    clean = T.clean_text(value)
    if fitted.truncated:
        assert fitted.full_text == clean
        assert fitted.text == "" or fitted.text.endswith(T.ELLIPSIS)
        assert_cluster_prefix(fitted.text, clean)
    else:
        assert fitted.text == clean


def test_eighty_character_name_is_cut_with_ellipsis_and_tooltip_text():
    assert len(LONG_NAME_80) == 80
    fitted = T.fit(LONG_NAME_80, 260, 19, bold=True)
    assert fitted.truncated and fitted.text.endswith("…")
    assert fitted.full_text == LONG_NAME_80


def test_devanagari_is_never_cut_inside_a_conjunct():
    word = "नमस्ते"  # न म स्ते: "स्ते" is one cluster
    for width in range(5, 60):
        fitted = T.fit(word + " दुकान", width, 16)
        body = fitted.text.rstrip("…").rstrip()
        assert not body.endswith("\u094d"), fitted  # never a dangling virama
        assert_cluster_prefix(fitted.text, word + " दुकान")


def test_turkish_dotted_capital_i_survives_nfd_input_and_cutting():
    nfd = unicodedata.normalize("NFD", "İSTANBUL İZMİR IĞDIR")
    for width in range(10, 200, 7):
        fitted = T.fit(nfd, width, 14)
        assert "\u0307" not in fitted.text  # combining dot never left alone
        assert_cluster_prefix(fitted.text, "İSTANBUL İZMİR IĞDIR")


def test_right_to_left_overrides_are_removed_before_measuring():
    fitted = T.fit("\u202eevil\u202c", 500, 14)
    assert fitted.text == "evil"


def test_tiny_box_gives_empty_text_not_an_overflow():
    fitted = T.fit("Anything", 2, 16)
    assert fitted.text == "" and fitted.width == 0 and fitted.truncated


@pytest.mark.parametrize("value", HARD + ["The quick brown fox jumps over the lazy dog " * 5])
def test_wrap_respects_width_and_line_count(value):
    lines, full = T.wrap(value, 150, 14, False, 3)
    assert 1 <= len(lines) <= 3
    for line in lines:
        assert line.width <= 150 + T.EPS
    joined = " ".join(line.text for line in lines)
    if full is None:
        assert T.clean_text(joined).replace(" ", "") == T.clean_text(value).replace(" ", "")
    else:
        assert full == T.clean_text(value)
        assert lines[-1].text.endswith("…")


def test_wrap_breaks_a_long_word_between_clusters():
    lines, full = T.wrap("Supercalifragilisticexpialidocious", 80, 14, False, 5)
    assert full is None
    assert "".join(line.text for line in lines) == "Supercalifragilisticexpialidocious"
    assert all(line.width <= 80 + T.EPS for line in lines)


def test_line_height_grows_for_devanagari():
    assert T.line_height("नमस्ते", 18) > T.line_height("Anna", 18)
