"""Benchmark the manager's dashboard on PostgreSQL with 100k shops.

Target (issue 12): each dashboard page <= 300 ms server time p95 with 100k shops on
PostgreSQL. (The shop list filtered by stage and the 100k export have their own benchmark.)

The population is bench_workday's call-screen population, built by its functions: BASE demo
shops through the normal loader, the audit planner once, two scores per open trial, then
cloned with INSERT ... SELECT up to 100k shops in a throw-away schema of the database named
by CONCIERGE_BENCH_POSTGRES_URL (default: the local server's `test`). Before the clone, the
loaded shops get the history the reports read:

- the active model ("bench-workday") was stored 120 days before `now`, an older inactive one
  180 days before that; every closed trial has two scores (at 30 % of the way to its decision
  and just before it) by the model in force then, so model health judges the trials closed
  since training and the forecast has past months;
- a month of workday: 20 consultants (users, call languages as in bench_workday), and for
  the non-held-out shops whose trial ran in the last 44 days, done planned calls (audits,
  follow-ups, 5 % callbacks) with one or two attempts each (reached or not, handling time,
  the consultant as actor), a third of the reached ones rated (tNPS): at 100k shops about
  the team's capacity (20 x 40 calls a day);
- the `shop_state` read model rebuilt from that history (`rebuild_states`), so it carries
  the scores, consultants and holdout arms; the clone copies it (and `audit_state`, the
  ratings) with the shops; the benchmark checks every shop has its row;
- then (also on --reuse) the state a running system keeps: the first-contact verdicts of calls
  whose 7-day window ended recorded, as the daily `audits plan` does, and VACUUM ANALYZE of the
  schema's tables in place of autovacuum (off on this PostgreSQL).

`now` is fixed (bench_workday's Tuesday 2026-11-17 09:30 UTC). A manager logs in through the
Flask test client (the app runs in-process: no network) and asks, N times each after 2
warm-ups, for `GET /dashboard` and `GET /dashboard/<key>` for every key of
`operations.reports.REPORTS`, also with `?market=PL`, and cohorts with `?grain=week`: the
server time around client.get (p50/p95/max), and per request the time spent in SQL (as the
driver sees it) and the number of statements. Then `build_report` alone for the same
variants (SQL and arithmetic, no rendering). A page slower than --budget seconds for its N
requests gets fewer (at least 5, or 3 when far over). For every report over its target, its
statements are ranked by time, and the slowest one (and one of the costliest when that is a
statement sent many times) is shown with EXPLAIN (ANALYZE, BUFFERS).

Progress goes to stderr. Prints a table and JSON lines (a "bench" key each).
Usage: python benchmarks/bench_dashboard.py [--shops N] [--base N] [--requests N] [--budget S] [--keep]
                                            [--reuse SCHEMA] [--only PAGE ...]
"""
from __future__ import annotations

import argparse
import inspect
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sqlalchemy import event, insert, select, text  # noqa: E402

from bench_workday import (  # noqa: E402
    CONSULTANT_LANGS,
    NOW,
    PASSWORD,
    PLAN_AT,
    SEED,
    _csrf,
    prepare_screen,
)
from _common import PG_URL, Schema, backend_cpu, make_log, pct, print_report  # noqa: E402
from concierge.db import Database  # noqa: E402

PAGE_TARGET_MS = 300
MODEL_AT = PLAN_AT - timedelta(days=120)      # the active model was stored (trained) then
PREVIOUS_AT = MODEL_AT - timedelta(days=180)  # and the one before it
WORK_DAYS = 44        # shops whose trial started in the last 44 days were worked in the last month
CALL_SHARE = 0.60     # of those (call arm), the share with a done planned call
SECOND_CALL = 0.30    # ... and with a second one (another reason)
RETRY_SHARE = 0.35    # a planned call needed a second attempt
REACH = 0.65          # an attempt reached the merchant
RATED = 0.33          # a reached attempt was rated by the merchant
TRIGGERS = ("stage_stalled", "inactive", "disconnected", "trial_ending")
LANGUAGE = {"PL": ("pl",), "TR": ("tr",), "IN": ("en", "hi")}


log = make_log("bench_dashboard")


# --------------------------------------------------------------------------- the history

