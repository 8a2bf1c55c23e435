"""The read model: one `shop_state` row per shop, computed from its history, kept current.

Observations, scores, calls and planned calls stay the truth. `state_rows` folds what a
list, a filter or a count needs out of them (stage, readiness, persona, latest score,
last reached call, next planned call...), many shops per query like
`audits.build_facts`. Every operation that changes a shop calls `refresh_states` once
for the shops it touched, in its own transaction (operations flush, the shell commits);
`rebuild_states` (`concierge state rebuild`) recomputes every row from history. Lists
read the table with SQL (`list_states`) and never fold a profile per request.

The same fold writes each shop's `profile_snapshot` row (`profile_schema.snapshot`): the
folded profile and the changes since the last reached call, which the shop page, the
API's profile and the picture read (`profiles.shop_view`) instead of replaying every
observation. Refreshed, rebuilt and checked against history together with `shop_state`.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    String,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

import profile_schema
from audits.messages import OPEN_STATUSES

from ..db import UTCDateTime, utcnow
from ..models import (
    AuditState,
    Call,
    ModelVersion,
    PlannedCall,
    ProfileSnapshot,
    Score,
    Shop,
    ShopState,
)
from ..reporting import Column
from ..scoring.outcome import decision
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


def topics_key(topics: Iterable[str] | None) -> str:
    """The help topics as stored in `shop_state.help_topics`: "|a|b|" (sorted), "" for none."""
    keys = sorted({str(t) for t in topics or () if t})
    return f"|{'|'.join(keys)}|" if keys else ""


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


def _chunk(session: Session, ids: Sequence[int], now: datetime,
           known: Mapping[int, list[profile_schema.Observation]] | None = None,
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(shop_state rows, profile_snapshot rows) of these shops: each profile folded once for both.

    ``known``: shops whose every observation the caller holds (as the database gives them
    back), not read again.
    """
    from profile_schema.snapshot import fold_with_snapshot

    shops = session.execute(select(Shop.id, Shop.platform_id, Shop.market, Shop.name, Shop.trial_started_at,
                                   Shop.trial_ends_at, Shop.outcome, Shop.outcome_at, Shop.holdout)
                            .where(Shop.id.in_(ids)).order_by(Shop.id)).all()
    if not shops:
        return [], []
    ids = [s.id for s in shops]
    platform = {s.id: s.platform_id for s in shops}
    if known:
        by_shop = {sid: known[sid] for sid in ids if sid in known}
        rest = {sid: pid for sid, pid in platform.items() if sid not in by_shop}
        if rest:
            by_shop.update(observations_by_shop(session, rest))
    else:
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
    registry = profile_schema.load_registry()
    out, snapshots = [], []
    for s in shops:
        obs = by_shop[s.id]
        score = scores.get(s.id)
        last = reached.get(s.id)
        last_call = last[2] if last else None
        profile, body = fold_with_snapshot(obs, shop=s.platform_id, market=s.market, since=last_call,
                                           schema=registry)
        snapshots.append({"shop_id": s.id, "schema_version": registry.latest.version, "last_call_at": last_call,
                          "observations": len(obs), "body": body, "updated_at": now})
        out.append({
            "shop_id": s.id, "platform_id": s.platform_id, "market": s.market, "name": s.name,
            "search_key": search_key(s.name, s.platform_id),
            "trial_started_at": s.trial_started_at, "trial_ends_at": s.trial_ends_at,
            "outcome": s.outcome, "outcome_at": s.outcome_at,
            **dict(zip(("converted", "decided_at"), decision(s.market, s.outcome, s.outcome_at, s.trial_ends_at))),
            "stage": profile.readiness.stage, "readiness_percent": profile.readiness.percent,
            "persona": profile.persona, "business_type": profile.business.type, "language": profile.language,
            "score": score[1] if score else None, "gain": score[2] if score else None,
            "scored_at": score[3] if score else None, "score_model_version": score[4] if score else None,
            "consultant": last[1] if last else None, "last_reached_at": last[2] if last else None,
            "contacted": last is not None, **calls[s.id],
            "observations": len(obs), "help_topics": topics_key(profile.needs), "updated_at": now,
        })
    return out, snapshots


