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
