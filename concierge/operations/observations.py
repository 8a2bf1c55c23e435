"""Recording answers: validate a whole submission, then store it whole or not at all."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

import profile_schema
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import NOT_ACCEPTED, DuplicateSubmission, ValidationFailed
from ..messages import translate
from ..models import Observation, Shop, Submission
from .profiles import known_values, load_profile
from .shops import resolve_shop

def record_answers(
    session: Session,
    shop: Shop | str,
    answers: dict[str, Any],
    *,
    actor: str,
    source: str = "call",
    channel: str = "cli",
    observed_at: datetime | None = None,
    lang: str = "en",
    require_survey_fields: bool = False,
    reference: str | None = None,
    now: datetime | None = None,
    rescore: bool = True,
) -> Submission:
    """Store one submission of answers after checking every one, so a bad answer stores nothing.

    Then the shop's score, reasons and path are made again in the same transaction
    (`answers_changed`), so the next page shows them fresh; bulk callers pass
    `rescore=False` and leave it to the planner (`operations.scoring.service.rescore_shops`); they
    refresh the shops' `shop_state` rows once at their end (`shop_state.refresh_states`).
    """
    shop = resolve_shop(session, shop, lang=lang)
    schema = profile_schema.load_schema()
    known = known_values(load_profile(session, shop))
    checked = schema.validate(answers, market=shop.market, source=source, lang=lang, known=known,
                              require_survey_fields=require_survey_fields)
    if checked.errors:
        raise ValidationFailed(checked.errors, translate(NOT_ACCEPTED, lang))
    now = now or utcnow()
    submission = Submission(shop_id=shop.id, source=source, channel=channel, actor=actor,
                            received_at=now, reference=reference)
    if reference is None:
        session.add(submission)
        session.flush()
    else:
        # Two copies of one response may race past the caller's duplicate check; the
        # unique (shop, reference) constraint decides, and the loser is told "duplicate".
        try:
            with session.begin_nested():
                session.add(submission)
                session.flush()
        except IntegrityError:
            earlier = session.scalars(select(Submission).where(
                Submission.shop_id == shop.id, Submission.reference == reference)).first()
            if earlier is None:
                raise
            raise DuplicateSubmission(earlier) from None
    at = observed_at or now
    add_observations_bulk(session, [
        {"shop_id": shop.id, "question": key, "value": value, "op": "set", "source": source,
         "actor": actor, "observed_at": at, "recorded_at": now, "schema_version": schema.version,
         "submission_id": submission.id, "event_id": None}
        for key, value in checked.values.items()
    ])
    if rescore and checked.values:
        answers_changed(session, [shop.id], now=now)
    return submission


def answers_changed(session: Session, shop_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """The one hook after a shop's answers change: its score, reasons and path are made again
    with the active model (if any), then its read-model row (`shop_state`), both in the same
    transaction. Returns the score rows stored."""
    from .scoring.service import rescore_shops
    from .shop_state import refresh_states

    ids = list(shop_ids)
    stored = rescore_shops(session, ids, now=now, refresh=False)
    refresh_states(session, ids, now=now)
    return stored


def add_observations_bulk(session: Session, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert already-validated observation rows in one executemany, for the fast paths."""
    rows = list(rows)
    if rows:
        session.execute(insert(Observation), rows)
    return len(rows)