def state_rows(session: Session, shop_ids: Iterable[Any], *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The shop_state rows of these shops, computed from their history (unknown ids are skipped)."""
    return _in_chunks(session, shop_ids, now, 0)


def snapshot_rows(session: Session, shop_ids: Iterable[Any], *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The profile_snapshot rows of these shops, computed from their history (unknown ids are skipped)."""
    return _in_chunks(session, shop_ids, now, 1)


def _in_chunks(session: Session, shop_ids: Iterable[Any], now: datetime | None, part: int) -> list[dict[str, Any]]:
    """One part of `_chunk`'s answer (0: shop_state rows, 1: profile_snapshot rows), _CHUNK shops at a time."""
    now = now or utcnow()
    ids = _ids(shop_ids)
    session.flush()
    out: list[dict[str, Any]] = []
    for i in range(0, len(ids), _CHUNK):
        out += _chunk(session, ids[i:i + _CHUNK], now)[part]
    return out


def _write(session: Session, part: Sequence[int], now: datetime, *, delete_first: bool = True) -> int:
    """Write the shop_state and profile_snapshot rows of these shops from history; returns the shops."""
    rows, snapshots = _chunk(session, part, now)
    if delete_first:
        session.execute(delete(ShopState.__table__).where(ShopState.__table__.c.shop_id.in_(part)))
        session.execute(delete(ProfileSnapshot.__table__).where(ProfileSnapshot.__table__.c.shop_id.in_(part)))
    if rows:
        session.execute(insert(ShopState.__table__), rows)
        session.execute(insert(ProfileSnapshot.__table__), snapshots)
    return len(rows)


def refresh_states(session: Session, shop_ids: Iterable[Any], *, now: datetime | None = None,
                   calls_only: bool = False) -> int:
    """Write these shops' rows again from their history (delete and insert by key, in bulk), and
    their profile snapshots (`ProfileSnapshot`, what the shop page reads) with them.

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
        written += _write(session, part, now)
    return written


def refresh_states_bulk(session: Session, shop_ids: Iterable[Any], *, now: datetime | None = None,
                        observations: Mapping[int, list[profile_schema.Observation]] | None = None) -> int:
    """`refresh_states` for many shops at the end of a bulk write (`concierge ingest events`): the
    same rows, written as tuples through the driver (`bulk`), and the shops in ``observations``
    folded from the observations given there (every one the shop has, as the database gives
    them back: the shops the run created) instead of reading them again. Returns the rows written.
    """
    from . import bulk

    ids = _ids(shop_ids)
    if not ids:
        return 0
    now = now or utcnow()
    session.flush()
    dialect = bulk.dialect_of(session)
    if dialect not in bulk.FAST_DIALECTS:
        return refresh_states(session, ids, now=now)
    states, snaps = ShopState.__table__, ProfileSnapshot.__table__
    written = 0
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        rows, snapshots = _chunk(session, part, now, observations)
        session.execute(delete(states).where(states.c.shop_id.in_(part)))
        session.execute(delete(snaps).where(snaps.c.shop_id.in_(part)))
        bulk.insert_dicts(session, states, rows, COLUMNS)
        bulk.insert_dicts(session, snaps, snapshots, _SNAPSHOT_COLUMNS)
        written += len(rows)
    return written


_SNAPSHOT_COLUMNS = tuple(c.name for c in ProfileSnapshot.__table__.columns)


def rebuild_states(session: Session, *, now: datetime | None = None) -> int:
    """Recompute every shop's row and profile snapshot from history (both tables are emptied
    first). Returns the count."""
    now = now or utcnow()
    session.flush()
    session.execute(delete(ShopState.__table__))
    session.execute(delete(ProfileSnapshot.__table__))
    ids = list(session.scalars(select(Shop.id).order_by(Shop.id)))
    count = 0
    for i in range(0, len(ids), _CHUNK):
        count += _write(session, ids[i:i + _CHUNK], now, delete_first=False)
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
DRILL_FILTERS = ("market", "stage", "stages", "outcome", "consultant", "persona", "business_type", "topic", "held_out",
                 "contacted", "trial_from", "trial_to", "closed_from", "closed_to", "ended_from", "ended_to",
                 "min_score", "max_score")


def state_filters(*, q: str | None = None, market: str | None = None, stage: str | None = None,
                  stages: Sequence[str] | None = None, outcome: str | None = None, consultant: str | None = None,
                  persona: str | None = None, business_type: str | None = None, topic: str | None = None,
                  held_out: bool | None = None,
                  contacted: bool | None = None, trial_from: datetime | None = None, trial_to: datetime | None = None,
                  closed_from: datetime | None = None, closed_to: datetime | None = None,
                  ended_from: datetime | None = None, ended_to: datetime | None = None,
                  min_score: float | None = None, max_score: float | None = None) -> list[Any]:
    """The SQL conditions of a shop-list filter (`list_states`, the exports and the dashboard's cells).

    ``stages``: any of these stages (a funnel step: the shops that reached it); ``trial_from``
    and ``trial_to``: trial start in [from, to); ``closed_from``/``closed_to``: outcome in
    [from, to); ``ended_from``/``ended_to``: trial end in [from, to); ``outcome`` is converted,
    not_converted or open (no outcome yet); scores are
    probabilities 0..1 (a shop without a score never matches a score bound); ``topic``: the
    merchant named this help topic (`help_topics`) in their latest answer.
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
    if topic:
        where.append(ShopState.help_topics.contains(f"|{topic}|", autoescape=True))
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
    if ended_from is not None:
        where.append(ShopState.trial_ends_at >= ended_from)
    if ended_to is not None:
        where.append(ShopState.trial_ends_at < ended_to)
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
    """Everyone who has reached a merchant, for the list's consultant filter.

    A loose index scan (a recursive CTE stepping from one consultant to the next on their index):
    one index probe per consultant instead of reading every contacted shop's entry, as SELECT
    DISTINCT does (27 ms a page at 100k shops on PostgreSQL; a few dozen consultants).
    """
    return list(session.scalars(consultants_query()))


def consultants_query() -> Any:
    """The SELECT of `consultants` (a recursive CTE; the benchmark prints its plan)."""
    c = ShopState.__table__.c.consultant
    step = select(func.min(c).label("v")).cte("consultants", recursive=True)
    step = step.union_all(select(select(func.min(c)).where(c > step.c.v).scalar_subquery())
                          .where(step.c.v.is_not(None)))
    return select(step.c.v).where(step.c.v.is_not(None)).order_by(step.c.v)


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


# --------------------------------------------------------------------------- query parameters

#: Query parameters of the shop list (and of `_drill`) that `parse_filters` reads.
QUERY_KEYS = ("q", "market", "stage", "stages", "outcome", "consultant", "persona", "business_type", "topic",
              "held_out",
              "contacted", "trial_from", "trial_to", "closed_from", "closed_to", "ended_from", "ended_to",
              "score_min", "score_max")
_BOOLS = {"1": True, "true": True, "0": False, "false": False}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _values(args: Any, key: str) -> list[str]:
    """Every value of `key`: a MultiDict's list, a plain dict's value or list; empty ones dropped."""
    getlist = getattr(args, "getlist", None)
    if getlist is not None:
        raw = getlist(key)
    else:
        value = args.get(key)
        raw = [] if value is None else list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
    return [str(v).strip() for v in raw if v is not None and str(v).strip() != ""]


def _business_types() -> tuple[str, ...]:
    question = profile_schema.load_schema().questions.get("business.type")
    return tuple(question.choices) if question is not None else ()


#: The question whose answers `shop_state.help_topics` holds (the profile's ``needs``).
HELP_TOPICS_QUESTION = "needs.help_with"


def help_topics() -> tuple[str, ...]:
    """Every help topic a merchant can name (the choices of `HELP_TOPICS_QUESTION`)."""
    question = profile_schema.load_schema().questions.get(HELP_TOPICS_QUESTION)
    return tuple(question.choices) if question is not None else ()


def parse_filters(args: Any, *, lang: str | None = "en") -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The `state_filters` keywords of the shop list's query parameters (or the CLI's values), validated.

    ``args``: a Mapping with ``get`` (and ``getlist``, as werkzeug's MultiDict; a plain dict
    works too, a list value meaning a repeated parameter), with the keys of `QUERY_KEYS` and
    the `_drill` formats: markets from `locales`, stages from the schema, booleans "1"/"0",
    days "YYYY-MM-DD" (UTC midnight; ``*_to`` is exclusive), scores in whole percent 0-100.
    Returns (filters, problems): only valid, non-empty filters are kept; every value that was
    dropped is named in ``problems`` as (parameter, translated reason), so the list can ignore
    it and say so, and the CLI can refuse it. Pure: reads no database.
    """
    from locales import MARKET_CODES

    from ..i18n import translations

    _ = translations(lang).gettext
    filters: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []

    def first(key: str) -> str | None:
        found = _values(args, key)
        return found[0] if found else None

    def one_of(key: str, value: str, allowed: Sequence[str]) -> bool:
        if value in allowed:
            return True
        problems.append((key, _("%(value)s is not one of: %(expected)s") % {
            "value": value, "expected": ", ".join(allowed)}))
        return False

    q = first("q")
    if q:
        filters["q"] = q[:100]
    consultant = first("consultant")
    if consultant:
        filters["consultant"] = consultant[:200]
    market = first("market")
    if market and one_of("market", market.upper(), MARKET_CODES):
        filters["market"] = market.upper()
    stages = profile_schema.load_schema().stages
    stage = first("stage")
    if stage and one_of("stage", stage, stages):
        filters["stage"] = stage
    chosen = []
    for value in _values(args, "stages"):
        for part in (p.strip() for p in value.split(",")):
            if part and one_of("stages", part, stages) and part not in chosen:
                chosen.append(part)
    if chosen:
        filters["stages"] = chosen
    outcome = first("outcome")
    if outcome and one_of("outcome", outcome, OUTCOMES):
        filters["outcome"] = outcome
    persona = first("persona")
    if persona and one_of("persona", persona, profile_schema.PERSONAS):
        filters["persona"] = persona
    business_type = first("business_type")
    if business_type and one_of("business_type", business_type, _business_types()):
        filters["business_type"] = business_type
    topic = first("topic")
    if topic and one_of("topic", topic, help_topics()):
        filters["topic"] = topic
    for key in ("held_out", "contacted"):
        value = first(key)
        if value is None:
            continue
        if value.lower() in _BOOLS:
            filters[key] = _BOOLS[value.lower()]
        else:
            problems.append((key, _("%(value)s is not 1 (yes) or 0 (no)") % {"value": value}))
    for key in ("trial_from", "trial_to", "closed_from", "closed_to", "ended_from", "ended_to"):
        value = first(key)
        if value is None:
            continue
        try:
            if not _DATE.match(value):
                raise ValueError(value)
            day = date.fromisoformat(value)
        except ValueError:
            problems.append((key, _("%(value)s is not a day (YYYY-MM-DD)") % {"value": value}))
            continue
        filters[key] = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    for key, target in (("score_min", "min_score"), ("score_max", "max_score")):
        value = first(key)
        if value is None:
            continue
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or not 0 <= number <= 100:
            problems.append((key, _("%(value)s is not a score from 0 to 100") % {"value": value}))
            continue
        filters[target] = int(number) / 100  # whole percent, as the list has always read it
    return filters, problems


def filter_query(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The query parameters of `state_filters` keywords (the inverse of `parse_filters`), for links
    that keep the filters: days as YYYY-MM-DD, booleans as "1"/"0", scores in whole percent."""
    out: dict[str, Any] = {}
    for key, value in filters.items():
        if value is None or value == "" or value == []:
            continue
        if key in ("min_score", "max_score"):
            out["score_min" if key == "min_score" else "score_max"] = str(round(float(value) * 100))
        elif isinstance(value, bool):
            out[key] = "1" if value else "0"
        elif isinstance(value, datetime):
            out[key] = value.astimezone(timezone.utc).date().isoformat()
        elif key == "stages":
            out[key] = list(value)
        else:
            out[key] = str(value)
    return out


