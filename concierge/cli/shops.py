"""`concierge shops` and `concierge profile`: what we know about trial shops, from the terminal."""
from __future__ import annotations

from typing import Any

import click

from locales import MARKET_CODES

from ..i18n import LANGUAGES
from . import CliState, _, echo_json, fail, ngettext, pass_state, reader_language

MARKET_CHOICE = click.Choice(MARKET_CODES, case_sensitive=False)




def parse_when(value: str | None, name: str) -> Any:
    """An ISO 8601 moment from the command line; a date alone means midnight UTC."""
    if value is None:
        return None
    from datetime import datetime, timezone

    from ..ingest.bodies import parse_datetime_with_offset

    when = parse_datetime_with_offset(value)
    if when is None:
        try:
            d = datetime.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(_("use ISO 8601, e.g. 2026-03-02 or 2026-03-02T09:00:00+01:00"),
                                     param_hint=name) from None
        when = d if d.tzinfo else d.replace(tzinfo=timezone.utc)
        try:  # 0001-01-01T00:00:00+14:00 is before year 1 once made UTC: no database stores it
            when.astimezone(timezone.utc)
        except OverflowError:
            raise click.BadParameter(_("is outside the dates we can store (years 1 to 9999 in UTC)"),
                                     param_hint=name) from None
    return when


def _stages() -> list[str]:
    import profile_schema

    return list(profile_schema.load_schema().stages)


#: parse_filters' parameter -> the option that gave it (its problems name the option)
FILTER_OPTIONS = {"market": "--market", "stage": "--stage", "stages": "--stages", "outcome": "--outcome",
                  "consultant": "--consultant", "persona": "--persona", "business_type": "--business-type",
                  "held_out": "--held-out/--not-held-out", "contacted": "--contacted/--not-contacted",
                  "trial_from": "--trial-from", "trial_to": "--trial-to", "closed_from": "--closed-from",
                  "closed_to": "--closed-to"}


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("1" if value else "0")


@click.command("shops")
@click.option("--market", type=MARKET_CHOICE, help="Only shops in this market.")
@click.option("--stage", help="Only shops at this launch stage (see `schema show`).")
@click.option("--stages", multiple=True, metavar="STAGE",
              help="Only shops at any of these stages (repeat the option, e.g. a funnel step's stages).")
@click.option("--outcome", type=click.Choice(("converted", "not_converted", "open")),
              help="Only converted, not converted, or open (still in trial) shops.")
@click.option("--consultant", metavar="EMAIL", help="Only shops whose last reached call this consultant made.")
@click.option("--persona", help="Only shops with this persona (e.g. first_steps).")
@click.option("--business-type", help="Only shops of this business type (the schema's business.type choices).")
@click.option("--held-out/--not-held-out", default=None,
              help="Only shops randomly held out from calls, or only those that were not.")
@click.option("--contacted/--not-contacted", default=None,
              help="Only shops a consultant has reached, or only those nobody has reached yet.")
@click.option("--trial-from", metavar="YYYY-MM-DD", help="Only trials started on or after this day (UTC).")
@click.option("--trial-to", metavar="YYYY-MM-DD", help="Only trials started before this day (UTC; exclusive).")
@click.option("--closed-from", metavar="YYYY-MM-DD", help="Only trials closed (outcome) on or after this day (UTC).")
@click.option("--closed-to", metavar="YYYY-MM-DD", help="Only trials closed before this day (UTC; exclusive).")
@click.option("--min-score", type=click.FloatRange(0, 1), help="Only shops scored at least this likely (0-1).")
@click.option("--max-score", type=click.FloatRange(0, 1), help="Only shops scored at most this likely (0-1).")
@click.option("--sort", type=click.Choice(("newest", "score", "trial_start", "name")), default="newest",
              show_default=True, help="Order: newest first, highest score, latest trial start, or name.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many first (paging).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: a list of {id, market, name, stage, percent, outcome, trial dates, score, consultant, ...}.")
@click.option("--csv", "as_csv", is_flag=True,
              help="Print CSV (RFC 4180, UTF-8, formula-safe), streamed: the columns of the web export.")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of the CSV header.")
