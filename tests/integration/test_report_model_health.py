"""The model-health report on real SQLite and PostgreSQL: every figure equals a plain-Python
computation from the raw tables (shops, scores, model versions, the market cards' windows),
drift warnings follow the threshold, a missing model or nothing to judge warns without
crashing, and building the report writes nothing."""
from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist

import pytest
from sqlalchemy import func, select

from concierge.config import calibration_drift_ece
from concierge.models import ModelVersion, Score, Shop
from concierge.operations.reports import build_report
from concierge.operations.reports.model_health import MIN_BIN, MIN_CELL
from concierge.operations.shop_state import list_states, parse_filters
from locales import LANGUAGES, MARKET_CODES, get_market
from tests.support import read_only_report, row_counts

Z = NormalDist().inv_cdf(0.975)


# ----------------------------------------------------------------------------- by hand

def wilson(k: int, n: int) -> tuple[float, float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def ece(pairs: list[tuple[int, float]]) -> float:
    bins: dict[int, list[tuple[int, float]]] = {}
    for y, p in pairs:
        bins.setdefault(min(int(p * 10), 9), []).append((y, p))
    return sum(abs(sum(y for y, _ in b) / len(b) - sum(p for _, p in b) / len(b)) * len(b)
               for b in bins.values()) / len(pairs)


def auc(pairs: list[tuple[int, float]]) -> tuple[float, float, float] | None:
    pos = [p for y, p in pairs if y]
    neg = [p for y, p in pairs if not y]
    if not pos or not neg:
        return None
    a = sum(1.0 if x > z else 0.5 if x == z else 0.0 for x in pos for z in neg) / (len(pos) * len(neg))
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (len(pos) - 1) * (q1 - a * a) + (len(neg) - 1) * (q2 - a * a)) / (len(pos) * len(neg))
    half = Z * math.sqrt(max(var, 0.0))
    return a, max(0.0, a - half), min(1.0, a + half)


def expected_trials(session, trained: datetime, now: datetime, active_id: int) -> list[dict]:
    """Every trial closed since training, from the shop and score tables, judged by hand."""
    scores: dict[int, list] = {}
    for sid, version, at, sid_row, p in session.execute(
            select(Score.shop_id, Score.model_version_id, Score.scored_at, Score.id, Score.probability)):
        if version == active_id:
            scores.setdefault(sid, []).append((at, sid_row, p))
    out = []
    for s in session.execute(select(Shop.id, Shop.market, Shop.trial_ends_at, Shop.outcome, Shop.outcome_at)):
        if s.outcome not in ("converted", "not_converted") or not trained <= s.outcome_at <= now:
            continue
        window = timedelta(days=get_market(s.market).decision_window_days)
        cut = min(s.trial_ends_at, s.outcome_at)
        before = [x for x in scores.get(s.id, []) if x[0] <= cut]
        out.append({"id": s.id, "market": s.market, "month": s.outcome_at.strftime("%Y-%m"), "outcome": s.outcome,
                    "bought_in_trial": s.outcome == "converted" and s.outcome_at < s.trial_ends_at,
                    "final": s.trial_ends_at + window <= now,
                    "y": int(s.outcome == "converted" and s.outcome_at <= s.trial_ends_at + window),
                    "p": max(before)[2] if before else None})
    return out


def check_figures(row: dict, pairs: list[tuple[int, float]]) -> None:
    assert row["n"] == len(pairs)
    if not pairs:
        assert row["ece"] is None and row["auc"] is None and row["base_rate"] is None
        return
    assert row["converted"] == sum(y for y, _ in pairs)
    assert row["base_rate"] == pytest.approx(sum(y for y, _ in pairs) / len(pairs))
    assert row["predicted"] == pytest.approx(sum(p for _, p in pairs) / len(pairs))
    assert row["ece"] == pytest.approx(ece(pairs), abs=1e-12)
    by_hand = auc(pairs)
    if by_hand is None:
        assert row["auc"] is None and row["auc_low"] is None
    else:
        assert (row["auc"], row["auc_low"], row["auc_high"]) == pytest.approx(by_hand, abs=1e-12)



# ----------------------------------------------------------------------------- tests

