"""One survey response is stored once per shop, even when two copies pass the duplicate check.

The operations look for an earlier copy first; two copies arriving together can both pass
that look. The unique (shop, reference) constraint then decides, and the loser answers
"duplicate" instead of failing.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from concierge.errors import DuplicateSubmission
from concierge.models import Observation, Submission
from concierge.operations.observations import record_answers
from concierge.operations.shops import ensure_shop

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
ANSWERS = {"owner.name": "Zofia Wójcik", "owner.hours_per_week": 10}


def test_second_copy_in_the_same_transaction_is_a_duplicate_and_keeps_the_first(session):
    ensure_shop(session, "pl-1", "PL")
    first = record_answers(session, "pl-1", ANSWERS, actor="a", source="survey", reference="resp-1", now=NOW)
    with pytest.raises(DuplicateSubmission) as exc:
        record_answers(session, "pl-1", {"owner.hours_per_week": 30}, actor="b", source="survey",
                       reference="resp-1", now=NOW)
    assert exc.value.submission.id == first.id
    session.commit()  # the savepoint rolled back only the losing copy
    assert session.scalar(select(func.count(Submission.id))) == 1
    assert session.scalar(select(func.count(Observation.id))) == len(ANSWERS)


def test_copy_committed_by_another_session_meanwhile_makes_ours_a_duplicate(database):
    with database.sessionmaker() as s:
        ensure_shop(s, "pl-1", "PL")
        s.commit()
    late = database.sessionmaker()
    # "late" has looked for an earlier copy and found none; now another request stores one
    with database.sessionmaker() as other:
        record_answers(other, "pl-1", ANSWERS, actor="api", source="survey", reference="resp-9", now=NOW)
        other.commit()
    with pytest.raises(DuplicateSubmission):
        record_answers(late, "pl-1", ANSWERS, actor="api", source="survey", reference="resp-9", now=NOW)
    late.rollback()
    late.close()
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count(Submission.id))) == 1


def test_calls_without_reference_never_collide(session):
    ensure_shop(session, "pl-1", "PL")
    record_answers(session, "pl-1", ANSWERS, actor="a", now=NOW)
    record_answers(session, "pl-1", ANSWERS, actor="a", now=NOW)
    assert session.scalar(select(func.count(Submission.id))) == 2
