"""Model health: is the active model still right about the trials that closed since it was trained?

The trials judged are those whose outcome (`shop_state.outcome`, `outcome_at`) came after the
active model was trained, each with the probability this model gave it last before its
decision (`score_at_decision`), and only once the outcome is final: its market's decision
window (`locales` card, as `operations.scoring.data` trains on) has closed after the trial end. From
them: a reliability table (10 probability bins, the observed rate with a Wilson interval),
ECE and AUC overall, by market and by month of closing, the model's age, and a warning when
calibration drifts past `config.CALIBRATION_DRIFT_ECE`.

One SQL query on `shop_state` gives each trial's market, month, label, finality and score (its
latest score when that was made before the decision by the active model, as almost always; the
few others are looked up on the score table's (shop, time) index, `scores_at_decision`); numpy
does the arithmetic (`scoring.metrics.ece`; AUC from scipy's ranks). Reads only.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import numpy as np
from sqlalchemy import (
    Integer,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ...config import calibration_drift_ece
from ...i18n import translations
from ...models import ModelVersion, Score, ShopState
from ...reporting import Column, Report, Table
from ...stats import EMPTY, Interval, auc_interval, wilson
from . import report_title, sql

#: A cell judged on fewer trials than this is greyed, and never raises a drift warning:
#: the ECE of a few dozen trials is mostly noise (it is biased upwards on small samples).
MIN_CELL = 50
#: A reliability bin with fewer trials than this is greyed (its interval says how little it shows).
MIN_BIN = 20
BINS = 10
CLOSED = ("converted", "not_converted")  # models.CLOSED_OUTCOMES indexes these (a test keeps them equal)
#: Shops per query when a score at the decision is looked up in the score table.
LOOKUP_CHUNK = 2000


# ----------------------------------------------------------------------------- shared SQL

def postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def decision_time(session: Session) -> Any:
    """SQL: when a trial was decided: its trial end, or its outcome when that came first
    (a purchase during the trial) or when the trial has no end date (an imported trial).
    A score made after this moment is not a forecast any more."""
    ends, outcome_at = ShopState.trial_ends_at, ShopState.outcome_at
    if postgres(session):  # LEAST skips a NULL: the same rule, evaluated once per row instead of a CASE
        return func.least(ends, outcome_at)
    return case((ends.is_(None), outcome_at), (outcome_at.is_(None), ends),
                (outcome_at < ends, outcome_at), else_=ends)


def score_at_decision(session: Session, model_version_id: int | None = None) -> Any:
    """SQL, correlated to `shop_state`: the probability of the shop's newest score (by time, then id)
    scored at or before its `decision_time` (of one model version when given), NULL when none."""
    q = select(Score.probability).where(Score.shop_id == ShopState.shop_id,
                                        Score.scored_at <= decision_time(session))
    if model_version_id is not None:
        q = q.where(Score.model_version_id == model_version_id)
    return (q.order_by(Score.scored_at.desc(), Score.id.desc()).limit(1)
            .correlate(ShopState).scalar_subquery())


def latest_in_force(session: Session, version: str | None = None) -> Any:
    """SQL: the shop's latest score (`shop_state.score`) when it was made at or before the decision
    (by `version` when given): then it is the score at the decision, read without the score table."""
    ok = and_(ShopState.scored_at.is_not(None), ShopState.scored_at <= decision_time(session))
    if version is not None:
        ok = and_(ok, ShopState.score_model_version == version)
    return case((ok, ShopState.score), else_=None)


def needs_lookup(session: Session, version: str | None = None) -> Any:
    """SQL: the shop has scores, but its latest came after the decision (or from another version than
    `version`): its score at the decision must be looked up in the score table (`scores_at_decision`)."""
    cond = or_(ShopState.scored_at > decision_time(session), ShopState.score_model_version.is_(None))
    if version is not None:
        cond = or_(cond, ShopState.score_model_version != version)
    return case((and_(ShopState.scored_at.is_not(None), cond), 1), else_=0)


def scores_at_decision(session: Session, shop_ids: Sequence[int], model_version_id: int | None = None
                       ) -> dict[int, float]:
    """`score_at_decision` of these shops (those with one), LOOKUP_CHUNK shops per query.

    Most decided trials are never scored again, so their latest score is the one in force at the
    decision (`latest_in_force`); only the others come here. A bounded list also keeps
    PostgreSQL's estimate small: one correlated subquery per row over 100k rows is costed high
    enough to be compiled by its JIT, which alone took longer than the whole report.
    """
    out: dict[int, float] = {}
    ids = sorted(shop_ids)
    for k in range(0, len(ids), LOOKUP_CHUNK):
        q = (select(ShopState.shop_id, score_at_decision(session, model_version_id))
             .where(one_of(session, ShopState.shop_id, ids[k:k + LOOKUP_CHUNK])))
        out.update((sid, float(p)) for sid, p in rows(session, q) if p is not None)
    return out


def one_of(session: Session, col: Any, ids: Sequence[int]) -> Any:
    """SQL: `col` is one of `ids`: one array parameter on PostgreSQL (a list of thousands of
    parameters costs the driver more than the query), an IN list elsewhere."""
    if postgres(session):
        return col == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
    return col.in_(list(ids))


def rows(session: Session, q: Any) -> list[Any]:
    """The rows of a Core select of plain columns, without the ORM's per-row work (same transaction)."""
    return session.connection().execute(q).all()


