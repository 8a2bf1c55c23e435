"""Benchmark the consultant's workday on PostgreSQL: claiming the next call, and the call screen.

Targets (issue "workday"): a claim p95 <= 20 ms on PostgreSQL with 100k queued calls; the
call screen <= 100 ms server time p95 with 100k shops on PostgreSQL.

Everything runs in a throw-away schema of the database named by CONCIERGE_BENCH_POSTGRES_URL
(default: the local server's `test`, as the tests use), created by the migrations and
dropped at the end. `now` is fixed to Tuesday 2026-11-17 09:30 UTC (10:30 in Warsaw, 12:30
in Istanbul, 15:00 in India): every market may be called.

1. The claim. 100,000 shops (PL/TR/IN) and 100,000 planned calls, bulk-inserted: 80 % due,
   20 % not yet due, ranks spread (about 1 % callbacks ranked >= 1,000,000), languages
   pl/tr/en/hi, purposes service/commercial, one open call per shop and reason; 20
   consultants, some with call languages. Measured: N sequential claims (each its own
   session and commit, a random consultant, a high max_open; the time of claim_next and
   the commit, wall and CPU of this process, and CPU of the PostgreSQL backend that ran
   them), then 8 threads claiming at once (p95 and claims/s). No call may be claimed twice
   (asserted). The claim statement's EXPLAIN ANALYZE is printed (stderr and stdout).
2. The call screen (`GET /calls/<id>`, or the shop page when there is no call screen yet).
   BASE demo shops loaded through the normal loader, the audit planner run once, then
   everything cloned with INSERT ... SELECT up to 100k shops (shops, observations, the call
   log and its ratings, planned calls, planner state, the shop_state read model, the demo
   truth, two scores per open trial). A
   consultant logs in through the Flask test client, claims calls (POST /calls/next) and
   opens the call screen of 200 different calls: the server time around client.get (the
   app runs in-process: no network).

Progress goes to stderr. Prints a table and JSON lines (a "bench" key each).
Usage: python benchmarks/bench_workday.py [--shops N] [--claims N] [--threads N] [--base N] [--screens N]
                                          [--only claim|screen] [--keep]
"""
from __future__ import annotations

import random
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import event, func, insert, select, text  # noqa: E402

from _common import Schema, arg_parser, backend_cpu, make_log, pct, print_report, weighted as _weighted  # noqa: E402
from concierge.db import Database  # noqa: E402
from concierge.models import PlannedCall, Shop, User  # noqa: E402

UTC = timezone.utc
NOW = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)  # Tuesday: 10:30 Warsaw, 12:30 Istanbul, 15:00 India
# the same morning, 08:30 in Warsaw: Turkey and India may be called, Poland not yet; a consultant who
# speaks only Polish has nothing to take, and the claim reads the whole queue to find that out
NOTHING_AT = datetime(2026, 11, 17, 7, 30, tzinfo=UTC)
TODAY = NOW.date()
PLAN_AT = datetime(2026, 11, 17, 0, 0, tzinfo=UTC)  # the demo population ends here; the planner runs here
SEED = 7
CLAIM_TARGET_MS = 20
SCREEN_TARGET_MS = 100
PASSWORD = "correct horse battery"
MARKETS = (("PL", 0.40), ("TR", 0.35), ("IN", 0.25))
LANGS = {"PL": (("pl", 0.9), ("en", 0.1)), "TR": (("tr", 0.9), ("en", 0.1)), "IN": (("en", 0.6), ("hi", 0.4))}
REASONS = ("stage_stalled", "payments_missing", "shipping_missing", "score_drop", "trial_ending",
           "inactive", "theme_unpublished", "first_order_missing")
CONSULTANT_LANGS = ("pl", "pl", "pl,en", "tr", "tr", "tr,en", "en,hi", "hi", "en", "en,hi",
                    None, None, None, None, "pl", "tr", "en,hi", None, "pl,tr", None)

log = make_log("bench_workday")

# --------------------------------------------------------------------------- 1. the claim

