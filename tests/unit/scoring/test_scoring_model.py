"""Training, skops round-trips, reasons in three languages and the path to subscribe (pure, no database)."""
from __future__ import annotations

import numpy as np
import profile_schema
import pytest

from concierge.operations.scoring import store
from concierge.scoring.estimators import ConversionModel, FallbackModel, UpliftModel
from concierge.scoring.features import FeatureSpace, snapshot_time, take_snapshot
from concierge.scoring.model import Bundle, Scorer
from concierge.scoring.reasons import LANGUAGES, catalogue
from concierge.scoring.synthetic import make_trials
from concierge.scoring.train import TrainingRow, train


def rows_for(trials):
    return [TrainingRow(take_snapshot(t.observations, shop=t.shop, market=t.market,
                                      as_of=snapshot_time(t.started_at)), t.outcome, t.started_at, t.called, t.holdout)
            for t in trials]


@pytest.fixture(scope="module")
def trained():
    space = FeatureSpace.from_schema(profile_schema.load_schema())
    trials = make_trials(1500, seed=3, months=5)
    bundle, card = train(rows_for(trials), space, version="t1", min_rows=400, min_market_rows=100)
    return bundle, card, trials


def test_card_reports_history_split_and_metrics(trained):
    _, card, _ = trained
    assert card["kind"] == "conversion"
    assert card["rows"]["train"] + card["rows"]["test"] == 1500
    assert card["split"]["kind"] == "out_of_time"
    assert card["metrics"]["auc"] > 0.65
    assert card["metrics"]["brier"] < card["metrics"]["brier_base_rate"]
    assert len(card["calibration_chart"]) == 10
    assert set(card["selection"]) == {"boosting", "boosting_shallow", "logistic"}


def test_skops_round_trip_gives_the_same_scores(trained):
    bundle, _, trials = trained
    data = store.dumps(bundle)
    assert not data.startswith(b"\x80")  # not a pickle
    again = store.loads(data)
    snaps = [r.snapshot for r in rows_for(trials[:50])]
    a = Scorer(bundle).score_many(snaps)
    b = Scorer(again).score_many(snaps)
    assert [x.probability for x in a] == [x.probability for x in b]
    assert [x.uplift for x in a] == [x.uplift for x in b]


@pytest.mark.parametrize("est", [ConversionModel(max_iter=20, random_state=0, isotonic_min_rows=100),
                                 ConversionModel(max_iter=20, random_state=0),
                                 ConversionModel(max_iter=20, bag=2, random_state=0, isotonic_min_rows=100),
                                 ConversionModel(max_iter=20, bag=2, random_state=0, calibration="none"),
                                 FallbackModel(), FallbackModel(min_rows=10_000),
                                 UpliftModel(max_iter=20, response_max_iter=20)])
def test_every_estimator_round_trips_with_the_trusted_list(est):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (rng.random(400) < 1 / (1 + np.exp(-np.nan_to_num(X[:, 0])))).astype(int)
    est.fit(X, y)
    b = Bundle(space=FeatureSpace([]), conversion=est, fallback=FallbackModel().fit(X, y), uplift=None,
               reference=np.zeros(5), robust=np.arange(5))
    again = store.loads(store.dumps(b))
    assert np.allclose(again.conversion.predict_proba(X), est.predict_proba(X))


