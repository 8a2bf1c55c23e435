"""Benchmark the audit planner on SQLite: 100k shops planned in full, then incrementally.

Targets (issue "audits"): a full plan of 100k shops in 10 s or less on SQLite; an
incremental plan after 1,000 changed shops in 1 s or less.

The population: BASE demo shops loaded through the normal loader (`concierge demo`:
events, surveys, calls), then cloned with plain SQL (shops, observations, reached calls,
the demo truth; trial events are not cloned: the planner never reads them) until there
are 100k shops. Clone k gets platform ids suffixed "-c<k>" and every moment shifted k
days earlier, so the clones do not all sit at the same point of their trials. Open
trials get two synthetic scores each (the second one 10+ points lower for some, so
score-drop audits fire), with a path to subscribe as the scorer writes it.

Measured, each in its own committed session, with `now` fixed to the demo's today:
  a. the first plan (every shop new: facts built from history for all): "initial build";
  b. a full re-plan of every shop from its stored facts (`full=True`): the 10 s target;
  c. an incremental plan after one new call answer for 1,000 random shops: the 1 s target;
  d. a second incremental plan with nothing changed: creates and cancels nothing.
Wall and CPU time are printed; progress goes to stderr. Prints a table and JSON lines.
Usage: python benchmarks/bench_audits.py [--shops N] [--base N] [--changed N] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from concierge.db import Database  # noqa: E402
from concierge.models import AuditState, PlannedCall, Shop  # noqa: E402

TODAY = date(2026, 11, 23)
SEED = 7
NOW = datetime.combine(TODAY, dtime(0), tzinfo=timezone.utc)  # the demo's today (its population ends here)
READINESS = ["readiness.store_details", "readiness.theme_published", "readiness.products_added",
             "readiness.payments_connected", "readiness.shipping_connected", "readiness.terms_published",
             "readiness.privacy_policy_published", "readiness.domain_connected", "readiness.test_order_placed"]


def log(msg: str) -> None:
    print(f"[bench_audits {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the population

def load_base(db: Database, n: int) -> None:
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population

    pop = generate(n, seed=SEED, today=TODAY)
    with db.session() as s:
        load_population(s, pop, now=NOW)


def _shift(col: str, days: int) -> str:
    """A stored UTC datetime moved `days` earlier, keeping SQLAlchemy's text format (microseconds too)."""
    if days == 0:
        return col
    return (f"CASE WHEN {col} IS NULL THEN NULL ELSE "
            f"datetime({col}, '-{days} days') || substr({col}, 20) END")


def clone(db: Database, total: int) -> int:
    """Copy the base shops (and their observations, reached calls, truth) until there are `total` shops."""
    with db.engine.begin() as c:
        base = c.execute(text("SELECT max(id) FROM shop")).scalar_one()
        n_base = c.execute(text("SELECT count(*) FROM shop")).scalar_one()
        k = 0
        have = n_base
        while have < total:
            k += 1
            take = min(n_base, total - have)
            off = k * base
            c.execute(text(
                "INSERT INTO shop (id, platform_id, market, name, created_at, trial_started_at, trial_ends_at,"
                " outcome, outcome_at, holdout) "
                f"SELECT id + {off}, platform_id || '-c{k}', market, name, {_shift('created_at', k)},"
                f" {_shift('trial_started_at', k)}, {_shift('trial_ends_at', k)}, outcome,"
                f" {_shift('outcome_at', k)}, holdout FROM shop WHERE id <= {base} ORDER BY id LIMIT {take}"))
            limit = f"shop_id <= (SELECT id FROM shop WHERE id <= {base} ORDER BY id LIMIT 1 OFFSET {take - 1})"
            c.execute(text(
                "INSERT INTO observation (shop_id, question, value, op, source, actor, observed_at, recorded_at,"
                " schema_version, submission_id, event_id) "
                f"SELECT shop_id + {off}, question, value, op, source, actor, {_shift('observed_at', k)},"
                f" {_shift('recorded_at', k)}, schema_version, NULL, NULL FROM observation WHERE {limit}"
                " ORDER BY observed_at, id"))
            c.execute(text(
                "INSERT INTO call (shop_id, actor, kind, called_at, reached, submission_id) "
                f"SELECT shop_id + {off}, actor, kind, {_shift('called_at', k)}, reached, NULL FROM call"
                f" WHERE {limit} ORDER BY id"))
            c.execute(text(
                "INSERT INTO demo_truth (shop_id, persona, p_no_call, p_call, called, seed) "
                f"SELECT shop_id + {off}, persona, p_no_call, p_call, called, seed FROM demo_truth WHERE {limit}"))
            have += take
            log(f"clone {k}: {have:,} shops")
    return have


