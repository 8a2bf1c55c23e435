"""Decide a shop's follow-up calls: what to plan, what has become moot, when to look again.

``plan(facts, rules, now, open_calls=..., known=...)`` is pure: it reads one shop's
``ShopFacts``, the market's ``RuleSet`` and what the store already holds for the shop,
and returns what to create, what to cancel (with the reason) and when the shop's facts
could next make a rule fire through time alone. The shell stores the result; running it
again on the same input returns nothing to do.

Every firing of a rule is an *occurrence* with a stable key (the follow-up step, the
moment the stall began, the disconnection's time...): an occurrence is planned at most
once, ever, so a call that was made, cancelled or held out is not planned again, and a
new disconnection or a new stall is a new occurrence. On top of that, one open call per
shop, kind and reason: a second firing waits until the first call is closed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable, Mapping

import locales
from locales.calendar import add_business_days

from . import slots
from .agenda import AgendaItem, build_agenda
from .facts import ShopFacts
from .messages import OPEN_STATUSES  # re-exported: its home is messages (cheap to import)
from .rules import Rule, RuleSet, Window

__all__ = ["OPEN_STATUSES", "Firing", "OpenCall", "Plan", "phase", "plan", "contact_for", "due_until",
           "PLAN_AHEAD"]

#: How far ahead a time-based call is planned, so the shop page can show what comes next.
PLAN_AHEAD = timedelta(days=21)
#: Longer than any due window a rule may have (60 business days with holidays).
_LONGEST_WINDOW = timedelta(days=120)
UTC = timezone.utc


@dataclass(frozen=True, kw_only=True)
class Firing:
    """One planned call the store should create."""

    rule: str
    kind: str
    reason: str          # what it is about (dedupe: one open call per shop, kind and reason)
    trigger: str         # the trigger type, for the reason's sentence
    occurrence: str
    purpose: str
    due_from: datetime
    due_until: datetime
    scheduled_at: datetime   # the first allowed moment in the due window (market time)
    preference_met: bool
    params: Mapping[str, Any]
    agenda: tuple[AgendaItem, ...]
    rules_version: int
    gain: float | None   # the model's expected gain from a call (ShopFacts.gain); None: not scored


@dataclass(frozen=True)
class OpenCall:
    """What the store holds for the shop: enough to dedupe and to judge it moot."""

    id: Any
    rule: str
    kind: str
    reason: str
    occurrence: str
    purpose: str
    status: str


@dataclass(frozen=True)
class Plan:
    """The planner's answer for one shop."""

    create: tuple[Firing, ...] = ()
    cancel: tuple[tuple[Any, str], ...] = ()      # (open call id, reason code)
    skipped: tuple[tuple[str, str, str], ...] = ()  # (rule, occurrence, reason code): not planned
    next_check_at: datetime | None = None


@dataclass
class _Candidate:
    rule: Rule
    reason: str
    occurrence: str
    due_from: datetime
    purpose: str
    params: dict[str, Any] = field(default_factory=dict)
    window: Window | None = None
    ongoing: bool = False    # a state that still holds (a stall, a disconnection): due while it lasts


def phase(facts: ShopFacts, now: datetime, market: Any = None) -> str:
    """trial | deciding (trial over, decision window open) | subscribed | left."""
    if facts.outcome == "converted":
        return "subscribed"
    end = facts.trial_ends_at
    if end is None or now <= end:
        return "trial"
    window = locales.get_market(market or facts.market).decision_window_days
    return "deciding" if now <= end + timedelta(days=window) else "left"


def contact_for(facts: ShopFacts) -> slots.Contact:
    """What the law and the merchant's wishes say about phoning this shop."""
    return slots.Contact(
        market=facts.market, consent=facts.consent, is_trader=facts.is_trader, opted_out=facts.opted_out,
        preferred_hours=slots.preferred_hours_for(facts.preferred_call_time),
        preferred_days=facts.preferred_days,
    )


@lru_cache(maxsize=65536)
def _business_days_after(market: str, marker: int, day: Any, n: int) -> Any:
    return add_business_days(market, day, n)


def _local_start(m: Any, day: Any) -> datetime:
    return datetime.combine(day, time(0), tzinfo=m.tz).astimezone(UTC)


def due_until(market: Any, due_from: datetime, window: Window) -> datetime:
    """The end of the due window: N business days (end of that day) or N days after ``due_from``."""
    m = locales.get_market(market)
    if window.business_days:
        local = due_from.astimezone(m.tz).date()
        last = _business_days_after(m.code, id(m), local, window.business_days)
        return _local_start(m, last + timedelta(days=1))
    return due_from + timedelta(days=window.days or 1)


