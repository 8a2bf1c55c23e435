"""`concierge import trials FILE.csv`: bring your own history of past trials for training."""
from __future__ import annotations

from pathlib import Path

import click

from locales import LANGUAGES, MARKET_CODES

from ..errors import ConciergeError
from . import CliState, echo_json, pass_state


@click.command("trials")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False),
              help="Interview schema YAML whose question keys name the columns (default: the packaged one).")
@click.option("--outcome", required=True, help="Column with the outcome (converted/not_converted, 1/0, yes/no).")
@click.option("--date", "date_col", help="Column with the trial start date (YYYY-MM-DD or ISO 8601).")
@click.option("--market", "market_col", help="Column with the market (PL, TR, IN).")
@click.option("--default-market", type=click.Choice(MARKET_CODES), help="Market of every row without --market.")
@click.option("--id", "id_col", help="Column with the platform's shop id (default: file name and row number).")
@click.option("--lang", default="en", show_default=True, type=click.Choice(LANGUAGES))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_state
def import_trials_cmd(state: CliState, file: str, schema_file: str | None, outcome: str, date_col: str | None,
                      market_col: str | None, default_market: str | None, id_col: str | None, lang: str,
                      as_json: bool) -> None:
    """Load past trials (answers and outcomes) from CSV; rows we cannot use go to the dead-letter store."""
    import profile_schema

    from ..scoring.importer import ImportOptions, import_trials

    if bool(market_col) == bool(default_market):
        raise click.UsageError("give --market COLUMN or --default-market PL|TR|IN (one of them)")
    try:
        schema = profile_schema.load_schema_file(schema_file) if schema_file else profile_schema.load_schema()
    except profile_schema.SchemaError as exc:
        raise click.BadParameter(str(exc), param_hint="--schema") from None
    try:
        text = Path(file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.BadParameter("the file is not UTF-8 text", param_hint="FILE") from None
    opts = ImportOptions(outcome=outcome, date=date_col, market=market_col, default_market=default_market,
                         id=id_col, file_name=Path(file).name,
                         schema_file=str(Path(schema_file).resolve()) if schema_file else None)
    try:
        with state.db.session() as s:
            report = import_trials(s, text, schema, opts, lang=lang)
    except ConciergeError as exc:
        if as_json:
            echo_json(exc.as_dict())
        details = "; ".join(e["message"] for e in getattr(exc, "errors", []) if isinstance(e, dict))
        raise click.ClickException(f"{exc}: {details}" if details else str(exc))
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(f"{report.imported} of {report.rows} trials imported ({report.outcomes['converted']} converted, "
               f"{report.outcomes['not_converted']} not), {report.observations} answers; "
               f"{report.dead_lettered} rows kept in the dead-letter store.")
    if report.unused_columns:
        click.echo(f"Columns that are not questions of the schema (ignored): {', '.join(report.unused_columns)}")
    for e in report.errors[:10]:
        click.echo(f"  row {e['row']}: " + "; ".join(x["message"] for x in e["errors"]))
    if not date_col:
        click.echo("No --date: every trial starts today, so training cannot split by time (it will say so).")


def register(group: click.Group) -> None:
    existing = group.commands.get("import")
    if isinstance(existing, click.Group):
        existing.add_command(import_trials_cmd)
        return

    @click.group("import")
    def import_group() -> None:
        """Import data from files."""

    import_group.add_command(import_trials_cmd)
    group.add_command(import_group)
