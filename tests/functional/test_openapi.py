"""GET /api/openapi.json: a valid OpenAPI 3.1 document, generated from the validating code."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from concierge.api import openapi
from concierge.api.openapi import api_routes, openapi_path, operation, operation_prose, undocumented_routes
from concierge.ingest.schemas import REQUEST_SCHEMAS
from concierge.operations.shops import ensure_shop
from concierge.operations.tokens import create_token
from profile_schema import load_schema


@pytest.fixture
def doc(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def test_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises on any violation of the OpenAPI 3.1 specification


def test_every_api_route_is_documented(app):
    routes = api_routes(app)
    assert ("POST", "/api/v1/surveys", "api_surveys.post_survey") in routes
    assert undocumented_routes(app) == [], "describe these in concierge/api/openapi.py"


def test_an_undocumented_route_is_caught(app):
    @app.get("/api/v1/brand-new/<int:thing>")
    def brand_new(thing):  # a later endpoint someone forgot to describe
        return {}

    assert undocumented_routes(app) == [("GET", "/api/v1/brand-new/{thing}")]


def test_documented_paths_exist_in_the_url_map(app, doc):
    served = {(m, p) for m, p, _e in api_routes(app)}
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == served


def test_every_entry_of_operations_yaml_is_an_operation(doc):
    """The prose file and the code agree: no entry is left over once its operation is gone or renamed."""
    ids = {op.get("operationId") for ops in doc["paths"].values() for op in ops.values()}
    assert set(operation_prose()) - ids == set(), "entries of concierge/api/operations.yaml no operation uses"
    listed = doc["paths"]["/api/v1/events/{event_id}"]["get"]
    assert listed["summary"] == operation_prose()["getTrialEvent"]["summary"]
    assert listed["description"].startswith("Follow an event after its answer")


def test_an_operation_without_prose_fails_loudly():
    with pytest.raises(LookupError, match="operations.yaml has no summary for the operation 'brandNew'"):
        operation("brandNew", "meta", responses={})


def test_a_malformed_prose_entry_fails_loudly(tmp_path, monkeypatch):
    bad = tmp_path / "operations.yaml"
    bad.write_text("brandNew:\n  description: no summary\n", encoding="utf-8")
    monkeypatch.setattr(openapi, "OPERATIONS_PROSE", bad)
    operation_prose.cache_clear()
    try:
        with pytest.raises(ValueError, match="brandNew needs a summary"):
            operation_prose()
    finally:
        monkeypatch.undo()
        operation_prose.cache_clear()
    assert "getTrialEvent" in operation_prose()


def test_openapi_path_conversion():
    assert openapi_path("/api/v1/shops/<shop>") == "/api/v1/shops/{shop}"
    assert openapi_path("/api/v1/x/<int:n>/<path:rest>") == "/api/v1/x/{n}/{rest}"


def test_request_bodies_are_the_validating_schemas(doc):
    schemas = doc["components"]["schemas"]
    for name, schema in REQUEST_SCHEMAS.items():
        assert schemas[name] == json.loads(json.dumps(schema)), name
    body = doc["paths"]["/api/v1/surveys"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SurveySubmission"}
    events = doc["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert events == {"$ref": "#/components/schemas/TrialEvent"}


def test_token_endpoints_declare_bearer_auth(doc):
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        **doc["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer"}
    survey = doc["paths"]["/api/v1/surveys"]["post"]
    assert survey["security"] == [{"bearerAuth": []}] and "401" in survey["responses"]
    assert doc["paths"]["/api/openapi.json"]["get"]["security"] == []


def test_answers_are_derived_from_the_interview_schema(doc):
    schema = load_schema()
    answers = doc["components"]["schemas"]["SurveySubmission"]["properties"]["answers"]["properties"]
    survey_keys = {q.key for q in schema.questions.values() if "survey" in q.sources}
    assert set(answers) == survey_keys
    assert "readiness.theme_published" not in answers  # not a survey question
    cat = answers["business.category"]
    assert cat["enum"][:-1] == list(schema["business.category"].choices) and cat["enum"][-1] is None
    assert cat["description"] == "Category"
    assert answers["experience.sold_online_before"]["type"] == ["boolean", "null"]
    hours = answers["owner.hours_per_week"]
    assert (hours["type"], hours["minimum"], hours["maximum"]) == (["integer", "null"], 0, 100)
    assert answers["experience.years_selling_online"]["type"] == ["number", "null"]
    money = answers["business.expected_monthly_turnover"]
    assert money["type"] == ["object", "null"] and money["required"] == ["amount"]
    assert money["properties"]["currency"]["enum"] == ["PLN", "TRY", "INR", "EUR", "USD"]
    assert answers["owner.name"]["maxLength"] == 120 and answers["owner.name"]["x-survey-required"] is True
    assert {"format": "date"} in answers["business.planned_launch"]["anyOf"]  # or blank: not answered
    help_with = answers["needs.help_with"]
    assert help_with["minItems"] == 1 and help_with["uniqueItems"] is True
    assert answers["business.marketplaces"]["x-relevant"] == {
        "question": "business.sells_on_marketplace", "equals": True}


@pytest.mark.parametrize("body", [
    {"shop": "pl-1001", "answers": {"owner.hours_per_week": 101}},
    {"shop": "pl-1001", "answers": {"business.category": "weapons"}},
    {"shop": "pl-1001", "answers": {"experience.sold_online_before": "maybe"}},
    {"shop": "pl-1001", "answers": {"needs.help_with": []}},
    {"shop": "pl-1001", "answers": {"business.expected_monthly_turnover": {"amount": 5, "currency": "GBP"}}},
    {"shop": "pl-1001", "answers": {"owner.name": "x" * 121}},
    {"shop": "pl-1001", "answers": {"readiness.theme_published": True}},
    {"shop": "pl-1001", "answers": {}},
    {"shop": "pl-1001"},
    {"answers": {"owner.name": "Ala"}},
    {"shop": "pl-1001", "answers": {"owner.name": "Ala"}, "language": 7},
    {"shop": "pl-1001", "answers": {"owner.name": "Ala"}, "submitted_at": "2026-11-02 10:00"},
])
def test_what_the_document_rejects_the_endpoint_rejects(app, client, doc, body):
    schema = doc["components"]["schemas"]["SurveySubmission"]
    checker = Draft202012Validator.FORMAT_CHECKER
    assert list(Draft202012Validator(schema, format_checker=checker).iter_errors(body)), \
        "the document must reject this body"
    with app.extensions["concierge.db"].session() as s:
        ensure_shop(s, "pl-1001", "PL")
        _row, token = create_token(s, "t")
    resp = client.post("/api/v1/surveys", json=body, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"]


def test_what_the_document_accepts_the_endpoint_accepts(app, client, doc):
    body = doc["paths"]["/api/v1/surveys"]["post"]["requestBody"]["content"]["application/json"]["example"]
    schema = doc["components"]["schemas"]["SurveySubmission"]
    checker = Draft202012Validator.FORMAT_CHECKER
    assert not list(Draft202012Validator(schema, format_checker=checker).iter_errors(body))
    with app.extensions["concierge.db"].session() as s:
        ensure_shop(s, body["shop"], "PL")
        _row, token = create_token(s, "t")
    resp = client.post("/api/v1/surveys", json=body, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.get_json()
