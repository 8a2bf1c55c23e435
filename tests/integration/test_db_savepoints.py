"""A savepoint is part of the request's one transaction on both databases.

On SQLite, Python's sqlite3 opens no transaction before a SAVEPOINT, and SQLite then runs
the savepoint as a transaction of its own that RELEASE commits: a `begin_nested()` as the
first write (a survey's submission row, a rating, a callback) was committed at once and
survived the rollback of the rest. `concierge.db` opens the transaction first.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from concierge.models import Shop

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def count(database) -> int:
    with database.sessionmaker() as s:
        return s.scalar(select(func.count(Shop.id)))


def test_a_savepoint_as_the_first_write_is_rolled_back_with_the_transaction(database):
    with database.sessionmaker() as s:
        with s.begin_nested():
            s.add(Shop(platform_id="pl-1", market="PL", created_at=T0))
            s.flush()
        assert count(database) == 0  # another connection sees nothing yet
        s.rollback()
    assert count(database) == 0
    with database.sessionmaker() as s:
        with s.begin_nested():
            s.add(Shop(platform_id="pl-2", market="PL", created_at=T0))
        s.add(Shop(platform_id="pl-3", market="PL", created_at=T0))
        s.commit()
    assert count(database) == 2
