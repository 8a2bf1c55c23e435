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
  those days; calls younger than that are not judged yet. The verdict of a call whose window has
  ended is recorded on the call (`record_fcr_verdicts`, run by the audits planner) with the
  shop's observation count (`shop_state.observations`); the figures use a recorded verdict while
  that count is unchanged and judge every other call live, so they are the same whether or not
  anything was recorded (only faster). A planned call created inside a recorded call's window
  forgets its verdict (`forget_fcr_verdicts`).

`call_stats` reads only; `record_fcr_verdicts` and `forget_fcr_verdicts` write (flush, never commit).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    Interval,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    not_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

import locales
from audits import slots
from audits.rules import load_rules

from ..db import server_settings, utcnow
from ..models import Call, CallRating, Observation, PlannedCall, ShopState

FCR_DAYS = 7
#: A verdict is recorded only once the call's window ended at least this long before the recording
#: run's moment: a transaction that planned a call inside the window with an earlier clock and
#: committed after the run would have to last this long (`forget_fcr_verdicts` covers the rest).
FCR_RECORD_AFTER = timedelta(hours=1)
#: ... and only for calls of the last FCR_RECORD_DAYS days (the dashboard reads the last 30), so a run
#: reads a bounded part of the call log; an older call without a verdict that holds is judged live.
FCR_RECORD_DAYS = 120
UTC = timezone.utc


