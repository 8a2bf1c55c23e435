"""Rate limits (Flask-Limiter) on what an attacker can repeat: logging in, API tokens, survey links.

- ``POST /login``: RATE_LIMIT_LOGIN per client address (password guessing).
- every ``/api/`` request carrying a bearer token: RATE_LIMIT_API per token (the token is
  hashed before it is used as a key, so the store never holds a live token);
- failed API authentication (answers 401): RATE_LIMIT_API_FAILED per client address, and
  once that is spent the address gets 429 until the window passes (token guessing);
- the merchant survey pages (``/s/<token>`` and its thanks and callback pages):
  RATE_LIMIT_SURVEY per client address (link guessing, form flooding).

The budgets live in Redis when CONCIERGE_REDIS_URL is set, so every worker process and
every server shares one budget; otherwise in this process's memory (one budget per
process: fine for one process, and for tests). When Redis cannot be reached the limits
fall back to memory and the requests go on (an outage of the limiter store must not
take the app down).

A limit reached answers 429 with a Retry-After header and a message in the reader's
language: JSON (``{"error": "rate_limited", ...}``) under /api, the error page elsewhere.

Behind a reverse proxy, CONCIERGE_TRUSTED_PROXIES (the number of proxies in front of
the app) makes the client address come from X-Forwarded-For (werkzeug's ProxyFix);
without it every request would seem to come from the proxy and share one budget.
"""
from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import TooManyRequests

EXTENSION = "concierge.limits"
SURVEY_PREFIX = "/s/"
LOGIN_ENDPOINT = "auth.login"


def client_address() -> str:
    """The client's address (after ProxyFix when CONCIERGE_TRUSTED_PROXIES is set)."""
    return request.remote_addr or "unknown"


def _bearer() -> str | None:
    from .api.auth import bearer_token

    return bearer_token()


def token_key() -> str:
    """The API token's budget key: a hash of the token, never the token itself."""
    token = _bearer() or ""
    return "token:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def install(app: Flask) -> Any:
    """Trust the configured proxies and put the limits on login, the API and the survey pages.

    Call after every blueprint is registered. Returns the Limiter (also in app.extensions).
    """
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,  # type: ignore[method-assign]
                                x_port=proxies, x_prefix=proxies)

    from flask_limiter import Limiter

    redis_url = app.config.get("REDIS_URL")
    limiter = Limiter(
        key_func=client_address,
        storage_uri=redis_url or "memory://",
        storage_options={"socket_connect_timeout": 2, "socket_timeout": 2} if redis_url else {},
        strategy=app.config.get("RATE_LIMIT_STRATEGY") or "fixed-window",
        key_prefix=app.config.get("RATE_LIMIT_KEY_PREFIX") or "concierge",
        swallow_errors=True,              # a broken limiter store must never give a 500
        in_memory_fallback_enabled=True,  # ...and while Redis is away, limit in memory
        headers_enabled=False,            # Retry-After is set on the 429 itself
        enabled=bool(app.config.get("RATE_LIMITS_ENABLED", True)),
    )
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter

    limiter.shared_limit(app.config["RATE_LIMIT_LOGIN"], scope="login", methods=["POST"],
                         exempt_when=lambda: request.endpoint != LOGIN_ENDPOINT)(app.blueprints["auth"])
    if "survey" in app.blueprints:
        limiter.shared_limit(app.config["RATE_LIMIT_SURVEY"], scope="survey",
                             exempt_when=lambda: not request.path.startswith(SURVEY_PREFIX))(app.blueprints["survey"])
    if "survey_next" in app.blueprints:  # the survey pages' preferences form: the same shared limit
        limiter.shared_limit(app.config["RATE_LIMIT_SURVEY"], scope="survey",
                             exempt_when=lambda: not request.path.startswith(SURVEY_PREFIX))(
            app.blueprints["survey_next"])
    try:
        from .api import API_BLUEPRINTS
    except ImportError:  # pragma: no cover - the API package is always there
        API_BLUEPRINTS = []
    mounted = {bp.name for bp in API_BLUEPRINTS if bp.name in app.blueprints}
    api_limit = limiter.shared_limit(app.config["RATE_LIMIT_API"], scope="api-token", key_func=token_key,
                                     exempt_when=lambda: _bearer() is None)
    failed_limit = limiter.shared_limit(app.config["RATE_LIMIT_API_FAILED"], scope="api-auth-failed",
                                        deduct_when=lambda response: response.status_code == 401)
    for name in sorted(mounted):
        api_limit(app.blueprints[name])
        failed_limit(app.blueprints[name])

    app.register_error_handler(429, _too_many_requests)
    return limiter


def retry_after_seconds() -> int:
    """Whole seconds until the breached limit's window lets a request through again (at least 1)."""
    limiter = current_app.extensions.get(EXTENSION)
    reached = getattr(limiter, "current_limit", None) if limiter is not None else None
    try:
        if reached is not None:
            return max(1, math.ceil(reached.reset_at - time.time()))
    except Exception:  # the store went away between the check and now
        current_app.logger.warning("rate limit store unreadable for Retry-After; saying 60 s", exc_info=True)
    return 60


def _too_many_requests(exc: TooManyRequests):
    """429 in the reader's language, with Retry-After: JSON under /api, the error page elsewhere."""
    seconds = retry_after_seconds()
    if _is_api():
        from .api import error_response, request_language
        from .i18n import translations

        message = translations(request_language()).ngettext(
            "Too many requests in a short time. Try again in %(num)d second.",
            "Too many requests in a short time. Try again in %(num)d seconds.", seconds) % {"num": seconds}
        resp = error_response(429, "rate_limited", message, retry_after=seconds)
    else:
        from flask_babel import ngettext

        message = ngettext("Too many requests in a short time. Try again in %(num)d second.",
                           "Too many requests in a short time. Try again in %(num)d seconds.", seconds)
        resp = current_app.make_response((render_template("error.html", code=429, reason=message), 429))
    resp.headers["Retry-After"] = str(seconds)
    resp.headers["Cache-Control"] = "no-store"
    return resp
