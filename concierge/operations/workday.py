"""The consultant's workday: claim the next call, complete it with its outcome, or give it back.

**Claims happen exactly once.** On PostgreSQL the next call is picked and taken in one
statement, ``UPDATE planned_call ... WHERE id = (SELECT id ... ORDER BY rank DESC ...
LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, token`` (procrastinate's and Oban's
pattern): concurrent claimers skip each other's rows instead of waiting or colliding. On
SQLite, which has one writer at a time, the claim runs inside ``BEGIN IMMEDIATE`` and
the UPDATE re-checks that the row is still claimable.

**Leases and fencing.** A claim holds for ``lease`` minutes; an expired claim is
claimable again (a consultant who closed the laptop, a process killed mid-call loses
nothing). Each claim increments the call's ``token``; completing needs the token the
claim returned, an unexpired lease and the same consultant, so an owner whose lease
expired (and perhaps someone else's claim since) gets a 409 and changes nothing.

Operations flush; the CLI command or the request commits once.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

import locales
from audits import slots
from audits.queue import FINAL_OUTCOMES, OUTCOMES, REACHED_OUTCOMES
from audits.rules import AuditError

from ..db import utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..i18n import translations
from ..models import Call, PlannedCall, PlannedCallEvent, Shop, User
from .audits import (
    CALLBACK_HORIZON_DAYS, MAX_NOTE, clean_note, get_call, shop_contact, parse_moment, refused, rules_for,
)

UTC = timezone.utc
DEFAULT_LEASE_MINUTES = 20
DEFAULT_MAX_OPEN_CLAIMS = 3
PURPOSES = ("service", "commercial")


class ClaimLost(Conflict):
    """The consultant no longer holds the call (lease expired, released, or someone else has it)."""

    code = "claim_lost"


class TooManyClaims(Conflict):
    code = "too_many_claims"


def _aware(value: datetime | None) -> datetime:
    value = value or utcnow()
    if value.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return value.astimezone(UTC)


def begin_write(session: Session) -> None:
    """On SQLite, take the write lock now (BEGIN IMMEDIATE), so a read-then-write is never raced.

    PostgreSQL needs nothing: its row locks (FOR UPDATE SKIP LOCKED) do the work.
    """
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def call_languages(user: User) -> tuple[str, ...] | None:
    """The languages a consultant takes calls in; None when they take any."""
    raw = (user.call_languages or "").replace(" ", "")
    langs = tuple(sorted({x.lower() for x in raw.split(",") if x}))
    return langs or None


def merchant_languages() -> tuple[str, ...]:
    """Every language a merchant may speak: the markets' languages and the UI languages."""
    found = set()
    for code in locales.MARKET_CODES:
        m = locales.get_market(code)
        found.update(lang.replace("-", "_").split("_")[0].lower() for lang in m.languages)
    from ..i18n import LANGUAGES

    return tuple(sorted(found | set(LANGUAGES)))


def set_call_languages(session: Session, user: User, languages: Any, *, lang: str = "en") -> User:
    """Store the languages a consultant speaks with merchants (empty: any)."""
    items = languages if isinstance(languages, (list, tuple)) else str(languages or "").split(",")
    clean = sorted({str(x).strip().lower() for x in items if str(x).strip()})
    known = merchant_languages()
    bad = [x for x in clean if x not in known]
    if bad:
        _ = translations(lang).gettext
        raise ValidationFailed([{"field": "languages", "code": "unknown_language",
                                 "message": _("%(field)s: %(value)s is not a language we serve (expected %(expected)s)")
                                 % {"field": "languages", "value": ", ".join(bad), "expected": ", ".join(known)}}])
    user.call_languages = ",".join(clean) or None
    session.flush()
    return user


def calling_open_now(now: datetime) -> list[tuple[str, str]]:
    """The (market, purpose) pairs a merchant may be phoned for at ``now`` (consent aside:
    the planner only keeps calls whose consent holds)."""
    pairs = []
    for market in locales.MARKET_CODES:
        contact = slots.Contact(market=market, consent=True, is_trader=True)
        for purpose in PURPOSES:
            if slots.is_allowed(contact, now, purpose, honour_preferences=False):
                pairs.append((market, purpose))
    return pairs


