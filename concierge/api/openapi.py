"""`GET /api/openapi.json`: the OpenAPI 3.1 document, built from the code that validates requests.

Request bodies come from `concierge.ingest.schemas.REQUEST_SCHEMAS` (the very dictionaries
`validate_body` checks against; the survey body is derived from the interview schema).
Paths come from the app's URL map: every rule under /api is listed, and one with no
description here is reported by `undocumented_routes` (a test fails on it), so a new
endpoint cannot ship undocumented. Describe a new endpoint with `document(method, path,
operation)` here, or by setting `view.openapi = {...}` (an OpenAPI operation object; `operation`,
`query_param`, `json_body`, `json_response` and `body_refusals` build the usual parts).
`operation` takes the summary and description from operations.yaml (keyed by operationId):
the code holds the structure, the file the prose.
"""
from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, current_app, jsonify

import profile_schema
from locales import LANGUAGES, MARKET_CODES

from . import api_blueprint

OPENAPI_VERSION = "3.1.0"
SURVEY_LANGUAGES = LANGUAGES
_IGNORED_METHODS = {"HEAD", "OPTIONS"}
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader (~10x faster) when built with it

bp = api_blueprint("openapi", __name__, url_prefix="/api")

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {}


def document(method: str, path: str, operation: dict[str, Any]) -> None:
    """Describe one endpoint (path in OpenAPI form, e.g. /api/v1/shops/{shop})."""
    OPERATIONS[(method.upper(), path)] = operation


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema_name: str, example: Any = None, description: str | None = None,
              required: bool = True) -> dict[str, Any]:
    """A JSON request body (required unless told) whose schema is REQUEST_SCHEMAS[schema_name]."""
    media: dict[str, Any] = {"schema": _ref(schema_name)}
    if example is not None:
        media["example"] = example
    body: dict[str, Any] = {"required": required, "content": {"application/json": media}}
    if description:
        body["description"] = description
    return body


def json_content(description: str, schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    """A JSON response whose schema is given in place (a dictionary, or a `_ref`)."""
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"description": description, "content": {"application/json": media}}


def json_response(description: str, schema_name: str = "Error", example: Any = None) -> dict[str, Any]:
    """A JSON response whose schema is the named component (the Error answer by default)."""
    return json_content(description, _ref(schema_name), example)


OPERATIONS_PROSE = Path(__file__).with_name("operations.yaml")


@functools.cache
def operation_prose() -> dict[str, dict[str, str]]:
    """operations.yaml, read once: {operationId: {"summary": ..., "description": ... (when there is one)}}."""
    with OPERATIONS_PROSE.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_FAST_LOADER) or {}
    for operation_id, prose in data.items():
        if not (isinstance(prose, dict) and isinstance(prose.get("summary"), str)
                and set(prose) <= {"summary", "description"}
                and isinstance(prose.get("description", ""), str)):
            raise ValueError(f"{OPERATIONS_PROSE.name}: {operation_id} needs a summary and at most a description "
                             f"(text), not {prose!r}")
    return data


def operation(operation_id: str, tag: str, **fields: Any) -> dict[str, Any]:
    """An OpenAPI operation: its id, its tag, its summary and description (when there is one) from
    operations.yaml, then `fields` in the order given (parameters, requestBody, responses)."""
    prose = operation_prose().get(operation_id)
    if prose is None:
        raise LookupError(f"{OPERATIONS_PROSE.name} has no summary for the operation {operation_id!r}: add one")
    op: dict[str, Any] = {"operationId": operation_id, "tags": [tag], "summary": prose["summary"]}
    if prose.get("description"):
        op["description"] = prose["description"]
    op.update(fields)
    return op


