"""`concierge ingest events` turns the cyclic garbage collector off for the run only: afterwards it
is on again (as it was) and nothing stays frozen, also when the run fails."""
from __future__ import annotations

import gc
import json

import pytest
from click.testing import CliRunner

from concierge.cli import cli


@pytest.fixture
def run(database, db_url):
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(args), env={"CONCIERGE_DATABASE_URL": db_url}, catch_exceptions=True)
    return invoke


def _line(eid: str) -> str:
    return json.dumps({"id": eid, "shop": "tr-gc", "type": "trial_started",
                       "occurred_at": "2026-05-01T10:00:00+03:00", "data": {"market": "TR", "shop_name": "GC"}})


def test_the_collector_is_back_after_a_run(run, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(_line("gc-1") + "\n{broken\n", encoding="utf-8")
    assert gc.isenabled()
    res = run("ingest", "events", str(path), "--json")
    assert res.exit_code == 1 and json.loads(res.stdout)["stored"] == 1
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_collector_that_was_off_stays_off(run, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(_line("gc-2") + "\n", encoding="utf-8")
    gc.disable()
    try:
        assert run("ingest", "events", str(path), "--json").exit_code == 0
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_the_collector_is_back_when_the_run_fails(run, tmp_path, monkeypatch):
    from concierge.operations import events

    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(events, "ingest_lines", boom)
    path = tmp_path / "events.jsonl"
    path.write_text(_line("gc-3") + "\n", encoding="utf-8")
    res = run("ingest", "events", str(path), "--json")
    assert isinstance(res.exception, RuntimeError)
    assert gc.isenabled() and gc.get_freeze_count() == 0
