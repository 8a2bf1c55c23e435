"""Calling rules (LOCALES.md §1): consent in PL and TR, trader exemption in TR, IN window."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from locales import load_markets
from locales.calling import REASON_CODES, may_call

WAW, IST, KOL = ZoneInfo("Europe/Warsaw"), ZoneInfo("Europe/Istanbul"), ZoneInfo("Asia/Kolkata")
# A plain Wednesday inside every market's business hours.
PL_OPEN = dt.datetime(2026, 6, 10, 11, 0, tzinfo=WAW)
TR_OPEN = dt.datetime(2026, 6, 10, 11, 0, tzinfo=IST)
IN_OPEN = dt.datetime(2026, 6, 10, 11, 0, tzinfo=KOL)


@pytest.mark.parametrize(
    "code,at,consent,is_trader,opted_out,allowed,reason",
    [
        ("PL", PL_OPEN, True, None, False, True, "ok.consent"),
        ("PL", PL_OPEN, None, True, False, False, "consent.missing"),   # B2B needs consent too
        ("PL", PL_OPEN, False, True, False, False, "consent.refused"),
        ("PL", PL_OPEN, True, None, True, False, "opted_out"),
        ("TR", TR_OPEN, None, True, False, True, "ok.trader_exempt"),  # tacir/esnaf
        ("TR", TR_OPEN, False, True, False, True, "ok.trader_exempt"),
        ("TR", TR_OPEN, None, True, True, False, "opted_out"),         # ...until they opt out
        ("TR", TR_OPEN, None, False, False, False, "consent.missing"),
        ("TR", TR_OPEN, None, None, False, False, "consent.missing"),
        ("TR", TR_OPEN, True, False, False, True, "ok.consent"),
        ("IN", IN_OPEN, None, None, False, True, "ok"),
        ("IN", IN_OPEN, None, None, True, False, "opted_out"),          # DND / opt-out
    ],
)
def test_commercial_calls(code, at, consent, is_trader, opted_out, allowed, reason):
    decision = may_call(code, purpose="commercial", consent=consent, is_trader=is_trader, opted_out=opted_out, at=at)
    assert (decision.allowed, decision.reason_code) == (allowed, reason)
    assert bool(decision) is allowed
    assert decision.reason_code in REASON_CODES


def test_service_calls_need_no_marketing_consent():
    decision = may_call("PL", purpose="service", consent=None, is_trader=None, opted_out=True, at=PL_OPEN)
    assert decision.allowed and decision.reason_code == "ok"


def test_outside_business_hours_gives_a_retry_time():
    friday_evening = dt.datetime(2026, 6, 12, 18, 30, tzinfo=WAW)
    decision = may_call("PL", purpose="service", consent=None, is_trader=None, opted_out=False, at=friday_evening)
    assert decision.reason_code == "outside_business_hours"
    assert decision.retry_at.isoformat() == "2026-06-15T09:00:00+02:00"


def test_turkish_half_day_afternoon_is_outside_hours():
    eve = dt.datetime(2026, 5, 26, 14, 0, tzinfo=IST)
    decision = may_call("TR", consent=True, is_trader=None, opted_out=False, at=eve)
    assert decision.reason_code == "outside_business_hours"
    assert decision.retry_at.isoformat() == "2026-06-01T09:00:00+03:00"


def test_indian_promotional_window_in_indian_time(tmp_path):
    # Switch courtesy hours off so the statutory 09:00-21:00 window is what decides.
    path = tmp_path / "o.yaml"
    path.write_text("IN: {calling: {respect_business_hours: false}}", encoding="utf-8")
    india = load_markets(path)["IN"]
    # 15:45 UTC is 21:15 in Kolkata: past the window, although it is only 17:45 in Warsaw.
    late = dt.datetime(2026, 6, 10, 15, 45, tzinfo=dt.timezone.utc)
    decision = may_call(india, consent=True, is_trader=None, opted_out=False, at=late)
    assert decision.reason_code == "outside_promotional_window"
    assert decision.retry_at.isoformat() == "2026-06-11T09:00:00+05:30"
    early = dt.datetime(2026, 6, 10, 8, 59, tzinfo=KOL)
    assert may_call(india, consent=None, is_trader=None, opted_out=False, at=early).reason_code == "outside_promotional_window"
    assert may_call(india, consent=None, is_trader=None, opted_out=False, at=early.replace(minute=0, hour=9)).allowed
    # The window limits promotional calls only; a service call at 21:15 is fine (courtesy off).
    assert may_call(india, purpose="service", consent=None, is_trader=None, opted_out=False, at=late).allowed


def test_retry_satisfies_both_window_and_business_hours():
    # Default IN: 10:00-19:00 business hours inside the 09:00-21:00 window; 08:00 Saturday.
    decision = may_call("IN", consent=None, is_trader=None, opted_out=False, at=dt.datetime(2026, 6, 13, 8, 0, tzinfo=KOL))
    assert decision.reason_code == "outside_promotional_window"
    assert decision.retry_at.isoformat() == "2026-06-13T10:00:00+05:30"
    again = may_call("IN", consent=None, is_trader=None, opted_out=False, at=decision.retry_at)
    assert again.allowed


def test_bad_arguments():
    with pytest.raises(ValueError):
        may_call("PL", purpose="cold", consent=True, is_trader=None, opted_out=False, at=PL_OPEN)
    with pytest.raises(ValueError):
        may_call("PL", consent=True, is_trader=None, opted_out=False, at=PL_OPEN.replace(tzinfo=None))


def test_decisions_explain_themselves_in_the_consultants_language():
    missing = may_call("PL", consent=None, is_trader=True, opted_out=False, at=PL_OPEN)
    assert "PKE art. 398" in missing.message("en")
    assert "zgody" in missing.message("pl")
    late = may_call("PL", purpose="service", consent=None, is_trader=None, opted_out=False,
                    at=dt.datetime(2026, 6, 12, 18, 30, tzinfo=WAW))
    assert "2026-06-15 09:00 +0200" in late.message("tr")
    assert "{" not in may_call("TR", consent=None, is_trader=True, opted_out=False, at=TR_OPEN).message("tr")
