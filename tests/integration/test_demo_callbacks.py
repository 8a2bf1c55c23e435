"""The demo's callbacks: merchants of open trials ask for one right after the load, before the
planner has read their shops (the loader's audit_state rows hold no facts yet)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import func, select

from concierge.demo.generator import generate
from concierge.demo.loader import DEMO_CALLBACK_SHARE, load_population, plan_demo_calls
from concierge.models import AuditState, PlannedCall

TODAY = date(2026, 11, 17)
NOW = datetime(2026, 11, 17, 9, 30, tzinfo=timezone.utc)


def test_callbacks_are_planned_for_shops_the_planner_has_not_read_yet(database):
    pop = generate(80, seed=7, today=TODAY)
    open_trials = sum(1 for s in pop.shops if s.outcome is None)
    assert open_trials >= 3  # else the demo asks for no callback and this test shows nothing
    with database.session() as s:
        load_population(s, pop, now=NOW)
    with database.sessionmaker() as s:  # the loader hands the arm over, the facts come with the first plan
        assert s.scalar(select(func.count()).select_from(AuditState).where(AuditState.facts_version == 0)) == 80
    with database.session() as s:
        report = plan_demo_calls(s, pop, today=TODAY, seed=7, now=NOW)
    with database.sessionmaker() as s:
        callbacks = list(s.scalars(select(PlannedCall).where(PlannedCall.kind == "callback")))
        assert len(callbacks) == report["callbacks"] == max(3, round(open_trials * DEMO_CALLBACK_SHARE))
        assert all(c.agenda and c.language for c in callbacks)
        assert all(c.scheduled_at >= NOW for c in callbacks)
