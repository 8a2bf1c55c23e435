"""The pure planner: what fires, what becomes moot, dedupe, consent, gain, and idempotence."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from audits import slots
from audits.agenda import build_agenda, render_agenda, render_reason
from audits.facts import ShopFacts
from audits.planner import OpenCall, contact_for, phase, plan
from audits.rules import load_rules

UTC = dt.timezone.utc


def at(y, m, d, h=9, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC)


def trial(market="PL", start=at(2026, 11, 2), days=14, **kw) -> ShopFacts:
    base = dict(shop="s1", market=market, trial_started_at=start, trial_ends_at=start + dt.timedelta(days=days),
                stage="products", progress_at=start, last_activity_at=start,
                open_items=(("readiness.products_added", None), ("readiness.payments_connected", None)))
    base.update(kw)
    return ShopFacts(**base)


def fired(p, rule=None):
    return [f for f in p.create if rule is None or f.rule == rule]


def as_open(firing, call_id=1):
    return OpenCall(call_id, firing.rule, firing.kind, firing.reason, firing.occurrence, firing.purpose, "planned")


def test_a_stalled_stage_fires_after_its_business_days_and_not_before():
    facts = trial(market="TR", progress_at=at(2026, 11, 2, 8), last_activity_at=at(2026, 11, 5))
    rules = load_rules("TR")  # 3 business days
    early = plan(facts, rules, at(2026, 11, 4, 12))
    assert not fired(early, "stage_stalled")
    assert early.next_check_at == dt.datetime(2026, 11, 5, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    late = plan(facts, rules, at(2026, 11, 5, 12))
    (call,) = fired(late, "stage_stalled")
    assert call.kind == "audit" and call.purpose == "service"
    assert call.params == {"stage": "products", "date": facts.progress_at.isoformat()}
    assert slots.is_allowed(contact_for(facts), call.scheduled_at, "service")


def test_progress_makes_a_stall_call_moot_and_a_new_stall_is_a_new_occurrence():
    rules = load_rules("TR")
    facts = trial(market="TR", progress_at=at(2026, 11, 2, 8), last_activity_at=at(2026, 11, 9))
    (call,) = fired(plan(facts, rules, at(2026, 11, 5, 12)), "stage_stalled")
    moved = replace(facts, stage="payments_shipping", progress_at=at(2026, 11, 6, 10))
    later = plan(moved, rules, at(2026, 11, 6, 12), open_calls=[as_open(call, 41)],
                 known=[(call.rule, call.occurrence)])
    assert later.cancel == ((41, "condition_cleared"),)
    assert not fired(later, "stage_stalled")
    again = plan(moved, rules, at(2026, 11, 12, 12), known=[(call.rule, call.occurrence)])
    (second,) = fired(again, "stage_stalled")
    assert second.occurrence != call.occurrence and second.params["stage"] == "payments_shipping"


def test_a_disconnection_fires_at_once_and_reconnecting_cancels_it():
    rules = load_rules("PL")
    gone = at(2026, 11, 6, 14)
    facts = trial(disconnected=(("payments", gone),), last_activity_at=gone,
                  integration_gaps=(("payments_blik", "payments", ("BLIK", "Przelewy24", "PayU")),))
    (call,) = fired(plan(facts, rules, at(2026, 11, 6, 15)), "payments_disconnected")
    assert call.agenda[0].code == "reconnect"
    assert call.agenda[0].params["providers"] == ["BLIK", "Przelewy24", "PayU"]
    back = replace(facts, disconnected=())
    p = plan(back, rules, at(2026, 11, 6, 16), open_calls=[as_open(call, 7)], known=[(call.rule, call.occurrence)])
    assert p.cancel == ((7, "condition_cleared"),)


def test_subscribing_cancels_the_selling_calls_and_starts_year_round_monitoring():
    rules = load_rules("TR")
    start = at(2026, 10, 1)
    facts = trial(market="TR", start=start, consent=True, last_activity_at=at(2026, 10, 15))
    selling = plan(facts, rules, at(2026, 10, 15, 10))
    open_shop = [f for f in selling.create if f.reason == "follow_up:open_shop"]
    assert open_shop and open_shop[0].purpose == "commercial"
    paid = replace(facts, outcome="converted", outcome_at=at(2026, 10, 16))
    after = plan(paid, rules, at(2026, 10, 16, 10), open_calls=[as_open(open_shop[0], 3)],
                 known=[(f.rule, f.occurrence) for f in selling.create])
    assert (3, "subscribed") in after.cancel
    monitor = plan(paid, rules, at(2026, 11, 13, 10), known=[(f.rule, f.occurrence) for f in selling.create])
    (m,) = fired(monitor, "monitoring")
    assert m.params["weeks"] == 4 and m.agenda[0].code == "monitoring"
    assert monitor.next_check_at is not None and monitor.next_check_at > at(2026, 11, 13, 10)


def test_a_trial_whose_decision_window_closed_has_left_and_its_calls_are_cancelled():
    rules = load_rules("TR")  # 14-day decision window
    facts = trial(market="TR", start=at(2026, 9, 1), consent=True)
    assert phase(facts, at(2026, 9, 20)) == "deciding"
    assert phase(facts, at(2026, 10, 20)) == "left"
    p = plan(facts, rules, at(2026, 10, 20),
             open_calls=[OpenCall(9, "inactive", "audit", "inactive", "quiet@x", "service", "planned")])
    assert p.cancel == ((9, "shop_left"),)
    assert not p.create


def test_commercial_calls_need_consent_in_poland_and_tr_traders_are_exempt():
    pl = trial(market="PL", start=at(2026, 10, 1), last_activity_at=at(2026, 10, 20))
    p = plan(pl, load_rules("PL"), at(2026, 10, 16, 10))
    assert ("follow_up", "nurture_2w", "consent_missing") in p.skipped
    assert not [f for f in p.create if f.purpose == "commercial"]
    consented = plan(replace(pl, consent=True), load_rules("PL"), at(2026, 10, 16, 10))
    assert [f for f in consented.create if f.occurrence == "nurture_2w"]
    tr = trial(market="TR", start=at(2026, 10, 1), is_trader=True, last_activity_at=at(2026, 10, 15))
    assert [f for f in plan(tr, load_rules("TR"), at(2026, 10, 15, 10)).create if f.purpose == "commercial"]


def test_a_small_expected_gain_skips_and_cancels_selling_calls():
    rules = load_rules("TR")
    facts = trial(market="TR", start=at(2026, 10, 1), consent=True, gain=0.001, last_activity_at=at(2026, 10, 15))
    p = plan(facts, rules, at(2026, 10, 15, 10))
    assert ("follow_up", "trial_end_1", "low_gain") in p.skipped
    call = OpenCall(5, "follow_up", "followup", "follow_up:open_shop", "trial_end_1", "commercial", "planned")
    assert plan(facts, rules, at(2026, 10, 15, 10), open_calls=[call]).cancel == ((5, "low_gain"),)
    worth = plan(replace(facts, gain=0.05), rules, at(2026, 10, 15, 10), open_calls=[call],
                 known=[("follow_up", "trial_end_1")])
    assert worth.cancel == ()


def test_one_open_call_per_kind_and_reason():
    rules = load_rules("TR")  # trial_end_1 and trial_end_2 are both "open the shop"
    facts = trial(market="TR", start=at(2026, 10, 1), consent=True, last_activity_at=at(2026, 10, 15))
    p = plan(facts, rules, at(2026, 10, 15, 10))
    open_shop = [f for f in p.create if f.reason == "follow_up:open_shop"]
    assert len(open_shop) == 1
    keys = [(f.kind, f.reason) for f in p.create]
    assert len(keys) == len(set(keys))


def test_a_survey_plea_for_help_fires_until_a_consultant_has_reached_them():
    rules = load_rules("IN")
    asked = at(2026, 11, 4, 6)
    facts = trial(market="IN", help_topics=("payments", "shipping"), help_at=asked, last_activity_at=asked)
    (call,) = fired(plan(facts, rules, at(2026, 11, 4, 7)), "survey_help")
    assert call.agenda[0].code == "help" and call.agenda[0].params["topics"] == ["payments", "shipping"]
    reached = replace(facts, last_reached_at=at(2026, 11, 4, 8))
    p = plan(reached, rules, at(2026, 11, 4, 9), open_calls=[as_open(call, 2)], known=[(call.rule, call.occurrence)])
    assert p.cancel == ((2, "condition_cleared"),)


def test_an_occurrence_whose_window_passed_unplanned_is_not_called_late():
    facts = trial(market="TR", start=at(2026, 6, 1), outcome="converted", outcome_at=at(2026, 6, 10),
                  launched_at=at(2026, 6, 12), stage="launched")
    p = plan(facts, load_rules("TR"), at(2026, 11, 30, 10))
    assert not fired(p, "first_orders_review")
    # monitoring: 4 weeks after subscribing (8 Jul), then every 12 weeks: 30 Sep has passed
    # unplanned, 23 Dec is planned three weeks ahead, so the planner looks again on 2 Dec
    assert not fired(p, "monitoring")
    assert p.next_check_at == at(2026, 12, 23, 9) - dt.timedelta(days=21)
    (m,) = fired(plan(facts, load_rules("TR"), p.next_check_at), "monitoring")
    assert m.due_from == at(2026, 12, 23, 9) and m.params["weeks"] == 28


def test_agenda_gives_two_to_four_items_in_the_readers_language():
    facts = trial(integration_gaps=(("payments_blik", "payments", ("BLIK", "Przelewy24", "PayU")),),
                  open_items=(("readiness.payments_connected", False),), needs=("marketing",))
    items = build_agenda(facts, "stage_stalled", {"stage": "payments_shipping"})
    assert 2 <= len(items) <= 4
    english = render_agenda(items, market="PL", lang="en")
    assert "Connect BLIK-capable payments: BLIK, Przelewy24, PayU" in english
    polish = render_agenda(items, market="PL", lang="pl",
                           gettext=lambda s: {"Connect %(what)s: %(providers)s": "Podłącz %(what)s: %(providers)s"}.get(s, s))
    assert "Podłącz Płatności z BLIK: BLIK, Przelewy24, PayU" in polish
    why = render_reason("stage_stalled", {"stage": "payments_shipping", "date": "2026-11-02T09:00:00+00:00"},
                        market="PL", lang="pl")
    assert "Płatności i wysyłka" in why and "2 lis 2026" in why


def test_facts_round_trip_through_json():
    facts = trial(disconnected=(("payments", at(2026, 11, 6)),), help_topics=("seo",), help_at=at(2026, 11, 3),
                  integration_gaps=(("shipping", "shipping", ("InPost Paczkomaty",)),), path=("readiness.products_added",),
                  score=0.3, score_before=0.45, gain=0.02)
    assert ShopFacts.from_dict(facts.as_dict()) == facts


# ------------------------------------------------------------------ properties

_markets = st.sampled_from(["PL", "TR", "IN"])
_moments = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 10, 1)).map(
    lambda d: d.replace(tzinfo=UTC))


@st.composite
def shop_facts(draw):
    start = draw(_moments)
    market = draw(_markets)
    days = draw(st.integers(1, 40))
    progress = start + dt.timedelta(hours=draw(st.integers(0, 24 * 40)))
    outcome = draw(st.sampled_from([None, None, "converted", "not_converted"]))
    return trial(
        market=market, start=start, days=days,
        stage=draw(st.sampled_from(["setting_up", "products", "payments_shipping", "legal", "ready", "launched"])),
        progress_at=progress, last_activity_at=progress,
        outcome=outcome, outcome_at=start + dt.timedelta(days=days) if outcome == "converted" else None,
        launched_at=draw(st.sampled_from([None, progress])),
        disconnected=draw(st.sampled_from([(), (("payments", progress),), (("shipping", progress),)])),
        help_topics=("payments",), help_at=draw(st.sampled_from([None, progress])),
        consent=draw(st.sampled_from([None, True, False])), is_trader=draw(st.sampled_from([None, True])),
        preferred_call_time=draw(st.sampled_from([None, "morning", "afternoon", "evening", "any"])),
        score=draw(st.sampled_from([None, 0.2])), score_before=draw(st.sampled_from([None, 0.5])),
        gain=draw(st.sampled_from([None, 0.001, 0.05])),
    ), start + dt.timedelta(days=draw(st.integers(0, 120)), hours=draw(st.integers(0, 23)))


@settings(max_examples=150)
@given(shop_facts())
def test_every_planned_call_is_allowed_and_a_second_run_changes_nothing(case):
    facts, now = case
    rules = load_rules(facts.market)
    first = plan(facts, rules, now)
    contact = contact_for(facts)
    for f in first.create:
        assert f.scheduled_at >= now - dt.timedelta(microseconds=1)
        assert slots.is_allowed(contact, f.scheduled_at, f.purpose, honour_preferences=False)
        assert slots.consent_problem(contact, f.purpose) is None
        assert f.due_until > f.scheduled_at
        assert 2 <= len(f.agenda) <= 4
    keys = [(f.kind, f.reason) for f in first.create]
    assert len(keys) == len(set(keys))
    opened = [as_open(f, i) for i, f in enumerate(first.create)]
    second = plan(facts, rules, now, open_calls=opened, known=[(f.rule, f.occurrence) for f in first.create])
    assert second.create == () and second.cancel == ()
    assert first.next_check_at is None or first.next_check_at > now


def test_a_held_out_record_holds_its_reason_like_a_planned_call_would():
    """The held-out arm gets its follow-ups no sooner than a called shop (found by bench_audits)."""
    rules = load_rules("TR")
    facts = trial(market="TR", start=at(2026, 10, 1), consent=True, last_activity_at=at(2026, 10, 15))
    first = plan(facts, rules, at(2026, 10, 15, 10))
    (step1,) = [f for f in first.create if f.reason == "follow_up:open_shop"]
    held = OpenCall(8, step1.rule, step1.kind, step1.reason, step1.occurrence, step1.purpose, "held_out")
    later = plan(facts, rules, at(2026, 10, 16, 10), open_calls=[held],
                 known=[(f.rule, f.occurrence) for f in first.create])
    assert not [f for f in later.create if f.reason == "follow_up:open_shop"]
    assert later.cancel == ()