def _closed_scores(s, active_id: int, previous_id: int, rnd: random.Random) -> int:
    """Two scores per closed trial by the model in force at the time (before the decision)."""
    from concierge.models import Score

    rows = s.execute(text("SELECT s.id, s.trial_started_at, s.trial_ends_at, s.outcome_at, t.p_no_call, t.p_call,"
                          " t.called FROM shop s JOIN demo_truth t ON t.shop_id = s.id"
                          " WHERE s.outcome IS NOT NULL ORDER BY s.id")).all()
    values = []
    for sid, started, ends, out_at, p0, p1, called in rows:
        decision = min(x for x in (ends, out_at, NOW) if x is not None)
        p = p1 if called else p0
        span = max(decision - started, timedelta(hours=2))
        for when in (started + span * 0.3, decision - span * 0.05):
            prob = min(0.99, max(0.01, p + rnd.gauss(0, 0.05)))
            values.append({"shop_id": sid, "model_version_id": active_id if when >= MODEL_AT else previous_id,
                           "scored_at": when, "probability": prob, "uplift": p1 - p0,
                           "details": {"reasons": {"up": [], "down": [{"feature": "payments",
                                                                        "text": "No payment method connected yet"}]},
                                       "path": [], "lang": "en", "snapshot_at": None}})
    for i in range(0, len(values), 5000):
        s.execute(insert(Score), values[i:i + 5000])
    return len(values)


def _workday(s, rnd: random.Random) -> dict:
    """A month of the team's work on the loaded shops: done planned calls, attempts, ratings."""
    from concierge.models import Call, CallRating, PlannedCall, User

    users = [{"email": f"consultant{i:02d}@example.com", "name": f"Consultant {i}", "password_hash": "x",
              "role": "consultant", "call_languages": langs, "active": True, "created_at": MODEL_AT}
             for i, langs in enumerate(CONSULTANT_LANGS)]
    s.execute(insert(User), users)
    speakers = {code: [u["email"] for u in users if u["call_languages"] is None
                       or code in u["call_languages"].split(",")]
                for codes in LANGUAGE.values() for code in codes}
    shops = s.execute(text(
        "SELECT s.id, s.market, s.trial_started_at FROM shop s JOIN audit_state a ON a.shop_id = s.id"
        " WHERE NOT a.holdout AND s.trial_started_at >= :since AND s.trial_started_at < :until ORDER BY s.id"),
        {"since": NOW - timedelta(days=WORK_DAYS), "until": NOW - timedelta(days=1)}).all()
    planned, plans = [], []  # (row, [attempt rows])
    for sid, market, started in shops:
        if rnd.random() >= CALL_SHARE:
            continue
        count = 2 if rnd.random() < SECOND_CALL else 1
        for j, trigger in enumerate(rnd.sample(TRIGGERS, count)):
            created = max(started + timedelta(days=rnd.uniform(1, 10)), NOW - timedelta(days=30))
            created = min(created, NOW - timedelta(hours=3))
            callback = rnd.random() < 0.05
            kind = "callback" if callback else ("followup" if rnd.random() < 0.4 else "audit")
            lang = rnd.choice(LANGUAGE[market])
            actor = rnd.choice(speakers[lang])
            first = min(created + timedelta(minutes=rnd.uniform(20, 48 * 60)), NOW - timedelta(minutes=30))
            tries = [first]
            if rnd.random() < RETRY_SHARE:
                tries.append(min(first + timedelta(hours=rnd.uniform(2, 30)), NOW - timedelta(minutes=10)))
            reached = [rnd.random() < REACH for _ in tries]
            reason = "callback" if callback else trigger
            row = {"shop_id": sid, "kind": kind, "reason": reason, "rule": f"bench_{reason}", "rules_version": 1,
                   "occurrence": f"bench:{j}", "trigger": trigger, "purpose": "service", "status": "done",
                   "open_key": None, "due_from": created, "due_until": created + timedelta(days=3),
                   "scheduled_at": created, "preference_met": True,
                   "params": {"category": "payments"} if trigger == "disconnected" else {},
                   "agenda": [{"step": trigger, "why": f"{trigger} not done"}], "gain": 0.02, "holdout": False,
                   "rank": 1_000_000.0 if callback else 0.02, "language": lang, "owner_id": None,
                   "token": len(tries), "claimed_at": tries[-1] - timedelta(minutes=1), "attempts": len(tries),
                   "outcome": "reached" if reached[-1] else "no_answer", "first_attempt_at": first,
                   "requested_at": created if callback else None, "requested_via": "survey" if callback else None,
                   "created_by": "merchant" if callback else "planner", "created_at": created,
                   "updated_at": tries[-1], "closed_at": tries[-1]}
            attempts = [{"shop_id": sid, "actor": actor if k == 0 else rnd.choice(speakers[lang]),
                         "kind": "followup" if callback else kind, "called_at": at, "reached": ok,
                         "outcome": "reached" if ok else "no_answer",
                         "handling_seconds": int(rnd.uniform(240, 1200) if ok else rnd.uniform(30, 120))}
                        for k, (at, ok) in enumerate(zip(tries, reached))]
            plans.append(attempts)
            planned.append(row)
    ids = s.execute(insert(PlannedCall).returning(PlannedCall.id, sort_by_parameter_order=True), planned).scalars().all()
    calls = [{**a, "planned_call_id": pid} for pid, attempts in zip(ids, plans) for a in attempts]
    call_ids = s.execute(insert(Call).returning(Call.id, sort_by_parameter_order=True), calls).scalars().all()
    ratings = [{"call_id": cid, "shop_id": c["shop_id"], "score": rnd.choice((10, 10, 9, 9, 9, 8, 8, 7, 6, 3)),
                "comment": None, "language": "en", "created_at": c["called_at"] + timedelta(hours=1)}
               for cid, c in zip(call_ids, calls) if c["reached"] and rnd.random() < RATED
               and c["called_at"] + timedelta(hours=1) < NOW]
    if ratings:
        s.execute(insert(CallRating), ratings)
    return {"worked_shops": len({r["shop_id"] for r in planned}), "done_calls": len(planned),
            "attempts": len(calls), "ratings": len(ratings),
            "callbacks_done": sum(1 for r in planned if r["kind"] == "callback")}


