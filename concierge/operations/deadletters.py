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

import hashlib
import importlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import ConciergeError, NotFound, ValidationFailed
from ..i18n import translations
from ..ingest.bodies import UNSTORABLE
from ..models import DeadLetter

REPLAY_HANDLERS: dict[str, str] = {
    "events": "concierge.operations.events:replay_dead_letter",
    "surveys": "concierge.operations.surveys:replay_dead_letter",
    "survey_import": "concierge.operations.imports:replay_dead_letter",
    "trial_import": "concierge.operations.scoring.importer:replay_dead_letter",
}
STATUSES = ("pending", "replayed", "discarded")
# what a letter keeps of each error: the field and reason, and for a file's line where it is
_ERROR_KEYS = ("field", "code", "message", "column", "value", "record")


def _plain_errors(errors: Iterable[Any] | None) -> list[dict[str, Any]]:
    out = []
    for e in errors or ():
        if hasattr(e, "as_dict"):
            out.append(e.as_dict())
        elif isinstance(e, dict):
            out.append({k: v for k, v in e.items() if k in _ERROR_KEYS} or dict(e))
        else:
            out.append({"field": "", "code": "error", "message": str(e)})
    return out


# A dead letter keeps at most this many characters of what was sent (the whole request is
# rarely useful beyond that, and a sender retrying a 1 MB body must not fill the disk); the
# original's SHA-256 and size are kept in the context, so a capped letter is still identified.
MAX_PAYLOAD_CHARS = 64 * 1024


def payload_sha256(payload: str | bytes) -> str:
    """SHA-256 of a payload as received (bytes as sent; text as UTF-8, lone surrogates kept)."""
    data = payload if isinstance(payload, bytes) else str(payload).encode("utf-8", errors="surrogatepass")
    return hashlib.sha256(data).hexdigest()


def _escape_surrogate(m: "re.Match[str]") -> str:
    code = ord(m.group())
    if code == 0:
        return "\\u0000"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, read with surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def storable_text(payload: str | bytes) -> str:
    """Text both SQLite and PostgreSQL store: bytes that are not UTF-8 as \\xNN, NUL and lone
    surrogates as \\uXXXX (inside a JSON string that is the same JSON); all else verbatim."""
    if isinstance(payload, bytes):
        return UNSTORABLE.sub(_escape_surrogate, payload.decode("utf-8", errors="surrogateescape"))
    return UNSTORABLE.sub(_escape_surrogate, str(payload))


