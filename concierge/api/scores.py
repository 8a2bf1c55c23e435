"""A shop's score: `GET /api/v1/shops/<shop>/score` reads the stored one (never writes);
`POST /api/v1/shops/<shop>/score` scores the shop again now with the active model and stores it."""
from __future__ import annotations

from flask import jsonify, request

from locales import LANGUAGES

from ..app import get_session
from ..errors import NotFound, ValidationFailed
from ..ingest.bodies import body_error
from ..messages import N_, translate
from ..operations.shops import get_shop
from . import api_blueprint, request_language
from .auth import require_token

bp = api_blueprint("scores", __name__)
LANGS = LANGUAGES


class NoScore(NotFound):
    code = "no_score"


def _lang() -> str:
    lang = request.args.get("lang", "en")
    if lang not in LANGS:  # no language of ours asked for: the error speaks Accept-Language's
        raise ValidationFailed([body_error("lang", "invalid_choice", request_language(), choices=", ".join(LANGS))])
    return lang


def _active_version_id(session, lang: str) -> int:
    from ..operations.scoring import store

    ref = store.active_ref(session)
    if ref is None:
        raise store.no_active_model(lang)
    return ref[0]


@bp.get("/shops/<shop>/score")
@require_token
def get_score(shop: str):
    """Give the shop's latest stored score in the asked language, so integrations can rank trials (reads only)."""
    from ..operations.scoring.service import latest_score, score_as_dict

    lang = _lang()
    refresh = request.args.get("refresh")
    if refresh is not None and refresh not in ("0", "1", "true", "false"):
        raise ValidationFailed([body_error("refresh", "invalid_choice", lang, choices="0, 1, true, false")])
    if refresh in ("1", "true"):
        message = "refresh: " + translate(N_("a GET never scores; POST %(path)s scores the shop again now"), lang) % {
            "path": f"/api/v1/shops/{shop}/score"}
        raise ValidationFailed([{"field": "refresh", "code": "use_post", "message": message}], message)
    session = get_session()
    row = get_shop(session, shop, lang=lang)
    active = _active_version_id(session, lang)
    hit = latest_score(session, row)
    if hit is None:
        raise NoScore(translate(N_("no score for %(shop)s yet: POST %(path)s scores it now (scores are also made when "
                                   "its answers change)"), lang) % {
            "shop": row.platform_id, "path": f"/api/v1/shops/{row.platform_id}/score"})
    return jsonify({**score_as_dict(hit[0], hit[1], row, lang), "current": hit[1].id == active})


@bp.post("/shops/<shop>/score")
@require_token
def post_score(shop: str):
    """Score the shop again now with the active model and store it (reasons and path in every language)."""
    from ..operations.scoring.service import score_shop

    lang = _lang()
    session = get_session()
    row = get_shop(session, shop, lang=lang)
    return jsonify({**score_shop(session, row, lang=lang), "current": True}), 201


_SCORE_RESPONSE = {"type": "object", "required": [
    "shop", "probability", "uplift", "model_version", "scored_at", "lang", "reasons", "path", "fallback", "current"],
    "properties": {
        "phase": {"type": "string", "enum": ["trial", "deliberating"],
                  "description": "What scored the shop: `trial`, the trial model (a trial in progress, or any shop "
                                 "when the model has no deliberating part); `deliberating`, the deliberating part "
                                 "(the trial ended without a purchase and its market's decision window is open; "
                                 "`uplift` is then null). Absent from scores stored before phases"},
        "deliberating": {"type": ["object", "null"],
                         "description": "Only with phase `deliberating`: `trial_ended_at`, `days_left` and "
                                        "`window_days` of the decision window, `method` (`model` or `base_rate`) "
                                        "and `text`, the days-left sentence in `lang`"},
    }}
_SHOP = {"name": "shop", "in": "path", "required": True, "schema": {"type": "string"}}
_LANG = {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGS)},
         "description": "Language of the reasons, the path and the history line"}

get_score.openapi = {
    "summary": "A shop's stored likelihood to subscribe, the gain from a call, reasons and the path to subscribe",
    "description": ("Reads the latest stored score and changes nothing. Its texts are in `lang` (a score "
                    "stored before scores carried every language keeps the language it was made in: see "
                    "`lang` in the body). `current` says whether the active model made it. Scores are made "
                    "when a shop's answers change, by `concierge score`, by the planner, and by "
                    "`POST /api/v1/shops/{shop}/score`."),
    "parameters": [
        _SHOP, _LANG,
        {"name": "refresh", "in": "query", "schema": {"type": "string", "enum": ["0", "false"]},
         "description": "Only 0 or false (read the stored score): `1` or `true` is refused on a GET "
                        "(422 `use_post`): POST to score again"},
    ],
    "responses": {
        "200": {"description": "The stored score (see docs/model.md for the fields)",
                "content": {"application/json": {"schema": _SCORE_RESPONSE}}},
        "404": {"description": "No such shop, no active model, or no score yet (`no_score`: POST to make one)"},
        "422": {"description": "Bad lang, or refresh on a GET"},
    },
}

post_score.openapi = {
    "summary": "Score a shop again now with the active model and store the score",
    "description": ("Makes and stores a new score (naming the model version) with its reasons and path "
                    "in every UI language; answers with it in `lang`."),
    "parameters": [_SHOP, _LANG],
    "responses": {
        "201": {"description": "The new score (see docs/model.md for the fields)",
                "content": {"application/json": {"schema": _SCORE_RESPONSE}}},
        "404": {"description": "No such shop, or no active model"},
        "422": {"description": "Bad lang"},
    },
}