def test_every_figure_equals_a_computation_from_the_raw_tables(scored_demo):
    demo = scored_demo
    with demo.db.sessionmaker() as session:
        report = read_only_report(session, demo.db.engine, "model-health", now=demo.now, lang="en")

        trials = expected_trials(session, demo.trained, demo.now, demo.active_id)
        judged = [t for t in trials if t["final"] and t["p"] is not None]
        pairs = [(t["y"], t["p"]) for t in judged]
        # the data really exercise every rule (else the checks below would prove little)
        assert len(pairs) >= MIN_CELL and 0 < sum(y for y, _ in pairs) < len(pairs)
        assert any(not t["final"] for t in trials) and any(t["final"] and t["p"] is None for t in trials)
        assert any(t["outcome"] == "converted" and not t["y"] for t in judged)  # bought after the window
        assert any(t["bought_in_trial"] for t in trials)  # a score after its purchase must not count
        active = session.get(ModelVersion, demo.active_id)

        summary = report.table("summary").rows
        assert len(summary) == 1
        s = summary[0]
        assert s["version"] == active.version and s["trained_at"] == demo.trained
        assert s["age_days"] == (demo.now - demo.trained).days
        assert s["closed"] == len(trials)
        assert s["in_window"] == sum(1 for t in trials if not t["final"])
        assert s["unscored"] == sum(1 for t in trials if t["final"] and t["p"] is None)
        check_figures(s, pairs)
        assert s["threshold"] == calibration_drift_ece() and bool(s.get("_muted")) == (len(pairs) < MIN_CELL)

        bins = report.table("reliability")
        assert bins.plot == {"kind": "calibration", "x": "predicted", "y": "observed", "n": "n"}
        assert len(bins.rows) == 10 and sum(r["n"] for r in bins.rows) == len(pairs)
        for b, row in enumerate(bins.rows):
            inside = [(y, p) for y, p in pairs if min(int(p * 10), 9) == b]
            assert row["n"] == len(inside) and row["_muted"] == (len(inside) < MIN_BIN)
            if inside:
                k = sum(y for y, _ in inside)
                assert row["predicted"] == pytest.approx(sum(p for _, p in inside) / len(inside))
                assert (row["observed"], row["observed_low"], row["observed_high"]) == \
                    pytest.approx(wilson(k, len(inside)), abs=1e-12)
            else:
                assert row["observed"] is None and row["predicted"] is None

        markets = report.table("by_market").rows
        assert [r["market"] for r in markets] == list(MARKET_CODES)
        for row in markets:
            mine = [(t["y"], t["p"]) for t in judged if t["market"] == row["market"]]
            check_figures(row, mine)
            assert row["_muted"] == (len(mine) < MIN_CELL)
            filters, problems = parse_filters(row["_drill"])
            assert problems == []
            _rows, count = list_states(session, limit=1, **filters)
            day = datetime.combine(demo.trained.date(), datetime.min.time(), tzinfo=demo.trained.tzinfo)
            assert count == session.scalar(select(func.count()).select_from(Shop).where(
                Shop.market == row["market"], Shop.outcome_at >= day, Shop.outcome.is_not(None)))

        months = report.table("by_month").rows
        first = date(demo.trained.year, demo.trained.month, 1)
        expected_months = []
        while first <= demo.now.date():
            expected_months.append(first.strftime("%Y-%m"))
            first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        assert [r["month"] for r in months] == expected_months
        assert sum(r["n"] for r in months) == len(pairs)
        for row in months:
            mine = [(t["y"], t["p"]) for t in judged if t["month"] == row["month"]]
            check_figures(row, mine)
            waiting = sum(1 for t in trials if t["month"] == row["month"] and not t["final"])
            assert row["in_window"] == waiting and row["_pending"] == (waiting > 0)
            filters, problems = parse_filters(row["_drill"])
            assert problems == []
            _rows, count = list_states(session, limit=1, **filters)
            start = max(date.fromisoformat(row["month"] + "-01"), demo.trained.date())
            end = date.fromisoformat(row["month"] + "-01") + timedelta(days=31)
            start, end = (datetime.combine(d, datetime.min.time(), tzinfo=UTC) for d in (start, end.replace(day=1)))
            assert count == session.scalar(select(func.count()).select_from(Shop).where(
                Shop.outcome_at >= start, Shop.outcome_at < end))
        assert any(r["_pending"] for r in months) and not all(r["_pending"] for r in months)


def test_one_market_is_the_same_arithmetic_on_its_trials(scored_demo):
    demo = scored_demo
    with demo.db.sessionmaker() as session:
        trials = expected_trials(session, demo.trained, demo.now, demo.active_id)
        for market in MARKET_CODES:
            report = build_report(session, "model-health", now=demo.now, market=market.lower())
            pairs = [(t["y"], t["p"]) for t in trials if t["final"] and t["p"] is not None and t["market"] == market]
            check_figures(report.table("summary").rows[0], pairs)
            assert [r["market"] for r in report.table("by_market").rows] == [market]
            assert report.table("summary").rows[0]["closed"] == sum(1 for t in trials if t["market"] == market)