def storable(value: Any) -> Any:
    """A JSON value (errors, context) with every string, keys included, made storable."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_text(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    if isinstance(value, bytes):
        return storable_text(value)
    return value


def store_dead_letter(
    session: Session,
    channel: str,
    payload: str | bytes,
    *,
    errors: Iterable[Any] | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
    flush: bool = True,
    dedupe: bool = True,
    pending: dict[str, DeadLetter] | None = None,
) -> DeadLetter:
    """Keep a rejected input with why it failed, so nothing sent to us is ever lost.

    Stored in a form both databases take (see `storable_text`), capped at MAX_PAYLOAD_CHARS
    with the original's SHA-256 and size in the context. The same payload sent again on the
    same channel while its letter is pending adds no second letter: the first one counts the
    repeat (`context.repeats`) and takes the latest reasons (``dedupe=False``: a channel whose
    payload means nothing without its context, like a CSV line, finds its repeats itself).
    `pending` (from `pending_letters`, for a batch) answers that lookup without a query each.
    """
    sha = payload_sha256(payload)
    size = len(payload) if isinstance(payload, bytes) else len(str(payload).encode("utf-8", errors="surrogatepass"))
    text = storable_text(payload)
    ctx = storable(dict(context or {}))
    if len(text) > MAX_PAYLOAD_CHARS:
        text = text[:MAX_PAYLOAD_CHARS]
        ctx["payload_truncated"] = True
    ctx["payload_sha256"] = sha
    ctx["payload_bytes"] = size
    plain = storable(_plain_errors(errors))
    existing = None
    if dedupe:
        existing = pending.get(sha) if pending is not None else _pending_same(session, channel, text, sha)
    if existing is not None:
        old = dict(existing.context or {})
        existing.context = {**old, **ctx, "repeats": int(old.get("repeats") or 0) + 1}
        existing.errors = plain
        if flush:
            session.flush()
        return existing
    row = DeadLetter(channel=channel, payload=text, errors=plain, context=ctx,
                     received_at=now or utcnow(), status="pending", attempts=0)
    session.add(row)
    if pending is not None and dedupe:
        pending[sha] = row
    if flush:  # the batched event path flushes once per batch instead
        session.flush()
    return row


def pending_letters(session: Session, channel: str, payloads: Iterable[str | bytes]) -> dict[str, DeadLetter]:
    """The pending letters of `channel` holding any of `payloads`, by the payload's SHA-256: a
    batch's repeats found in a few queries (pass the dict to `store_dead_letter(pending=...)`)."""
    by_text: dict[str, set[str]] = {}
    for p in payloads:
        by_text.setdefault(storable_text(p)[:MAX_PAYLOAD_CHARS], set()).add(payload_sha256(p))
    found: dict[str, DeadLetter] = {}
    texts = list(by_text)
    for i in range(0, len(texts), 200):
        for row in session.scalars(select(DeadLetter).where(
                DeadLetter.channel == channel, DeadLetter.status == "pending",
                DeadLetter.payload.in_(texts[i:i + 200])).order_by(DeadLetter.id.desc())):
            known = (row.context or {}).get("payload_sha256")
            for sha in by_text.get(row.payload, ()):
                if known is None or known == sha:
                    found[sha] = row  # descending ids: the oldest letter wins
    return found


def _pending_same(session: Session, channel: str, text: str, sha: str) -> DeadLetter | None:
    """The pending letter of this channel holding the same payload (same stored text and hash)."""
    for row in session.scalars(select(DeadLetter).where(
            DeadLetter.channel == channel, DeadLetter.status == "pending", DeadLetter.payload == text)
            .order_by(DeadLetter.id)):
        known = (row.context or {}).get("payload_sha256")
        if known is None or known == sha:  # letters kept before hashes were recorded: same text
            return row
    return None


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


def _handler(channel: str, lang: str | None = "en") -> Callable[[Session, DeadLetter], None]:
    target = REPLAY_HANDLERS.get(channel)
    if target is None:
        raise ConciergeError(translations(lang).gettext("no replay handler for channel %(channel)s")
                             % {"channel": repr(channel)})
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def replay(session: Session, ids: Sequence[int] | None = None, *, now: datetime | None = None,
           survey_mapping: Any = None, lang: str | None = "en") -> list[ReplayResult]:
    """Re-run each pending dead letter (or the given ones) through its channel's operation.

    `survey_mapping` (a checked `imports.SurveyMapping`): survey-import letters are re-read with
    it instead of the mapping they were kept with (a corrected mapping), and keep it. `lang`:
    the language of replay's own errors (unknown ids, a channel without a handler); a handler's
    errors keep the handler's language."""
    if ids:
        rows = list_dead_letters(session, ids=ids)
        missing = sorted(set(ids) - {r.id for r in rows})
        if missing:
            raise NotFound(translations(lang).gettext("no dead letter with id %(ids)s")
                           % {"ids": ", ".join(map(str, missing))})
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
            handler = _handler(row.channel, lang)
            with session.begin_nested():
                if survey_mapping is not None and row.channel == "survey_import":
                    handler(session, row, mapping=survey_mapping)  # type: ignore[call-arg]
                else:
                    handler(session, row)
        except ValidationFailed as exc:  # reasons stored as storable text, like the payload
            row.errors = storable(_plain_errors(exc.errors) or [{"field": "", "code": exc.code, "message": str(exc)}])
        except ConciergeError as exc:
            row.errors = storable([{"field": "", "code": exc.code, "message": str(exc)}])
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
