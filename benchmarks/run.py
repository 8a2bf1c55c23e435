"""Run every benchmarks/bench_*.py and record the figures in docs/benchmarks.md.

Each benchmark script prints a human table and one or more JSON lines (objects with a
"bench" key). This runner collects those lines, prints a summary and rewrites the
results section of docs/benchmarks.md with the machine and the date. Benchmarks, not
tests: nothing here fails a build; the targets are compared and reported.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def run_one(path: Path) -> tuple[list[dict], str, float]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - start
    results = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and "bench" in data:
                results.append(data)
            elif isinstance(data, dict) and isinstance(data.get("results"), list):
                # {"benchmark": name, "results": [{"case": ..., ...}]}: one row per case
                for case in data["results"]:
                    row = {k: v for k, v in case.items() if k != "case" and v is not None}
                    results.append({"bench": f"{data.get('benchmark', path.stem)}: {case.get('case')}", **row})
    if proc.returncode != 0:
        results.append({"bench": path.stem, "error": proc.stderr.strip().splitlines()[-1:] or ["failed"]})
    return results, proc.stdout, elapsed


def _previous_rows(text: str) -> dict[str, str]:
    """Rows already recorded, by benchmark name (only those with a 'measured' column)."""
    if BEGIN not in text or END not in text:
        return {}
    block = text[text.index(BEGIN):text.index(END)]
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and cells[0] not in ("benchmark", "---"):
            rows[cells[0]] = line
    return rows


def _fmt(d: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in d.items() if k != "bench")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="names of benchmarks to run (default: all)")
    parser.add_argument("--no-record", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if any(o in s.stem for o in args.only)]
    rows = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        results, stdout, elapsed = run_one(script)
        print(stdout)
        rows += [(script.name, r) for r in results]
        print(f"   ({elapsed:.1f} s)\n", flush=True)
    print("Summary")
    for name, r in rows:
        print(f"  {r['bench']:<28} {_fmt(r)}")
    if not args.no_record and rows:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        table = _previous_rows(text)  # a filtered run keeps the other benchmarks' rows
        for name, r in rows:
            table[r["bench"]] = f"| {r['bench']} | {name} | {_fmt(r)} | {when} |"
        lines = [BEGIN, f"Last run: {when} on {machine}.", "",
                 "| benchmark | script | figures | measured |", "|---|---|---|---|"]
        lines += [table[k] for k in sorted(table)]
        lines.append(END)
        block = "\n".join(lines)
        if BEGIN in text and END in text:
            text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            text = text.rstrip() + "\n\n## Latest run (written by `make bench`)\n\n" + block + "\n"
        DOC.write_text(text, encoding="utf-8")
        print(f"\nRecorded in {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