def test_drift_warnings_follow_the_threshold(scored_demo):
    demo = scored_demo
    with demo.db.sessionmaker() as session:
        trials = expected_trials(session, demo.trained, demo.now, demo.active_id)
        pairs = [(t["y"], t["p"]) for t in trials if t["final"] and t["p"] is not None]
        overall = ece(pairs)
        per_market = {m: [(t["y"], t["p"]) for t in trials if t["final"] and t["p"] is not None
                          and t["market"] == m] for m in MARKET_CODES}
        big = {m: ece(v) for m, v in per_market.items() if len(v) >= MIN_CELL}
        assert len(pairs) >= MIN_CELL and big  # overall and at least one market can raise a warning

        below = build_report(session, "model-health", now=demo.now, drift_ece=overall - 1e-6)
        drift = [w for w in below.warnings if "drift" in w.lower()]
        assert drift and "%.3f" % overall in drift[0]
        expected_markets = {m for m, e in big.items() if e > overall - 1e-6}
        assert len(drift) == 1 + len(expected_markets)
        for m in expected_markets:
            assert any(f" {m}:" in w for w in drift[1:])

        highest = max([overall, *big.values()])
        above = build_report(session, "model-health", now=demo.now, drift_ece=highest + 1e-6)
        assert above.warnings == []
        assert above.table("summary").rows[0]["threshold"] == pytest.approx(highest + 1e-6)

        # a small market never warns, however bad: only cells with MIN_CELL trials or more do
        small = [m for m, v in per_market.items() if 0 < len(v) < MIN_CELL]
        zero = build_report(session, "model-health", now=demo.now, drift_ece=0.0)
        for m in small:
            assert not any(f" {m}:" in w for w in zero.warnings)


def test_the_drift_threshold_comes_from_the_environment(scored_demo, monkeypatch):
    from concierge.config import load_config

    monkeypatch.setenv("CONCIERGE_CALIBRATION_DRIFT_ECE", "0.5")
    assert load_config({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})["CALIBRATION_DRIFT_ECE"] == 0.5
    with scored_demo.db.sessionmaker() as session:
        report = build_report(session, "model-health", now=scored_demo.now)
        assert report.table("summary").rows[0]["threshold"] == 0.5
        assert report.params["drift_ece"] == 0.5
    monkeypatch.setenv("CONCIERGE_CALIBRATION_DRIFT_ECE", "lots")
    with pytest.raises(ValueError, match="CONCIERGE_CALIBRATION_DRIFT_ECE"):
        load_config({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})


def test_nothing_closed_since_training_warns_and_still_gives_every_table(scored_demo):
    demo = scored_demo
    with demo.db.sessionmaker() as session:
        closed_at = sorted(session.scalars(select(Shop.outcome_at).where(Shop.outcome_at >= demo.trained)))
        assert closed_at and closed_at[0] > demo.trained
        # as of a moment before the first trial closed after training
        at = demo.trained + (closed_at[0] - demo.trained) / 2
        report = build_report(session, "model-health", now=at, lang="pl")
        assert len(report.warnings) == 1 and "m20" in report.warnings[0]
        assert [t.key for t in report.tables] == ["summary", "reliability", "by_market", "by_month", "at_training"]
        s = report.table("summary").rows[0]
        assert s["closed"] == 0 and s["n"] == 0 and s["ece"] is None and s["auc"] is None
        assert report.table("reliability").rows == []
        # before any trial closes, the model card's test split is there to read: its bins as stored
        card = session.scalar(select(ModelVersion.card).where(ModelVersion.id == demo.active_id))
        bins = [b for b in card["calibration_chart"] if b["n"]]
        base = report.table("at_training").rows
        assert [(r["n"], r["predicted"], r["observed"]) for r in base] == \
            [(b["n"], b["mean_predicted"], b["observed"]) for b in bins] and base
        for r in base:
            _p, lo, hi = wilson(round(r["observed"] * r["n"]), r["n"])
            assert (r["observed_low"], r["observed_high"]) == (pytest.approx(lo), pytest.approx(hi))
        note = report.table("at_training").notes[0]
        assert str(card["metrics"]["n"]) in note and f"{card['metrics']['ece']:.3f}" in note
        assert all(r["n"] == 0 and r["_muted"] for r in report.table("by_market").rows)
        report.as_dict()  # serialisable


def test_without_an_active_model_it_warns_and_does_not_crash(session):
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population

    now = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    load_population(session, generate(40, seed=4, today=now.date()), now=now)
    session.flush()
    before = row_counts(session)
    for lang in LANGUAGES:
        report = build_report(session, "model-health", now=now, lang=lang)
        assert len(report.warnings) == 1
        assert [t.key for t in report.tables] == ["summary", "reliability", "by_market", "by_month", "at_training"]
        s = report.table("summary").rows[0]
        assert s["version"] is None and s["closed"] == 0 and s["n"] == 0
        assert all(t.notes for t in report.tables)  # each table says why it is empty
        assert report.table("by_month").rows == [] and report.table("reliability").rows == []
        report.as_dict()
    assert "concierge model train" in build_report(session, "model-health", now=now).warnings[0]
    assert row_counts(session) == before and not (session.new or session.dirty or session.deleted)
