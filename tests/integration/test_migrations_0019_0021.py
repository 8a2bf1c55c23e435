"""Migrations 0019-0021: every call and planned call gets its shop's market, and the partial
indexes hold what their readers ask for (the planner's open statuses, the voice's facet, model
health's closed outcomes)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select, text

from concierge import models
from concierge.models import Call, PlannedCall, Shop
from tests.support import migrate_across

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)


def test_0019_copies_each_shops_market_onto_its_planned_calls(db_url):
    shops = {1: ("pl-1", "PL"), 2: ("tr-2", "TR"), 3: ("in-3", "IN")}
    calls = {10: 1, 11: 2, 12: 2, 13: 3}  # planned call -> shop

    def write(conn, stamp):
        for sid, (pid, market) in shops.items():
            conn.execute(text("INSERT INTO shop (id, platform_id, market, created_at, holdout) "
                              "VALUES (:i, :p, :m, :c, false)"), {"i": sid, "p": pid, "m": market, "c": stamp(T0)})
        for cid, sid in calls.items():
            conn.execute(text(
                "INSERT INTO planned_call (id, shop_id, kind, reason, rule, rules_version, occurrence, trigger, "
                "purpose, status, due_from, due_until, scheduled_at, preference_met, params, agenda, holdout, "
                "created_by, created_at, updated_at, rank, token, attempts) VALUES (:i, :s, 'audit', :r, 'inactive', "
                "1, :r, 'inactive', 'service', 'planned', :t, :u, :t, true, '{}', '[]', false, 'planner', :t, :t, "
                "0, 0, 0)"), {"i": cid, "s": sid, "r": f"r{cid}", "t": stamp(T0), "u": stamp(T0 + timedelta(days=3))})
            conn.execute(text("INSERT INTO call (id, shop_id, actor, kind, called_at, reached) "
                              "VALUES (:i, :s, 'ola@example.com', 'audit', :t, true)"),
                         {"i": cid + 100, "s": sid, "t": stamp(T0)})

    got = migrate_across(db_url, "0018", write, lambda s: (
        dict(s.execute(select(PlannedCall.id, PlannedCall.market)).all()),
        dict(s.execute(select(Call.id, Call.market)).all())))
    assert got == ({cid: shops[sid][1] for cid, sid in calls.items()},
                   {cid + 100: shops[sid][1] for cid, sid in calls.items()})


def test_a_call_or_planned_call_inserted_without_a_market_takes_its_shops(session):
    shop = Shop(platform_id="tr-9", market="TR", created_at=T0, holdout=False)
    session.add(shop)
    session.flush()
    row = {"shop_id": shop.id, "kind": "audit", "reason": "inactive", "rule": "inactive", "occurrence": "o",
           "trigger": "inactive", "purpose": "service", "status": "planned", "due_from": T0,
           "due_until": T0 + timedelta(days=3), "scheduled_at": T0, "created_by": "test"}
    cid = session.execute(insert(PlannedCall).returning(PlannedCall.id), [row]).scalar_one()
    call = Call(shop_id=shop.id, actor="emre@example.com", kind="audit", called_at=T0)
    session.add(call)
    session.flush()
    assert (session.get(PlannedCall, cid).market, call.market) == ("TR", "TR")


def test_the_needs_answers_index_holds_the_voices_facet():
    from concierge.operations.reports.voice import FACET

    assert models.NEEDS_ANSWERS == f"op = 'set' AND question LIKE '{FACET}.%'"


def test_the_closed_trials_index_holds_model_healths_closed_outcomes():
    from concierge.operations.reports.model_health import CLOSED

    assert tuple(models.CLOSED_OUTCOMES) == tuple(CLOSED)


def test_every_needs_answer_fits_in_the_covering_index():
    """`ix_observation_needs_answers` holds each needs answer's value, and a PostgreSQL index row
    may not pass ~2.7 kB: every needs question's largest valid answer must stay far below (a long
    free-text question in this facet would make its answers fail to store, so it fails here first)."""
    from profile_schema.schema import load_registry

    for schema in load_registry().versions.values():  # every version: old answers stay in the table
        for key, q in schema.questions.items():
            if not key.startswith("needs."):
                continue
            if q.type == "text":
                largest = 4 * q.max_length + 16  # four UTF-8 bytes a character at most, plus JSON
            elif q.choices:
                largest = sum(len(c.encode()) + 4 for c in q.choices) + 16  # every choice at once
            else:
                largest = 64  # a number, a date, yes/no
            assert largest <= 2000, (schema.version, key, largest)
