"""`POST /api/v1/shops/<shop>/survey-links`: a signed, expiring survey link for a merchant.

For a CRM or messaging tool that sends the merchant their survey. Answers `201` with
`{id, shop, url, expires_at}` (the same as `concierge survey link --json`). The body is
optional: `{"days": N}` (1 to 90; default the app's SURVEY_LINK_MAX_AGE_DAYS).
"""
from __future__ import annotations


from flask import current_app, g, jsonify, request

from ..app import get_session
from ..operations.survey_links import MAX_DAYS, create_link, public_base_url
from . import api_blueprint, optional_json_body, request_language
from .auth import require_token
from ..ingest.schemas import request_body

bp = api_blueprint("survey_links", __name__)

REQUEST_BODY = "SurveyLinkRequest"
SURVEY_LINK_REQUEST = request_body(REQUEST_BODY, {
    "days": {"type": "integer", "minimum": 1, "maximum": MAX_DAYS,
             "description": "How long the link works, in days (default: the server's "
                            "SURVEY_LINK_MAX_AGE_DAYS, 14 unless configured)"},
})


@bp.post("/shops/<shop>/survey-links")
@require_token
def post_survey_link(shop: str):
    """Make a survey link for the shop; 404 for an unknown shop, 422 for a bad `days`."""
    lang = request_language()
    body = optional_json_body(SURVEY_LINK_REQUEST, lang)
    days = body.get("days", current_app.config.get("SURVEY_LINK_MAX_AGE_DAYS"))
    if isinstance(days, float) and days.is_integer():  # JSON has one number type: 39.0 is the integer 39
        days = int(days)
    created = create_link(get_session(), shop, secret=current_app.config["SECRET_KEY"],
                          created_by=f"api:{g.api_token.name}", days=days, lang=lang)
    base = public_base_url(current_app.config.get("PUBLIC_BASE_URL"), request.url_root)
    return jsonify(created.as_dict(base)), 201

