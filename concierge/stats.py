"""Interval estimates the dashboard prints beside every figure. Pure: the stdlib only.

- `wilson`: a proportion's interval (Wilson score), honest for small n and for 0 or n;
- `newcombe`: the difference of two independent proportions (Newcombe's hybrid score
  method 10, built from the two Wilson intervals), for the gain from calls;
- `sum_of_bernoulli`: the prediction interval of a count of successes when each trial has
  its own probability (a Poisson binomial), for expected conversions (`sum_of_bernoulli_moments`
  from the sums alone, when SQL adds them up);
- `auc_interval`: ROC AUC with the Hanley-McNeil standard error.

``confidence`` is the two-sided level (0.95 by default).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist


def z_for(confidence: float = 0.95) -> float:
    """The normal quantile of a two-sided interval: 1.96 for 0.95."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None

    def contains(self, value: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= value <= self.high


EMPTY = Interval(None, None, None)


def wilson(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """The Wilson score interval of successes/n (None figures when n is 0)."""
    if n <= 0:
        return EMPTY
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    z = z_for(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def newcombe(k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95) -> Interval:
    """The difference p1 - p2 of two independent proportions with Newcombe's hybrid score interval."""
    if n1 <= 0 or n2 <= 0:
        return EMPTY
    a, b = wilson(k1, n1, confidence), wilson(k2, n2, confidence)
    p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    low = d - math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2)
    high = d + math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high))


def sum_of_bernoulli(probabilities: Sequence[float], confidence: float = 0.95) -> Interval:
    """Expected successes among trials with these probabilities, and a prediction interval.

    The normal approximation of the Poisson binomial (mean sum p, variance sum p(1-p)),
    rounded outwards to whole counts and kept inside [0, n].
    """
    return sum_of_bernoulli_moments(len(probabilities), math.fsum(probabilities),
                                    math.fsum(p * (1 - p) for p in probabilities), confidence)


def sum_of_bernoulli_moments(n: int, mean: float, variance: float, confidence: float = 0.95) -> Interval:
    """`sum_of_bernoulli` from its sums (n trials, the sum of p, the sum of p(1-p)), e.g. summed in SQL."""
    if n <= 0:
        return Interval(0.0, 0.0, 0.0)
    half = z_for(confidence) * math.sqrt(max(variance, 0.0))
    return Interval(mean, float(max(0, math.floor(mean - half))), float(min(n, math.ceil(mean + half))))


def auc_interval(auc: float, positives: int, negatives: int, confidence: float = 0.95) -> Interval:
    """AUC with the Hanley & McNeil (1982) standard error."""
    if positives <= 0 or negatives <= 0:
        return EMPTY
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) \
        / (positives * negatives)
    half = z_for(confidence) * math.sqrt(max(var, 0.0))
    return Interval(auc, max(0.0, auc - half), min(1.0, auc + half))