# --------------------------------------------------------------------------- the export

#: The columns of the shop export (`GET /shops.csv`, `concierge shops --csv`), in order, with their kinds.
EXPORT_COLUMNS = (
    ("platform_id", "text"), ("name", "text"), ("market", "text"), ("language", "text"), ("stage", "text"),
    ("readiness_percent", "int"), ("persona", "text"), ("business_type", "text"), ("score", "float"),
    ("score_model_version", "text"), ("scored_at", "datetime"), ("consultant", "text"),
    ("last_reached_at", "datetime"), ("contacted", "bool"), ("held_out", "bool"), ("next_call_at", "datetime"),
    ("trial_started_at", "datetime"), ("trial_ends_at", "datetime"), ("outcome", "text"), ("outcome_at", "datetime"),
)


def export_columns(lang: str | None = "en") -> list[Column]:
    """The shop export's columns with their headers in the reader's language (one home for the web and the CLI).

    Values stay raw and typed: stage, persona, business type and outcome as their schema keys
    (stable for scripts), the score as a probability 0..1, readiness in whole percent.
    """
    from ..i18n import translations

    _ = translations(lang).gettext
    labels = {
        "platform_id": _("Shop id"), "name": _("Name"), "market": _("Market"), "language": _("Language"),
        "stage": _("Stage"), "readiness_percent": _("Readiness (0-100)"), "persona": _("Persona"),
        "business_type": _("Business type"), "score": _("Score (probability 0-1)"),
        "score_model_version": _("Scoring model"), "scored_at": _("Scored at"), "consultant": _("Consultant"),
        "last_reached_at": _("Last reached call"), "contacted": _("Contacted"),
        "held_out": _("Held out from calls"), "next_call_at": _("Next call"),
        "trial_started_at": _("Trial started"), "trial_ends_at": _("Trial ends"), "outcome": _("Outcome"),
        "outcome_at": _("Outcome at"),
    }
    return [Column(key, labels[key], kind) for key, kind in EXPORT_COLUMNS]