@lru_cache(maxsize=65536)
def _step_moments(market: str, marker: int, start: Any, end: Any) -> tuple[tuple[str, str, datetime], ...]:
    """(step key, anchor, moment) of the market's follow-up steps for these trial dates (cached)."""
    from locales.calendar import follow_up_plan

    anchors = {k: v for k, v in (("trial_start", start), ("trial_end", end)) if v is not None}
    return tuple((p.step.key, p.step.anchor, p.at.astimezone(UTC))
                 for p in follow_up_plan(market, anchors, consent=True))


def _local_date(m: Any, moment: datetime | None) -> Any:
    return None if moment is None else moment.astimezone(m.tz).date()


def _candidates(facts: ShopFacts, rules: RuleSet, now: datetime, stage_phase: str,
                wake: list[datetime], m: Any) -> list[_Candidate]:
    """Every occurrence whose condition holds now (due or coming within PLAN_AHEAD)."""
    out: list[_Candidate] = []
    active = stage_phase in ("trial", "deciding")
    horizon = now + PLAN_AHEAD
    for rule in rules.rules:
        t = rule.trigger
        kind = t.type
        purpose = rule.purpose
        if kind == "market_follow_up":
            start, end = _local_date(m, facts.trial_started_at), _local_date(m, facts.trial_ends_at)
            for key, anchor, moment in _step_moments(m.code, id(m), start, end):
                selling = anchor == "trial_end"
                if selling and stage_phase not in ("trial", "deciding"):
                    continue
                if stage_phase == "left":
                    continue
                if moment > horizon:
                    wake.append(moment - PLAN_AHEAD)
                    continue
                step_purpose = ("commercial" if selling else "service") if purpose == "by_anchor" else purpose
                step = next(s for s in m.follow_up.steps if s.key == key)
                out.append(_Candidate(rule, f"{rule.key}:{step.topic}", key, moment, step_purpose,
                                      {"step": key}))
        elif kind == "launched":
            if facts.launched_at is None or stage_phase == "left":
                continue
            moment = facts.launched_at + timedelta(days=t.get("days"))
            if moment > horizon:
                wake.append(moment - PLAN_AHEAD)
                continue
            out.append(_Candidate(rule, rule.key, f"launched@{facts.launched_at.isoformat()}", moment, purpose,
                                  {"date": facts.launched_at.isoformat()}))
        elif kind == "subscribed":
            if stage_phase != "subscribed" or facts.outcome_at is None:
                continue
            first = facts.outcome_at + timedelta(weeks=t.get("weeks"))
            every = timedelta(weeks=t.get("every_weeks"))
            k = 0 if now + PLAN_AHEAD < first else int((now + PLAN_AHEAD - first) / every)
            moment = first + k * every
            if moment > horizon:
                wake.append(moment - PLAN_AHEAD)
            else:
                out.append(_Candidate(rule, rule.key, f"every#{k}", moment, purpose,
                                      {"weeks": t.get("weeks") + k * t.get("every_weeks")}))
                wake.append(moment + every - PLAN_AHEAD)
        elif kind == "stage_stalled":
            if not active or facts.stage in (None, "launched") or facts.progress_at is None:
                continue
            since = _local_date(m, facts.progress_at)
            day = _business_days_after(m.code, id(m), since, t.get("business_days"))
            moment = _local_start(m, day)
            if moment > now:
                wake.append(moment)
                continue
            out.append(_Candidate(rule, rule.key, f"{facts.stage}@{facts.progress_at.isoformat()}", moment, purpose,
                                  {"stage": facts.stage, "date": facts.progress_at.isoformat()}, ongoing=True))
        elif kind == "disconnected":
            category = t.get("category")
            at = next((at for c, at in facts.disconnected if c == category), None)
            if at is None or stage_phase == "left":
                continue
            out.append(_Candidate(rule, rule.key, f"{category}@{at.isoformat()}", at, purpose,
                                  {"category": category, "date": at.isoformat()}, ongoing=True))
        elif kind == "inactive":
            if not active or facts.last_activity_at is None or facts.stage == "launched":
                continue
            moment = facts.last_activity_at + timedelta(days=t.get("days"))
            if moment > now:
                wake.append(moment)
                continue
            out.append(_Candidate(rule, rule.key, f"quiet@{facts.last_activity_at.isoformat()}", moment, purpose,
                                  {"date": facts.last_activity_at.isoformat()}, ongoing=True))
        elif kind == "score_drop":
            if not active or facts.score is None or facts.score_before is None:
                continue
            drop = round((facts.score_before - facts.score) * 100)
            if drop < t.get("points"):
                continue
            out.append(_Candidate(rule, rule.key, f"{facts.score_before:.4f}>{facts.score:.4f}", now, purpose,
                                  {"points": drop}, ongoing=True))
        elif kind == "survey_help":
            if facts.help_at is None or stage_phase == "left":
                continue
            if facts.last_reached_at is not None and facts.last_reached_at >= facts.help_at:
                continue
            out.append(_Candidate(rule, rule.key, f"asked@{facts.help_at.isoformat()}", facts.help_at, purpose,
                                  {"topics": list(facts.help_topics), "date": facts.help_at.isoformat()}, ongoing=True))
    return out


