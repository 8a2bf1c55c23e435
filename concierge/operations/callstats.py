"""Contact-centre figures per consultant and for the team, from the call log.

- calls handled: attempts logged in the period;
- reach rate: attempts where the consultant spoke to the merchant / attempts;
- average handling time: claim to outcome, in minutes (attempts that went through a claim);
- callback service level: callbacks asked for in the period, the wait from the request to the
  first attempt counted in the market's allowed calling minutes, and the share answered within
  the market's target (the rules' `callbacks.service_level`; a callback not yet attempted counts
  as late once its wait passes the target);
- tNPS: merchants' ratings of reached calls in the period: % promoters (9-10) minus % detractors (0-6);
- first-contact resolution, judged from shop data: a reached call whose gap closed within
  `FCR_DAYS` (the checklist moved, the trial shop was active again, payments or shipping were
  reconnected, as the call was about) and that no call for the same reason followed within
  those days; calls younger than that are not judged yet.

Reads only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audits import slots
from audits.rules import load_rules

from ..db import utcnow
from ..models import Call, CallRating, Observation, PlannedCall, Shop

FCR_DAYS = 7
UTC = timezone.utc


@dataclass
class _Tally:
    handled: int = 0
    reached: int = 0
    handling: list[int] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    callbacks: int = 0
    callbacks_in_target: int = 0
    waits: list[float] = field(default_factory=list)
    judged: int = 0
    resolved: int = 0

    def as_dict(self) -> dict[str, Any]:
        n = len(self.ratings)
        promoters = sum(1 for r in self.ratings if r >= 9)
        detractors = sum(1 for r in self.ratings if r <= 6)
        return {
            "calls_handled": self.handled,
            "reached": self.reached,
            "reach_rate": round(self.reached / self.handled, 4) if self.handled else None,
            "average_handling_minutes": round(sum(self.handling) / len(self.handling) / 60, 1) if self.handling else None,
            "callbacks": self.callbacks,
            "callback_service_level": round(self.callbacks_in_target / self.callbacks, 4) if self.callbacks else None,
            "callback_median_wait_minutes": round(sorted(self.waits)[len(self.waits) // 2], 1) if self.waits else None,
            "tnps": round(100 * (promoters - detractors) / n, 1) if n else None,
            "ratings": n,
            "fcr_judged": self.judged,
            "first_contact_resolution": round(self.resolved / self.judged, 4) if self.judged else None,
        }


def _resolved(session: Session, attempt: Call, planned: PlannedCall, until: datetime) -> bool:
    """The gap the call was about closed by ``until``, and no call for the same reason followed."""
    repeat = session.scalar(select(PlannedCall.id).where(
        PlannedCall.shop_id == attempt.shop_id, PlannedCall.reason == planned.reason, PlannedCall.id != planned.id,
        PlannedCall.created_at > attempt.called_at, PlannedCall.created_at <= until).limit(1))
    if repeat is not None:
        return False
    after = (Observation.shop_id == attempt.shop_id, Observation.observed_at > attempt.called_at,
             Observation.observed_at <= until)
    trigger = planned.trigger
    if trigger == "stage_stalled":
        values = session.scalars(select(Observation.value).where(*after, Observation.question.like("readiness.%")))
        return any(v is True for v in values)
    if trigger == "inactive":
        return session.scalar(select(Observation.id).where(*after, Observation.source == "trial").limit(1)) is not None
    if trigger == "disconnected":
        key = f"readiness.{(planned.params or {}).get('category', 'payments')}_connected"
        values = session.scalars(select(Observation.value).where(*after, Observation.question == key))
        return any(v is True for v in values)
    return True


def call_stats(session: Session, *, since: datetime | None = None, until: datetime | None = None,
               now: datetime | None = None, market: str | None = None) -> dict[str, Any]:
    """The figures for attempts and requests between ``since`` and ``until`` (default: the last 30 days).

    ``market``: only calls with, ratings from and callbacks asked by shops of that market
    (the team then means the team's work in that market).
    """
    now = (now or utcnow()).astimezone(UTC)
    until = (until or now).astimezone(UTC)
    since = (since or until - timedelta(days=30)).astimezone(UTC)
    team, people = _Tally(), {}
    market = market.upper() if market else None
    query = (select(Call, PlannedCall).outerjoin(PlannedCall, PlannedCall.id == Call.planned_call_id)
             .where(Call.called_at >= since, Call.called_at < until))
    if market:
        query = query.join(Shop, Shop.id == Call.shop_id).where(Shop.market == market)
    attempts = session.execute(query.order_by(Call.called_at, Call.id)).all()
    for attempt, planned in attempts:
        person = people.setdefault(attempt.actor, _Tally())
        for t in (team, person):
            t.handled += 1
            t.reached += bool(attempt.reached)
            if attempt.handling_seconds is not None:
                t.handling.append(attempt.handling_seconds)
        judge_by = attempt.called_at + timedelta(days=FCR_DAYS)
        if planned is not None and attempt.outcome == "reached" and judge_by <= now:
            ok = _resolved(session, attempt, planned, judge_by)
            for t in (team, person):
                t.judged += 1
                t.resolved += ok
    rated = (select(CallRating, Call).join(Call, Call.id == CallRating.call_id)
             .where(CallRating.created_at >= since, CallRating.created_at < until))
    if market:
        rated = rated.join(Shop, Shop.id == Call.shop_id).where(Shop.market == market)
    for rating, attempt in session.execute(rated):
        for t in (team, people.setdefault(attempt.actor, _Tally())):
            t.ratings.append(rating.score)
    asked = select(PlannedCall, Shop).join(Shop, Shop.id == PlannedCall.shop_id).where(
        PlannedCall.kind == "callback", PlannedCall.requested_at >= since, PlannedCall.requested_at < until)
    if market:
        asked = asked.where(Shop.market == market)
    callbacks = session.execute(asked).all()
    for call, shop in callbacks:
        target = load_rules(shop.market).callbacks.target_minutes
        end = call.first_attempt_at or now
        wait = slots.allowed_minutes(slots.Contact(market=shop.market), call.requested_at,
                                     max(end, call.requested_at), "service")
        if call.first_attempt_at is None and wait <= target:
            continue  # still inside its target: not judged yet
        first = session.scalar(select(Call.actor).where(Call.planned_call_id == call.id)
                               .order_by(Call.called_at, Call.id).limit(1))
        for t in (team, *([people.setdefault(first, _Tally())] if first else [])):
            t.callbacks += 1
            t.callbacks_in_target += wait <= target
            t.waits.append(wait)
    return {"since": since.isoformat(), "until": until.isoformat(), "fcr_days": FCR_DAYS, "team": team.as_dict(),
            "consultants": [{"consultant": who, **t.as_dict()} for who, t in sorted(people.items())]}
