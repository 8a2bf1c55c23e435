"""Synthetic trials with a known truth, for tests and benchmarks (not the demo generator).

Each trial gets survey and trial-shop observations; its outcome is drawn from a known
probability without a call (p0) and with one (p1), so a model can be judged against
the truth. Pure: randomness comes from the seed passed in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from locales import MARKET_CODES, market_currency
from profile_schema import Observation

from .features import DEFAULT_AGES, snapshot_time, take_snapshot
from .train import TrainingRow

MARKETS = MARKET_CODES
TYPES = ("new_brand", "offline_store", "online_store", "handmade", "reseller", "manufacturer")
READY = ("readiness.store_details", "readiness.theme_published", "readiness.products_added",
         "readiness.payments_connected", "readiness.shipping_connected", "readiness.terms_published",
         "readiness.domain_connected")


@dataclass(frozen=True, kw_only=True)
class SyntheticTrial:
    """A trial with its truth: the chance to subscribe without a call (`p_no_call`) and with one
    (`p_call`), whether it was called (when: `call_at`) or held out, and the outcome drawn."""

    shop: str
    market: str
    started_at: datetime
    observations: tuple[Observation, ...]
    p_no_call: float
    p_call: float
    called: bool
    holdout: bool
    outcome: int
    call_at: datetime | None


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def make_trials(n: int, *, seed: int = 0, start: datetime | None = None, months: int = 6,
                snapshot_day: int = 7, call_rate: float = 0.5, holdout_rate: float = 0.1,
                markets: tuple[str, ...] = MARKETS) -> list[SyntheticTrial]:
    """`n` trials started over `months` months, with observations up to day 14 and a known truth."""
    rng = np.random.default_rng(seed)
    start = start or datetime(2025, 1, 1, tzinfo=timezone.utc)
    out = []
    for k in range(n):
        shop = f"syn-{seed}-{k}"
        market = markets[int(rng.integers(len(markets)))]
        began = start + timedelta(days=float(rng.uniform(0, 30 * months)))
        obs: list[Observation] = []

        def add(q, v, src, day, op="set"):
            obs.append(Observation(shop, q, v, src, "synthetic", began + timedelta(days=day), op=op))

        sold = bool(rng.random() < 0.45)
        tech = int(rng.integers(1, 6))
        hours = int(rng.choice([5, 10, 20, 30, 40, 60]))
        btype = TYPES[int(rng.integers(len(TYPES)))]
        turnover = float(np.exp(rng.normal(9 if market != "IN" else 11, 1.5)))
        answered = rng.random() < 0.8
        if answered:
            add("experience.sold_online_before", sold, "survey", 0.5)
            add("experience.tech_comfort", tech, "survey", 0.5)
            add("owner.hours_per_week", hours, "survey", 0.5)
            add("business.type", btype, "survey", 0.5)
            if rng.random() < 0.7:
                add("business.expected_monthly_turnover",
                    {"amount": round(turnover), "currency": market_currency(market)}, "survey", 0.5)
        engagement = rng.normal(0.6 * sold + 0.25 * (tech - 3) + 0.02 * hours, 1.0)
        done = 0
        for i, item in enumerate(READY):
            if rng.random() < _sigmoid(engagement - 0.45 * i + 0.8):
                add(item, True, "trial", float(rng.uniform(0.2, 6.5)))
                done += 1
        products = int(rng.poisson(max(0.1, 3 + 4 * engagement))) if done >= 3 else 0
        if products:
            add("trial.product_count", products, "trial", float(rng.uniform(1, 6.9)))
        # what happens after the snapshot must not matter to the model
        if rng.random() < 0.5:
            add("readiness.test_order_placed", True, "trial", float(rng.uniform(snapshot_day + 0.5, 13)))
        z = -1.6 + 0.45 * done + 0.5 * sold + 0.15 * (tech - 3) + 0.012 * hours \
            + 0.08 * min(products, 10) + (0.3 if btype in ("online_store", "offline_store") else 0.0) \
            + {"PL": 0.0, "TR": 0.2, "IN": -0.2}.get(market, 0.0)
        gain = 0.9 * (not sold) + 0.5 * (tech <= 2) - 0.05 * done  # beginners gain most from a call
        p0, p1 = _sigmoid(z), _sigmoid(z + gain)
        holdout = bool(rng.random() < holdout_rate)
        called = (not holdout) and bool(rng.random() < call_rate)
        call_at = began + timedelta(days=float(rng.uniform(snapshot_day + 0.2, 13))) if called else None
        if called:
            obs.append(Observation(shop, "needs.preferred_contact", "phone", "call", "consultant", call_at))
        outcome = int(rng.random() < (p1 if called else p0))
        out.append(SyntheticTrial(shop=shop, market=market, started_at=began, observations=tuple(obs),
                                  p_no_call=p0, p_call=p1, called=called, holdout=holdout, outcome=outcome,
                                  call_at=call_at))
    return out


def training_rows(trials: list[SyntheticTrial], ages=DEFAULT_AGES) -> list[TrainingRow]:
    """Training rows for synthetic trials: each trial snapshotted at every one of `ages` (the age a feature),
    called before the snapshot or after it as its call time says."""
    rows = []
    for t in trials:
        for a in ages:
            at = snapshot_time(t.started_at, a)
            snap = take_snapshot(t.observations, shop=t.shop, market=t.market, as_of=at, trial_day=a)
            rows.append(TrainingRow(snap, t.outcome, t.started_at, bool(t.call_at and t.call_at > at), t.holdout,
                                    called_before=bool(t.call_at and t.call_at <= at)))
    return rows
