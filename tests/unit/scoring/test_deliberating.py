"""Deliberating trials (issue 14, item 2, second half): the pure parts, no database.

A trial that ended without a purchase while its market's decision window is open is
deliberating (`outcome.deliberating`); the bundle's deliberating part scores it, learned
from finished trials that had not bought by their end, each frozen at the end
(`train.train_deliberating`: a calibrated model from 200 trials and 20 of each label, else the
base rate per market). Bundles from before the part still load.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import profile_schema
import pytest
import skops.io as sio

from concierge.operations.scoring import store
from concierge.scoring.estimators import ConversionModel, FallbackModel
from concierge.scoring.features import FeatureSpace, take_snapshot
from concierge.scoring.model import Bundle, DeliberatingScorer, Scorer
from concierge.scoring.outcome import days_left, decision, deliberating
from concierge.scoring.synthetic import make_trials
from concierge.scoring.train import (DELIBERATING_MIN_EACH, DELIBERATING_MIN_ROWS, TrainingRow, reference_row,
                                     train_deliberating)

END = datetime(2026, 9, 15, 18, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
SEC = timedelta(seconds=1)


# ------------------------------------------------------------------ the rule

def test_a_trial_is_deliberating_from_its_end_until_its_markets_window_closes():
    assert deliberating("PL", END, "not_converted", END, END)                      # exactly at the end
    assert deliberating("PL", END, None, None, END + 3 * DAY)                      # no outcome stored yet
    assert not deliberating("PL", END, None, None, END - SEC)                      # still in its trial
    assert deliberating("PL", END, "not_converted", END, END + 60 * DAY - SEC)     # the window's last second
    assert not deliberating("PL", END, "not_converted", END, END + 60 * DAY)       # the window has closed
    # the same day after the end in the other markets: TR decides after 14 days, IN after 30
    assert deliberating("TR", END, "not_converted", END, END + 14 * DAY - SEC)
    assert not deliberating("TR", END, "not_converted", END, END + 14 * DAY)
    assert not deliberating("TR", END, "not_converted", END, END + 20 * DAY)
    assert deliberating("IN", END, "not_converted", END, END + 20 * DAY)
    assert not deliberating("IN", END, "not_converted", END, END + 30 * DAY)
    assert deliberating(None, END, "not_converted", END, END + 29 * DAY)           # no card: 30 days
    assert not deliberating(None, END, "not_converted", END, END + 30 * DAY)
    # the window's end is the decision rule's own decided-at (one home)
    assert decision("PL", "not_converted", END, END) == (False, END + 60 * DAY)


def test_a_purchase_ends_deliberation_but_only_once_it_is_known():
    # bought during the trial (or at its very end): never deliberating
    assert not deliberating("PL", END, "converted", END - 2 * DAY, END + DAY)
    assert not deliberating("PL", END, "converted", END, END + DAY)
    assert not deliberating("PL", END, "converted", None, END + DAY)  # bought, time unknown
    # bought 10 days after the end: deliberating until then, decided from then on
    bought = END + 10 * DAY
    assert deliberating("PL", END, "converted", bought, bought - SEC)
    assert not deliberating("PL", END, "converted", bought, bought)
    assert not deliberating("PL", END, "converted", bought, bought + 5 * DAY)
    # a trial without an end date is never deliberating
    assert not deliberating("PL", None, "not_converted", END, END + DAY)


def test_days_left_rounds_up_and_stops_at_zero():
    assert days_left("PL", END, END) == 60
    assert days_left("PL", END, END + 59 * DAY + timedelta(hours=1)) == 1
    assert days_left("TR", END, END + 13 * DAY) == 1
    assert days_left("TR", END, END + 14 * DAY) == 0
    assert days_left("IN", END, END + 40 * DAY) == 0


# ------------------------------------------------------------------ training

@pytest.fixture(scope="module")
def space():
    return FeatureSpace.from_schema(profile_schema.load_schema())


def end_rows(trials, *, outcome=None):
    """Each synthetic trial frozen at its end (day 14), aged 14 days, as `data.deliberating_trials` does."""
    return [TrainingRow(take_snapshot(t.observations, shop=t.shop, market=t.market,
                                      as_of=t.started_at + 14 * DAY, trial_day=14),
                        t.outcome if outcome is None else outcome(k, t), t.started_at)
            for k, t in enumerate(trials)]


def test_enough_rows_give_a_calibrated_model_judged_on_the_sealed_test_trials(space):
    trials = make_trials(700, seed=41, months=6)
    rows = end_rows(trials)
    # the main model's sealed test trials: the newest fifth (by start), given, never chosen here
    newest = sorted(trials, key=lambda t: t.started_at)[-140:]
    part, block = train_deliberating(rows, space, test_trials=[t.shop for t in newest], random_state=0)
    assert part["method"] == block["method"] == "model"
    assert isinstance(part["model"], ConversionModel) and block["calibration"] == "sigmoid"
    assert block["rows"] == {"train": 560, "test": 140}
    y = np.array([r.outcome for r in rows])
    test = np.array([r.snapshot.shop in {t.shop for t in newest} for r in rows])
    assert block["positives"] == {"train": int(y[~test].sum()), "test": int(y[test].sum())}
    assert block["trial_days"] == [14]
    m = block["metrics"]
    assert m["n"] == 140 and m["positives"] == int(y[test].sum())
    assert m["auc"] > 0.65  # the trials' activity separates the outcomes (synthetic truth)
    assert part["background"] is not None and len(part["background"]) > 0
    # the part is what scores: predictions on the test rows reproduce the card's figures
    bundle = Bundle(space=space, conversion=FallbackModel(), fallback=FallbackModel(), uplift=None,
                    reference=np.zeros(len(space.columns)), robust=np.arange(3), deliberating=part)
    test_rows = [r for r, t in zip(rows, test) if t]
    p = DeliberatingScorer(bundle).predict(space.transform([r.snapshot for r in test_rows]),
                                           [r.snapshot.market for r in test_rows])
    from concierge.scoring.metrics import probability_metrics

    assert probability_metrics(y[test], p)["auc"] == m["auc"]


@pytest.mark.parametrize("n, positives", [(DELIBERATING_MIN_ROWS - 1, 60), (400, DELIBERATING_MIN_EACH - 1)])
def test_too_few_rows_or_buyers_give_the_base_rate_per_market(space, n, positives):
    trials = make_trials(n, seed=42, months=4)
    rows = end_rows(trials, outcome=lambda k, t: int(k < positives))
    part, block = train_deliberating(rows, space, random_state=0)
    assert part["method"] == block["method"] == "base_rate" and part["model"] is None
    assert block["rows"] == {"train": n, "test": 0} and block["metrics"] is None
    overall = (positives + 0.5) / (n + 1)  # Jeffreys: never a certain 0
    assert part["base_rate"] == pytest.approx(overall, abs=1e-6)
    for m in ("PL", "TR", "IN"):
        mine = [r.outcome for r in rows if r.snapshot.market == m]
        assert part["base_rates"][m] == pytest.approx((sum(mine) + 20 * overall) / (len(mine) + 20), abs=1e-6)
    bundle = Bundle(space=space, conversion=FallbackModel(), fallback=FallbackModel(), uplift=None,
                    reference=np.zeros(len(space.columns)), robust=np.arange(3), deliberating=part)
    snaps = [rows[0].snapshot, rows[1].snapshot]
    scored = DeliberatingScorer(bundle).score_many(snaps, reasons=True)
    for s, r in zip(snaps, scored):
        assert r.probability == pytest.approx(part["base_rates"][s.market])
        assert r.uplift is None and r.details["reasons"] == {"up": [], "down": []}
        assert r.details["fallback"]["model"] == "base_rate"  # the score says a simpler rule gave it
    # a market it has never seen gets the overall rate
    other = take_snapshot([], shop="x", market="DE", as_of=END, trial_day=14)
    assert DeliberatingScorer(bundle).predict(space.transform([other]), ["DE"])[0] == pytest.approx(part["base_rate"])


def test_no_buyer_yet_is_not_a_certain_zero(space):
    rows = end_rows(make_trials(50, seed=44, months=2), outcome=lambda k, t: 0)
    part, _ = train_deliberating(rows, space)
    assert part["method"] == "base_rate" and part["base_rate"] == pytest.approx(0.5 / 51, abs=1e-6)
    assert all(0 < r < 0.02 for r in part["base_rates"].values())


def test_no_row_gives_no_part(space):
    part, block = train_deliberating([], space)
    assert part is None and block["method"] == "none" and block["rows"]["train"] == 0


# ------------------------------------------------------------------ storage

def _bundle(space, part=None):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, len(space.columns)))
    y = (rng.random(200) < 0.3).astype(int)
    fb = FallbackModel(min_rows=10_000).fit(X[:, :3], y)
    return Bundle(space=space, conversion=FallbackModel(min_rows=10_000).fit(X, y), fallback=fb, uplift=None, reference=reference_row(space, X),
                  robust=np.arange(3), deliberating=part)


def test_a_bundle_from_before_the_deliberating_part_still_loads(space):
    old = _bundle(space).to_state()
    del old["deliberating"]  # artifacts stored before the part have no such key
    loaded = store.loads(sio.dumps(old))
    assert loaded.deliberating is None
    with pytest.raises(ValueError, match="no deliberating part"):
        DeliberatingScorer(loaded)
    snap = take_snapshot([], shop="x", market="PL", as_of=END, trial_day=14)
    assert 0 < Scorer(loaded).score_many([snap])[0].probability < 1


def test_the_deliberating_part_round_trips_with_the_trusted_list(space):
    rows = end_rows(make_trials(400, seed=43, months=4))
    part, _ = train_deliberating(rows, space, random_state=0)
    assert part["method"] == "model"
    again = store.loads(store.dumps(_bundle(space, part)))
    assert again.deliberating["method"] == "model" and again.deliberating["base_rates"] == part["base_rates"]
    snaps = [r.snapshot for r in rows[:30]]
    a = DeliberatingScorer(_bundle(space, part)).score_many(snaps)
    b = DeliberatingScorer(again).score_many(snaps)
    assert [x.probability for x in a] == [x.probability for x in b]
