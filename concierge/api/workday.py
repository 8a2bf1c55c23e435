"""The workday over the API: claim the next call, complete it, or give it back.

For a dialler or a CRM that drives consultants' calls: `POST /api/v1/calls/next` claims
the consultant's next call (the same rules as `concierge calls next`), `POST
/api/v1/calls/<id>/complete` records its outcome with the claim's fencing token (409 when
the claim was lost), `POST /api/v1/calls/<id>/release` gives it back. The consultant is
named by their login e-mail in the body; the bearer token says which integration acts.
"""
from __future__ import annotations

from flask import current_app, jsonify, request

from audits.queue import OUTCOMES

from ..app import get_session
from ..operations.audits import MAX_NOTE, call_as_dict
from ..operations.workday import attempt_as_dict, claim_next, complete_call, find_user, rating_url, release_call
from . import api_blueprint, optional_json_body, request_language
from .auth import require_token
from .openapi import _ACCEPT_LANGUAGE, _ref, body_refusals, json_body, json_content, json_response, operation
from ..ingest.schemas import request_body

bp = api_blueprint("workday", __name__)

_CONSULTANT = {"type": "string", "format": "email", "maxLength": 254,
               "description": "The consultant's login e-mail (an active user)"}
_TOKEN = {"type": "integer", "minimum": 1, "description": "The fencing token the claim returned"}
CLAIM_REQUEST = request_body("ClaimRequest", {"consultant": _CONSULTANT}, required=("consultant",))
COMPLETE_REQUEST = request_body("CompleteRequest", {
    "consultant": _CONSULTANT, "token": _TOKEN,
    "outcome": {"type": "string", "enum": list(OUTCOMES)},
    "at": {"type": "string", "format": "date-time",
           "description": "For outcome 'later': when the merchant wants the call, with its offset"},
    "note": {"type": "string", "maxLength": MAX_NOTE, "description": "What was said, for the next consultant"},
    "answers": {"type": "object", "description": "Interview answers learned on the call (question key -> "
                                                 "value); stored whole or not at all, source 'call'"},
}, required=("consultant", "token", "outcome"))
RELEASE_REQUEST = request_body("ReleaseRequest", {"consultant": _CONSULTANT, "token": _TOKEN},
                               required=("consultant", "token"))


def _required_body(schema: dict) -> dict:
    from ..errors import ValidationFailed
    from ..ingest.bodies import body_error, validate_body

    lang = request_language()
    body = optional_json_body(schema, lang)
    if not body:  # an empty body still has to name the consultant
        errors = validate_body(schema, {}, lang) or [body_error("", "malformed_json", lang, detail="empty body")]
        raise ValidationFailed(errors, errors[0]["message"])
    return body


def _consultant_request(schema: dict):
    """What every claim endpoint starts with: the request's language, its checked body, the session and the
    consultant the body names (404 when no active user has that e-mail)."""
    lang = request_language()
    body = _required_body(schema)
    session = get_session()
    return lang, body, session, find_user(session, body["consultant"], lang=lang)


def _shop_of(session, call):
    from ..models import Shop

    return session.get(Shop, call.shop_id)


@bp.post("/calls/next")
@require_token
def post_next():
    """Claim the consultant's next call: 200 with the call and its token, or 200 `{"call": null}`."""
    lang, body, session, user = _consultant_request(CLAIM_REQUEST)
    call = claim_next(session, user, lease_minutes=current_app.config["CLAIM_LEASE_MINUTES"],
                      max_open=current_app.config["MAX_OPEN_CLAIMS"], lang=lang)
    if call is None:
        return jsonify(call=None)
    return jsonify(call=call_as_dict(call, _shop_of(session, call), lang=lang))


@bp.post("/calls/<int:call_id>/complete")
@require_token
def post_complete(call_id: int):
    """Record how the call went; 409 when the claim expired or is someone else's."""
    lang, body, session, user = _consultant_request(COMPLETE_REQUEST)
    call, attempt = complete_call(session, user, call_id, outcome=body["outcome"], token=body["token"],
                                  at=body.get("at"), note=body.get("note"), answers=body.get("answers"),
                                  channel="api", lang=lang)
    from ..operations.survey_links import public_base_url

    shop = _shop_of(session, call)
    link = rating_url(attempt, shop, secret=current_app.config["SECRET_KEY"],
                      base_url=public_base_url(current_app.config.get("PUBLIC_BASE_URL"), request.url_root))
    return jsonify(call=call_as_dict(call, shop, lang=lang), attempt=attempt_as_dict(attempt, rating_url=link))


@bp.post("/calls/<int:call_id>/release")
@require_token
def post_release(call_id: int):
    """Give a claimed call back to the queue untouched; 409 when the claim was already lost."""
    lang, body, session, user = _consultant_request(RELEASE_REQUEST)
    call = release_call(session, user, call_id, token=body["token"], lang=lang)
    return jsonify(call=call_as_dict(call, _shop_of(session, call), lang=lang))


_CALL_ID = {"name": "call_id", "in": "path", "required": True, "schema": {"type": "integer"}, "example": 1}


def _claim_operation(operation_id: str, *, on_a_call: bool = True,
                     request: dict, example: dict, done: dict, not_found: str, conflict: str, invalid: str) -> dict:
    """A claim endpoint's OpenAPI operation (its summary and description in operations.yaml): the call id in
    the path (when `on_a_call`) and Accept-Language, the checked body `request` with an example, then `done`
    (200) or the Error answer with these reasons."""
    return operation(
        operation_id, "calls",
        parameters=[_CALL_ID, _ACCEPT_LANGUAGE] if on_a_call else [_ACCEPT_LANGUAGE],
        requestBody=json_body(request["title"], example),
        responses={"200": done, "404": json_response(not_found), "409": json_response(conflict),
                   "422": json_response(invalid), **body_refusals()})


_CALL_RESPONSE = {"type": "object", "properties": {"call": {"oneOf": [_ref("PlannedCall"), {"type": "null"}]}}}

# The examples follow one another on call 1 (the callback example's call): claimed (token 1),
# released, claimed again (token 2), completed.
post_next.openapi = _claim_operation(
    "claimNextCall", on_a_call=False, request=CLAIM_REQUEST, example={"consultant": "ania@example.com"},
    done=json_content("The claimed call (with token and lease_until), or null when nothing is due", _CALL_RESPONSE),
    not_found="No active user with that e-mail",
    conflict="The consultant already holds the most open calls allowed", invalid="A body field is missing or wrong")
post_complete.openapi = _claim_operation(
    "completeCall",
    request=COMPLETE_REQUEST, example={"consultant": "ania@example.com", "token": 2, "outcome": "reached",
                                       "note": "walked through BLIK",
                                       "answers": {"readiness.payments_connected": True}},
    done=json_content("The call after the outcome, and the attempt recorded", {"type": "object", "properties": {
        "call": _ref("PlannedCall"), "attempt": {"type": "object"}}}),
    not_found="No such call or consultant", conflict="The claim expired or is held by someone else: nothing was saved",
    invalid="A field is missing or wrong (outcome, at, note, answers)")
post_release.openapi = _claim_operation(
    "releaseCall", request=RELEASE_REQUEST, example={"consultant": "ania@example.com", "token": 1},
    done=json_content("The call, planned again", _CALL_RESPONSE),
    not_found="No such call or consultant", conflict="The claim was already lost",
    invalid="A body field is missing or wrong")
