"""Audit rules are data: shared + market files + the manager's override file, validated."""
from __future__ import annotations

import pytest

from audits.rules import AuditError, build_rules, load_rules


def test_each_market_merges_the_shared_rules_with_its_own():
    pl, tr, in_ = load_rules("PL"), load_rules("TR"), load_rules("IN")
    assert pl.rule("stage_stalled").trigger.get("business_days") == 7
    assert tr.rule("stage_stalled").trigger.get("business_days") == 3
    assert in_.rule("stage_stalled").trigger.get("business_days") == 5  # the shared default
    assert in_.rule("inactive").trigger.get("days") == 10
    assert {r.key for r in pl.rules} == {r.key for r in tr.rules} == {r.key for r in in_.rules}
    assert pl.holdout_share == 0.10
    assert pl.callbacks.target_minutes == 15 and pl.callbacks.target_share == 0.8


def test_a_manager_override_changes_removes_and_adds_rules(tmp_path, monkeypatch):
    path = tmp_path / "overrides.yaml"
    path.write_text(
        "markets:\n"
        "  PL:\n"
        "    audits:\n"
        "      version: 7\n"
        "      holdout_share: 0.2\n"
        "      rules:\n"
        "        - {key: inactive, remove: true}\n"
        "        - {key: stage_stalled, trigger: {business_days: 10}}\n"
        "        - {key: big_drop, kind: audit, purpose: service, trigger: {type: score_drop, points: 20},\n"
        "           window: {days: 2}}\n", encoding="utf-8")
    monkeypatch.setenv("CONCIERGE_MARKET_OVERRIDES", str(path))
    pl = load_rules("PL")
    assert pl.version == 7 and pl.holdout_share == 0.2
    assert pl.rule("inactive") is None
    assert pl.rule("stage_stalled").trigger.get("business_days") == 10
    assert pl.rule("big_drop").trigger.get("points") == 20 and pl.rule("big_drop").window.days == 2
    assert load_rules("TR").rule("inactive") is not None  # other markets untouched


@pytest.mark.parametrize("rule,field,code", [
    ({"key": "x", "kind": "audit", "purpose": "service", "trigger": {"type": "moon_phase"}, "window": {"days": 1}},
     "audits.rules.x.trigger.type", "rules.unknown_trigger"),
    ({"key": "x", "kind": "audit", "purpose": "service", "trigger": {"type": "inactive", "days": 0},
      "window": {"days": 1}}, "audits.rules.x.trigger.days", "rules.bad_number"),
    ({"key": "x", "kind": "audit", "purpose": "service", "trigger": {"type": "inactive"}, "window": {"days": 1}},
     "audits.rules.x.trigger.days", "rules.missing"),
    ({"key": "x", "kind": "audit", "purpose": "service", "trigger": {"type": "inactive", "days": 3},
      "window": {"weeks": 1}}, "audits.rules.x.window", "rules.bad_window"),
    ({"key": "x", "kind": "audit", "purpose": "service", "trigger": {"type": "inactive", "days": 3},
      "window": {"days": 99}}, "audits.rules.x.window", "rules.bad_window"),
    ({"key": "x", "kind": "party", "purpose": "service", "trigger": {"type": "inactive", "days": 3},
      "window": {"days": 1}}, "audits.rules.x.kind", "rules.unknown_kind"),
    ({"key": "x", "kind": "audit", "purpose": "selling", "trigger": {"type": "inactive", "days": 3},
      "window": {"days": 1}}, "audits.rules.x.purpose", "rules.unknown_purpose"),
    ({"key": "x", "kind": "audit", "purpose": "service", "trigger": {"type": "disconnected", "category": "fax"},
      "window": {"days": 1}}, "audits.rules.x.trigger.category", "rules.unknown_category"),
    ({"key": "x", "kind": "audit", "purpose": "service", "trigger": {"type": "inactive", "days": 3, "hours": 2},
      "window": {"days": 1}}, "audits.rules.x.trigger.hours", "rules.unknown_field"),
    ({"key": "x", "kind": "audit", "purpose": "service", "trigger": {"type": "inactive", "days": 3},
      "window": {"days": 1}, "min_gain": 2}, "audits.rules.x.min_gain", "rules.bad_share"),
])
def test_a_bad_rule_is_refused_naming_its_field(rule, field, code):
    with pytest.raises(AuditError) as caught:
        build_rules({"rules": [rule]}, "PL")
    assert caught.value.field == field
    assert caught.value.code == code
    assert field in caught.value.message()


def test_a_duplicate_key_and_a_bad_share_are_refused():
    same = {"key": "x", "kind": "audit", "purpose": "service", "trigger": {"type": "inactive", "days": 3},
            "window": {"days": 1}}
    with pytest.raises(AuditError, match="used twice"):
        build_rules({"rules": [same, same]}, "PL")
    with pytest.raises(AuditError) as caught:
        build_rules({"rules": [], "holdout_share": 0.9}, "PL")
    assert caught.value.field == "audits.holdout_share"


def test_the_error_speaks_the_readers_language_through_their_gettext():
    polish = {"%(field)s is required": "%(field)s jest wymagane"}
    with pytest.raises(AuditError) as caught:
        build_rules({"rules": [{"key": "x", "kind": "audit"}]}, "PL")
    assert caught.value.message(lambda s: polish.get(s, s)) == "audits.rules.x.purpose jest wymagane"
    assert caught.value.as_dict()["field"] == "audits.rules.x.purpose"


def test_an_unknown_market_is_a_clear_error():
    with pytest.raises(AuditError) as caught:
        load_rules("DE")
    assert caught.value.field == "market" and "PL, TR, IN" in caught.value.message()


def test_a_broken_override_names_the_field(tmp_path, monkeypatch):
    path = tmp_path / "overrides.yaml"
    path.write_text("markets:\n  TR:\n    audits:\n      rules:\n        - {key: inactive, trigger: {days: -1}}\n",
                    encoding="utf-8")
    monkeypatch.setenv("CONCIERGE_MARKET_OVERRIDES", str(path))
    with pytest.raises(AuditError) as caught:
        load_rules("TR")
    assert caught.value.field == "audits.rules.inactive.trigger.days"


def test_the_shipped_override_example_is_valid_for_the_audits_too(monkeypatch):
    from pathlib import Path

    example = Path(__file__).resolve().parents[3] / "locales" / "markets" / "overrides.example.yaml"
    monkeypatch.setenv("CONCIERGE_MARKET_OVERRIDES", str(example))
    pl = load_rules("PL")
    assert pl.version == 2 and pl.rule("stage_stalled").trigger.get("business_days") == 10
    assert load_rules("TR").version == 1
