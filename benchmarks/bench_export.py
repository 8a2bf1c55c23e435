"""Benchmark the shop export (`GET /shops.csv`) and the shop list filtered by stage, at 100k shops.

Targets (issue 12): exporting 100k shops <= 5 s at flat memory; the shop list filtered by
stage <= 100 ms server time p95 with 100k shops on PostgreSQL.

The population: shop and shop_state rows bulk-inserted (no history: the export and the list
read only the read model), realistic in shape: PL/TR/IN, names with Polish and Turkish
letters (some with commas and quotes, a few starting with "=" or "-"), six stages, readiness,
persona, business type, language, a score for 80 %, a consultant for half, 10 % held out,
trial starts over nine months, outcomes for the finished trials, the next call for some.
Inserted in two steps, first 10k then up to 100k, so the export is measured at both sizes.

Measured on PostgreSQL (a throw-away schema of CONCIERGE_BENCH_POSTGRES_URL, default the
tests' local server) and SQLite (a temporary file), both built by the migrations:

1. The export through the same code path as a manager's download: the Flask test client
   (the app runs in-process) GETs /shops.csv unbuffered and reads the streamed body chunk by
   chunk. Wall and CPU seconds (best of RUNS), then one more run under tracemalloc: the
   peak of Python allocations during the request, and the growth of the process's resident
   memory (RSS, sampled at every chunk) over its value before the request. Flat memory
   means the 100k peak is about the 10k peak.
2. The shop list filtered by stage (PostgreSQL, 100k): GET /?stage=S for each stage and
   pages 1-20 at random, N requests; p50/p95/p99 of the server time (around client.get).
   EXPLAIN ANALYZE of the list's two queries for the rarest stage is printed.

Progress goes to stderr. Prints a table and JSON lines (a "bench" key each).
Usage: python benchmarks/bench_export.py [--shops N] [--small N] [--requests N] [--runs N]
                                         [--only postgresql|sqlite] [--keep]
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import insert, text  # noqa: E402

from _common import Schema, arg_parser, make_log, pct, print_report, weighted as _weighted  # noqa: E402

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SEED = 12
EXPORT_TARGET_S = 5.0
LIST_TARGET_MS = 100
PASSWORD = "correct horse battery"
MARKETS = (("PL", 0.40), ("TR", 0.35), ("IN", 0.25))
STAGES = (("setting_up", 0.30), ("products", 0.20), ("payments_shipping", 0.20), ("legal", 0.12),
          ("ready", 0.08), ("launched", 0.10))
PERSONAS = ("first_steps", "side_project", "offline_to_online", "marketplace_seller", "global_seller",
            "growing_seller", "ecommerce_pro", None)
BTYPES = ("new_brand", "offline_store", "online_store", "handmade", "reseller", "manufacturer", None)
WORDS = {"PL": ("Sklep", "Łódzka", "Pracownia", "Żółty", "Kwiaciarnia", "Gęś", "Świat", "Dom", "Wąskie"),
         "TR": ("Butik", "İstanbul", "Çiçek", "Ağaç", "Şeker", "Dükkanı", "Işık", "Güzel", "Öykü"),
         "IN": ("Spices", "Mumbai", "Kirana", "Silk", "Chai", "Bazaar", "Delhi", "Craft", "Rangoli")}
LANGS = {"PL": ("pl", "en"), "TR": ("tr", "en"), "IN": ("en", "hi")}
CONSULTANTS = {"PL": ("Agata Wąsik", "Tomasz Górski", "joanna@example.com"),
               "TR": ("Elif Şenol", "Kerem Aydoğan", "gulay@example.com"),
               "IN": ("Sana Qureshi", "Arjun Mehta", "priya@example.com")}

log = make_log("bench_export")


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------- the population

def rows(start: int, stop: int) -> tuple[list[dict], list[dict]]:
    """Shops start+1..stop and their shop_state rows (deterministic in the id)."""
    from concierge.operations.shop_state import search_key

    shops, states = [], []
    for i in range(start + 1, stop + 1):
        rnd = random.Random(SEED * 1_000_003 + i)
        market = _weighted(rnd, MARKETS)
        pid = f"{market.lower()}-x{i:07d}"
        words = WORDS[market]
        name = " ".join(rnd.sample(words, 2))
        if rnd.random() < 0.05:
            name += f', "{rnd.choice(words)}"'  # a comma and quotes: the CSV must quote it
        if rnd.random() < 0.01:
            name = rnd.choice(("=", "-", "+", "@")) + name  # defused with a leading '
        started = NOW - timedelta(days=rnd.uniform(0, 270))
        ends = started + timedelta(days=14 if market == "TR" else 30)
        outcome = outcome_at = None
        if ends < NOW and rnd.random() < 0.95:
            outcome = "converted" if rnd.random() < 0.22 else "not_converted"
            outcome_at = ends + timedelta(days=rnd.uniform(-5, 10))
        stage = _weighted(rnd, STAGES)
        scored = rnd.random() < 0.8
        contacted = rnd.random() < 0.5
        held_out = rnd.random() < 0.1
        shops.append({"id": i, "platform_id": pid, "market": market, "name": name, "created_at": started,
                      "trial_started_at": started, "trial_ends_at": ends, "outcome": outcome,
                      "outcome_at": outcome_at, "holdout": held_out})
        states.append({
            "shop_id": i, "platform_id": pid, "market": market, "name": name, "search_key": search_key(name, pid),
            "trial_started_at": started, "trial_ends_at": ends, "outcome": outcome, "outcome_at": outcome_at,
            "stage": stage, "readiness_percent": rnd.randint(0, 100), "persona": rnd.choice(PERSONAS),
            "business_type": rnd.choice(BTYPES), "language": rnd.choice(LANGS[market]),
            "score": rnd.random() if scored else None, "score_model_version": "m-20261101" if scored else None,
            "scored_at": NOW - timedelta(hours=rnd.uniform(1, 200)) if scored else None,
            "gain": rnd.uniform(-0.02, 0.08) if scored else None,
            "consultant": rnd.choice(CONSULTANTS[market]) if contacted and not held_out else None,
            "last_reached_at": started + timedelta(days=rnd.uniform(1, 10)) if contacted and not held_out else None,
            "contacted": contacted and not held_out, "held_out": held_out,
            "next_call_at": NOW + timedelta(hours=rnd.uniform(1, 96)) if outcome is None and rnd.random() < 0.6 else None,
            "observations": rnd.randint(3, 60), "updated_at": NOW})
    return shops, states


def fill(db, start: int, stop: int) -> float:
    """Insert shops start+1..stop with their shop_state rows, in batches; returns seconds."""
    from concierge.models import Shop, ShopState

    t0 = time.perf_counter()
    step = 10_000
    for a in range(start, stop, step):
        shops, states = rows(a, min(stop, a + step))
        with db.engine.begin() as c:
            c.execute(insert(Shop), shops)
            c.execute(insert(ShopState), states)
    with db.engine.begin() as c:
        if db.engine.dialect.name == "postgresql":
            c.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('shop', 'id'), {stop})")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE")
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- the app

def app_for(url: str, tmp: str):
    from concierge import create_app
    from concierge.operations.users import create_user

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-export", "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": tmp})
    db = app.extensions["concierge.db"]
    with db.session() as s:
        if not s.execute(text("SELECT 1 FROM user_account WHERE email = 'maria@example.com'")).first():
            create_user(s, "maria@example.com", password=PASSWORD, role="manager", name="Maria")
    client = app.test_client()
    r = client.post("/login", data={"email": "maria@example.com", "password": PASSWORD})
    assert r.status_code in (302, 303), r.status_code
    return app, client


def export_once(client, traced: bool) -> dict:
    """GET /shops.csv, reading the streamed body chunk by chunk; time, rows, bytes, memory."""
    if traced:
        tracemalloc.start()
    rss0 = rss_peak = rss_bytes()
    t0, c0 = time.perf_counter(), time.process_time()
    r = client.get("/shops.csv", buffered=False)
    assert r.status_code == 200, r.status_code
    size = lines = chunks = 0
    for chunk in r.response:
        chunks += 1
        size += len(chunk)
        lines += chunk.count(b"\r\n") if isinstance(chunk, bytes) else chunk.count("\r\n")
        if traced or chunks % 16 == 0:
            rss_peak = max(rss_peak, rss_bytes())
    r.close()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"seconds": wall, "cpu_seconds": cpu, "rows": lines - 1, "mb": size / 1e6, "chunks": chunks,
           "rss_growth_mb": (rss_peak - rss0) / 1e6}
    if traced:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["traced_peak_mb"] = peak / 1e6
    return out


def measure_export(client, runs: int) -> dict:
    timed = [export_once(client, traced=False) for _ in range(runs)]
    best = min(timed, key=lambda x: x["seconds"])
    traced = export_once(client, traced=True)
    assert best["rows"] == traced["rows"]
    return {**best, "traced_peak_mb": traced["traced_peak_mb"], "rss_growth_mb": max(x["rss_growth_mb"] for x in timed)}


def bench_list(app, client, requests: int) -> tuple[dict, str]:
    """GET /?stage=S&page=K for random stages and pages: server time percentiles, and the plans."""
    from concierge.models import ShopState
    from concierge.operations.shop_state import consultants_query, sort_order, state_filters
    from sqlalchemy import func, select

    rnd = random.Random(SEED)
    stages = [s for s, _ in STAGES]
    urls = []
    for i in range(requests + 10):
        stage = stages[i % len(stages)]
        page = 1 if i % 3 == 0 else rnd.randint(2, 20)
        urls.append(f"/?stage={stage}" + (f"&page={page}" if page > 1 else ""))
    times = []
    for i, url in enumerate(urls):
        t0 = time.perf_counter()
        r = client.get(url)
        took = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200 and b"shops" in r.data, (url, r.status_code)
        if i >= 10:  # the first requests warm the templates, the pool and the caches
            times.append(took)
    db = app.extensions["concierge.db"]
    rare = min(STAGES, key=lambda s: s[1])[0]
    where = state_filters(stage=rare)
    queries = {
        "count": select(func.count()).select_from(ShopState).where(*where),
        "page": select(ShopState).where(*where).order_by(*sort_order("newest")).offset(50 * 9).limit(50),
        "consultants": consultants_query(),
    }
    plans = []
    with db.engine.connect() as c:
        for name, q in queries.items():
            sql = str(q.compile(c, compile_kwargs={"literal_binds": True}))
            plan = "\n".join(r[0] for r in c.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
            plans.append(f"-- {name}: {sql}\n{plan}")
    return {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95), "p99_ms": pct(times, 99), "n": len(times)}, \
        "\n\n".join(plans)


# --------------------------------------------------------------------------- backends

def run_backend(kind: str, args) -> tuple[list[tuple[str, str]], list[dict], str | None]:
    from concierge.db import Database
    from concierge.migrate import upgrade

    tmp = tempfile.TemporaryDirectory()
    schema = Schema("export", migrate=False) if kind == "postgresql" else None
    url = schema.url if schema else f"sqlite:///{tmp.name}/export.sqlite"
    label = "PostgreSQL" if schema else "SQLite"
    out_rows: list[tuple[str, str]] = []
    results: list[dict] = []
    plans = None
    try:
        upgrade(url)
        db = Database(url)
        log(f"{label}: {args.small:,} shops")
        fill_s = fill(db, 0, args.small)
        app, client = app_for(url, tmp.name)
        small = measure_export(client, args.runs)
        assert small["rows"] == args.small, small
        log(f"{label}: export {args.small:,}: {small['seconds']:.2f} s; filling up to {args.shops:,}")
        fill_s += fill(db, args.small, args.shops)
        big = measure_export(client, args.runs)
        assert big["rows"] == args.shops, big
        log(f"{label}: export {args.shops:,}: {big['seconds']:.2f} s, traced peak {big['traced_peak_mb']:.1f} MB")
        for n, m in ((args.small, small), (args.shops, big)):
            out_rows.append((f"{label}: export {n:,} shops",
                             f"{m['seconds']:.2f} s (CPU {m['cpu_seconds']:.2f} s), {m['mb']:.1f} MB of CSV in "
                             f"{m['chunks']} chunks; Python peak {m['traced_peak_mb']:.2f} MB, RSS growth "
                             f"{m['rss_growth_mb']:.1f} MB"))
        flat = big["traced_peak_mb"] <= 2 * small["traced_peak_mb"] + 1
        results.append({"bench": f"export: {args.shops // 1000}k shops CSV ({label})", "shops": args.shops,
                        "seconds": round(big["seconds"], 2), "cpu_seconds": round(big["cpu_seconds"], 2),
                        "csv_mb": round(big["mb"], 1), "peak_mb": round(big["traced_peak_mb"], 2),
                        f"peak_mb_{args.small // 1000}k": round(small["traced_peak_mb"], 2),
                        "rss_growth_mb": round(big["rss_growth_mb"], 1),
                        f"rss_growth_mb_{args.small // 1000}k": round(small["rss_growth_mb"], 1),
                        "target_s": EXPORT_TARGET_S, "flat": flat,
                        "ok": big["seconds"] <= EXPORT_TARGET_S and flat})
        if schema is not None and args.requests:
            lst, plans = bench_list(app, client, args.requests)
            out_rows.append((f"{label}: list by stage {args.shops:,}",
                             f"{lst['n']} pages: p50 {lst['p50_ms']:.1f} ms, p95 {lst['p95_ms']:.1f} ms, "
                             f"p99 {lst['p99_ms']:.1f} ms (target p95 <= {LIST_TARGET_MS} ms)"))
            results.append({"bench": f"shop list by stage {args.shops // 1000}k (PostgreSQL)", "shops": args.shops,
                            "pages": lst["n"], "p50_ms": round(lst["p50_ms"], 1), "p95_ms": round(lst["p95_ms"], 1),
                            "p99_ms": round(lst["p99_ms"], 1), "target_ms": LIST_TARGET_MS,
                            "ok": lst["p95_ms"] <= LIST_TARGET_MS})
        out_rows.append((f"{label}: population", f"{args.shops:,} shops and shop_state rows inserted in {fill_s:.0f} s"))
        app.extensions["concierge.db"].dispose()
        db.dispose()
    finally:
        if schema is not None:
            if args.keep:
                log(f"kept schema {schema.name}")
            else:
                schema.drop()
        tmp.cleanup()
    return out_rows, results, plans


def main() -> int:
    ap = arg_parser(__doc__, shops=100_000, small=10_000, requests=200,
                    runs=(3, "timed exports per size (the best is reported)"), only=("postgresql", "sqlite"),
                    keep="keep the PostgreSQL schema; drop it by hand")
    args = ap.parse_args()
    started = time.perf_counter()
    table: list[tuple[str, str]] = []
    results: list[dict] = []
    plans = None
    for kind in ("postgresql", "sqlite"):
        if args.only in (None, kind):
            r, res, p = run_backend(kind, args)
            table += r
            results += res
            plans = plans or p
    print_report("export and list (in-process Flask test client)", table, started,
                 [("The list's queries for the rarest stage, EXPLAIN (ANALYZE, BUFFERS):", plans)] if plans else [],
                 results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
