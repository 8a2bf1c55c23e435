"""Gunicorn settings for `concierge serve --production` (docs/deploy.md).

Used as ``gunicorn -c python:concierge.gunicorn_conf 'concierge:create_app()'``; each setting
can be changed with its environment variable, and `--bind`/`--workers` on the command line
win over this file.

- workers: CONCIERGE_WORKERS, else 2 x CPU cores + 1. Each worker is a process with its own
  database pool and its own copy of the active model (loaded at its first use, kept until
  another version is activated), so memory grows with the workers.
- threads: CONCIERGE_THREADS (default 4) per worker (gthread workers: a request waiting on
  the database does not hold a whole process).
- timeout: CONCIERGE_TIMEOUT seconds (default 60) before a silent worker is restarted;
  graceful_timeout 30 s for requests in flight on a restart or stop.
- access log: CONCIERGE_ACCESS_LOG, a file path or "-" for standard output (default "-");
  the error log goes to standard error.
- bind: CONCIERGE_BIND (default 127.0.0.1:8000): serve behind a reverse proxy.

The app is built in each worker after the fork (no preload): database connections and the
rate-limit store connection are never shared between processes.

The events webhook: `concierge serve --production` sets CONCIERGE_EVENTS_QUEUED=1 (unless it is
set) and runs `concierge events worker` beside gunicorn (cli/core.py `supervise`). A bare
`gunicorn -c python:concierge.gunicorn_conf` serves the webhook inline unless
CONCIERGE_EVENTS_QUEUED=1 is in its environment; then run `concierge events worker` too.
"""
from __future__ import annotations

import multiprocessing
import os

from concierge.config import _int_env


def _whole(name: str, default: int, low: int, high: int) -> int:
    """concierge.config's whole-number setting; a bad value stops gunicorn with the same words."""
    try:
        return _int_env(name, default, low, high)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def default_workers() -> int:
    """CONCIERGE_WORKERS, else 2 x CPU cores + 1."""
    return _whole("CONCIERGE_WORKERS", 2 * multiprocessing.cpu_count() + 1, 1, 256)


bind = os.environ.get("CONCIERGE_BIND") or "127.0.0.1:8000"
workers = default_workers()
worker_class = "gthread"
threads = _whole("CONCIERGE_THREADS", 4, 1, 64)
timeout = _whole("CONCIERGE_TIMEOUT", 60, 5, 3600)
graceful_timeout = 30
keepalive = 5
preload_app = False
accesslog = os.environ.get("CONCIERGE_ACCESS_LOG") or "-"
errorlog = "-"
loglevel = os.environ.get("CONCIERGE_LOG_LEVEL") or "info"
# the client's address as the proxy saw it, then the request and how it ended
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
proc_name = "concierge"
# request line and header limits: gunicorn's defaults, stated here so a review sees them
limit_request_line = 4094
limit_request_fields = 100
# no control socket: gunicorn 27 puts it at ~/.gunicorn/gunicorn.ctl, shared by every server the
# same user runs, so two instances (a deployment and a benchmark, or two tests) delete each other's
control_socket_disable = True


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's hook signature
    """gunicorn calls it in each worker once the app is built: `settle_worker`."""
    settle_worker()


def settle_worker() -> None:
    """Make a freshly built worker ready to serve.

    - Import the scoring stack now, not in the first request: otherwise the first event or score
      after a deploy waits seconds for scikit-learn and skops to import, and a sender with a short
      timeout sends it again.
    - Freeze what is built so far (`gc.freeze`): the modules, the app, its catalogs and schemas stay
      for the worker's life, yet every full collection of the garbage collector walked them all again,
      inside whichever request it fell: 150-200 ms added to one dashboard request in twenty or so at
      100k shops (benchmarks/bench_dashboard.py, which calls this as a worker does).
    """
    import gc

    import concierge.operations.scoring.service  # noqa: F401
    import concierge.operations.scoring.store  # noqa: F401

    gc.collect()
    gc.freeze()