def open_claims(session: Session, user: User, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(PlannedCall).where(
        PlannedCall.owner_id == user.id, PlannedCall.status == "claimed", PlannedCall.lease_until > now)) or 0


def _claimable(now: datetime):
    return or_(PlannedCall.status == "planned",
               and_(PlannedCall.status == "claimed", PlannedCall.lease_until < now))


def claim_next(session: Session, user: User, *, now: datetime | None = None,
               lease_minutes: int = DEFAULT_LEASE_MINUTES, max_open: int = DEFAULT_MAX_OPEN_CLAIMS,
               lang: str = "en") -> PlannedCall | None:
    """Claim the consultant's next call (callbacks first, then gain per minute); None if nothing is due.

    Only calls that are due, that may legally be made now in their market, and that are in a
    language the consultant speaks; at most ``max_open`` unexpired claims per consultant.
    """
    now = _aware(now)
    begin_write(session)
    held = open_claims(session, user, now)
    if held >= max_open:
        _ = translations(lang).gettext
        raise TooManyClaims(_("You already have %(n)s open calls: complete or give one back first.") % {"n": held})
    pairs = calling_open_now(now)
    if not pairs:
        return None
    window = or_(*[and_(PlannedCall.market == m, PlannedCall.purpose == p) for m, p in pairs])
    pick = (select(PlannedCall.id)  # the shop's market is kept on the call: no join per candidate
            .where(_claimable(now), PlannedCall.scheduled_at <= now, PlannedCall.due_from <= now, window))
    langs = call_languages(user)
    if langs is not None:
        pick = pick.where(or_(PlannedCall.language.is_(None), PlannedCall.language.in_(langs)))
    pick = (pick.order_by(PlannedCall.rank.desc(), PlannedCall.scheduled_at, PlannedCall.id).limit(1)
            .with_for_update(of=PlannedCall, skip_locked=True).scalar_subquery())
    table = PlannedCall.__table__
    row = session.execute(
        update(table).where(table.c.id == pick, or_(table.c.status == "planned",
                                                  and_(table.c.status == "claimed", table.c.lease_until < now)))
        .values(status="claimed", owner_id=user.id, lease_until=now + timedelta(minutes=lease_minutes),
                token=table.c.token + 1, claimed_at=now, updated_at=now)
        .returning(table.c.id, table.c.token)).first()
    if row is None:
        return None
    session.add(PlannedCallEvent(call_id=row.id, at=now, actor=user.email, action="claimed", from_status="planned",
                                 to_status="claimed", reason=None, note=None,
                                 details={"token": row.token, "lease_until": (now + timedelta(minutes=lease_minutes)).isoformat()}))
    session.flush()
    # one read of the claimed row (the UPDATE bypassed the identity map)
    return session.scalars(select(PlannedCall).where(PlannedCall.id == row.id)
                           .execution_options(populate_existing=True)).one()


def _held(session: Session, user: User, call_id: Any, token: int | None, now: datetime, lang: str) -> PlannedCall:
    """The call, locked, if this consultant still holds it under ``token``; ClaimLost (409) otherwise."""
    call = get_call(session, call_id, lang=lang)
    call = session.scalars(select(PlannedCall).where(PlannedCall.id == call.id)
                           .with_for_update().execution_options(populate_existing=True)).one()
    held = (call.status == "claimed" and call.owner_id == user.id and call.lease_until is not None
            and call.lease_until > now and (token is None or call.token == int(token)))
    if not held:
        _ = translations(lang).gettext
        if call.status == "claimed" and call.owner_id == user.id and call.lease_until is not None \
                and call.lease_until <= now and (token is None or call.token == int(token)):
            raise ClaimLost(_("Your claim on call %(call)s expired at %(time)s UTC and the call went back to the "
                              "queue: nothing was saved. Claim it again to record the call.")
                            % {"call": call.id, "time": call.lease_until.strftime("%H:%M")})
        raise ClaimLost(_("You no longer hold call %(call)s (it was given back, completed, or claimed by someone "
                          "else): nothing was saved.") % {"call": call.id})
    return call


