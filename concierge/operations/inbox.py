"""The events inbox (queued mode): the webhook stores and acknowledges, a worker applies.

With `CONCIERGE_EVENTS_QUEUED` on (`concierge serve --production` turns it on) the webhook
does only what it must before answering: the same checks as the inline path (JSON, the
envelope and its data, the shop known, the answers valid for its market, the same id with
the same or another body), then one INSERT into `event_inbox` and the commit; it answers 202
`queued`. `concierge events worker` then takes the oldest rows in batches and applies them
through the batch ingest path (`events.ingest_lines`, the path `concierge ingest events`
uses), rescoring each shop once per batch and writing its `shop_state` row, and deletes the
rows, all in one transaction: an event is applied exactly once, and a worker that dies
mid-batch leaves its rows in the inbox for the next one.

The claim is that transaction's lock: PostgreSQL takes the rows `FOR UPDATE SKIP LOCKED` (so
several workers share the inbox), SQLite opens the batch with `BEGIN IMMEDIATE` (one writer).
An event is known by its id in `trial_event` or here, so a retried delivery is a duplicate
whether or not it was applied yet; a shop is known once it is in `shop` or its
`trial_started` is queued here.

Rejections are answered exactly as inline: when the check finds anything wrong, the webhook
hands the event to the inline path (`events.ingest_event`), which answers and dead-letters
it as it always has; only what the inline path cannot see (a clash with a queued event) is
answered here, in the same form. An event refused when applied (rare: a file import stored
the same id with another body meanwhile) becomes a dead letter then.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from ..db import utcnow
from ..ingest.events import load_mapping, plan_event
from ..models import EventInbox, Shop, TrialEvent
from .deadletters import store_dead_letter
from .events import (  # the inline path's own checks, so both modes answer alike
    CHANNEL, EventOutcome, _event_field_error, _message, _prepare, _Rejected, _Validator, ingest_lines,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # failed applies before a row is dead-lettered instead of tried again
WAIT_FOR_SHOP = timedelta(seconds=2)  # an event whose shop's trial_started is still queued

_validators: dict[str, _Validator] = {}  # per language, kept by the process (answers repeat)

_T, _I = TrialEvent.__table__, EventInbox.__table__
# one round trip: the stored and the queued body of this id, and the shop's market (known or queued)
_LOOKUP = select(
    select(_T.c.body_sha256).where(_T.c.id == bindparam("eid")).scalar_subquery(),
    select(_I.c.body_sha256).where(_I.c.event_id == bindparam("eid")).scalar_subquery(),
    select(Shop.__table__.c.market).where(Shop.__table__.c.platform_id == bindparam("shop")).scalar_subquery(),
    select(_I.c.market).where(_I.c.shop == bindparam("shop"), _I.c.creates_shop.is_(True))
    .order_by(_I.c.id).limit(1).scalar_subquery(),
)

_INSERT = insert(_I)


def _validator(lang: str) -> _Validator:
    v = _validators.get(lang)
    if v is None:
        v = _validators[lang] = _Validator(lang)
    return v


def queue_event(session: Session, raw: str, *, channel: str = "api", lang: str = "en",
                context: dict[str, Any] | None = None, now: datetime | None = None) -> EventOutcome | None:
    """Check one webhook event and queue it (202 `queued`), or answer it as a duplicate or a clash
    with a queued event; None when the inline path must answer it (any other rejection).

    Adds one inbox row (or a dead letter) and does not commit. A concurrent delivery of the same
    id raises IntegrityError at the insert (the unique event id): the caller starts over.
    """
    try:
        p = _prepare(None, raw, lang)
    except _Rejected:
        return None  # malformed or invalid: the inline path rejects it, word for word as before
    conn = session.connection()  # Core on the session's connection: the ORM has nothing to track here
    stored, queued, market, queued_market = conn.execute(_LOOKUP, {"eid": p.id, "shop": p.shop}).one()
    if stored is not None:
        if stored != p.sha:
            return None  # 409 against a stored event: the inline path's answer
        return EventOutcome(None, p.id, p.shop, p.etype.name, "duplicate", 200)
    if queued is not None:
        if queued != p.sha:
            return _refuse(session, p, raw, 409, [{"field": "id", "code": "conflicting_duplicate", "message":
                                                   "id: " + _message("conflicting_duplicate", lang, value=p.id)}],
                           channel=channel, lang=lang, context=context, now=now)
        return EventOutcome(None, p.id, p.shop, p.etype.name, "duplicate", 200)
    if p.etype.creates_shop:
        key = (p.etype.shop_fields or {}).get("market", "market")
        new_market = p.data.get(key)
        old = market or queued_market
        if old is not None and old != new_market:
            if market is not None:
                return None  # market_changed against the stored shop: the inline path's answer
            return _refuse(session, p, raw, 422, [{"field": f"data.{key}", "code": "market_changed",
                                                   "message": "data.market: " + _message(
                                                       "market_changed", lang, shop=p.shop, old=old,
                                                       value=new_market)}],
                           channel=channel, lang=lang, context=context, now=now)
        market = new_market
    else:
        market = market or queued_market
        if market is None:
            return None  # unknown shop: the inline path's 422 and dead letter
    answers, _ops = plan_event(p.etype, p.data, market)
    checked = _validator(lang)(answers, market)
    if checked.errors:
        if queued_market is None or p.etype.creates_shop:
            return None  # the inline path sees the same shop and finds the same errors
        return _refuse(session, p, raw, 422, [_event_field_error(p.etype, e) for e in checked.errors],
                       channel=channel, lang=lang, context=context, now=now)
    now = now or utcnow()
    conn.execute(_INSERT, {
        "event_id": p.id, "shop": p.shop, "type": p.etype.name, "creates_shop": p.etype.creates_shop,
        "market": market, "payload": raw, "body_sha256": p.sha, "received_at": now, "channel": channel,
        "lang": lang, "context": dict(context or {}), "attempts": 0, "available_at": now, "last_error": None})
    return EventOutcome(None, p.id, p.shop, p.etype.name, "queued", 202, observations=len(checked.values))


def _refuse(session: Session, p: Any, raw: str, status: int, errors: list[dict[str, Any]], *, channel: str,
            lang: str, context: dict[str, Any] | None, now: datetime | None) -> EventOutcome:
    """A rejection only the queue can see, dead-lettered as the inline path does its own."""
    ctx = {"channel": channel, "mapping": load_mapping().version, **(context or {})}
    letter = store_dead_letter(session, CHANNEL, raw, errors=errors, context=ctx, now=now)
    return EventOutcome(None, p.id, p.shop, p.etype.name, "rejected", status, errors=errors, dead_letter=letter)


# ------------------------------------------------------------------------------------ the worker

@dataclass
class BatchReport:
    """One batch applied by the worker (the `events worker --json` line)."""

    claimed: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0  # dead-lettered when applied
    waiting: int = 0  # left for later: their shop's trial_started is queued in another batch
    shops_rescored: int = 0
    dead_letters: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"claimed": self.claimed, "stored": self.stored, "duplicates": self.duplicates,
                "rejected": self.rejected, "waiting": self.waiting, "shops_rescored": self.shops_rescored,
                "dead_letters": self.dead_letters}


def _claim(session: Session, limit: int, now: datetime, ids: list[int] | None = None) -> list[Any]:
    """The oldest available rows, locked by this transaction (the claim)."""
    q = select(_I).where(_I.c.available_at <= now).order_by(_I.c.id).limit(limit)
    if ids is not None:
        q = select(_I).where(_I.c.id.in_(ids)).order_by(_I.c.id)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    else:  # SQLite: take the write lock before reading, so no other writer slips in between
        conn = session.connection()
        if not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return list(session.execute(q).all())


def apply_batch(session: Session, *, limit: int = 200, now: datetime | None = None,
                ids: list[int] | None = None) -> BatchReport:
    """Apply the oldest queued events (or the rows `ids`) and delete them; flushes, never commits.

    The caller commits: the events, their observations, the shops' scores and `shop_state`
    rows, and the deletion of the inbox rows land together or not at all.
    """
    from .observations import answers_changed
    from .shop_state import refresh_states, shop_ids_of

    now = now or utcnow()
    rows = _claim(session, limit, now, ids)
    report = BatchReport(claimed=len(rows))
    if not rows:
        return report
    by_id = {r.id: r for r in rows}
    summary = ingest_lines(session, [(r.id, r.payload) for r in rows], channel="api", lang="en",
                           dead_letters=False, keep_all=True, now=now, refresh=False)
    done: list[int] = []
    stored: list[tuple[str, Any]] = []  # (event id, received_at)
    rescore: set[str] = set()
    refresh: set[str] = set()
    waiting: list[tuple[int, str]] = []
    for out in summary.outcomes:
        row = by_id[out.line]
        if out.status == "stored":
            report.stored += 1
            stored.append((row.event_id, row.received_at))
            (rescore if out.observations else refresh).add(row.shop)
            done.append(row.id)
        elif out.status == "duplicate":
            report.duplicates += 1
            done.append(row.id)
        elif out.errors and out.errors[0].get("code") == "unknown_shop" and _shop_queued(session, row):
            waiting.append((row.id, f"waiting for shop {row.shop}'s trial_started (queued)"))
        else:
            report.rejected += 1
            ctx = {"channel": row.channel, "mapping": load_mapping().version, **(row.context or {}),
                   "lang": row.lang, "queued_at": row.received_at.isoformat()}
            letter = store_dead_letter(session, CHANNEL, row.payload, errors=out.errors, context=ctx, now=now)
            report.dead_letters.append(letter.id)
            log.warning("queued event %s was refused when applied (dead letter %s): %s", row.event_id,
                        letter.id, out.errors)
            done.append(row.id)
    if stored:  # when we received them, not when the worker got to them
        session.execute(update(_T).where(_T.c.id == bindparam("eid")).values(received_at=bindparam("at")),
                        [{"eid": eid, "at": at} for eid, at in stored])
    if done:
        session.execute(delete(_I).where(_I.c.id.in_(done)))
    if waiting:
        report.waiting = len(waiting)
        hold_back(session, waiting, now=now, delay=WAIT_FOR_SHOP, count=False)
    if rescore:  # once per shop per batch: its score, reasons and path, then its shop_state row
        ids_changed = shop_ids_of(session, rescore)
        answers_changed(session, ids_changed, now=now)
        report.shops_rescored = len(ids_changed)
    if refresh - rescore:
        refresh_states(session, shop_ids_of(session, refresh - rescore), now=now)
    session.flush()
    return report


def apply_queued_for_shop(session: Session, platform_id: str, *, now: datetime | None = None) -> int:
    """Apply this shop's queued events now, in the caller's transaction (a merchant's erasure must
    find everything they sent, not have the worker bring it back later). Returns the rows applied."""
    ids = list(session.scalars(select(_I.c.id).where(_I.c.shop == platform_id).order_by(_I.c.id)))
    if not ids:
        return 0
    return apply_batch(session, ids=ids, now=now).claimed


def _shop_queued(session: Session, row: Any) -> bool:
    """Whether the shop's trial_started is still in the inbox (another worker's batch, or later)."""
    return session.scalar(select(func.count()).select_from(_I).where(
        _I.c.shop == row.shop, _I.c.creates_shop.is_(True), _I.c.id != row.id)) > 0


def hold_back(session: Session, rows: list[tuple[int, str]], *, now: datetime | None = None,
              delay: timedelta | None = None, count: bool = True) -> list[int]:
    """Put rows back for later with the reason (a failed apply counts as an attempt, with a growing
    delay); a row out of attempts becomes a dead letter. Returns those dead letters' ids."""
    now = now or utcnow()
    letters: list[int] = []
    for row_id, error in rows:
        row = session.execute(select(_I).where(_I.c.id == row_id)).one_or_none()
        if row is None:
            continue
        attempts = row.attempts + (1 if count else 0)
        if count and attempts >= MAX_ATTEMPTS:
            ctx = {"channel": row.channel, "mapping": load_mapping().version, **(row.context or {}),
                   "lang": row.lang, "queued_at": row.received_at.isoformat(), "attempts": attempts}
            letter = store_dead_letter(session, CHANNEL, row.payload, now=now, context=ctx, errors=[
                {"field": "", "code": "apply_failed", "message": f"could not be applied: {error}"[:2000]}])
            session.execute(delete(_I).where(_I.c.id == row_id))
            letters.append(letter.id)
            continue
        wait = delay if delay is not None else timedelta(seconds=min(300, 5 * 2 ** attempts))
        session.execute(update(_I).where(_I.c.id == row_id).values(
            attempts=attempts, available_at=now + wait, last_error=error[:2000]))
    return letters


