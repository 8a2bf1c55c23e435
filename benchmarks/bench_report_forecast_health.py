"""Benchmark the forecast and model-health reports with 100k shops on PostgreSQL.

Target (issue 12): each dashboard page <= 300 ms server time p95 with 100k shops on PostgreSQL.
Here: the report itself (`build_report`), which is what the page computes; rendering is apart.

A throw-away schema of the database named by CONCIERGE_BENCH_POSTGRES_URL (default: the local
server's `test`, as the tests use), migrated to head, dropped at the end. The population is
bulk-inserted, not loaded: the reports read only `shop_state`, `score` and `model_version`.
100,000 shops (PL/TR/IN 40/35/25 %), trial starts spread over the 270 days before `NOW`, 14-day
trials; ended trials have an outcome (about 12 % converted, PL buying up to weeks after the
trial end, TR and IN within days); two model versions, the active one trained 90 days ago
(so about a third of the trials closed since); every shop scored on its first and eighth trial
day by the version active then, open trials scored an hour ago, and a share of the decided
trials (--rescored-share, default 5 %: answers recorded after the trial, which score the shop
again) scored once more after their decision, which the reports must look past in the score
table. About 210k score rows. Then ANALYZE. `--rescored-share 1` is the worst case: every
decided trial scored again after its decision.

Measured: N builds of each report (after 3 to warm up: imports, the pool, PostgreSQL's cache),
all markets and one market; wall time of build_report, its CPU in this process, and the
PostgreSQL backend's CPU. The main statement's EXPLAIN ANALYZE goes to stderr.

Usage: python benchmarks/bench_report_forecast_health.py [--shops N] [--runs N] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import insert, text  # noqa: E402

from _common import Schema, backend_cpu, make_log, pct, weighted as _weighted  # noqa: E402
from concierge.db import Database  # noqa: E402
from concierge.models import ModelVersion, Score, Shop, ShopState  # noqa: E402

UTC = timezone.utc
NOW = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
TRAINED = NOW - timedelta(days=90)
OLD_TRAINED = NOW - timedelta(days=300)
SEED = 12
TARGET_MS = 300
MARKETS = (("PL", 0.40), ("TR", 0.35), ("IN", 0.25))
REPORTS = ("forecast", "model-health")

log = make_log("bench_report_forecast_health")


def _delay_days(rnd: random.Random, market: str) -> float:
    if market == "TR":
        return rnd.uniform(-2.0, 2.5)
    if market == "IN":
        return rnd.expovariate(1 / 3.0) - 1.0
    return min(rnd.lognormvariate(2.3, 1.0), 120) - 0.5


def build(db: Database, n_shops: int, rescored_share: float) -> dict:
    """Shops, their read-model rows, two model versions and their scores, bulk-inserted."""
    rnd = random.Random(SEED)
    t0 = time.perf_counter()
    with db.engine.begin() as c:
        c.execute(insert(ModelVersion), [
            {"id": 1, "version": "m-old", "kind": "conversion", "trained_rows": 1000, "artifact": b"",
             "card": {"trained_at": OLD_TRAINED.isoformat()}, "active": False, "created_at": OLD_TRAINED},
            {"id": 2, "version": "m-active", "kind": "conversion", "trained_rows": 20000, "artifact": b"",
             "card": {"trained_at": TRAINED.isoformat()}, "active": True, "created_at": TRAINED}])
        c.exec_driver_sql("SELECT setval(pg_get_serial_sequence('model_version', 'id'), 2)")
    shops, states, scores = [], [], []
    for i in range(n_shops):
        market = _weighted(rnd, MARKETS)
        start = NOW - timedelta(days=rnd.uniform(0, 270))
        ends = start + timedelta(days=14)
        p = min(0.95, max(0.005, rnd.betavariate(1.2, 8)))
        outcome = outcome_at = None
        if ends <= NOW:
            bought = ends + timedelta(days=_delay_days(rnd, market))
            if rnd.random() < p and bought <= NOW:
                outcome, outcome_at = "converted", max(bought, ends)  # trial_ended comes after an early purchase
            else:
                outcome, outcome_at = "not_converted", ends
        sid = i + 1
        shops.append({"id": sid, "platform_id": f"{market.lower()}-r{i:06d}", "market": market, "name": f"Shop {i}",
                      "created_at": start, "trial_started_at": start, "trial_ends_at": ends, "outcome": outcome,
                      "outcome_at": outcome_at, "holdout": False})
        mine = []
        for day in (1, 8):
            at = start + timedelta(days=day)
            if at <= NOW:
                mine.append((at, 2 if at >= TRAINED else 1, p * rnd.uniform(0.8, 1.2) if day == 8 else 0.1))
        if outcome is not None and rnd.random() < rescored_share:  # scored again after the decision
            at = max(outcome_at, ends) + timedelta(days=rnd.uniform(0.1, 20))
            if at <= NOW:
                mine.append((at, 2 if at >= TRAINED else 1, p))
        if outcome is None:
            mine.append((NOW - timedelta(hours=1), 2, p))
        for at, version, prob in mine:
            scores.append({"shop_id": sid, "model_version_id": version, "scored_at": at,
                           "probability": min(0.99, prob), "uplift": None, "details": {}})
        last = mine[-1] if mine else None
        states.append({"shop_id": sid, "platform_id": shops[-1]["platform_id"], "market": market, "name": f"Shop {i}",
                       "search_key": f"shop {i}", "trial_started_at": start, "trial_ends_at": ends,
                       "outcome": outcome, "outcome_at": outcome_at, "stage": "started", "readiness_percent": 0,
                       "score": min(0.99, last[2]) if last else None,
                       "score_model_version": ("m-active" if last[1] == 2 else "m-old") if last else None,
                       "scored_at": last[0] if last else None, "updated_at": NOW})
    with db.engine.begin() as c:
        for table, rows in ((Shop, shops), (ShopState, states), (Score, scores)):
            for k in range(0, len(rows), 10_000):
                c.execute(insert(table), rows[k:k + 10_000])
        c.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('shop', 'id'), {n_shops})")
    with db.engine.connect() as c:
        c = c.execution_options(isolation_level="AUTOCOMMIT")
        c.exec_driver_sql("ANALYZE")
    closed_since = sum(1 for s in shops if s["outcome_at"] is not None and s["outcome_at"] >= TRAINED)
    log(f"{n_shops:,} shops, {len(scores):,} scores, {closed_since:,} closed since training "
        f"in {time.perf_counter() - t0:.0f} s")
    return {"shops": n_shops, "scores": len(scores), "closed_since": closed_since,
            "open": sum(1 for s in shops if s["outcome"] is None)}


def explain(db: Database) -> None:
    """EXPLAIN ANALYZE of each report's heaviest statement (to stderr)."""
    from sqlalchemy import event

    from concierge.operations.reports import build_report

    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if "FROM shop_state" in statement and "ANY" not in statement and " IN (" not in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    with db.sessionmaker() as s:
        for key in REPORTS:
            build_report(s, key, now=NOW)
    event.remove(db.engine, "before_cursor_execute", grab)
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params in seen:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            log("\n" + "\n".join(r[0][:200] for r in cur.fetchall()))
    finally:
        raw.close()