def build_queue(db: Database, n_shops: int, n_calls: int) -> dict:
    """n_shops shops and n_calls planned calls, bulk-inserted; 20 consultants."""
    rnd = random.Random(SEED)
    shops = []
    for i in range(n_shops):
        market = _weighted(rnd, MARKETS)
        started = NOW - timedelta(days=rnd.uniform(0, 28))
        shops.append({"id": i + 1, "platform_id": f"{market.lower()}-w{i:06d}", "market": market,
                      "name": f"Shop {i}", "created_at": started, "trial_started_at": started,
                      "trial_ends_at": started + timedelta(days=30), "holdout": False})
    with db.engine.begin() as c:
        for i in range(0, len(shops), 10_000):
            c.execute(insert(Shop), shops[i:i + 10_000])
        c.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('shop', 'id'), {n_shops})")
    log(f"{n_shops:,} shops inserted")
    # one open call per shop and reason: shops get one call, some two or three (distinct reasons)
    calls, due, callbacks = [], 0, 0
    per_shop = [1] * n_shops
    extra = n_calls - n_shops
    while extra > 0:
        k = rnd.randrange(n_shops)
        if per_shop[k] < 3:
            per_shop[k] += 1
            extra -= 1
    if extra < 0:
        per_shop = [1] * n_calls + [0] * (n_shops - n_calls)
    for idx, count in enumerate(per_shop):
        shop = shops[idx]
        for reason in rnd.sample(REASONS, count):
            callback = rnd.random() < 0.01
            kind = "callback" if callback else ("followup" if rnd.random() < 0.4 else "audit")
            if callback:
                reason = "callback"
                rank = 1_000_000 + rnd.uniform(0, 1000)
                callbacks += 1
            else:
                rank = round(rnd.lognormvariate(-3.0, 1.0), 6)  # expected gain per consultant-minute
            if rnd.random() < 0.8:
                scheduled = NOW - timedelta(minutes=rnd.uniform(1, 3 * 24 * 60))
                due += 1
            else:
                scheduled = NOW + timedelta(minutes=rnd.uniform(10, 3 * 24 * 60))
            due_from = scheduled - timedelta(hours=rnd.uniform(0, 24))
            calls.append({
                "shop_id": shop["id"], "kind": kind, "reason": reason, "rule": reason, "rules_version": 1,
                "occurrence": f"{reason}:{shop['trial_started_at'].date().isoformat()}", "trigger": reason,
                "purpose": "commercial" if rnd.random() < 0.3 else "service", "status": "planned",
                "open_key": f"{kind}:{reason}", "due_from": due_from, "due_until": scheduled + timedelta(days=2),
                "scheduled_at": scheduled, "preference_met": True,
                "params": {"stage": rnd.choice(("setup", "catalog", "payments", "launch"))},
                "agenda": [{"step": r, "why": f"{r} not done"} for r in rnd.sample(REASONS, 2)],
                "gain": rank if not callback else None, "holdout": False, "rank": rank,
                "language": _weighted(rnd, LANGS[shop["market"]]), "created_by": "planner",
                "created_at": NOW - timedelta(days=1), "updated_at": NOW - timedelta(days=1)})
    with db.engine.begin() as c:
        for i in range(0, len(calls), 10_000):
            c.execute(insert(PlannedCall), calls[i:i + 10_000])
        users = [{"email": f"consultant{i:02d}@example.com", "name": f"Consultant {i}", "password_hash": "x",
                  "role": "consultant", "call_languages": langs, "active": True, "created_at": NOW}
                 for i, langs in enumerate(CONSULTANT_LANGS)]
        c.execute(insert(User), users)
        c.exec_driver_sql("ANALYZE")
    log(f"{len(calls):,} planned calls inserted ({due:,} due, {callbacks:,} callbacks); analyzed")
    return {"shops": n_shops, "calls": len(calls), "due": due, "callbacks": callbacks}


def _one_claim(db: Database, user_id: int, now: datetime = NOW) -> tuple[int | None, float, float]:
    from concierge.operations.workday import claim_next

    with db.session() as s:
        user = s.get(User, user_id)  # the request's login loads the consultant
        t0, c0 = time.perf_counter(), time.process_time()
        call = claim_next(s, user, now=now, max_open=1_000_000)
        got = call.id if call is not None else None
        s.commit()
        return got, time.perf_counter() - t0, time.process_time() - c0


