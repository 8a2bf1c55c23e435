"""docs/import.md, Trial histories runs as written (issue 14: the documented import example runs from a
fresh clone, and the CSV's leaking column gets the warning).

The page's ```sh blocks are parsed and each command is run, in order, with the installed
`concierge` script, from a folder where `docs/` is this checkout's docs (so the paths are the
page's own); `# exits N` after a command is the exit status it must have. The lines the page
shows as output (warnings, notes, the import summary, the card's source) must appear in what
the commands printed."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "import.md"


def section() -> str:
    """The page's "## Trial histories" part (the survey exports' part has its own test)."""
    text = DOC.read_text(encoding="utf-8").split("\n## Trial histories\n", 1)[1]
    return text.split("\n## ", 1)[0]
CHECKED = ("Wrote ", "Outcome column:", "  Lead Source ->", "  Lead Quality ->", "    WARNING", "WARNING ", "Note: ",
           "Error: ", "Source: ", "1280 of 1280", "Known at the trial", "Lead Source: ", "Business Type: ",
           "80 open trials")


def blocks(kind: str) -> list[str]:
    """The bodies of the page's fenced blocks whose language is `kind` ("" for plain ones)."""
    out, body, lang = [], None, None
    for line in section().splitlines():
        if line.startswith("```"):
            if body is None:
                body, lang = [], line[3:].strip()
            else:
                if lang == kind:
                    out.append("\n".join(body))
                body = None
        elif body is not None:
            body.append(line)
    return out


def commands() -> list[tuple[str, int]]:
    out = []
    for block in blocks("sh"):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.search(r"\s+#\s*exits (\d+)\s*$", line)
            out.append((line[:m.start()] if m else line, int(m.group(1)) if m else 0))
    return out


def test_the_walkthrough_runs_as_written(tmp_path):
    exe = Path(sys.executable).with_name("concierge")
    if not exe.exists():
        pytest.fail(f"the concierge script is not installed beside {sys.executable}")
    (tmp_path / "docs").symlink_to(ROOT / "docs")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CONCIERGE_DATABASE_URL", None)
    printed = []
    cmds = commands()
    assert sum(c.startswith("concierge ") for c, _ in cmds) >= 10, cmds
    for cmd, want in cmds:
        if cmd.startswith("export "):
            k, v = cmd[len("export "):].split("=", 1)
            env[k] = v
            continue
        args = shlex.split(cmd)
        assert args[0] == "concierge", cmd
        r = subprocess.run([str(exe), *args[1:]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == want, f"{cmd}\n{r.stdout}\n{r.stderr}"
        printed.append((cmd, r.stdout + r.stderr))
    everything = "\n".join(o for _, o in printed)
    shown = [ln for b in blocks("") for ln in b.splitlines() if ln.startswith(CHECKED)]
    assert len(shown) >= 15
    missing = [ln for ln in shown if ln not in everything]
    assert not missing, missing
    by_cmd = dict(printed)
    # the leaking column gets the warning at import and in training, and --strict refuses
    assert "WARNING Probable leakage: column 'Lead Quality'" in by_cmd[
        "concierge import trials docs/examples/leads.csv --mapping leads-mapping.yaml"]
    assert "WARNING Probable leakage: question lead.lead_quality" in by_cmd[
        "concierge model train --schema leads-schema.yaml"]
    fixed = by_cmd["concierge model train --schema docs/examples/leads-schema.yaml"]
    assert "WARNING" not in fixed and "Source: leads.csv" in fixed
    assert "80 open trials scored" in by_cmd["concierge score --all"]
    import hashlib

    sha = hashlib.sha256((ROOT / "docs/examples/leads.csv").read_bytes()).hexdigest()
    assert sha in by_cmd["concierge model show --markdown"]
    # the committed example is what its generator makes
    made = subprocess.run([sys.executable, str(ROOT / "docs/examples/make_leads.py")], capture_output=True, text=True)
    assert made.stdout == (ROOT / "docs/examples/leads.csv").read_text(encoding="utf-8")
