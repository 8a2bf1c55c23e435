"""Scores for trials of every age (issue 14, item 2): the pure parts, no database.

Training snapshots each finished trial at several ages with the age as a feature; the
split keeps a trial's snapshots together; an open trial is scored at its own age.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from concierge.scoring.features import (DEFAULT_AGES, DEFAULT_SNAPSHOT_DAY, FeatureSpace, scoring_age, snapshot_ages,
                                        snapshot_time, take_snapshot)
from concierge.scoring.metrics import bootstrap
from concierge.scoring.synthetic import make_trials, training_rows
from concierge.scoring.train import TrainingRow, out_of_time_split, row_age, train, trial_groups

START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def test_a_trial_decided_before_an_age_gives_no_row_at_it():
    assert snapshot_ages(START, None, [10, 0, 7, 2, 4, 7]) == [0, 2, 4, 7, 10]
    assert snapshot_ages(START, START + timedelta(days=14), DEFAULT_AGES) == [0, 2, 4, 7, 10]
    # bought on day 3: rows at days 0 and 2 only; on day 4 exactly: day 4 is still a row
    assert snapshot_ages(START, START + timedelta(days=3), DEFAULT_AGES) == [0, 2]
    assert snapshot_ages(START, START + timedelta(days=4), DEFAULT_AGES) == [0, 2, 4]
    assert snapshot_ages(START, START - timedelta(hours=1), DEFAULT_AGES) == []


def test_an_open_trial_is_scored_at_its_real_age_capped_at_the_largest_trained_one():
    now = START + timedelta(days=3, hours=5)
    assert scoring_age(START, now, DEFAULT_AGES) == (now, 3)
    assert scoring_age(START, START + timedelta(hours=2), DEFAULT_AGES) == (START + timedelta(hours=2), 0)
    late = START + timedelta(days=25)
    assert scoring_age(START, late, DEFAULT_AGES) == (snapshot_time(START, 10), 10)
    assert scoring_age(START, START - timedelta(days=1), DEFAULT_AGES)[1] == 0  # not started yet
    assert scoring_age(None, now, DEFAULT_AGES) == (now, None)


def test_the_age_is_a_feature_and_nan_when_unknown():
    import profile_schema

    space = FeatureSpace.from_schema(profile_schema.load_schema())
    i = space.index["activity.trial_day"]
    snap = take_snapshot([], shop="x", market="PL", as_of=START, trial_day=4)
    assert space.transform([snap])[0, i] == 4.0
    assert np.isnan(space.transform([take_snapshot([], shop="x", market="PL", as_of=START)])[0, i])


def test_the_cli_offers_the_scoring_default_ages_without_loading_numpy():
    import subprocess
    import sys

    code = ("import sys; from concierge.cli.model import model_group as g; "
            "o = {p.name: p.default for p in g.commands['train'].params}; "
            "print(o['ages'], o['snapshot_day'], 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [",".join(map(str, DEFAULT_AGES)), str(DEFAULT_SNAPSHOT_DAY), "False"]


@pytest.mark.parametrize("months", [6, 1])
def test_the_split_keeps_a_trials_snapshots_together(months):
    # months=1: one cohort, the split falls back to start time with random ties, row by row before
    trials = make_trials(300, seed=5, months=months, start=START)
    if months == 1:  # every trial starts at once: only the random tie-break decides
        trials = [dataclasses.replace(t, started_at=START) for t in trials]
    rows = training_rows(trials)
    tr, te, info = out_of_time_split(rows, seed=3)
    side = {}
    for i in tr:
        side.setdefault(rows[i].trial, set()).add("train")
    for i in te:
        side.setdefault(rows[i].trial, set()).add("test")
    assert len(side) == 300 and all(len(v) == 1 for v in side.values())
    assert 0 < len(te) < len(rows) and len(tr) + len(te) == len(rows)
    # the per-market counts are trials, not rows
    assert sum(m["test_rows"] for m in info["markets"].values()) == sum(1 for v in side.values() if v == {"test"})


def test_bootstrap_by_group_resamples_whole_trials():
    # every trial twice: resampling rows would give odd counts of a trial's rows, groups never do
    y = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    groups = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    seen = []
    bootstrap(lambda a: seen.append(len(a)) or float(a.mean()), [y], n_boot=20, seed=1, groups=groups)
    assert seen and all(n % 2 == 0 for n in seen)
    seen_rows = []
    bootstrap(lambda a, g: seen_rows.append(np.bincount(g, minlength=4)) or 0.0, [y, groups], n_boot=20, seed=1)
    assert any((c % 2).any() for c in seen_rows)  # without groups a trial's rows come apart: the test can fail


def test_training_on_every_age_counts_trials_and_reports_each_age():
    import profile_schema

    space = FeatureSpace.from_schema(profile_schema.load_schema())
    trials = make_trials(350, seed=9, start=START)
    rows = training_rows(trials)
    bundle, card = train(rows, space, ages=DEFAULT_AGES, min_rows=200)
    assert card["snapshot_days"] == [0, 2, 4, 7, 10]
    assert bundle.snapshot_days == (0, 2, 4, 7, 10)
    groups = trial_groups(rows)
    assert card["rows"]["finished"] == 350 == len(set(groups.tolist()))
    assert card["rows"]["train"] + card["rows"]["test"] == 350
    assert card["rows"]["train_snapshots"] + card["rows"]["test_snapshots"] == len(rows)
    assert bundle.trained_rows == card["rows"]["train"]  # "Learned from N finished trials": trials
    assert sum(card["rows"]["train_snapshots_by_age"].values()) == card["rows"]["train_snapshots"]
    assert set(card["by_age"]) == {"0", "2", "4", "7", "10"}
    test_ids = set(card["split"]["test_trial_ids"])
    assert len(test_ids) == card["rows"]["test"]
    # the headline figures are on the day-7 test rows, one per test trial
    assert card["metrics"]["n"] == card["by_age"]["7"]["test_rows"] == len(test_ids)
    # the reasons compare a trial with trials of its own age
    assert sorted(set(bundle.background_ages.tolist())) == [0, 2, 4, 7, 10]
    young = take_snapshot([], shop="y", market="PL", as_of=START, trial_day=1)
    bg, ref = bundle.age_rows(young.trial_day)
    assert len(bg) and (bg[:, space.index["activity.trial_day"]] == 0).all()
    assert ref[space.index["activity.trial_day"]] == 0
    from concierge.scoring.model import Scorer

    r = Scorer(bundle).score_one(take_snapshot(trials[0].observations, shop=trials[0].shop, market=trials[0].market,
                                               as_of=snapshot_time(trials[0].started_at, 2), trial_day=2))
    factors = {x["factor"] for x in r.details["reasons"]["up"] + r.details["reasons"]["down"]}
    assert "activity.trial_day" not in factors  # the age is never a reason


def test_row_age_defaults_to_the_snapshot_day_for_rows_without_one():
    snap = take_snapshot([], shop="a", market="PL", as_of=START)
    assert row_age(TrainingRow(snap, 1, START), 7) == 7
    snap = take_snapshot([], shop="a", market="PL", as_of=START, trial_day=2)
    assert row_age(TrainingRow(snap, 1, START), 7) == 2
