"""A dropped PostgreSQL connection costs no request: the pool checks a connection before use.

The app's pooled connections are killed with pg_terminate_backend (as a restart, a
failover or an idle timeout would) in the middle of a run of requests through the Flask
test client; every request after that must be answered normally. Only this test's own
connections are terminated: its URL sets an application_name no one else uses.
"""
from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.fixture
def fault_app(pg_url, tmp_path):
    from concierge import create_app
    from concierge.db import Base
    from concierge.operations.shops import ensure_shop
    from concierge.operations.tokens import create_token
    from concierge.operations.users import create_user

    name = f"fault-{uuid.uuid4().hex[:12]}"
    app = create_app({"DATABASE_URL": f"{pg_url}&application_name={name}",
                      "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SECRET_KEY": "test-secret-" + uuid.uuid4().hex, "TESTING": True})
    db = app.extensions["concierge.db"]
    Base.metadata.create_all(db.engine)
    with db.session() as s:
        create_user(s, "anna@example.com", password=PASSWORD, role="manager", name="Anna")
        for i in range(3):
            ensure_shop(s, f"pl-{i}", "PL", name=f"Sklep {i}")
        _row, token = create_token(s, "fault test")
    yield app, name, token, pg_url
    db.dispose()


def terminate(url: str, application_name: str) -> int:
    """Kill every backend of this test's app (from a connection of our own); how many there were."""
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            killed = conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"), {"name": application_name}).all()
    finally:
        admin.dispose()
    return len(killed)


def test_requests_after_the_backends_are_terminated_get_no_500(fault_app):
    app, name, token, url = fault_app
    db = app.extensions["concierge.db"]
    web = app.test_client()
    web.post("/login", data={"email": "anna@example.com", "password": PASSWORD,
                             "csrf_token": csrf_from(web.get("/login").get_data(as_text=True))})
    auth = {"Authorization": f"Bearer {token}"}

    def run_requests(n: int) -> list[tuple[str, int]]:
        out = []
        for i in range(n):
            for path, client, headers in (("/", web, {}), (f"/shops/pl-{i % 3}", web, {}),
                                          ("/api/v1/shops", app.test_client(), auth),
                                          (f"/api/v1/shops/pl-{i % 3}", app.test_client(), auth)):
                out.append((path, client.get(path, headers=headers).status_code))
        return out

    before = run_requests(3)
    assert {code for _path, code in before} == {200}, before
    # several pooled connections, as concurrent requests leave them
    with ThreadPoolExecutor(4) as pool:
        assert all(code == 200 for batch in pool.map(lambda _: run_requests(2), range(4))
                   for _path, code in batch)
    assert db.engine.pool.checkedin() >= 2
    assert terminate(url, name) >= 2  # every connection in the pool is now dead
    after = run_requests(5)
    failed = [(path, code) for path, code in after if code != 200]
    assert failed == [], failed
    # and a write still commits (the login, a POST) on a fresh connection
    terminate(url, name)
    logout = web.post("/logout", data={"csrf_token": csrf_from(web.get("/").get_data(as_text=True))})
    assert logout.status_code == 302
    assert web.get("/").status_code == 302  # logged out: the logout's write was committed
