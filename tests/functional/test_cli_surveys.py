"""`concierge ingest surveys` through click's CliRunner on real SQLite and PostgreSQL."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from concierge.models import DeadLetter, Observation, Submission
from concierge.operations.shops import ensure_shop

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "surveys"


@pytest.fixture
def shops(database):
    with database.session() as s:
        for pid in ("pl-1001", "pl-1002", "pl-1003", "pl-1004"):
            ensure_shop(s, pid, "PL")
        for pid in ("tr-2001", "tr-2002", "tr-2003"):
            ensure_shop(s, pid, "TR")


def totals(database):
    with database.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Submission, Observation, DeadLetter))


def test_json_summary_and_exit_code(cli_run, shops, database):
    res = cli_run("ingest", "surveys", FIXTURES / "pl_export.csv", "--mapping", FIXTURES / "pl_mapping.yaml",
              "--json", "--actor", "ankieta-2026")
    assert res.exit_code == 1  # some lines were rejected
    out = json.loads(res.stdout)
    assert set(out) == {"file", "format", "total", "accepted", "duplicates", "rejected", "dead_letters", "errors",
                        "updated", "dropped", "warnings"}  # the first eight are the original contract
    assert (out["file"], out["format"], out["total"]) == ("pl_export.csv", "csv", 5)
    assert (out["accepted"], out["duplicates"], out["rejected"]) == (2, 0, 3)
    assert [e["line"] for e in out["errors"]] == [4, 5, 6]
    first = out["errors"][0]
    assert first["shop"] == "pl-1002" and first["dead_letter"] == out["dead_letters"][0]
    assert first["record"] == 2  # line 4 holds the second response (the first spans lines 2-3)
    assert first["errors"] == [{"field": "owner.hours_per_week", "code": "above_max", "column": "Godziny tygodniowo",
                                "value": "120", "record": 2,
                                "message": "Godziny tygodniowo na sklep: może wynosić najwyżej 100"}]
    with database.session() as s:
        assert set(s.scalars(select(Submission.actor))) == {"ankieta-2026"}
    assert totals(database)[2] == 3


def test_text_report_names_line_field_and_reason(cli_run, shops):
    res = cli_run("ingest", "surveys", FIXTURES / "tr_export.csv", "--mapping", FIXTURES / "tr_mapping.yaml",
              "--lang", "en")
    assert res.exit_code == 1
    assert res.stdout.strip() == "tr_export.csv: 3 responses: 2 accepted, 0 duplicates, 1 rejected."
    assert ("record 2 (line 3): Hours a week for the shop: must be a number "
            "[column 'Haftalık Saat' = 'otuz' -> owner.hours_per_week; dead letter 1]") in res.stderr


def test_reimport_is_idempotent_and_clean_file_exits_zero(cli_run, shops, database, tmp_path):
    good = tmp_path / "good.csv"
    lines = (FIXTURES / "tr_export.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    good.write_text(lines[0] + lines[1] + lines[3], encoding="utf-8")
    first = cli_run("ingest", "surveys", good, "--mapping", FIXTURES / "tr_mapping.yaml", "--json")
    assert first.exit_code == 0 and json.loads(first.stdout)["accepted"] == 2
    before = totals(database)
    again = cli_run("ingest", "surveys", good, "--mapping", FIXTURES / "tr_mapping.yaml", "--json")
    assert again.exit_code == 0
    assert (json.loads(again.stdout)["accepted"], json.loads(again.stdout)["duplicates"]) == (0, 2)
    assert totals(database) == before


def test_bad_mapping_exits_2_before_reading_any_line(cli_run, shops, database):
    res = cli_run("ingest", "surveys", FIXTURES / "pl_export.csv", "--mapping", FIXTURES / "bad_mapping.yaml", "--json")
    assert res.exit_code == 2
    assert res.stdout == ""
    assert "bad mapping" in res.stderr and "`shop` is required" in res.stderr
    assert "'owner.hours_a_week' is not a question" in res.stderr
    assert totals(database) == (0, 0, 0)


def test_header_missing_the_shop_column_exits_2(cli_run, shops, database, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("shop: Sklep\ncolumns:\n  Imię: owner.name\n", encoding="utf-8")
    export = tmp_path / "e.csv"
    export.write_text("Shop,Imię\npl-1001,Ala\n", encoding="utf-8")
    res = cli_run("ingest", "surveys", export, "--mapping", mapping)
    assert res.exit_code == 2
    assert "the header has no column 'Sklep'" in res.stderr
    assert totals(database) == (0, 0, 0)


def test_json_output_stays_pure_json_even_with_progress_requested(cli_run, shops):
    res = cli_run("ingest", "surveys", FIXTURES / "pl_export.csv", "--mapping", FIXTURES / "pl_mapping.yaml",
              "--json", "--progress")
    json.loads(res.stdout)
    assert "Importing" not in res.stderr


def test_progress_bar_on_stderr_when_asked(cli_run, shops):
    res = cli_run("ingest", "surveys", FIXTURES / "pl_export.csv", "--mapping", FIXTURES / "pl_mapping.yaml",
              "--progress")
    assert "Importing pl_export.csv" in res.stderr
    assert "Importing" not in res.stdout


def test_deadletter_replay_command_recovers_an_import_line(cli_run, shops, database):
    cli_run("ingest", "surveys", FIXTURES / "pl_export.csv", "--mapping", FIXTURES / "pl_mapping.yaml")
    with database.session() as s:
        ensure_shop(s, "pl-4040", "PL")
        dl_id = s.scalar(select(DeadLetter.id).where(DeadLetter.payload.like("PL-R-004;%")))
    res = cli_run("deadletter", "replay", dl_id, "--json")
    assert res.exit_code == 0, res.output
    [result] = json.loads(res.stdout)
    assert result["ok"] is True and result["status"] == "replayed"
    with database.session() as s:
        assert s.scalar(select(Submission.reference).where(Submission.reference == "PL-R-004")) == "PL-R-004"


def test_help_explains_the_command(cli_run):
    res = cli_run("ingest", "surveys", "--help")
    assert res.exit_code == 0
    text = " ".join(res.stdout.split())
    assert "--mapping" in text and "each line stored whole or not at all" in text


def test_update_flag_and_replay_mapping_need_their_inputs(cli_run, shops, tmp_path):
    """--update is accepted and reported in --json; --mapping on replay needs the letters' IDs."""
    res = cli_run("ingest", "surveys", FIXTURES / "pl_export.csv", "--mapping", FIXTURES / "pl_mapping.yaml", "--json")
    res = cli_run("ingest", "surveys", FIXTURES / "pl_export.csv", "--mapping", FIXTURES / "pl_mapping.yaml",
              "--update", "--json")
    out = json.loads(res.stdout)
    assert (out["accepted"], out["updated"], out["duplicates"]) == (0, 0, 2)  # same mapping: nothing changed
    res = cli_run("deadletter", "replay", "--all", "--mapping", FIXTURES / "pl_mapping.yaml")
    assert res.exit_code == 2 and "--mapping needs the IDs" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {a: owner.hours_a_week}\n", encoding="utf-8")
    res = cli_run("deadletter", "replay", "1", "--mapping", bad)
    assert res.exit_code == 2 and "bad mapping" in res.stderr
