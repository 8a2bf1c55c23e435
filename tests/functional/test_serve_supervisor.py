"""`concierge serve --production` supervises gunicorn and the events worker (concierge.cli.core.supervise):
signals reach gunicorn, the worker is stopped with it, and a worker that exits is started again."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SERVER = textwrap.dedent("""
    import signal, sys, time
    log = open(sys.argv[1], "a")
    def on(sig, _f):
        log.write(f"server {signal.Signals(sig).name}\\n"); log.flush()
        if sig == signal.SIGTERM:
            sys.exit(0)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGTTIN):
        signal.signal(s, on)
    log.write("server up\\n"); log.flush()
    while True:
        time.sleep(0.1)
""")
WORKER = textwrap.dedent("""
    import os, signal, sys, time
    log = open(sys.argv[1], "a")
    log.write(f"worker up {os.getpid()}\\n"); log.flush()
    if os.environ.get("CRASH") and open(sys.argv[1]).read().count("worker up") < 3:
        sys.exit(3)  # the first two starts fail at once
    def on(sig, _f):
        log.write("worker stopped\\n"); log.flush()
        sys.exit(0)
    signal.signal(signal.SIGTERM, on)
    while True:
        time.sleep(0.1)
""")


@contextmanager
def supervised(tmp_path: Path, crash: bool = False):
    """(the supervisor's process, its log) for the block; at its end the supervisor must have been
    told to stop (SIGTERM) and exit 0 within 60 s. Killed with its children if it still runs."""
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "worker.py").write_text(WORKER)
    log = tmp_path / "log"
    log.write_text("")
    code = ("import sys; from concierge.cli.core import supervise; "
            f"sys.exit(supervise([sys.executable, {str(tmp_path / 'server.py')!r}, {str(log)!r}], "
            f"[sys.executable, {str(tmp_path / 'worker.py')!r}, {str(log)!r}]))")
    env = dict(os.environ, **({"CRASH": "1"} if crash else {}))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    try:
        yield proc, log
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for(log: Path, text: str, count: int = 1, limit: float = 60) -> None:
    """Until `text` is in the log `count` times (a wait for processes to start on a loaded host)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if log.read_text().count(text) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} x{count} not in the log within {limit} s:\n{log.read_text()}")


def test_signals_reach_gunicorn_and_sigterm_stops_both(tmp_path):
    with supervised(tmp_path) as (proc, log):
        wait_for(log, "server up")
        wait_for(log, "worker up")
        proc.send_signal(signal.SIGTTIN)  # gunicorn's "one more worker": passed on
        wait_for(log, "server SIGTTIN")
        proc.send_signal(signal.SIGHUP)  # reload: passed on, and a new events worker
        wait_for(log, "server SIGHUP")
        wait_for(log, "worker stopped")
        wait_for(log, "worker up", count=2)
    text = log.read_text()
    assert "server SIGTERM" in text and text.count("worker stopped") == 2, text


def test_a_worker_that_exits_is_started_again(tmp_path):
    with supervised(tmp_path, crash=True) as (_proc, log):
        wait_for(log, "worker up", count=3)  # two quick failures, then it stays up
    assert log.read_text().count("worker stopped") == 1


@pytest.mark.parametrize("ignores_sigterm, returncode", [(False, -signal.SIGTERM), (True, -signal.SIGKILL)])
def test_a_child_is_stopped_by_sigterm_then_killed_after_the_grace(ignores_sigterm, returncode):
    """The one stop rule (`stop_child`) the supervisor uses on SIGHUP and at the end: TERM, wait, KILL."""
    from concierge.cli.core import stop_child

    code = ("import signal, sys, time\n"
            + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if ignores_sigterm else "")
            + "print('ready', flush=True)\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    stop_child(proc, grace=1.0)
    took = time.monotonic() - started
    proc.stdout.close()
    assert proc.returncode == returncode
    assert (took >= 1.0) == ignores_sigterm and took < 10
