"""How close can any model get to the demo's oracle? An analysis, not a benchmark.

    .venv/bin/python benchmarks/model_ceiling.py [--shops 20000] [--extra 40000]

The oracle's probability is computed from what each merchant truly is (hours a week,
selling experience, comfort with technology, catalogue, expected turnover, selling
abroad) and from the trial at the snapshot. A model sees only the trial events and the
answers given before the snapshot: about 40 % of demo merchants answer no survey before
day 7, and self-reported answers are a little off. This script measures how much of the
model's AUC gap to the oracle is missing information and how much is limited history:

- the 20k demo (the `concierge demo --shops 20000 --seed 7 --today 2026-11-01` population)
  is turned into the pipeline's own features (events through the declared event mapping,
  survey answers through the schema's validation, `FeatureSpace` columns), without a
  database;
- a boosted model (the training candidate's settings; treatment as a column, so its
  probability is comparable with the oracle's, which knows whether a call followed) is
  trained on the older cohorts and tested on the newest ~20 %, as `concierge model train`
  splits them;
- the same model with **more history** (a second population of `--extra` shops, same
  dates, another seed, older cohorts only), and with **full information** (the same
  columns plus the merchant's true traits, which no real system has).

`--populations 11 12 13` instead measures the pipeline's own uplift model (the AUC of
`UpliftModel.predict_arms`, what `concierge model evaluate` compares with the oracle, and
the Qini of `predict_uplift`, the call queue's order)
on other demo populations of the same size and dates: how much the AUC gap to the
oracle moves with the population and its ~3,300 test trials alone.

Pure: no database, no network. Takes a few minutes on two cores.
"""
from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

import profile_schema
from concierge.demo import generator
from concierge.ingest.events import load_mapping, plan_event
from concierge.scoring.outcome import decision_window
from concierge.scoring.features import FeatureSpace, take_snapshot
from concierge.scoring.train import TrainingRow, cohort, out_of_time_split

TODAY = date(2026, 11, 1)
SNAPSHOT_DAY = 7


def observations(shop: generator.DemoShop, schema, mapping) -> list[profile_schema.Observation]:
    """What the database would hold for the shop (call answers left out: the call is the treatment)."""
    out: list[profile_schema.Observation] = []
    for e in shop.events:
        etype = mapping.types.get(e.type)
        if etype is None:
            continue
        answers, ops = plan_event(etype, e.data, shop.market)
        values = schema.validate(answers, market=shop.market, source="trial", partial=True).values
        out += [profile_schema.Observation(shop.platform_id, k, v, "trial", f"trial:{e.id}", e.occurred_at,
                                           op=ops.get(k, "set")) for k, v in values.items()]
    if shop.survey is not None:
        values = schema.validate(shop.survey.answers, market=shop.market, source="survey").values
        out += [profile_schema.Observation(shop.platform_id, k, v, "survey", "merchant", shop.survey.at)
                for k, v in values.items()]
    return out


def dataset(pop: generator.Population, space: FeatureSpace, schema, mapping):
    rows, hidden, oracle = [], [], []
    clock = max(e.occurred_at for s in pop.shops for e in s.events)  # data.data_clock
    for s in pop.shops:
        if s.outcome is None:
            continue
        snap_at = s.trial_started_at + timedelta(days=SNAPSHOT_DAY)
        if s.outcome_at is not None and s.outcome_at < snap_at:
            continue  # decided before the snapshot: not used, as in training
        window = decision_window(s.market)
        if s.trial_ends_at + window > clock:
            continue  # the outcome is not final yet (data.finished_trials)
        converted = s.outcome == "converted" and s.outcome_at <= s.trial_ends_at + window
        snap = take_snapshot(observations(s, schema, mapping), shop=s.platform_id, market=s.market, as_of=snap_at)
        rows.append(TrainingRow(snap, int(converted), s.trial_started_at, s.called, s.holdout))
        a = s.attributes
        hidden.append([a["hours"], a["tech"], float(a["sold_before"]), a["catalogue"], a["band"], float(a["sells_abroad"])])
        oracle.append(s.p_call if s.called else s.p_no_call)
    X = space.transform([r.snapshot for r in rows])
    X = np.column_stack([X, [float(r.treated) for r in rows]])
    y = np.array([r.outcome for r in rows])
    return rows, X, np.array(hidden, dtype=float), y, np.array(oracle)