def _event(session: Session, call: PlannedCall, actor: str, action: str, before: str, now: datetime,
           reason: str | None = None, note: str | None = None, **details: Any) -> None:
    session.add(PlannedCallEvent(call_id=call.id, at=now, actor=actor, action=action, from_status=before,
                                 to_status=call.status, reason=reason, note=note, details=details))


def release_call(session: Session, user: User, call_id: Any, *, token: int | None = None,
                 now: datetime | None = None, lang: str = "en") -> PlannedCall:
    """Give a claimed call back to the queue untouched."""
    now = _aware(now)
    begin_write(session)
    call = _held(session, user, call_id, token, now, lang)
    call.status, call.owner_id, call.lease_until, call.updated_at = "planned", None, None, now
    _event(session, call, user.email, "released", "claimed", now)
    session.flush()
    return call


def complete_call(session: Session, user: User, call_id: Any, *, outcome: str, token: int | None = None,
                  at: Any = None, note: str | None = None, answers: Mapping[str, Any] | None = None,
                  now: datetime | None = None, channel: str = "cli", lang: str = "en") -> tuple[PlannedCall, Call]:
    """Record how a claimed call went; stored whole or not at all.

    reached (answers become observations from this call), no_answer (the next attempt at
    the first allowed moment after the retry gap, up to the rule's attempts), later (at the
    moment the merchant gave), wrong_number, not_interested, do_not_call (the merchant's
    refusal: no commercial call is planned again, and their open commercial calls end).
    """
    from .observations import record_answers

    now = _aware(now)
    if outcome not in OUTCOMES:
        _ = translations(lang).gettext
        raise ValidationFailed([{"field": "outcome", "code": "invalid_outcome",
                                 "message": _("outcome must be one of %(choices)s") % {"choices": ", ".join(OUTCOMES)}}])
    text = clean_note(note, "note", lang, required=False)
    later_at = None
    if outcome == "later":
        if at is None:
            raise refused(AuditError("rules.missing", "at"), lang)
        later_at = parse_moment(at, "at", lang)
        if later_at <= now:
            raise refused(AuditError("request.in_the_past", "at", value=later_at.isoformat()), lang)
        if later_at > now + timedelta(days=CALLBACK_HORIZON_DAYS):
            raise refused(AuditError("request.too_far", "at", value=later_at.isoformat(), days=CALLBACK_HORIZON_DAYS), lang)
    begin_write(session)
    call = _held(session, user, call_id, token, now, lang)
    shop = session.get(Shop, call.shop_id)
    rules = rules_for(shop.market, lang)
    before = call.status
    call.attempts += 1
    call.first_attempt_at = call.first_attempt_at or now
    attempt = Call(shop_id=shop.id, market=shop.market, actor=user.email, kind=call.kind if call.kind != "callback" else "followup",
                   called_at=now, reached=outcome in REACHED_OUTCOMES, planned_call_id=call.id, outcome=outcome,
                   note=text, handling_seconds=int((now - call.claimed_at).total_seconds()) if call.claimed_at else None)
    if answers and outcome in ("reached", "later", "not_interested"):
        sub = record_answers(session, shop, dict(answers), actor=user.email, source="call", channel=channel,
                             observed_at=now, lang=lang, reference=f"call:{call.id}:{call.token}", now=now)
        attempt.submission_id = sub.id
    if outcome == "do_not_call":
        record_answers(session, shop, {"owner.marketing_consent": False}, actor=user.email, source="call",
                       channel=channel, observed_at=now, lang=lang, reference=f"call:{call.id}:{call.token}:refusal",
                       now=now)
    session.add(attempt)
    call.owner_id, call.lease_until, call.updated_at = None, None, now
    if outcome in FINAL_OUTCOMES or (outcome == "no_answer" and call.attempts >= rules.queue.max_attempts):
        call.status, call.outcome, call.open_key, call.closed_at = "done", outcome, None, now
        _event(session, call, user.email, "completed", before, now, reason=outcome, note=text, attempts=call.attempts)
    else:
        wish = later_at if outcome == "later" else now + timedelta(minutes=rules.queue.retry_after_minutes)
        contact = shop_contact(session, shop)
        try:
            slot = slots.next_slot(contact, wish, call.purpose)
        except slots.NoSlot:
            call.status, call.outcome, call.open_key, call.closed_at = "done", outcome, None, now
            _event(session, call, user.email, "completed", before, now, reason=outcome, note=text, no_slot=True)
        else:
            call.status, call.outcome, call.scheduled_at = "planned", outcome, slot.at
            call.due_until = max(call.due_until, slot.at + timedelta(hours=1))
            _event(session, call, user.email, "rescheduled", before, now, reason=outcome, note=text,
                   scheduled_at=slot.at.isoformat(), attempts=call.attempts)
    if outcome == "do_not_call":
        _end_commercial_calls(session, shop, call, user.email, now)
    session.flush()
    from .shop_state import refresh_states

    refresh_states(session, [shop.id], now=now)  # consultant, last reached call, next call, answers
    return call, attempt


