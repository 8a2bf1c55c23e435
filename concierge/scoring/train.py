"""Training from history: out-of-time split, model selection, calibration, the model card."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from gettext import NullTranslations
from typing import Any, Callable, Collection, Sequence

import numpy as np

from .estimators import ConversionModel, FallbackModel, UpliftModel
from .features import FeatureSpace, TrialSnapshot
from .metrics import calibration_bins, probability_metrics, qini_coefficient
from .model import Bundle, Scorer

Gettext = Callable[[str], str]
NGettext = Callable[[str, str, int], str]
#: The words of the card's lines for people without a reader's catalog: the English msgids.
ENGLISH = NullTranslations()

MIN_ROWS = 500            # below this (or MIN_POSITIVES) the whole model is the fallback
MIN_POSITIVES = 25
MIN_MARKET_ROWS = 200     # a market with fewer training rows is scored by the fallback
TEST_FRACTION = 0.2


class NotEnoughData(ValueError):
    """Training cannot start: too few finished trials, or only one outcome."""


@dataclass(frozen=True)
class TrainingRow:
    """One finished trial as it stood at its snapshot, its outcome and whether it was called after."""

    snapshot: TrialSnapshot
    outcome: int                 # 1 converted, 0 not
    started_at: datetime
    treated: bool = False        # a concierge call after the snapshot, before the trial ended
    holdout: bool = False        # randomly held out from calls
    called_before: bool = False  # already called at the snapshot: neither arm of the uplift model

    @property
    def trial(self) -> str:
        """The trial's id (its shop): every snapshot of one trial shares it."""
        return str(self.snapshot.shop)


def row_age(row: TrainingRow, default: int) -> int:
    """The snapshot's age in whole days (`default` for a row without one: a single-day history)."""
    d = row.snapshot.trial_day
    return int(default) if d is None else int(d)


def trial_groups(rows: Sequence[TrainingRow]) -> np.ndarray:
    """One integer per row naming its trial (rows of one trial share it)."""
    codes: dict[str, int] = {}
    return np.array([codes.setdefault(r.trial, len(codes)) for r in rows], dtype=int)


def first_of_trial(groups: np.ndarray) -> np.ndarray:
    """Indices of each trial's first row (to count and weigh trials, not rows)."""
    _, first = np.unique(groups, return_index=True)
    return np.sort(first)


