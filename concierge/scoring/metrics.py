"""Metrics for a probability model and an uplift ranking (pure numpy / scikit-learn)."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

EPS = 1e-6


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the mean |observed rate - mean probability| over 10 equal-width bins, weighted by size."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    if len(y) == 0:
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.sum() * abs(y[m].mean() - p[m].mean())
    return float(total / len(y))


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    """The calibration chart's data: per probability bin, the mean prediction and the observed rate."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        m = which == b
        n = int(m.sum())
        out.append({"bin": [round(b / bins, 2), round((b + 1) / bins, 2)], "n": n,
                    "mean_predicted": round(float(p[m].mean()), 4) if n else None,
                    "observed": round(float(y[m].mean()), 4) if n else None})
    return out


def probability_metrics(y: np.ndarray, p: np.ndarray, base_rate: float | None = None) -> dict[str, Any]:
    """ROC AUC, PR AUC beside prevalence, Brier and its skill over the base rate, log loss, ECE."""
    y = np.asarray(y, int)
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    n = len(y)
    prevalence = float(y.mean()) if n else float("nan")
    base = prevalence if base_rate is None else base_rate
    out: dict[str, Any] = {"n": n, "positives": int(y.sum()), "prevalence": round(prevalence, 4)}
    two = n > 0 and 0 < y.sum() < n
    out["auc"] = round(float(roc_auc_score(y, p)), 4) if two else None
    out["pr_auc"] = round(float(average_precision_score(y, p)), 4) if two else None
    if n:
        brier = float(brier_score_loss(y, p))
        brier_base = float(np.mean((y - base) ** 2))
        out["brier"] = round(brier, 5)
        out["brier_base_rate"] = round(brier_base, 5)
        out["brier_skill"] = round(1 - brier / brier_base, 4) if brier_base > 0 else None
        out["log_loss"] = round(float(log_loss(y, p, labels=[0, 1])), 5)
        out["ece"] = round(ece(y, p), 4)
    return out


def qini_curve(score: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Incremental conversions when treating the top k by score: Y_t(k) - Y_c(k) * N_t(k) / N_c(k)."""
    order = np.argsort(-np.asarray(score, float), kind="mergesort")
    y = np.asarray(y, float)[order]
    t = np.asarray(t, bool)[order]
    nt = np.cumsum(t)
    nc = np.cumsum(~t)
    yt = np.cumsum(y * t)
    yc = np.cumsum(y * ~t)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = yt - np.where(nc > 0, yc * nt / np.maximum(nc, 1), 0.0)
    return np.concatenate([[0.0], q])


def qini_coefficient(score: np.ndarray, y: np.ndarray, t: np.ndarray) -> float:
    """Area between the Qini curve and the random-targeting line, per trial (higher is better)."""
    q = qini_curve(score, y, t)
    n = len(q) - 1
    if n == 0:
        return float("nan")
    random_line = np.linspace(0.0, q[-1], n + 1)
    return float(np.trapezoid(q - random_line) / (n * n))


def bootstrap(fn: Callable[..., float], arrays: Sequence[np.ndarray], *, n_boot: int = 200,
              seed: int = 0, level: float = 0.95, groups: np.ndarray | None = None) -> list[float] | None:
    """Percentile confidence interval of `fn(*arrays)` over resampled rows.

    With `groups` (one id per row: several snapshots of one trial), whole groups are
    resampled, so rows of one trial never count as independent evidence.
    """
    if n_boot <= 0:
        return None
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    members = None
    if groups is not None:
        _, inverse = np.unique(np.asarray(groups), return_inverse=True)
        order = np.argsort(inverse, kind="mergesort")
        cuts = np.cumsum(np.bincount(inverse))[:-1]
        members = np.split(order, cuts)
    values = []
    for _ in range(n_boot):
        if members is None:
            idx = rng.integers(0, n, n)
        else:
            idx = np.concatenate([members[k] for k in rng.integers(0, len(members), len(members))])
        try:
            v = fn(*(a[idx] for a in arrays))
        except ValueError:
            continue
        if v is not None and np.isfinite(v):
            values.append(v)
    if not values:
        return None
    lo, hi = np.percentile(values, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return [round(float(lo), 5), round(float(hi), 5)]
