"""`concierge render SHOP`: the shop's picture as SVG or PNG, for e-mail, chat or a report."""
from __future__ import annotations

import sys

import click

from locales import LANGUAGES

from . import CliState, _, ngettext, pass_state


@click.command("render")
@click.argument("shop")
@click.option("--format", "fmt", type=click.Choice(["svg", "png"]), default="svg", show_default=True)
@click.option("--locale", "lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of the labels (default: the shop's market language).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to FILE (default: stdout; a PNG is never written to a terminal).")
@pass_state
def render_cmd(state: CliState, shop: str, fmt: str, lang: str | None, output: str | None) -> None:
    """Draw SHOP's picture (profile, score, changes since the last call, next step)."""
    from ..errors import ConciergeError
    from ..i18n import choose_language
    from ..operations.pictures import shop_picture
    from ..operations.shops import get_shop

    out = sys.stdout.buffer
    if output is None and fmt == "png" and sys.stdout.isatty():
        raise click.UsageError(_("refusing to write PNG to a terminal: use -o FILE or redirect stdout"))
    try:
        with state.db.session() as s:
            row = get_shop(s, shop)
            data = shop_picture(s, row, fmt=fmt, lang=lang or choose_language(market=row.market))
    except ConciergeError as exc:
        from . import fail

        fail(exc)
    if output is None:
        out.write(data)
        out.flush()
    else:
        with open(output, "wb") as fh:
            fh.write(data)
        click.echo(ngettext("Wrote %(file)s (%(num)d bytes, %(format)s).", "Wrote %(file)s (%(num)d bytes, %(format)s).",
                            len(data)) % {"file": output, "num": len(data), "format": fmt}, err=True)


def register(group: click.Group) -> None:
    group.add_command(render_cmd)
