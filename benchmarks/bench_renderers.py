"""Benchmark the picture: SVG and PNG render time, and 10,000 SVG pictures in a row.

A script, not a test: it prints a small table and one JSON line per figure (objects
with a "bench" key, collected by benchmarks/run.py into docs/benchmarks.md).

Targets (from the issue): SVG render median <= 2 ms, PNG render median <= 20 ms,
10,000 SVG pictures <= 20 s. "Render" is the whole path a request takes: PictureInput
-> build_scene (layout, text measuring and fitting) -> bytes. Profiles are varied
(names, markets, languages, features, unknowns) from a fixed seed, so text caches do
not make every picture free; the single-persona figures show the warm case.

    python benchmarks/bench_renderers.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from renderers import (FEATURE_CATEGORIES, STAGES, PictureInput, ScoreInfo, build_scene,  # noqa: E402
                       render_png, render_svg)
from renderers.samples import personas  # noqa: E402
from locales import market_currency, market_language  # noqa: E402

FIRST = {
    "PL": ["Agnieszka", "Małgorzata", "Grzegorz", "Łucja", "Żaneta", "Paweł", "Zofia", "Jędrzej"],
    "TR": ["İpek", "Işıl", "Çağlar", "Gökhan", "Şule", "Ömer", "Ayşe", "Ilgaz"],
    "IN": ["प्रिया", "Rahul", "अनन्या", "Vikram", "श्रेया", "Arjun", "Lakshmi", "राहुल"],
}
LAST = {
    "PL": ["Wiśniewska", "Brzęczyszczykiewicz", "Żółtowski", "Kowalska-Gąsior", "Szczepańska"],
    "TR": ["Öztürk", "Çağlayan-İnceoğlu", "Yılmaz", "Kılıçdaroğlu", "Şahin"],
    "IN": ["शर्मा", "Venkataraghavan", "वर्मा", "Iyer", "Chattopadhyay"],
}
PROVIDERS = {"payments": ["payu", "blik", "iyzico", "razorpay", "upi"], "shipping": ["inpost", "yurtici", "shiprocket"],
             "marketplaces": ["allegro", "trendyol", "amazon_in"], "invoicing": ["fakturownia", "parasut"],
             "marketing": ["google_ads", "meta_ads"], "domain": ["example-shop.com"]}
TOPICS = ["store_setup", "product_photos", "payments", "shipping", "marketing", "seo", "legal", "marketplaces"]
PERSONAS = ["first_steps", "side_project", "growing_seller", "offline_to_online", "marketplace_seller",
            "global_seller", "ecommerce_pro"]


def varied_pictures(n: int, seed: int = 20261111) -> list[tuple[PictureInput, str]]:
    """``n`` different, realistic profiles (about one field in six unknown)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        market = rng.choice(("PL", "TR", "IN"))
        maybe = lambda v: None if rng.random() < 0.16 else v  # noqa: E731
        stage = rng.choice(STAGES)
        feats = {c: (maybe(rng.random() < 0.5), tuple(rng.sample(PROVIDERS[c], rng.randint(0, len(PROVIDERS[c])))))
                 for c in FEATURE_CATEGORIES}
        pic = PictureInput(
            shop_id=f"{market}-{100000 + i}",
            owner_name=maybe(f"{rng.choice(FIRST[market])} {rng.choice(LAST[market])} {i}"),
            market=market, merchant_language=maybe(market_language(market) if market != "IN" else rng.choice(("en", "hi"))),
            persona=maybe(rng.choice(PERSONAS)), hours_per_week=maybe(rng.randint(2, 60)),
            experience_level=maybe(rng.choice(("none", "beginner", "intermediate", "expert"))),
            known_topics=maybe(tuple(rng.sample(TOPICS, rng.randint(0, 5)))),
            needs=maybe(tuple(rng.sample(TOPICS, rng.randint(0, 4)))),
            main_goal=maybe(f"Goal {i}: sell {rng.choice(TOPICS)} across {market} and abroad in {rng.randint(1, 12)} months"),
            business_type=maybe(rng.choice(("handmade", "new_brand", "offline_store"))),
            business_category=maybe(rng.choice(("fashion", "beauty", "food", "electronics"))),
            business_model=maybe(rng.choice(("b2c", "b2b", "both"))), catalogue_size=maybe(rng.randint(0, 20000)),
            turnover_band=maybe(rng.choice(("micro", "small", "medium", "large"))),
            turnover_amount=maybe(rng.randint(1000, 5_000_000)), turnover_currency=market_currency(market),
            sells_abroad=maybe(rng.random() < 0.4), stage=maybe(stage), percent=maybe(rng.randint(0, 100)),
            first_open=maybe("readiness.payments_connected"), features=feats,
            score=maybe(ScoreInfo(rng.random(), f"Reason {i % 50}: activity in week {rng.randint(1, 4)}",
                                  rng.random() < 0.2)),
            next_step=maybe(f"Step {i % 200}: help connect {rng.choice(PROVIDERS['payments'])} and test an order"),
            changed=frozenset(rng.sample(("features.payments", "score", "readiness.percent", "owner.name"),
                                         rng.randint(0, 3))),
            as_of=date(2026, 11, 11) - timedelta(days=i % 30),
        )
        out.append((pic, market_language(market)))
    return out


