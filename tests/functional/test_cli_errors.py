"""A CLI user on an empty database (or with a broken override file) gets advice, not a traceback."""
from __future__ import annotations

import os
import subprocess
import sys


def test_command_on_database_without_tables_advises_init(tmp_path):
    env = {**os.environ, "CONCIERGE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite'}"}
    proc = subprocess.run([sys.executable, "-c", "from concierge.cli import main; main()", "shops"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert "concierge init" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_broken_market_override_file_is_named_not_a_traceback(tmp_path):
    """A manager's typo in the override file: the CLI says which file and which field."""
    bad = tmp_path / "overrides.json"
    bad.write_text('{"PL": {"conversion": {"decision_window_days": "two months"}}}', encoding="utf-8")
    env = {**os.environ, "CONCIERGE_MARKET_OVERRIDES": str(bad)}
    proc = subprocess.run([sys.executable, "-c", "from concierge.cli import main; main()", "locales", "show", "PL"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "decision_window_days" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ingest_report_names_every_reason_of_a_rejected_line(tmp_path):
    """An operator fixes a line once, not once per reason."""
    env = {**os.environ, "CONCIERGE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    run = [sys.executable, "-c", "from concierge.cli import main; main()"]
    assert subprocess.run(run + ["init"], capture_output=True, env=env, cwd=tmp_path).returncode == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x2"}\n', encoding="utf-8")
    proc = subprocess.run(run + ["ingest", "events", str(bad)], capture_output=True, text=True,
                          env=env, cwd=tmp_path)
    assert proc.returncode == 1
    for field in ("shop", "type", "occurred_at"):
        assert f"{field}: is required" in proc.stderr
