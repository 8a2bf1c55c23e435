"""The known truth behind the demo population: how likely each trial is to subscribe.

Pure numpy. The conversion model is judged against these probabilities (the oracle), so
the formula is documented in docs/demo-data.md and kept deliberately plain: thresholds,
a saturating effect, interactions, market differences and an unseen per-shop effect.

Every input here is observable at the snapshot (trial day `SNAPSHOT_DAY`) from the
survey answers and the trial events, up to the noise of self-reported answers; the
unseen effect `u ~ N(0, NOISE_SD)` is known to nobody, not even the oracle, which is
why the oracle's probability is the expectation over it:

    p_no_call = E_u[sigmoid(L(x) + u)]          p_call = p_no_call + delta(x) * (1 - p_no_call)

(delta < 0: p_call = p_no_call * (1 + delta)). The realized outcome is drawn from the
shop's own q = sigmoid(L + u), moved by delta when it was called, with u drawn once.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from locales import MARKET_CODES

SNAPSHOT_DAY = 7
NOISE_SD = 0.7
PERSONAS = ("first_steps", "side_project", "offline_to_online", "marketplace_seller",
            "global_seller", "ecommerce_pro", "growing_seller")
MARKETS = MARKET_CODES

INTERCEPT = -5.2
MARKET_EFFECT = {"PL": -0.10, "TR": 0.15, "IN": 0.0}

# The call effect on the probability scale: a call wins over this share of the merchants
# who would not have subscribed without it (delta > 0), or loses this share of those who
# would have (delta < 0):  p_call = p + delta * (1 - p)  or  p * (1 + delta).
CALL_EFFECT = {
    "first_steps": 0.11,
    "offline_to_online": 0.10,
    "side_project": 0.05,
    "growing_seller": 0.04,
    "global_seller": 0.03,
    "marketplace_seller": 0.02,
    "ecommerce_pro": 0.0,
}
FEW_HOURS = 3           # below this a call cannot help: it costs the little time they have
FEW_HOURS_EFFECT = -0.10
UNBLOCK_EFFECT = 0.03   # a call helps more when payments are not connected yet (the consultant unblocks)

_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(24)
_GH_W = _GH_W / _GH_W.sum()


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def expected_probability(logit: np.ndarray, noise_sd: float = NOISE_SD) -> np.ndarray:
    """E_u[sigmoid(logit + u)], u ~ N(0, noise_sd): Gauss-Hermite quadrature, exact to ~1e-9."""
    logit = np.asarray(logit, dtype=float)
    return sigmoid(logit[..., None] + noise_sd * _GH_X) @ _GH_W


def base_logit(x: Mapping[str, np.ndarray]) -> np.ndarray:
    """L(x): the log-odds of subscribing without a call, before the unseen effect.

    `x` holds equal-length arrays: market (str), hours, sold_before, tech (1-5),
    catalogue (intended catalogue size), sells_abroad, turnover_band_idx (0-4),
    and the trial state at the snapshot: products, payments, shipping, legal, domain,
    test_order, theme (0/1) and active_days (days with activity so far).
    """
    market = np.asarray(x["market"])
    hours = np.asarray(x["hours"], dtype=float)
    sold = np.asarray(x["sold_before"], dtype=bool)
    tech = np.asarray(x["tech"], dtype=float)
    products = np.asarray(x["products"], dtype=float)
    abroad = np.asarray(x["sells_abroad"], dtype=bool)
    L = np.full(hours.shape, INTERCEPT)
    for m, eff in MARKET_EFFECT.items():
        L += np.where(market == m, eff, 0.0)
    # time: very few hours hurts sharply, a real part-time commitment is enough
    L += np.select([hours < 5, hours < 10, hours >= 30], [-1.1, -0.35, 0.2], 0.0)
    # experience x comfort with technology: neither alone carries a shop
    L += np.where(sold & (tech >= 4), 0.55, 0.0)
    L += np.where(~sold & (tech <= 2), -0.45, 0.0)
    L += np.where(sold & (tech <= 2), -0.1, 0.0)
    # the trial at the snapshot: thresholds, not straight lines
    L += np.select([products >= 10, products >= 1], [1.0, 0.3], -0.7)
    L += 0.85 * np.asarray(x["payments"], dtype=float)
    L += 0.40 * np.asarray(x["shipping"], dtype=float)
    L += 0.45 * np.asarray(x["domain"], dtype=float)
    L += 0.30 * np.asarray(x["legal"], dtype=float)
    L += 0.35 * np.asarray(x["test_order"], dtype=float)
    L += 0.15 * np.asarray(x["theme"], dtype=float)
    # payments without products (or the other way round) is not a shop yet
    L += np.where((np.asarray(x["payments"]) > 0) & (products >= 10), 0.25, 0.0)
    # the intended catalogue: more is better, up to a point
    L += 0.45 * (1.0 - np.exp(-np.asarray(x["catalogue"], dtype=float) / 60.0))
    # market x selling abroad: Indian sellers who sell abroad are serious; Polish ones struggle
    L += np.where(abroad & (market == "IN"), 0.35, 0.0)
    L += np.where(abroad & (market == "PL"), -0.15, 0.0)
    # expected scale: small hopes, small commitment
    band = np.asarray(x["turnover_band_idx"], dtype=float)
    L += np.select([band <= 0, band >= 3], [-0.2, 0.25], 0.0)
    # steady activity in the first week
    L += 0.12 * np.minimum(np.asarray(x["active_days"], dtype=float), SNAPSHOT_DAY)
    return L


def call_effect(persona: np.ndarray, hours: np.ndarray, payments: np.ndarray) -> np.ndarray:
    """delta(x): the share a call after the snapshot moves (see CALL_EFFECT)."""
    persona = np.asarray(persona)
    delta = np.zeros(persona.shape, dtype=float)
    for name, eff in CALL_EFFECT.items():
        delta += np.where(persona == name, eff, 0.0)
    delta += np.where((np.asarray(payments) > 0) | (delta <= 0), 0.0, UNBLOCK_EFFECT)
    return np.where(np.asarray(hours, dtype=float) < FEW_HOURS, FEW_HOURS_EFFECT, delta)


def with_call(p: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """The probability after a call: linear in p, so it holds for E_u[p] and for each shop's own p."""
    return np.where(delta >= 0, p + delta * (1.0 - p), p * (1.0 + delta))


def probabilities(x: Mapping[str, np.ndarray], persona: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(L, delta, p_no_call, p_call) for every shop."""
    L = base_logit(x)
    delta = call_effect(persona, x["hours"], x["payments"])
    p0 = expected_probability(L)
    return L, delta, p0, with_call(p0, delta)
