"""Trial-shop events: check, de-duplicate and turn them into observations, many at a time.

One path for every channel: the webhook (one event), `concierge ingest events` (a
JSONL file, in batches) and dead-letter replay all call `ingest_lines`. Per batch:
parse and check each envelope (JSON Schema) and its data (the mapping's schema), load
the batch's shops and already-stored event ids in two queries, validate the
observations with profile_schema (cached per market and answers: events repeat), and
insert shops, events and observations with executemany, as plain tuples through the driver
(`bulk`: the values SQLAlchemy would bind, without its per-row processing; `FAST_INSERTS`
False gives the Core/ORM path, which tests compare it with). A rejected event adds nothing but
its dead letter (verbatim text, errors, context) and the rest of the batch goes on. An
event for a shop not known yet waits for that shop's trial_started later in the run
(out-of-order exports) and is applied right after it; only when it never comes is the
event rejected as unknown_shop. Dead letters are written once the run has read every line.
With ``refresh`` (the CLI), the observations of the shops the run created are kept and the
read model of every touched shop is written at the end from them (`shop_state.refresh_states_bulk`)
instead of reading them back.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

import profile_schema
from profile_schema.validation import clean_text

from ..db import utcnow
from ..errors import Conflict, ValidationFailed
from ..ingest.bodies import BodyRejected, body_error, load_json_body, parse_datetime_with_offset, validate_body
from ..ingest.events import EVENT_ENVELOPE, EventType, load_mapping, plan_event
from ..messages import N_, localize
from ..models import DeadLetter, Observation, Shop, TrialEvent
from . import bulk
from .deadletters import pending_letters, store_dead_letter
from .shops import MARKETS

CHANNEL = "events"  # the dead-letter channel
#: Events and observations go to the driver as tuples (`bulk`); False: through Core's executemany
#: (the path before; tests compare what both store).
FAST_INSERTS = True
_MESSAGES: dict[str, str] = {
    "unknown_event_type": N_("unknown event type {value!r}; known types: {known}"),
    "unknown_shop": N_("no shop {value!r} yet: its trial_started event has not arrived (kept for replay)"),
    "conflicting_duplicate": N_("event {value!r} was already received with a different body"),
    "market_changed": N_("shop {shop!r} is in market {old}, not {value}"),
    "still_rejected": N_("The event is still not acceptable"),
}


def _message(code: str, lang: str, **params: Any) -> str:
    return localize(_MESSAGES, code, lang, **params)


@dataclass
class EventOutcome:
    """What happened to one event: stored, duplicate or rejected (with errors and its dead letter)."""

    line: int | None
    id: str | None
    shop: str | None
    type: str | None
    status: str  # stored | duplicate | rejected
    http_status: int  # 201 stored, 200 duplicate, 400 malformed, 409 conflict, 422 invalid
    observations: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    dead_letter: DeadLetter | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "id": self.id, "shop": self.shop, "type": self.type,
                               "status": self.status, "duplicate": self.status == "duplicate",
                               "observations": self.observations}
        if self.status == "rejected":
            out["errors"] = self.errors
            out["dead_letter"] = self.dead_letter.id if self.dead_letter is not None else None
        return out


@dataclass
class IngestSummary:
    """Counts for a run, plus the rejected events (the `ingest events --json` contract)."""

    total: int = 0  # every event given, whatever became of it
    stored: int = 0  # new events, applied to their shop
    duplicates: int = 0  # already stored with the same id and body: not applied again
    rejected: int = 0  # malformed, conflicting or invalid (each dead-lettered unless dead_letters=False)
    observations: int = 0  # the profile observations the stored events added
    shops_created: int = 0  # shops new to the database, made by the event that starts their trial
    outcomes: list[EventOutcome] = field(default_factory=list)  # rejected ones, or all with keep_all

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "stored": self.stored, "duplicates": self.duplicates,
                "rejected": self.rejected, "observations": self.observations,
                "shops_created": self.shops_created,
                "dead_letters": [o.dead_letter.id for o in self.outcomes
                                 if o.dead_letter is not None],
                "errors": [o.as_dict() for o in self.outcomes if o.status == "rejected"]}


@dataclass(slots=True)
class _Prepared:
    line: int | None
    raw: str
    body: dict[str, Any]
    id: str
    shop: str
    etype: EventType
    data: dict[str, Any]
    occurred_at: datetime
    sha: str


class _Rejected(Exception):
    def __init__(self, status: int, errors: list[dict[str, Any]]):
        super().__init__(status)
        self.status = status
        self.errors = errors


def body_sha256(body: Any) -> str:
    """Hash of the event as data (key order and spacing do not matter): same id, same body?"""
    canonical = _canonical(body)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
try:  # json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False), its C encoder made once
    from json.encoder import c_encode_basestring, c_make_encoder

    if c_make_encoder is None or c_encode_basestring is None:
        raise ImportError
    _canonical_chunks = c_make_encoder(None, _CANONICAL.default, c_encode_basestring, None, ":", ",", True,
                                       False, True)

    def _canonical(body: Any) -> str:
        if isinstance(body, str):
            return c_encode_basestring(body)
        return "".join(_canonical_chunks(body, 0))
except ImportError:  # pragma: no cover - CPython always has the C encoder
    _canonical = _CANONICAL.encode


def _prepare(line: int | None, raw: str, lang: str) -> _Prepared:
    """Everything we can check without the database: JSON, envelope, type, data."""
    if not raw.isascii():
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError as exc:  # a file line with bytes that are not UTF-8
            raise _Rejected(400, [body_error("", "malformed_json", lang,
                                             detail=f"not UTF-8 ({exc.reason})")]) from None
    try:  # the boundary every JSON channel shares: JSON, and no NUL or lone surrogate anywhere
        body = load_json_body(raw, lang)
    except BodyRejected as rej:
        raise _Rejected(rej.status, rej.errors) from None
    errors = validate_body(EVENT_ENVELOPE, body, lang)
    if errors:
        for e in errors:
            if e["field"] == "type" and e["code"] == "invalid_choice":
                e["code"] = "unknown_event_type"
                e["message"] = "type: " + _message("unknown_event_type", lang, value=body.get("type"),
                                                   known=", ".join(load_mapping().types))
        raise _Rejected(400 if errors[0]["code"] == "not_an_object" else 422, errors)
    etype = load_mapping().types[body["type"]]
    data = body.get("data") or {}
    errors = [dict(e, field=f"data.{e['field']}" if e["field"] else "data",
                   message=f"data.{e['message']}" if e["field"] else e["message"])
              for e in validate_body(etype.data_schema, data, lang)]
    if errors:
        raise _Rejected(422, errors)
    occurred_at = parse_datetime_with_offset(body["occurred_at"])
    assert occurred_at is not None  # the envelope's date-time format checked it
    return _Prepared(line, raw, body, body["id"], body["shop"], etype, data, occurred_at,
                     body_sha256(body))


class _Validator:
    """profile_schema validation of event answers, cached: a run repeats the same few answers."""

    def __init__(self, lang: str):
        self.schema = profile_schema.load_schema()
        self.lang = lang
        self.cache: dict[tuple[str, str], profile_schema.Validated] = {}
        self.plans: dict[tuple[str, str, str], tuple[dict[str, Any], dict[str, str], profile_schema.Validated]] = {}

    def __call__(self, answers: dict[str, Any], market: str) -> profile_schema.Validated:
        key = (market, repr(sorted(answers.items())))  # repr tells True from 1, unlike ==/hash
        hit = self.cache.get(key)
        if hit is None:
            # events carry no skip-logic context: no trial-source question is conditional
            hit = self.schema.validate(answers, market=market, source="trial", lang=self.lang)
            if len(self.cache) < 50_000:
                self.cache[key] = hit
        return hit

    def plan(self, etype: EventType, data: dict[str, Any],
             market: str) -> tuple[dict[str, Any], dict[str, str], profile_schema.Validated]:
        """`plan_event` and the validation of its answers, cached by the event's data: most events
        of a run repeat a few bodies (product_added {"count": 1}...). repr tells True from 1."""
        key = (etype.name, market, repr(data))
        hit = self.plans.get(key)
        if hit is None:
            answers, ops = plan_event(etype, data, market)
            hit = (answers, ops, self(answers, market))
            if len(self.plans) < 50_000:
                self.plans[key] = hit
        return hit


def _chunks(items: Iterable[tuple[int | None, str]], size: int) -> Iterator[list[tuple[int | None, str]]]:
    batch: list[tuple[int | None, str]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


_WAITING = "waiting"  # internal: the shop's trial_started has not arrived yet; never reported


@dataclass(slots=True)
class _Entry:
    """One line on its way through a run: its checked envelope (None when malformed) and outcome."""

    line: int | None
    raw: str
    prepared: _Prepared | None
    outcome: EventOutcome


def _entry(line: int | None, raw: str, lang: str) -> _Entry:
    try:
        return _Entry(line, raw, _prepare(line, raw, lang), EventOutcome(line, None, None, None, "pending", 0))
    except _Rejected as rej:
        return _Entry(line, raw, None, _reject(None, line, rej))


def _tally(summary: IngestSummary, outcome: EventOutcome) -> None:
    summary.total += 1
    if outcome.status == "stored":
        summary.stored += 1
        summary.observations += outcome.observations
    elif outcome.status == "duplicate":
        summary.duplicates += 1
    else:
        summary.rejected += 1


def _unknown_shop(shop: str, lang: str) -> _Rejected:
    return _Rejected(422, [{"field": "shop", "code": "unknown_shop",
                            "message": "shop: " + _message("unknown_shop", lang, value=shop)}])


def ingest_lines(
    session: Session,
    lines: Iterable[tuple[int | None, str]],
    *,
    channel: str = "file",
    lang: str = "en",
    context: dict[str, Any] | None = None,
    dead_letters: bool = True,
    batch_size: int = 2000,
    keep_all: bool = False,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    refresh: bool = True,
) -> IngestSummary:
    """Ingest (line number, raw JSON) events in batches; rejects become dead letters, the rest is stored.

    An event for a shop we do not know yet waits: exports are often out of order, so when the
    shop's trial_started comes later in the same run, the waiting events are applied right
    after it (as if the file had been in order). Events whose shop never arrives are
    rejected at the end (unknown_shop) and dead-lettered for `concierge deadletter replay`.
    Dead letters are written at the end, in line order. The shops the run changed get their
    `shop_state` rows written again once, at the end (``refresh=False``: the caller does it).
    """
    summary = IngestSummary()
    touched: set[int] = set()
    validator = _Validator(lang)
    now = now or utcnow()
    waiting: dict[str, list[_Entry]] = {}  # shop platform id -> its waiting events, in line order
    report: list[_Entry] = []  # in line order: rejected and waiting entries, or all with keep_all
    # the shops this run creates have no other history: their observations are kept for the
    # refresh at the end (the fold reads them from here instead of the database), up to a bound
    fresh: set[int] | None = set() if refresh else None
    memory: dict[int, list[profile_schema.Observation]] | None = {} if refresh and FAST_INSERTS else None
    kept = 0
    for batch in _chunks(lines, batch_size):
        entries = [_entry(line, raw, lang) for line, raw in batch]
        for done in _ingest_batch(session, entries, lang=lang, validator=validator, now=now, summary=summary,
                                  waiting=waiting, touched=touched, fresh=fresh, memory=memory):
            _tally(summary, done.outcome)
            kept += done.outcome.observations
        if memory is not None and kept > _MEMORY_LIMIT:
            memory = None  # a very large run: the refresh reads them back instead
        report.extend(e for e in entries if keep_all or e.outcome.status in ("rejected", _WAITING))
        if progress is not None:
            progress(len(batch))
    for shop_entries in waiting.values():  # their trial_started never came
        for e in shop_entries:
            assert e.prepared is not None
            e.outcome = _reject(e.prepared, e.line, _unknown_shop(e.prepared.shop, lang))
            _tally(summary, e.outcome)
    if dead_letters:
        stored_any = False
        rejected = [e.raw for e in report if e.outcome.status == "rejected"]
        # a sender's retries (or a file's repeated line) keep one letter: found in a few queries
        pending = pending_letters(session, CHANNEL, rejected) if rejected else {}
        for e in report:
            if e.outcome.status == "rejected":
                ctx = {"channel": channel, "mapping": load_mapping().version, **(context or {})}
                if e.line is not None:
                    ctx["line"] = e.line
                e.outcome.dead_letter = store_dead_letter(session, CHANNEL, e.raw, errors=e.outcome.errors,
                                                          context=ctx, now=now, flush=False,
                                                          pending=pending)
                stored_any = True
        if stored_any:
            session.flush()
    summary.outcomes = [e.outcome for e in report if keep_all or e.outcome.status == "rejected"]
    if refresh and touched:
        from .shop_state import refresh_states, refresh_states_bulk

        if memory is None:
            refresh_states(session, touched, now=now)
        else:
            refresh_states_bulk(session, touched, now=now,
                                observations={sid: obs for sid, obs in memory.items() if obs is not _UNSURE})
    return summary


_MEMORY_LIMIT = 2_000_000  # observations kept for the end of a run (about 200 bytes each)


def _ingest_batch(session: Session, entries: Sequence[_Entry], *, lang: str, validator: _Validator,
                  now: datetime, summary: IngestSummary, waiting: dict[str, list[_Entry]],
                  touched: set[int], fresh: set[int] | None = None,
                  memory: dict[int, list[profile_schema.Observation]] | None = None) -> list[_Entry]:
    """Check and store one batch; return the entries that got their final outcome (waiting ones included).

    ``fresh`` (optional) collects the ids of the shops this run created; ``memory`` (optional)
    the observations stored for them, as the fold reads them (see `_store`).
    """
    ok = [e.prepared for e in entries if e.prepared is not None]
    ids = {p.id for p in ok}
    if waiting:  # waiting events of shops that start in this batch are applied here: know their ids too
        for pid in {p.shop for p in ok if p.etype.creates_shop} & waiting.keys():
            ids.update(w.prepared.id for w in waiting[pid] if w.prepared is not None)
    stored_sha: dict[str, str] = _stored_sha(session, ids) if ids else {}
    core = FAST_INSERTS and bulk.dialect_of(session) in bulk.FAST_DIALECTS  # shops as plain rows, not ORM
    shops: dict[str, Any] = {}
    if ok:
        pids = {p.shop for p in ok}
        if core:
            shops = _load_shops(session, pids)
        else:
            shops = {s.platform_id: s for s in session.scalars(select(Shop).where(Shop.platform_id.in_(pids)))}
    new_shops: list[Any] = []
    changed: set[str] = set()  # platform ids of known shops this batch changed
    events: list[tuple[_Prepared, Shop, dict[str, Any], dict[str, str], EventOutcome]] = []
    done: list[_Entry] = [e for e in entries if e.prepared is None]

    def apply(entry: _Entry) -> None:
        p = entry.prepared
        assert p is not None
        out = entry.outcome
        etype = p.etype
        creates = etype.creates_shop
        out.id, out.shop, out.type = p.id, p.shop, etype.name
        try:
            if p.id in stored_sha:
                if stored_sha[p.id] != p.sha:
                    raise _Rejected(409, [{"field": "id", "code": "conflicting_duplicate", "message":
                                           "id: " + _message("conflicting_duplicate", lang, value=p.id)}])
                out.status, out.http_status = "duplicate", 200
                done.append(entry)
                return
            shop = shops.get(p.shop)
            if creates:
                f = etype.shop_fields or {}
                market = p.data.get(f.get("market", "market"))
                if shop is not None and shop.market != market:
                    raise _Rejected(422, [{"field": f"data.{f.get('market', 'market')}", "code": "market_changed",
                                           "message": "data.market: " + _message(
                                               "market_changed", lang, shop=p.shop, old=shop.market, value=market)}])
            elif shop is None:  # wait for its trial_started, later in this run
                out.status = _WAITING
                waiting.setdefault(p.shop, []).append(entry)
                return
            else:
                market = shop.market
            answers, ops, checked = validator.plan(etype, p.data, market)
            if checked.errors:
                raise _Rejected(422, [_event_field_error(etype, e) for e in checked.errors])
        except _Rejected as rej:
            entry.outcome = _reject(p, p.line, rej)
            done.append(entry)
            return
        created = False
        if creates:
            f = etype.shop_fields or {}
            ends = parse_datetime_with_offset(p.data.get(f.get("trial_ends_at", "trial_ends_at")))
            name = p.data.get(f.get("name", "shop_name"))
            if isinstance(name, str):  # no bidi overrides or controls: the cleaning survey answers get
                name = clean_text(name) or None
            if shop is None:
                assert market in MARKETS
                if core:
                    shop = _ShopRow(None, p.shop, market, name, p.occurred_at, ends, None, None)
                else:
                    shop = Shop(platform_id=p.shop, market=market, name=name, created_at=now,
                                trial_started_at=p.occurred_at, trial_ends_at=ends)
                    session.add(shop)
                shops[p.shop] = shop
                new_shops.append(shop)
                created = True
            else:
                shop.trial_started_at = shop.trial_started_at or p.occurred_at
                shop.name = name if name is not None else shop.name
                shop.trial_ends_at = ends or shop.trial_ends_at
                changed.add(p.shop)
        if etype.sets_outcome and "trial.outcome" in checked.values:
            if shop.outcome_at is None or p.occurred_at >= shop.outcome_at:
                shop.outcome = checked.values["trial.outcome"]
                shop.outcome_at = p.occurred_at
                changed.add(p.shop)
        stored_sha[p.id] = p.sha  # a second copy later in this batch is a duplicate
        out.status, out.http_status, out.observations = "stored", 201, len(checked.values)
        events.append((p, shop, checked.values, ops, out))
        done.append(entry)
        if created:  # the shop's events that arrived before it, in line order
            for w in waiting.pop(p.shop, ()):
                apply(w)

    for e in entries:
        if e.prepared is not None:
            apply(e)
    del apply  # it calls itself: the cell would keep the batch alive until the collector runs
    if core:
        _write_shops(session, shops, new_shops, changed, now)
    else:
        session.flush()  # new shops get their ids; shop updates are written
    summary.shops_created += len(new_shops)
    if fresh is not None:
        fresh.update(shop.id for shop in new_shops)
    if events:
        _store(session, events, validator.schema.version, now, touched, fresh, memory)
    return done


def _stored_sha(session: Session, ids: set[str]) -> dict[str, str]:
    """{event id: body hash} of the ids already stored: SQL written out (the ids as plain
    parameters, or one array on PostgreSQL) where SQLAlchemy spent as long expanding a
    2,000-id IN as the database did answering it."""
    dialect = bulk.dialect_of(session)
    if not FAST_INSERTS or dialect not in bulk.FAST_DIALECTS:
        return dict(session.execute(
            select(TrialEvent.id, TrialEvent.body_sha256).where(TrialEvent.id.in_(ids))).all())
    session.flush()  # what session.execute's autoflush did
    conn = session.connection()
    table = conn.dialect.identifier_preparer.format_table(TrialEvent.__table__)
    if dialect == "postgresql":
        return dict(conn.exec_driver_sql(f"SELECT id, body_sha256 FROM {table} WHERE id = ANY(%s)",
                                         (list(ids),)).all())
    out: dict[str, str] = {}
    todo = list(ids)
    for i in range(0, len(todo), 5000):  # well under SQLite's 32,766 parameters
        part = tuple(todo[i:i + 5000])
        out.update(conn.exec_driver_sql(
            f"SELECT id, body_sha256 FROM {table} WHERE id IN ({','.join('?' * len(part))})", part).all())
    return out


class _ShopRow:
    """A shop as the batch reads and changes it (plain values; written back with `_write_shops`)."""

    __slots__ = ("id", "platform_id", "market", "name", "trial_started_at", "trial_ends_at", "outcome",
                 "outcome_at")

    def __init__(self, id: int | None, platform_id: str, market: str, name: str | None,
                 trial_started_at: datetime | None, trial_ends_at: datetime | None, outcome: str | None,
                 outcome_at: datetime | None):
        self.id = id
        self.platform_id = platform_id
        self.market = market
        self.name = name
        self.trial_started_at = trial_started_at
        self.trial_ends_at = trial_ends_at
        self.outcome = outcome
        self.outcome_at = outcome_at


_SHOP_FIELDS = ("name", "trial_started_at", "trial_ends_at", "outcome", "outcome_at")


def _load_shops(session: Session, pids: set[str]) -> dict[str, _ShopRow]:
    """The batch's known shops, read with SQL written out (as `_stored_sha`), datetimes made aware
    UTC as `UTCDateTime` gives them."""
    dialect = bulk.dialect_of(session)
    session.flush()  # what session.execute's autoflush did
    conn = session.connection()
    table = conn.dialect.identifier_preparer.format_table(Shop.__table__)
    cols = "id, platform_id, market, name, trial_started_at, trial_ends_at, outcome, outcome_at"
    read = bulk.read_datetime(dialect)
    out: dict[str, _ShopRow] = {}
    if dialect == "postgresql":
        parts = [(f"SELECT {cols} FROM {table} WHERE platform_id = ANY(%s)", (list(pids),))]
    else:
        todo = list(pids)
        parts = [(f"SELECT {cols} FROM {table} WHERE platform_id IN ({','.join('?' * len(part))})", part)
                 for part in (tuple(todo[i:i + 5000]) for i in range(0, len(todo), 5000))]
    for sql, params in parts:
        for sid, pid, market, name, started, ends, outcome, outcome_at in conn.exec_driver_sql(sql, params):
            out[pid] = _ShopRow(sid, pid, market, name, read(started), read(ends), outcome, read(outcome_at))
    return out


def _write_shops(session: Session, shops: dict[str, _ShopRow], new: list[_ShopRow], changed: set[str],
                 now: datetime) -> None:
    """Insert the batch's new shops (their ids read back) and update the known ones it changed,
    as the ORM's flush did; an ORM copy of a changed shop in the session is expired."""
    table = Shop.__table__
    if new:
        bulk.insert_dicts(session, table, [
            {"platform_id": s.platform_id, "market": s.market, "name": s.name, "created_at": now,
             "trial_started_at": s.trial_started_at, "trial_ends_at": s.trial_ends_at, "outcome": s.outcome,
             "outcome_at": s.outcome_at, "holdout": False} for s in new])
        ids = dict(session.execute(select(table.c.platform_id, table.c.id)
                                   .where(table.c.platform_id.in_([s.platform_id for s in new]))).all())
        for s in new:
            s.id = ids[s.platform_id]
    fresh = {s.platform_id for s in new}
    known = [shops[pid] for pid in changed if pid not in fresh]
    if known:  # UPDATE ... WHERE id = ? with plain tuples, the datetimes converted as `UTCDateTime` binds them
        dialect = bulk.dialect_of(session)
        q = session.get_bind().dialect.identifier_preparer
        mark = "?" if dialect == "sqlite" else "%s"
        when = bulk.stored_datetime(dialect)
        sql = (f"UPDATE {q.format_table(table)} SET {', '.join(f'{q.quote(f)} = {mark}' for f in _SHOP_FIELDS)} "
               f"WHERE {q.quote('id')} = {mark}")
        session.connection().exec_driver_sql(sql, [
            (s.name, when(s.trial_started_at), when(s.trial_ends_at), s.outcome, when(s.outcome_at), s.id)
            for s in known])
        for s in known:  # the ORM copy (a caller's) must not hide what was written
            obj = session.identity_map.get(identity_key(Shop, s.id))
            if obj is not None:
                session.expire(obj)


