"""Real survey-tool export shapes (issue 16, item 6), on SQLite and PostgreSQL.

Google Forms (multi-line and trailing-space headings, duplicate unmapped headings, shop found by
e-mail or phone), LimeSurvey in German (BOM, `;`, CRLF, one column per option as Ja / Nein / N/A)
and in French (question codes found by pattern, Oui / Non, `choice:` into a single-choice
question, partial responses): no wrong answer stored, every rejected record named with its
column and value and kept for replay.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from concierge.models import DeadLetter, Observation, Shop
from concierge.operations.deadletters import replay
from concierge.operations.imports import MappingError, import_surveys, load_mapping, parse_mapping, read_export
from concierge.operations.observations import record_answers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "surveys"
# the shops the `shops` fixture (tests/integration/conftest.py) creates
SHOPS = {"pl-1001": "PL", "pl-1002": "PL", "pl-1003": "PL", "pl-1004": "PL",
         "tr-2001": "TR", "tr-2002": "TR", "tr-2003": "TR", "in-3001": "IN"}
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def answers_of(session, platform_id):
    """The shop's answers as its profile holds them (latest per question)."""
    rows = session.execute(select(Observation.question, Observation.value).join(Shop)
                           .where(Shop.platform_id == platform_id)
                           .order_by(Observation.observed_at, Observation.id)).all()
    return dict(rows)


def rejected(report):
    return {r.record: r for r in report.results if r.status == "rejected"}


# ---------------------------------------------------------------------------- Google Forms


def test_google_forms_export_end_to_end(shops):
    s = shops
    record_answers(s, "pl-1001", {"owner.email": "Anna@Example.com"}, actor="c", source="call",
                   observed_at=datetime(2026, 10, 1, tzinfo=timezone.utc), rescore=False)
    record_answers(s, "pl-1003", {"owner.email": "marek@example.com"}, actor="c", source="call",
                   observed_at=datetime(2026, 10, 1, tzinfo=timezone.utc), rescore=False)
    record_answers(s, "tr-2001", {"owner.phone": "+90 532 123 45 67"}, actor="c", source="call",
                   observed_at=datetime(2026, 10, 1, tzinfo=timezone.utc), rescore=False)
    # the shop already has a newer name for pl-1002 (a call on 20 Nov): the import's is older
    record_answers(s, "pl-1002", {"owner.name": "Ewa Nowak-Lis"}, actor="c", source="call",
                   observed_at=datetime(2026, 11, 20, tzinfo=timezone.utc), rescore=False)
    report = import_surveys(s, FIXTURES / "google_forms.csv", load_mapping(FIXTURES / "google_forms_mapping.yaml"),
                            actor="google-forms", now=NOW)
    assert (report.lines, report.accepted, report.rejected) == (4, 3, 1)

    anna = answers_of(s, "pl-1001")  # no shop id in the row: found by the e-mail Google collected
    assert anna["owner.name"] == "Anna Kowalska" and anna["owner.hours_per_week"] == 10  # two-line heading
    assert anna["experience.sold_online_before"] is True and anna["experience.years_selling_online"] == 2
    assert anna["needs.help_with"] == ["payments", "shipping"]
    assert anna["business.type"] == "handmade" and anna["business.category"] == "crafts"
    at = s.scalar(select(Observation.observed_at).join(Shop).where(Shop.platform_id == "pl-1001",
                                                                   Observation.question == "owner.name"))
    assert at.replace(tzinfo=at.tzinfo or timezone.utc) == datetime(2026, 11, 2, 9, 15, 32, tzinfo=timezone.utc)

    ewa = answers_of(s, "pl-1002")
    assert ewa["experience.sold_online_before"] is False and ewa["needs.help_with"] == ["marketing"]
    assert ewa["owner.name"] == "Ewa Nowak-Lis"  # the newer call answer still holds...
    [warning] = report.as_dict()["warnings"]  # ...and the import says so
    assert warning["code"] == "older_than_stored" and warning["shop"] == "pl-1002" and warning["record"] == 2
    assert warning["questions"] == ["owner.name"] and "older than what the shop already has" in warning["message"]

    kemal = answers_of(s, "tr-2001")  # found by phone (0532 ... dialled in Turkey)
    assert kemal["owner.name"] == "Kemal Aydın" and "experience.years_selling_online" not in kemal
    [dropped] = report.as_dict()["dropped"]  # "a few" years: dropped under on_bad_value: drop, row kept
    assert (dropped["record"], dropped["column"], dropped["value"], dropped["field"]) == (
        3, "For how many years?", "a few", "experience.years_selling_online")

    bad = rejected(report)[4]  # "Maybe" is neither yes nor no: the record is refused, not guessed
    assert bad.shop == "marek@example.com" and bad.line == 7  # physical line 7: earlier cells span lines
    [err] = bad.errors
    assert (err["record"], err["column"], err["value"], err["field"]) == (
        4, "Have you sold online before?", "Maybe", "experience.sold_online_before")
    assert answers_of(s, "pl-1003") == {"owner.email": "marek@example.com"}
    dl = s.get(DeadLetter, bad.dead_letter_id)
    assert dl.status == "pending" and dl.context["record"] == 4 and dl.errors[0]["value"] == "Maybe"