def sequential_claims(db: Database, users: list[int], n: int) -> dict:
    rnd = random.Random(SEED + 1)
    ids, wall, cpu = [], [], []
    for _ in range(10):  # warm the pool, the statement caches, the buffers
        got, _w, _c = _one_claim(db, rnd.choice(users))
        ids.append(got)
    with db.engine.connect() as c:
        server0 = backend_cpu(c)
    statement_ms: list[float] = []  # the claim's UPDATE ... RETURNING alone, as the driver sees it

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE planned_call"):
            statement_ms.append((time.perf_counter() - conn.info["bench_t0"]) * 1000)

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    t0 = time.perf_counter()
    for i in range(n):
        got, w, c_ = _one_claim(db, rnd.choice(users))
        ids.append(got)
        wall.append(w * 1000)
        cpu.append(c_ * 1000)
        if (i + 1) % 250 == 0:
            log(f"   {i + 1:,} claims, p95 so far {pct(wall, 95):.2f} ms")
    elapsed = time.perf_counter() - t0
    event.remove(db.engine, "before_cursor_execute", before)
    event.remove(db.engine, "after_cursor_execute", after)
    with db.engine.connect() as c:  # the pool (one connection, sequential) gives back the same backend
        server1 = backend_cpu(c)
    server_ms = (server1 - server0) * 1000 / n if server0 is not None and server1 is not None else None
    return {"ids": ids, "n": n, "p50_ms": pct(wall, 50), "p95_ms": pct(wall, 95), "p99_ms": pct(wall, 99),
            "max_ms": max(wall), "cpu_p50_ms": pct(cpu, 50), "cpu_p95_ms": pct(cpu, 95),
            "cpu_mean_ms": statistics.fmean(cpu), "server_cpu_mean_ms": server_ms, "claims_per_s": n / elapsed,
            "none": sum(1 for x in ids if x is None),
            "statement_p50_ms": pct(statement_ms, 50), "statement_p95_ms": pct(statement_ms, 95)}


def concurrent_claims(db: Database, users: list[int], threads: int, per_thread: int) -> dict:
    lock = threading.Lock()
    ids: list[int | None] = []
    wall: list[float] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def worker(k: int) -> None:
        rnd = random.Random(SEED + 100 + k)
        mine_ids, mine_wall = [], []
        try:
            start.wait(timeout=60)
            for _ in range(per_thread):
                got, w, _c = _one_claim(db, rnd.choice(users))
                mine_ids.append(got)
                mine_wall.append(w * 1000)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        with lock:
            ids.extend(mine_ids)
            wall.extend(mine_wall)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    c0 = time.process_time()
    start.wait(timeout=60)
    t0 = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    assert not errors, errors[:3]
    return {"ids": ids, "n": len(wall), "threads": threads, "p50_ms": pct(wall, 50), "p95_ms": pct(wall, 95),
            "p99_ms": pct(wall, 99), "claims_per_s": len(wall) / elapsed, "seconds": elapsed, "cpu_seconds": cpu,
            "none": sum(1 for x in ids if x is None)}


