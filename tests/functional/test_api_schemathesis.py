"""Schemathesis against /api/openapi.json, in process (WSGI), on SQLite and PostgreSQL; and every
example in the document sent as a request to a fresh database.

Schemathesis runs its examples, coverage (boundary and invalid values) and fuzzing phases on every
documented operation with an admin token, NUL bytes allowed in every generated string and a fixed
seed (a red run is reproducible). No answer may be a 5xx, every answer must be one the document
declares (status, content type, headers, body schema), and what the document forbids must be
refused (`negative_data_rejection`: e.g. `limit=0`, an empty `since=`, `lang=null`). The privacy
erasure is destructive and runs alone, on its own database. Schemathesis' pytest plugin is not used
(its lazy fixture loader does not run on pytest 9): its engine is, as the CLI runs it.
"""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
import schemathesis
from schemathesis import engine as st_engine
from schemathesis.engine import Status
from schemathesis.engine import events as st_events
from sqlalchemy import select

from concierge.db import utcnow
from concierge.models import PlannedCall, SurveyLink, User
from concierge.operations.tokens import create_token

ERASE = "eraseShopPersonalData"
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance", "negative_data_rejection")
# `ignored_auth` is left out: its probe does not run over WSGI in this schemathesis (TypeError
# max_redirects); tests/functional/test_api_auth.py covers missing and bad tokens.


@pytest.fixture
def admin_token(app):
    with app.extensions["concierge.db"].session() as s:
        _row, token = create_token(s, "schemathesis", role="admin")
    return token


def run_schemathesis(app, token: str, *, only: str | None = None, max_examples: int = 10):
    """Run the engine; returns (failure reports, every request sent as (method, uri, body))."""
    config = schemathesis.Config.from_dict({
        "seed": 20261130,
        # NUL bytes in generated strings are schemathesis' default; said here so it stays on
        "generation": {"max-examples": max_examples, "deterministic": True, "allow-x00": True, "database": "none"},
        "cache": {"enabled": False},  # no .schemathesis/ state: every run starts from the seed alone
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "auth": {"openapi": {"bearerAuth": {"bearer": token}}},
    })
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
    schema = schema.include(operation_id=only) if only else schema.exclude(operation_id=ERASE)
    seen = iter(range(1, 10**9))

    @schema.hook
    def map_case(context, case):
        # one survey response id per request: a repeated id is answered "duplicate" without looking
        # at the answers (as documented), so reusing the example's id would test nothing after it
        body = case.body
        if case.operation.path == "/api/v1/surveys" and isinstance(body, dict) \
                and isinstance(body.get("response_id"), str) and 1 <= len(body["response_id"]) <= 180:
            case.body = {**body, "response_id": f"{body['response_id']}~{next(seen)}"}
        return case

    failures: dict[tuple[str, str, str], str] = {}
    sent: list[tuple[str, str, bytes]] = []
    for event in st_engine.from_schema(schema).execute():
        if isinstance(event, st_events.ScenarioFinished):
            rec = event.recorder
            for interaction in rec.interactions.values():
                sent.append((interaction.request.method, interaction.request.uri, interaction.request.body or b""))
            for nodes in rec.checks.values():
                for node in nodes:
                    if node.status == Status.FAILURE and node.failure_info is not None:
                        failure = node.failure_info.failure
                        failures.setdefault((rec.label, node.name, failure.title),
                                            f"{rec.label}: {node.name}: {failure.title}\n{failure.message}\n"
                                            f"{node.failure_info.code_sample}")
        elif isinstance(event, st_events.NonFatalError):
            failures.setdefault((event.label, "error", str(event.value)),
                                f"{event.label}: {event.info.format()}")
        elif isinstance(event, st_events.FatalError):
            raise event.exception
    return list(failures.values()), sent


def _has_nul(method: str, uri: str, body: bytes) -> bool:
    return "%00" in uri or b"\\u0000" in body or b"\x00" in body


def test_schemathesis_finds_no_server_error_and_no_drift_from_the_document(app, admin_token):
    failures, sent = run_schemathesis(app, admin_token)
    assert not failures, "\n\n".join(failures)
    documented = {p for p in app.test_client().get("/api/openapi.json").get_json()["paths"]}
    assert len(sent) > 20 * (len(documented) - 1)  # every operation was exercised, not skipped
    assert any(_has_nul(*r) for r in sent), "no request carried a NUL: allow-x00 is not in effect"


def test_schemathesis_on_the_privacy_erasure_alone(app, client, admin_token):
    # its own database, with the shop its example names, so the erasure really runs
    doc = client.get("/api/openapi.json").get_json()
    start = doc["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    resp = client.post("/api/v1/events", json=start["examples"]["trial_started"]["value"],
                       headers={"Authorization": f"Bearer {admin_token}"})
    assert resp.status_code == 201, resp.get_json()
    failures, sent = run_schemathesis(app, admin_token, only=ERASE)
    assert not failures, "\n\n".join(failures)
    assert any(uri.endswith("/pl-1001/privacy-erase") for _m, uri, _b in sent)


