"""When may a consultant phone a merchant?  Allowed call times in the market's own clock.

Pure: market rules in (``locales``), time passed in, nothing reads the clock.  Every moment
this module offers or schedules is

- allowed by the calling law for the call's purpose (consent, trader exemption, opt-out,
  India's 09:00-21:00 promotional window) and by courtesy hours (the market's business
  hours on that date: weekends, holidays, half-days and manager overrides included);
  those rules have one home, ``locales.calling`` (``consent_decision``, ``time_rules_on``,
  ``may_call``), and this module only does the arithmetic on the windows they give;
- expressed in the market's zone, and a wall-clock time that does not exist there (a DST
  gap) is never returned: windows are turned into instants exactly, segment by segment
  of constant UTC offset, so an hour skipped in spring is not allowed and the hour lived
  twice in autumn counts twice;
- inside the merchant's preferred days and hours when that is possible within
  ``PREFERENCE_HORIZON_DAYS`` days, otherwise the first allowed moment, marked
  ``preference_met=False``.

A moment outside the allowed time moves to the NEXT allowed one; never "as soon as
possible" outside the window.

Internally instants are whole microseconds since the Unix epoch (UTC), so comparisons
and sums are exact.  A day's allowed instants are cached on the ``Market`` object (its
``_cache``, as ``locales.calendar`` does for holidays): ``locales.get_market`` returns a
new object when the override file changes, which drops the cache with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

from locales.calling import PURPOSES, consent_decision, may_call, time_rules_on
from locales.market import Market, TimeWindow, get_market

__all__ = [
    "Contact", "Slot", "NoSlot", "PREFERRED_CALL_TIMES", "PREFERENCE_HORIZON_DAYS",
    "consent_problem", "is_allowed", "next_slot", "offer_slots", "allowed_minutes", "preferred_hours_for",
]

#: ``needs.preferred_call_time`` (profile schema v1) -> market-local wall-clock windows.
#: "any" means no preference (None).  Data, not logic: change the hours here.  The windows
#: are wishes; the law and business hours still cut them (an "evening" in Poland, whose
#: business hours end at 17:00, cannot be honoured and falls back).
PREFERRED_CALL_TIMES: Mapping[str, tuple[TimeWindow, ...] | None] = MappingProxyType({
    "morning": (TimeWindow(dt.time(8), dt.time(12)),),
    "afternoon": (TimeWindow(dt.time(12), dt.time(17)),),
    "evening": (TimeWindow(dt.time(17), dt.time(21)),),
    "any": None,
})

#: Preferences are honoured when an allowed preferred moment exists within this many days
#: of the first allowed moment (see ``next_slot``).
PREFERENCE_HORIZON_DAYS = 14
_SEARCH_LIMIT_DAYS = 400  # as locales.calendar: a year of closures means broken data

_US = dt.timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_QUARTER_US = 900_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
_ONE_DAY = dt.timedelta(days=1)

Spans = tuple[tuple[int, int], ...]  # sorted, disjoint [start, end) in epoch microseconds


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class Contact:
    """What the law and the merchant's wishes say about phoning one merchant."""

    market: str                      # "PL" | "TR" | "IN"
    consent: bool | None = None      # owner.marketing_consent
    is_trader: bool | None = None    # owner.is_trader (TR)
    opted_out: bool = False          # merchant said "do not call"
    preferred_days: tuple[int, ...] | None = None      # ISO weekdays 1..7, None = no preference
    preferred_hours: tuple[TimeWindow, ...] | None = None  # local wall-clock windows, None = no preference
    subdivision: str | None = None

    def __post_init__(self) -> None:
        if self.preferred_days is not None:
            days = tuple(self.preferred_days)
            if not days or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 7 for d in days):
                raise ValueError(f"preferred_days must be ISO weekdays 1..7 (None = no preference), got {days!r}")
            object.__setattr__(self, "preferred_days", days)
        if self.preferred_hours is not None:
            hours = tuple(self.preferred_hours)
            if not hours or any(not isinstance(w, TimeWindow) or w.start >= w.end for w in hours):
                raise ValueError(f"preferred_hours must be TimeWindows with start < end (None = no preference), got {hours!r}")
            object.__setattr__(self, "preferred_hours", hours)

    @property
    def has_preferences(self) -> bool:
        """Tell whether the merchant named preferred days or hours."""
        return self.preferred_days is not None or self.preferred_hours is not None

    def prefers(self, local: dt.datetime) -> bool:
        """Tell whether a market-local moment lies inside the preferred days and hours."""
        if self.preferred_days is not None and local.isoweekday() not in self.preferred_days:
            return False
        return self.preferred_hours is None or any(w.contains(local.time()) for w in self.preferred_hours)


