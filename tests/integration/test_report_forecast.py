"""The forecast report (expected conversions) on real SQLite and PostgreSQL: every figure equals
a plain-Python computation from the raw tables (shops, every score row, the market cards'
windows), each row drills down to exactly its shops, and building the report writes nothing."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist

import pytest
from sqlalchemy import func, select

from concierge.models import ModelVersion, Score, Shop
from concierge.operations.reports import build_report
from concierge.operations.shop_state import list_states, parse_filters
from tests.support import read_only_report
from locales import MARKET_CODES, get_market

Z = NormalDist().inv_cdf(0.975)


def interval(probs: list[float]) -> tuple[float, float, float]:
    """Sum of the probabilities and the normal 95% prediction interval, outwards to whole trials, in [0, n]."""
    mean = sum(probs)
    half = Z * math.sqrt(sum(p * (1 - p) for p in probs))
    return mean, float(max(0, math.floor(mean - half))), float(min(len(probs), math.ceil(mean + half)))


def all_scores(session) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = {}
    for sid, at, rid, p, version in session.execute(
            select(Score.shop_id, Score.scored_at, Score.id, Score.probability, Score.model_version_id)):
        out.setdefault(sid, []).append((at, rid, p, version))
    return out


def months_before(now: datetime, k: int) -> list[date]:
    """The k whole months before the month of `now`, oldest first."""
    out = []
    y, m = now.year, now.month
    for _ in range(k):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        out.append(date(y, m, 1))
    return out[::-1]


def next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def drilled(session, drill: dict) -> int:
    filters, problems = parse_filters(drill)
    assert problems == []
    return list_states(session, limit=1, **filters)[1]


def check_open(session, table, market: str | None) -> None:
    scores = all_scores(session)
    active = session.scalar(select(ModelVersion.id).where(ModelVersion.active.is_(True)))
    shops = [s for s in session.execute(select(Shop.id, Shop.market).where(Shop.outcome.is_(None)))
             if market is None or s.market == market]
    latest = {s.id: max(scores[s.id]) if s.id in scores else None for s in shops}
    markets = [market] if market else list(MARKET_CODES)
    rows = table.rows
    assert [r["market"] for r in rows[:len(markets)]] == markets
    assert len(rows) == len(markets) + (0 if market else 1)  # one market, or every market and the total
    groups = [[s for s in shops if s.market == m] for m in markets] + ([shops] if not market else [])
    for row, group in zip(rows, groups):
        probs = [latest[s.id][2] for s in group if latest[s.id] is not None]
        assert row["open"] == len(group) and row["scored"] == len(probs)
        assert row["unscored"] == len(group) - len(probs)
        assert (row["expected"], row["low"], row["high"]) == pytest.approx(interval(probs), abs=1e-9)
        assert drilled(session, row["_drill"]) == len(group)
    assert table.plot == {"kind": "bars", "x": "market", "y": "expected", "low": "low", "high": "high",
                          "format": "number"}
    other = sum(1 for s in shops if latest[s.id] is not None and latest[s.id][3] != active)
    unscored = {m: sum(1 for s in shops if s.market == m and latest[s.id] is None) for m in markets}
    assert any("calibrated" in n and "independent" in n for n in table.notes)
    if other:
        assert any(n.startswith(f"{other} of the probabilities") for n in table.notes)
    if any(unscored.values()):
        named = ", ".join(f"{m} {k}" for m, k in unscored.items() if k)
        assert any(named in n for n in table.notes)


def check_past(session, table, market: str | None, now: datetime) -> None:
    scores = all_scores(session)
    months = months_before(now, 6)
    cells = {m: {"ended": 0, "no_outcome": 0, "probs": [], "converted": 0, "waiting": 0} for m in months}
    for s in session.execute(select(Shop.id, Shop.market, Shop.trial_ends_at, Shop.outcome, Shop.outcome_at)):
        month = date(s.trial_ends_at.year, s.trial_ends_at.month, 1)
        if month not in cells or (market and s.market != market):
            continue
        if s.outcome is None:
            cells[month]["ended"] += 1
            cells[month]["no_outcome"] += 1
            continue
        window = timedelta(days=get_market(s.market).decision_window_days)
        cut = min(s.trial_ends_at, s.outcome_at)
        before = [x for x in scores.get(s.id, []) if x[0] <= cut]
        c = cells[month]
        c["ended"] += 1
        c["waiting"] += s.trial_ends_at + window > now
        if before:
            c["probs"].append(max(before)[2])
            c["converted"] += s.outcome == "converted" and s.outcome_at <= s.trial_ends_at + window
    rows = table.rows
    assert [r["month"] for r in rows] == [m.strftime("%Y-%m") for m in months]
    for row, month in zip(rows, months):
        c = cells[month]
        assert row["ended"] == c["ended"] and row["scored"] == len(c["probs"])
        assert row["no_outcome"] == c["no_outcome"]
        assert (row["expected"], row["low"], row["high"]) == pytest.approx(interval(c["probs"]), abs=1e-9)
        assert row["converted"] == c["converted"]
        assert row["in_window"] == c["waiting"] and row["_pending"] == (c["waiting"] > 0)
        mean, low, high = interval(c["probs"])
        assert row["inside"] == (None if c["waiting"] or not c["probs"] else low <= c["converted"] <= high)
        assert drilled(session, row["_drill"]) == c["ended"]
    assert table.plot["kind"] == "bars" and table.plot["reference"] == "converted"
    unscored = sum(c["ended"] - c["no_outcome"] - len(c["probs"]) for c in cells.values())
    if unscored:
        assert any(n.startswith(f"{unscored} trials had no score") for n in table.notes)


def test_every_figure_equals_a_computation_from_the_raw_tables(scored_demo):
    demo = scored_demo
    with demo.db.sessionmaker() as session:
        report = read_only_report(session, demo.db.engine, "forecast", now=demo.now, lang="en")
        assert [t.key for t in report.tables] == ["open", "past"]
        check_open(session, report.table("open"), None)
        check_past(session, report.table("past"), None, demo.now)

        # the data exercise every rule: unscored and old-model open trials, pending and decided
        # months, a forecast that missed or hit, and scores the past forecast must leave out
        open_rows, past = report.table("open").rows, report.table("past").rows
        assert open_rows[-1]["unscored"] > 0 and open_rows[-1]["scored"] > 0
        assert len(report.table("open").notes) == 3
        assert any(r["_pending"] for r in past) and any(r["inside"] is not None for r in past)
        assert any(r["scored"] < r["ended"] for r in past)


@pytest.mark.parametrize("market", MARKET_CODES)
def test_one_market_is_the_same_arithmetic_on_its_trials(scored_demo, market):
    demo = scored_demo
    with demo.db.sessionmaker() as session:
        report = build_report(session, "forecast", now=demo.now, market=market.lower())
        check_open(session, report.table("open"), market)
        check_past(session, report.table("past"), market, demo.now)
        # another language changes the words, never the figures
        turkish = build_report(session, "forecast", now=demo.now, market=market, lang="tr")
        for key in ("open", "past"):
            assert turkish.table(key).rows == report.table(key).rows


def test_a_report_dated_earlier_moves_its_months_and_its_pending_marks(scored_demo):
    """Dated three months back: the six whole months before that, and the windows open then."""
    demo = scored_demo
    earlier = demo.now - timedelta(days=91)
    with demo.db.sessionmaker() as session:
        report = build_report(session, "forecast", now=earlier)
        assert report.table("past").rows[-1]["month"] == months_before(earlier, 1)[0].strftime("%Y-%m")
        check_past(session, report.table("past"), None, earlier)


def test_without_scores_or_a_model_it_counts_the_open_trials_and_does_not_crash(session):
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population

    now = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    load_population(session, generate(40, seed=4, today=now.date()), now=now)
    session.flush()
    report = build_report(session, "forecast", now=now, lang="pl")
    total = report.table("open").rows[-1]
    n_open = session.scalar(select(func.count()).select_from(Shop).where(Shop.outcome.is_(None)))
    assert n_open > 0 and total["open"] == total["unscored"] == n_open and total["scored"] == 0
    assert total["expected"] == 0.0 and total["low"] == total["high"] == 0.0
    assert all(r["scored"] == 0 and r["inside"] is None for r in report.table("past").rows)
    assert sum(r["ended"] for r in report.table("past").rows) > 0
    report.as_dict()