def add_scores(db: Database) -> int:
    """Two scores per open trial (yesterday and today), as `concierge score` stores them."""
    from concierge.models import ModelVersion

    rnd = random.Random(SEED)
    with db.session() as s:
        mv = ModelVersion(version="bench-audits", kind="boosting", created_at=NOW, active=True, trained_rows=0,
                          artifact=b"", card={})
        s.add(mv)
        s.flush()
        rows = s.execute(text(
            "SELECT s.id, s.market, t.p_no_call, t.p_call FROM shop s JOIN demo_truth t ON t.shop_id = s.id"
            " WHERE s.outcome IS NULL ORDER BY s.id")).all()
        values = []
        for shop_id, market, p0, p1 in rows:
            p = min(0.99, max(0.01, p0 + rnd.gauss(0, 0.03)))
            before = p + (rnd.uniform(0.10, 0.25) if rnd.random() < 0.15 else rnd.gauss(0, 0.03))
            before = min(0.99, max(0.01, before))
            steps = rnd.sample(READINESS, 3)
            path = [{"action": a, "probability": round(p + 0.04 * (3 - i), 4), "gain": round(0.04 * (3 - i), 4),
                     "text": f"{a}: {p:.0%} -> {p + 0.04 * (3 - i):.0%}"} for i, a in enumerate(steps)]
            for when, prob in ((NOW - timedelta(days=1, hours=2), before), (NOW - timedelta(hours=2), p)):
                values.append({"shop_id": shop_id, "model_version_id": mv.id, "scored_at": when,
                               "probability": prob, "uplift": p1 - p0,
                               "details": {"reasons": {"up": [], "down": []}, "path": path, "lang": "en",
                                           "snapshot_at": None}})
        from sqlalchemy import insert

        from concierge.models import Score

        for i in range(0, len(values), 5000):
            s.execute(insert(Score), values[i:i + 5000])
    return len(values)


def prepare(path: Path, shops: int, base: int) -> dict:
    from concierge.migrate import upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    t0 = time.perf_counter()
    log(f"loading {base:,} demo shops through the loader")
    load_base(db, base)
    load_s = time.perf_counter() - t0
    log(f"loaded in {load_s:.1f} s; cloning to {shops:,}")
    t0 = time.perf_counter()
    n = clone(db, shops)
    clone_s = time.perf_counter() - t0
    scores = add_scores(db)
    with db.engine.begin() as c:
        c.execute(text("ANALYZE"))
        obs = c.execute(text("SELECT count(*) FROM observation")).scalar_one()
    with db.engine.connect() as c:  # everything in the main file, so a copy of it (--keep) is whole
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    log(f"cloned in {clone_s:.1f} s: {n:,} shops, {obs:,} observations, {scores:,} scores")
    db.dispose()
    return {"shops": n, "observations": obs, "scores": scores, "load_s": round(load_s, 1),
            "clone_s": round(clone_s, 1)}


# --------------------------------------------------------------------------- the measures

def timed_plan(db: Database, **kwargs) -> tuple[object, float, float]:
    from concierge.operations.audits import plan_calls

    t0, c0 = time.perf_counter(), time.process_time()
    with db.session() as s:
        report = plan_calls(s, now=NOW, **kwargs)
    return report, time.perf_counter() - t0, time.process_time() - c0


