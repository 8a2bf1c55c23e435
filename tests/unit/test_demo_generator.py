"""The demo generator: deterministic, native, valid against the schema, with a sane truth."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import phonenumbers
import pytest

from concierge.demo import generator as g
from concierge.demo import truth
from concierge.ingest.events import load_mapping, plan_event
from locales import market_currency
from profile_schema import load_schema

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def pop600():
    return g.generate(600, seed=7, today=TODAY)


@pytest.fixture(scope="module")
def pop5k():
    return g.generate(5000, seed=21, today=TODAY)


def test_same_seed_and_today_give_identical_records():
    a = g.generate(150, seed=3, today=TODAY)
    b = g.generate(150, seed=3, today=TODAY)
    assert [s.record() for s in a.shops] == [s.record() for s in b.shops]
    assert g.population_digest(a) == g.population_digest(b)


def test_another_seed_or_day_gives_another_population():
    base = g.population_digest(g.generate(150, seed=3, today=TODAY))
    assert g.population_digest(g.generate(150, seed=4, today=TODAY)) != base
    assert g.population_digest(g.generate(150, seed=3, today=TODAY + timedelta(days=1))) != base


def test_names_are_native(pop600):
    by_market = defaultdict(str)
    for s in pop600.shops:
        by_market[s.market] += s.owner_name + " " + s.shop_name + " "
    assert re.search("[ąćęłńóśźżŁŚŻŹ]", by_market["PL"])
    for ch in "İıŞşğ":
        assert ch in by_market["TR"], ch
    assert re.search(r"\b(Priya|Arjun|Lakshmi|Ananya|Rahul|Vikram)\b", by_market["IN"])
    assert re.search(r"\b(Sharma|Reddy|Iyer|Patel|Nair)\b", by_market["IN"])
    assert re.search("[\u0900-\u097F]", by_market["IN"]), "a few Indian shop names in Devanagari"
    assert all(s.email.isascii() and "@" in s.email for s in pop600.shops)


def test_every_phone_is_valid_for_its_market(pop600):
    for s in pop600.shops:
        number = phonenumbers.parse(s.phone, None)
        assert phonenumbers.is_valid_number(number), s.phone
        assert phonenumbers.region_code_for_number(number) == s.market, s.phone
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE, s.phone


def test_every_answer_passes_schema_validation(pop600):
    from jsonschema import Draft202012Validator

    schema = load_schema()
    mapping = load_mapping()
    surveys = calls = events = 0
    for s in pop600.shops:
        known = {}
        if s.survey is not None:
            v = schema.validate(s.survey.answers, market=s.market, source="survey", partial=False)
            assert v.errors == [], (s.platform_id, v.errors)
            known = v.values
            surveys += 1
        if s.call is not None:
            v = schema.validate(s.call.answers, market=s.market, source="call", known=known)
            assert v.errors == [], (s.platform_id, v.errors)
            calls += 1
        for e in s.events:
            etype = mapping.types[e.type]
            assert not etype.data_schema or not list(Draft202012Validator(etype.data_schema).iter_errors(e.data))
            answers, _ops = plan_event(etype, e.data, s.market)
            v = schema.validate(answers, market=s.market, source="trial")
            assert v.errors == [], (s.platform_id, e.type, v.errors)
            events += 1
    assert surveys > 300 and calls > 200 and events > 5000


def test_answers_follow_the_persona(pop600):
    for s in pop600.shops:
        a = s.attributes
        if s.persona == "first_steps":
            assert a["hours"] <= 15 and a["tech"] <= 3
        if s.persona == "ecommerce_pro":
            assert a["hours"] >= 40 and a["sold_before"] and a["catalogue"] >= 200
        if s.persona == "offline_to_online":
            assert a["type"] == "offline_store"
        if s.survey is not None:
            ans = s.survey.answers
            assert ("business.marketplaces" in ans) == ans["business.sells_on_marketplace"]
            assert ans["business.expected_monthly_turnover"]["currency"] == market_currency(s.market) \
                if "business.expected_monthly_turnover" in ans else True
    abroad = {m: np.mean([s.attributes["sells_abroad"] for s in pop600.shops if s.market == m]) for m in g.MARKET_SHARES}
    assert abroad["IN"] > 2 * max(abroad["PL"], abroad["TR"])


def test_trial_timeline(pop600):
    today = g._utc(TODAY)
    starts = [s.trial_started_at for s in pop600.shops]
    assert min(starts) >= today - timedelta(days=g.HISTORY_DAYS + 1) and max(starts) <= today
    assert (max(starts) - min(starts)).days > 240, "cohorts spread over ~9 months"
    for s in pop600.shops:
        assert s.trial_ends_at - s.trial_started_at == timedelta(days=14)
        assert all(e.occurred_at <= today for e in s.events)
        assert s.events[0].type == "trial_started"
        assert [e.occurred_at for e in s.events] == sorted(e.occurred_at for e in s.events)
        if s.trial_ends_at > today:
            assert s.outcome is None
        else:
            assert s.outcome in ("converted", "not_converted")
            assert any(e.type == "trial_ended" for e in s.events)
        if s.call is not None:
            assert s.call.at > s.trial_started_at + timedelta(days=pop600.snapshot_day), "calls are the treatment"
            assert s.call.at < s.trial_ends_at


def test_market_timing_of_purchases(pop5k):
    delays = defaultdict(list)
    for s in pop5k.shops:
        if s.outcome == "converted":
            delays[s.market].append((s.outcome_at - s.trial_ends_at).total_seconds() / 86400)
    assert max(delays["TR"]) <= 2.5, "Turkish merchants decide within about two days"
    assert np.mean([d > 14 for d in delays["PL"]]) > 0.15, "Polish merchants deliberate for weeks"
    assert np.median(delays["PL"]) > np.median(delays["TR"]) + 3
    # Indian merchants turn on international payments in the first days
    early = [s for s in pop5k.shops if s.market == "IN" and s.attributes["sells_abroad"]]
    intl_days = [(e.occurred_at - s.trial_started_at).days for s in early for e in s.events
                 if e.type == "payment_connected" and e.data["provider"] == "razorpay_international"]
    assert intl_days and max(intl_days) <= 3


def test_base_rate_holdout_and_oracle(pop5k):
    from sklearn.metrics import roc_auc_score

    summary = pop5k.summary()
    assert 0.14 <= summary["conversion_rate"] <= 0.27, summary
    assert 0.13 <= summary["holdout_share"] <= 0.17, summary
    assert all(not s.called for s in pop5k.shops if s.holdout)
    called = np.mean([s.called for s in pop5k.shops if not s.holdout and s.trial_ends_at <= g._utc(TODAY)])
    assert 0.4 < called < 0.85
    finished = [s for s in pop5k.shops if s.converts is not None]
    y = np.array([s.converts for s in finished])
    p = np.array([s.p_call if s.called else s.p_no_call for s in finished])
    auc = roc_auc_score(y, p)
    assert 0.76 <= auc <= 0.88, "the oracle is good, not perfect"
    assert abs(p.mean() - y.mean()) < 0.02, "the oracle is calibrated"


def test_call_effect_differs_by_persona_as_documented(pop5k):
    gain = defaultdict(list)
    for s in pop5k.shops:
        gain[s.persona].append(s.p_call - s.p_no_call)
    mean = {k: float(np.mean(v)) for k, v in gain.items()}
    assert mean["first_steps"] > 0.08 and mean["offline_to_online"] > 0.08
    assert abs(mean["ecommerce_pro"]) < 0.005
    assert mean["first_steps"] > 2 * mean["marketplace_seller"]
    few = [s.p_call - s.p_no_call for s in pop5k.shops if s.attributes["hours"] < truth.FEW_HOURS]
    assert few and max(few) < 0, "a call costs those with very few hours"


def test_the_calls_realised_effect_follows_the_probabilities(pop5k):
    """call_effect: +1 only where a call came and the shop bought, -1 only where a call can
    cost (delta < 0) and it did not buy; on average what p_call - p_no_call promises."""
    finished = [s for s in pop5k.shops if s.converts is not None]
    assert all(s.call_effect == 0 for s in finished if not s.called)
    assert all(s.converts for s in finished if s.call_effect == 1)
    assert all(not s.converts and s.p_call < s.p_no_call for s in finished if s.call_effect == -1)
    called = [s for s in finished if s.called]
    effect = np.array([s.call_effect for s in called], dtype=float)
    promised = np.array([s.p_call - s.p_no_call for s in called])
    assert (effect == 1).sum() > 50  # (a call costs only shops with under 3 hours a week: rare)
    # the realised mean moves from the promised one by the outcomes' chance only: within 4 SE
    se = np.sqrt(np.sum(np.abs(promised) * (1 - np.abs(promised)))) / len(called)
    assert abs(effect.mean() - promised.mean()) < 4 * se, (effect.mean(), promised.mean(), se)


def test_truth_formula_is_what_the_doc_says():
    x = {"market": np.array(["PL", "PL"]), "hours": np.array([2.0, 20.0]), "sold_before": np.array([True, True]),
         "tech": np.array([4.0, 4.0]), "catalogue": np.array([50.0, 50.0]), "sells_abroad": np.array([False, False]),
         "turnover_band_idx": np.array([1.0, 1.0]), "products": np.array([12.0, 12.0]),
         "payments": np.array([1.0, 1.0]), "shipping": np.array([0.0, 0.0]), "legal": np.array([0.0, 0.0]),
         "domain": np.array([0.0, 0.0]), "test_order": np.array([0.0, 0.0]), "theme": np.array([1.0, 1.0]),
         "active_days": np.array([3.0, 3.0])}
    L, delta, p0, p1 = truth.probabilities(x, np.array(["first_steps", "first_steps"]))
    assert L[1] - L[0] == pytest.approx(1.1), "fewer than 5 hours a week costs 1.1 in log-odds"
    assert delta[0] == truth.FEW_HOURS_EFFECT and delta[1] == truth.CALL_EFFECT["first_steps"]
    assert p1[1] == pytest.approx(p0[1] + delta[1] * (1 - p0[1]))
    # the unseen effect makes the oracle less extreme than sigmoid(L)
    assert p0[1] > truth.sigmoid(L[1]) if L[1] < 0 else p0[1] < truth.sigmoid(L[1])