# --------------------------------------------------------------------------- the document's examples

def _example_values(holder: dict) -> list:
    if "example" in holder:
        return [holder["example"]]
    return [e["value"] for e in holder.get("examples", {}).values()]


def _example_requests(doc: dict) -> list[dict]:
    """One request per body example of every operation that carries an example, in document order;
    its parameters are their examples (an operation with examples must give every path parameter one)."""
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            params = op.get("parameters", [])
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            bodies = _example_values(body)
            if not bodies and not any(_example_values(p) for p in params):
                continue
            url, query, headers = path, {}, {}
            for p in params:
                values = _example_values(p)
                if p["in"] == "path":
                    assert values, f"{method.upper()} {path}: has examples but none for path parameter {p['name']}"
                    url = url.replace("{" + p["name"] + "}", quote(str(values[0]), safe=""))
                elif values and p["in"] == "query":
                    query[p["name"]] = values[0]
                elif values and p["in"] == "header":
                    headers[p["name"]] = values[0]
            for b in bodies or [None]:
                out.append({"id": op.get("operationId", f"{method} {path}"), "method": method.upper(), "url": url,
                            "query": query, "headers": headers, "body": b})
    return out


# What the examples presume and the API cannot make: the consultant they name has an account, and
# holds the call the workday examples name (a claim depends on calling hours, so it is made here,
# as the dialler's claim would be: status claimed, token one up).
_FIRST = {"postTrialEvent": 0}
_LAST = {"releaseCall": 1, "completeCall": 2, "claimNextCall": 3, ERASE: 4}


def _hold(db, call_id: int, consultant: str) -> None:
    with db.session() as s:
        user = s.scalar(select(User).where(User.email == consultant))
        call = s.get(PlannedCall, call_id)
        assert call is not None, f"no call {call_id}: the callback example should have made it"
        call.status, call.owner_id, call.token = "claimed", user.id, call.token + 1
        call.claimed_at, call.lease_until = utcnow(), utcnow() + timedelta(minutes=20)
        s.commit()


def test_every_openapi_example_is_accepted_on_a_fresh_database(app, client, admin_token):
    doc = client.get("/api/openapi.json").get_json()
    requests = _example_requests(doc)
    # what creates comes first (the trial start makes the shop), then document order, then the workday
    requests.sort(key=lambda r: (_FIRST.get(r["id"], 1), (r["body"] or {}).get("type") != "trial_started",
                                 _LAST.get(r["id"], -1)))
    ids = {r["id"] for r in requests}
    assert {"postTrialEvent", "submitSurvey", "createSurveyLink", "requestCallback", "claimNextCall",
            "completeCall", "releaseCall", ERASE} <= ids
    consultants = {r["body"]["consultant"] for r in requests
                   if isinstance(r["body"], dict) and "consultant" in r["body"]}
    db = app.extensions["concierge.db"]
    with db.session() as s:
        for email in consultants:
            s.add(User(email=email, name="Ania", password_hash="x", role="consultant"))
        s.commit()
    for r in requests:
        if r["id"] in ("releaseCall", "completeCall"):
            _hold(db, int(r["url"].split("/")[4]), r["body"]["consultant"])
        kwargs = {"query_string": r["query"], "headers": {**r["headers"], "Authorization": f"Bearer {admin_token}"}}
        if r["body"] is not None:
            kwargs.update(data=json.dumps(r["body"]), content_type="application/json")
        resp = client.open(r["url"], method=r["method"], **kwargs)
        assert 200 <= resp.status_code < 300, (r["id"], r["body"], resp.status_code, resp.get_data(as_text=True)[:800])


def test_days_is_a_json_integer_so_39_point_0_is_39(app, client, admin_token):
    auth = {"Authorization": f"Bearer {admin_token}"}
    doc = client.get("/api/openapi.json").get_json()
    start = doc["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert client.post("/api/v1/events", json=start["trial_started"]["value"], headers=auth).status_code == 201
    assert doc["components"]["schemas"]["SurveyLinkRequest"]["properties"]["days"]["type"] == "integer"
    whole = client.post("/api/v1/shops/pl-1001/survey-links", data='{"days": 39.0}', headers=auth,
                        content_type="application/json")
    assert whole.status_code == 201, whole.get_json()
    body = whole.get_json()
    with app.extensions["concierge.db"].session() as s:
        link = s.get(SurveyLink, body["id"])
        assert (link.expires_at - link.created_at) == timedelta(days=39)
    half = client.post("/api/v1/shops/pl-1001/survey-links", data='{"days": 39.5}', headers=auth,
                       content_type="application/json")
    assert half.status_code == 422 and half.get_json()["errors"][0]["field"] == "days"
