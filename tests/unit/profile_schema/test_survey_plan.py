"""The survey's selection rule (issue 16): short, only what we do not know, what matters first."""
from __future__ import annotations

import pytest

from profile_schema import CORE_LIMIT, load_schema, plan_survey

# what a trial shop's first events tell us (concierge/ingest/event_mapping.yaml: trial_started,
# store_details_completed)
TRIAL = {"owner.name": "Ada", "owner.email": "ada@example.com", "owner.phone": "+48600100200",
         "owner.language": "pl", "readiness.store_details": True}


def _keys(qs):
    return [q.key for q in qs]


@pytest.mark.parametrize("market", ["PL", "TR", "IN"])
def test_a_typical_new_shop_gets_at_most_twelve_questions_and_none_it_already_answered(market):
    schema = load_schema()
    plan = plan_survey(schema, market, TRIAL, stage="products")
    first = _keys(plan.shown_at_first())
    assert 7 <= len(first) <= CORE_LIMIT
    assert not set(first) & set(TRIAL)
    assert set(TRIAL) <= set(_keys(plan.have))
    required = {q.key for q in schema.survey_questions(market) if q.survey_required} - set(TRIAL)
    assert required <= set(first)
    # every survey question is somewhere, once
    assert sorted(_keys(plan.questions)) == sorted(_keys(schema.survey_questions(market)))
    assert {"PL": "readiness.ksef_ready", "TR": "readiness.etbis_registered",
            "IN": "readiness.gst_registered"}[market] in first


def test_a_follow_up_waits_right_after_its_trigger_and_is_not_counted():
    plan = plan_survey(load_schema(), "PL", TRIAL)
    ask = _keys(plan.ask)
    i = ask.index("experience.sold_online_before")
    assert ask[i + 1:i + 3] == ["experience.platforms", "experience.years_selling_online"]
    assert {"experience.platforms", "needs.preferred_call_time"} <= plan.waiting
    assert "experience.platforms" not in _keys(plan.shown_at_first())


def test_a_follow_up_already_called_for_is_an_ordinary_question_and_one_ruled_out_waits_with_its_trigger():
    schema = load_schema()
    yes = plan_survey(schema, "PL", {**TRIAL, "experience.sold_online_before": True})
    assert "experience.platforms" not in yes.waiting
    assert "experience.platforms" in _keys(yes.more)  # not core: under "tell us more"
    no = plan_survey(schema, "PL", {**TRIAL, "experience.sold_online_before": False})
    have = _keys(no.have)
    i = have.index("experience.sold_online_before")
    assert have[i + 1] == "experience.platforms"  # hidden there until the merchant says yes
    assert "experience.platforms" in no.waiting


def test_the_shops_stage_decides_what_comes_first():
    schema = load_schema()
    new = _keys(plan_survey(schema, "PL", TRIAL, stage="setting_up").ask)
    legal = _keys(plan_survey(schema, "PL", TRIAL, stage="legal").ask)
    assert new.index("business.type") < new.index("readiness.ksef_ready")
    assert legal.index("readiness.ksef_ready") < legal.index("business.type")


def test_the_limit_cuts_optional_core_questions_never_required_ones():
    schema = load_schema()
    plan = plan_survey(schema, "PL", {}, limit=8)
    first = plan.shown_at_first()
    assert len(first) == 8
    assert {q.key for q in schema.survey_questions("PL") if q.survey_required} <= set(_keys(first))
    cut = [q for q in plan.more if q.core]
    assert cut and all(not q.survey_required for q in cut)
    # nothing known: even the contact questions are core, yet the default part stays short
    assert len(plan_survey(schema, "PL", {}).shown_at_first()) <= CORE_LIMIT


def test_what_we_know_is_never_asked_even_when_core():
    schema = load_schema()
    known = {**TRIAL, "business.category": "crafts", "owner.hours_per_week": 10}
    plan = plan_survey(schema, "TR", known)
    assert "business.category" in _keys(plan.have) and "business.category" not in _keys(plan.ask)
    assert "owner.is_trader" in _keys(plan.more)  # TR only, not core
    assert "owner.is_trader" not in _keys(plan_survey(schema, "PL", known).questions)
