"""A merchant's personal data: export everything we hold about one shop, and erase what is personal.

`export_shop` gathers every row about the shop (the shop, its observations, submissions,
survey links and drafts, calls and their notes, ratings, scores and their reasons, planned
calls and their history, trial events, the dead letters that mention it, the derived
`shop_state` and `audit_state` rows, earlier erasures) as one JSON-ready document;
`export_zip` writes the same as one CSV per table in a zip, with the JSON beside it.

`erase_shop` removes or anonymises, in the caller's transaction (operations flush, the
shell commits once), what identifies or describes the merchant as a person:

- observations of the questions the schema marks `personal` (names, e-mails, phones, tax
  ids, the merchant's own words, the domain) and any other answer that repeats one of
  those values;
- those fields in the stored trial events (the rest of each event is kept, and its hash,
  so a re-delivered event is still recognised as a duplicate);
- the dead letters that mention the shop or one of the values (deleted: a replay would
  bring the data back);
- the shop's survey links with their drafts (deleted: the links stop working);
- call notes, rating comments, planned calls' notes and their history's notes, values in
  the planned calls' parameters and agendas that repeat a personal value;
- scores' reasons and texts (the probabilities stay);
- the shop's name; open planned calls are cancelled ("personal_data_erased").

What the conversion figures need stays: the shop row (market, trial dates, outcome,
holdout), the trial events' other fields, the scores' probabilities; `shop_state` and the
planner's facts are recomputed from what is left, so they carry no personal data either.
A `privacy_erasure` row records who erased, when, why and how many rows of each kind,
without any of the erased values (the reason is scrubbed of them). Erasing again finds
nothing more to erase and says so (`already_erased`), recording the request again.
"""
from __future__ import annotations

import csv
import functools
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.orm import Session

import profile_schema

from ..db import utcnow
from ..errors import ValidationFailed
from ..messages import N_, localize
from ..models import (
    AuditState,
    Call,
    CallRating,
    ContactPreference,
    DeadLetter,
    DemoTruth,
    EventInbox,
    ModelVersion,
    Observation,
    PlannedCall,
    PlannedCallEvent,
    PrivacyErasure,
    Score,
    Shop,
    ShopState,
    Submission,
    SurveyLink,
    TrialEvent,
)
from ..reporting import safe_text
from .shops import resolve_shop

FORMAT = "concierge-privacy-export/1"
#: what replaces a personal value kept inside a larger record (a trial event's field)
ERASED = "[erased]"
#: the cancel reason of the open planned calls of an erased shop (audits.messages.CANCEL_REASONS)
CANCEL_REASON = "personal_data_erased"
#: values shorter than this are not searched for elsewhere (a one-letter name would match everything);
#: they are still erased where they are an answer to a personal question
MIN_NEEDLE = 3
#: dead letters are deleted for a personal value only when it is at least this long (a full name, an
#: e-mail, a phone, a tax id), so another merchant's rejected input that shares a short first name stays
MIN_DEAD_LETTER_NEEDLE = 6
REASON_MAX = 500
#: the export's sections, in order; each is one CSV file in the zip
SECTIONS = ("shop", "personal_data", "observations", "submissions", "survey_links", "calls", "call_ratings",
            "scores", "planned_calls", "planned_call_events", "trial_events", "dead_letters", "shop_state",
            "audit_state", "demo_truth", "privacy_erasures", "queued_events", "contact_preferences")

_MESSAGES: dict[str, str] = {
    "reason_required": N_("reason: say why the data is erased (1 to {max} characters), e.g. the "
                          "request's reference"),
}


def message(code: str, lang: str | None = "en", **params: Any) -> str:
    """A privacy error message in `lang` (en, pl, tr, hi)."""
    return localize(_MESSAGES, code, lang, **params)


# --------------------------------------------------------------------------- what is personal

@functools.cache
def personal_question_keys() -> tuple[frozenset[tuple[int, str]], frozenset[str]]:
    """(schema version, key) of every personal question in every schema version, and today's keys."""
    registry = profile_schema.load_registry()
    pairs = frozenset((v, k) for v, s in registry.versions.items() for k in s.personal_questions())
    return pairs, frozenset(registry.latest.personal_questions())


def is_personal(question: str, schema_version: int) -> bool:
    """True when an answer recorded as `question` under `schema_version` is personal data."""
    pairs, current = personal_question_keys()
    if (schema_version, question) in pairs:
        return True
    key = profile_schema.load_registry().current_key(question, schema_version)
    return key is not None and key in current


