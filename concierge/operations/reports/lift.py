"""The gain from calls: conversion of the shops in the call arm against the randomly held-out
ones (`audit_state.holdout`, the audits' no-call arm), as incremental conversions with a
95 % interval, overall, per market and per consultant.

The arms are randomised, so the difference of their rates is an unbiased estimate of what
offering calls adds (intention to treat: the call arm counts every shop, reached or not).
Incremental conversions = that difference x the decided shops in the call arm; its
interval is Newcombe's for the difference, scaled the same way.

Per consultant nothing is randomised (who reaches whom is chosen), so a consultant's shops
are compared with what the holdout converts in the same markets: expected = sum over
markets of (their decided shops x the holdout's rate there); the interval adds the
binomial variance of both. Where the holdout has fewer than `MIN_HOLDOUT` decided trials,
the row says so and shows no number.
"""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...i18n import translations
from ...models import ShopState
from ...reporting import Column, Report, Table
from ...stats import newcombe, z_for
from . import report_title, sql

MONTHS = 12
MIN_HOLDOUT = 100  # decided held-out trials needed before a gain is shown


def build(session: Session, *, lang: str, market: str | None, now: datetime, months: int = MONTHS,
          min_holdout: int = MIN_HOLDOUT, **_: Any) -> Report:
    """Incremental conversions from calls against the random holdout, overall, per market and consultant."""
    _ = translations(lang).gettext
    since = sql.start_of_day(sql.month_start(now.date(), int(months) - 1))
    converted = sql.converted_expr(session)
    # only trials whose decision window has passed: inside it, a purchase decides a trial early but
    # a no-purchase does not, so the faster-converting arm would look better than it is
    # decided trials and their conversions per (market, arm, consultant)
    cells: dict[tuple[str, bool, str | None], tuple[int, int]] = {}
    for m, held, who, d, c in session.execute(
            select(ShopState.market, ShopState.held_out, ShopState.consultant, func.count(), func.sum(converted))
            .where(*sql.scope(market, since), sql.matured(now))
            .group_by(ShopState.market, ShopState.held_out, ShopState.consultant)):
        cells[(m, bool(held), who)] = (int(d), int(c or 0))

    def arm(held: bool, m: str | None = None) -> tuple[int, int]:
        n = k = 0
        for (mk, h, _who), (d, c) in cells.items():
            if h == held and (m is None or mk == m):
                n, k = n + d, k + c
        return n, k

    too_small = _("Holdout too small: %(n)d decided trials, %(min)d needed")

    def row(scope_label: str, m: str | None) -> dict[str, Any]:
        n1, k1 = arm(False, m)
        n0, k0 = arm(True, m)
        out: dict[str, Any] = {
            "scope": scope_label, "called_arm": n1, "called_arm_converted": k1,
            "called_arm_rate": k1 / n1 if n1 else None, "holdout": n0, "holdout_converted": k0,
            "holdout_rate": k0 / n0 if n0 else None, "difference": None, "difference_low": None,
            "difference_high": None, "incremental": None, "incremental_low": None, "incremental_high": None,
            "status": "", "_drill": sql.drill(market=m or market, trial_from=since)}
        if n0 < min_holdout or n1 == 0:
            out.update(status=too_small % {"n": n0, "min": min_holdout}, _muted=True)
            return out
        iv = newcombe(k1, n1, k0, n0)
        out.update(difference=iv.estimate, difference_low=iv.low, difference_high=iv.high,
                   incremental=iv.estimate * n1, incremental_low=iv.low * n1, incremental_high=iv.high * n1)
        return out

    shown = sql.markets(market)
    rows = [row(_("All markets") if not market else market, market)]
    if not market:
        rows += [row(m, m) for m in shown]
    columns = [Column("scope", _("Scope")),
               Column("called_arm", _("Call arm: decided trials"), "int"),
               Column("called_arm_converted", _("Call arm: converted"), "int"),
               Column("called_arm_rate", _("Call arm: rate"), "rate"),
               Column("holdout", _("Holdout: decided trials"), "int"),
               Column("holdout_converted", _("Holdout: converted"), "int"),
               Column("holdout_rate", _("Holdout: rate"), "rate"),
               Column("difference", _("Difference in rate"), "rate"),
               Column("difference_low", _("Difference: interval low"), "rate"),
               Column("difference_high", _("Difference: interval high"), "rate"),
               *_incremental_columns(_)]
    definition = _("Trials started in the last %(months)d months whose decision window has passed. Shops are drawn at random into a "
                   "no-call holdout; the call arm is every other shop, reached or not. Difference in rate: "
                   "call arm minus holdout (Newcombe 95 %% interval). Incremental conversions: that difference "
                   "times the call arm's decided trials: the subscriptions the calls added."
                   ) % {"months": int(months)}
    tables = [Table("lift", _("Gain from calls"), definition, columns, rows,
                    plot={"kind": "bars", "x": "scope", "y": "incremental", "low": "incremental_low",
                          "high": "incremental_high", "format": "number"})]
    tables.append(_by_consultant(_, cells, market, since, min_holdout, too_small))
    warnings = []
    if rows[0]["difference"] is None:
        warnings.append(_("The gain from calls cannot be measured yet: the holdout is too small."))
    return Report("lift", report_title("lift", lang), tables, warnings=warnings,
                  params={"months": int(months), "min_holdout": int(min_holdout)})


