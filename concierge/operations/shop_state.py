"""The read model: one `shop_state` row per shop, computed from its history, kept current.

Observations, scores, calls and planned calls stay the truth. `state_rows` folds what a
list, a filter or a count needs out of them (stage, readiness, persona, latest score,
last reached call, next planned call...), many shops per query like
`audits.build_facts`. Every operation that changes a shop calls `refresh_states` once
for the shops it touched, in its own transaction (operations flush, the shell commits);
`rebuild_states` (`concierge state rebuild`) recomputes every row from history. Lists
read the table with SQL (`list_states`) and never fold a profile per request.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

import profile_schema
from audits.planner import OPEN_STATUSES

from ..db import utcnow
from ..models import (
    AuditState,
    Call,
    ModelVersion,
    PlannedCall,
    Score,
    Shop,
    ShopState,
)
from .profiles import observations_by_shop

_CHUNK = 500  # shops per query: well under every backend's parameter limit

#: The columns `state_rows` fills (every ShopState column).
COLUMNS = tuple(c.name for c in ShopState.__table__.columns)
#: What a planned call or the planner's arm changes: refreshed without folding the profile.
CALL_COLUMNS = ("held_out", "next_call_at")
OUTCOMES = ("converted", "not_converted", "open")
SORTS = ("newest", "score", "trial_start", "name")


def search_key(name: str | None, platform_id: str) -> str:
    """Name and shop id folded for search: case, accents and the Turkish dotted I do not matter."""
    text = f"{name or ''} {platform_id}"
    try:
        from locales.text import fold_for_search

        return fold_for_search(text, strip_accents=True)
    except ImportError:  # pragma: no cover - locales is always installed with concierge
        return text.casefold()


def _ids(shop_ids: Iterable[Any]) -> list[int]:
    return sorted({int(i) for i in shop_ids if i is not None})


def _call_fields(session: Session, ids: Sequence[int], shop_holdout: dict[int, bool]) -> dict[int, dict[str, Any]]:
    """held_out (the planner's arm once it has seen the shop, else the shop's own) and the
    earliest open planned call, for shops in `shop_holdout`."""
    arm = dict(session.execute(select(AuditState.shop_id, AuditState.holdout)
                               .where(AuditState.shop_id.in_(ids))).all())
    nxt = dict(session.execute(select(PlannedCall.shop_id, func.min(PlannedCall.scheduled_at))
                               .where(PlannedCall.shop_id.in_(ids), PlannedCall.status.in_(OPEN_STATUSES))
                               .group_by(PlannedCall.shop_id)).all())
    return {sid: {"held_out": bool(arm[sid]) if sid in arm else bool(held), "next_call_at": nxt.get(sid)}
            for sid, held in shop_holdout.items()}


def _chunk_rows(session: Session, ids: Sequence[int], now: datetime) -> list[dict[str, Any]]:
    shops = session.execute(select(Shop.id, Shop.platform_id, Shop.market, Shop.name, Shop.trial_started_at,
                                   Shop.trial_ends_at, Shop.outcome, Shop.outcome_at, Shop.holdout)
                            .where(Shop.id.in_(ids)).order_by(Shop.id)).all()
    if not shops:
        return []
    ids = [s.id for s in shops]
    platform = {s.id: s.platform_id for s in shops}
    by_shop = observations_by_shop(session, platform)
    ranked = (select(Score.shop_id, Score.probability, Score.uplift, Score.scored_at, ModelVersion.version,
                     func.row_number().over(partition_by=Score.shop_id,
                                            order_by=(Score.scored_at.desc(), Score.id.desc())).label("n"))
              .join(ModelVersion, ModelVersion.id == Score.model_version_id)
              .where(Score.shop_id.in_(ids)).subquery())
    scores = {r[0]: r for r in session.execute(
        select(ranked.c.shop_id, ranked.c.probability, ranked.c.uplift, ranked.c.scored_at, ranked.c.version)
        .where(ranked.c.n == 1))}
    reached_ranked = (select(Call.shop_id, Call.actor, Call.called_at,
                             func.row_number().over(partition_by=Call.shop_id,
                                                    order_by=(Call.called_at.desc(), Call.id.desc())).label("n"))
                      .where(Call.shop_id.in_(ids), Call.reached.is_(True)).subquery())
    reached = {r[0]: r for r in session.execute(
        select(reached_ranked.c.shop_id, reached_ranked.c.actor, reached_ranked.c.called_at)
        .where(reached_ranked.c.n == 1))}
    calls = _call_fields(session, ids, {s.id: s.holdout for s in shops})
    out = []
    for s in shops:
        obs = by_shop[s.id]
        profile = profile_schema.fold(obs, shop=s.platform_id, market=s.market)
        score = scores.get(s.id)
        last = reached.get(s.id)
        out.append({
            "shop_id": s.id, "platform_id": s.platform_id, "market": s.market, "name": s.name,
            "search_key": search_key(s.name, s.platform_id),
            "trial_started_at": s.trial_started_at, "trial_ends_at": s.trial_ends_at,
            "outcome": s.outcome, "outcome_at": s.outcome_at,
            "stage": profile.readiness.stage, "readiness_percent": profile.readiness.percent,
            "persona": profile.persona, "business_type": profile.business.type, "language": profile.language,
            "score": score[1] if score else None, "gain": score[2] if score else None,
            "scored_at": score[3] if score else None, "score_model_version": score[4] if score else None,
            "consultant": last[1] if last else None, "last_reached_at": last[2] if last else None,
            "contacted": last is not None, **calls[s.id],
            "observations": len(obs), "updated_at": now,
        })
    return out


def state_rows(session: Session, shop_ids: Iterable[Any], *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The shop_state rows of these shops, computed from their history (unknown ids are skipped)."""
    now = now or utcnow()
    ids = _ids(shop_ids)
    session.flush()
    out: list[dict[str, Any]] = []
    for i in range(0, len(ids), _CHUNK):
        out += _chunk_rows(session, ids[i:i + _CHUNK], now)
    return out