def explain_claim(db: Database, user_id: int, now: datetime = NOW) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the very UPDATE claim_next sends (captured), rolled back."""
    from concierge.operations.workday import claim_next

    captured: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE PLANNED_CALL"):
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        s = db.sessionmaker()
        try:
            claim_next(s, s.get(User, user_id), now=now, max_open=1_000_000)
        finally:
            s.rollback()
            s.close()
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    if not captured:
        return "(no claim statement: no market may be called at this moment)"
    statement, params = captured[0]
    with db.engine.connect() as c:
        plan = [r[0] for r in c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]
        c.rollback()
    return "\n".join([statement.strip(), ""] + plan)


def bench_claims(args) -> tuple[list[tuple[str, str]], list[dict], str]:
    schema = Schema("claim")
    try:
        db = Database(schema.url, pool_size=args.threads + 2)
        t0 = time.perf_counter()
        info = build_queue(db, args.shops, args.shops)
        build_s = time.perf_counter() - t0
        with db.session() as s:
            users = list(s.scalars(select(User.id).order_by(User.id)))
            pl_user = s.scalar(select(User.id).where(User.call_languages == "pl").limit(1))
        log(f"queue built in {build_s:.1f} s; EXPLAIN ANALYZE of a claim (a consultant speaking pl)")
        plan = explain_claim(db, pl_user)
        log("\n" + plan)
        log("nothing to take: a Polish-only consultant at 08:30 Warsaw (only Turkey and India open)")
        plan_nothing = explain_claim(db, pl_user, NOTHING_AT)
        log("\n" + plan_nothing)
        nothing = []
        for _ in range(20):
            got, w, _c = _one_claim(db, pl_user, NOTHING_AT)
            assert got is None, got
            nothing.append(w * 1000)
        log(f"   p50 {pct(nothing, 50):.1f} ms, p95 {pct(nothing, 95):.1f} ms")
        log(f"{args.claims:,} sequential claims")
        seq = sequential_claims(db, users, args.claims)
        log(f"   p50 {seq['p50_ms']:.2f} ms, p95 {seq['p95_ms']:.2f} ms, p99 {seq['p99_ms']:.2f} ms")
        per_thread = max(1, args.claims // args.threads)
        log(f"{args.threads} threads x {per_thread} claims at once")
        conc = concurrent_claims(db, users, args.threads, per_thread)
        log(f"   p95 {conc['p95_ms']:.2f} ms, {conc['claims_per_s']:.0f} claims/s")
        got = [x for x in seq["ids"] + conc["ids"] if x is not None]
        assert len(got) == len(set(got)), "a call was claimed twice"
        with db.session() as s:
            claimed = s.scalar(select(func.count()).select_from(PlannedCall).where(PlannedCall.status == "claimed"))
            tokens = set(s.scalars(select(PlannedCall.token).where(PlannedCall.status == "claimed").distinct()))
        assert claimed == len(got), (claimed, len(got))
        assert tokens == {1}, tokens
        log(f"   {len(got):,} claims, every call claimed once ({claimed:,} claimed rows, tokens {sorted(tokens)})")
        log("EXPLAIN ANALYZE again, after the claims (the queue's head is now claimed rows)")
        plan_after = explain_claim(db, pl_user)
        log("\n" + plan_after)
        db.dispose()
    finally:
        if not args.keep:
            schema.drop()
        else:
            log(f"kept schema {schema.name}")
    rows = [("claim: queue", f"{info['shops']:,} shops, {info['calls']:,} planned calls ({info['due']:,} due, "
                             f"{info['callbacks']:,} callbacks), 20 consultants; built in {build_s:.1f} s"),
            (f"claim: {seq['n']:,} sequential", f"p50 {seq['p50_ms']:.2f} ms, p95 {seq['p95_ms']:.2f} ms, "
                                                f"p99 {seq['p99_ms']:.2f} ms, max {seq['max_ms']:.1f} ms "
                                                f"(target p95 <= {CLAIM_TARGET_MS} ms)"),
            ("   the UPDATE alone", f"p50 {seq['statement_p50_ms']:.2f} ms, p95 {seq['statement_p95_ms']:.2f} ms "
                                   "(the rest: 5 other statements, the commit, SQLAlchemy)"),
            ("   CPU per claim", f"this process p50 {seq['cpu_p50_ms']:.2f} ms, p95 {seq['cpu_p95_ms']:.2f} ms; "
                                 + (f"PostgreSQL backend mean {seq['server_cpu_mean_ms']:.2f} ms"
                                    if seq["server_cpu_mean_ms"] is not None else "backend CPU n/a")),
            (f"claim: {conc['threads']} threads", f"{conc['n']:,} claims, p50 {conc['p50_ms']:.2f} ms, "
                                                  f"p95 {conc['p95_ms']:.2f} ms, p99 {conc['p99_ms']:.2f} ms, "
                                                  f"{conc['claims_per_s']:.0f} claims/s "
                                                  f"(CPU {conc['cpu_seconds']:.1f} s in {conc['seconds']:.1f} s)"),
            ("claim: nothing to take", f"p50 {pct(nothing, 50):.1f} ms, p95 {pct(nothing, 95):.1f} ms (20 claims by a "
                                       "Polish-only consultant at 08:30 Warsaw, Turkey and India open: the whole "
                                       "queue is read)"),
            ("   exactly once", f"{len(got):,} calls claimed, none twice; no call found: "
                                f"{seq['none'] + conc['none']}")]
    results = [
        {"bench": "workday: claim sequential", "queued": info["calls"], "due": info["due"], "claims": seq["n"],
         "p50_ms": round(seq["p50_ms"], 2), "p95_ms": round(seq["p95_ms"], 2), "p99_ms": round(seq["p99_ms"], 2),
         "update_p50_ms": round(seq["statement_p50_ms"], 2), "update_p95_ms": round(seq["statement_p95_ms"], 2),
         "cpu_p50_ms": round(seq["cpu_p50_ms"], 2), "cpu_p95_ms": round(seq["cpu_p95_ms"], 2),
         "server_cpu_mean_ms": round(seq["server_cpu_mean_ms"], 2) if seq["server_cpu_mean_ms"] is not None else None,
         "target_ms": CLAIM_TARGET_MS, "ok": seq["p95_ms"] <= CLAIM_TARGET_MS},
        {"bench": "workday: claim 8 threads" if conc["threads"] == 8 else f"workday: claim {conc['threads']} threads",
         "claims": conc["n"], "p50_ms": round(conc["p50_ms"], 2), "p95_ms": round(conc["p95_ms"], 2),
         "p99_ms": round(conc["p99_ms"], 2), "claims_per_s": round(conc["claims_per_s"]),
         "cpu_seconds": round(conc["cpu_seconds"], 2), "seconds": round(conc["seconds"], 2),
         "claimed_twice": 0},
        {"bench": "workday: claim, nothing to take", "queued": info["calls"], "claims": len(nothing),
         "p50_ms": round(pct(nothing, 50), 1), "p95_ms": round(pct(nothing, 95), 1),
         "case": "pl-only consultant, PL closed, TR+IN open"},
    ]
    return rows, results, (plan + "\n\n-- after the claims (their rows now lead the queue):\n" + plan_after
                           + "\n\n-- nothing to take (Polish-only consultant, 07:30 UTC):\n" + plan_nothing)



# --------------------------------------------------------------------------- 2. the call screen

def _cols(table: str) -> list[str]:
    from concierge.db import Base

    return [c.name for c in Base.metadata.tables[table].columns]


def _copy(c, table: str, over: dict[str, str], where: str, skip: tuple[str, ...] = (), order: str = "") -> int:
    """INSERT INTO table SELECT (every column, some replaced by an expression) FROM table WHERE ... [ORDER BY]"""
    cols = [x for x in _cols(table) if x not in skip]
    exprs = [over.get(x, f'"{x}"') for x in cols]
    names = ", ".join(f'"{x}"' for x in cols)
    return c.exec_driver_sql(f'INSERT INTO "{table}" ({names}) SELECT {", ".join(exprs)} FROM "{table}" '
                             f"WHERE {where}" + (f" ORDER BY {order}" if order else "")).rowcount


def add_scores(db: Database, *, model_created_at: datetime = PLAN_AT) -> int:
    """Two scores per open trial (yesterday and today), with reasons and a path, as the scorer stores them,
    by a new active model version "bench-workday" stored at `model_created_at`."""
    from concierge.models import ModelVersion, Score

    rnd = random.Random(SEED)
    with db.session() as s:
        mv = ModelVersion(version="bench-workday", kind="boosting", created_at=model_created_at, active=True,
                          trained_rows=0, artifact=b"", card={})
        s.add(mv)
        s.flush()
        rows = s.execute(text("SELECT s.id, t.p_no_call, t.p_call FROM shop s JOIN demo_truth t ON t.shop_id = s.id"
                              " WHERE s.outcome IS NULL ORDER BY s.id")).all()
        values = []
        for shop_id, p0, p1 in rows:
            p = min(0.99, max(0.01, p0 + rnd.gauss(0, 0.03)))
            steps = rnd.sample(["payments_connected", "shipping_connected", "products_added", "theme_published",
                                "domain_connected", "test_order_placed"], 3)
            path = [{"action": f"readiness.{a}", "probability": round(min(0.99, p + 0.04 * (3 - i)), 4),
                     "gain": round(0.04 * (3 - i), 4), "text": f"{a.replace('_', ' ')}: {p:.0%} -> "
                                                               f"{min(0.99, p + 0.04 * (3 - i)):.0%}"}
                    for i, a in enumerate(steps)]
            reasons = {"up": [{"feature": "sessions_7d", "text": "Visitors came back this week"}],
                       "down": [{"feature": "payments", "text": "No payment method connected yet"},
                                {"feature": "products", "text": "Few products added"}]}
            for when, prob in ((PLAN_AT - timedelta(days=1), min(0.99, p + rnd.gauss(0, 0.05))), (PLAN_AT, p)):
                values.append({"shop_id": shop_id, "model_version_id": mv.id, "scored_at": when,
                               "probability": max(0.01, prob), "uplift": p1 - p0,
                               "details": {"reasons": reasons, "path": path, "lang": "en", "snapshot_at": None}})
        for i in range(0, len(values), 5000):
            s.execute(insert(Score), values[i:i + 5000])
    return len(values)


def clone(db: Database, total: int) -> dict:
    """Copy the loaded shops with everything the call screen and the queue read, until there are `total`.

    Clone k: ids shifted by k x the largest id, platform ids suffixed "-c<k>", moments unchanged
    (the planned calls stay due); a non-callback call's rank is drawn again (x 0.5-1.5: another
    shop, another gain), so the queue's head is not twenty copies of one call. The `shop_state`
    read model is copied too (its search key gains the same suffix), and the call ratings with
    their calls. Foreign-key triggers are off while copying (session_replication_role; the
    copies point at rows just copied), then everything is analysed.
    """
    with db.engine.begin() as c:
        c.exec_driver_sql("SET LOCAL session_replication_role = replica")
        base = c.exec_driver_sql("SELECT max(id) FROM shop").scalar_one()
        assert c.exec_driver_sql("SELECT min(id) FROM shop").scalar_one() >= 1
        n_base = c.exec_driver_sql("SELECT count(*) FROM shop").scalar_one()
        pc_base = c.exec_driver_sql("SELECT coalesce(max(id), 0) FROM planned_call").scalar_one()
        call_base = c.exec_driver_sql("SELECT coalesce(max(id), 0) FROM call").scalar_one()
        k, have = 0, n_base
        while have < total:
            k += 1
            take = min(n_base, total - have)
            off, pc_off, call_off = k * base, k * pc_base, k * call_base
            last = c.exec_driver_sql(f"SELECT id FROM shop WHERE id <= {base} ORDER BY id "
                                     f"LIMIT 1 OFFSET {take - 1}").scalar_one()
            mine = f"shop_id <= {last}"
            _copy(c, "shop", {"id": f"id + {off}", "platform_id": f"platform_id || '-c{k}'"},
                  f"id <= {last}")
            _copy(c, "observation", {"shop_id": f"shop_id + {off}", "submission_id": "NULL", "event_id": "NULL"},
                  mine, skip=("id",), order="id")
            _copy(c, "call", {"id": f"id + {call_off}", "shop_id": f"shop_id + {off}", "submission_id": "NULL",
                              "planned_call_id": f"planned_call_id + {pc_off}"}, f"{mine} AND id <= {call_base}",
                  order="id")
            _copy(c, "call_rating", {"call_id": f"call_id + {call_off}", "shop_id": f"shop_id + {off}"},
                  f"{mine} AND call_id <= {call_base}", skip=("id",), order="id")
            _copy(c, "shop_state", {"shop_id": f"shop_id + {off}", "platform_id": f"platform_id || '-c{k}'",
                                    "search_key": f"search_key || '-c{k}'"}, mine)
            _copy(c, "demo_truth", {"shop_id": f"shop_id + {off}"}, mine)
            _copy(c, "score", {"shop_id": f"shop_id + {off}"}, mine, skip=("id",))
            _copy(c, "audit_state", {"shop_id": f"shop_id + {off}"}, mine)
            _copy(c, "planned_call", {"id": f"id + {pc_off}", "shop_id": f"shop_id + {off}",
                                      "rank": "CASE WHEN rank >= 1000000 THEN rank ELSE rank * (0.5 + random()) END"},
                  f"{mine} AND id <= {pc_base}")
            _copy(c, "planned_call_event", {"call_id": f"call_id + {pc_off}"},
                  f"call_id IN (SELECT id FROM planned_call WHERE {mine} AND id <= {pc_base})", skip=("id",))
            have += take
            log(f"   clone {k}: {have:,} shops")
        for table, col in (("shop", "id"), ("planned_call", "id"), ("call", "id")):
            c.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', '{col}'), "
                              f"(SELECT max({col}) FROM {table}))")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("ANALYZE")
        counts = {t: c.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar_one()
                  for t in ("shop", "observation", "call", "score", "planned_call", "audit_state", "shop_state",
                            "call_rating")}
    return {"base_max": base, **counts}


def prepare_screen(db: Database, shops: int, base: int, *, model_created_at: datetime = PLAN_AT,
                   before_clone=None) -> dict:
    """BASE demo shops through the loader, the planner once, scores (`add_scores`), then
    `before_clone(db) -> dict` if given (more history for the loaded shops, merged into the
    result), then the clone up to `shops` shops."""
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population, plan_demo_calls

    t0 = time.perf_counter()
    pop = generate(base, seed=SEED, today=TODAY)
    with db.session() as s:
        load_population(s, pop, now=PLAN_AT)
    load_s = time.perf_counter() - t0
    log(f"   {base:,} demo shops loaded in {load_s:.1f} s; the planner (callbacks asked for, then plan_calls)")
    t0 = time.perf_counter()
    with db.session() as s:
        planned = plan_demo_calls(s, pop, today=TODAY, seed=SEED, now=PLAN_AT)
    plan_s = time.perf_counter() - t0
    scores = add_scores(db, model_created_at=model_created_at)
    log(f"   planned in {plan_s:.1f} s: {planned}; {scores:,} scores")
    extra = before_clone(db) if before_clone is not None else {}
    log(f"   cloning to {shops:,} shops")
    t0 = time.perf_counter()
    counts = clone(db, shops)
    clone_s = time.perf_counter() - t0
    log(f"   cloned in {clone_s:.1f} s: {counts}")
    return {"load_s": load_s, "plan_s": plan_s, "clone_s": clone_s, "planned": planned, **extra, **counts}


def sample_due_calls(db: Database, n: int, base_max: int) -> list[int]:
    """n due calls at random, each of a different loaded shop (clones share their original's history),
    moved to the head of the queue (rank 2,000,000+; rank is not shown on the call screen), so the
    consultant's POST /calls/next claims exactly these: the call screens measured are a sample of
    the whole queue, not only its head (about 500 cloned callbacks, copies of some 25 shops)."""
    with db.engine.begin() as c:
        ids = list(c.execute(text(
            "SELECT id FROM (SELECT DISTINCT ON ((shop_id - 1) % :b) id, random() AS r FROM planned_call"
            " WHERE status = 'planned' AND scheduled_at <= :now AND due_from <= :now"
            " ORDER BY (shop_id - 1) % :b, random()) x ORDER BY r LIMIT :n"),
            {"b": base_max, "now": NOW, "n": n}).scalars())
        c.execute(text("UPDATE planned_call SET rank = 2000000 + :i WHERE id = :id"),
                  [{"i": len(ids) - i, "id": cid} for i, cid in enumerate(ids)])
        kinds = dict(c.execute(text("SELECT kind, count(*) FROM planned_call WHERE id = ANY(:ids) GROUP BY kind"),
                               {"ids": ids}).tuples().all())
    log(f"   the sample: {kinds}")
    return ids


def _csrf(html: str) -> str | None:
    """The login form's CSRF token, when the form has one (WTF_CSRF_ENABLED is off here)."""
    import re

    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    return m.group(1) if m else None


def bench_screen(args) -> tuple[list[tuple[str, str]], list[dict]]:
    import tempfile

    from concierge import create_app
    from concierge.operations.users import create_user

    schema = Schema("screen")
    tmp = tempfile.TemporaryDirectory()
    try:
        db = Database(schema.url)
        log(f"call screen: {args.base:,} demo shops through the loader")
        info = prepare_screen(db, args.shops, args.base)
        with db.session() as s:
            create_user(s, "screen@example.com", password=PASSWORD, role="consultant", name="Screen")
        db.dispose()
        app = create_app({"DATABASE_URL": schema.url, "SECRET_KEY": "bench-workday", "TESTING": True,
                          "WTF_CSRF_ENABLED": False, "CLOCK": lambda: NOW, "INSTANCE_PATH": tmp.name,
                          # one consultant opens many calls here; a request still claims one at a time
                          "MAX_OPEN_CLAIMS": 1_000_000})
        rules = {r.rule for r in app.url_map.iter_rules()}
        has_screen = "/calls/<int:call_id>" in rules
        client = app.test_client()
        token = _csrf(client.get("/login").get_data(as_text=True))
        r = client.post("/login", data={"email": "screen@example.com", "password": PASSWORD,
                                        **({"csrf_token": token} if token else {})})
        assert r.status_code in (302, 303), r.status_code
        app_db = app.extensions["concierge.db"]
        n = args.screens + 5  # 5 to warm up (templates, the schema, the pool)
        import concierge.scoring.reasons  # noqa: F401  (a running server imported it at its first scored shop: 0.15 s)
        pages: list[str] = []
        claim_ms: list[float] = []
        if has_screen:
            sample = sample_due_calls(app_db, n, info["base_max"])
            log(f"   {n} claims (POST /calls/next: {len(sample)} due calls of different loaded shops, drawn at "
                f"random and moved to the queue's head), then GET /calls/<id> for each")
            for _ in range(n):
                t0 = time.perf_counter()
                r = client.post("/calls/next")
                claim_ms.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 303 and "/calls/" in r.location, (r.status_code, r.location)
                pages.append(r.location)
            assert sorted(int(u.rsplit("/", 1)[1]) for u in pages) == sorted(sample), "claimed other calls"
        else:
            log("   NO call screen (GET /calls/<id>) in this app: measuring the shop page GET /shops/<id> instead")
            with app_db.session() as s:
                ids = list(s.scalars(select(PlannedCall.shop_id).where(PlannedCall.status == "planned")
                                     .order_by(PlannedCall.rank.desc()).limit(n * 3)))
                pids = dict(s.execute(select(Shop.id, Shop.platform_id).where(Shop.id.in_(ids))).tuples().all())
            seen = list(dict.fromkeys(ids))[:n]
            pages = [f"/shops/{pids[i]}" for i in seen]
        assert len(set(pages)) == len(pages), "the same page twice"
        wall, cpu, sizes, obs_counts = [], [], [], []
        with app_db.engine.connect() as c:
            server0 = backend_cpu(c)
        for i, url in enumerate(pages):
            t0, c0 = time.perf_counter(), time.process_time()
            r = client.get(url)
            w, cp = time.perf_counter() - t0, time.process_time() - c0
            assert r.status_code == 200, (url, r.status_code)
            if i >= 5:
                wall.append(w * 1000)
                cpu.append(cp * 1000)
                sizes.append(len(r.data))
        with app_db.engine.connect() as c:
            server1 = backend_cpu(c)
        # one request at a time: the app's pool hands every request the same connection
        server_ms = (server1 - server0) * 1000 / len(pages) if server0 is not None and server1 is not None else None
        with app_db.session() as s:
            shop_ids = s.execute(text("SELECT shop_id FROM planned_call WHERE status = 'claimed'")).scalars().all()
            if shop_ids:
                obs_counts = list(s.execute(text("SELECT count(*) FROM observation WHERE shop_id = ANY(:ids) "
                                                 "GROUP BY shop_id"), {"ids": list(shop_ids)}).scalars())
            distinct_base = len({(sid - 1) % info["base_max"] for sid in shop_ids})
        app_db.dispose()
        log(f"   p50 {pct(wall, 50):.1f} ms, p95 {pct(wall, 95):.1f} ms")
    finally:
        if not args.keep:
            schema.drop()
        else:
            log(f"kept schema {schema.name}")
        tmp.cleanup()
    what = "GET /calls/<id>" if has_screen else "GET /shops/<id> (no call screen yet)"
    rows = [("screen: population", f"{info['shop']:,} shops ({args.base:,} loaded, planned, cloned), "
                                   f"{info['observation']:,} observations, {info['score']:,} scores, "
                                   f"{info['planned_call']:,} planned calls; load {info['load_s']:.0f} s, "
                                   f"plan {info['plan_s']:.0f} s, clone {info['clone_s']:.0f} s"),
            (f"screen: {what}", f"{len(wall)} pages: p50 {pct(wall, 50):.1f} ms, p95 {pct(wall, 95):.1f} ms, "
                                f"p99 {pct(wall, 99):.1f} ms (target p95 <= {SCREEN_TARGET_MS} ms)"),
            ("   CPU per page", f"app p50 {pct(cpu, 50):.1f} ms, p95 {pct(cpu, 95):.1f} ms; "
                               + (f"PostgreSQL backend mean {server_ms:.1f} ms" if server_ms is not None
                                  else "backend CPU n/a")),
            ("   the pages", f"{statistics.fmean(sizes) / 1024:.0f} KB of HTML on average"
                            + (f"; their shops have {min(obs_counts)}-{max(obs_counts)} observations "
                               f"(median {statistics.median(obs_counts):.0f}), from {distinct_base} loaded shops"
                               if obs_counts else ""))]
    if claim_ms:
        rows.append(("   POST /calls/next", f"p50 {pct(claim_ms[5:], 50):.1f} ms, p95 {pct(claim_ms[5:], 95):.1f} ms"))
    results = [{"bench": "workday: call screen 100k" if has_screen else "workday: shop page 100k (no call screen)",
                "shops": info["shop"], "pages": len(wall), "route": "/calls/<id>" if has_screen else "/shops/<id>",
                "p50_ms": round(pct(wall, 50), 1), "p95_ms": round(pct(wall, 95), 1), "p99_ms": round(pct(wall, 99), 1),
                "cpu_p50_ms": round(pct(cpu, 50), 1), "cpu_p95_ms": round(pct(cpu, 95), 1),
                "server_cpu_mean_ms": round(server_ms, 1) if server_ms is not None else None,
                "target_ms": SCREEN_TARGET_MS, "ok": pct(wall, 95) <= SCREEN_TARGET_MS}]
    if claim_ms:
        results[0]["web_claim_p95_ms"] = round(pct(claim_ms[5:], 95), 1)
    return rows, results


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = arg_parser(__doc__, shops=100_000, claims=1_000, threads=8,
                    base=(5_000, "demo shops loaded through the loader, then cloned"), screens=200,
                    only=("claim", "screen"), keep="keep the schemas (to look at them); drop them by hand")
    args = ap.parse_args()
    started = time.perf_counter()
    rows: list[tuple[str, str]] = []
    results: list[dict] = []
    plan = None
    if args.only in (None, "claim"):
        r, res, plan = bench_claims(args)
        rows += r
        results += res
    if args.only in (None, "screen"):
        r, res = bench_screen(args)
        rows += r
        results += res
    print_report("workday (PostgreSQL)", rows, started,
                 [("The claim, EXPLAIN (ANALYZE, BUFFERS):", plan)] if plan else [], results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
