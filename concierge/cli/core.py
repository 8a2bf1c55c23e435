"""`concierge init` and `concierge serve`."""
from __future__ import annotations

import click

from . import CliState, pass_state


@click.command("init")
@pass_state
def init_cmd(state: CliState) -> None:
    """Create or upgrade the database to the latest schema (safe to run again)."""
    from ..migrate import upgrade

    upgrade(state.db.url)
    click.echo(f"Database ready: {state.db.engine.url.render_as_string(hide_password=True)}")


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
