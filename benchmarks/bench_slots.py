"""Find the next allowed call time (audits.slots.next_slot) for varied merchants and moments.

A sample of cases: random market (PL, TR, IN and IN/MH), random earliest moment in
2026-2028 (any zone, a third of them next to a holiday or DST night), random preferred
days and hours, both purposes; every contact may be called, so each case computes a slot.
Target: median 0.2 ms or less per next_slot with warm caches (as a running server has
them).  Also shown: calls with the slot caches emptied first (holidays stay loaded), offer_slots,
and allowed_minutes over three days.  Prints a table and JSON lines:
{"bench": "next_slot", "median_ms": ..., "p95_ms": ..., "target_ms": 0.2}
Usage: python benchmarks/bench_slots.py [--cases N] [--seed N]
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import sys
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import holidays  # noqa: E402

from _common import arg_parser, p95, print_verdict, timed  # noqa: E402
from audits import slots  # noqa: E402
from audits.slots import Contact, allowed_minutes, next_slot, offer_slots, preferred_hours_for  # noqa: E402
from locales import MARKET_CODES, get_market  # noqa: E402
from locales.market import TimeWindow  # noqa: E402

TARGET_MS = 0.2
ZONES = [dt.timezone.utc, ZoneInfo("Europe/Warsaw"), ZoneInfo("Europe/Istanbul"), ZoneInfo("Asia/Kolkata"),
         ZoneInfo("America/New_York")]
CASES = [("PL", None), ("TR", None), ("IN", None), ("IN", "MH")]
START, END = dt.datetime(2026, 1, 1), dt.datetime(2028, 12, 31, 23, 59)
DST_NIGHTS = [dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2027, 3, 28), dt.date(2027, 10, 31),
              dt.date(2028, 3, 26), dt.date(2028, 10, 29)]


def build_cases(n: int, seed: int) -> list[tuple[Contact, dt.datetime, str]]:
    r = random.Random(seed)
    special = sorted(
        {d for c in ("PL", "TR", "IN") for d in holidays.country_holidays(c, years=range(2026, 2029), language="en_US")}
        | set(DST_NIGHTS)
    )
    out = []
    for _ in range(n):
        code, subdivision = r.choice(CASES)
        if r.random() < 1 / 3:
            day = r.choice(special) + dt.timedelta(days=r.randint(-2, 1))
            naive = dt.datetime.combine(day, dt.time(r.randint(0, 23), r.randint(0, 59)))
        else:
            naive = START + dt.timedelta(seconds=r.randint(0, int((END - START).total_seconds())))
        earliest = naive.replace(tzinfo=r.choice(ZONES))
        days = None if r.random() < 0.5 else tuple(sorted(r.sample(range(1, 8), r.randint(1, 5))))
        pick = r.random()
        if pick < 0.3:
            hours = None
        elif pick < 0.8:
            hours = preferred_hours_for(r.choice(["morning", "afternoon", "evening"]))
        else:
            start = r.randint(32, 76)  # quarter hours 08:00..19:00
            end = min(start + r.randint(2, 16), 95)
            hours = (TimeWindow(dt.time(start // 4, start % 4 * 15), dt.time(end // 4, end % 4 * 15)),)
        contact = Contact(code, consent=True, is_trader=r.choice([None, True]), preferred_days=days,
                          preferred_hours=hours, subdivision=subdivision)
        out.append((contact, earliest, r.choice(["commercial", "service"])))
    return out


def clear_caches() -> None:
    """Forget every cached day window and span (a freshly started process)."""
    slots._span.cache_clear()
    for code in MARKET_CODES:
        market = get_market(code)
        for key in [k for k in market._cache if isinstance(k, tuple) and k and k[0] == "audits.slots.day"]:
            del market._cache[key]


def measure(calls: list[Callable[[], Any]], *, before: Callable[[], None] | None = None) -> tuple[list[float], list[float]]:
    """Per-call wall-clock (perf_counter) and thread CPU times in ms, one call per case."""
    wall, cpu = [], []
    for fn in calls:
        if before is not None:
            before()
        w, c = timed(fn)
        wall.append(w)
        cpu.append(c)
    return wall, cpu


def main() -> int:
    args = arg_parser(__doc__, cases=5000, seed=42).parse_args()

    cases = build_cases(args.cases, args.seed)
    results = [next_slot(c, t, p) for c, t, p in cases]  # warm every cache the sample touches
    met = sum(s.preference_met for s in results)
    moved = sum(s.at != t for s, (_, t, _) in zip(results, cases))
    rows = [
        ("next_slot", [lambda c=c, t=t, p=p: next_slot(c, t, p) for c, t, p in cases], None),
        ("next_slot, slot caches cold", [lambda c=c, t=t, p=p: next_slot(c, t, p) for c, t, p in cases[:300]], clear_caches),
        ("offer_slots (3)", [lambda c=c, t=t, p=p: offer_slots(c, t, p) for c, t, p in cases[:1000]], None),
        ("allowed_minutes 3 days",
         [lambda c=c, t=t, p=p: allowed_minutes(c, t, t + dt.timedelta(days=3), p) for c, t, p in cases[:1000]], None),
    ]
    print(f"{len(cases)} cases: {moved} moved to a later moment, {met} with the preference met; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'case':<26} {'calls':>6} {'median ms':>10} {'p95 ms':>10} {'max ms':>10} {'cpu median':>11} {'cpu p95':>8}")
    measured = {}
    for name, calls, before in rows:
        wall, cpu = measure(calls, before=before)
        measured[name] = (wall, cpu)
        print(f"{name:<26} {len(calls):>6} {statistics.median(wall):>10.4f} {p95(wall):>10.4f} {max(wall):>10.3f} "
              f"{statistics.median(cpu):>11.4f} {p95(cpu):>8.4f}")
    print_verdict("next_slot", *measured["next_slot"], TARGET_MS, 4, cases=len(cases))
    for name, key in (("next_slot, slot caches cold", "next_slot_cold"), ("offer_slots (3)", "offer_slots_3"),
                      ("allowed_minutes 3 days", "allowed_minutes_3d")):
        wall, _ = measured[name]
        print(json.dumps({"bench": key, "median_ms": round(statistics.median(wall), 4), "p95_ms": round(p95(wall), 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