_EVENT_COLUMNS = ("id", "shop_id", "type", "occurred_at", "received_at", "body_sha256", "payload")
_OBSERVATION_COLUMNS = ("shop_id", "question", "value", "op", "source", "actor", "observed_at", "recorded_at",
                        "schema_version", "submission_id", "event_id")
_UTC = timezone.utc


def _store(session: Session, events: list[tuple[_Prepared, Shop, dict[str, Any], dict[str, str], EventOutcome]],
           version: int, now: datetime, touched: set[int], fresh: set[int] | None,
           memory: dict[int, list[profile_schema.Observation]] | None) -> None:
    """Insert the batch's events and observations: plain tuples through the driver's executemany
    (`bulk`), the values converted once as SQLAlchemy would. With `memory`, the observations of
    shops created in this run (`fresh`: they have no others) are kept as the fold reads them
    back, so the run's end folds them without reading them again."""
    touched.update(shop.id for _, shop, _, _, _ in events)
    dialect = bulk.dialect_of(session)
    if not FAST_INSERTS or dialect not in bulk.FAST_DIALECTS:
        session.execute(insert(TrialEvent.__table__), [
            {"id": p.id, "shop_id": shop.id, "type": p.etype.name, "occurred_at": p.occurred_at,
             "received_at": now, "body_sha256": p.sha, "payload": p.body}
            for p, shop, _, _, _ in events])
        rows = [
            {"shop_id": shop.id, "question": key, "value": value, "op": ops.get(key, "set"),
             "source": "trial", "actor": f"trial:{p.id}", "observed_at": p.occurred_at,
             "recorded_at": now, "schema_version": version, "submission_id": None, "event_id": p.id}
            for p, shop, values, ops, _ in events for key, value in values.items()]
        if rows:
            session.execute(insert(Observation.__table__), rows)
        return  # nothing kept: the refresh reads them back (`refresh_states`)
    when = bulk.stored_datetime(dialect)
    sqlite = dialect == "sqlite"
    as_json = bulk.stored_json(dialect)
    stored_now = when(now)
    event_rows: list[tuple] = []
    obs_rows: list[tuple] = []
    add_event, add_obs = event_rows.append, obs_rows.append
    keep: set[int] = fresh if memory is not None and fresh else set()  # type: ignore[assignment]
    make, seq, exact = _make_observation, _SEQ, _EXACT
    encoded = _ENCODED
    for p, shop, values, ops, _ in events:
        sid = shop.id
        utc = p.occurred_at.astimezone(_UTC)
        # what `when` gives (bulk._sqlite_datetime), without its checks: utc is aware UTC here
        at = utc.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else when(utc)
        pid = p.id
        add_event((pid, sid, p.etype.name, at, stored_now, p.sha, as_json(p.body)))
        if not values:
            if sid in keep and sid not in memory:  # type: ignore[operator]
                memory[sid] = []  # type: ignore[index]
            continue
        # the values' JSON and ops, made once per plan: repeated bodies share their plan's values
        hit = encoded.get((id(values), dialect))
        if hit is None or hit[0] is not values or hit[1] is not ops:
            if len(encoded) >= _ENCODED_LIMIT:
                encoded.clear()
            hit = encoded[(id(values), dialect)] = (values, ops, [
                (key, value, as_json(value), ops.get(key, "set"), value is None or value.__class__ in exact)
                for key, value in values.items()])
        actor = "trial:" + pid
        if sid not in keep:
            for key, _value, text, op, _exact in hit[2]:
                add_obs((sid, key, text, op, "trial", actor, at, stored_now, version, None, pid))
            continue
        # the observations kept as the fold will read them back (the database gives them back so)
        kept = memory.get(sid)  # type: ignore[union-attr]
        if kept is None:
            kept = memory[sid] = []  # type: ignore[index]
        shop_pid = shop.platform_id
        for key, value, text, op, same in hit[2]:
            add_obs((sid, key, text, op, "trial", actor, at, stored_now, version, None, pid))
            if kept is _UNSURE:
                continue
            back = value
            if not same:  # a new copy each time: the fold of one shop never shares a list with another
                back, sure = _read_back(value, dialect)
                if not sure:
                    kept = memory[sid] = _UNSURE  # type: ignore[index]
                    continue
            # seq: the insertion order, as the database ids (only the order among a shop's rows matters)
            kept.append(make(shop_pid, key, back, actor, utc, version, op, next(seq)))
    bulk.insert_tuples(session, TrialEvent.__table__, _EVENT_COLUMNS, event_rows)
    bulk.insert_tuples(session, Observation.__table__, _OBSERVATION_COLUMNS, obs_rows)