def test_a_bag_stops_each_model_on_its_own_held_out_tenth():
    from concierge.scoring.estimators import BoostedBag

    rng = np.random.default_rng(1)
    X = rng.normal(size=(2500, 4))
    y = (rng.random(2500) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    bag = BoostedBag(bag=3, max_iter=600, random_state=0).fit(X, y)
    iters = [e.n_iter_ for e in bag.estimators_]
    assert len(iters) == 3 and max(iters) < 600  # stopped early, each on its own tenth
    assert len({e.random_state for e in bag.estimators_}) == 3
    small = BoostedBag(bag=2, max_iter=600, random_state=0).fit(X[:500], y[:500])
    assert all(e.n_iter_ <= 150 for e in small.estimators_)  # too few rows to hold a tenth out


def test_the_trusted_concierge_types_live_in_the_pure_core():
    """Stored artifacts name these classes by module path: they stay in concierge.scoring (which the
    architecture test keeps pure), so moving the shell (store, service) never orphans a stored model."""
    import importlib

    ours = [t for t in store.TRUSTED if t.startswith("concierge.")]
    assert ours
    for name in ours:
        module, _, cls = name.rpartition(".")
        assert module.startswith("concierge.scoring."), name
        assert isinstance(getattr(importlib.import_module(module), cls), type), name


def test_an_untrusted_type_is_refused():
    import skops.io as sio
    from fractions import Fraction

    data = sio.dumps({"format": 1, "x": Fraction(1, 3)})
    with pytest.raises(store.UntrustedArtifact, match="fractions.Fraction"):
        store.loads(data)


def test_reasons_file_holds_english_only():
    """One home per word: reasons.yaml has the English, the gettext catalogs the translations."""
    for section, entries in catalogue().items():
        for key, text in entries.items():
            assert isinstance(text, str) or set(text) == {"one", "other"}, f"{section}.{key}: {text!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reasons_file_has_every_language(lang):
    from concierge.scoring.reasons import table

    assert table().missing(lang) == []


@pytest.mark.parametrize("lang,v,expected", [
    ("en", 1, "1 product"), ("en", 12, "12 products"), ("en", 12.5, "12.5 products"),
    ("pl", 1, "1 produkt"), ("pl", 3, "3 produkty"), ("pl", 12, "12 produktów"), ("pl", 22, "22 produkty"),
    ("pl", 12.5, "12,5 produktu"), ("tr", 1, "1 ürün"), ("tr", 12, "12 ürün"),
    ("hi", 0, "0 उत्पाद"), ("hi", 1, "1 उत्पाद"), ("hi", 12, "12 उत्पाद")])
def test_counts_take_the_plural_form_of_their_language(lang, v, expected):
    """Plural pairs come from the catalogs by gettext's rule; a fraction takes its own form (CLDR other)."""
    from concierge.scoring.reasons import with_unit

    assert with_unit(v, "products", lang) == expected


@pytest.mark.parametrize("lang,word,decimal", [("en", "chance", "."), ("pl", "szans", ","), ("tr", "şans", ",")])
def test_reasons_and_path_in_the_ui_language(trained, lang, word, decimal):
    import re

    bundle, _, trials = trained
    snap = take_snapshot(trials[0].observations, shop=trials[0].shop, market=trials[0].market,
                         as_of=snapshot_time(trials[0].started_at))
    r = Scorer(bundle).score_one(snap, lang=lang)
    reasons = r.details["reasons"]["up"] + r.details["reasons"]["down"]
    assert reasons
    assert all(word in x["text"] for x in reasons)
    # the points in the language's own style: "2.1 pp" in English, "2,1" in Polish and Turkish
    assert all(re.search(rf"\d{re.escape(decimal)}\d (pp|puan)", x["text"]) for x in reasons), reasons
    assert all((x["effect"] > 0) == (x in r.details["reasons"]["up"]) for x in reasons)
    for step in r.details["path"]:
        assert step["probability"] > r.probability
        assert step["action"].startswith("readiness.")
    assert len(r.details["path"]) <= 3


def test_path_suggests_only_what_is_not_done_and_raises_the_score(trained):
    bundle, _, _ = trained
    from concierge.scoring.features import TrialSnapshot

    nothing = TrialSnapshot("x", "PL", {}, readiness_percent=0.0)
    r = Scorer(bundle).score_one(nothing)
    assert r.details["path"], "a shop with nothing done has something to do"
    gains = [s["gain"] for s in r.details["path"]]
    assert gains == sorted(gains, reverse=True) and gains[0] > 0
    done = TrialSnapshot("y", "PL", {"readiness.payments_connected": True}, readiness_percent=10.0)
    r2 = Scorer(bundle).score_one(done)
    assert "readiness.payments_connected" not in [s["action"] for s in r2.details["path"]]
    assert not [s for s in r.details["path"] if s["action"] == "readiness.refund_policy_published"]  # IN only


def test_thin_market_is_scored_by_the_fallback_and_says_so():
    space = FeatureSpace.from_schema(profile_schema.load_schema())
    trials = make_trials(900, seed=4, months=4, markets=("PL", "TR")) + make_trials(40, seed=9, months=4, markets=("IN",))
    bundle, card = train(rows_for(trials), space, version="t2", min_rows=400, min_market_rows=100)
    assert "IN" in card["fallback"]["markets"] and "PL" not in card["fallback"]["markets"]
    snap_in = rows_for(trials[-1:])[0].snapshot
    snap_pl = rows_for(trials[:1])[0].snapshot
    r_in, r_pl = Scorer(bundle).score_many([snap_in, snap_pl], lang="en")
    assert r_in.details["fallback"]["market_rows"] < 100
    assert "simpler model" in r_in.details["fallback"]["message"]
    assert r_pl.details["fallback"] is None


def test_uplift_orders_calls_better_than_likelihood(trained):
    bundle, card, _ = trained
    assert card["uplift"]["qini_model"] > card["uplift"]["qini_by_likelihood"]


def test_uplift_from_small_arms_is_shrunk_but_keeps_its_order():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    t = rng.random(300) < 0.5
    y = (rng.random(300) < np.where(t & (X[:, 0] > 0), 0.6, 0.3)).astype(int)
    shrunk = UpliftModel(random_state=0).fit(X, y, t)
    raw = UpliftModel(random_state=0, shrink_rows=0).fit(X, y, t)
    u_s, u_r = shrunk.predict_uplift(X), raw.predict_uplift(X)
    assert np.std(u_s) < 0.5 * np.std(u_r)
    assert np.array_equal(np.argsort(u_s, kind="stable"), np.argsort(u_r, kind="stable"))


def _called_data(n=3000, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    t = rng.random(n) < 0.6
    base = 1 / (1 + np.exp(-(X[:, 0] + 0.5 * X[:, 1] - 1.2)))
    # a call wins over 15 % of the undecided, but only where X[:, 2] > 0
    y = (rng.random(n) < np.where(t, base + 0.15 * (1 - base) * (X[:, 2] > 0), base)).astype(int)
    return X, y, t


def test_response_model_gives_the_probabilities_and_its_distilled_gain_orders_the_queue():
    X, y, t = _called_data()
    model = UpliftModel(random_state=0, response_bag=2, shrink_rows=0).fit(X, y, t)
    assert model.uplift_ is not None and model.control_ is None and model.treated_ is None
    # the probabilities come from the bag that saw every trial, with the call as an input
    p0, p1 = model.predict_arms(X)
    assert np.allclose(model.predict_proba(X)[:, 1], p0)
    assert (p1 - p0).mean() > 0.02  # calls help here, and the response model sees it
    # the queue's order is the bag's own gain, learnt by one regressor
    u = model.predict_uplift(X)
    assert np.corrcoef(u, p1 - p0)[0, 1] > 0.9
    assert 1.0 <= model.uplift_scale_ <= 10.0
    # it finds who gains (a call helps only where X[:, 2] > 0), with sizes near the truth: the
    # S-learner alone drew them in to 0.048 against 0.020 where the truth is 0.108 against 0
    base = 1 / (1 + np.exp(-(X[:, 0] + 0.5 * X[:, 1] - 1.2)))
    true = 0.15 * (1 - base) * (X[:, 2] > 0)
    pos = X[:, 2] > 0
    assert u[pos].mean() > u[~pos].mean() + 0.05
    assert abs(u.mean() - true.mean()) < 0.015
    assert np.corrcoef(u, true)[0, 1] > 0.4


def test_uplift_from_the_arms_is_the_t_learner_and_old_models_keep_scoring():
    X, y, t = _called_data()
    arms = UpliftModel(random_state=0, response_bag=2, uplift_from="arms", shrink_rows=0).fit(X, y, t)
    assert arms.uplift_ is None and arms.control_ is not None and arms.treated_ is not None
    gain = arms.treated_.predict_proba(X)[:, 1] - arms.control_.predict_proba(X)[:, 1]
    assert np.allclose(arms.predict_uplift(X), gain)
    # a model saved before the distilled gain has no `uplift_` attribute: the arms give its gain
    del arms.uplift_
    assert np.allclose(arms.predict_uplift(X), gain)
    with pytest.raises(ValueError, match="uplift_from"):
        UpliftModel(uplift_from="magic").fit(X, y, t)


def test_distilled_gain_round_trips_through_skops():
    X, y, t = _called_data(n=600)
    model = UpliftModel(random_state=0, response_bag=2, max_iter=20, response_max_iter=30).fit(X, y, t)
    assert model.uplift_ is not None
    b = Bundle(space=FeatureSpace([]), conversion=FallbackModel().fit(X, y), fallback=FallbackModel().fit(X, y),
               uplift=model, reference=np.zeros(4), robust=np.arange(4))
    again = store.loads(store.dumps(b))
    assert np.array_equal(again.uplift.predict_uplift(X), model.predict_uplift(X))


def test_response_model_is_a_bag_whose_average_gives_the_probabilities():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2500, 4))
    t = rng.random(2500) < 0.5
    y = (rng.random(2500) < 1 / (1 + np.exp(-(X[:, 0] - 1 + 0.4 * t)))).astype(int)
    bag = UpliftModel(random_state=0, response_bag=3).fit(X, y, t)
    assert len(bag.response_) == 3
    assert len({m.random_state for m in bag.response_}) == 3  # each its own held-out tenth and column samples
    Xc = np.column_stack([X, np.ones(len(X))])
    own = np.mean([m.predict_proba(Xc)[:, 1] for m in bag.response_], axis=0)
    assert np.allclose(bag.predict_arms(X)[1], own)
    # a model saved before bagging holds one estimator: it still scores, with that estimator alone
    single = bag.response_[0]
    bag.response_ = single
    assert np.allclose(bag.predict_arms(X)[1], single.predict_proba(Xc)[:, 1])


