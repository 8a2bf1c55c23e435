"""The scorer's fast paths give the same numbers and words as the straightforward computation.

Issue 14 (benchmark targets): `Scorer.score_one` and `score_many` were made faster without
changing any output. Each fast path is checked here against a reference kept in this file
or against scikit-learn's own prediction, on hundreds of rows, exactly (==, not a tolerance):

- `FeatureSpace.transform` (a blank row, then only the answers) against `fill` row by row;
- the trees (`estimators._Trees`: numpy walk for a few rows, scikit-learn's walk by chunks for
  many) against the calibrated classifier's and the distilled regressor's own predictions;
- `Scorer.score_one` / `score_many` with reasons, paths and texts in every language against a
  scorer that predicts through scikit-learn and finds each question's background values with
  the original loop.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import numpy as np
import profile_schema
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from concierge.scoring import estimators as E
from concierge.scoring.estimators import ConversionModel, FallbackModel, UpliftModel
from concierge.scoring.features import DEFAULT_AGES, FeatureSpace, TrialSnapshot, snapshot_time, take_snapshot
from concierge.scoring.model import Bundle, Scorer, _proba
from concierge.scoring.synthetic import make_trials, training_rows
from concierge.scoring.train import background_rows, reference_row


@pytest.fixture(scope="module")
def space():
    return FeatureSpace.from_schema(profile_schema.load_schema())


@pytest.fixture(scope="module")
def scored(space):
    """A bundle like the benchmark's: isotonic-calibrated boosting (200 trees of 15 leaves) on
    snapshots of every trial age, a distilled uplift regressor, background rows per age."""
    trials = make_trials(900, seed=11, months=5)
    rows = training_rows(trials)
    X = space.transform([r.snapshot for r in rows])
    y = np.array([r.outcome for r in rows])
    groups = np.array([r.snapshot.shop for r in rows])
    treated = np.array([r.treated for r in rows])
    conversion = ConversionModel(max_features=0.5, calibration="isotonic", isotonic_min_rows=100,
                                 random_state=0).fit(X, y, groups=groups)
    uplift = UpliftModel(max_iter=30, response_max_iter=60, response_bag=2, distill_max_iter=60,
                         random_state=0).fit(X, y, treated, groups=groups)
    ages = np.array([r.snapshot.trial_day for r in rows])
    p = _proba(conversion, X)
    bgs, bg_ages, refs = [], [], []
    for a in DEFAULT_AGES:
        m = ages == a
        b = background_rows(X[m], p[m])
        bgs.append(b)
        bg_ages += [a] * len(b)
        refs.append(reference_row(space, X[m]))
    bundle = Bundle(space=space, conversion=conversion, fallback=FallbackModel().fit(X[:, :5], y), uplift=uplift,
                    reference=reference_row(space, X), robust=np.arange(5), trained_rows=len(trials),
                    background=np.vstack(bgs), base_rate=float(y.mean()), snapshot_days=tuple(DEFAULT_AGES),
                    background_ages=np.array(bg_ages), reference_by_age=np.vstack(refs))
    pool = make_trials(400, seed=12, months=2)
    snaps = [take_snapshot(t.observations, shop=t.shop, market=t.market,
                           as_of=snapshot_time(t.started_at, DEFAULT_AGES[i % len(DEFAULT_AGES)]),
                           trial_day=DEFAULT_AGES[i % len(DEFAULT_AGES)]) for i, t in enumerate(pool)]
    return bundle, snaps


# ----------------------------------------------------------------------------- features

def _odd_snapshots() -> list[TrialSnapshot]:
    """Answers of every kind the fold could give, well-formed or not."""
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    odd: list[dict[str, Any]] = [
        {},
        {"business.type": "handmade", "readiness.payments_connected": True, "readiness.products_added": False},
        {"business.type": "no_such_choice", "readiness.payments_connected": None},
        {"business.type": 7, "owner.email": "", "owner.name": "Ala"},
        {"business.type": None, "owner.email": None},
        {"not.a.question": 3, "trial.outcome": "converted", "trial.plan": "pro"},
    ]
    numbers = [3, 2.5, float("nan"), float("inf"), True, "12", -4]
    moneys = [{"amount": 1200, "currency": "PLN"}, {"amount": 10, "currency": "XXX"},
              {"amount": -1, "currency": "EUR"}, {"amount": True, "currency": "EUR"}, "100 EUR", None]
    dates = ["2026-04-01", "2026-13-01", 20260401, ""]
    space = FeatureSpace.from_schema(profile_schema.load_schema())
    kinds: dict[str, list[str]] = {}
    for c in space.columns:
        kinds.setdefault(c.qtype, [])
        if c.key not in kinds[c.qtype]:
            kinds[c.qtype].append(c.key)
    for i, v in enumerate(numbers):
        odd.append({k: v for k in kinds.get("number", []) + kinds.get("scale", [])})
    for v in moneys:
        odd.append({k: v for k in kinds.get("money", [])})
    for v in dates:
        odd.append({k: v for k in kinds.get("date", [])})
    multi = kinds.get("multi_choice", [])
    if multi:
        choice = next(c.choice for c in space.columns if c.key == multi[0] and c.kind == "multi")
        odd += [{multi[0]: [choice, "nope", 3]}, {multi[0]: choice}, {multi[0]: []}, {multi[0]: (choice, choice)}]
    out = []
    for i, values in enumerate(odd):
        for market, as_of, extra in (("PL", at, {}), (None, None, {"readiness_percent": 40.0, "trial_day": 2}),
                                     ("XX", at, {"days_active": 3, "trial_events": 9, "answers": 4})):
            out.append(TrialSnapshot(shop=f"odd-{i}", market=market, values=values, as_of=as_of, **extra))
    return out


def test_transform_writes_the_same_bytes_as_fill_row_by_row(space, scored):
    _, snaps = scored
    snaps = list(snaps) + _odd_snapshots()
    X = space.transform(snaps)
    expected = np.zeros((len(snaps), len(space.columns)))
    for r, s in enumerate(snaps):
        space.fill(expected[r], s)
    assert X.tobytes() == expected.tobytes()  # NaN where NaN, every bit the same
    assert np.isnan(X).any() and (X == 1.0).any()
    # a space rebuilt from its dict (as a loaded bundle's) transforms the same
    assert FeatureSpace.from_dict(space.to_dict()).transform(snaps).tobytes() == X.tobytes()
    assert space.transform([]).shape == (0, len(space.columns))


# ----------------------------------------------------------------------------- trees

def _hgb_data(n=3000, seed=0):
    """Missing values that carry signal (the trees send them left in some nodes, right in
    others, and split them from all other values: an infinite threshold)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    X[:, 3] = rng.integers(0, 4, size=n)
    X[rng.random(n) < 0.3, 0] = np.nan
    X[rng.random(n) < 0.2, 1] = np.nan
    X[rng.random(n) < 0.5, 5] = np.nan
    logit = np.nan_to_num(X[:, 0], nan=1.5) - np.nan_to_num(X[:, 1], nan=-1.0) + 0.5 * X[:, 3] + np.isnan(X[:, 5])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _batches(X):
    small, chunk = E.SMALL_BATCH, E.CHUNK_ROWS
    return [X[:1], X[:2], X[:45], X[:small], X[:small + 1], X[: chunk + 7], X]


