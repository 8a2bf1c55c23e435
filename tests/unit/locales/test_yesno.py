"""locales.yesno: the one list of yes/no words, and nothing else in the code base types one."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from locales.yesno import NO, UNKNOWN, YES, is_no, is_yes, read_yes_no

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("cell", ["Yes", "YES ", "tak", "TAK", "Evet", "EVET", "हाँ", "हां", "haan", "Ja",
                                  "ja", "Oui", "OUI", "x", "X", "1", "true", "✓", "Yes.", "Sélectionné"])
def test_yes_words(cell):
    assert read_yes_no(cell) is True and is_yes(cell) and not is_no(cell)


@pytest.mark.parametrize("cell", ["No", "nie", "NIE", "Hayır", "HAYIR", "hayir", "नहीं", "nahi", "Nahin",
                                  "Nein", "NEIN", "Non", "non", "0", "false", "Not selected", "nicht gewählt"])
def test_no_words(cell):
    assert read_yes_no(cell) is False and is_no(cell) and not is_yes(cell)


@pytest.mark.parametrize("cell", [None, "", "   ", "N/A", "n/a", "NA", "-", "—", "–", "Select", "select...",
                                  "keine Angabe", "k. A."])
def test_missing_markers_are_neither(cell):
    assert read_yes_no(cell) is None and not is_yes(cell) and not is_no(cell)


@pytest.mark.parametrize("cell", ["maybe", "vielleicht", "peut-être", "Payments", "2", 2, 0.5, [], {"a": 1}])
def test_anything_else_is_unknown_never_a_tick(cell):
    got = read_yes_no(cell)
    assert got is UNKNOWN and not got and not is_yes(cell) and not is_no(cell)


def test_booleans_and_numbers():
    assert (read_yes_no(True), read_yes_no(False), read_yes_no(1), read_yes_no(0)) == (True, False, True, False)


def test_every_required_language_has_both_lists_and_no_word_is_on_two():
    for lang in ("en", "pl", "tr", "hi", "de", "fr"):
        assert YES[lang] and NO[lang]
    yes = {w.lower() for ws in YES.values() for w in ws}
    no = {w.lower() for ws in NO.values() for w in ws}
    assert not yes & no


def test_no_other_module_types_a_yes_no_word_list():
    """One home: a set/tuple literal holding both "tak" and "nie" (or "evet" and "hayır") outside
    locales/yesno.py is a copy of the list."""
    pattern = re.compile(r"""[{(\[][^{}()\[\]]*["'](?:tak|evet)["'][^{}()\[\]]*[})\]]""")
    offenders = []
    for path in list((ROOT / "concierge").rglob("*.py")) + [p for d in ("profile_schema", "renderers", "audits",
                                                                         "locales")
                                                            for p in (ROOT / d).rglob("*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel == "locales/yesno.py":
            continue
        if pattern.search(path.read_text(encoding="utf-8")):
            offenders.append(rel)
    assert offenders == []
