"""`concierge import trials --mapping` (issue 14, part 3): columns mapped onto questions, placeholders,
`known: end`, unseen choices as `other`, open trials scored, probable leakage flagged, the
card's source; and `--infer-schema`. On SQLite and PostgreSQL, through the CLI."""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, timedelta

import numpy as np
import profile_schema
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from concierge.cli import cli
from concierge.models import DeadLetter, ModelVersion, Observation, Score, Shop

SCHEMA = {
    "version": 1, "languages": ["en"], "facets": ["lead"],
    "questions": [
        {"key": "lead.kind", "type": "single_choice", "sources": ["import"], "label": {"en": "Kind"},
         "choices": {"shop": {"en": "Shop"}, "brand": {"en": "Brand"}, "other": {"en": "Other"}}},
        {"key": "lead.hours", "type": "number", "sources": ["import"], "label": {"en": "Hours"}},
        {"key": "lead.visits", "type": "number", "sources": ["import"], "label": {"en": "Visits"}},
        {"key": "lead.stage", "type": "single_choice", "sources": ["import"], "label": {"en": "Stage"},
         "choices": {"hot": {"en": "Hot"}, "cold": {"en": "Cold"}, "other": {"en": "Other"}}},
    ],
}
MAPPING = {
    "schema": "schema.yaml", "outcome": {"column": "Paid", "values": {"Won": "converted", "Lost": "not_converted"}},
    "id": "Lead", "date": {"column": "Started", "format": "%d/%m/%Y"}, "market": {"default": "PL"},
    "trial_days": 14, "placeholders": ["Select"], "ignore": ["Notes"],
    "columns": {
        "Kind": {"question": "lead.kind", "values": {"Sklep": "shop"}},
        "Hours": "lead.hours",
        "Visits": {"question": "lead.visits", "known": "end"},
        "Stage": {"question": "lead.stage"},  # filled in by sales after the trial: it leaks
    },
}
N, OPEN = 240, 12


def make_csv(seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["Lead", "Started", "Kind", "Hours", "Visits", "Stage", "Notes", "Paid"])
    for i in range(N + OPEN):
        hours = int(rng.integers(0, 40))
        won = rng.random() < 1 / (1 + np.exp(-(-1.5 + 0.07 * hours)))
        kind = ["Shop", "Sklep", "brand", "Select", "Spaceship" if i % 2 else "Kiosk"][i % 5]
        is_open = i >= N
        w.writerow([f"L{i}", (date(2025, 1, 1) + timedelta(days=i)).strftime("%d/%m/%Y"), kind, hours,
                    int(rng.integers(8, 20) if won else rng.integers(0, 10)),
                    "" if is_open else ("Hot" if won else "Cold"), "called twice",
                    "" if is_open else ("Won" if won else "Lost")])
    return out.getvalue()


def run(db_url, *args):
    return CliRunner().invoke(cli, list(args), env={"CONCIERGE_DATABASE_URL": db_url}, catch_exceptions=False)


def _files(tmp_path, mapping=MAPPING):
    (tmp_path / "schema.yaml").write_text(yaml.safe_dump(SCHEMA), encoding="utf-8")
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "crm export.csv"
    data.write_text(make_csv(), encoding="utf-8")
    return data, tmp_path / "mapping.yaml"


