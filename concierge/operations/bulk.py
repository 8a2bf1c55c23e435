"""Many rows into one table at once, as plain tuples through the driver's executemany.

SQLAlchemy's Core executemany runs every value of every row through its bind processing
(a dict per row, a type processor per value): for `concierge ingest events` that was about
as much time as the inserts themselves. Here the caller converts the few typed values once
with the same rules SQLAlchemy applies (`stored_datetime`, `stored_json`) and the rows go
to the driver as tuples (`Connection.exec_driver_sql`: the session's transaction, its
events and its error wrapping stay). The stored values are exactly those of
`session.execute(insert(table), dicts)` on SQLite and PostgreSQL (tests/integration/
test_ingest_fast_path.py compares both paths row by row); any other database goes through
Core.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any, Callable, Sequence

from sqlalchemy import Boolean, Float, Integer, String, Table, Text, insert
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON

from ..db import UTCDateTime

_UTC = timezone.utc
_dumps = json.dumps
FAST_DIALECTS = ("sqlite", "postgresql")


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def _sqlite_datetime(value: datetime | None) -> str | None:
    """What `UTCDateTime` and SQLite's DATETIME store: UTC wall time, always with microseconds."""
    if value is None:
        return None
    if value.tzinfo is not _UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(_UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _pg_datetime(value: datetime | None) -> datetime | None:
    """What `UTCDateTime` binds on PostgreSQL: the aware value, in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(_UTC)


try:  # json.dumps(value) with its C encoder made once (json.dumps makes one per call)
    from json.encoder import c_encode_basestring_ascii, c_make_encoder

    if c_make_encoder is None or c_encode_basestring_ascii is None:
        raise ImportError
    _chunks = c_make_encoder(None, json.JSONEncoder().default, c_encode_basestring_ascii, None, ": ", ", ",
                             False, False, True)
except ImportError:  # pragma: no cover - CPython always has the C encoder
    _chunks = None


def _sqlite_json(value: Any) -> str:
    """What SQLAlchemy's JSON type stores on SQLite: json.dumps(value) (None is JSON null)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    cls = value.__class__
    if cls is str and _chunks is not None:
        return c_encode_basestring_ascii(value)
    if cls is int:
        return int.__repr__(value)
    if (cls is dict or cls is list) and _chunks is not None:
        return "".join(_chunks(value, 0))
    return _dumps(value)


def _sqlite_read_datetime(value: str | None) -> datetime | None:
    """What `UTCDateTime` gives back on SQLite: the stored UTC wall time, made aware."""
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=_UTC)


def _pg_read_datetime(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(_UTC)


def read_datetime(dialect: str) -> Callable[[Any], datetime | None]:
    """The function turning what the driver returns for a `UTCDateTime` column into the aware UTC
    datetime SQLAlchemy would give (for SQL run with exec_driver_sql)."""
    return _sqlite_read_datetime if dialect == "sqlite" else _pg_read_datetime


def stored_datetime(dialect: str) -> Callable[[datetime | None], Any]:
    """The function turning an aware datetime into what a `UTCDateTime` column binds."""
    return _sqlite_datetime if dialect == "sqlite" else _pg_datetime


def stored_json(dialect: str) -> Callable[[Any], Any]:
    """The function turning a JSON value into what a JSON (JSONB on PostgreSQL) column binds."""
    if dialect == "sqlite":
        return _sqlite_json
    from psycopg.types.json import Jsonb  # what SQLAlchemy's psycopg dialect binds JSONB with

    return Jsonb


def converters(table: Table, columns: Sequence[str], dialect: str) -> list[Callable[[Any], Any] | None]:
    """Per column: the conversion of a Python value into what it binds (None: as it is)."""
    out: list[Callable[[Any], Any] | None] = []
    for name in columns:
        t = table.c[name].type
        if isinstance(t, UTCDateTime):
            out.append(stored_datetime(dialect))
        elif isinstance(t, JSON) or isinstance(getattr(t, "impl", None), JSON):
            out.append(stored_json(dialect))
        elif isinstance(t, (String, Text, Integer, Float)):
            out.append(None)
        elif isinstance(t, Boolean):
            out.append(None if dialect == "postgresql" else _sqlite_bool)
        else:
            raise TypeError(f"{table.name}.{name}: no fast conversion for {t!r}")
    return out


def _sqlite_bool(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def convert_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str],
                 convert: Sequence[Callable[[Any], Any] | None]) -> list[tuple]:
    """Dict rows as tuples in `columns` order, each value converted."""
    if len(columns) < 2:
        pairs = list(zip(columns, convert))
        return [tuple(row[c] if f is None else f(row[c]) for c, f in pairs) for row in rows]
    get = itemgetter(*columns)  # the values in one call; then only the typed ones converted
    typed = [(i, f) for i, f in enumerate(convert) if f is not None]
    if not typed:
        return [get(row) for row in rows]
    out = []
    add = out.append
    for row in rows:
        values = list(get(row))
        for i, f in typed:
            values[i] = f(values[i])
        add(tuple(values))
    return out


_SQL: dict[tuple[str, str, tuple[str, ...]], str] = {}


def insert_sql(session: Session, table: Table, columns: Sequence[str]) -> str:
    """INSERT INTO table (columns) VALUES (?, ...) in the driver's own parameter style."""
    dialect = session.get_bind().dialect
    key = (dialect.name, table.name, tuple(columns))
    sql = _SQL.get(key)
    if sql is None:
        q = dialect.identifier_preparer
        mark = "?" if dialect.name == "sqlite" else "%s"
        sql = _SQL[key] = (f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) "
                           f"VALUES ({', '.join([mark] * len(columns))})")
    return sql


def insert_tuples(session: Session, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert rows already converted (`converters`, `stored_datetime`, `stored_json`), in columns order."""
    if not rows:
        return
    session.connection().exec_driver_sql(insert_sql(session, table, columns), rows)


def insert_dicts(session: Session, table: Table, rows: Sequence[dict[str, Any]],
                 columns: Sequence[str] | None = None) -> None:
    """Insert dict rows (every key of `columns`) as `session.execute(insert(table), rows)` would."""
    if not rows:
        return
    dialect = dialect_of(session)
    if dialect not in FAST_DIALECTS:
        session.execute(insert(table), list(rows))
        return
    columns = list(columns or rows[0].keys())
    insert_tuples(session, table, columns, convert_rows(rows, columns, converters(table, columns, dialect)))