def bucket_expr(col: Any, starts: Sequence[date]) -> Any:
    """SQL: the index of the month (of `starts`, each a month's first day, in order) the UTC time falls
    in: comparisons only, the same on SQLite and PostgreSQL. Callers keep `col` inside the months."""
    whens = [(col < sql.start_of_day(d), i) for i, d in enumerate(starts[1:])]
    return case(*whens, else_=len(starts) - 1) if whens else literal(0)


def months_between(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s to `last`'s, inclusive."""
    out, day = [], sql.month_start(first)
    while day <= last:
        out.append(day)
        day = sql.next_month(day)
    return out


def window_list(lang: str, market: str | None) -> str:
    """The decision windows as text, e.g. "Polska 60, Türkiye 14" (markets and days from `locales`)."""
    from locales import get_market

    return ", ".join(f"{get_market(m).label(lang)} {sql.decision_window_days(m)}" for m in sql.markets(market))


# ----------------------------------------------------------------------------- metrics

@dataclass(frozen=True)
class Judged:
    """Figures of a set of trials: counts, base rate, mean prediction, ECE and AUC with its interval."""

    n: int
    converted: int
    base_rate: float | None
    predicted: float | None
    ece: float | None
    auc: Interval

    @classmethod
    def of(cls, y: np.ndarray, p: np.ndarray) -> "Judged":
        from ...scoring.metrics import ece

        n = len(y)
        if n == 0:
            return cls(0, 0, None, None, None, EMPTY)
        pos = int(y.sum())
        auc = EMPTY
        if 0 < pos < n:  # Mann-Whitney: ties count one half, as roc_auc_score (which costs 10 ms a call)
            from scipy.stats import rankdata

            ranks = rankdata(p)
            auc = auc_interval(float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * (n - pos))),
                               pos, n - pos)
        return cls(n, pos, pos / n, float(p.mean()), ece(y, p, BINS), auc)

    def row(self) -> dict[str, Any]:
        return {"n": self.n, "converted": self.converted, "base_rate": self.base_rate, "predicted": self.predicted,
                "ece": self.ece, "auc": self.auc.estimate, "auc_low": self.auc.low, "auc_high": self.auc.high}