def test_mapped_import_open_trials_leakage_and_the_cards_source(database, db_url, tmp_path):
    data, mapping = _files(tmp_path)
    r = run(db_url, "import", "trials", str(data), "--mapping", str(mapping), "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["rows"] == N + OPEN and rep["imported"] == N + OPEN and rep["dead_lettered"] == 0
    assert rep["open_trials"] == OPEN and sum(rep["outcomes"].values()) == N
    assert rep["unused_columns"] == []  # Notes is ignored on purpose
    assert rep["known_at_end"] == ["Visits"]
    # unseen choices became `other`, counted; placeholders are missing, not a value
    assert rep["other_values"]["Kind"]["count"] == (N + OPEN) // 5
    assert set(rep["other_values"]["Kind"]["values"]) == {"Spaceship", "Kiosk"}
    assert rep["placeholders"] == {"Kind": (N + OPEN) // 5}
    leaks = {f["column"]: f for f in rep["leakage"]}
    assert leaks["Stage"]["used_by_model"] is True and leaks["Stage"]["auc"] >= 0.95
    sha = hashlib.sha256(data.read_bytes()).hexdigest()
    assert rep["source"]["sha256"] == sha and rep["source"]["file"] == "crm export.csv"
    with database.sessionmaker() as s:
        l0 = s.scalars(select(Shop).where(Shop.platform_id == "L0")).one()
        assert l0.trial_started_at.date() == date(2025, 1, 1)
        obs = {o.question: o for o in s.scalars(select(Observation).where(Observation.shop_id == l0.id))}
        assert obs["lead.kind"].value == "shop"
        # the end-of-trial counter is observed at the trial's end, never at its start
        assert (obs["lead.visits"].observed_at - obs["lead.hours"].observed_at) == timedelta(days=14)
        l3 = s.scalars(select(Shop).where(Shop.platform_id == "L3")).one()  # "Select": missing
        assert "lead.kind" not in {o.question for o in s.scalars(select(Observation).where(Observation.shop_id == l3.id))}
        assert s.scalar(select(func.count()).select_from(Shop).where(Shop.outcome.is_(None))) == OPEN

    # the same file again stores nothing twice
    r = run(db_url, "import", "trials", str(data), "--mapping", str(mapping), "--json")
    rep2 = json.loads(r.output)
    assert rep2["already_imported"] == N + OPEN and rep2["imported"] == 0

    # training sees the leak (the stage is known at the start in this mapping) and says so
    r = run(db_url, "model", "train", "--ages", "7", "--schema", str(tmp_path / "schema.yaml"), "--strict", "--json")
    assert r.exit_code != 0 and "lead.stage" in r.output
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(ModelVersion)) == 0  # --strict stored nothing
    r = run(db_url, "model", "train", "--ages", "7", "--schema", str(tmp_path / "schema.yaml"))
    assert r.exit_code == 0, r.output
    assert "WARNING Probable leakage: question lead.stage" in r.output
    r = run(db_url, "model", "show", "--json")
    card = json.loads(r.output)["card"]
    assert [f["question"] for f in card["leakage"]["flagged"]] == ["lead.stage"]
    # the visits counter is known only at the end: the day-7 snapshots never carry it
    assert "lead.visits" not in {f["question"] for f in card["leakage"]["flagged"]}
    src = card["source"]["imports"]
    assert src == [{"file": "crm export.csv", "sha256": sha, "rows": N, "market": "PL", "markets": {"PL": N},
                    "date_range": {"from": "2025-01-01", "to": (date(2025, 1, 1) + timedelta(days=N - 1)).isoformat()}}]
    assert card["source"]["other_rows"] == 0
    assert sha in run(db_url, "model", "show", "--markdown").output

    # open trials are scored
    r = run(db_url, "score", "--all", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["scored"] == OPEN
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count(func.distinct(Score.shop_id)))) == OPEN


def test_end_columns_never_reach_the_snapshot(database, db_url, tmp_path):
    from concierge.operations.scoring.data import finished_trials

    data, mapping = _files(tmp_path)
    assert run(db_url, "import", "trials", str(data), "--mapping", str(mapping)).exit_code == 0
    schema = profile_schema.load_schema_file(tmp_path / "schema.yaml")
    with database.sessionmaker() as s:
        for day in (0, 7, 13):
            rows = finished_trials(s, snapshot_day=day, schema=schema).rows
            assert len(rows) == N
            assert not any("lead.visits" in r.snapshot.values for r in rows)
            assert sum("lead.hours" in r.snapshot.values for r in rows) == N
        rows = finished_trials(s, snapshot_day=14, schema=schema).rows  # at the trial's end it is known
        assert sum("lead.visits" in r.snapshot.values for r in rows) == N


