"""Trial-to-paid conversion by cohort (trial start month or week) and market, and a rolling
30-day rate; every rate with n and a Wilson interval, pending trials apart (see `sql`)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from locales import get_market

from ...i18n import translations
from ...models import ShopState
from ...reporting import Column, Report, Table
from . import report_title, sql

GRAINS = ("month", "week")
MONTHS, WEEKS = 12, 26          # cohorts shown
ROLLING_DAYS, ROLLING_POINTS = 30, 12  # the rolling rate: 30-day window, one point a week


def _cohort_keys(grain: str, today: date) -> list[tuple[str, date, date]]:
    """(key, start, end) of the cohorts shown, oldest first; key is what the SQL bucket returns."""
    out = []
    if grain == "week":
        monday = today - timedelta(days=today.weekday())
        for k in range(WEEKS - 1, -1, -1):
            start = monday - timedelta(weeks=k)
            out.append((start.isoformat(), start, start + timedelta(weeks=1)))
    else:
        for k in range(MONTHS - 1, -1, -1):
            start = sql.month_start(today, k)
            out.append((start.strftime("%Y-%m"), start, sql.next_month(start)))
    return out


def _label(grain: str, key: str, start: date) -> str:
    return sql.week_label(start) if grain == "week" else key


def build(session: Session, *, lang: str, market: str | None, now: datetime, grain: str = "month",
          **_: Any) -> Report:
    """Conversion by trial-start cohort and market, a rolling 30-day rate, pending trials apart."""
    _ = translations(lang).gettext
    grain = grain if grain in GRAINS else "month"
    today = now.date()
    keys = _cohort_keys(grain, today)
    since = sql.start_of_day(keys[0][1])
    bucket = sql.week_of(session, ShopState.trial_started_at) if grain == "week" \
        else sql.month_of(session, ShopState.trial_started_at)
    converted, decided = sql.converted_expr(session), sql.decided_expr(session, now)
    counts: dict[tuple[str, str], tuple[int, int, int]] = {}
    for b, m, n, c, d in session.execute(
            select(bucket, ShopState.market, func.count(), func.sum(converted), func.sum(decided))
            .where(*sql.scope(market, since)).group_by(bucket, ShopState.market)):
        counts[(b, m)] = (int(n), int(c or 0), int(d or 0))
    shown = sql.markets(market)

    def row(key: str, start: date, end: date, m: str | None) -> dict[str, Any]:
        cells = [counts.get((key, mk), (0, 0, 0)) for mk in ((m,) if m else shown)]
        n, c, d = (sum(x[i] for x in cells) for i in range(3))
        return {"cohort": _label(grain, key, start), "market": m or "", "trials": n, "decided": d,
                "converted": c, "pending": n - d, **sql.rate_fields(c, d), "_pending": n > d,
                "_drill": sql.drill(market=m or market, trial_from=start, trial_to=end)}

    overall = [{**row(k, s, e, market), "market": market or _("All markets")} for k, s, e in keys]
    by_market = [row(k, s, e, m) for k, s, e in keys for m in shown]

    cohort_col = _("Trial start week") if grain == "week" else _("Trial start month")
    windows = ", ".join(f"{get_market(m).label(lang)} {sql.decision_window_days(m)}" for m in shown)
    definition = _("Trial-to-paid rate: trials that bought a subscription within their market's decision "
                   "window after the trial ended (days: %(windows)s), divided by the decided trials. Trials "
                   "still inside the window are pending, not losses. Interval: Wilson 95 %%. Cells with "
                   "fewer than %(n)d decided trials are greyed.") % {"windows": windows, "n": sql.MIN_CELL}
    columns = [Column("cohort", cohort_col), Column("market", _("Market")),
               Column("trials", _("Trials"), "int"), Column("decided", _("Decided"), "int"),
               Column("converted", _("Converted"), "int"), Column("pending", _("Pending"), "int"),
               Column("rate", _("Trial-to-paid rate"), "rate"), Column("low", _("Interval low"), "rate"),
               Column("high", _("Interval high"), "rate")]
    tables = [
        Table("cohorts", _("Conversion by cohort"), definition, columns, overall,
              plot={"kind": "bars", "x": "cohort", "y": "rate", "low": "low", "high": "high", "format": "percent"}),
        Table("cohorts_by_market", _("Conversion by cohort and market"), definition, columns, by_market),
        _rolling(session, _, lang, market, now, shown),
    ]
    return Report("cohorts", report_title("cohorts", lang), tables, params={"grain": grain})


def _rolling(session: Session, _: Any, lang: str, market: str | None, now: datetime, shown: tuple[str, ...]) -> Table:
    """The rolling 30-day rate: of the trials decided in the 30 days up to each point, the share converted."""
    today = now.date()
    points = [today - timedelta(weeks=k) for k in range(ROLLING_POINTS - 1, -1, -1)]
    first = points[0] - timedelta(days=ROLLING_DAYS - 1)
    day = sql.decision_day_expr(session)
    by_day: dict[str, dict[date, tuple[int, int]]] = defaultdict(dict)
    # the stored decision time (indexed) bounds the scan: decided in [first, today], and by now
    for m, d, c, n in session.execute(
            select(ShopState.market, day, func.sum(sql.converted_expr(session)), func.count())
            .where(*sql.scope(market), sql.decided(now),
                   ShopState.decided_at >= sql.start_of_day(first),
                   ShopState.decided_at < sql.start_of_day(today + timedelta(days=1)))
            .group_by(ShopState.market, day)):
        by_day[m][date.fromisoformat(d)] = (int(c or 0), int(n))
    rows = []
    for m in ((market,) if market else (None, *shown)):
        for p in points:
            lo = p - timedelta(days=ROLLING_DAYS - 1)
            c = n = 0
            for mk in ((m,) if m else shown):
                for d, (cc, nn) in by_day.get(mk, {}).items():
                    if lo <= d <= p:
                        c, n = c + cc, n + nn
            rows.append({"day": p, "market": m or _("All markets"), "decided": n, "converted": c,
                         **sql.rate_fields(c, n)})
    definition = _("Rolling 30-day rate: of the trials decided in the 30 days up to each day (a purchase "
                   "within the decision window, or the window's end without one), the share that bought. "
                   "It moves with recent weeks; the cohort rate stays with the month a trial started.")
    # no drill-down here: the shop list filters by trial start and outcome date, not by decision day
    columns = [Column("day", _("Day"), "date"), Column("market", _("Market")),
               Column("decided", _("Decided"), "int"), Column("converted", _("Converted"), "int"),
               Column("rate", _("Rolling 30-day rate"), "rate"), Column("low", _("Interval low"), "rate"),
               Column("high", _("Interval high"), "rate")]
    return Table("rolling", _("Rolling 30-day rate"), definition, columns, rows)
