"""The workday over the API, on SQLite and PostgreSQL: claim, complete with the token, 409 when lost."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from concierge.models import PlannedCall, Shop, User
from concierge.operations.tokens import create_token


@pytest.fixture
def auth(app):
    db = app.extensions["concierge.db"]
    with db.session() as s:
        _row, token = create_token(s, "dialler")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def queued(app):
    """One PL call due now and a consultant (the claim uses the real clock, so the call is made
    legal now: a service call in a market whose hours we pick below)."""
    db = app.extensions["concierge.db"]
    now = datetime.now(timezone.utc)
    with db.session() as s:
        s.execute(insert(Shop), [{"platform_id": "pl-api", "market": "PL", "created_at": now, "holdout": False}])
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == "pl-api"))
        s.add(PlannedCall(shop_id=shop_id, kind="audit", reason="inactive", rule="inactive", occurrence="x",
                          trigger="inactive", purpose="service", status="planned", open_key="audit:inactive",
                          due_from=now - timedelta(hours=1), due_until=now + timedelta(days=1),
                          scheduled_at=now - timedelta(minutes=1), language="pl", created_by="t"))
        s.add(User(email="ania@example.com", name="Ania", password_hash="x", role="consultant"))
    return db


def _open_everywhere(monkeypatch):
    """Calling is allowed at any moment for this test (the rules are tested elsewhere)."""
    import concierge.operations.workday as workday

    monkeypatch.setattr(workday, "calling_open_now", lambda now: [(m, p) for m in ("PL", "TR", "IN")
                                                                 for p in ("service", "commercial")])


def test_claim_complete_and_a_lost_claim(client, auth, queued, monkeypatch):
    _open_everywhere(monkeypatch)
    missing = client.post("/api/v1/calls/next", headers=auth, json={})
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "consultant"
    claimed = client.post("/api/v1/calls/next", headers=auth, json={"consultant": "ania@example.com"})
    assert claimed.status_code == 200
    call = claimed.get_json()["call"]
    assert call["status"] == "claimed" and call["token"] == 1 and call["lease_until"]
    none_left = client.post("/api/v1/calls/next", headers=auth, json={"consultant": "ania@example.com"})
    assert none_left.get_json() == {"call": None}
    wrong = client.post(f"/api/v1/calls/{call['id']}/complete", headers=auth,
                        json={"consultant": "ania@example.com", "token": 7, "outcome": "reached"})
    assert wrong.status_code == 409 and wrong.get_json()["error"] == "claim_lost"
    bad = client.post(f"/api/v1/calls/{call['id']}/complete", headers={**auth, "Accept-Language": "pl"},
                      json={"consultant": "ania@example.com", "token": 1, "outcome": "reached",
                            "answers": {"owner.hours_per_week": "dużo"}})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"].endswith("owner.hours_per_week")
    done = client.post(f"/api/v1/calls/{call['id']}/complete", headers=auth,
                       json={"consultant": "ania@example.com", "token": 1, "outcome": "reached",
                             "note": "all set", "answers": {"readiness.products_added": True}})
    assert done.status_code == 200, done.get_json()
    data = done.get_json()
    assert data["call"]["status"] == "done" and data["attempt"]["reached"] is True
    assert data["attempt"]["submission"] is not None
    again = client.post(f"/api/v1/calls/{call['id']}/release", headers=auth,
                        json={"consultant": "ania@example.com", "token": 1})
    assert again.status_code == 409


def test_an_unknown_consultant_is_404(client, auth, queued):
    res = client.post("/api/v1/calls/next", headers=auth, json={"consultant": "nobody@example.com"})
    assert res.status_code == 404
