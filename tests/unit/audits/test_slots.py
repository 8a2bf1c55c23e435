"""When a consultant may phone: concrete cases from LOCALES.md §1-§3 and §7.

Expected instants are written out in full (with their UTC offset), so a wrong zone, a
DST slip or a missed holiday shows up as a different string.
"""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from audits.slots import (
    PREFERRED_CALL_TIMES,
    Contact,
    NoSlot,
    Slot,
    allowed_minutes,
    consent_problem,
    is_allowed,
    next_slot,
    offer_slots,
    preferred_hours_for,
)
from locales.market import OVERRIDES_ENV, TimeWindow

WAW, IST, KOL, UTC = ZoneInfo("Europe/Warsaw"), ZoneInfo("Europe/Istanbul"), ZoneInfo("Asia/Kolkata"), dt.timezone.utc
PL = Contact("PL", consent=True)
TR = Contact("TR", is_trader=True)  # tacir/esnaf: exempt until they opt out
IN = Contact("IN")


def iso(slot: Slot) -> str:
    return slot.at.isoformat()


@pytest.fixture
def overrides(tmp_path, monkeypatch):
    """Point CONCIERGE_MARKET_OVERRIDES at a file holding ``data`` (as the manager would)."""
    def write(data: dict) -> None:
        path = tmp_path / "overrides.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        monkeypatch.setenv(OVERRIDES_ENV, str(path))
    return write


# ------------------------------------------------------------------ calendar and time zones


def test_an_allowed_moment_is_returned_unchanged_in_market_time():
    at = dt.datetime(2026, 6, 10, 9, 30, 15, 123456, tzinfo=UTC)  # 11:30:15 in Warsaw (CEST)
    slot = next_slot(PL, at, "commercial")
    assert slot == Slot(dt.datetime(2026, 6, 10, 11, 30, 15, 123456, tzinfo=WAW), True)
    assert slot.at.tzinfo is WAW or slot.at.tzinfo.key == "Europe/Warsaw"


def test_pl_closing_time_is_exclusive_and_the_weekend_is_skipped():
    assert iso(next_slot(PL, dt.datetime(2026, 6, 12, 16, 59, tzinfo=WAW), "commercial")) == "2026-06-12T16:59:00+02:00"
    assert iso(next_slot(PL, dt.datetime(2026, 6, 12, 17, 0, tzinfo=WAW), "commercial")) == "2026-06-15T09:00:00+02:00"


def test_pl_spring_forward_weekend_lands_on_summer_time():
    # 2026-03-29 (Sunday) 02:00 CET jumps to 03:00 CEST; Monday opens at 09:00 +02:00.
    slot = next_slot(PL, dt.datetime(2026, 3, 27, 17, 0, tzinfo=WAW), "commercial")
    assert iso(slot) == "2026-03-30T09:00:00+02:00"
    # Elapsed time is an hour shorter than the wall clocks' 2 days 16 hours (Python
    # subtracts wall clocks when both sides share a tzinfo, so compare in UTC).
    elapsed = slot.at.astimezone(UTC) - dt.datetime(2026, 3, 27, 17, 0, tzinfo=WAW).astimezone(UTC)
    assert elapsed == dt.timedelta(days=2, hours=15)


def test_pl_fall_back_weekend_lands_on_winter_time():
    # 2026-10-25 (Sunday) 03:00 CEST falls back to 02:00 CET.
    slot = next_slot(PL, dt.datetime(2026, 10, 23, 17, 30, tzinfo=WAW), "commercial")
    assert iso(slot) == "2026-10-26T09:00:00+01:00"
    assert slot.at.astimezone(UTC).isoformat() == "2026-10-26T08:00:00+00:00"