@dataclass
class _Tally:
    handled: int = 0
    reached: int = 0
    handling_total: int = 0  # seconds, over handling_n attempts that went through a claim
    handling_n: int = 0
    ratings: int = 0
    promoters: int = 0   # ratings of 9 or 10
    detractors: int = 0  # ratings of 0 to 6
    callbacks: int = 0
    callbacks_in_target: int = 0
    waits: list[float] = field(default_factory=list)
    judged: int = 0
    resolved: int = 0

    def as_dict(self) -> dict[str, Any]:
        n, promoters, detractors = self.ratings, self.promoters, self.detractors
        return {
            "calls_handled": self.handled,
            "reached": self.reached,
            "reach_rate": round(self.reached / self.handled, 4) if self.handled else None,
            "average_handling_minutes": round(self.handling_total / self.handling_n / 60, 1) if self.handling_n else None,
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


def _after_fcr_days(session: Session, col: Any) -> Any:
    """The timestamp column plus `FCR_DAYS`, in SQL, to compare with other timestamp columns exactly
    as Python's ``+ timedelta(days=FCR_DAYS)`` would: PostgreSQL adds hours (a ``days`` interval on a
    timestamptz would follow the session time zone's DST); SQLite stores UTC text
    'YYYY-MM-DD HH:MM:SS.ffffff', so the date arithmetic is done on the whole seconds and the stored
    fraction is put back (SQLite would round it to milliseconds, possibly into the next second)."""
    if session.get_bind().dialect.name == "postgresql":
        return col + literal_column(f"interval '{FCR_DAYS * 24} hours'", Interval)
    return func.strftime("%Y-%m-%d %H:%M:%S", func.substr(col, 1, 19), f"+{FCR_DAYS} days",
                         type_=String) + func.substr(col, 20, type_=String)


def _json_true(session: Session) -> Any:
    """The JSON value ``true`` as stored (JSONB on PostgreSQL, its text on SQLite)."""
    return literal_column("'true'::jsonb" if session.get_bind().dialect.name == "postgresql" else "'true'")


def _resolved_expr(session: Session, judge_before: datetime) -> Any:
    """Per row of the call query: NULL unless the attempt is reached, planned and judged
    (``called_at + FCR_DAYS <= now``, i.e. ``called_at <= judge_before``); else 1 when the gap it was
    about closed within (called_at, called_at + FCR_DAYS] and no call for the same reason was
    planned in that window, 0 otherwise: the recorded verdict while it holds (`_recorded_holds`),
    else judged live (`_live_resolved`)."""
    recorded = case((Call.fcr_resolved.is_(True), 1), else_=0)
    return case((_judged(judge_before), case((_recorded_holds(), recorded), else_=_live_resolved(session))),
                else_=None)


def _recorded_holds() -> Any:
    """The call's recorded verdict still holds: there is one, and its shop's observation count
    (`shop_state.observations`, rewritten in the same transaction as every change to the shop's
    observations) is the one it was judged with. Observations are only ever added, or removed by an
    erasure, so an unchanged count means the same observations; a shop without a state row never
    holds. One primary-key probe per judged call."""
    count = select(ShopState.observations).where(ShopState.shop_id == Call.shop_id).scalar_subquery()
    return and_(Call.fcr_resolved.is_not(None), Call.fcr_observations == count)


def _live_resolved(session: Session) -> Any:
    """The verdict judged now (1 or 0) of a row's planned attempt: a scalar subquery on its planned
    call (by primary key) with correlated EXISTS probes: `planned_call` by shop, `observation` by
    (shop, observed_at)."""
    return select(_verdict(session)).where(PlannedCall.id == Call.planned_call_id).scalar_subquery()


def _verdict(session: Session) -> Any:
    """1 when the gap the attempt (``Call``, with its ``PlannedCall``) was about closed within
    (called_at, called_at + FCR_DAYS] and no call for the same reason was planned in that window,
    0 otherwise."""
    until = _after_fcr_days(session, Call.called_at)
    true = _json_true(session)
    later = aliased(PlannedCall)
    repeated = exists().where(later.shop_id == Call.shop_id, later.reason == PlannedCall.reason,
                              later.id != PlannedCall.id, later.created_at > Call.called_at,
                              later.created_at <= until).correlate(Call, PlannedCall)

    def observed(*where: Any) -> Any:
        return exists().where(Observation.shop_id == Call.shop_id, Observation.observed_at > Call.called_at,
                              Observation.observed_at <= until, *where).correlate(Call, PlannedCall)

    def flag(cond: Any) -> Any:
        return case((cond, 1), else_=0)

    # the LIKE is the database's (SQLite's ignores case), as it always was
    connected = (literal("readiness.", String)
                 + func.coalesce(PlannedCall.params["category"].as_string(), "payments") + "_connected")
    return case(
        (repeated, 0),
        (PlannedCall.trigger == "stage_stalled",
         flag(observed(Observation.question.like("readiness.%"), Observation.value == true))),
        (PlannedCall.trigger == "inactive", flag(observed(Observation.source == "trial"))),
        (PlannedCall.trigger == "disconnected",
         flag(observed(Observation.question == connected, Observation.value == true))),
        else_=1)


def _judged(judge_before: datetime) -> Any:
    """The attempt is judged for first-contact resolution: reached, planned, FCR_DAYS old. (Planned:
    the call names its planned call; the foreign key clears the name when that row goes.)"""
    return and_(Call.planned_call_id.is_not(None), Call.outcome == "reached", Call.called_at <= judge_before)


def record_fcr_verdicts(session: Session, *, now: datetime | None = None) -> int:
    """Record the first-contact-resolution verdict of every planned reached call of the last
    FCR_RECORD_DAYS days whose window ended at least FCR_RECORD_AFTER before ``now`` and which has
    none that still holds (none yet, or its shop's observation count changed since): the verdict and
    the count, both read by one statement (one snapshot), as `call_stats` judges it live. Shops
    without a state row are left to the live judgement. Flushes, never commits. Returns the calls
    recorded."""
    now = (now or utcnow()).astimezone(UTC)
    before = now - timedelta(days=FCR_DAYS) - FCR_RECORD_AFTER
    count = select(ShopState.observations).where(ShopState.shop_id == Call.shop_id).scalar_subquery()
    verdict = _live_resolved(session)
    session.flush()
    with _without_jit(session):
        rows = session.execute(
            select(Call.id, verdict, count)
            .where(Call.planned_call_id.is_not(None), Call.outcome == "reached", Call.called_at <= before,
                   Call.called_at > now - timedelta(days=FCR_RECORD_DAYS), not_(_recorded_holds()))).all()
    values = [{"id": cid, "fcr_resolved": bool(v), "fcr_observations": n}
              for cid, v, n in rows if v is not None and n is not None]
    for i in range(0, len(values), CHUNK):
        session.execute(update(Call), values[i:i + CHUNK])  # bulk UPDATE by primary key
    session.flush()
    return len(values)


def forget_fcr_verdicts(session: Session, shop_ids: Any, at: datetime) -> int:
    """A call planned at ``at`` for these shops: forget the recorded verdicts of their calls whose
    window (called_at, called_at + FCR_DAYS] holds ``at`` (a planned call made with an earlier
    clock, such as `audits plan --now`, can repeat them); they are judged live, then recorded again.
    Returns the calls changed."""
    ids = sorted({int(i) for i in shop_ids})
    at = at.astimezone(UTC)
    changed = 0
    for part in _chunks(ids):
        changed += session.execute(
            update(Call).where(Call.shop_id.in_(part), Call.fcr_resolved.is_not(None), Call.called_at < at,
                               Call.called_at >= at - timedelta(days=FCR_DAYS))
            .values(fcr_resolved=None, fcr_observations=None)
            .execution_options(synchronize_session=False)).rowcount or 0
    return changed


@contextlib.contextmanager
def _without_jit(session: Session) -> Iterator[None]:
    """PostgreSQL: no JIT compilation for the statements run inside (a transaction-local setting,
    put back afterwards). The call query's correlated probes are costed per row of the whole period,
    far above ``jit_above_cost``, so the server would spend longer compiling the query than running
    it (about 0.7 s against 0.1 s on 21k calls); the cost grows with the log, so no size is safe."""
    with server_settings(session, jit="off"):
        yield


def _first_actor() -> Any:
    """Per row of a `planned_call` query: the actor of its first attempt (earliest, then lowest id),
    NULL when it has none (one probe of the call log by planned call)."""
    return (select(Call.actor).where(Call.planned_call_id == PlannedCall.id)
            .order_by(Call.called_at, Call.id).limit(1).scalar_subquery())


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

    judge_before = now - timedelta(days=FCR_DAYS)
    resolved = _resolved_expr(session, judge_before)

    def total(expr: Any) -> Any:
        return func.coalesce(func.sum(expr), 0)

    # per (market, consultant) in SQL: a few rows, however long the call log
    query = (select(Call.market, Call.actor, func.count(), total(case((Call.reached.is_(True), 1), else_=0)),
                    total(Call.handling_seconds), func.count(Call.handling_seconds),
                    total(case((_judged(judge_before), 1), else_=0)), total(resolved))
             .select_from(Call)
             .where(Call.called_at >= since, Call.called_at < until)
             .group_by(Call.market, Call.actor))
    if market:
        query = query.where(Call.market == market)
    with _without_jit(session):
        groups = session.execute(query).all()
    for shop_market, actor, handled, reached, handling_total, handling_n, judged_n, resolved_n in groups:
        for t in tallies(shop_market, actor):
            t.handled += int(handled)
            t.reached += int(reached)
            t.handling_total += int(handling_total)
            t.handling_n += int(handling_n)
            t.judged += int(judged_n)
            t.resolved += int(resolved_n)
    # tNPS in SQL too: per (market, consultant) the ratings, promoters (9-10) and detractors (0-6)
    rated = (select(Call.market, Call.actor, func.count(), total(case((CallRating.score >= 9, 1), else_=0)),
                    total(case((CallRating.score <= 6, 1), else_=0)))
             .select_from(CallRating).join(Call, Call.id == CallRating.call_id)
             .where(CallRating.created_at >= since, CallRating.created_at < until)
             .group_by(Call.market, Call.actor))
    if market:
        rated = rated.where(Call.market == market)
    for shop_market, actor, n, promoters, detractors in session.execute(rated):
        for t in tallies(shop_market, actor):
            t.ratings += int(n)
            t.promoters += int(promoters)
            t.detractors += int(detractors)
    asked = select(PlannedCall.id, PlannedCall.requested_at, PlannedCall.first_attempt_at, PlannedCall.market,
                   _first_actor()).where(
        PlannedCall.kind == "callback", PlannedCall.requested_at >= since, PlannedCall.requested_at < until)
    if market:
        asked = asked.where(PlannedCall.market == market)
    judged = []
    for pid, requested_at, first_attempt_at, shop_market, first in session.execute(asked):
        target = load_rules(shop_market).callbacks.target_minutes
        end = first_attempt_at or now
        wait = slots.allowed_minutes(slots.Contact(market=shop_market), requested_at,
                                     max(end, requested_at), "service")
        if first_attempt_at is None and wait <= target:
            continue  # still inside its target: not judged yet
        judged.append((shop_market, wait, target, first))
    for shop_market, wait, target, first in judged:
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