def _moot_reason(call: OpenCall, facts: ShopFacts, stage_phase: str) -> str:
    """Why an open call's condition no longer holds."""
    if stage_phase == "left":
        return "shop_left"
    if stage_phase == "subscribed" and call.purpose == "commercial":
        return "subscribed"
    return "condition_cleared"


def plan(facts: ShopFacts, rules: RuleSet, now: datetime, *, open_calls: Iterable[OpenCall] = (),
         known: Iterable[tuple[str, str]] = (), holdout: bool = False) -> Plan:
    """What to create and cancel for one shop at ``now`` (aware), and when to look again.

    ``open_calls`` are the shop's calls in an open status (callbacks included: they only
    take part in dedupe); ``known`` holds every (rule, occurrence) ever planned for it.
    A held-out shop still gets its firings (the store records them as held out), so the
    holdout measures exactly what would have been called.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    m = locales.get_market(facts.market)  # once per shop: it is read at every step
    stage_phase = phase(facts, now, m)
    wake: list[datetime] = []
    candidates = _candidates(facts, rules, now, stage_phase, wake, m)
    if facts.trial_ends_at is not None and stage_phase in ("trial", "deciding"):
        end = facts.trial_ends_at
        window = timedelta(days=m.decision_window_days)
        wake.extend(m for m in (end, end + window) if m > now)
    valid = {(c.rule.key, c.occurrence) for c in candidates}
    open_calls = list(open_calls)
    known_set = set(known)
    contact = contact_for(facts)
    cancel: list[tuple[Any, str]] = []
    still_open: set[tuple[str, str]] = set()
    for call in open_calls:
        if call.kind == "callback" or call.status in ("claimed", "held_out"):
            # a consultant may be on the phone: the outcome they record closes it, not the planner;
            # a held-out record only holds its (kind, reason) until its due window ends
            still_open.add((call.kind, call.reason))
            continue
        rule = rules.rule(call.rule)
        if rule is None:
            cancel.append((call.id, "rule_removed"))
            continue
        if (call.rule, call.occurrence) not in valid:
            cancel.append((call.id, _moot_reason(call, facts, stage_phase)))
            continue
        problem = slots.consent_problem(contact, call.purpose)
        if problem is not None:
            cancel.append((call.id, "do_not_call" if problem == "opted_out" else "consent_missing"))
            continue
        if rule.min_gain is not None and facts.gain is not None and facts.gain < rule.min_gain:
            cancel.append((call.id, "low_gain"))
            continue
        still_open.add((call.kind, call.reason))
    create: list[Firing] = []
    skipped: list[tuple[str, str, str]] = []
    for c in sorted(candidates, key=lambda c: c.due_from):
        rule = c.rule
        if (rule.key, c.occurrence) in known_set or (rule.kind, c.reason) in still_open:
            continue
        window = c.window or rule.window
        due_from = max(c.due_from, now) if c.ongoing else c.due_from
        if due_from < now - _LONGEST_WINDOW:
            continue  # long past any due window (at most 60 business days): no calendar needed
        until = due_until(m, due_from, window)
        if until < now:
            continue  # a dated moment that passed unplanned (e.g. a shop first seen late): not a call now
        problem = slots.consent_problem(contact, c.purpose)
        if problem is not None:
            skipped.append((rule.key, c.occurrence, "do_not_call" if problem == "opted_out" else "consent_missing"))
            continue
        if rule.min_gain is not None and facts.gain is not None and facts.gain < rule.min_gain:
            skipped.append((rule.key, c.occurrence, "low_gain"))
            continue
        earliest = max(due_from, now)
        try:
            slot = slots.next_slot(contact, earliest, c.purpose)
        except slots.NoSlot as exc:
            skipped.append((rule.key, c.occurrence, exc.reason_code))
            continue
        trigger = rule.trigger.type
        create.append(Firing(
            rule=rule.key, kind=rule.kind, reason=c.reason, trigger=trigger, occurrence=c.occurrence,
            purpose=c.purpose, due_from=due_from, due_until=max(until, slot.at.astimezone(UTC) + timedelta(hours=1)),
            scheduled_at=slot.at, preference_met=slot.preference_met, params=c.params,
            agenda=build_agenda(facts, trigger, c.params), rules_version=rules.version, gain=facts.gain,
        ))
        still_open.add((rule.kind, c.reason))
    future = [w for w in wake if w > now]
    return Plan(create=tuple(create), cancel=tuple(cancel), skipped=tuple(skipped),
                next_check_at=min(future) if future else None)