def cohort(d: datetime) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _split_one(rows: Sequence[TrainingRow], test_fraction: float, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Test mask for one group of rows: the newest monthly cohorts, about `test_fraction` of them."""
    n = len(rows)
    cohorts = [cohort(r.started_at) for r in rows]
    counts = Counter(cohorts)
    ordered = sorted(counts)
    test_cohorts: list[str] = []
    taken = 0
    target = test_fraction * n
    for c in reversed(ordered[1:]):  # the oldest cohort always stays in training
        if taken >= target:
            break
        if test_cohorts and (taken + counts[c] > 0.5 * n or abs(taken + counts[c] - target) > abs(taken - target)):
            break  # one more cohort would move the test share further from the target than stopping here
        test_cohorts.append(c)
        taken += counts[c]
    if test_cohorts and taken <= 0.5 * n:
        chosen = set(test_cohorts)
        test = np.array([c in chosen for c in cohorts])
        return test, {"kind": "out_of_time", "train_cohorts": sorted(set(ordered) - chosen),
                      "test_cohorts": sorted(test_cohorts), "test_from": min(test_cohorts)}
    # one cohort only (e.g. an import without dates): by start time, ties broken at random
    rng = np.random.default_rng(seed)
    keys = np.array([r.started_at.timestamp() for r in rows]) + rng.random(n) * 1e-3
    test = keys >= np.quantile(keys, 1 - test_fraction) if n else np.zeros(0, dtype=bool)
    return test, {"kind": "latest_by_start_time" if len(set(keys.astype(int))) > 1 else "random",
                  "train_cohorts": ordered, "test_cohorts": ordered, "test_from": None}


def out_of_time_split(rows: Sequence[TrainingRow], test_fraction: float = TEST_FRACTION,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Train on older monthly cohorts, test on the most recent ones (about `test_fraction`), per market.

    Each market is split on its own: its outcomes become final at different speeds (the
    decision windows, see data.py), so the newest final trials of Poland are older than
    Turkey's; one calendar cut would leave a market out of the test. Shops of one market
    never meet another's, so training on a Turkish month newer than a Polish test month
    leaks nothing about the Polish trials. `split.markets` gives each market's cohorts.

    The split is by trial: rows that are snapshots of one trial at several ages are all on
    the same side (the split is made on one row per trial, then given to all its rows);
    the counts in `split.markets` are trials.
    """
    groups = trial_groups(rows)
    first = first_of_trial(groups)
    if len(first) < len(rows):
        tr, te, info = out_of_time_split([rows[i] for i in first], test_fraction, seed)
        test_trials = set(groups[first[te]].tolist())
        mask = np.array([g in test_trials for g in groups], dtype=bool)
        return np.where(~mask)[0], np.where(mask)[0], info
    n = len(rows)
    markets = [r.snapshot.market or "" for r in rows]
    test = np.zeros(n, dtype=bool)
    per_market: dict[str, dict[str, Any]] = {}
    for m in sorted(set(markets)):
        idx = np.array([i for i, x in enumerate(markets) if x == m], dtype=int)
        mask, info = _split_one([rows[i] for i in idx], test_fraction, seed)
        test[idx[mask]] = True
        per_market[m or "?"] = {**info, "test_rows": int(mask.sum()), "train_rows": int((~mask).sum())}
    kinds = {v["kind"] for v in per_market.values()}
    train_c = sorted({c for v in per_market.values() for c in v["train_cohorts"]})
    test_c = sorted({c for v in per_market.values() for c in v["test_cohorts"]})
    froms = [v["test_from"] for v in per_market.values() if v["test_from"]]
    # one kind when every market was split the same way; "mixed" when, say, an imported
    # market without dates had to be split by start time while the others were out of time
    info = {"kind": kinds.pop() if len(kinds) == 1 else "mixed",
            "train_cohorts": train_c, "test_cohorts": test_c, "test_from": min(froms) if froms else None,
            "by": "market", "markets": per_market}
    return np.where(~test)[0], np.where(test)[0], info


def reference_row(space: FeatureSpace, X: np.ndarray) -> np.ndarray:
    """The typical trial: medians for numbers, the most common answer for choices and flags."""
    ref = np.zeros(X.shape[1])
    for key, idx in space.groups.items():
        kinds = [space.columns[i].kind for i in idx]
        if any(k in ("onehot", "other", "unknown") for k in kinds):
            sub = X[:, idx]
            ref[idx] = 0.0
            if len(sub):
                ref[idx[int(np.argmax(sub.sum(axis=0)))]] = 1.0
            continue
        for i, k in zip(idx, kinds):
            col = X[:, i]
            ok = col[~np.isnan(col)]
            if k in ("number", "money", "date"):
                ref[i] = float(np.median(ok)) if len(ok) * 2 >= len(col) and len(ok) else np.nan
            elif k == "missing":
                ref[i] = 0.0
            else:  # bool, multi, answered
                ref[i] = (float(np.mean(ok) >= 0.5) if len(ok) * 2 >= len(col) and len(ok) else np.nan) \
                    if k == "bool" else float(np.mean(ok) >= 0.5) if len(ok) else 0.0
        for i, k in zip(idx, kinds):  # keep the missing indicator consistent with its value
            if k == "missing":
                ref[i] = 1.0 if np.isnan(ref[idx[0]]) else 0.0
    return ref


BACKGROUND_ROWS = 8


def background_rows(X: np.ndarray, p: np.ndarray, k: int = BACKGROUND_ROWS) -> np.ndarray:
    """The reasons' baseline: `k` training rows at evenly spaced quantiles of their predicted chance.

    A factor's effect is the row's chance minus its mean chance with that question's value
    taken from each of these rows, so reasons say what moves a score away from the base
    rate (the mean of these rows' chances is close to it), not from one typical trial.
    Few rows keep one score with reasons fast (one batch of predictions).
    """
    if len(X) == 0:
        return np.zeros((0, X.shape[1]))
    order = np.argsort(np.asarray(p, float), kind="mergesort")
    picks = order[np.minimum(((np.arange(k) + 0.5) / k * len(order)).astype(int), len(order) - 1)]
    return np.array(X[picks], dtype=float)


def robust_columns(space: FeatureSpace) -> np.ndarray:
    """A few signals that mean the same in every market: activity, checklist flags, trial counters."""
    out = [i for i, c in enumerate(space.columns)
           if c.key.startswith("activity.") or (c.kind == "bool" and c.stage and c.markets is None)
           or (c.key.startswith("trial.") and c.kind in ("number", "missing"))]
    return np.array(out, dtype=int)


def _candidates(random_state: int) -> list[tuple[str, Any]]:
    return [
        # each split sees half the columns (max_features=0.5): with hundreds of one-hot columns
        # from the schema this regularises the trees (+0.003 test AUC on the 20k demo)
        ("boosting", ConversionModel(max_features=0.5, random_state=random_state)),
        ("boosting_shallow", ConversionModel(max_iter=200, learning_rate=0.075, max_leaf_nodes=7,
                                             min_samples_leaf=60, max_features=0.5, random_state=random_state)),
        ("logistic", FallbackModel(C=0.3, min_rows=30)),
    ]


def train(*args: Any, **kwargs: Any) -> tuple[Bundle, dict[str, Any]]:
    """Learn from finished trials; returns the bundle and its model card (metrics on the test cohorts)."""
    from .model import compute_threads

    with compute_threads():
        return _train(*args, **kwargs)


def _fit(est: Any, X: np.ndarray, y: np.ndarray, groups: np.ndarray, n_trials: int) -> Any:
    """Fit a candidate counting trials, not rows: calibration by the number of trials, and its
    cross-validation folds keep a trial's snapshots together (else isotonic learns from copies)."""
    if isinstance(est, ConversionModel):
        if est.calibration == "auto":
            est.set_params(calibration="isotonic" if n_trials >= est.isotonic_min_rows else "sigmoid")
        return est.fit(X, y, groups=groups)
    return est.fit(X, y)


def _train(rows: Sequence[TrainingRow], space: FeatureSpace, *, snapshot_day: int = 7,
          ages: Sequence[int] | None = None,
          random_state: int = 0, version: str | None = None, schema_yaml: str | None = None,
          min_rows: int = MIN_ROWS, min_market_rows: int = MIN_MARKET_ROWS,
          now: datetime | None = None) -> tuple[Bundle, dict[str, Any]]:
    """Learn from finished trials; returns the bundle and its model card (metrics on the test cohorts).

    `rows` may hold several snapshots of one trial (one per age, `snapshot.trial_day`): every
    estimator learns from all of them, with the age as a feature; every threshold (the
    fallback's, isotonic calibration's, the uplift arms') counts trials, and the split keeps
    a trial's rows together. The card's headline figures are on the `snapshot_day` rows
    (comparable with models of one snapshot day); `by_age` gives each age's.
    """
    groups_all = trial_groups(rows)
    firsts = first_of_trial(groups_all)
    n_trials_all = len(firsts)
    if n_trials_all < 10:
        raise NotEnoughData(f"only {n_trials_all} finished trials with a known start: at least 10 are needed")
    y_all = np.array([int(r.outcome) for r in rows])
    if len(set(y_all)) < 2:
        raise NotEnoughData("every finished trial has the same outcome: a model needs both")
    age_all = np.array([row_age(r, snapshot_day) for r in rows], dtype=int)
    days = sorted(set(int(a) for a in ages) if ages else set(age_all.tolist()))
    head_all = age_all == snapshot_day
    X_all = space.transform([r.snapshot for r in rows])
    markets_all = np.array([r.snapshot.market or "" for r in rows], dtype=object)
    t_all = np.array([r.treated for r in rows], dtype=bool)
    before_all = np.array([r.called_before for r in rows], dtype=bool)
    tr, te, split = out_of_time_split(rows, seed=random_state)
    # the sealed split: `model evaluate` judges exactly these trials again, whatever its seed or
    # the data added since (the service adds the data clock the rows were loaded at)
    split = {**split, "seed": random_state,
             "test_trial_ids": sorted({str(rows[i].snapshot.shop) for i in te})}
    X, y, g = X_all[tr], y_all[tr], groups_all[tr]
    trial_rows = first_of_trial(g)            # one row per training trial
    n_trials, y_trials = len(trial_rows), y[trial_rows]
    robust = robust_columns(space)
    prior = float(y_trials.mean()) if len(y_trials) else float(y_all[firsts].mean())
    fallback = FallbackModel(C=0.3, min_rows=30, prior=prior).fit(X[:, robust], y)

    selection: dict[str, Any] = {}
    thin = n_trials < min_rows or min(y_trials.sum(), n_trials - y_trials.sum()) < MIN_POSITIVES
    if thin:
        kind, chosen_name = "fallback", getattr(fallback, "kind_", "base_rate")
        conversion = fallback
    else:
        # model selection on the latest part of the training trials (still out of time)
        order = np.argsort([rows[tr[i]].started_at for i in trial_rows], kind="mergesort")
        cut = int(len(order) * 0.8)
        late = set(g[trial_rows[order[cut:]]].tolist())
        is_val = np.array([x in late for x in g], dtype=bool)
        fit_i, val_i = np.where(~is_val)[0], np.where(is_val)[0]
        from sklearn.base import clone

        best = None
        for name, est in _candidates(random_state):
            if len(set(y[val_i])) < 2 or len(set(y[fit_i])) < 2:
                best = best or (name, est)
                continue
            fitted = _fit(clone(est), X[fit_i], y[fit_i], g[fit_i], cut)
            p = np.clip(fitted.predict_proba(X[val_i])[:, 1], 1e-6, 1 - 1e-6)
            ll = float(-np.mean(y[val_i] * np.log(p) + (1 - y[val_i]) * np.log(1 - p)))
            selection[name] = {"validation_log_loss": round(ll, 5)}
            if best is None or ll < selection[best[0]]["validation_log_loss"]:
                best = (name, est)
        chosen_name = best[0]
        conversion = _fit(clone(best[1]), X, y, g, n_trials)
        kind = "conversion"

    train_counts = Counter(markets_all[tr][trial_rows])   # trials per market
    fallback_markets = {m: int(train_counts.get(m, 0)) for m in sorted(set(markets_all))
                        if m and train_counts.get(m, 0) < min_market_rows} if kind == "conversion" else {}
    uplift = None
    # the uplift model learns from snapshots not yet called: a row called before its snapshot
    # is in neither arm (its outcome already holds the call's effect)
    u = ~before_all[tr]
    treated_trials = len(set(g[u & t_all[tr]].tolist()))
    control_trials = len(set(g[u & ~t_all[tr]].tolist()))
    if treated_trials >= 50 and control_trials >= 50:
        uplift = UpliftModel(random_state=random_state).fit(X[u], y[u], t_all[tr][u], groups=g[u])
    head_tr = head_all[tr]
    ref_rows = X[head_tr] if head_tr.any() else X
    bundle = Bundle(space=space, conversion=conversion, fallback=fallback, uplift=uplift,
                    reference=reference_row(space, ref_rows), robust=robust, kind=kind,
                    fallback_markets=fallback_markets, trained_rows=int(n_trials),
                    snapshot_day=snapshot_day, schema_yaml=schema_yaml)

    scorer = Scorer(bundle)
    bundle.base_rate = prior
    p_train = scorer.predict(X, list(markets_all[tr]))
    age_tr = age_all[tr]
    if len(days) > 1:
        # the reasons' baseline and typical values per age: a young trial is compared with
        # trials of its own age (a day-0 trial has done less than a typical day-7 one)
        bundle.snapshot_days = tuple(days)
        bgs, bg_ages, refs = [], [], []
        for a in days:
            m = age_tr == a
            rows_a = X[m] if m.any() else X
            b = background_rows(rows_a, p_train[m] if m.any() else p_train)
            bgs.append(b)
            bg_ages += [a] * len(b)
            refs.append(reference_row(space, rows_a))
        bundle.background = np.vstack(bgs)
        bundle.background_ages = np.array(bg_ages, dtype=int)
        bundle.reference_by_age = np.vstack(refs)
    else:
        bundle.background = background_rows(X, p_train)
    card: dict[str, Any] = {
        "version": version, "kind": kind, "model": chosen_name,
        "calibration": getattr(conversion, "calibration_method_", None),
        "trained_at": (now or datetime.now(timezone.utc)).isoformat(),
        "snapshot_day": snapshot_day, "snapshot_days": days,
        "rows": {"finished": int(n_trials_all), "train": int(n_trials), "test": int(len(set(groups_all[te].tolist()))),
                 "train_positives": int(y_trials.sum()),
                 "train_snapshots": int(len(tr)), "test_snapshots": int(len(te)),
                 "train_snapshots_by_age": {str(a): int((age_tr == a).sum()) for a in days}},
        "split": split, "selection": selection, "features": len(space.columns),
        "fallback": {"whole_model": kind == "fallback", "markets": fallback_markets,
                     "rule": f"fallback when fewer than {min_rows} training trials or {MIN_POSITIVES} of an outcome; "
                             f"a market with fewer than {min_market_rows} training trials is scored by the fallback",
                     "fallback_model": getattr(fallback, "kind_", None)},
        "treatment": {"treated_train": treated_trials, "holdout_train": int(sum(rows[tr[i]].holdout for i in trial_rows)),
                      "uplift_model": None if uplift is None else
                      "s_learner_distilled" if getattr(uplift, "uplift_", None) is not None else "t_learner",
                      "response_model": "s_learner" if getattr(uplift, "response_", None) is not None else None},
    }
    if len(te):
        p_te = scorer.predict(X_all[te], list(markets_all[te]))
        age_te = age_all[te]
        card["by_age"] = {str(a): {"train_rows": int((age_tr == a).sum()), "test_rows": int((age_te == a).sum()),
                                   "metrics": probability_metrics(y_all[te][age_te == a], p_te[age_te == a],
                                                                  base_rate=prior) if (age_te == a).any() else None}
                          for a in days}
        head = age_te == snapshot_day
        if not head.any():  # no snapshot at the headline day: the card's figures are on every test row
            head = np.ones(len(te), dtype=bool)
        teh = te[head]
        Xt, yt, pt = X_all[teh], y_all[teh], p_te[head]
        card["metrics"] = probability_metrics(yt, pt, base_rate=prior)
        card["calibration_chart"] = calibration_bins(yt, pt)
        per_market = {}
        for m in sorted(set(markets_all)):
            mt = markets_all[teh] == m
            per_market[m or "?"] = {
                "train_rows": int(train_counts.get(m, 0)), "test_rows": int(mt.sum()),
                "fallback": m in fallback_markets or kind == "fallback",
                "metrics": probability_metrics(yt[mt], pt[mt], base_rate=prior) if mt.any() else None,
                "calibration_chart": calibration_bins(yt[mt], pt[mt]) if mt.any() else None,
            }
        card["per_market"] = per_market
        if uplift is not None:
            tt = t_all[teh]
            if tt.any() and (~tt).any():
                gain = uplift.predict_uplift(Xt)
                card["uplift"] = {"qini_model": round(qini_coefficient(gain, yt, tt), 5),
                                  "qini_by_likelihood": round(qini_coefficient(pt, yt, tt), 5),
                                  "test_treated": int(tt.sum())}
    return bundle, card


def split_line(split: dict[str, Any], gettext: Gettext | None = None, ngettext: NGettext | None = None) -> str:
    """One line on whether the card seals its test split (cards from before it do not), in the
    language of `gettext`/`ngettext` (the reader's catalog; English without them)."""
    _, ngettext = gettext or ENGLISH.gettext, ngettext or ENGLISH.ngettext
    ids = split.get("test_trial_ids")
    if ids is None:
        return _("test split: not stored (a card from before sealed splits): `model evaluate` recomputes it")
    return ngettext("test split: sealed, %(num)d test trial stored (data clock %(clock)s, seed %(seed)s): "
                    "`model evaluate` judges exactly these",
                    "test split: sealed, %(num)d test trials stored (data clock %(clock)s, seed %(seed)s): "
                    "`model evaluate` judges exactly these", len(ids)) % {
        "num": len(ids), "clock": split.get("data_clock"), "seed": split.get("seed")}


def source_lines(card: dict[str, Any]) -> list[str]:
    """The card's source (imported files) and leakage warnings as Markdown list items (none on older cards)."""
    out = []
    for f in (card.get("source") or {}).get("imports") or []:
        dr = f.get("date_range") or {}
        out.append(f"- source: `{f['file']}` (SHA-256 `{f.get('sha256')}`), {f['rows']} trials, started "
                   f"{dr.get('from')} to {dr.get('to')}, market {f['market']}")
    for f in (card.get("leakage") or {}).get("flagged") or []:
        out.append(f"- **probable leakage**: `{f['question']}` (AUC {f['auc']} on its own)")
    return out


def card_markdown(card: dict[str, Any]) -> str:
    """The model card as Markdown, with the calibration chart drawn in text."""
    m = card.get("metrics") or {}
    rows, split = card.get("rows") or {}, card.get("split") or {}
    lines = [f"# Model card: {card.get('version')}", "",
             f"- kind: **{card.get('kind')}** ({card.get('model')}, calibration: {card.get('calibration')})",
             f"- trained at {card.get('trained_at')}, snapshot at trial day {card.get('snapshot_day')}",
             f"- history: {rows.get('finished')} finished trials; train {rows.get('train')}, "
             f"test {rows.get('test')} (split: {split.get('kind')}, test cohorts "
             f"{', '.join(split.get('test_cohorts') or [])})",
             f"- {split_line(split)}",
             f"- fallback: {card.get('fallback')}",
             *source_lines(card), "",
             "| metric | value |", "|---|---|"]
    for k in ("n", "prevalence", "auc", "pr_auc", "brier", "brier_base_rate", "brier_skill", "log_loss", "ece"):
        lines.append(f"| {k} | {m.get(k)} |")
    lines += ["", "Calibration (test cohorts): predicted vs observed per bin", "", "```"]
    for b in card.get("calibration_chart") or []:
        if not b["n"]:
            continue
        bar_p = "#" * int(round((b["mean_predicted"] or 0) * 40))
        bar_o = "o" * int(round((b["observed"] or 0) * 40))
        lines.append(f"{b['bin'][0]:.1f}-{b['bin'][1]:.1f} n={b['n']:>5}  pred {bar_p}")
        lines.append(f"{'':>17}obs  {bar_o}")
    lines += ["```", "", "| market | train rows | test rows | fallback | AUC | Brier | ECE |", "|---|---|---|---|---|---|---|"]
    for mk, v in (card.get("per_market") or {}).items():
        mm = v.get("metrics") or {}
        lines.append(f"| {mk} | {v['train_rows']} | {v['test_rows']} | {v['fallback']} | {mm.get('auc')} | "
                     f"{mm.get('brier')} | {mm.get('ece')} |")
    if card.get("by_age"):
        lines += ["", f"By trial age at the snapshot (headline figures above: day {card.get('snapshot_day')})", "",
                  "| trial day | train snapshots | test snapshots | AUC | ECE |", "|---|---|---|---|---|"]
        for age, v in card["by_age"].items():
            mm = v.get("metrics") or {}
            lines.append(f"| {age} | {v['train_rows']} | {v['test_rows']} | {mm.get('auc')} | {mm.get('ece')} |")
    if card.get("deliberating"):
        lines += ["", *("- " + x for x in deliberating_lines(card["deliberating"]))]
    if card.get("uplift"):
        lines += ["", f"Uplift (test): Qini {card['uplift']['qini_model']} by uplift, "
                      f"{card['uplift']['qini_by_likelihood']} by likelihood"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ deliberating trials
#
# Issue 14, item 2: a trial that ended without a purchase while its market's decision window
# is open (Polish merchants deliberate for weeks) is scored by a model of its own, learned
# from finished trials that had not bought by their trial end, each frozen at its end; the
# label is "bought within the window". See docs/model.md, "Deliberating trials".

DELIBERATING_MIN_ROWS = 200       # below this many training trials (or this many of either label)
DELIBERATING_MIN_EACH = 20        # the part is the per-market base rate, not a model


def train_deliberating(rows: Sequence[TrainingRow], space: FeatureSpace, *, test_trials: Collection[str] = (),
                       random_state: int = 0, min_rows: int = DELIBERATING_MIN_ROWS,
                       min_each: int = DELIBERATING_MIN_EACH) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The bundle's deliberating part and its card block, from `data.deliberating_trials` rows.

    The split is the main model's sealed one: a row whose trial is in `test_trials` (the card's
    `split.test_trial_ids`) is a test row, every other row trains; nothing is chosen by the test
    rows. With at least `min_rows` training trials and `min_each` of each label: a
    ConversionModel (gradient boosting, sigmoid calibration: isotonic needs thousands of
    rows); else the base rate per market (a market's positives over its trials, shrunk
    towards the overall rate with weight 20 as the fallback does; the overall rate is
    (positives + 0.5) / (trials + 1), never a certain 0 or 1), overall for a market not seen.
    Without a training row: no part (None; block method "none"). The card block: rows,
    positives, method, and the test figures.
    """
    from .model import compute_threads, deliberating_proba

    test = set(str(t) for t in test_trials)
    is_test = np.array([r.trial in test for r in rows], dtype=bool)
    X_all = space.transform([r.snapshot for r in rows]) if rows else np.zeros((0, len(space.columns)))
    y_all = np.array([int(r.outcome) for r in rows], dtype=int)
    markets_all = [r.snapshot.market or "" for r in rows]
    tr, te = np.where(~is_test)[0], np.where(is_test)[0]
    X, y = X_all[tr], y_all[tr]
    markets = [markets_all[i] for i in tr]
    n, pos = int(len(tr)), int(y.sum())
    # never a certain 0 or 1 (no deliberating trial has bought yet is not "none ever will"):
    # the overall rate with Jeffreys' half a trial of each outcome added
    overall = (pos + 0.5) / (n + 1.0)
    shrink = 20.0
    rates = {}
    for m in sorted(set(markets)):
        mask = np.array([x == m for x in markets], dtype=bool)
        rates[m] = round((float(y[mask].sum()) + shrink * overall) / (float(mask.sum()) + shrink), 6)
    part: dict[str, Any] = {"method": "base_rate", "model": None, "base_rates": rates,
                            "base_rate": round(overall, 6), "rows": n, "positives": pos,
                            "trial_days": sorted({row_age(r, 0) for r in rows}), "background": None,
                            "reference": reference_row(space, X) if n else None}
    if n >= min_rows and min(pos, n - pos) >= min_each:
        est = ConversionModel(max_iter=150, learning_rate=0.06, max_leaf_nodes=7, min_samples_leaf=40,
                              max_features=0.5, calibration="sigmoid", random_state=random_state)
        with compute_threads():
            est.fit(X, y)
        part["method"], part["model"] = "model", est
    if n == 0:  # nothing to learn from: no part, such trials keep being scored by the trial model
        return None, {"method": "none", "rows": {"train": 0, "test": int(len(te))},
                      "positives": {"train": 0, "test": int(y_all[te].sum()) if len(te) else 0},
                      "metrics": None}
    p_train = deliberating_proba(part, X, markets)
    if part["method"] == "model":
        part["background"] = background_rows(X, p_train)
    block: dict[str, Any] = {
        "method": part["method"], "rows": {"train": n, "test": int(len(te))},
        "positives": {"train": pos, "test": int(y_all[te].sum()) if len(te) else 0},
        "base_rate": part["base_rate"], "base_rates": rates,
        "calibration": getattr(part["model"], "calibration_method_", None),
        "trial_days": part["trial_days"],
        "rule": f"a model (gradient boosting, sigmoid calibration) from {min_rows} training trials and "
                f"{min_each} of each outcome; else the base rate per market",
        "metrics": None,
    }
    if len(te):
        p_te = deliberating_proba(part, X_all[te], [markets_all[i] for i in te])
        block["metrics"] = probability_metrics(y_all[te], p_te, base_rate=overall)
    return part, block


def deliberating_lines(block: dict[str, Any] | None, gettext: Gettext | None = None) -> list[str]:
    """The card's deliberating block in words (`model show`) in the language of `gettext` (English
    without it); nothing for a card without one."""
    if not block:
        return []
    _ = gettext or ENGLISH.gettext
    m = block.get("metrics") or {}
    rows, pos = block.get("rows") or {}, block.get("positives") or {}
    return [_("Deliberating trials (ended without a purchase, decision window open): %(method)s (calibration "
              "%(calibration)s), train %(train)s trials (%(train_bought)s bought in the window), test %(test)s "
              "(%(test_bought)s): AUC %(auc)s, ECE %(ece)s, Brier %(brier)s") % {
        "method": block.get("method"), "calibration": block.get("calibration"), "train": rows.get("train"),
        "train_bought": pos.get("train"), "test": rows.get("test"), "test_bought": pos.get("test"),
        "auc": m.get("auc"), "ece": m.get("ece"), "brier": m.get("brier")}]
