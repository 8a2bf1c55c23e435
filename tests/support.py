"""Helpers the tests share: the web (the app's database, a page's CSRF token, a user, a login),
the database (statements run, rows read, whole-table dumps, a database per backend for a
module, migrations across a data step), synthetic trials, events posted at once, skipping.

Imported as `from tests.support import ...` (pyproject's pytest `pythonpath` puts the
repository root on the path). Fixtures live in the conftest.py files; these are plain
functions because module-level helpers of the tests and the conftest files call them too.
"""
from __future__ import annotations

import re
from contextlib import contextmanager

PASSWORD = "correct horse battery"


def app_db(app):
    """The app's concierge.db.Database."""
    return app.extensions["concierge.db"]


def csrf_from(html: str) -> str:
    """The CSRF token of the page's form (either attribute order); fails when there is none."""
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def make_user(app, email="anna@example.com", role="consultant", language=None, password=PASSWORD, name=None):
    """A user of the app, named after the email's local part unless `name` is given."""
    from concierge.operations.users import create_user

    with app_db(app).session() as s:
        create_user(s, email, password=password, role=role, language=language, name=name or email.split("@")[0])


def post_login(client, email="anna@example.com", password=PASSWORD, headers=None):
    """The login form sent as a browser sends it (with the CSRF token of the login page); the response."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       headers=headers or {})


class Statements:
    """The SQL statements an engine runs inside the `with` block: `seen`, (statement, parameters) pairs."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, parameters, _context, _executemany):
        self.seen.append((statement, parameters))

    @property
    def statements(self) -> list[str]:
        return [statement for statement, _ in self.seen]

    @property
    def writes(self) -> list[str]:
        """The statements that are not reads (SELECT, WITH, PRAGMA, SHOW)."""
        return [q for q in self.statements if q.lstrip().split(None, 1)[0].upper() not in ("SELECT", "WITH", "PRAGMA", "SHOW")]

    def rows(self) -> int:
        """The rows the reads returned: each SELECT (or WITH) run again, now."""
        total = 0
        with self.engine.connect() as conn:
            for statement, parameters in self.seen:
                if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    total += len(conn.exec_driver_sql(statement, parameters).fetchall())
        return total


def row_counts(session) -> dict[str, int]:
    """{table: its number of rows} for every table of the models."""
    from sqlalchemy import func, select

    from concierge.db import Base

    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def table_dump(database) -> dict[str, list[str]]:
    """{table: its rows, each as a sorted repr} for every table of the models: compare two to see a write."""
    from sqlalchemy import select

    from concierge.db import Base

    out = {}
    with database.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out[table.name] = sorted(repr(sorted(r.items())) for r in conn.execute(select(table)).mappings())
    return out


def load_trials(session, trials, *, open_last: int = 0, same_start=None) -> None:
    """Put synthetic trials (concierge.scoring.synthetic.make_trials) in the database as shops:
    observations, calls, outcomes and the demo truth. The last `open_last` trials stay open (no
    outcome); with `same_start`, every trial starts then (one cohort, as an import without dates)."""
    from datetime import timedelta

    from concierge.models import Call, DemoTruth, Observation, Shop

    for k, t in enumerate(trials):
        is_open = k >= len(trials) - open_last
        began = same_start or t.started_at
        shop = Shop(platform_id=t.shop, market=t.market, trial_started_at=began,
                    trial_ends_at=began + timedelta(days=14), holdout=t.holdout,
                    outcome=None if is_open else ("converted" if t.outcome else "not_converted"),
                    outcome_at=None if is_open else began + timedelta(days=14))
        session.add(shop)
        session.flush()
        session.add_all([Observation(shop_id=shop.id, question=o.question, value=o.value, op=o.op, source=o.source,
                                     actor=o.actor, observed_at=o.observed_at) for o in t.observations])
        if t.call_at:
            session.add(Call(shop_id=shop.id, actor="consultant", called_at=t.call_at))
        session.add(DemoTruth(shop_id=shop.id, persona="x", p_no_call=t.p_no_call, p_call=t.p_call,
                              called=t.called, seed=1))
    session.commit()


