"""Database plumbing: typed declarative base, UTC datetimes, engine and session factory.

Nothing here runs at import time: an app or a CLI command builds a `Database` from its
URL. Operations add to a session and flush; the web request or CLI command commits once.
"""
from __future__ import annotations

import contextlib
import os
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Store UTC, give back aware datetimes: SQLite keeps no zone, so we never trust one."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class RowReader:
    """Reads one ORM object by one column with a Core statement built once per process (building
    the ORM's statement costs more than running it) and attaches it to the session as if the
    ORM had loaded it: no history, so a view may change it and the flush writes only that.

    For the reads every request makes (the logged-in user, the API token).
    """

    def __init__(self, model: type, column: str):
        self.model, self.column = model, column
        self._stmt: Any = None
        self._attrs: Any = None

    def __call__(self, session: Session, value: Any) -> Any:
        from sqlalchemy import bindparam, inspect, select
        from sqlalchemy.orm import make_transient_to_detached

        mapper = inspect(self.model)
        if self._stmt is None:
            self._attrs = list(mapper.column_attrs)
            self._stmt = select(*(a.columns[0] for a in self._attrs)).where(
                self.model.__table__.c[self.column] == bindparam("value"))
        row = session.connection().execute(self._stmt, {"value": value}).first()
        if row is None:
            return None
        values = {a.key: v for a, v in zip(self._attrs, row)}
        known = session.identity_map.get(mapper.identity_key_from_primary_key(
            tuple(values[c.key] for c in mapper.primary_key)))
        if known is not None:
            return known  # already in this session: its own (maybe changed) object
        obj = self.model(**values)
        make_transient_to_detached(obj)
        session.add(obj)
        return obj


@contextlib.contextmanager
def server_settings(session: Session, **settings: str) -> Iterator[None]:
    """PostgreSQL: these run-time settings (`set_config(name, value, true)`: transaction-local) for
    the statements run inside, put back afterwards; nothing on other databases. After an error the
    transaction is aborted and its rollback undoes them."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    from sqlalchemy import text

    previous = {name: session.execute(text("SELECT current_setting(:n)"), {"n": name}).scalar_one()
                for name in settings}
    for name, value in settings.items():
        session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    yield
    for name, value in previous.items():
        session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith("sqlite"):
        # a pooled connection the server dropped (restart, failover, idle timeout, a DBA's
        # pg_terminate_backend) is noticed and replaced at checkout instead of failing a request
        kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("sqlite"):
        # one writer at a time: a writer waits up to 30 s for the lock instead of failing at 5 s
        # (50 consultants claiming at once queue for a few milliseconds each)
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
    engine = create_engine(url, future=True, **kwargs)
    if engine.dialect.name == "sqlite":
        _create_private_file(engine.url.database)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
    return engine


def _sqlite_begin_before_savepoint(conn: Any, _name: str) -> None:
    """Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE, never before a
    SAVEPOINT, and SQLite runs a SAVEPOINT outside a transaction as a transaction of its own
    that its RELEASE commits: a `begin_nested()` as the first write would be committed at
    once, apart from (and surviving the rollback of) the rest of the request. So open the
    transaction first, with the write lock (a savepoint is there to write; a writer that
    waited for the lock then reads what the other writer committed)."""
    if not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _create_private_file(database: str | None) -> None:
    """Create a new SQLite file empty and 0600 before SQLite opens it.

    SQLite gives its -wal and -shm files the main file's permissions, so all three stay
    readable by their owner only, with no moment of a world-readable file (the umask's
    usual 0644). An existing file keeps the permissions it has; memory databases and
    `file:` URIs are left to SQLite.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:  # no such folder, read-only: SQLite reports it when it connects
        return
    os.close(fd)


class Database:
    """An engine and its session factory; one per app or CLI invocation."""

    def __init__(self, url: str, **engine_kwargs: Any):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, future=True)

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """The one commit point for CLI work: commit at the end, roll back on any error."""
        s = self.sessionmaker()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def create_all(self) -> None:
        from . import models  # noqa: F401  (register the tables)

        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