def add_history(db: Database) -> dict:
    """Scores of closed trials, a month of workday, then the read model rebuilt (before the clone)."""
    from concierge.models import ModelVersion
    from concierge.operations.shop_state import rebuild_states

    rnd = random.Random(SEED + 12)
    t0 = time.perf_counter()
    with db.session() as s:
        active = s.scalar(select(ModelVersion).where(ModelVersion.version == "bench-workday"))
        previous = ModelVersion(version="bench-previous", kind="boosting", created_at=PREVIOUS_AT, active=False,
                                trained_rows=0, artifact=b"", card={})
        s.add(previous)
        s.flush()
        closed = _closed_scores(s, active.id, previous.id, rnd)
        work = _workday(s, rnd)
    log(f"   history: {closed:,} scores of closed trials; workday {work} ({time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    with db.session() as s:
        n = rebuild_states(s, now=NOW)
    log(f"   shop_state rebuilt for {n:,} loaded shops in {time.perf_counter() - t0:.1f} s")
    return {"closed_scores": closed, **work, "rebuild_s": time.perf_counter() - t0}


def check_population(db: Database) -> dict:
    """Every shop has its shop_state and audit_state row; what the reports will find."""
    with db.engine.connect() as c:
        q = lambda sql: c.exec_driver_sql(sql).scalar_one()  # noqa: E731
        facts = {
            "shops": q("SELECT count(*) FROM shop"),
            "no_state": q("SELECT count(*) FROM shop s LEFT JOIN shop_state t ON t.shop_id = s.id"
                          " WHERE t.shop_id IS NULL"),
            "no_audit_state": q("SELECT count(*) FROM shop s LEFT JOIN audit_state a ON a.shop_id = s.id"
                                " WHERE a.shop_id IS NULL"),
            "held_out": q("SELECT count(*) FROM shop_state WHERE held_out"),
            "open_trials": q("SELECT count(*) FROM shop_state WHERE outcome IS NULL"),
            "scored": q("SELECT count(*) FROM shop_state WHERE score IS NOT NULL"),
            "contacted": q("SELECT count(*) FROM shop_state WHERE contacted"),
            "closed_since_model": q(f"SELECT count(*) FROM shop_state WHERE outcome IN ('converted', 'not_converted')"
                                    f" AND outcome_at >= '{MODEL_AT.isoformat()}'"),
            "calls_30d": q(f"SELECT count(*) FROM call WHERE called_at >= '{(NOW - timedelta(days=30)).isoformat()}'"),
            "ratings": q("SELECT count(*) FROM call_rating"),
            "open_planned": q("SELECT count(*) FROM planned_call WHERE status IN ('planned', 'snoozed', 'claimed')"),
        }
        for table in ("observation", "score", "call", "planned_call", "shop_state", "call_rating"):
            facts[table] = q(f'SELECT count(*) FROM "{table}"')
    assert facts["no_state"] == 0, f"{facts['no_state']} shops have no shop_state row"
    assert facts["no_audit_state"] == 0, f"{facts['no_audit_state']} shops have no audit_state row"
    return facts


# --------------------------------------------------------------------------- measuring

class SqlTimer:
    """Statements and their time (as the driver sees them) on an engine, while on."""

    def __init__(self, engine):
        self.engine, self.on, self.rows = engine, False, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_dash_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.rows.append((statement, parameters, executemany,
                              (time.perf_counter() - conn.info["bench_dash_t0"]) * 1000))

    def start(self) -> None:
        self.rows, self.on = [], True

    def stop(self) -> tuple[float, int]:
        self.on = False
        return sum(r[3] for r in self.rows), len(self.rows)

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


class Kept:
    """A schema kept by an earlier run (--keep), migrated to head again; never dropped here."""

    def __init__(self, name: str):
        from concierge.migrate import upgrade

        self.name = name
        sep = "&" if "?" in PG_URL else "?"
        self.url = f"{PG_URL}{sep}options=-csearch_path%3D{name}"
        upgrade(self.url)


def variants() -> list[dict]:
    from concierge.operations.reports import REPORTS

    out = [{"name": "front page", "url": "/dashboard", "key": None, "market": None, "params": {}}]
    for key in REPORTS:
        out.append({"name": key, "url": f"/dashboard/{key}", "key": key, "market": None, "params": {}})
        if key == "cohorts":
            out.append({"name": "cohorts week", "url": "/dashboard/cohorts?grain=week", "key": key, "market": None,
                        "params": {"grain": "week"}})
        out.append({"name": f"{key} PL", "url": f"/dashboard/{key}?market=PL", "key": key, "market": "PL",
                    "params": {}})
    return out


def _timed(fn, n: int, budget: float, timer: SqlTimer) -> dict:
    """fn() twice to warm up, then up to n times: fewer once `budget` seconds are spent (at least 5,
    or 3 when one call takes more than a sixth of the budget: far over any target anyway)."""
    cold = []
    for _ in range(2):
        t0 = time.perf_counter()
        fn()
        cold.append((time.perf_counter() - t0) * 1000)
    least = 3 if cold[1] > budget * 1000 / 6 else 5
    wall, sql_ms, queries = [], [], []
    started = time.perf_counter()
    for i in range(n):
        timer.start()
        t0 = time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        s_ms, count = timer.stop()
        sql_ms.append(s_ms)
        queries.append(count)
        if i + 1 >= least and time.perf_counter() - started > budget:
            break
    return {"n": len(wall), "first_ms": cold[0], "p50_ms": pct(wall, 50), "p95_ms": pct(wall, 95), "max_ms": max(wall),
            "sql_p50_ms": pct(sql_ms, 50), "queries": int(statistics.median(queries))}


def statements_of(db: Database, timer: SqlTimer, v: dict, settings: dict) -> list[tuple[str, object, bool, float]]:
    """The statements one build_report of variant v sends, with their times."""
    from concierge.operations.reports import build_report

    s = db.sessionmaker()
    try:
        timer.start()
        build_report(s, v["key"], lang="en", market=v["market"], now=NOW, **settings, **v["params"])
        timer.stop()
    finally:
        s.rollback()
        s.close()
    return list(timer.rows)


def _clip(text_: str, n: int) -> str:
    return text_ if len(text_) <= n else text_[:n] + f" ... ({len(text_) - n:,} more characters)"


def explain(db: Database, statement: str, params) -> str:
    with db.engine.connect() as c:
        if not params:
            plan = [r[0] for r in c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement.replace("%%", "%"))]
        else:
            plan = [r[0] for r in c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)]
        c.rollback()
    return "\n".join(plan)


