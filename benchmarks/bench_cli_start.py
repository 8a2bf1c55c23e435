"""Issue 15, item 6: how fast the command line starts, as a whole process.

Targets: `concierge --help` <= 3 x `python -c pass` + 0.3 s; `concierge render SHOP -o x.svg`
<= 1.5 s on the 600-shop demo. Each command runs as its own process, the three side by side in
rounds (so a busy moment on the host hits all of them), and the median of the rounds is
reported with the target it is held to. A throw-away SQLite database holds the demo.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--shops", type=int, default=600)
    args = parser.parse_args()
    exe = str(Path(sys.executable).with_name("concierge"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CONCIERGE_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
               "CONCIERGE_INSTANCE_PATH": f"{tmp}/instance"}
        subprocess.run([exe, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([exe, "demo", "--shops", str(args.shops), "--no-plan", "--today", "2026-11-01"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        shops = json.loads(subprocess.run([exe, "shops", "--json"], env=env, check=True, capture_output=True,
                                          text=True).stdout)
        shop = (shops["shops"] if isinstance(shops, dict) else shops)[0]["id"]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "concierge --help": [exe, "--help"],
            "concierge render": [exe, "render", shop, "-o", f"{tmp}/x.svg"],
        }
        for cmd in commands.values():  # warm the file cache once
            _timed(cmd, env)
        times: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(args.rounds):
            for name, cmd in commands.items():
                times[name].append(_timed(cmd, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    help_target = 3 * med["python -c pass"] + 0.3
    print(f"{'command':<20} {'median s':>9} {'min s':>7} {'max s':>7}")
    for k, v in times.items():
        print(f"{k:<20} {med[k]:>9.3f} {min(v):>7.3f} {max(v):>7.3f}")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(json.dumps({"bench": "cli start: --help", "median_s": round(med["concierge --help"], 3),
                      "python_pass_s": round(med["python -c pass"], 3), "target_s": round(help_target, 3),
                      "meets": med["concierge --help"] <= help_target, "rounds": args.rounds}))
    print(json.dumps({"bench": "cli start: render", "median_s": round(med["concierge render"], 3),
                      "target_s": 1.5, "meets": med["concierge render"] <= 1.5, "shops": args.shops,
                      "rounds": args.rounds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
