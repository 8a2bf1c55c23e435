"""`GET` and `PUT /api/v1/shops/<shop>/contact-preferences`: when and how the merchant wants a call.

For a CRM or a chat tool that hears the merchant's wishes: the days of the week, the time of
day (a `needs.preferred_call_time` choice) and the channel (one of the market's call channels,
e.g. WhatsApp in Turkey and India). The same operation as the survey's "what happens next"
form and `concierge callback preferences`: every field is checked first (nothing stored on an
error), then the scheduler follows the wishes and open planned calls move into them.
"""
from __future__ import annotations

from typing import Any

from flask import g, jsonify

import profile_schema
from locales import MARKET_CODES
from locales.calling import call_channels

from ..app import get_session
from ..operations.contact_preferences import HOURS_QUESTION, WEEKDAYS, get_preferences, set_preferences
from ..operations.shops import get_shop
from . import api_blueprint, optional_json_body, request_language
from .auth import require_token
from .openapi import SHOP_PARAM, json_content, json_response
from ..ingest.schemas import request_body

bp = api_blueprint("preferences", __name__)

REQUEST_BODY = "ContactPreferences"


def _channels() -> list[str]:
    """Every channel some market offers (each market accepts its own; a wrong one is named)."""
    return sorted({c for m in MARKET_CODES for c in call_channels(m)})


PREFERENCES_REQUEST = request_body(REQUEST_BODY, {
    "days": {"type": ["array", "null"], "items": {"type": "integer", "enum": list(WEEKDAYS)}, "maxItems": 7,
             "description": "ISO weekdays, Monday 1 to Sunday 7; none, null or all seven: any day"},
    "hours": {"type": "string", "enum": list(profile_schema.load_schema().questions[HOURS_QUESTION].choices),
              "description": "the time of day that suits the merchant"},
    "channel": {"type": "string", "enum": _channels(),
                "description": "how to call: one of the shop's market's channels (GET shows them)"},
}, required=("hours", "channel"))

_ANSWER: dict[str, Any] = {
    "type": "object", "required": ["shop", "days", "hours", "channel", "channels"],
    "properties": {
        "shop": {"type": "string"},
        "days": {"type": ["array", "null"], "items": {"type": "integer"}, "description": "null: any day"},
        "hours": {"type": ["string", "null"]}, "channel": {"type": ["string", "null"]},
        "channels": {"type": "array", "items": {"type": "string"}, "description": "what the market offers"},
        "moved": {"type": "array", "description": "PUT: the planned calls moved into the new wishes",
                  "items": {"type": "object", "properties": {"call": {"type": "integer"},
                                                             "from": {"type": "string", "format": "date-time"},
                                                             "to": {"type": "string", "format": "date-time"}}}},
    },
}


@bp.get("/shops/<shop>/contact-preferences")
@require_token
def get_contact_preferences(shop: str):
    """The merchant's current wishes; nulls where nothing was said."""
    session = get_session()
    row = get_shop(session, shop, lang=request_language())
    return jsonify({"shop": row.platform_id, **get_preferences(session, row).as_dict()})


@bp.put("/shops/<shop>/contact-preferences")
@require_token
def put_contact_preferences(shop: str):
    """Replace the merchant's wishes; every bad field named (422), nothing stored then."""
    lang = request_language()
    body = optional_json_body(PREFERENCES_REQUEST, lang)
    session = get_session()
    row = get_shop(session, shop, lang=lang)
    saved = set_preferences(session, row, body, actor=f"api:{g.api_token.name}", via="api", lang=lang)
    return jsonify(saved.as_dict(row))


_EXAMPLE = {"shop": "pl-1001", "days": [1, 3], "hours": "evening", "channel": "phone", "channels": ["phone"]}

get_contact_preferences.openapi = {  # type: ignore[attr-defined]
    "operationId": "getContactPreferences", "tags": ["calls"],
    "summary": "When and how the merchant wants to be called",
    "description": "Days, time of day and channel as the merchant last gave them (null: not said), and the "
                   "channels their market offers.",
    "parameters": [SHOP_PARAM],
    "responses": {"200": json_content("The wishes", _ANSWER, _EXAMPLE), "404": json_response("Unknown shop")},
}
put_contact_preferences.openapi = {  # type: ignore[attr-defined]
    "operationId": "setContactPreferences", "tags": ["calls"],
    "summary": "Record when and how the merchant wants to be called",
    "description": "Replaces the wishes (hours and channel are the profile's answers, source survey). The "
                   "scheduler follows them: open planned calls move into the new days and hours within "
                   "their due window (`moved`); a callback the merchant timed stays. The same as the "
                   "survey's form and `concierge callback preferences SHOP`.",
    "parameters": [SHOP_PARAM],
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{REQUEST_BODY}"},
        "example": {"days": [1, 3], "hours": "evening", "channel": "phone"}}}},
    "responses": {
        "200": json_content("Stored; the wishes as they are now", _ANSWER, {**_EXAMPLE, "moved": []}),
        "400": json_response("The body is not JSON"),
        "415": json_response("The Content-Type is not application/json"),
        "404": json_response("Unknown shop"),
        "422": json_response("A day, time of day or channel that is not one of the allowed ones (a channel the "
                     "shop's market does not offer included); nothing stored"),
    },
}
