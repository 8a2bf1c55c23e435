"""Expected conversions: how many open trials will subscribe, and how past forecasts turned out.

- ``open``: per market, the open trials (`shop_state.outcome` is NULL), the sum of their
  latest calibrated probabilities (`shop_state.score`) with a 95% prediction interval
  (`stats.sum_of_bernoulli`); trials without a score are counted beside it, not guessed.
- ``past``: for each of the last six whole months of trial end, the same sum as it stood then
  (each trial's newest score at or before its decision, whatever model made it: that is the
  forecast the dashboard showed), next to the conversions that followed, and whether they
  fell inside the interval. A month whose trials are still inside their market's decision
  window may still gain conversions: it is marked pending.

Reads only, and sums in SQL: one grouped query on `shop_state` per table; a trial scored again
after its decision has its score then looked up in the score table (`model_health.scores_at_decision`).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ...i18n import translations
from ...models import ModelVersion, ShopState
from ...reporting import Column, Report, Table
from ...stats import Interval, sum_of_bernoulli_moments
from . import report_title, sql
from .model_health import (
    bucket_expr,
    latest_in_force,
    needs_lookup,
    postgres,
    rows,
    scores_at_decision,
    window_list,
)

MONTHS = 6       # past months shown (whole months of trial end before the current one)
MAX_MONTHS = 36


@dataclass
class Sums:
    """A cell's trials, and the sums a forecast needs over those of them that are scored (`interval`)."""

    trials: int = 0
    scored: int = 0  # trials with a probability: the sums below are over these
    mean: float = 0.0  # the sum of their p: the expected conversions
    variance: float = 0.0  # the sum of p(1 - p)
    converted: int = 0  # the scored trials that converted
    pending: int = 0  # decided trials still inside their market's decision window
    no_outcome: int = 0  # trials with no outcome yet
    other_model: int = 0  # probabilities made by another model version than the active one

    def add(self, p: float, converted: int = 0) -> None:
        self.scored += 1
        self.mean += p
        self.variance += p * (1 - p)
        self.converted += converted

    def merge(self, other: "Sums") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def interval(self) -> Interval:
        return sum_of_bernoulli_moments(self.scored, self.mean, self.variance)


def _int(x: Any) -> int:
    return int(x or 0)


def open_sums(session: Session, market: str | None, active: str | None) -> dict[str, Sums]:
    """Per market, the open trials (no outcome) and the sums of their latest probabilities."""
    score = ShopState.score
    scored = score.is_not(None)
    other = scored if active is None else (scored & ((ShopState.score_model_version != active)
                                                     | ShopState.score_model_version.is_(None)))
    q = (select(ShopState.market, func.count(), func.count(score), func.sum(score), func.sum(score * (1 - score)),
                func.sum(case((other, 1), else_=0)))
         .where(ShopState.outcome.is_(None)).group_by(ShopState.market))
    if market:
        q = q.where(ShopState.market == market)
    return {m: Sums(trials=_int(n), scored=_int(k), mean=float(total or 0.0), variance=float(var or 0.0),
                    other_model=_int(o)) for m, n, k, total, var, o in rows(session, q)}


