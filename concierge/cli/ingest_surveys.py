"""`concierge ingest surveys FILE --mapping MAPPING.yaml`: bulk import of survey-tool exports."""
from __future__ import annotations

import sys

import click

from locales import LANGUAGES

from . import CliState, echo_json, pass_state


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
@click.option("--json", "as_json", is_flag=True,
              help="Print {file, format, total, accepted, duplicates, rejected, dead_letters, errors}.")
@pass_state
def surveys_cmd(state: CliState, file: str, mapping_path: str, actor: str, lang: str | None,
                progress: bool | None, as_json: bool) -> None:
    """Import survey responses from a CSV or JSONL export, each line stored whole or not at all.

    The mapping is checked before any line is read (exit 2 on an unknown question key,
    a missing shop column, a header without a mapped column). Lines we cannot accept are
    kept verbatim as dead letters (`concierge deadletter list`, `replay`) and reported
    with their line number, field and reason; exits 1 when any line was rejected.
    Re-importing the same file stores nothing twice (response id, else a hash of the line).
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
        click.echo(f"Error: bad mapping: {exc}", err=True)
        sys.exit(2)
    except ImportFileError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    show = progress if progress is not None else sys.stderr.isatty()
    show = show and not as_json
    try:
        with state.db.session() as s:
            if show:
                with click.progressbar(length=len(export.records), label=f"Importing {export.name}",
                                       file=sys.stderr, show_pos=True) as bar:
                    report = import_surveys(s, file, mapping, actor=actor, lang=lang, export=export,
                                            progress=bar.update)
            else:
                report = import_surveys(s, file, mapping, actor=actor, lang=lang, export=export)
            result = report.as_dict()
    except ConciergeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    if as_json:
        echo_json(result)
    else:
        click.echo(f"{result['file']}: {result['total']} responses: {result['accepted']} accepted, "
                   f"{result['duplicates']} duplicates, {result['rejected']} rejected.")
        for e in result["errors"][:50]:
            for err in e["errors"]:
                where = f"column {err['column']!r} -> {err['field']}" if err.get("column") else (err["field"] or "line")
                click.echo(f"  line {e['line']}: {err['message']} [{where}; dead letter {e['dead_letter']}]",
                           err=True)
        if len(result["errors"]) > 50:
            click.echo(f"  ... and {len(result['errors']) - 50} more lines: concierge deadletter list", err=True)
    if result["rejected"]:
        sys.exit(1)


def register(group: click.Group) -> None:
    group.commands["ingest"].add_command(surveys_cmd)
