"""`concierge ingest surveys FILE --mapping MAPPING.yaml`: bulk import of survey-tool exports."""
from __future__ import annotations

import sys

import click

from locales import LANGUAGES

from . import CliState, _, echo_json, ngettext, pass_state


@click.command("surveys")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--mapping", "mapping_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="YAML: format, delimiter, encoding, shop column, columns -> question keys, value maps.")
@click.option("--actor", default="import", show_default=True,
              help="Who the answers are recorded as coming from (e.g. the survey tool's name).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of the error messages (default: the mapping's / each line's language).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal and not --json).")
@click.option("--update", is_flag=True,
              help="Read responses imported before again with this mapping and store what changed "
                   "(after correcting a mapping).")
@click.option("--json", "as_json", is_flag=True,
              help="Print {file, format, total, accepted, duplicates, rejected, dead_letters, errors, "
                   "updated, dropped, warnings}.")
@pass_state
def surveys_cmd(state: CliState, file: str, mapping_path: str, actor: str, lang: str | None,
                progress: bool | None, update: bool, as_json: bool) -> None:
    """Import survey responses from a CSV or JSONL export, each line stored whole or not at all.

    The mapping is checked before any line is read (exit 2 on an unknown question key,
    a missing shop column, a header without a mapped column). Lines we cannot accept are
    kept verbatim as dead letters (`concierge deadletter list`, `replay`) and reported
    with their line number, field and reason; exits 1 when any line was rejected.
    Re-importing the same file stores nothing twice (response id, else a hash of the line);
    with --update the responses are read again with this mapping and what changed is stored.
    Lines are named by record number (the n-th response) and the physical line it starts on.
    See docs/import.md.
    """
    from ..errors import ConciergeError
    from ..operations.imports import (
        ImportFileError,
        MappingError,
        import_surveys,
        load_mapping,
        read_export,
    )

    try:
        mapping = load_mapping(mapping_path)
        export = read_export(file, mapping, lang=lang or mapping.language)
    except MappingError as exc:
        click.echo(_("Error: bad mapping: %(problem)s") % {"problem": exc}, err=True)
        sys.exit(2)
    except ImportFileError as exc:
        click.echo(_("Error: %(message)s") % {"message": exc}, err=True)
        sys.exit(2)
    show = progress if progress is not None else sys.stderr.isatty()
    show = show and not as_json
    try:
        with state.db.session() as s:
            if show:
                with click.progressbar(length=len(export.records), label=f"Importing {export.name}",
                                       file=sys.stderr, show_pos=True) as bar:
                    report = import_surveys(s, file, mapping, actor=actor, lang=lang, export=export,
                                            progress=bar.update, update=update)
            else:
                report = import_surveys(s, file, mapping, actor=actor, lang=lang, export=export, update=update)
            result = report.as_dict()
    except ConciergeError as exc:
        click.echo(_("Error: %(message)s") % {"message": exc}, err=True)
        sys.exit(1)
    if as_json:
        echo_json(result)
    else:
        click.echo(_("%(file)s: %(total)s responses: %(accepted)s accepted, %(duplicates)s duplicates, "
                     "%(rejected)s rejected.") % {
            "file": result["file"], "total": result["total"], "accepted": result["accepted"],
            "duplicates": result["duplicates"], "rejected": result["rejected"]})
        if result["updated"]:
            click.echo("  " + ngettext("%(num)d responses imported before were updated with this mapping.",
                                       "%(num)d responses imported before were updated with this mapping.",
                                       result["updated"]) % {"num": result["updated"]})
        for e in result["errors"][:50]:
            for err in e["errors"]:
                click.echo("  " + _("%(where)s: %(problem)s [%(cell)s; dead letter %(letter)s]") % {
                    "where": _where(e), "problem": err["message"], "cell": _cell(err), "letter": e["dead_letter"]},
                           err=True)
        if len(result["errors"]) > 50:
            click.echo("  " + _("... and %(num)d more lines: concierge deadletter list") % {
                "num": len(result["errors"]) - 50}, err=True)
        for d in result["dropped"][:50]:
            click.echo("  " + _("%(where)s: dropped: %(problem)s [%(cell)s]") % {
                "where": _where(d), "problem": d["message"], "cell": _cell(d)}, err=True)
        for w in result["warnings"][:50]:
            click.echo("  " + _("%(where)s: warning: %(problem)s") % {"where": _where(w), "problem": w["message"]}, err=True)
    if result["rejected"]:
        sys.exit(1)


def _where(entry: dict) -> str:
    """`record 2 (line 3)`: the response's number in the file, and the physical line it starts on."""
    return f"record {entry['record']} (line {entry['line']})" if entry.get("record") else f"line {entry['line']}"


def _cell(err: dict) -> str:
    if not err.get("column"):
        return err.get("field") or "line"
    value = f" = {err['value']!r}" if err.get("value") not in (None, "") else ""
    return f"column {err['column']!r}{value} -> {err['field']}"


def register(group: click.Group) -> None:
    group.commands["ingest"].add_command(surveys_cmd)
