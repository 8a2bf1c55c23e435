"""GET /api/v1/shops and /api/v1/shops/<shop>: shops and their profiles for integrations."""
from __future__ import annotations

import math

from flask import jsonify, request

import profile_schema

from ..app import get_session
from ..errors import ValidationFailed
from ..ingest.bodies import body_error, body_message, datetime_problem, format_name, parse_datetime_with_offset
from ..operations.profiles import change_as_dict, current_profile, stored_changes_since
from ..operations.shop_state import OUTCOMES, SORTS, list_states, state_summary
from ..operations.shops import MARKETS, get_shop, shop_summary
from . import api_blueprint, request_language
from .auth import require_token

bp = api_blueprint("shops", __name__)


@bp.get("/shops")
@require_token
def get_shops():
    """List shops from the read model, filtered (market, stage, outcome, consultant, score range),
    sorted and paged in SQL, so an integration can see what we know of."""
    args = request.args
    errors: list[dict[str, str]] = []
    lang = request_language()

    def bad(field: str, code: str, text: str) -> None:
        errors.append({"field": field, "code": code, "message": f"{field}: {text}"})

    market = args.get("market")
    if market and market.upper() not in MARKETS:
        bad("market", "invalid_market", body_message("invalid_choice", lang, choices=", ".join(MARKETS)))
    stage = args.get("stage") or None
    if stage is not None and stage not in profile_schema.load_schema().stages:
        bad("stage", "invalid_choice", body_message("invalid_choice", lang, choices=", ".join(profile_schema.load_schema().stages)))
    outcome = args.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        bad("outcome", "invalid_choice", body_message("invalid_choice", lang, choices=", ".join(OUTCOMES)))
    sort = args.get("sort") or "newest"
    if sort not in SORTS:
        bad("sort", "invalid_choice", body_message("invalid_choice", lang, choices=", ".join(SORTS)))

    def number(field: str, default, kind, low, high=None):
        raw = args.get(field)
        if raw is None:
            return default
        if raw.strip() == "":
            bad(field, "empty_parameter", body_message("empty_parameter", lang))
            return default
        try:
            value = kind(raw)
        except ValueError:
            bad(field, "not_a_number", body_message("not_a_whole_number" if kind is int else "not_a_number", lang))
            return default
        if math.isnan(value) or value < low or (high is not None and value > high):
            bad(field, "out_of_range", body_message("out_of_range", lang, low=low, high=high) if high is not None
                else body_message("below_min", lang, limit=low))
            return default
        return value

    limit = number("limit", 100, int, 1, 1000)  # the documented maximum is a rule, not a silent cap
    offset = number("offset", 0, int, 0)
    min_score = number("min_score", None, float, 0, 1)
    max_score = number("max_score", None, float, 0, 1)
    if errors:
        raise ValidationFailed(errors)
    rows, _total = list_states(get_session(), market=market, stage=stage, outcome=outcome,
                               consultant=args.get("consultant") or None, min_score=min_score, max_score=max_score,
                               sort=sort, limit=limit, offset=offset)
    return jsonify(shops=[state_summary(r) for r in rows])


@bp.get("/shops/<shop>")
@require_token
def get_shop_profile(shop: str):
    """Give the shop's current profile (six facets with provenance), plus changes with ?since=."""
    session = get_session()
    row = get_shop(session, shop)
    profile = current_profile(session, row)  # the kept snapshot: one row, however long the history
    body = {"shop": shop_summary(row, profile), "profile": profile.as_dict()}
    since = request.args.get("since")
    if since is not None:  # given, even empty: it must be a date and time we can compare with
        when = parse_datetime_with_offset(since)
        if when is None:
            code = datetime_problem(since) if since.strip() else "empty_parameter"
            lang = request_language()
            raise ValidationFailed([body_error("since", code, lang, format=format_name("date-time", lang))
                                    if code == "invalid_format" else body_error("since", code, lang)])
        # what the observations after `since` changed, against the profile now: an indexed read,
        # not a replay of the shop's whole history
        body["changes"] = [change_as_dict(c) for c in stored_changes_since(session, row, when, profile=profile)]
    return jsonify(body)