def _event_personal_paths() -> dict[str, list[str]]:
    """Per trial event type, the data fields (dotted) that carry personal data: those mapped to a
    personal question, and the shop's name."""
    from ..ingest.events import load_mapping

    _, current = personal_question_keys()
    out: dict[str, list[str]] = {}
    for name, etype in load_mapping().types.items():
        paths = [r.source_field for r in etype.rules if r.source_field and r.question in current]
        if etype.shop_fields and etype.shop_fields.get("name"):
            paths.append(etype.shop_fields["name"])
        if paths:
            out[name] = paths
    return out


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (str, int, float)):
        yield str(value)
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _get_path(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


def _event_data(payload: Any) -> Any:
    return payload.get("data") if isinstance(payload, Mapping) and isinstance(payload.get("data"), Mapping) else payload


def personal_values(session: Session, shop: Shop) -> list[str]:
    """Every personal value we hold about the shop as text (the needles searched for elsewhere),
    longest first, with the JSON-escaped spelling of each that has one."""
    found: set[str] = set()
    for question, version, value in session.execute(
            select(Observation.question, Observation.schema_version, Observation.value)
            .where(Observation.shop_id == shop.id)):
        if is_personal(question, version):
            found.update(_strings(value))
    if shop.name:
        found.add(shop.name)
    paths = _event_personal_paths()
    for etype, payload in session.execute(select(TrialEvent.type, TrialEvent.payload)
                                          .where(TrialEvent.shop_id == shop.id, TrialEvent.type.in_(list(paths)))):
        for path in paths[etype]:
            found.update(_strings(_get_path(_event_data(payload), path)))
    needles = {v.strip() for v in found if len(v.strip()) >= MIN_NEEDLE and v.strip() != ERASED}
    escaped = {json.dumps(n)[1:-1] for n in needles}
    return sorted(needles | escaped, key=lambda n: (-len(n), n))


def _mentions(text: str, needles: Iterable[str]) -> bool:
    """True when `text` holds one of the needles as a whole word: "Ali" is not in "Alibaba"."""
    return any(n in text and _whole(n).search(text) for n in needles)


@functools.lru_cache(maxsize=4096)
def _whole(needle: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")


def _shop_id_pattern(platform_id: str) -> re.Pattern[str]:
    # the shop id as a whole token: "pl-1" is not mentioned by "pl-10"
    return re.compile(r"(?<![A-Za-z0-9_.\-])" + re.escape(platform_id) + r"(?![A-Za-z0-9_\-]|\.[A-Za-z0-9])")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def dead_letters_of(session: Session, shop: Shop, needles: Iterable[str] | None = None) -> list[DeadLetter]:
    """The dead letters that mention the shop (its id as a whole token) or one of its personal values."""
    needles = [n for n in (personal_values(session, shop) if needles is None else needles)
               if len(n) >= MIN_DEAD_LETTER_NEEDLE]
    terms = [shop.platform_id, *needles]
    conds = []
    for t in terms:
        conds.append(DeadLetter.payload.like(_like(t), escape="\\"))
        conds.append(cast(DeadLetter.context, String).like(_like(t), escape="\\"))
        conds.append(cast(DeadLetter.errors, String).like(_like(t), escape="\\"))
    pattern = _shop_id_pattern(shop.platform_id)
    out = []
    for i in range(0, len(conds), 300):
        for row in session.scalars(select(DeadLetter).where(or_(*conds[i:i + 300])).order_by(DeadLetter.id)):
            text = "\n".join((row.payload or "", json.dumps(row.context, ensure_ascii=False),
                              json.dumps(row.context), json.dumps(row.errors, ensure_ascii=False)))
            if (pattern.search(text) or _mentions(text, needles)) and row not in out:
                out.append(row)
    return sorted(out, key=lambda r: r.id)


# --------------------------------------------------------------------------- export

def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None
    return value


def _row(obj: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {c.key: _jsonable(getattr(obj, c.key)) for c in obj.__table__.columns if c.key not in skip}


def _rows(session: Session, model: Any, where: Any, order: Any, **kw: Any) -> list[dict[str, Any]]:
    return [_row(r, **kw) for r in session.scalars(select(model).where(where).order_by(*order))]


def export_shop(session: Session, shop: Shop | str, *, lang: str = "en", now: datetime | None = None) -> dict[str, Any]:
    """Everything we hold about the shop, as one JSON-ready document (reads only).

    Sections (`SECTIONS`): the shop row; `personal_data`, the current personal answers with
    their questions' labels in `lang` (the readable summary); then every row of every table
    about the shop, column by column (survey links without their signing nonce, scores with
    their model version's name instead of the model), and the webhook events still waiting in
    the inbox (queued mode).
    """
    shop = resolve_shop(session, shop, lang=lang)
    now = now or utcnow()
    schema = profile_schema.load_schema()
    from .profiles import load_profile

    profile = load_profile(session, shop)
    personal = []
    for key in schema.personal_questions():
        value = profile.value(key)
        if value is not None:
            personal.append({"question": key, "label": schema[key].label(lang), "value": value})
    observations = []
    for r in session.scalars(select(Observation).where(Observation.shop_id == shop.id)
                             .order_by(Observation.observed_at, Observation.id)):
        observations.append({**_row(r), "personal": is_personal(r.question, r.schema_version)})
    versions = dict(session.execute(select(ModelVersion.id, ModelVersion.version)).all())
    scores = [{**row, "model_version": versions.get(row["model_version_id"])}
              for row in _rows(session, Score, Score.shop_id == shop.id, (Score.scored_at, Score.id))]
    planned_ids = list(session.scalars(select(PlannedCall.id).where(PlannedCall.shop_id == shop.id)))
    call_ids = list(session.scalars(select(Call.id).where(Call.shop_id == shop.id)))
    state = session.get(ShopState, shop.id)
    audit = session.get(AuditState, shop.id)
    truth = session.get(DemoTruth, shop.id)
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "shop_id": shop.platform_id,
        "shop": _row(shop),
        "personal_data": personal,
        "observations": observations,
        "submissions": _rows(session, Submission, Submission.shop_id == shop.id, (Submission.id,)),
        "survey_links": _rows(session, SurveyLink, SurveyLink.shop_id == shop.id, (SurveyLink.id,), skip=("nonce",)),
        "calls": _rows(session, Call, Call.shop_id == shop.id, (Call.called_at, Call.id)),
        "call_ratings": _rows(session, CallRating, or_(CallRating.shop_id == shop.id, CallRating.call_id.in_(call_ids)),
                              (CallRating.id,)),
        "scores": scores,
        "planned_calls": _rows(session, PlannedCall, PlannedCall.shop_id == shop.id, (PlannedCall.id,)),
        "planned_call_events": _rows(session, PlannedCallEvent, PlannedCallEvent.call_id.in_(planned_ids),
                                     (PlannedCallEvent.id,)),
        "trial_events": _rows(session, TrialEvent, TrialEvent.shop_id == shop.id, (TrialEvent.occurred_at, TrialEvent.id)),
        "dead_letters": [_row(d) for d in dead_letters_of(session, shop)],
        "shop_state": _row(state) if state is not None else None,
        "audit_state": _row(audit) if audit is not None else None,
        "demo_truth": _row(truth) if truth is not None else None,
        "privacy_erasures": _rows(session, PrivacyErasure, PrivacyErasure.shop_id == shop.id, (PrivacyErasure.id,)),
        # webhook events acknowledged but not applied yet (queued mode): held about the merchant too
        "queued_events": _rows(session, EventInbox, EventInbox.shop == shop.platform_id, (EventInbox.id,)),
        # the days the merchant prefers to be called (issue 16; hours and channel are observations)
        "contact_preferences": _rows(session, ContactPreference, ContactPreference.shop_id == shop.id,
                                     (ContactPreference.shop_id,)),
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return safe_text(value)


def section_csv(rows: list[dict[str, Any]] | dict[str, Any] | None) -> str:
    """One export section as CSV (RFC 4180, UTF-8): a header of every column, then a line per row;
    JSON values as JSON text, spreadsheet formulas defused."""
    rows = [rows] if isinstance(rows, dict) else list(rows or [])
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(c) for c in columns])
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in columns])
    return out.getvalue()


