"""The survey operations on a real session (SQLite and PostgreSQL), without HTTP."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from concierge.errors import NotFound, ValidationFailed
from concierge.models import DeadLetter, Observation, Submission
from concierge.operations.imports import import_surveys, load_mapping
from concierge.operations.shops import ensure_shop
from concierge.operations.surveys import pick_language, receive_survey, submit_survey

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "surveys"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
ANSWERS = {
    "owner.name": "Ayşe Yılmaz", "owner.hours_per_week": 25, "experience.sold_online_before": False,
    "experience.tech_comfort": 4, "needs.help_with": ["payments"], "business.type": "new_brand",
    "business.category": "fashion",
}


@pytest.mark.parametrize("requested, header, expected", [
    ("pl", "tr", "pl"),
    ("PL-pl", None, "pl"),
    (None, "tr-TR,tr;q=0.9,en;q=0.5", "tr"),
    (None, "de-DE, pl;q=0.3", "pl"),
    (None, "pl-PL", "pl"),
    ("de", "fr", "en"),
    (None, None, "en"),
    (7, "tr", "tr"),
])
def test_pick_language(requested, header, expected):
    assert pick_language(requested, header) == expected


def test_submit_stores_whole_and_counts_answers(session):
    ensure_shop(session, "tr-1", "TR")
    result = submit_survey(session, {"shop": "tr-1", "answers": {**ANSWERS, "needs.main_goal": None}},
                           actor="t", now=NOW)
    assert result.accepted == len(ANSWERS) and not result.duplicate
    assert session.scalar(select(func.count(Observation.id))) == len(ANSWERS)
    at = session.scalar(select(Observation.observed_at).limit(1))
    assert at == NOW  # no submitted_at: dated when received


def test_receive_rejects_without_storing_anything_but_the_dead_letter(session):
    ensure_shop(session, "tr-1", "TR")
    raw = json.dumps({"shop": "tr-1", "language": "tr", "answers": {**ANSWERS, "business.category": "silah"}},
                     ensure_ascii=False)
    with pytest.raises(ValidationFailed) as exc:
        receive_survey(session, raw.encode("utf-8"), actor="api:x", now=NOW)
    assert exc.value.errors[0]["field"] == "answers.business.category"
    assert exc.value.errors[0]["message"].startswith("Kategori: şunlardan biri olmalı: fashion")
    assert session.scalar(select(func.count(Submission.id))) == 0
    dl = session.scalars(select(DeadLetter)).one()
    assert dl.payload == raw and dl.channel == "surveys" and dl.context["language"] == "tr"
    assert dl.id == exc.value.dead_letter_id


def test_unknown_shop_is_not_found(session):
    with pytest.raises(NotFound) as exc:
        receive_survey(session, json.dumps({"shop": "nope", "answers": ANSWERS}), actor="x", now=NOW)
    assert exc.value.status == 404 and exc.value.as_dict()["errors"][0]["code"] == "unknown_shop"


def test_response_imported_then_posted_is_one_response(session):
    for pid, market in (("tr-2001", "TR"), ("tr-2002", "TR"), ("tr-2003", "TR")):
        ensure_shop(session, pid, market)
    import_surveys(session, FIXTURES / "tr_export.csv", load_mapping(FIXTURES / "tr_mapping.yaml"), actor="csv")
    before = session.scalar(select(func.count(Observation.id)))
    result = submit_survey(session, {"shop": "tr-2001", "response_id": "TR-1", "answers": ANSWERS},
                           actor="api:x", now=NOW)
    assert result.duplicate
    assert session.scalar(select(func.count(Observation.id))) == before


def test_submitted_at_dates_the_observations(session):
    ensure_shop(session, "tr-1", "TR")
    submit_survey(session, {"shop": "tr-1", "submitted_at": "2026-11-19T23:30:00+03:00", "answers": ANSWERS},
                  actor="t", now=NOW)
    assert session.scalar(select(Observation.observed_at).limit(1)) == datetime(2026, 11, 19, 20, 30, tzinfo=timezone.utc)


def test_response_posted_then_imported_is_one_response(session):
    for pid in ("tr-2001", "tr-2002", "tr-2003"):
        ensure_shop(session, pid, "TR")
    first = submit_survey(session, {"shop": "tr-2001", "response_id": "TR-1", "answers": ANSWERS},
                          actor="api:x", now=NOW)
    report = import_surveys(session, FIXTURES / "tr_export.csv", load_mapping(FIXTURES / "tr_mapping.yaml"),
                            actor="csv")
    dup = [r for r in report.results if r.status == "duplicate"]
    assert [(r.line, r.submission_id) for r in dup] == [(2, first.submission_id)]
    assert report.accepted == 1


def test_a_wrongly_typed_answer_does_not_hide_the_other_answers_errors(session):
    """The sender learns every problem at once, in its language; nothing is stored."""
    ensure_shop(session, "pl-1", "PL")
    body = {"shop": "pl-1", "language": "pl",
            "answers": {**ANSWERS, "owner.hours_per_week": "dużo", "owner.phone": "123"}}
    with pytest.raises(ValidationFailed) as exc:
        submit_survey(session, body, actor="t", lang="pl", now=NOW)
    fields = {e["field"]: e["message"] for e in exc.value.errors}
    assert set(fields) == {"answers.owner.hours_per_week", "answers.owner.phone"}
    assert "null" not in fields["answers.owner.hours_per_week"]
    assert fields["answers.owner.phone"].startswith("Telefon:")
    assert session.scalar(select(func.count(Submission.id))) == 0
