"""Benchmark the demo population: generating 100k shops (pure) and loading 600 / 20k into SQLite.

Prints a table and one JSON line. `python benchmarks/bench_demo.py [--generate N] [--load N ...]`.
Targets: the default 600 shops load well under 20 s (`make demo`); 20k shops load in a
few minutes (the model's validation population).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from concierge.db import Database  # noqa: E402
from concierge.demo.generator import generate  # noqa: E402
from concierge.demo.loader import load_population  # noqa: E402

TODAY = date(2026, 11, 23)
TARGETS = {600: 20.0, 20000: 300.0}


def bench_generate(n: int) -> dict:
    t0 = time.perf_counter()
    pop = generate(n, seed=7, today=TODAY)
    secs = time.perf_counter() - t0
    s = pop.summary()
    return {"case": f"generate {n} shops (pure)", "shops": n, "seconds": round(secs, 2),
            "shops_per_s": round(n / secs), "events": s["events"], "target_s": None}


def bench_load(n: int, folder: Path) -> dict:
    pop = generate(n, seed=7, today=TODAY)
    db = Database(f"sqlite:///{folder / f'demo_{n}.sqlite'}")
    db.create_all()
    t0 = time.perf_counter()
    with db.session() as s:
        result = load_population(s, pop)
    secs = time.perf_counter() - t0
    db.dispose()
    return {"case": f"load {n} shops into SQLite", "shops": n, "seconds": round(secs, 2),
            "shops_per_s": round(n / secs), "events": result.events, "observations": result.observations,
            "target_s": TARGETS.get(n)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generate", type=int, default=100_000)
    ap.add_argument("--load", type=int, nargs="*", default=[600, 20_000])
    args = ap.parse_args()
    rows = [bench_generate(args.generate)]
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.load:
            rows.append(bench_load(n, Path(tmp)))
    print(f"{'case':<32} {'seconds':>9} {'shops/s':>9} {'events':>9} {'target s':>9}")
    for r in rows:
        target = "" if r["target_s"] is None else f"{r['target_s']:.0f}"
        print(f"{r['case']:<32} {r['seconds']:>9.2f} {r['shops_per_s']:>9} {r['events']:>9} {target:>9}")
    print(json.dumps({"benchmark": "demo", "results": rows}))


if __name__ == "__main__":
    main()