def query_param(name: str, schema: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    """An optional query parameter."""
    param: dict[str, Any] = {"name": name, "in": "query", "required": False}
    if description:
        param["description"] = description
    param["schema"] = schema
    return param


def body_refusals(note: str = "") -> dict[str, Any]:
    """The 400 and 415 answers of an endpoint that reads a JSON body, each followed by `note`."""
    return {"400": json_response("The body is not JSON" + note),
            "415": json_response("The Content-Type is not application/json" + note)}


SHOP_PARAM = {"name": "shop", "in": "path", "required": True, "description": "The platform's shop id",
              "schema": {"type": "string", "maxLength": 64}, "example": "pl-1001"}


_ACCEPT_LANGUAGE = {
    "name": "Accept-Language", "in": "header", "required": False,
    "description": f"Language of error messages when the body gives none (best match of {', '.join(LANGUAGES)}; else en)",
    "schema": {"type": "string"}, "example": "pl-PL, pl;q=0.9, en;q=0.5",
}

ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "FieldError": {
        "type": "object", "required": ["field", "code", "message"],
        "properties": {
            "field": {"type": "string", "description": "dotted path in the body, e.g. answers.owner.hours_per_week "
                                                       "('' for the body as a whole)"},
            "code": {"type": "string", "description": "stable, machine-readable reason"},
            "message": {"type": "string", "description": "the field and the reason, in the request's language"},
        },
    },
    "Error": {
        "type": "object", "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "e.g. validation_failed, malformed_json, not_found, unauthorized"},
            "message": {"type": "string"},
            "errors": {"type": "array", "items": _ref("FieldError")},
            "dead_letter": {"type": ["integer", "null"],
                            "description": "id of the dead letter keeping the rejected request verbatim"},
        },
    },
}


def _survey_fields() -> dict[str, Any]:
    example = {
        "shop": "pl-1001", "language": "pl", "response_id": "tf_8fa2c1",
        "submitted_at": "2026-11-02T10:15:00+01:00",
        "answers": {
            "owner.name": "Anna Kowalska", "owner.hours_per_week": 15,
            "experience.sold_online_before": True, "experience.platforms": ["marketplace"],
            "experience.tech_comfort": 3, "needs.help_with": ["payments", "shipping"],
            "business.type": "handmade", "business.category": "crafts",
            "business.expected_monthly_turnover": {"amount": 8000, "currency": "PLN"},
        },
    }
    return dict(
        parameters=[_ACCEPT_LANGUAGE],
        requestBody=json_body("SurveySubmission", example),
        responses={
            "201": json_response("Stored", "SurveyAccepted",
                                 {"submission_id": 42, "shop": "pl-1001", "accepted": 9}),
            "200": json_response("Already stored under this response_id: nothing new stored",
                                 "SurveyDuplicate", {"duplicate": True, "shop": "pl-1001", "submission_id": 42}),
            **body_refusals(" (dead-lettered)"),
            "404": json_response("Unknown shop (dead-lettered; replay once the shop exists)"),
            "422": json_response("Invalid body or answers; nothing stored (dead-lettered)", example={
                "error": "validation_failed", "message": "Ankieta nie została przyjęta; nic nie zapisano",
                "errors": [{"field": "answers.owner.hours_per_week", "code": "above_max",
                            "message": "Godziny tygodniowo na sklep: może wynosić najwyżej 100"}]}),
        })


def _openapi_fields() -> dict[str, Any]:
    return dict(
        responses={"200": json_content("The OpenAPI document", {"type": "object"})})


# The examples name one shop, pl-1001, which this event creates: sent to an empty database after
# it, every example is accepted (tests/functional/test_api_schemathesis.py).
_START_EVENT = {
    "id": "evt_01HF3", "shop": "pl-1001", "type": "trial_started", "occurred_at": "2026-11-02T10:15:00+01:00",
    "data": {"market": "PL", "shop_name": "Pracownia Anny", "trial_ends_at": "2026-11-16T10:15:00+01:00",
             "language": "pl", "owner": {"name": "Anna Kowalska", "email": "anna@example.pl",
                                         "phone": "601 234 567"}},
}


def _event_fields() -> dict[str, Any]:
    return dict(
        parameters=[_ACCEPT_LANGUAGE],
        requestBody={"required": True, "content": {"application/json": {
            "schema": _ref("TrialEvent"),
            # on an empty database the trial_started example goes first: it creates the shop
            "examples": {
                "trial_started": {"summary": "A trial starts: creates the shop", "value": _START_EVENT},
                "product_added": {"summary": "Products were added to the shop", "value": {
                    "id": "evt_01HF4", "shop": "pl-1001", "type": "product_added",
                    "occurred_at": "2026-11-02T11:40:00+01:00", "data": {"count": 3}}},
            }}}},
        responses={
            "201": json_response("Stored", "EventAccepted", {
                "id": "evt_01HF3", "shop": "pl-1001", "type": "trial_started", "status": "stored",
                "duplicate": False, "observations": 4}),
            "200": json_response("Already received (same id and body): nothing new stored", "EventAccepted"),
            "202": json_response(
                "Queued (queued mode, `CONCIERGE_EVENTS_QUEUED`, on under `concierge serve --production`): "
                "checked as a stored event would be and kept; `concierge events worker` applies it "
                "shortly. `observations` is the count it will store. Sent again, it is answered 200 "
                "duplicate, applied or not", "EventAccepted", {
                    "id": "evt_01HF3", "shop": "pl-1001", "type": "trial_started", "status": "queued",
                    "duplicate": False, "observations": 4}),
            **body_refusals(" (dead-lettered)"),
            "409": json_response("Same id, different body (dead-lettered)"),
            "422": json_response("Invalid event or unknown shop; nothing stored (dead-lettered)"),
        })


