"""Merchant survey links: signed, expiring `/s/<token>` links, drafts, and submitting.

A consultant, the CLI or the API creates a link for a shop; the merchant opens it on
their phone without an account, may save a draft and come back, and submits. Three
layers, top to bottom:

- tokens (pure): `sign_link` / `read_token` / `check_link`. A token is itsdangerous'
  URLSafeTimedSerializer (its own salt) over `[shop, link id, nonce, expires_at]`, signed
  with the app's SECRET_KEY. Nothing secret is stored: the row holds the nonce, and the
  token can only be made with the secret. Time is passed in (`now`), so tests move the
  clock instead of sleeping.
- links (database): `create_link`, `resolve_link` (token -> live link, or BadLink 404,
  ExpiredLink / RevokedLink 410), `revoke_link`, `list_links`.
- answers: `save_draft` (each answer checked on its own; the valid ones are kept, the
  others named) and `submit_answers`, which sends what is new through
  `concierge.operations.surveys.submit_survey`: the same path as `POST /api/v1/surveys`
  (JSON Schema, then the interview schema; stored whole or not at all; source `survey`).

Skip logic is applied here, on the server: an answer to a question that does not apply
given the other answers (and what the profile knows) is dropped, as a survey tool hides
such questions. Only answers that are new or differ from the profile are submitted, so
a pre-filled answer the merchant left alone keeps its original source.
No Flask here: the web and API shells call these functions.
"""
from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from itsdangerous import (
    BadData,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import profile_schema
from locales import LANGUAGES, market_language  # noqa: F401  (market_language: re-exported for callers of this module)

from ..db import utcnow
from ..errors import ConciergeError, NotFound, ValidationFailed
from ..messages import N_, localize
from ..models import Shop, SurveyLink

SALT = "concierge.survey-link.v1"
DEFAULT_DAYS = 14
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
MAX_DAYS = 90
MAX_TOKEN_LENGTH = 400  # ours are ~120 characters; anything far longer is not worth unsigning
ACTOR = "merchant"
CHANNEL = "survey_link"
_ATTEMPT_RE = re.compile(r"^[A-Za-z0-9_-]{8,40}$")

_MESSAGES: dict[str, str] = {
    "invalid_days": N_("days must be a whole number from 1 to {max}"),
    "unknown_link": N_("no survey link with the id {link}"),
    "bad_link": N_("this survey link is not valid"),
    "link_expired": N_("this survey link has expired"),
    "link_revoked": N_("this survey link was withdrawn"),
}


def message(code: str, lang: str | None = "en", **params: Any) -> str:
    """A survey-link message in `lang` (en, pl, tr, hi), English when the language is unknown."""
    return localize(_MESSAGES, code, lang, **params)


# ---------------------------------------------------------------- errors

class LinkError(ConciergeError):
    """A link that does not (or no longer) work; `shop`/`market` say whose it was, if known."""

    def __init__(self, code: str, lang: str = "en", *, shop: str | None = None, market: str | None = None,
                 expired_at: datetime | None = None):
        super().__init__(message(code, lang))
        self.code = code
        self.shop = shop
        self.market = market
        self.expired_at = expired_at


class BadLink(LinkError):
    """Tampered, truncated, signed with another secret, or naming a link we do not have: 404."""

    status = 404

    def __init__(self, lang: str = "en", **kw: Any):
        super().__init__("bad_link", lang, **kw)


class ExpiredLink(LinkError):
    """Signed by us, but past its expiry: 410 Gone."""

    status = 410

    def __init__(self, lang: str = "en", **kw: Any):
        super().__init__("link_expired", lang, **kw)


class RevokedLink(LinkError):
    """Withdrawn by a consultant before it expired: 410 Gone."""

    status = 410

    def __init__(self, lang: str = "en", **kw: Any):
        super().__init__("link_revoked", lang, **kw)


# ---------------------------------------------------------------- tokens (pure)

@dataclass(frozen=True)
class LinkClaims:
    """What a valid token says: whose link, which one, and until when."""

    shop: str
    link_id: int
    nonce: str
    expires_at: datetime
    issued_at: datetime


def _serializer(secret: str | bytes, now: datetime, salt: str = SALT) -> URLSafeTimedSerializer:
    """itsdangerous' timed serializer whose clock is `now` (so expiry is testable); each kind of
    link has its own salt, so a token of one kind never opens another."""
    stamp = int(now.timestamp())

    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    return URLSafeTimedSerializer(secret, salt=salt, signer=_Signer)


timed_serializer = _serializer


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return when.astimezone(timezone.utc)


def sign_link(secret: str | bytes, *, shop: str, link_id: int, nonce: str, expires_at: datetime,
              now: datetime) -> str:
    """The URL-safe token for one link (no secrets inside; only the signature needs the key)."""
    payload = [shop, int(link_id), nonce, int(_aware(expires_at).timestamp())]
    return _serializer(secret, _aware(now)).dumps(payload)


def read_token(secret: str | bytes, token: str, *, now: datetime) -> LinkClaims:
    """Check the signature and expiry of a token; BadLink or ExpiredLink (with its shop) if not."""
    now = _aware(now)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise BadLink()
    try:
        # the timed serializer's own max age is a backstop; the link's expiry is in the payload
        payload, issued = _serializer(secret, now).loads(
            token, max_age=(MAX_DAYS + 1) * 86400, return_timestamp=True)
    except SignatureExpired as exc:  # older than any link may live, or signed "in the future"
        raise BadLink() if (exc.date_signed and exc.date_signed > now) else ExpiredLink() from None
    except (BadData, ValueError, TypeError):  # bad signature, bad base64, bad JSON, bad zlib
        raise BadLink() from None
    if not (isinstance(payload, list) and len(payload) == 4 and isinstance(payload[0], str)
            and isinstance(payload[1], int) and isinstance(payload[2], str) and isinstance(payload[3], int)
            and not isinstance(payload[1], bool) and not isinstance(payload[3], bool)):
        raise BadLink()
    shop, link_id, nonce, expires = payload
    try:
        expires_at = datetime.fromtimestamp(expires, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise BadLink() from None
    claims = LinkClaims(shop=shop, link_id=link_id, nonce=nonce, expires_at=expires_at,
                        issued_at=_aware(issued))
    if now >= expires_at:
        raise ExpiredLink(shop=shop, expired_at=expires_at)
    return claims


def check_link(claims: LinkClaims, *, shop: str | None, nonce: str | None, expires_at: datetime | None,
               revoked_at: datetime | None, now: datetime) -> None:
    """Compare a valid token with the stored link (None when there is no such row).

    No row, another shop or another nonce: BadLink (a token for a link we do not hold,
    e.g. after the database was reset). Revoked: RevokedLink. Past the stored expiry
    (which may be earlier than the token's): ExpiredLink.
    """
    if shop is None or nonce is None or shop != claims.shop or not hmac.compare_digest(nonce, claims.nonce):
        raise BadLink()
    if revoked_at is not None:
        raise RevokedLink(shop=claims.shop)
    stored = _aware(expires_at) if expires_at is not None else claims.expires_at
    if _aware(now) >= min(stored, claims.expires_at):
        raise ExpiredLink(shop=claims.shop, expired_at=min(stored, claims.expires_at))


def public_base_url(configured: str | None = None, request_root: str | None = None) -> str:
    """Where merchants reach us: PUBLIC_BASE_URL, else the address of the request, else the demo's."""
    return (configured or request_root or DEFAULT_BASE_URL).rstrip("/")


def link_url(base_url: str, token: str) -> str:
    """`https://example.com` + token -> `https://example.com/s/<token>`."""
    return f"{base_url.rstrip('/')}/s/{token}"




def new_attempt(session: Session | None = None, link: SurveyLink | ResolvedLink | None = None) -> str:
    """The id of one state of the form: every copy of the form made from the same state sends it.

    Given the link, it names the last submission made through the link when the form was
    shown, so a double-tapped Submit, and two tabs opened from the same state and sent at
    once, give the same submission reference: the unique (shop, reference) constraint
    stores the answers once and tells the other copy "already received". A form shown
    after that submission names it, so changing one's answers later is a new submission.
    Without a link: a random id (each rendering its own).
    """
    if session is None or link is None:
        return secrets.token_urlsafe(12)
    link = getattr(link, "link", link)
    return f"after-submission-{last_link_submission(session, link)}"


def last_link_submission(session: Session, link: SurveyLink) -> int:
    """The id of the newest submission sent through this link (0 when none was)."""
    from ..models import Submission

    return session.scalar(select(func.max(Submission.id)).where(
        Submission.shop_id == link.shop_id, Submission.reference.like(f"link-{int(link.id)}-%"))) or 0


def last_shop_link_submission(session: Session, shop: Shop) -> int:
    """The id of the newest submission sent through any survey link of the shop (0 when none was).

    static/survey.js keeps what the merchant typed in their browser; once a submission newer
    than the one the page was shown after exists, a copy marked as sent is no longer needed.
    """
    from ..models import Submission

    return session.scalar(select(func.max(Submission.id)).where(
        Submission.shop_id == shop.id, Submission.reference.like("link-%"))) or 0


# ---------------------------------------------------------------- links (database)

@dataclass(frozen=True)
class CreatedLink:
    link: SurveyLink
    shop: Shop
    token: str

    def as_dict(self, base_url: str) -> dict[str, Any]:
        """The `survey link --json` / API contract: {id, shop, url, expires_at}."""
        return {"id": self.link.id, "shop": self.shop.platform_id, "url": link_url(base_url, self.token),
                "expires_at": self.link.expires_at.isoformat()}


@dataclass(frozen=True)
class ResolvedLink:
    link: SurveyLink
    shop: Shop
    claims: LinkClaims


def valid_days(days: Any, lang: str = "en") -> int:
    """`days` as an int from 1 to MAX_DAYS, else ValidationFailed naming the field."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationFailed([{"field": "days", "code": "invalid_days",
                                 "message": f"days: {message('invalid_days', lang, max=MAX_DAYS)}"}],
                               message("invalid_days", lang, max=MAX_DAYS))
    return days


def create_link(session: Session, shop: Shop | str, *, secret: str | bytes, created_by: str,
                days: int | None = None, now: datetime | None = None, lang: str = "en") -> CreatedLink:
    """Make a link for a shop (NotFound for an unknown one); the token is returned, never stored."""
    from .shops import resolve_shop

    shop = resolve_shop(session, shop, lang=lang)
    days = valid_days(DEFAULT_DAYS if days is None else days, lang)
    now = _aware(now or utcnow()).replace(microsecond=0)
    link = SurveyLink(shop_id=shop.id, nonce=secrets.token_urlsafe(12), created_by=(created_by or "?")[:200],
                      created_at=now, expires_at=now + timedelta(days=days))
    session.add(link)
    session.flush()
    token = sign_link(secret, shop=shop.platform_id, link_id=link.id, nonce=link.nonce,
                      expires_at=link.expires_at, now=now)
    return CreatedLink(link=link, shop=shop, token=token)


def resolve_link(session: Session, token: str, *, secret: str | bytes, now: datetime | None = None) -> ResolvedLink:
    """The live link a token names, or BadLink / ExpiredLink / RevokedLink carrying the shop's market."""
    now = _aware(now or utcnow())
    try:
        claims = read_token(secret, token, now=now)
        link = session.get(SurveyLink, claims.link_id)
        shop = session.get(Shop, link.shop_id) if link is not None else None
        check_link(claims, shop=shop.platform_id if shop else None, nonce=link.nonce if link else None,
                   expires_at=link.expires_at if link else None, revoked_at=link.revoked_at if link else None,
                   now=now)
    except LinkError as exc:
        if exc.shop and not exc.market:  # signed by us: say it in the merchant's language
            exc.market = session.scalar(select(Shop.market).where(Shop.platform_id == exc.shop))
        raise
    return ResolvedLink(link=link, shop=shop, claims=claims)


def revoke_link(session: Session, link_id: int, *, now: datetime | None = None, lang: str = "en") -> SurveyLink:
    """Withdraw a link at once (410 from then on); revoking twice keeps the first time."""
    link = session.get(SurveyLink, link_id)
    if link is None:
        raise NotFound(message("unknown_link", lang, link=link_id))
    if link.revoked_at is None:
        link.revoked_at = _aware(now or utcnow())
        session.flush()
    return link


def list_links(session: Session, shop: Shop | str) -> list[SurveyLink]:
    """A shop's links, newest first."""
    from .shops import resolve_shop

    shop = resolve_shop(session, shop)
    return list(session.scalars(select(SurveyLink).where(SurveyLink.shop_id == shop.id)
                                .order_by(SurveyLink.created_at.desc(), SurveyLink.id.desc())))


def link_as_dict(link: SurveyLink, shop: Shop, *, now: datetime | None = None) -> dict[str, Any]:
    """A link's public facts (never the token): for listings."""
    now = _aware(now or utcnow())
    state = ("revoked" if link.revoked_at else "expired" if now >= link.expires_at else "active")
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {"id": link.id, "shop": shop.platform_id, "state": state, "created_by": link.created_by,
            "created_at": iso(link.created_at), "expires_at": iso(link.expires_at),
            "revoked_at": iso(link.revoked_at), "draft_saved_at": iso(link.draft_saved_at),
            "submitted_at": iso(link.submitted_at)}


# ---------------------------------------------------------------- answers

def survey_questions(schema: Any, market: str | None) -> list[Any]:
    """The questions a merchant answers in this market (source `survey`), in schema order."""
    return schema.survey_questions(market)


def survey_plan(session: Session, resolved: ResolvedLink,
                profile: profile_schema.Profile | None = None) -> profile_schema.SurveyPlan:
    """What the survey asks this shop first, what it already has, what may wait (read only).

    The rule is `profile_schema.plan_survey`, fed with what the profile knows (the trial's
    events, calls, earlier answers: not the link's draft, which is the merchant's own answers
    in progress) and the shop's stage on the launch track. `profile`: the shop's, when the
    caller built it already (a page that also pre-fills the form builds it once).
    """
    from .profiles import known_values, load_profile

    if profile is None:
        profile = load_profile(session, resolved.shop)
    return profile_schema.plan_survey(profile_schema.load_schema(), resolved.shop.market,
                                      known_values(profile), stage=profile.readiness.stage)


def draft_key(shop: Shop, secret: str | bytes) -> str:
    """An opaque name for this shop's answers kept in the merchant's browser (static/survey.js).

    The same for every link of the shop, so what was typed under an expired link comes back
    under the new one; it names neither the shop nor the link to anyone reading the storage.
    """
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"survey-draft:{shop.platform_id}".encode(), "sha256").hexdigest()[:24]


def applies(question: Any, known: Mapping[str, Any]) -> bool:
    """Skip logic: False only when the known answers rule the question out."""
    return not question.relevant or profile_schema.evaluate_condition(question.relevant, known) is not False


def _error_dict(e: Any) -> dict[str, Any]:
    d = e.as_dict() if hasattr(e, "as_dict") else dict(e)
    return {"field": d.get("field") or "", "code": d.get("code") or "error", "message": d.get("message") or ""}


def check_each(schema: Any, market: str | None, raw: Mapping[str, Any], lang: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check every answer on its own (no required questions, no skip logic yet).

    Returns the clean values of the valid answers and an error for each invalid one;
    blank answers say nothing and are left out.
    """
    clean: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for key, value in raw.items():
        checked = schema.validate({key: value}, market=market, source="survey", lang=lang)
        if checked.errors:
            errors.extend(_error_dict(e) for e in checked.errors)
        elif key in checked.values:
            clean[key] = checked.values[key]
    return clean, errors


def _relevant_only(schema: Any, clean: dict[str, Any], errors: list[dict[str, Any]],
                   known: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Drop answers (and their errors) to questions the other answers rule out."""
    merged = {**known, **clean}
    keep = {k: v for k, v in clean.items() if k not in schema.questions or applies(schema.questions[k], merged)}
    errs = [e for e in errors if e["field"] not in schema.questions or applies(schema.questions[e["field"]], merged)]
    return keep, errs


def _known(session: Session, shop: Shop, profile: profile_schema.Profile | None = None) -> dict[str, Any]:
    from .profiles import known_values, load_profile

    return known_values(profile if profile is not None else load_profile(session, shop))


@dataclass
class AnswerOutcome:
    """What saving or submitting did: the answers kept, the errors, and what was stored."""

    saved: dict[str, Any] = field(default_factory=dict)  # the draft as now stored
    errors: list[dict[str, Any]] = field(default_factory=list)  # {field: question key, code, message}
    submitted: bool = False
    submission_id: int | None = None
    accepted: int = 0
    duplicate: bool = False  # the same form was received already: stored once, this copy not again
    kept_as_draft: bool = False  # a duplicate whose answers differ: kept as the link's draft

    @property
    def ok(self) -> bool:
        return not self.errors


def form_values(session: Session, resolved: ResolvedLink,
                profile: profile_schema.Profile | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what to pre-fill: the profile's answers overlaid with the draft, what the profile knows);
    `profile`: the shop's, when the caller built it already."""
    known = _known(session, resolved.shop, profile)
    questions = {q.key for q in survey_questions(profile_schema.load_schema(), resolved.shop.market)}
    values = {k: v for k, v in known.items() if k in questions and v is not None}
    values.update({k: v for k, v in (resolved.link.draft or {}).items() if k in questions})
    return values, known


def save_draft(session: Session, resolved: ResolvedLink, raw: Mapping[str, Any], *, lang: str = "en",
               now: datetime | None = None) -> AnswerOutcome:
    """Keep the merchant's unfinished answers: each valid one is stored, each invalid one named.

    Partial on purpose: nothing is required yet. The draft replaces the previous one
    (a cleared field falls back to what the profile knows).
    """
    schema = profile_schema.load_schema()
    market = resolved.shop.market
    clean, errors = check_each(schema, market, raw, lang)
    clean, errors = _relevant_only(schema, clean, errors, _known(session, resolved.shop))
    link = resolved.link
    link.draft = clean
    link.draft_saved_at = _aware(now or utcnow())
    link.started_at = link.started_at or link.draft_saved_at  # the completion report's "started"
    link.language = lang if lang in LANGUAGES else link.language
    session.flush()
    return AnswerOutcome(saved=clean, errors=in_form_order(schema, errors))


def submit_answers(session: Session, resolved: ResolvedLink, raw: Mapping[str, Any], *, lang: str = "en",
                   attempt: str | None = None, now: datetime | None = None) -> AnswerOutcome:
    """Submit the merchant's answers through `submit_survey`, whole or not at all.

    On any error nothing is submitted, and the valid answers are kept as the draft so the
    merchant's input survives closing the page. Answers equal to what the profile knows
    are not sent again; when nothing is new, the required questions are still checked
    (they may be known already) and no submission is made.

    `attempt` names the state of the link the form was shown in (`new_attempt`): a form
    sent again from the same state (a double tap, a second tab, even at the same moment)
    is "already received" (`duplicate`), stored once; if its answers differ from what is
    now stored, they become the link's draft (`kept_as_draft`) instead of being lost.
    """
    from .surveys import find_duplicate, submit_survey

    schema = profile_schema.load_schema()
    shop, link = resolved.shop, resolved.link
    now = _aware(now or utcnow())
    known = _known(session, shop)
    clean, errors = check_each(schema, shop.market, raw, lang)
    clean, errors = _relevant_only(schema, clean, errors, known)
    new = {k: v for k, v in clean.items() if known.get(k) != v}
    outcome = AnswerOutcome(saved=clean, errors=errors)
    if not (attempt and _ATTEMPT_RE.match(attempt)):  # no form state sent: the link's state now
        attempt = new_attempt(session, link)
    reference = f"link-{link.id}-{attempt}"
    earlier = None if errors else find_duplicate(session, shop, reference)
    if errors:  # say at once what is missing too, not only what is wrong
        errored = {e["field"] for e in errors}
        missing = schema.validate(clean, market=shop.market, source="survey", lang=lang, known=known,
                                  require_survey_fields=True)
        outcome.errors = errors + [_error_dict(e) for e in missing.errors
                                   if e.code == "required" and e.field not in errored]
    elif earlier is not None:  # this state of the form was sent already (another tab, a second tap)
        outcome.submission_id, outcome.duplicate = earlier.id, True
        outcome.kept_as_draft = bool(new)  # what differs is not lost: the link shows it again
    elif not new:  # nothing new: only the required questions can still be missing
        checked = schema.validate({}, market=shop.market, source="survey", lang=lang, known=known,
                                  require_survey_fields=True)
        outcome.errors = [_error_dict(e) for e in checked.errors]
    else:
        body = {"shop": shop.platform_id, "language": lang, "response_id": reference, "answers": new}
        try:
            result = submit_survey(session, body, actor=ACTOR, lang=lang, channel=CHANNEL, now=now)
        except ValidationFailed as exc:
            outcome.errors = [_unprefixed(e) for e in exc.errors]
        else:
            outcome.submission_id, outcome.accepted = result.submission_id, result.accepted
            outcome.duplicate = result.duplicate
            if result.duplicate:  # the other tab's copy won the race a moment ago
                latest = _known(session, shop)
                outcome.kept_as_draft = any(latest.get(k) != v for k, v in clean.items())
    if outcome.errors:
        outcome.errors = in_form_order(schema, outcome.errors)
        link.draft = clean  # nothing submitted, nothing lost
        link.draft_saved_at = now
    elif outcome.kept_as_draft:
        outcome.submitted = True
        link.draft = clean
        link.draft_saved_at = now
    else:
        outcome.submitted = True
        link.draft = None
        link.draft_saved_at = None
        link.submitted_at = now
    link.started_at = link.started_at or now  # the completion report: a POST starts, a first submit finishes
    if outcome.submitted and not outcome.kept_as_draft and link.finished_at is None:
        link.finished_at = now
    link.language = lang if lang in LANGUAGES else link.language
    session.flush()
    return outcome


def _unprefixed(e: Any) -> dict[str, Any]:
    """`answers.owner.name` (the API body's path) -> `owner.name` (the form's question)."""
    d = _error_dict(e)
    f = d["field"]
    d["field"] = f[len("answers."):] if f.startswith("answers.") else ("" if f == "answers" else f)
    return d


def in_form_order(schema: Any, errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors in the order the questions appear (errors about the whole form first)."""
    order = {k: i for i, k in enumerate(schema.questions)}
    return sorted(errors, key=lambda e: order.get(e["field"], -1))
