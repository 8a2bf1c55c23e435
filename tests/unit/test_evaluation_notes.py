"""`model evaluate`'s notes: English in the answer (`--json` is a contract), said again in the
reader's language from their msgids (issue 15). Real catalogs."""
from __future__ import annotations

import json

from concierge.messages import Note
from concierge.operations.scoring.service import _oracle_note


def test_a_note_is_its_english_text():
    note = _oracle_note(3, 12)
    assert note == "demo truth for 3 of 12 test trials: no oracle comparison"
    assert isinstance(note, str) and hash(note) == hash(str(note))
    assert json.dumps({"oracle_note": note}) == '{"oracle_note": "demo truth for 3 of 12 test trials: no oracle comparison"}'
    assert note.in_language("en") == note and note.in_language(None) == note


def test_a_note_in_other_languages_with_their_plurals():
    assert _oracle_note(1, 1).in_language("pl") == (
        "prawdziwe prawdopodobieństwa z demo dla 1 z 1 triala testowego: bez porównania z wyrocznią")
    assert _oracle_note(2, 5).in_language("pl") == (
        "prawdziwe prawdopodobieństwa z demo dla 2 z 5 triali testowych: bez porównania z wyrocznią")
    assert _oracle_note(3, 12).in_language("tr") == (
        "demo gerçek olasılıkları 12 test denemesinin 3 tanesi için var: kâhin karşılaştırması yok")
    assert _oracle_note(3, 12).in_language("hi") == (
        "12 टेस्ट ट्रायल में से 3 के लिए डेमो की वास्तविक संभावनाएँ हैं: ओरेकल से तुलना नहीं")
    assert _oracle_note(3, 12).in_language("de") == "demo truth for 3 of 12 test trials: no oracle comparison"


def test_a_note_is_said_from_its_msgid_and_figures():
    note = Note(lambda t: t.gettext("no sealed test trial ended without a purchase"))
    assert note == "no sealed test trial ended without a purchase"
    assert note.in_language("tr") == "mühürlü test denemelerinden hiçbiri satın alma olmadan bitmedi"