def refresh_states(session: Session, shop_ids: Iterable[Any], *, now: datetime | None = None,
                   calls_only: bool = False) -> int:
    """Write these shops' rows again from their history (delete and insert by key, in bulk).

    ``calls_only``: only a planned call or the planner's arm changed, so only `held_out` and
    `next_call_at` are computed and updated (no profile fold); a shop without a row yet gets
    its whole row. Adds and flushes, never commits. Returns the rows written.
    """
    ids = _ids(shop_ids)
    if not ids:
        return 0
    now = now or utcnow()
    session.flush()  # pending shops, observations and calls are read back below
    table = ShopState.__table__
    written = 0
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        if calls_only:
            have = set(session.scalars(select(ShopState.shop_id).where(ShopState.shop_id.in_(part))))
            holdout = dict(session.execute(select(Shop.id, Shop.holdout).where(Shop.id.in_(sorted(have)))).all())
            fields = _call_fields(session, sorted(holdout), holdout)
            if fields:
                session.execute(update(table).where(table.c.shop_id == bindparam("sid"))
                                .values(held_out=bindparam("held"), next_call_at=bindparam("nxt"), updated_at=now),
                                [{"sid": sid, "held": f["held_out"], "nxt": f["next_call_at"]}
                                 for sid, f in fields.items()])
                written += len(fields)
            part = [sid for sid in part if sid not in have]
            if not part:
                continue
        rows = _chunk_rows(session, part, now)
        session.execute(delete(table).where(table.c.shop_id.in_(part)))
        if rows:
            session.execute(insert(table), rows)
        written += len(rows)
    return written


def rebuild_states(session: Session, *, now: datetime | None = None) -> int:
    """Recompute every shop's row from history (the table is emptied first). Returns the count."""
    now = now or utcnow()
    session.flush()
    table = ShopState.__table__
    session.execute(delete(table))
    ids = list(session.scalars(select(Shop.id).order_by(Shop.id)))
    count = 0
    for i in range(0, len(ids), _CHUNK):
        rows = _chunk_rows(session, ids[i:i + _CHUNK], now)
        if rows:
            session.execute(insert(table), rows)
        count += len(rows)
    session.flush()
    return count


def timed_rebuild(session: Session) -> dict[str, Any]:
    """`state rebuild --json`: {"shops": n, "seconds": s}."""
    started = time.perf_counter()
    n = rebuild_states(session)
    return {"shops": n, "seconds": round(time.perf_counter() - started, 3)}


def shop_ids_of(session: Session, platform_ids: Iterable[str]) -> list[int]:
    """The database ids of shops named by their platform ids (unknown ones are skipped)."""
    pids = sorted({p for p in platform_ids if p})
    out: list[int] = []
    for i in range(0, len(pids), _CHUNK):
        out += session.scalars(select(Shop.id).where(Shop.platform_id.in_(pids[i:i + _CHUNK])))
    return out


# --------------------------------------------------------------------------- reading

