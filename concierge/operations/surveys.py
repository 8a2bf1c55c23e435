"""Merchant surveys: accept a survey tool's response whole or not at all, never lose one.

The API endpoint, the dead-letter replay and the tests all go through `receive_survey`
/ `submit_survey`. A rejected request is kept verbatim in the dead-letter store
(channel "surveys") with what replay needs (language, actor, the Accept-Language
header), so fixing the cause (a shop that had not arrived yet) and running
`concierge deadletter replay` recovers it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

import profile_schema
from locales import LANGUAGES

from ..db import utcnow
from ..errors import ConciergeError, DuplicateSubmission, NotFound, ValidationFailed
from ..messages import N_, SHOP_MESSAGES, language, localize
from ..models import DeadLetter, Observation, Shop, Submission

CHANNEL = "surveys"
CLOCK_SKEW = timedelta(minutes=5)  # a survey tool's clock may run a little ahead of ours

_MESSAGES: dict[str, str] = {
    "malformed_json": N_("The request body is not valid JSON: {detail}"),
    "not_an_object": N_("The request body must be a JSON object"),
    "rejected": N_("The survey was not accepted; nothing was stored"),
    "in_future": N_("lies in the future"),
    "invalid_datetime": N_("must be a date and time as RFC 3339 with an offset, e.g. "
                           "2026-11-02T10:15:00+01:00"),
}


def message(code: str, lang: str | None = "en", **params: Any) -> str:
    """A survey error message in `lang` (en, pl, tr, hi), English when the language is unknown."""
    return localize({**SHOP_MESSAGES, **_MESSAGES}, code, lang, **params)


base_language = language  # `pl-PL`, `tr_TR`, `PL` -> `pl`; empty -> `en`


def pick_language(requested: Any = None, accept_language: str | None = None) -> str:
    """The reply language: the body's `language` if we speak it, else Accept-Language's best, else en."""
    if isinstance(requested, str) and base_language(requested) in LANGUAGES:
        return base_language(requested)
    if accept_language:
        accept = parse_accept_header(accept_language, LanguageAccept)
        best = accept.best_match(LANGUAGES)
        if best:
            return best
        for value, _quality in accept:  # "pl-PL" without a bare "pl": match on the base language
            if base_language(value) in LANGUAGES:
                return base_language(value)
    return "en"


class MalformedRequest(ConciergeError):
    """The body is not JSON (or not an object): answered 400, still dead-lettered."""

    status = 400
    code = "malformed_json"

    def __init__(self, message_text: str, errors: list[dict[str, Any]]):
        super().__init__(message_text)
        self.errors = errors

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": str(self), "errors": self.errors}


class UnknownShop(NotFound):
    """The survey names a shop we do not know (yet): 404, dead-lettered for replay."""

    def __init__(self, shop: str, lang: str):
        text = message("unknown_shop", lang, shop=shop)
        super().__init__(text)
        self.errors = [{"field": "shop", "code": "unknown_shop", "message": text}]

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": str(self), "errors": self.errors}


@dataclass(frozen=True)
class SurveyResult:
    """What became of one survey response."""

    shop: str
    submission_id: int | None
    accepted: int
    duplicate: bool = False

    def as_dict(self) -> dict[str, Any]:
        if self.duplicate:
            return {"duplicate": True, "shop": self.shop, "submission_id": self.submission_id}
        return {"submission_id": self.submission_id, "shop": self.shop, "accepted": self.accepted}


def find_duplicate(session: Session, shop: Shop, reference: str) -> Submission | None:
    """The submission already stored for this shop under this reference (response id or line hash)."""
    return session.scalars(
        select(Submission).where(Submission.shop_id == shop.id, Submission.reference == reference)
        .order_by(Submission.id).limit(1)
    ).first()


def parse_body(raw: str | bytes, lang: str, content_type: str | None = None) -> dict[str, Any]:
    """JSON text -> object, or MalformedRequest (400) / ValidationFailed (415, 422) naming what is wrong:
    the boundary checks every JSON channel shares (Content-Type, UTF-8, NUL, lone surrogates)."""
    from ..ingest.bodies import BodyRejected, load_json_body

    try:
        data = load_json_body(raw, lang, content_type=content_type)
    except BodyRejected as rej:
        if rej.status == 400:  # this channel's own wording of "not JSON"
            text = message("malformed_json", lang, detail=rej.detail or "")
            raise MalformedRequest(text, [{"field": "", "code": "malformed_json", "message": text}]) from None
        from ..errors import body_rejection

        raise body_rejection(rej.status, rej.errors, message("rejected", lang)) from None
    if not isinstance(data, dict):
        raise MalformedRequest(message("not_an_object", lang),
                               [{"field": "", "code": "not_an_object", "message": message("not_an_object", lang)}])
    return data


def _parse_submitted_at(value: str, lang: str, now: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise ValidationFailed([{"field": "submitted_at", "code": "invalid_datetime",
                                 "message": f"submitted_at: {message('invalid_datetime', lang)}"}],
                               message("rejected", lang))
    at = at.astimezone(timezone.utc)
    if at > now + CLOCK_SKEW:
        raise ValidationFailed([{"field": "submitted_at", "code": "in_future",
                                 "message": f"submitted_at: {message('in_future', lang)}"}],
                               message("rejected", lang))
    return at


def submit_survey(
    session: Session,
    body: Mapping[str, Any],
    *,
    actor: str,
    lang: str = "en",
    channel: str = "api",
    now: datetime | None = None,
) -> SurveyResult:
    """Check a parsed survey body (JSON Schema, then the interview schema) and store it whole."""
    from ..ingest.survey_schemas import validate_survey_body
    from .observations import record_answers
    from .shops import get_shop

    now = now or utcnow()
    body_errors = validate_survey_body(body, lang)
    if body_errors:
        raise ValidationFailed(body_errors + _other_answer_errors(session, body, body_errors, lang),
                               message("rejected", lang))
    shop_id = body["shop"]
    try:
        shop = get_shop(session, shop_id, lang=lang)
    except NotFound:
        raise UnknownShop(shop_id, lang) from None
    reference = body.get("response_id")
    if reference is not None:
        earlier = find_duplicate(session, shop, reference)
        if earlier is not None:
            return SurveyResult(shop=shop.platform_id, submission_id=earlier.id, accepted=0, duplicate=True)
    observed_at = None
    if body.get("submitted_at") is not None:
        observed_at = _parse_submitted_at(body["submitted_at"], lang, now)
    try:
        submission = record_answers(session, shop, dict(body["answers"]), actor=actor, source="survey",
                                    channel=channel, observed_at=observed_at, lang=lang,
                                    require_survey_fields=True, reference=reference, now=now)
    except DuplicateSubmission as dup:  # a copy sent at the same moment won the race
        return SurveyResult(shop=shop.platform_id, submission_id=dup.submission.id, accepted=0, duplicate=True)
    except ValidationFailed as exc:
        raise ValidationFailed([_prefix_answers(e) for e in exc.errors], message("rejected", lang)) from None
    accepted = session.scalar(select(func.count(Observation.id))
                              .where(Observation.submission_id == submission.id)) or 0
    return SurveyResult(shop=shop.platform_id, submission_id=submission.id, accepted=accepted)


def _other_answer_errors(session: Session, body: Mapping[str, Any], body_errors: list[dict[str, Any]],
                         lang: str) -> list[dict[str, Any]]:
    """When only some answers have the wrong JSON type, check the others too.

    The sender then learns every problem in one answer instead of one per attempt. Only
    when the envelope itself is sound (a known shop, an answers object); nothing is stored.
    """
    from .profiles import known_values, load_profile
    from .shops import get_shop

    flagged = set()
    for e in body_errors:
        field = e.get("field") or ""
        if not field.startswith("answers."):
            return []
        flagged.add(field[len("answers."):])
    answers = body.get("answers")
    if not isinstance(answers, Mapping) or not isinstance(body.get("shop"), str):
        return []
    try:
        shop = get_shop(session, body["shop"], lang=lang)
    except NotFound:
        return []
    rest = {k: v for k, v in answers.items() if k not in flagged}
    checked = profile_schema.load_schema().validate(
        rest, market=shop.market, source="survey", lang=lang,
        known=known_values(load_profile(session, shop)), require_survey_fields=True)
    return [_prefix_answers(e) for e in checked.errors if e.field not in flagged]


def _prefix_answers(error: Any) -> dict[str, Any]:
    """Interview errors name the question; in the body it lives under `answers`."""
    d = error.as_dict() if hasattr(error, "as_dict") else dict(error)
    field = d.get("field") or ""
    d["field"] = f"answers.{field}" if field else "answers"
    return d


def receive_survey(
    session: Session,
    raw: str | bytes,
    *,
    actor: str,
    accept_language: str | None = None,
    content_type: str | None = None,
    now: datetime | None = None,
) -> SurveyResult:
    """Take a survey request body as sent; store it, or dead-letter it verbatim and raise why."""
    lang = pick_language(None, accept_language)
    body: dict[str, Any] | None = None
    try:
        body = parse_body(raw, lang, content_type)
        lang = pick_language(body.get("language"), accept_language)
        return submit_survey(session, body, actor=actor, lang=lang, channel="api", now=now)
    except ConciergeError as exc:
        from .deadletters import store_dead_letter

        errors = getattr(exc, "errors", None) or [{"field": "", "code": exc.code, "message": str(exc)}]
        errors = [e.as_dict() if hasattr(e, "as_dict") else e for e in errors]
        context = {
            "language": lang, "accept_language": accept_language, "content_type": content_type,
            "actor": actor, "status": exc.status, "shop": body.get("shop") if isinstance(body, dict) else None,
        }
        # a tool retrying the same rejected request: one letter, counted, latest reasons
        dl = store_dead_letter(session, CHANNEL, raw, errors=errors, context=context)
        exc.dead_letter_id = dl.id  # type: ignore[attr-defined]  (the reply names it)
        raise


def replay_dead_letter(session: Session, dead_letter: DeadLetter) -> None:
    """Re-run a dead-lettered survey request (e.g. after its shop arrived); raise if it still fails."""
    context = dead_letter.context or {}
    lang = pick_language(context.get("language"), context.get("accept_language"))
    try:
        body = parse_body(dead_letter.payload, lang)  # the same boundary checks as the request had
        lang = pick_language(body.get("language"), context.get("accept_language"))
        submit_survey(session, body, actor=context.get("actor") or "replay", lang=lang, channel="api")
    except (UnknownShop, MalformedRequest) as exc:  # keep the field-level reasons on the dead letter
        raise ValidationFailed(exc.errors, str(exc)) from None
