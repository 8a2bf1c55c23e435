"""Shops, answers and profiles on real SQLite and PostgreSQL: stored whole or not at all."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from concierge.errors import NotFound, ValidationFailed
from concierge.models import Observation, Submission
from concierge.operations.observations import record_answers
from concierge.operations.profiles import load_profile, profile_changes, shop_observations
from concierge.operations.shops import ensure_shop, get_shop, list_shops

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_ensure_shop_creates_once_and_fills_in(session):
    a = ensure_shop(session, "s-1", "PL")
    b = ensure_shop(session, "s-1", "PL", name="Kwiaty", trial_ends_at=T0)
    assert a.id == b.id and b.name == "Kwiaty" and b.trial_ends_at == T0
    assert get_shop(session, "s-1").id == a.id
    ensure_shop(session, "s-2", "TR")
    assert [s.platform_id for s in list_shops(session, market="TR")] == ["s-2"]
    assert len(list_shops(session)) == 2 and len(list_shops(session, limit=1)) == 1


def test_ensure_shop_rejects_bad_market_and_market_change(session):
    with pytest.raises(ValidationFailed) as exc:
        ensure_shop(session, "s-1", "DE")
    assert exc.value.errors[0]["field"] == "market"
    ensure_shop(session, "s-1", "PL")
    with pytest.raises(ValidationFailed):
        ensure_shop(session, "s-1", "IN")


def test_get_shop_unknown_names_the_shop(session):
    with pytest.raises(NotFound, match="nope"):
        get_shop(session, "nope")


def test_record_answers_stores_one_submission_and_one_observation_per_answer(session):
    ensure_shop(session, "s-1", "PL")
    sub = record_answers(session, "s-1", {"owner.name": "Anna", "owner.hours_per_week": "12",
                                          "experience.sold_online_before": "tak"},
                         actor="kasia", observed_at=T0)
    session.flush()
    rows = session.scalars(select(Observation).where(Observation.submission_id == sub.id)).all()
    assert {r.question: r.value for r in rows} == {
        "owner.name": "Anna", "owner.hours_per_week": 12, "experience.sold_online_before": True}
    assert all(r.source == "call" and r.actor == "kasia" and r.observed_at == T0 for r in rows)
    profile = load_profile(session, "s-1")
    assert profile.market == "PL" and profile.value("owner.hours_per_week") == 12
    assert profile.facts["owner.name"].source == "call"


def test_one_bad_answer_stores_nothing_and_names_the_field_in_polish(session):
    ensure_shop(session, "s-1", "PL")
    with pytest.raises(ValidationFailed) as exc:
        record_answers(session, "s-1", {"owner.name": "Anna", "owner.hours_per_week": 500},
                       actor="kasia", lang="pl")
    errors = [e.as_dict() for e in exc.value.errors]
    assert [e["field"] for e in errors] == ["owner.hours_per_week"]
    assert "Godziny tygodniowo" in errors[0]["message"]
    assert count(session, Observation) == 0 and count(session, Submission) == 0


def test_skip_logic_uses_what_the_profile_already_knows(session):
    ensure_shop(session, "s-1", "PL")
    record_answers(session, "s-1", {"experience.sold_online_before": False}, actor="a", observed_at=T0)
    with pytest.raises(ValidationFailed) as exc:
        record_answers(session, "s-1", {"experience.platforms": ["etsy"]}, actor="a")
    assert exc.value.errors[0].field == "experience.platforms"
    assert exc.value.errors[0].code == "not_relevant"


def test_profile_changes_and_as_of(session):
    ensure_shop(session, "s-1", "TR")
    record_answers(session, "s-1", {"owner.hours_per_week": 10}, actor="a", observed_at=T0)
    record_answers(session, "s-1", {"owner.hours_per_week": 30}, actor="b",
                   observed_at=T0 + timedelta(days=2))
    changes = profile_changes(session, "s-1", T0 + timedelta(days=1))
    assert [(c.key, c.before, c.after) for c in changes] == [("owner.hours_per_week", 10, 30)]
    assert load_profile(session, "s-1", as_of=T0 + timedelta(hours=1)).value("owner.hours_per_week") == 10
    obs = shop_observations(session, "s-1")
    assert [o.value for o in obs] == [10, 30] and obs[0].seq < obs[1].seq
