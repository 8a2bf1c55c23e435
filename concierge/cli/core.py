"""`concierge init` and `concierge serve`."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from . import CliState, _, ngettext, pass_state

if TYPE_CHECKING:
    import subprocess


@click.command("init")
@pass_state
def init_cmd(state: CliState) -> None:
    """Create or upgrade the database to the latest schema (safe to run again); fill the shop list's
    read model when it is missing rows."""
    from ..migrate import upgrade

    upgrade(state.db.url)
    click.echo(_("Database ready: %(url)s") % {"url": state.db.engine.url.render_as_string(hide_password=True)})
    from sqlalchemy import func, select

    from ..models import ProfileSnapshot, Shop, ShopState
    from ..operations.shop_state import timed_rebuild

    with state.db.session() as s:
        # a database from before the read model or its profile snapshots (or restored without them): fill it once
        shops = s.scalar(select(func.count()).select_from(Shop))
        if (s.scalar(select(func.count()).select_from(ShopState)) != shops
                or s.scalar(select(func.count()).select_from(ProfileSnapshot)) != shops):
            data = timed_rebuild(s)
            click.echo(ngettext("Rebuilt the shop list's read model: %(num)d shops in %(seconds).1f s.",
                                 "Rebuilt the shop list's read model: %(num)d shops in %(seconds).1f s.",
                                 data["shops"]) % {"num": data["shops"], "seconds": data["seconds"]})


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False, help="Flask debug mode (never in production).")
@click.option("--production", is_flag=True, default=False,
              help="Serve with gunicorn: several worker processes, settings in concierge/gunicorn_conf.py "
                   "(see docs/deploy.md).")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes with --production (default: CONCIERGE_WORKERS, else 2 x CPU cores + 1).")
@click.option("--events-worker/--no-events-worker", default=True, show_default=True,
              help="With --production: run `concierge events worker` beside gunicorn to apply the webhook's "
                   "queued events (off: it runs elsewhere, e.g. its own service).")
def serve_cmd(host: str, port: int, debug: bool, production: bool, workers: int | None,
              events_worker: bool) -> None:
    """Run the web app: the development server, or with --production gunicorn (docs/deploy.md)."""
    if production:
        _serve_production(host, port, debug, workers, events_worker)
        return
    from .. import create_app

    app = create_app()
    app.run(host=host, port=port, debug=debug, use_reloader=False)


def _serve_production(host: str, port: int, debug: bool, workers: int | None, events_worker: bool = True) -> None:
    """gunicorn with the packaged settings; the events webhook in queued mode (CONCIERGE_EVENTS_QUEUED
    defaults to on here) with `concierge events worker` beside it, both supervised by this process.

    Without queued mode and without the worker this process is replaced by gunicorn's master, as
    before (signals such as SIGTERM then reach it directly)."""
    import os
    import sys

    if debug:
        raise click.UsageError(_("--debug cannot be used with --production"))
    if not (os.environ.get("CONCIERGE_EVENTS_QUEUED") or "").strip():
        os.environ["CONCIERGE_EVENTS_QUEUED"] = "1"  # the production default; CONCIERGE_EVENTS_QUEUED=0 keeps inline
    try:  # refuse a bad setting here, with its name, not in every worker's boot
        from ..config import events_queued, load_config
        from ..gunicorn_conf import default_workers

        load_config()
        default_workers()
        queued = events_queued()
    except (ValueError, SystemExit) as exc:
        raise click.ClickException(str(exc)) from None
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:concierge.gunicorn_conf", "--bind", bind]
    if workers is not None:
        argv += ["--workers", str(workers)]
    argv.append("concierge:create_app()")
    sys.stdout.flush()
    sys.stderr.flush()
    if not events_worker:
        if queued:
            click.echo(_("Events are queued (CONCIERGE_EVENTS_QUEUED) and no worker is started here: run "
                         "`concierge events worker` elsewhere."), err=True)
        os.execv(sys.executable, argv)
    worker = [sys.executable, "-c", "from concierge.cli import main; main()", "events", "worker",
              "--nice", str(EVENTS_WORKER_NICE)]
    sys.exit(supervise(argv, worker))


#: CPU priority of the events worker started by `serve --production` (`events worker --nice`): under
#: load the web requests come first and the inbox grows; it drains when they leave CPU to spare
EVENTS_WORKER_NICE = 10


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM if the supervisor dies (SIGKILL, OOM), so nothing is orphaned."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def supervise(server_argv: list[str], worker_argv: list[str]) -> int:
    """Run gunicorn and the events worker as children until gunicorn exits; return its exit code.

    Signals for gunicorn (TERM, INT, QUIT, HUP, TTIN, TTOU, USR1, USR2, WINCH) are passed on to
    it; TERM, INT and QUIT stop the worker too (it finishes its batch), HUP restarts it (new code,
    new settings). A worker that exits on its own is started again, waiting longer after each
    quick failure (up to a minute). When gunicorn has exited, the worker is stopped.
    """
    import signal
    import subprocess
    import sys
    import time

    linux = sys.platform.startswith("linux")
    server = subprocess.Popen(server_argv, preexec_fn=_die_with_parent if linux else None)  # noqa: PLW1509
    state = {"stopping": False, "restart": False}

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen(worker_argv, preexec_fn=_die_with_parent if linux else None)  # noqa: PLW1509

    def forward(signum: int, _frame: object) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            state["stopping"] = True
        elif signum == signal.SIGHUP:
            state["restart"] = True
        try:
            server.send_signal(signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU,
                signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH):
        signal.signal(sig, forward)
    worker = start_worker()
    started, failures = time.monotonic(), 0
    code: int | None = None
    while code is None:
        try:
            code = server.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            pass
        if state["stopping"]:
            if worker.poll() is None:
                worker.terminate()  # it finishes its batch
            continue
        if state["restart"]:  # SIGHUP: a new worker with the new code, once the old one finished its batch
            stop_child(worker)
            state["restart"] = False
            worker, started, failures = start_worker(), time.monotonic(), 0
            continue
        if worker.poll() is not None:
            failures = failures + 1 if time.monotonic() - started < 10 else 0
            wait = min(60.0, 2.0 ** failures) if failures else 0.0
            click.echo((_("The events worker exited (%(code)s); starting it again in %(seconds).0f s.") if wait
                        else _("The events worker exited (%(code)s); starting it again."))
                       % {"code": worker.returncode, "seconds": wait}, err=True)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and not state["stopping"] and server.poll() is None:
                time.sleep(0.2)
            if not state["stopping"] and server.poll() is None:
                worker = start_worker()
                started = time.monotonic()
    if worker.poll() is None:
        stop_child(worker)
    return code if code >= 0 else 128 - code


def stop_child(proc: subprocess.Popen, grace: float = 60.0, *, group: bool = False) -> None:
    """Stop a child that still runs: SIGTERM (the worker finishes its batch), then SIGKILL after `grace`
    seconds. With `group`, every process in the child's group (one started with start_new_session: its
    pid is the group's id), as the benchmarks and tests stop a whole `serve --production`."""
    import functools
    import os
    import signal
    import subprocess

    if proc.poll() is not None:
        return
    terminate, kill = proc.terminate, proc.kill
    if group:
        terminate = functools.partial(os.killpg, proc.pid, signal.SIGTERM)
        kill = functools.partial(os.killpg, proc.pid, signal.SIGKILL)
    terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        kill()
        proc.wait()


def register(group: click.Group) -> None:
    group.add_command(init_cmd)
    group.add_command(serve_cmd)
