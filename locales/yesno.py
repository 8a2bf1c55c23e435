"""Yes and no in the languages our merchants and their survey tools write: the one list.

Every reader of a yes/no cell (the interview's yes/no questions, the survey import's
one-column-per-choice columns, the trial importer's outcomes) reads it here, so a word is
added once. Matching is case-blind (Turkish I/İ handled), ignores surrounding spaces,
trailing dots and Unicode form (NFC).

=====  ==========================================  ==========================================
lang   yes                                         no
=====  ==========================================  ==========================================
any    1, true, t, y, x, ✓, ✔, ☑                   0, false, f, n, ✗, ✘, ☐
en     yes, yep, checked, selected                 no, nope, not checked, not selected,
                                                   unchecked
pl     tak, prawda, zaznaczone, wybrano            nie, fałsz, nie zaznaczono, nie wybrano
tr     evet, doğru, seçildi                        hayır, hayir, yanlış, seçilmedi
hi     हाँ, हां, जी हाँ, जी हां, सही, चुना गया,       नहीं, नही, जी नहीं, गलत, ग़लत,
       haan, haa, han, ji haan                     नहीं चुना गया, nahi, nahin, nahee
de     ja, j, wahr, ausgewählt, gewählt            nein, falsch, nicht ausgewählt, nicht gewählt
fr     oui, o, vrai, coché, sélectionné            non, faux, non coché, non sélectionné
=====  ==========================================  ==========================================

Missing (no answer given, neither yes nor no): an empty cell, ``N/A``, ``NA``, ``n.a.``,
``-``, ``–``, ``—``, ``?``, ``Select`` / ``Select...`` (an untouched drop-down), ``k. A.`` /
``keine Angabe`` (de), ``brak`` / ``brak odpowiedzi`` (pl), ``belirtilmedi`` (tr), ``लागू नहीं`` (hi),
``non renseigné`` / ``sans réponse`` (fr).

`read_yes_no(value)` gives True, False, None (missing) or `UNKNOWN` (a word that is none of
these: the caller reports it, it never becomes a tick).
"""
from __future__ import annotations

import unicodedata
from typing import Any, Final, Mapping

#: words meaning yes / no in no particular language (tick marks, booleans as text)
ANY_YES: Final = ("1", "true", "t", "y", "x", "✓", "✔", "☑")
ANY_NO: Final = ("0", "false", "f", "n", "✗", "✘", "☐")

#: yes words by language (ISO 639-1); not limited to the interface languages
YES: Final[Mapping[str, tuple[str, ...]]] = {
    "en": ("yes", "yep", "checked", "selected"),
    "pl": ("tak", "prawda", "zaznaczone", "wybrano"),
    "tr": ("evet", "doğru", "seçildi"),
    "hi": ("हाँ", "हां", "जी हाँ", "जी हां", "सही", "चुना गया", "haan", "haa", "han", "ji haan"),
    "de": ("ja", "j", "wahr", "ausgewählt", "gewählt"),
    "fr": ("oui", "o", "vrai", "coché", "sélectionné"),
}
#: no words by language
NO: Final[Mapping[str, tuple[str, ...]]] = {
    "en": ("no", "nope", "not checked", "not selected", "unchecked"),
    "pl": ("nie", "fałsz", "nie zaznaczono", "nie wybrano"),
    "tr": ("hayır", "hayir", "yanlış", "seçilmedi"),
    "hi": ("नहीं", "नही", "जी नहीं", "गलत", "ग़लत", "नहीं चुना गया", "nahi", "nahin", "nahee"),
    "de": ("nein", "falsch", "nicht ausgewählt", "nicht gewählt"),
    "fr": ("non", "faux", "non coché", "non sélectionné"),
}
#: what survey tools and people write for "no answer given"
MISSING: Final = ("", "n/a", "na", "n.a.", "n. a.", "-", "–", "—", "?", "select", "select...",
                  "select…", "k.a.", "k. a.", "keine angabe", "brak", "brak odpowiedzi",
                  "belirtilmedi", "लागू नहीं", "non renseigné", "sans réponse")


class _Unknown:
    """A cell that is neither yes, no nor missing (singleton, falsy so it is never a tick)."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


def fold(text: str) -> str:
    """NFC, trimmed, case-blind with Turkish I/İ/ı folded alike ("HAYIR", "Hayır", "hayir")."""
    s = unicodedata.normalize("NFC", text).strip()
    s = s.replace("İ", "i").replace("I", "ı")
    s = s.lower().replace("ı", "i").replace("\u0307", "")
    return " ".join(s.split())


def _fold_key(text: str) -> str:
    s = fold(text)
    return s[:-1] if s.endswith(".") and s not in MISSING_WORDS and len(s) > 1 else s


def _words(table: Mapping[str, tuple[str, ...]], extra: tuple[str, ...]) -> frozenset[str]:
    return frozenset(fold(w) for w in extra + tuple(w for ws in table.values() for w in ws))


YES_WORDS: Final = _words(YES, ANY_YES)
NO_WORDS: Final = _words(NO, ANY_NO)
MISSING_WORDS: Final = frozenset(fold(w) for w in MISSING)
assert not (YES_WORDS & NO_WORDS) and not (YES_WORDS & MISSING_WORDS) and not (NO_WORDS & MISSING_WORDS)


def read_yes_no(value: Any) -> bool | None | _Unknown:
    """True (a yes word), False (a no word), None (nothing given or a missing marker) or UNKNOWN.

    Booleans are themselves, the numbers 1 and 0 are yes and no; any other number, list or
    object is UNKNOWN. Text is matched against `YES`, `NO`, `ANY_YES`, `ANY_NO` and `MISSING`.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return True if value == 1 else False if value == 0 else UNKNOWN
    if not isinstance(value, str):
        return UNKNOWN
    s = _fold_key(value)
    if s in MISSING_WORDS:
        return None
    if s in YES_WORDS:
        return True
    if s in NO_WORDS:
        return False
    return UNKNOWN


def is_yes(value: Any) -> bool:
    """Only a clear yes is True (missing and unknown are not)."""
    return read_yes_no(value) is True


def is_no(value: Any) -> bool:
    """Only a clear no is True."""
    return read_yes_no(value) is False