def change_shops(db: Database, n: int) -> int:
    """One new call answer (a readiness item confirmed) for `n` random shops, committed."""
    from concierge.operations.observations import record_answers

    rnd = random.Random(SEED + 1)
    with db.session() as s:
        ids = list(s.scalars(select(Shop.id).order_by(Shop.id)))
        picked = rnd.sample(ids, n)
        for sid in picked:
            shop = s.get(Shop, sid)
            record_answers(s, shop, {rnd.choice(READINESS): True}, actor="consultant@example.com",
                           source="call", channel="cli", observed_at=NOW - timedelta(hours=1),
                           now=NOW - timedelta(hours=1))
    return len(picked)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shops", type=int, default=100_000)
    ap.add_argument("--base", type=int, default=10_000, help="demo shops loaded through the loader, then cloned")
    ap.add_argument("--changed", type=int, default=1_000)
    ap.add_argument("--keep", help="keep the prepared database here (and reuse it when it is there)")
    args = ap.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audits.sqlite"
        cached = Path(args.keep) / f"audits_{args.shops}_{args.base}.sqlite" if args.keep else None
        if cached is not None and cached.exists():
            log(f"reusing {cached}")
            shutil.copy(cached, path)
            from concierge.migrate import upgrade

            upgrade(f"sqlite:///{path}")  # a copy kept before a newer migration
            with Database(f"sqlite:///{path}").engine.connect() as c:
                info = {"shops": c.execute(text("SELECT count(*) FROM shop")).scalar_one(),
                        "observations": c.execute(text("SELECT count(*) FROM observation")).scalar_one(),
                        "scores": c.execute(text("SELECT count(*) FROM score")).scalar_one(),
                        "load_s": None, "clone_s": None}
        else:
            info = prepare(path, args.shops, args.base)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, cached)
        db = Database(f"sqlite:///{path}")

        log("a. first plan (facts built from history for every shop)")
        first, first_s, first_cpu = timed_plan(db)
        log(f"   {first_s:.1f} s: {first.as_dict()}")
        with db.session() as s:
            audits_total = s.scalar(select(func.count()).select_from(PlannedCall).where(PlannedCall.kind != "callback"))
            held = s.scalar(select(func.count()).select_from(PlannedCall)
                            .where(PlannedCall.kind != "callback", PlannedCall.holdout.is_(True)))
            held_shops = s.scalar(select(func.count()).select_from(AuditState).where(AuditState.holdout.is_(True)))
            states = s.scalar(select(func.count()).select_from(AuditState))
        share = held / audits_total if audits_total else None

        log("b. full re-plan from stored facts")
        full, full_s, full_cpu = timed_plan(db, full=True)
        log(f"   {full_s:.1f} s: {full.as_dict()}")

        log(f"c. {args.changed:,} shops get a new call answer")
        changed = change_shops(db, args.changed)
        inc, inc_s, inc_cpu = timed_plan(db)
        log(f"   {inc_s:.2f} s: {inc.as_dict()}")

        log("d. again, nothing changed")
        idle, idle_s, idle_cpu = timed_plan(db)
        log(f"   {idle_s:.2f} s: {idle.as_dict()}")
        assert idle.created == 0 and idle.held_out == 0 and idle.cancelled == 0, idle.as_dict()
        assert idle.shops_rebuilt == 0, idle.as_dict()
        db.dispose()
    total_s = time.perf_counter() - started

    rows = [("population", f"{info['shops']:,} shops, {info['observations']:,} observations, {info['scores']:,} scores"),
            ("a. initial build (all new)", f"{first_s:.2f} s (CPU {first_cpu:.2f} s), rebuilt {first.shops_rebuilt:,}"),
            ("   calls created", f"{first.created:,} planned + {first.held_out:,} held out"),
            ("   held-out share of audits", f"{share:.2%} ({held:,} of {audits_total:,}); shops held out "
                                           f"{held_shops:,} of {states:,}" if share is not None else "n/a"),
            ("b. full re-plan (stored facts)", f"{full_s:.2f} s (CPU {full_cpu:.2f} s), target <= 10 s, "
                                               f"created {full.created + full.held_out}, cancelled {full.cancelled}"),
            (f"c. incremental, {changed:,} changed", f"{inc_s:.3f} s (CPU {inc_cpu:.3f} s), target <= 1 s, "
                                                    f"seen {inc.shops_seen:,}, rebuilt {inc.shops_rebuilt:,}, "
                                                    f"created {inc.created + inc.held_out}, cancelled {inc.cancelled}"),
            ("d. incremental, nothing changed", f"{idle_s:.3f} s (CPU {idle_cpu:.3f} s), seen {idle.shops_seen}, "
                                                f"created {idle.created + idle.held_out}, cancelled {idle.cancelled}"),
            ("load average", f"{os.getloadavg()[0]:.1f}"), ("whole benchmark", f"{total_s:.0f} s")]
    width = max(len(k) for k, _ in rows)
    print(f"{'audit planner (SQLite)':<{width}}  value")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(json.dumps({"bench": "audits: initial build", "shops": info["shops"], "observations": info["observations"],
                      "seconds": round(first_s, 2), "cpu_seconds": round(first_cpu, 2),
                      "created": first.created, "held_out": first.held_out,
                      "held_out_share": round(share, 4) if share is not None else None}))
    print(json.dumps({"bench": "audits: full plan 100k", "shops": full.shops_seen, "seconds": round(full_s, 2),
                      "cpu_seconds": round(full_cpu, 2), "target_s": 10, "ok": full_s <= 10,
                      "created": full.created + full.held_out, "cancelled": full.cancelled}))
    print(json.dumps({"bench": "audits: incremental 1k changed", "changed": changed, "shops_seen": inc.shops_seen,
                      "rebuilt": inc.shops_rebuilt, "seconds": round(inc_s, 3), "cpu_seconds": round(inc_cpu, 3),
                      "target_s": 1, "ok": inc_s <= 1, "created": inc.created + inc.held_out,
                      "cancelled": inc.cancelled}))
    print(json.dumps({"bench": "audits: incremental nothing changed", "shops_seen": idle.shops_seen,
                      "seconds": round(idle_s, 3), "cpu_seconds": round(idle_cpu, 3),
                      "created": idle.created + idle.held_out, "cancelled": idle.cancelled}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
