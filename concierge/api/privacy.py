"""GET /api/v1/shops/<shop>/privacy-export and POST /api/v1/shops/<shop>/privacy-erase: a merchant's
personal data for a data-protection request, with an admin token only (docs/privacy.md)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, jsonify

from ..app import get_session
from ..messages import N_, translate
from ..operations.privacy import REASON_MAX, SECTIONS, erase_shop, export_shop
from . import api_blueprint, error_response, optional_json_body, request_language
from .auth import require_token
from .openapi import SHOP_PARAM, json_content, json_response

bp = api_blueprint("privacy", __name__)

ERASE_REQUEST = {
    "type": "object",
    "required": ["reason"],
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": REASON_MAX,
                              "description": "why (e.g. the request's reference); kept in the audit record"}},
}
#: The 403 of an endpoint that needs an admin token.
ADMIN_ONLY = N_("This needs an admin token (concierge token create NAME --role admin)")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _no_store_json(data: Any):
    """The JSON answer, kept by no cache (it holds personal data)."""
    resp = jsonify(data)
    resp.headers.update(NO_STORE)
    return resp


def require_admin_token(view: Callable[..., Any]) -> Callable[..., Any]:
    """`require_token`, and the token's role must be admin (`concierge token create NAME --role admin`): 403 otherwise."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        if getattr(g.api_token, "role", None) != "admin":
            return error_response(403, "forbidden", translate(ADMIN_ONLY, request_language()))
        return view(*args, **kwargs)

    return require_token(wrapper)


_FORBIDDEN = json_response("The token is not an admin token", example={
    "error": "forbidden", "message": ADMIN_ONLY})


@bp.get("/shops/<shop>/privacy-export")
@require_admin_token
def privacy_export(shop: str):
    """Everything we hold about the merchant, as `concierge privacy export SHOP --json` prints it."""
    return _no_store_json(export_shop(get_session(), shop, lang=request_language()))


privacy_export.openapi = {  # type: ignore[attr-defined]
    "operationId": "exportShopPersonalData",
    "tags": ["privacy"],
    "summary": "Everything held about a merchant (a data-protection access or portability request)",
    "description": ("The shop, its answers, submissions, survey links and drafts, calls and notes, ratings, "
                    "scores and reasons, planned calls and their history, trial events, the dead letters "
                    "that mention it, and the derived rows; `personal_data` lists the personal answers with "
                    "their questions' labels in the request's language. Admin tokens only. "
                    "The same as `concierge privacy export SHOP --json`; see docs/privacy.md."),
    "parameters": [SHOP_PARAM],
    "responses": {
        "200": json_content("The export", {"type": "object", "required": ["format", "shop_id", *SECTIONS],
                                           "properties": {"format": {"type": "string"}, "shop_id": {"type": "string"},
                                                          "exported_at": {"type": "string", "format": "date-time"}}}),
        "403": _FORBIDDEN,
        "404": json_response("Unknown shop"),
    },
}


@bp.post("/shops/<shop>/privacy-erase")
@require_admin_token
def privacy_erase(shop: str):
    """Erase the merchant's personal data (one transaction); erasing again is harmless."""
    lang = request_language()
    body = optional_json_body(ERASE_REQUEST, lang)
    return _no_store_json(erase_shop(get_session(), shop, reason=body.get("reason"), actor=f"api:{g.api_token.name}",
                                     channel="api", lang=lang))


privacy_erase.openapi = {  # type: ignore[attr-defined]
    "operationId": "eraseShopPersonalData",
    "tags": ["privacy"],
    "summary": "Erase a merchant's personal data (a data-protection erasure request)",
    "description": ("Removes names, contact details, tax ids, the merchant's own words, notes, survey links "
                    "and drafts, score reasons, the dead letters that mention the shop and the shop's name; "
                    "keeps what the conversion figures need (market, trial dates, outcome, scores). "
                    "An audit record without personal data is kept. Erasing again finds nothing more "
                    "(`already_erased`: true). Admin tokens only. The same as "
                    "`concierge privacy erase SHOP --reason R --json`; see docs/privacy.md."),
    "parameters": [SHOP_PARAM],
    "requestBody": {"required": True, "content": {"application/json": {
        "schema": ERASE_REQUEST, "example": {"reason": "DSR-2026-0042"}}}},
    "responses": {
        "200": json_content("Erased (or nothing more to erase)", {
            "type": "object", "required": ["shop", "erasure_id", "erased_at", "counts", "erased", "already_erased"],
            "properties": {
                "shop": {"type": "string"}, "erasure_id": {"type": "integer"},
                "erased_at": {"type": "string", "format": "date-time"},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"},
                           "description": "rows erased or anonymised, per kind"},
                "erased": {"type": "integer", "description": "the counts' total"},
                "already_erased": {"type": "boolean"}}},
            {"shop": "pl-1001", "erasure_id": 1, "erased_at": "2026-11-30T16:00:00+00:00",
             "counts": {"observations": 4, "call_notes": 1}, "erased": 5, "already_erased": False}),
        "400": json_response("The body is not JSON"),
        "403": _FORBIDDEN,
        "404": json_response("Unknown shop"),
        "422": json_response("No reason, or a reason longer than 500 characters; nothing erased"),
    },
}
