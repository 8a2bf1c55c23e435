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


# ---------------------------------------------------------------- events before their shop's trial_started


def _out_of_order(shop="in-1"):
    """A webhook export sorted badly: the shop's events come before its trial_started."""
    return [(1, ev("e-1", shop, "shipping_connected", 2, provider="delhivery")),
            (2, ev("e-2", shop, "product_added", 3, count=4)),
            (3, ev("e-3", shop, "plan_purchased", 9, plan="pro")),
            (4, START),
            (5, ev("e-4", shop, "payment_connected", 4, provider="upi"))]


@pytest.mark.parametrize("batch_size", [1, 2, 3, 2000])
def test_events_before_their_trial_started_in_the_same_file_are_stored(session, batch_size):
    summary = ingest_lines(session, _out_of_order(), batch_size=batch_size)
    assert (summary.total, summary.stored, summary.duplicates, summary.rejected) == (5, 5, 0, 0)
    assert summary.shops_created == 1 and summary.outcomes == [] and summary.as_dict()["dead_letters"] == []
    assert count(session, DeadLetter) == 0 and count(session, TrialEvent) == 5
    profile = load_profile(session, "in-1")
    assert profile.value("features.shipping") == ["delhivery"]
    assert profile.value("features.payments") == ["upi"]
    assert profile.value("trial.product_count") == 4
    assert session.scalar(select(Shop)).outcome == "converted"


def test_only_events_whose_shop_never_arrives_are_dead_lettered_in_line_order(session):
    lines = [(1, ev("o-1", "in-9", "theme_published", 2)),          # in-9 never starts
             (2, ev("e-1", "in-1", "shipping_connected", 2, provider="delhivery")),
             (3, "not json"),
             (4, START),
             (5, ev("o-2", "in-9", "shop_opened", 3))]
    summary = ingest_lines(session, lines, batch_size=2, context={"file": "events.jsonl"})
    assert (summary.total, summary.stored, summary.rejected) == (5, 2, 3)
    assert [(o.line, o.status, o.errors[0]["code"]) for o in summary.outcomes] == [
        (1, "rejected", "unknown_shop"), (3, "rejected", "malformed_json"), (5, "rejected", "unknown_shop")]
    assert summary.outcomes[0].errors[0]["message"] == (
        "shop: no shop 'in-9' yet: its trial_started event has not arrived (kept for replay)")
    assert summary.outcomes[0].http_status == 422
    dls = list_dead_letters(session, status="pending")
    assert [d.context["line"] for d in dls] == [1, 3, 5]  # ids follow the file
    assert [o.dead_letter.id for o in summary.outcomes] == [d.id for d in dls]
    assert dls[0].payload == lines[0][1] and dls[0].context["file"] == "events.jsonl"


def test_a_waiting_event_keeps_idempotency(session):
    early = ev("e-1", "in-1", "shipping_connected", 2, provider="delhivery")
    other_body = ev("e-1", "in-1", "shipping_connected", 2, provider="shiprocket")
    lines = [(1, early), (2, early), (3, START), (4, early), (5, other_body)]
    summary = ingest_lines(session, lines, batch_size=2, keep_all=True)
    assert [(o.line, o.status, o.http_status) for o in summary.outcomes] == [
        (1, "stored", 201), (2, "duplicate", 200), (3, "stored", 201), (4, "duplicate", 200), (5, "rejected", 409)]
    assert (summary.stored, summary.duplicates, summary.rejected) == (2, 2, 1)
    assert count(session, TrialEvent) == 2
    assert load_profile(session, "in-1").value("features.shipping") == ["delhivery"]
    again = ingest_lines(session, lines[:2])  # a second run: the waiting event is now a plain duplicate
    assert (again.duplicates, again.rejected) == (2, 0)


def test_the_first_copy_in_the_file_wins_even_when_it_waited(session):
    early = ev("e-1", "in-1", "shipping_connected", 2, provider="delhivery")
    later = ev("e-1", "in-1", "shipping_connected", 2, provider="shiprocket")
    summary = ingest_lines(session, [(1, early), (2, START), (3, later)], batch_size=3, keep_all=True)
    # the waiting event is applied right after its trial_started, as if the file were in order
    assert [(o.line, o.status) for o in summary.outcomes] == [(1, "stored"), (2, "stored"), (3, "rejected")]
    assert summary.outcomes[2].errors[0]["code"] == "conflicting_duplicate"
    assert load_profile(session, "in-1").value("features.shipping") == ["delhivery"]


def test_a_waiting_event_whose_id_was_stored_for_another_shop_is_a_conflict_not_a_crash(session):
    lines = [(1, ev("e-1", "in-2", "theme_published", 2)),   # waits for in-2
             (2, START), (3, ev("e-1", "in-1", "theme_published", 2)),  # same id, stored for in-1
             (4, ev("s-2", "in-2", "trial_started", 3, market="IN"))]
    summary = ingest_lines(session, lines, batch_size=3, keep_all=True)
    assert [(o.line, o.status, o.http_status) for o in summary.outcomes] == [
        (1, "rejected", 409), (2, "stored", 201), (3, "stored", 201), (4, "stored", 201)]


def test_the_report_keeps_its_shape_for_waiting_events(session):
    lines = [(1, ev("o-1", "in-9", "theme_published", 2)),
             (2, ev("e-1", "in-1", "theme_published", 2)), (3, START)]
    summary = ingest_lines(session, lines, keep_all=True)
    first, second, third = (o.as_dict() for o in summary.outcomes)
    assert first == {"line": 1, "id": "o-1", "shop": "in-9", "type": "theme_published", "status": "rejected",
                     "duplicate": False, "observations": 0, "errors": summary.outcomes[0].errors,
                     "dead_letter": summary.outcomes[0].dead_letter.id}
    assert second == {"line": 2, "id": "e-1", "shop": "in-1", "type": "theme_published", "status": "stored",
                      "duplicate": False, "observations": summary.outcomes[1].observations}
    assert second["observations"] > 0
    assert (third["line"], third["status"]) == (3, "stored")
    assert set(summary.as_dict()) == {"total", "stored", "duplicates", "rejected", "observations",
                                      "shops_created", "dead_letters", "errors"}


def test_progress_counts_every_line_once_with_waiting_events(session):
    seen = []
    ingest_lines(session, _out_of_order(), batch_size=2, progress=seen.append)
    assert sum(seen) == 5
