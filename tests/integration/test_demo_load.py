"""The demo population in a real database (SQLite and PostgreSQL): profiles, truth, CLI."""
from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from concierge.cli import cli
from concierge.demo.generator import generate
from concierge.demo.loader import load_population
from concierge.errors import Conflict
from concierge.models import Call, DeadLetter, DemoTruth, Observation, Shop, Submission, TrialEvent
from concierge.operations.profiles import load_profile

TODAY = date(2026, 11, 23)


def test_small_population_loads_into_profiles(database):
    pop = generate(30, seed=5, today=TODAY)
    with database.session() as s:
        result = load_population(s, pop)
    assert result.shops == 30
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count(Shop.id))) == 30
        assert s.scalar(select(func.count(TrialEvent.id))) == sum(len(x.events) for x in pop.shops)
        assert s.scalar(select(func.count(DeadLetter.id))) == 0
        assert s.scalar(select(func.count(DemoTruth.shop_id))) == 30
        assert s.scalar(select(func.count(Call.id))) == sum(x.called for x in pop.shops)
        assert s.scalar(select(func.count(Submission.id))) == \
            sum(x.survey is not None for x in pop.shops) + sum(x.call is not None for x in pop.shops)
        sources = set(s.scalars(select(Observation.source).distinct()))
        assert {"trial", "call", "survey"} <= sources
        by_pid = {x.platform_id: x for x in pop.shops}
        for shop in s.scalars(select(Shop)):
            gen = by_pid[shop.platform_id]
            assert shop.market == gen.market and shop.holdout == gen.holdout
            assert shop.outcome == gen.outcome
            truth = s.get(DemoTruth, shop.id)
            assert truth.persona == gen.persona and truth.called == gen.called and truth.seed == 5
            assert truth.p_no_call == pytest.approx(gen.p_no_call)
            profile = load_profile(s, shop)
            assert profile.value("owner.phone") == gen.phone
            assert profile.readiness.percent >= 0 and profile.readiness.items
            assert profile.outcome == gen.outcome
            products = sum(e.data.get("count", 1) for e in gen.events if e.type == "product_added")
            assert profile.value("trial.product_count", 0) == products
            if any(e.type == "payment_connected" for e in gen.events):
                assert profile.features["payments"].connected is True
            if gen.survey is not None or gen.call is not None:
                assert profile.persona is not None and profile.experience_level is not None
        converted = s.scalars(select(Shop).where(Shop.outcome == "converted")).all()
        assert converted, "some of 30 finished trials convert"
        assert all(c.outcome_at is not None for c in converted)


def test_conflicts_between_survey_and_call_exist(database):
    pop = generate(120, seed=9, today=TODAY)
    with database.session() as s:
        load_population(s, pop)
    with database.sessionmaker() as s:
        both = [x for x in pop.shops if x.survey is not None and x.call is not None]
        conflicts = sum(bool(load_profile(s, x.platform_id).conflicts) for x in both)
    assert both and conflicts > 0, "self-reported survey answers sometimes differ from the call"


def test_loading_the_same_shops_twice_is_refused_and_stores_nothing(database):
    pop = generate(5, seed=1, today=TODAY)
    with database.session() as s:
        load_population(s, pop)
    with pytest.raises(Conflict, match="already exist"):
        with database.session() as s:
            load_population(s, pop)
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count(Shop.id))) == 5


def _run(db_url, *args):
    return CliRunner().invoke(cli, list(args), env={"CONCIERGE_DATABASE_URL": db_url}, catch_exceptions=False)


def test_cli_demo_if_empty_is_idempotent(database, db_url):
    first = _run(db_url, "demo", "--shops", "25", "--seed", "3", "--today", "2026-11-23", "--if-empty", "--json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["shops"] == 25 and data["loaded"] is True and data["skipped"] is False
    assert set(data["by_market"]) == {"PL", "TR", "IN"} and sum(data["by_market"].values()) == 25
    for key in ("conversion_rate", "holdout_share", "finished_trials", "events", "observations"):
        assert key in data
    second = _run(db_url, "demo", "--shops", "25", "--seed", "3", "--today", "2026-11-23", "--if-empty", "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["skipped"] is True
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count(Shop.id))) == 25
        assert s.scalar(select(func.count(Submission.id))) > 0
    text = _run(db_url, "demo", "--shops", "10", "--seed", "4", "--today", "2026-11-23", "--if-empty")
    assert "already has shops" in text.output


def test_cli_events_out_writes_envelopes_without_touching_the_database(database, db_url, tmp_path):
    out = tmp_path / "events.jsonl"
    res = _run(db_url, "demo", "--shops", "40", "--seed", "2", "--today", "2026-11-23", "--events-out", str(out), "--json")
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == json.loads(res.output)["events"]
    env = [json.loads(line) for line in lines]
    assert all(set(e) == {"id", "shop", "type", "occurred_at", "data"} for e in env)
    assert env[0]["type"] == "trial_started" and env[0]["occurred_at"].endswith("+00:00")
    assert [e["occurred_at"] for e in env] == sorted(e["occurred_at"] for e in env), "a stream in time order"
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count(Shop.id))) == 0
    # the file is what `concierge ingest events` reads: every event accepted
    ingest = _run(db_url, "ingest", "events", str(out), "--json")
    assert ingest.exit_code == 0, ingest.output
    counts = json.loads(ingest.output)
    assert counts["stored"] == len(lines) and counts["rejected"] == 0


def test_cli_rejects_a_bad_date(db_url):
    res = CliRunner().invoke(cli, ["demo", "--today", "23.11.2026"], env={"CONCIERGE_DATABASE_URL": db_url})
    assert res.exit_code != 0 and "--today" in res.output