def _event_status_fields() -> dict[str, Any]:
    return dict(
        parameters=[
            {"name": "event_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 100},
             "description": "the event's `id` as sent", "example": "evt_01HF3"},
            _ACCEPT_LANGUAGE],
        responses={
            "200": json_response("The event's state", "EventStatus", {
                "id": "evt_01HF3", "shop": "pl-1001", "type": "trial_started", "status": "queued",
                "occurred_at": "2026-11-02T10:15:00+01:00", "received_at": "2026-11-02T09:15:01+00:00",
                "attempts": 0, "available_at": None}),
            "404": json_response("No event with this id was accepted"),
        })


def _shops_fields() -> dict[str, Any]:
    score = {"type": "number", "minimum": 0, "maximum": 1}
    return dict(
        parameters=[
            query_param("market", {"type": "string", "enum": [*MARKET_CODES, *(m.lower() for m in MARKET_CODES)]}),
            query_param("stage", {"type": "string", "enum": list(profile_schema.load_schema().stages)},
                        "A launch stage of the schema"),
            query_param("outcome", {"type": "string", "enum": ["converted", "not_converted", "open"]}),
            query_param("consultant", {"type": "string"},
                        "E-mail of the consultant who made the shop's last reached call"),
            query_param("min_score", score),
            query_param("max_score", score),
            query_param("sort", {"type": "string", "enum": ["newest", "score", "trial_start", "name"],
                                 "default": "newest"}),
            query_param("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
            query_param("offset", {"type": "integer", "minimum": 0, "default": 0}),
        ],
        responses={
            "200": json_content("Shops with their launch stage", {
                "type": "object", "required": ["shops"],
                "properties": {"shops": {"type": "array", "items": _ref("ShopSummary")}}}),
            "422": json_response("A bad filter, sort, limit or offset (each named)"),
        })


def _shop_fields() -> dict[str, Any]:
    return dict(
        parameters=[
            SHOP_PARAM,
            query_param("since", {"type": "string", "format": "date-time"},
                        "ISO 8601 date and time with an offset: also list what changed since then"),
        ],
        responses={
            "200": json_content("The shop and its profile", {
                "type": "object", "required": ["shop", "profile"],
                "properties": {
                    "shop": _ref("ShopSummary"),
                    "profile": {"type": "object", "description": "six facets with provenance (profile --json)"},
                    "changes": {"type": "array", "items": {"type": "object", "properties": {
                        "key": {"type": "string"}, "before": {}, "after": {},
                        "source": {"type": "string"},
                        "observed_at": {"type": ["string", "null"], "format": "date-time"}}}},
                }}),
            "404": json_response("Unknown shop"),
            "422": json_response("Bad since"),
        })


def _survey_link_fields() -> dict[str, Any]:
    return dict(
        parameters=[
            SHOP_PARAM,
            _ACCEPT_LANGUAGE,
        ],
        requestBody=json_body("SurveyLinkRequest", {"days": 7}, required=False),
        responses={
            "201": json_response("Created", "SurveyLink", {
                "id": 12, "shop": "pl-1001", "url": "https://concierge.example.com/s/WyJwbC0xMDAxIiwxMiwi...",
                "expires_at": "2026-11-16T10:15:00+00:00"}),
            **body_refusals(),
            "404": json_response("Unknown shop"),
            "422": json_response("Bad days (1 to 90)"),
        })


_CALL_EXAMPLE = {
    "id": 41, "shop": "pl-1001", "market": "PL", "kind": "callback", "kind_label": "Callback",
    "reason": "callback", "rule": "callback", "rules_version": 1, "occurrence": "asked@2026-12-01T08:10:00+00:00",
    "purpose": "service", "status": "planned", "status_label": "planned", "why": "The merchant asked for a call",
    "scheduled_at": "2026-12-01T09:00:00+00:00", "scheduled_local": "2026-12-01T10:00:00+01:00",
    "timezone": "Europe/Warsaw", "due_from": "2026-12-01T09:00:00+00:00", "due_until": "2026-12-02T23:00:00+00:00",
    "preference_met": True, "holdout": False,
    "agenda": ["They asked: how do I connect BLIK?", "Connect Payments with BLIK: BLIK, Przelewy24, PayU"],
    "agenda_items": [{"code": "callback_note", "params": {"note": "how do I connect BLIK?"}},
                     {"code": "integration", "params": {"expected": "payments_blik",
                                                        "providers": ["BLIK", "Przelewy24", "PayU"]}}],
    "gain": None, "note": "how do I connect BLIK?", "snoozed_until": None, "cancel_reason": None,
    "cancel_reason_text": None, "requested_at": "2026-12-01T08:10:00+00:00", "requested_via": "api",
    "created_at": "2026-12-01T08:10:00+00:00", "updated_at": "2026-12-01T08:10:00+00:00", "closed_at": None,
    "wait_minutes": 50.0,
}


def _calls_fields() -> dict[str, Any]:
    return dict(
        parameters=[
            SHOP_PARAM,
            query_param("status", {"type": "string", "enum": ["open", "planned", "snoozed", "held_out", "cancelled"]},
                        "open = planned or snoozed; default: every status"),
            _ACCEPT_LANGUAGE,
        ],
        responses={
            "200": json_content("The shop's planned calls", {
                "type": "object", "required": ["shop", "calls"], "properties": {
                    "shop": {"type": "string"}, "calls": {"type": "array", "items": _ref("PlannedCall")}}},
                {"shop": "pl-1001", "calls": [_CALL_EXAMPLE]}),
            "404": json_response("Unknown shop"),
            "422": json_response("Bad status"),
        })


def _callback_fields() -> dict[str, Any]:
    return dict(
        parameters=[SHOP_PARAM, _ACCEPT_LANGUAGE],
        # no `at` in the example: a fixed moment would soon be in the past (the schema's description shows the form)
        requestBody=json_body("CallbackRequest", {"note": "how do I connect BLIK?"}, required=False),
        responses={
            "201": json_response("A new callback", "PlannedCall", _CALL_EXAMPLE),
            "200": json_response("The shop's open callback, moved to the new moment", "PlannedCall"),
            **body_refusals(),
            "404": json_response("Unknown shop"),
            "422": json_response("A time without an offset, in the past, more than 30 days ahead or with no "
                                 "allowed calling moment; a note longer than 500 characters; nothing stored",
                                 example={"error": "validation_failed",
                                          "message": "at is in the past (2026-11-30T09:00:00+00:00); "
                                                     "pick a later moment",
                                          "errors": [{"field": "at", "code": "request.in_the_past",
                                                      "message": "at is in the past (2026-11-30T09:00:00+00:00); "
                                                                 "pick a later moment"}]}),
        })


RESPONSE_SCHEMAS: dict[str, dict[str, Any]] = {
    "SurveyLink": {
        "type": "object", "required": ["id", "shop", "url", "expires_at"],
        "properties": {
            "id": {"type": "integer", "description": "the link's id (to revoke it)"},
            "shop": {"type": "string"},
            "url": {"type": "string", "format": "uri", "description": "the page to send the merchant: /s/<token>"},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    "PlannedCall": {
        "type": "object",
        "required": ["id", "shop", "market", "kind", "status", "why", "scheduled_at", "scheduled_local", "timezone",
                     "agenda"],
        "properties": {
            "id": {"type": "integer"}, "shop": {"type": "string"},
            "market": {"type": "string", "enum": list(MARKET_CODES)},
            "kind": {"type": "string", "enum": ["audit", "followup", "callback"]},
            "kind_label": {"type": "string", "description": "the kind in the request's language"},
            "reason": {"type": "string"}, "rule": {"type": "string"}, "rules_version": {"type": "integer"},
            "occurrence": {"type": "string"},
            "purpose": {"type": "string", "enum": ["service", "commercial"]},
            "status": {"type": "string", "enum": ["planned", "snoozed", "held_out", "cancelled"]},
            "status_label": {"type": "string"},
            "why": {"type": "string", "description": "why the call is planned, in the request's language"},
            "scheduled_at": {"type": "string", "format": "date-time"},
            "scheduled_local": {"type": "string", "format": "date-time",
                                "description": "the same moment in the merchant's local time"},
            "timezone": {"type": "string", "description": "the merchant's time zone, e.g. Europe/Warsaw"},
            "due_from": {"type": "string", "format": "date-time"},
            "due_until": {"type": "string", "format": "date-time"},
            "preference_met": {"type": "boolean",
                               "description": "false when the merchant's preferred hours could not be met"},
            "holdout": {"type": "boolean"},
            "agenda": {"type": "array", "items": {"type": "string"},
                       "description": "2-4 advice items for the call, in the request's language"},
            "agenda_items": {"type": "array", "items": {"type": "object"}},
            "gain": {"type": ["number", "null"]},
            "note": {"type": ["string", "null"]},
            "snoozed_until": {"type": ["string", "null"], "format": "date-time"},
            "cancel_reason": {"type": ["string", "null"]},
            "cancel_reason_text": {"type": ["string", "null"]},
            "requested_at": {"type": ["string", "null"], "format": "date-time"},
            "requested_via": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "wait_minutes": {"type": ["number", "null"],
                             "description": "callbacks: allowed calling minutes from the request to the "
                                            "first attempt (or to the planned moment)"},
        },
    },
    "EventAccepted": {
        "type": "object", "required": ["id", "shop", "type", "status", "duplicate"],
        "properties": {
            "id": {"type": "string"}, "shop": {"type": "string"}, "type": {"type": "string"},
            "status": {"type": "string", "enum": ["stored", "duplicate", "queued"],
                       "description": "stored (201), duplicate (200), or queued (202: queued mode, applied "
                                      "by the events worker)"},
            "duplicate": {"type": "boolean"},
            "observations": {"type": "integer",
                             "description": "observations stored (queued: the observations it will store)"},
        },
    },
    "EventStatus": {
        "type": "object", "required": ["id", "shop", "type", "status", "attempts"],
        "properties": {
            "id": {"type": "string"}, "shop": {"type": "string"}, "type": {"type": "string"},
            "status": {"type": "string", "enum": ["stored", "queued", "held_back"]},
            "occurred_at": {"type": ["string", "null"], "description": "as the event gave it"},
            "received_at": {"type": ["string", "null"], "format": "date-time"},
            "attempts": {"type": "integer", "description": "failed applies so far (queued mode)"},
            "available_at": {"type": ["string", "null"], "format": "date-time",
                             "description": "held back: not tried again before this"},
        },
    },
    "ShopSummary": {
        "type": "object", "required": ["id", "market"],
        "properties": {
            "id": {"type": "string"}, "market": {"type": "string", "enum": list(MARKET_CODES)},
            "name": {"type": ["string", "null"]}, "outcome": {"type": ["string", "null"]},
            "trial_started_at": {"type": ["string", "null"], "format": "date-time"},
            "trial_ends_at": {"type": ["string", "null"], "format": "date-time"},
            "stage": {"type": "string"}, "percent": {"type": "number"},
            "score": {"type": ["number", "null"], "description": "the latest likelihood to subscribe (lists)"},
            "model_version": {"type": ["string", "null"]},
            "consultant": {"type": ["string", "null"], "description": "who made the last reached call (lists)"},
            "contacted": {"type": "boolean"}, "held_out": {"type": "boolean"},
            "next_call_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
}


def _builtin_operations() -> dict[tuple[str, str], dict[str, Any]]:
    """The endpoints described here: (method, path) -> operation(id, tag, the fields built above); the
    summaries and descriptions are operations.yaml's."""
    return {
        ("POST", "/api/v1/surveys"): operation("submitSurvey", "surveys", **_survey_fields()),
        ("GET", "/api/openapi.json"): operation("getOpenApi", "meta", **_openapi_fields()),
        ("POST", "/api/v1/events"): operation("postTrialEvent", "events", **_event_fields()),
        ("GET", "/api/v1/events/{event_id}"): operation("getTrialEvent", "events", **_event_status_fields()),
        ("GET", "/api/v1/shops"): operation("listShops", "shops", **_shops_fields()),
        ("GET", "/api/v1/shops/{shop}"): operation("getShopProfile", "shops", **_shop_fields()),
        ("POST", "/api/v1/shops/{shop}/survey-links"): operation("createSurveyLink", "surveys", **_survey_link_fields()),
        ("GET", "/api/v1/shops/{shop}/calls"): operation("listShopCalls", "calls", **_calls_fields()),
        ("POST", "/api/v1/shops/{shop}/callbacks"): operation("requestCallback", "calls", **_callback_fields()),
    }


_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def openapi_path(rule: str) -> str:
    """Flask's `/api/v1/shops/<string:shop>` -> OpenAPI's `/api/v1/shops/{shop}`."""
    return _CONVERTER.sub(r"{\1}", rule)


def api_routes(app: Flask) -> list[tuple[str, str, str]]:
    """Every (METHOD, OpenAPI path, endpoint) the app serves under /api."""
    out = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule == "/api" or rule.rule.startswith("/api/")):
            continue
        for method in sorted((rule.methods or set()) - _IGNORED_METHODS):
            out.append((method, openapi_path(rule.rule), rule.endpoint))
    return sorted(out, key=lambda r: (r[1], r[0]))


_BAD_PARAMETER = "a path or query parameter holds a NUL character or a lone surrogate (bad_parameter, naming it)"


def _operation_for(app: Flask, method: str, path: str, endpoint: str) -> dict[str, Any] | None:
    view = app.view_functions.get(endpoint)
    op = getattr(view, "openapi", None)
    if op is None:
        op = OPERATIONS.get((method, path)) or _builtin_operations().get((method, path))
    if op is None:
        return None
    op = copy.deepcopy(op)
    request_schema = getattr(view, "request_schema", None)  # e.g. post_event.request_schema = "TrialEvent"
    if request_schema and "requestBody" not in op:
        op["requestBody"] = json_body(request_schema)
    if getattr(view, "requires_token", False):
        op.setdefault("security", [{"bearerAuth": []}])
        op.setdefault("responses", {}).setdefault(
            "401", json_response("No, unknown or revoked bearer token", example={
                "error": "unauthorized", "message": "Send an API token: Authorization: Bearer <token>"}))
    else:
        op.setdefault("security", [])
    # every request passes the same gate first (concierge.web.views.refuse_unstorable_parameters):
    # a path or query parameter that cannot be stored at all is refused before the endpoint runs
    responses = op.setdefault("responses", {})
    if "400" in responses:
        responses["400"] = {**responses["400"], "description": responses["400"]["description"] + "; " + _BAD_PARAMETER}
    else:
        responses["400"] = json_response(_BAD_PARAMETER[0].upper() + _BAD_PARAMETER[1:])
    params = [p for p in re.findall(r"{([^{}]+)}", path)]
    if params:
        declared = {p.get("name") for p in op.get("parameters", []) if p.get("in") == "path"}
        for name in params:
            if name not in declared:
                op.setdefault("parameters", []).append(
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    return op


def undocumented_routes(app: Flask) -> list[tuple[str, str]]:
    """(METHOD, path) of every /api route nobody described: a test keeps this empty."""
    return [(m, p) for m, p, e in api_routes(app) if _operation_for(app, m, p, e) is None]


def request_schemas() -> dict[str, dict[str, Any]]:
    """REQUEST_SCHEMAS with the survey body registered (it is built lazily from the interview schema)."""
    from ..ingest.survey_schemas import survey_request_schema
    from ..ingest.schemas import REQUEST_SCHEMAS

    survey_request_schema()
    return REQUEST_SCHEMAS


def build_openapi(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented /api route of `app`."""
    from ..ingest.survey_schemas import survey_response_schemas

    paths: dict[str, dict[str, Any]] = {}
    for method, path, endpoint in api_routes(app):
        op = _operation_for(app, method, path, endpoint)
        if op is not None:
            paths.setdefault(path, {})[method.lower()] = op
    schemas: dict[str, Any] = {}
    schemas.update(copy.deepcopy(request_schemas()))
    schemas.update(survey_response_schemas())
    schemas.update(RESPONSE_SCHEMAS)
    schemas.update(ERROR_SCHEMAS)
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Concierge API",
            "version": "1",
            "description": ("Merchant onboarding concierge: trial-shop events and merchant surveys feed "
                            "one profile per shop. Errors are JSON {error, message, errors[]} naming each "
                            f"field, in the request's language ({', '.join(LANGUAGES)}). Whatever is rejected is kept "
                            "verbatim for replay. See docs/api.md."),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/", "description": "this server"}],
        "tags": [{"name": "surveys"}, {"name": "events"}, {"name": "shops"}, {"name": "calls"}, {"name": "meta"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "An API token from `concierge token create NAME` (shown once, stored hashed)"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    """Describe the API from the code that validates it, so clients and docs cannot drift."""
    return jsonify(build_openapi(current_app))
