"""When and how the merchant wants to be called, and what happens next (issue 16, item 4).

The merchant's wishes have their homes:

- the channel is the profile's ``needs.preferred_contact`` answer, limited to the channels a
  consultant can call on in the market (``locales.calling.call_channels``: phone, and WhatsApp
  where the market uses it);
- the hours are the profile's ``needs.preferred_call_time`` answer (``audits.slots.PREFERRED_CALL_TIMES``);
- the days have no question in the schema, so they are the ``contact_preference`` row.

`set_preferences` stores all three at once (all or nothing, every bad field named), makes the
planner read the shop again (its stored facts are marked stale and due now), and moves the
shop's open planned calls into the new preferred days and hours where their due window
allows (an explicit callback keeps the time the merchant chose). `next_step` reads what the
survey pages say: the consultant's first name, the next call, the current wishes. It writes
nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import profile_schema
from locales.calling import call_channels

from ..db import utcnow
from ..errors import ValidationFailed
from ..i18n import translations
from ..models import AuditState, Call, ContactPreference, PlannedCall, PlannedCallEvent, Shop, ShopState, SurveyLink, User

CHANNEL_QUESTION = "needs.preferred_contact"
HOURS_QUESTION = "needs.preferred_call_time"
WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO: Monday 1 .. Sunday 7
#: Submission.channel of the answers this form records (source "survey": the merchant's own words).
SUBMISSION_CHANNEL = "preferences"


def parse_days(text: str | None) -> tuple[int, ...] | None:
    """The stored "1,3,5" as ISO weekdays; None (any day) for NULL, empty or all seven."""
    if not text:
        return None
    days = tuple(sorted({int(d) for d in text.split(",") if d.strip().isdigit() and 1 <= int(d) <= 7}))
    return days if days and len(days) < 7 else None


def _days_text(days: Iterable[int] | None) -> str | None:
    days = tuple(sorted(set(days or ())))
    return ",".join(str(d) for d in days) if days and len(days) < 7 else None


@dataclass(frozen=True)
class Preferences:
    """The merchant's wishes as the form shows them."""

    days: tuple[int, ...] | None     # None: any day
    hours: str | None                # a needs.preferred_call_time choice, None: not said
    channel: str | None              # one of `channels`, None: not said (or one we cannot call on)
    channels: tuple[str, ...]        # what the market offers

    def as_dict(self) -> dict[str, Any]:
        return {"days": list(self.days) if self.days else None, "hours": self.hours, "channel": self.channel,
                "channels": list(self.channels)}


def _profile_values(session: Session, shop: Shop) -> dict[str, Any]:
    from .profiles import current_profile

    profile = current_profile(session, shop)
    return {CHANNEL_QUESTION: profile.value(CHANNEL_QUESTION), HOURS_QUESTION: profile.value(HOURS_QUESTION)}


def get_preferences(session: Session, shop: Shop) -> Preferences:
    """The merchant's current wishes (read only)."""
    row = session.get(ContactPreference, shop.id)
    values = _profile_values(session, shop)
    channels = call_channels(shop.market)
    channel = values[CHANNEL_QUESTION]
    return Preferences(parse_days(row.days) if row else None, values[HOURS_QUESTION],
                       channel if channel in channels else None, channels)


def check_preferences(market: str, raw: Mapping[str, Any], lang: str = "en"
                      ) -> tuple[tuple[int, ...] | None, str, str]:
    """(days, hours, channel) from a form's or an API's values, or ValidationFailed naming every bad field.

    ``days``: ISO weekday numbers ("1".."7"; none or all seven: any day); ``hours``: a
    ``needs.preferred_call_time`` choice; ``channel``: one of the market's call channels.
    """
    _ = translations(lang).gettext
    errors: list[dict[str, Any]] = []
    raw_days = raw.get("days") or []
    if isinstance(raw_days, str):
        raw_days = [raw_days]
    days: list[int] = []
    for value in raw_days:
        text = str(value).strip()
        if not (text.isdigit() and int(text) in WEEKDAYS):
            errors.append({"field": "days", "code": "invalid_day", "value": text[:20],
                           "message": _("%(value)s is not a day of the week.") % {"value": repr(text[:20])}})
        else:
            days.append(int(text))
    hours_q = profile_schema.load_schema().questions[HOURS_QUESTION]
    hours = str(raw.get("hours") or "").strip()
    if hours not in hours_q.choices:
        errors.append({"field": "hours", "code": "invalid_choice", "value": hours[:20],
                       "message": _("Please choose the time of day that suits you.")})
    channels = call_channels(market)
    channel = str(raw.get("channel") or "").strip()
    if channel not in channels:
        errors.append({"field": "channel", "code": "invalid_choice", "value": channel[:20],
                       "message": _("Please choose how we should call you.")})
    if errors:
        raise ValidationFailed(errors, "; ".join(e["message"] for e in errors))
    return (tuple(sorted(set(days))) if days and len(set(days)) < 7 else None), hours, channel


