"""Web and API blueprints: every module here (and in concierge.api) with a `bp` is mounted.

`register(app)` also wires what every page needs: Flask-Babel (language choice in
concierge.i18n), CSRF on every form (the bearer-token API under /api is exempt),
the logged-in user, and security headers on every response.
"""
from __future__ import annotations

import importlib
import os
from datetime import timedelta

from flask import Flask, g, render_template, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..messages import N_

from .auth import load_logged_in_user

# Pages: scripts and styles only from our own origin, never inline; nobody may frame us.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
            "object-src 'none'; frame-ancestors 'none'")


#: Every module whose `bp` blueprint the app serves, in registration order (the web pages, then
#: the API). A new blueprint is added here; tests/unit/test_architecture.py checks that no module
#: with a `bp` is left out.
BLUEPRINT_MODULES = (
    "concierge.web.auth", "concierge.web.calls", "concierge.web.dashboard", "concierge.web.fonts",
    "concierge.web.privacy",
    "concierge.web.rating", "concierge.web.survey", "concierge.web.survey_next", "concierge.web.views",
    "concierge.api.calls", "concierge.api.events", "concierge.api.openapi", "concierge.api.pictures",
    "concierge.api.preferences",
    "concierge.api.privacy", "concierge.api.reports", "concierge.api.scores", "concierge.api.shops",
    "concierge.api.survey_links", "concierge.api.surveys", "concierge.api.workday",
)

def _select_locale() -> str:
    from ..i18n import choose_language

    if g.get("page_language"):  # a page that knows its reader's language (the merchant survey)
        return g.page_language
    user = g.get("user")
    return choose_language(user_language=getattr(user, "language", None),
                           market=g.get("page_market"),
                           accept_languages=request.accept_languages if request else None)


def _translations():
    """The request's translations, looked up once per request and locale: Flask-Babel's own lookup
    costs about 8 µs a call and a page translates some 40 texts. Kept beside Flask-Babel's locale
    (`babel_locale`), so `refresh()` and `force_locale()`, which replace it, are honoured."""
    from flask_babel import get_translations

    if not g:  # no app context (a template rendered by hand): Flask-Babel's own answer, untranslated
        return get_translations()
    ctx = g.get("_flask_babel")
    if ctx is not None:
        hit = getattr(ctx, "concierge_translations", None)
        if hit is not None and hit[0] is getattr(ctx, "babel_locale", None):
            return hit[1]
    found = get_translations()
    ctx = g.get("_flask_babel")
    if ctx is not None and getattr(ctx, "babel_locale", None) is not None:
        ctx.concierge_translations = (ctx.babel_locale, found)
    return found


def _install_template_gettext(app: Flask) -> None:
    """Templates' _(), gettext and ngettext through `_translations` (as Flask-Babel installs them)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _security_headers(response):
    """Every response: no sniffing, no framing, no referrer leaks; a CSP unless a view set one."""
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Content-Security-Policy", PAGE_CSP)
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if "Cache-Control" not in h and (g.get("user") is not None or _is_api(request.path)):
        # personal data (logged-in pages, CSV exports, every API answer) is kept in no cache,
        # shared or the browser's; a view that chose its own policy (pictures' ETags) keeps it
        h["Cache-Control"] = "private, no-store"
    return response


def _exempt_api(app: Flask, csrf: CSRFProtect) -> None:
    """Exempt the bearer-token API from CSRF (no cookies there): concierge.api names them."""
    try:
        from ..api import exempt_api_blueprints
    except ImportError:  # no API package: exempt anything mounted under /api
        for bp in app.blueprints.values():
            if (bp.url_prefix or "").startswith("/api"):
                csrf.exempt(bp)
        return
    exempt_api_blueprints(app, csrf)


def _unless_set(app: Flask, key: str, flask_default, ours) -> None:
    if app.config.get(key, flask_default) == flask_default:
        app.config[key] = ours


def register(app: Flask) -> None:
    # Flask's defaults exist for all of these, so replace a value only while it is the default.
    _unless_set(app, "SESSION_COOKIE_HTTPONLY", True, True)
    _unless_set(app, "SESSION_COOKIE_SAMESITE", None, "Lax")
    # Secure cookies need HTTPS; the demo serves plain http on 127.0.0.1, deployments set this.
    _unless_set(app, "SESSION_COOKIE_SECURE", False, os.environ.get("CONCIERGE_SECURE_COOKIES") == "1")
    _unless_set(app, "SESSION_COOKIE_NAME", "session", "concierge_session")
    _unless_set(app, "PERMANENT_SESSION_LIFETIME", timedelta(days=31), timedelta(hours=12))
    # the cookie is signed again when the session changes, and for a logged-in user at most every
    # auth.SESSION_RENEW_SECONDS (auth.load_logged_in_user), not on every response
    _unless_set(app, "SESSION_REFRESH_EACH_REQUEST", True, False)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")

    Babel(app, locale_selector=_select_locale)
    _install_template_gettext(app)
    csrf = CSRFProtect(app)
    app.before_request(load_logged_in_user)
    app.after_request(_security_headers)

    from .helpers import register_template_helpers

    register_template_helpers(app)

    for name in BLUEPRINT_MODULES:  # listed, not found by a scan: a module that fails to import fails here
        app.register_blueprint(importlib.import_module(name).bp)
    _exempt_api(app, csrf)

    from ..limits import install as install_limits

    install_limits(app)  # rate limits on login, API tokens and survey pages (after the blueprints)

    from flask_babel import gettext as _

    from ..api import error_response, http_error, request_language
    from ..messages import translate

    @app.errorhandler(403)
    def _forbidden(exc):
        """Say plainly that the role does not allow this page (JSON under /api)."""
        if request.path.startswith("/api"):
            return http_error(exc)
        return render_template("error.html", code=403, reason=_("Your role does not allow this page.")), 403

    @app.errorhandler(404)
    def _not_found(exc):
        """A readable 404 for people, JSON under /api."""
        if request.path.startswith("/api"):
            return http_error(exc)
        return render_template("error.html", code=404, reason=_("There is no such page or shop.")), 404

    @app.errorhandler(405)
    def _method_not_allowed(exc):
        """JSON under /api (routing answers it before any API blueprint could); Werkzeug's page elsewhere."""
        return http_error(exc) if request.path.startswith("/api") else exc

    from locales import MarketDataError

    @app.errorhandler(MarketDataError)
    def _market_data_error(exc):
        """A broken market override file: name the file and the field (503), not a bare 500."""
        source = os.environ.get("CONCIERGE_MARKET_OVERRIDES")
        app.logger.error("market data not valid (%s): %s", source or "shipped files", exc)
        detail = f"{source}: {exc}" if source else str(exc)
        if request.path.startswith("/api"):
            text = translate(N_("The market override file (CONCIERGE_MARKET_OVERRIDES) is not valid: %(detail)s"),
                             request_language())
            return error_response(503, "market_data_invalid", text % {"detail": detail})
        reason = _("The market settings file is not valid, so this page cannot be shown. "
                   "An administrator must correct it: %(detail)s", detail=detail)
        return render_template("error.html", code=503, reason=reason), 503

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        """Tell the person the form expired instead of a bare 400."""
        return render_template("error.html", code=400,
                               reason=_("The form expired or was sent from elsewhere. Reload the page and try again.")), 400
