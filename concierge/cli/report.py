"""`concierge report KEY`: the manager's reports for scripts, as plain text, JSON or CSV.

The same `operations.reports.build_report` as the dashboard, so a figure cannot differ
between the page, the terminal and an export. Reads only.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from locales import MARKET_CODES

from ..i18n import LANGUAGES
from ..operations.reports import MODULES, REPORTS
from . import CliState, _, echo_json, pass_state

TEXT_WIDTH = 60  # a text cell is cut here in the plain-text view (never in JSON or CSV)


def _cell(value: Any, kind: str) -> str:
    """One value as a person reads it in a terminal: rates as percentages, missing as '-'."""
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if kind == "rate":
        return f"{float(value) * 100:.1f} %"
    if kind == "int":
        return str(int(value))
    if kind == "float":
        number = float(value)
        return f"{number:.1f}" if abs(number) >= 100 else f"{number:.3f}"
    if kind == "bool" or isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = " ".join(str(value).split())
    return text if len(text) <= TEXT_WIDTH else text[:TEXT_WIDTH - 1] + "…"


def table_text(table: Any, lang: str) -> list[str]:
    """A report table as aligned plain text: title, definition, header, rows and notes."""
    from ..i18n import translations

    _ = translations(lang).gettext
    flags = {"_pending": _("pending"), "_muted": _("too few to read")}
    lines = [f"== {table.title} [{table.key}]"]
    if table.definition:
        lines.append(table.definition)
    header = [c.label for c in table.columns]
    body = []
    for row in table.rows:
        cells = [_cell(row.get(c.key), c.kind) for c in table.columns]
        marks = [text for key, text in flags.items() if row.get(key)]
        body.append((cells, f"({', '.join(marks)})" if marks else ""))
    widths = [max([len(h), *(len(cells[i]) for cells, _m in body)]) for i, h in enumerate(header)]
    right = [c.kind in ("int", "float", "rate") for c in table.columns]

    def line(cells: list[str], mark: str = "") -> str:
        parts = [cell.rjust(w) if r else cell.ljust(w) for cell, w, r in zip(cells, widths, right)]
        return ("  ".join(parts) + (f"  {mark}" if mark else "")).rstrip()

    lines.append(line(header))
    lines += [line(cells, mark) for cells, mark in body]
    if not body:
        lines.append(_("No rows."))
    lines += [f"* {note}" for note in table.notes]
    return lines


@click.command("report")
@click.argument("key", type=click.Choice(REPORTS))
@click.option("--market", type=click.Choice(MARKET_CODES, case_sensitive=False), help="Only this market.")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of titles, definitions and headers.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON (tables, rows, drill-downs).")
@click.option("--csv", "as_csv", is_flag=True,
              help="Print one table as CSV (RFC 4180, UTF-8, formula-safe): --table, else the first.")
@click.option("--table", "table_key", metavar="TABLE_KEY", help="The table to print (plain text or CSV).")
@click.option("--grain", type=click.Choice(("week", "month")), help="Cohorts by trial start week or month.")
@click.option("--now", help="Compute as of this moment (ISO 8601; default: now).")
@pass_state
def report_cmd(state: CliState, key: str, market: str | None, lang: str, as_json: bool, as_csv: bool,
               table_key: str | None, grain: str | None, now: str | None) -> None:
    """Print a manager's report: cohorts, funnel, breakdowns, lift, forecast, model-health, queue, voice or survey."""
    from ..operations.reports import build_report
    from ..reporting import table_csv
    from .shops import parse_when

    if as_json and as_csv:
        raise click.UsageError(_("--json and --csv cannot be used together: choose one."))
    when = parse_when(now, "--now")
    params: dict[str, Any] = {"grain": grain} if grain else {}
    try:
        with state.db.session() as s:
            report = build_report(s, key, lang=lang, market=market, now=when, **params)
            s.rollback()  # reads only
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith(f".reports.{MODULES[key]}"):
            raise click.ClickException(_("the report %(report)r is not available in this version yet") % {
                "report": key}) from None
        raise
    keys = [t.key for t in report.tables]
    if table_key is not None and table_key not in keys:
        raise click.BadParameter(_("%(table)r is not a table of %(report)s: one of %(choices)s") % {
            "table": table_key, "report": key, "choices": ", ".join(keys) or _("(none)")},
                                 param_hint="--table")
    if as_json:
        echo_json(report.as_dict())
        return
    if as_csv:
        if not report.tables:
            raise click.ClickException(_("the report %(report)r has no table to print") % {"report": key})
        for text in table_csv(report.table(table_key)):
            click.echo(text.encode("utf-8"), nl=False)  # UTF-8 bytes, whatever the terminal's encoding
        return
    click.echo(report.title)
    for warning in report.warnings:
        click.echo(f"! {warning}")
    for table in report.tables:
        if table_key is not None and table.key != table_key:
            continue
        click.echo("")
        for text in table_text(table, lang):
            click.echo(text)


def register(group: click.Group) -> None:
    group.add_command(report_cmd)
