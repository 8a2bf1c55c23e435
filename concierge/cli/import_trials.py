"""`concierge import trials FILE.csv`: bring your own history of past trials (and open leads).

`concierge import trials --infer-schema FILE.csv -o schema.yaml` writes a starter schema and
mapping instead (docs/import.md, Trial histories)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import click

from locales import LANGUAGES, MARKET_CODES

from ..errors import BadMapping, ConciergeError
from . import CliState, _, echo_json, ngettext, pass_state


@click.command("trials")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False),
              help="YAML mapping: column -> question, value maps, placeholders, known: start|end "
                   "(docs/import.md, Trial histories).")
@click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False),
              help="Interview schema YAML (default: the mapping's `schema:`, else the packaged one).")
@click.option("--outcome", help="Column with the outcome (converted/not_converted, 1/0, yes/no); empty: an open trial.")
@click.option("--date", "date_col", help="Column with the trial start date (YYYY-MM-DD or ISO 8601).")
@click.option("--market", "market_col", help="Column with the market (PL, TR, IN).")
@click.option("--default-market", type=click.Choice(MARKET_CODES), help="Market of every row without --market.")
@click.option("--id", "id_col", help="Column with the platform's shop id (default: file name and row number).")
@click.option("--infer-schema", "infer_file", type=click.Path(exists=True, dir_okay=False),
              help="Write a starter schema (-o) and mapping (--mapping-out) inferred from this CSV; imports nothing.")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
              help="With --infer-schema: the schema file to write.")
@click.option("--mapping-out", type=click.Path(dir_okay=False),
              help="With --infer-schema: the mapping file to write (default: beside -o, NAME-mapping.yaml).")
@click.option("--max-categories", default=15, show_default=True, type=click.IntRange(1, 200),
              help="With --infer-schema: choices kept per column; the rest become `other`.")
@click.option("--force", is_flag=True, help="With --infer-schema: overwrite existing files.")
@click.option("--lang", default="en", show_default=True, type=click.Choice(LANGUAGES))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_state
def import_trials_cmd(state: CliState, file: str | None, mapping_file: str | None, schema_file: str | None,
                      outcome: str | None, date_col: str | None, market_col: str | None,
                      default_market: str | None, id_col: str | None, infer_file: str | None, output: str | None,
                      mapping_out: str | None, max_categories: int, force: bool, lang: str, as_json: bool) -> None:
    """Load trials (answers and outcomes; an empty outcome is an open trial) from CSV; rows we cannot
    use go to the dead-letter store."""
    import profile_schema

    from ..scoring import leakage
    from ..scoring import trial_mapping as tm
    from ..operations.scoring.importer import ImportOptions, import_trials

    if infer_file:
        _infer(infer_file, output, mapping_out, outcome=outcome, id_col=id_col, date_col=date_col,
               market_col=market_col, default_market=default_market, max_categories=max_categories,
               force=force, as_json=as_json)
        return
    if not file:
        raise click.UsageError(_("give FILE.csv to import (or --infer-schema FILE.csv -o schema.yaml)"))
    if market_col and default_market:
        raise click.UsageError(_("give --market COLUMN or --default-market PL|TR|IN (one of them)"))
    if not mapping_file and not (market_col or default_market):
        raise click.UsageError(_("give --market COLUMN or --default-market PL|TR|IN (one of them)"))
    if not mapping_file and not outcome:
        raise click.UsageError(_("give --outcome COLUMN (or a --mapping that names it)"))
    mapping_schema = None
    if mapping_file and not schema_file:
        try:
            mapping_schema = tm.mapping_schema_file(mapping_file)
        except tm.TrialMappingError as exc:
            _fail(BadMapping(str(exc)), as_json, "--mapping")
        if mapping_schema and not Path(mapping_schema).is_file():
            _fail(BadMapping(f"the mapping's schema {mapping_schema} does not exist"), as_json, "--mapping")
    schema_path = schema_file or mapping_schema
    try:
        schema = profile_schema.load_schema_file(schema_path) if schema_path else profile_schema.load_schema()
    except profile_schema.SchemaError as exc:
        raise click.BadParameter(str(exc), param_hint="--schema") from None
    if mapping_file:  # every mistake of the mapping, its questions checked against the schema, before any row
        try:
            tm.load_mapping(mapping_file, schema=schema)
        except tm.TrialMappingError as exc:
            _fail(BadMapping(str(exc)), as_json, "--mapping")
    raw = Path(file).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise click.BadParameter(_("the file is not UTF-8 text"), param_hint="FILE") from None
    opts = ImportOptions(outcome=outcome, date=date_col, market=market_col, default_market=default_market,
                         id=id_col, file_name=Path(file).name,
                         schema_file=str(Path(schema_path).resolve()) if schema_path else None,
                         mapping_file=str(Path(mapping_file).resolve()) if mapping_file else None,
                         file_sha256=hashlib.sha256(raw).hexdigest())
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
    click.echo(_("%(imported)s of %(rows)s trials imported (%(converted)s converted, %(not_converted)s not, %(open)s "
                 "open), %(answers)s answers; %(dead)s rows kept in the dead-letter store.") % {
        "imported": report.imported, "rows": report.rows, "converted": report.outcomes["converted"],
        "not_converted": report.outcomes["not_converted"], "open": report.open_trials, "answers": report.observations,
        "dead": report.dead_lettered})
    if report.already_imported:
        click.echo(ngettext("%(num)d rows were imported from this same file before (left as they are).",
                            "%(num)d rows were imported from this same file before (left as they are).",
                            report.already_imported) % {"num": report.already_imported})
    if report.unused_columns:
        click.echo(_("Columns not mapped to a question (ignored): %(columns)s") % {"columns": ", ".join(report.unused_columns)})
    if report.known_at_end:
        click.echo(_("Known at the trial's end (never day-0 knowledge for the model): %(columns)s") % {
            "columns": ", ".join(report.known_at_end)})
    for col, o in report.other_values.items():
        click.echo(_("%(column)s: %(num)s values not among the schema's choices became `other` (e.g. %(values)s)") % {
            "column": col, "num": o["count"], "values": ", ".join(list(o["values"])[:3])})
    for col, k in report.placeholders.items():
        click.echo(ngettext("%(column)s: %(num)d placeholder cells read as missing",
                            "%(column)s: %(num)d placeholder cells read as missing", k) % {"column": col, "num": k})
    for f in report.leakage:
        line = leakage.warning_line(f, _("column %(column)s") % {"column": repr(f["column"])}, _)
        if f["used_by_model"]:
            click.echo(_("WARNING %(warning)s. If it is filled in during or after the trial, set `known: end` for it in "
                         "the mapping (or drop it) before training; `model train --strict` refuses to train on it.")
                       % {"warning": line})
        else:
            click.echo(_("Note: %(warning)s; it is known at the trial's end, so the model does not use it.") % {
                "warning": line})
    for e in report.errors[:10]:
        click.echo("  " + _("row %(row)s:") % {"row": e["row"]} + " " + "; ".join(x["message"] for x in e["errors"]))
    if report.open_trials:
        click.echo(ngettext("%(num)d open trials (no outcome): `concierge score --all` scores them.",
                            "%(num)d open trials (no outcome): `concierge score --all` scores them.",
                            report.open_trials) % {"num": report.open_trials})
    if not (date_col or (mapping_file and _mapping_has_date(mapping_file))):
        click.echo(_("No --date: every trial starts today, so training cannot split by time (it will say so)."))


def _mapping_has_date(path: str) -> bool:
    from ..scoring import trial_mapping as tm

    try:
        return bool(tm.load_mapping(path).date)
    except tm.TrialMappingError:
        return False


def _fail(exc: ConciergeError, as_json: bool, hint: str) -> None:
    if as_json:
        echo_json(exc.as_dict())
    raise click.BadParameter(str(exc), param_hint=hint)


def _infer(path: str, output: str | None, mapping_out: str | None, *, outcome: str | None, id_col: str | None,
           date_col: str | None, market_col: str | None, default_market: str | None, max_categories: int,
           force: bool, as_json: bool) -> None:
    from ..scoring import trial_mapping as tm

    if not output:
        raise click.UsageError(_("--infer-schema needs -o SCHEMA.yaml (where to write the starter schema)"))
    out = Path(output)
    mout = Path(mapping_out) if mapping_out else out.with_name(f"{out.stem}-mapping.yaml")
    for p in (out, mout):
        if p.exists() and not force:
            raise click.UsageError(_("%(file)s exists: give --force to overwrite it") % {"file": p})
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.BadParameter(_("the file is not UTF-8 text"), param_hint="--infer-schema") from None
    try:
        schema_rel = str(Path(out.resolve()).relative_to(mout.resolve().parent)) if out.resolve().parent == mout.resolve().parent \
            else str(out.resolve())
        inf = tm.infer(text, outcome=outcome, id_col=id_col, date_col=date_col, market=market_col,
                       default_market=default_market, max_categories=max_categories, schema_file=schema_rel)
    except tm.TrialMappingError as exc:
        _fail(BadMapping(str(exc)), as_json, "--infer-schema")
    import profile_schema

    profile_schema.parse_schema(inf.schema)  # what we write must load
    name = Path(path).name
    out.write_text(tm.dump_yaml(inf.schema, [f"Starter interview schema inferred from {name} by "
                                             "`concierge import trials --infer-schema`.",
                                             "Review the types, labels and choices; add pl/tr labels if you like."]),
                   encoding="utf-8")
    if not inf.mapping.get("outcome"):
        inf.mapping["outcome"] = "CHANGE ME: the outcome column"
    mout.write_text(tm.dump_yaml(inf.mapping, [f"Starter mapping for {name} (docs/import.md, Trial histories).",
                                               "known: start = known when the trial starts (the model uses it);",
                                               "known: end = filled in during or after the trial (never used as "
                                               "day-0 knowledge)."]), encoding="utf-8")
    if as_json:
        echo_json({"schema": str(out), "mapping": str(mout), "outcome": inf.outcome, "columns": inf.columns})
        return
    click.echo(ngettext("Wrote %(file)s (%(num)d questions) and %(mapping)s.",
                        "Wrote %(file)s (%(num)d questions) and %(mapping)s.", len(inf.schema["questions"])) % {
        "file": out, "num": len(inf.schema["questions"]), "mapping": mout})
    click.echo(_("Outcome column: %(column)s") % {
        "column": inf.outcome or _("not found: set `outcome:` in the mapping or give --outcome")})
    for c in inf.columns:
        if c["action"] == "ignored":
            click.echo("  " + _("%(column)s: ignored (%(why)s)") % {"column": c["column"], "why": c["why"]})
            continue
        extra = ""
        if c["type"] == "single_choice":
            extra = ", " + _("%(num)s choices + other (%(rows)s rows other)") % {
                "num": c["categories"], "rows": c["other_rows"]}
        if c["placeholders"]:
            extra += ", " + _("placeholders %(values)s read as missing") % {"values": ", ".join(sorted(c["placeholders"]))}
        click.echo(f"  {c['column']} -> {c['question']} ({c['type']}{extra})")
        if c.get("leakage"):
            click.echo("    " + _("WARNING probable leakage (AUC %(auc)s on its own): if it is filled in during or after "
                                "the trial, set `known: end` in the mapping.") % {"auc": c["leakage"]["auc"]})


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
