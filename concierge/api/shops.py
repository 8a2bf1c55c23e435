"""GET /api/v1/shops and /api/v1/shops/<shop>: shops and their profiles for integrations."""
from __future__ import annotations

from flask import jsonify, request

from ..app import get_session
from ..errors import ValidationFailed
from ..ingest.bodies import parse_datetime_with_offset
from ..operations.profiles import change_as_dict, load_profile, profile_changes
from ..operations.shops import MARKETS, get_shop, list_shops, shop_summary
from . import api_blueprint
from .auth import require_token

bp = api_blueprint("shops", __name__)


@bp.get("/shops")
@require_token
def get_shops():
    """List shops (optionally one market), so an integration can see what we know of."""
    market = request.args.get("market")
    if market and market.upper() not in MARKETS:
        raise ValidationFailed([{"field": "market", "code": "invalid_market",
                                 "message": "market: must be one of PL, TR, IN"}])
    try:
        limit = min(int(request.args.get("limit", 100)), 1000)
    except ValueError:
        raise ValidationFailed([{"field": "limit", "code": "not_a_number",
                                 "message": "limit: must be a whole number"}]) from None
    session = get_session()
    shops = list_shops(session, market=market.upper() if market else None, limit=limit)
    return jsonify(shops=[shop_summary(s, load_profile(session, s)) for s in shops])


@bp.get("/shops/<shop>")
@require_token
def get_shop_profile(shop: str):
    """Give the shop's current profile (six facets with provenance), plus changes with ?since=."""
    session = get_session()
    row = get_shop(session, shop)
    profile = load_profile(session, row)
    body = {"shop": shop_summary(row, profile), "profile": profile.as_dict()}
    since = request.args.get("since")
    if since:
        when = parse_datetime_with_offset(since)
        if when is None:
            raise ValidationFailed([{"field": "since", "code": "invalid_format",
                                     "message": "since: must be an ISO 8601 date and time with an offset"}])
        body["changes"] = [change_as_dict(c) for c in profile_changes(session, row, when)]
    return jsonify(body)


