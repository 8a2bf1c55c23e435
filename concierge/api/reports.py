"""`GET /api/v1/reports/<key>`: a dashboard report as JSON (`Report.as_dict()`), read-only.

The same `build_report` as the dashboard page, the CSV and `concierge report --json`, so a
figure cannot differ between them. Bearer token like every API route (tokens are made by an
administrator with `concierge token create`); reads only.
"""
from __future__ import annotations

from flask import current_app, jsonify, request

from locales import MARKET_CODES

from ..app import get_session
from ..config import report_settings
from ..errors import NotFound, ValidationFailed
from ..i18n import LANGUAGES
from ..ingest.bodies import body_error
from ..operations.reports import MODULES, REPORTS, build_report
from ..web.dashboard import GRAINS, clock, query_arguments, report_module
from . import api_blueprint, request_language
from .auth import require_token

bp = api_blueprint("reports", __name__)


class UnknownReport(NotFound):
    code = "unknown_report"


@bp.get("/reports/<key>")
@require_token
def get_report(key: str):
    """Give one report's tables (typed columns, raw rows, drill-down filters) and warnings, for scripts."""
    module = report_module(key) if key in MODULES else None
    if module is None:
        raise UnknownReport(f"no report {key!r}; reports: {', '.join(REPORTS)}")
    args = request.args
    lang = args.get("lang") or "en"
    # no language of ours asked for: the errors speak Accept-Language's
    errors_lang = lang if lang in LANGUAGES else request_language()
    market, params, errors = query_arguments(module, args, errors_lang)
    if lang not in LANGUAGES:
        errors.insert(0, body_error("lang", "invalid_choice", errors_lang, choices=", ".join(LANGUAGES)))
    if errors:
        raise ValidationFailed(errors)
    report = build_report(get_session(), key, lang=lang, market=market, now=clock(),
                          settings=report_settings(current_app.config), **params)
    return jsonify(report.as_dict())


_COLUMN = {"type": "object", "required": ["key", "label", "kind"], "properties": {
    "key": {"type": "string"}, "label": {"type": "string", "description": "in the asked language"},
    "kind": {"type": "string", "enum": ["text", "int", "float", "rate", "date", "datetime", "bool"]}}}
_TABLE = {"type": "object", "required": ["key", "title", "definition", "notes", "columns", "rows"], "properties": {
    "key": {"type": "string"}, "title": {"type": "string"},
    "definition": {"type": "string", "description": "what the figures mean and how they are counted"},
    "notes": {"type": "array", "items": {"type": "string"}},
    "columns": {"type": "array", "items": _COLUMN},
    "rows": {"type": "array", "items": {
        "type": "object", "description": (
            "one value per column key (numbers as numbers, a rate as a fraction 0..1, null when missing); "
            "`drill`: the shop-list query parameters of the shops behind the row; `muted`: too small a "
            "sample to read; `pending`: trials still inside their decision window"),
        "additionalProperties": True}}}}

get_report.openapi = {  # type: ignore[attr-defined]
    "operationId": "getReport", "tags": ["reports"],
    "summary": "A dashboard report (cohorts, funnel, breakdowns, lift, forecast, model-health, queue, voice)",
    "description": ("The manager dashboard's report as JSON: its tables with typed columns and raw rows, each "
                    "row's drill-down filters for the shop list, and its warnings. Reads only. Other query "
                    "parameters a report takes (e.g. `months`, `days`) are accepted by name."),
    "parameters": [
        {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "enum": list(REPORTS)}},
        {"name": "market", "in": "query", "required": False,
         "schema": {"type": "string", "enum": [*MARKET_CODES, *(m.lower() for m in MARKET_CODES)]}},
        {"name": "lang", "in": "query", "required": False, "description": "Language of titles, labels and warnings",
         "schema": {"type": "string", "enum": list(LANGUAGES), "default": "en"}},
        {"name": "grain", "in": "query", "required": False, "description": "Cohorts by week or month (cohorts)",
         "schema": {"type": "string", "enum": list(GRAINS)}},
    ],
    "responses": {
        "200": {"description": "The report", "content": {"application/json": {"schema": {
            "type": "object", "required": ["report", "title", "params", "generated_at", "warnings", "tables"],
            "properties": {
                "report": {"type": "string"}, "title": {"type": "string"}, "params": {"type": "object"},
                "generated_at": {"type": ["string", "null"], "format": "date-time"},
                "warnings": {"type": "array", "items": {"type": "string"}},
                "tables": {"type": "array", "items": _TABLE}}}}}},
        "401": {"description": "No or a revoked API token",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "404": {"description": "No such report",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "422": {"description": "A bad market, lang, grain or report parameter (each named)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    },
}
