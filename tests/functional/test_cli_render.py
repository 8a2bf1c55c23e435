"""`concierge render SHOP`: SVG to stdout, PNG to a file, never PNG to a terminal."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from concierge.cli import cli


@pytest.fixture
def shop_db(database, monkeypatch):
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop

    monkeypatch.setenv("CONCIERGE_DATABASE_URL", database.url)
    with database.session() as s:
        shop = ensure_shop(s, "tr-7", "TR", name="Butik")
        record_answers(s, shop, {"owner.name": "Ayşe <b>Y</b>", "readiness.store_details": "yes"},
                       actor="cons@example.com", observed_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
    return database


def test_render_svg_to_stdout_in_the_market_language(shop_db):
    r = CliRunner().invoke(cli, ["render", "tr-7"])
    assert r.exit_code == 0, r.output
    assert r.stdout_bytes.startswith(b"<?xml") and b"<svg" in r.stdout_bytes
    assert b'lang="tr"' in r.stdout_bytes  # a Turkish shop: Turkish labels by default
    assert "Ayşe &lt;b&gt;Y&lt;/b&gt;".encode() in r.stdout_bytes
    r = CliRunner().invoke(cli, ["render", "tr-7", "--locale", "pl"])
    assert b'lang="pl"' in r.stdout_bytes


def test_render_png_to_file(shop_db, tmp_path):
    out = tmp_path / "p.png"
    r = CliRunner().invoke(cli, ["render", "tr-7", "--format", "png", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_unknown_shop_fails_clearly(shop_db):
    r = CliRunner().invoke(cli, ["render", "nope"])
    assert r.exit_code == 1
    assert "no shop with the id 'nope'" in r.output


def test_render_refuses_png_on_a_terminal(shop_db):
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "CONCIERGE_DATABASE_URL": shop_db.url}
    proc = subprocess.run([sys.executable, "-c", "from concierge.cli import main; main()",
                           "render", "tr-7", "--format", "png"],
                          stdout=follower, stderr=subprocess.PIPE, env=env, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    os.close(follower)
    os.close(leader)
    assert proc.returncode == 2
    assert b"refusing to write PNG to a terminal" in proc.stderr