#: (id of a plan's values, dialect) -> (values, ops, [(key, value, JSON, op, exact)]): the values
#: object is kept with its entry, so its id is not reused while the entry stands
_ENCODED: dict[tuple[int, str], tuple[dict[str, Any], dict[str, str], list[tuple[str, Any, Any, str, bool]]]] = {}
_ENCODED_LIMIT = 20_000


def _read_back(value: Any, dialect: str | None) -> tuple[Any, bool]:
    """(the value as the database gives it back, whether that is sure): JSON text round trip.

    Strings, booleans, None and integers come back as they went; lists and dicts as
    json.loads of their JSON. PostgreSQL's jsonb reorders keys and writes numbers its own
    way, so a dict or a float there is not sure (the shop is then read from the database)."""
    if value is None or value.__class__ in _EXACT:
        return value, True
    if value.__class__ is list and all(v is None or v.__class__ in _EXACT for v in value):
        return list(value), True  # what json.loads(json.dumps(value)) gives, and jsonb too
    if dialect == "postgresql":
        return value, False
    return json.loads(json.dumps(value)), True


_EXACT = frozenset((str, bool, int))
_UNSURE: list[profile_schema.Observation] = []  # marks a shop whose observations must be read back


def _observation_maker() -> Callable[..., profile_schema.Observation]:
    """profile_schema.Observation(shop, question, value, "trial", actor, at, version, op, seq) without
    its frozen __init__ and checks (a third of the time here): the slots set directly. The
    values are ours and already checked (source trial, the mapping's ops, aware UTC times)."""
    cls = profile_schema.Observation
    names = ("shop", "question", "value", "source", "actor", "observed_at", "schema_version", "op", "seq")
    if tuple(f.name for f in dataclasses.fields(cls)) != names or not hasattr(cls, "__slots__"):
        return lambda shop, q, v, actor, at, version, op, seq: cls(shop, q, v, "trial", actor, at, version, op, seq)
    a, b, c, d, e, f, g, h, i = (cls.__dict__[n].__set__ for n in names)
    new = object.__new__

    def make(shop: str, q: str, v: Any, actor: str, at: datetime, version: int, op: str,
             seq: int) -> profile_schema.Observation:
        o = new(cls)
        a(o, shop); b(o, q); c(o, v); d(o, "trial"); e(o, actor); f(o, at); g(o, version); h(o, op); i(o, seq)  # noqa: E702
        return o
    return make


