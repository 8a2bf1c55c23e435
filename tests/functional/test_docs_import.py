"""docs/import.md's commands run as written and print what the page shows (SQLite and PostgreSQL)."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from concierge.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def console_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Each `$ command` of the page's console blocks with the output lines shown under it."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line.strip():
                steps[-1][1].append(line)
    return steps


def test_survey_exports_section_runs_as_written(database, db_url, monkeypatch):
    monkeypatch.chdir(ROOT)
    section = (ROOT / "docs" / "import.md").read_text(encoding="utf-8").split("## Survey exports", 1)[1]
    section = section.split("\n## ", 1)[0]  # only this part (others may follow)
    steps = console_blocks(section)
    assert len(steps) >= 8
    runner = CliRunner()
    env = {"CONCIERGE_DATABASE_URL": db_url}
    for command, expected in steps:
        if command.startswith("export "):
            assert command.split("=", 1)[0] == "export CONCIERGE_DATABASE_URL"  # the test's database instead
            continue
        args = shlex.split(command)
        assert args[0] == "concierge"
        if args[1:] == ["init"]:
            continue  # the test's database is created by its fixture
        res = runner.invoke(cli, args[1:], env=env, catch_exceptions=False)
        assert res.exit_code in (0, 1), (command, res.output)
        got = (res.stdout + "\n" + res.stderr).splitlines()
        for want in expected:
            rx = re.compile(".*".join(re.escape(part) for part in want.split("...")) + r"\Z")
            assert any(rx.match(line) for line in got), (command, want, got)
