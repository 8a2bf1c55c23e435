"""The merchant's preferred days, hours and channel, and the scheduler following them (SQLite and PostgreSQL).

A demo population is planned; then merchants change their wishes: their open planned calls move
into the new days and hours (each checked against `audits.slots` on its own), the planner's next
run plans with them, a callback asked "now" lands inside them, bad input names every field and
stores nothing, and `next_step` names the consultant by first name and writes nothing.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

import locales
from audits import slots
from audits.facts import ShopFacts
from concierge.demo.generator import generate
from concierge.demo.loader import load_population
from concierge.errors import ValidationFailed
from concierge.models import (
    AuditState, ContactPreference, Observation, PlannedCall, PlannedCallEvent, Shop, User,
)
from concierge.operations import audits as ops
from concierge.operations.contact_preferences import get_preferences, next_step, set_preferences
from concierge.operations.profiles import current_profile
from concierge.operations.shops import ensure_shop
from concierge.operations.survey_links import create_link

TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)
UTC = timezone.utc
MORNING = (8, 12)  # audits.slots.PREFERRED_CALL_TIMES["morning"]


def _inside(at: datetime, market: str, days: tuple[int, ...], hours: tuple[int, int]) -> bool:
    local = at.astimezone(locales.get_market(market).tz)
    return local.isoweekday() in days and hours[0] <= local.hour < hours[1]


@pytest.fixture
def planned(database):
    with database.session() as s:
        load_population(s, generate(120, seed=4, today=TODAY))
    with database.session() as s:
        ops.plan_calls(s, now=NOW)
    return database


def test_open_calls_move_into_the_new_days_and_hours_and_the_planner_follows(planned):
    with planned.session() as s:
        rows = s.execute(select(PlannedCall.shop_id, func.count()).join(Shop, Shop.id == PlannedCall.shop_id)
                         .where(PlannedCall.status == "planned", PlannedCall.kind != "callback",
                                Shop.market == "TR").group_by(PlannedCall.shop_id)).all()
        assert rows, "the demo plans calls for Turkish shops"
        moved_any = 0
        for shop_id, _n in rows[:8]:
            shop = s.get(Shop, shop_id)
            before = {c.id: c.scheduled_at for c in s.scalars(select(PlannedCall).where(
                PlannedCall.shop_id == shop_id, PlannedCall.status == "planned", PlannedCall.kind != "callback"))}
            saved = set_preferences(s, shop, {"days": ["4"], "hours": "morning", "channel": "whatsapp"}, now=NOW)
            assert saved.preferences.days == (4,) and saved.preferences.hours == "morning"
            assert saved.preferences.channel == "whatsapp"
            contact = slots.Contact(market="TR", consent=current_profile(s, shop).value("owner.marketing_consent"),
                                    is_trader=current_profile(s, shop).value("owner.is_trader"),
                                    preferred_days=(4,), preferred_hours=slots.preferred_hours_for("morning"))
            for call in s.scalars(select(PlannedCall).where(PlannedCall.id.in_(before))):
                try:  # the same search, on our own: the first allowed Thursday morning in its due window
                    want = slots.next_slot(contact, max(call.due_from, NOW), call.purpose, latest=call.due_until).at
                except slots.NoSlot:
                    want = before[call.id]
                assert call.scheduled_at == want, (call.id, call.scheduled_at, want)
                if call.scheduled_at != before[call.id]:
                    moved_any += 1
                    assert _inside(call.scheduled_at, "TR", (4,), MORNING) or not call.preference_met
                    event = s.scalar(select(PlannedCallEvent).where(PlannedCallEvent.call_id == call.id,
                                                                    PlannedCallEvent.action == "rescheduled"))
                    assert event.reason == "preferences" and event.actor == "merchant"
        assert moved_any > 0
        changed = [sid for sid, _n in rows[:8]]
        assert all(s.get(AuditState, sid).facts_version == 0 for sid in changed)  # stale until the planner runs
    with planned.session() as s:
        ops.plan_calls(s, now=NOW + timedelta(days=1))
    with planned.session() as s:
        for sid in changed:
            facts = ShopFacts.from_dict(s.get(AuditState, sid).facts)
            assert facts.preferred_days == (4,) and facts.preferred_call_time == "morning"
        # every call the planner makes for them from now on is inside the wishes when it can be
        for call in s.scalars(select(PlannedCall).where(PlannedCall.shop_id.in_(changed),
                                                        PlannedCall.created_at > NOW)):
            assert _inside(call.scheduled_at, "TR", (4,), MORNING) or not call.preference_met
        # a callback asked "now" on a Monday lands on the next Thursday morning, the merchant's time
        shop = s.get(Shop, changed[0])
        call = ops.request_callback(s, shop, now=NOW + timedelta(days=1), via="survey")
        assert _inside(call.scheduled_at, "TR", (4,), MORNING) and call.preference_met


def test_bad_wishes_name_every_field_and_store_nothing(database):
    with database.session() as s:
        shop = ensure_shop(s, "pl-1", "PL", name="Ceramika")
        before = s.scalar(select(func.count()).select_from(Observation))
        with pytest.raises(ValidationFailed) as exc:
            set_preferences(s, shop, {"days": ["2", "9", "x"], "hours": "night", "channel": "whatsapp"},
                            lang="pl", now=NOW)
        fields = [e["field"] for e in exc.value.errors]
        assert fields == ["days", "days", "hours", "channel"]  # WhatsApp is not a Polish call channel
        assert "'9'" in exc.value.errors[0]["message"]
        assert s.scalar(select(func.count()).select_from(ContactPreference)) == 0
        assert s.scalar(select(func.count()).select_from(Observation)) == before
        # all seven days (or none) mean any day; phone is always there
        set_preferences(s, shop, {"days": [str(d) for d in range(1, 8)], "hours": "any", "channel": "phone"}, now=NOW)
        assert get_preferences(s, shop).days is None and s.get(ContactPreference, shop.id).days is None
        assert get_preferences(s, shop).channels == ("phone",)


def test_next_step_names_the_consultant_and_writes_nothing(database):
    with database.session() as s:
        s.add(User(email="ayse@example.com", name="Ayşe Nur Demir", password_hash="x", role="consultant"))
        shop = ensure_shop(s, "tr-9", "TR", name="Çiçekçi")
        create_link(s, shop, secret="x", created_by="ayse@example.com", days=7, now=NOW)
    with database.session() as s:
        shop = s.scalar(select(Shop).where(Shop.platform_id == "tr-9"))
        step = next_step(s, shop)
        assert step.consultant == "Ayşe" and step.call_at is None
        assert step.preferences.channels == ("phone", "whatsapp") and step.preferences.days is None
        assert not s.new and not s.dirty and not s.deleted
        call = ops.request_callback(s, shop, now=NOW, via="survey")
    with database.session() as s:
        shop = s.scalar(select(Shop).where(Shop.platform_id == "tr-9"))
        step = next_step(s, shop)
        assert step.call_at == call.scheduled_at and step.call_is_callback
        s.execute(User.__table__.update().values(active=False))
        assert next_step(s, shop).consultant is None  # someone who left is not named
