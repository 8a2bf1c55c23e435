"""Audits in the database: plan follow-up calls, callbacks, snooze and cancel, list.

The decisions are the pure `audits` package's (`audits.planner.plan`, `audits.slots`);
this module reads what they need, stores what they return, and keeps every change of a
planned call in `planned_call_event`. Operations flush; the CLI command or the request
commits once.

The planner is incremental: a bookmark (`planner_run`) says how far it has read the
observations and scores; each run looks only at shops with newer rows, shops whose
`audit_state.next_check_at` has come (a rule that falls due through time alone), and
snoozed calls whose date has come. A shop's `ShopFacts` are rebuilt from its history
only when the shop changed; otherwise the stored facts are re-planned. Running it
twice in a row changes nothing: every occurrence of a rule is planned at most once.
"""
from __future__ import annotations

import gc
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

import locales
import profile_schema
from audits import slots
from audits.agenda import build_agenda, render_agenda, render_cancel_reason
from audits.facts import FACTS_VERSION, ShopFacts, shop_facts
from audits.messages import KINDS, STATUSES, error_text
from audits.planner import OPEN_STATUSES, OpenCall, contact_for, due_until, plan
from audits.queue import queue_rank, reach_chance
from audits.rules import AuditError, RuleSet, load_rules

from ..db import utcnow
from ..errors import ConciergeError, NotFound, ValidationFailed
from ..i18n import translations
from ..models import (
    AuditState, Call, ContactPreference, Observation, PlannedCall, PlannedCallEvent, PlannerRun, Score, Shop,
)
from .callstats import forget_fcr_verdicts, record_fcr_verdicts
from .contact_preferences import parse_days
from .shop_state import refresh_states
from .planned_calls import call_reason, next_call  # noqa: F401 (next_call: its home is planned_calls)
from .profiles import observations_by_shop
from .shops import resolve_shop

UTC = timezone.utc
_CHUNK = 500
#: Observations and scores are re-read this far behind the bookmark, so a row whose
#: transaction committed after a later one (ids are handed out before commit) is not missed.
_REREAD_IDS = 5000
MAX_NOTE = 500
CALLBACK_HORIZON_DAYS = 30
PLANNER = "planner"


class AuditRequestError(ValidationFailed):
    """A request the audits refused; each error names the field, in the reader's language."""


class CallNotOpen(ConciergeError):
    status = 409
    code = "call_not_open"


def _gettext(lang: str | None):
    return translations(lang).gettext


def refused(exc: AuditError, lang: str | None = "en") -> AuditRequestError:
    """An AuditError as the ValidationFailed every shell reports (field, code, message)."""
    return AuditRequestError([exc.as_dict(_gettext(lang))], exc.message(_gettext(lang)))


def rules_for(market: str, lang: str | None = "en") -> RuleSet:
    """The market's audit rules; a broken rule file or an unknown market is a clear error."""
    try:
        return load_rules(market)
    except AuditError as exc:
        raise refused(exc, lang) from exc


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- facts

