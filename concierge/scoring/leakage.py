"""Probable leakage: a column that tells the outcome almost perfectly on its own.

An honest answer known at a trial's start rarely separates converted from not converted
by itself; a column filled in during or after the trial (a sales stage, "lead quality",
a closing tag, an end-of-trial counter) often does, and a model trained on it looks
excellent and is useless for a trial that is still open. Before training, and in the
import report, each column is judged alone:

- **single-column AUC >= 0.95**: its values (numbers in up to 20 quantile bins, a missing
  value its own bin, anything else by value) are replaced by the outcome rate of their bin
  learnt on the other four folds of five (out of fold, so a column with hundreds of rare
  values is not flagged for memorising them), and the AUC of that rate is computed;
- **a near-pure bucket**: at least half of the rarer outcome's rows sit in values of at
  least 10 rows where at least 98 % of the rows have that outcome.

Either flags the column. Flagging never stops an import; training continues with a warning
unless `model train --strict`. Pure numpy, no database.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from gettext import NullTranslations
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

AUC_THRESHOLD = 0.95
PURE_SHARE = 0.5          # share of the rarer outcome's rows in near-pure values
PURITY = 0.98
MIN_BUCKET = 10
MIN_ROWS = 30             # fewer rows with an outcome: nothing is judged
FOLDS = 5
NUMBER_BINS = 20
MISSING = "\x00missing"


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, Mapping) and isinstance(v.get("amount"), (int, float)) and not isinstance(v.get("amount"), bool):
        return float(v["amount"])
    return None


def _buckets(values: Sequence[Any]) -> list[Any]:
    """Each value as a hashable bucket: numbers binned by quantile, the rest by value."""
    nums = [_number(v) for v in values]
    present = np.array([x for x in nums if x is not None], dtype=float)
    numeric = len(present) > 0 and sum(1 for v in values if v is not None and v != "") == len(present)
    if numeric and len(set(present.tolist())) > NUMBER_BINS:
        edges = np.unique(np.quantile(present, np.linspace(0, 1, NUMBER_BINS + 1)[1:-1]))
        return [MISSING if x is None else int(np.searchsorted(edges, x, side="right")) for x in nums]
    out: list[Any] = []
    for v in values:
        if v is None or v == "" or v == []:
            out.append(MISSING)
        elif isinstance(v, (list, tuple, dict)):
            out.append(json.dumps(v, sort_keys=True, default=str))
        else:
            out.append(v)
    return out


def auc(score: np.ndarray, y: np.ndarray) -> float | None:
    """The area under the ROC curve (ties count half); None without both outcomes."""
    y = np.asarray(y, dtype=int)
    pos = int(y.sum())
    neg = len(y) - pos
    if not pos or not neg:
        return None
    _, inv, counts = np.unique(score, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    ranks = (upper - (counts - 1) / 2)[inv]  # average rank of each tie group (1-based)
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def assess(values: Sequence[Any], outcomes: Sequence[int]) -> dict[str, Any] | None:
    """How well one column tells the outcome alone: {auc, pure_share, leak, reason}, or None
    when there is too little to judge (fewer than MIN_ROWS rows, one outcome, one value)."""
    y = np.asarray(outcomes, dtype=int)
    n = len(y)
    if n < MIN_ROWS or y.min() == y.max():
        return None
    b = _buckets(values)
    if len(set(b)) < 2:
        return None
    # out-of-fold outcome rate of each row's bucket (smoothed towards the fold's base rate)
    index: dict[Any, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in b), dtype=np.int64, count=n)
    m = len(index)
    score = np.empty(n)
    fold = np.random.default_rng(0).permutation(n) % FOLDS  # seeded: the same verdict every run
    for k in range(FOLDS):
        tr = fold != k
        base = float(y[tr].mean())
        pos = np.bincount(codes[tr], weights=y[tr], minlength=m)
        cnt = np.bincount(codes[tr], minlength=m)
        te = ~tr
        score[te] = (pos[codes[te]] + base) / (cnt[codes[te]] + 1)
    a = auc(score, y)
    a = None if a is None else max(a, 1 - a)
    minority = int(y.mean() < 0.5)  # the rarer outcome (1 when converting is rarer)
    hit = np.bincount(codes, weights=(y == minority).astype(float), minlength=m)
    tot = np.bincount(codes, minlength=m)
    n_min = int((y == minority).sum())
    pure = (tot >= MIN_BUCKET) & (hit >= PURITY * tot)
    pure_share = float(hit[pure].sum() / n_min) if n_min else 0.0
    reasons = []
    if a is not None and a >= AUC_THRESHOLD:
        reasons.append("auc")
    if pure_share >= PURE_SHARE:
        reasons.append("pure_value")
    return {"auc": None if a is None else round(a, 4), "pure_share": round(pure_share, 4),
            "rows": n, "leak": bool(reasons), "reasons": reasons}


def check(columns: Mapping[str, Sequence[Any]], outcomes: Sequence[int]) -> list[dict[str, Any]]:
    """Every column that separates the outcome almost perfectly: [{column, auc, pure_share, reasons}]."""
    out = []
    for name, values in columns.items():
        r = assess(values, outcomes)
        if r and r["leak"]:
            out.append({"column": name, "auc": r["auc"], "pure_share": r["pure_share"], "rows": r["rows"],
                        "reasons": r["reasons"]})
    return sorted(out, key=lambda d: (-(d["auc"] or 0), d["column"]))


def check_snapshots(rows: Iterable[Any], space: Any = None) -> dict[str, Any]:
    """The leakage check on training rows (TrainingRow: snapshot.values, outcome), per question.

    With the model's FeatureSpace, only the questions it has columns for are judged, each as
    the model sees it: a question it reads only as answered or not (text, phone, email, tax
    id) is judged on that, never on its (unique, personal) values."""
    rows = list(rows)
    keys = sorted({k for r in rows for k in r.snapshot.values})
    answered_only: set[str] = set()
    if space is not None:
        kinds = {k: {space.columns[i].kind for i in idx} for k, idx in space.groups.items()}
        keys = [k for k in keys if k in kinds]
        answered_only = {k for k in keys if kinds[k] == {"answered"}}
    cols = {k: [(r.snapshot.values.get(k) is not None) if k in answered_only else r.snapshot.values.get(k)
                for r in rows] for k in keys}
    flagged = check(cols, [int(r.outcome) for r in rows])
    for f in flagged:
        f["question"] = f.pop("column")
    return {"checked": len(keys), "rows": len(rows), "flagged": flagged,
            "rule": f"single-question AUC >= {AUC_THRESHOLD} (out of fold) or >= {PURE_SHARE:.0%} of the rarer "
                    f"outcome in values with >= {PURITY:.0%} of it"}


def warning_line(f: Mapping[str, Any], what: str, gettext: Callable[[str], str] | None = None) -> str:
    """One line for a flagged column (CLI output) in the language of `gettext` (English without it);
    `what` names the column or question in that language."""
    _ = gettext or NullTranslations().gettext
    why = []
    if "auc" in f.get("reasons", ()):
        why.append(_("AUC %(auc)s on its own") % {"auc": f["auc"]})
    if "pure_value" in f.get("reasons", ()):
        why.append(_("%(share)s of the rarer outcome in near-pure values") % {"share": f"{f['pure_share']:.0%}"})
    return _("Probable leakage: %(what)s separates the outcome almost perfectly (%(why)s)") % {
        "what": what, "why": ", ".join(why)}


def value_counts(values: Iterable[Any], top: int = 10) -> dict[str, int]:
    return dict(Counter(str(v) for v in values).most_common(top))