def test_the_fast_trees_cover_missing_values_both_ways_and_infinite_thresholds():
    X, y = _hgb_data()
    est = HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15, random_state=0).fit(X, y)
    nodes = np.concatenate([p.nodes for it in est._predictors for p in it])
    inner = ~nodes["is_leaf"].astype(bool)
    assert nodes["missing_go_to_left"][inner].any() and not nodes["missing_go_to_left"][inner].all()
    assert np.isinf(nodes["num_threshold"][inner]).any()
    trees = E.trees_of(est)
    assert trees is not None and E.trees_of(est) is trees  # made once per model
    for part in _batches(X):
        assert np.array_equal(trees.raw(part), est._raw_predict(part)[:, 0])
    assert np.array_equal(est.decision_function(X[:50]), trees.raw(X[:50]))


@pytest.mark.parametrize("calibration", ["isotonic", "sigmoid"])
def test_calibrated_conversion_gives_scikit_learns_probabilities(calibration):
    X, y = _hgb_data(seed=1)
    model = ConversionModel(max_iter=80, calibration=calibration, isotonic_min_rows=100, random_state=0).fit(X, y)
    assert model.calibration_method_ == calibration
    assert E.trees_of(model.model_.calibrated_classifiers_[0].estimator) is not None  # the fast path runs
    for part in _batches(X):
        assert np.array_equal(model.predict_proba(part), model.model_.predict_proba(part))
    with pytest.raises(ValueError):  # an infinite value is refused as before
        model.predict_proba(np.where(np.arange(6) == 2, np.inf, X[:3]))


def test_models_without_the_fast_path_predict_as_before():
    X, y = _hgb_data(n=800, seed=2)
    for model in (ConversionModel(max_iter=20, calibration="none", random_state=0).fit(X, y),
                  ConversionModel(max_iter=20, bag=2, isotonic_min_rows=100, random_state=0).fit(X, y)):
        assert np.array_equal(model.predict_proba(X), model.model_.predict_proba(X))


def test_distilled_gain_is_the_regressors_own_prediction():
    X, y = _hgb_data(seed=3)
    t = np.random.default_rng(3).random(len(y)) < 0.4
    u = UpliftModel(max_iter=20, response_max_iter=40, response_bag=2, distill_max_iter=50, random_state=0).fit(X, y, t)
    assert isinstance(u.uplift_, HistGradientBoostingRegressor) and E.trees_of(u.uplift_) is not None
    m = min(u.n_treated_, u.n_control_)
    for part in _batches(X):
        gain = u.uplift_mean_ + u.uplift_scale_ * (u.uplift_.predict(part) - u.uplift_center_)
        expected = np.clip(u.uplift_mean_ + (gain - u.uplift_mean_) * (m / (m + u.shrink_rows)), -1.0, 1.0)
        assert np.array_equal(u.predict_uplift(part), expected)


