"""Deliberating trials scored through the database (issue 14, item 2, second half). Both databases.

A demo population (Polish merchants buy weeks after their trial ends): `train_model` trains
the deliberating part along, on the main model's sealed split; the score operations give a
trial that ended without a purchase inside its market's decision window a score from that
part (phase "deliberating", the days left to decide in every language), a trial in progress
one from the trial model (phase "trial"); a decided trial is not among the open ones.
`model evaluate` judges the part on the sealed test trials that had not bought by their end.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from concierge.models import Score, Shop
from concierge.operations.scoring.data import deliberating_trials
from concierge.scoring.metrics import probability_metrics
from concierge.scoring.model import deliberating_proba
from concierge.scoring.outcome import deliberating

from .test_model_sealed_split import run, run_json

TODAY = date(2026, 10, 1)
NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def trained(database, db_url):
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.operations.scoring.service import train_model

    with database.session() as s:
        load_population(s, generate(500, seed=13, today=TODAY), now=NOW)
        row = train_model(s, now=NOW, ages=[7])
        card = row.card
    return card


def test_a_deliberating_trial_is_scored_by_its_own_part(database, db_url, trained):
    from concierge.operations.scoring import store
    from concierge.operations.scoring.service import rescore_shops, score_open, score_shop

    card = trained
    block = card["deliberating"]
    assert block["method"] in ("model", "base_rate") and block["rows"]["train"] > 0
    with database.sessionmaker() as s:
        # the part's rows are the finished trials that had not bought by their end, on the sealed split
        rows = deliberating_trials(s, as_of=datetime.fromisoformat(card["split"]["data_clock"])).rows
        sealed = set(card["split"]["test_trial_ids"])
        assert block["rows"]["test"] == sum(r.snapshot.shop in sealed for r in rows)
        assert block["rows"]["train"] + block["rows"]["test"] == len(rows)
        assert all(r.snapshot.trial_day == 14 and r.snapshot.as_of == r.started_at + timedelta(days=14)
                   for r in rows)
        assert store.active_model(s).bundle.deliberating["method"] == block["method"]

        shops = list(s.scalars(select(Shop).order_by(Shop.id)))
        pl = next(x for x in shops if x.market == "PL" and x.outcome == "not_converted"
                  and NOW - timedelta(days=40) <= x.trial_ends_at <= NOW - timedelta(days=20))
        tr = next(x for x in shops if x.market == "TR" and x.outcome == "not_converted"
                  and NOW - timedelta(days=40) <= x.trial_ends_at <= NOW - timedelta(days=20))
        running = next(x for x in shops if x.outcome is None and x.trial_ends_at > NOW)
        # twenty to forty days after the end: still deciding in Poland (60 days), decided in Turkey (14)
        assert deliberating(pl.market, pl.trial_ends_at, pl.outcome, pl.outcome_at, NOW)
        assert not deliberating(tr.market, tr.trial_ends_at, tr.outcome, tr.outcome_at, NOW)
        pl_id, tr_id, running_id = pl.platform_id, tr.platform_id, running.platform_id

        out = {o["shop"]: o for o in score_open(s, now=NOW, lang="pl")}
        s.commit()
        assert pl_id in out and running_id in out and tr_id not in out
        d, t = out[pl_id], out[running_id]
        assert d["phase"] == "deliberating" and t["phase"] == "trial"
        assert d["uplift"] is None
        left = (pl.trial_ends_at + timedelta(days=60) - NOW)
        assert d["deliberating"]["days_left"] == left.days + (1 if left.seconds else 0)
        assert d["deliberating"]["window_days"] == 60 and d["deliberating"]["method"] == block["method"]
        assert d["deliberating"]["text"].startswith("Okres próbny zakończył się bez zakupu")  # in the asked language
        assert d["snapshot_at"] == pl.trial_ends_at.isoformat()
        # the number is the part's own on the trial frozen at its end
        bundle = store.active_model(s).bundle
        from concierge.operations.scoring.data import snapshots_and_done

        snap = snapshots_and_done(s, [pl], snapshot_day=7, now=NOW, ended={pl.id})[0][0]
        assert snap.trial_day == 14
        p = deliberating_proba(bundle.deliberating, bundle.space.transform([snap]), ["PL"])[0]
        assert d["probability"] == round(float(p), 4)
        # every decided or running shop is absent or a trial; each stored row names its phase
        assert {o["phase"] for k, o in out.items() if k != pl_id} <= {"trial", "deliberating"}
        stored = s.scalars(select(Score).where(Score.shop_id == pl.id)).one()
        assert stored.details["phase"] == "deliberating" and stored.details["texts"]["hi"]["deliberating"]
        # one shop, and the fresh-score path, give the same phase (the decided TR trial: "trial")
        assert score_shop(s, pl_id, now=NOW)["phase"] == "deliberating"
        assert score_shop(s, tr_id, now=NOW)["phase"] == "trial"
        assert rescore_shops(s, [pl.id], now=NOW + timedelta(days=1)) == 1  # one day less to decide: a new row
        s.commit()
        latest = s.scalars(select(Score).where(Score.shop_id == pl.id).order_by(Score.id.desc()).limit(1)).one()
        assert latest.details["phase"] == "deliberating"
        assert latest.details["deliberating"]["days_left"] == d["deliberating"]["days_left"] - 1


def test_evaluate_judges_the_part_on_the_sealed_test_trials(database, db_url, trained):
    card = trained
    ev = run_json(db_url, "model", "evaluate", "--bootstrap", "20")
    d = ev["deliberating"]
    with database.sessionmaker() as s:
        rows = deliberating_trials(s, only=card["split"]["test_trial_ids"],
                                   as_of=datetime.fromisoformat(card["split"]["data_clock"])).rows
        from concierge.operations.scoring import store

        bundle = store.active_model(s).bundle
    y = np.array([r.outcome for r in rows])
    p = deliberating_proba(bundle.deliberating, bundle.space.transform([r.snapshot for r in rows]),
                           [r.snapshot.market for r in rows])
    m = probability_metrics(y, p)
    assert d["n"] == len(rows) == card["deliberating"]["rows"]["test"] > 0
    assert d["positives"] == int(y.sum()) and d["auc"] == m["auc"] and d["ece"] == m["ece"]
    assert d["auc"] == card["deliberating"]["metrics"]["auc"]  # the card's figures, judged again
    assert d["ece_ci"] is not None and len(d["ece_ci"]) == 2
    text = run(db_url, "model", "evaluate", "--bootstrap", "0").output
    assert f"Deliberating trials ({d['method']}): {d['n']} test trials" in text
    assert "Deliberating trials (ended without a purchase" in run(db_url, "model", "show").output
    assert run_json(db_url, "model", "show")["card"]["deliberating"] == card["deliberating"]


def test_a_get_of_a_deliberating_score_gives_its_phase_and_writes_nothing(database, app, trained):
    from concierge.operations.scoring.service import score_open
    from concierge.operations.tokens import create_token
    from tests.support import Statements

    with database.sessionmaker() as s:
        out = score_open(s, now=NOW)
        _, token = create_token(s, "crm")
        s.commit()
    shop = next(o["shop"] for o in out if o["phase"] == "deliberating")
    engine = app.extensions["concierge.db"].engine
    client = app.test_client()
    assert client.get("/api/v1/shops", headers={"Authorization": f"Bearer {token}"}).status_code == 200  # the
    # token's hourly last-use mark is written by this first request, not by the score's GET
    with Statements(engine) as seen:
        r = client.get(f"/api/v1/shops/{shop}/score?lang=tr", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["phase"] == "deliberating" and body["uplift"] is None and body["current"] is True
    assert body["deliberating"]["text"].startswith("Deneme satın alma olmadan sona erdi")
    assert seen.writes == []


def test_the_planners_rescoring_takes_deliberating_trials_too(database, trained):
    from concierge.operations.audits import _rescore_stale

    with database.sessionmaker() as s:
        shops = list(s.scalars(select(Shop).order_by(Shop.id)))
        pl = next(x for x in shops if x.market == "PL" and x.outcome == "not_converted"
                  and NOW - timedelta(days=40) <= x.trial_ends_at <= NOW - timedelta(days=20))
        tr = next(x for x in shops if x.market == "TR" and x.outcome == "not_converted"
                  and NOW - timedelta(days=40) <= x.trial_ends_at <= NOW - timedelta(days=20))
        assert not s.scalars(select(Score).where(Score.shop_id.in_([pl.id, tr.id]))).all()
        # both changed and never scored: the deliberating one is scored, the decided one is not
        assert _rescore_stale(s, {pl.id, tr.id}, NOW) == 1
        s.commit()
        stored = s.scalars(select(Score).where(Score.shop_id.in_([pl.id, tr.id]))).all()
        assert [(x.shop_id, x.details["phase"]) for x in stored] == [(pl.id, "deliberating")]
