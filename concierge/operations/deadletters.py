"""The dead-letter store: whatever we could not accept, kept verbatim, listed and replayed.

Why in the same session: a channel validates first and adds nothing for a rejected
input, then adds only the dead letter. The one commit point (request wrapper for
responses below 500, or the CLI command) then commits the dead letter with whatever
else that request or file legitimately stored; an unexpected exception (500, crash)
rolls everything back, dead letter included, and the sender gets an error and can retry.
No second session, so a test's or command's transaction is the only one.

Replay dispatches on the channel through REPLAY_HANDLERS ("module:function" strings
imported lazily). A handler is `(session, dead_letter) -> None` and raises
ValidationFailed / ConciergeError on failure. Each replay runs in a SAVEPOINT, so a
handler that failed half-way leaves nothing behind.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import ConciergeError, NotFound, ValidationFailed
from ..models import DeadLetter

REPLAY_HANDLERS: dict[str, str] = {
    "events": "concierge.operations.events:replay_dead_letter",
    "surveys": "concierge.operations.surveys:replay_dead_letter",
    "survey_import": "concierge.operations.imports:replay_dead_letter",
    "trial_import": "concierge.scoring.importer:replay_dead_letter",
}
STATUSES = ("pending", "replayed", "discarded")


def _plain_errors(errors: Iterable[Any] | None) -> list[dict[str, Any]]:
    out = []
    for e in errors or ():
        if hasattr(e, "as_dict"):
            out.append(e.as_dict())
        elif isinstance(e, dict):
            out.append({k: v for k, v in e.items() if k in ("field", "code", "message")} or dict(e))
        else:
            out.append({"field": "", "code": "error", "message": str(e)})
    return out


def store_dead_letter(
    session: Session,
    channel: str,
    payload: str,
    *,
    errors: Iterable[Any] | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
    flush: bool = True,
) -> DeadLetter:
    """Keep a rejected input verbatim with why it failed, so nothing sent to us is ever lost."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", errors="surrogateescape")
    # bytes that are not UTF-8 (read with surrogateescape) become \xNN escapes, and NUL,
    # which PostgreSQL text cannot hold, becomes \u0000: everything else stays verbatim
    payload = str(payload).encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
    row = DeadLetter(channel=channel, payload=payload.replace("\x00", "\\u0000"),
                     errors=_plain_errors(errors), context=dict(context or {}),
                     received_at=now or utcnow(), status="pending", attempts=0)
    session.add(row)
    if flush:  # the batched event path flushes once per batch instead
        session.flush()
    return row


def list_dead_letters(
    session: Session,
    *,
    status: str | None = None,
    channel: str | None = None,
    ids: Sequence[int] | None = None,
    limit: int | None = None,
) -> list[DeadLetter]:
    """List dead letters oldest first, so they are replayed in the order they arrived."""
    q = select(DeadLetter).order_by(DeadLetter.received_at, DeadLetter.id)
    if status:
        q = q.where(DeadLetter.status == status)
    if channel:
        q = q.where(DeadLetter.channel == channel)
    if ids:
        q = q.where(DeadLetter.id.in_(list(ids)))
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))


@dataclass
class ReplayResult:
    id: int
    channel: str
    ok: bool
    status: str
    attempts: int
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "ok": self.ok, "status": self.status,
                "attempts": self.attempts, "errors": self.errors}


def _handler(channel: str) -> Callable[[Session, DeadLetter], None]:
    target = REPLAY_HANDLERS.get(channel)
    if target is None:
        raise ConciergeError(f"no replay handler for channel {channel!r}")
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def replay(session: Session, ids: Sequence[int] | None = None, *, now: datetime | None = None) -> list[ReplayResult]:
    """Re-run each pending dead letter (or the given ones) through its channel's operation."""
    if ids:
        rows = list_dead_letters(session, ids=ids)
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise NotFound(f"no dead letter with id {', '.join(map(str, missing))}")
    else:
        rows = list_dead_letters(session, status="pending")
    results = []
    for row in rows:
        if row.status != "pending":
            results.append(ReplayResult(row.id, row.channel, row.status == "replayed", row.status,
                                        row.attempts, list(row.errors or [])))
            continue
        # write first: SQLite's driver only opens the transaction on a write, and a
        # SAVEPOINT opened outside one would commit on release
        row.attempts = (row.attempts or 0) + 1
        session.flush()
        try:
            handler = _handler(row.channel)
            with session.begin_nested():
                handler(session, row)
        except ValidationFailed as exc:
            row.errors = _plain_errors(exc.errors) or [{"field": "", "code": exc.code, "message": str(exc)}]
        except ConciergeError as exc:
            row.errors = [{"field": "", "code": exc.code, "message": str(exc)}]
        except ImportError as exc:
            row.errors = [{"field": "", "code": "no_handler", "message": f"cannot replay {row.channel}: {exc}"}]
        else:
            row.status = "replayed"
            row.resolved_at = now or utcnow()
        session.flush()
        results.append(ReplayResult(row.id, row.channel, row.status == "replayed", row.status,
                                    row.attempts, list(row.errors or []) if row.status == "pending" else []))
    return results


def discard(session: Session, ids: Sequence[int], *, now: datetime | None = None) -> list[DeadLetter]:
    """Mark dead letters as deliberately dropped, so they stop showing as pending."""
    rows = list_dead_letters(session, ids=ids)
    for row in rows:
        if row.status == "pending":
            row.status = "discarded"
            row.resolved_at = now or utcnow()
    session.flush()
    return rows


def dead_letter_as_dict(row: DeadLetter) -> dict[str, Any]:
    """The `deadletter list --json` contract for one entry."""
    return {
        "id": row.id, "channel": row.channel, "status": row.status, "attempts": row.attempts,
        "received_at": row.received_at.isoformat() if row.received_at else None,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "context": row.context or {}, "errors": row.errors or [], "payload": row.payload,
    }
