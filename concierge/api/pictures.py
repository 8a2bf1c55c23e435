"""GET /api/v1/shops/<shop>/picture.svg|.png: the shop's picture for integrations (bearer token)."""
from __future__ import annotations

from flask import request

from ..app import get_session
from ..errors import ValidationFailed
from ..i18n import LANGUAGES, choose_language
from ..operations import pictures
from ..ingest.bodies import body_error
from ..messages import N_, translate
from ..operations.shops import get_shop
from ..web.views import add_picture_routes, picture_response
from . import api_blueprint, request_language
from .auth import require_token
from .openapi import SHOP_PARAM, json_response, operation, query_param

bp = api_blueprint("pictures", __name__)


def _picture(shop: str, fmt: str):
    session = get_session()
    row = get_shop(session, shop)  # NotFound -> JSON 404 via the API error handler
    lang = request.args.get("lang")
    if lang is not None and lang not in LANGUAGES:  # given: one we speak (an unknown one is a mistake),
        # and the error speaks Accept-Language's
        raise ValidationFailed([body_error("lang", "invalid_choice", request_language(), choices=", ".join(LANGUAGES))])
    if lang is None:
        lang = choose_language(market=row.market if lang is None else None,
                               accept_languages=request.accept_languages)
    layout = request.args.get("layout", "wide")
    if layout not in pictures.LAYOUTS:
        raise ValidationFailed([{"field": "layout", "code": "invalid_layout",
                                 "message": "layout: " + translate(N_("must be wide or narrow"), lang)}])
    return picture_response(pictures.shop_picture(session, row, fmt=fmt, lang=lang, layout=layout), fmt)


def _operation(fmt: str) -> dict:
    mime = pictures.MIME[fmt]
    return operation(
        f"getShopPicture{fmt.upper()}", "shops",
        parameters=[
            SHOP_PARAM,
            query_param("lang", {"type": "string", "enum": list(LANGUAGES)},
                        "Language of the labels; default: the market's language, then Accept-Language"),
            query_param("layout", {"type": "string", "enum": ["wide", "narrow"], "default": "wide"},
                        "wide (1200 x 760, for screens) or narrow (one column, for phones)"),
        ],
        responses={
            "200": {"description": f"The picture ({mime}); ETag for conditional requests",
                    "content": {mime: {"schema": {"type": "string", "format": "binary"}}}},
            "304": {"description": "Not modified (If-None-Match matched the ETag)"},
            "422": json_response("Bad layout"),
            "404": json_response("Unknown shop"),
        })


for _fmt, _view in add_picture_routes(bp, "/shops/<shop>/picture", require_token, _picture, {
    "svg": "Draw a shop's picture as SVG, so a CRM or chat tool can show it next to the contact.",
    "png": "Draw a shop's picture as PNG, for tools that cannot show SVG.",
}).items():
    _view.openapi = _operation(_fmt)  # type: ignore[attr-defined]
