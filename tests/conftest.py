"""Shared fixtures: real SQLite and real PostgreSQL, each test on a fresh database.

PostgreSQL tests use a throw-away schema per test in the database named by
CONCIERGE_TEST_POSTGRES_URL (default: the local server, database `test`). Where the
server is unreachable they skip with a message, unless CONCIERGE_REQUIRE_POSTGRES=1
(set by .ci/run), in which case they fail.
"""
from __future__ import annotations

import os
import uuid

# One OpenMP/BLAS thread per test process, set before numpy or scikit-learn load their pools:
# `make test` runs one process per core, and two processes each spinning two OpenMP threads
# on two cores made a 2 s model fit take 160 s.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from tests.support import skip_or_fail  # noqa: E402

# CI explores the same examples every run (a red build must be reproducible); developers'
# runs explore new random examples each time, where a fresh failure is a found bug.
settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The CLI speaks its reader's language (CONCIERGE_LANG, else LC_ALL/LC_MESSAGES/LANG): the tests
# compare English output, whatever the developer's locale; tests of other languages set it themselves.
os.environ["CONCIERGE_LANG"] = "en"

PG_URL = os.environ.get("CONCIERGE_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, object] = {}


def _postgres_available() -> str | None:
    """None when reachable, else the reason."""
    if "reason" not in _pg_state:
        from sqlalchemy import create_engine, text

        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(text("select 1"))
            eng.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # noqa: BLE001 - any failure means: not here
            _pg_state["reason"] = f"PostgreSQL unreachable at {PG_URL}: {exc.__class__.__name__}: {exc}"
    return _pg_state["reason"]  # type: ignore[return-value]


def require_postgres() -> None:
    skip_or_fail(_postgres_available(), "CONCIERGE_REQUIRE_POSTGRES")


def new_pg_schema():
    """(admin engine, schema, URL) of a fresh PostgreSQL schema (skipped, or failed under
    CONCIERGE_REQUIRE_POSTGRES=1, when the server is unreachable); the caller drops it."""
    require_postgres()
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    return admin, schema, f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def pg_schema_factory():
    """`new_pg_schema`, for module- and session-scoped fixtures that build one shared database."""
    return new_pg_schema


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    from sqlalchemy import text

    admin, schema, url = new_pg_schema()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """Each storage test runs twice: embedded SQLite and PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def database(db_url):
    from concierge.db import Database

    db = Database(db_url)
    db.create_all()
    yield db
    db.dispose()


@pytest.fixture
def session(database):
    with database.sessionmaker() as s:
        yield s
        s.rollback()


@pytest.fixture
def app(db_url, tmp_path):
    from concierge import create_app
    from concierge.db import Base

    app = create_app({
        "DATABASE_URL": db_url, "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex, "TESTING": True,
    })
    db = app.extensions["concierge.db"]
    Base.metadata.create_all(db.engine)
    yield app
    db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def concierge_cli() -> list[str]:
    """The installed `concierge` console script, for tests that run the real server or CLI as a process."""
    import shutil
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("concierge")
    if script.exists():
        return [str(script)]
    found = shutil.which("concierge")
    if found is None:
        pytest.skip("the concierge console script is not installed (pip install -e .)")
    return [found]


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cli_run(database, db_url):
    """`cli_run(*args, env=None)`: the `concierge` CLI in-process (click's CliRunner) on the test's
    database (its tables created), the arguments as strings, `env` added to the environment; the
    click Result."""
    from click.testing import CliRunner

    from concierge.cli import cli

    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(cli, [str(a) for a in args], env={"CONCIERGE_DATABASE_URL": db_url, **(env or {})},
                             catch_exceptions=False)
    return invoke


@pytest.fixture
def db(app):
    """The app's concierge.db.Database."""
    return app.extensions["concierge.db"]


@pytest.fixture
def bearer(app):
    """`bearer(name, role="integration")`: the Authorization header of a new API token of the app."""
    from concierge.operations.tokens import create_token

    def issue(name: str, role: str = "integration") -> dict[str, str]:
        with app.extensions["concierge.db"].session() as s:
            _, token = create_token(s, name, role=role)
        return {"Authorization": f"Bearer {token}"}
    return issue
