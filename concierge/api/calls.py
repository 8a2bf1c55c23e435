"""`GET /api/v1/shops/<shop>/calls` and `POST /api/v1/shops/<shop>/callbacks`: planned calls.

For a CRM or a chat tool: read the shop's planned calls (callbacks first, then by the
moment they are planned for), and record that the merchant asked to be called, now or at
a moment they picked (`at`, ISO 8601 with its offset). The call goes to the first allowed
calling moment at or after the wish, in the merchant's market; a second request while one
is open moves that one. Bodies are the `CallbackRequest` JSON Schema; every error names
its field, in the Accept-Language language.
"""
from __future__ import annotations


from flask import g, jsonify, request

from ..app import get_session
from ..errors import ValidationFailed
from ..ingest.bodies import body_error
from ..operations.audits import MAX_NOTE, call_as_dict, list_calls
from ..operations.planned_calls import ask_for_callback
from ..operations.shops import get_shop
from . import api_blueprint, optional_json_body, request_language
from .auth import require_token
from ..ingest.schemas import request_body

bp = api_blueprint("calls", __name__)

CALL_STATUSES = ("open", "planned", "snoozed", "held_out", "cancelled")
LIST_LIMIT = 1000
REQUEST_BODY = "CallbackRequest"
CALLBACK_REQUEST = request_body(REQUEST_BODY, {
    "at": {"type": "string", "format": "date-time",
           "description": "The moment the merchant picked, ISO 8601 with its UTC offset "
                          "(e.g. 2026-12-01T10:00:00+01:00); absent: call as soon as calling "
                          "is allowed. Not in the past, at most 30 days ahead."},
    "note": {"type": "string", "maxLength": MAX_NOTE,
             "description": "What the merchant wants to talk about (shown to the consultant)"},
})


@bp.get("/shops/<shop>/calls")
@require_token
def get_calls(shop: str):
    """The shop's planned calls, callbacks first; `?status=` narrows them; 404 for an unknown shop."""
    lang = request_language()
    status = request.args.get("status")
    if status is not None and status not in CALL_STATUSES:
        err = body_error("status", "invalid_choice", lang, choices=", ".join(CALL_STATUSES))
        raise ValidationFailed([err], err["message"])
    session = get_session()
    row = get_shop(session, shop, lang=lang)
    calls = list_calls(session, shop=row, status=status, limit=LIST_LIMIT, lang=lang)
    return jsonify(shop=row.platform_id, calls=[call_as_dict(c, s, lang=lang) for c, s in calls])


@bp.post("/shops/<shop>/callbacks")
@require_token
def post_callback(shop: str):
    """The merchant asked for a call: 201 with the new callback, 200 when the open one was moved."""
    lang = request_language()
    body = optional_json_body(CALLBACK_REQUEST, lang)
    call, row, created = ask_for_callback(get_session(), shop, at=body.get("at"), note=body.get("note"),
                                          via="api", actor=f"api:{g.api_token.name}", lang=lang)
    return jsonify(call_as_dict(call, row, lang=lang)), 201 if created else 200
