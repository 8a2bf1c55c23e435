"""Migration 0012 adds user_account.session_token: users made before it keep working (their old
sessions end once; the next login sets a token), and it goes back down cleanly."""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect, text
from werkzeug.security import generate_password_hash

from concierge import migrate


def test_0012_adds_the_session_token_and_a_user_from_before_logs_in(db_url, tmp_path):
    from concierge import create_app

    migrate.upgrade(db_url, "0011")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO user_account (id, email, name, password_hash, role, active, created_at) "
                          "VALUES (1, 'ola@example.com', 'Ola', :h, 'manager', true, '2026-11-01 10:00:00')"),
                     {"h": generate_password_hash("a long password")})
    migrate.upgrade(db_url, "0012")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT session_token FROM user_account")).scalar_one() is None
    app = create_app({"DATABASE_URL": db_url, "INSTANCE_PATH": str(tmp_path / "inst"),
                      "SECRET_KEY": "s" * 32, "TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    r = client.post("/login", data={"email": "ola@example.com", "password": "a long password"})
    assert r.status_code == 302 and client.get("/").status_code == 200
    with engine.connect() as conn:
        assert len(conn.execute(text("SELECT session_token FROM user_account")).scalar_one()) >= 32
    app.extensions["concierge.db"].dispose()
    command.downgrade(migrate.alembic_config(db_url), "0011")
    assert "session_token" not in {c["name"] for c in inspect(engine).get_columns("user_account")}
    engine.dispose()