def slow_statements(db: Database, timer: SqlTimer, v: dict, settings: dict) -> str:
    """The report's statements grouped by text, the costliest first, and the plan of the slowest one."""
    rows = statements_of(db, timer, v, settings)
    total = sum(r[3] for r in rows)
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        groups[r[0]].append(r)
    ranked = sorted(groups.values(), key=lambda g: -sum(r[3] for r in g))
    out = [f"-- {v['name']}: build_report sends {len(rows)} statements, {total:.0f} ms in SQL; "
           f"the costliest (by total time):"]
    for g in ranked[:4]:
        first = " ".join(g[0][0].split())
        out.append(f"   {len(g):>5} x, {sum(r[3] for r in g):8.1f} ms total, max {max(r[3] for r in g):7.1f} ms: "
                   f"{first[:300]}{'...' if len(first) > 300 else ''}")
    slowest = max((r for r in rows if not r[2]), key=lambda r: r[3])
    shown = [("the slowest single statement", slowest)]
    if len(ranked[0]) > 1:  # many small statements cost the most: show one of them too
        shown.append((f"the costliest statement ({len(ranked[0])} times), its slowest run",
                      max(ranked[0], key=lambda r: r[3])))
    for title, (statement, params, _many, ms) in shown:
        out += ["", f"-- {title} ({ms:.1f} ms):", _clip(statement.strip(), 2500), "",
                f"-- parameters: {_clip(str(params), 600)}", ""]
        try:
            out.append(explain(db, statement, params))
        except Exception as exc:  # noqa: BLE001 - a plan we cannot show is reported, not fatal
            out.append(f"(EXPLAIN failed: {exc})")
    return "\n".join(out)


