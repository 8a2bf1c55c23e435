"""The fold: latest wins, ties by seq, conflicts stay visible, provenance per facet, ops, as_of, changes."""
import itertools
import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profile_schema import Observation, changes_since, fold, load_schema

S = load_schema()
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def at(hours):
    return T0 + timedelta(hours=hours)


def obs(question, value, hours=0, *, source="call", actor=None, op="set", seq=0, shop="shop-1", version=1):
    return Observation(shop, question, value, source, actor or f"{source}-actor", at(hours), version, op, seq)


# ---------------------------------------------------------------- latest wins


HOURS = [obs("owner.hours_per_week", 5, 1, source="survey"),
         obs("owner.hours_per_week", 10, 2, source="survey"),
         obs("owner.hours_per_week", 15, 3, source="survey")]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_latest_value_wins_whatever_the_input_order(order):
    fact = fold([HOURS[i] for i in order]).facts["owner.hours_per_week"]
    assert (fact.value, fact.observed_at) == (15, at(3))
    assert fact.alternatives == ()  # one source correcting itself is not a conflict


@pytest.mark.parametrize("reverse", [False, True])
def test_equal_times_are_decided_by_seq(reverse):
    pair = [obs("business.type", "handmade", 1, seq=7), obs("business.type", "reseller", 1, seq=8)]
    assert fold(pair[::-1] if reverse else pair).value("business.type") == "reseller"


def test_times_in_different_zones_compare_as_instants():
    warsaw = timezone(timedelta(hours=1))
    early_utc = Observation("s", "owner.hours_per_week", 1, "call", "a", datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc))
    later_local = Observation("s", "owner.hours_per_week", 2, "call", "a", datetime(2025, 3, 1, 10, 30, tzinfo=warsaw))
    # 10:30 in Warsaw is 09:30 UTC: earlier, so it loses
    assert fold([early_utc, later_local]).value("owner.hours_per_week") == 1


# ---------------------------------------------------------------- conflicts between sources


def test_a_disagreeing_source_stays_visible_as_an_alternative():
    profile = fold([obs("owner.hours_per_week", 10, 1, source="survey", actor="merchant"),
                    obs("owner.hours_per_week", 30, 2, source="call", actor="consultant-7")])
    fact = profile.facts["owner.hours_per_week"]
    assert (fact.value, fact.source, fact.actor) == (30, "call", "consultant-7")
    assert fact.conflict
    assert [(a.value, a.source, a.actor, a.observed_at) for a in fact.alternatives] == [(10, "survey", "merchant", at(1))]
    assert profile.conflicts == ("owner.hours_per_week",)


def test_each_other_source_shows_its_own_latest_word_sorted_by_source():
    fact = fold([
        obs("business.catalogue_size", 10, 1, source="survey"),
        obs("business.catalogue_size", 12, 2, source="survey"),  # survey's latest
        obs("business.catalogue_size", 40, 3, source="import"),
        obs("business.catalogue_size", 55, 4, source="trial"),
        obs("business.catalogue_size", 60, 5, source="call"),
    ]).facts["business.catalogue_size"]
    assert fact.value == 60
    assert [(a.source, a.value) for a in fact.alternatives] == [("import", 40), ("survey", 12), ("trial", 55)]


def test_sources_that_agree_are_not_a_conflict():
    profile = fold([obs("business.type", "handmade", 1, source="survey"), obs("business.type", "handmade", 2)])
    assert not profile.facts["business.type"].conflict
    assert profile.conflicts == ()


def test_multi_choice_agreement_ignores_the_order_answers_were_given_in():
    profile = fold([obs("needs.help_with", ["payments", "seo"], 1, source="survey"),
                    obs("needs.help_with", ["seo", "payments"], 2)])
    assert profile.value("needs.help_with") == ["payments", "seo"]
    assert not profile.facts["needs.help_with"].conflict


def test_a_value_built_upon_by_another_source_is_not_a_conflict():
    profile = fold([obs("trial.product_count", 50, 1, source="import"),
                    obs("trial.product_count", 3, 2, source="trial", op="increment")])
    assert profile.value("trial.product_count") == 53
    assert not profile.facts["trial.product_count"].conflict


