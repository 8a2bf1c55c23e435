"""POST /api/v1/events through the Flask test client, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from concierge.models import DeadLetter, Observation, Shop, TrialEvent
from tests.support import at_once, count_rows, post_event as post

START = {"id": "ev-1", "shop": "shop-1", "type": "trial_started",
         "occurred_at": "2026-03-02T10:00:00+01:00",
         "data": {"market": "PL", "shop_name": "Kwiatki", "trial_ends_at": "2026-03-16T10:00:00+01:00",
                  "owner": {"name": "Anna Nowak", "email": "anna@example.pl", "phone": "601 234 567"}}}


@pytest.fixture
def auth(bearer):
    return bearer("platform")


def counts(db):
    return count_rows(db, Shop, TrialEvent, Observation, DeadLetter)


def test_trial_started_creates_the_shop_with_owner_details(client, auth, db):
    resp = post(client, auth, START)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json() == {"id": "ev-1", "shop": "shop-1", "type": "trial_started", "status": "stored",
                               "duplicate": False, "observations": 3}
    with db.session() as s:
        shop = s.scalar(select(Shop))
        assert (shop.platform_id, shop.market, shop.name) == ("shop-1", "PL", "Kwiatki")
        assert shop.trial_ends_at.isoformat() == "2026-03-16T09:00:00+00:00"
        obs = {o.question: o for o in s.scalars(select(Observation))}
        assert obs["owner.phone"].value == "+48601234567"
        assert obs["owner.name"].source == "trial" and obs["owner.name"].actor == "trial:ev-1"
        assert obs["owner.name"].event_id == "ev-1"
        assert obs["owner.name"].observed_at.isoformat() == "2026-03-02T09:00:00+00:00"


def test_same_event_twice_is_stored_once(client, auth, db):
    assert post(client, auth, START).status_code == 201
    # the same event with its keys in another order is the same body
    reordered = json.dumps(dict(reversed(list(START.items()))))
    resp = post(client, auth, reordered)
    assert resp.status_code == 200 and resp.get_json()["duplicate"] is True
    assert counts(db) == (1, 1, 3, 0)


def test_same_id_with_another_body_is_409_and_dead_lettered(client, auth, db):
    assert post(client, auth, START).status_code == 201
    other = dict(START, occurred_at="2026-03-03T10:00:00+01:00")
    raw = json.dumps(other, indent=1)
    resp = post(client, auth, raw)
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["errors"][0]["field"] == "id" and body["errors"][0]["code"] == "conflicting_duplicate"
    with db.session() as s:
        dl = s.get(DeadLetter, body["dead_letter"])
        assert dl.payload == raw and dl.channel == "events" and dl.status == "pending"
    assert counts(db)[:3] == (1, 1, 3)


def test_malformed_json_is_400_and_kept_verbatim(client, auth, db):
    resp = post(client, auth, '{"id": "x", ')
    assert resp.status_code == 400
    assert resp.get_json()["errors"][0]["code"] == "malformed_json"
    with db.session() as s:
        assert s.scalar(select(DeadLetter.payload)) == '{"id": "x", '


def test_envelope_errors_name_each_field(client, auth, db):
    resp = post(client, auth, {"id": 5, "type": "product_added", "occurred_at": "2026-03-02 10:00"})
    assert resp.status_code == 422
    errors = {e["field"]: e["code"] for e in resp.get_json()["errors"]}
    assert errors == {"id": "wrong_type", "shop": "required", "occurred_at": "invalid_format"}
    assert counts(db) == (0, 0, 0, 1)


def test_timestamp_without_offset_is_rejected(client, auth):
    resp = post(client, auth, dict(START, occurred_at="2026-03-02T10:00:00"))
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "occurred_at"


def test_unknown_event_type_is_rejected_in_polish(client, auth, db):
    resp = post(client, auth, dict(START, type="shop_exploded"), query_string={"lang": "pl"})
    assert resp.status_code == 422
    err = resp.get_json()["errors"][0]
    assert err["field"] == "type" and err["code"] == "unknown_event_type"
    assert "nieznany typ zdarzenia" in err["message"] and "shop_exploded" in err["message"]
    assert counts(db) == (0, 0, 0, 1)


def test_bad_value_in_data_names_the_data_field_and_stores_nothing(client, auth, db):
    post(client, auth, START)
    resp = post(client, auth, {"id": "ev-2", "shop": "shop-1", "type": "payment_connected",
                               "occurred_at": "2026-03-03T10:00:00+01:00", "data": {"provider": "razorpay"}})
    assert resp.status_code == 422
    err = resp.get_json()["errors"][0]
    assert err["field"] == "data.provider" and err["code"] == "choice_not_in_market"
    missing = post(client, auth, {"id": "ev-3", "shop": "shop-1", "type": "payment_connected",
                                  "occurred_at": "2026-03-03T10:00:00+01:00", "data": {}})
    assert missing.get_json()["errors"][0]["field"] == "data.provider"
    assert counts(db) == (1, 1, 3, 2)


def test_invalid_owner_phone_rejects_the_whole_start(client, auth, db):
    bad = json.loads(json.dumps(START))
    bad["data"]["owner"]["phone"] = "12"
    resp = post(client, auth, bad)
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "data.owner.phone"
    assert counts(db) == (0, 0, 0, 1)


def test_event_for_unknown_shop_is_dead_lettered(client, auth, db):
    resp = post(client, auth, {"id": "ev-9", "shop": "ghost", "type": "theme_published",
                               "occurred_at": "2026-03-03T10:00:00+01:00"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0] == {
        "field": "shop", "code": "unknown_shop",
        "message": "shop: no shop 'ghost' yet: its trial_started event has not arrived (kept for replay)"}
    assert counts(db) == (0, 0, 0, 1)


def test_trial_events_build_readiness_features_and_outcome(client, auth, db):
    post(client, auth, START)
    evs = [
        ("product_added", {"count": 4}), ("product_added", {}),
        ("payment_connected", {"provider": "blik"}), ("payment_connected", {"provider": "payu"}),
        ("shipping_connected", {"provider": "inpost"}), ("domain_connected", {"domain": "kwiatki.pl"}),
        ("legal_pages_published", {"pages": ["terms", "privacy", "refund"]}),
        ("order_received", {"test": True}), ("order_received", {}), ("order_received", {"test": False}),
        ("plan_purchased", {"plan": "basic"}),
    ]
    for i, (etype, data) in enumerate(evs):
        resp = post(client, auth, {"id": f"e{i}", "shop": "shop-1", "type": etype,
                                   "occurred_at": f"2026-03-{3 + i:02d}T10:00:00+01:00", "data": data})
        assert resp.status_code == 201, (etype, resp.get_json())
    from concierge.operations.profiles import load_profile
    with db.session() as s:
        p = load_profile(s, "shop-1")
        assert p.value("trial.product_count") == 5
        assert p.value("features.payments") == ["blik", "payu"]
        assert p.value("trial.order_count") == 2
        assert p.value("readiness.test_order_placed") is True
        assert p.value("readiness.terms_published") is True
        assert p.value("readiness.refund_policy_published") is None  # an Indian requirement only
        assert p.outcome == "converted" and p.value("trial.plan") == "basic"
        shop = s.scalar(select(Shop))
        assert shop.outcome == "converted" and shop.outcome_at.isoformat() == "2026-03-13T09:00:00+00:00"


def test_losing_an_insert_race_answers_duplicate_not_500(app, auth, db, db_url):
    """Another writer holds the same event uncommitted; our insert waits, loses, and retries."""
    import threading

    from sqlalchemy import text

    from concierge.operations.events import ingest_event

    if not db_url.startswith("postgresql"):
        pytest.skip("needs row locks we can observe (pg_stat_activity)")
    other = db.sessionmaker()
    ingest_event(other, json.dumps(START))  # inserted, not committed
    result: dict = {}

    def send():
        result["resp"] = post(app.test_client(), auth, START)

    t = threading.Thread(target=send)
    t.start()
    with db.engine.connect() as watch:  # wait until the request blocks on our uncommitted row
        while t.is_alive():
            waiting = watch.execute(text(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                "and query ilike 'insert into%'")).scalar()
            watch.rollback()  # a new transaction: pg_stat_activity is a per-transaction snapshot
            if waiting:
                break
    other.commit()
    other.close()
    t.join()
    assert result["resp"].status_code == 200 and result["resp"].get_json()["duplicate"] is True
    assert counts(db) == (1, 1, 3, 0)


def test_the_same_event_posted_concurrently_is_stored_once(app, auth, db):
    statuses = at_once(4, app.test_client, lambda client: post(client, auth, START).status_code)
    assert sorted(statuses) == [200, 200, 200, 201]
    assert counts(db) == (1, 1, 3, 0)


def test_body_that_is_not_utf8_is_400_and_kept(client, auth, db):
    resp = client.post("/api/v1/events", data=b'{"id": "\xff"}', headers=auth, content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["errors"][0]["code"] == "malformed_json"
    with db.session() as s:
        dl = s.get(DeadLetter, resp.get_json()["dead_letter"])
        assert dl.payload == '{"id": "\\xff"}' and dl.context["channel"] == "api"


def test_dead_letter_context_names_language_and_token(client, auth, db):
    resp = client.post("/api/v1/events", json={"id": "x"},
                       headers={**auth, "Accept-Language": "tr-TR,tr;q=0.9"})
    assert resp.status_code == 422
    assert "zorunludur" in resp.get_json()["errors"][0]["message"]
    with db.session() as s:
        ctx = s.get(DeadLetter, resp.get_json()["dead_letter"]).context
    assert ctx["lang"] == "tr" and ctx["token"] == auth["Authorization"][7:19] and ctx["mapping"] == 1