@contextmanager
def shared_database(request, tmp_path_factory, name: str):
    """For a module- or session-scoped fixture parametrized "sqlite"/"postgresql": (Database, URL)
    of a fresh database with the tables created (a SQLite file, or a PostgreSQL schema dropped
    afterwards), disposed when the block ends."""
    from sqlalchemy import text

    from concierge.db import Database

    admin = schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.sqlite'}"
    else:
        admin, schema, url = request.getfixturevalue("pg_schema_factory")()
    db = Database(url)
    try:
        db.create_all()
        yield db, url
    finally:
        db.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def init_twice_without(db_url, model):
    """A migrated database with three shops whose `model` rows were then deleted (as in a database
    from before that table, or restored without it); `concierge init` run on it twice: (the first
    run's Result, the number of `model` rows after it, the second run's Result)."""
    from click.testing import CliRunner
    from sqlalchemy import delete, func, select

    from concierge import migrate
    from concierge.cli import cli
    from concierge.db import Database
    from concierge.operations.shops import ensure_shop

    def init():
        return CliRunner().invoke(cli, ["init"], env={"CONCIERGE_DATABASE_URL": db_url}, catch_exceptions=False)

    migrate.upgrade(db_url)
    database = Database(db_url)
    try:
        with database.session() as s:
            for i in range(3):
                ensure_shop(s, f"pl-init-{i}", "PL")
            s.execute(delete(model))
        first = init()
        with database.sessionmaker() as s:
            rows = s.scalar(select(func.count()).select_from(model))
        return first, rows, init()
    finally:
        database.dispose()


def at_once(n: int, prepare, send) -> list:
    """`send(prepare())` in n threads, each prepared first, then all released at the same moment;
    what each send returned, in the order they finished."""
    import threading

    barrier = threading.Barrier(n)
    results: list = []

    def run() -> None:
        ready = prepare()
        barrier.wait()
        results.append(send(ready))

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def post_event(client, auth, body, **kw):
    """POST /api/v1/events: `body` as given when text or bytes, else as JSON; the response."""
    import json

    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/api/v1/events", data=data, headers=auth, content_type="application/json", **kw)


def count_rows(db, *models) -> tuple[int, ...]:
    """The number of rows of each model, in order."""
    from sqlalchemy import func, select

    with db.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in models)


def count_reads(engine, request) -> tuple[int, int, object]:
    """(the statements run, the rows they read, what `request()` returned) for one call of `request`."""
    with Statements(engine) as reads:
        got = request()
    return len(reads.seen), reads.rows(), got


def read_only_report(session, engine, key: str, **kwargs):
    """build_report(session, key, **kwargs), asserting that it wrote nothing: no statement but reads,
    nothing pending in the session, every table's row count as before."""
    from concierge.operations.reports import build_report

    before = row_counts(session)
    with Statements(engine) as statements:
        report = build_report(session, key, **kwargs)
    assert statements.writes == [] and not (session.new or session.dirty or session.deleted)
    assert row_counts(session) == before
    return report


def migrate_across(db_url: str, before: str, write, read):
    """A migration's data step: the database migrated to `before`, `write(conn, stamp)` run in one
    transaction there (raw SQL; `stamp(moment)` gives a datetime as that column takes it: naive ISO
    text on SQLite), then migrated to head; what `read(session)` returns from the models afterwards."""
    from sqlalchemy import create_engine

    from concierge import migrate
    from concierge.db import Database

    migrate.upgrade(db_url, before)
    engine = create_engine(db_url)
    sqlite = engine.dialect.name == "sqlite"

    def stamp(v):
        return None if v is None else (v.replace(tzinfo=None).isoformat(" ") if sqlite else v)

    try:
        with engine.begin() as conn:
            write(conn, stamp)
    finally:
        engine.dispose()
    migrate.upgrade(db_url)
    db = Database(db_url)
    try:
        with db.sessionmaker() as s:
            return read(s)
    finally:
        db.dispose()


def skip_or_fail(reason: str | None, required_by: str) -> None:
    """Nothing when `reason` is None; else skip the test saying why, or fail it when the environment
    variable `required_by` is "1" (CI sets it: what the tests need must be there)."""
    import os

    import pytest

    if reason:
        if os.environ.get(required_by) == "1":
            pytest.fail(f"{reason} ({required_by}=1)")
        pytest.skip(reason)
