"""picture_input_from_profile: a folded profile in, the picture's view model out."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from renderers import ScoreInfo, build_scene, render
from renderers.checks import layout_problems
from renderers.from_profile import picture_input_from_profile
from renderers.scene import iter_text
from locales import LANGUAGES

ps = pytest.importorskip("profile_schema")

T0 = datetime(2026, 11, 1, 22, 30, tzinfo=timezone.utc)


def obs(question, value, source="call", days=0, op="set"):
    return ps.Observation("PL-1", question, value, source, "consultant-1", T0 + timedelta(days=days), op=op)


OBSERVATIONS = [
    obs("owner.name", "Anna Kowalska"), obs("owner.language", "pl"), obs("owner.hours_per_week", 10),
    obs("experience.sold_online_before", False), obs("experience.tech_comfort", 2),
    obs("experience.known_topics", ["product_photos"]), obs("needs.help_with", ["payments", "legal"]),
    obs("needs.main_goal", "Świece sojowe dla całej Polski"),
    obs("business.type", "handmade"), obs("business.category", "home_garden"), obs("business.model", "b2c"),
    obs("business.expected_monthly_turnover", {"amount": 6000, "currency": "PLN"}),
    obs("readiness.store_details", True, "trial", 1), obs("readiness.products_added", True, "trial", 2),
    obs("features.shipping", ["inpost"], "trial", 5), obs("business.catalogue_size", 25, "trial", 5),
    obs("business.catalogue_size", 30, "trial", 6),
]


def profile(observations=OBSERVATIONS, market="PL"):
    return ps.fold(observations, market=market, as_of=T0 + timedelta(days=10))


def test_profile_becomes_picture_input():
    pic = picture_input_from_profile(profile(), next_step="Connect payments")
    assert pic.shop_id == "PL-1" and pic.owner_name == "Anna Kowalska" and pic.market == "PL"
    assert pic.merchant_language == "pl" and pic.hours_per_week == 10
    assert pic.persona == "first_steps" and pic.experience_level in ("none", "beginner")
    assert pic.known_topics == ("product_photos",) and pic.needs == ("payments", "legal")
    assert pic.business_type == "handmade" and pic.catalogue_size == 30
    assert pic.turnover_band == "small" and pic.turnover_amount == 6000 and pic.turnover_currency == "PLN"
    assert pic.sells_abroad is None  # never answered: unknown, not "no"
    assert pic.stage is not None and pic.percent is not None and pic.first_open
    assert pic.feature("shipping").connected is True and pic.feature("shipping").providers == ("inpost",)
    assert pic.feature("payments").connected is None
    assert pic.as_of.isoformat() == "2026-11-11"  # 10 days after 22:30 UTC = next day in Warsaw
    assert pic.next_step == "Connect payments"


def test_schema_labels_reach_the_picture_in_every_language():
    pic = picture_input_from_profile(profile())
    assert pic.choice_labels["business.type:handmade"]["pl"] == "Rękodzieło"
    assert pic.choice_labels["features.shipping:inpost"]["en"] == "InPost"
    assert f"readiness:{pic.first_open}" in pic.choice_labels
    pl = [r.text for r in iter_text(build_scene(pic, "pl"))]
    assert "Rękodzieło" in pl and "→ Płatności" in pl


def test_nothing_known_stays_unknown():
    pic = picture_input_from_profile(profile([obs("owner.name", "X")]))
    assert pic.stage is None and pic.percent is None and pic.first_open is None
    assert pic.known_topics is None and pic.needs is None and pic.persona is None
    assert pic.business_type is None and pic.turnover_band is None


def test_changes_since_the_last_call_are_new_or_changed():
    changes = ps.changes_since(OBSERVATIONS, since=T0 + timedelta(days=5, hours=12))
    pic = picture_input_from_profile(profile(), changes=changes)
    assert pic.mark("business.catalogue_size") == "changed"
    early = ps.changes_since(OBSERVATIONS, since=T0 + timedelta(days=3))
    pic = picture_input_from_profile(profile(), changes=early)
    assert pic.mark("business.catalogue_size") == "new"
    assert pic.mark("features.shipping") == "new"
    assert pic.mark("owner.name") is None


def test_change_keys_map_to_picture_fields():
    pic = picture_input_from_profile(profile(), changes=["experience.tech_comfort", "readiness.terms_published",
                                                        "readiness.domain_connected", "unknown.key"])
    assert pic.mark("experience.level") == "changed"
    assert pic.mark("readiness.percent") == "changed"
    assert pic.mark("features.domain") == "changed"


@pytest.mark.parametrize("score,expected", [
    (None, None),
    (0.42, ScoreInfo(0.42)),
    ({"probability": 0.7, "reason": "Fast start", "fallback": True}, ScoreInfo(0.7, "Fast start", True)),
    (SimpleNamespace(probability=0.1, reasons=["Few products", "No payments"], fallback=False),
     ScoreInfo(0.1, "Few products", False)),
    (ScoreInfo(0.3, "x"), ScoreInfo(0.3, "x")),
])
def test_scores_in_any_shape(score, expected):
    assert picture_input_from_profile(profile(), score=score).score == expected


def test_adapter_output_renders_cleanly_in_all_languages():
    pic = picture_input_from_profile(profile(), score=0.5, next_step="Krok")
    for lang in LANGUAGES:
        assert layout_problems(build_scene(pic, lang)) == []
        assert render(pic, "svg", lang).startswith(b"<?xml")
