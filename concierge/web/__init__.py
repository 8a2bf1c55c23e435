"""Web and API blueprints: every module here (and in concierge.api) with a `bp` is mounted.

`register(app)` also wires what every page needs: Flask-Babel (language choice in
concierge.i18n), CSRF on every form (the bearer-token API under /api is exempt),
the logged-in user, and security headers on every response.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
from datetime import timedelta

from flask import Flask, g, render_template, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from .auth import load_logged_in_user

# Pages: scripts and styles only from our own origin, never inline; nobody may frame us.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
            "object-src 'none'; frame-ancestors 'none'")


def _select_locale() -> str:
    from ..i18n import choose_language

    user = g.get("user")
    return choose_language(user_language=getattr(user, "language", None),
                           market=g.get("page_market"),
                           accept_languages=request.accept_languages if request else None)


def _security_headers(response):
    """Every response: no sniffing, no framing, no referrer leaks; a CSP unless a view set one."""
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Content-Security-Policy", PAGE_CSP)
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if g.get("user") is not None and "Cache-Control" not in h:
        h["Cache-Control"] = "private, no-store"  # pages about merchants stay out of shared caches
    return response


def _api_blueprints(app: Flask) -> list:
    """Blueprints answering bearer tokens (no cookies, so no CSRF).

    concierge.api names them (CSRF_EXEMPT or TOKEN_BLUEPRINTS); until it does, every
    blueprint from concierge.api or mounted under /api.
    """
    names: set[str] | None = None
    try:
        api = importlib.import_module("concierge.api")
        declared = getattr(api, "CSRF_EXEMPT", None) or getattr(api, "TOKEN_BLUEPRINTS", None)
        if declared:
            names = {getattr(b, "name", b) for b in declared}
    except ModuleNotFoundError:
        pass
    out = []
    for name, bp in app.blueprints.items():
        if names is not None:
            if name in names or name == "api_pictures":
                out.append(bp)
        elif bp.import_name.startswith("concierge.api") or (bp.url_prefix or "").startswith("/api"):
            out.append(bp)
    return out


def register(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    # Secure cookies need HTTPS; the demo serves plain http on 127.0.0.1, deployments set this.
    app.config.setdefault("SESSION_COOKIE_SECURE", os.environ.get("CONCIERGE_SECURE_COOKIES") == "1")
    app.config.setdefault("SESSION_COOKIE_NAME", "concierge_session")
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=12))
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")

    Babel(app, locale_selector=_select_locale)
    csrf = CSRFProtect(app)
    app.before_request(load_logged_in_user)
    app.after_request(_security_headers)

    from .helpers import register_template_helpers

    register_template_helpers(app)

    for package in ("concierge.web", "concierge.api"):
        try:
            pkg = importlib.import_module(package)
        except ModuleNotFoundError:
            continue
        for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
            module = importlib.import_module(f"{package}.{mod}")
            bp = getattr(module, "bp", None)
            if bp is not None:
                app.register_blueprint(bp)
    for bp in _api_blueprints(app):
        csrf.exempt(bp)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        """Tell the person the form expired instead of a bare 400."""
        return render_template("error.html", code=400, reason=exc.description), 400
