"""SQL pieces the reports share: UTC day/week/month buckets on SQLite and PostgreSQL, and
the decision rule that says whether a trial is converted, lost or still pending.

**The decision window.** A trial is *converted* when the shop bought a subscription no
later than its market's decision window after the trial ended
(`locales` market card, ``conversion.decision_window_days``: PL 60, TR 14, IN 30 days:
Polish merchants deliberate, Turkish ones decide within days). It is *lost* once the
window has passed without a purchase. Until then it is *pending*: neither a win nor a
loss, so recent cohorts are not painted as failures. A purchase after the window does not
count, so a decided cohort's rate never changes again.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal_column, or_, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from locales import MARKET_CODES, get_market

from ...models import ShopState

UTC = timezone.utc
MIN_CELL = 30  # fewer decided trials than this: the cell is greyed, its rate too noisy to read


def decision_window_days(market: str) -> int:
    """The market's decision window in days (its market card; one home for the fact)."""
    return get_market(market).decision_window_days


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _utc(session: Session, col: Any) -> Any:
    """The column as a UTC wall-clock timestamp (PostgreSQL keeps zones; SQLite stores UTC already)."""
    return func.timezone("UTC", col) if _dialect(session) == "postgresql" else col


def day_of(session: Session, col: Any) -> ColumnElement[str]:
    """'YYYY-MM-DD' of the UTC day."""
    if _dialect(session) == "postgresql":
        return func.to_char(_utc(session, col), "YYYY-MM-DD")
    return func.date(col)


def week_of(session: Session, col: Any) -> ColumnElement[str]:
    """'YYYY-MM-DD' of the Monday starting the (ISO) week, in UTC."""
    if _dialect(session) == "postgresql":
        return func.to_char(func.date_trunc("week", _utc(session, col)), "YYYY-MM-DD")
    return func.date(col, "weekday 0", "-6 days")


def month_of(session: Session, col: Any) -> ColumnElement[str]:
    """'YYYY-MM' of the UTC month."""
    if _dialect(session) == "postgresql":
        return func.to_char(_utc(session, col), "YYYY-MM")
    return func.strftime("%Y-%m", col)


def plus_days_day(session: Session, col: Any, days: int) -> ColumnElement[str]:
    """'YYYY-MM-DD' of the UTC day `days` after the column."""
    days = int(days)
    if _dialect(session) == "postgresql":
        return func.to_char(_utc(session, col) + literal_column(f"interval '{days} days'"), "YYYY-MM-DD")
    return func.date(col, f"+{days} days")


def days_between(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    """end - start in days (fractional)."""
    if _dialect(session) == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def _by_market(values: dict[str, Any], default: Any) -> Any:
    return case(*((ShopState.market == m, v) for m, v in values.items()), else_=default)


def markets(market: str | None = None) -> tuple[str, ...]:
    return (market,) if market else tuple(MARKET_CODES)


def window_expr() -> Any:
    """The shop's market's decision window in days, as SQL."""
    return _by_market({m: decision_window_days(m) for m in MARKET_CODES}, 30)


def converted_expr(session: Session) -> ColumnElement[int]:
    """1 when the trial subscribed within its decision window after the trial ended (the model's
    label: `scoring.outcome.decision`, stored in shop_state as `converted`), else 0."""
    return cast(case((ShopState.converted.is_(True), 1), else_=0), Integer)


def matured(now: datetime) -> ColumnElement[bool]:
    """The outcome can no longer change: the decision window after the trial end has passed (a
    trial without an end date, once it has an outcome). An early purchase does not make a trial
    final before its window closes, as in training: keeping only early buyers would bias a sample."""
    ends = ShopState.trial_ends_at
    cutoffs = {m: type_coerce(now - timedelta(days=decision_window_days(m)), ends.type) for m in MARKET_CODES}
    return or_(and_(ends.is_(None), ShopState.outcome.is_not(None)),
               ends <= _by_market(cutoffs, type_coerce(now - timedelta(days=30), ends.type)))


def final_expr(now: datetime) -> ColumnElement[int]:
    """`matured` as 1 or 0 (to sum or group by)."""
    return cast(case((matured(now), 1), else_=0), Integer)


def decided(now: datetime) -> ColumnElement[bool]:
    """Decided by ``now``: converted in its window (counted at once), or its stored decision time
    (`scoring.outcome.decision`: the window's end) has passed."""
    return or_(ShopState.converted.is_(True), ShopState.decided_at <= type_coerce(now, ShopState.decided_at.type))


def decided_expr(session: Session, now: datetime) -> ColumnElement[int]:
    """1 when the trial is decided (converted in its window, or the window has passed), else 0:
    a cohort counts an early buyer at once, and a trial as lost only once its window has passed."""
    return cast(case((decided(now), 1), else_=0), Integer)


def decision_day_expr(session: Session) -> Any:
    """'YYYY-MM-DD' of the day a decided trial was decided: the purchase, or the window's end."""
    return day_of(session, ShopState.decided_at)


def scope(market: str | None, since: datetime | None = None, until: datetime | None = None) -> list[Any]:
    """Shops with a trial start (in [since, until)) in the market (all markets when None)."""
    where: list[Any] = [ShopState.trial_started_at.is_not(None)]
    if market:
        where.append(ShopState.market == market)
    if since is not None:
        where.append(ShopState.trial_started_at >= since)
    if until is not None:
        where.append(ShopState.trial_started_at < until)
    return where


def iso_day(d: date | datetime) -> str:
    return (d.date() if isinstance(d, datetime) else d).isoformat()


def start_of_day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def month_start(d: date, back: int = 0) -> date:
    """The first day of the month `back` months before d's month."""
    y, m = d.year, d.month - back
    while m <= 0:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def week_label(monday: date) -> str:
    y, w, _ = monday.isocalendar()
    return f"{y}-W{w:02d}"


def drill(**filters: Any) -> dict[str, Any]:
    """A row's drill-down as URL-ready shop-list filters (None values dropped, booleans 1/0)."""
    out: dict[str, Any] = {}
    for k, v in filters.items():
        if v is None or v == "":
            continue
        if isinstance(v, bool):
            out[k] = "1" if v else "0"
        elif isinstance(v, (date, datetime)):
            out[k] = iso_day(v)
        elif isinstance(v, (list, tuple)):
            out[k] = [str(x) for x in v]
        else:
            out[k] = str(v)
    return out


def rate_fields(converted: int, decided: int) -> dict[str, Any]:
    """rate, low, high (Wilson 95 %) of converted/decided, and whether the cell is too small."""
    from ...stats import wilson

    iv = wilson(int(converted), int(decided))
    return {"rate": iv.estimate, "low": iv.low, "high": iv.high, "_muted": decided < MIN_CELL}


def total(rows: Iterable[dict[str, Any]], *keys: str) -> dict[str, int]:
    out = {k: 0 for k in keys}
    for r in rows:
        for k in keys:
            out[k] += int(r.get(k) or 0)
    return out
