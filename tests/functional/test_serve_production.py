"""`concierge serve --production`: gunicorn with the packaged config serves the app, logs each
request, and stops cleanly on SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.slow


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_serve_production_answers_and_stops_on_sigterm(tmp_path, concierge_cli, free_port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCIERGE_")}
    env.update({"CONCIERGE_INSTANCE_PATH": str(tmp_path / "instance"), "CONCIERGE_WORKERS": "1",
                "CONCIERGE_THREADS": "2", "CONCIERGE_ACCESS_LOG": str(tmp_path / "access.log")})
    cmd = concierge_cli
    init = subprocess.run([*cmd, "init"], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert init.returncode == 0, init.stderr
    port = free_port
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - the server writes to it until it stops
    proc = subprocess.Popen([*cmd, "serve", "--production", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status, headers, body = None, {}, ""
        deadline = time.monotonic() + 120  # a wait for start-up on a loaded host, not a speed check
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                status, headers, body = get(f"http://127.0.0.1:{port}/login")
                break
            except (ConnectionError, urllib.error.URLError, OSError):
                time.sleep(0.3)
        server_log = (tmp_path / "server.log").read_text()
        assert status == 200, f"no answer from gunicorn (exit {proc.poll()}):\n{server_log}"
        assert 'name="password"' in body
        assert headers.get("Server", "").startswith("gunicorn"), headers
        assert "concierge" in server_log or "Booting worker" in server_log, server_log
        # development server unchanged: --debug with --production is refused
        refused = subprocess.run([*cmd, "serve", "--production", "--debug"], env=env, capture_output=True,
                                 text=True, timeout=120, check=False)
        assert refused.returncode != 0 and "--debug cannot be used with --production" in refused.stderr
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        log.close()
    assert code == 0, (tmp_path / "server.log").read_text()
    # the events worker ran beside gunicorn and was stopped with it (queued mode, docs/deploy.md)
    assert "Events worker stopped" in (tmp_path / "server.log").read_text()
    access = (tmp_path / "access.log").read_text()
    assert '"GET /login HTTP/1.1" 200' in access, access


def test_workers_default_to_twice_the_cores_plus_one_and_refuse_bad_values(monkeypatch):
    import importlib
    import multiprocessing

    import concierge.gunicorn_conf as conf

    monkeypatch.delenv("CONCIERGE_WORKERS", raising=False)
    assert conf.default_workers() == 2 * multiprocessing.cpu_count() + 1
    monkeypatch.setenv("CONCIERGE_WORKERS", "3")
    assert importlib.reload(conf).workers == 3
    monkeypatch.setenv("CONCIERGE_WORKERS", "many")
    with pytest.raises(SystemExit, match="CONCIERGE_WORKERS"):
        importlib.reload(conf)
    monkeypatch.delenv("CONCIERGE_WORKERS")
    importlib.reload(conf)


def test_a_settled_worker_has_the_scoring_stack_and_its_startup_objects_frozen(tmp_path):
    """What gunicorn's post_worker_init does in each worker: the scoring stack is imported and what
    the worker built is frozen, so the collector's full passes no longer walk it inside requests."""
    code = ("import gc, json, sys\n"
            "from concierge import create_app\n"
            f"app = create_app({{'DATABASE_URL': 'sqlite:///{tmp_path / 'w.db'}', 'SECRET_KEY': 'k',"
            f" 'INSTANCE_PATH': {str(tmp_path)!r}}})\n"
            "before = {'frozen': gc.get_freeze_count(), 'sklearn': 'sklearn' in sys.modules}\n"
            "from concierge.gunicorn_conf import settle_worker\n"
            "settle_worker()\n"
            "print(json.dumps({'before': before, 'frozen': gc.get_freeze_count(),"
            " 'sklearn': 'sklearn' in sys.modules, 'oldest': len(gc.get_objects(2))}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    got = json.loads(out.stdout)
    assert got["before"] == {"frozen": 0, "sklearn": False}, got
    assert got["sklearn"] is True
    # the startup objects are frozen; the oldest generation is left (nearly) empty
    assert got["frozen"] > 100_000 and got["oldest"] < got["frozen"] // 100, got
