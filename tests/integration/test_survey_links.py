"""Survey link operations on a real session (SQLite and PostgreSQL), without HTTP."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from concierge.errors import NotFound, ValidationFailed
from concierge.models import Observation, Submission, SurveyLink
from concierge.operations.observations import record_answers
from concierge.operations.shops import ensure_shop
from concierge.operations.survey_links import (
    BadLink,
    ExpiredLink,
    RevokedLink,
    create_link,
    form_values,
    link_as_dict,
    list_links,
    resolve_link,
    revoke_link,
    save_draft,
    submit_answers,
)

SECRET = "integration-secret"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
RAW_TR = {"owner.name": "Ayşe Yılmaz", "owner.hours_per_week": "25", "experience.sold_online_before": "evet",
          "experience.tech_comfort": "4", "needs.help_with": ["payments"], "business.type": "new_brand",
          "business.category": "fashion"}


@pytest.fixture
def shop(session):
    return ensure_shop(session, "tr-1", "TR", name="Çiçekçi")


def test_create_then_resolve_round_trips_through_the_database(session, shop):
    created = create_link(session, shop, secret=SECRET, created_by="anna", days=7, now=T0)
    assert created.link.expires_at == T0 + timedelta(days=7)
    assert created.token not in repr(created.link.__dict__)  # the token is never stored
    resolved = resolve_link(session, created.token, secret=SECRET, now=T0 + timedelta(days=6))
    assert resolved.shop.platform_id == "tr-1" and resolved.link.id == created.link.id
    assert created.as_dict("https://x.example/")["url"] == f"https://x.example/s/{created.token}"


def test_expired_revoked_and_unknown_links(session, shop):
    created = create_link(session, shop, secret=SECRET, created_by="anna", days=1, now=T0)
    with pytest.raises(ExpiredLink) as exc:
        resolve_link(session, created.token, secret=SECRET, now=T0 + timedelta(days=1))
    assert exc.value.market == "TR"  # so the page speaks Turkish
    revoke_link(session, created.link.id, now=T0)
    with pytest.raises(RevokedLink) as exc:
        resolve_link(session, created.token, secret=SECRET, now=T0)
    assert exc.value.market == "TR" and exc.value.status == 410
    first = created.link.revoked_at
    assert revoke_link(session, created.link.id, now=T0 + timedelta(hours=1)).revoked_at == first
    with pytest.raises(NotFound):
        revoke_link(session, 999999)
    # a token whose row is gone (say, the database was reset under the same secret)
    other = create_link(session, shop, secret=SECRET, created_by="anna", now=T0)
    session.delete(other.link)
    session.flush()
    with pytest.raises(BadLink):
        resolve_link(session, other.token, secret=SECRET, now=T0)


def test_unknown_shop_and_bad_days(session, shop):
    with pytest.raises(NotFound):
        create_link(session, "nope", secret=SECRET, created_by="x")
    for days in (0, 91, "7", True, 1.5):
        with pytest.raises(ValidationFailed) as exc:
            create_link(session, shop, secret=SECRET, created_by="x", days=days)
        assert exc.value.errors[0]["field"] == "days"
    assert session.scalar(select(func.count(SurveyLink.id))) == 0


def test_draft_keeps_valid_answers_and_names_invalid_ones(session, shop):
    resolved = resolve_link(session, create_link(session, shop, secret=SECRET, created_by="a", now=T0).token,
                            secret=SECRET, now=T0)
    outcome = save_draft(session, resolved, {"owner.name": "Ayşe", "owner.hours_per_week": "500"}, lang="tr", now=T0)
    assert outcome.saved == {"owner.name": "Ayşe"}
    assert [(e["field"], e["code"]) for e in outcome.errors] == [("owner.hours_per_week", "above_max")]
    assert outcome.errors[0]["message"].startswith("Mağazaya haftada ayrılan saat:")
    values, known = form_values(session, resolved)
    assert values == {"owner.name": "Ayşe"} and known == {}
    assert session.scalar(select(func.count(Observation.id))) == 0


def test_submit_goes_through_submit_survey_whole_or_not_at_all(session, shop):
    resolved = resolve_link(session, create_link(session, shop, secret=SECRET, created_by="a", now=T0).token,
                            secret=SECRET, now=T0)
    bad = submit_answers(session, resolved, {**RAW_TR, "business.category": None, "owner.phone": "12"},
                         lang="tr", now=T0)
    assert not bad.submitted
    assert {e["field"] for e in bad.errors} == {"owner.phone", "business.category"}  # wrong, and missing
    assert session.scalar(select(func.count(Submission.id))) == 0
    assert resolved.link.draft["owner.name"] == "Ayşe Yılmaz"  # nothing lost
    good = submit_answers(session, resolved, RAW_TR, lang="tr", attempt="attempt-0001", now=T0)
    assert good.submitted and good.accepted == len(RAW_TR)
    sub = session.get(Submission, good.submission_id)
    assert (sub.source, sub.actor, sub.channel, sub.reference) == (
        "survey", "merchant", "survey_link", f"link-{resolved.link.id}-attempt-0001")
    assert resolved.link.draft is None and resolved.link.submitted_at == T0
    again = submit_answers(session, resolved, {**RAW_TR, "owner.hours_per_week": "30"}, lang="tr",
                           attempt="attempt-0001", now=T0)
    assert again.submitted and again.duplicate  # the same rendering of the form, sent twice
    state = link_as_dict(resolved.link, shop, now=T0)
    assert state["state"] == "active" and state["submitted_at"] == T0.isoformat()
    assert [link.id for link in list_links(session, "tr-1")] == [resolved.link.id]


def test_required_answers_may_be_known_already_and_unchanged_ones_are_not_resent(session, shop):
    record_answers(session, shop, {k: v for k, v in RAW_TR.items()}, actor="cons", observed_at=T0, now=T0)
    resolved = resolve_link(session, create_link(session, shop, secret=SECRET, created_by="a", now=T0).token,
                            secret=SECRET, now=T0)
    nothing_new = submit_answers(session, resolved, RAW_TR, lang="en", now=T0)
    assert nothing_new.submitted and nothing_new.submission_id is None
    changed = submit_answers(session, resolved, {**RAW_TR, "owner.hours_per_week": "30"}, lang="en", now=T0)
    assert changed.accepted == 1
    rows = session.execute(select(Observation.question, Observation.source, Observation.actor)
                           .where(Observation.submission_id == changed.submission_id)).all()
    assert rows == [("owner.hours_per_week", "survey", "merchant")]


def test_skip_logic_drops_answers_the_other_answers_rule_out(session, shop):
    resolved = resolve_link(session, create_link(session, shop, secret=SECRET, created_by="a", now=T0).token,
                            secret=SECRET, now=T0)
    out = submit_answers(session, resolved, {**RAW_TR, "experience.sold_online_before": "hayır",
                                             "experience.platforms": ["etsy"], "experience.years_selling_online": "x"},
                         lang="tr", now=T0)
    assert out.ok, out.errors  # the invalid answer to a question that does not apply is not an error either
    stored = set(session.scalars(select(Observation.question).where(Observation.submission_id == out.submission_id)))
    assert "experience.platforms" not in stored and "experience.sold_online_before" in stored
