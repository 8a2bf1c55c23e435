"""GET /api/v1/shops and /api/v1/shops/<shop> over events posted to the webhook."""
from __future__ import annotations

import json

import pytest

from concierge.operations.tokens import create_token


@pytest.fixture
def auth(app):
    with app.extensions["concierge.db"].session() as s:
        _, token = create_token(s, "reader")
    return {"Authorization": f"Bearer {token}"}


def send(client, auth, eid, shop, etype, when, **data):
    resp = client.post("/api/v1/events", headers=auth, content_type="application/json",
                       data=json.dumps({"id": eid, "shop": shop, "type": etype, "occurred_at": when, "data": data}))
    assert resp.status_code == 201, resp.get_json()


def test_shop_list_and_profile_with_changes(client, auth):
    send(client, auth, "a1", "pl-1", "trial_started", "2026-06-01T09:00:00+02:00", market="PL", shop_name="Len")
    send(client, auth, "b1", "tr-1", "trial_started", "2026-06-01T09:00:00+03:00", market="TR")
    send(client, auth, "a2", "pl-1", "shop_opened", "2026-06-10T09:00:00+02:00")
    shops = client.get("/api/v1/shops?market=pl", headers=auth).get_json()["shops"]
    assert [(s["id"], s["market"], s["name"]) for s in shops] == [("pl-1", "PL", "Len")]
    assert shops[0]["stage"] == "launched"
    body = client.get("/api/v1/shops/pl-1", headers=auth,
                      query_string={"since": "2026-06-05T00:00:00Z"}).get_json()
    assert body["profile"]["facets"]["readiness"]["facts"]["readiness.launched"]["source"] == "trial"
    assert body["changes"] == [{"key": "readiness.launched", "before": None, "after": True, "source": "trial",
                                "observed_at": "2026-06-10T07:00:00+00:00"}]


def test_shop_list_filters_sorts_and_pages(client, auth):
    send(client, auth, "a1", "pl-1", "trial_started", "2026-06-01T09:00:00+02:00", market="PL", shop_name="Len")
    send(client, auth, "b1", "tr-1", "trial_started", "2026-06-03T09:00:00+03:00", market="TR", shop_name="Aba")
    send(client, auth, "c1", "in-1", "trial_started", "2026-06-02T09:00:00+05:30", market="IN", shop_name="Mela")
    send(client, auth, "a2", "pl-1", "shop_opened", "2026-06-10T09:00:00+02:00")

    def ids(**query):
        resp = client.get("/api/v1/shops", headers=auth, query_string=query)
        assert resp.status_code == 200, resp.get_json()
        return [s["id"] for s in resp.get_json()["shops"]]

    assert ids() == ["in-1", "tr-1", "pl-1"]  # newest first
    assert ids(sort="name") == ["tr-1", "pl-1", "in-1"]
    assert ids(sort="trial_start") == ["tr-1", "in-1", "pl-1"]
    assert ids(stage="launched") == ["pl-1"]
    assert ids(outcome="open", limit=2) == ["in-1", "tr-1"]
    assert ids(outcome="open", limit=2, offset=2) == ["pl-1"]
    assert ids(outcome="converted") == []
    assert ids(min_score=0.5) == []  # nothing scored yet
    shop = client.get("/api/v1/shops", headers=auth).get_json()["shops"][0]
    assert {"score", "consultant", "next_call_at", "contacted", "held_out"} <= set(shop)
    resp = client.get("/api/v1/shops", headers=auth,
                      query_string={"sort": "x", "min_score": "2", "offset": "-1", "stage": "nope", "outcome": "won"})
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} == {"sort", "min_score", "offset", "stage", "outcome"}


def test_shop_api_errors_are_json(client, auth):
    resp = client.get("/api/v1/shops/nope", headers=auth)
    assert resp.status_code == 404 and "nope" in resp.get_json()["message"]
    resp = client.get("/api/v1/shops", headers=auth, query_string={"market": "DE"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "market"
    send(client, auth, "a1", "pl-1", "trial_started", "2026-06-01T09:00:00+02:00", market="PL")
    resp = client.get("/api/v1/shops/pl-1", headers=auth, query_string={"since": "yesterday"})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "since"


def test_broken_market_override_file_is_a_json_503_naming_the_field(client, auth, tmp_path, monkeypatch):
    send(client, auth, "a1", "pl-1", "trial_started", "2026-06-01T09:00:00+02:00", market="PL")
    bad = tmp_path / "overrides.json"
    bad.write_text('{"PL": {"conversion": {"decision_window_days": -3}}}', encoding="utf-8")
    monkeypatch.setenv("CONCIERGE_MARKET_OVERRIDES", str(bad))
    resp = client.get("/api/v1/shops/pl-1/picture.svg", headers=auth)  # the picture shows market rules
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["error"] == "market_data_invalid"
    assert str(bad) in body["message"] and "decision_window_days" in body["message"]
