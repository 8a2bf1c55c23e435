"""A CLI user on an empty database is told to run `concierge init`, not shown a traceback."""
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
