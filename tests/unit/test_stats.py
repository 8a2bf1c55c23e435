"""Interval estimates against published values and against the demo's known truth."""
from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta, timezone

import pytest

from concierge import stats
from concierge.demo.generator import call_gain_truth, generate
from locales import get_market


@pytest.mark.parametrize("k, n, low, high", [
    # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (Wilson score)
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_the_published_intervals(k, n, low, high):
    iv = stats.wilson(k, n)
    assert iv.estimate == pytest.approx(k / n)
    assert (round(iv.low, 4), round(iv.high, 4)) == (low, high)


@pytest.mark.parametrize("k1, n1, k2, n2, low, high", [
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10 (hybrid score)
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (5, 56, 0, 29, -0.0381, 0.1926),
])
def test_newcombe_matches_the_published_intervals(k1, n1, k2, n2, low, high):
    iv = stats.newcombe(k1, n1, k2, n2)
    assert iv.estimate == pytest.approx(k1 / n1 - k2 / n2)
    assert (round(iv.low, 4), round(iv.high, 4)) == (low, high)


def test_empty_samples_give_no_figures():
    assert stats.wilson(0, 0) == stats.EMPTY
    assert stats.newcombe(1, 2, 0, 0) == stats.EMPTY
    assert stats.auc_interval(0.7, 0, 10) == stats.EMPTY
    with pytest.raises(ValueError):
        stats.wilson(3, 2)


def test_the_prediction_interval_of_a_sum_covers_simulated_sums():
    rng = random.Random(5)
    probs = [rng.random() * 0.4 for _ in range(400)]
    iv = stats.sum_of_bernoulli(probs)
    assert iv.estimate == pytest.approx(sum(probs))
    sims = [sum(rng.random() < p for p in probs) for _ in range(2000)]
    inside = sum(iv.low <= x <= iv.high for x in sims) / len(sims)
    assert 0.93 <= inside <= 0.99
    assert stats.sum_of_bernoulli([]) == stats.Interval(0.0, 0.0, 0.0)


def test_auc_interval_narrows_with_more_cases():
    small, big = stats.auc_interval(0.75, 20, 80), stats.auc_interval(0.75, 200, 800)
    assert small.low < big.low < 0.75 < big.high < small.high
    assert stats.auc_interval(1.0, 5, 5).high == 1.0 and stats.auc_interval(0.5, 50, 50).low > 0.3


def test_the_gain_interval_covers_the_generators_true_effect_in_most_populations():
    """The gain from calls, computed as the dashboard does (matured trials, the random arms,
    Newcombe 95 %), over 20 independent demo populations: the true effect must fall inside in
    about 95 % of them, both the one the probabilities promise and the one the calls realised
    (`call_gain_truth`; Newcombe's interval is wide enough for the realised one by design)."""
    today = date(2026, 11, 16)
    now = datetime(2026, 11, 16, 12, tzinfo=timezone.utc)
    covered = {"expected": 0, "realized": 0}
    for seed in range(20):
        pop = generate(1200, seed=1000 + seed, today=today)
        arms = {True: [0, 0], False: [0, 0]}
        for s in pop.shops:
            w = get_market(s.market).decision_window_days
            if s.trial_ends_at > now - timedelta(days=w):
                continue
            won = s.outcome == "converted" and (s.outcome_at - s.trial_ends_at) <= timedelta(days=w)
            arms[s.holdout][0] += won
            arms[s.holdout][1] += 1
        iv = stats.newcombe(*arms[False], *arms[True])
        truth = call_gain_truth(pop.shops, now)
        assert truth is not None and truth.trials == arms[False][1]
        covered["expected"] += iv.contains(truth.expected)
        covered["realized"] += iv.contains(truth.realized)
    # 95 % expected; fewer than 16 of 20 happens 1.6 % of the time by chance
    assert covered["expected"] >= 16 and covered["realized"] >= 16, covered
