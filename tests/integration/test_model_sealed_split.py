"""The sealed evaluation: the card stores its test split and `model evaluate` judges exactly it.

Before, `model evaluate` recomputed the split with seed 0 and today's data clock: a model
trained with another seed on one cohort was judged mostly on its own training rows, and
new events moved the clock, so the evaluated cohorts drifted. Both databases.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import delete, select, update

from concierge.cli import cli
from concierge.models import Call, DemoTruth, ModelVersion, Observation, Shop, TrialEvent
from concierge.operations.scoring.data import finished_trials
from concierge.scoring.synthetic import make_trials
from concierge.scoring.train import out_of_time_split
from tests.support import load_trials

FIGURES = ("n", "prevalence", "auc", "pr_auc", "brier", "log_loss", "ece")


def event(session, shop_platform_id: str, at: datetime, n: int) -> None:
    sid = session.scalar(select(Shop.id).where(Shop.platform_id == shop_platform_id))
    session.add(TrialEvent(id=f"ev-{n}", shop_id=sid, type="page_view", occurred_at=at, body_sha256="0" * 64,
                           payload={}))
    session.commit()


def run(db_url, *args):
    return CliRunner().invoke(cli, list(args), env={"CONCIERGE_DATABASE_URL": db_url}, catch_exceptions=False)


def run_json(db_url, *args):
    r = run(db_url, *args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def test_another_seed_evaluates_the_identical_split_and_figures(database, db_url):
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    with database.sessionmaker() as s:
        load_trials(s, make_trials(400, seed=21, months=1, start=start), same_start=start)
    card = run_json(db_url, "model", "train", "--ages", "7", "--seed", "7")["card"]
    assert card["split"]["kind"] == "random"  # one start time: the seed decides the split
    sealed = card["split"]["test_trial_ids"]
    assert len(sealed) == card["rows"]["test"] > 0
    # the old way (seed 0, recomputed) would judge another set of trials: this test can fail
    with database.sessionmaker() as s:
        rows = finished_trials(s, snapshot_day=7).rows
    _, te0, _ = out_of_time_split(rows, seed=0)
    assert {rows[i].snapshot.shop for i in te0} != set(sealed)

    a = run_json(db_url, "model", "evaluate", "--bootstrap", "0", "--seed", "0")
    b = run_json(db_url, "model", "evaluate", "--bootstrap", "0", "--seed", "3")
    for ev in (a, b):
        assert ev["split"]["source"] == "card"
        assert ev["split"]["test_trials"] == len(sealed) and ev["split"]["dropped"] == 0
        assert ev["test_rows"] == len(sealed)
        assert "test_trial_ids" not in ev["split"]
        for k in ("kind", "test_cohorts", "train_cohorts", "markets"):  # the existing keys stay
            assert k in ev["split"], k
        for k in ("auc", "brier", "ece", "prevalence"):  # the figures the card gave at training
            assert ev["model"][k] == card["metrics"][k], k
    assert {k: a["model"][k] for k in FIGURES} == {k: b["model"][k] for k in FIGURES}


def test_events_and_trials_added_after_training_do_not_move_the_evaluation(database, db_url):
    with database.sessionmaker() as s:
        load_trials(s, make_trials(900, seed=22, months=8, start=datetime(2025, 1, 1, tzinfo=timezone.utc)))
        event(s, "syn-22-0", datetime(2025, 8, 1, tzinfo=timezone.utc), 1)  # the data clock at training
    card = run_json(db_url, "model", "train", "--ages", "7")["card"]
    sealed = card["split"]["test_trial_ids"]
    assert card["split"]["data_clock"].startswith("2025-08-01")
    before = run_json(db_url, "model", "evaluate", "--bootstrap", "10")

    # months later: the clock moves (more trials' decision windows have closed), new trials end,
    # a test trial gets an event after its snapshot, and a late import back-dates an answer of
    # every test trial to before its snapshot (stored after training: the model never saw it)
    with database.sessionmaker() as s:
        load_trials(s, make_trials(40, seed=23, months=1, start=datetime(2025, 9, 1, tzinfo=timezone.utc)))
        event(s, sealed[0], datetime(2026, 1, 10, tzinfo=timezone.utc), 2)
        for shop in s.scalars(select(Shop).where(Shop.platform_id.in_(sealed))):
            s.add(Observation(shop_id=shop.id, question="trial.product_count", value=40, op="set", source="trial",
                              actor="late-import", observed_at=shop.trial_started_at + timedelta(days=2)))
        s.commit()
        rows = finished_trials(s, snapshot_day=7).rows
    _, te_now, _ = out_of_time_split(rows)
    assert {rows[i].snapshot.shop for i in te_now} != set(sealed)  # recomputing would now judge others

    after = run_json(db_url, "model", "evaluate", "--bootstrap", "10")
    assert after["split"] == before["split"]
    assert after["split"]["source"] == "card" and after["split"]["dropped"] == 0
    assert after["test_rows"] == before["test_rows"] == len(sealed)
    for block in ("model", "model_given_treatment", "oracle", "uplift", "gaps"):
        assert after[block] == before[block], block

    # a test trial that can no longer be built is counted, not silently lost
    with database.sessionmaker() as s:
        sid = s.scalar(select(Shop.id).where(Shop.platform_id == sealed[1]))
        for table in (Observation, Call, DemoTruth, TrialEvent):
            s.execute(delete(table).where(table.shop_id == sid))
        s.execute(delete(Shop).where(Shop.id == sid))
        s.commit()
    dropped = run_json(db_url, "model", "evaluate", "--bootstrap", "0")
    assert dropped["split"]["dropped"] == 1 and dropped["test_rows"] == len(sealed) - 1
    r = run(db_url, "model", "evaluate", "--bootstrap", "0")
    assert "1 can no longer be built" in r.output


def test_a_card_from_before_sealed_splits_is_recomputed_and_says_so(database, db_url):
    with database.sessionmaker() as s:
        load_trials(s, make_trials(300, seed=24, months=4))
    version = run_json(db_url, "model", "train", "--ages", "7")["version"]
    with database.sessionmaker() as s:
        card = s.scalar(select(ModelVersion.card).where(ModelVersion.version == version))
        old = {**card, "split": {k: v for k, v in card["split"].items()
                                 if k not in ("test_trial_ids", "data_clock", "seed")}}
        s.execute(update(ModelVersion).where(ModelVersion.version == version).values(card=old))
        s.commit()
    ev = run_json(db_url, "model", "evaluate", "--bootstrap", "0")
    assert ev["split"]["source"] == "recomputed" and ev["split"]["dropped"] == 0
    assert ev["split"]["test_trials"] == ev["test_rows"] > 0
    assert "recomputed" in run(db_url, "model", "evaluate", "--bootstrap", "0").output
    assert "not stored" in run(db_url, "model", "show", "--markdown").output


def test_model_show_prints_a_stored_card_again(database, db_url):
    with database.sessionmaker() as s:
        load_trials(s, make_trials(300, seed=25, months=4))
    first = run_json(db_url, "model", "train", "--ages", "7")
    second = run_json(db_url, "model", "train", "--ages", "7", "--seed", "1")

    shown = run_json(db_url, "model", "show", first["version"])
    assert shown["version"] == first["version"] and shown["active"] is False
    assert shown["card"] == first["card"]
    assert run_json(db_url, "model", "show")["version"] == second["version"]  # default: the active one

    md = run(db_url, "model", "show", first["version"], "--markdown")
    assert md.exit_code == 0, md.output
    assert md.output.startswith(f"# Model card: {first['version']}")
    assert f"sealed, {len(first['card']['split']['test_trial_ids'])} test trials" in md.output
    assert "| auc |" in md.output

    text = run(db_url, "model", "show")
    assert text.exit_code == 0, text.output
    assert text.output.startswith(f"Model {second['version']}") and "- active" in text.output
    assert "Split: test split: sealed" in text.output

    for args in (("nope",), ("nope", "--json")):
        r = run(db_url, "model", "show", *args)
        assert r.exit_code != 0 and "nope" in r.output
    assert run(db_url, "model", "show", "--json", "--markdown").exit_code != 0
