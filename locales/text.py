"""Text that behaves across pl, tr and hi: NFC, Turkish casing, grapheme-safe truncation.

Python's ``str`` casing is locale-blind (``'istanbul'.upper()`` gives ``ISTANBUL``,
``'İ'.lower()`` gives ``'i\\u0307'``), Polish letters arrive in NFC or NFD, and a
Devanagari conjunct spans several code points; these helpers fix each of those.
"""

from __future__ import annotations

import unicodedata

import regex

__all__ = [
    "nfc", "upper", "lower", "title", "fold_for_search", "graphemes", "grapheme_len", "truncate",
    "truncate_graphemes", "strip_controls",
]

_TURKIC = {"tr", "az"}
_GRAPHEME = regex.compile(r"\X")
# C0/C1 controls except TAB and LF, bidi embeddings/overrides (U+202A-E) and isolates (U+2066-9):
# the latter can reorder what a consultant sees ("Trojan Source").
_CONTROLS = regex.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Letters that carry no combining mark in NFD but people type without the stroke.
_STROKES = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss"})


def nfc(s: str) -> str:
    """Compose to NFC so ``Łódź`` typed on a Mac (NFD) equals ``Łódź`` typed on Windows."""
    return unicodedata.normalize("NFC", s)


def _is_turkic(lang: str | None) -> bool:
    return bool(lang) and lang.replace("-", "_").split("_")[0].lower() in _TURKIC


def upper(s: str, lang: str | None = None) -> str:
    """Uppercase with Turkish dotted/dotless i rules when ``lang`` is tr (istanbul -> İSTANBUL)."""
    s = nfc(s)
    if _is_turkic(lang):
        s = s.replace("i", "İ").replace("ı", "I")
    return nfc(s.upper())


def lower(s: str, lang: str | None = None) -> str:
    """Lowercase with Turkish rules when ``lang`` is tr (IĞDIR -> ığdır, İ -> i without a dot mark)."""
    s = nfc(s)
    if _is_turkic(lang):
        s = s.replace("I", "ı").replace("İ", "i")
    return nfc(s.lower())


def title(s: str, lang: str | None = None) -> str:
    """Capitalise each word's first grapheme with the language's rules (ŞİŞLİ -> Şişli in tr)."""
    words = regex.split(r"(\s+)", nfc(s))
    out = []
    for word in words:
        if not word or word.isspace():
            out.append(word)
            continue
        first = _GRAPHEME.match(word).group()
        out.append(upper(first, lang) + lower(word[len(first):], lang))
    return "".join(out)


def fold_for_search(s: str, lang: str | None = None, *, strip_accents: bool = False) -> str:
    """A search key: NFC, case-folded, with I/ı/İ/i merged so Turkish and non-Turkish typing match.

    ``lang`` is accepted for symmetry; the fold is language-independent on purpose so one
    index serves everybody.  ``strip_accents`` also drops diacritics (Şişli ~ sisli, Łódź ~ lodz).
    """
    del lang  # deliberately unused: see docstring
    s = nfc(s).replace("İ", "i").replace("I", "i").replace("ı", "i")
    s = s.casefold()
    if strip_accents:
        decomposed = unicodedata.normalize("NFD", s.translate(_STROKES))
        s = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return nfc(s)


def graphemes(s: str) -> list[str]:
    """Split into user-perceived characters (extended grapheme clusters, incl. Devanagari conjuncts)."""
    return _GRAPHEME.findall(s)


def grapheme_len(s: str) -> int:
    """Count what the reader sees as characters (``len('नमस्ते दुकान')`` is 12, this is 7)."""
    return len(graphemes(s))


def truncate(s: str, max_graphemes: int, ellipsis: str = "…") -> str:
    """Shorten to at most ``max_graphemes`` visible characters, never splitting a cluster."""
    if max_graphemes < 0:
        raise ValueError("max_graphemes must be >= 0")
    clusters = graphemes(s)
    if len(clusters) <= max_graphemes:
        return s
    room = max_graphemes - grapheme_len(ellipsis)
    if room <= 0:
        return "".join(clusters[:max_graphemes])
    return "".join(clusters[:room]).rstrip() + ellipsis


def truncate_graphemes(s: str, n: int, ellipsis: str = "…") -> str:
    """Alias of :func:`truncate` under the name used in docs/design.md."""
    return truncate(s, n, ellipsis)


def strip_controls(s: str) -> str:
    """Drop control and bidi-override characters from user input; keep TAB and newlines (CR/CRLF -> LF)."""
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", s)
