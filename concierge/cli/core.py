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

    from ..models import Shop, ShopState
    from ..operations.shop_state import timed_rebuild

    with state.db.session() as s:
        # a database from before the read model (or restored without it): fill it once
        if s.scalar(select(func.count()).select_from(ShopState)) != s.scalar(select(func.count()).select_from(Shop)):
            data = timed_rebuild(s)
            click.echo(f"Rebuilt the shop list's read model: {data['shops']} shops in {data['seconds']:.1f} s.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False, help="Flask debug mode (never in production).")
def serve_cmd(host: str, port: int, debug: bool) -> None:
    """Run the web app (development server; use a WSGI server such as gunicorn in production)."""
    from .. import create_app

    app = create_app()
    app.run(host=host, port=port, debug=debug, use_reloader=False)


def register(group: click.Group) -> None:
    group.add_command(init_cmd)
    group.add_command(serve_cmd)
