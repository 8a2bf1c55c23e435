"""`POST /api/v1/surveys`: survey tools post a merchant's answers on the merchant's behalf."""
from __future__ import annotations

from flask import g, jsonify, request

from ..app import get_session
from ..errors import ConciergeError
from ..operations.surveys import receive_survey
from . import api_blueprint
from .auth import require_token

bp = api_blueprint("surveys", __name__)


@bp.post("/surveys")
@require_token
def post_survey():
    """Store one survey response whole, or dead-letter it verbatim and say why (in its language)."""
    raw = request.get_data(cache=False)  # bytes as sent: kept verbatim if rejected
    try:
        result = receive_survey(
            get_session(), raw, actor=f"api:{g.api_token.name}",
            accept_language=request.headers.get("Accept-Language"),
            content_type=request.headers.get("Content-Type"),
        )
    except ConciergeError as exc:  # already dead-lettered: say why, and where it was kept
        resp = jsonify({**exc.as_dict(), "dead_letter": getattr(exc, "dead_letter_id", None)})
        resp.status_code = exc.status
        return resp
    resp = jsonify(result.as_dict())
    resp.status_code = 200 if result.duplicate else 201
    return resp