def measure(db: Database, key: str, market: str | None, runs: int) -> dict:
    from concierge.operations.reports import build_report

    wall, cpu = [], []
    with db.sessionmaker() as s:
        conn = s.connection()
        for i in range(runs + 3):
            t0, c0 = time.perf_counter(), time.process_time()
            report = build_report(s, key, now=NOW, market=market)
            w, cp = time.perf_counter() - t0, time.process_time() - c0
            if i == 2:
                server0 = backend_cpu(conn)
            if i >= 3:
                wall.append(w * 1000)
                cpu.append(cp * 1000)
        server1 = backend_cpu(conn)
        s.rollback()
    server_ms = (server1 - server0) * 1000 / runs if server0 is not None and server1 is not None else None
    return {"bench": f"report {key}{' ' + market if market else ''} 100k", "runs": runs,
            "p50_ms": round(pct(wall, 50), 1), "p95_ms": round(pct(wall, 95), 1),
            "cpu_p50_ms": round(pct(cpu, 50), 1),
            "server_cpu_mean_ms": round(server_ms, 1) if server_ms is not None else None,
            "rows": sum(len(t.rows) for t in report.tables), "warnings": len(report.warnings),
            "target_ms": TARGET_MS, "ok": pct(wall, 95) <= TARGET_MS}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shops", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--rescored-share", type=float, default=0.05,
                    help="share of decided trials scored again after their decision (1: all, the worst case)")
    ap.add_argument("--keep", action="store_true", help="keep the schema (to look at it); drop it by hand")
    args = ap.parse_args()
    schema = Schema("reports")
    try:
        db = Database(schema.url)
        info = build(db, args.shops, args.rescored_share)
        explain(db)
        results = []
        for key in REPORTS:
            for market in (None, "PL"):
                r = measure(db, key, market, args.runs)
                log(f"{r['bench']}: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms")
                if args.rescored_share != 0.05:
                    r["bench"] += f" (rescored after decision: {args.rescored_share:.0%})"
                results.append({**r, "shops": info["shops"], "scores": info["scores"],
                                "rescored_share": args.rescored_share})
        db.dispose()
    finally:
        if args.keep:
            log(f"kept schema {schema.name}")
        else:
            schema.drop()
    width = max(len(r["bench"]) for r in results)
    print(f"{'report (PostgreSQL)':<{width}}  p50 ms  p95 ms  cpu p50  server cpu  target")
    for r in results:
        print(f"{r['bench']:<{width}}  {r['p50_ms']:>6}  {r['p95_ms']:>6}  {r['cpu_p50_ms']:>7}  "
              f"{r['server_cpu_mean_ms']!s:>10}  <= {TARGET_MS} ({'ok' if r['ok'] else 'MISSED'})")
    print(f"population: {info['shops']:,} shops, {info['scores']:,} scores, {info['closed_since']:,} closed since "
          f"training, {info['open']:,} open; load average {os.getloadavg()[0]:.1f}")
    for r in results:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