def export_zip(data: Mapping[str, Any]) -> bytes:
    """The export as a zip: `<section>.csv` for every section (a header only when empty), and
    `export.json`, the same data in one machine-readable document."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("export.json", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str))
        for name in SECTIONS:
            z.writestr(f"{name}.csv", "\ufeff" + section_csv(data.get(name)))
    return buf.getvalue()


# --------------------------------------------------------------------------- erase

def _scrub(value: Any, needles: list[str], drop_keys: frozenset[str] = frozenset()) -> tuple[Any, int]:
    """`value` with every string that contains a needle replaced by ERASED, and the values of
    `drop_keys` set to None; returns (new value, how many were replaced)."""
    if isinstance(value, str):
        return (ERASED, 1) if _mentions(value, needles) else (value, 0)
    if isinstance(value, Mapping):
        out, n = {}, 0
        for k, v in value.items():
            if k in drop_keys and v not in (None, ""):
                out[k], n = None, n + 1
                continue
            out[k], m = _scrub(v, needles, drop_keys)
            n += m
        return out, n
    if isinstance(value, list):
        items = [_scrub(v, needles, drop_keys) for v in value]
        return [v for v, _ in items], sum(m for _, m in items)
    return value, 0


def _drop_path(data: Any, dotted: str) -> bool:
    parts = dotted.split(".")
    for part in parts[:-1]:
        if not isinstance(data, dict) or not isinstance(data.get(part), dict):
            return False
        data = data[part]
    if isinstance(data, dict) and parts[-1] in data:
        del data[parts[-1]]
        return True
    return False


#: NUL and lone surrogates: PostgreSQL cannot store them in text
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_reason(reason: Any, lang: str = "en") -> str:
    """The erasure's reason, trimmed; 422 naming `reason` when it is empty, too long or not storable text."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > REASON_MAX or _UNSTORABLE.search(text):
        msg = message("reason_required", lang, max=REASON_MAX)
        raise ValidationFailed([{"field": "reason", "code": "invalid_reason", "message": msg}], msg)
    return text


