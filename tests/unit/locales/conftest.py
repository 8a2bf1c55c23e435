"""Make ``import locales`` resolve to the real package under pytest.

The editable install in .venv was made before ``locales/__init__.py`` existed, so its
finder registers ``locales`` as a namespace package and ``__init__`` never runs unless
the repository root is on ``sys.path`` (``python -m pytest`` adds it, ``pytest`` does not).
Refreshing the install (``pip install -e .``) or ``pythonpath = ["."]`` makes this moot.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
_loaded = sys.modules.get("locales")
if _loaded is not None and getattr(_loaded, "__file__", None) is None:
    # A namespace-package stub was imported earlier; drop it so the real package loads.
    for name in [n for n in sys.modules if n == "locales" or n.startswith("locales.")]:
        del sys.modules[name]
