"""Logging in and out, the logged-in user, and the login/role guards for views."""
from __future__ import annotations

import functools
import hashlib
import hmac
import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..app import get_session
from ..db import RowReader
from ..models import User
from ..operations.users import authenticate, end_sessions, get_user, role_at_least, session_token

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


def _password_stamp(user) -> str:
    """A short digest of the password hash: changes with the password, reveals nothing of it."""
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:16]


_USER_READ = RowReader(User, "id")


def _read_user(db_session, uid):
    """The user with this id, read with one Core statement built once (the ORM's load took a third
    of a small page) and attached to the request's session as a loaded row, so a view may change it."""
    if not isinstance(uid, int) or isinstance(uid, bool):
        return get_user(db_session, uid)  # whatever an old cookie carries: the ORM judges it
    from sqlalchemy import inspect

    known = db_session.identity_map.get(inspect(User).identity_key_from_primary_key((uid,)))
    return known if known is not None else _USER_READ(db_session, uid)


def load_logged_in_user() -> None:
    """Put the session's user (if still active) on `g.user` before every request."""
    g.user = None
    uid = session.get("uid")
    if uid is None or request.path.startswith(("/static/", "/fonts/")):
        return
    user = _read_user(get_session(), uid)
    if (user is None or not user.active or session.get("pwh") != _password_stamp(user)
            or not _same_token(session.get("sst"), user.session_token)):
        # deleted, deactivated, the password changed, or the user logged out since this login
        # (every copy of the cookie ends with it)
        session.clear()
        return
    g.user = user
    seen, now = session.get("seen"), int(time.time())
    if not isinstance(seen, int) or isinstance(seen, bool) or not 0 <= now - seen < SESSION_RENEW_SECONDS:
        session["seen"] = now  # changed: the response signs the cookie again, so the 12 hours restart


#: A logged-in user's session cookie is signed again (its lifetime restarting) at most this often,
#: instead of on every response (9 % of a small page's time): the session ends after 12 idle hours
#: less at most these 5 minutes.
SESSION_RENEW_SECONDS = 300


def _same_token(carried, stored: str | None) -> bool:
    return isinstance(carried, str) and bool(stored) and hmac.compare_digest(carried, stored)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never let ?next= send someone to another host."""
    if not target or any(ch < " " or ch == "\x7f" or ch == "\\" for ch in target):
        return None  # CR/LF would split the Location header; a backslash reads as "//" in browsers
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def login_required(view):
    """Send anonymous visitors to the login page, remembering where they were going."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def role_required(role: str):
    """Allow users whose role ranks at least `role` (consultant < manager < admin); 403 otherwise."""
    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not role_at_least(g.user.role, role):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Let a consultant or manager in with e-mail and password."""
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        user = authenticate(get_session(), form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session: no fixation across the login
            session["uid"] = user.id
            session["pwh"] = _password_stamp(user)
            session["sst"] = session_token(get_session(), user)
            session.permanent = True
            # a consultant's day starts with their calls; managers and admins with the dashboard
            home = url_for("calls.my_calls_page") if user.role == "consultant" else url_for("dashboard.index")
            return redirect(_safe_next(request.args.get("next")) or home)
        error = _("Wrong e-mail or password.")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("login.html", form=form, error=error), status


@bp.post("/language")
@login_required
def language():
    """Store the language the consultant reads the app in (their own, not the shop's market), then go back."""
    from ..i18n import LANGUAGES
    from ..operations.users import set_language

    chosen = request.form.get("language")
    if chosen not in LANGUAGES:
        return render_template("error.html", code=400, reason=_("This language is not offered.")), 400
    set_language(get_session(), g.user, chosen)
    return redirect(_safe_next(request.form.get("next")) or url_for("web.home"), 303)


@bp.post("/logout")
def logout():
    """End the session (POST with a CSRF token, so no other site can log you out).

    The user's session token is renewed, so a copy of the cookie taken before (another
    tab, another device, a stolen one) no longer works either.
    """
    if g.get("user") is not None:
        end_sessions(get_session(), g.user)
    session.clear()
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))
