"""Derived facets: experience level, persona, turnover band, readiness, features, the JSON contract."""
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import profile_schema
from profile_schema import PERSONAS, Observation, fold, load_schema
from profile_schema.profile import FEATURE_CATEGORIES

S = load_schema()
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def at(hours):
    return T0 + timedelta(hours=hours)


def profile_of(facts, market="PL", source="call", **kwargs):
    """Fold a {question: value} mapping, one observation each, an hour apart in the given order."""
    history = [Observation("shop-1", k, v, source, "someone", at(i)) for i, (k, v) in enumerate(facts.items())]
    return fold(history, market=market, **kwargs)


# ---------------------------------------------------------------- experience level

EXPERIENCE = [
    # facts, level
    ({}, None),
    ({"owner.hours_per_week": 10}, None),
    ({"experience.sold_online_before": False, "experience.tech_comfort": 1}, "none"),
    ({"experience.sold_online_before": False, "experience.tech_comfort": 2}, "none"),
    ({"experience.sold_online_before": False, "experience.tech_comfort": 3}, "beginner"),
    ({"experience.sold_online_before": False, "experience.tech_comfort": 5}, "beginner"),
    ({"experience.sold_online_before": False}, "none"),
    ({"experience.sold_online_before": True}, "beginner"),
    ({"experience.tech_comfort": 5}, "beginner"),
    ({"experience.sold_online_before": True, "experience.tech_comfort": 3}, "intermediate"),
    ({"experience.sold_online_before": True, "experience.years_selling_online": 1,
      "experience.tech_comfort": 4}, "intermediate"),
    ({"experience.sold_online_before": True, "experience.years_selling_online": 3,
      "experience.tech_comfort": 3}, "expert"),
    ({"experience.sold_online_before": True, "experience.years_selling_online": 0.5,
      "experience.platforms": ["shopify", "etsy"], "experience.tech_comfort": 4}, "intermediate"),
    ({"experience.sold_online_before": True, "experience.years_selling_online": 8,
      "experience.platforms": ["shopify", "marketplace"], "experience.tech_comfort": 5}, "expert"),
    # years and platforms only count for someone who has sold online (stale answers after a correction)
    ({"experience.years_selling_online": 10, "experience.platforms": ["shopify", "etsy"],
      "experience.sold_online_before": False, "experience.tech_comfort": 2}, "none"),
]


@pytest.mark.parametrize("facts,level", EXPERIENCE)
def test_experience_level(facts, level):
    assert profile_of(facts).experience_level == level


# ---------------------------------------------------------------- persona

EXPERT = {"experience.sold_online_before": True, "experience.years_selling_online": 6,
          "experience.platforms": ["shopify", "marketplace"], "experience.tech_comfort": 5}
INTERMEDIATE = {"experience.sold_online_before": True, "experience.tech_comfort": 3}
NOVICE = {"experience.sold_online_before": False, "experience.tech_comfort": 2}

PERSONA_CASES = [
    # facts, persona
    ({}, None),
    ({"owner.name": "Anna"}, None),
    ({**EXPERT, "business.expected_monthly_turnover": {"amount": 5_000_000, "currency": "PLN"}}, "ecommerce_pro"),
    ({**EXPERT, "business.expected_monthly_turnover": {"amount": 500_000, "currency": "PLN"}}, "ecommerce_pro"),
    ({**EXPERT, "owner.hours_per_week": 40}, "ecommerce_pro"),
    ({**EXPERT, "owner.hours_per_week": 30,
      "business.expected_monthly_turnover": {"amount": 50_000, "currency": "PLN"}}, "growing_seller"),
    ({**NOVICE, "business.type": "offline_store", "owner.hours_per_week": 10}, "offline_to_online"),
    ({**INTERMEDIATE, "owner.life_situation": "business_owner"}, "offline_to_online"),
    ({**INTERMEDIATE, "business.sells_on_marketplace": True, "owner.hours_per_week": 30}, "marketplace_seller"),
    ({**NOVICE, "business.sells_on_marketplace": True, "owner.hours_per_week": 10}, "first_steps"),
    ({**INTERMEDIATE, "business.sells_abroad": True, "owner.hours_per_week": 30}, "global_seller"),
    ({**NOVICE, "owner.life_situation": "parental_leave", "owner.hours_per_week": 8}, "first_steps"),
    ({**NOVICE, "owner.hours_per_week": 15}, "first_steps"),
    ({**NOVICE}, "first_steps"),  # a beginner whose hours we do not know yet
    ({**NOVICE, "owner.hours_per_week": 18}, "side_project"),
    ({**INTERMEDIATE, "owner.hours_per_week": 20}, "side_project"),
    ({"owner.hours_per_week": 12}, "side_project"),
    ({**NOVICE, "owner.hours_per_week": 35}, "growing_seller"),
    ({**INTERMEDIATE, "owner.hours_per_week": 30}, "growing_seller"),
    ({"business.type": "new_brand"}, "growing_seller"),
]


