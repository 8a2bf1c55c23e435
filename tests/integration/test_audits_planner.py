"""The audit planner in a real database (SQLite and PostgreSQL): idempotent, incremental,
moot calls cancelled with their reason, dedupe, holdout, snooze, cancel and callbacks."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from audits import slots
from audits.planner import contact_for
from audits.facts import ShopFacts
from concierge.demo.generator import generate
from concierge.demo.loader import load_population
from concierge.errors import ValidationFailed
from concierge.models import AuditState, PlannedCall, PlannedCallEvent, PlannerRun, Shop
from concierge.operations import audits as ops
from concierge.operations.observations import record_answers
from concierge.operations.shops import ensure_shop

TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)
UTC = timezone.utc


def dump(session) -> dict:
    """Every row the planner owns, as plain tuples (its own bookmark aside)."""
    calls = session.execute(select(PlannedCall.__table__)).all()
    events = session.execute(select(PlannedCallEvent.__table__)).all()
    states = session.execute(select(AuditState.__table__)).all()
    return {"calls": sorted(map(tuple, calls)), "events": sorted(map(tuple, events)),
            "states": sorted(map(tuple, states))}


@pytest.fixture
def population(database):
    with database.session() as s:
        load_population(s, generate(160, seed=4, today=TODAY))
    return database


def test_a_plan_run_twice_changes_nothing_and_plans_only_allowed_moments(population):
    with population.session() as s:
        first = ops.plan_calls(s, now=NOW)
    assert first.full and first.shops_rebuilt == 160
    assert first.created > 20
    with population.sessionmaker() as s:
        before = dump(s)
        shops = {sh.id: sh for sh in s.scalars(select(Shop))}
        states = {st.shop_id: ShopFacts.from_dict(st.facts) for st in s.scalars(select(AuditState))}
        for call in s.scalars(select(PlannedCall)):
            contact = contact_for(states[call.shop_id])
            assert slots.is_allowed(contact, call.scheduled_at, call.purpose, honour_preferences=False), call.id
            assert call.scheduled_at.astimezone(UTC) >= NOW - timedelta(seconds=1)
            assert call.rules_version == 1 and 2 <= len(call.agenda) <= 4
            assert shops[call.shop_id].market in ("PL", "TR", "IN")
        open_keys = s.execute(select(PlannedCall.shop_id, PlannedCall.open_key)
                              .where(PlannedCall.open_key.is_not(None))).all()
        assert len(open_keys) == len(set(open_keys))
        created_events = s.scalar(select(func.count()).select_from(PlannedCallEvent)
                                  .where(PlannedCallEvent.action == "created"))
        assert created_events == first.created + first.held_out
    with population.session() as s:
        second = ops.plan_calls(s, now=NOW)
    assert (second.created, second.cancelled, second.held_out, second.shops_rebuilt) == (0, 0, 0, 0)
    with population.session() as s:
        full_again = ops.plan_calls(s, now=NOW, full=True)
    assert (full_again.created, full_again.cancelled) == (0, 0) and full_again.shops_seen == 160
    with population.sessionmaker() as s:
        assert dump(s) == before


def test_time_passing_fires_rules_without_rereading_history(population):
    with population.session() as s:
        ops.plan_calls(s, now=NOW)
    later = NOW + timedelta(days=9)
    with population.session() as s:
        report = ops.plan_calls(s, now=later)
        run = s.get(PlannerRun, 1)
        assert run.last_run_at == later
    assert report.shops_rebuilt == 0  # nothing new was recorded: only stored facts were re-planned
    assert report.shops_seen > 0 and report.created + report.cancelled > 0


def _open_call(session, rule=None, reason=None):
    q = select(PlannedCall).where(PlannedCall.status == "planned")
    if rule:
        q = q.where(PlannedCall.rule == rule)
    if reason:
        q = q.where(PlannedCall.reason == reason)
    return session.scalars(q.order_by(PlannedCall.id)).first()


def test_new_progress_makes_a_stall_moot_and_it_is_cancelled_with_its_reason(database):
    with database.session() as s:
        shop = ensure_shop(s, "pl-stuck", "PL", trial_started_at=NOW - timedelta(days=20),
                           trial_ends_at=NOW + timedelta(days=10))
        record_answers(s, shop, {"readiness.store_details": True}, actor="c@x", source="call",
                       observed_at=NOW - timedelta(days=19))
        record_answers(s, shop, {"readiness.theme_published": False}, actor="c@x", source="call",
                       observed_at=NOW - timedelta(days=1))
    with database.session() as s:
        ops.plan_calls(s, now=NOW)
        stall = _open_call(s, rule="stage_stalled")
        assert stall is not None and stall.params["stage"] == "setting_up"
        stall_id = stall.id
    with database.session() as s:
        record_answers(s, "pl-stuck", {"readiness.theme_published": True}, actor="c@x", source="call",
                       observed_at=NOW + timedelta(hours=1))
    with database.session() as s:
        report = ops.plan_calls(s, now=NOW + timedelta(hours=2))
        assert report.shops_rebuilt == 1 and report.cancelled_by_reason == {"condition_cleared": 1}
        call = s.get(PlannedCall, stall_id)
        assert (call.status, call.cancel_reason, call.open_key) == ("cancelled", "condition_cleared", None)
        history = ops.call_history(s, call)
        assert [e.action for e in history] == ["created", "cancelled"]
        assert history[-1].reason == "condition_cleared" and history[-1].actor == "planner"


def test_dedupe_holds_in_the_database(database):
    from sqlalchemy.exc import IntegrityError

    with database.session() as s:
        ensure_shop(s, "tr-dup", "TR", trial_started_at=NOW - timedelta(days=3), trial_ends_at=NOW + timedelta(days=11))
    with database.session() as s:
        ops.request_callback(s, "tr-dup", now=NOW, note="first")
    with database.session() as s:
        moved = ops.request_callback(s, "tr-dup", now=NOW + timedelta(minutes=5), note="second",
                                     at=NOW + timedelta(days=2))
        assert s.scalar(select(func.count()).select_from(PlannedCall).where(PlannedCall.kind == "callback")) == 1
        assert moved.note == "second" and [e.action for e in ops.call_history(s, moved)] == ["created", "rescheduled"]
    with pytest.raises(IntegrityError):
        with database.session() as s:
            shop = s.scalar(select(Shop).where(Shop.platform_id == "tr-dup"))
            s.add(PlannedCall(shop_id=shop.id, kind="callback", reason="callback", rule="callback",
                              occurrence="other", trigger="callback", purpose="service", status="planned",
                              open_key="callback:callback", due_from=NOW, due_until=NOW, scheduled_at=NOW,
                              created_by="test"))
            s.flush()


def test_held_out_shops_get_their_audits_recorded_never_planned(population):
    with population.session() as s:
        ops.plan_calls(s, now=NOW)
    with population.sessionmaker() as s:
        held = {st.shop_id for st in s.scalars(select(AuditState).where(AuditState.holdout.is_(True)))}
        # the demo hands the planner the generator's arm (the one its calls were made by)
        expected = {sh.id for sh in s.scalars(select(Shop)) if sh.holdout}
        assert held == expected and 0 < len(held) < 160
        for call in s.scalars(select(PlannedCall)):
            assert call.holdout == (call.shop_id in held)
            assert call.status == ("held_out" if call.shop_id in held else "planned")
            assert (call.open_key is None) == call.holdout
        summary = ops.holdout_summary(s)
        assert summary["total"] == s.scalar(select(func.count()).select_from(PlannedCall))
        assert summary["held_out"] == s.scalar(select(func.count()).select_from(PlannedCall)
                                               .where(PlannedCall.holdout.is_(True)))


def test_a_shop_the_planner_meets_first_gets_the_fixed_draw_as_its_arm(database):
    with database.session() as s:
        for i in range(60):
            ensure_shop(s, f"draw-{i}", "PL", name=f"Sklep {i}", trial_started_at=NOW - timedelta(days=3))
    with database.session() as s:
        ops.plan_calls(s, now=NOW)
    with database.sessionmaker() as s:
        arms = dict(s.execute(select(Shop.platform_id, AuditState.holdout)
                              .join(AuditState, AuditState.shop_id == Shop.id)).all())
        assert len(arms) == 60
        assert arms == {pid: ops._holdout_draw(pid) < 0.10 for pid in arms}


def test_callbacks_are_never_held_out_and_go_first(population):
    with population.session() as s:
        ops.plan_calls(s, now=NOW)
        held_shop = s.scalar(select(Shop).join(AuditState, AuditState.shop_id == Shop.id)
                             .where(AuditState.holdout.is_(True)).limit(1))
        call = ops.request_callback(s, held_shop, now=NOW, via="survey", actor="merchant", note="payments?")
        assert call.status == "planned" and call.holdout is False and call.kind == "callback"
        assert call.agenda[0] == {"code": "callback_note", "params": {"note": "payments?"}}
        first = ops.list_calls(s, status="open", limit=1)[0][0]
        assert first.id == call.id


def test_a_callback_now_outside_hours_comes_at_the_next_allowed_moment(database):
    with database.session() as s:
        ensure_shop(s, "pl-night", "PL", trial_started_at=NOW - timedelta(days=3))
        saturday_night = datetime(2026, 11, 21, 22, 30, tzinfo=UTC)  # Saturday 23:30 in Warsaw
        call = ops.request_callback(s, "pl-night", now=saturday_night)
        local = call.scheduled_at.astimezone(slots.get_market("PL").tz)
        assert (local.date(), local.hour, local.minute) == (date(2026, 11, 23), 9, 0)
        data = ops.call_as_dict(call, s.scalar(select(Shop).where(Shop.platform_id == "pl-night")))
        assert data["scheduled_local"].startswith("2026-11-23T09:00:00+01:00")
        assert data["wait_minutes"] == 0.0  # no allowed calling minute passed before the call


@pytest.mark.parametrize("kwargs,field,code", [
    ({"at": datetime(2026, 11, 16, 10, 0)}, "at", "request.naive_time"),
    ({"at": NOW - timedelta(hours=2)}, "at", "request.in_the_past"),
    ({"at": NOW + timedelta(days=45)}, "at", "request.too_far"),
    ({"note": "x" * 600}, "note", "request.too_long"),
])
def test_a_bad_callback_request_names_the_field_and_stores_nothing(database, kwargs, field, code):
    with database.session() as s:
        ensure_shop(s, "in-bad", "IN", trial_started_at=NOW - timedelta(days=3))
    with pytest.raises(ValidationFailed) as caught:
        with database.session() as s:
            ops.request_callback(s, "in-bad", now=NOW, lang="en", **kwargs)
    (error,) = caught.value.as_dict()["errors"]
    assert error["field"] == field and error["code"] == code
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(PlannedCall)) == 0


def test_snooze_and_cancel_keep_their_reasons(population):
    with population.session() as s:
        ops.plan_calls(s, now=NOW)
        call = _open_call(s)
        cid = call.id
        with pytest.raises(ValidationFailed) as past:
            ops.snooze_call(s, cid, until=NOW - timedelta(days=1), reason="holiday", actor="ann", now=NOW)
        assert past.value.as_dict()["errors"][0]["field"] == "until"
        with pytest.raises(ValidationFailed) as empty:
            ops.snooze_call(s, cid, until=NOW + timedelta(days=3), reason="  ", actor="ann", now=NOW)
        assert empty.value.as_dict()["errors"][0]["field"] == "reason"
        until = datetime(2027, 1, 12, tzinfo=UTC)
        snoozed = ops.snooze_call(s, cid, until=until, reason="on holiday until 12 Jan", actor="ann", now=NOW)
        assert snoozed.status == "snoozed" and snoozed.scheduled_at >= until
        assert snoozed.note == "on holiday until 12 Jan"
    with population.session() as s:
        report = ops.plan_calls(s, now=NOW + timedelta(days=1))
        assert s.get(PlannedCall, cid).status == "snoozed"  # still asleep
    with population.session() as s:
        ops.plan_calls(s, now=datetime(2027, 1, 12, 6, tzinfo=UTC))
        woke = s.get(PlannedCall, cid)
        assert woke.status in ("planned", "cancelled")  # back in the queue, unless moot by then
        assert "unsnoozed" in [e.action for e in ops.call_history(s, woke)]
    with population.session() as s:
        other = _open_call(s)
        done = ops.cancel_call(s, other.id, reason="merchant closed the business", actor="ann", now=NOW)
        assert (done.status, done.cancel_reason, done.note) == ("cancelled", "manual", "merchant closed the business")
        with pytest.raises(ops.CallNotOpen):
            ops.cancel_call(s, other.id, reason="again", actor="ann", now=NOW)
    assert report.created >= 0


def test_an_override_file_with_a_bad_rule_is_refused_in_the_readers_language(database, tmp_path, monkeypatch):
    path = tmp_path / "overrides.yaml"
    path.write_text("markets:\n  IN:\n    audits:\n      rules:\n        - {key: inactive, window: {weeks: 2}}\n",
                    encoding="utf-8")
    monkeypatch.setenv("CONCIERGE_MARKET_OVERRIDES", str(path))
    with pytest.raises(ValidationFailed) as caught:
        ops.rules_for("IN", "pl")
    assert caught.value.as_dict()["errors"][0]["field"] == "audits.rules.inactive.window"


def test_two_callback_requests_at_once_leave_one_open_callback(pg_url):
    """Two tabs pressing "Call me" together on PostgreSQL: one callback, moved by the second."""
    import threading

    from concierge.db import Database

    db = Database(pg_url)
    db.create_all()
    try:
        with db.session() as s:
            ensure_shop(s, "pl-race", "PL", trial_started_at=NOW - timedelta(days=2))
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def ask(note: str) -> None:
            try:
                with db.session() as s:
                    s.scalar(select(Shop.id).where(Shop.platform_id == "pl-race"))
                    barrier.wait(timeout=10)
                    ops.request_callback(s, "pl-race", now=NOW, note=note)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=ask, args=(n,)) for n in ("tab one", "tab two")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors
        with db.sessionmaker() as s:
            calls = s.scalars(select(PlannedCall).where(PlannedCall.kind == "callback")).all()
            assert len(calls) == 1 and calls[0].note in ("tab one", "tab two")
            actions = sorted(e.action for e in ops.call_history(s, calls[0]))
            assert actions == ["created", "rescheduled"]
    finally:
        db.dispose()


def test_every_problem_of_a_callback_request_is_named_at_once(database):
    with database.session() as s:
        ensure_shop(s, "tr-two", "TR", trial_started_at=NOW - timedelta(days=3))
    with pytest.raises(ValidationFailed) as caught:
        with database.session() as s:
            ops.request_callback(s, "tr-two", now=NOW, at=NOW - timedelta(days=1), note="y" * 501, lang="tr")
    errors = caught.value.as_dict()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("at", "request.in_the_past"), ("note", "request.too_long")]
    assert "geçmişte" in errors[0]["message"] and "500" in errors[1]["message"]