# ----------------------------------------------------------------------------- the scorer

class ReferenceScorer(Scorer):
    """The straightforward computation: scikit-learn's own predictions, and each question's
    distinct background values found row by row (the scorer's code before issue 14's speed-up)."""

    def predict(self, X, markets):
        b = self.bundle
        use_fb = self._uses_fallback(markets)
        p = np.empty(X.shape[0])
        conv = b.conversion.model_ if isinstance(b.conversion, ConversionModel) else b.conversion
        if (~use_fb).any():
            p[~use_fb] = conv.predict_proba(X[~use_fb])[:, -1]
        if use_fb.any():
            p[use_fb] = _proba(b.fallback, X[use_fb][:, b.robust])
        return p

    def predict_uplift(self, X):
        u = self.bundle.uplift
        gain = u.uplift_mean_ + u.uplift_scale_ * (u.uplift_.predict(X) - u.uplift_center_)
        m = min(u.n_treated_, u.n_control_)
        return np.clip(u.uplift_mean_ + (gain - u.uplift_mean_) * (m / (m + u.shrink_rows)), -1.0, 1.0)

    def _swaps(self, row, base, hidden):
        keys, swaps = [], []
        for k, idx in self.space.groups.items():
            if k in hidden:
                continue
            own, sub = row[idx], base[:, idx]
            other = ~np.all((sub == own) | (np.isnan(sub) & np.isnan(own)), axis=1)
            if not other.any():
                continue
            seen: dict[bytes, list[Any]] = {}
            for vals in sub[other]:
                tag = np.where(np.isnan(vals), -1e300, vals).tobytes()
                if tag in seen:
                    seen[tag][1] += 1
                else:
                    seen[tag] = [vals, 1]
            keys.append(k)
            swaps.append(list(seen.values()))
        return keys, swaps


def _same(a, b):
    assert (a.shop, a.probability, a.uplift) == (b.shop, b.probability, b.uplift)
    assert a.details == b.details


def test_one_score_with_reasons_and_path_is_the_reference_s(scored):
    bundle, snaps = scored
    fast, ref = Scorer(bundle), ReferenceScorer(bundle)
    done = ({"readiness.payments_connected", "readiness.products_added"}, ())
    with_reasons = 0
    for i, s in enumerate(snaps[:300]):
        lang = ("pl", "en", "tr", "hi")[i % 4]
        a = fast.score_one(s, lang=lang, done=done[i % 2])
        _same(a, ref.score_one(s, lang=lang, done=done[i % 2]))
        with_reasons += bool(a.details["reasons"]["up"] or a.details["reasons"]["down"])
    assert with_reasons > 150  # the comparison covers reasons, not only empty lists
    assert all(math.isfinite(fast.score_one(s).uplift) for s in snaps[:5])


def test_many_scores_with_texts_in_every_language_are_the_reference_s(scored):
    bundle, snaps = scored
    fast, ref = Scorer(bundle), ReferenceScorer(bundle)
    X = bundle.space.transform(snaps)
    a = fast.score_many(snaps, lang="pl", reasons=True, languages=["en", "pl", "tr", "hi"])
    b = ref.score_many(snaps, lang="pl", reasons=True, languages=["en", "pl", "tr", "hi"])
    for x, y in zip(a, b, strict=True):
        _same(x, y)
    # without reasons: the probabilities and gains of the whole batch (the chunked walk)
    big = list(snaps) * 6  # 2,400 rows: more than one chunk
    plain = fast.score_many(big)
    assert [r.probability for r in plain] == list(ref.predict(bundle.space.transform(big), [s.market for s in big]))
    assert [r.uplift for r in plain] == list(ref.predict_uplift(bundle.space.transform(big)))
    assert [r.probability for r in plain[:len(snaps)]] == [r.probability for r in a]
    assert X.shape[0] == len(snaps)


def test_a_model_fitted_again_is_walked_anew():
    X, y = _hgb_data(n=1000, seed=4)
    est = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    first = E.trees_of(est)
    est.set_params(max_iter=25).fit(X[::-1], y[::-1])
    again = E.trees_of(est)
    assert again is not first and len(again.predictors) == 25
    assert np.array_equal(again.raw(X[:40]), est._raw_predict(X[:40])[:, 0])
    est.set_params(warm_start=True, max_iter=30).fit(X[::-1], y[::-1])  # trees added to the same list
    assert np.array_equal(E.trees_of(est).raw(X[:40]), est._raw_predict(X[:40])[:, 0])