@pytest.mark.parametrize("facts,persona", PERSONA_CASES)
def test_persona(facts, persona):
    assert profile_of(facts).persona == persona


def test_every_persona_is_reachable():
    assert {p for _, p in PERSONA_CASES} - {None} == set(PERSONAS)


def test_the_first_time_seller_is_not_the_manager_expecting_millions():
    mother = profile_of({"owner.life_situation": "parental_leave", "owner.hours_per_week": 6,
                         "experience.sold_online_before": False, "experience.tech_comfort": 2,
                         "business.expected_monthly_turnover": {"amount": 2000, "currency": "PLN"}})
    manager = profile_of({"owner.life_situation": "employed_full_time", "owner.hours_per_week": 45,
                          "experience.sold_online_before": True, "experience.years_selling_online": 10,
                          "experience.platforms": ["shopify", "woocommerce"], "experience.tech_comfort": 5,
                          "business.expected_monthly_turnover": {"amount": 3_000_000, "currency": "TRY"}})
    assert (mother.persona, mother.experience_level, mother.business.turnover_band) == ("first_steps", "none", "micro")
    assert (manager.persona, manager.experience_level, manager.business.turnover_band) == (
        "ecommerce_pro", "expert", "large")


# ---------------------------------------------------------------- turnover band, per currency

BANDS = [
    (0, "PLN", "micro"), (3999, "PLN", "micro"), (4000, "PLN", "small"), (39_999.99, "PLN", "small"),
    (40_000, "PLN", "medium"), (400_000, "PLN", "large"), (3_999_999, "PLN", "large"),
    (4_000_000, "PLN", "very_large"), (10**9, "PLN", "very_large"),
    (29_999, "TRY", "micro"), (30_000, "TRY", "small"), (2_999_999, "TRY", "medium"),
    (30_000_000, "TRY", "very_large"),
    (79_999, "INR", "micro"), (80_000, "INR", "small"), (7_999_999, "INR", "medium"),
    (80_000_000, "INR", "very_large"),
    (999, "EUR", "micro"), (1_000_000, "USD", "very_large"),
    (5000, "GBP", None),  # no limits for that currency: no band rather than a wrong one
]


@pytest.mark.parametrize("amount,currency,band", BANDS)
def test_turnover_band_uses_limits_in_the_answers_currency(amount, currency, band):
    money = {"amount": amount, "currency": currency}
    profile = profile_of({"business.expected_monthly_turnover": money})
    assert profile.business.turnover_band == band
    assert profile.business.turnover == money


@pytest.mark.parametrize("bad", [None, "5000 PLN", {"amount": "lots", "currency": "PLN"}, {"currency": "PLN"}])
def test_no_turnover_band_without_a_usable_amount(bad):
    assert profile_of({"business.expected_monthly_turnover": bad}).business.turnover_band is None


def test_business_summary():
    b = profile_of({"business.type": "handmade", "business.category": "crafts", "business.model": "both",
                    "business.catalogue_size": 40, "business.channels": ["own_shop", "social_media"],
                    "business.sells_on_marketplace": True, "business.marketplaces": ["allegro", "etsy"],
                    "business.sells_abroad": False}).business
    assert (b.type, b.category, b.model, b.catalogue_size) == ("handmade", "crafts", "both", 40)
    assert b.channels == ("own_shop", "social_media")
    assert b.marketplaces == ("allegro", "etsy")
    assert b.sells_abroad is False  # known "no", not unknown


def test_language_needs_and_outcome():
    p = profile_of({"owner.language": "tr", "needs.help_with": ["payments", "legal"], "trial.outcome": "converted"},
                   source="import")
    assert (p.language, p.needs, p.outcome) == ("tr", ("payments", "legal"), "converted")


# ---------------------------------------------------------------- readiness

COMMON = ["readiness.store_details", "readiness.theme_published", "readiness.products_added",
          "readiness.payments_connected", "readiness.shipping_connected", "readiness.terms_published",
          "readiness.privacy_policy_published", "readiness.domain_connected", "readiness.test_order_placed"]


def done(*keys, value=True):
    return {k: value for k in keys}