def erase_shop(session: Session, shop: Shop | str, *, reason: Any, actor: str, channel: str = "cli",
               lang: str = "en", now: datetime | None = None) -> dict[str, Any]:
    """Erase the merchant's personal data from every table (see the module's docstring).

    One transaction: it flushes and never commits. Returns {shop, erasure_id, erased_at,
    counts, erased (total), already_erased}; `already_erased` is true when an earlier erasure
    of this shop exists and nothing more was found.
    """
    from .inbox import apply_queued_for_shop

    shop = resolve_shop(session, shop, lang=lang)
    reason_text = check_reason(reason, lang)
    now = now or utcnow()
    apply_queued_for_shop(session, shop.platform_id, now=now)  # queued webhook events: erased with the rest
    session.flush()
    needles = personal_values(session, shop)
    counts: dict[str, int] = {}

    # observations: the personal questions' answers, and any other answer repeating a personal value
    doomed = []
    for oid, question, version, value in session.execute(
            select(Observation.id, Observation.question, Observation.schema_version, Observation.value)
            .where(Observation.shop_id == shop.id)):
        if is_personal(question, version) or _scrub(value, needles)[1]:
            doomed.append(oid)
    for i in range(0, len(doomed), 500):
        session.execute(delete(Observation).where(Observation.id.in_(doomed[i:i + 500])))
    counts["observations"] = len(doomed)

    # trial events: drop the personal fields, replace any other string repeating a personal value
    paths = _event_personal_paths()
    changed_events = 0
    for eid, etype, payload in session.execute(select(TrialEvent.id, TrialEvent.type, TrialEvent.payload)
                                               .where(TrialEvent.shop_id == shop.id)).all():
        body = json.loads(json.dumps(payload))
        dropped = sum(_drop_path(_event_data(body), p) for p in paths.get(etype, ()))
        body, replaced = _scrub(body, needles)
        if dropped or replaced:
            session.execute(update(TrialEvent).where(TrialEvent.id == eid).values(payload=body))
            changed_events += 1
    counts["trial_events"] = changed_events

    letters = [d.id for d in dead_letters_of(session, shop, needles)]
    if letters:
        session.execute(delete(DeadLetter).where(DeadLetter.id.in_(letters)))
    counts["dead_letters"] = len(letters)

    links = list(session.scalars(select(SurveyLink.id).where(SurveyLink.shop_id == shop.id)))
    counts["survey_drafts"] = sum(1 for d in session.scalars(select(SurveyLink.draft)
                                                         .where(SurveyLink.shop_id == shop.id)) if d)
    if links:
        session.execute(delete(SurveyLink).where(SurveyLink.id.in_(links)))
    counts["survey_links"] = len(links)

    call_ids = list(session.scalars(select(Call.id).where(Call.shop_id == shop.id)))
    counts["call_notes"] = session.execute(
        update(Call).where(Call.shop_id == shop.id, Call.note.isnot(None)).values(note=None)).rowcount or 0
    counts["rating_comments"] = session.execute(
        update(CallRating).where(or_(CallRating.shop_id == shop.id, CallRating.call_id.in_(call_ids)),
                                 CallRating.comment.isnot(None)).values(comment=None)).rowcount or 0

    # planned calls: open ones are cancelled (nobody to call any more), notes go, JSON is scrubbed
    from audits.planner import OPEN_STATUSES

    from .audits import _close_many

    open_ids = list(session.scalars(select(PlannedCall.id).where(PlannedCall.shop_id == shop.id,
                                                                 PlannedCall.status.in_(OPEN_STATUSES))))
    _close_many(session, [(cid, CANCEL_REASON) for cid in open_ids], now=now, actor=actor)
    counts["planned_calls_cancelled"] = len(open_ids)
    planned = session.execute(select(PlannedCall.id, PlannedCall.note, PlannedCall.params, PlannedCall.agenda)
                              .where(PlannedCall.shop_id == shop.id)).all()
    notes = 0
    for pid, note, params, agenda in planned:
        new_params, a = _scrub(params, needles, frozenset({"note"}))
        new_agenda, b = _scrub(agenda, needles, frozenset({"note"}))
        if note is not None or a or b:
            session.execute(update(PlannedCall).where(PlannedCall.id == pid)
                            .values(note=None, params=new_params, agenda=new_agenda))
            notes += 1
    counts["planned_call_notes"] = notes
    event_notes = 0
    pids = [p.id for p in planned]
    for i in range(0, len(pids), 500):
        for evid, note, details in session.execute(
                select(PlannedCallEvent.id, PlannedCallEvent.note, PlannedCallEvent.details)
                .where(PlannedCallEvent.call_id.in_(pids[i:i + 500]))).all():
            new_details, n = _scrub(details, needles, frozenset({"note"}))
            if note is not None or n:
                session.execute(update(PlannedCallEvent).where(PlannedCallEvent.id == evid)
                                .values(note=None, details=new_details))
                event_notes += 1
    counts["planned_call_event_notes"] = event_notes

    # scores: the reasons (and their texts) go, the probability and uplift stay
    reasoned = [sid for sid, details in session.execute(select(Score.id, Score.details)
                                                        .where(Score.shop_id == shop.id))
                if details != _erased_details()]
    for i in range(0, len(reasoned), 500):
        session.execute(update(Score).where(Score.id.in_(reasoned[i:i + 500])).values(details=_erased_details()))
    counts["score_reasons"] = len(reasoned)

    counts["shop_name"] = 0
    if shop.name is not None:
        shop.name = None
        counts["shop_name"] = 1
    session.flush()

    # the derived rows, recomputed from what is left
    from audits.facts import FACTS_VERSION

    from .audits import build_facts
    from .shop_state import refresh_states

    if session.get(AuditState, shop.id) is not None:
        facts = build_facts(session, [shop]).get(shop.id)
        if facts is not None:
            session.execute(update(AuditState).where(AuditState.shop_id == shop.id)
                            .values(facts=facts[0].as_dict(), facts_version=FACTS_VERSION))
    refresh_states(session, [shop.id], now=now)

    total = sum(counts.values())
    earlier = session.scalar(select(PrivacyErasure.id).where(PrivacyErasure.shop_id == shop.id).limit(1))
    scrubbed_reason, _ = _scrub_text(reason_text, needles)
    row = PrivacyErasure(shop_id=shop.id, platform_id=shop.platform_id, erased_at=now, actor=actor[:200],
                         channel=channel, reason=scrubbed_reason, counts=counts)
    session.add(row)
    session.flush()
    return {"shop": shop.platform_id, "erasure_id": row.id, "erased_at": now.isoformat(), "counts": counts,
            "erased": total, "already_erased": earlier is not None and total == 0}


def _scrub_text(text: str, needles: list[str]) -> tuple[str, int]:
    n = 0
    for needle in needles:  # longest first
        if needle in text:
            text, n = text.replace(needle, ERASED), n + 1
    return text, n


def _erased_details() -> dict[str, Any]:
    return {"erased": True}
