"""Sessions end: logging out or changing the password makes every copy of the cookie useless.

A copy of the session cookie taken before (another tab, another device, a stolen one) is
replayed from a second client; it must be sent to the login page, not served. Also: what
is personal stays out of caches (Cache-Control: no-store). On SQLite and PostgreSQL.
"""
from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from tests.support import app_db as _db, csrf_from

PASSWORD = "correct horse battery"
COOKIE = "concierge_session"


def make_user(app, email="anna@example.com", role="manager"):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, email, password=PASSWORD, role=role, name=email.split("@")[0])


def login(client, email="anna@example.com", password=PASSWORD):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)


def logout(client):
    r = client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    assert r.status_code == 302 and r.location.startswith("/login")


def copy_of_cookie(app, client):
    """A second browser holding a copy of `client`'s session cookie as it is now."""
    value = client.get_cookie(COOKIE).value
    other = app.test_client()
    other.set_cookie(COOKIE, value)
    return other


def assert_sent_to_login(client, path="/"):
    r = client.get(path)
    assert r.status_code == 302 and r.location.startswith("/login"), (path, r.status_code)


def test_a_cookie_copied_before_logout_no_longer_works(app, client):
    make_user(app)
    login(client)
    assert client.get("/").status_code == 200
    copy = copy_of_cookie(app, client)
    assert copy.get("/").status_code == 200  # the copy is a working session until the logout
    logout(client)
    assert_sent_to_login(copy)
    assert_sent_to_login(copy, "/users")
    assert_sent_to_login(client)
    login(client)  # logging in again works, with a new token
    assert client.get("/").status_code == 200
    assert_sent_to_login(copy)


def test_logout_ends_the_users_other_sessions_too(app, client):
    make_user(app)
    login(client)
    laptop = app.test_client()
    login(laptop)
    assert laptop.get("/").status_code == 200
    logout(client)
    assert_sent_to_login(laptop)


def test_a_password_change_ends_every_session(app, client):
    from concierge.models import User
    from concierge.operations.users import authenticate, set_password

    make_user(app)
    make_user(app, "boss@example.com")
    login(client)
    copy = copy_of_cookie(app, client)
    boss = app.test_client()
    login(boss, "boss@example.com")
    with _db(app).session() as s:
        set_password(s, s.scalar(select(User).where(User.email == "anna@example.com")), "a brand new password")
    assert_sent_to_login(client)
    assert_sent_to_login(copy)
    assert boss.get("/").status_code == 200  # another user's session is not touched
    with _db(app).session() as s:
        assert authenticate(s, "anna@example.com", PASSWORD) is None
    login(client, password="a brand new password")
    assert client.get("/").status_code == 200


def test_a_session_made_before_the_token_existed_ends(app, client):
    """A cookie without the session token (made before migration 0012) is not accepted."""
    make_user(app)
    login(client)
    with client.session_transaction() as sess:
        sess.pop("sst")
    assert_sent_to_login(client)


def test_password_change_refuses_a_short_password_and_changes_nothing(app, client):
    import pytest

    from concierge.errors import ValidationFailed
    from concierge.models import User
    from concierge.operations.users import set_password

    make_user(app)
    login(client)
    with _db(app).session() as s:
        user = s.scalar(select(User).where(User.email == "anna@example.com"))
        with pytest.raises(ValidationFailed) as err:
            set_password(s, user, "short")
        assert err.value.errors[0]["field"] == "password"
    assert client.get("/").status_code == 200


def test_cli_password_and_logout_end_sessions(app, client, db_url, monkeypatch, tmp_path):
    from concierge.cli import cli

    monkeypatch.setenv("CONCIERGE_DATABASE_URL", db_url)
    monkeypatch.setenv("CONCIERGE_INSTANCE_PATH", str(tmp_path / "cli-instance"))
    runner = CliRunner()
    make_user(app)
    login(client)
    r = runner.invoke(cli, ["users", "logout", "anna@example.com", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["email"] == "anna@example.com"
    assert_sent_to_login(client)
    login(client)
    r = runner.invoke(cli, ["users", "password", "anna@example.com", "--password-stdin"],
                      input="another good password\n", catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert_sent_to_login(client)
    login(client, password="another good password")
    r = runner.invoke(cli, ["users", "password", "anna@example.com", "--password-stdin"], input="short\n")
    assert r.exit_code == 1 and "password" in r.output
    r = runner.invoke(cli, ["users", "password", "nobody@example.com", "--password-stdin", "--json"],
                      input="another good password\n")
    assert r.exit_code == 1 and json.loads(r.output)["error"] == "not_found"
    assert client.get("/").status_code == 200  # the refused changes ended nothing


# ---------------------------------------------------------------- caches

def test_personal_pages_api_answers_and_exports_are_never_cached(app, client):
    from concierge.operations.shops import ensure_shop
    from concierge.operations.tokens import create_token

    make_user(app)
    with _db(app).session() as s:
        ensure_shop(s, "pl-1", "PL", name="Sklep Anny")
        _row, token = create_token(s, "test")
    # anonymous pages carry nothing personal: browsers may keep them
    assert "no-store" not in (client.get("/login").headers.get("Cache-Control") or "")
    login(client)
    for path in ("/", "/shops/pl-1", "/users", "/shops.csv", "/dashboard"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "no-store" in r.headers.get("Cache-Control", ""), path
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/shops", "/api/v1/shops/pl-1"):
        r = api.get(path, headers=auth)
        assert r.status_code == 200, path
        assert r.headers["Cache-Control"] == "private, no-store", path
    for r in (api.get("/api/v1/shops"), api.get("/api/v1/shops/nope", headers=auth)):  # refusals too
        assert r.status_code in (401, 404) and r.headers["Cache-Control"] == "private, no-store"


def _sets_cookie(response) -> bool:
    return any(h.startswith(f"{COOKIE}=") for h in response.headers.getlist("Set-Cookie"))


def test_the_cookie_is_signed_again_every_few_minutes_not_on_every_response(app, client):
    from concierge.web.auth import SESSION_RENEW_SECONDS

    make_user(app)
    login(client)
    client.get("/")  # the first request after the login stamps the session
    r = client.get("/")
    assert r.status_code == 200 and not _sets_cookie(r)
    with client.session_transaction() as s:  # the last renewal was longer ago than the interval
        s["seen"] -= SESSION_RENEW_SECONDS + 1
    r = client.get("/")
    assert r.status_code == 200 and _sets_cookie(r)
    assert not _sets_cookie(client.get("/"))
    anonymous = app.test_client()
    assert not _sets_cookie(anonymous.get("/"))  # sent to the login page, with no session to keep


def test_a_session_idle_longer_than_its_lifetime_ends(app, client, monkeypatch):
    """The signature's timestamp still bounds the session: a cookie last signed 12 h ago is refused."""
    import itsdangerous.timed

    make_user(app)
    login(client)
    assert client.get("/").status_code == 200
    with client.session_transaction() as s:
        data = dict(s)
    lifetime = app.permanent_session_lifetime.total_seconds()
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                        lambda self: int(real(self) - lifetime - 60))
    old = app.session_interface.get_signing_serializer(app).dumps(data)
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", real)
    other = app.test_client()
    other.set_cookie(COOKIE, old)
    assert_sent_to_login(other)
    fresh = app.test_client()
    fresh.set_cookie(COOKIE, app.session_interface.get_signing_serializer(app).dumps(data))
    assert fresh.get("/").status_code == 200  # the same session signed now is served: the age decided