READINESS = [
    # market, facts, percent, stage, first_open
    ("PL", {}, 0, "setting_up", "readiness.store_details"),
    ("PL", done(*COMMON[:2]), 20, "products", "readiness.products_added"),
    ("PL", done(*COMMON[:3]), 30, "payments_shipping", "readiness.payments_connected"),
    ("PL", done(*COMMON[:5]), 50, "legal", "readiness.terms_published"),
    ("PL", done(*COMMON), 90, "legal", "readiness.ksef_ready"),  # Poland: KSeF e-invoicing
    ("PL", done(*COMMON, "readiness.ksef_ready"), 100, "ready", None),
    ("TR", done(*COMMON), 90, "legal", "readiness.etbis_registered"),  # Turkey: ETBİS
    ("TR", done(*COMMON, "readiness.etbis_registered"), 100, "ready", None),
    ("TR", done(*COMMON, "readiness.ksef_ready"), 90, "legal", "readiness.etbis_registered"),  # KSeF is not Turkish
    ("IN", done(*COMMON, "readiness.gst_registered"), 91, "legal", "readiness.refund_policy_published"),
    ("IN", done(*COMMON, "readiness.gst_registered", "readiness.refund_policy_published"), 100, "ready", None),
    (None, done(*COMMON), 100, "ready", None),  # no market: only what every market shares
    ("PL", done(*COMMON[1:], "readiness.ksef_ready"), 90, "setting_up", "readiness.store_details"),
    ("PL", {**done(*COMMON[:2]), "readiness.products_added": False}, 20, "products", "readiness.products_added"),
    ("PL", done(*COMMON[:7], "readiness.ksef_ready", "readiness.domain_connected"), 90, "ready",
     "readiness.test_order_placed"),
    ("PL", done(*COMMON[:3], "readiness.launched"), 30, "launched", "readiness.payments_connected"),
    ("PL", {"readiness.launched": False}, 0, "setting_up", "readiness.store_details"),
]


@pytest.mark.parametrize("market,facts,percent,stage,first_open", READINESS)
def test_readiness_percent_stage_and_first_open_item(market, facts, percent, stage, first_open):
    r = profile_of(facts, market=market, source="trial").readiness
    assert (r.percent, r.stage, r.first_open) == (percent, stage, first_open)


@pytest.mark.parametrize(
    "market,count,legal",
    [("PL", 11, {"readiness.ksef_ready"}),
     ("TR", 11, {"readiness.etbis_registered"}),
     ("IN", 12, {"readiness.gst_registered", "readiness.refund_policy_published"}),
     (None, 10, set())],
)
def test_checklist_items_per_market(market, count, legal):
    items = profile_of({}, market=market).readiness.items
    assert len(items) == count
    assert {i.key for i in items if i.stage == "legal"} == {"readiness.terms_published",
                                                            "readiness.privacy_policy_published"} | legal


def test_checklist_items_tell_done_not_done_and_unknown_apart_with_their_source():
    items = {i.key: i for i in profile_of({"readiness.products_added": True, "readiness.theme_published": False},
                                          source="trial").readiness.items}
    assert (items["readiness.products_added"].done, items["readiness.products_added"].source) == (True, "trial")
    assert items["readiness.theme_published"].done is False
    assert (items["readiness.store_details"].done, items["readiness.store_details"].source) == (None, None)


def test_the_stage_order_is_the_schemas():
    stages = [i.stage for i in profile_of({}, market="IN").readiness.items]
    assert stages == sorted(stages, key=S.stages.index)
    assert list(dict.fromkeys(stages)) == list(S.stages)


# ---------------------------------------------------------------- integrated features


def test_every_category_is_present_and_unknown_when_nothing_is_known():
    features = profile_of({}).features
    assert tuple(features) == FEATURE_CATEGORIES
    assert {"payments", "shipping", "marketplaces", "invoicing", "marketing"} <= set(features)
    assert all(f.connected is None and f.providers == () and f.source is None for f in features.values())


FEATURES = [
    # facts (in time order), category, connected, providers
    ({"features.payments": ["blik", "paypal"]}, "payments", True, ("blik", "paypal")),
    ({"features.payments": []}, "payments", False, ()),  # explicitly none is not unknown
    ({"features.marketing": []}, "marketing", False, ()),
    ({"features.invoicing": ["fakturownia"]}, "invoicing", True, ("fakturownia",)),
    ({"features.marketplaces": ["allegro"]}, "marketplaces", True, ("allegro",)),
    ({"features.shipping": ["inpost"]}, "marketing", None, ()),  # one category says nothing of another
    ({"readiness.payments_connected": True}, "payments", True, ()),
    ({"readiness.shipping_connected": False}, "shipping", False, ()),
    ({"features.payments": [], "readiness.payments_connected": True}, "payments", True, ()),  # newer flag wins
    ({"readiness.payments_connected": True, "features.payments": []}, "payments", False, ()),  # newer list wins
    ({"features.payments": ["paypal"], "readiness.payments_connected": False}, "payments", False, ("paypal",)),
    ({"readiness.payments_connected": False, "features.payments": ["paypal"]}, "payments", True, ("paypal",)),
    ({"features.domain": "sklep-anny.pl"}, "domain", True, ("sklep-anny.pl",)),
    ({"readiness.domain_connected": False}, "domain", False, ()),
    ({"features.domain": ""}, "domain", None, ()),
    ({"features.domain": "", "readiness.domain_connected": True}, "domain", True, ()),
]


