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

import locales
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


#: Ids per IN (...) list of the bulk reads.
CHUNK = 1000


def _chunks(ids: list[int]) -> Any:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


@dataclass(frozen=True)
class _Attempt:
    """One reached, planned attempt old enough to be judged for first-contact resolution."""
    shop_id: int
    called_at: datetime
    until: datetime
    planned_id: int
    reason: str
    trigger: str | None
    params: Any


def _resolved_all(session: Session, attempts: list[_Attempt]) -> list[bool]:
    """Per attempt: the gap the call was about closed by its ``until``, and no call for the same
    reason followed (planned after the attempt, by ``until``). A few IN (...) reads for all of them."""
    if not attempts:
        return []
    shops = sorted({a.shop_id for a in attempts})
    lo = min(a.called_at for a in attempts)
    hi = max(a.until for a in attempts)
    planned: dict[int, list[tuple[str, int, datetime]]] = {}
    observed: dict[int, list[tuple[datetime, bool, str, str, Any]]] = {}
    for ids in _chunks(shops):
        for shop_id, reason, pid, created in session.execute(
                select(PlannedCall.shop_id, PlannedCall.reason, PlannedCall.id, PlannedCall.created_at)
                .where(PlannedCall.shop_id.in_(ids), PlannedCall.created_at > lo, PlannedCall.created_at <= hi)):
            planned.setdefault(shop_id, []).append((reason, pid, created))
        # the LIKE is evaluated by the database, as the per-attempt rule did (SQLite's LIKE ignores case)
        readiness = Observation.question.like("readiness.%")
        for shop_id, at, is_readiness, question, source, value in session.execute(
                select(Observation.shop_id, Observation.observed_at, readiness, Observation.question,
                       Observation.source, Observation.value)
                .where(Observation.shop_id.in_(ids), Observation.observed_at > lo, Observation.observed_at <= hi,
                       readiness | (Observation.source == "trial"))):
            observed.setdefault(shop_id, []).append((at, bool(is_readiness), question, source, value))
    out = []
    for a in attempts:
        if any(reason == a.reason and pid != a.planned_id and a.called_at < created <= a.until
               for reason, pid, created in planned.get(a.shop_id, ())):
            out.append(False)
            continue
        after = [o for o in observed.get(a.shop_id, ()) if a.called_at < o[0] <= a.until]
        if a.trigger == "stage_stalled":
            out.append(any(is_readiness and value is True for _at, is_readiness, _q, _s, value in after))
        elif a.trigger == "inactive":
            out.append(any(source == "trial" for _at, _r, _q, source, _v in after))
        elif a.trigger == "disconnected":
            key = f"readiness.{(a.params or {}).get('category', 'payments')}_connected"
            out.append(any(question == key and value is True for _at, _r, question, _s, value in after))
        else:
            out.append(True)
    return out


def _first_actors(session: Session, planned_ids: list[int]) -> dict[int, str]:
    """{planned call id: the actor of its first attempt (earliest, then lowest id)}."""
    first: dict[int, tuple[datetime, int, str]] = {}
    for ids in _chunks(sorted(set(planned_ids))):
        for pid, at, cid, actor in session.execute(
                select(Call.planned_call_id, Call.called_at, Call.id, Call.actor).where(Call.planned_call_id.in_(ids))):
            if pid not in first or (at, cid) < first[pid][:2]:
                first[pid] = (at, cid, actor)
    return {pid: v[2] for pid, v in first.items()}


