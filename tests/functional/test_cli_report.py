"""`concierge report KEY` through click's CliRunner on real SQLite and PostgreSQL, on demo data.

Parametrized over the report modules that exist (`operations.reports.MODULES`): the CLI must
print exactly what `build_report` computes (the dashboard's figures), as JSON, as CSV per
table, and as aligned plain text with rates as percentages. The reports' own figures are
checked against the raw tables by their own tests.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import json
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from concierge.cli import cli
from concierge.operations.reports import MODULES
from concierge.reporting import table_csv
from tests.support import shared_database

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
AVAILABLE = [k for k, m in MODULES.items() if importlib.util.find_spec(f"concierge.operations.reports.{m}")]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def loaded(request, tmp_path_factory):
    """(Database, URL) of a demo population with a trained model and scored open trials, built once
    per backend for this module: `concierge report` only reads (checked below), so its tests share it."""
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.operations.scoring.service import score_open, train_model

    with shared_database(request, tmp_path_factory, "cli-report") as (db, url):
        with db.session() as s:
            load_population(s, generate(150, seed=21, today=TODAY), now=NOW)
        with db.session() as s:
            train_model(s, now=NOW, ages=[7])
            score_open(s, lang="en", now=NOW)
        yield db, url


@pytest.fixture
def database(loaded):
    return loaded[0]


@pytest.fixture
def run(loaded):
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], env={"CONCIERGE_DATABASE_URL": loaded[1]},
                             catch_exceptions=False)
    return invoke


def dump(database) -> dict[str, list[str]]:
    """Every row of every table, sorted: the whole database as comparable text."""
    from sqlalchemy import select

    from concierge.db import Base

    with database.engine.connect() as c:
        return {t.name: sorted(repr(sorted(r.items())) for r in c.execute(select(t)).mappings())
                for t in Base.metadata.sorted_tables}


def built(database, key, **kwargs):
    from concierge.operations.reports import build_report

    with database.sessionmaker() as s:
        report = build_report(s, key, now=NOW, **kwargs)
        s.rollback()
    return report


def as_json(data):
    """What echo_json prints, read back."""
    return json.loads(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str))


def test_the_reports_that_exist_are_tested():
    assert "cohorts" in AVAILABLE  # the first report; the others join as their modules land


@pytest.mark.parametrize("key", AVAILABLE)
def test_report_json_is_the_report(run, database, key):
    res = run("report", key, "--json", "--now", NOW.isoformat())
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == as_json(built(database, key, lang="en").as_dict())
    res = run("report", key, "--json", "--market", "PL", "--lang", "pl", "--now", NOW.isoformat())
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data == as_json(built(database, key, lang="pl", market="PL").as_dict())
    assert data["params"]["market"] == "PL" and data["report"] == key


@pytest.mark.parametrize("key", AVAILABLE)
def test_report_csv_prints_each_table(run, database, key):
    report = built(database, key, lang="en")
    assert report.tables, key
    first = run("report", key, "--csv", "--now", NOW.isoformat())
    assert first.exit_code == 0, first.output
    assert first.stdout_bytes.decode("utf-8") == "".join(table_csv(report.tables[0]))
    for table in report.tables:
        res = run("report", key, "--csv", "--table", table.key, "--now", NOW.isoformat())
        assert res.exit_code == 0, res.output
        raw = res.stdout_bytes.decode("utf-8")
        assert raw == "".join(table_csv(table))
        parsed = list(csv.reader(io.StringIO(raw, newline="")))
        assert len(parsed) == len(table.rows) + 1 and raw.count("\r\n") >= len(parsed)
        for row in parsed[1:]:  # numbers in numeric columns are plain numbers
            for column, cell in zip(table.columns, row):
                if column.kind in ("int", "float", "rate") and cell != "":
                    float(cell)


@pytest.mark.parametrize("key", AVAILABLE)
def test_report_text_is_aligned_with_rates_as_percentages(run, database, key):
    report = built(database, key, lang="en")
    res = run("report", key, "--now", NOW.isoformat())
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert out.splitlines()[0] == report.title
    for warning in report.warnings:
        assert f"! {warning}" in out
    for table in report.tables:
        assert f"== {table.title} [{table.key}]" in out
        block = out.split(f"== {table.title} [{table.key}]", 1)[1].split("\n== ", 1)[0].splitlines()
        header = next(line for line in block[1:] if all(c.label in line for c in table.columns))
        rows = block[block.index(header) + 1:][:len(table.rows)]
        assert len(rows) == len(table.rows)
        for line, row in zip(rows, table.rows):
            for column in table.columns:
                value = row.get(column.key)
                if column.kind == "rate" and value is not None:
                    assert f"{value * 100:.1f} %" in line, (column.key, value, line)
                elif column.kind == "int" and value is not None:
                    assert str(int(value)) in line


def test_table_text_aligns_columns_and_marks_pending_and_small_cells():
    from concierge.cli.report import table_text
    from concierge.reporting import Column, Table

    table = Table("t", "Title", "What it means.", [Column("name", "Cohort"), Column("n", "Trials", "int"),
                                                   Column("rate", "Rate", "rate"), Column("x", "Mean", "float")],
                  [{"name": "2026-01", "n": 1234, "rate": 0.1234, "x": 0.5, "_pending": True},
                   {"name": "2026-02", "n": 7, "rate": None, "x": 1234.56, "_muted": True},
                   {"name": "a much longer name", "n": 0, "rate": 1.0, "x": None}], notes=["A note."])
    lines = table_text(table, "en")
    assert lines[:2] == ["== Title [t]", "What it means."]
    header, rows = lines[2], lines[3:6]
    assert lines[6:] == ["* A note."]
    assert rows[0].startswith("2026-01 ") and "1234" in rows[0] and "12.3 %" in rows[0]
    assert rows[0].endswith("(pending)") and rows[1].endswith("(too few to read)")
    assert "-" in rows[1].split() and "1234.6" in rows[1] and "100.0 %" in rows[2]
    # text columns start together, numbers end together (right-aligned under their header)
    for label, cells in (("Trials", ("1234", "7", "0")), ("Rate", ("12.3 %", "-", "100.0 %"))):
        end = header.index(label) + len(label)
        for line, cell in zip(rows, cells):
            assert line[end - len(cell):end] == cell, (label, line)
    assert {line.index(c) for line, c in zip(rows, ("2026-01", "2026-02", "a much"))} == {0}
    assert table_text(Table("e", "Empty", "", [Column("a", "A")], []), "en")[-1] == "No rows."


def test_reports_write_nothing(run, database):
    before = dump(database)
    for key in AVAILABLE:
        for args in ((), ("--json", "--market", "TR"), ("--csv",)):
            assert run("report", key, *args).exit_code == 0, (key, args)
    assert dump(database) == before


def test_cohorts_by_week_and_one_table(run, database):
    report = built(database, "cohorts", lang="en", grain="week")
    res = run("report", "cohorts", "--grain", "week", "--json", "--now", NOW.isoformat())
    assert json.loads(res.stdout) == as_json(report.as_dict())
    assert json.loads(res.stdout) != as_json(built(database, "cohorts", lang="en", grain="month").as_dict())
    table = report.tables[-1]
    res = run("report", "cohorts", "--grain", "week", "--table", table.key, "--now", NOW.isoformat())
    assert res.exit_code == 0 and f"[{table.key}]" in res.stdout
    assert all(f"[{t.key}]" not in res.stdout for t in report.tables if t.key != table.key)


def test_report_usage_errors(run, database):
    keys = [t.key for t in built(database, "cohorts", lang="en").tables]
    res = run("report", "cohorts", "--table", "nope", "--now", NOW.isoformat())
    assert res.exit_code == 2 and "--table" in res.output
    assert all(k in res.output for k in keys)
    res = run("report", "cohorts", "--json", "--csv")
    assert res.exit_code == 2 and "--json and --csv" in res.output
    res = run("report", "no-such-report")
    assert res.exit_code == 2 and "cohorts" in res.output
    res = run("report", "cohorts", "--now", "someday")
    assert res.exit_code == 2 and "--now" in res.output
