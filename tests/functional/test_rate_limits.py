"""Rate limits on login, API tokens and survey links (concierge/limits.py): 429 with Retry-After
in the reader's language; budgets in memory, or in Redis shared by every app instance."""
from __future__ import annotations

import os
import uuid

import pytest

from concierge.operations.tokens import create_token

REDIS_URL = os.environ.get("CONCIERGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def make_app(db_url, tmp_path, **config):
    from concierge import create_app
    from concierge.db import Base

    app = create_app({
        "DATABASE_URL": db_url, "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex, "TESTING": True, "WTF_CSRF_ENABLED": False,
        "RATE_LIMITS_ENABLED": True, **config,
    })
    Base.metadata.create_all(app.extensions["concierge.db"].engine)
    return app


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'limits.sqlite'}"


def bad_login(client, **kw):
    return client.post("/login", data={"email": "nobody@example.com", "password": "wrong-password"}, **kw)


def test_limits_are_off_under_testing_unless_a_test_turns_them_on(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path, RATE_LIMITS_ENABLED=False, RATE_LIMIT_LOGIN="2 per minute")
    client = app.test_client()
    assert [bad_login(client).status_code for _ in range(5)].count(429) == 0
    from concierge.config import load_config

    assert load_config({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})["RATE_LIMITS_ENABLED"] is False
    assert load_config({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})["RATE_LIMITS_ENABLED"] is True


def test_login_limit_answers_429_page_with_retry_after_in_memory(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path, RATE_LIMIT_LOGIN="3 per minute")
    client = app.test_client()
    codes = [bad_login(client).status_code for _ in range(3)]
    assert 429 not in codes
    resp = bad_login(client)
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 61  # the window, rounded up
    assert "Too many requests in a short time" in resp.get_data(as_text=True)
    assert resp.mimetype == "text/html"
    # reading the form is not limited, and another address has its own budget
    assert client.get("/login").status_code == 200
    assert bad_login(client, environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code != 429


def test_api_token_budget_and_failed_token_attempts(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path, RATE_LIMIT_API="3 per minute", RATE_LIMIT_API_FAILED="2 per minute")
    with app.extensions["concierge.db"].session() as s:
        _, token = create_token(s, "limits")
        _, other = create_token(s, "limits-2")
    client = app.test_client()
    good = {"Authorization": f"Bearer {token}"}
    assert [client.get("/api/v1/shops", headers=good).status_code for _ in range(3)] == [200, 200, 200]
    resp = client.get("/api/v1/shops", headers=good)
    assert resp.status_code == 429
    body = resp.get_json()
    assert body["error"] == "rate_limited" and "Too many requests" in body["message"]
    assert int(resp.headers["Retry-After"]) == body["retry_after"] >= 1
    # the budget is the token's: another token from the same address still works
    assert client.get("/api/v1/shops", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    # failed authentications are counted per address; once spent, that address gets 429
    bad = {"Authorization": "Bearer cnc_guess"}
    assert [client.get("/api/v1/shops", headers=bad).status_code for _ in range(2)] == [401, 401]
    assert client.get("/api/v1/shops", headers=bad).status_code == 429
    assert client.get("/api/v1/shops", headers={"Authorization": f"Bearer {other}"}).status_code == 429
    elsewhere = {"REMOTE_ADDR": "10.1.2.3"}
    other_guess = {"Authorization": "Bearer cnc_another-guess"}
    assert client.get("/api/v1/shops", headers=other_guess, environ_base=elsewhere).status_code == 401


def test_survey_link_pages_are_limited_per_address(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path, RATE_LIMIT_SURVEY="2 per minute")
    client = app.test_client()
    first = [client.get(f"/s/guess-{i}").status_code for i in range(2)]
    assert 429 not in first
    resp = client.get("/s/guess-3", headers={"Accept-Language": "en"})
    assert resp.status_code == 429 and "Retry-After" in resp.headers
    assert client.get("/login").status_code == 200  # the rest of the app is not touched


def test_proxy_headers_are_trusted_only_when_configured(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path, RATE_LIMIT_LOGIN="1 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()
    assert bad_login(client, headers={"X-Forwarded-For": "203.0.113.1"}).status_code != 429
    assert bad_login(client, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    assert bad_login(client, headers={"X-Forwarded-For": "203.0.113.2"}).status_code != 429
    plain = make_app(sqlite_url, tmp_path, RATE_LIMIT_LOGIN="1 per minute").test_client()
    assert bad_login(plain, headers={"X-Forwarded-For": "203.0.113.1"}).status_code != 429
    assert bad_login(plain, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429  # header ignored


def test_a_limit_that_does_not_parse_is_refused_with_its_name(monkeypatch, tmp_path):
    from concierge.config import load_config

    monkeypatch.setenv("CONCIERGE_RATE_LIMIT_LOGIN", "lots")
    with pytest.raises(ValueError, match="CONCIERGE_RATE_LIMIT_LOGIN"):
        load_config({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("CONCIERGE_RATE_LIMIT_LOGIN", "5 per minute")
    assert load_config({"SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path)})["RATE_LIMIT_LOGIN"] == "5 per minute"


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the local Redis (skipped when Redis is unreachable);
    its keys are deleted afterwards."""
    redis = pytest.importorskip("redis")
    conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        conn.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: not here
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc.__class__.__name__}: {exc}")
    prefix = f"concierge-test-{uuid.uuid4().hex[:12]}"
    yield conn, prefix
    keys = list(conn.scan_iter(f"*{prefix}*"))
    if keys:
        conn.delete(*keys)
    conn.close()


def test_two_app_instances_share_one_login_budget_in_redis(sqlite_url, tmp_path, redis_prefix):
    conn, prefix = redis_prefix
    cfg = {"REDIS_URL": REDIS_URL, "RATE_LIMIT_KEY_PREFIX": prefix, "RATE_LIMIT_LOGIN": "3 per minute"}
    one = make_app(sqlite_url, tmp_path, **cfg).test_client()
    two = make_app(sqlite_url, tmp_path, **cfg).test_client()
    assert bad_login(one).status_code != 429
    assert bad_login(two).status_code != 429
    assert bad_login(one).status_code != 429
    resp = bad_login(two)  # the fourth attempt, the second on this instance: the shared budget is spent
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert bad_login(one).status_code == 429
    assert list(conn.scan_iter(f"*{prefix}*")), "the budget is kept in Redis"
    # an instance keeping its budget in memory does not see the shared one
    local = make_app(sqlite_url, tmp_path, RATE_LIMIT_LOGIN="3 per minute").test_client()
    assert bad_login(local).status_code != 429


def test_an_unreachable_redis_falls_back_to_memory_and_never_gives_500(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path, REDIS_URL="redis://127.0.0.1:1/0", RATE_LIMIT_LOGIN="2 per minute")
    client = app.test_client()
    codes = [bad_login(client).status_code for _ in range(3)]
    assert 500 not in codes and codes[-1] == 429, codes  # still limited, in this process's memory
    assert client.get("/login").status_code == 200
