"""A later schema version that renames or adds questions keeps every answer recorded under v1 readable."""
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from profile_schema import (
    Observation, SchemaError, SchemaRegistry, changes_since, fold, load_registry, load_schema,
    load_schema_file, parse_schema,
)
from profile_schema.schema import SCHEMA_DIR

FIXTURES = Path(__file__).parent / "fixtures"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def at(hours):
    return T0 + timedelta(hours=hours)


def obs(question, value, hours=0, *, version=1, source="call", op="set", seq=0, shop="shop-1"):
    return Observation(shop, question, value, source, f"{source}-actor", at(hours), version, op, seq)


@pytest.fixture(scope="module")
def v2():
    return load_schema_file(FIXTURES / "versions" / "v2.yaml")


@pytest.fixture(scope="module")
def registry(v2):
    return SchemaRegistry([load_schema(1), v2])


# ---------------------------------------------------------------- the fixture v2 against the real v1


@pytest.mark.parametrize(
    "old,current",
    [
        ("needs.main_goal", "needs.goal"),  # renamed
        ("business.channels", "business.sales_channels"),  # renamed, choices too
        ("owner.name", "owner.name"),  # unchanged
        ("business.type", "business.type"),  # same key, a choice renamed
        ("owner.marketing_consent", None),  # retired in v2
        ("experience.platforms", None),
    ],
)
def test_v1_keys_map_to_v2_keys(registry, old, current):
    assert registry.current_key(old, 1) == current


def test_v2_keys_map_to_themselves_and_unknown_keys_pass_through(registry):
    assert registry.current_key("needs.goal", 2) == "needs.goal"
    assert registry.current_key("owner.team_size", 2) == "owner.team_size"
    assert registry.current_key("not.known", 1) == "not.known"
    assert registry.current_key("owner.name", 7) == "owner.name"


@pytest.mark.parametrize(
    "key,value,upgraded",
    [
        ("business.type", "reseller", "dropshipping"),
        ("business.type", "new_brand", "new_brand"),
        ("needs.help_with", ["payments", "seo"], ["payments", "search_visibility"]),
        ("business.sales_channels", ["own_shop", "social_media"], ["online_store", "social_media"]),
        ("business.type", 42, 42),  # not a choice: left alone
    ],
)
def test_v1_choice_values_are_upgraded(registry, key, value, upgraded):
    assert registry.upgrade_value(key, value, 1) == upgraded
    assert registry.upgrade_value(key, value, 2) == value  # recorded under v2: already current


def v1_history():
    return [
        obs("owner.name", "Anna", 0, source="survey"),
        obs("needs.main_goal", "Sell my ceramics abroad", 1, source="survey"),
        obs("business.type", "reseller", 1, source="survey"),
        obs("needs.help_with", ["seo", "payments"], 1, source="survey"),
        obs("business.channels", ["own_shop", "marketplaces"], 2),
        obs("owner.marketing_consent", True, 2),
        obs("owner.hours_per_week", 12, 2),
    ]


def test_v1_observations_fold_into_the_v2_keys(registry):
    history = v1_history() + [obs("owner.team_size", 2, 3, version=2)]
    profile = fold(history, registry)
    assert profile.schema_version == 2
    assert profile.value("needs.goal") == "Sell my ceramics abroad"
    assert profile.value("business.type") == "dropshipping"
    assert profile.value("needs.help_with") == ["payments", "search_visibility"]  # v2's choice order
    assert profile.value("business.sales_channels") == ["online_store", "marketplaces"]
    assert profile.value("owner.team_size") == 2
    assert profile.value("owner.name") == "Anna"
    assert profile.value("owner.hours_per_week") == 12
    for gone in ("needs.main_goal", "business.channels", "owner.marketing_consent"):
        assert gone not in profile.facts
    assert profile.observation_count == len(history) - 1  # the retired answer is history only
    assert profile.facts["needs.goal"].source == "survey"  # provenance survives the rename
    assert profile.facets["needs"].facts.keys() == {"needs.goal", "needs.help_with"}
    assert profile.needs == ("payments", "search_visibility")


@pytest.mark.parametrize("old_first", [True, False])
def test_latest_wins_across_versions_and_the_other_source_stays_visible(registry, old_first):
    old = obs("needs.main_goal", "old words", 1 if old_first else 5, source="survey")
    new = obs("needs.goal", "new words", 5 if old_first else 1, version=2, source="call")
    fact = fold([new, old], registry).facts["needs.goal"]
    winner, loser = (new, old) if old_first else (old, new)
    assert fact.value == winner.value and fact.source == winner.source
    assert [(a.value, a.source) for a in fact.alternatives] == [(loser.value, loser.source)]