def test_shop_by_email_that_two_shops_share_is_refused_naming_both(shops, tmp_path):
    s = shops
    for pid in ("pl-1001", "pl-1002"):
        record_answers(s, pid, {"owner.email": "shared@example.com"}, actor="c", source="call", rescore=False)
    path = tmp_path / "x.csv"
    path.write_text("mail,name\nshared@example.com,Ala\n", encoding="utf-8")
    report = import_surveys(s, path, parse_mapping({"shop_email": "mail", "require_survey_fields": False,
                                                    "columns": {"name": "owner.name"}}), actor="x", now=NOW)
    [err] = rejected(report)[1].errors
    assert err["code"] == "ambiguous_shop" and "pl-1001, pl-1002" in err["message"]


# ---------------------------------------------------------------------------- LimeSurvey, German


def test_limesurvey_german_ja_nein_na_are_read_never_ticked_wrongly(shops):
    s = shops
    report = import_surveys(s, FIXTURES / "limesurvey_de.csv", load_mapping(FIXTURES / "limesurvey_de_mapping.yaml"),
                            actor="limesurvey", now=NOW)
    assert (report.lines, report.accepted, report.rejected) == (4, 3, 1)  # two "Kommentar" headings: ignored
    j = answers_of(s, "pl-1001")
    assert j["owner.name"] == "Jürgen Weiß" and j["experience.sold_online_before"] is True
    assert j["needs.help_with"] == ["payments"]
    assert j["experience.known_topics"] == []  # three "Nein": knows none of them, not three ticks
    assert j["business.type"] == "handmade" and j["business.category"] == "crafts"
    sabine = answers_of(s, "pl-1002")
    assert sabine["needs.help_with"] == ["shipping", "marketing"]
    assert sabine["experience.known_topics"] == ["store_setup"]  # "N/A" and "Nein" are not ticks
    assert "experience.known_topics" not in answers_of(s, "pl-1003")  # all "N/A": no answer at all
    # every tick stored comes from a "Ja" in an accepted record
    ticks = sum(len(v) for (v,) in s.execute(select(Observation.value)
                                             .where(Observation.question == "experience.known_topics")))
    assert ticks == 1

    bad = rejected(report)[4]
    [err] = bad.errors
    assert (err["code"], err["record"], err["column"], err["value"]) == (
        "not_yes_no", 4, "Wobei brauchen Sie Hilfe? [Zahlungen]", "Vielleicht")
    assert "'Vielleicht' is neither yes nor no" in err["message"]
    assert answers_of(s, "pl-1004") == {}
    assert s.get(DeadLetter, bad.dead_letter_id).payload.startswith('"14";')


def test_update_reimport_applies_a_corrected_mapping_once(shops, tmp_path):
    s = shops
    wrong = (FIXTURES / "limesurvey_de_mapping.yaml").read_text(encoding="utf-8").replace(
        "Handgemacht: handmade", "Handgemacht: reseller")
    (tmp_path / "wrong.yaml").write_text(wrong, encoding="utf-8")
    csv = FIXTURES / "limesurvey_de.csv"
    import_surveys(s, csv, load_mapping(tmp_path / "wrong.yaml"), actor="ls", now=NOW)
    assert answers_of(s, "pl-1001")["business.type"] == "reseller"
    right = load_mapping(FIXTURES / "limesurvey_de_mapping.yaml")
    plain = import_surveys(s, csv, right, actor="ls", now=NOW)  # without --update: duplicates, as before
    assert (plain.accepted, plain.duplicates, plain.updated) == (0, 3, 0)
    assert answers_of(s, "pl-1001")["business.type"] == "reseller"
    fixed = import_surveys(s, csv, right, actor="ls", now=NOW, update=True)
    assert (fixed.updated, fixed.duplicates, fixed.rejected) == (1, 2, 1)  # only Jürgen's answers changed
    assert answers_of(s, "pl-1001")["business.type"] == "handmade"
    assert fixed.as_dict()["warnings"] == []  # same response, same time: not "older than stored"
    again = import_surveys(s, csv, right, actor="ls", now=NOW, update=True)
    assert (again.updated, again.duplicates) == (0, 3)


