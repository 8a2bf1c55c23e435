"""API tokens: issue (shown once), revoke, list and check bearer tokens; only hashes are stored."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..db import RowReader, utcnow
from ..errors import NOT_ACCEPTED, Conflict, NotFound, ValidationFailed
from ..i18n import translations
from ..models import ApiToken

TOKEN_PREFIX = "cnc_"
PREFIX_LENGTH = 12  # "cnc_" + 8 characters: enough to tell tokens apart, useless to an attacker
#: integration: every API route except the privacy ones; admin: also export and erase a merchant's data
TOKEN_ROLES = ("integration", "admin")
LAST_USE_RESOLUTION = timedelta(hours=1)  # `last_used_at` is written at most once an hour per token


def hash_token(token: str) -> str:
    """SHA-256 of the token: what we store and look up, so a database leak leaks no tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, *, now: datetime | None = None,
                 role: str = "integration", lang: str | None = "en") -> tuple[ApiToken, str]:
    """Issue a token for an integration; the plain token is returned once and never stored; errors in `lang`."""
    name = (name or "").strip()
    _ = translations(lang).gettext
    if not name or len(name) > 100:
        raise ValidationFailed([{"field": "name", "code": "invalid_name",
                                 "message": _("name: give the token a name of 1 to 100 characters")}],
                               _(NOT_ACCEPTED))
    if role not in TOKEN_ROLES:
        raise ValidationFailed([{"field": "role", "code": "invalid_role",
                                 "message": _("role: use one of %(choices)s") % {"choices": ", ".join(TOKEN_ROLES)}}],
                               _(NOT_ACCEPTED))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, prefix=token[:PREFIX_LENGTH], token_hash=hash_token(token),
                   created_at=now or utcnow(), role=role)
    session.add(row)
    session.flush()
    return row, token


def find_token(session: Session, ref: str, *, lang: str | None = "en") -> ApiToken:
    """Find a token by its id or its shown prefix, so it can be revoked without the secret; errors in `lang`."""
    ref = str(ref).strip()
    conds = [ApiToken.prefix == ref]
    if ref.isdigit():
        conds.append(ApiToken.id == int(ref))
    rows = list(session.scalars(select(ApiToken).where(or_(*conds))))
    if not rows and len(ref) >= 6:
        rows = list(session.scalars(select(ApiToken).where(ApiToken.prefix.startswith(ref, autoescape=True))))
    catalog = translations(lang)
    if not rows:
        raise NotFound(catalog.gettext("no API token with id or prefix %(ref)s") % {"ref": repr(ref)})
    if len(rows) > 1:
        raise Conflict(catalog.gettext("%(ref)s matches %(num)d tokens; use the id") % {"ref": repr(ref),
                                                                                       "num": len(rows)})
    return rows[0]


def revoke_token(session: Session, ref: str, *, now: datetime | None = None, lang: str | None = "en") -> ApiToken:
    """Revoke a token by id or prefix, so a leaked token stops working at once; errors in `lang`."""
    row = find_token(session, ref, lang=lang)
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        session.flush()
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    """List every token (never the secret), so admins can see which integrations exist."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


_TOKEN_READ = RowReader(ApiToken, "token_hash")  # every API request reads its token: built once


def authenticate(session: Session, token: str | None, *, now: datetime | None = None) -> ApiToken | None:
    """The live token this bearer string is, else None; marks it used, so stale tokens show up.

    The last use is kept to the hour (`LAST_USE_RESOLUTION`): it is written at the first use
    of a token in an hour, not at every request, so reading the API changes nothing in the
    database except that hourly mark.
    """
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = hash_token(token)
    row = _TOKEN_READ(session, digest)
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at is not None:
        return None
    now = now or utcnow()
    if row.last_used_at is None or not (now - LAST_USE_RESOLUTION < _aware(row.last_used_at) <= now):
        row.last_used_at = now
        session.flush()
    return row


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def token_as_dict(row: ApiToken) -> dict[str, object]:
    """The public facts of a token (the `token list --json` contract)."""
    return {
        "id": row.id, "name": row.name, "prefix": row.prefix,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "active": row.revoked_at is None,
        "role": row.role or "integration",
    }