def _iso_text(column: Any, dialect: str) -> Any:
    """A UTC datetime column as the text `datetime.isoformat` gives its value ("2026-03-02T09:00:00+00:00",
    microseconds only when there are some), computed by the database; None where the backend has no
    such expression (the caller then reads the typed column)."""
    if dialect == "postgresql":
        utc = func.timezone("UTC", column)  # timestamptz -> the UTC wall time
        frac = case((func.to_char(utc, "US") == "000000", ""), else_=func.to_char(utc, ".US"))
        return func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS').concat(frac).concat("+00:00")
    if dialect == "sqlite":  # stored by SQLAlchemy as "YYYY-MM-DD HH:MM:SS.ffffff", in UTC (db.UTCDateTime)
        return func.replace(func.replace(type_coerce(column, String), " ", "T"), ".000000", "").concat("+00:00")
    return None


def iter_states(session: Session, *, sort: str = "newest", limit: int | None = None, offset: int = 0,
                chunk: int = 1000, iso_datetimes: bool = False, **filters: Any) -> Iterator[Mapping[str, Any]]:
    """Stream the shop_state rows that match (`state_filters`), sorted as the list (`sort_order`).

    Rows come ``chunk`` at a time from a server-side cursor on PostgreSQL (``yield_per``:
    stream_results) and from SQLite's lazily fetched cursor, so an export of 100k shops
    never holds them all. Each row is a read-only mapping of the `EXPORT_COLUMNS` (plus
    ``shop_id``). ``iso_datetimes``: the datetime columns come as their ISO 8601 text (what
    `isoformat` writes), formatted by the database: the export then spends no Python time
    converting and formatting 600k datetimes (a third of its time at 100k shops). Reads only;
    the caller's session stays in its transaction until the end.
    """
    table = ShopState.__table__
    dialect = session.get_bind().dialect.name
    columns = []
    for key in ["shop_id", *(k for k, _kind in EXPORT_COLUMNS)]:
        column = table.c[key]
        text = _iso_text(column, dialect) if iso_datetimes and isinstance(column.type, UTCDateTime) else None
        columns.append(column if text is None else text.label(key))
    query = (select(*columns).where(*state_filters(**filters)).order_by(*sort_order(sort))
             .offset(max(0, offset)))
    if limit is not None:
        query = query.limit(limit)
    # Core rows through the session's connection (its transaction): no ORM loading per row
    result = session.connection().execute(query.execution_options(yield_per=chunk))
    try:
        for part in result.partitions():
            for row in part:
                yield row._mapping
    finally:
        result.close()


def export_csv(session: Session, *, lang: str | None = "en", sort: str = "newest", limit: int | None = None,
               offset: int = 0, chunk_chars: int = 65536, **filters: Any) -> Iterator[str]:
    """The shop export as CSV text (`reporting.csv_lines` over `iter_states` with `export_columns`),
    in pieces of about ``chunk_chars`` characters: a few hundred rows per write, never the whole
    list. The one home of `GET /shops.csv` and `concierge shops --csv`."""
    from ..reporting import csv_lines

    buffer: list[str] = []
    size = 0
    for line in csv_lines(export_columns(lang), iter_states(session, sort=sort, limit=limit, offset=offset,
                                                            iso_datetimes=True, **filters)):
        buffer.append(line)
        size += len(line)
        if size >= chunk_chars:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)
