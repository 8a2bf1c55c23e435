"""The kept snapshot of a fold: read back, it is exactly the fold and the changes since its moment."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from profile_schema import changes_since, fold, load_registry
from profile_schema.snapshot import (
    FORMAT,
    fold_with_snapshot,
    make_snapshot,
    read_snapshot,
)

from .test_fold_resolve import at, histories, obs


@settings(max_examples=150, deadline=None)
@given(histories, st.one_of(st.none(), st.integers(-1, 7)), st.sampled_from(["PL", "TR", "IN"]))
def test_a_snapshot_reads_back_as_the_fold_and_the_changes_since_its_moment(history, hour, market):
    since = None if hour is None else at(hour)
    text = make_snapshot(history, since=since)
    snap = read_snapshot(text, shop="shop-1", market=market)
    assert snap is not None and snap.since == since
    assert snap.profile == fold(history, shop="shop-1", market=market)
    assert snap.profile.as_dict() == fold(history, shop="shop-1", market=market).as_dict()
    assert snap.changes == (changes_since(history, since=since) if since is not None else [])
    profile, same = fold_with_snapshot(history, shop="shop-1", market=market, since=since)
    assert same == text and profile == snap.profile


def test_conflicts_money_and_lists_survive_the_text():
    history = [obs("owner.hours_per_week", 10, 1, source="survey", actor="merchant"),
               obs("owner.hours_per_week", 30, 2, source="call", actor="consultant-7"),
               obs("business.expected_monthly_turnover", {"amount": 12000.5, "currency": "PLN"}, 1),
               obs("features.payments", ["payu", "blik"], 1, op="add", source="trial"),
               obs("trial.product_count", 3, 2, op="increment", source="trial"),
               obs("owner.name", "Zażółć \u202d Ğİş", 3, source="survey")]
    snap = read_snapshot(make_snapshot(history, since=at(1)), shop="shop-1", market="PL")
    assert snap.profile == fold(history, shop="shop-1", market="PL")
    assert snap.profile.conflicts == ("owner.hours_per_week",)
    assert [c.key for c in snap.changes] == ["owner.hours_per_week", "owner.name", "trial.product_count"]


def test_a_snapshot_of_another_format_or_schema_version_is_not_read():
    history = [obs("owner.hours_per_week", 10, 1)]
    body = json.loads(make_snapshot(history))
    assert read_snapshot(json.dumps(body)) is not None
    assert read_snapshot(None) is None and read_snapshot("") is None
    assert read_snapshot(json.dumps({**body, "format": FORMAT + 1})) is None
    assert read_snapshot(json.dumps({**body, "schema_version": load_registry().latest.version + 1})) is None
    body["facts"][0][0] = "owner.retired_question"  # the schema changed under the same version
    assert read_snapshot(json.dumps(body)) is None