@dataclass(frozen=True)
class Slot:
    """An allowed moment to call, aware and in market-local time."""

    at: dt.datetime
    preference_met: bool  # False when the preference could not be honoured


class NoSlot(Exception):
    """No moment can be offered: ``reason_code`` is a ``locales.calling`` consent code
    ("opted_out", "consent.missing", "consent.refused") or "no_slot_before_latest"."""

    def __init__(self, reason_code: str, params: Mapping[str, str] | None = None) -> None:
        self.reason_code = reason_code
        self.params = dict(params or {})
        super().__init__(reason_code if not self.params else f"{reason_code} {self.params}")


def preferred_hours_for(choice: str | None) -> tuple[TimeWindow, ...] | None:
    """Map the profile's ``needs.preferred_call_time`` choice to windows (see ``PREFERRED_CALL_TIMES``)."""
    if choice is None:
        return None
    try:
        return PREFERRED_CALL_TIMES[choice]
    except KeyError:
        raise ValueError(f"unknown preferred call time {choice!r}; expected one of {sorted(PREFERRED_CALL_TIMES)}") from None


# --------------------------------------------------------------------------- consent and checks


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")


def _consent(m: Market, contact: Contact, purpose: str):
    return consent_decision(m, purpose=purpose, consent=contact.consent, is_trader=contact.is_trader, opted_out=contact.opted_out)


def consent_problem(contact: Contact, purpose: str) -> str | None:
    """None when consent and opt-out permit a call of ``purpose``, else the ``locales.calling`` reason code."""
    decision = _consent(get_market(contact.market), contact, purpose)
    return None if decision.allowed else decision.reason_code


def _require_consent(m: Market, contact: Contact, purpose: str) -> None:
    decision = _consent(m, contact, purpose)
    if not decision.allowed:
        raise NoSlot(decision.reason_code, decision.params)


def is_allowed(contact: Contact, at: dt.datetime, purpose: str, *, honour_preferences: bool = True) -> bool:
    """Tell whether a call of ``purpose`` at ``at`` (aware) is allowed, and preferred unless told otherwise."""
    m = get_market(contact.market)
    _us(at, "at")
    # Judge the instant: a non-existent wall clock (02:30 on a spring-forward night) is read
    # as the moment zoneinfo gives it, not as the wall clock it claims.
    instant = at.astimezone(dt.timezone.utc)
    decision = may_call(m, purpose=purpose, consent=contact.consent, is_trader=contact.is_trader,
                        opted_out=contact.opted_out, at=instant, subdivision=contact.subdivision)
    return decision.allowed and (not honour_preferences or contact.prefers(instant.astimezone(m.tz)))


# --------------------------------------------------------------------------- instants


