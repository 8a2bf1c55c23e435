"""`concierge schema show`: every interview question with its key and type."""
from __future__ import annotations

import click

from locales import LANGUAGES

from . import echo_json, ngettext


@click.group("schema")
def schema_group() -> None:
    """The interview schema (questions, types, choices)."""


@schema_group.command("show")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--version", "version", type=int, default=None, help="A schema version (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Print Schema.describe() as JSON.")
def show_cmd(lang: str, version: int | None, as_json: bool) -> None:
    """List every question with its key, type, label and choices, so answers can be typed right."""
    from profile_schema import load_schema

    schema = load_schema(version)
    data = schema.describe(lang)
    if as_json:
        echo_json(data)
        return
    click.echo(ngettext("Interview schema v%(version)s (%(num)d questions)", "Interview schema v%(version)s (%(num)d questions)",
                        len(data["questions"])) % {"version": schema.version, "num": len(data["questions"])})
    facet = None
    for q in data["questions"]:
        if q["facet"] != facet:
            facet = q["facet"]
            click.echo(f"\n[{facet}]")
        extra = []
        if q.get("markets"):
            extra.append("markets " + ",".join(q["markets"]))
        if q.get("survey_required"):
            extra.append("required in survey")
        click.echo(f"  {q['key']:<38} {q['type']:<13} {q['label']}" + (f"  ({'; '.join(extra)})" if extra else ""))
        if q.get("choices"):
            click.echo("      " + ", ".join(c["key"] for c in q["choices"]))


def register(group: click.Group) -> None:
    group.add_command(schema_group)
