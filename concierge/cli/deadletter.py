"""`concierge deadletter list|replay`: see and re-run what we could not accept."""
from __future__ import annotations

import sys

import click

from . import CliState, _, echo_json, errors_language, fail, ngettext, pass_state


@click.group("deadletter")
def deadletter_group() -> None:
    """Inputs we could not accept, kept verbatim: list them and replay them."""


@deadletter_group.command("list")
@click.option("--status", type=click.Choice(["pending", "replayed", "discarded", "all"]), default="pending",
              show_default=True)
@click.option("--channel", help="Only this channel (events, surveys, survey_import).")
@click.option("--limit", type=click.IntRange(min=1), default=None)
@click.option("--json", "as_json", is_flag=True,
              help="Print a list of {id, channel, status, attempts, received_at, resolved_at, context, errors, payload}.")
@pass_state
def list_cmd(state: CliState, status: str, channel: str | None, limit: int | None, as_json: bool) -> None:
    """List dead letters, oldest first, with why each was rejected."""
    from ..operations.deadletters import dead_letter_as_dict, list_dead_letters

    with state.db.session() as s:
        rows = [dead_letter_as_dict(d) for d in list_dead_letters(
            s, status=None if status == "all" else status, channel=channel, limit=limit)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(_("No dead letters."))
    for r in rows:
        where = r["context"].get("file", r["context"].get("channel", ""))
        line = f":{r['context']['line']}" if "line" in r["context"] else ""
        if r["context"].get("record"):
            line += " " + _("(record %(record)s)") % {"record": r["context"]["record"]}
        first = r["errors"][0]["message"] if r["errors"] else ""
        if len(r["errors"]) > 1:
            first += " " + _("(+%(num)d more: deadletter list --json)") % {"num": len(r["errors"]) - 1}
        click.echo(f"{r['id']:>6}  {r['channel']:<14} {r['status']:<9} x{r['attempts']}  "
                   f"{r['received_at'][:19]}  {where}{line}  {first}")


@deadletter_group.command("replay")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "replay_all", is_flag=True, help="Replay every pending dead letter.")
@click.option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Survey imports: re-read the lines with this (corrected) mapping instead of the one "
                   "they were kept with.")
@click.option("--json", "as_json", is_flag=True, help="Print a list of {id, channel, ok, status, attempts, errors}.")
@pass_state
def replay_cmd(state: CliState, ids: tuple[int, ...], replay_all: bool, mapping_path: str | None,
               as_json: bool) -> None:
    """Re-run dead letters through their channel; success marks them replayed, failure keeps them pending.

    Exits 1 when any of them failed again (2 on a bad --mapping).
    """
    from ..errors import ConciergeError
    from ..operations.deadletters import replay

    if bool(ids) == replay_all:
        raise click.UsageError(_("give dead letter IDs or --all (not both)"))
    if mapping_path and not ids:
        raise click.UsageError(_("--mapping needs the IDs of the survey-import letters it corrects"))
    mapping = None
    if mapping_path:
        from ..operations.imports import MappingError, load_mapping

        try:
            mapping = load_mapping(mapping_path)
        except MappingError as exc:
            click.echo(_("Error: bad mapping: %(problem)s") % {"problem": exc}, err=True)
            sys.exit(2)
    try:
        with state.db.session() as s:
            results = [r.as_dict() for r in replay(s, list(ids) or None, survey_mapping=mapping,
                                                 lang=errors_language(as_json))]
    except ConciergeError as exc:
        fail(exc, as_json)
    if as_json:
        echo_json(results)
    else:
        ok = sum(r["ok"] for r in results)
        click.echo(_("Replayed %(ok)d of %(num)d.") % {"ok": ok, "num": len(results)})
        for r in results:
            if not r["ok"]:
                first = "; ".join(x["message"] for x in r["errors"]) if r["errors"] else r["status"]
                click.echo("  " + ngettext("%(id)s: still %(status)s after %(num)d attempt(s): %(problem)s",
                                           "%(id)s: still %(status)s after %(num)d attempt(s): %(problem)s",
                                           r["attempts"]) % {
                    "id": r["id"], "status": r["status"], "num": r["attempts"], "problem": first}, err=True)
    if any(not r["ok"] for r in results):
        sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(deadletter_group)