# ---------------------------------------------------------------------------- LimeSurvey, French


def test_limesurvey_french_codes_by_pattern_choice_into_single_choice_and_partial_responses(shops):
    s = shops
    report = import_surveys(s, FIXTURES / "limesurvey_fr.csv", load_mapping(FIXTURES / "limesurvey_fr_mapping.yaml"),
                            actor="limesurvey", now=NOW)
    assert (report.accepted, report.rejected) == (2, 2)
    e = answers_of(s, "tr-2001")
    assert e["experience.known_topics"] == ["payments"]  # "Oui" ticks, "Non" does not
    assert e["business.type"] == "handmade" and e["experience.sold_online_before"] is True
    assert answers_of(s, "in-3001") == {"owner.name": "Priya Nair"}  # partial: empty cells and N/A say nothing
    bad = rejected(report)
    [two] = bad[2].errors  # two options ticked for a one-answer question
    assert two["code"] == "several_choices" and two["record"] == 2
    assert "'nouvelle marque', 'revendeur'" in two["message"] and two["value"] == "Oui, Oui"
    [maybe] = bad[3].errors
    assert (maybe["code"], maybe["column"], maybe["value"]) == ("not_yes_no", "paiements", "Peut-être")
    assert answers_of(s, "tr-2002") == {} and answers_of(s, "tr-2003") == {}


def test_deadletter_replay_with_a_corrected_mapping(shops, tmp_path):
    s = shops
    import_surveys(s, FIXTURES / "limesurvey_fr.csv", load_mapping(FIXTURES / "limesurvey_fr_mapping.yaml"),
                   actor="limesurvey", now=NOW)
    assert [r.ok for r in replay(s)] == [False, False]  # the kept mapping still cannot read them
    corrected = (FIXTURES / "limesurvey_fr_mapping.yaml").read_text(encoding="utf-8").replace(
        "choice: payments}", "choice: payments, values: {\"Peut-être\": null}}")
    (tmp_path / "fixed.yaml").write_text(corrected, encoding="utf-8")
    results = replay(s, survey_mapping=load_mapping(tmp_path / "fixed.yaml"))
    assert [r.ok for r in results] == [False, True]  # two ticked options stay wrong whatever the mapping
    t = answers_of(s, "tr-2003")
    assert t["business.type"] == "reseller"
    assert t["experience.known_topics"] == []  # "Peut-être" now means no answer; the other two said "Non"
    letter = s.get(DeadLetter, results[1].id)
    assert letter.status == "replayed" and "Peut-être" in json.dumps(letter.context["mapping"], ensure_ascii=False)


# ---------------------------------------------------------------------------- headers


def test_missing_column_gives_a_near_match_not_the_whole_header(tmp_path):
    mapping = load_mapping(FIXTURES / "limesurvey_de_mapping.yaml")
    raw = dict(mapping.raw)
    raw["columns"] = {**raw["columns"], "Stunden pro Wche": raw["columns"]["Stunden pro Woche"]}
    del raw["columns"]["Stunden pro Woche"]
    with pytest.raises(MappingError) as exc:
        read_export(FIXTURES / "limesurvey_de.csv", parse_mapping(raw))
    text = str(exc.value)
    assert "no column 'Stunden pro Wche'" in text and "did you mean 'Stunden pro Wche' -> 'Stunden pro Woche'" in text
    assert "Kategorie" not in text and "the header has 19 columns" in text


def test_a_mapped_duplicate_heading_is_named_and_position_resolves_it(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("shop,Kommentar,Kommentar\npl-1001,a,b\n", encoding="utf-8")
    with pytest.raises(MappingError) as exc:
        read_export(path, parse_mapping({"shop": "shop", "columns": {"Kommentar": "needs.main_goal"}}))
    assert "the heading 'Kommentar' appears 2 times (columns #2, #3)" in str(exc.value)
    export = read_export(path, parse_mapping({"shop": "shop", "columns": {"#3": "needs.main_goal"}}))
    assert export.records[0].fields["#3"] == "b"


def test_messages_in_polish_and_turkish(shops, tmp_path):
    s = shops
    for lang, expected in (("pl", "nie jest ani „tak”, ani „nie”"), ("tr", "ne evet ne hayır")):
        report = import_surveys(s, FIXTURES / "limesurvey_de.csv",
                                load_mapping(FIXTURES / "limesurvey_de_mapping.yaml"), actor="x", lang=lang, now=NOW)
        assert expected in rejected(report)[4].errors[0]["message"]
