"""Business days and hours per market: holidays, half-days, overrides, time zones.

Holidays come from the ``holidays`` package (always called with ``language=`` because
names otherwise follow the process locale) and are corrected by the market's override
list (bridge days, moon-sighting shifts).  All results are aware datetimes in the
market's own zone; callers pass "now" in, nothing here reads the clock.
"""

from __future__ import annotations

import calendar as _stdcal
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping

import holidays as _holidays

from .errors import InvalidValue
from .market import FollowUpStep, Market, TimeWindow, get_market

__all__ = [
    "DayInfo", "PlannedFollowUp", "holidays_for", "holiday_names", "day_info", "business_hours_on",
    "is_business_day", "is_business_moment", "next_business_moment", "add_business_days", "add_months",
    "follow_up_plan", "supported_subdivisions", "holiday_language",
]

_SEARCH_LIMIT_DAYS = 400  # a year of closures means broken data, not a long weekend


@dataclass(frozen=True)
class DayInfo:
    """Why a date is special: ``kind`` is "closed" or "half_day"; ``source`` is library or override."""

    date: dt.date
    kind: str
    name: str
    source: str


def _market(market: Market | str) -> Market:
    return get_market(market)


@lru_cache(maxsize=None)
def _library_facts(country: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Subdivision codes and name languages the library ships for a country (cached: static)."""
    cls = type(_holidays.country_holidays(country, language="en_US"))
    return tuple(cls.subdivisions), tuple(cls.supported_languages)


def supported_subdivisions(market: Market | str) -> tuple[str, ...]:
    """State/voivodeship codes the holidays package knows for this market (IN: 36)."""
    return _library_facts(_market(market).holidays.country)[0]


def _subdivision(m: Market, subdivision: str | None) -> str | None:
    """Resolve the effective subdivision and reject codes the library does not know."""
    subdiv = subdivision if subdivision is not None else m.holidays.subdivision
    if not subdiv:
        return None
    subdiv = subdiv.upper()
    if subdiv not in supported_subdivisions(m):
        raise InvalidValue("calendar.unknown_subdivision", {"subdivision": subdivision, "market": m.code})
    return subdiv


def holiday_language(market: Market | str, lang: str | None) -> str:
    """Pick a ``language=`` the library supports for ``lang`` (en -> en_IN in India, else en_US)."""
    m = _market(market)
    if not lang:
        return m.holidays.names_language
    supported = _library_facts(m.holidays.country)[1]
    lang = lang.replace("-", "_")
    base = lang.split("_")[0]
    for candidate in (lang, m.babel_locale(lang), base, f"{base}_{m.code}", "en_US" if base == "en" else None):
        if candidate in supported:
            return candidate
    return m.holidays.names_language


def holidays_for(
    market: Market | str,
    years: int | Iterable[int],
    *,
    subdivision: str | None = None,
    categories: Iterable[str] | None = None,
    language: str | None = None,
) -> _holidays.HolidayBase:
    """The library's raw holidays (no overrides), always with an explicit ``language``."""
    m = _market(market)
    return _holidays.country_holidays(
        m.holidays.country,
        subdiv=_subdivision(m, subdivision),
        years=years,
        language=holiday_language(m, language),
        categories=tuple(categories or m.holidays.categories),
    )


def _special_days(m: Market, year: int, subdivision: str | None) -> dict[dt.date, DayInfo]:
    """Closed and half days of one year with overrides applied; cached on the market object."""
    key = ("special_days", year, subdivision)
    cached = m._cache.get(key)
    if cached is not None:
        return cached
    days: dict[dt.date, DayInfo] = {}
    if m.half_day_category:
        half = holidays_for(m, year, subdivision=subdivision, categories=(m.half_day_category,))
        for date, name in half.items():
            days[date] = DayInfo(date, "half_day", name, "library")
    for date, name in holidays_for(m, year, subdivision=subdivision).items():
        days[date] = DayInfo(date, "closed", name, "library")
    for override in m.holidays.overrides:
        if override.date.year != year or not override.applies_to(subdivision):
            continue
        if override.action == "remove":
            days.pop(override.date, None)
        else:
            kind = "closed" if override.action == "add" else "half_day"
            days[override.date] = DayInfo(override.date, kind, override.name or override.reason, "override")
    m._cache[key] = days
    return days


def holiday_names(
    market: Market | str, year: int, *, subdivision: str | None = None, lang: str | None = None
) -> list[DayInfo]:
    """A year's closed and half days, sorted, with names in ``lang`` where the library has them."""
    m = _market(market)
    subdiv = _subdivision(m, subdivision)
    days = _special_days(m, year, subdiv)
    if lang:
        names: dict[dt.date, str] = {}
        categories = [*m.holidays.categories, *([m.half_day_category] if m.half_day_category else [])]
        for category in categories:
            names.update(holidays_for(m, year, subdivision=subdiv, categories=(category,), language=lang))
        days = {d: DayInfo(d, i.kind, names.get(d, i.name) if i.source == "library" else i.name, i.source) for d, i in days.items()}
    return [days[d] for d in sorted(days)]


def day_info(market: Market | str, date: dt.date, subdivision: str | None = None) -> DayInfo | None:
    """Tell whether ``date`` is a holiday or half-day in the market (None for ordinary days)."""
    m = _market(market)
    return _special_days(m, date.year, _subdivision(m, subdivision)).get(date)


def business_hours_on(market: Market | str, date: dt.date, subdivision: str | None = None) -> TimeWindow | None:
    """Opening hours on ``date`` in market-local time; None when closed (weekend or holiday)."""
    m = _market(market)
    if date.isoweekday() not in m.working_days:
        return None
    info = day_info(m, date, subdivision)
    if info is None:
        return m.business_hours
    if info.kind == "closed":
        return None
    end = m.half_day_end or m.business_hours.end
    if end <= m.business_hours.start:
        return None
    return TimeWindow(m.business_hours.start, min(end, m.business_hours.end))


def _open_hours(m: Market, date: dt.date, subdivision: str | None, full_day_only: bool) -> TimeWindow | None:
    """Business hours on ``date``, treating half-days as closed when ``full_day_only``."""
    hours = business_hours_on(m, date, subdivision)
    if hours is not None and full_day_only and hours != m.business_hours:
        return None
    return hours


def is_business_day(
    market: Market | str, date: dt.date, subdivision: str | None = None, *, full_day_only: bool = False
) -> bool:
    """Tell whether the market works on ``date`` (optionally excluding half-days)."""
    return _open_hours(_market(market), date, subdivision, full_day_only) is not None


def _require_aware(value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("an aware datetime is required; naive times are ambiguous across markets")


def _local(m: Market, value: dt.datetime) -> dt.datetime:
    """Express an aware instant in the market's zone."""
    _require_aware(value)
    return value.astimezone(m.tz)


def _at(m: Market, date: dt.date, time: dt.time) -> dt.datetime:
    """Wall-clock time in the market zone, normalised so DST gaps yield a real instant."""
    naive = dt.datetime.combine(date, time.replace(tzinfo=None), tzinfo=m.tz)
    return naive.astimezone(dt.timezone.utc).astimezone(m.tz)


def is_business_moment(market: Market | str, when: dt.datetime, subdivision: str | None = None) -> bool:
    """Tell whether ``when`` falls inside the market's business hours in its own zone."""
    m = _market(market)
    local = _local(m, when)
    hours = business_hours_on(m, local.date(), subdivision)
    return hours is not None and hours.contains(local.time())


def next_business_moment(
    market: Market | str, when: dt.datetime, subdivision: str | None = None, *, full_day_only: bool = False
) -> dt.datetime:
    """The first instant at or after ``when`` inside business hours, as an aware market-local datetime."""
    m = _market(market)
    local = _local(m, when)
    date = local.date()
    for _ in range(_SEARCH_LIMIT_DAYS):
        hours = _open_hours(m, date, subdivision, full_day_only)
        if hours is not None:
            start = _at(m, date, hours.start)
            if local < start:
                return start
            if date == local.date() and hours.contains(local.time()):
                return local
        date += dt.timedelta(days=1)
    raise ValueError(f"market {m.code}: no business hours within {_SEARCH_LIMIT_DAYS} days of {when.isoformat()}")


def add_business_days(
    market: Market | str, date: dt.date, days: int, subdivision: str | None = None, *, full_day_only: bool = False
) -> dt.date:
    """The ``days``-th business day after ``date`` (0 returns ``date`` if it is a business day, else the next)."""
    m = _market(market)
    if days < 0:
        raise ValueError("days must be >= 0")
    current = date
    if days == 0:
        while not is_business_day(m, current, subdivision, full_day_only=full_day_only):
            current += dt.timedelta(days=1)
        return current
    for _ in range(_SEARCH_LIMIT_DAYS * max(days, 1)):
        current += dt.timedelta(days=1)
        if is_business_day(m, current, subdivision, full_day_only=full_day_only):
            days -= 1
            if days == 0:
                return current
    raise ValueError(f"market {m.code}: ran out of business days")


def add_months(date: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic clamped to month end (31 Jan + 1 month = 28/29 Feb)."""
    index = date.month - 1 + months
    year, month = date.year + index // 12, index % 12 + 1
    return date.replace(year=year, month=month, day=min(date.day, _stdcal.monthrange(year, month)[1]))


@dataclass(frozen=True)
class PlannedFollowUp:
    """A follow-up step placed on the calendar; ``allowed`` is False when consent is missing."""

    step: FollowUpStep
    at: dt.datetime
    allowed: bool
    reason_code: str


def _anchor_date(m: Market, value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return _local(m, value).date()
    return value


def follow_up_plan(
    market: Market | str,
    anchors: Mapping[str, dt.date | dt.datetime],
    *,
    facts: Mapping[str, Any] | None = None,
    consent: bool | None = None,
    subdivision: str | None = None,
) -> list[PlannedFollowUp]:
    """Place the market's default follow-up steps at the start of their business day.

    ``anchors`` maps anchor names (``trial_start``, ``trial_end``) to dates or aware
    datetimes; steps whose anchor is missing or whose ``when`` is False are left out.
    """
    from .conditions import evaluate

    m = _market(market)
    policy = m.follow_up
    plan = []
    for step in policy.steps:
        if step.anchor not in anchors or evaluate(step.when, facts or {}) is False:
            continue
        date = _anchor_date(m, anchors[step.anchor])
        offset = step.offset
        if "business_days" in offset:
            date = add_business_days(m, date, offset["business_days"], subdivision, full_day_only=policy.skip_half_days)
        date = add_months(date, offset.get("months", 0)) + dt.timedelta(days=offset.get("days", 0), weeks=offset.get("weeks", 0))
        at = next_business_moment(m, _at(m, date, dt.time(0)), subdivision, full_day_only=policy.skip_half_days)
        if policy.consent_required and consent is not True:
            plan.append(PlannedFollowUp(step, at, False, "consent.missing" if consent is None else "consent.refused"))
        else:
            plan.append(PlannedFollowUp(step, at, True, "ok"))
    return sorted(plan, key=lambda p: p.at)
