"""The JSON API under /api/v1: bearer-token auth, JSON errors, CSRF-exempt blueprints.

Each API module makes its blueprint with `api_blueprint("name", __name__)` and exposes
it as `bp` (auto-mounted by concierge.web.register). Every blueprint made that way is
listed in `API_BLUEPRINTS`, and its name starts with "api", so the web app's CSRF
protection can exempt them: `exempt_api_blueprints(app, csrf)` after the blueprints are
registered (they use bearer tokens, not cookies).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import ConciergeError, ValidationFailed
from ..messages import N_, translate

API_PREFIX = "/api/v1"
API_BLUEPRINTS: list[Blueprint] = []


def error_response(status: int, code: str, message: str, errors: list[Any] | None = None, **extra: Any):
    """A JSON error body every API client can read: {error, message, errors?}."""
    body: dict[str, Any] = {"error": code, "message": message, **extra}
    if errors is not None:
        body["errors"] = errors
    resp = jsonify(body)
    resp.status_code = status
    return resp


def request_language(*, from_query: bool = False) -> str:
    """The language of an API answer's messages: with `from_query`, `?lang=` first (the events
    webhook documents it); else the best match of Accept-Language; else English."""
    from ..i18n import LANGUAGES
    from ..ingest.bodies import base_lang

    if from_query and request.args.get("lang"):
        return base_lang(request.args["lang"])
    return base_lang(request.accept_languages.best_match(LANGUAGES) or "en")


class MalformedJson(ValidationFailed):
    """The body is not JSON at all (400); a JSON body that breaks its schema is ValidationFailed (422)."""

    status = 400
    code = "malformed_json"


def optional_json_body(schema: dict[str, Any], lang: str) -> dict[str, Any]:
    """An optional JSON body checked against its schema: {} when empty, else the parsed body."""
    from ..errors import body_rejection
    from ..ingest.bodies import BodyRejected, load_json_body, validate_body

    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:  # the boundary every JSON channel shares: Content-Type (415), JSON (400), NUL/surrogates (422)
        body = load_json_body(raw, lang, content_type=request.content_type)
    except BodyRejected as rej:
        if rej.status == 400:
            raise MalformedJson(rej.errors, rej.errors[0]["message"]) from None
        raise body_rejection(rej.status, rej.errors) from None
    errors = validate_body(schema, body, lang)
    if errors:
        raise ValidationFailed(errors, errors[0]["message"])
    return body


def _concierge_error(exc: ConciergeError):
    resp = jsonify(exc.as_dict(request_language()))
    resp.status_code = exc.status
    if exc.status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="concierge"'
    return resp


#: What the API says, in the request's language, for the HTTP errors a client meets; any other
#: keeps Werkzeug's own (English) description.
_HTTP_TEXT = {403: N_("Your role does not allow this request."), 404: N_("There is no such resource."),
              405: N_("This method is not allowed here."), 413: N_("The request is too large.")}


def http_error(exc: HTTPException):
    """The JSON answer to an HTTP error under /api (also for paths no API blueprint serves)."""
    code = exc.code or 500
    message = (translate(_HTTP_TEXT[code], request_language()) if code in _HTTP_TEXT
               else exc.description or exc.name)
    resp = error_response(code, (exc.name or "error").lower().replace(" ", "_"), message)
    if getattr(exc, "valid_methods", None):  # a 405 says which methods the path takes
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


def api_blueprint(name: str, import_name: str, url_prefix: str = API_PREFIX) -> Blueprint:
    """A blueprint for an API module: JSON errors, CSRF-exempt, listed in API_BLUEPRINTS."""
    full = name if name.startswith("api") else f"api_{name}"
    bp = Blueprint(full, import_name, url_prefix=url_prefix)
    bp.register_error_handler(ConciergeError, _concierge_error)
    bp.register_error_handler(HTTPException, http_error)
    API_BLUEPRINTS.append(bp)
    return bp


def is_api_blueprint(name: str | None) -> bool:
    """True for the blueprints of the bearer-token API (named api or api_*)."""
    return bool(name) and (name == "api" or name.startswith("api_"))  # type: ignore[union-attr]


def exempt_api_blueprints(app: Flask, csrf: Any) -> None:
    """Exempt every registered API blueprint from CSRF: they authenticate with bearer tokens."""
    for name, bp in app.blueprints.items():
        if is_api_blueprint(name):
            csrf.exempt(bp)
