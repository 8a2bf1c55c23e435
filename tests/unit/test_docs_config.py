"""Every CONCIERGE_* setting the code reads has a row in README's configuration table, with the
default the code uses (and the range it accepts) (issue 15: the table had lost three)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from concierge.config import RATE_LIMITS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("concierge", "profile_schema", "renderers", "audits", "locales")
NAME = re.compile(r"\bCONCIERGE_[A-Z0-9_]*[A-Z0-9]\b")
NOT_SETTINGS = {"CONCIERGE_RATE_LIMIT"}  # the prefix of CONCIERGE_RATE_LIMIT_<NAME>, listed by RATE_LIMITS


def _sources():
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py")) if "migrations" not in p.parts]


def settings_in_code() -> set[str]:
    found = {m for p in _sources() for m in NAME.findall(p.read_text("utf-8"))} - NOT_SETTINGS
    return found | {f"CONCIERGE_RATE_LIMIT_{name}" for name in RATE_LIMITS}


def readme_rows() -> dict[str, tuple[str, str]]:
    text = (ROOT / "README.md").read_text("utf-8")
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and (m := re.fullmatch(r"`(CONCIERGE_[A-Z0-9_]+)`", cells[0])):
            rows[m.group(1)] = (" | ".join(cells[1:-1]), cells[-1])
    return rows


def _const(node: ast.AST, module: Path):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):  # a module constant such as CALIBRATION_DRIFT_ECE
        for stmt in ast.parse(module.read_text("utf-8")).body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                if any(isinstance(t, ast.Name) and t.id == node.id for t in targets) and isinstance(stmt.value, ast.Constant):
                    return stmt.value.value
    return None


def defaults_in_code() -> dict[str, tuple[object, tuple[object, object] | None]]:
    """{setting: (default, (low, high) or None)} from `os.environ.get("X") or DEFAULT` and
    `_int_env/_float_env/_whole("X", DEFAULT, LOW, HIGH)`, where the default is a constant."""
    out = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) == 2:
                get, default = node.values
                if (isinstance(get, ast.Call) and ast.unparse(get.func) == "os.environ.get" and get.args
                        and isinstance(get.args[0], ast.Constant) and (value := _const(default, path)) not in (None, "")):
                    out.setdefault(get.args[0].value, (value, None))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("_int_env", "_float_env", "_whole") and len(node.args) == 4
                  and isinstance(node.args[0], ast.Constant)):
                default, low, high = (_const(a, path) for a in node.args[1:])
                if default is not None:
                    out[node.args[0].value] = (default, (low, high))
    return out


def test_every_setting_has_a_readme_row():
    rows = readme_rows()
    in_code = settings_in_code()
    assert len(in_code) > 20  # the scan really finds the settings
    assert sorted(in_code - set(rows)) == [], "add a row to README's configuration table"
    assert sorted(set(rows) - in_code) == [], "README documents a setting the code no longer reads"
    assert all(default for _meaning, default in rows.values())


def test_readme_defaults_and_ranges_are_the_code_s():
    rows = readme_rows()
    found = defaults_in_code()
    assert {"CONCIERGE_TIMEOUT", "CONCIERGE_BIND", "CONCIERGE_CALIBRATION_DRIFT_ECE"} <= set(found)
    wrong = []
    for name, (default, limits) in sorted(found.items()):
        meaning, documented = rows.get(name, ("", ""))
        shown = f"`{default:g}`" if isinstance(default, float) else f"`{default}`"
        if shown not in documented:
            wrong.append(f"{name}: default {default!r}, README says {documented!r}")
        if limits and f"({limits[0]:g}-{limits[1]:g})" not in meaning:
            wrong.append(f"{name}: accepts {limits[0]:g}-{limits[1]:g}, README says {meaning!r}")
    for name, limit in RATE_LIMITS.items():
        if f"`{limit}`" != rows.get(f"CONCIERGE_RATE_LIMIT_{name}", ("", ""))[1]:
            wrong.append(f"CONCIERGE_RATE_LIMIT_{name}: default {limit!r}")
    assert wrong == []