def test_ops_on_a_renamed_multi_choice_apply_across_versions(registry):
    history = [
        obs("business.channels", ["own_shop"], 0),
        obs("business.sales_channels", ["social_media"], 1, version=2, op="add"),
        obs("business.channels", ["own_shop"], 2, op="remove"),
    ]
    assert fold(history, registry).value("business.sales_channels") == ["social_media"]


def test_changes_since_reads_both_versions_under_todays_keys(registry):
    history = v1_history() + [obs("needs.goal", "Open a second shop", 10, version=2),
                              obs("business.type", "dropshipping", 11, version=2)]
    changes = changes_since(history, registry, at(5))
    assert [(c.key, c.before, c.after) for c in changes] == [
        ("needs.goal", "Sell my ceramics abroad", "Open a second shop"),
    ]  # business.type: v1 reseller == v2 dropshipping, no change


def test_the_v2_schema_alone_still_reads_v1_answers_by_its_renames(v2):
    profile = fold(v1_history(), v2)
    assert profile.value("needs.goal") == "Sell my ceramics abroad"
    assert profile.value("business.type") == "dropshipping"
    assert profile.value("needs.help_with") == ["payments", "search_visibility"]


def test_each_version_validates_its_own_choices(registry, v2):
    assert not v2.validate({"business.type": "reseller"}, market="PL", source="call").ok
    assert v2.validate({"business.type": "dropshipping"}, market="PL", source="call").ok
    assert registry.get(1).validate({"business.type": "reseller"}, market="PL", source="call").ok


def test_a_schema_folder_with_both_files_folds_old_answers_by_default(tmp_path):
    shutil.copy(SCHEMA_DIR / "v1.yaml", tmp_path / "v1.yaml")
    shutil.copy(FIXTURES / "versions" / "v2.yaml", tmp_path / "v2.yaml")
    registry = load_registry(str(tmp_path))
    assert fold(v1_history(), registry).value("business.sales_channels") == ["online_store", "marketplaces"]


# ---------------------------------------------------------------- chains, swaps, skips: small made-up schemas

L = {"en": "label"}


def q(key, qtype="single_choice", choices=("x", "y", "z"), **kw):
    out = {"key": key, "type": qtype, "label": L, "sources": ["call"], **kw}
    if qtype in ("single_choice", "multi_choice"):
        out["choices"] = {c: L for c in choices}
    return out


def schema(version, *questions):
    return parse_schema({"version": version, "languages": ["en"], "facets": ["f"], "questions": list(questions)})


def test_renames_chain_through_versions():
    reg = SchemaRegistry([
        schema(1, q("f.a", choices=["x1", "other"])),
        schema(2, q("f.b", renamed_from={1: "f.a"}, choices=["x2", "other"], choice_renames={1: {"x1": "x2"}})),
        schema(3, q("f.c", renamed_from={2: "f.b"}, choices=["x3", "other"], choice_renames={2: {"x2": "x3"}})),
    ])
    assert [reg.current_key(k, v) for k, v in [("f.a", 1), ("f.b", 2), ("f.c", 3)]] == ["f.c"] * 3
    assert reg.upgrade_value("f.c", "x1", 1) == "x3"  # both choice renames, in order
    assert reg.upgrade_value("f.c", "x2", 2) == "x3"
    assert reg.upgrade_value("f.c", "x3", 3) == "x3"
    assert reg.upgrade_value("f.c", "other", 1) == "other"


def test_renames_copied_forward_into_the_next_file_apply_once():
    reg = SchemaRegistry([
        schema(1, q("f.a", choices=["x", "y"])),
        schema(2, q("f.b", renamed_from={1: "f.a"}, choices=["y", "z"], choice_renames={1: {"x": "y"}})),
        # v3 is v2's file edited: it keeps v2's rename notes and adds its own
        schema(3, q("f.c", renamed_from={1: "f.a", 2: "f.b"}, choices=["y2", "z"],
                    choice_renames={1: {"x": "y"}, 2: {"y": "y2"}})),
    ])
    assert reg.current_key("f.a", 1) == reg.current_key("f.b", 2) == "f.c"
    assert reg.upgrade_value("f.c", "x", 1) == "y2"
    assert reg.upgrade_value("f.c", "y", 2) == "y2"
    assert reg.upgrade_value("f.c", "z", 2) == "z"


