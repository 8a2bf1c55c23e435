"""Web and API blueprints: every module here (and in concierge.api) with a `bp` is mounted."""
from __future__ import annotations

import importlib
import pkgutil

from flask import Flask


def register(app: Flask) -> None:
    for package in ("concierge.web", "concierge.api"):
        try:
            pkg = importlib.import_module(package)
        except ModuleNotFoundError:
            continue
        for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__)):
            module = importlib.import_module(f"{package}.{mod}")
            bp = getattr(module, "bp", None)
            if bp is not None:
                app.register_blueprint(bp)
