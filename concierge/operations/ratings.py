"""How the call felt: a one-tap rating (transactional NPS) through a signed link, once per call.

After a reached call the merchant gets a link (`/r/<token>`) in their language, valid for
a few days: "How likely are you to recommend us to a friend?" 0-10 and an optional
comment. The token is signed with the app's secret (its own salt, so a survey token
never opens it) over the call attempt and the shop; nothing is stored until the merchant
answers, and a call is rated once (a second answer is refused kindly). Time is passed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from itsdangerous import BadData, SignatureExpired
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import ConciergeError, ValidationFailed
from ..i18n import translations
from ..models import Call, CallRating, Shop
from .survey_links import BadLink, ExpiredLink, timed_serializer

SALT = "concierge.call-rating.v1"
RATING_DAYS = 5
MAX_COMMENT = 1000
_MAX_TOKEN = 300


class AlreadyRated(ConciergeError):
    status = 409
    code = "already_rated"


@dataclass(frozen=True)
class RatingLink:
    """A valid rating link: the attempt it rates, its shop, and until when it works."""

    call: Call
    shop: Shop
    expires_at: datetime
    rating: CallRating | None  # already given


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return value.astimezone(timezone.utc)


def rating_token(secret: str | bytes, call: Call, shop: Shop, *, now: datetime, days: int = RATING_DAYS) -> str:
    """The token for one reached call's rating link (expires ``days`` after ``now``)."""
    expires = int((_utc(now) + timedelta(days=days)).timestamp())
    return timed_serializer(secret, _utc(now), SALT).dumps([int(call.id), shop.platform_id, expires])


def resolve_rating(session: Session, token: str, *, secret: str | bytes, now: datetime | None = None) -> RatingLink:
    """The call a token rates; BadLink (404) when forged or unknown, ExpiredLink (410) when too old."""
    now = _utc(now or utcnow())
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
        raise BadLink()
    try:
        payload = timed_serializer(secret, now, SALT).loads(token, max_age=(RATING_DAYS + 30) * 86400)
    except SignatureExpired:
        raise ExpiredLink() from None
    except (BadData, ValueError, TypeError):
        raise BadLink() from None
    if not (isinstance(payload, list) and len(payload) == 3 and isinstance(payload[0], int)
            and isinstance(payload[1], str) and isinstance(payload[2], int)):
        raise BadLink()
    call_id, platform_id, expires = payload
    call = session.get(Call, call_id)
    shop = session.get(Shop, call.shop_id) if call is not None else None
    if call is None or shop is None or shop.platform_id != platform_id or not call.reached:
        raise BadLink()
    expires_at = datetime.fromtimestamp(expires, tz=timezone.utc)
    if now >= expires_at:
        raise ExpiredLink(shop=shop.platform_id, market=shop.market, expired_at=expires_at)
    rating = session.scalar(select(CallRating).where(CallRating.call_id == call.id))
    return RatingLink(call=call, shop=shop, expires_at=expires_at, rating=rating)


def check_rating(score: Any, comment: Any, lang: str = "en") -> tuple[int, str | None]:
    """A 0-10 score and an optional comment; every problem named at once."""
    _ = translations(lang).gettext
    errors = []
    value = None
    try:
        value = int(str(score).strip())
        if str(score).strip() != str(value) or not 0 <= value <= 10:
            raise ValueError
    except (TypeError, ValueError):
        errors.append({"field": "score", "code": "invalid_score",
                       "message": _("Please choose a number from 0 to 10.")})
    text = " ".join(str(comment or "").split()) or None
    if text is not None and len(text) > MAX_COMMENT:
        errors.append({"field": "comment", "code": "too_long",
                       "message": _("Your comment is too long: please keep it to %(max)d characters.") % {"max": MAX_COMMENT}})
    if errors:
        raise ValidationFailed(errors, errors[0]["message"])
    return value, text


def submit_rating(session: Session, link: RatingLink, *, score: Any, comment: Any = None, lang: str = "en",
                  now: datetime | None = None) -> CallRating:
    """Store the merchant's rating of the call, once (a second one is AlreadyRated)."""
    now = _utc(now or utcnow())
    value, text = check_rating(score, comment, lang)
    if link.rating is not None:
        raise AlreadyRated(translations(lang).gettext("You have rated this call already. Thank you!"))
    rating = CallRating(call_id=link.call.id, shop_id=link.shop.id, score=value, comment=text, language=lang,
                        created_at=now)
    try:
        with session.begin_nested():  # two taps at once: one rating
            session.add(rating)
            session.flush()
    except IntegrityError:
        raise AlreadyRated(translations(lang).gettext("You have rated this call already. Thank you!")) from None
    return rating


__all__ = ["AlreadyRated", "RatingLink", "RATING_DAYS", "MAX_COMMENT", "check_rating",
           "rating_token", "resolve_rating", "submit_rating"]