def _median_ms(fn, items, repeat=1) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``fn(item)`` over ``items``."""
    wall, cpu = [], []
    for _ in range(repeat):
        for item in items:
            w0, c0 = time.perf_counter(), time.process_time()
            fn(item)
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args()
    n_med = 60 if args.quick else 400
    n_png = 15 if args.quick else 80
    n_bulk = 1000 if args.quick else 10_000

    warm_pic, warm_lang = personas()["pl_first_steps"]
    varied = varied_pictures(max(n_med, n_png) + n_bulk)
    # Warm up imports, fonts and label files (a server has done this before its first request).
    render_png(build_scene(warm_pic, warm_lang))
    render_svg(build_scene(warm_pic, warm_lang))

    rows = []

    def add(bench, wall, cpu, target, unit="ms", **extra):
        rows.append({"bench": bench, "median_ms" if unit == "ms" else "seconds": round(wall, 3),
                     "cpu_" + ("median_ms" if unit == "ms" else "seconds"): round(cpu, 3),
                     "target": target, "ok": wall <= target, **extra})

    w, c = _median_ms(lambda p: render_svg(build_scene(p[0], p[1])), varied[:n_med])
    add("renderers.svg_render", w, c, 2.0, n=n_med, profiles="varied")
    w, c = _median_ms(lambda p: render_svg(build_scene(*p)), [(warm_pic, warm_lang)] * n_med)
    add("renderers.svg_render_same_profile", w, c, 2.0, n=n_med, profiles="one")
    scenes = [build_scene(p, lang) for p, lang in varied[:n_med]]
    w, c = _median_ms(render_svg, scenes)
    add("renderers.svg_serialise_only", w, c, 2.0, n=n_med)
    w, c = _median_ms(lambda p: render_png(build_scene(p[0], p[1])), varied[:n_png])
    add("renderers.png_render", w, c, 20.0, n=n_png, profiles="varied", size="1200x760")

    bulk = varied[-n_bulk:]
    w0, c0 = time.perf_counter(), time.process_time()
    total_bytes = 0
    for pic, lang in bulk:
        total_bytes += len(render_svg(build_scene(pic, lang)))
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    target = 20.0 * n_bulk / 10_000
    rows.append({"bench": f"renderers.svg_bulk_{n_bulk}", "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                 "target": target, "ok": wall <= target, "mean_kb": round(total_bytes / n_bulk / 1024, 1)})

    print(f"renderers benchmark ({platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    print(f"{'benchmark':38} {'wall':>10} {'cpu':>10} {'target':>8}  ok")
    for r in rows:
        unit = "ms" if "median_ms" in r else "s"
        wall = r.get("median_ms", r.get("seconds"))
        cpu = r.get("cpu_median_ms", r.get("cpu_seconds"))
        print(f"{r['bench']:38} {wall:>8.3f}{unit:>2} {cpu:>8.3f}{unit:>2} {r['target']:>6}{unit:>2}  "
              f"{'yes' if r['ok'] else 'NO'}")
    for r in rows:
        print(json.dumps(r, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
