"""scoring.leakage: a column that tells the outcome alone is flagged; honest or merely rich ones are not."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from concierge.scoring import leakage


def _y(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return rng, (rng.random(n) < 0.25).astype(int)


def test_auc_agrees_with_sklearn_with_ties():
    rng = np.random.default_rng(3)
    s, y = rng.random(400).round(1), (rng.random(400) < 0.3).astype(int)
    assert abs(leakage.auc(s, y) - roc_auc_score(y, s)) < 1e-12


def test_an_honest_signal_is_not_flagged_and_a_separating_one_is():
    rng, y = _y()
    honest = (rng.normal(size=len(y)) + 0.9 * y).tolist()
    leak = (y * 5 + rng.normal(size=len(y)) * 0.4).tolist()
    assert leakage.assess(honest, y)["leak"] is False
    judged = leakage.assess(leak, y)
    assert judged["leak"] and "auc" in judged["reasons"] and judged["auc"] >= 0.95
    flagged = leakage.check({"honest": honest, "leak": leak}, y)
    assert [f["column"] for f in flagged] == ["leak"]


def test_hundreds_of_rare_categories_are_not_mistaken_for_leakage():
    rng, y = _y()
    cats = [f"c{int(x)}" for x in rng.integers(0, 495, len(y))]  # 495 values, no signal: in-sample it would memorise
    assert leakage.assess(cats, y)["leak"] is False


def test_a_near_pure_value_holding_most_of_the_rarer_outcome_is_flagged():
    rng, y = _y()
    tags = ["closed_won" if yi and rng.random() < 0.7 else str(rng.choice(["a", "b", "c"])) for yi in y]
    judged = leakage.assess(tags, y)
    assert judged["leak"] and "pure_value" in judged["reasons"] and judged["pure_share"] >= 0.5


def test_missingness_that_tells_the_outcome_is_flagged():
    rng, y = _y()
    paid_on = [1.0 + rng.random() if yi else None for yi in y]  # a payment date only buyers have
    assert leakage.assess(paid_on, y)["leak"]


def test_too_little_to_judge():
    assert leakage.assess([1, 2, 3], [0, 1, 0]) is None
    assert leakage.assess(["a"] * 50, [0, 1] * 25) is None  # one value


def test_training_rows_are_judged_as_the_model_sees_them():
    from datetime import datetime, timezone

    import profile_schema

    from concierge.scoring.features import FeatureSpace, TrialSnapshot
    from concierge.scoring.train import TrainingRow

    schema = profile_schema.parse_schema({
        "version": 1, "facets": ["lead"], "questions": [
            {"key": "lead.note", "type": "text", "max_length": 50, "label": {"en": "Note"}},
            {"key": "lead.stage", "type": "single_choice", "label": {"en": "Stage"},
             "choices": {"won": {"en": "Won"}, "lost": {"en": "Lost"}}}]})
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    rows = []
    for i in range(400):
        y = int(i % 47 < 12)
        # the note repeats per "customer" (it would be memorised), but the model only reads whether it was written
        rows.append(TrainingRow(TrialSnapshot(f"s{i}", "PL", {"lead.note": f"n{i % 47}", "lead.stage": "won" if y else "lost"}),
                                y, start))
    space = FeatureSpace.from_schema(schema)
    judged = leakage.check_snapshots(rows, space)
    assert [f["question"] for f in judged["flagged"]] == ["lead.stage"] and judged["checked"] == 2
    assert {f["question"] for f in leakage.check_snapshots(rows)["flagged"]} == {"lead.note", "lead.stage"}
