"""GET /api/v1/shops/<shop>/score: the shop's likelihood to subscribe, gain from a call, reasons."""
from __future__ import annotations

from flask import jsonify, request

from ..app import get_session
from ..errors import ValidationFailed
from ..operations.shops import get_shop
from . import api_blueprint
from .auth import require_token

bp = api_blueprint("scores", __name__)
LANGS = ("en", "pl", "tr")


@bp.get("/shops/<shop>/score")
@require_token
def get_score(shop: str):
    """Give the shop's score from the active model (stored, naming the version), so integrations can rank trials."""
    from ..scoring import store
    from ..scoring.service import latest_score, score_as_dict, score_shop

    lang = request.args.get("lang", "en")
    if lang not in LANGS:
        raise ValidationFailed([{"field": "lang", "code": "invalid_choice",
                                 "message": "lang: must be one of en, pl, tr"}])
    session = get_session()
    row = get_shop(session, shop, lang=lang)
    active = store.active_version(session)
    hit = None if request.args.get("refresh") in ("1", "true") else latest_score(session, row)
    if hit is not None and hit[1].id == active.id and (hit[0].details or {}).get("lang") == lang:
        return jsonify(score_as_dict(hit[0], hit[1], row))
    return jsonify(score_shop(session, row, lang=lang))


get_score.openapi = {
    "summary": "A shop's likelihood to subscribe, the gain from a call, reasons and the path to subscribe",
    "parameters": [
        {"name": "shop", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGS)},
         "description": "Language of the reasons"},
        {"name": "refresh", "in": "query", "schema": {"type": "string", "enum": ["1", "true"]},
         "description": "Score again now instead of giving the latest stored score"},
    ],
    "responses": {
        "200": {"description": "The score (see docs/model.md for the fields)",
                "content": {"application/json": {"schema": {"type": "object", "required": [
                    "shop", "probability", "uplift", "model_version", "reasons", "path", "fallback"]}}}},
        "401": {"description": "No or bad API token"},
        "404": {"description": "No such shop, or no active model"},
        "422": {"description": "Bad lang"},
    },
}