def bench(args) -> tuple[list[tuple[str, str]], list[dict], list[str]]:
    from concierge import create_app
    from concierge.operations.reports import build_report
    from concierge.operations.users import create_user

    schema = Kept(args.reuse) if args.reuse else Schema("dash")
    tmp = tempfile.TemporaryDirectory()
    try:
        db = Database(schema.url)
        if args.reuse:
            log(f"reusing the kept schema {args.reuse} (migrated to head again)")
            info = {}
            with db.engine.connect() as c:
                lost = c.exec_driver_sql("SELECT count(*) FROM shop s LEFT JOIN shop_state t ON t.shop_id = s.id"
                                         " WHERE t.shop_id IS NULL").scalar_one()
            if lost:  # a migration since the run that kept it emptied the read model: rebuild it from history
                from concierge.operations.shop_state import rebuild_states

                log(f"   {lost:,} shops lost their shop_state row (a new migration): rebuilding it from history")
                t0 = time.perf_counter()
                with db.session() as s:
                    rebuild_states(s, now=NOW)
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql("ANALYZE shop_state")
                log(f"   rebuilt in {time.perf_counter() - t0:.0f} s")
        else:
            log(f"{args.base:,} demo shops through the loader, the planner, history, clone to {args.shops:,}")
            info = prepare_screen(db, args.shops, args.base, model_created_at=MODEL_AT, before_clone=add_history)
        settle(db)
        facts = check_population(db)
        log(f"   population: {facts}")
        with db.session() as s:
            if s.scalar(text("SELECT count(*) FROM user_account WHERE email = 'manager@example.com'")) == 0:
                create_user(s, "manager@example.com", password=PASSWORD, role="manager", name="Manager")
        db.dispose()
        app = create_app({"DATABASE_URL": schema.url, "SECRET_KEY": "bench-dashboard", "TESTING": True,
                          "WTF_CSRF_ENABLED": False, "CLOCK": lambda: NOW, "INSTANCE_PATH": tmp.name})
        rules = {r.rule for r in app.url_map.iter_rules()}
        client = app.test_client()
        token = _csrf(client.get("/login").get_data(as_text=True))
        r = client.post("/login", data={"email": "manager@example.com", "password": PASSWORD,
                                        **({"csrf_token": token} if token else {})})
        assert r.status_code in (302, 303), r.status_code
        try:  # what a gunicorn worker does once its app is built (imports, gc.freeze)
            from concierge.gunicorn_conf import settle_worker
        except ImportError:
            settle_worker = None
        if settle_worker is not None:
            settle_worker()
        app_db = app.extensions["concierge.db"]
        timer = SqlTimer(app_db.engine)
        has_pages = "/dashboard/<key>" in rules
        results: dict[str, dict] = {}
        missing: list[str] = []
        from concierge.web.dashboard import report_module

        settings = {}  # the app's report settings, as the pages hand them to build_report
        try:
            from concierge.config import report_settings

            if "settings" in inspect.signature(build_report).parameters:
                settings = {"settings": report_settings(app.config)}
        except ImportError:
            pass
        chosen = [v for v in variants() if not args.only or v["name"] in args.only]
        for v in chosen:
            if v["key"] is not None and report_module(v["key"]) is None:
                missing.append(v["name"])
                continue
            res: dict = {}
            if has_pages:
                sizes: list[int] = []

                def page(url=v["url"], sizes=sizes):
                    resp = client.get(url)
                    assert resp.status_code == 200, (url, resp.status_code)
                    sizes.append(len(resp.data))

                with app_db.engine.connect() as c:
                    server0 = backend_cpu(c)
                res["page"] = _timed(page, args.requests, args.budget, timer)
                with app_db.engine.connect() as c:  # one request at a time: the pool's one connection
                    server1 = backend_cpu(c)
                calls = res["page"]["n"] + 2
                res["page"]["server_cpu_ms"] = ((server1 - server0) * 1000 / calls
                                                if server0 is not None and server1 is not None else None)
                res["page"]["kb"] = statistics.fmean(sizes) / 1024
            if v["key"] is not None:
                def build(v=v):
                    s = app_db.sessionmaker()
                    try:
                        build_report(s, v["key"], lang="en", market=v["market"], now=NOW, **settings, **v["params"])
                    finally:
                        s.rollback()
                        s.close()

                res["build"] = _timed(build, args.requests, args.budget, timer)
            results[v["name"]] = res
            pg, bd = res.get("page"), res.get("build")
            log(f"   {v['name']:<22} " + (f"page p50 {pg['p50_ms']:.0f} ms, p95 {pg['p95_ms']:.0f} ms ({pg['n']}, "
                                          f"SQL {pg['sql_p50_ms']:.0f} ms in {pg['queries']} statements)"
                                          if pg else "no page")
                + (f"; build_report p50 {bd['p50_ms']:.0f} ms, p95 {bd['p95_ms']:.0f} ms" if bd else ""))
        plans: list[str] = []
        slow = [v for v in chosen if v["name"] in results and v["key"] is not None
                and (results[v["name"]].get("page") or results[v["name"]]["build"])["p95_ms"] > PAGE_TARGET_MS]
        if slow:
            # one plan per report (the unfiltered variant when it is slow, else the first slow one)
            seen = set()
            for v in sorted(slow, key=lambda v: -(results[v["name"]].get("page")
                                                   or results[v["name"]]["build"])["p95_ms"]):
                if v["key"] in seen:
                    continue
                seen.add(v["key"])
                log(f"EXPLAIN ANALYZE of {v['name']}'s slowest statement")
                plans.append(slow_statements(app_db, timer, v, settings))
                log("\n" + plans[-1])
        timer.close()
        app_db.dispose()
    finally:
        if not args.keep and not args.reuse:
            schema.drop()
        else:
            log(f"kept schema {schema.name} (again: --reuse {schema.name}; drop it by hand)")
        tmp.cleanup()

    how = f"{args.base:,} loaded, planned, cloned" if info else f"reused schema {args.reuse}"
    rows = [("population", f"{facts['shops']:,} shops ({how}): "
                           f"{facts['observation']:,} observations, {facts['score']:,} scores, {facts['call']:,} calls "
                           f"({facts['calls_30d']:,} in the last 30 days), {facts['call_rating']:,} ratings, "
                           f"{facts['planned_call']:,} planned calls ({facts['open_planned']:,} open), "
                           f"{facts['shop_state']:,} shop_state rows"),
            ("   the reports' inputs", f"{facts['open_trials']:,} open trials, {facts['scored']:,} scored, "
                                       f"{facts['held_out']:,} held out, {facts['contacted']:,} contacted, "
                                       f"{facts['closed_since_model']:,} closed since the active model")]
    if info:
        rows.append(("   built in", f"load {info['load_s']:.0f} s, plan {info['plan_s']:.0f} s, "
                                   f"state rebuild {info['rebuild_s']:.0f} s, clone {info['clone_s']:.0f} s"))
    if not has_pages:
        rows.append(("pages", "NO dashboard pages in this app (GET /dashboard/<key>): build_report only"))
    if missing:
        rows.append(("not written yet", ", ".join(missing)))
    json_rows = []
    for name, res in results.items():
        pg, bd = res.get("page"), res.get("build")
        text_ = ""
        if pg:
            text_ += (f"page p50 {pg['p50_ms']:.0f} / p95 {pg['p95_ms']:.0f} / max {pg['max_ms']:.0f} ms "
                      f"(n {pg['n']}; SQL {pg['sql_p50_ms']:.0f} ms, {pg['queries']} st.)")
        if bd:
            text_ += ("; " if text_ else "") + f"build_report p50 {bd['p50_ms']:.0f} / p95 {bd['p95_ms']:.0f} ms"
        measured = pg or bd
        ok = measured["p95_ms"] <= PAGE_TARGET_MS
        rows.append((f"{name}{'' if ok else ' (over)'}", text_))
        j = {"bench": f"dashboard: {name}", "shops": facts["shops"],
             "route": next(v["url"] for v in variants() if v["name"] == name), "n": measured["n"],
             "first_ms": round(measured["first_ms"], 1)}
        if pg:
            j.update(p50_ms=round(pg["p50_ms"], 1), p95_ms=round(pg["p95_ms"], 1), max_ms=round(pg["max_ms"], 1),
                     sql_p50_ms=round(pg["sql_p50_ms"], 1), statements=pg["queries"], kb=round(pg["kb"], 1),
                     server_cpu_ms=round(pg["server_cpu_ms"], 1) if pg["server_cpu_ms"] is not None else None)
        if bd:
            j.update(build_p50_ms=round(bd["p50_ms"], 1), build_p95_ms=round(bd["p95_ms"], 1),
                     build_sql_p50_ms=round(bd["sql_p50_ms"], 1))
        j.update(target_ms=PAGE_TARGET_MS, ok=ok)
        json_rows.append(j)
    return rows, json_rows, plans


