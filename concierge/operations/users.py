"""Web users (consultants, managers, admins): create, list, authenticate, demo accounts.

Passwords are stored only as werkzeug hashes. Demo passwords are random per install and
kept (for printing again) in the instance folder, never in the repository.
"""
from __future__ import annotations

import functools
import os
import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from locales import LANGUAGES

from ..errors import Conflict, NotFound, ValidationFailed
from ..i18n import translations
from ..models import User

ROLES = ("consultant", "manager", "admin")
MIN_PASSWORD = 10
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
DEMO_USERS = (
    ("consultant@example.com", "Demo Consultant", "consultant"),
    ("manager@example.com", "Demo Manager", "manager"),
    ("admin@example.com", "Demo Admin", "admin"),
)
DEMO_FILE = "demo-logins.txt"


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real hash of nothing anyone can type: unknown e-mails cost as much as wrong passwords."""
    return generate_password_hash(secrets.token_hex(16))


def _error(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def role_at_least(role: str | None, needed: str) -> bool:
    """True when `role` ranks at or above `needed` (consultant < manager < admin)."""
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def create_user(session: Session, email: str, *, password: str, role: str = "consultant",
                name: str | None = None, language: str | None = None, lang: str | None = "en") -> User:
    """Add a user who can log in; every bad field is reported at once and nothing is stored.

    `language` is the new user's UI language; `lang` the language of the e-mail clash's message."""
    email = (email or "").strip().lower()
    errors = []
    _ = translations(lang).gettext
    if not _EMAIL_RE.match(email) or len(email) > 254:
        errors.append(_error("email", "invalid_email", _("email: not a valid e-mail address")))
    if role not in ROLES:
        errors.append(_error("role", "invalid_role",
                             _("role: must be one of %(choices)s") % {"choices": ", ".join(ROLES)}))
    if language is not None and language not in LANGUAGES:
        errors.append(_language_error(lang))
    errors += _password_errors(password, lang)
    name = (name or "").strip() or email.split("@", 1)[0]
    if len(name) > 200:
        errors.append(_error("name", "too_long", _("name: longer than 200 characters")))
    if errors:
        raise ValidationFailed(errors, _("The user was not created"))
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise Conflict(translations(lang).gettext("email: a user with e-mail %(email)s already exists")
                       % {"email": email})
    user = User(email=email, name=name, role=role, language=language,
                password_hash=generate_password_hash(password), active=True,
                session_token=secrets.token_urlsafe(32))
    session.add(user)
    session.flush()
    return user


def _password_errors(password: str | None, lang: str | None = "en") -> list[dict[str, str]]:
    if password is None or len(password) < MIN_PASSWORD:
        return [_error("password", "too_short", translations(lang).gettext(
            "password: must be at least %(min)d characters") % {"min": MIN_PASSWORD})]
    return []


def _language_error(lang: str | None) -> dict[str, str]:
    return _error("language", "invalid_language", translations(lang).gettext(
        "language: must be one of %(choices)s") % {"choices": ", ".join(LANGUAGES)})


def session_token(session: Session, user: User) -> str:
    """The token this user's web sessions carry (made at the first login; a login does not change it)."""
    if not user.session_token:
        user.session_token = secrets.token_urlsafe(32)
        session.flush()
    return user.session_token


def end_sessions(session: Session, user: User) -> User:
    """End every web session of the user, on every device: a cookie copied before no longer works."""
    user.session_token = secrets.token_urlsafe(32)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str, *, lang: str | None = "en") -> User:
    """Give the user a new password and end all their web sessions (each must log in again); errors in `lang`."""
    errors = _password_errors(password, lang)
    if errors:
        raise ValidationFailed(errors, translations(lang).gettext("The password was not changed"))
    user.password_hash = generate_password_hash(password)
    return end_sessions(session, user)


def find_user_by_email(session: Session, email: str, *, lang: str | None = "en") -> User:
    """The user (active or not) with this e-mail, else NotFound naming it (in `lang`)."""
    user = session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise NotFound(translations(lang).gettext("email: no user with e-mail %(email)s") % {"email": email})
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the active user with this e-mail and password, else None (same cost either way)."""
    email = (email or "").strip().lower()
    user = session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


def list_users(session: Session) -> list[User]:
    """Every user, ordered by role then e-mail, for the users page and `users list`."""
    users = session.scalars(select(User)).all()
    return sorted(users, key=lambda u: (ROLES.index(u.role) if u.role in ROLES else 99, u.email))


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_as_dict(user: User) -> dict[str, Any]:
    """The `users list --json` shape of one user (never the hash)."""
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "language": user.language, "call_languages": user.call_languages, "active": user.active,
            "created_at": user.created_at.isoformat() if user.created_at else None}


def set_language(session: Session, user: User, language: str | None, *, lang: str | None = "en") -> User:
    """Set the language the user reads the app in (en, pl, tr, hi; None: the shop's market language,
    then the browser's). Every page, picture and score reason follows it; errors in `lang`."""
    if language is not None and language not in LANGUAGES:
        raise ValidationFailed([_language_error(lang)], translations(lang).gettext("The language was not changed"))
    if user.language != language:
        user.language = language
        session.flush()
    return user


def _read_demo_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2 and not line.startswith("#"):
                out[parts[0]] = parts[1]
    return out


def _write_demo_file(path: Path, passwords: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# Demo logins for this install only (random per install; never commit this file)\n"
    text += "".join(f"{email} {pw}\n" for email, pw in passwords.items())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(0o600)


def ensure_demo_users(session: Session, instance_path: str | Path) -> list[dict[str, Any]]:
    """Create the demo consultant, manager and admin if missing; return their logins to print.

    Passwords are random per install and kept in `instance/demo-logins.txt` (mode 600) so
    a later run can print them again. A demo user whose password is no longer in that
    file (the file was deleted) gets a fresh random one; a password somebody changed on
    purpose is left alone and reported as not shown.
    """
    path = Path(instance_path) / DEMO_FILE
    known = _read_demo_file(path)
    out = []
    changed = False
    for email, name, role in DEMO_USERS:
        user = session.scalar(select(User).where(func.lower(User.email) == email))
        password = known.get(email)
        status = "exists"
        if user is None:
            password = password or secrets.token_urlsafe(12)
            user = create_user(session, email, password=password, role=role, name=name)
            status = "created"
        elif password is None:
            password = secrets.token_urlsafe(12)
            set_password(session, user, password)
            status = "reset"
        elif not check_password_hash(user.password_hash, password):
            password = None
            status = "changed"
        if password is not None and known.get(email) != password:
            known[email] = password
            changed = True
        out.append({"email": email, "role": role, "password": password, "status": status})
    if changed or not path.exists():
        _write_demo_file(path, known)
    return out
