"""What the benchmarks share: the PostgreSQL URL and throw-away schema, percentiles, timing,
weighted draws, the backend's CPU, and the closing table.

Only the standard library is imported at the top (bench_serving's bare app is imported by
gunicorn with nothing else loaded); SQLAlchemy and the migrations load when a Schema is made.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("CONCIERGE_BENCH_POSTGRES_URL") or os.environ.get(
    "CONCIERGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def make_log(name: str) -> Callable[[str], None]:
    """A progress printer to stderr, each line headed by the benchmark's name and the time."""
    def log(msg: str) -> None:
        print(f"[{name} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
    return log


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def p95(times: list[float]) -> float:
    """The 95th percentile, interpolated (statistics.quantiles, inclusive)."""
    return statistics.quantiles(times, n=20, method="inclusive")[18]


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """One call of fn: its wall-clock (perf_counter) and this thread's CPU time, in ms."""
    c0, t0 = time.thread_time(), time.perf_counter()
    fn()
    t1, c1 = time.perf_counter(), time.thread_time()
    return (t1 - t0) * 1000, (c1 - c0) * 1000


def weighted(rnd: random.Random, pairs):
    """A value drawn from (value, weight) pairs whose weights add up to 1."""
    x, acc = rnd.random(), 0.0
    for value, w in pairs:
        acc += w
        if x < acc:
            return value
    return pairs[-1][0]


class Schema:
    """A throw-away PostgreSQL schema (migrated to head unless migrate=False); dropped by drop() unless kept."""

    def __init__(self, label: str, migrate: bool = True):
        from sqlalchemy import create_engine, text

        self.name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(PG_URL)
        with self.admin.begin() as c:
            c.execute(text(f'CREATE SCHEMA "{self.name}"'))
        sep = "&" if "?" in PG_URL else "?"
        self.url = f"{PG_URL}{sep}options=-csearch_path%3D{self.name}"
        if migrate:
            from concierge.migrate import upgrade

            upgrade(self.url)

    def drop(self) -> None:
        from sqlalchemy import text

        with self.admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{self.name}" CASCADE'))
        self.admin.dispose()


def backend_cpu(conn) -> float | None:
    """CPU seconds (user + system) of the PostgreSQL backend behind this connection (same host only)."""
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_report(title: str, rows: list[tuple[str, str]], started: float, plans: list[tuple[str, str]],
                 results: list[dict]) -> None:
    """The closing output: the table (with the load average and the whole run's time), each
    (heading, EXPLAIN plan) indented, then one JSON line per result."""
    rows = rows + [("load average", f"{os.getloadavg()[0]:.1f}"),
                   ("whole benchmark", f"{time.perf_counter() - started:.0f} s")]
    width = max(len(k) for k, _ in rows)
    print(f"{title:<{width}}  value")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    for heading, plan in plans:
        print(f"\n{heading}")
        print("\n".join("  " + line for line in plan.splitlines()))
    for r in results:
        print(json.dumps(r))


def arg_parser(doc: str, *, only: tuple[str, ...] = (), keep: str | None = None, **options) -> argparse.ArgumentParser:
    """The benchmark's parser, described by the first line of its docstring, with a --name
    option (underscores become dashes) per keyword: its default, or (default, help); the
    option's type is the default's. With `only`, --only takes one of those choices; with
    `keep`, --keep is a flag and `keep` its help."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, value in options.items():
        default, help_ = value if isinstance(value, tuple) else (value, None)
        ap.add_argument("--" + name.replace("_", "-"), type=type(default), default=default, help=help_)
    if only:
        ap.add_argument("--only", choices=only)
    if keep:
        ap.add_argument("--keep", action="store_true", help=keep)
    return ap


def print_verdict(bench: str, wall: list[float], cpu: list[float], target_ms: float, digits: int, **extra) -> None:
    """The median wall-clock time against its target, then the JSON line of the case (`extra` appended)."""
    median = statistics.median(wall)
    verdict = "meets" if median <= target_ms else "MISSES"
    print(f"median {median:.{digits}f} ms {verdict} the {target_ms:g} ms target")
    print(json.dumps({"bench": bench, "median_ms": round(median, digits), "p95_ms": round(p95(wall), digits),
                      "target_ms": target_ms, "cpu_median_ms": round(statistics.median(cpu), digits),
                      "cpu_p95_ms": round(p95(cpu), digits), **extra}))
