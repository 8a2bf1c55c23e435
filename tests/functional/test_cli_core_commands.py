"""The core CLI through click's CliRunner on real SQLite and PostgreSQL; --json outputs parsed."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from concierge.cli import cli


@pytest.fixture
def run(database, db_url):
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(cli, list(args), env={"CONCIERGE_DATABASE_URL": db_url, "CONCIERGE_ACTOR": "kasia"},
                             input=input, catch_exceptions=False)
    return invoke


def ev(eid, shop, etype, day, **data):
    return json.dumps({"id": eid, "shop": shop, "type": etype,
                       "occurred_at": f"2026-05-{day:02d}T10:00:00+03:00", "data": data})


@pytest.fixture
def events_file(tmp_path):
    lines = [
        ev("t1", "tr-1", "trial_started", 1, market="TR", shop_name="Çiçek", owner={"name": "Ayşe"}),
        ev("t2", "tr-1", "payment_connected", 2, provider="iyzico"),
        "",
        ev("t3", "tr-2", "theme_published", 3),          # unknown shop: dead-lettered
        "{broken",                                       # malformed: dead-lettered
        ev("t2", "tr-1", "payment_connected", 2, provider="iyzico"),  # duplicate
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ingest_events_json_summary_and_exit_code(run, events_file):
    res = run("ingest", "events", str(events_file), "--json")
    assert res.exit_code == 1  # some lines were rejected (and kept)
    out = json.loads(res.stdout)
    assert {k: out[k] for k in ("file", "total", "stored", "duplicates", "rejected", "shops_created")} == {
        "file": "events.jsonl", "total": 5, "stored": 2, "duplicates": 1, "rejected": 2, "shops_created": 1}
    assert sorted(e["line"] for e in out["errors"]) == [4, 5]
    assert len(out["dead_letters"]) == 2
    again = json.loads(run("ingest", "events", str(events_file), "--json").stdout)
    assert (again["stored"], again["duplicates"], again["rejected"]) == (0, 3, 2)


def test_ingest_events_stores_events_that_come_before_their_trial_started(run, tmp_path):
    """Out-of-order exports: the shop's events wait for its trial_started later in the file."""
    path = tmp_path / "unordered.jsonl"
    path.write_text("\n".join([
        ev("t2", "tr-1", "payment_connected", 2, provider="iyzico"),
        ev("t3", "tr-2", "theme_published", 3),          # tr-2 never starts: dead-lettered
        ev("t1", "tr-1", "trial_started", 1, market="TR", shop_name="Çiçek"),
    ]) + "\n", encoding="utf-8")
    res = run("ingest", "events", str(path), "--json", "--batch-size", "1")
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert {k: out[k] for k in ("total", "stored", "duplicates", "rejected", "shops_created")} == {
        "total": 3, "stored": 2, "duplicates": 0, "rejected": 1, "shops_created": 1}
    [error] = out["errors"]
    assert set(error) == {"line", "id", "shop", "type", "status", "duplicate", "observations", "errors", "dead_letter"}
    assert (error["line"], error["shop"], error["status"], error["errors"][0]["code"]) == (2, "tr-2", "rejected",
                                                                                           "unknown_shop")
    assert out["dead_letters"] == [error["dead_letter"]]
    prof = json.loads(run("profile", "tr-1", "--json").stdout)
    assert prof["features"]["payments"]["providers"] == ["iyzico"]


def test_shops_and_profile(run, events_file):
    run("ingest", "events", str(events_file))
    shops = json.loads(run("shops", "--json").stdout)
    assert shops == [{"id": "tr-1", "market": "TR", "name": "Çiçek", "outcome": None, "stage": shops[0]["stage"],
                      "percent": shops[0]["percent"], "trial_started_at": "2026-05-01T07:00:00+00:00",
                      "trial_ends_at": None, "score": None, "model_version": None, "consultant": None,
                      "contacted": False, "held_out": False, "next_call_at": None}]
    assert json.loads(run("shops", "--market", "PL", "--json").stdout) == []
    assert json.loads(run("shops", "--outcome", "converted", "--json").stdout) == []
    assert [s["id"] for s in json.loads(run("shops", "--outcome", "open", "--sort", "name", "--json").stdout)] == ["tr-1"]
    assert json.loads(run("shops", "--stage", shops[0]["stage"], "--min-score", "0.1", "--json").stdout) == []
    assert run("shops", "--stage", "nope").exit_code == 2
    assert "tr-1" in run("shops", "--sort", "score").stdout
    rebuilt = json.loads(run("state", "rebuild", "--json").stdout)
    assert rebuilt["shops"] == 1 and rebuilt["seconds"] >= 0
    assert json.loads(run("shops", "--json").stdout) == shops
    assert "Rebuilt 1 shop rows" in run("state", "rebuild").stdout
    prof = json.loads(run("profile", "tr-1", "--json").stdout)
    assert prof["facets"]["owner"]["facts"]["owner.name"]["source"] == "trial"
    assert prof["features"]["payments"]["providers"] == ["iyzico"]
    assert set(prof["facets"]) >= {"owner", "experience", "needs", "business", "readiness", "features"}
    text = run("profile", "tr-1").stdout
    assert "[features]" in text and "iyzico" in text and "trial/trial:t2" in text
    missing = run("profile", "nope")
    assert missing.exit_code == 1 and "nope" in missing.stderr


