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


# ---------------------------------------------------------------- the schema's new fields, checked at load

def _with(key: str, **changes) -> dict:
    import copy

    import yaml

    from profile_schema.schema import SCHEMA_DIR

    data = yaml.safe_load((SCHEMA_DIR / "v1.yaml").read_text("utf-8"))
    q = next(q for q in data["questions"] if q["key"] == key)
    q.update(copy.deepcopy(changes))
    return data


@pytest.mark.parametrize("key,changes,problem", [
    ("owner.name", {"ask": {"en": "Your name?", "pl": "Imię?"}}, "owner.name ask: missing label for tr"),
    ("readiness.theme_published", {"core": True}, "ask and core are for survey questions"),
    ("readiness.theme_published", {"ask": {"en": "a", "pl": "b", "tr": "c", "hi": "d"}}, "ask and core are for survey"),
    ("owner.name", {"core": "yes"}, "core must be true or false"),
    ("owner.name", {"matters_at": ["launch"]}, "matters_at: unknown stage"),
])
def test_a_wrong_survey_field_is_refused_when_the_schema_loads(key, changes, problem):
    from profile_schema import SchemaError, parse_schema

    with pytest.raises(SchemaError, match=problem):
        parse_schema(_with(key, **changes))


def test_the_merchant_wording_falls_back_to_the_label_and_speaks_in_the_second_person():
    from profile_schema import parse_schema

    q = load_schema()["experience.sold_online_before"]
    assert q.ask("tr") == "Daha önce internetten satış yaptınız mı?" and q.label("tr") == "Daha önce internetten satış yaptı"
    assert q.ask("pl_PL") == q.asks["pl"] and q.ask("hi") == q.asks["hi"] and q.ask("de") == q.asks["en"]
    bare = parse_schema(_with("owner.name", ask=None))["owner.name"]
    assert bare.ask("pl") == bare.label("pl")
