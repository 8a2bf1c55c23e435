"""May we phone this merchant now?  Telemarketing law per market, plus courtesy hours.

PL: commercial calls need prior consent, B2B included (PKE art. 398).  TR: consent
logged in İYS, but traders (tacir/esnaf) are exempt until they opt out.  IN:
promotional calls only 09:00-21:00 and never to opted-out/DND numbers (TCCCPR).
Service calls (about the merchant's own trial) are not marketing, but an opt-out
still wins for commercial ones everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .calendar import business_hours_on, next_business_moment
from .errors import render_message
from .market import Market, TimeWindow, get_market

__all__ = ["Decision", "TimeRule", "consent_decision", "may_call", "time_rules_on", "call_channels", "PURPOSES",
           "REASON_CODES"]

PURPOSES = ("commercial", "service")
#: Every ``Decision.reason_code``; the UI translates these.
REASON_CODES = (
    "ok",
    "ok.consent",
    "ok.trader_exempt",
    "opted_out",
    "consent.missing",
    "consent.refused",
    "outside_promotional_window",
    "outside_business_hours",
)


@dataclass(frozen=True)
class Decision:
    """Whether a call is allowed, a stable reason code, and when to retry if only the time is wrong."""

    allowed: bool
    reason_code: str
    retry_at: dt.datetime | None = None
    params: dict[str, str] = field(default_factory=dict, compare=False)

    def __bool__(self) -> bool:
        return self.allowed

    def message(self, lang: str | None = "en") -> str:
        """Explain the decision to the consultant in ``lang`` (a language of LANGUAGES)."""
        params = dict(self.params)
        if self.retry_at is not None:
            params.setdefault("retry_at", self.retry_at.strftime("%Y-%m-%d %H:%M %z"))
        return render_message(f"calling.{self.reason_code}", params, lang)


def _consent_decision(market: Market, consent: bool | None, is_trader: bool | None) -> Decision | None:
    """Apply the consent rules; None means consent is not what blocks the call."""
    rules = market.calling
    if not rules.commercial_requires_consent:
        return None
    if consent is True:
        return Decision(True, "ok.consent")
    if rules.trader_exempt_until_opt_out and is_trader is True:
        return Decision(True, "ok.trader_exempt")
    reason = "consent.refused" if consent is False else "consent.missing"
    return Decision(False, reason, params={"law": rules.law})


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")


def consent_decision(
    market: Market | str, *, purpose: str = "commercial", consent: bool | None, is_trader: bool | None, opted_out: bool
) -> Decision:
    """Whether the merchant's consent and opt-out permit a call of ``purpose`` at all, whatever the time.

    The first half of ``may_call``: an allowed Decision ("ok", "ok.consent",
    "ok.trader_exempt") or a refusal ("opted_out", "consent.missing", "consent.refused").
    """
    m = get_market(market)
    _check_purpose(purpose)
    if purpose == "commercial":
        if opted_out:
            return Decision(False, "opted_out")
        decision = _consent_decision(m, consent, is_trader)
        if decision is not None:
            return decision
    return Decision(True, "ok")


@dataclass(frozen=True)
class TimeRule:
    """One time rule a call must meet on a given day: the wall-clock ``window`` it allows
    (None: none that day) and the ``reason_code`` given when a moment falls outside it."""

    reason_code: str
    window: TimeWindow | None


def time_rules_on(
    market: Market | str, date: dt.date, purpose: str = "commercial", subdivision: str | None = None
) -> tuple[TimeRule, ...]:
    """The time rules a call of ``purpose`` must meet on the market-local ``date``, in the order
    ``may_call`` checks them; an empty tuple means no time rule applies that day.

    A moment is allowed by time when its market-local wall clock lies inside every rule's
    window on its own local date.
    """
    m = get_market(market)
    _check_purpose(purpose)
    rules = []
    window = m.calling.promotional_window
    if purpose == "commercial" and window is not None:
        rules.append(TimeRule("outside_promotional_window", window))
    if m.calling.respect_business_hours:
        rules.append(TimeRule("outside_business_hours", business_hours_on(m, date, subdivision)))
    return tuple(rules)


def _next_in_window(market: Market, local: dt.datetime) -> dt.datetime:
    """The next start of the promotional window, in market time."""
    window = market.calling.promotional_window
    day = local.date() if local.time() < window.start else local.date() + dt.timedelta(days=1)
    naive = dt.datetime.combine(day, window.start, tzinfo=market.tz)
    return naive.astimezone(dt.timezone.utc).astimezone(market.tz)


def _time_problem(m: Market, local: dt.datetime, purpose: str, subdivision: str | None) -> str | None:
    """Name the first time rule ``local`` breaks, or None when the time is fine."""
    for rule in time_rules_on(m, local.date(), purpose, subdivision):
        if rule.window is None or not rule.window.contains(local.time()):
            return rule.reason_code
    return None


def _retry_at(m: Market, local: dt.datetime, purpose: str, subdivision: str | None) -> dt.datetime:
    """Earliest later moment that satisfies both the legal window and courtesy hours."""
    candidate = local
    for _ in range(30):  # each rule only moves forward; they agree within a few hops
        problem = _time_problem(m, candidate, purpose, subdivision)
        if problem is None:
            return candidate
        if problem == "outside_promotional_window":
            candidate = _next_in_window(m, candidate)
        else:
            candidate = next_business_moment(m, candidate, subdivision)
    raise ValueError(f"market {m.code}: promotional window and business hours never overlap")


def may_call(
    market: Market | str,
    *,
    purpose: str = "commercial",
    consent: bool | None,
    is_trader: bool | None,
    opted_out: bool,
    at: dt.datetime,
    subdivision: str | None = None,
) -> Decision:
    """Decide whether a call of ``purpose`` to this merchant is allowed at ``at`` (aware)."""
    m = get_market(market)
    _check_purpose(purpose)
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("an aware datetime is required")
    local = at.astimezone(m.tz)
    granted = consent_decision(m, purpose=purpose, consent=consent, is_trader=is_trader, opted_out=opted_out)
    if not granted.allowed:
        return granted
    problem = _time_problem(m, local, purpose, subdivision)
    if problem is not None:
        window = m.calling.promotional_window
        params = {"window": f"{window.start:%H:%M}-{window.end:%H:%M}"} if window else {}
        return Decision(False, problem, _retry_at(m, local, purpose, subdivision), params)
    return granted


def call_channels(market: Market | str) -> tuple[str, ...]:
    """How a consultant may reach a merchant of ``market`` who wants to talk: ("phone",) or
    ("phone", "whatsapp") where merchants commonly use WhatsApp (the market file's ``calling.channels``)."""
    return get_market(market).calling.channels