def test_profile_since_lists_changes(run, events_file):
    run("ingest", "events", str(events_file))
    out = json.loads(run("profile", "tr-1", "--since", "2026-05-01T12:00:00+03:00", "--json").stdout)
    keys = [c["key"] for c in out["changes"]]
    assert keys == ["features.payments", "readiness.payments_connected"]
    assert out["changes"][0] == {"key": "features.payments", "before": None, "after": ["iyzico"],
                                 "source": "trial", "observed_at": "2026-05-02T07:00:00+00:00"}


def test_record_parses_values_and_rejects_all_on_one_error(run, events_file):
    run("ingest", "events", str(events_file))
    ok = run("record", "tr-1", "owner.hours_per_week=20", "needs.help_with=payments,shipping",
             "experience.sold_online_before=true", "--json")
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.stdout)
    assert out["answers"] == {"owner.hours_per_week": 20, "needs.help_with": ["payments", "shipping"],
                              "experience.sold_online_before": True}
    bad = run("record", "tr-1", "owner.name=Ayşe Yılmaz", "experience.tech_comfort=9", "--lang", "tr")
    assert bad.exit_code == 1
    assert "experience.tech_comfort" in bad.stderr and "Teknolojiyle" in bad.stderr
    prof = json.loads(run("profile", "tr-1", "--json").stdout)
    assert prof["facets"]["owner"]["facts"]["owner.name"]["value"] == "Ayşe"  # the bad submission stored nothing
    assert prof["facets"]["owner"]["facts"]["owner.hours_per_week"]["actor"] == "kasia"


def test_schema_show(run):
    out = json.loads(run("schema", "show", "--json", "--lang", "pl").stdout)
    keys = {q["key"]: q for q in out["questions"]}
    assert keys["owner.hours_per_week"]["type"] == "number"
    assert keys["owner.hours_per_week"]["label"] == "Godziny tygodniowo na sklep"
    assert "owner.hours_per_week" in run("schema", "show").stdout


def test_deadletter_list_and_replay_after_trial_started(run, events_file, tmp_path):
    run("ingest", "events", str(events_file))
    pending = json.loads(run("deadletter", "list", "--json").stdout)
    assert [(d["channel"], d["context"]["line"]) for d in pending] == [("events", 4), ("events", 5)]
    assert pending[1]["payload"] == "{broken"
    unknown_shop = pending[0]["id"]
    res = run("deadletter", "replay", str(unknown_shop), "--json")
    assert res.exit_code == 1 and json.loads(res.stdout)[0]["attempts"] == 1
    start = tmp_path / "start.jsonl"
    start.write_text(ev("t0", "tr-2", "trial_started", 2, market="TR") + "\n")
    assert run("ingest", "events", str(start)).exit_code == 0
    res = run("deadletter", "replay", "--all", "--json")
    results = {r["id"]: r for r in json.loads(res.stdout)}
    assert results[unknown_shop]["ok"] is True and results[unknown_shop]["status"] == "replayed"
    assert results[pending[1]["id"]]["ok"] is False and results[pending[1]["id"]]["attempts"] == 1
    assert [d["id"] for d in json.loads(run("deadletter", "list", "--status", "replayed", "--json").stdout)] == [
        unknown_shop]
    usage = run("deadletter", "replay")
    assert usage.exit_code == 2


def test_token_create_list_revoke(run):
    created = json.loads(run("token", "create", "trial-platform", "--json").stdout)
    assert created["token"].startswith("cnc_") and created["token"].startswith(created["prefix"])
    listed = json.loads(run("token", "list", "--json").stdout)
    assert listed == [{k: v for k, v in created.items() if k != "token"}]
    assert created["token"] not in run("token", "list").stdout
    revoked = json.loads(run("token", "revoke", created["prefix"], "--json").stdout)
    assert revoked["active"] is False and revoked["revoked_at"]
    assert run("token", "revoke", "no-such").exit_code == 1


def test_ingest_progress_bar_goes_to_stderr_only(run, events_file):
    res = run("ingest", "events", str(events_file), "--progress")
    assert "Ingesting events.jsonl" in res.stderr and "Ingesting" not in res.stdout
    assert "2 stored" in res.stdout
    quiet = run("ingest", "events", str(events_file), "--json", "--progress")
    assert "Ingesting" not in quiet.stderr and json.loads(quiet.stdout)["duplicates"] == 3


def test_record_errors_in_polish_for_unknown_shop_and_bad_answer(run, events_file):
    run("ingest", "events", str(events_file))
    bad = run("record", "tr-1", "owner.hours_per_week=500", "--lang", "pl", "--json")
    assert bad.exit_code == 1
    out = json.loads(bad.stdout)
    assert out["message"] == "Zgłoszenie nie zostało przyjęte"
    assert out["errors"][0]["field"] == "owner.hours_per_week" and "Godziny" in out["errors"][0]["message"]
    missing = run("record", "nope", "owner.name=X")
    assert missing.exit_code == 1 and "nope" in missing.stderr