def _us(value: dt.datetime, name: str = "datetime") -> int:
    """Epoch microseconds of an aware datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return (value - _EPOCH) // _US


def _instant(us: int, tz: ZoneInfo) -> dt.datetime:
    return (_EPOCH + dt.timedelta(microseconds=us)).astimezone(tz)


def _offset_us(us: int, tz: ZoneInfo) -> int:
    return _instant(us, tz).utcoffset() // _US


def _wall_us(wall: dt.datetime, tz: ZoneInfo, fold: int) -> int:
    """The instant zoneinfo gives a naive wall-clock time with ``fold`` (either side of a gap)."""
    return (wall.replace(tzinfo=tz, fold=fold) - _EPOCH) // _US


@lru_cache(maxsize=32768)
def _span(zone: str, w0: dt.datetime, w1: dt.datetime) -> Spans:
    """Every instant whose wall clock in ``zone`` lies in ``[w0, w1)`` (naive), as sorted spans.

    Between the earliest reading of ``w0`` and the latest of ``w1`` the offset changes at
    most once (true of every zone: transitions are months apart); on each side of that
    transition the wall clock is instant + offset, so the preimage is one span per side.
    A wall time in a gap has no instant, one in an overlap has two.
    """
    tz = ZoneInfo(zone)
    lo = min(_wall_us(w0, tz, 0), _wall_us(w0, tz, 1))
    hi = max(_wall_us(w1, tz, 0), _wall_us(w1, tz, 1))
    if lo >= hi:
        return ()
    off_lo, off_hi = _offset_us(lo, tz), _offset_us(hi, tz)
    segments = [(lo, hi, off_lo)]
    if off_lo != off_hi:  # find the transition: first instant with the later offset
        a, b = lo, hi
        while b - a > 1:
            mid = (a + b) // 2
            if _offset_us(mid, tz) == off_lo:
                a = mid
            else:
                b = mid
        segments = [(lo, b, off_lo), (b, hi, off_hi)]
    n0, n1 = (w0 - _NAIVE_EPOCH) // _US, (w1 - _NAIVE_EPOCH) // _US
    out: list[tuple[int, int]] = []
    for start, end, off in segments:
        s, e = max(start, n0 - off), min(end, n1 - off)
        if s < e:
            if out and out[-1][1] == s:
                out[-1] = (out[-1][0], e)
            else:
                out.append((s, e))
    return tuple(out)


# --------------------------------------------------------------------------- per-day windows


def _day(m: Market, date: dt.date, purpose: str, subdivision: str | None) -> tuple[tuple[dt.datetime, dt.datetime] | None, Spans]:
    """The allowed wall-clock window of a local date (naive; None when closed) and its instants; cached on ``m``."""
    key = ("audits.slots.day", date, purpose, subdivision)
    cached = m._cache.get(key)
    if cached is not None:
        return cached
    start, end = dt.datetime.combine(date, dt.time()), dt.datetime.combine(date + _ONE_DAY, dt.time())
    wall: tuple[dt.datetime, dt.datetime] | None = (start, end)
    for rule in time_rules_on(m, date, purpose, subdivision):
        if rule.window is None:
            wall = None
            break
        start = max(start, dt.datetime.combine(date, rule.window.start.replace(tzinfo=None)))
        end = min(end, dt.datetime.combine(date, rule.window.end.replace(tzinfo=None)))
        wall = (start, end) if start < end else None
    result = (wall, _span(m.timezone, *wall) if wall else ())
    m._cache[key] = result
    return result


def _preferred(m: Market, contact: Contact, date: dt.date, purpose: str) -> Spans:
    """The allowed instants of a local date that also meet the merchant's preferences."""
    wall, spans = _day(m, date, purpose, contact.subdivision)
    if wall is None or (contact.preferred_days is not None and date.isoweekday() not in contact.preferred_days):
        return ()
    if contact.preferred_hours is None:
        return spans
    found: list[tuple[int, int]] = []
    for window in contact.preferred_hours:
        s = max(wall[0], dt.datetime.combine(date, window.start.replace(tzinfo=None)))
        e = min(wall[1], dt.datetime.combine(date, window.end.replace(tzinfo=None)))
        if s < e:
            found.extend(_span(m.timezone, s, e))
    return tuple(sorted(found)) if len(contact.preferred_hours) > 1 else tuple(found)


DaySpans = Callable[[dt.date], Spans]


