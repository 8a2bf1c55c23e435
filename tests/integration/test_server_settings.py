"""`db.server_settings`: transaction-local PostgreSQL settings for a block, put back after it; a
report is built with its work_mem and leaves the request's settings as they were."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text

from concierge.db import server_settings
from concierge.operations.reports import REPORT_WORK_MEM, build_report


def _setting(session, name):
    return session.execute(text("SELECT current_setting(:n)"), {"n": name}).scalar_one()


def test_settings_hold_inside_the_block_and_are_put_back(session):
    if session.get_bind().dialect.name != "postgresql":
        with server_settings(session, work_mem="64MB", jit="off"):  # nothing to set on SQLite
            assert session.execute(text("SELECT 1")).scalar_one() == 1
        return
    before = (_setting(session, "work_mem"), _setting(session, "jit"))
    with server_settings(session, work_mem="64MB", jit="off"):
        assert (_setting(session, "work_mem"), _setting(session, "jit")) == ("64MB", "off")
    assert (_setting(session, "work_mem"), _setting(session, "jit")) == before


def test_a_report_runs_with_its_work_mem_and_leaves_the_session_as_it_was(session, monkeypatch):
    seen = []
    from concierge.operations.reports import funnel

    real = funnel.build

    def spy(s, **kw):
        if s.get_bind().dialect.name == "postgresql":
            seen.append(_setting(s, "work_mem"))
        return real(s, **kw)

    monkeypatch.setattr(funnel, "build", spy)
    before = _setting(session, "work_mem") if session.get_bind().dialect.name == "postgresql" else None
    build_report(session, "funnel", now=datetime(2026, 11, 17, tzinfo=timezone.utc))
    if before is not None:
        assert seen == [REPORT_WORK_MEM] and _setting(session, "work_mem") == before