def call_stats(session: Session, *, since: datetime | None = None, until: datetime | None = None,
               now: datetime | None = None, market: str | None = None, by_market: bool = False) -> dict[str, Any]:
    """The figures for attempts and requests between ``since`` and ``until`` (default: the last 30 days).

    ``market``: only calls with, ratings from and callbacks asked by shops of that market
    (the team then means the team's work in that market).
    ``by_market``: also ``"markets"``: {market: the same figures as ``market=`` that market gives}
    for every market of `locales` (with ``market``: that one) and any other with calls in the period,
    from the same pass.
    """
    now = (now or utcnow()).astimezone(UTC)
    until = (until or now).astimezone(UTC)
    since = (since or until - timedelta(days=30)).astimezone(UTC)
    team, people = _Tally(), {}
    split: dict[str, tuple[_Tally, dict[str, _Tally]]] = {}
    market = market.upper() if market else None

    def tallies(shop_market: str, actor: str | None, person: bool = True) -> list[_Tally]:
        """The team's and the person's tallies (and their market's); ``person`` False: the team's only."""
        out = [team] + ([people.setdefault(actor, _Tally())] if person else [])
        if by_market:
            m_team, m_people = split.setdefault(shop_market, (_Tally(), {}))
            out += [m_team] + ([m_people.setdefault(actor, _Tally())] if person else [])
        return out

    query = (select(Call.shop_id, Call.actor, Call.called_at, Call.reached, Call.outcome, Call.handling_seconds,
                    PlannedCall.id, PlannedCall.reason, PlannedCall.trigger, PlannedCall.params, Shop.market)
             .outerjoin(PlannedCall, PlannedCall.id == Call.planned_call_id)
             .join(Shop, Shop.id == Call.shop_id)
             .where(Call.called_at >= since, Call.called_at < until))
    if market:
        query = query.where(Shop.market == market)
    to_judge: list[tuple[_Attempt, list[_Tally]]] = []
    for shop_id, actor, called_at, reached, outcome, handling, pid, reason, trigger, params, shop_market \
            in session.execute(query.order_by(Call.called_at, Call.id)):
        ts = tallies(shop_market, actor)
        for t in ts:
            t.handled += 1
            t.reached += bool(reached)
            if handling is not None:
                t.handling.append(handling)
        judge_by = called_at + timedelta(days=FCR_DAYS)
        if pid is not None and outcome == "reached" and judge_by <= now:
            to_judge.append((_Attempt(shop_id, called_at, judge_by, pid, reason, trigger, params), ts))
    for (_a, ts), ok in zip(to_judge, _resolved_all(session, [a for a, _ts in to_judge])):
        for t in ts:
            t.judged += 1
            t.resolved += ok
    rated = (select(CallRating.score, Call.actor, Shop.market).join(Call, Call.id == CallRating.call_id)
             .join(Shop, Shop.id == Call.shop_id)
             .where(CallRating.created_at >= since, CallRating.created_at < until))
    if market:
        rated = rated.where(Shop.market == market)
    for score, actor, shop_market in session.execute(rated):
        for t in tallies(shop_market, actor):
            t.ratings.append(score)
    asked = select(PlannedCall.id, PlannedCall.requested_at, PlannedCall.first_attempt_at, Shop.market).join(
        Shop, Shop.id == PlannedCall.shop_id).where(
        PlannedCall.kind == "callback", PlannedCall.requested_at >= since, PlannedCall.requested_at < until)
    if market:
        asked = asked.where(Shop.market == market)
    judged = []
    for pid, requested_at, first_attempt_at, shop_market in session.execute(asked):
        target = load_rules(shop_market).callbacks.target_minutes
        end = first_attempt_at or now
        wait = slots.allowed_minutes(slots.Contact(market=shop_market), requested_at,
                                     max(end, requested_at), "service")
        if first_attempt_at is None and wait <= target:
            continue  # still inside its target: not judged yet
        judged.append((pid, shop_market, wait, target))
    firsts = _first_actors(session, [pid for pid, *_rest in judged])
    for pid, shop_market, wait, target in judged:
        first = firsts.get(pid)
        for t in tallies(shop_market, first, bool(first)):
            t.callbacks += 1
            t.callbacks_in_target += wait <= target
            t.waits.append(wait)

    def figures(t: _Tally, who: dict[str, _Tally]) -> dict[str, Any]:
        return {"since": since.isoformat(), "until": until.isoformat(), "fcr_days": FCR_DAYS, "team": t.as_dict(),
                "consultants": [{"consultant": w, **p.as_dict()} for w, p in sorted(who.items())]}

    out = figures(team, people)
    if by_market:
        for m in ((market,) if market else locales.MARKET_CODES):
            split.setdefault(m, (_Tally(), {}))
        out["markets"] = {m: figures(t, who) for m, (t, who) in sorted(split.items())}
    return out
