"""The active model is loaded once per process and kept until another version is active: requests
ask for the active version's id with a query that never selects the artifact column, and a
version activated elsewhere (another worker, the CLI) is used from the next request on.
SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, update

from concierge.models import ModelVersion
from concierge.operations.scoring import store
from tests.support import app_db as _db

PASSWORD = "correct horse battery"
TODAY = date(2026, 11, 23)
SHOP = "pl-cache"


@pytest.fixture
def trained(app):
    """A model trained on a small demo population, a shop to score, an API token; an empty cache."""
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.operations.shops import ensure_shop
    from concierge.operations.tokens import create_token
    from concierge.operations.users import create_user
    from concierge.operations.scoring.service import train_model

    now = datetime.now(UTC)
    with _db(app).session() as s:
        load_population(s, generate(60, seed=3, today=TODAY))
        first = train_model(s, ages=[7])
        ensure_shop(s, SHOP, "PL", name="Sklep", trial_started_at=now - timedelta(days=2),
                    trial_ends_at=now + timedelta(days=12))
        _, token = create_token(s, "cache")
        create_user(s, "anna@example.com", password=PASSWORD, role="consultant", language="en", name="Anna")
        first_id, first_name = first.id, first.version
    store.forget_cached()
    yield {"token": token, "first": (first_id, first_name)}
    store.forget_cached()


def statements(app) -> list[str]:
    """Every SQL statement the app's engine runs from now on (the list fills as they run)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(_db(app).engine, "before_cursor_execute", record)
    return seen


def score_now(client, token) -> dict:
    resp = client.post(f"/api/v1/shops/{SHOP}/score", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def reads_artifact(sql: list[str]) -> list[str]:
    return [s for s in sql if re.search(r"\bartifact\b", s)]


def login(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": "anna@example.com", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302


def test_a_version_activated_elsewhere_is_used_by_the_next_request(app, client, trained):
    token, (first_id, first_name) = trained["token"], trained["first"]
    assert score_now(client, token)["model_version"] == first_name
    assert store.cached_versions() == [(first_id, first_name)]
    # another process (a worker, `concierge model activate`) stores and activates a second version:
    # this process is not told; it sees the new id in its next cheap query
    with _db(app).session() as s:
        bundle = store.active_model(s).bundle
        second = store.save_version(s, bundle, {"note": "second"}, version="m-second", activate=False)
        s.execute(update(ModelVersion).values(active=ModelVersion.id == second.id))
        second_id = second.id
    store._CACHE[(first_id, first_name)] = bundle  # as if save_version had run in another process
    assert score_now(client, token)["model_version"] == "m-second"
    assert store.cached_versions() == [(second_id, "m-second")], "the old version is forgotten"
    # activating in this process (roll back) drops the other bundle at once
    with _db(app).session() as s:
        store.activate_version(s, first_name)
        assert store.cached_versions() == [(second_id, "m-second")] or store.cached_versions() == []
    assert score_now(client, token)["model_version"] == first_name
    assert store.cached_versions() == [(first_id, first_name)]


def test_a_warm_cache_never_reads_the_artifact_column(app, client, trained):
    token = trained["token"]
    login(client)
    sql = statements(app)
    score_now(client, token)  # cold: the artifact is read once
    assert len(reads_artifact(sql)) == 1, "the listener sees the artifact being read when it is"
    sql.clear()
    score_now(client, token)
    assert client.get(f"/shops/{SHOP}").status_code == 200
    assert client.get(f"/shops/{SHOP}/picture.svg").status_code == 200
    assert client.get(f"/api/v1/shops/{SHOP}/score", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert reads_artifact(sql) == [], reads_artifact(sql)
    assert any("model_version" in s for s in sql), "the active version is still checked on each scoring"
    # a version row loaded as a whole (lists, a score's version) leaves the artifact unread too
    sql.clear()
    with _db(app).session() as s:
        rows = store.list_versions(s)
        assert rows and all(r.version for r in rows)
    assert reads_artifact(sql) == []