def model(seed: int = 0) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=600, learning_rate=0.03, max_leaf_nodes=8, min_samples_leaf=80,
                                          l2_regularization=1.0, max_features=0.5, random_state=seed)


def populations(seeds: list[int], shops: int, space: FeatureSpace, schema, mapping) -> None:
    """The pipeline's response model (a bag of boosted models, the call as an input) on each population."""
    from concierge.scoring.estimators import UpliftModel
    from concierge.scoring.metrics import qini_coefficient

    gaps = []
    for seed in seeds:
        pop = generator.generate(shops, seed=seed, today=TODAY)
        rows, X, _, y, oracle = dataset(pop, space, schema, mapping)
        gain = {s.platform_id: s.p_call - s.p_no_call for s in pop.shops}
        tr, te, _ = out_of_time_split(rows)
        X, t = X[:, :-1], X[:, -1].astype(bool)  # dataset() appends the call as the last column
        model = UpliftModel(random_state=0).fit(X[tr], y[tr], t[tr])
        p0, p1 = model.predict_arms(X[te])
        auc_o = float(roc_auc_score(y[te], oracle[te]))
        auc_m = float(roc_auc_score(y[te], np.where(t[te], p1, p0)))
        gaps.append(auc_o - auc_m)
        qini_o = qini_coefficient(np.array([gain[rows[i].snapshot.shop] for i in te]), y[te], t[te])
        qini_m = qini_coefficient(model.predict_uplift(X[te]), y[te], t[te])
        print(json.dumps({"population": seed, "test_rows": int(len(te)), "oracle_auc": round(auc_o, 4),
                          "model_auc": round(auc_m, 4), "gap": round(auc_o - auc_m, 4),
                          "qini_oracle": round(qini_o, 5), "qini_model": round(qini_m, 5)}), flush=True)
    print(json.dumps({"populations": len(gaps), "mean_gap": round(float(np.mean(gaps)), 4),
                      "min_gap": round(float(np.min(gaps)), 4), "max_gap": round(float(np.max(gaps)), 4),
                      "within_0.01": int(np.sum(np.array(gaps) <= 0.01))}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shops", type=int, default=20000)
    ap.add_argument("--extra", type=int, default=40000, help="shops of the second population (more history)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--populations", type=int, nargs="*", metavar="SEED",
                    help="the pipeline's response model on these populations' seeds instead")
    args = ap.parse_args()
    started = time.perf_counter()
    schema = profile_schema.load_schema()
    space, mapping = FeatureSpace.from_schema(schema), load_mapping()
    if args.populations:
        populations(args.populations, args.shops, space, schema, mapping)
        return
    rows, X, H, y, oracle = dataset(generator.generate(args.shops, seed=args.seed, today=TODAY), space, schema, mapping)
    tr, te, split = out_of_time_split(rows)
    results = {"test_rows": int(len(te)), "train_rows": int(len(tr)), "test_cohorts": split["test_cohorts"],
               "oracle_auc": round(float(roc_auc_score(y[te], oracle[te])), 4)}

    def auc_of(Xtr, ytr, Xte) -> float:
        return round(float(roc_auc_score(y[te], model().fit(Xtr, ytr).predict_proba(Xte)[:, 1])), 4)

    results["observable"] = auc_of(X[tr], y[tr], X[te])
    results["full_information"] = auc_of(np.column_stack([X, H])[tr], y[tr], np.column_stack([X, H])[te])
    if args.extra:
        rows2, X2, H2, y2, _ = dataset(generator.generate(args.extra, seed=args.seed + 4, today=TODAY), space, schema, mapping)
        # only what the first population's training could have seen: each market's trials before its test months
        first_test = {m: v["test_from"] for m, v in split["markets"].items()}
        old = np.array([cohort(r.started_at) < (first_test.get(r.snapshot.market) or "9999") for r in rows2])
        results["more_history_rows"] = int(len(tr) + old.sum())
        results["observable_more_history"] = auc_of(np.vstack([X[tr], X2[old]]), np.concatenate([y[tr], y2[old]]), X[te])
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(f"oracle AUC on {results['test_rows']} test trials: {results['oracle_auc']}")
    print(f"model, observable information, {results['train_rows']} training trials: {results['observable']}")
    if args.extra:
        print(f"model, observable information, {results['more_history_rows']} training trials: "
              f"{results['observable_more_history']}")
    print(f"model, full information (true traits added), {results['train_rows']} training trials: "
          f"{results['full_information']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