def backlog(session: Session) -> dict[str, Any]:
    """How many events wait in the inbox and since when (the worker's and the benchmark's view)."""
    count, oldest = session.execute(select(func.count(), func.min(_I.c.received_at))).one()
    return {"queued": int(count or 0), "oldest_received_at": oldest.isoformat() if oldest else None}


def event_status(session: Session, event_id: str) -> dict[str, Any] | None:
    """Where one webhook event is: `stored` (applied: in trial_event, with its shop), `queued`
    (acknowledged, waiting in the inbox; `held_back` once an apply has failed), or None when no
    event with this id was accepted (a rejected one is a dead letter, not an event).
    The one lookup behind `GET /api/v1/events/<id>` and `concierge events status`."""
    stored = session.execute(
        select(_T.c.id, _T.c.type, _T.c.occurred_at, _T.c.received_at, Shop.__table__.c.platform_id)
        .join(Shop.__table__, Shop.__table__.c.id == _T.c.shop_id).where(_T.c.id == event_id)).first()
    if stored is not None:
        return {"id": stored.id, "shop": stored.platform_id, "type": stored.type, "status": "stored",
                "occurred_at": _iso(stored.occurred_at), "received_at": _iso(stored.received_at),
                "attempts": 0, "available_at": None}
    queued = session.execute(select(_I.c.event_id, _I.c.shop, _I.c.type, _I.c.payload, _I.c.received_at,
                                    _I.c.attempts, _I.c.available_at).where(_I.c.event_id == event_id)).first()
    if queued is None:
        return None
    return {"id": queued.event_id, "shop": queued.shop, "type": queued.type,
            "status": "held_back" if queued.attempts else "queued",
            "occurred_at": _payload_occurred_at(queued.payload), "received_at": _iso(queued.received_at),
            "attempts": int(queued.attempts or 0),
            "available_at": _iso(queued.available_at) if queued.attempts else None}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()


def _payload_occurred_at(payload: str) -> str | None:
    """The queued body's own occurred_at, as sent (the body was checked before it was queued)."""
    import json

    try:
        value = json.loads(payload).get("occurred_at")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def queued_ids(session: Session, limit: int) -> list[int]:
    """The ids of the oldest available rows (to apply one at a time after a failed batch)."""
    return list(session.scalars(select(_I.c.id).where(_I.c.available_at <= utcnow()).order_by(_I.c.id)
                                .limit(limit)))
