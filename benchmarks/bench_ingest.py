"""Ingest 100k realistic trial events (about 7k shops) into a fresh SQLite, as `concierge ingest events` does.

Target: 20 s or less on a 2-core machine. Prints a table and one JSON line. The CPU time
of the ingest is printed too: on a shared, busy machine the wall time measures the
neighbours as much as the code.
Usage: python benchmarks/bench_ingest.py [--events N] [--shops N] [--seed N] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROVIDERS = {
    "PL": {"payments": ["blik", "przelewy24", "payu", "tpay", "paypal"], "shipping": ["inpost", "dpd", "poczta_polska"],
           "marketplace": ["allegro", "ceneo"], "invoicing": ["fakturownia", "wfirma", "infakt"],
           "tz": 1, "phone": lambda r: f"+48 6{r.randint(0, 99999999):08d}", "lang": "pl"},
    "TR": {"payments": ["iyzico", "paytr", "param", "sipay"], "shipping": ["yurtici", "aras", "ptt"],
           "marketplace": ["trendyol", "hepsiburada", "n11"], "invoicing": ["parasut", "logo"],
           "tz": 3, "phone": lambda r: f"+90 53{r.randint(0, 99999999):08d}", "lang": "tr"},
    "IN": {"payments": ["razorpay", "upi", "payu_india", "cashfree"], "shipping": ["shiprocket", "delhivery"],
           "marketplace": ["amazon_in", "flipkart", "meesho"], "invoicing": ["zoho_books", "tally"],
           "tz": 5.5, "phone": lambda r: f"+91 9{r.randint(0, 999999999):09d}", "lang": "en"},
}
FIRST = ["Anna", "Ayşe", "Priya", "Marek", "Mehmet", "Rahul", "Zofia", "Elif", "Aarav", "Kasia"]
LAST = ["Nowak", "Yılmaz", "Sharma", "Kowalski", "Demir", "Patel", "Wiśniewska", "Kaya", "Gupta"]


def shop_journey(r: random.Random, n: int, start: datetime) -> list[dict]:
    """One trial shop's events: start, setup steps in a plausible order, then an outcome."""
    market = r.choices(["PL", "TR", "IN"], weights=[5, 3, 4])[0]
    m = PROVIDERS[market]
    sid = f"shop-{n:06d}"
    name = f"{r.choice(FIRST)} {r.choice(LAST)}"
    t = start
    evs: list[tuple[str, dict]] = [("trial_started", {
        "market": market, "shop_name": f"{name.split()[0]}'s shop", "language": m["lang"],
        "trial_ends_at": (start + timedelta(days=14)).isoformat(),
        "owner": {"name": name, "email": f"owner{n}@example.com", "phone": m["phone"](r)}})]
    engaged = r.random()
    steps = [("store_details_completed", {})]
    steps += [("product_added", {"count": r.choice([1, 1, 1, 2, 5])}) for _ in range(int(engaged * 10))]
    if engaged > 0.3:
        steps.append(("theme_published", {}))
        steps += [("payment_connected", {"provider": p}) for p in r.sample(m["payments"], r.randint(1, 2))]
    if engaged > 0.45:
        steps.append(("shipping_connected", {"provider": r.choice(m["shipping"])}))
        steps.append(("legal_pages_published", {"pages": ["terms", "privacy"] + (["refund"] if market == "IN" else [])}))
    if engaged > 0.6:
        steps.append(("domain_connected", {"domain": f"shop{n}.example.com"}))
        steps.append(("order_received", {"test": True}))
    if engaged > 0.7 and r.random() < 0.5:
        steps.append(("marketplace_connected", {"marketplace": r.choice(m["marketplace"])}))
    if engaged > 0.7 and r.random() < 0.4:
        steps.append(("invoicing_connected", {"provider": r.choice(m["invoicing"])}))
    if market == "IN" and r.random() < 0.5:
        steps.append(("international_selling_enabled", {}))
    if engaged > 0.75:
        steps.append(("shop_opened", {}))
        steps += [("order_received", {"order_id": f"o{n}-{i}"}) for i in range(int(engaged * 6))]
    evs += steps
    if engaged > 0.8:
        evs.append(("plan_purchased", {"plan": r.choice(["basic", "pro", "business"])}))
    else:
        evs.append(("trial_ended", {"converted": False}))
    out = []
    tz = timezone(timedelta(hours=m["tz"]))
    for i, (etype, data) in enumerate(evs):
        t += timedelta(minutes=r.randint(5, 600))
        out.append({"id": f"{sid}-{i:03d}", "shop": sid, "type": etype,
                    "occurred_at": t.astimezone(tz).isoformat(timespec="seconds"), "data": data})
    return out


