"""Bearer-token authentication for the API: `@require_token` on every endpoint."""
from __future__ import annotations

import functools
from typing import Any, Callable

from flask import g, request

from ..app import get_session
from ..messages import N_, translate
from ..operations.tokens import authenticate
from . import error_response, request_language


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unauthorized(message: str):
    """401 with `message` (an N_ msgid) in the request's language."""
    resp = error_response(401, "unauthorized", translate(message, request_language()))
    resp.headers["WWW-Authenticate"] = 'Bearer realm="concierge"'
    return resp


def require_token(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let the view run only with a live API token; sets g.api_token, answers 401 JSON otherwise."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        token = bearer_token()
        if token is None:
            return _unauthorized(N_("Send an API token: Authorization: Bearer <token>"))
        row = authenticate(get_session(), token)
        if row is None:
            return _unauthorized(N_("The API token is not valid or has been revoked"))
        g.api_token = row
        return view(*args, **kwargs)

    wrapper.requires_token = True  # type: ignore[attr-defined]  (the OpenAPI builder can read it)
    return wrapper
