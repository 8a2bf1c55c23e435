"""The batched event path and the dead-letter store on real SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from concierge.errors import NotFound
from concierge.models import DeadLetter, Observation, Shop, TrialEvent
from concierge.operations.deadletters import list_dead_letters, replay, store_dead_letter
from concierge.operations.events import ingest_lines, iter_jsonl
from concierge.operations.profiles import load_profile


def ev(eid, shop, etype, day, **data):
    return json.dumps({"id": eid, "shop": shop, "type": etype,
                       "occurred_at": f"2026-04-{day:02d}T08:00:00+05:30", "data": data})


START = ev("s-1", "in-1", "trial_started", 1, market="IN", owner={"name": "Priya", "phone": "98765 43210"})


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_one_batch_creates_shop_then_applies_its_events(session):
    lines = list(iter_jsonl([START + "\n", "\n", ev("e-1", "in-1", "payment_connected", 2, provider="upi") + "\n",
                             ev("e-1", "in-1", "payment_connected", 2, provider="upi")]))
    assert [n for n, _ in lines] == [1, 3, 4]
    summary = ingest_lines(session, lines, batch_size=10)
    assert (summary.total, summary.stored, summary.duplicates, summary.rejected) == (3, 2, 1, 0)
    assert summary.shops_created == 1
    assert count(session, TrialEvent) == 2 and count(session, Observation) == 4
    assert load_profile(session, "in-1").value("features.payments") == ["upi"]


def test_batches_split_anywhere_give_the_same_result(session):
    lines = [(i, line) for i, line in enumerate(
        [START] + [ev(f"p-{i}", "in-1", "product_added", 2 + i % 20) for i in range(25)], 1)]
    summary = ingest_lines(session, lines, batch_size=7)
    assert summary.stored == 26 and summary.rejected == 0
    assert load_profile(session, "in-1").value("trial.product_count") == 25


def test_rejected_lines_are_dead_lettered_with_line_numbers_and_the_rest_is_kept(session):
    lines = [(1, START), (2, "not json"), (3, ev("x", "in-1", "nonsense", 2)),
             (4, ev("y", "in-1", "theme_published", 3))]
    summary = ingest_lines(session, lines, context={"file": "events.jsonl"})
    assert (summary.stored, summary.rejected) == (2, 2)
    dls = list_dead_letters(session, status="pending")
    assert sorted((d.context["line"], d.payload) for d in dls) == [(2, "not json"), (3, lines[2][1])]
    assert all(d.context["file"] == "events.jsonl" for d in dls)


def test_event_for_unknown_shop_replays_after_its_trial_started_arrives(session):
    early = ev("e-1", "in-1", "shipping_connected", 2, provider="delhivery")
    first = ingest_lines(session, [(1, early)])
    assert first.rejected == 1 and first.outcomes[0].errors[0]["code"] == "unknown_shop"
    dl_id = first.outcomes[0].dead_letter.id
    # replay before the shop exists: still pending, new errors, one more attempt
    [r] = replay(session)
    assert (r.id, r.ok, r.status, r.attempts) == (dl_id, False, "pending", 1)
    assert r.errors[0]["code"] == "unknown_shop"
    assert count(session, TrialEvent) == 0
    ingest_lines(session, [(1, START)])
    [r] = replay(session, [dl_id])
    assert (r.ok, r.status, r.attempts) == (True, "replayed", 2)
    dl = session.get(DeadLetter, dl_id)
    assert dl.status == "replayed" and dl.resolved_at is not None
    assert load_profile(session, "in-1").value("features.shipping") == ["delhivery"]
    assert replay(session) == []  # nothing pending any more


def test_replay_of_conflicting_duplicate_stays_pending(session):
    ingest_lines(session, [(1, START)])
    changed = START.replace("Priya", "Priya S")
    summary = ingest_lines(session, [(1, changed)])
    assert summary.outcomes[0].http_status == 409
    [r] = replay(session)
    assert not r.ok and r.errors[0]["code"] == "conflict"


def test_store_dead_letter_keeps_text_verbatim_and_unknown_ids_are_reported(session):
    raw = '{"ünïcode": "ok", "bad": '
    dl = store_dead_letter(session, "surveys", raw, errors=[{"field": "x", "code": "y", "message": "z"}],
                           context={"lang": "tr"})
    assert session.get(DeadLetter, dl.id).payload == raw
    with pytest.raises(NotFound):
        replay(session, [dl.id + 1000])


def test_outcome_follows_the_latest_event(session):
    ingest_lines(session, [(1, START), (2, ev("p", "in-1", "plan_purchased", 10, plan="pro")),
                           (3, ev("t", "in-1", "trial_ended", 9, converted=False))])
    shop = session.scalar(select(Shop))
    assert shop.outcome == "converted"
    assert load_profile(session, "in-1").outcome == "converted"