def _end_commercial_calls(session: Session, shop: Shop, done: PlannedCall, actor: str, now: datetime) -> None:
    """The merchant said "do not call": their other open commercial calls end now."""
    others = session.scalars(select(PlannedCall).where(
        PlannedCall.shop_id == shop.id, PlannedCall.id != done.id, PlannedCall.purpose == "commercial",
        PlannedCall.status.in_(("planned", "snoozed", "claimed")))).all()
    for other in others:
        before = other.status
        other.status, other.open_key, other.cancel_reason, other.closed_at = "cancelled", None, "do_not_call", now
        other.owner_id, other.lease_until, other.updated_at = None, None, now
        _event(session, other, actor, "cancelled", before, now, reason="do_not_call")


def my_calls(session: Session, user: User, *, now: datetime | None = None) -> list[PlannedCall]:
    """The consultant's unexpired claims, oldest first."""
    now = _aware(now)
    return list(session.scalars(select(PlannedCall).where(
        PlannedCall.owner_id == user.id, PlannedCall.status == "claimed", PlannedCall.lease_until > now)
        .order_by(PlannedCall.claimed_at, PlannedCall.id)))


def attempt_as_dict(attempt: Call, *, rating_url: str | None = None) -> dict[str, Any]:
    """One call attempt as the CLI and the API report it (with the merchant's rating link when reached)."""
    return {"id": attempt.id, "outcome": attempt.outcome, "reached": attempt.reached, "actor": attempt.actor,
            "called_at": attempt.called_at.isoformat(), "note": attempt.note,
            "handling_seconds": attempt.handling_seconds, "submission": attempt.submission_id,
            "rating_url": rating_url}


def rating_url(attempt: Call, shop: Shop, *, secret: str | bytes, base_url: str,
               now: datetime | None = None) -> str | None:
    """The signed link the merchant rates a reached call with (None for other outcomes)."""
    if not attempt.reached or attempt.outcome not in ("reached",):
        return None
    from .ratings import rating_token

    return f"{base_url.rstrip('/')}/r/{rating_token(secret, attempt, shop, now=_aware(now))}"


def find_user(session: Session, email: str, *, lang: str = "en") -> User:
    """An active consultant by e-mail (the CLI's --as, the API's consultant)."""
    user = session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower(),
                                             User.active.is_(True)))
    if user is None:
        _ = translations(lang).gettext
        raise NotFound(_("No active user with the e-mail %(email)s") % {"email": email})
    return user


__all__ = ["ClaimLost", "TooManyClaims", "attempt_as_dict", "begin_write", "call_languages", "calling_open_now", "claim_next",
           "complete_call", "find_user", "merchant_languages", "my_calls", "open_claims", "release_call",
           "set_call_languages", "MAX_NOTE"]