def _rows_by_month(counts: dict[str, int], market: str = "PL") -> list[TrainingRow]:
    from datetime import datetime, timezone

    # one trial per row (the split keeps the rows of one shop, its snapshots at several ages, together)
    return [TrainingRow(take_snapshot([], shop=f"{market}-{m}-{i}", market=market,
                                      as_of=datetime(2026, 1, 1, tzinfo=timezone.utc)),
                        i % 2, datetime(int(m[:4]), int(m[5:]), 10, tzinfo=timezone.utc))
            for m, n in counts.items() for i in range(n)]


def test_out_of_time_split_stops_at_the_cohort_closest_to_the_test_share():
    from concierge.scoring.train import out_of_time_split

    # the two newest cohorts hold 19 % of the rows; a third would make it 31 %: stop at 19 %
    rows = _rows_by_month({"2026-02": 2000, "2026-03": 2000, "2026-04": 2000, "2026-05": 2000,
                           "2026-06": 2300, "2026-07": 2300, "2026-08": 2300, "2026-09": 2200, "2026-10": 1400})
    train_idx, test_idx, info = out_of_time_split(rows, test_fraction=0.2)
    assert info["test_cohorts"] == ["2026-09", "2026-10"]
    assert len(test_idx) == 3600 and len(train_idx) == len(rows) - 3600
    # a newest cohort far below the target takes the next one even past the target, when that is closer
    rows = _rows_by_month({"2026-01": 500, "2026-02": 500, "2026-03": 500, "2026-04": 500, "2026-05": 50})
    _, test_idx, info = out_of_time_split(rows, test_fraction=0.2)
    assert info["test_cohorts"] == ["2026-04", "2026-05"]
    assert len(test_idx) == 550


