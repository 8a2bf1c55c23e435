"""POST /api/v1/events in queued mode (CONCIERGE_EVENTS_QUEUED): checked, kept in the inbox and
answered 202; `concierge events worker` applies it. On SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from concierge.cli import cli
from concierge.models import DeadLetter, EventInbox, Observation, Shop, ShopState, TrialEvent
from concierge.operations import inbox
from concierge.operations.tokens import create_token
from tests.support import at_once, count_rows, post_event as post

START = {"id": "ev-1", "shop": "shop-1", "type": "trial_started",
         "occurred_at": "2026-03-02T10:00:00+01:00",
         "data": {"market": "PL", "shop_name": "Kwiatki", "trial_ends_at": "2026-03-16T10:00:00+01:00",
                  "owner": {"name": "Anna Nowak", "email": "anna@example.pl", "phone": "601 234 567"}}}
PRODUCT = {"id": "ev-2", "shop": "shop-1", "type": "product_added", "occurred_at": "2026-03-02T11:00:00+01:00",
           "data": {"count": 3}}


@pytest.fixture
def auth(bearer):
    return bearer("platform")


@pytest.fixture
def queued(app):
    app.config["EVENTS_QUEUED"] = True
    return app


def counts(db):
    """(shops, stored events, observations, dead letters, queued events)"""
    return count_rows(db, Shop, TrialEvent, Observation, DeadLetter, EventInbox)


def drain(db, **kw):
    with db.session() as s:
        return inbox.apply_batch(s, **kw)


def test_a_queued_event_answers_202_and_is_applied_by_the_worker(queued, client, auth, db):
    resp = post(client, auth, START)
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json() == {"id": "ev-1", "shop": "shop-1", "type": "trial_started", "status": "queued",
                               "duplicate": False, "observations": 3}
    # the shop is known from its queued trial_started: its next event is accepted before it is applied
    resp = post(client, auth, PRODUCT)
    assert resp.status_code == 202 and resp.get_json()["observations"] == 2
    assert counts(db) == (0, 0, 0, 0, 2)
    with db.session() as s:
        received = s.scalar(select(EventInbox.received_at).where(EventInbox.event_id == "ev-1"))
    report = drain(db)
    assert (report.claimed, report.stored, report.duplicates, report.rejected) == (2, 2, 0, 0)
    assert counts(db) == (1, 2, 5, 0, 0)
    with db.session() as s:
        shop = s.scalar(select(Shop))
        assert (shop.platform_id, shop.market, shop.name) == ("shop-1", "PL", "Kwiatki")
        state = s.get(ShopState, shop.id)
        assert state is not None and state.observations == 5  # the read model written with the events
        assert s.get(TrialEvent, "ev-1").received_at == received  # when the webhook got it, not the worker
    # once applied, the shop's API shows it
    got = client.get("/api/v1/shops/shop-1", headers=auth)
    assert got.status_code == 200 and got.get_json()["shop"]["id"] == "shop-1"


def test_the_same_event_again_is_a_duplicate_whether_queued_or_applied(queued, client, auth, db):
    assert post(client, auth, START).status_code == 202
    reordered = json.dumps(dict(reversed(list(START.items()))))
    again = post(client, auth, reordered)
    assert again.status_code == 200
    assert again.get_json() == {"id": "ev-1", "shop": "shop-1", "type": "trial_started", "status": "duplicate",
                                "duplicate": True, "observations": 0}
    drain(db)
    assert post(client, auth, START).status_code == 200
    assert counts(db) == (1, 1, 3, 0, 0)


def test_same_id_with_another_body_while_queued_is_409_and_dead_lettered(queued, client, auth, db):
    assert post(client, auth, START).status_code == 202
    raw = json.dumps(dict(START, occurred_at="2026-03-03T10:00:00+01:00"), indent=1)
    resp = post(client, auth, raw)
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["error"] == "conflict"
    assert body["errors"][0]["field"] == "id" and body["errors"][0]["code"] == "conflicting_duplicate"
    with db.session() as s:
        letter = s.get(DeadLetter, body["dead_letter"])
        assert letter.payload == raw and letter.channel == "events"
        assert letter.context["token"] and letter.context["channel"] == "api"
    drain(db)
    with db.session() as s:
        assert s.get(TrialEvent, "ev-1").payload["occurred_at"] == START["occurred_at"]  # the first one won
    # after the worker applied it, the same clash is answered by the inline path: the same answer
    again = post(client, auth, raw)
    assert again.status_code == 409 and again.get_json()["errors"] == body["errors"]
    assert counts(db)[3:] == (1, 0)  # the repeat is counted on the same dead letter


@pytest.mark.parametrize("body, status, field", [
    ("{not json", 400, ""),
    (json.dumps(dict(PRODUCT, data={"count": "three"})), 422, "data.count"),
    (json.dumps(dict(PRODUCT, shop="nobody")), 422, "shop"),
    (json.dumps(dict(PRODUCT, type="teleported")), 422, "type"),
    (json.dumps(dict(PRODUCT, occurred_at="9999-12-31T23:59:59-12:00")), 422, "occurred_at"),
])
def test_rejections_are_answered_as_inline_and_dead_lettered(app, client, auth, db, body, status, field):
    """The same bad body gives the same answer with queued mode on as off (both dead-lettered)."""
    assert post(client, auth, START).status_code == 201  # inline: the shop exists
    inline = post(client, auth, body)
    app.config["EVENTS_QUEUED"] = True
    queued_answer = post(client, auth, body)
    assert inline.status_code == queued_answer.status_code == status
    a, b = inline.get_json(), queued_answer.get_json()
    assert a["errors"][0]["field"] == field
    assert {k: v for k, v in a.items() if k != "dead_letter"} == {k: v for k, v in b.items() if k != "dead_letter"}
    assert b["dead_letter"] is not None
    assert counts(db)[4] == 0  # nothing queued


def test_a_conflicting_market_against_a_queued_start_is_refused(queued, client, auth, db):
    assert post(client, auth, START).status_code == 202
    other = dict(START, id="ev-9", data=dict(START["data"], market="TR"))
    resp = post(client, auth, other)
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["code"] == "market_changed"
    assert counts(db)[3:] == (1, 1)


def test_answers_invalid_for_a_queued_shops_market_are_refused(queued, client, auth, db):
    """The answers are checked for the market of the shop's queued trial_started (a Polish shop
    takes Polish payment providers), as the inline path checks them for a stored shop."""
    assert post(client, auth, START).status_code == 202
    bad = {"id": "ev-3", "shop": "shop-1", "type": "payment_connected", "occurred_at": "2026-03-02T12:00:00+01:00",
           "data": {"provider": "no-such-provider"}}
    resp = post(client, auth, bad)
    queued.config["EVENTS_QUEUED"] = False
    drain(db)
    inline = post(client, auth, dict(bad, id="ev-4"))
    assert resp.status_code == inline.status_code
    if inline.status_code == 201:
        pytest.skip("the schema takes any provider name: nothing to refuse")
    assert resp.status_code == 422 and resp.get_json()["errors"] == inline.get_json()["errors"]
    assert counts(db)[4] == 0


def test_the_worker_command_applies_the_inbox_once(queued, client, auth, db, db_url):
    for body in (START, PRODUCT, dict(PRODUCT, id="ev-3", data={"count": 1})):
        assert post(client, auth, body).status_code == 202
    runner = CliRunner()
    env = {"CONCIERGE_DATABASE_URL": db_url}
    got = runner.invoke(cli, ["events", "backlog", "--json"], env=env, catch_exceptions=False)
    assert json.loads(got.output)["queued"] == 3
    got = runner.invoke(cli, ["events", "worker", "--once", "--json", "--batch", "2", "--batch-seconds", "0"],
                        env=env, catch_exceptions=False)
    assert got.exit_code == 0, got.output
    lines = [json.loads(line) for line in got.output.splitlines() if line.startswith("{")]
    assert [line["claimed"] for line in lines] == [2, 1, 0]
    assert sum(line["stored"] for line in lines) == 3 and lines[-1]["queued"] == 0
    assert counts(db) == (1, 3, 7, 0, 0)
    got = runner.invoke(cli, ["events", "worker", "--once", "--json"], env=env, catch_exceptions=False)
    assert json.loads(got.output.splitlines()[0])["claimed"] == 0 and counts(db) == (1, 3, 7, 0, 0)


def test_on_sqlite_a_batch_holds_the_write_lock_briefly(queued, client, auth, db, db_url):
    """--batch-seconds: on SQLite the worker starts with one event and takes as many as fit in the
    time at the last batch's pace (at most twice the last), so a webhook insert never waits behind
    a long batch; PostgreSQL takes --batch at once."""
    bodies = [START] + [dict(PRODUCT, id=f"ev-{i}", data={"count": i}) for i in range(2, 9)]
    for body in bodies:
        assert post(client, auth, body).status_code == 202
    env = {"CONCIERGE_DATABASE_URL": db_url}
    got = CliRunner().invoke(cli, ["events", "worker", "--once", "--json", "--batch", "5", "--batch-seconds", "60"],
                             env=env, catch_exceptions=False)
    assert got.exit_code == 0, got.output
    claimed = [json.loads(line)["claimed"] for line in got.output.splitlines() if line.startswith("{")]
    # quick events: one, then twice as many each time, never more than --batch
    assert claimed == ([1, 2, 4, 1, 0] if db_url.startswith("sqlite") else [5, 3, 0]), claimed
    assert counts(db)[1] == 8 and counts(db)[4] == 0  # all stored, none left


def test_the_worker_batch_fits_the_time_it_may_hold():
    from concierge.cli.events_worker import batch_size_for

    assert batch_size_for(0.25, took=0.5, claimed=100, most=200) == 50     # 5 ms an event: 50 fit
    assert batch_size_for(0.25, took=2.0, claimed=4, most=200) == 1        # slower than the bound: one
    assert batch_size_for(0.25, took=0.001, claimed=10, most=200) == 20    # quick: at most twice as many
    assert batch_size_for(0.25, took=0.001, claimed=150, most=200) == 200  # never above --batch


def test_each_shop_is_rescored_once_per_batch(queued, client, auth, db, monkeypatch):
    from concierge.operations import observations

    calls: list[list[int]] = []
    real = observations.answers_changed

    def counting(session, shop_ids, **kw):
        ids = list(shop_ids)
        calls.append(ids)
        return real(session, ids, **kw)

    monkeypatch.setattr(observations, "answers_changed", counting)
    second = dict(START, id="ev-b1", shop="shop-2")
    for body in (START, PRODUCT, dict(PRODUCT, id="ev-3"), second, dict(PRODUCT, id="ev-b2", shop="shop-2")):
        assert post(client, auth, body).status_code == 202
    drain(db)
    assert len(calls) == 1 and len(calls[0]) == 2 == len(set(calls[0]))


def test_a_batch_that_fails_applies_nothing_and_keeps_its_rows(queued, client, auth, db, monkeypatch):
    assert post(client, auth, START).status_code == 202
    assert post(client, auth, PRODUCT).status_code == 202

    def broken(*_a, **_k):
        raise RuntimeError("the disk is full")

    from concierge.operations import shop_state

    monkeypatch.setattr(shop_state, "refresh_states", broken)  # fails after the events were inserted
    with pytest.raises(RuntimeError):
        drain(db)
    assert counts(db) == (0, 0, 0, 0, 2)  # all or nothing: rolled back, still queued
    monkeypatch.undo()
    drain(db)
    assert counts(db) == (1, 2, 5, 0, 0)


def test_an_event_that_cannot_be_applied_is_held_back_then_dead_lettered(queued, client, auth, db):
    assert post(client, auth, START).status_code == 202
    with db.session() as s:
        row_id = s.scalar(select(EventInbox.id))
    for attempt in range(1, inbox.MAX_ATTEMPTS):
        with db.session() as s:
            assert inbox.hold_back(s, [(row_id, "RuntimeError: boom")]) == []
        with db.session() as s:
            row = s.get(EventInbox, row_id)
            assert row.attempts == attempt and row.last_error == "RuntimeError: boom"
            assert row.available_at > row.received_at
    assert drain(db).claimed == 0  # held back: not available yet
    with db.session() as s:
        letters = inbox.hold_back(s, [(row_id, "RuntimeError: boom")])
    assert len(letters) == 1
    with db.session() as s:
        letter = s.get(DeadLetter, letters[0])
        assert letter.channel == "events" and letter.errors[0]["code"] == "apply_failed"
        assert json.loads(letter.payload) == START
    assert counts(db) == (0, 0, 0, 1, 0)


def test_an_event_applied_meanwhile_by_another_path_is_a_duplicate_when_drained(queued, client, auth, db):
    """A file import stored the same event after it was queued: applying it stores nothing twice."""
    from concierge.operations.events import ingest_lines

    assert post(client, auth, START).status_code == 202
    with db.session() as s:
        ingest_lines(s, [(1, json.dumps(START))])
    report = drain(db)
    assert (report.stored, report.duplicates) == (0, 1)
    assert counts(db) == (1, 1, 3, 0, 0)


@pytest.mark.postgres
def test_two_postgresql_workers_claim_disjoint_rows(queued, client, auth, db, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("SKIP LOCKED: PostgreSQL; SQLite has one writer")
    for i in range(6):
        body = dict(START, id=f"s-{i}", shop=f"shop-{i}")
        assert post(client, auth, body).status_code == 202
    first = db.sessionmaker()
    try:
        mine = inbox._claim(first, 3, inbox.utcnow())  # held by an open transaction
        assert len(mine) == 3
        report = drain(db)  # a second worker meanwhile: skips the locked rows
        assert report.claimed == 3 and report.stored == 3
        assert {r.event_id for r in mine} == {"s-0", "s-1", "s-2"}
    finally:
        first.rollback()
        first.close()
    assert drain(db).stored == 3
    assert counts(db)[:2] == (6, 6)


def test_concurrent_deliveries_of_one_event_queue_it_once(queued, auth, db):
    """Eight copies at once: one 202, the rest 200 duplicate; one row queued, stored once."""
    answers = at_once(8, queued.test_client, lambda client: post(client, auth, START).status_code)
    assert sorted(answers) == [200] * 7 + [202]
    assert counts(db)[4] == 1
    drain(db)
    assert counts(db) == (1, 1, 3, 0, 0)


def _sibling(name: str):
    """Another test module of this folder, by path (pytest imports test files by path: one copy of
    its tables and helpers, not a second)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(f"_sibling_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EVENT_CASES = _sibling("test_hostile_input").EVENT_CASES


@pytest.mark.parametrize("name,body,field", EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
def test_hostile_events_get_the_inline_answers_in_queued_mode(queued, client, auth, db, name, body, field):
    """The hostile-input table in queued mode: refused naming the field, dead-lettered once, nothing queued."""
    raw = body if isinstance(body, str) else json.dumps(body)
    for _ in range(2):  # a retrying sender: the same bad body twice
        resp = post(client, auth, raw)
        assert 400 <= resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True))
        assert field in [e.get("field") for e in resp.get_json()["errors"]], resp.get_json()
    assert counts(db)[1:] == (0, 0, 1, 0)


