"""A scored demo population for the report tests, built once per backend (SQLite, PostgreSQL).

Reports only read (each report test checks that it wrote nothing), so the tests share one
database per backend instead of loading, training and scoring for every test. Built through
the real paths: the demo loader, `train_model`, and `rescore_shops` run as the planner would
have over the months, plus a few hand-made score rows that a correct report must use or
ignore (another model version's scores; the active model's scores made after a decision).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support import shared_database

TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
TRAINED = NOW - timedelta(days=150)        # the active model's training time (its card's trained_at)
N_SHOPS, SEED = 300, 11
RESCORE_EVERY = timedelta(days=10)         # the trials open at each run are scored again (trials last 14 days)
OLD_VERSION = "m-old-for-report-tests"



@dataclass(frozen=True)
class ScoredDemo:
    db: object          # concierge.db.Database
    now: datetime
    trained: datetime
    active_id: int
    old_id: int


def decision_time(ends: datetime | None, outcome_at: datetime | None) -> datetime | None:
    """The trial end, or the outcome when it came first or the trial has no end date."""
    if ends is None or outcome_at is None:
        return ends or outcome_at
    return min(ends, outcome_at)


def _populate(db) -> ScoredDemo:
    from sqlalchemy import insert, select, update

    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.models import ModelVersion, Score, Shop
    from concierge.operations.shop_state import refresh_states
    from concierge.operations.scoring.service import rescore_shops, train_model

    with db.session() as s:
        load_population(s, generate(N_SHOPS, seed=SEED, today=TODAY), now=NOW)
        active = train_model(s, now=TRAINED, ages=[7])
        shops = s.execute(select(Shop.id, Shop.trial_started_at, Shop.trial_ends_at, Shop.outcome,
                                 Shop.outcome_at)).all()
        # the planner's rescoring: every RESCORE_EVERY, the trials open then (one shop in 13 never
        # is: it has no score before its decision)
        at = TRAINED + timedelta(days=1)
        while at < NOW:
            rescore_shops(s, [x.id for x in shops if x.id % 13 and x.trial_started_at <= at < x.trial_ends_at],
                          now=at)
            at += RESCORE_EVERY
        rescore_shops(s, [x.id for x in shops if x.id % 13 and x.outcome is None], now=NOW - timedelta(hours=2))
        # outcomes as imports give them: a purchase after the decision window (it does not count as
        # converted), and purchases during the trial dated at the purchase (the decision comes first)
        late = [x for x in shops if x.outcome == "not_converted" and x.id % 3 == 0
                and TRAINED <= x.trial_ends_at <= NOW - timedelta(days=100)][:12]
        early = [x for x in shops if x.outcome == "converted" and x.id % 2 == 0
                 and TRAINED + timedelta(days=5) <= x.trial_ends_at <= NOW - timedelta(days=70)][:8]
        for x in late:
            s.execute(update(Shop).where(Shop.id == x.id)
                      .values(outcome="converted", outcome_at=x.trial_ends_at + timedelta(days=75)))
        for x in early:
            s.execute(update(Shop).where(Shop.id == x.id).values(outcome_at=x.trial_ends_at - timedelta(days=2)))
        early = {x.id for x in early}
        shops = s.execute(select(Shop.id, Shop.trial_started_at, Shop.trial_ends_at, Shop.outcome,
                                 Shop.outcome_at)).all()
        # another (inactive) version's scores: the forecast as it stood counts them, model health must not
        old = ModelVersion(version=OLD_VERSION, kind="conversion", trained_rows=0, artifact=b"",
                           card={"trained_at": (TRAINED - timedelta(days=90)).isoformat()}, active=False)
        s.add(old)
        s.flush()
        rows = []
        for x in shops:
            cut = decision_time(x.trial_ends_at, x.outcome_at)
            if x.outcome is not None and x.id % 5 == 0:      # just before the decision: the newest then
                rows.append({"shop_id": x.id, "model_version_id": old.id, "scored_at": cut - timedelta(hours=1),
                             "probability": 0.9, "uplift": None, "details": {}})
            if x.outcome is None and x.id % 6 == 0:          # an open trial's latest score is the old model's
                rows.append({"shop_id": x.id, "model_version_id": old.id, "scored_at": NOW - timedelta(hours=1),
                             "probability": 0.45, "uplift": None, "details": {}})
            if x.outcome is not None and x.id % 7 == 0:      # the active model, after the decision: no forecast
                rows.append({"shop_id": x.id, "model_version_id": active.id, "scored_at": cut + timedelta(hours=1),
                             "probability": 0.01, "uplift": None, "details": {}})
            if x.id in early:                                # after the purchase, before the trial end
                rows.append({"shop_id": x.id, "model_version_id": active.id,
                             "scored_at": x.outcome_at + timedelta(days=1), "probability": 0.99, "uplift": None,
                             "details": {}})
        s.execute(insert(Score), rows)
        refresh_states(s, [x.id for x in shops], now=NOW)
        return ScoredDemo(db=db, now=NOW, trained=TRAINED, active_id=active.id, old_id=old.id)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scored_demo(request, tmp_path_factory):
    """One scored demo population per backend, shared by the report tests (which never write)."""
    with shared_database(request, tmp_path_factory, "reports") as (db, _url):
        yield _populate(db)


@pytest.fixture
def shops(session, request):
    """The test's session, with a shop for each entry of the test module's SHOPS ({platform id: market})."""
    from concierge.operations.shops import ensure_shop

    for pid, market in request.module.SHOPS.items():
        ensure_shop(session, pid, market)
    return session