def test_non_existent_wall_clock_is_never_returned(overrides):
    # Opening at 02:30 on the spring-forward Sunday: 02:30 does not exist; 03:00 CEST is the
    # first real moment at or after it, and 03:00-04:00 is all that day offers.
    overrides({"PL": {"working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                      "business_hours": {"start": "02:30", "end": "04:00"}}})
    slot = next_slot(Contact("PL"), dt.datetime(2026, 3, 29, 0, 0, tzinfo=WAW), "service")
    assert iso(slot) == "2026-03-29T03:00:00+02:00"
    day = (dt.datetime(2026, 3, 29, tzinfo=WAW), dt.datetime(2026, 3, 30, tzinfo=WAW))
    assert allowed_minutes(Contact("PL"), *day, "service") == 60.0
    # A naive 02:40 that zoneinfo reads as 03:40 CEST is allowed and comes back as 03:40.
    imaginary = dt.datetime(2026, 3, 29, 2, 40, tzinfo=WAW)
    assert iso(next_slot(Contact("PL"), imaginary, "service")) == "2026-03-29T03:40:00+02:00"


def test_the_repeated_autumn_hour_is_compared_as_instants(overrides):
    overrides({"PL": {"working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                      "business_hours": {"start": "02:30", "end": "04:00"}}})
    c = Contact("PL")
    assert iso(next_slot(c, dt.datetime(2026, 10, 25, 0, 0, tzinfo=WAW), "service")) == "2026-10-25T02:30:00+02:00"
    # 03:00 CEST is 02:00 CET (second pass of 02:xx): outside 02:30-04:00 until 02:30 CET.
    second_two_oclock = dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    slot = next_slot(c, second_two_oclock, "service")
    assert iso(slot) == "2026-10-25T02:30:00+01:00" and slot.at.fold == 1
    assert slot.at.astimezone(UTC).isoformat() == "2026-10-25T01:30:00+00:00"
    # 02:30-03:00 CEST (30 min) plus 02:30-04:00 CET (90 min).
    day = (dt.datetime(2026, 10, 25, tzinfo=WAW), dt.datetime(2026, 10, 26, tzinfo=WAW))
    assert allowed_minutes(c, *day, "service") == 120.0


def test_pl_christmas_eve_moves_to_the_next_working_day():
    # LOCALES.md §7: 12-24 (new holiday), 12-25, 12-26 (Saturday), Sunday -> Monday 28th.
    for start in (dt.datetime(2026, 12, 24, 10, 0, tzinfo=WAW), dt.datetime(2026, 12, 23, 17, 0, tzinfo=WAW)):
        assert iso(next_slot(PL, start, "commercial")) == "2026-12-28T09:00:00+01:00"
        assert iso(next_slot(PL, start, "service")) == "2026-12-28T09:00:00+01:00"


def test_tr_half_day_ends_at_one_pm():
    # 2026-10-28 is the eve of Republic Day (10-29): open 09:00-13:00 only.
    assert iso(next_slot(TR, dt.datetime(2026, 10, 28, 12, 45, tzinfo=IST), "commercial")) == "2026-10-28T12:45:00+03:00"
    assert iso(next_slot(TR, dt.datetime(2026, 10, 28, 13, 0, tzinfo=IST), "commercial")) == "2026-10-30T09:00:00+03:00"
    assert not is_allowed(TR, dt.datetime(2026, 10, 28, 15, 0, tzinfo=IST), "service")
    day = (dt.datetime(2026, 10, 28, tzinfo=IST), dt.datetime(2026, 10, 29, tzinfo=IST))
    assert allowed_minutes(TR, *day, "service") == 240.0


def test_tr_kurban_bayrami_is_skipped():
    # Half-day 05-26, closed 05-27..30, Sunday 05-31 -> Monday 06-01 (LOCALES.md §7).
    assert iso(next_slot(TR, dt.datetime(2026, 5, 26, 14, 0, tzinfo=IST), "commercial")) == "2026-06-01T09:00:00+03:00"
    assert iso(next_slot(TR, dt.datetime(2026, 5, 27, 9, 0, tzinfo=IST), "service")) == "2026-06-01T09:00:00+03:00"
    week = (dt.datetime(2026, 5, 25, tzinfo=IST), dt.datetime(2026, 6, 1, tzinfo=IST))
    assert allowed_minutes(TR, *week, "commercial") == 9 * 60 + 4 * 60  # Monday + the half-day


def test_in_commercial_window_is_cut_by_business_hours_in_indian_time():
    # 03:00 UTC is 08:30 in Kolkata: before both the 09:00 legal window and 10:00 opening.
    assert iso(next_slot(IN, dt.datetime(2026, 6, 10, 3, 0, tzinfo=UTC), "commercial")) == "2026-06-10T10:00:00+05:30"
    # 13:45 UTC is 19:15 IST: inside the legal window but after closing -> next morning.
    assert iso(next_slot(IN, dt.datetime(2026, 6, 10, 13, 45, tzinfo=UTC), "commercial")) == "2026-06-11T10:00:00+05:30"
    # Saturday is a working day in India; Sunday is not.
    assert iso(next_slot(IN, dt.datetime(2026, 6, 13, 18, 59, tzinfo=KOL), "commercial")) == "2026-06-13T18:59:00+05:30"
    assert iso(next_slot(IN, dt.datetime(2026, 6, 13, 19, 0, tzinfo=KOL), "commercial")) == "2026-06-15T10:00:00+05:30"
    day = (dt.datetime(2026, 6, 10, tzinfo=KOL), dt.datetime(2026, 6, 11, tzinfo=KOL))
    assert allowed_minutes(IN, *day, "commercial") == 9 * 60


def test_in_legal_window_alone_when_courtesy_hours_are_off(overrides):
    overrides({"IN": {"calling": {"respect_business_hours": False}}})
    assert iso(next_slot(IN, dt.datetime(2026, 6, 10, 3, 0, tzinfo=UTC), "commercial")) == "2026-06-10T09:00:00+05:30"
    late = dt.datetime(2026, 6, 10, 15, 30, tzinfo=UTC)  # 21:00 IST: the window is half-open
    assert iso(next_slot(IN, late, "commercial")) == "2026-06-11T09:00:00+05:30"
    assert iso(next_slot(IN, late, "service")) == "2026-06-10T21:00:00+05:30"  # service calls: no window
    day = (dt.datetime(2026, 6, 14, tzinfo=KOL), dt.datetime(2026, 6, 15, tzinfo=KOL))  # a Sunday
    assert allowed_minutes(IN, *day, "commercial") == 12 * 60
    assert allowed_minutes(IN, *day, "service") == 24 * 60


# ------------------------------------------------------------------ consent


@pytest.mark.parametrize(
    "contact,purpose,problem",
    [
        (Contact("PL"), "commercial", "consent.missing"),
        (Contact("PL", consent=False, is_trader=True), "commercial", "consent.refused"),  # B2B needs consent too
        (Contact("PL", consent=True, opted_out=True), "commercial", "opted_out"),
        (Contact("PL", consent=None), "service", None),
        (Contact("TR", is_trader=True), "commercial", None),
        (Contact("TR", is_trader=True, opted_out=True), "commercial", "opted_out"),
        (Contact("TR", is_trader=False), "commercial", "consent.missing"),
        (Contact("TR", consent=True, is_trader=False), "commercial", None),
        (Contact("IN"), "commercial", None),
        (Contact("IN", opted_out=True), "commercial", "opted_out"),  # DND
        (Contact("IN", opted_out=True), "service", None),
    ],
)
def test_consent_decides_before_time(contact, purpose, problem):
    assert consent_problem(contact, purpose) == problem
    at = {"PL": WAW, "TR": IST, "IN": KOL}[contact.market]
    open_moment = dt.datetime(2026, 6, 10, 11, 0, tzinfo=at)
    if problem is None:
        assert next_slot(contact, open_moment, purpose).at == open_moment
        assert is_allowed(contact, open_moment, purpose)
    else:
        with pytest.raises(NoSlot) as caught:
            next_slot(contact, open_moment, purpose)
        assert caught.value.reason_code == problem
        with pytest.raises(NoSlot):
            offer_slots(contact, open_moment, purpose)
        assert not is_allowed(contact, open_moment, purpose)


def test_missing_consent_names_the_law():
    with pytest.raises(NoSlot) as caught:
        next_slot(Contact("PL"), dt.datetime(2026, 6, 10, 11, 0, tzinfo=WAW), "commercial")
    assert "PKE art. 398" in caught.value.params["law"]


def test_allowed_minutes_ignores_consent():
    day = (dt.datetime(2026, 6, 10, tzinfo=WAW), dt.datetime(2026, 6, 11, tzinfo=WAW))
    assert allowed_minutes(Contact("PL", opted_out=True), *day, "commercial") == 480.0


# ------------------------------------------------------------------ preferences and bounds


def test_preferred_call_time_choices_are_data():
    assert preferred_hours_for("morning") == (TimeWindow(dt.time(8), dt.time(12)),)
    assert preferred_hours_for("afternoon") == (TimeWindow(dt.time(12), dt.time(17)),)
    assert preferred_hours_for("evening") == (TimeWindow(dt.time(17), dt.time(21)),)
    assert preferred_hours_for("any") is None and preferred_hours_for(None) is None
    assert set(PREFERRED_CALL_TIMES) == {"morning", "afternoon", "evening", "any"}
    with pytest.raises(ValueError, match="night"):
        preferred_hours_for("night")


def test_evening_in_poland_cannot_be_honoured_and_falls_back():
    evening = Contact("PL", consent=True, preferred_hours=preferred_hours_for("evening"))
    slot = next_slot(evening, dt.datetime(2026, 6, 10, 10, 0, tzinfo=WAW), "commercial")
    assert slot == Slot(dt.datetime(2026, 6, 10, 10, 0, tzinfo=WAW), False)
    assert iso(next_slot(evening, dt.datetime(2026, 6, 10, 18, 0, tzinfo=WAW), "commercial")) == "2026-06-11T09:00:00+02:00"
    assert not is_allowed(evening, slot.at, "commercial")
    assert is_allowed(evening, slot.at, "commercial", honour_preferences=False)


def test_evening_in_india_is_honoured_until_closing():
    evening = Contact("IN", preferred_hours=preferred_hours_for("evening"))
    slot = next_slot(evening, dt.datetime(2026, 6, 10, 10, 0, tzinfo=KOL), "commercial")
    assert slot == Slot(dt.datetime(2026, 6, 10, 17, 0, tzinfo=KOL), True)
    assert iso(next_slot(evening, dt.datetime(2026, 6, 10, 19, 0, tzinfo=KOL), "commercial")) == "2026-06-11T17:00:00+05:30"


def test_preferred_days_and_hours_together():
    # Tuesdays and Thursdays, afternoons; from Wednesday morning -> Thursday 12:00.
    c = Contact("PL", consent=True, preferred_days=(2, 4), preferred_hours=preferred_hours_for("afternoon"))
    assert next_slot(c, dt.datetime(2026, 6, 10, 9, 0, tzinfo=WAW), "commercial") == \
        Slot(dt.datetime(2026, 6, 11, 12, 0, tzinfo=WAW), True)
    # Saturdays only: never a working day in Poland -> first allowed moment, not honoured.
    weekend = Contact("PL", consent=True, preferred_days=(6,))
    assert next_slot(weekend, dt.datetime(2026, 6, 10, 9, 0, tzinfo=WAW), "commercial") == \
        Slot(dt.datetime(2026, 6, 10, 9, 0, tzinfo=WAW), False)


def test_preferences_are_honoured_within_fourteen_days_of_the_first_allowed_moment(overrides):
    # Wednesday 09:00-09:15 only; two Wednesdays made holidays, so after 06-10 the next
    # preferred moment is 07-01 09:00.
    overrides({"PL": {"holidays": {"overrides": [
        {"date": "2026-06-17", "action": "add", "name": "Closed"},
        {"date": "2026-06-24", "action": "add", "name": "Closed"}]}}})
    c = Contact("PL", consent=True, preferred_days=(3,), preferred_hours=(TimeWindow(dt.time(9), dt.time(9, 15)),))
    wednesday = dt.datetime(2026, 6, 10, 9, 5, tzinfo=WAW)
    assert next_slot(c, wednesday, "commercial") == Slot(wednesday, True)
    # From 09:15 the next preferred moment is 21 days away: not waited for.
    after = dt.datetime(2026, 6, 10, 9, 15, tzinfo=WAW)
    assert next_slot(c, after, "commercial") == Slot(after, False)
    # From Tuesday evening the first allowed moment is Thursday 06-18 09:00 (06-17 is
    # closed); 07-01 09:00 is 13 days after that, so it is honoured.
    assert next_slot(c, dt.datetime(2026, 6, 16, 17, 0, tzinfo=WAW), "commercial") == \
        Slot(dt.datetime(2026, 7, 1, 9, 0, tzinfo=WAW), True)
    # latest is exclusive and also bounds the preference.
    assert next_slot(c, after, "commercial", latest=dt.datetime(2026, 6, 10, 9, 30, tzinfo=WAW)) == Slot(after, False)


def test_latest_bound_raises_no_slot():
    friday_evening = dt.datetime(2026, 12, 23, 17, 0, tzinfo=WAW)
    with pytest.raises(NoSlot) as caught:
        next_slot(PL, friday_evening, "commercial", latest=dt.datetime(2026, 12, 28, 9, 0, tzinfo=WAW))
    assert caught.value.reason_code == "no_slot_before_latest"
    assert caught.value.params["latest"] == "2026-12-28T09:00:00+01:00"
    ok = next_slot(PL, friday_evening, "commercial", latest=dt.datetime(2026, 12, 28, 9, 1, tzinfo=WAW))
    assert iso(ok) == "2026-12-28T09:00:00+01:00"


def test_an_override_holiday_moves_the_slot(overrides, monkeypatch):
    wednesday = dt.datetime(2026, 6, 10, 8, 0, tzinfo=WAW)
    assert iso(next_slot(PL, wednesday, "commercial")) == "2026-06-10T09:00:00+02:00"  # cached for this market
    overrides({"PL": {"holidays": {"overrides": [{"date": "2026-06-10", "action": "add", "name": "Bridge day"}]}}})
    assert iso(next_slot(PL, wednesday, "commercial")) == "2026-06-11T09:00:00+02:00"
    day = (dt.datetime(2026, 6, 10, tzinfo=WAW), dt.datetime(2026, 6, 11, tzinfo=WAW))
    assert allowed_minutes(PL, *day, "commercial") == 0.0
    monkeypatch.delenv(OVERRIDES_ENV)
    assert iso(next_slot(PL, wednesday, "commercial")) == "2026-06-10T09:00:00+02:00"
    assert allowed_minutes(PL, *day, "commercial") == 480.0


def test_an_override_half_day_shortens_the_day(overrides):
    overrides({"TR": {"holidays": {"overrides": [{"date": "2026-06-10", "action": "half_day"}]}}})
    assert iso(next_slot(TR, dt.datetime(2026, 6, 10, 13, 0, tzinfo=IST), "commercial")) == "2026-06-11T09:00:00+03:00"


# ------------------------------------------------------------------ allowed minutes


def test_allowed_minutes_over_a_weekend_is_the_business_minutes():
    # Friday 12:00 -> Monday 12:00: Friday 12-17 (300) + Monday 09-12 (180).
    span = (dt.datetime(2026, 6, 12, 12, 0, tzinfo=WAW), dt.datetime(2026, 6, 15, 12, 0, tzinfo=WAW))
    assert allowed_minutes(PL, *span, "commercial") == 480.0
    # The same instants seen from UTC give the same answer.
    assert allowed_minutes(PL, *(t.astimezone(UTC) for t in span), "commercial") == 480.0
    # India works Saturdays: Fri 12-19 (420) + Sat 10-19 (540) + Mon 10-12 (120).
    span_in = (dt.datetime(2026, 6, 12, 12, 0, tzinfo=KOL), dt.datetime(2026, 6, 15, 12, 0, tzinfo=KOL))
    assert allowed_minutes(IN, *span_in, "commercial") == 1080.0


def test_allowed_minutes_across_dst_counts_real_minutes(overrides):
    # Default hours: DST weekends change nothing in the counted business minutes.
    spring = (dt.datetime(2026, 3, 27, 16, 0, tzinfo=WAW), dt.datetime(2026, 3, 30, 10, 0, tzinfo=WAW))
    assert allowed_minutes(PL, *spring, "commercial") == 120.0
    # With courtesy hours off, service calls are allowed all day: 23 h and 25 h days.
    overrides({"PL": {"calling": {"respect_business_hours": False}}})
    c = Contact("PL")
    assert allowed_minutes(c, dt.datetime(2026, 3, 29, tzinfo=WAW), dt.datetime(2026, 3, 30, tzinfo=WAW), "service") == 23 * 60
    assert allowed_minutes(c, dt.datetime(2026, 10, 25, tzinfo=WAW), dt.datetime(2026, 10, 26, tzinfo=WAW), "service") == 25 * 60
    # ...still 8 business hours a day for commercial calls? No: courtesy is off and PL has no
    # legal window, so commercial calls are limited by consent only.
    assert allowed_minutes(c, dt.datetime(2026, 3, 28, 12, tzinfo=WAW), dt.datetime(2026, 3, 29, 12, tzinfo=WAW), "commercial") == 23 * 60


def test_allowed_minutes_of_an_empty_or_reversed_span_is_zero():
    t = dt.datetime(2026, 6, 10, 10, 0, tzinfo=WAW)
    assert allowed_minutes(PL, t, t, "service") == 0.0
    assert allowed_minutes(PL, t, t - dt.timedelta(hours=1), "service") == 0.0
    assert allowed_minutes(PL, t, t + dt.timedelta(seconds=90), "service") == 1.5


# ------------------------------------------------------------------ offered slots


def test_offered_slots_spread_over_half_days():
    slots = offer_slots(PL, dt.datetime(2026, 6, 10, 8, 7, tzinfo=WAW), "commercial")
    assert [iso(s) for s in slots] == ["2026-06-10T09:00:00+02:00", "2026-06-10T12:00:00+02:00", "2026-06-11T09:00:00+02:00"]
    assert all(s.preference_met for s in slots)


def test_offered_slots_start_at_the_next_quarter_hour():
    slots = offer_slots(IN, dt.datetime(2026, 6, 10, 10, 1, 30, tzinfo=KOL), "commercial", count=4, min_gap=dt.timedelta(hours=3))
    assert [iso(s) for s in slots] == [
        "2026-06-10T10:15:00+05:30",  # rounded up, never earlier than now
        "2026-06-10T13:15:00+05:30",  # afternoon: a new half-day, 3 h later
        "2026-06-11T10:00:00+05:30",  # next morning
        "2026-06-11T13:00:00+05:30",
    ]


def test_offered_slots_stop_at_the_horizon():
    # 16:50 rounds to 17:00 (closed); the next opening (12-28) is past a 2-day horizon.
    assert offer_slots(PL, dt.datetime(2026, 12, 23, 16, 50, tzinfo=WAW), "commercial", horizon_days=2) == []
    # Two of three fit before the horizon: Wednesday afternoon gives 09:00 and 12:00 only.
    now = dt.datetime(2026, 6, 10, 8, 0, tzinfo=WAW)
    assert len(offer_slots(PL, now, "commercial", horizon_days=0)) == 0
    short = offer_slots(PL, now, "commercial", min_gap=dt.timedelta(hours=4), horizon_days=1)
    assert [iso(s) for s in short] == ["2026-06-10T09:00:00+02:00", "2026-06-10T13:00:00+02:00"]


def test_offered_slots_follow_preferences_when_they_can():
    mornings = Contact("TR", is_trader=True, preferred_hours=preferred_hours_for("morning"))
    slots = offer_slots(mornings, dt.datetime(2026, 6, 10, 14, 0, tzinfo=IST), "commercial")
    assert [iso(s) for s in slots] == ["2026-06-11T09:00:00+03:00", "2026-06-12T09:00:00+03:00", "2026-06-15T09:00:00+03:00"]
    assert all(s.preference_met for s in slots)
    evening = Contact("PL", consent=True, preferred_hours=preferred_hours_for("evening"))
    fallback = offer_slots(evening, dt.datetime(2026, 6, 10, 14, 0, tzinfo=WAW), "commercial")
    assert [iso(s) for s in fallback] == ["2026-06-10T14:00:00+02:00", "2026-06-11T09:00:00+02:00", "2026-06-11T12:00:00+02:00"]
    assert not any(s.preference_met for s in fallback)


# ------------------------------------------------------------------ arguments


def test_bad_arguments_are_refused():
    naive = dt.datetime(2026, 6, 10, 10, 0)
    with pytest.raises(ValueError):
        next_slot(PL, naive, "commercial")
    with pytest.raises(ValueError):
        allowed_minutes(PL, naive, naive, "commercial")
    with pytest.raises(ValueError, match="purpose"):
        next_slot(PL, naive.replace(tzinfo=WAW), "cold")
    with pytest.raises(ValueError, match="min_gap"):
        offer_slots(PL, naive.replace(tzinfo=WAW), "commercial", min_gap=dt.timedelta(0))
    with pytest.raises(ValueError, match="preferred_days"):
        Contact("PL", preferred_days=(0, 8))
    with pytest.raises(ValueError, match="preferred_hours"):
        Contact("PL", preferred_hours=(TimeWindow(dt.time(17), dt.time(9)),))
    assert Contact("PL", preferred_days=[1, 2]).preferred_days == (1, 2)  # lists become tuples (hashable)