def test_bad_cells_still_dead_letter_naming_the_column_and_cli_options_win(database, db_url, tmp_path):
    data, mapping = _files(tmp_path)
    data.write_text("Lead,Started,Kind,Hours,Visits,Stage,Notes,Paid\n"
                    "x1,31/02/2025,Shop,lots,3,Hot,,Maybe\nx2,01/02/2025,Shop,3,3,Hot,,Won\n", encoding="utf-8")
    r = run(db_url, "import", "trials", str(data), "--mapping", str(mapping), "--default-market", "TR", "--json")
    rep = json.loads(r.output)
    assert rep["imported"] == 1 and rep["dead_lettered"] == 1
    errs = {e["field"]: e for e in rep["errors"][0]["errors"]}
    assert errs["Started"]["code"] == "invalid_date_format" and errs["Paid"]["code"] == "invalid_outcome"
    assert errs["lead.hours"]["column"] == "Hours" and errs["lead.hours"]["value"] == "lots"
    with database.sessionmaker() as s:
        assert s.scalars(select(Shop.market).where(Shop.platform_id == "x2")).one() == "TR"  # the option won
        assert s.scalar(select(func.count()).select_from(DeadLetter)) == 1


def test_a_wrong_mapping_names_every_mistake_and_imports_nothing(database, db_url, tmp_path):
    bad = {**MAPPING, "colums": {}, "trial_days": 0,
           "columns": {"Kind": {"question": "lead.nope", "known": "later"}, "Hours": "lead.hours",
                       "Hours2": "lead.hours"}}
    data, mapping = _files(tmp_path, bad)
    r = run(db_url, "import", "trials", str(data), "--mapping", str(mapping))
    assert r.exit_code != 0
    for words in ("colums", "trial_days", "lead.nope", "known must be start or end", "already the question"):
        assert words in r.output, words
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Shop)) == 0


def test_infer_schema_writes_a_starter_schema_and_mapping_that_import(database, db_url, tmp_path):
    data = tmp_path / "leads.csv"
    data.write_text(make_csv(), encoding="utf-8")
    out, mout = tmp_path / "s.yaml", tmp_path / "m.yaml"
    r = run(db_url, "import", "trials", "--infer-schema", str(data), "--id", "Lead", "--date", "Started",
            "--default-market", "PL", "-o", str(out), "--mapping-out", str(mout), "--max-categories", "2", "--json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    schema = profile_schema.load_schema_file(out)
    mapping = yaml.safe_load(mout.read_text(encoding="utf-8"))
    assert mapping["outcome"] == "Paid" and info["outcome"] == "Paid"  # guessed by its name
    assert mapping["schema"] == "s.yaml" and mapping["market"] == {"default": "PL"}
    assert mapping["date"] == {"column": "Started", "format": "%d/%m/%Y"}  # read from the cells
    cols = {c["column"]: c for c in info["columns"]}
    assert cols["Notes"]["action"] == "ignored" and mapping["ignore"] == ["Notes"]
    kind = schema.questions[mapping["columns"]["Kind"]["question"]]
    assert kind.type == "single_choice" and len(kind.choices) == 3 and "other" in kind.choices  # top 2 + other
    assert mapping["columns"]["Kind"]["placeholders"] == ["Select"]
    assert schema.questions[mapping["columns"]["Hours"]["question"]].type == "number"
    assert "probable leakage" in mapping["columns"]["Stage"]["note"] and "note" not in mapping["columns"]["Hours"]
    assert all(c["known"] == "start" for c in mapping["columns"].values())
    # refuses to overwrite without --force
    r = run(db_url, "import", "trials", "--infer-schema", str(data), "-o", str(out), "--mapping-out", str(mout))
    assert r.exit_code != 0 and "--force" in r.output
    r = run(db_url, "import", "trials", str(data), "--mapping", str(mout), "--json")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["imported"] == N + OPEN and rep["dead_lettered"] == 0 and rep["open_trials"] == OPEN
    assert rep["other_values"]  # the categories beyond the top two became other, no row rejected
