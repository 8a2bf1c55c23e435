"""Users: the operations behind logins, and `concierge users create|list|ensure-demo`."""
from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from concierge.cli import cli


@pytest.fixture
def cli_env(database, monkeypatch, tmp_path):
    """The CLI pointed at this test's database and a private instance folder."""
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", database.url)
    monkeypatch.setenv("CONCIERGE_INSTANCE_PATH", str(tmp_path / "inst"))
    return tmp_path / "inst"


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_passwords_are_stored_hashed_and_checked(session):
    from concierge.models import User
    from concierge.operations.users import authenticate, create_user

    create_user(session, "Ola@Example.com", password="a long password", role="manager", language="pl")
    row = session.scalar(select(User))
    assert row.email == "ola@example.com"
    assert "a long password" not in row.password_hash and row.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert authenticate(session, "OLA@example.com", "a long password").id == row.id
    assert authenticate(session, "ola@example.com", "wrong password") is None
    row.active = False
    assert authenticate(session, "ola@example.com", "a long password") is None


def test_create_user_reports_every_bad_field_and_duplicates(session):
    from concierge.errors import Conflict, ValidationFailed
    from concierge.operations.users import create_user

    with pytest.raises(ValidationFailed) as err:
        create_user(session, "not-an-email", password="short", role="boss", language="de")
    fields = {e["field"] for e in err.value.errors}
    assert fields == {"email", "password", "role", "language"}
    create_user(session, "a@example.com", password="long enough pw")
    with pytest.raises(Conflict):
        create_user(session, "A@example.com", password="long enough pw")


def test_users_create_and_list_cli(cli_env):
    r = run("users", "create", "jan@example.com", "--role", "consultant", "--language", "pl",
            "--name", "Jan K.", "--password-stdin", "--json", input="a good password\n")
    assert r.exit_code == 0, r.output
    made = json.loads(r.output)
    assert made["email"] == "jan@example.com" and made["role"] == "consultant" and made["language"] == "pl"
    r = run("users", "create", "eva@example.com", "--role", "manager", input="pw-pw-pw-pw-1\npw-pw-pw-pw-1\n")
    assert r.exit_code == 0, r.output
    r = run("users", "list", "--json")
    users = json.loads(r.output)
    assert [u["email"] for u in users] == ["jan@example.com", "eva@example.com"]  # role order
    assert set(users[0]) == {"id", "email", "name", "role", "language", "call_languages", "active", "created_at"}
    assert "password" not in r.output and "hash" not in r.output
    r = run("users", "create", "jan@example.com", "--role", "admin", "--password-stdin", input="another password\n")
    assert r.exit_code == 1 and "already exists" in r.output
    r = run("users", "create", "x@example.com", "--role", "admin", "--password-stdin", input="short\n")
    assert r.exit_code == 1 and "password" in r.output


def test_ensure_demo_creates_once_and_prints_the_same_logins(cli_env):
    r = run("users", "ensure-demo", "--json")
    assert r.exit_code == 0, r.output
    first = json.loads(r.output)
    roles = {u["role"]: u for u in first["users"]}
    assert set(roles) == {"consultant", "manager", "admin"}
    assert all(u["status"] == "created" and len(u["password"]) >= 12 for u in first["users"])
    path = cli_env / "demo-logins.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    r = run("users", "ensure-demo")
    assert r.exit_code == 0
    for u in first["users"]:
        assert u["email"] in r.output and u["password"] in r.output  # printed again, unchanged
    second = json.loads(run("users", "ensure-demo", "--json").output)
    assert [u["status"] for u in second["users"]] == ["exists"] * 3
    assert len(json.loads(run("users", "list", "--json").output)) == 3
    # the printed password really is the stored one
    from concierge.db import Database
    from concierge.operations.users import authenticate

    db = Database(os.environ["CONCIERGE_DATABASE_URL"])
    with db.session() as s:
        assert authenticate(s, roles["manager"]["email"], roles["manager"]["password"]) is not None
    db.dispose()


def test_ensure_demo_without_its_file_gives_new_passwords(cli_env):
    first = json.loads(run("users", "ensure-demo", "--json").output)
    (cli_env / "demo-logins.txt").unlink()
    again = json.loads(run("users", "ensure-demo", "--json").output)
    assert [u["status"] for u in again["users"]] == ["reset"] * 3
    assert {u["password"] for u in again["users"]}.isdisjoint({u["password"] for u in first["users"]})
    assert (cli_env / "demo-logins.txt").exists()
