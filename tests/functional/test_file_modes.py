"""Files that hold secrets or personal data are created readable by their owner only (0600).

The instance's SQLite file with its -wal and -shm files, and `instance/secret_key`, are
made 0600 when they are created, not loosened by the umask and tightened afterwards: the
test runs with a permissive umask and forbids chmod, so a file that is only fixed later
fails it.
"""
from __future__ import annotations

import os
import pathlib
import stat

import pytest
from sqlalchemy import text


@pytest.fixture
def permissive_umask(monkeypatch):
    """umask 0 (every file would be 0666), and no chmod allowed: the mode must be right at creation."""
    old = os.umask(0)
    chmods = []
    real_chmod = os.chmod

    def record(path, mode, *a, **kw):
        chmods.append(str(path))
        return real_chmod(path, mode, *a, **kw)

    monkeypatch.setattr(os, "chmod", record)
    monkeypatch.setattr(pathlib.Path, "chmod", lambda self, mode, **kw: record(self, mode, **kw))
    yield chmods
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_instance_sqlite_files_and_secret_key_are_0600_from_the_start(tmp_path, monkeypatch, permissive_umask):
    from concierge import create_app
    from concierge.db import Base

    for name in ("CONCIERGE_DATABASE_URL", "CONCIERGE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True})
    db = app.extensions["concierge.db"]
    Base.metadata.create_all(db.engine)
    with db.engine.connect() as conn:  # hold the database open: -wal and -shm exist while it is
        conn.execute(text("CREATE TABLE probe (x INTEGER)"))
        conn.execute(text("INSERT INTO probe VALUES (1)"))
        conn.commit()
        files = [instance / "secret_key", instance / "concierge.sqlite",
                 instance / "concierge.sqlite-wal", instance / "concierge.sqlite-shm"]
        for path in files:
            assert path.exists(), path
            assert mode(path) == 0o600, f"{path.name}: {oct(mode(path))}"
    db.dispose()
    assert not [p for p in permissive_umask if p in {str(f) for f in files}]  # nothing fixed afterwards
    assert len((instance / "secret_key").read_text().strip()) >= 48
    assert [p.name for p in instance.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_the_secret_key_is_kept_across_starts_and_an_existing_database_keeps_its_mode(tmp_path, monkeypatch):
    from concierge.config import secret_key
    from concierge.db import make_engine

    monkeypatch.delenv("CONCIERGE_SECRET_KEY", raising=False)
    first = secret_key(tmp_path)
    assert secret_key(tmp_path) == first
    existing = tmp_path / "shared.sqlite"
    existing.touch()
    existing.chmod(0o640)  # an operator's choice (a group that makes backups) is not overruled
    make_engine(f"sqlite:///{existing}").dispose()
    assert mode(existing) == 0o640
    make_engine("sqlite://").dispose()  # memory databases have no file