def settle(db: Database) -> None:
    """Bring the schema to the state a running system keeps it in: the daily `audits plan` has
    recorded the first-contact verdicts of the calls whose window ended
    (`callstats.record_fcr_verdicts`, which `audits plan` runs), and autovacuum has run (this
    PostgreSQL has autovacuum off, so VACUUM ANALYZE stands in for it)."""
    from concierge.operations.callstats import record_fcr_verdicts

    t0 = time.perf_counter()
    with db.session() as s:
        n = record_fcr_verdicts(s, now=NOW)
        s.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        tables = c.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").scalars()
        for table in list(tables):
            c.exec_driver_sql(f'VACUUM ANALYZE "{table}"')
    log(f"   first-contact verdicts recorded for {n:,} calls, VACUUM ANALYZE ({time.perf_counter() - t0:.0f} s)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shops", type=int, default=100_000)
    ap.add_argument("--base", type=int, default=5_000, help="demo shops loaded through the loader, then cloned")
    ap.add_argument("--requests", type=int, default=30, help="requests per page (after 2 warm-ups)")
    ap.add_argument("--budget", type=float, default=60.0,
                    help="seconds per page and per build_report after which no more requests are made "
                         "(at least 5, or 3 when one takes over a sixth of this)")
    ap.add_argument("--keep", action="store_true", help="keep the schema (to look at it); drop it by hand")
    ap.add_argument("--reuse", metavar="SCHEMA", help="measure a schema kept by an earlier --keep (no new population)")
    ap.add_argument("--only", nargs="+", metavar="PAGE",
                    help='measure only these pages, by their names in the table ("front page", "cohorts PL", ...)')
    args = ap.parse_args()
    started = time.perf_counter()
    rows, results, plans = bench(args)
    print_report(f"dashboard (PostgreSQL), target p95 <= {PAGE_TARGET_MS} ms", rows, started,
                 [("Over the target: the report's statements, EXPLAIN (ANALYZE, BUFFERS) of the slowest:", plan)
                  for plan in plans], results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
