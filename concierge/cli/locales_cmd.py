"""`concierge locales show|check|compile`: market rules, and complete translations everywhere."""
from __future__ import annotations

import sys
from typing import Any

import click

from locales import LANGUAGES, MARKET_CODES

from . import _, echo_json, ngettext

MARKET_CHOICE = click.Choice(MARKET_CODES, case_sensitive=False)


@click.group("locales")
def locales_group() -> None:
    """Markets (PL, TR, IN) and the UI's translations."""


def _print_market(d: dict[str, Any]) -> None:
    hours = d.get("business_hours") or {}
    click.echo(f"{d['code']}  {d['name']}")
    labels = {"languages": _("languages"), "currency": _("currency"), "time zone": _("time zone"),
              "working days": _("working days"), "tax ids": _("tax ids"), "phone region": _("phone region"),
              "calling law": _("calling law"), "holidays": _("holidays")}
    click.echo(f"  {labels['languages']:<14} {', '.join(d['languages'])} "
               + _("(default %(lang)s)") % {"lang": d["default_language"]})
    click.echo(f"  {labels['currency']:<14} {d['currency']}    {labels['time zone']} {d['timezone']}")
    click.echo(f"  {labels['working days']:<14} {', '.join(d['working_days'])}  {hours.get('start')}-{hours.get('end')}")
    click.echo(f"  {labels['tax ids']:<14} {', '.join(d['tax_id_kinds'])}    {labels['phone region']} {d['phone_region']}")
    calling = d.get("calling") or {}
    click.echo(f"  {labels['calling law']:<14} {calling.get('law')}")
    click.echo("  " + (_("consent needed: yes") if calling.get("commercial_requires_consent")
                       else _("consent needed: no")))
    for category, items in (d.get("integrations") or {}).items():
        click.echo(f"  {category:<14} {', '.join(i['name'] for i in items)}")
    legal = d.get("legal_checklist") or []
    if legal:
        click.echo("  " + _("legal checklist"))
        for item in legal:
            click.echo(f"    - {item['label']}" + (f" ({item['law']})" if item.get("law") else ""))
    hol = d.get("holidays") or {}
    days = hol.get("days") or hol.get("dates") or []
    if isinstance(days, list) and days:
        click.echo(f"  {labels['holidays']:<14} " + ngettext("%(num)d listed (see --json)", "%(num)d listed (see --json)",
                                                        len(days)) % {"num": len(days)})


@locales_group.command("show")
@click.argument("market", type=MARKET_CHOICE)
@click.option("--year", type=int, default=None, help="Holidays of this year and the next (default: this year).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the whole market card as JSON.")
def show_cmd(market: str, year: int | None, lang: str, as_json: bool) -> None:
    """Print a market's rules: languages, money, working days, calling law, integrations, legal steps."""
    from locales.cli_support import describe_market

    data = describe_market(market.upper(), year, lang=lang)
    if as_json:
        echo_json(data)
    else:
        _print_market(data)


def completeness_problems() -> list[str]:
    """Everything missing: untranslated or fuzzy catalog messages (every language but English), stale .mo,
    schema labels."""
    from ..i18n import (
        TRANSLATED,
        catalog_problems,
        schema_label_problems,
        untranslated_source_messages,
    )

    problems: list[str] = []
    for lang in TRANSLATED:
        problems.extend(catalog_problems(lang))
        problems.extend(untranslated_source_messages(lang))
    problems.extend(schema_label_problems())
    return problems


@locales_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print {ok, problems: [...]} as JSON.")
def check_cmd(as_json: bool) -> None:
    """Check every UI message is translated into every language and every schema label exists in each."""
    problems = completeness_problems()
    if as_json:
        echo_json({"ok": not problems, "problems": problems})
    elif problems:
        click.echo(ngettext("%(num)d translation problem(s):", "%(num)d translation problem(s):", len(problems)) % {
            "num": len(problems)}, err=True)
        for p in problems:
            click.echo(f"  {p}", err=True)
    else:
        from locales import LANGUAGES

        from ..i18n import TRANSLATED

        click.echo(_("Translations complete: UI catalogs (%(catalogs)s) and schema labels (%(languages)s).") % {
            "catalogs": ", ".join(TRANSLATED), "languages": ", ".join(LANGUAGES)})
    if problems:
        sys.exit(1)


@locales_group.command("compile")
def compile_cmd() -> None:
    """Compile the UI catalogs (.po -> .mo); both are committed, so run this after editing a .po."""
    from ..i18n import compile_catalogs

    for path in compile_catalogs():
        click.echo(_("Wrote %(file)s") % {"file": path})


@locales_group.command("update")
def update_cmd() -> None:
    """Add every message the code and templates use to every catalog (then translate and compile)."""
    from ..i18n import merge_new_messages

    for lang, missing in merge_new_messages().items():
        click.echo(ngettext("%(lang)s: %(num)d message(s) to translate", "%(lang)s: %(num)d message(s) to translate",
                            len(missing)) % {"lang": lang, "num": len(missing)} + "".join(f"\n  {m!r}" for m in missing))


def register(group: click.Group) -> None:
    group.add_command(locales_group)
