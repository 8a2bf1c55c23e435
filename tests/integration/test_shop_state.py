"""The shop_state read model on real SQLite and PostgreSQL: after every kind of change the live
table equals the rows recomputed from history, a rebuild gives the live table back, and the shop
list reads it with SQL (no fold per request, a constant number of statements)."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, event, func, select, update

from concierge.demo.generator import generate
from concierge.demo.loader import load_population
from concierge.models import PlannedCall, ProfileSnapshot, Shop, ShopState, User
from concierge.operations import audits, workday
from concierge.operations.events import ingest_event
from concierge.operations.observations import record_answers
from concierge.operations.shop_state import (
    list_states,
    rebuild_states,
    refresh_states,
    snapshot_rows,
    state_rows,
)
from tests.support import init_twice_without, make_user, post_login

TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def live(session) -> dict[int, dict]:
    return {r["shop_id"]: {k: v for k, v in r.items() if k != "updated_at"}
            for r in session.execute(select(ShopState.__table__)).mappings()}


def computed(session) -> dict[int, dict]:
    ids = session.scalars(select(Shop.id)).all()
    return {r["shop_id"]: {k: v for k, v in r.items() if k != "updated_at"} for r in state_rows(session, ids)}


def snapshots(session) -> dict[int, dict]:
    """The live profile_snapshot rows (what the shop page reads), and the rows recomputed from history."""
    ids = session.scalars(select(Shop.id)).all()
    keep = lambda r: {k: v for k, v in r.items() if k != "updated_at"}  # noqa: E731
    return ({r["shop_id"]: keep(r) for r in session.execute(select(ProfileSnapshot.__table__)).mappings()},
            {r["shop_id"]: keep(r) for r in snapshot_rows(session, ids)})


def assert_current(session) -> dict[int, dict]:
    session.flush()
    now_live, from_history = live(session), computed(session)
    assert set(now_live) == set(from_history)
    diff = {sid: {k: (now_live[sid][k], v) for k, v in row.items() if now_live[sid][k] != v}
            for sid, row in from_history.items() if now_live[sid] != row}
    assert diff == {}
    kept, folded = snapshots(session)
    assert kept == folded
    return now_live


def _consultant(session, email="ola@example.com") -> User:
    user = User(email=email, name="Ola", password_hash="x", role="consultant")
    session.add(user)
    session.flush()
    return user


def test_the_read_model_follows_every_change_and_a_rebuild_gives_it_back(database):
    with database.session() as s:
        load_population(s, generate(60, seed=3, today=TODAY), now=NOW)
        rows = assert_current(s)
        assert len(rows) == 60 and {r["market"] for r in rows.values()} <= {"PL", "TR", "IN"}
        assert any(r["contacted"] for r in rows.values())  # the demo's onboarding calls
        assert any(r["held_out"] for r in rows.values())
    with database.session() as s:  # a model and scores; without enough data, scores stay None
        from concierge.operations.scoring.service import TrainingFailed, score_open, train_model

        try:
            train_model(s, now=NOW, ages=[7])
        except TrainingFailed:
            pass
        else:
            score_open(s, now=NOW)
            rows = assert_current(s)
            assert any(r["score"] is not None and r["score_model_version"] for r in rows.values())
    with database.session() as s:  # the planner: calls planned, the planner's arm drawn
        audits.plan_calls(s, now=NOW)
        rows = assert_current(s)
        assert any(r["next_call_at"] is not None for r in rows.values())
    with database.session() as s:  # a merchant asks for a callback; a consultant reaches them
        shop = s.scalar(select(Shop).where(Shop.outcome.is_(None)).order_by(Shop.id).limit(1))
        callback = audits.request_callback(s, shop, now=NOW, via="api")
        assert_current(s)
        user = _consultant(s)
        at = callback.scheduled_at + timedelta(minutes=1)
        claimed = workday.claim_next(s, user, now=at)
        assert claimed is not None
        workday.complete_call(s, user, claimed.id, outcome="reached", token=claimed.token, now=at,
                              answers={"owner.hours_per_week": "12"})
        rows = assert_current(s)
        assert rows[claimed.shop_id]["consultant"] == "ola@example.com"
        assert rows[claimed.shop_id]["last_reached_at"] == at
    with database.session() as s:  # snooze and cancel move the next call
        open_calls = s.scalars(select(PlannedCall).where(PlannedCall.status == "planned")
                               .order_by(PlannedCall.id).limit(2)).all()
        if open_calls:
            audits.snooze_call(s, open_calls[0].id, until=NOW + timedelta(days=9), reason="on holiday",
                               actor="ola@example.com", now=NOW)
            assert_current(s)
        if len(open_calls) > 1:
            audits.cancel_call(s, open_calls[1].id, reason="asked not to", actor="ola@example.com", now=NOW)
            assert_current(s)
    with database.session() as s:  # answers recorded, then an event from the trial platform
        pid = s.scalar(select(Shop.platform_id).order_by(Shop.id.desc()).limit(1))
        record_answers(s, pid, {"readiness.store_details": "yes", "readiness.theme_published": "yes"},
                       actor="ola@example.com", now=NOW)
        assert_current(s)
        out = ingest_event(s, json.dumps({"id": "evt-state-1", "shop": pid, "type": "product_added",
                                          "occurred_at": "2026-11-16T13:00:00+01:00", "data": {"count": 3}}),
                           now=NOW)
        assert out.status == "stored"
        out = ingest_event(s, json.dumps({"id": "evt-state-2", "shop": "pl-new-1", "type": "trial_started",
                                          "occurred_at": "2026-11-16T13:00:00+01:00",
                                          "data": {"market": "PL", "shop_name": "Nowy"}}), now=NOW)
        assert out.status == "stored"
        rows = assert_current(s)
        assert any(r["platform_id"] == "pl-new-1" and r["name"] == "Nowy" for r in rows.values())
        before = rows
    with database.session() as s:  # a corrupted table: the rebuild gives the live rows back
        kept_before = snapshots(s)[0]
        s.execute(update(ShopState).values(stage="nonsense", score=0.5, consultant="nobody", observations=-1))
        s.execute(delete(ShopState).where(ShopState.shop_id == min(before)))
        s.execute(update(ProfileSnapshot).values(body="{}", last_call_at=None))
        s.execute(delete(ProfileSnapshot).where(ProfileSnapshot.shop_id == max(before)))
        assert rebuild_states(s) == len(before)
        assert live(s) == before
        assert snapshots(s)[0] == kept_before
        assert_current(s)


def test_a_calls_only_refresh_writes_the_same_rows_as_a_full_one(database):
    with database.session() as s:
        load_population(s, generate(20, seed=8, today=TODAY), now=NOW)
        audits.plan_calls(s, now=NOW)
        ids = s.scalars(select(Shop.id)).all()
        s.execute(update(ShopState).values(next_call_at=None, held_out=False))
        refresh_states(s, ids, calls_only=True)
        assert_current(s)
        s.execute(delete(ShopState))
        refresh_states(s, ids, calls_only=True)  # no row yet: the whole row is written
        assert_current(s)


def test_list_filters_sorts_and_pages_in_sql(database):
    with database.session() as s:
        load_population(s, generate(40, seed=2, today=TODAY), now=NOW)
        rows = live(s)
        everyone, total = list_states(s, limit=None)
        assert total == 40 and [r.shop_id for r in everyone] == sorted(rows, reverse=True)
        for stage in {r["stage"] for r in rows.values()}:
            got, n = list_states(s, stage=stage, limit=None)
            assert sorted(r.shop_id for r in got) == sorted(k for k, r in rows.items() if r["stage"] == stage)
            assert n == len(got)
        got, _ = list_states(s, outcome="open", limit=None)
        assert {r.shop_id for r in got} == {k for k, r in rows.items() if r["outcome"] is None}
        got, _ = list_states(s, outcome="converted", market="PL", limit=None)
        assert {r.shop_id for r in got} == {k for k, r in rows.items()
                                            if r["outcome"] == "converted" and r["market"] == "PL"}
        someone = next(r["consultant"] for r in rows.values() if r["consultant"])
        got, _ = list_states(s, consultant=someone, limit=None)
        assert got and all(r.consultant == someone for r in got)
        by_start, _ = list_states(s, sort="trial_start", limit=None)
        starts = [r.trial_started_at for r in by_start if r.trial_started_at]
        assert starts == sorted(starts, reverse=True)
        by_name, _ = list_states(s, sort="name", limit=None)
        names = [r.name.lower() for r in by_name if r.name]
        assert names == sorted(names)
        pages = [list_states(s, limit=15, offset=o)[0] for o in (0, 15, 30)]
        assert [r.shop_id for p in pages for r in p] == [r.shop_id for r in everyone]
        # scores: a range and the order, unscored shops last
        ids = sorted(rows)
        for i, sid in enumerate(ids[:10]):
            s.execute(update(ShopState).where(ShopState.shop_id == sid).values(score=i / 10))
        by_score, _ = list_states(s, sort="score", limit=None)
        assert [r.score for r in by_score[:10]] == [i / 10 for i in range(9, -1, -1)]
        assert all(r.score is None for r in by_score[10:])
        got, n = list_states(s, min_score=0.25, max_score=0.65, limit=None)
        assert n == 4 and sorted(r.score for r in got) == [0.3, 0.4, 0.5, 0.6]


def _seed_shops(app, n: int, start: int = 0) -> None:
    from concierge.operations.shops import ensure_shop

    with app.extensions["concierge.db"].session() as s:
        for i in range(start, start + n):
            shop = ensure_shop(s, f"pl-{i:04d}", "PL", name=f"Sklep {i}")
            record_answers(s, shop, {"readiness.store_details": "yes", "readiness.theme_published": "yes"},
                           actor="ola@example.com", now=NOW)


def test_the_shop_list_folds_nothing_and_its_statements_do_not_grow_with_the_shops(app, client, monkeypatch):
    import profile_schema

    make_user(app, "ola@example.com", name="Ola")
    assert post_login(client, "ola@example.com").status_code == 302
    engine = app.extensions["concierge.db"].engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def no_fold(*_a, **_k):
        raise AssertionError("the shop list folded a profile")

    def measure() -> tuple[int, str]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        monkeypatch.setattr(profile_schema, "fold", no_fold)
        try:
            body = client.get("/?stage=products&sort=score").get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", count)
            monkeypatch.undo()
        return len(statements), body

    _seed_shops(app, 3)
    few, body = measure()
    assert "Sklep 2" in body
    _seed_shops(app, 60, start=3)
    many, body = measure()
    # the first page (50) of 63, newest first (no scores yet)
    assert "<strong>Sklep 62</strong>" in body and "<strong>Sklep 13</strong>" in body
    assert "<strong>Sklep 12</strong>" not in body
    assert many == few
    with app.extensions["concierge.db"].session() as s:
        assert s.scalar(select(func.count()).select_from(ShopState)) == 63


def test_init_fills_a_missing_read_model_once(db_url):
    """A database from before shop_state (or restored without it) gets its rows at `concierge init`."""
    first, states, again = init_twice_without(db_url, ShopState)
    assert first.exit_code == 0 and "Rebuilt the shop list's read model: 3 shops" in first.output
    assert states == 3
    assert "Rebuilt" not in again.output
