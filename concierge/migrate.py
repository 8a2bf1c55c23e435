"""Run Alembic programmatically against a URL (used by `concierge init` and the tests)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, revision: str = "head", connection=None) -> None:
    command.upgrade(alembic_config(url, connection), revision)


def check(url: str, connection=None) -> None:
    """Raise if the models and the migrations disagree."""
    command.check(alembic_config(url, connection))


def revision(url: str, message: str) -> None:
    """Autogenerate a migration (developers: `python -m concierge.migrate "message"`)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":  # pragma: no cover - developer tool
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/autogen.sqlite"
        upgrade(url)
        revision(url, " ".join(sys.argv[1:]) or "change")
