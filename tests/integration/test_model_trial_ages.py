"""Scores for trials of every age (issue 14, item 2), through the database and the commands.

Each finished trial is snapshotted at several ages (default days 0, 2, 4, 7, 10) with the
age as a feature; an open trial is scored on its snapshot at its own age; `model evaluate`
reports every age band from the sealed test trials' snapshots. Both databases.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import numpy as np
from click.testing import CliRunner
from sqlalchemy import select, update

from concierge.cli import cli
from concierge.models import Score, Shop
from concierge.operations.scoring import store
from concierge.operations.scoring.data import data_clock, finished_trials, snapshots_and_done
from concierge.scoring.metrics import ece
from concierge.scoring.model import Scorer
from concierge.scoring.synthetic import make_trials

from tests.support import load_trials as load

from .test_model_sealed_split import run, run_json

START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_training_rows_per_trial_and_age(database):
    trials = make_trials(30, seed=31, months=2, start=START)
    with database.sessionmaker() as s:
        load(s, trials)
        early, never = trials[0].shop, trials[1].shop
        # bought on day 3: rows at days 0 and 2 only; decided before its start: no row at all
        s.execute(update(Shop).where(Shop.platform_id == early).values(
            outcome="converted", outcome_at=trials[0].started_at + timedelta(days=3)))
        s.execute(update(Shop).where(Shop.platform_id == never).values(
            outcome_at=trials[1].started_at - timedelta(hours=1)))
        s.commit()
        loaded = finished_trials(s, snapshot_day=7, ages=[0, 2, 4, 7, 10])
        single = finished_trials(s, snapshot_day=7)
    by_shop: dict[str, list] = {}
    for r in loaded.rows:
        by_shop.setdefault(r.snapshot.shop, []).append(r)
    assert [r.snapshot.trial_day for r in by_shop[early]] == [0, 2]
    assert never not in by_shop and loaded.skipped["decided_before_snapshot"] == 1
    assert len(by_shop) == 29 and all(len(v) == 5 for k, v in by_shop.items() if k != early)
    # a trial's rows are adjacent, youngest first, each frozen at its own age, with one outcome
    shops = [r.snapshot.shop for r in loaded.rows]
    assert shops == sorted(shops, key=lambda x: shops.index(x))
    for t in trials[2:]:
        rows = by_shop[t.shop]
        assert [r.snapshot.trial_day for r in rows] == [0, 2, 4, 7, 10]
        for r in rows:
            assert r.snapshot.as_of == t.started_at + timedelta(days=r.snapshot.trial_day)
            assert r.outcome == t.outcome
            # a call after the snapshot is the treatment; one before it belongs to neither arm
            assert r.treated == bool(t.call_at and t.call_at > r.snapshot.as_of)
            assert r.called_before == bool(t.call_at and t.call_at <= r.snapshot.as_of)
        assert [r.snapshot.trial_events for r in rows] == sorted(r.snapshot.trial_events for r in rows)
        assert rows[0].snapshot.trial_events <= rows[-1].snapshot.trial_events
    # without ages: one row per trial at the snapshot day (a trial decided on day 3 is skipped)
    assert {r.snapshot.trial_day for r in single.rows} == {7} and len(single.rows) == 28
    assert single.skipped["decided_before_snapshot"] == 2


def test_a_young_trial_is_scored_at_its_own_age(database, db_url):
    with database.sessionmaker() as s:
        load(s, make_trials(700, seed=32, months=6, start=START))
    card = run_json(db_url, "model", "train")["card"]
    assert card["kind"] == "conversion"
    assert card["snapshot_days"] == [0, 2, 4, 7, 10] and set(card["by_age"]) == {"0", "2", "4", "7", "10"}
    assert card["rows"]["train_snapshots_by_age"]["0"] == card["rows"]["train"]
    shown = run_json(db_url, "model", "show")["card"]
    assert shown["snapshot_days"] == card["snapshot_days"] and shown["by_age"] == card["by_age"]
    assert "Trial ages (days): 0 (train" in run(db_url, "model", "show").output
    assert "| trial day |" in run(db_url, "model", "show", "--markdown").output

    now = datetime(2025, 9, 1, 12, 0, tzinfo=timezone.utc)
    young = make_trials(2, seed=33, months=1, start=now - timedelta(days=3, hours=6))
    with database.sessionmaker() as s:
        for t, began in zip(young, (now - timedelta(days=3, hours=6), now - timedelta(days=20))):
            # a 30-day trial: the twenty-day-old one is still in its trial (a 14-day one would have
            # ended six days ago without a purchase: deliberating, scored by the deliberating part)
            shop = Shop(platform_id=t.shop, market=t.market, trial_started_at=began,
                        trial_ends_at=began + timedelta(days=30))
            s.add(shop)
        s.commit()
        shops = list(s.scalars(select(Shop).where(Shop.platform_id.in_([t.shop for t in young])).order_by(Shop.id)))
        active = store.active_model(s)
        snaps, _ = snapshots_and_done(s, shops, snapshot_day=7, now=now, ages=active.bundle.snapshot_days)
        # three days and six hours old: scored now at age 3; twenty days old: at age 10 (the largest)
        assert [snap.trial_day for snap in snaps] == [3, 10]
        assert snaps[0].as_of == now and snaps[1].as_of == shops[1].trial_started_at + timedelta(days=10)
        X = active.bundle.space.transform(snaps)
        assert list(X[:, active.bundle.space.index["activity.trial_day"]]) == [3.0, 10.0]
        expected = Scorer(active.bundle).predict(X, [snap.market for snap in snaps])
        from concierge.operations.scoring.service import score_shops

        out = score_shops(s, shops, now=now)
        s.commit()
        assert [o["probability"] for o in out] == [round(float(p), 4) for p in expected]
        assert out[0]["snapshot_at"] == now.isoformat()
        stored = s.scalars(select(Score).where(Score.shop_id == shops[0].id)).one()
        assert stored.probability == expected[0]
        # the same trial scored as if it were 7 days old would get another number: the age counts
        older = active.bundle.space.transform([dataclasses.replace(snaps[0], trial_day=7)])
        assert Scorer(active.bundle).predict(older, [snaps[0].market])[0] != expected[0]


def test_by_age_band_comes_from_the_test_snapshots(database, db_url):
    with database.sessionmaker() as s:
        load(s, make_trials(600, seed=34, months=6, start=START))
    card = run_json(db_url, "model", "train")["card"]
    ev = run_json(db_url, "model", "evaluate", "--bootstrap", "20")
    sealed = card["split"]["test_trial_ids"]
    assert ev["snapshot_days"] == [0, 2, 4, 7, 10] and ev["snapshot_day"] == 7
    assert ev["test_rows"] == len(sealed) and ev["test_snapshots"] == 5 * len(sealed)
    assert ev["age_note"] is None
    # an independent small computation: the sealed trials at every age, the active model, the bands
    with database.sessionmaker() as s:
        clock = datetime.fromisoformat(card["split"]["data_clock"]) if card["split"].get("data_clock") else data_clock(s)
        rows = finished_trials(s, snapshot_day=7, only=sealed, as_of=clock, ages=card["snapshot_days"]).rows
        bundle = store.active_model(s).bundle
    from sklearn.metrics import roc_auc_score

    X = bundle.space.transform([r.snapshot for r in rows])
    p = Scorer(bundle).predict(X, [r.snapshot.market for r in rows])
    y = np.array([r.outcome for r in rows])
    age = np.array([r.snapshot.trial_day for r in rows])
    for band, m in (("0-2", age <= 2), ("3-6", (age >= 3) & (age <= 6)), ("7+", age >= 7)):
        got = ev["by_age_band"][band]
        assert got["n"] == int(m.sum()) and got["trials"] == len(sealed)
        assert abs(got["auc"] - roc_auc_score(y[m], p[m])) < 1e-3
        assert abs(got["ece"] - ece(y[m], p[m])) < 1e-3
        assert got["auc_ci"][0] <= got["auc"] <= got["auc_ci"][1]
    assert ev["by_age_band"]["3-6"]["ages"] == [4] and ev["by_age_band"]["7+"]["ages"] == [7, 10]
    # the headline figures stay on the day-7 snapshots: the card's own
    day7 = age == 7
    assert abs(ev["model"]["auc"] - roc_auc_score(y[day7], p[day7])) < 1e-3
    assert ev["model"]["auc"] == card["metrics"]["auc"]


def test_one_snapshot_day_still_trains_as_before(database, db_url):
    with database.sessionmaker() as s:
        load(s, make_trials(300, seed=35, months=4, start=START))
    card = run_json(db_url, "model", "train", "--ages", "7")["card"]
    assert card["snapshot_days"] == [7] and card["rows"]["train_snapshots"] == card["rows"]["train"]
    ev = run_json(db_url, "model", "evaluate", "--bootstrap", "0")
    assert ev["by_age_band"]["0-2"] is None and ev["by_age_band"]["7+"]["n"] == ev["test_rows"]
    assert ev["age_note"] == ("every evaluated trial is a day-7 snapshot (the model is trained and judged at "
                              "snapshot day 7): only band 7+ has trials")
    # synthetic trials, not the demo's population: no policy oracle, and the note says why
    assert ev["oracle_policy_note"] == ("the demo population could not be drawn again (shops added or removed): "
                                        "no policy oracle")
    # the human output says the notes in the reader's language (--json above keeps them in English)
    english = run(db_url, "model", "evaluate", "--bootstrap", "0").output
    assert f"  ({ev['age_note']})" in english and ev["oracle_policy_note"] in english
    hindi = CliRunner().invoke(cli, ["model", "evaluate", "--bootstrap", "0"], catch_exceptions=False,
                               env={"CONCIERGE_DATABASE_URL": db_url, "CONCIERGE_LANG": "hi"}).output
    assert ("  (हर मूल्यांकित ट्रायल दिन 7 का स्नैपशॉट है (मॉडल स्नैपशॉट दिन 7 पर प्रशिक्षित और परखा जाता है): केवल "
            "बैंड 7+ में ट्रायल हैं)") in hindi
    assert "डेमो आबादी फिर से नहीं बनाई जा सकी (दुकानें जोड़ी या हटाई गईं): नीति ओरेकल नहीं" in hindi
    assert ev["age_note"] not in hindi and ev["oracle_policy_note"] not in hindi
    bad = run(db_url, "model", "train", "--ages", "x,2")
    assert bad.exit_code != 0 and "whole days" in bad.output
