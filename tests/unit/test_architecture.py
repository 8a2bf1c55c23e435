"""The pure packages stay pure: no Flask, no SQLAlchemy, no concierge, no work at import."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ("profile_schema", "renderers", "audits", "locales")
FORBIDDEN = ("flask", "flask_wtf", "flask_babel", "sqlalchemy", "alembic", "werkzeug", "wtforms", "concierge")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", PURE)
def test_pure_package_imports_no_web_or_database(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for lineno, name in _imports(path):
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(ROOT)}:{lineno} imports {name}")
    assert not offenders, "pure package imports the shell:\n" + "\n".join(offenders)


def test_the_guard_detects_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import Flask\nimport sqlalchemy.orm\n")
    assert [n for _, n in _imports(bad)] == ["flask", "sqlalchemy.orm"]


def test_importing_the_app_package_creates_nothing():
    """No app, engine or model is built at import time (ARCHITECTURE: nothing at import)."""
    code = (
        "import sys, concierge, concierge.models, concierge.cli;"
        "assert 'flask' not in sys.modules or not any("
        "type(v).__name__ == 'Flask' for m in list(sys.modules.values()) if m and m.__name__.startswith('concierge')"
        " for v in vars(m).values());"
        "import sqlalchemy.engine as e;"
        "assert not any(isinstance(v, e.Engine) for m in list(sys.modules.values()) if m and m.__name__.startswith('concierge')"
        " for v in vars(m).values()); print('clean')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"


CORE = ("operations", "ingest", "scoring", "demo", "cli")
SHELLS = ("flask", "flask_wtf", "flask_babel", "concierge.api", "concierge.web", "concierge.app")


def _resolved_imports(path: Path) -> list[tuple[int, str]]:
    """Absolute module names imported by `path`, relative imports resolved."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.append((node.lineno, module))
            if not node.module:  # `from .. import api`
                found += [(node.lineno, f"{module}.{a.name}") for a in node.names]
    return found


@pytest.mark.parametrize("area", CORE)
def test_operations_and_cli_do_not_depend_on_the_web_shells(area):
    """Arrows point one way: the web and API call operations, never the other way round."""
    offenders = []
    for path in sorted((ROOT / "concierge" / area).rglob("*.py")):
        for lineno, name in _resolved_imports(path):
            if any(name == s or name.startswith(s + ".") for s in SHELLS):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_the_shell_guard_resolves_relative_imports(tmp_path):
    probe = ROOT / "concierge" / "operations" / "surveys.py"
    names = [n for _, n in _resolved_imports(probe)]
    assert "concierge.ingest.survey_schemas" in names and "concierge.models" in names


def _blueprint_modules_in_tree() -> set[str]:
    """Modules under concierge/web and concierge/api that define a module-level `bp`."""
    found = set()
    for package in ("web", "api"):
        for path in sorted((ROOT / "concierge" / package).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else []
                if any(isinstance(t, ast.Name) and t.id == "bp" for t in targets):
                    found.add(f"concierge.{package}.{path.stem}")
    return found


def test_every_blueprint_is_registered_by_name():
    """Blueprints are listed, not discovered: none is left out of the list, none is listed twice,
    and the app serves a rule from each."""
    from concierge.web import BLUEPRINT_MODULES

    assert len(set(BLUEPRINT_MODULES)) == len(BLUEPRINT_MODULES)
    in_tree = _blueprint_modules_in_tree()
    assert len(in_tree) >= 15
    assert set(BLUEPRINT_MODULES) == in_tree, (
        f"not listed in concierge.web.BLUEPRINT_MODULES: {sorted(in_tree - set(BLUEPRINT_MODULES))}; "
        f"listed but without a bp: {sorted(set(BLUEPRINT_MODULES) - in_tree)}")


def test_every_command_module_is_registered_by_name():
    from concierge.cli import COMMAND_MODULES

    in_tree = {path.stem for path in (ROOT / "concierge" / "cli").glob("*.py")
               if any(isinstance(node, ast.FunctionDef) and node.name == "register"
                      for node in ast.parse(path.read_text(encoding="utf-8")).body)}
    assert len(in_tree) >= 20 and len(set(COMMAND_MODULES)) == len(COMMAND_MODULES)
    assert set(COMMAND_MODULES) == in_tree, f"not in concierge.cli.COMMAND_MODULES: {sorted(in_tree - set(COMMAND_MODULES))}"


# concierge/scoring: the model code is pure (no web, no database, nothing of concierge outside scoring);
# what loads trials, stores models and imports files is in concierge/operations/scoring (issue 15, item 1).
SCORING = ROOT / "concierge" / "scoring"


def _scoring_offences(path: Path) -> list[str]:
    """Imports of the web, the database or concierge outside scoring, anywhere in the module
    (function bodies too), absolute or relative."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
            elif node.level >= 2:  # from .. (concierge) or further up
                names = ["concierge." + (node.module or "")]
        for name in names:
            top = name.split(".")[0]
            inside = name == "concierge.scoring" or name.startswith("concierge.scoring.")
            if top in FORBIDDEN and not inside:
                found.append(f"{path.name}:{node.lineno} imports {name}")
    return found


def test_the_scoring_core_imports_no_web_database_or_shell():
    modules = sorted(SCORING.rglob("*.py"))
    assert {"features.py", "estimators.py", "model.py", "reasons.py", "metrics.py"} <= {p.name for p in modules}
    offenders = [o for p in modules for o in _scoring_offences(p)]
    assert not offenders, "scoring's pure core imports the shell:\n" + "\n".join(offenders)


def test_the_scoring_guard_sees_relative_and_nested_imports(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from . import features\nfrom .model import X\n\ndef f():\n    from ..db import utcnow\n"
                   "    import sqlalchemy\n    from concierge.models import Shop\n    from concierge.scoring import model\n")
    assert _scoring_offences(bad) == ["bad.py:5 imports concierge.db", "bad.py:6 imports sqlalchemy",
                                      "bad.py:7 imports concierge.models"]


def test_each_operation_name_is_defined_once():
    """One name per thing: a public function of the operations is defined in one module (another
    may re-export it), so `latest_score` cannot again mean two things with two return types."""
    import ast

    seen: dict[str, list[str]] = {}
    for path in sorted((ROOT / "concierge" / "operations").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                seen.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    # one contract each, met per module: a report's build(session, lang=, market=, now=), each
    # channel's replay of its dead letters, a module's message(code, lang), and the two ways to
    # sign in (tokens.authenticate: an API token; users.authenticate: a password)
    interfaces = {"build", "replay_dead_letter", "message", "authenticate"}
    assert seen["latest_score"] == ["concierge/operations/scoring/latest.py"]
    twice = {name: where for name, where in seen.items() if len(where) > 1 and name not in interfaces}
    assert not twice, twice
