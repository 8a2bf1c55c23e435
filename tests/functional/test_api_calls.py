"""GET /api/v1/shops/<shop>/calls and POST /api/v1/shops/<shop>/callbacks (SQLite and PostgreSQL).

Callbacks asked for over the API land at an allowed calling moment, one open callback per
shop (a second request moves it), every refusal names its field in the request's language
and stores nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from concierge.models import PlannedCall, PlannedCallEvent
from concierge.operations.tokens import create_token
from tests.support import app_db as _db

WARSAW_HOURS = range(8, 18)  # PL business hours are 9-17 on weekdays; the check is deliberately loose


@pytest.fixture
def auth(app):
    from concierge.operations.shops import ensure_shop

    with _db(app).session() as s:
        ensure_shop(s, "pl-1", "PL", name="Sklep Ani")
        ensure_shop(s, "tr-1", "TR", name="Dükkan")
        _, token = create_token(s, "crm")
    return {"Authorization": f"Bearer {token}"}


def count(app, model=PlannedCall) -> int:
    with _db(app).session() as s:
        return s.scalar(select(func.count()).select_from(model))


def post(client, auth, shop="pl-1", body=None, lang=None, **kw):
    headers = {**auth, **({"Accept-Language": lang} if lang else {})}
    if body is None:
        return client.post(f"/api/v1/shops/{shop}/callbacks", headers=headers, **kw)
    return client.post(f"/api/v1/shops/{shop}/callbacks", headers=headers, json=body, **kw)


def test_callback_now_is_201_and_listed_first(client, auth, app):
    assert client.get("/api/v1/shops/pl-1/calls", headers=auth).get_json() == {"shop": "pl-1", "calls": []}
    before = datetime.now(timezone.utc)
    resp = post(client, auth, body={"note": "  How do I   connect BLIK? "})
    assert resp.status_code == 201, resp.get_json()
    call = resp.get_json()
    assert (call["shop"], call["kind"], call["status"], call["purpose"]) == ("pl-1", "callback", "planned", "service")
    assert call["requested_via"] == "api" and call["note"] == "How do I connect BLIK?"
    assert call["timezone"] == "Europe/Warsaw" and call["agenda"][0] == "They asked: How do I connect BLIK?"
    at = datetime.fromisoformat(call["scheduled_at"])
    assert at >= before - timedelta(seconds=1)
    local = datetime.fromisoformat(call["scheduled_local"])
    assert local.utcoffset() in (timedelta(hours=1), timedelta(hours=2)) and local == at
    assert local.hour in WARSAW_HOURS and local.isoweekday() <= 6
    with _db(app).session() as s:
        row = s.get(PlannedCall, call["id"])
        assert row.created_by == "api:crm" and row.open_key == "callback:callback"
    body = client.get("/api/v1/shops/pl-1/calls", headers=auth).get_json()
    assert [c["id"] for c in body["calls"]] == [call["id"]]
    assert client.get("/api/v1/shops/pl-1/calls?status=open", headers=auth).get_json()["calls"][0]["id"] == call["id"]
    assert client.get("/api/v1/shops/pl-1/calls?status=cancelled", headers=auth).get_json()["calls"] == []
    assert client.get("/api/v1/shops/tr-1/calls", headers=auth).get_json()["calls"] == []  # per shop


def test_a_second_request_moves_the_open_callback(client, auth, app):
    first = post(client, auth)
    assert first.status_code == 201
    wish = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)
    second = post(client, auth, body={"at": wish.isoformat(), "note": "after the weekend"})
    assert second.status_code == 200, second.get_json()  # moved, not created
    moved = second.get_json()
    assert moved["id"] == first.get_json()["id"]
    assert datetime.fromisoformat(moved["scheduled_at"]) >= wish  # at the wish or the next allowed moment
    assert count(app) == 1
    with _db(app).session() as s:
        actions = [e.action for e in s.scalars(select(PlannedCallEvent).order_by(PlannedCallEvent.id))]
    assert actions == ["created", "rescheduled"]
    calls = client.get("/api/v1/shops/pl-1/calls", headers=auth).get_json()["calls"]
    assert len(calls) == 1 and calls[0]["note"] == "after the weekend"


def test_a_picked_time_outside_calling_hours_goes_to_the_next_allowed_moment(client, auth):
    from zoneinfo import ZoneInfo

    warsaw = ZoneInfo("Europe/Warsaw")
    day = datetime.now(warsaw).date() + timedelta(days=2)
    while day.isoweekday() != 7:  # a Sunday: no calls in Poland
        day += timedelta(days=1)
    at = datetime(day.year, day.month, day.day, 3, 0, tzinfo=warsaw)
    resp = post(client, auth, body={"at": at.isoformat()})
    assert resp.status_code == 201, resp.get_json()
    local = datetime.fromisoformat(resp.get_json()["scheduled_local"])
    assert local > at and local.isoweekday() != 7 and local.hour in WARSAW_HOURS


def test_unknown_shop_is_404(client, auth, app):
    for resp in (client.get("/api/v1/shops/nope/calls", headers=auth), post(client, auth, shop="nope"),
                 post(client, auth, shop="nope", body={"note": "hi"})):
        assert resp.status_code == 404
        assert resp.get_json()["error"] == "not_found" and "nope" in resp.get_json()["message"]
    assert count(app) == 0


@pytest.mark.parametrize("body, field, code", [
    ({"at": "2026-12-01T10:00:00"}, "at", "invalid_format"),        # naive: which country's 10:00?
    ({"at": "tomorrow"}, "at", "invalid_format"),
    ({"at": 1733000000}, "at", "wrong_type"),
    ({"note": "x" * 501}, "note", "too_long"),
    ({"note": 7}, "note", "wrong_type"),
    ({"when": "now"}, "when", "unknown_field"),
])
def test_bodies_the_schema_refuses_are_422_naming_the_field(client, auth, app, body, field, code):
    resp = post(client, auth, body=body)
    assert resp.status_code == 422, resp.get_json()
    errors = resp.get_json()["errors"]
    assert (errors[0]["field"], errors[0]["code"]) == (field, code)
    assert errors[0]["message"].startswith(f"{field}:")
    assert count(app) == 0


def test_past_and_too_far_times_are_422_naming_at(client, auth, app):
    now = datetime.now(timezone.utc)
    past = post(client, auth, body={"at": (now - timedelta(hours=2)).isoformat()})
    assert past.status_code == 422
    assert [(e["field"], e["code"]) for e in past.get_json()["errors"]] == [("at", "request.in_the_past")]
    far = post(client, auth, body={"at": (now + timedelta(days=45)).isoformat()})
    assert far.status_code == 422
    assert [(e["field"], e["code"]) for e in far.get_json()["errors"]] == [("at", "request.too_far")]
    assert "30" in far.get_json()["errors"][0]["message"]
    assert count(app) == 0 and count(app, PlannedCallEvent) == 0


def test_errors_speak_the_accept_language(client, auth, app):
    resp = post(client, auth, body={"at": "2026-12-01T10:00:00", "note": "x" * 501}, lang="pl-PL, pl;q=0.9")
    assert resp.status_code == 422
    errors = {e["field"]: e["message"] for e in resp.get_json()["errors"]}
    assert errors["at"].startswith("at: ma niepoprawny format")
    assert errors["note"] == "note: jest za długie (najwyżej 500)"
    resp = client.get("/api/v1/shops/pl-1/calls?status=maybe", headers={**auth, "Accept-Language": "tr"})
    assert resp.status_code == 422
    error = resp.get_json()["errors"][0]
    assert error["field"] == "status" and "şunlardan biri olmalı" in error["message"]
    assert count(app) == 0


def test_malformed_json_is_400_and_no_token_is_401(client, auth, app):
    resp = client.post("/api/v1/shops/pl-1/callbacks", headers=auth, data="{", content_type="application/json")
    assert resp.status_code == 400 and resp.get_json()["error"] == "malformed_json"
    assert client.post("/api/v1/shops/pl-1/callbacks").status_code == 401
    assert client.get("/api/v1/shops/pl-1/calls").status_code == 401
    assert count(app) == 0


def test_the_list_puts_callbacks_first_then_by_time(client, auth, app):
    from concierge.models import Shop

    now = datetime.now(timezone.utc)
    with _db(app).session() as s:
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == "pl-1"))
        for i, (status, days) in enumerate((("planned", 2), ("snoozed", 1), ("cancelled", 0))):
            s.add(PlannedCall(
                shop_id=shop_id, kind="audit", reason=f"r{i}", rule="inactive", occurrence=f"o{i}",
                trigger="inactive", purpose="service", status=status,
                open_key=None if status == "cancelled" else f"audit:r{i}",
                due_from=now, due_until=now + timedelta(days=5), scheduled_at=now + timedelta(days=days),
                params={"date": (now - timedelta(days=8)).isoformat()}, agenda=[], created_by="planner"))
    callback = post(client, auth, body={"at": (now + timedelta(days=4)).isoformat()}).get_json()
    calls = client.get("/api/v1/shops/pl-1/calls", headers=auth).get_json()["calls"]
    assert [c["kind"] for c in calls][0] == "callback" and calls[0]["id"] == callback["id"]
    assert [c["reason"] for c in calls[1:]] == ["r2", "r1", "r0"]  # by scheduled time
    open_calls = client.get("/api/v1/shops/pl-1/calls?status=open", headers=auth).get_json()["calls"]
    assert [c["status"] for c in open_calls] == ["planned", "snoozed", "planned"]
    assert all(c["why"] for c in calls)
