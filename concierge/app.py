"""The Flask application factory and the request-scoped session (one commit point)."""
from __future__ import annotations

from typing import Any

from flask import Flask, g, current_app
from sqlalchemy.orm import Session

from .config import load_config
from .db import Database

EXTENSION = "concierge.db"


def build_app(config: dict[str, Any] | None = None) -> Flask:
    cfg = load_config(config)
    app = Flask(__name__, instance_path=cfg["INSTANCE_PATH"], instance_relative_config=False)
    app.config.update(cfg)
    db = Database(app.config["DATABASE_URL"])
    app.extensions[EXTENSION] = db

    @app.after_request
    def _commit(response):  # one commit point: the request wrapper commits once
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 500:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _rollback(exc):  # an exception skipped after_request: never keep half a request
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()

    from .web import register as register_web

    register_web(app)
    return app


def get_db() -> Database:
    return current_app.extensions[EXTENSION]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    return g.db_session