def _holdout_draw(platform_id: str) -> float:
    """A uniform number in [0, 1) fixed by the shop id: the same draw on every run and host."""
    digest = hashlib.sha256(f"concierge-audit-holdout:{platform_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def _latest_scores(session: Session, shop_ids: Sequence[int]) -> dict[int, list[tuple[int, float, float | None, Any]]]:
    """The two newest scores per shop: (id, probability, uplift, details), newest first."""
    ranked = (select(Score.shop_id, Score.id, Score.probability, Score.uplift, Score.details,
                     func.row_number().over(partition_by=Score.shop_id,
                                            order_by=(Score.scored_at.desc(), Score.id.desc())).label("n"))
              .where(Score.shop_id.in_(shop_ids)).subquery())
    out: dict[int, list] = {}
    for shop_id, sid, p, uplift, details, _n in session.execute(select(ranked).where(ranked.c.n <= 2)
                                                              .order_by(ranked.c.shop_id, ranked.c.n)):
        out.setdefault(shop_id, []).append((sid, p, uplift, details))
    return out


def build_facts(session: Session, shops: Sequence[Shop]) -> dict[int, tuple[ShopFacts, int, int]]:
    """Fold each shop's history into ShopFacts: {shop id: (facts, last observation id, last score id)}."""
    out: dict[int, tuple[ShopFacts, int, int]] = {}
    for i in range(0, len(shops), _CHUNK):
        chunk = shops[i:i + _CHUNK]
        ids = [s.id for s in chunk]
        by_shop = observations_by_shop(session, {s.id: s.platform_id for s in chunk})
        last_obs = {sid: max((o.seq for o in obs), default=0) for sid, obs in by_shop.items()}
        scores = _latest_scores(session, ids)
        reached = dict(session.execute(select(Call.shop_id, func.max(Call.called_at))
                                       .where(Call.shop_id.in_(ids), Call.reached.is_(True))
                                       .group_by(Call.shop_id)).all())
        refusals = set(session.scalars(select(Call.shop_id).where(Call.shop_id.in_(ids),
                                                                Call.outcome == "do_not_call")))
        days = {sid: parse_days(text) for sid, text in session.execute(
            select(ContactPreference.shop_id, ContactPreference.days).where(ContactPreference.shop_id.in_(ids)))}
        for shop in chunk:
            obs = by_shop[shop.id]
            profile = profile_schema.fold(obs, shop=shop.platform_id, market=shop.market)
            history = scores.get(shop.id, [])
            newest = history[0] if history else None
            details = (newest[3] or {}) if newest else {}
            path = [s.get("action") for s in details.get("path") or () if isinstance(s, dict) and s.get("action")]
            facts = shop_facts(
                obs, profile, trial_started_at=shop.trial_started_at, trial_ends_at=shop.trial_ends_at,
                outcome=shop.outcome, outcome_at=shop.outcome_at,
                score=newest[1] if newest else None,
                score_before=history[1][1] if len(history) > 1 else None,
                gain=newest[2] if newest else None, path=path,
                last_reached_at=reached.get(shop.id), opted_out=shop.id in refusals,
                preferred_days=days.get(shop.id),
            )
            out[shop.id] = (facts, last_obs.get(shop.id, 0), newest[0] if newest else 0)
    return out


# --------------------------------------------------------------------------- queue order

#: How many recent call attempts the queue's reach and handling estimates read.
_LOG_WINDOW = 5000


@dataclass
class QueueContext:
    """The call log's own figures for ordering the queue: reach by market and local hour,
    handling minutes by kind (each drawn towards the rules' priors while the log is thin)."""

    reach: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    handling: dict[str, float] = field(default_factory=dict)

    def rank(self, rules: RuleSet, kind: str, gain: float | None, market: str, at: datetime) -> float:
        q = rules.queue
        hour = at.astimezone(locales.get_market(market).tz).hour
        reached, attempts = self.reach.get((market, hour), (0, 0))
        chance = reach_chance(reached, attempts, prior=q.reach_prior, weight=q.reach_prior_weight)
        minutes = {**q.handling_minutes, **{k: round(v) for k, v in self.handling.items()}}
        return queue_rank(kind, gain, chance, minutes, default_gain=q.default_gain)


def queue_context(session: Session) -> QueueContext:
    """Read the recent call log once per planner run (or callback request)."""
    ctx = QueueContext()
    rows = session.execute(select(Call.market, Call.called_at, Call.reached, Call.kind, Call.handling_seconds)
                           .order_by(Call.id.desc()).limit(_LOG_WINDOW)).all()  # call.market: no join
    durations: dict[str, list[int]] = {}
    for market, at, reached, kind, seconds in rows:
        try:
            hour = at.astimezone(locales.get_market(market).tz).hour
        except KeyError:
            continue
        hit, total = ctx.reach.get((market, hour), (0, 0))
        ctx.reach[(market, hour)] = (hit + bool(reached), total + 1)
        if seconds:
            durations.setdefault(kind, []).append(seconds)
    for kind, values in durations.items():
        if len(values) >= 20:  # fewer: the rules' prior stands
            values.sort()
            ctx.handling[kind] = max(1.0, values[len(values) // 2] / 60)
    return ctx


class LazyQueueContext:
    """The queue context of a planner run, read from the call log at the first call it ranks."""

    def __init__(self, session: Session):
        self._session = session
        self._ctx: QueueContext | None = None

    def rank(self, *args: Any) -> float:
        if self._ctx is None:
            self._ctx = queue_context(self._session)
        return self._ctx.rank(*args)


def merchant_language(facts: ShopFacts) -> str:
    """The language to call the merchant in: theirs from the profile, else the market's."""
    lang = facts.language or locales.get_market(facts.market).default_language
    return lang.replace("-", "_").split("_")[0].lower()


# --------------------------------------------------------------------------- planner

@dataclass
class PlanReport:
    """What one planner run did (the `audits plan --json` contract)."""

    now: datetime
    full: bool = False
    shops_seen: int = 0
    shops_rebuilt: int = 0
    created: int = 0
    held_out: int = 0
    cancelled: int = 0
    unsnoozed: int = 0
    rescored: int = 0
    fcr_recorded: int = 0  # first-contact-resolution verdicts recorded (not in the --json contract)
    skipped: dict[str, int] = field(default_factory=dict)
    cancelled_by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "full": self.full, "shops_seen": self.shops_seen,
                "shops_rebuilt": self.shops_rebuilt, "created": self.created, "held_out": self.held_out,
                "cancelled": self.cancelled, "cancelled_by_reason": dict(sorted(self.cancelled_by_reason.items())),
                "unsnoozed": self.unsnoozed, "rescored": self.rescored, "skipped": dict(sorted(self.skipped.items()))}


def rules_digest() -> str:
    """A fingerprint of every market's rules (and the facts' shape): a change replans every shop."""
    parts = [repr(load_rules(code)) for code in locales.MARKET_CODES]
    return hashlib.sha256(("|".join(parts) + f"|facts{FACTS_VERSION}").encode()).hexdigest()


def _bookmark(session: Session, now: datetime) -> PlannerRun:
    """The planner's bookmark, locked for this transaction on PostgreSQL: a cron run and a worker
    that overlap take turns instead of planning the same shops twice."""
    run = session.get(PlannerRun, 1, with_for_update=True)
    if run is None:
        run = PlannerRun(id=1, last_run_at=now, observation_watermark=0, score_watermark=0, rules_digest="")
        session.add(run)
        session.flush()
    return run


def _changed_shop_ids(session: Session, run: PlannerRun) -> tuple[set[int], int, int]:
    """Shops with observations or scores newer than what their stored facts were built from."""
    top_obs = session.scalar(select(func.max(Observation.id))) or 0
    top_score = session.scalar(select(func.max(Score.id))) or 0
    changed: set[int] = set()
    obs_from = max(0, run.observation_watermark - _REREAD_IDS)
    score_from = max(0, run.score_watermark - _REREAD_IDS)
    for table, since, column in ((Observation, obs_from, AuditState.last_observation_id),
                                 (Score, score_from, AuditState.last_score_id)):
        # the newest row per shop, grouped here: a primary-key range read (a SQL GROUP BY shop_id
        # made SQLite walk the whole (shop_id, time) index, every observation ever, on each run)
        tops: dict[int, int] = {}
        for shop_id, rid in session.execute(select(table.shop_id, table.id).where(table.id > since)):
            if rid > tops.get(shop_id, 0):
                tops[shop_id] = rid
        ids = sorted(tops)
        for i in range(0, len(ids), _CHUNK):
            part = ids[i:i + _CHUNK]
            stored = dict(session.execute(select(AuditState.shop_id, column).where(AuditState.shop_id.in_(part))).all())
            changed.update(s for s in part if s not in stored or tops[s] > stored[s])
    # shops never planned (e.g. created without observations yet); audit_state rows are a subset of
    # the shops (foreign key), so equal counts mean there are none, without an anti-join of every shop
    if session.scalar(select(func.count()).select_from(Shop)) != session.scalar(
            select(func.count()).select_from(AuditState)):
        changed.update(session.scalars(select(Shop.id).outerjoin(AuditState, AuditState.shop_id == Shop.id)
                                       .where(AuditState.shop_id.is_(None))))
    return changed, top_obs, top_score


def _unsnooze(session: Session, now: datetime, report: PlanReport) -> set[int]:
    """Snoozed calls whose date has come go back to planned; their shops are re-planned."""
    due = session.execute(select(PlannedCall.id, PlannedCall.shop_id)
                          .where(PlannedCall.status == "snoozed", PlannedCall.snoozed_until <= now)).all()
    if not due:
        return set()
    ids = [r[0] for r in due]
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        session.execute(update(PlannedCall).where(PlannedCall.id.in_(part))
                        .values(status="planned", updated_at=now))
        session.execute(insert(PlannedCallEvent), [
            {"call_id": cid, "at": now, "actor": PLANNER, "action": "unsnoozed", "from_status": "snoozed",
             "to_status": "planned", "reason": None, "note": None, "details": {}} for cid in part])
    report.unsnoozed += len(ids)
    return {r[1] for r in due}


def plan_calls(session: Session, *, now: datetime | None = None, full: bool = False) -> PlanReport:
    """Plan follow-up calls for the shops that changed or fell due; ``full`` re-plans every shop.

    Idempotent: a second run with nothing new creates, cancels and rewrites nothing.
    """
    now = _aware(now or utcnow())
    report = PlanReport(now=now, full=full)
    run = _bookmark(session, now)
    digest = rules_digest()
    if digest != run.rules_digest:
        full = report.full = True
    changed, top_obs, top_score = _changed_shop_ids(session, run)
    report.rescored = _rescore_stale(session, changed, now)  # before the facts: they read the fresh path
    targets = set(changed)
    targets |= _unsnooze(session, now, report)
    if full:
        targets |= set(session.scalars(select(AuditState.shop_id)))
    else:
        targets |= set(session.scalars(select(AuditState.shop_id).where(AuditState.next_check_at <= now)))
    ordered = sorted(targets)
    queue = LazyQueueContext(session)  # the call log is read only if a call is created
    collecting = gc.isenabled()
    gc.disable()  # the run allocates many short-lived small objects and frees them per chunk
    try:
        for i in range(0, len(ordered), _CHUNK):
            _plan_chunk(session, ordered[i:i + _CHUNK], changed, now, report, queue)
    finally:
        if collecting:
            gc.enable()
    run.last_run_at = now
    run.observation_watermark = max(run.observation_watermark, top_obs)
    run.score_watermark = max(run.score_watermark, top_score)
    run.rules_digest = digest
    session.flush()
    # the first-contact-resolution verdicts of the calls whose window has ended (queue health reads them)
    report.fcr_recorded = record_fcr_verdicts(session, now=now)
    return report


def _rescore_stale(session: Session, changed: set[int], now: datetime) -> int:
    """Score again the changed open trials (deliberating ones too) whose answers are newer than their score.

    Answers recorded one shop at a time (a form, the CLI, a survey, a call) are scored in
    the same request; files of events, imports and the demo are not, so their shops are
    scored here, by the planner, never on a page view. Without an active model: nothing.
    """
    from ..models import ModelVersion
    from .scoring.service import rescore_shops

    if not changed or session.scalar(select(ModelVersion.id).where(ModelVersion.active.is_(True)).limit(1)) is None:
        return 0
    from .scoring import store
    from .scoring.service import open_trials as scorable

    try:  # deliberating trials (ended, decision window open) too, when the model has a part for them
        with_deliberating = store.active_model(session).bundle.deliberating is not None
    except SQLAlchemyError:
        raise
    except Exception:  # noqa: BLE001 - a model that cannot be loaded: rescore_shops logs it and keeps the scores
        with_deliberating = False
    stale: list[int] = []
    ids = sorted(changed)
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        answered = dict(session.execute(select(Observation.shop_id, func.max(Observation.recorded_at))
                                        .where(Observation.shop_id.in_(part)).group_by(Observation.shop_id)).all())
        scored = dict(session.execute(select(Score.shop_id, func.max(Score.scored_at))
                                      .where(Score.shop_id.in_(part)).group_by(Score.shop_id)).all())
        open_trials = {x.id for x in scorable(session, now, deliberating_too=with_deliberating, ids=part)}
        stale += [sid for sid in part if sid in open_trials and sid in answered
                  and (sid not in scored or answered[sid] > scored[sid])]
    return rescore_shops(session, stale, now=now) if stale else 0


def _plan_chunk(session: Session, ids: list[int], changed: set[int], now: datetime, report: PlanReport,
                queue: QueueContext | LazyQueueContext) -> None:
    # plain rows, not ORM objects: a full plan of 100k shops spent a third of its time building them
    shops = {r.id: r for r in session.execute(select(Shop.id, Shop.platform_id, Shop.market).where(Shop.id.in_(ids)))}
    states = {r.shop_id: r for r in session.execute(
        select(AuditState.shop_id, AuditState.facts, AuditState.facts_version, AuditState.last_observation_id,
               AuditState.last_score_id, AuditState.next_check_at, AuditState.holdout)
        .where(AuditState.shop_id.in_(ids)))}
    rebuild_ids = [i for i in ids if i in shops and (i in changed or i not in states
                                                     or states[i].facts_version != FACTS_VERSION)]
    built = build_facts(session, list(session.scalars(select(Shop).where(Shop.id.in_(rebuild_ids))))) \
        if rebuild_ids else {}
    report.shops_rebuilt += len(built)
    open_rows: dict[int, list[OpenCall]] = {}
    known: dict[int, set[tuple[str, str]]] = {}
    for cid, shop_id, rule, kind, reason, occurrence, purpose, status, until in session.execute(
            select(PlannedCall.id, PlannedCall.shop_id, PlannedCall.rule, PlannedCall.kind, PlannedCall.reason,
                   PlannedCall.occurrence, PlannedCall.purpose, PlannedCall.status, PlannedCall.due_until)
            .where(PlannedCall.shop_id.in_(ids))):
        known.setdefault(shop_id, set()).add((rule, occurrence))
        # a held-out call counts as open until its due window ends, so the held-out arm gets its
        # follow-ups no sooner than a called shop would (one open call per kind and reason)
        if status in OPEN_STATUSES or (status == "held_out" and until > now):
            open_rows.setdefault(shop_id, []).append(OpenCall(cid, rule, kind, reason, occurrence, purpose, status))
    new_calls: list[dict[str, Any]] = []
    cancels: list[tuple[int, str]] = []
    new_states: list[dict[str, Any]] = []
    changed_states: list[dict[str, Any]] = []
    rules_by_market: dict[str, RuleSet] = {}
    for shop_id in ids:
        shop = shops.get(shop_id)
        if shop is None:
            continue
        report.shops_seen += 1
        state = states.get(shop_id)
        if shop_id in built:
            facts, last_obs, last_score = built[shop_id]
        else:
            facts = ShopFacts.from_dict(state.facts)
            last_obs, last_score = state.last_observation_id, state.last_score_id
        rules = rules_by_market.get(shop.market) or rules_by_market.setdefault(shop.market, load_rules(shop.market))
        held = _holdout_draw(shop.platform_id) < rules.holdout_share if state is None else state.holdout
        result = plan(facts, rules, now, open_calls=open_rows.get(shop_id, ()), known=known.get(shop_id, ()))
        for f in result.create:
            new_calls.append({
                "shop_id": shop_id, "market": shop.market, "kind": f.kind, "reason": f.reason, "rule": f.rule,
                "rules_version": f.rules_version, "occurrence": f.occurrence, "trigger": f.trigger,
                "purpose": f.purpose, "status": "held_out" if held else "planned",
                "open_key": None if held else f"{f.kind}:{f.reason}",
                "due_from": f.due_from, "due_until": f.due_until, "scheduled_at": f.scheduled_at,
                "preference_met": f.preference_met, "params": dict(f.params),
                "agenda": [a.as_dict() for a in f.agenda], "gain": f.gain, "holdout": held,
                "rank": queue.rank(rules, f.kind, f.gain, shop.market, f.scheduled_at),
                "language": merchant_language(facts),
                "created_by": PLANNER, "created_at": now, "updated_at": now,
                "closed_at": now if held else None,
            })
        cancels.extend(result.cancel)
        for _rule, _occ, why in result.skipped:
            report.skipped[why] = report.skipped.get(why, 0) + 1
        # facts re-planned from the store are the stored dict: serialising them again was two
        # thirds of a full plan, and the result compared equal anyway
        data = facts.as_dict() if shop_id in built else state.facts
        if state is None:
            new_states.append({"shop_id": shop_id, "facts": data, "facts_version": FACTS_VERSION,
                               "last_observation_id": last_obs, "last_score_id": last_score,
                               "next_check_at": result.next_check_at, "planned_at": now,
                               "holdout": held, "holdout_share": rules.holdout_share})
        elif (state.next_check_at != result.next_check_at or state.last_observation_id != last_obs
              or state.last_score_id != last_score or state.facts_version != FACTS_VERSION
              or (shop_id in built and state.facts != data)):
            changed_states.append({"shop_id": shop_id, "facts": data, "facts_version": FACTS_VERSION,
                                   "last_observation_id": last_obs, "last_score_id": last_score,
                                   "next_check_at": result.next_check_at, "planned_at": now})
    # cancel first: a moot call frees its (kind, reason) for the occurrence that replaces it
    _close_many(session, cancels, now=now, actor=PLANNER)
    # the shop_state rows whose next call or planner arm changed (no profile fold: calls only)
    call_shop = {c.id: sid for sid, calls in open_rows.items() for c in calls}
    moved = {r["shop_id"] for r in new_calls} | {r["shop_id"] for r in new_states}
    moved |= {call_shop[cid] for cid, _ in cancels if cid in call_shop}
    for _cid, why in cancels:
        report.cancelled += 1
        report.cancelled_by_reason[why] = report.cancelled_by_reason.get(why, 0) + 1
    if changed_states:
        session.execute(update(AuditState), changed_states)  # bulk UPDATE by primary key
    if new_states:
        session.execute(insert(AuditState), new_states)
    if new_calls:
        created = session.execute(insert(PlannedCall).returning(PlannedCall.id, sort_by_parameter_order=True),
                                  new_calls).scalars().all()
        forget_fcr_verdicts(session, {r["shop_id"] for r in new_calls}, now)  # a repeat inside their windows
        session.execute(insert(PlannedCallEvent), [
            {"call_id": cid, "at": now, "actor": PLANNER, "action": "created", "from_status": None,
             "to_status": row["status"], "reason": row["reason"], "note": None,
             "details": {"rule": row["rule"], "rules_version": row["rules_version"],
                         "occurrence": row["occurrence"], "scheduled_at": row["scheduled_at"].isoformat()}}
            for cid, row in zip(created, new_calls)])
        report.created += sum(1 for r in new_calls if r["status"] == "planned")
        report.held_out += sum(1 for r in new_calls if r["status"] == "held_out")
    session.flush()
    if moved:
        refresh_states(session, moved, now=now, calls_only=True)


def _close_many(session: Session, closing: Sequence[tuple[int, str]], *, now: datetime, actor: str) -> None:
    """Cancel calls in bulk, each with its reason and an event: three statements, not three per call."""
    if not closing:
        return
    ids = [cid for cid, _ in closing]
    before = dict(session.execute(select(PlannedCall.id, PlannedCall.status).where(PlannedCall.id.in_(ids))).all())
    table = PlannedCall.__table__
    session.execute(update(table).where(table.c.id == bindparam("cid"))
                    .values(status="cancelled", open_key=None, cancel_reason=bindparam("why"), closed_at=now,
                            updated_at=now, owner_id=None, lease_until=None),
                    [{"cid": cid, "why": why} for cid, why in closing])
    session.execute(insert(PlannedCallEvent), [
        {"call_id": cid, "at": now, "actor": actor, "action": "cancelled", "from_status": before.get(cid),
         "to_status": "cancelled", "reason": why, "note": None, "details": {}} for cid, why in closing])


def _close(session: Session, call_id: int, status: str, reason: str, *, actor: str, now: datetime,
           note: str | None = None) -> None:
    before = session.scalar(select(PlannedCall.status).where(PlannedCall.id == call_id))
    session.execute(update(PlannedCall).where(PlannedCall.id == call_id)
                    .values(status=status, open_key=None, cancel_reason=reason, closed_at=now, updated_at=now,
                            owner_id=None, lease_until=None,
                            note=note if note is not None else PlannedCall.note))
    session.execute(insert(PlannedCallEvent).values(call_id=call_id, at=now, actor=actor, action=status,
                                                   from_status=before, to_status=status, reason=reason,
                                                   note=note, details={}))


# --------------------------------------------------------------------------- one call

def get_call(session: Session, call_id: Any, *, lang: str = "en") -> PlannedCall:
    """A planned call by id; a clear 404 otherwise."""
    try:
        cid = int(call_id)
    except (TypeError, ValueError):
        cid = None
    call = session.get(PlannedCall, cid) if cid is not None else None
    if call is None:
        raise NotFound(translations(lang).gettext("No planned call with the id %(call)s") % {"call": call_id})
    return call


def clean_note(value: Any, field_name: str, lang: str, *, required: bool) -> str | None:
    """A consultant's or merchant's note with its spaces tidied: required or not, at most MAX_NOTE."""
    text = " ".join(str(value or "").split())
    if not text:
        if required:
            raise refused(AuditError("request.empty_reason", field_name), lang)
        return None
    if len(text) > MAX_NOTE:
        raise refused(AuditError("request.too_long", field_name, max=MAX_NOTE), lang)
    return text


def _require_open(call: PlannedCall, action: str, lang: str) -> None:
    if call.status not in OPEN_STATUSES:
        t = _gettext(lang)
        raise CallNotOpen(error_text("request.not_open", {
            "call": call.id, "status": t(STATUSES.get(call.status, call.status)), "action": t(action)}, t))


def stored_facts(session: Session, shop: Shop) -> ShopFacts:
    """The facts the planner stored for the shop, or built now when it has not read the shop under
    today's facts version (the demo loader's rows, facts_version 0, wait for the planner's first run)."""
    state = session.get(AuditState, shop.id)
    if state is not None and state.facts_version == FACTS_VERSION:
        return ShopFacts.from_dict(state.facts)
    return build_facts(session, [shop])[shop.id][0]


def shop_contact(session: Session, shop: Shop) -> slots.Contact:
    """What the law and the merchant's wishes say about phoning this shop (read only)."""
    return contact_for(stored_facts(session, shop))


def snooze_call(session: Session, call_id: Any, *, until: datetime, reason: str, actor: str,
                now: datetime | None = None, lang: str = "en") -> PlannedCall:
    """Put a planned call off until a date ("on holiday until 12 Jan"), with the reason kept."""
    from audits.messages import N_

    now = _aware(now or utcnow())
    call = get_call(session, call_id, lang=lang)
    _require_open(call, N_("snoozed"), lang)
    note = clean_note(reason, "reason", lang, required=True)
    if until.tzinfo is None:
        raise refused(AuditError("request.naive_time", "until"), lang)
    if until <= now:
        raise refused(AuditError("request.in_the_past", "until", value=until.isoformat()), lang)
    shop = session.get(Shop, call.shop_id)
    try:
        slot = slots.next_slot(shop_contact(session, shop), until, call.purpose)
    except slots.NoSlot as exc:
        raise refused(AuditError("request.no_slot", "until", value=until.isoformat(), market=shop.market,
                                 days=CALLBACK_HORIZON_DAYS), lang) from exc
    before = call.status
    call.status, call.snoozed_until, call.note, call.updated_at = "snoozed", _aware(until), note, now
    call.owner_id, call.lease_until = None, None  # a claimed call put off goes back to nobody
    call.scheduled_at = slot.at
    call.due_until = max(call.due_until, slot.at + timedelta(hours=1))
    session.add(PlannedCallEvent(call_id=call.id, at=now, actor=actor, action="snoozed", from_status=before,
                                 to_status="snoozed", reason="manual", note=note,
                                 details={"until": _aware(until).isoformat(), "scheduled_at": slot.at.isoformat()}))
    session.flush()
    refresh_states(session, [call.shop_id], now=now, calls_only=True)
    return call


def cancel_call(session: Session, call_id: Any, *, reason: str, actor: str, now: datetime | None = None,
                lang: str = "en") -> PlannedCall:
    """Withdraw a planned call by hand, with the reason kept for the next consultant."""
    from audits.messages import N_

    now = _aware(now or utcnow())
    call = get_call(session, call_id, lang=lang)
    _require_open(call, N_("cancelled"), lang)
    note = clean_note(reason, "reason", lang, required=True)
    _close(session, call.id, "cancelled", "manual", actor=actor, now=now, note=note)
    session.flush()
    session.refresh(call)
    refresh_states(session, [call.shop_id], now=now, calls_only=True)
    return call


# --------------------------------------------------------------------------- callbacks

def parse_moment(value: Any, field_name: str, lang: str = "en") -> datetime:
    """An ISO 8601 moment with its offset (a naive time is ambiguous across markets)."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise refused(AuditError("request.bad_time", field_name, value=repr(value)), lang) from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise refused(AuditError("request.naive_time", field_name), lang)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise refused(AuditError("request.bad_time", field_name, value=repr(value)), lang) from exc


def offered_slots(session: Session, shop: Shop | str, *, now: datetime | None = None, lang: str = "en") -> list[slots.Slot]:
    """A few moments the merchant can pick for a callback, each an allowed calling time."""
    now = _aware(now or utcnow())
    shop = resolve_shop(session, shop, lang=lang)
    rules = rules_for(shop.market, lang)
    return slots.offer_slots(shop_contact(session, shop), now, "service", count=rules.callbacks.offered_slots)


OPEN_CALLBACK = "callback:callback"
#: A callback counts as moved when it is planned later than the merchant's wish by more than this.
MOVED_AFTER = timedelta(minutes=1)


def open_callback(session: Session, shop: Shop) -> PlannedCall | None:
    """The merchant's open callback request, if any (a shop has at most one)."""
    return session.scalar(select(PlannedCall).where(PlannedCall.shop_id == shop.id,
                                                    PlannedCall.open_key == OPEN_CALLBACK))


def callback_moved(call: PlannedCall) -> bool:
    """True when a callback is planned later than the merchant asked (outside calling hours)."""
    if call.kind != "callback":
        return False
    wished = (call.params or {}).get("requested_for")
    try:
        wish = datetime.fromisoformat(wished) if wished else call.requested_at
    except (TypeError, ValueError):
        wish = call.requested_at
    return wish is not None and call.scheduled_at - wish > MOVED_AFTER


def check_callback_request(at: Any, note: Any, *, now: datetime | None = None,
                           lang: str = "en") -> tuple[datetime | None, str | None]:
    """The wished moment and the note, checked together: every problem is named at once."""
    now = _aware(now or utcnow())
    errors: list[Any] = []
    moment = None
    if at is not None:
        try:
            moment = parse_moment(at, "at", lang)
        except AuditRequestError as exc:
            errors.extend(exc.errors)
        else:
            if moment < now - timedelta(minutes=1):
                errors.append(AuditError("request.in_the_past", "at", value=moment.isoformat()))
            elif moment > now + timedelta(days=CALLBACK_HORIZON_DAYS):
                errors.append(AuditError("request.too_far", "at", value=moment.isoformat(), days=CALLBACK_HORIZON_DAYS))
    text = None
    try:
        text = clean_note(note, "note", lang, required=False)
    except AuditRequestError as exc:
        errors.extend(exc.errors)
    if errors:
        t = _gettext(lang)
        shown = [e.as_dict(t) if isinstance(e, AuditError) else e for e in errors]
        raise AuditRequestError(shown, shown[0]["message"])
    return moment, text


def request_callback(session: Session, shop: Shop | str, *, now: datetime | None = None,
                     at: datetime | None = None, note: str | None = None, via: str = "api",
                     actor: str = "merchant", lang: str = "en") -> PlannedCall:
    """A merchant asks for a call now (``at`` None) or at a moment they picked.

    The call is put at the first allowed calling moment at or after the wish, in the
    merchant's market; it goes ahead of every audit and is never held out. A second
    request while one is open moves that one (one open callback per shop).
    """
    now = _aware(now or utcnow())
    shop = resolve_shop(session, shop, lang=lang)
    rules = rules_for(shop.market, lang)
    at, text = check_callback_request(at, note, now=now, lang=lang)
    wish = max(at, now) if at is not None else now
    contact = shop_contact(session, shop)
    try:
        slot = slots.next_slot(contact, wish, "service", latest=wish + timedelta(days=CALLBACK_HORIZON_DAYS))
    except slots.NoSlot as exc:
        raise refused(AuditError("request.no_slot", "at" if at is not None else "now", value=wish.isoformat(),
                                 market=shop.market, days=CALLBACK_HORIZON_DAYS), lang) from exc
    until = due_until(shop.market, slot.at, rules.callbacks.window)
    facts = stored_facts(session, shop)
    agenda = [a.as_dict() for a in build_agenda(facts, "callback", note=text)]
    params = {"requested_for": wish.isoformat(), "now": at is None}
    rank = queue_context(session).rank(rules, "callback", facts.gain, shop.market, slot.at)
    call = PlannedCall(
        rank=rank, language=merchant_language(facts),
        shop_id=shop.id, market=shop.market, kind="callback", reason="callback", rule="callback",
        rules_version=rules.version,
        occurrence=f"asked@{now.isoformat()}", trigger="callback", purpose="service", status="planned",
        open_key=OPEN_CALLBACK, due_from=slot.at, due_until=until, scheduled_at=slot.at,
        preference_met=slot.preference_met, params=params, agenda=agenda, holdout=False, note=text,
        requested_at=now, requested_via=via, created_by=actor, created_at=now, updated_at=now)
    existing = open_callback(session, shop)
    if existing is None:
        try:
            with session.begin_nested():  # two tabs asking at once: the second moves the first's call
                session.add(call)
                session.flush()
                forget_fcr_verdicts(session, [shop.id], now)  # a repeat inside their windows
        except IntegrityError:
            existing = open_callback(session, shop)
            if existing is None:
                raise
        else:
            session.add(PlannedCallEvent(call_id=call.id, at=now, actor=actor, action="created", from_status=None,
                                         to_status="planned", reason="callback", note=text,
                                         details={"via": via, "scheduled_at": slot.at.isoformat()}))
            session.flush()
            refresh_states(session, [shop.id], now=now, calls_only=True)
            return call
    before, before_status = existing.scheduled_at, existing.status
    existing.scheduled_at, existing.due_from, existing.due_until = slot.at, slot.at, until
    existing.requested_at, existing.requested_via, existing.note = now, via, text or existing.note
    existing.params, existing.agenda, existing.updated_at = params, agenda, now
    existing.status, existing.snoozed_until = "planned", None
    session.add(PlannedCallEvent(call_id=existing.id, at=now, actor=actor, action="rescheduled",
                                 from_status=before_status, to_status="planned", reason="callback", note=text,
                                 details={"from": before.isoformat(), "to": slot.at.isoformat(), "via": via}))
    session.flush()
    refresh_states(session, [shop.id], now=now, calls_only=True)
    return existing


def service_wait_minutes(call: PlannedCall, market: str) -> float | None:
    """A callback's wait, in the market's allowed calling minutes: request to first attempt
    (or, until one is made, to the moment it is planned for)."""
    if call.requested_at is None:
        return None
    end = call.first_attempt_at or call.scheduled_at
    contact = slots.Contact(market=market)
    return round(slots.allowed_minutes(contact, call.requested_at, max(end, call.requested_at), "service"), 1)


# --------------------------------------------------------------------------- reading

def list_calls(session: Session, *, shop: Shop | str | None = None, status: str | None = None,
               due_before: datetime | None = None, limit: int = 200, lang: str = "en") -> list[tuple[PlannedCall, Shop]]:
    """Planned calls, callbacks first, then by the moment they are planned for."""
    q = select(PlannedCall, Shop).join(Shop, Shop.id == PlannedCall.shop_id)
    if shop is not None:
        q = q.where(PlannedCall.shop_id == resolve_shop(session, shop, lang=lang).id)
    if status is not None:
        if status == "open":
            q = q.where(PlannedCall.status.in_(OPEN_STATUSES))
        else:
            q = q.where(PlannedCall.status == status)
    if due_before is not None:
        q = q.where(PlannedCall.scheduled_at < due_before)
    order = [(PlannedCall.kind != "callback"), PlannedCall.scheduled_at, PlannedCall.id]
    return list(session.execute(q.order_by(*order).limit(limit)).tuples())


def call_history(session: Session, call: PlannedCall) -> list[PlannedCallEvent]:
    return list(session.scalars(select(PlannedCallEvent).where(PlannedCallEvent.call_id == call.id)
                                .order_by(PlannedCallEvent.at, PlannedCallEvent.id)))


def call_as_dict(call: PlannedCall, shop: Shop, *, lang: str = "en",
                 history: Sequence[PlannedCallEvent] | None = None) -> dict[str, Any]:
    """A planned call as every channel shows it (the `calls list --json` and API contract)."""
    t = _gettext(lang)
    m = locales.get_market(shop.market)
    local = call.scheduled_at.astimezone(m.tz)
    out = {
        "id": call.id, "shop": shop.platform_id, "market": shop.market, "kind": call.kind,
        "kind_label": t(KINDS.get(call.kind, call.kind)), "reason": call.reason, "rule": call.rule,
        "rules_version": call.rules_version, "occurrence": call.occurrence, "purpose": call.purpose,
        "status": call.status, "status_label": t(STATUSES.get(call.status, call.status)),
        "why": call_reason(call, shop, lang),
        "scheduled_at": call.scheduled_at.isoformat(), "scheduled_local": local.isoformat(),
        "timezone": m.timezone, "due_from": call.due_from.isoformat(), "due_until": call.due_until.isoformat(),
        "preference_met": call.preference_met, "holdout": call.holdout,
        "agenda": render_agenda(call.agenda, market=shop.market, lang=lang, gettext=t),
        "agenda_items": list(call.agenda or []), "gain": call.gain, "note": call.note,
        "snoozed_until": call.snoozed_until.isoformat() if call.snoozed_until else None,
        "cancel_reason": call.cancel_reason,
        "cancel_reason_text": render_cancel_reason(call.cancel_reason, {"actor": "", "note": call.note or ""}, t)
        if call.cancel_reason and call.cancel_reason != "manual" else call.note if call.cancel_reason else None,
        "attempts": call.attempts, "outcome": call.outcome, "language": call.language, "rank": round(call.rank, 6),
        "token": call.token, "lease_until": call.lease_until.isoformat() if call.lease_until else None,
        "requested_at": call.requested_at.isoformat() if call.requested_at else None,
        "requested_via": call.requested_via,
        "created_at": call.created_at.isoformat(), "updated_at": call.updated_at.isoformat(),
        "closed_at": call.closed_at.isoformat() if call.closed_at else None,
    }
    if call.kind == "callback":
        out["wait_minutes"] = service_wait_minutes(call, shop.market)
        out["requested_for"] = (call.params or {}).get("requested_for")
        out["moved"] = callback_moved(call)
    if history is not None:
        out["history"] = [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "from": e.from_status,
                           "to": e.to_status, "reason": e.reason, "note": e.note} for e in history]
    return out


def rules_as_dict(market: str, lang: str = "en") -> dict[str, Any]:
    """A market's audit rules as data (the `audits rules --json` contract)."""
    rules = rules_for(market, lang)
    return {
        "market": rules.market, "version": rules.version, "holdout_share": rules.holdout_share,
        "callbacks": {"window": _window_dict(rules.callbacks.window),
                      "service_level": {"target_minutes": rules.callbacks.target_minutes,
                                        "target_share": rules.callbacks.target_share},
                      "offered_slots": rules.callbacks.offered_slots},
        "rules": [{"key": r.key, "kind": r.kind, "purpose": r.purpose,
                   "trigger": {"type": r.trigger.type, **dict(r.trigger.params)},
                   "window": _window_dict(r.window), "min_gain": r.min_gain} for r in rules.rules],
    }


def _window_dict(w: Any) -> dict[str, int]:
    return {"business_days": w.business_days} if w.business_days else {"days": w.days}


def holdout_summary(session: Session) -> dict[str, Any]:
    """How many audit firings were held out, overall and per market (callbacks never are)."""
    rows = session.execute(select(PlannedCall.market, PlannedCall.holdout, func.count())
                           .where(PlannedCall.kind != "callback")
                           .group_by(PlannedCall.market, PlannedCall.holdout)).all()  # planned_call.market: no join
    per: dict[str, dict[str, int]] = {}
    for market, held, n in rows:
        per.setdefault(market, {"held_out": 0, "total": 0})
        per[market]["total"] += n
        if held:
            per[market]["held_out"] += n
    total = sum(v["total"] for v in per.values())
    held = sum(v["held_out"] for v in per.values())
    return {"total": total, "held_out": held, "share": round(held / total, 4) if total else None,
            "markets": {k: {**v, "share": round(v["held_out"] / v["total"], 4) if v["total"] else None}
                        for k, v in sorted(per.items())}}