@dataclass
class PreferencesSaved:
    preferences: Preferences
    moved: list[tuple[int, datetime, datetime]] = field(default_factory=list)  # (call id, from, to)

    def as_dict(self, shop: Shop) -> dict[str, Any]:
        """The answer of `concierge callback preferences --json` and `PUT .../contact-preferences`."""
        return {"shop": shop.platform_id, **self.preferences.as_dict(),
                "moved": [{"call": cid, "from": a.isoformat(), "to": b.isoformat()} for cid, a, b in self.moved]}


def set_preferences(session: Session, shop: Shop, raw: Mapping[str, Any], *, actor: str = "merchant",
                    via: str = "survey", lang: str = "en", now: datetime | None = None) -> PreferencesSaved:
    """Store the merchant's days, hours and channel (all checked first: nothing stored on an error),
    then let the scheduler follow them: the planner reads the shop again, and its open planned
    calls move into the preferred days and hours when their due window allows."""
    from audits import slots
    from audits.planner import contact_for

    from .audits import build_facts
    from .observations import record_answers
    from .shop_state import refresh_states

    now = now or utcnow()
    days, hours, channel = check_preferences(shop.market, raw, lang)
    known = _profile_values(session, shop)
    answers = {k: v for k, v in ((CHANNEL_QUESTION, channel), (HOURS_QUESTION, hours)) if known.get(k) != v}
    if answers:
        record_answers(session, shop, answers, actor=actor, source="survey", channel=SUBMISSION_CHANNEL,
                       lang=lang, now=now)
    row = session.get(ContactPreference, shop.id)
    if row is None:
        row = ContactPreference(shop_id=shop.id)
        session.add(row)
    row.days, row.updated_at, row.updated_by = _days_text(days), now, actor
    session.flush()
    # the planner's stored facts are stale now: rebuilt on the next read and on its next run
    session.execute(update(AuditState).where(AuditState.shop_id == shop.id)
                    .values(facts_version=0, next_check_at=now))
    contact = contact_for(build_facts(session, [shop])[shop.id][0])
    saved = PreferencesSaved(get_preferences(session, shop))
    for call in session.scalars(select(PlannedCall).where(PlannedCall.shop_id == shop.id,
                                                          PlannedCall.status == "planned",
                                                          PlannedCall.kind != "callback")):
        start = max(call.due_from, now)
        try:
            slot = slots.next_slot(contact, start, call.purpose, latest=call.due_until)
        except slots.NoSlot:
            continue  # nothing allowed before its window ends: it stays where it is
        if slot.at == call.scheduled_at:
            continue
        before = call.scheduled_at
        call.scheduled_at, call.preference_met, call.updated_at = slot.at, slot.preference_met, now
        session.add(PlannedCallEvent(call_id=call.id, at=now, actor=actor, action="rescheduled",
                                     from_status="planned", to_status="planned", reason="preferences", note=None,
                                     details={"from": before.isoformat(), "to": slot.at.isoformat(), "via": via}))
        saved.moved.append((call.id, before, slot.at))
    session.flush()
    refresh_states(session, [shop.id], now=now, calls_only=True)
    return saved


# --------------------------------------------------------------------------- what happens next

def consultant_first_name(session: Session, shop: Shop) -> str | None:
    """The first name of the merchant's consultant: who holds their next call, else who last
    reached them, else who sent them the survey link; None when that is not a known user."""
    from .planned_calls import next_call

    candidates: list[Any] = []
    call = next_call(session, shop)
    if call is not None and call.owner_id is not None:
        candidates.append(session.get(User, call.owner_id))
    emails = [session.scalar(select(ShopState.consultant).where(ShopState.shop_id == shop.id)),
              session.scalar(select(Call.actor).where(Call.shop_id == shop.id, Call.reached.is_(True))
                             .order_by(Call.called_at.desc(), Call.id.desc()).limit(1)),
              session.scalar(select(SurveyLink.created_by).where(SurveyLink.shop_id == shop.id)
                             .order_by(SurveyLink.created_at.desc(), SurveyLink.id.desc()).limit(1))]
    for email in emails:
        if email:
            candidates.append(session.scalar(select(User).where(User.email == email)))
    for user in candidates:
        if user is not None and user.active and (user.name or "").strip():
            return user.name.split()[0]
    return None


@dataclass(frozen=True)
class NextStep:
    """What the survey pages tell the merchant about what happens next (read only)."""

    consultant: str | None                 # first name
    call_at: datetime | None               # the next open call, aware
    call_is_callback: bool
    preferences: Preferences


def next_step(session: Session, shop: Shop) -> NextStep:
    """The consultant's first name, the next call and the merchant's wishes. Writes nothing."""
    from .planned_calls import next_call

    call = next_call(session, shop)
    at = call.scheduled_at if call is not None else None
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return NextStep(consultant_first_name(session, shop), at, bool(call is not None and call.kind == "callback"),
                    get_preferences(session, shop))
