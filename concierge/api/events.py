"""POST /api/v1/events: the trial shop's webhook (bearer token, idempotent by event id).

Inline (the default): the event is applied before the answer (201). Queued mode
(CONCIERGE_EVENTS_QUEUED, on under `concierge serve --production`): it is checked the same
way, kept in the inbox and answered 202 `queued`; `concierge events worker` applies it.
"""
from __future__ import annotations

from flask import current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from ..app import get_session
from ..ingest.bodies import body_error, content_type_error
from ..operations.deadletters import store_dead_letter
from ..operations.events import ingest_event
from ..i18n import translations
from ..messages import N_, translate
from ..operations.inbox import event_status, queue_event
from . import api_blueprint, error_response, request_language
from .auth import require_token
from ..ingest.schemas import EVENT_BODY

bp = api_blueprint("events", __name__)

_ERROR_CODES = {400: "malformed_request", 409: "conflict", 422: "validation_failed"}
_ERROR_TEXT = {  # msgids: said in the caller's language (`_error_text`)
    415: N_("The event must be sent as application/json; it was kept for replay"),
    400: N_("The event is not valid JSON; it was kept for replay"),
    409: N_("An event with this id was already received with a different body; this one was kept for replay"),
    422: N_("The event was not accepted; it was kept for replay"),
}


def _error_text(status: int, lang: str) -> str:
    """The answer's message for a refused event, in `lang`."""
    return translate(_ERROR_TEXT.get(status, _ERROR_TEXT[422]), lang)


@bp.post("/events")
@require_token
def post_event():
    """Accept one trial-shop event; the same event twice is stored once, a bad one is dead-lettered."""
    lang = request_language(from_query=True)
    context = {"lang": lang, "token": g.api_token.prefix, "content_type": request.content_type}
    raw_bytes = request.get_data(cache=False)
    session = get_session()
    media = content_type_error(request.content_type, lang)
    if media is not None:  # not JSON by its own account: kept, but not parsed as JSON
        dl = store_dead_letter(session, "events", raw_bytes, errors=[media], context={"channel": "api", **context})
        return error_response(415, "unsupported_media_type", _error_text(415, lang), [media], dead_letter=dl.id)
    try:
        raw = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        err = body_error("", "malformed_json", lang, detail=f"not UTF-8 ({exc.reason})")
        dl = store_dead_letter(session, "events", raw_bytes, errors=[err], context={"channel": "api", **context})
        return error_response(400, "malformed_request", _error_text(400, lang), [err], dead_letter=dl.id)
    accept = _queue_or_ingest if current_app.config.get("EVENTS_QUEUED") else ingest_event
    try:
        outcome = accept(session, raw, channel="api", lang=lang, context=context)
    except IntegrityError:
        # the same event (or the same shop's start) arrived twice at once and the other
        # request won the insert: start over, and this copy is now a duplicate or a conflict
        session.rollback()
        outcome = accept(session, raw, channel="api", lang=lang, context=context)
    if outcome.status == "rejected":
        return error_response(outcome.http_status, _ERROR_CODES.get(outcome.http_status, "validation_failed"),
                              _error_text(outcome.http_status, lang), outcome.errors,
                              dead_letter=outcome.dead_letter.id if outcome.dead_letter is not None else None)
    # 201 stored, 200 duplicate; 202 queued (queued mode: checked and kept, applied by the worker)
    body = {"id": outcome.id, "shop": outcome.shop, "type": outcome.type, "status": outcome.status,
            "duplicate": outcome.status == "duplicate", "observations": outcome.observations}
    return jsonify(body), outcome.http_status


@bp.get("/events/<event_id>")
@require_token
def get_event(event_id: str):
    """Where an accepted event is: stored (applied), queued or held back (queued mode); 404 when no
    event with this id was accepted. A sender that got 202 can follow its event here."""
    status = event_status(get_session(), event_id)
    if status is None:
        text = translations(request_language(from_query=True)).gettext("No event with the id %(event)s was accepted") % {
            "event": event_id[:100]}
        return error_response(404, "not_found", text)
    return jsonify(status)


def _queue_or_ingest(session, raw: str, **kwargs):  # noqa: ANN001, ANN202
    """Queued mode: check and queue the event; what the queue does not answer, the inline path does."""
    outcome = queue_event(session, raw, **kwargs)
    if outcome is None:
        return ingest_event(session, raw, **kwargs)
    if outcome.status == "queued":
        # committed here rather than by the request wrapper: SQLite's write lock is then held for
        # the INSERT alone, not while the answer is built (8 senders at once queue on that lock);
        # a concurrent copy of the same id has failed at the INSERT, inside the retry above
        session.commit()
    return outcome


post_event.request_schema = EVENT_BODY  # type: ignore[attr-defined]  (read by the OpenAPI builder)