def test_each_market_is_split_on_its_own_newest_months():
    from concierge.scoring.train import out_of_time_split

    # Poland's final outcomes end in July, Turkey's in October (decision windows differ),
    # and India's history is one month only (an import without dates)
    rows = (_rows_by_month({"2026-04": 300, "2026-05": 300, "2026-06": 300, "2026-07": 250}, "PL")
            + _rows_by_month({"2026-07": 300, "2026-08": 300, "2026-09": 300, "2026-10": 250}, "TR")
            + _rows_by_month({"2026-05": 200}, "IN"))
    train_idx, test_idx, info = out_of_time_split(rows, test_fraction=0.2)
    markets = info["markets"]
    assert markets["PL"]["test_cohorts"] == ["2026-07"] and markets["TR"]["test_cohorts"] == ["2026-10"]
    assert markets["IN"]["kind"] in ("latest_by_start_time", "random") and 40 <= markets["IN"]["test_rows"] <= 41
    assert info["kind"] == "mixed"
    assert len(test_idx) == 250 + 250 + markets["IN"]["test_rows"] and len(train_idx) + len(test_idx) == len(rows)


def test_one_score_carries_its_texts_in_every_language_from_the_same_numbers(trained):
    """Reading a score in another language needs no new score: the texts are stored with it."""
    from concierge.scoring.features import TrialSnapshot
    from concierge.scoring.reasons import localized

    bundle, _, trials = trained
    snaps = [take_snapshot(t.observations, shop=t.shop, market=t.market, as_of=snapshot_time(t.started_at))
             for t in trials[:3]] + [TrialSnapshot("x", "PL", {}, readiness_percent=0.0)]
    plain = Scorer(bundle).score_many(snaps, lang="en", reasons=True)
    both = Scorer(bundle).score_many(snaps, lang="en", reasons=True, languages=LANGUAGES)
    for a, b in zip(plain, both):
        assert a.probability == b.probability
        assert {k: v for k, v in b.details.items() if k != "texts"} == a.details  # the top level as before
        assert set(b.details["texts"]) == set(LANGUAGES)
        polish = localized({**b.details, "lang": "en"}, "pl")
        assert polish["lang"] == "pl" and "texts" not in polish
        assert "zakończonych" in polish["history"]
        for d in ("up", "down"):
            assert [r["effect"] for r in polish["reasons"][d]] == [r["effect"] for r in b.details["reasons"][d]]
            assert all("szans" in r["text"] for r in polish["reasons"][d])
        assert [s["action"] for s in polish["path"]] == [s["action"] for s in b.details["path"]]
        assert all("szansa wzrosłaby" in s["text"] for s in polish["path"])
        assert localized({**b.details, "lang": "en"}, "en") == {**a.details, "lang": "en"}
    assert both[-1].details["path"], "the empty shop has a path"


def test_a_score_stored_in_one_language_is_read_as_stored():
    from concierge.scoring.reasons import localized

    old = {"lang": "tr", "history": "9 tamamlanmış denemeden öğrenildi",
           "reasons": {"up": [{"factor": "x", "effect": 0.1, "text": "eski"}], "down": []}, "path": []}
    assert localized(old, "pl") == old and localized(None, "pl") == {}


def test_the_path_leaves_out_what_the_shop_has_done_since_its_snapshot(trained):
    from concierge.scoring.features import TrialSnapshot

    bundle, _, _ = trained
    nothing = TrialSnapshot("x", "PL", {}, readiness_percent=0.0)
    first = Scorer(bundle).score_one(nothing).details["path"]
    assert first
    done = {first[0]["action"]}
    again = Scorer(bundle).score_many([nothing], reasons=True, done=[done])[0]
    actions = [s["action"] for s in again.details["path"]]
    assert first[0]["action"] not in actions and actions, "the next steps move up"
    assert actions[:len(first) - 1] == [s["action"] for s in first[1:]]