_make_observation = _observation_maker()


_SEQ = itertools.count(1)


def _event_field_error(etype: EventType, err: Any) -> dict[str, Any]:
    """Name the data field the bad value came from (the sender's field, not our question key)."""
    d = err.as_dict() if hasattr(err, "as_dict") else dict(err)
    for rule in etype.rules:
        if rule.question == d.get("field") and rule.source_field:
            d["field"] = f"data.{rule.source_field}"
            d["message"] = f"data.{rule.source_field}: {d['message']}"
            break
    return d


def _reject(p: _Prepared | None, line: int | None, rej: _Rejected) -> EventOutcome:
    return EventOutcome(line, p.id if p else None, p.shop if p else None, p.etype.name if p else None,
                        "rejected", rej.status, errors=rej.errors)


def ingest_event(session: Session, raw: str, *, channel: str = "api", lang: str = "en",
                 context: dict[str, Any] | None = None, dead_letters: bool = True,
                 now: datetime | None = None) -> EventOutcome:
    """Ingest one event (the webhook), through the same batched path as files.

    A stored event that changed the shop's answers makes its score, reasons and path again
    in the same transaction (`observations.answers_changed`); files (`ingest_lines`) leave
    that to the planner.
    """
    summary = ingest_lines(session, [(None, raw)], channel=channel, lang=lang, context=context,
                           dead_letters=dead_letters, keep_all=True, now=now, refresh=False)
    outcome = summary.outcomes[0]
    if outcome.dead_letter is not None:
        session.flush()
    if outcome.status == "stored" and outcome.shop:
        from .observations import answers_changed
        from .shop_state import refresh_states

        shop_id = session.scalar(select(Shop.id).where(Shop.platform_id == outcome.shop))
        if shop_id is not None and outcome.observations:
            answers_changed(session, [shop_id], now=now)  # the score, then the shop_state row
        elif shop_id is not None:
            refresh_states(session, [shop_id], now=now)
    return outcome


def iter_jsonl(stream: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) for each non-blank line of a JSONL stream; blank lines are skipped."""
    for n, line in enumerate(stream, 1):
        text = line.rstrip("\r\n")
        if text.strip():
            yield n, text


def replay_dead_letter(session: Session, dead_letter: DeadLetter) -> None:
    """Re-run a dead-lettered event; raise if it is still not acceptable (the dead letter stays)."""
    ctx = dead_letter.context or {}
    lang = ctx.get("lang", "en")
    outcome = ingest_event(session, dead_letter.payload, channel=ctx.get("channel", "replay"),
                           lang=lang, dead_letters=False)
    if outcome.status != "rejected":
        return
    if outcome.http_status == 409:
        raise Conflict(outcome.errors[0]["message"])
    raise ValidationFailed(outcome.errors, _message("still_rejected", lang))
