"""Dependencies are declared where they are used (issue 15): every third-party module the code
imports comes from a distribution in pyproject's [project] dependencies (the tests': there or in the
`test` extra), and nothing is declared that nothing imports, bar the few used without an import."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ("concierge", "profile_schema", "renderers", "audits", "locales")
FIRST_PARTY = {*CODE, "tests", "benchmarks"}
#: declared for runtime although no module imports them, and why
USED_WITHOUT_IMPORT = {
    "tzdata": "the time zone data zoneinfo reads where the system has none",
    "redis": "Flask-Limiter's storage, chosen by CONCIERGE_REDIS_URL",
    "gunicorn": "the server `concierge serve --production` starts",
}


def _norm(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group(0)).lower()


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return ({_norm(r) for r in project["dependencies"]},
            {_norm(r) for r in project.get("optional-dependencies", {}).get("test", [])})


def imported(folders) -> dict[str, set[str]]:
    """{distribution: files importing it} for every third-party import (function-local ones too)."""
    where = packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in FIRST_PARTY or top == "__future__":
                        continue
                    for dist in where.get(top, [f"<not installed: {top}>"]):
                        found.setdefault(_norm(dist), set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_every_import_of_the_code_is_declared_for_runtime():
    runtime, _test = declared()
    used = imported(CODE)
    assert len(used) > 15  # the scan really sees the imports
    assert {d: sorted(f)[:3] for d, f in used.items() if d not in runtime} == {}


def test_every_import_of_the_tests_is_declared():
    runtime, test = declared()
    used = imported(["tests"])
    assert {d: sorted(f)[:3] for d, f in used.items() if d not in runtime | test} == {}


def test_nothing_is_declared_that_nothing_uses():
    runtime, test = declared()
    code, tests = set(imported(CODE)), set(imported(["tests"]))
    assert sorted(runtime - code - set(USED_WITHOUT_IMPORT)) == [], "only tests use it: move it to the test extra"
    # a pytest plugin that the Makefile's `make test` asks for on the command line
    plugins = {"pytest-xdist": "-n $(TEST_WORKERS)"}
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert all(flag in makefile for flag in plugins.values())
    assert sorted(test - tests - code - set(plugins)) == []