def test_an_overridden_set_stays_a_conflict_even_after_later_additions():
    profile = fold([obs("features.payments", ["paypal"], 1, source="trial"),
                    obs("features.payments", ["blik"], 2, source="call"),
                    obs("features.payments", ["payu"], 3, source="call", op="add")])
    fact = profile.facts["features.payments"]
    assert fact.value == ["blik", "payu"]
    assert [(a.source, a.value) for a in fact.alternatives] == [("trial", ["paypal"])]


# ---------------------------------------------------------------- provenance per facet


def test_every_facet_knows_where_its_facts_came_from():
    profile = fold([
        obs("owner.name", "Anna", 1, source="survey"),
        obs("owner.hours_per_week", 10, 2, source="call"),
        obs("readiness.products_added", True, 3, source="trial"),
        obs("business.type", "handmade", 4, source="import"),
        obs("trial.order_count", 2, 5, source="trial"),
    ])
    f = profile.facets
    assert set(f) >= {"owner", "experience", "needs", "business", "readiness", "features"}
    assert f["owner"].sources == {"survey", "call"}
    assert f["owner"].updated_at == at(2)
    assert f["owner"].value("owner.name") == "Anna"
    assert f["readiness"].sources == {"trial"}
    assert f["business"].sources == {"import"}
    assert f["trial"].facts["trial.order_count"].value == 2
    assert f["experience"].sources == frozenset() and f["experience"].updated_at is None
    assert set(f["owner"].facts) == {"owner.name", "owner.hours_per_week"}


def test_each_resolved_fact_carries_source_actor_and_time():
    fact = fold([obs("owner.email", "a@b.pl", 4, source="survey", actor="merchant-form")]).facts["owner.email"]
    assert (fact.key, fact.source, fact.actor, fact.observed_at) == ("owner.email", "survey", "merchant-form", at(4))


# ---------------------------------------------------------------- ops

OPS = [
    # observations (question, value, op), expected value
    ([("features.payments", ["paypal"], "set"), ("features.payments", ["blik"], "add")], ["blik", "paypal"]),
    ([("features.payments", "blik", "add")], ["blik"]),
    ([("features.payments", ["blik"], "add"), ("features.payments", ["blik"], "add")], ["blik"]),
    ([("features.payments", ["blik", "payu"], "set"), ("features.payments", "blik", "remove")], ["payu"]),
    ([("features.payments", ["blik"], "set"), ("features.payments", ["blik"], "remove")], []),
    ([("features.payments", ["payu"], "remove")], []),  # removing what was never there
    ([("features.payments", ["blik"], "add"), ("features.payments", ["payu"], "set")], ["payu"]),  # set replaces
    ([("trial.product_count", 2, "increment"), ("trial.product_count", 3, "increment")], 5),
    ([("trial.product_count", 10, "set"), ("trial.product_count", -1, "increment")], 9),
    ([("trial.product_count", 10, "set"), ("trial.product_count", 0, "set")], 0),
    # ops that cannot apply are history, not profile
    ([("owner.name", "Anna", "set"), ("owner.name", "x", "increment")], "Anna"),
    ([("trial.product_count", 4, "set"), ("trial.product_count", "two", "increment")], 4),
    ([("trial.product_count", 4, "set"), ("trial.product_count", 1, "add")], 4),
    ([("business.type", "handmade", "set"), ("business.type", "handmade", "remove")], "handmade"),
]


@pytest.mark.parametrize("steps,expected", OPS)
def test_ops_add_remove_increment(steps, expected):
    history = [obs(q, v, i, op=op, source="trial" if q.startswith(("trial", "features")) else "call")
               for i, (q, v, op) in enumerate(steps)]
    assert fold(history).value(steps[0][0]) == expected


def test_ops_that_cannot_apply_are_not_counted():
    history = [obs("owner.name", "Anna", 0), obs("owner.name", "x", 1, op="increment")]
    profile = fold(history)
    assert profile.observation_count == 1
    assert profile.facts["owner.name"].observed_at == at(0)


def test_added_choices_keep_the_schemas_order():
    history = [obs("features.payments", ["stripe"], 0), obs("features.payments", ["blik"], 1, op="add")]
    assert fold(history).value("features.payments") == ["blik", "stripe"]  # blik is listed first in v1


# ---------------------------------------------------------------- as_of and what changed

STORY = [
    obs("owner.hours_per_week", 10, 1, source="survey"),
    obs("business.type", "handmade", 2, source="survey"),
    obs("owner.hours_per_week", 20, 5),
    obs("readiness.products_added", True, 6, source="trial"),
    obs("business.type", "reseller", 7),
    obs("business.type", "handmade", 8),  # and back again
]


