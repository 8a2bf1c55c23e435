"""`concierge init` and `concierge serve`."""
from __future__ import annotations

import click

from . import CliState, pass_state


@click.command("init")
@pass_state
def init_cmd(state: CliState) -> None:
    """Create or upgrade the database to the latest schema (safe to run again); fill the shop list's
    read model when it is missing rows."""
    from ..migrate import upgrade

    upgrade(state.db.url)
    click.echo(f"Database ready: {state.db.engine.url.render_as_string(hide_password=True)}")
    from sqlalchemy import func, select

    from ..models import ProfileSnapshot, Shop, ShopState
    from ..operations.shop_state import timed_rebuild

    with state.db.session() as s:
        # a database from before the read model or its profile snapshots (or restored without them): fill it once
        shops = s.scalar(select(func.count()).select_from(Shop))
        if (s.scalar(select(func.count()).select_from(ShopState)) != shops
                or s.scalar(select(func.count()).select_from(ProfileSnapshot)) != shops):
            data = timed_rebuild(s)
            click.echo(f"Rebuilt the shop list's read model: {data['shops']} shops in {data['seconds']:.1f} s.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False, help="Flask debug mode (never in production).")
@click.option("--production", is_flag=True, default=False,
              help="Serve with gunicorn: several worker processes, settings in concierge/gunicorn_conf.py "
                   "(see docs/deploy.md).")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes with --production (default: CONCIERGE_WORKERS, else 2 x CPU cores + 1).")
def serve_cmd(host: str, port: int, debug: bool, production: bool, workers: int | None) -> None:
    """Run the web app: the development server, or with --production gunicorn (docs/deploy.md)."""
    if production:
        _serve_production(host, port, debug, workers)
        return
    from .. import create_app

    app = create_app()
    app.run(host=host, port=port, debug=debug, use_reloader=False)


def _serve_production(host: str, port: int, debug: bool, workers: int | None) -> None:
    """Replace this process with gunicorn's master (signals such as SIGTERM then reach it directly)."""
    import os
    import sys

    if debug:
        raise click.UsageError("--debug cannot be used with --production")
    try:  # refuse a bad setting here, with its name, not in every worker's boot
        from ..config import load_config
        from ..gunicorn_conf import default_workers

        load_config()
        default_workers()
    except (ValueError, SystemExit) as exc:
        raise click.ClickException(str(exc)) from None
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:concierge.gunicorn_conf", "--bind", bind]
    if workers is not None:
        argv += ["--workers", str(workers)]
    argv.append("concierge:create_app()")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


def register(group: click.Group) -> None:
    group.add_command(init_cmd)
    group.add_command(serve_cmd)