def _incremental_columns(_: Any) -> list[Column]:
    """The columns both tables end with: the incremental conversions with their interval, and the note."""
    return [Column("incremental", _("Incremental conversions"), "float"),
            Column("incremental_low", _("Incremental: interval low"), "float"),
            Column("incremental_high", _("Incremental: interval high"), "float"),
            Column("status", _("Note"))]


def _by_consultant(_: Any, cells: dict[tuple[str, bool, str | None], tuple[int, int]], market: str | None,
                   since: datetime, min_holdout: int, too_small: str) -> Table:
    hold: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    mine: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for (m, held, who), (d, c) in cells.items():
        if held:
            n, k = hold[m]
            hold[m] = (n + d, k + c)
        elif who is not None:
            mine[who][m] = (d, c)
    z = z_for(0.95)
    rows = []
    for who in sorted(mine):
        n = sum(d for d, _c in mine[who].values())
        k = sum(c for _d, c in mine[who].values())
        out: dict[str, Any] = {"consultant": who, "reached": n, "converted": k, "rate": k / n if n else None,
                               "expected": None, "incremental": None, "incremental_low": None,
                               "incremental_high": None, "status": "",
                               "_drill": sql.drill(market=market, consultant=who, held_out=False, trial_from=since)}
        small = [m for m in mine[who] if hold[m][0] < min_holdout]
        if small:
            out.update(status=too_small % {"n": min(hold[m][0] for m in small), "min": min_holdout}, _muted=True)
            rows.append(out)
            continue
        expected = var = 0.0
        for m, (d, c) in mine[who].items():
            n0, k0 = hold[m]
            p0, p1 = k0 / n0, c / d
            expected += d * p0
            var += d * p1 * (1 - p1) + d * d * p0 * (1 - p0) / n0
        gain = k - expected
        half = z * math.sqrt(var)
        out.update(expected=expected, incremental=gain, incremental_low=gain - half, incremental_high=gain + half)
        rows.append(out)
    columns = [Column("consultant", _("Consultant")), Column("reached", _("Decided trials reached"), "int"),
               Column("converted", _("Converted"), "int"), Column("rate", _("Trial-to-paid rate"), "rate"),
               Column("expected", _("Expected without calls"), "float"),
               *_incremental_columns(_)]
    definition = _("A consultant's shops are the decided trials in the call arm whose last reached call they "
                   "made. Expected without calls: those shops times the holdout's rate in the same markets. "
                   "Not randomised (consultants reach different shops), so read it as a guide, not a verdict; "
                   "95 %% normal interval.") % {}
    return Table("lift_by_consultant", _("Gain from calls by consultant"), definition, columns, rows,
                 plot={"kind": "bars", "x": "consultant", "y": "incremental", "low": "incremental_low",
                       "high": "incremental_high", "format": "number"})