def past_sums(session: Session, market: str | None, starts: list[date], until: date, now: datetime
              ) -> list[Sums]:
    """Per month of `starts` (trial end in [month, next), up to `until`): the trials, and the sums of
    their probabilities at the decision (any model version) with the conversions of the scored ones."""
    ends = ShopState.trial_ends_at
    bucket = bucket_expr(ends, starts)
    decided = ShopState.outcome.is_not(None)
    p = latest_in_force(session)
    lookup = needs_lookup(session)
    y = sql.converted_expr(session)
    where = [ends >= sql.start_of_day(starts[0]), ends < sql.start_of_day(until)]
    if market:
        where.append(ShopState.market == market)
    cells = [Sums() for _ in starts]
    # each trial's figures once, then summed per month; OFFSET 0 keeps PostgreSQL from folding the
    # inner query into the outer one, so it groups by hashing a handful of months instead of
    # sorting every trial (it cannot guess how few months a CASE yields)
    per_trial = (select(bucket.label("b"), case((decided, 0), else_=1).label("no_outcome"),
                        case((decided, p), else_=None).label("p"), y.label("y"),
                        case((and_(decided, sql.final_expr(now) == 0), 1), else_=0).label("pending"),
                        case((and_(decided, lookup == 1), 1), else_=0).label("late"), ShopState.shop_id)
                 .where(*where).offset(0).subquery())
    t = per_trial.c
    sums = [t.b, func.count(), func.sum(t.no_outcome), func.count(t.p), func.sum(t.p), func.sum(t.p * (1 - t.p)),
            func.sum(case((t.p.is_not(None), t.y), else_=0)), func.sum(t.pending), func.sum(t.late)]
    pg = postgres(session)
    if pg:  # the trials scored again after their decision come along as arrays (no second scan)
        sums += [func.array_agg(t.shop_id).filter(t.late == 1), func.array_agg(t.y).filter(t.late == 1)]
    again: list[tuple[int, int, int]] = []
    late = 0
    for b, n, no_outcome, k, total, var, conv, pending, looked, *arrays in rows(session, select(*sums).group_by(t.b)):
        cells[b].merge(Sums(trials=_int(n), no_outcome=_int(no_outcome), scored=_int(k), mean=float(total or 0.0),
                            variance=float(var or 0.0), converted=_int(conv), pending=_int(pending)))
        late += _int(looked)
        if arrays and arrays[0]:
            again += [(sid, b, conv) for sid, conv in zip(*arrays)]
    if late and not pg:
        again = [tuple(r) for r in rows(session, select(ShopState.shop_id, bucket, y).where(*where, decided,
                                                                                          lookup == 1))]
    if again:  # trials scored again after their decision: their score then is looked up
        found = scores_at_decision(session, [r[0] for r in again])
        for sid, b, conv in again:
            if sid in found:
                cells[b].add(found[sid], int(conv))
    return cells


