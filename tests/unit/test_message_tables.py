"""Operations' messages live in the gettext catalogs, not in hand-written {"en": ..., "pl": ...} tables
(issue 15): a module keeps codes and English msgids marked with N_, `localize` translates them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from concierge import i18n
from concierge.ingest.bodies import body_message, format_name
from concierge.messages import SHOP_MESSAGES, localize, translate

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("concierge", "audits")
# a language-keyed text: "en": "...", "pl": "..." on one line, or a line starting "pl": "..." / "tr": "..."
TABLE = re.compile(r"""["']en["']\s*:\s*[rf]?["'].*["'](?:pl|tr)["']\s*:|^\s*["'](?:pl|tr)["']\s*:\s*[rf]?["']""")
#: Tables in modules another change owns (issue 15): each must move to the catalogs, and its entry
#: here with it (the test fails on an entry that no longer has a table, so the list only shrinks).
KNOWN = {
    "concierge/operations/imports.py",            # import16
    "concierge/operations/scoring/importer.py",   # the scoring split (model14/byo14)
    "concierge/scoring/features.py",              # the scoring split (model14/byo14)
}


def _tables() -> set[str]:
    return {p.relative_to(ROOT).as_posix() for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
            if any(TABLE.search(line) for line in p.read_text("utf-8").splitlines())}


def test_no_module_writes_its_own_language_table():
    found = _tables()
    assert sorted(found - KNOWN) == [], "put the English text in N_() and its translations in the catalogs"
    assert sorted(KNOWN - found) == [], "no longer a table: drop it from KNOWN"


def test_the_guard_sees_a_table():
    assert TABLE.search('    "gone": {"en": "is gone", "pl": "zniknęło", "tr": "gitti"},')
    assert TABLE.search('                 "pl": "zniknęło",')
    assert not TABLE.search('    "gone": N_("is gone"),')


@pytest.mark.parametrize("lang, text", [
    ("en", "market must be one of PL, TR, IN (got 'DE')"),
    ("pl", "rynek musi być jednym z PL, TR, IN (podano 'DE')"),
    ("tr_TR", "pazar PL, TR, IN değerlerinden biri olmalı ('DE' verildi)"),
    ("de", "market must be one of PL, TR, IN (got 'DE')"),
])
def test_a_message_is_read_from_the_catalogs(lang, text):
    assert localize(SHOP_MESSAGES, "invalid_market", lang, market="DE") == text


def test_body_messages_and_their_words_are_translated():
    assert body_message("too_short", "pl", limit=3) == "jest za krótkie (co najmniej 3)"
    assert body_message("no_such_code", "tr", detail="x") == "geçersiz (x)"
    assert format_name("date-time", "en").startswith("date and time with a UTC offset")
    assert format_name("uuid", "pl") == "uuid"


@pytest.mark.parametrize("lang", i18n.TRANSLATED)
def test_every_marked_message_has_a_translation(lang):
    """What N_ marks is extracted (tests/functional/test_i18n_catalogs.py checks the catalogs hold
    it); here: each table entry really comes back translated, not as the English msgid."""
    from concierge.ingest import bodies
    from concierge.operations import events, privacy, shops, survey_links, surveys

    same_in_every_language = {"null"}
    for table in (SHOP_MESSAGES, bodies._MESSAGES, bodies._TYPE_NAMES, bodies._FORMAT_NAMES, events._MESSAGES,
                  privacy._MESSAGES, shops._MESSAGES, survey_links._MESSAGES, surveys._MESSAGES):
        for msgid in table.values():
            assert msgid in same_in_every_language or translate(msgid, lang) != msgid, (lang, msgid)
