"""`/r/<token>`: the merchant rates a reached call in one tap (0-10 and a comment), no account.

Like the survey page: phone-first, in the merchant's language (switchable), the token in
the URL is never sent on as a referrer or cached; a GET shows the question and writes
nothing, the POST (CSRF) stores the rating once.
"""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from locales import LANGUAGE_NAMES

from ..app import get_session
from ..errors import ValidationFailed
from ..i18n import LANGUAGES, choose_language
from ..operations.ratings import MAX_COMMENT, AlreadyRated, resolve_rating, submit_rating
from ..operations.survey_links import BadLink, ExpiredLink, LinkError
from .helpers import private_page
from .survey import _use_language, switcher_languages

bp = Blueprint("rating", __name__)
bp.after_request(private_page)


def _language(market: str | None) -> str | None:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    # a language of the market the browser asks for (Hindi in India), else the market's
    return choose_language(market=market, accept_languages=request.accept_languages) if market else None


def _languages(token: str, market: str | None = None) -> list[tuple[str, str, str]]:
    return [(code, LANGUAGE_NAMES[code], url_for("rating.page", token=token, lang=code))
            for code in switcher_languages(market)]


@bp.errorhandler(LinkError)
def _gone(exc: LinkError):
    """Expired (410) and bad (404) rating links: a plain page in the merchant's language."""
    _use_language(_language(exc.market))
    kind = "expired" if isinstance(exc, ExpiredLink) else "bad" if isinstance(exc, BadLink) else "revoked"
    return render_template("rating_gone.html", kind=kind), exc.status


def _render(token: str, link, *, score=None, comment: str = "", errors=None, status: int = 200):
    return render_template("rating.html", token=token, shop=link.shop, link=link, score=score, comment=comment,
                           errors=errors or {}, max_comment=MAX_COMMENT, languages=_languages(token, link.shop.market)), status


@bp.get("/r/<token>")
def page(token: str):
    """How likely are you to recommend us? 0-10 (a GET only reads)."""
    link = resolve_rating(get_session(), token, secret=current_app.config["SECRET_KEY"])
    _use_language(_language(link.shop.market))
    if link.rating is not None:
        return render_template("rating_thanks.html", already=True, languages=_languages(token, link.shop.market))
    return _render(token, link)


@bp.post("/r/<token>")
def rate(token: str):
    """Store the rating once; errors name the field in the merchant's language, nothing half-stored."""
    session = get_session()
    link = resolve_rating(session, token, secret=current_app.config["SECRET_KEY"])
    lang = _use_language(_language(link.shop.market))
    score, comment = request.form.get("score"), request.form.get("comment") or ""
    try:
        submit_rating(session, link, score=score, comment=comment, lang=lang)
    except AlreadyRated:
        return render_template("rating_thanks.html", already=True, languages=_languages(token, link.shop.market)), 409
    except ValidationFailed as exc:
        errors = {e["field"]: e["message"] for e in exc.errors}
        return _render(token, link, score=score, comment=comment, errors=errors, status=422)
    return redirect(url_for("rating.thanks", token=token, lang=lang), 303)


@bp.get("/r/<token>/thanks")
def thanks(token: str):
    """Thank you (a GET only reads)."""
    link = resolve_rating(get_session(), token, secret=current_app.config["SECRET_KEY"])
    _use_language(_language(link.shop.market))
    return render_template("rating_thanks.html", already=False, languages=_languages(token, link.shop.market))
