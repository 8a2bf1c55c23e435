"""`concierge audits|calls|callback` through click's CliRunner on real SQLite and PostgreSQL,
and the worker as a real process that stops cleanly on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from concierge.demo.generator import generate
from concierge.demo.loader import load_population
from concierge.operations.shops import ensure_shop

TODAY = date(2026, 11, 16)
NOW = "2026-11-16T12:00:00+00:00"


@pytest.fixture
def demo(database):
    with database.session() as s:
        load_population(s, generate(80, seed=11, today=TODAY))


def test_plan_twice_then_list_snooze_and_cancel(cli_run, demo):
    first = cli_run("audits", "plan", "--now", NOW, "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert set(report) == {"now", "full", "shops_seen", "shops_rebuilt", "created", "held_out", "cancelled",
                           "cancelled_by_reason", "unsnoozed", "rescored", "skipped"}
    assert report["shops_seen"] == 80 and report["created"] > 0
    again = json.loads(cli_run("audits", "plan", "--now", NOW, "--json").stdout)
    assert (again["created"], again["cancelled"], again["shops_seen"]) == (0, 0, 0)

    listed = json.loads(cli_run("calls", "list", "--status", "open", "--lang", "pl", "--json").stdout)
    assert len(listed) == report["created"]
    first_call = listed[0]
    assert {"id", "shop", "why", "scheduled_local", "timezone", "agenda", "status"} <= set(first_call)
    assert first_call["status_label"] == "zaplanowana"
    assert 2 <= len(first_call["agenda"]) <= 4

    snoozed = cli_run("calls", "snooze", first_call["id"], "--until", "2027-01-12", "--reason", "on holiday until 12 Jan",
                  "--json")
    assert snoozed.exit_code == 0, snoozed.output
    data = json.loads(snoozed.stdout)
    assert data["status"] == "snoozed" and data["scheduled_at"] >= "2027-01-12"
    past = cli_run("calls", "snooze", first_call["id"], "--until", "2020-01-01", "--reason", "x")
    assert past.exit_code == 1 and "until" in past.stderr and "in the past" in past.stderr

    cancelled = json.loads(cli_run("calls", "cancel", listed[1]["id"], "--reason", "closed the business", "--json").stdout)
    assert cancelled["status"] == "cancelled" and cancelled["note"] == "closed the business"
    twice = cli_run("calls", "cancel", listed[1]["id"], "--reason", "again", "--json")
    assert twice.exit_code == 1 and json.loads(twice.stdout)["error"] == "call_not_open"
    missing = cli_run("calls", "cancel", "999999", "--reason", "x")
    assert missing.exit_code == 1 and "999999" in missing.stderr


def test_callback_request_now_and_at_and_bad_input(cli_run, database):
    with database.session() as s:
        ensure_shop(s, "tr-cb", "TR", trial_started_at=datetime.now(timezone.utc) - timedelta(days=2))
    now = cli_run("callback", "request", "tr-cb", "--now", "--note", "iyzico?", "--json")
    assert now.exit_code == 0, now.output
    call = json.loads(now.stdout)
    assert call["kind"] == "callback" and call["timezone"] == "Europe/Istanbul"
    assert call["scheduled_local"].endswith("+03:00") and call["agenda"][0] == "They asked: iyzico?"
    later = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0).isoformat()
    moved = json.loads(cli_run("callback", "request", "tr-cb", "--at", later, "--json").stdout)
    assert moved["id"] == call["id"]  # one open callback per shop: the new wish moves it
    naive = cli_run("callback", "request", "tr-cb", "--at", "2030-01-01T10:00:00", "--lang", "pl")
    assert naive.exit_code == 1 and "at" in naive.stderr and "strefy czasowej" in naive.stderr
    unknown = cli_run("callback", "request", "nope", "--json")
    assert unknown.exit_code == 1 and json.loads(unknown.stdout)["error"] == "not_found"


def test_the_call_list_and_the_rules_speak_hindi(cli_run, demo):
    """Issue 15: `calls list --lang hi` printed each call's status code (planned, held_out) in English and
    `audits rules --lang hi` the rules' kind and purpose; they come from the catalogs now."""
    assert cli_run("audits", "plan", "--now", NOW, "--json").exit_code == 0
    listed = json.loads(cli_run("calls", "list", "--lang", "hi", "--json").stdout)
    lines = [line for line in cli_run("calls", "list", "--lang", "hi").stdout.splitlines()
             if not line.startswith("        -")]
    assert listed and len(lines) == len(listed)
    for line, call in zip(lines, listed):
        assert f" {call['status_label']} " in line and f" {call['status']} " not in line, line
    assert not any(ch.isascii() and ch.isalpha() for c in listed for ch in c["status_label"])
    rules = cli_run("audits", "rules", "--market", "IN", "--lang", "hi").stdout
    assert "सलाह कॉल" in rules and "सेवा (उनकी अपनी शॉप के बारे में)" in rules
    assert " audit " not in rules and " service " not in rules and "Advice" not in rules


def test_rules_show_the_overrides_and_a_broken_file_names_the_field(cli_run, tmp_path):
    shown = json.loads(cli_run("audits", "rules", "--market", "tr", "--json").stdout)
    (tr,) = shown
    assert tr["market"] == "TR" and tr["holdout_share"] == 0.1
    assert {"key": "stage_stalled", "kind": "audit", "purpose": "service",
            "trigger": {"type": "stage_stalled", "business_days": 3}, "window": {"business_days": 3},
            "min_gain": None} in tr["rules"]
    bad = tmp_path / "overrides.yaml"
    bad.write_text("markets:\n  TR:\n    audits:\n      rules:\n        - {key: inactive, trigger: {type: lunar}}\n",
                   encoding="utf-8")
    res = cli_run("audits", "rules", "--market", "TR", "--lang", "tr", env={"CONCIERGE_MARKET_OVERRIDES": str(bad)})
    assert res.exit_code == 1
    assert "audits.rules.inactive.trigger.type" in res.stderr and "tetikleyici" in res.stderr


def test_worker_stops_cleanly_on_sigterm(database, db_url):
    env = {**os.environ, "CONCIERGE_DATABASE_URL": db_url}
    proc = subprocess.Popen([sys.executable, "-c", "from concierge.cli import main; main()", "audits", "worker", "--every", "1s", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline()  # the first run's report
        assert json.loads(first)["full"] is True
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Planner stopped after" in err


def test_worker_rejects_a_bad_interval(cli_run):
    res = cli_run("audits", "worker", "--every", "soon")
    assert res.exit_code == 2 and "30s, 5m or 1h" in res.output


def test_call_stats_json_and_table(cli_run):
    data = json.loads(cli_run("calls", "stats", "--since", "2026-11-01", "--until", "2026-11-30", "--json").stdout)
    assert data["since"].startswith("2026-11-01") and data["fcr_days"] == 7
    assert data["team"]["calls_handled"] == 0 and data["team"]["reach_rate"] is None and data["consultants"] == []
    table = cli_run("calls", "stats")
    assert table.exit_code == 0 and table.stdout.splitlines()[2].startswith("team")