#: Filters a dashboard cell hands to the shop list (its drill-down), beside the list's own.
DRILL_FILTERS = ("market", "stage", "stages", "outcome", "consultant", "persona", "business_type", "held_out",
                 "contacted", "trial_from", "trial_to", "closed_from", "closed_to", "min_score", "max_score")


def state_filters(*, q: str | None = None, market: str | None = None, stage: str | None = None,
                  stages: Sequence[str] | None = None, outcome: str | None = None, consultant: str | None = None,
                  persona: str | None = None, business_type: str | None = None, held_out: bool | None = None,
                  contacted: bool | None = None, trial_from: datetime | None = None, trial_to: datetime | None = None,
                  closed_from: datetime | None = None, closed_to: datetime | None = None,
                  min_score: float | None = None, max_score: float | None = None) -> list[Any]:
    """The SQL conditions of a shop-list filter (`list_states`, the exports and the dashboard's cells).

    ``stages``: any of these stages (a funnel step: the shops that reached it); ``trial_from``
    and ``trial_to``: trial start in [from, to); ``closed_from``/``closed_to``: outcome in
    [from, to); ``outcome`` is converted, not_converted or open (no outcome yet); scores are
    probabilities 0..1 (a shop without a score never matches a score bound).
    """
    where: list[Any] = []
    if q:
        where.append(ShopState.search_key.contains(search_key(q, "").strip(), autoescape=True))
    if market:
        where.append(ShopState.market == market.upper())
    if stage:
        where.append(ShopState.stage == stage)
    if outcome == "open":
        where.append(ShopState.outcome.is_(None))
    elif outcome:
        where.append(ShopState.outcome == outcome)
    if consultant:
        where.append(ShopState.consultant == consultant)
    if min_score is not None:
        where.append(ShopState.score >= min_score)
    if max_score is not None:
        where.append(ShopState.score <= max_score)
    if stages:
        where.append(ShopState.stage.in_(list(stages)))
    if persona:
        where.append(ShopState.persona == persona)
    if business_type:
        where.append(ShopState.business_type == business_type)
    if held_out is not None:
        where.append(ShopState.held_out.is_(bool(held_out)))
    if contacted is not None:
        where.append(ShopState.contacted.is_(bool(contacted)))
    if trial_from is not None:
        where.append(ShopState.trial_started_at >= trial_from)
    if trial_to is not None:
        where.append(ShopState.trial_started_at < trial_to)
    if closed_from is not None:
        where.append(ShopState.outcome_at >= closed_from)
    if closed_to is not None:
        where.append(ShopState.outcome_at < closed_to)
    return where


def sort_order(sort: str) -> tuple[Any, ...]:
    """ORDER BY of a shop-list sort (newest first unless score, trial_start or name)."""
    return {
        "score": (ShopState.score.desc().nulls_last(), ShopState.shop_id.desc()),
        "trial_start": (ShopState.trial_started_at.desc().nulls_last(), ShopState.shop_id.desc()),
        "name": (func.lower(ShopState.name).asc().nulls_last(), ShopState.shop_id.asc()),
    }.get(sort, (ShopState.shop_id.desc(),))


def list_states(session: Session, *, sort: str = "newest", limit: int | None = 50, offset: int = 0,
                **filters: Any) -> tuple[list[ShopState], int]:
    """One page of shops from the read model, filtered (`state_filters`) and sorted in SQL, and how
    many match. ``sort`` is newest (default), score (highest first), trial_start (latest first) or name."""
    where = state_filters(**filters)
    order = sort_order(sort)
    total = session.scalar(select(func.count()).select_from(ShopState).where(*where)) or 0
    query = select(ShopState).where(*where).order_by(*order).offset(max(0, offset))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def consultants(session: Session) -> list[str]:
    """Everyone who has reached a merchant, for the list's consultant filter."""
    return list(session.scalars(select(ShopState.consultant).where(ShopState.consultant.is_not(None))
                                .distinct().order_by(ShopState.consultant)))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def state_summary(row: ShopState) -> dict[str, Any]:
    """A shop's list row (the `shops --json` and `GET /api/v1/shops` contract, as `shops.shop_summary`
    with its profile, plus the read model's score, consultant and next call)."""
    return {"id": row.platform_id, "market": row.market, "name": row.name, "outcome": row.outcome,
            "trial_started_at": _iso(row.trial_started_at), "trial_ends_at": _iso(row.trial_ends_at),
            "stage": row.stage, "percent": row.readiness_percent,
            "score": None if row.score is None else round(row.score, 4), "model_version": row.score_model_version,
            "consultant": row.consultant, "contacted": row.contacted, "held_out": row.held_out,
            "next_call_at": _iso(row.next_call_at)}
