"""Concierge: the web app, the API, the CLI and persistence around the pure packages."""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def create_app(config: dict[str, Any] | None = None):
    """Build the Flask app; nothing is created at import time."""
    from .app import build_app

    return build_app(config)
