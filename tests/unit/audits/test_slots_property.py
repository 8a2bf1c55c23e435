"""Properties of call slots over 2026-2028, all markets, both purposes, any consent and wishes.

Each returned slot is checked against an oracle written here from the law as LOCALES.md
states it (PL consent; TR consent or trader, until opt-out; IN 09:00-21:00), the
market's business hours as ``locales.calendar.business_hours_on`` gives them, and the
zone database itself, not against ``audits.slots``' own helpers.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from audits.slots import Contact, NoSlot, allowed_minutes, is_allowed, next_slot, offer_slots, preferred_hours_for
from locales import get_market
from locales.calendar import business_hours_on
from locales.calling import may_call
from locales.market import TimeWindow

UTC = dt.timezone.utc
ZONES = [UTC, ZoneInfo("Europe/Warsaw"), ZoneInfo("Europe/Istanbul"), ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York")]
CASES = [("PL", None), ("TR", None), ("IN", None), ("IN", "MH")]
CONSENT_BLOCKS = ("opted_out", "consent.missing", "consent.refused")

# Uniform moments rarely hit a holiday eve or a DST night; half of the examples start near one.
SPECIAL_DAYS = sorted(
    {d for c in ("PL", "TR", "IN") for d in holidays.country_holidays(c, years=range(2026, 2029), language="en_US")}
    | set(holidays.country_holidays("TR", years=range(2026, 2029), language="en_US", categories=("half_day",)))
    | {dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2027, 3, 28), dt.date(2027, 10, 31),
       dt.date(2028, 3, 26), dt.date(2028, 10, 29)}
)
NEAR_SPECIAL = st.builds(
    lambda day, shift, time: dt.datetime.combine(day + dt.timedelta(days=shift), time),
    st.sampled_from(SPECIAL_DAYS), st.integers(-2, 1), st.times(),
)
UNIFORM = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 12, 31, 23, 59))
MOMENTS = st.builds(lambda naive, zone: naive.replace(tzinfo=zone), st.one_of(UNIFORM, NEAR_SPECIAL), st.sampled_from(ZONES))


@st.composite
def windows(draw):
    start = draw(st.integers(6 * 4, 21 * 4))  # quarter hours from 06:00
    length = draw(st.integers(1, 8 * 4))
    end = min(start + length, 24 * 4 - 1)
    return TimeWindow(dt.time(start // 4, start % 4 * 15), dt.time(end // 4, end % 4 * 15))


PREFERRED_HOURS = st.one_of(
    st.none(),
    st.sampled_from(["morning", "afternoon", "evening"]).map(preferred_hours_for),
    st.lists(windows(), min_size=1, max_size=2).map(tuple),
)
PREFERRED_DAYS = st.one_of(st.none(), st.sets(st.integers(1, 7), min_size=1, max_size=7).map(lambda s: tuple(sorted(s))))


@st.composite
def contacts(draw):
    code, subdivision = draw(st.sampled_from(CASES))
    return Contact(
        code,
        # weighted towards contacts that may be called, so most examples reach a slot
        consent=draw(st.sampled_from([True, True, None, False])),
        is_trader=draw(st.sampled_from([None, True, False])),
        opted_out=draw(st.sampled_from([False, False, False, True])),
        preferred_days=draw(PREFERRED_DAYS),
        preferred_hours=draw(PREFERRED_HOURS),
        subdivision=subdivision,
    )


def expected_block(c: Contact, purpose: str) -> str | None:
    """The law as LOCALES.md §1 states it, written out independently."""
    if purpose == "service":
        return None
    if c.opted_out:
        return "opted_out"
    if c.market == "PL" and c.consent is not True:
        return "consent.refused" if c.consent is False else "consent.missing"
    if c.market == "TR" and c.consent is not True and c.is_trader is not True:
        return "consent.refused" if c.consent is False else "consent.missing"
    return None


def in_preference(c: Contact, local: dt.datetime) -> bool:
    days_ok = c.preferred_days is None or local.isoweekday() in c.preferred_days
    hours_ok = c.preferred_hours is None or any(w.start <= local.time() < w.end for w in c.preferred_hours)
    return days_ok and hours_ok


def check_slot(c: Contact, purpose: str, at: dt.datetime, earliest: dt.datetime, met: bool) -> None:
    market = get_market(c.market)
    tz = ZoneInfo(market.timezone)
    assert at.tzinfo is not None and at.tzinfo.key == market.timezone, at  # market-local
    # (e) a real wall clock: the zone maps it back and forth to the same instant and face.
    there_and_back = at.astimezone(UTC).astimezone(tz)
    assert there_and_back.replace(tzinfo=None) == at.replace(tzinfo=None), at
    assert dt.datetime.combine(at.date(), at.time(), tz).replace(fold=0) == at, at
    # (a) a working day that is not a closed holiday, (b) inside that day's hours.
    hours = business_hours_on(market, at.date(), c.subdivision)
    assert hours is not None, f"{at} is not a working day in {c.market}"
    assert market.calling.respect_business_hours
    assert hours.start <= at.time() < hours.end, f"{at} outside {hours}"
    # (c) India's promotional window.
    if c.market == "IN" and purpose == "commercial":
        assert dt.time(9) <= at.time() < dt.time(21), at
    # (d) consent the purpose needs.
    assert expected_block(c, purpose) is None
    # (f) never before earliest.
    assert at >= earliest
    # (g) inside the preference when claimed.
    if met:
        assert in_preference(c, at), at
    # And the authority agrees.
    assert is_allowed(c, at, purpose, honour_preferences=met)


@settings(max_examples=300, deadline=None)
@given(c=contacts(), purpose=st.sampled_from(["commercial", "service"]), earliest=MOMENTS)
def test_next_slot_is_allowed_and_minimal(c, purpose, earliest):
    block = expected_block(c, purpose)
    event(f"blocked: {block}" if block else "consent ok")
    if block is not None:
        try:
            next_slot(c, earliest, purpose)
        except NoSlot as exc:
            assert exc.reason_code == block
        else:
            raise AssertionError(f"{c} {purpose}: expected NoSlot({block})")
        return
    slot = next_slot(c, earliest, purpose)
    event("unchanged" if slot.at == earliest else "moved")
    event("no preference" if not c.has_preferences else "preference met" if slot.preference_met else "fell back")
    check_slot(c, purpose, slot.at, earliest, slot.preference_met)
    # Idempotent: asking again from the answer gives the answer.
    assert next_slot(c, slot.at, purpose) == slot
    if not c.has_preferences or not slot.preference_met:
        # The first allowed moment: what locales.calling's own retry logic says, and
        # nothing just before it (allowed time is a union of half-open windows).
        decision = may_call(c.market, purpose=purpose, consent=c.consent, is_trader=c.is_trader,
                            opted_out=c.opted_out, at=earliest.astimezone(UTC), subdivision=c.subdivision)
        assert slot.at == (earliest if decision.allowed else decision.retry_at)
        before = slot.at - dt.timedelta(microseconds=1)
        if before >= earliest:
            assert not is_allowed(c, before, purpose, honour_preferences=False)
    if slot.preference_met and c.has_preferences and slot.at > earliest:
        before = slot.at - dt.timedelta(microseconds=1)
        assert not is_allowed(c, before, purpose)


def ceil_quarter(t: dt.datetime) -> dt.datetime:
    """Round up to a quarter hour (every offset here is a whole number of quarter hours)."""
    us = (t - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)
    quarter = 900_000_000
    return dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=-(-us // quarter) * quarter)


@settings(max_examples=150, deadline=None)
@given(
    c=contacts(), purpose=st.sampled_from(["commercial", "service"]), now=MOMENTS,
    count=st.integers(1, 5), gap_quarters=st.integers(1, 16), horizon=st.integers(0, 14),
)
# the horizon is elapsed time: across New York's spring-forward night, 2 days are 47 wall-clock hours there
@example(c=Contact(market="TR", consent=True), purpose="commercial",
         now=dt.datetime(2028, 3, 11, 1, 0, 0, 1, tzinfo=ZoneInfo("America/New_York")),
         count=1, gap_quarters=1, horizon=2)
def test_offered_slots_are_allowed_distinct_and_on_quarter_hours(c, purpose, now, count, gap_quarters, horizon):
    min_gap = dt.timedelta(minutes=15 * gap_quarters)
    block = expected_block(c, purpose)
    if block is not None:
        try:
            offer_slots(c, now, purpose, count=count, min_gap=min_gap, horizon_days=horizon)
        except NoSlot as exc:
            assert exc.reason_code == block
        else:
            raise AssertionError(f"{c} {purpose}: expected NoSlot({block})")
        return
    slots = offer_slots(c, now, purpose, count=count, min_gap=min_gap, horizon_days=horizon)
    event(f"{len(slots)} of {count} slots" if len(slots) < count else "all slots")
    assert len(slots) <= count
    start = ceil_quarter(now)
    end = now.astimezone(UTC) + dt.timedelta(days=horizon)  # elapsed days (aware + timedelta is wall-clock)
    for s in slots:
        check_slot(c, purpose, s.at, start, s.preference_met)
        assert s.at.minute % 15 == 0 and s.at.second == 0 and s.at.microsecond == 0, s.at
        assert s.at < end
    for a, b in zip(slots, slots[1:]):
        assert b.at.astimezone(UTC) - a.at.astimezone(UTC) >= min_gap
    # The first is next_slot from the rounded-up moment (shipped hours start on quarter hours).
    try:
        first = next_slot(c, start, purpose, latest=end)
    except NoSlot as exc:
        assert exc.reason_code == "no_slot_before_latest" and slots == []
    else:
        assert slots[0] == first


@settings(max_examples=40, deadline=None)
@given(
    case=st.sampled_from(CASES), purpose=st.sampled_from(["commercial", "service"]),
    start=MOMENTS.map(lambda t: t.replace(second=0, microsecond=0)), minutes=st.integers(0, 36 * 60),
)
def test_allowed_minutes_counts_what_may_call_allows_minute_by_minute(case, purpose, start, minutes):
    code, subdivision = case
    c = Contact(code, subdivision=subdivision)
    # Whole minutes of a real instant (UTC): every allowed window starts and ends on a minute.
    start = start.astimezone(UTC)
    end = start + dt.timedelta(minutes=minutes)
    counted = sum(
        may_call(code, purpose=purpose, consent=True, is_trader=None, opted_out=False,
                 at=start + dt.timedelta(minutes=i), subdivision=subdivision).allowed
        for i in range(minutes)
    )
    event("some allowed minutes" if 0 < counted < minutes else "all or none allowed")
    assert allowed_minutes(c, start, end, purpose) == counted
