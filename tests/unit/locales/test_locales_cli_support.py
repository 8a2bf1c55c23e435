"""describe_market: a JSON-serialisable card for `concierge locales show`."""

import json

import pytest

from locales.cli_support import describe_market


@pytest.mark.parametrize("code", ["PL", "tr", "In"])
def test_card_is_json_serialisable_and_complete(code):
    card = describe_market(code, 2026)
    json.dumps(card)
    assert card["code"] == code.upper()
    for key in ("languages", "currency", "timezone", "working_days", "business_hours", "calling", "integrations",
                "expected_integrations", "legal_checklist", "follow_up", "holidays", "tax_id_kinds", "phone_region"):
        assert card[key] not in (None, "", [], {}), key
    assert set(card["holidays"]["years"]) == {"2026", "2027"}


def test_card_holidays_and_language():
    card = describe_market("TR", 2026, lang="tr")
    days = {d["date"]: d for d in card["holidays"]["years"]["2026"]}
    assert days["2026-10-28"]["kind"] == "half_day"
    assert days["2026-10-29"]["name"] == "Cumhuriyet Bayramı"
    assert card["name"] == "Türkiye"
    assert card["half_days"] == {"category": "half_day", "end": "13:00"}


def test_card_for_an_indian_state():
    card = describe_market("IN", 2026, subdivision="MH")
    dates = {d["date"] for d in card["holidays"]["years"]["2026"]}
    assert "2026-03-19" in dates  # Gudi Padwa
    assert "MH" in card["holidays"]["subdivisions"]
    assert card["working_days"] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert card["calling"]["promotional_window"] == {"start": "09:00", "end": "21:00"}


def test_default_year_is_this_year():
    import datetime as dt

    assert str(dt.date.today().year) in describe_market("PL")["holidays"]["years"]
