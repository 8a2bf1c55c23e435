"""Turkish casing, NFC, grapheme-safe truncation and control stripping (LOCALES.md §6)."""

import unicodedata

import pytest

from locales.text import (
    fold_for_search,
    grapheme_len,
    graphemes,
    lower,
    nfc,
    strip_controls,
    title,
    truncate,
    truncate_graphemes,
    upper,
)


def test_python_casing_is_locale_blind():
    """The bugs we work around; if Python ever changes, these facts move."""
    assert "istanbul".upper() == "ISTANBUL"
    assert "IĞDIR".lower() == "iğdir"
    assert "İ".lower() == "i\u0307"
    assert "İstanbul".casefold() != "istanbul".casefold()


@pytest.mark.parametrize(
    "func,text,lang,expected",
    [
        (upper, "istanbul", "tr", "İSTANBUL"),
        (upper, "ılıca", "tr", "ILICA"),
        (upper, "istanbul", "en", "ISTANBUL"),
        (upper, "şişli", "tr_TR", "ŞİŞLİ"),
        (lower, "IĞDIR", "tr", "ığdır"),
        (lower, "İSTANBUL", "tr", "istanbul"),
        (lower, "İ", "tr", "i"),
        (lower, "I\u0307", "tr", "i"),          # decomposed dotted capital I
        (lower, "IĞDIR", "pl", "iğdir"),
        (lower, "ŁÓDŹ", "pl", "łódź"),
        (title, "ŞİŞLİ", "tr", "Şişli"),
        (title, "şişli ilçesi", "tr", "Şişli İlçesi"),
        (title, "ŁÓDŹ  fabryczna", "pl", "Łódź  Fabryczna"),
    ],
)
def test_language_aware_casing(func, text, lang, expected):
    assert func(text, lang) == expected


@pytest.mark.parametrize(
    "a,b",
    [
        ("İstanbul", "istanbul"),
        ("ISTANBUL", "ıstanbul"),
        ("ISPARTA", "ısparta"),
        ("IĞDIR", "ığdır"),
        ("Łódź", unicodedata.normalize("NFD", "łódź")),
        ("STRASSE", "straße"),
    ],
)
def test_fold_for_search_merges_variants(a, b):
    assert fold_for_search(a) == fold_for_search(b)


def test_fold_keeps_diacritics_unless_asked():
    assert fold_for_search("Şişli") != fold_for_search("Sisli")
    assert fold_for_search("Şişli", strip_accents=True) == fold_for_search("SISLI", strip_accents=True) == "sisli"
    assert fold_for_search("Łódź", strip_accents=True) == "lodz"


def test_nfc_makes_polish_comparable():
    nfd = unicodedata.normalize("NFD", "Łódź")
    assert len("Łódź") == 4 and len(nfd) == 6
    assert nfc(nfd) == "Łódź"


def test_devanagari_graphemes():
    text = "नमस्ते दुकान"
    assert len(text) == 12
    assert text[:4] == "नमस्"  # code-point slicing breaks the conjunct
    assert grapheme_len(text) == 7
    assert graphemes("क्षत्रिय") == ["क्ष", "त्रि", "य"]


@pytest.mark.parametrize(
    "text,n,ellipsis,expected",
    [
        ("नमस्ते दुकान", 4, "…", "नमस्ते…"),
        ("नमस्ते दुकान", 3, "", "नमस्ते"),
        ("नमस्ते दुकान", 7, "…", "नमस्ते दुकान"),
        ("Zażółć gęślą jaźń", 7, "…", "Zażółć…"),
        ("👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧", 2, "", "👨‍👩‍👧👨‍👩‍👧"),
        ("🇵🇱🇹🇷🇮🇳", 2, "…", "🇵🇱…"),
        ("abc", 0, "…", ""),
        ("abcdef", 2, "...", "ab"),
    ],
)
def test_truncate_by_grapheme(text, n, ellipsis, expected):
    result = truncate(text, n, ellipsis)
    assert result == expected
    assert grapheme_len(result) <= n
    assert truncate_graphemes(text, n, ellipsis) == result


def test_truncate_rejects_negative():
    with pytest.raises(ValueError):
        truncate("abc", -1)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("a\x00b\x07c", "abc"),
        ("line1\r\nline2\rline3", "line1\nline2\nline3"),
        ("tab\tkept", "tab\tkept"),
        ("c1\x85\x9fend", "c1end"),
        ("safe\u202eevil\u202c", "safeevil"),
        ("\u2066isolate\u2069", "isolate"),
        ("Łódź नमस्ते", "Łódź नमस्ते"),
        ("zero\u200dwidth joiner", "zero\u200dwidth joiner"),  # ZWJ is needed by emoji and Indic text
    ],
)
def test_strip_controls(raw, expected):
    assert strip_controls(raw) == expected