def test_a_rename_may_name_the_version_the_key_was_first_used_in():
    # f.a lived unchanged through v1 and v2; v3 says renamed_from {1: f.a}
    reg = SchemaRegistry([
        schema(1, q("f.a")), schema(2, q("f.a")),
        schema(3, q("f.c", renamed_from={1: "f.a"}, choice_renames={1: {"x": "z"}})),
    ])
    assert reg.current_key("f.a", 1) == "f.c"
    assert reg.current_key("f.a", 2) == "f.c"
    assert reg.upgrade_value("f.c", "x", 2) == "z"  # v2 still had x


def test_two_questions_may_swap_keys():
    reg = SchemaRegistry([
        schema(1, q("f.a"), q("f.b")),
        schema(2, q("f.a", renamed_from={1: "f.b"}), q("f.b", renamed_from={1: "f.a"})),
    ])
    assert (reg.current_key("f.a", 1), reg.current_key("f.b", 1)) == ("f.b", "f.a")
    assert (reg.current_key("f.a", 2), reg.current_key("f.b", 2)) == ("f.a", "f.b")
    profile = fold([obs("f.a", "x", 0), obs("f.b", "y", 0)], reg)
    assert (profile.value("f.a"), profile.value("f.b")) == ("y", "x")


def test_a_retired_key_reused_for_a_new_question_does_not_inherit_old_answers():
    reg = SchemaRegistry([
        schema(1, q("f.a"), q("f.old")),
        # f.a of v1 is retired; v2's f.a is the old f.old under a new name
        schema(2, q("f.a", renamed_from={1: "f.old"})),
    ])
    assert reg.current_key("f.a", 1) is None
    assert reg.current_key("f.old", 1) == "f.a"
    assert fold([obs("f.a", "x", 0), obs("f.old", "z", 0, seq=1)], reg).facts["f.a"].value == "z"


def test_a_renamed_key_can_be_reused_by_a_new_question_in_the_same_version():
    reg = SchemaRegistry([
        schema(1, q("f.a")),
        schema(2, q("f.b", renamed_from={1: "f.a"}), q("f.a", choices=["new"])),
        schema(3, q("f.b", renamed_from={1: "f.a"}), q("f.a", choices=["new"])),  # copied forward
    ])
    assert reg.current_key("f.a", 1) == "f.b"
    assert reg.current_key("f.a", 2) == "f.a"
    assert reg.current_key("f.b", 2) == "f.b"


def test_a_retired_question_stays_retired_in_later_versions():
    reg = SchemaRegistry([schema(1, q("f.a"), q("f.b")), schema(2, q("f.b")), schema(3, q("f.b"), q("f.c"))])
    assert reg.current_key("f.a", 1) is None
    assert reg.current_key("f.b", 1) == "f.b"


def test_choices_merged_by_a_rename_are_not_listed_twice():
    reg = SchemaRegistry([
        schema(1, q("f.m", "multi_choice", choices=["fb", "ig", "tt"])),
        schema(2, q("f.m", "multi_choice", choices=["social", "tt"], choice_renames={1: {"fb": "social", "ig": "social"}})),
    ])
    assert reg.upgrade_value("f.m", ["fb", "ig", "tt"], 1) == ["social", "tt"]
    assert fold([obs("f.m", ["ig", "fb"], 0)], reg).value("f.m") == ["social"]


def test_a_rename_from_a_key_the_old_version_never_had_is_a_typo_caught_at_load():
    with pytest.raises(SchemaError, match="renamed_from 1: 'f.aa' is not a question of v1"):
        SchemaRegistry([schema(1, q("f.a")), schema(2, q("f.b", renamed_from={1: "f.aa"}))])


def test_two_questions_claiming_the_same_old_question_are_refused():
    with pytest.raises(SchemaError, match="both claim to be f.a of v1"):
        SchemaRegistry([schema(1, q("f.a")),
                        schema(2, q("f.b", renamed_from={1: "f.a"}), q("f.c", renamed_from={1: "f.a"}))])


def test_the_real_v1_and_v2_fixture_have_no_schema_errors_together(v2):
    # the renames in the fixture name questions v1 really has (a typo would raise)
    SchemaRegistry([load_schema(1), v2])
    assert v2["needs.goal"].renamed_from == {1: "needs.main_goal"}
    assert v2["business.type"].choice_renames == {1: {"reseller": "dropshipping"}}
