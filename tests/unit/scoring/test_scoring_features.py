"""Features come from the schema, freeze at the snapshot, and survive unseen or missing answers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import profile_schema
import pytest
import yaml

from concierge.scoring.features import FeatureSpace, take_snapshot, snapshot_time

START = datetime(2025, 3, 1, 9, tzinfo=timezone.utc)
SNAP = snapshot_time(START, 7)


def obs(q, v, src="survey", day=1.0, op="set"):
    return profile_schema.Observation("s1", q, v, src, "t", START + timedelta(days=day), op=op)


@pytest.fixture(scope="module")
def space():
    return FeatureSpace.from_schema(profile_schema.load_schema())


def row(space, observations, market="PL"):
    return space.transform([take_snapshot(observations, shop="s1", market=market, as_of=SNAP)])[0]


def test_every_question_type_becomes_columns(space):
    schema = profile_schema.load_schema()
    names = set(space.names)
    assert "business.type=handmade" in names and "business.type=unknown" in names and "business.type=other" in names
    assert "needs.help_with+payments" in names
    assert "readiness.payments_connected" in names
    assert {"owner.hours_per_week", "owner.hours_per_week:missing"} <= names
    assert "business.expected_monthly_turnover:log_eur" in names
    assert "owner.email:answered" in names and "owner.email" not in names  # never the content
    assert "trial.outcome=converted" not in names  # the outcome is never a feature
    keys = {c.key for c in space.columns}
    assert {q for q in schema.questions} - keys == {"trial.outcome", "trial.plan"}


def test_a_new_question_becomes_a_feature_without_code():
    data = yaml.safe_load(open(profile_schema.schema.SCHEMA_DIR / "v1.yaml", encoding="utf-8"))
    data["questions"].append({"key": "business.warehouse", "type": "single_choice", "sources": ["survey"],
                              "label": {"en": "Warehouse", "pl": "Magazyn", "tr": "Depo", "hi": "गोदाम"},
                              "choices": {"own": {"en": "Own", "pl": "Własny", "tr": "Kendi", "hi": "अपना"},
                                          "none": {"en": "None", "pl": "Brak", "tr": "Yok", "hi": "कोई नहीं"}}})
    schema = profile_schema.parse_schema(data)
    sp = FeatureSpace.from_schema(schema)
    snap = take_snapshot([profile_schema.Observation("s1", "business.warehouse", "own", "survey", "t",
                                                     START + timedelta(days=1))],
                         shop="s1", market="PL", as_of=SNAP, schema=schema)
    x = sp.transform([snap])[0]
    assert x[sp.index["business.warehouse=own"]] == 1.0
    assert x[sp.index["business.warehouse=unknown"]] == 0.0


def test_nothing_after_the_snapshot_leaks_in(space):
    before = [obs("readiness.products_added", True, "trial", 2), obs("owner.hours_per_week", 10, day=1)]
    after = before + [obs("readiness.payments_connected", True, "trial", 9),
                      obs("owner.hours_per_week", 60, day=8), obs("trial.product_count", 50, "trial", 10)]
    assert np.array_equal(row(space, before), row(space, after), equal_nan=True)
    # ... while the same fact before the snapshot does change the row
    earlier = before + [obs("readiness.payments_connected", True, "trial", 3)]
    assert not np.array_equal(row(space, before), row(space, earlier), equal_nan=True)


def test_call_answers_are_the_treatment_not_a_feature(space):
    base = [obs("experience.sold_online_before", False, day=1)]
    with_call = base + [obs("experience.sold_online_before", True, "call", 2),
                        obs("needs.preferred_contact", "phone", "call", 3)]
    assert np.array_equal(row(space, base), row(space, with_call), equal_nan=True)


def test_missing_values_are_nan_with_indicators(space):
    x = row(space, [])
    assert np.isnan(x[space.index["owner.hours_per_week"]])
    assert x[space.index["owner.hours_per_week:missing"]] == 1.0
    assert np.isnan(x[space.index["readiness.payments_connected"]])
    assert x[space.index["business.type=unknown"]] == 1.0
    y = row(space, [obs("owner.hours_per_week", 12), obs("readiness.payments_connected", False, "trial")])
    assert y[space.index["owner.hours_per_week"]] == 12 and y[space.index["owner.hours_per_week:missing"]] == 0
    assert y[space.index["readiness.payments_connected"]] == 0.0


def test_unseen_category_goes_to_other_never_an_error(space):
    from concierge.scoring.features import TrialSnapshot

    snap = TrialSnapshot("s1", "DE", {"business.type": "space_station", "needs.help_with": ["payments", "alchemy"]})
    x = space.transform([snap])[0]
    assert x[space.index["business.type=other"]] == 1.0
    assert x[space.index["needs.help_with+payments"]] == 1.0
    assert x[space.index["market=other"]] == 1.0


def test_money_is_compared_in_one_unit(space):
    from concierge.scoring.features import money_to_log_eur

    pln = money_to_log_eur({"amount": 10000, "currency": "PLN"})
    inr = money_to_log_eur({"amount": 10000, "currency": "INR"})
    assert pln > inr > 0
    assert money_to_log_eur({"amount": 5, "currency": "XXX"}) is None
    x = row(space, [obs("business.expected_monthly_turnover", {"amount": 10000, "currency": "PLN"})])
    assert x[space.index["business.expected_monthly_turnover:log_eur"]] == pytest.approx(pln)


def test_space_round_trips_as_plain_data(space):
    again = FeatureSpace.from_dict(space.to_dict())
    assert again.names == space.names
    snap = take_snapshot([obs("business.type", "handmade"), obs("readiness.products_added", True, "trial")],
                         shop="s1", market="TR", as_of=SNAP)
    assert np.array_equal(again.transform([snap]), space.transform([snap]), equal_nan=True)