def _first(spans_on: DaySpans, t: int, limit: int, tz: ZoneInfo) -> int | None:
    """The first instant >= t and < limit inside the spans of its local date, or None."""
    if t >= limit:
        return None
    date = _instant(t, tz).date() - _ONE_DAY  # a backward jump at midnight can revisit yesterday
    last = date + dt.timedelta(days=(limit - t) // _DAY_US + 3)
    found, stop = None, last
    while date <= stop:
        for s, e in spans_on(date):
            if e > t:
                candidate = max(s, t)
                if candidate < limit and (found is None or candidate < found):
                    found = candidate
                    stop = min(stop, date + _ONE_DAY)  # look one day further, then stop
                break
        date += _ONE_DAY
    return found


def _quarter_ceil(us: int, tz: ZoneInfo) -> int:
    """Round up to the next quarter hour of the local wall clock."""
    off = _offset_us(us, tz)
    return -(-(us + off) // _QUARTER_US) * _QUARTER_US - off


def _first_quarter(spans_on: DaySpans, t: int, limit: int, tz: ZoneInfo) -> int | None:
    """The first quarter-hour instant >= t and < limit inside the spans."""
    while True:
        found = _first(spans_on, t, limit, tz)
        if found is None:
            return None
        aligned = _quarter_ceil(found, tz)
        if aligned == found:
            return found
        t = aligned  # the rest of the span, or the next one


def _allowed_spans(m: Market, contact: Contact, purpose: str) -> DaySpans:
    subdivision = contact.subdivision
    return lambda date: _day(m, date, purpose, subdivision)[1]


def _preferred_spans(m: Market, contact: Contact, purpose: str) -> DaySpans:
    return lambda date: _preferred(m, contact, date, purpose)


# --------------------------------------------------------------------------- public functions


def next_slot(contact: Contact, earliest: dt.datetime, purpose: str, *, latest: dt.datetime | None = None) -> Slot:
    """The first allowed moment at or after ``earliest`` (aware), as a market-local ``Slot``.

    If ``earliest`` itself is allowed (and preferred, or no preference can be met) it is
    returned unchanged, converted to the market's zone.  Preferences are honoured when an
    allowed preferred moment exists within ``PREFERENCE_HORIZON_DAYS`` days of the first
    allowed moment (not of ``earliest``: anchoring there makes ``next_slot`` idempotent,
    ``next_slot(c, s.at).at == s.at``); otherwise the first allowed moment is returned with
    ``preference_met=False``.  ``latest`` is exclusive.

    Raises ``NoSlot`` with the consent reason ("opted_out", "consent.missing",
    "consent.refused") when consent rules out the purpose, and "no_slot_before_latest"
    (params: ``latest``) when nothing is allowed before ``latest`` (or within 400 days).
    """
    m = get_market(contact.market)
    _check_purpose(purpose)
    _require_consent(m, contact, purpose)
    tz = m.tz
    t = _us(earliest, "earliest")
    limit = _us(latest, "latest") if latest is not None else t + _SEARCH_LIMIT_DAYS * _DAY_US
    first = _first(_allowed_spans(m, contact, purpose), t, limit, tz)
    if first is None:
        params = {"latest": _instant(limit, tz).isoformat()}
        if latest is None:
            params["search_limit_days"] = str(_SEARCH_LIMIT_DAYS)
        raise NoSlot("no_slot_before_latest", params)
    met = True
    if contact.has_preferences:
        horizon = min(limit, first + PREFERENCE_HORIZON_DAYS * _DAY_US)
        preferred = _first(_preferred_spans(m, contact, purpose), first, horizon, tz)
        if preferred is None:
            met = False
        else:
            first = preferred
    # Via UTC: astimezone() to the same tzinfo returns a non-existent wall clock unchanged.
    return Slot(earliest.astimezone(dt.timezone.utc).astimezone(tz) if first == t else _instant(first, tz), met)


def _half_day(us: int, tz: ZoneInfo) -> tuple[dt.date, bool]:
    local = _instant(us, tz)
    return local.date(), local.hour >= 12


def _next_half_day(us: int, tz: ZoneInfo) -> int:
    """The first instant of the next local half-day (12:00 today or 00:00 tomorrow)."""
    date, afternoon = _half_day(us, tz)
    wall = dt.datetime.combine(date + _ONE_DAY, dt.time()) if afternoon else dt.datetime.combine(date, dt.time(12))
    spans = _span(tz.key, wall, wall + _ONE_DAY)
    return spans[0][0] if spans else _wall_us(wall, tz, 0)


def _fresh(spans_on: DaySpans, t: int, limit: int, tz: ZoneInfo, used: set[tuple[dt.date, bool]]) -> int | None:
    """The first quarter-hour instant >= t in a half-day not in ``used``."""
    while True:
        found = _first_quarter(spans_on, t, limit, tz)
        if found is None or _half_day(found, tz) not in used:
            return found
        t = _next_half_day(found, tz)


def offer_slots(
    contact: Contact,
    now: dt.datetime,
    purpose: str,
    *,
    count: int = 3,
    min_gap: dt.timedelta = dt.timedelta(hours=2),
    horizon_days: int = 10,
) -> list[Slot]:
    """Up to ``count`` allowed start times for a callback, on quarter hours, before ``now + horizon_days``.

    The first is ``next_slot`` from ``now`` rounded up to the next quarter hour; each next
    one is at least ``min_gap`` after the previous, chosen in this order: preferred and in
    a half-day (local morning / afternoon) not offered yet, preferred, allowed in a new
    half-day, allowed.  Fewer slots (possibly none) come back when the horizon runs out;
    ``NoSlot`` is raised when consent rules out the purpose.
    """
    if count < 0 or horizon_days < 0:
        raise ValueError("count and horizon_days must be >= 0")
    if min_gap <= dt.timedelta(0):
        raise ValueError("min_gap must be positive")
    m = get_market(contact.market)
    _check_purpose(purpose)
    _require_consent(m, contact, purpose)
    tz = m.tz
    t = _us(now, "now")
    limit = t + horizon_days * _DAY_US
    allowed, preferred = _allowed_spans(m, contact, purpose), _preferred_spans(m, contact, purpose)
    start = _quarter_ceil(t, tz)
    slots: list[Slot] = []
    if count == 0:
        return slots
    first = _first_quarter(allowed, start, limit, tz)
    if first is None:
        return slots
    met = True
    if contact.has_preferences:
        horizon = min(limit, first + PREFERENCE_HORIZON_DAYS * _DAY_US)
        liked = _first_quarter(preferred, first, horizon, tz)
        met = liked is not None
        first = liked if liked is not None else first
    slots.append(Slot(_instant(first, tz), met))
    used = {_half_day(first, tz)}
    gap = min_gap // _US
    while len(slots) < count:
        cursor = _quarter_ceil(_us(slots[-1].at) + gap, tz)
        tiers = [(preferred, True, True), (preferred, False, True)] if contact.has_preferences else []
        tiers += [(allowed, True, not contact.has_preferences), (allowed, False, not contact.has_preferences)]
        for spans_on, fresh_only, is_met in tiers:
            if fresh_only:
                found = _fresh(spans_on, cursor, limit, tz, used)
            else:
                found = _first_quarter(spans_on, cursor, limit, tz)
            if found is not None:
                slots.append(Slot(_instant(found, tz), is_met))
                used.add(_half_day(found, tz))
                break
        else:
            break
    return slots


def allowed_minutes(contact: Contact, start: dt.datetime, end: dt.datetime, purpose: str) -> float:
    """Minutes of ``[start, end)`` inside allowed calling time (law and business hours; not
    preferences, not consent), e.g. to measure a callback service level in the market's
    allowed calling minutes.  Exact across DST changes and days."""
    m = get_market(contact.market)
    _check_purpose(purpose)
    a, b = _us(start, "start"), _us(end, "end")
    if b <= a:
        return 0.0
    tz = m.tz
    date, last = start.astimezone(tz).date() - _ONE_DAY, end.astimezone(tz).date() + _ONE_DAY
    total = 0
    while date <= last:
        for s, e in _day(m, date, purpose, contact.subdivision)[1]:
            lo, hi = max(s, a), min(e, b)
            if hi > lo:
                total += hi - lo
        date += _ONE_DAY
    return total / 60_000_000
