"""The next best step reads the shop's market: the providers it suggests are the market's own."""
from __future__ import annotations

from datetime import datetime, timezone

import profile_schema as ps
import pytest

from concierge.operations.pictures import market_integration_gaps, next_best_step

T = datetime(2026, 11, 1, 10, tzinfo=timezone.utc)
SET_UP = {"readiness.store_details": True, "readiness.theme_published": True, "readiness.products_added": True}


def _profile(market, facts, source="trial"):
    obs = [ps.Observation("s1", k, v, source if k.startswith(("readiness", "features")) else "call", "t", T)
           for k, v in facts.items()]
    return ps.fold(obs, market=market)


@pytest.mark.parametrize("market, expected", [
    ("PL", ["BLIK", "Przelewy24"]),
    ("TR", ["iyzico", "PayTR"]),
    ("IN", ["Razorpay", "UPI"]),
])
def test_payments_step_names_the_markets_providers(market, expected):
    step = next_best_step(_profile(market, SET_UP), "en")
    assert step.startswith("To connect: ")
    for name in expected:
        assert name.lower() in step.lower()


def test_indian_shop_selling_abroad_is_offered_international_payments_first():
    facts = {**SET_UP, "readiness.payments_connected": True, "features.payments": ["razorpay"],
             "business.sells_abroad": True}
    assert "Razorpay International" in next_best_step(_profile("IN", facts), "en")
    facts["business.sells_abroad"] = False
    assert "International" not in (next_best_step(_profile("IN", facts), "en") or "")


def test_a_connected_expected_provider_closes_the_gap():
    facts = {**SET_UP, "readiness.payments_connected": True, "features.payments": ["przelewy24"]}
    gaps = market_integration_gaps(_profile("PL", facts))
    assert "payments" not in {g[0].category for g in gaps}
    assert "shipping" in {g[0].category for g in gaps}
    step = next_best_step(_profile("PL", facts), "pl")
    assert step.startswith("Do podłączenia") and "InPost" in step


def test_without_market_the_step_falls_back_to_the_checklist():
    step = next_best_step(_profile(None, SET_UP), "en")
    assert step == "Ask whether this is done: Payments connected"
