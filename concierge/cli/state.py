"""`concierge state rebuild`: recompute the shop_state read model from history."""
from __future__ import annotations

import click

from . import CliState, answer, ngettext, pass_state


@click.group("state")
def state_group() -> None:
    """The read model the shop list reads (one shop_state row per shop, kept current by every change)."""


@state_group.command("rebuild")
@click.option("--json", "as_json", is_flag=True, help='Print {"shops": n, "seconds": s}.')
@pass_state
def rebuild_cmd(state: CliState, as_json: bool) -> None:
    """Recompute every shop's row from its history (safe to repeat; the lists read it)."""
    from ..operations.shop_state import timed_rebuild

    with state.db.session() as s:
        data = timed_rebuild(s)
    answer(data, as_json, ngettext("Rebuilt %(num)d shop rows in %(seconds).2f s.",
                                   "Rebuilt %(num)d shop rows in %(seconds).2f s.", data["shops"]) % {
        "num": data["shops"], "seconds": data["seconds"]})


def register(group: click.Group) -> None:
    group.add_command(state_group)