def test_schemathesis_on_the_webhook_in_queued_mode(queued, db):
    """No 5xx, and every answer (202 queued included) is one the OpenAPI document declares."""
    with db.session() as s:
        _row, token = create_token(s, "schemathesis", role="admin")
    failures, sent = _sibling("test_api_schemathesis").run_schemathesis(queued, token, only="postTrialEvent")
    assert not failures, "\n\n".join(failures)
    assert len(sent) > 20


def test_erasing_a_merchant_applies_their_queued_events_first_so_nothing_comes_back(app, client, auth, db):
    from concierge.operations.privacy import erase_shop

    assert post(client, auth, START).status_code == 201  # inline: the shop exists
    app.config["EVENTS_QUEUED"] = True
    again = dict(START, id="ev-7", data=dict(START["data"], owner={"name": "Anna Maria Nowak",
                                                                    "email": "anna.maria@example.pl"}))
    assert post(client, auth, again).status_code == 202
    with db.session() as s:
        erase_shop(s, "shop-1", reason="the merchant asked", actor="admin@example.com")
    assert counts(db)[4] == 0  # applied, then erased: the worker has nothing left to bring back
    with db.session() as s:
        events = list(s.scalars(select(TrialEvent)))
        texts = [json.dumps(e.payload, ensure_ascii=False) for e in events]
        texts += [json.dumps(o.value, ensure_ascii=False) for o in s.scalars(select(Observation))]
    assert {e.id for e in events} == {"ev-1", "ev-7"}  # the queued one was stored, then scrubbed
    assert not any("Anna" in t or "anna" in t for t in texts), texts


