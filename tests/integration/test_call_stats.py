"""Contact-centre figures, each checked against a count by hand on a small log (both databases)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from concierge.models import Call, CallRating, Observation, PlannedCall
from concierge.operations.callstats import call_stats
from concierge.operations.shops import ensure_shop

UTC = timezone.utc
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Warsaw


def _planned(s, shop, reason, trigger, **kw):
    _planned.n = getattr(_planned, "n", 0) + 1
    call = PlannedCall(shop_id=shop.id, kind=kw.pop("kind", "audit"), reason=reason, rule=reason,
                       occurrence=f"o{_planned.n}",
                       trigger=trigger, purpose="service", status="done", due_from=T0, due_until=T0,
                       scheduled_at=T0, created_by="t", created_at=kw.pop("created_at", T0), **kw)
    s.add(call)
    s.flush()
    return call


def test_figures_match_a_count_by_hand(session):
    s = session
    a = ensure_shop(s, "pl-s1", "PL")
    b = ensure_shop(s, "pl-s2", "PL")
    stall = _planned(s, a, "stage_stalled", "stage_stalled")
    quiet = _planned(s, b, "inactive", "inactive")
    cb = _planned(s, b, "callback", "callback", kind="callback", requested_at=T0,
                  first_attempt_at=T0 + timedelta(minutes=10))
    late_cb = _planned(s, a, "callback", "callback", kind="callback", requested_at=T0 + timedelta(hours=1),
                       first_attempt_at=T0 + timedelta(hours=2))
    ann = [Call(shop_id=a.id, actor="ann@x", kind="audit", called_at=T0, reached=True, outcome="reached",
                planned_call_id=stall.id, handling_seconds=600),
           Call(shop_id=b.id, actor="ann@x", kind="audit", called_at=T0 + timedelta(minutes=10), reached=False,
                outcome="no_answer", planned_call_id=cb.id, handling_seconds=60)]
    bob = [Call(shop_id=b.id, actor="bob@x", kind="audit", called_at=T0 + timedelta(hours=1), reached=True,
                outcome="reached", planned_call_id=quiet.id, handling_seconds=1200),
           Call(shop_id=a.id, actor="bob@x", kind="audit", called_at=T0 + timedelta(hours=2), reached=True,
                outcome="reached", planned_call_id=late_cb.id, handling_seconds=300)]
    s.add_all(ann + bob)
    s.flush()
    # the stall moved after ann's call (resolved); b stayed quiet and got a repeat (not resolved)
    s.add(Observation(shop_id=a.id, question="readiness.products_added", value=True, source="call", actor="x",
                      observed_at=T0 + timedelta(days=2)))
    _planned(s, b, "inactive", "inactive", created_at=T0 + timedelta(days=3))
    s.add_all([CallRating(call_id=ann[0].id, shop_id=a.id, score=10, created_at=T0 + timedelta(hours=3)),
               CallRating(call_id=bob[0].id, shop_id=b.id, score=5, created_at=T0 + timedelta(hours=3)),
               CallRating(call_id=bob[1].id, shop_id=a.id, score=9, created_at=T0 + timedelta(hours=3))])
    s.flush()
    data = call_stats(s, since=T0 - timedelta(days=1), until=T0 + timedelta(days=1), now=T0 + timedelta(days=10))
    team = data["team"]
    assert team["calls_handled"] == 4 and team["reached"] == 3 and team["reach_rate"] == 0.75
    assert team["average_handling_minutes"] == round((600 + 60 + 1200 + 300) / 4 / 60, 1)
    assert team["tnps"] == round(100 * (2 - 1) / 3, 1) and team["ratings"] == 3
    # callbacks: 10 allowed minutes (in target) and 60 allowed minutes (late)
    assert team["callbacks"] == 2 and team["callback_service_level"] == 0.5
    # FCR: the stall call resolved, the quiet call repeated, the callback call resolved (no repeat)
    assert team["fcr_judged"] == 3 and team["first_contact_resolution"] == round(2 / 3, 4)
    people = {r["consultant"]: r for r in data["consultants"]}
    assert people["ann@x"]["calls_handled"] == 2 and people["ann@x"]["tnps"] == 100.0
    assert people["bob@x"]["first_contact_resolution"] == 0.5