def reliability(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Per probability bin (the bins `metrics.ece` uses): mean prediction, observed rate, Wilson interval, n."""
    which = np.minimum((p * BINS).astype(int), BINS - 1) if len(p) else np.zeros(0, int)
    rows = []
    for b in range(BINS):
        m = which == b
        n = int(m.sum())
        k = int(y[m].sum()) if n else 0
        w = wilson(k, n)
        rows.append({"bin": f"{b / BINS:.0%}–{(b + 1) / BINS:.0%}", "n": n,
                     "predicted": float(p[m].mean()) if n else None, "observed": w.estimate,
                     "observed_low": w.low, "observed_high": w.high, "_muted": n < MIN_BIN})
    return rows


# ----------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class Active:
    id: int
    version: str
    trained_at: datetime
    card: Any = None


def trained_at(created_at: datetime, card: Any) -> datetime:
    """When the model was trained: its card's `trained_at` (the training's clock), else when it was stored."""
    raw = (card or {}).get("trained_at") if isinstance(card, dict) else None
    if isinstance(raw, str):
        try:
            at = datetime.fromisoformat(raw)
        except ValueError:
            at = None
        if at is not None:
            return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
    return created_at


def _active_summary(session: Session) -> Active | None:
    """The active version's id, name and training time (its artifact is never read here)."""
    row = session.execute(select(ModelVersion.id, ModelVersion.version, ModelVersion.created_at, ModelVersion.card)
                          .where(ModelVersion.active.is_(True)).order_by(ModelVersion.id.desc()).limit(1)).first()
    return None if row is None else Active(row.id, row.version, trained_at(row.created_at, row.card), row.card)


@dataclass
class Closed:
    """The trials closed since training, as arrays (one entry per trial)."""

    market: np.ndarray     # market code
    month: np.ndarray      # index of the month of closing in `months`
    y: np.ndarray          # subscribed within the decision window
    p: np.ndarray          # the active model's probability at the decision (nan: none)
    final: np.ndarray      # the decision window has closed
    months: list[date]

    @property
    def judged(self) -> np.ndarray:
        return self.final & ~np.isnan(self.p)

    @classmethod
    def empty(cls, months: list[date] | None = None) -> "Closed":
        return cls(np.zeros(0, object), np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(0, bool),
                   list(months or []))


def closed_since(session: Session, model: Active, *, market: str | None, now: datetime) -> Closed:
    """Every trial closed at or after the model's training (up to `now`): its market, month of closing,
    label, finality and the active model's probability at its decision.

    The trials come grouped by (market, month, label, finality, looked up): on PostgreSQL each group
    is one row with its probabilities (or, for trials scored again after their decision, their ids)
    as an array, so 30k trials cost the driver a few dozen rows instead of 30k; elsewhere the same
    groups are gathered from plain rows.
    """
    months = months_between(model.trained_at.date(), now.date())
    # Only the active model's scores: this report judges the model that scores shops now, and
    # another version's probabilities would charge it with that version's errors (trials it never
    # scored before their decision are counted apart, as "no score from this model").
    lookup = needs_lookup(session, model.version)
    in_force = latest_in_force(session, model.version)
    where = [ShopState.outcome.in_(CLOSED), ShopState.outcome_at >= model.trained_at, ShopState.outcome_at <= now]
    if market:
        where.append(ShopState.market == market)
    per_trial = (select(ShopState.market.label("market"), bucket_expr(ShopState.outcome_at, months).label("b"),
                        sql.converted_expr(session).label("y"), sql.final_expr(now).label("final"),
                        lookup.label("lookup"), case((lookup == 1, ShopState.shop_id), else_=in_force).label("value"))
                 .where(*where))
    groups: dict[tuple[str, int, int, int, int], list[Any]] = {}
    if postgres(session):
        t = per_trial.offset(0).subquery()  # OFFSET 0: group by hashing the few groups (see forecast)
        keys = (t.c.market, t.c.b, t.c.y, t.c.final, t.c.lookup)
        for *key, values in rows(session, select(*keys, func.array_agg(t.c.value)).group_by(*keys)):
            groups[tuple(key)] = values
    else:
        for m, b, y, final, look, value in rows(session, per_trial):
            groups.setdefault((m, b, y, final, look), []).append(value)
    looked_up = scores_at_decision(session, [int(i) for (*_k, look), ids in groups.items() if look for i in ids],
                                   model.id)
    parts: dict[str, list[Any]] = {"market": [], "month": [], "y": [], "final": [], "p": []}
    for (m, b, y, final, look), values in groups.items():
        n = len(values)
        parts["market"].append(np.full(n, m, dtype=object))
        parts["month"].append(np.full(n, b, dtype=int))
        parts["y"].append(np.full(n, y, dtype=int))
        parts["final"].append(np.full(n, bool(final), dtype=bool))
        probs = [looked_up.get(int(i), np.nan) for i in values] if look else values
        parts["p"].append(np.array(probs, dtype=float))
    if not groups:
        return Closed.empty(months)
    return Closed(market=np.concatenate(parts["market"]), month=np.concatenate(parts["month"]),
                  y=np.concatenate(parts["y"]), p=np.concatenate(parts["p"]),
                  final=np.concatenate(parts["final"]), months=months)