def generate(path: Path, events: int, shops: int, seed: int) -> int:
    r = random.Random(seed)
    base = datetime(2026, 1, 5, tzinfo=timezone.utc)
    journeys = [shop_journey(r, n, base + timedelta(hours=r.randint(0, 24 * 60))) for n in range(shops)]
    flat = [e for j in journeys for e in j]
    while len(flat) < events:  # busier shops add more products, before their outcome
        j = r.choice(journeys)
        k = len(j)
        e = {"id": f"{j[0]['shop']}-x{k:04d}", "shop": j[0]["shop"], "type": "product_added",
             "occurred_at": j[-2]["occurred_at"], "data": {"count": 1}}
        j.insert(-1, e)
        flat.append(e)
    flat = sorted(flat, key=lambda e: datetime.fromisoformat(e["occurred_at"]))[:events]
    # a webhook retries: 1 % of events arrive twice
    for i in r.sample(range(len(flat)), len(flat) // 100):
        flat.insert(i + 1, flat[i])
    flat = flat[:events]
    with open(path, "w", encoding="utf-8") as fh:
        for e in flat:
            fh.write(json.dumps(e, ensure_ascii=False) + "\n")
    return len(flat)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--shops", type=int, default=7_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", help="write the JSONL and the database here instead of a temp dir")
    args = ap.parse_args()

    from click.testing import CliRunner

    from concierge.cli import cli

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        jsonl, dbfile = folder / "events.jsonl", folder / "bench.sqlite"
        for p in (dbfile, Path(f"{dbfile}-wal"), Path(f"{dbfile}-shm")):
            p.unlink(missing_ok=True)
        t0 = time.perf_counter()
        n = generate(jsonl, args.events, args.shops, args.seed)
        gen_s = time.perf_counter() - t0
        env = {"CONCIERGE_DATABASE_URL": f"sqlite:///{dbfile}"}
        runner = CliRunner()
        res = runner.invoke(cli, ["init"], env=env, catch_exceptions=False)
        assert res.exit_code == 0, res.output
        t0, c0 = time.perf_counter(), time.process_time()
        res = runner.invoke(cli, ["ingest", "events", str(jsonl), "--json"], env=env, catch_exceptions=False)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        summary = json.loads(res.stdout)
        rate = n / secs if secs else float("inf")
        size_mb = os.path.getsize(jsonl) / 1e6
    rows = [("events in file", f"{n:,}"), ("file size", f"{size_mb:.1f} MB"), ("generated in", f"{gen_s:.1f} s"),
            ("stored", f"{summary['stored']:,}"), ("duplicates", f"{summary['duplicates']:,}"),
            ("rejected", f"{summary['rejected']:,}"), ("shops created", f"{summary['shops_created']:,}"),
            ("observations", f"{summary['observations']:,}"), ("ingest time (wall)", f"{secs:.2f} s"),
            ("ingest CPU time", f"{cpu:.2f} s"), ("load average", f"{os.getloadavg()[0]:.1f}"),
            ("events/s", f"{rate:,.0f}"), ("target", "<= 20 s")]
    width = max(len(k) for k, _ in rows)
    print(f"{'ingest events (SQLite)':<{width}}  value")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(json.dumps({"bench": "ingest_events", "events": n, "shops": summary["shops_created"],
                      "stored": summary["stored"], "duplicates": summary["duplicates"],
                      "rejected": summary["rejected"], "observations": summary["observations"],
                      "seconds": round(secs, 2), "cpu_seconds": round(cpu, 2),
                      "load_avg": round(os.getloadavg()[0], 1), "events_per_s": round(rate), "target_s": 20,
                      "ok": secs <= 20 and summary["rejected"] == 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