@pytest.mark.parametrize(
    "as_of,hours,btype,count",
    [(0, None, None, 0), (1, 10, None, 1), (4, 10, "handmade", 2), (5, 20, "handmade", 3),
     (7, 20, "reseller", 5), (100, 20, "handmade", 6)],
)
def test_as_of_is_the_profile_as_it_stood_then(as_of, hours, btype, count):
    profile = fold(STORY, as_of=at(as_of))
    assert (profile.value("owner.hours_per_week"), profile.value("business.type")) == (hours, btype)
    assert profile.observation_count == count
    assert profile.as_of == at(as_of)


CHANGES = [
    # since, until, [(key, before, after)]
    (None, None, [("business.type", None, "handmade"), ("owner.hours_per_week", None, 20),
                  ("readiness.products_added", None, True)]),
    (1, None, [("business.type", None, "handmade"), ("owner.hours_per_week", 10, 20),
               ("readiness.products_added", None, True)]),
    (2, None, [("owner.hours_per_week", 10, 20), ("readiness.products_added", None, True)]),
    (5, None, [("readiness.products_added", None, True)]),  # since is exclusive: the 5h answer is old
    (6, 7, [("business.type", "handmade", "reseller")]),
    (6, None, []),  # changed and changed back: nothing to tell the consultant
    (8, None, []),
]


@pytest.mark.parametrize("since,until,expected", CHANGES)
def test_changes_since(since, until, expected):
    changes = changes_since(STORY, None, None if since is None else at(since),
                            until=None if until is None else at(until))
    assert [(c.key, c.before, c.after) for c in changes] == expected


def test_a_change_says_who_made_it_and_when():
    change = changes_since(STORY, S, at(5))[0]
    assert (change.key, change.source, change.observed_at) == ("readiness.products_added", "trial", at(6))


def test_changes_since_uses_the_design_signature_positionally():
    assert changes_since(STORY, S, at(5)) == changes_since(STORY, since=at(5))


# ---------------------------------------------------------------- inputs


def test_an_empty_history_is_an_empty_profile():
    profile = fold([], shop="shop-9", market="TR")
    assert (profile.shop, profile.market, profile.observation_count) == ("shop-9", "TR", 0)
    assert profile.facts == {} and profile.persona is None and profile.experience_level is None
    assert profile.readiness.percent == 0 and profile.readiness.stage == "setting_up"


def test_observations_of_another_shop_are_a_mistake():
    with pytest.raises(ValueError, match="more than one shop"):
        fold([obs("owner.name", "A", shop="s1"), obs("owner.name", "B", shop="s2")])
    with pytest.raises(ValueError, match="more than one shop"):
        fold([obs("owner.name", "A", shop="s1")], shop="s2")
    assert fold([obs("owner.name", "A", shop="s1")], shop="s1").shop == "s1"


def test_unknown_questions_stay_in_history_but_not_in_the_profile():
    profile = fold([obs("owner.shoe_size", 42, 0), obs("owner.name", "Anna", 1)])
    assert set(profile.facts) == {"owner.name"}
    assert profile.observation_count == 1


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"observed_at": datetime(2025, 3, 1, 9, 0)}, ValueError),  # naive: which 9 o'clock?
        ({"observed_at": "2025-03-01T09:00:00Z"}, TypeError),
        ({"source": "phone"}, ValueError),
        ({"op": "append"}, ValueError),
    ],
)
def test_an_observation_refuses_what_the_fold_could_not_order_or_apply(kwargs, error):
    base = dict(shop="s", question="owner.name", value="A", source="call", actor="a", observed_at=T0)
    with pytest.raises(error):
        Observation(**{**base, **kwargs})


def test_the_fold_does_not_mutate_its_input():
    history = [obs("features.payments", ["paypal"], 0), obs("features.payments", ["blik"], 1, op="add")]
    snapshot = [(o.question, list(o.value)) for o in history]
    fold(history)
    assert [(o.question, list(o.value)) for o in history] == snapshot


def test_the_fold_accepts_any_iterable_once():
    assert fold(iter(STORY)).value("owner.hours_per_week") == 20


# ---------------------------------------------------------------- properties