@pass_state
def shops_cmd(state: CliState, market: str | None, stage: str | None, stages: tuple[str, ...], outcome: str | None,
              consultant: str | None, persona: str | None, business_type: str | None, held_out: bool | None,
              contacted: bool | None, trial_from: str | None, trial_to: str | None, closed_from: str | None,
              closed_to: str | None, min_score: float | None, max_score: float | None, sort: str,
              limit: int | None, offset: int, as_json: bool, as_csv: bool, lang: str) -> None:
    """List trial shops with their launch stage, readiness, score and outcome (from the shop_state read model)."""
    from ..operations.shop_state import export_csv, list_states, parse_filters, state_summary

    if as_json and as_csv:
        raise click.UsageError(_("--json and --csv cannot be used together: choose one."))
    if stage is not None and stage not in _stages():
        raise click.BadParameter(_("one of %(choices)s") % {"choices": ", ".join(_stages())}, param_hint="--stage")
    raw = {"market": market, "stage": stage, "stages": list(stages), "outcome": outcome, "consultant": consultant,
           "persona": persona, "business_type": business_type, "held_out": _flag(held_out),
           "contacted": _flag(contacted), "trial_from": trial_from, "trial_to": trial_to,
           "closed_from": closed_from, "closed_to": closed_to}
    filters, problems = parse_filters(raw, lang=reader_language())
    if problems:
        field, reason = problems[0]
        raise click.BadParameter(reason, param_hint=FILTER_OPTIONS.get(field, field))
    filters.update(min_score=min_score, max_score=max_score)
    if as_csv:
        with state.db.session() as s:
            for text in export_csv(s, lang=lang, sort=sort, limit=limit, offset=offset, **filters):
                click.echo(text.encode("utf-8"), nl=False)  # UTF-8 bytes, whatever the terminal's encoding
            s.rollback()  # reads only
        return
    with state.db.session() as s:
        found, _total = list_states(s, **filters, sort=sort, limit=limit, offset=offset)
        rows = [state_summary(r) for r in found]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(_("No shops."))
        return
    click.echo("{:<20} {:<3} {:<18} {:>5} {:>5}  {:<13} {}".format(  # column heads: pybabel reads no f-string
        _("SHOP"), _("MKT"), _("STAGE"), _("READY"), _("SCORE"), _("OUTCOME"), _("NAME")))
    for r in rows:
        score = f"{round(r['score'] * 100)}%" if r["score"] is not None else "-"
        click.echo(f"{r['id']:<20} {r['market']:<3} {r['stage'] or '-':<18} {r['percent']:>4}% {score:>5}  "
                   f"{r['outcome'] or '-':<13} {r['name'] or ''}")


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values())
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


@click.command("profile")
@click.argument("shop")
@click.option("--since", help="Also list what changed since this moment (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="Print the profile as JSON (plus `changes` with --since).")
@pass_state
def profile_cmd(state: CliState, shop: str, since: str | None, as_json: bool) -> None:
    """Show a shop's profile: the six facets, each answer with its source, who and when."""
    from ..errors import ConciergeError
    from ..operations.profiles import change_as_dict, load_profile, profile_changes
    from ..operations.shops import get_shop

    when = parse_when(since, "--since")
    try:
        with state.db.session() as s:
            row = get_shop(s, shop)
            profile = load_profile(s, row)
            changes = profile_changes(s, row, when) if when else None
    except ConciergeError as exc:
        fail(exc, as_json)
    if as_json:
        data = profile.as_dict()
        if changes is not None:
            data["changes"] = [change_as_dict(c) for c in changes]
        echo_json(data)
        return
    click.echo(_("%(shop)s  %(name)s  market %(market)s  stage %(stage)s (%(percent)s%%)  persona %(persona)s  "
                 "outcome %(outcome)s") % {
        "shop": row.platform_id, "name": row.name or "", "market": row.market, "stage": profile.readiness.stage,
        "percent": profile.readiness.percent, "persona": profile.persona or "-", "outcome": profile.outcome or "-"})
    from profile_schema.profile import PICTURE_FACETS

    for name in PICTURE_FACETS:
        facet = profile.facets[name]
        click.echo(f"\n[{name}]" + ("" if facet.facts else " " + _("(nothing known yet)")))
        for key, fact in facet.facts.items():
            conflict = "  " + ngettext("(conflict: %(num)d other source(s))", "(conflict: %(num)d other source(s))",
                                        len(fact.alternatives)) % {"num": len(fact.alternatives)} if fact.conflict else ""
            click.echo(f"  {key:<38} {_fmt(fact.value):<30} {fact.source}/{fact.actor} "
                       f"{fact.observed_at:%Y-%m-%d %H:%M}{conflict}")
    if changes is not None:
        click.echo("\n" + (_("Changed since %(when)s:") if changes else _("No changes since %(when)s.")) % {
            "when": when.isoformat()})
        for c in changes:
            click.echo(f"  {c.key}: {_fmt(c.before) if c.before is not None else '-'} -> "
                       f"{_fmt(c.after) if c.after is not None else '-'} ({c.source})")


def register(group: click.Group) -> None:
    group.add_command(shops_cmd)
    group.add_command(profile_cmd)