def build(session: Session, *, lang: str, market: str | None, now: datetime, months: int = MONTHS,
          **params: Any) -> Report:
    """Expected conversions of the open trials, and past forecasts beside what then happened."""
    _ = translations(lang).gettext
    months = min(max(1, int(months)), MAX_MONTHS)
    assumption = _("The interval is a 95% prediction interval of the number of conversions (a normal "
                   "approximation of the sum of independent yes/no outcomes). It is honest only if the "
                   "probabilities are calibrated (see model health) and the trials decide independently of each "
                   "other; a shock that moves every trial at once (a price change, a holiday) makes it too "
                   "narrow.")

    # ---- open trials
    active = session.scalar(select(ModelVersion.version).where(ModelVersion.active.is_(True))
                            .order_by(ModelVersion.id.desc()).limit(1))
    found = open_sums(session, market, active)
    open_rows, unscored_by_market, total = [], {}, Sums()
    for m in sql.markets(market):
        cell = found.get(m, Sums())
        total.merge(cell)
        if cell.trials > cell.scored:
            unscored_by_market[m] = cell.trials - cell.scored
        open_rows.append(_open_row(m, cell, sql.drill(market=m, outcome="open")))
    if not market:
        open_rows.append(_open_row(_("All markets"), total, sql.drill(outcome="open")))
    notes = [assumption]
    if unscored_by_market:
        notes.append(_("Open trials without a score are not in the sums: %(list)s. They are counted in "
                       "the “Not scored” column.")
                     % {"list": ", ".join(f"{m} {n}" for m, n in unscored_by_market.items())})
    if active is None and total.scored:
        notes.append(_("No model is active: these probabilities were made by earlier models and are no longer "
                       "refreshed."))
    elif total.other_model:
        notes.append(_("%(n)d of the probabilities summed were made by another model version than the active "
                       "one (%(version)s): those shops have not been scored again since.")
                     % {"n": total.other_model, "version": active})
    expected = Table(
        key="open", title=_("Expected conversions of the open trials"),
        definition=_("Open trials: no outcome yet. Expected conversions: the sum of each open trial's latest "
                     "probability of subscribing within its decision window (its latest score, from the read "
                     "model), with the low and high ends of a 95% prediction interval in whole trials. Trials "
                     "without a score are counted apart, never guessed."),
        columns=[Column("market", _("Market")), Column("open", _("Open trials"), "int"),
                 Column("scored", _("Scored"), "int"), Column("unscored", _("Not scored"), "int"),
                 *_interval_columns(_, _("Expected conversions"))],
        rows=open_rows, plot=_interval_plot("market"),
        notes=notes)

    # ---- past forecasts: the whole months before this one (every trial in them has ended)
    this_month = sql.month_start(now)
    starts = [sql.month_start(now, k) for k in range(months, 0, -1)]
    past_rows = []
    for day, cell in zip(starts, past_sums(session, market, starts, this_month, now)):
        iv = cell.interval()
        pending = cell.pending > 0
        past_rows.append({
            "month": day.strftime("%Y-%m"), "ended": cell.trials, "no_outcome": cell.no_outcome,
            "scored": cell.scored, "expected": iv.estimate, "low": iv.low, "high": iv.high,
            "converted": cell.converted,
            "inside": None if pending or not cell.scored else iv.contains(cell.converted),
            "in_window": cell.pending, "_pending": pending,
            "_drill": sql.drill(market=market, ended_from=day, ended_to=sql.next_month(day))})
    past_notes = [assumption]
    if any(r["_pending"] for r in past_rows):
        past_notes.append(_("Pending months: some of their trials are still inside their market's decision "
                            "window (days after the trial end: %(windows)s), so conversions may still arrive; whether "
                            "the actual fell inside the interval is left open until the window closes.")
                          % {"windows": window_list(lang, market)})
    unscored_past = sum(r["ended"] - r["no_outcome"] - r["scored"] for r in past_rows)
    if unscored_past:
        past_notes.append(_("%(n)d trials had no score before their decision: they are in neither the forecast "
                            "nor the conversions.") % {"n": unscored_past})
    no_outcome = sum(r["no_outcome"] for r in past_rows)
    if no_outcome:
        past_notes.append(_("%(n)d trials have ended but have no outcome yet (no end-of-trial event has "
                            "arrived): they are left out.") % {"n": no_outcome})
    past = Table(
        key="past", title=_("Past forecasts and what happened"),
        definition=_("Trials by the month (UTC) their trial ended, for the last whole months; those with an "
                     "outcome are compared. Forecast: the sum of each trial's newest probability scored at or "
                     "before its decision (the end of its trial, or its outcome when that came first), whichever "
                     "model version made it, as the dashboard showed it then, with its 95% prediction interval. "
                     "Converted: how many of those scored trials subscribed within their market's decision window. "
                     "Inside: whether that count fell within the interval."),
        columns=[Column("month", _("Month of trial end")), Column("ended", _("Trials ended"), "int"),
                 Column("no_outcome", _("No outcome yet"), "int"), Column("scored", _("Scored"), "int"),
                 *_interval_columns(_, _("Forecast conversions")),
                 Column("converted", _("Converted"), "int"), Column("inside", _("Inside the interval"), "bool"),
                 Column("in_window", _("Still in their decision window"), "int")],
        rows=past_rows, plot=_interval_plot("month", reference="converted"),
        notes=past_notes)
    return Report(key="forecast", title=report_title("forecast", lang), tables=[expected, past],
                  params={"months": months})


def _open_row(scope: str, cell: Sums, drill: dict[str, Any]) -> dict[str, Any]:
    """A row of the open trials' table: a market's (or all markets') trials and their forecast."""
    iv = cell.interval()
    return {"market": scope, "open": cell.trials, "scored": cell.scored, "unscored": cell.trials - cell.scored,
            "expected": iv.estimate, "low": iv.low, "high": iv.high, "_drill": drill}


def _interval_columns(_: Any, expected: str) -> list[Column]:
    """The forecast and its 95% prediction interval, as both tables show them (``expected``: the sum's label)."""
    return [Column("expected", expected, "float"), Column("low", _("Low (95%)"), "float"),
            Column("high", _("High (95%)"), "float")]


def _interval_plot(x: str, **more: str) -> dict[str, Any]:
    """Both tables' chart: the forecast per ``x`` as bars with its interval (``more``: e.g. a reference)."""
    return {"kind": "bars", "x": x, "y": "expected", "low": "low", "high": "high", **more, "format": "number"}
