"""Which model should the score users see be? Candidates against the like-for-like oracle, pure.

    .venv/bin/python benchmarks/score_candidates.py --populations 11 12 ... 18 [--shops 20000]

For each demo population (tuning seeds only: never 7, 101 or 102 for a choice) this builds
the pipeline's features without a database (as `model_ceiling.py`), splits out of time as
`concierge model train` does, fits each candidate score on the training cohorts and
reports, on the test cohorts, its AUC gap to the **policy-averaged oracle** (the true chance
averaged over the demo's call policy: what `model evaluate` calls `oracle_policy`) and its
ECE, with its fit time. `product` is what `model train` would pick among `train._candidates`
by validation log loss on the latest 20 % of the training rows (never by the test split).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

import profile_schema
from concierge.demo import generator
from concierge.ingest.events import load_mapping
from concierge.scoring.features import FeatureSpace
from concierge.scoring.metrics import ece
from concierge.scoring.train import _candidates, out_of_time_split

from model_ceiling import TODAY, dataset  # noqa: E402  (run from benchmarks/ or with it on the path)


def _ll(y, p) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class PolicyAveraged:
    """(b): p = pi(x) p1(x) + (1 - pi(x)) p0(x) from a treatment-aware bag and a propensity model."""

    _wants_treatment = True

    def __init__(self, min_samples_leaf=80, seed=0):
        self.min_samples_leaf, self.seed = min_samples_leaf, seed

    def get_params(self, deep=False):
        return {"min_samples_leaf": self.min_samples_leaf, "seed": self.seed}

    def set_params(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)
        return self

    def fit(self, X, y, treatment):
        from sklearn.ensemble import HistGradientBoostingClassifier

        from concierge.scoring.estimators import BoostedBag

        t = np.asarray(treatment, dtype=float)
        self.response_ = BoostedBag(bag=5, min_samples_leaf=self.min_samples_leaf,
                                    random_state=self.seed).fit(np.column_stack([X, t]), y)
        self.propensity_ = HistGradientBoostingClassifier(
            max_iter=600, learning_rate=0.03, max_leaf_nodes=8, min_samples_leaf=80, max_features=0.3,
            early_stopping=True, validation_fraction=0.1, n_iter_no_change=10, random_state=self.seed).fit(X, t)
        return self

    def predict_proba(self, X):
        pi = self.propensity_.predict_proba(X)[:, 1]
        p0 = self.response_.predict_proba(np.column_stack([X, np.zeros(len(X))]))[:, 1]
        p1 = self.response_.predict_proba(np.column_stack([X, np.ones(len(X))]))[:, 1]
        p = pi * p1 + (1 - pi) * p0
        return np.column_stack([1 - p, p])


def extra_candidates(seed: int) -> list[tuple[str, object]]:
    """Candidates under study that are not (yet) in `train._candidates`."""
    from concierge.scoring.estimators import ConversionModel

    bagged = dict(bag=5, max_iter=600, learning_rate=0.03, max_leaf_nodes=8, l2_regularization=1.0,
                  max_features=0.3, random_state=seed)
    return [
        ("bagged_iso", ConversionModel(min_samples_leaf=80, **bagged)),
        ("bagged_raw", ConversionModel(min_samples_leaf=80, calibration="none", **bagged)),
        ("bagged_raw_leaf40", ConversionModel(min_samples_leaf=40, calibration="none", **bagged)),
        ("policy_averaged", PolicyAveraged(seed=seed)),
    ]


def one(seed: int, shops: int, space, schema, mapping, only: list[str] | None) -> dict:
    pop = generator.generate(shops, seed=seed, today=TODAY)
    rows, X, _, y, _ = dataset(pop, space, schema, mapping)
    chances = generator.policy_chances(pop)
    truth = {s.platform_id: s for s in pop.shops}
    p_pol = np.array([generator.policy_oracle(truth[r.snapshot.shop].p_call, truth[r.snapshot.shop].p_no_call,
                                              chances[r.snapshot.shop]) for r in rows])
    X, t = X[:, :-1], X[:, -1].astype(bool)
    tr, te, _ = out_of_time_split(rows)
    order = np.argsort([rows[i].started_at for i in tr], kind="mergesort")
    cut = int(len(order) * 0.8)
    fit_i, val_i = tr[order[:cut]], tr[order[cut:]]
    auc_o = float(roc_auc_score(y[te], p_pol[te]))
    res = {"population": seed, "test_rows": int(len(te)), "oracle_policy_auc": round(auc_o, 4), "candidates": {}}
    product_ll = {}
    for name, est in _candidates(0) + extra_candidates(0):
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        kw = {"treatment": t[fit_i]} if getattr(est, "_wants_treatment", False) else {}
        vl = _ll(y[val_i], est.fit(X[fit_i], y[fit_i], **kw).predict_proba(X[val_i])[:, 1])
        kw = {"treatment": t[tr]} if getattr(est, "_wants_treatment", False) else {}
        p = clone(est).fit(X[tr], y[tr], **kw).predict_proba(X[te])[:, 1]
        secs = time.perf_counter() - t0
        auc = float(roc_auc_score(y[te], p))
        res["candidates"][name] = {"auc": round(auc, 4), "gap": round(auc_o - auc, 4), "ece": round(ece(y[te], p), 4),
                                   "val_log_loss": round(vl, 5), "test_log_loss": round(_ll(y[te], p), 5),
                                   "seconds": round(secs, 1)}
        if name in {n for n, _ in _candidates(0)}:
            product_ll[name] = vl
        print(json.dumps({"population": seed, "name": name, **res["candidates"][name]}), flush=True)
    if product_ll:
        res["product"] = min(product_ll, key=product_ll.get)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shops", type=int, default=20000)
    ap.add_argument("--populations", type=int, nargs="+", default=list(range(11, 19)))
    ap.add_argument("--only", nargs="*", help="candidate names to run (default: all)")
    args = ap.parse_args()
    if set(args.populations) & {7, 101, 102}:
        raise SystemExit("seeds 7, 101 and 102 are not for choosing (docs/model.md): use tuning seeds 11-18")
    schema = profile_schema.load_schema()
    space, mapping = FeatureSpace.from_schema(schema), load_mapping()
    results = [one(s, args.shops, space, schema, mapping, args.only) for s in args.populations]
    names = sorted({n for r in results for n in r["candidates"]})
    for n in names:
        g = [r["candidates"][n]["gap"] for r in results if n in r["candidates"]]
        e = [r["candidates"][n]["ece"] for r in results if n in r["candidates"]]
        print(json.dumps({"summary": n, "populations": len(g), "mean_gap": round(float(np.mean(g)), 4),
                          "max_gap": round(float(np.max(g)), 4), "mean_ece": round(float(np.mean(e)), 4),
                          "max_ece": round(float(np.max(e)), 4)}), flush=True)
    print(json.dumps({"product_choice": {r["population"]: r.get("product") for r in results}}))


if __name__ == "__main__":
    main()
