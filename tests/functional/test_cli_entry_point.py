"""The console script's entry point, run as a process: advice instead of a traceback, and `--help`
without the database libraries."""
from __future__ import annotations

import os
import subprocess
import sys

ENTRY = "from concierge.cli import main; main()"


def _run(args, **env):
    return subprocess.run([sys.executable, "-c", ENTRY, *args], capture_output=True, text=True,
                          env={**os.environ, "CONCIERGE_LANG": "en", **env}, timeout=120)


def test_a_database_without_tables_gets_advice_not_a_traceback(tmp_path):
    r = _run(["shops"], CONCIERGE_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert r.returncode == 2, r.stderr
    assert "Run `concierge init` first." in r.stderr and "Traceback" not in r.stderr


def test_a_broken_market_override_file_is_named(tmp_path):
    bad = tmp_path / "markets.yaml"
    bad.write_text("PL: [not, a, mapping\n", encoding="utf-8")
    r = _run(["audits", "rules"], CONCIERGE_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
             CONCIERGE_MARKET_OVERRIDES=str(bad))
    assert r.returncode == 2, r.stderr
    assert str(bad) in r.stderr and "is not valid" in r.stderr and "Traceback" not in r.stderr


def test_help_loads_no_database_library():
    code = ("import sys\nfrom concierge.cli import main\nsys.argv = ['concierge', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('sqlalchemy', 'numpy', 'flask') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "Usage:" in r.stdout and r.stdout.strip().endswith("LOADED []"), r.stdout + r.stderr