def test_an_accepted_event_can_be_followed_queued_held_back_then_stored(queued, client, auth, db, db_url):
    """GET /api/v1/events/<id>, `concierge events status` and /healthz follow one event through the inbox."""
    assert client.get("/api/v1/events/ev-1").status_code == 401  # the webhook's token, as for POST
    unknown = client.get("/api/v1/events/ev-1", headers={**auth, "Accept-Language": "pl"})
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "not_found"
    assert "ev-1" in unknown.get_json()["message"] and "No event" not in unknown.get_json()["message"]
    assert client.get("/healthz").get_json()["events_queued"] == 0
    assert client.get("/healthz").get_json()["events_oldest_seconds"] is None

    assert post(client, auth, START).status_code == 202
    got = client.get("/api/v1/events/ev-1", headers=auth)
    assert got.status_code == 200
    body = got.get_json()
    assert {k: body[k] for k in ("id", "shop", "type", "status", "attempts", "available_at", "occurred_at")} == {
        "id": "ev-1", "shop": "shop-1", "type": "trial_started", "status": "queued", "attempts": 0,
        "available_at": None, "occurred_at": START["occurred_at"]}
    health = client.get("/healthz").get_json()
    assert health["events_queued"] == 1 and health["events_oldest_seconds"] >= 0

    with db.session() as s:
        row_id = s.scalar(select(EventInbox.id))
        inbox.hold_back(s, [(row_id, "RuntimeError: boom")])
    held = client.get("/api/v1/events/ev-1", headers=auth).get_json()
    assert held["status"] == "held_back" and held["attempts"] == 1 and held["available_at"]
    with db.session() as s:  # let the worker try again now
        s.execute(EventInbox.__table__.update().values(available_at=EventInbox.received_at))
    assert drain(db).stored == 1

    stored = client.get("/api/v1/events/ev-1", headers=auth).get_json()
    assert (stored["status"], stored["shop"], stored["attempts"]) == ("stored", "shop-1", 0)
    assert stored["received_at"] == held["received_at"]  # when the webhook got it, not the worker
    assert client.get("/healthz").get_json()["events_queued"] == 0

    runner = CliRunner()
    env = {"CONCIERGE_DATABASE_URL": db_url}
    out = runner.invoke(cli, ["events", "status", "ev-1", "--json"], env=env, catch_exceptions=False)
    assert out.exit_code == 0 and json.loads(out.output) == stored  # the CLI and the API share one lookup
    text = runner.invoke(cli, ["events", "status", "ev-1"], env=env, catch_exceptions=False)
    assert text.exit_code == 0 and "stored" in text.output and "shop-1" in text.output
    missing = runner.invoke(cli, ["events", "status", "nope", "--json"], env=env)
    assert missing.exit_code == 1
    assert json.loads(missing.output[:missing.output.rindex("}") + 1])["error"] == "not_found"