VALUES = {
    "owner.hours_per_week": st.integers(0, 100),
    "business.type": st.sampled_from(["handmade", "reseller", "new_brand", "offline_store"]),
    "experience.sold_online_before": st.booleans(),
    "experience.tech_comfort": st.integers(1, 5),
    "readiness.products_added": st.booleans(),
    "readiness.launched": st.booleans(),
    "business.expected_monthly_turnover": st.builds(
        lambda a, c: {"amount": a, "currency": c}, st.integers(0, 10**8), st.sampled_from(["PLN", "TRY", "INR"])),
}
MULTI = {"features.payments": ["blik", "payu", "paypal", "stripe"], "needs.help_with": ["seo", "payments", "legal"]}
COUNTERS = ["trial.product_count", "trial.order_count"]


@st.composite
def an_observation(draw):
    kind = draw(st.sampled_from(["value", "multi", "counter"]))
    source = draw(st.sampled_from(["call", "survey", "trial", "import"]))
    hour = draw(st.integers(0, 6))  # few distinct times: plenty of ties for seq to break
    if kind == "value":
        q = draw(st.sampled_from(sorted(VALUES)))
        return q, draw(VALUES[q]), "set", source, hour
    if kind == "multi":
        q = draw(st.sampled_from(sorted(MULTI)))
        value = draw(st.lists(st.sampled_from(MULTI[q]), unique=True, max_size=3))
        return q, value, draw(st.sampled_from(["set", "add", "remove"])), source, hour
    q = draw(st.sampled_from(COUNTERS))
    op = draw(st.sampled_from(["set", "increment"]))
    return q, draw(st.integers(0, 50) if op == "set" else st.integers(-3, 10)), op, source, hour


histories = st.lists(an_observation(), max_size=40).map(
    lambda raw: [obs(q, v, h, op=op, source=src, seq=i) for i, (q, v, op, src, h) in enumerate(raw)])


@settings(max_examples=150, deadline=None)
@given(histories, st.randoms(use_true_random=False))
def test_fold_is_order_independent(history, rnd):
    shuffled = list(history)
    rnd.shuffle(shuffled)
    assert fold(shuffled, market="PL") == fold(history, market="PL")


@settings(max_examples=100, deadline=None)
@given(histories, st.integers(-1, 7))
def test_as_of_equals_folding_only_what_was_known_then(history, hour):
    assert fold(history, as_of=at(hour)).facts == fold([o for o in history if o.observed_at <= at(hour)]).facts


@settings(max_examples=100, deadline=None)
@given(histories, st.integers(-1, 7))
def test_changes_since_are_exactly_the_facts_that_differ(history, hour):
    then, now = fold(history, as_of=at(hour)), fold(history)
    expected = sorted(k for k in set(then.facts) | set(now.facts) if then.value(k) != now.value(k))
    assert [c.key for c in changes_since(history, S, at(hour))] == expected


def test_order_independence_on_a_large_random_history():
    rnd = random.Random(7)
    history = []
    for i in range(500):
        k = rnd.choice(["owner.hours_per_week", "trial.product_count", "features.payments"])
        hour = rnd.randint(0, 50)
        if k == "owner.hours_per_week":
            history.append(obs(k, rnd.randint(0, 100), hour, source=rnd.choice(["call", "survey"]), seq=i))
        elif k == "trial.product_count":
            history.append(obs(k, rnd.randint(0, 3), hour, source="trial", op="increment", seq=i))
        else:
            history.append(obs(k, [rnd.choice(MULTI[k])], hour, source="trial",
                               op=rnd.choice(["add", "remove"]), seq=i))
    expected = fold(history)
    for _ in range(5):
        rnd.shuffle(history)
        assert fold(history) == expected
    assert expected.value("trial.product_count") > 0


@settings(max_examples=100, deadline=None)
@given(st.lists(an_observation(), max_size=30), st.randoms(use_true_random=False))
def test_fold_is_order_independent_even_when_time_and_seq_tie(raw, rnd):
    """Observations built in memory all have seq=0: a full tie must not let input order decide."""
    history = [obs(q, v, h, op=op, source=src) for q, v, op, src, h in raw]
    shuffled = list(history)
    rnd.shuffle(shuffled)
    assert fold(shuffled, market="TR") == fold(history, market="TR")


@pytest.mark.parametrize("reverse", [False, True])
def test_a_full_tie_is_decided_the_same_way_whatever_the_input_order(reverse):
    pair = [obs("business.type", "handmade", 1), obs("business.type", "reseller", 1)]
    assert fold(pair[::-1] if reverse else pair).value("business.type") == "reseller"