@pytest.mark.parametrize("facts,category,connected,providers", FEATURES)
def test_features_by_category(facts, category, connected, providers):
    feature = profile_of(facts, source="trial").features[category]
    assert (feature.category, feature.connected, feature.providers) == (category, connected, providers)
    assert feature.source == (None if connected is None else "trial")


# ---------------------------------------------------------------- the JSON contract


def full_history():
    rows = [
        ("owner.name", "Anna Kowalska", "survey"), ("owner.email", "anna@example.pl", "survey"),
        ("owner.phone", "+48512345678", "survey"), ("owner.tax_id", {"kind": "nip", "number": "8567346215"}, "call"),
        ("owner.language", "pl", "survey"), ("owner.hours_per_week", 10, "survey"),
        ("owner.hours_per_week", 25, "call"), ("owner.life_situation", "parental_leave", "call"),
        ("experience.sold_online_before", False, "survey"), ("experience.tech_comfort", 3, "survey"),
        ("needs.help_with", ["payments", "legal"], "survey"), ("needs.main_goal", "Sprzedawać ceramikę", "call"),
        ("business.type", "handmade", "survey"), ("business.category", "crafts", "survey"),
        ("business.expected_monthly_turnover", {"amount": 8000, "currency": "PLN"}, "call"),
        ("business.planned_launch", "2025-05-01", "call"), ("business.catalogue_size", 30, "trial"),
        ("readiness.products_added", True, "trial"), ("features.payments", ["blik"], "trial"),
        ("trial.product_count", 12, "trial"),
    ]
    return [Observation("shop-42", k, v, src, f"{src}-1", at(i), seq=i) for i, (k, v, src) in enumerate(rows)]


def test_as_dict_is_json_serialisable_and_round_trips():
    profile = fold(full_history(), market="PL", as_of=at(100))
    data = json.loads(json.dumps(profile.as_dict()))
    assert data["shop"] == "shop-42" and data["market"] == "PL" and data["language"] == "pl"
    assert data["as_of"] == at(100).isoformat()
    assert data["observations"] == 20
    assert data["persona"] == profile.persona and data["experience_level"] == "beginner"
    assert data["business"]["turnover"] == {"amount": 8000, "currency": "PLN"}
    assert data["business"]["turnover_band"] == "small"
    assert data["readiness"]["stage"] == "setting_up"
    assert data["features"]["payments"] == {"connected": True, "providers": ["blik"], "source": "trial"}
    assert data["conflicts"] == ["owner.hours_per_week"]
    owner = data["facets"]["owner"]
    assert owner["sources"] == ["call", "survey"]
    hours = owner["facts"]["owner.hours_per_week"]
    assert (hours["value"], hours["source"]) == (25, "call")
    assert hours["conflicts"] == [{"value": 10, "source": "survey", "actor": "survey-1",
                                   "observed_at": at(5).isoformat()}]
    assert set(data["facets"]) >= {"owner", "experience", "needs", "business", "readiness", "features"}


def test_an_empty_profile_is_json_serialisable_too():
    data = json.loads(json.dumps(fold([], shop="s").as_dict()))
    assert data["persona"] is None and data["facets"]["owner"]["updated_at"] is None


def test_the_profile_is_frozen():
    profile = fold(full_history())
    with pytest.raises(AttributeError):
        profile.persona = "someone else"


# ---------------------------------------------------------------- the fold's code and the schema agree


def test_every_question_the_derivations_read_exists_in_the_latest_schema():
    """Derived facets name questions in code: renaming one in a new schema must update the fold."""
    source = (Path(profile_schema.__file__).parent / "fold.py").read_text("utf-8")
    keys = set(re.findall(r'"((?:owner|experience|needs|business|readiness|features|trial)\.[a-z_]+)"', source))
    assert len(keys) > 15
    assert keys - set(S.questions) == set()
    for cat in FEATURE_CATEGORIES:
        assert f"features.{cat}" in S.questions
    assert {"readiness.payments_connected", "readiness.shipping_connected", "readiness.domain_connected"} <= set(S.questions)
