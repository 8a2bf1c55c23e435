"""Bulk survey import (CSV, JSONL) through the operations, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from concierge.models import DeadLetter, Observation, Shop, Submission
from concierge.operations.deadletters import replay
from concierge.operations.imports import (
    MappingError, import_surveys, load_mapping, parse_mapping, read_export,
)
from concierge.operations.shops import ensure_shop

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "surveys"
# the shops the `shops` fixture (tests/integration/conftest.py) creates
SHOPS = {"pl-1001": "PL", "pl-1002": "PL", "pl-1003": "PL", "pl-1004": "PL",
         "tr-2001": "TR", "tr-2002": "TR", "tr-2003": "TR", "in-3001": "IN", "in-3002": "IN"}


def answers_of(session, platform_id):
    rows = session.execute(select(Observation.question, Observation.value).join(Shop)
                           .where(Shop.platform_id == platform_id)).all()
    return dict(rows)


def written(path: Path, text: str) -> Path:
    """`path`, with `text` written to it (UTF-8)."""
    path.write_text(text, encoding="utf-8")
    return path


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_polish_csv_export(shops):
    s = shops
    report = import_surveys(s, FIXTURES / "pl_export.csv", load_mapping(FIXTURES / "pl_mapping.yaml"),
                            actor="ankieta")
    assert (report.lines, report.accepted, report.duplicates, report.rejected) == (5, 2, 0, 3)
    anna = answers_of(s, "pl-1001")
    assert anna["owner.name"] == "Anna Kowalska"
    assert anna["experience.sold_online_before"] is True
    assert anna["experience.years_selling_online"] == 2.5            # "2,5"
    assert anna["business.expected_monthly_turnover"] == {"amount": 8000.5, "currency": "PLN"}  # "8 000,50 zł"
    assert anna["needs.help_with"] == ["payments", "shipping"]       # "Płatności, Wysyłka" by label
    assert anna["business.type"] == "handmade" and anna["business.category"] == "crafts"
    assert anna["needs.main_goal"] == "Sprzedawać ceramikę\r\nz Bolesławca"  # quoted cell over two lines
    assert answers_of(s, "pl-1004")["business.marketplaces"] == ["allegro", "ceneo"]
    assert answers_of(s, "pl-1004")["experience.sold_online_before"] is True  # "TAK"
    sub = s.scalars(select(Submission).join(Shop).where(Shop.platform_id == "pl-1001")).one()
    assert (sub.source, sub.channel, sub.actor, sub.reference) == ("survey", "import", "ankieta", "PL-R-001")
    at = s.scalar(select(Observation.observed_at).where(Observation.submission_id == sub.id).limit(1))
    assert at == datetime(2026, 11, 2, 9, 15, tzinfo=timezone.utc)  # 10:15 in Warsaw (CET)

    rejected = {r.line: r for r in report.results if r.status == "rejected"}
    assert sorted(rejected) == [4, 5, 6]  # physical lines: line 2's record spans lines 2-3
    assert [(e["field"], e["code"], e.get("column")) for e in rejected[4].errors] == [
        ("owner.hours_per_week", "above_max", "Godziny tygodniowo")]
    assert rejected[4].errors[0]["message"] == "Godziny tygodniowo na sklep: może wynosić najwyżej 100"
    assert [(e["field"], e["code"]) for e in rejected[5].errors] == [("business.marketplaces", "not_relevant")]
    assert [(e["field"], e["code"]) for e in rejected[6].errors] == [("Sklep", "unknown_shop")]
    # a rejected line stores nothing at all
    assert answers_of(s, "pl-1002") == {} and answers_of(s, "pl-1003") == {}


def test_rejected_lines_are_dead_lettered_verbatim_with_context(shops):
    s = shops
    import_surveys(s, FIXTURES / "pl_export.csv", load_mapping(FIXTURES / "pl_mapping.yaml"), actor="ankieta")
    letters = {dl.context["line"]: dl for dl in s.scalars(select(DeadLetter))}
    assert sorted(letters) == [4, 5, 6]
    text = (FIXTURES / "pl_export.csv").read_bytes().decode("utf-8-sig")
    physical = text.split("\r\n")
    assert letters[4].payload == physical[3] + "\r\n"  # exactly as in the file, line ending included
    assert letters[4].channel == "survey_import" and letters[4].status == "pending"
    ctx = letters[4].context
    assert ctx["file"] == "pl_export.csv" and ctx["format"] == "csv" and ctx["actor"] == "ankieta"
    assert ctx["header"] == physical[0] + "\r\n"
    assert ctx["mapping"]["shop"] == "Sklep" and ctx["mapping"]["delimiter"] == ";"
    assert letters[4].errors[0]["field"] == "owner.hours_per_week"


def test_reimporting_the_same_file_stores_nothing_twice(shops):
    s = shops
    mapping = load_mapping(FIXTURES / "pl_mapping.yaml")
    import_surveys(s, FIXTURES / "pl_export.csv", mapping, actor="a")
    before = (count(s, Submission), count(s, Observation), count(s, DeadLetter))
    again = import_surveys(s, FIXTURES / "pl_export.csv", mapping, actor="a")
    assert (again.accepted, again.duplicates, again.rejected) == (0, 2, 3)
    assert (count(s, Submission), count(s, Observation), count(s, DeadLetter)) == before


def test_turkish_csv_export(shops):
    s = shops
    report = import_surveys(s, FIXTURES / "tr_export.csv", load_mapping(FIXTURES / "tr_mapping.yaml"), actor="anket")
    assert (report.accepted, report.duplicates, report.rejected) == (2, 0, 1)
    ayse = answers_of(s, "tr-2001")
    assert ayse["owner.name"] == "Ayşe Yılmaz"
    assert ayse["experience.sold_online_before"] is True                 # "EVET"
    assert ayse["needs.help_with"] == ["payments", "shipping"]           # "Ödemeler; Kargo"
    assert ayse["business.marketplaces"] == ["trendyol", "hepsiburada"]
    assert ayse["business.type"] == "new_brand" and ayse["business.category"] == "fashion"
    ilgin = answers_of(s, "tr-2003")
    assert ilgin["owner.name"] == "Ilgın Çelik"
    assert ilgin["experience.sold_online_before"] is False and ilgin["business.sells_on_marketplace"] is False
    assert ilgin["business.type"] == "reseller"                          # "Bayi / stoksuz satış"
    [bad] = [r for r in report.results if r.status == "rejected"]
    assert bad.line == 3
    assert bad.errors[0]["field"] == "owner.hours_per_week" and bad.errors[0]["code"] == "not_a_number"
    assert bad.errors[0]["message"] == "Mağazaya haftada ayrılan saat: sayı olmalı"  # the line's language: tr


def test_jsonl_export(shops):
    s = shops
    mapping = load_mapping(FIXTURES / "jsonl_mapping.yaml")
    report = import_surveys(s, FIXTURES / "responses.jsonl", mapping, actor="webhook-dump")
    assert (report.lines, report.accepted, report.rejected) == (4, 2, 2)
    bad = {r.line: r for r in report.results if r.status == "rejected"}
    assert bad[2].errors[0]["code"] == "malformed_line"
    assert bad[4].errors[0]["field"] == "experience.tech_comfort" and bad[4].errors[0]["code"] == "above_max"
    priya = answers_of(s, "in-3001")
    assert priya["business.expected_monthly_turnover"] == {"amount": 250000, "currency": "INR"}
    rahul = answers_of(s, "in-3002")
    assert rahul["needs.help_with"] == ["store_setup"] and rahul["business.sells_abroad"] is True
    ref = s.scalar(select(Submission.reference).join(Shop).where(Shop.platform_id == "in-3002"))
    assert ref.startswith("sha256:") and len(ref) == 7 + 64  # no response id: a hash of the line
    again = import_surveys(s, FIXTURES / "responses.jsonl", mapping, actor="webhook-dump")
    assert (again.accepted, again.duplicates, again.rejected) == (0, 2, 2)
    raw_line = (FIXTURES / "responses.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[1]
    assert s.get(DeadLetter, bad[2].dead_letter_id).payload == raw_line


def test_dead_letter_replays_once_the_shop_arrives(shops):
    s = shops
    import_surveys(s, FIXTURES / "pl_export.csv", load_mapping(FIXTURES / "pl_mapping.yaml"), actor="ankieta")
    by_line = {dl.context["line"]: dl.id for dl in s.scalars(select(DeadLetter))}
    results = {r.id: r for r in replay(s)}  # nothing fixed yet: all three stay pending
    assert not any(r.ok for r in results.values())
    assert results[by_line[6]].errors[0]["code"] == "unknown_shop"
    ensure_shop(s, "pl-4040", "PL")
    [r] = replay(s, [by_line[6]])
    assert r.ok and r.status == "replayed"
    sub = s.scalars(select(Submission).join(Shop).where(Shop.platform_id == "pl-4040")).one()
    assert (sub.reference, sub.actor, sub.channel) == ("PL-R-004", "ankieta", "import")
    assert answers_of(s, "pl-4040")["owner.name"] == "Grzegorz Brzęczyszczykiewicz"
    at = s.scalar(select(Observation.observed_at).where(Observation.submission_id == sub.id).limit(1))
    assert at == datetime(2026, 11, 4, 20, 5, tzinfo=timezone.utc)
    [r] = replay(s, [by_line[4]])  # 120 hours is still 120 hours
    assert not r.ok and r.errors[0]["field"] == "owner.hours_per_week"


def test_jsonl_dead_letter_replays(shops, tmp_path):
    s = shops
    path = written(tmp_path / "late.jsonl",
                   '{"response_id": "z-1", "shop": "in-9000", "answers": {"name": "Meera Iyer", "hours": 5, '
                   '"sold_before": false, "comfort": 3, "help": ["seo"], "type": "handmade", "category": "crafts"}}\n')
    report = import_surveys(s, path, load_mapping(FIXTURES / "jsonl_mapping.yaml"), actor="x")
    assert report.rejected == 1
    ensure_shop(s, "in-9000", "IN")
    [r] = replay(s)
    assert r.ok
    assert answers_of(s, "in-9000")["business.category"] == "crafts"


def test_one_column_per_choice_and_wrong_column_count(shops, tmp_path):
    s = shops
    path = written(tmp_path / "wide.csv", "shop,name,hours,sold,comfort,help: payments,help: shipping,type,category\n"
                                          "pl-1002,Ewa,5,no,2,1,,new_brand,beauty\n"
                                          "pl-1003,Ola,5,no,2,x\n")
    mapping = parse_mapping({
        "shop": "shop", "columns": {
            "name": "owner.name", "hours": "owner.hours_per_week", "sold": "experience.sold_online_before",
            "comfort": "experience.tech_comfort",
            "help: payments": {"question": "needs.help_with", "choice": "payments"},
            "help: shipping": {"question": "needs.help_with", "choice": "shipping"},
            "type": "business.type", "category": "business.category"}})
    report = import_surveys(s, path, mapping, actor="x")
    assert (report.accepted, report.rejected) == (1, 1)
    assert answers_of(s, "pl-1002")["needs.help_with"] == ["payments"]
    [bad] = [r for r in report.results if r.status == "rejected"]
    assert bad.line == 3 and bad.errors[0]["code"] == "wrong_column_count"


def test_bad_mapping_names_every_problem_before_reading_lines():
    with pytest.raises(MappingError) as exc:
        load_mapping(FIXTURES / "bad_mapping.yaml")
    text = str(exc.value)
    assert "`shop` is required" in text
    assert "'owner.hours_a_week' is not a question of the interview schema" in text


@pytest.mark.parametrize("data, expected", [
    ({"shop": "s", "columns": {"a": "owner.name"}, "format": "xlsx"}, "format must be csv or jsonl"),
    ({"shop": "s", "columns": {"a": "owner.name"}, "encoding": "latin-1"}, "encoding must be utf-8"),
    ({"shop": "s", "columns": {"a": "owner.name"}, "delimiter": ";;"}, "delimiter must be one character"),
    ({"shop": "s", "columns": {"a": "owner.name"}, "colums": {}}, "unknown field(s) colums"),
    ({"shop": "s", "columns": {"a": "readiness.theme_published"}}, "cannot be answered from the survey"),
    ({"shop": "s", "columns": {"a": {"question": "owner.name", "split": ","}}}, "split only applies"),
    ({"shop": "s", "columns": {"a": {"question": "needs.help_with", "choice": "cooking"}}}, "'cooking' is not a choice"),
    ({"shop": "s", "columns": {"a": "owner.name", "b": "owner.name"}}, "both answer owner.name"),
    ({"shop": "s", "columns": {"a": "owner.name"}, "submitted_at": {"column": "t", "timezone": "Mars/Olympus"}},
     "not a known time zone"),
    ({"shop": "s", "columns": {"a": {"question": "experience.sold_online_before", "values": {True: True}}}},
     "must be quoted text"),
])
def test_mapping_mistakes_are_clear(data, expected):
    with pytest.raises(MappingError) as exc:
        parse_mapping(data)
    assert expected in str(exc.value)


def test_header_without_a_mapped_column_fails_up_front(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Shop ID,Name\npl-1,Ala\n", encoding="utf-8")
    mapping = parse_mapping({"shop": "Sklep", "columns": {"Name": "owner.name", "Hours": "owner.hours_per_week"}})
    with pytest.raises(MappingError) as exc:
        read_export(path, mapping)
    assert "no column 'Sklep', 'Hours'" in str(exc.value)


def test_file_in_the_wrong_encoding_fails_up_front(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("Sklep,Imię\npl-1,Łucja\n".encode("cp1250"))
    mapping = parse_mapping({"shop": "Sklep", "columns": {"Imię": "owner.name"}})
    with pytest.raises(Exception) as exc:
        read_export(path, mapping)
    assert "not utf-8 text" in str(exc.value) and "line 1" in str(exc.value)