# ----------------------------------------------------------------------------- the report

def build(session: Session, *, lang: str, market: str | None, now: datetime,
          drift_ece: float | None = None, **params: Any) -> Report:
    """Model health: the active model's calibration and ranking on the trials closed since it was trained."""
    _ = translations(lang).gettext
    threshold = calibration_drift_ece() if drift_ece is None else float(drift_ece)
    model = _active_summary(session)
    warnings: list[str] = []
    scope = _("Trials count when their outcome came after the active model was trained and is final: the "
              "market's decision window (days after the trial end: %(windows)s) has closed, "
              "because until then a trial that did not subscribe may still buy. “Converted” means subscribed "
              "within that window, which is what the model predicts. Each trial is judged by the newest score "
              "the active model gave it at or before its decision: the end of its trial, or its outcome when "
              "that came first or the trial has no end date. Only the active model's scores count: another "
              "version's scores would charge this model with that version's errors.") % {
        "windows": window_list(lang, market)}
    if model is None:
        closed = Closed.empty()
        warnings.append(_("No model is active, so there is no model health to show. Train one with "
                          "“concierge model train”."))
    else:
        closed = closed_since(session, model, market=market, now=now)
    judged = closed.judged
    y, p = closed.y[judged], closed.p[judged]
    overall = Judged.of(y, p)
    n_closed = len(closed.y)
    pending = int((~closed.final).sum())
    unscored = int((closed.final & np.isnan(closed.p)).sum())

    if model is not None and n_closed == 0:
        warnings.append(_("No trial has closed since the active model %(version)s was trained on %(day)s: "
                          "its health cannot be judged yet.")
                        % {"version": model.version, "day": model.trained_at.date().isoformat()})
    elif model is not None and overall.n == 0:
        warnings.append(_("None of the %(closed)d trials closed since the active model %(version)s was trained "
                          "can be judged yet: %(pending)d are still inside their decision window and "
                          "%(unscored)d have no score from this model before their decision.")
                        % {"closed": n_closed, "version": model.version, "pending": pending, "unscored": unscored})
    if overall.n >= MIN_CELL and overall.ece is not None and overall.ece > threshold:
        warnings.append(_("Calibration drift: the active model's ECE is %(ece).3f on %(n)d trials closed since "
                          "it was trained, above the threshold of %(limit).3f. Its probabilities no longer match "
                          "what happens: retrain it.")
                        % {"ece": overall.ece, "n": overall.n, "limit": threshold})

    # ---- by market
    by_market = []
    for m in sql.markets(market):
        mask = closed.market[judged] == m
        cell = Judged.of(y[mask], p[mask])
        row = {"market": m, **cell.row(), "_muted": cell.n < MIN_CELL}
        if model is not None:
            row["_drill"] = sql.drill(market=m, closed_from=model.trained_at)
        by_market.append(row)
        if cell.n >= MIN_CELL and cell.ece is not None and cell.ece > threshold and not market:
            warnings.append(_("Calibration drift in %(market)s: ECE %(ece).3f on %(n)d trials closed since the "
                              "active model was trained, above the threshold of %(limit).3f.")
                            % {"market": m, "ece": cell.ece, "n": cell.n, "limit": threshold})

    # ---- by month of closing
    by_month = []
    if model is not None:
        for i, day in enumerate(closed.months):
            in_month = closed.month == i
            cell = Judged.of(closed.y[in_month & judged], closed.p[in_month & judged])
            waiting = int((in_month & ~closed.final).sum())
            drill = sql.drill(market=market, closed_from=max(day, model.trained_at.date()),
                              closed_to=sql.next_month(day))
            by_month.append({"month": day.strftime("%Y-%m"), **cell.row(), "in_window": waiting,
                             "_muted": cell.n < MIN_CELL, "_pending": waiting > 0, "_drill": drill})

    # ---- tables
    figures = [Column("n", _("Trials judged"), "int"), Column("converted", _("Converted"), "int"),
               Column("base_rate", _("Conversion rate"), "rate"),
               Column("predicted", _("Mean predicted probability"), "rate"),
               Column("ece", _("ECE"), "float"), Column("auc", _("AUC"), "float"),
               Column("auc_low", _("AUC low (95%)"), "float"), Column("auc_high", _("AUC high (95%)"), "float")]
    metric_def = _("ECE (expected calibration error): the mean gap between the predicted probability and the "
                   "observed rate over 10 equal-width probability bins, weighted by their trials; 0 is perfect. "
                   "AUC: the chance that a converted trial got a higher probability than one that did not, with "
                   "a 95%% interval (Hanley-McNeil). Cells on fewer than %(min)d trials are greyed and raise no "
                   "warning.") % {"min": MIN_CELL}
    summary_row = {
        "version": model.version if model else None, "trained_at": model.trained_at if model else None,
        "age_days": int((now - model.trained_at).total_seconds() // 86400) if model else None,
        "closed": n_closed, "in_window": pending, "unscored": unscored, **overall.row(),
        "threshold": threshold, "_muted": overall.n < MIN_CELL,
    }
    if model is not None:
        summary_row["_drill"] = sql.drill(market=market, closed_from=model.trained_at)
    no_model_note = [_("No model is active: train one with “concierge model train”, then scores and their "
                       "health follow.")] if model is None else []
    summary = Table(
        key="summary", title=_("The active model"),
        definition=_("The model that scores shops now, when it was trained (its model card's training time, "
                     "else when it was stored), its age, and how it does on the trials closed since.") + " "
                   + scope + " " + metric_def,
        columns=[Column("version", _("Model version")), Column("trained_at", _("Trained at"), "datetime"),
                 Column("age_days", _("Age (days)"), "int"),
                 Column("closed", _("Trials closed since"), "int"),
                 Column("in_window", _("Still in their decision window"), "int"),
                 Column("unscored", _("No score from this model"), "int")] + figures
                + [Column("threshold", _("Drift threshold (ECE)"), "float")],
        rows=[summary_row], notes=list(no_model_note))
    if model is not None and unscored:
        summary.notes.append(_("%(n)d trials closed since training had no score from the active model before "
                               "their decision and are not judged.") % {"n": unscored})
    if model is not None and pending:
        summary.notes.append(_("%(n)d trials closed since training are still inside their decision window and are "
                               "not judged yet.") % {"n": pending})
    if 0 < overall.n < MIN_CELL:
        summary.notes.append(_("Only %(n)d trials can be judged so far: too few to call the model drifted or "
                               "not (at least %(min)d are needed).") % {"n": overall.n, "min": MIN_CELL})

    drill_note = _("Drilling down lists every trial closed in the period, including those not judged "
                   "(still in their decision window, or without a score from this model).")
    calibration = Table(
        key="reliability", title=_("Reliability: predicted against observed"),
        definition=_("The judged trials in 10 bins of the probability they were given: the mean prediction, the "
                     "share that converted with its 95%% Wilson interval, and the number of trials. A calibrated "
                     "model's points lie on the diagonal. Bins with fewer than %(min)d trials are greyed.")
                   % {"min": MIN_BIN} + " " + scope,
        columns=[Column("bin", _("Probability bin")), Column("predicted", _("Mean predicted probability"), "rate"),
                 Column("observed", _("Observed conversion rate"), "rate"),
                 Column("observed_low", _("Observed low (95%)"), "rate"),
                 Column("observed_high", _("Observed high (95%)"), "rate"),
                 Column("n", _("Trials"), "int")],
        rows=reliability(y, p) if overall.n else [],
        plot={"kind": "calibration", "x": "predicted", "y": "observed", "n": "n"},
        notes=list(no_model_note))
    markets = Table(
        key="by_market", title=_("Calibration and ranking by market"),
        definition=_("The judged trials of each market.") + " " + scope + " " + metric_def,
        columns=[Column("market", _("Market"))] + figures, rows=by_market,
        notes=list(no_model_note) + ([drill_note] if model is not None else []))
    monthly = Table(
        key="by_month", title=_("Calibration and ranking by month of closing"),
        definition=_("The judged trials by the month (UTC) their outcome came; months whose trials are partly "
                     "still inside their decision window are marked pending and count only the final ones.")
                   + " " + scope + " " + metric_def,
        columns=[Column("month", _("Month of closing"))] + figures
                + [Column("in_window", _("Still in their decision window"), "int")],
        rows=by_month, notes=list(no_model_note) + ([drill_note] if model is not None else []))
    baseline = _at_training(_, model, market, metric_def)
    return Report(key="model-health", title=report_title("model-health", lang),
                  tables=[summary, calibration, markets, monthly, baseline],
                  warnings=warnings, params={"drift_ece": threshold, "min_cell": MIN_CELL})


def _at_training(_: Any, model: Active | None, market: str | None, metric_def: str) -> Table:
    """The reliability the model showed on its own test split when it was trained (its model card):
    the baseline that drift since training is measured against, and all there is to see before any
    trial has closed. The split is the one it was trained with, never chosen again here."""
    card = model.card if model is not None and isinstance(model.card, dict) else {}
    block = (card.get("per_market") or {}).get(market) if market else card
    block = block or {}
    metrics = block.get("metrics") or {}
    rows = []
    for b in block.get("calibration_chart") or []:
        n = int(b.get("n") or 0)
        if not n:
            continue
        k = round((b.get("observed") or 0.0) * n)
        iv = wilson(k, n)
        low, high = (b.get("bin") or [None, None])[:2]
        rows.append({"bin": f"{low:.0%}–{high:.0%}" if low is not None else "", "predicted": b.get("mean_predicted"),
                     "observed": b.get("observed"), "observed_low": iv.low, "observed_high": iv.high, "n": n,
                     "_muted": n < MIN_BIN})
    notes = [] if model is not None else [_("No model is active: train one with “concierge model train”, then "
                                            "scores and their health follow.")]
    if metrics:
        notes.append(_("On its test split: %(n)d trials, ECE %(ece).3f, AUC %(auc)s.") % {
            "n": int(metrics.get("n") or 0), "ece": float(metrics.get("ece") or 0.0),
            "auc": "—" if metrics.get("auc") is None else f"{metrics['auc']:.3f}"})
    return Table(
        key="at_training", title=_("Reliability at training (the test split)"),
        definition=_("The trials the model was tested on when it was trained (the latest cohorts, never used to "
                     "fit it), from its model card: the baseline that the reliability since training is compared "
                     "with.") + " " + metric_def,
        columns=[Column("bin", _("Probability bin")), Column("predicted", _("Mean predicted probability"), "rate"),
                 Column("observed", _("Observed conversion rate"), "rate"),
                 Column("observed_low", _("Observed low (95%)"), "rate"),
                 Column("observed_high", _("Observed high (95%)"), "rate"),
                 Column("n", _("Trials"), "int")],
        rows=rows, plot={"kind": "calibration", "x": "predicted", "y": "observed", "n": "n"}, notes=notes)
