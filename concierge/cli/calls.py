"""`concierge calls list|snooze|cancel` and `concierge callback request|preferences`: the planned calls."""
from __future__ import annotations

import click

from audits.queue import OUTCOMES

from ..i18n import LANGUAGES
from . import CliState, _, answer, answer_rows, echo_json, in_session, ngettext, pass_state
from .shops import parse_when

STATUSES = ("open", "planned", "snoozed", "claimed", "held_out", "cancelled", "done")


def _local(c: dict) -> str:
    """When the call is planned, in the merchant's time, to the minute ("2026-12-01 10:00")."""
    return c["scheduled_local"][:16].replace("T", " ")


def _call_answer(state: CliState, as_json: bool, lang: str, act) -> dict | None:
    """`act(session)` changes or claims a planned call in one transaction; the call as `calls list --json`
    shows it (None when act found none), or the command fails with the ConciergeError."""
    from ..operations.audits import call_as_dict

    def work(s):
        call = act(s)
        return None if call is None else call_as_dict(call, call_shop(s, call), lang=lang)

    return in_session(state, as_json, work)


def _call_text(c: dict) -> str:
    """A planned call in a line, and its agenda a line an item (its status in the reader's language)."""
    return "\n".join([f"{c['id']:>6}  {c['shop']:<14} {c['market']}  {c['status_label']:<9} {_local(c)} "
                      f"{c['timezone']:<16} {c['kind_label']}: {c['why']}",
                      *(f"{'':>8}- {item}" for item in c["agenda"])])


@click.group("calls")
def calls_group() -> None:
    """Planned follow-up calls and callbacks: claim the next, complete, list, snooze, cancel."""


@calls_group.command("list")
@click.option("--shop", help="Only this shop's calls.")
@click.option("--status", type=click.Choice(STATUSES), default=None,
              help="open = planned or snoozed (default: every status).")
@click.option("--due-before", "due_before", metavar="ISO", help="Only calls planned before this moment.")
@click.option("--limit", type=click.IntRange(1, 10000), default=200, show_default=True)
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of the reasons and agendas.")
@click.option("--json", "as_json", is_flag=True,
              help="Print [{id, shop, market, kind, reason, rule, status, why, scheduled_at, scheduled_local, "
                   "timezone, due_from, due_until, agenda, ...}].")
@pass_state
def list_cmd(state: CliState, shop: str | None, status: str | None, due_before: str | None, limit: int,
             lang: str, as_json: bool) -> None:
    """List planned calls: callbacks first, then by the moment they are planned for (merchant's time)."""
    from ..operations.audits import call_as_dict, list_calls

    before = parse_when(due_before, "--due-before")
    rows = in_session(state, as_json, lambda s: [
        call_as_dict(c, sh, lang=lang)
        for c, sh in list_calls(s, shop=shop, status=status, due_before=before, limit=limit, lang=lang)])
    answer_rows(rows, as_json, _("No planned calls match."), _call_text)


@calls_group.command("snooze")
@click.argument("call_id", metavar="ID")
@click.option("--until", "until_text", required=True, metavar="DATE",
              help="Put it off until this date or moment (ISO; a date alone is midnight UTC).")
@click.option("--reason", required=True, help='Why, for the next consultant ("on holiday until 12 Jan").')
@click.option("--actor", default="cli", show_default=True)
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the call as `calls list --json` does.")
@pass_state
def snooze_cmd(state: CliState, call_id: str, until_text: str, reason: str, actor: str, lang: str,
               as_json: bool) -> None:
    """Snooze call ID until a date; it comes back at the first allowed calling time after it."""
    from ..operations.audits import snooze_call

    until = parse_when(until_text, "--until")
    data = _call_answer(state, as_json, lang, lambda s: snooze_call(s, call_id, until=until, reason=reason,
                                                                    actor=actor, lang=lang))
    answer(data, as_json, _("Snoozed call %(id)s until %(date)s; it comes back at %(when)s (%(timezone)s).") % {
        "id": data["id"], "date": until.date().isoformat(), "when": _local(data), "timezone": data["timezone"]})


@calls_group.command("cancel")
@click.argument("call_id", metavar="ID")
@click.option("--reason", required=True, help="Why it is not needed (kept with the call).")
@click.option("--actor", default="cli", show_default=True)
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the call as `calls list --json` does.")
@pass_state
def cancel_cmd(state: CliState, call_id: str, reason: str, actor: str, lang: str, as_json: bool) -> None:
    """Cancel call ID by hand, with the reason logged."""
    from ..operations.audits import cancel_call

    data = _call_answer(state, as_json, lang, lambda s: cancel_call(s, call_id, reason=reason, actor=actor, lang=lang))
    answer(data, as_json, _("Cancelled call %(id)s (%(shop)s).") % {"id": data["id"], "shop": data["shop"]})


@click.group("callback")
def callback_group() -> None:
    """Calls a merchant asked for: now, or at a time they picked."""


@callback_group.command("request")
@click.argument("shop")
@click.option("--now", "now_flag", is_flag=True, help="Call as soon as calling is allowed (the default).")
@click.option("--at", "at_text", metavar="ISO", help="The moment the merchant picked, with its offset.")
@click.option("--note", help="What the merchant wants to talk about.")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the callback as `calls list --json` does.")
@pass_state
def request_cmd(state: CliState, shop: str, now_flag: bool, at_text: str | None, note: str | None, lang: str,
                as_json: bool) -> None:
    """Record that SHOP's merchant asked for a call; it goes ahead of every audit."""
    from ..operations.audits import parse_moment, request_callback

    if now_flag and at_text:
        raise click.UsageError(_("give --now or --at, not both"))

    def work(s):
        at = parse_moment(at_text, "at", lang) if at_text else None
        return request_callback(s, shop, at=at, note=note, via="cli", actor="cli", lang=lang)

    data = _call_answer(state, as_json, lang, work)
    answer(data, as_json, _("Callback %(id)s for %(shop)s: %(when)s merchant's time (%(timezone)s).") % {
        "id": data["id"], "shop": data["shop"], "when": _local(data), "timezone": data["timezone"]})


@callback_group.command("preferences")
@click.argument("shop")
@click.option("--days", default="", metavar="1,2,...",
              help="ISO weekdays the merchant prefers (1 Monday .. 7 Sunday); none or all: any day.")
@click.option("--hours", required=True, help="morning, afternoon, evening or any (needs.preferred_call_time).")
@click.option("--channel", required=True, help="phone, or whatsapp where the market uses it (locales).")
@click.option("--actor", default="cli", show_default=True)
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True,
              help="Print {shop, days, hours, channel, channels, moved: [{call, from, to}]}.")
@pass_state
def preferences_cmd(state: CliState, shop: str, days: str, hours: str, channel: str, actor: str, lang: str,
                    as_json: bool) -> None:
    """Record when and how SHOP's merchant prefers to be called; their open planned calls follow."""
    from ..operations.contact_preferences import set_preferences
    from ..operations.shops import resolve_shop

    raw = {"days": [d.strip() for d in days.split(",") if d.strip()], "hours": hours, "channel": channel}

    def work(s):
        found = resolve_shop(s, shop, lang=lang)
        return set_preferences(s, found, raw, actor=actor, via="cli", lang=lang).as_dict(found)

    data = in_session(state, as_json, work)
    answer(data, as_json, ngettext(
        "%(shop)s: days %(days)s, hours %(hours)s, channel %(channel)s; %(num)d planned call(s) moved.",
        "%(shop)s: days %(days)s, hours %(hours)s, channel %(channel)s; %(num)d planned call(s) moved.",
        len(data["moved"])) % {"shop": data["shop"], "days": data["days"] or _("any"), "hours": data["hours"],
                               "channel": data["channel"], "num": len(data["moved"])})


def _as_option(func):
    return click.option("--as", "as_email", envvar="CONCIERGE_CONSULTANT", required=True, metavar="EMAIL",
                        help="The consultant (their login e-mail; or $CONCIERGE_CONSULTANT).")(func)


@calls_group.command("next")
@_as_option
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True,
              help="Print the claimed call as `calls list --json` does (with its token and lease), or null.")
@pass_state
def next_cmd(state: CliState, as_email: str, lang: str, as_json: bool) -> None:
    """Claim your next call: callbacks first, then the biggest expected gain per minute of your time."""
    from ..config import load_config
    from ..operations.workday import claim_next, find_user

    config = load_config()
    data = _call_answer(state, as_json, lang, lambda s: claim_next(
        s, find_user(s, as_email, lang=lang), lease_minutes=config["CLAIM_LEASE_MINUTES"],
        max_open=config["MAX_OPEN_CLAIMS"], lang=lang))
    if as_json:
        echo_json(data)
        return
    if data is None:
        click.echo(_("No call is due that you can make now."))
        return
    click.echo(_("Claimed call %(id)s (token %(token)s, yours until %(until)s UTC):") % {
        "id": data["id"], "token": data["token"], "until": data["lease_until"][11:16]})
    click.echo(_call_text(data))


@calls_group.command("complete")
@click.argument("call_id", metavar="ID")
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES))
@click.option("--at", "at_text", metavar="ISO", help="For 'later': when the merchant wants the call (with offset).")
@click.option("--note", help="What was said, for the next consultant.")
@click.option("--answer", "answers", multiple=True, metavar="KEY=VALUE",
              help="An interview answer learned on the call (repeatable; stored whole or not at all).")
@click.option("--token", type=int, default=None, help="The claim's token from `calls next` (recommended).")
@_as_option
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True, help='Print {"call": ..., "attempt": {...}} as JSON.')
@pass_state
def complete_cmd(state: CliState, call_id: str, outcome: str, at_text: str | None, note: str | None,
                 answers: tuple[str, ...], token: int | None, as_email: str, lang: str, as_json: bool) -> None:
    """Record how call ID went: reached, no_answer, later, wrong_number, not_interested or do_not_call."""
    from ..config import load_config
    from ..operations.audits import call_as_dict
    from ..operations.survey_links import public_base_url
    from ..operations.workday import attempt_as_dict, complete_call, find_user, rating_url
    from .record import parse_pairs

    parsed = parse_pairs(answers) if answers else None
    config = load_config()

    def work(s):
        user = find_user(s, as_email, lang=lang)
        call, attempt = complete_call(s, user, call_id, outcome=outcome, token=token, at=at_text, note=note,
                                      answers=parsed, channel="cli", lang=lang)
        shop = call_shop(s, call)
        link = rating_url(attempt, shop, secret=config["SECRET_KEY"],
                          base_url=public_base_url(config.get("PUBLIC_BASE_URL")))
        return {"call": call_as_dict(call, shop, lang=lang), "attempt": attempt_as_dict(attempt, rating_url=link)}

    data = in_session(state, as_json, work)
    if as_json:
        echo_json(data)
        return
    c = data["call"]
    if c["status"] == "planned":
        click.echo(_("Call %(id)s: %(outcome)s; next attempt %(when)s (%(timezone)s).") % {
            "id": c["id"], "outcome": outcome, "when": _local(c), "timezone": c["timezone"]})
    else:
        click.echo(_("Call %(id)s: %(outcome)s, done.") % {"id": c["id"], "outcome": outcome})
    if data["attempt"]["rating_url"]:
        from ..operations.ratings import RATING_DAYS

        click.echo(ngettext("Send the merchant this link to rate the call (works %(num)d day):",
                            "Send the merchant this link to rate the call (works %(num)d days):",
                            RATING_DAYS) % {"num": RATING_DAYS})
        click.echo(data["attempt"]["rating_url"])


@calls_group.command("release")
@click.argument("call_id", metavar="ID")
@click.option("--token", type=int, default=None)
@_as_option
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_state
def release_cmd(state: CliState, call_id: str, token: int | None, as_email: str, lang: str, as_json: bool) -> None:
    """Give claimed call ID back to the queue untouched."""
    from ..operations.workday import find_user, release_call

    data = _call_answer(state, as_json, lang, lambda s: release_call(s, find_user(s, as_email, lang=lang), call_id,
                                                                     token=token, lang=lang))
    answer(data, as_json, _("Call %(id)s is back in the queue.") % {"id": data["id"]})


@calls_group.command("stats")
@click.option("--since", "since_text", metavar="ISO", help="From this moment (default: 30 days before --until).")
@click.option("--until", "until_text", metavar="ISO", help="Up to this moment (default: now).")
@click.option("--json", "as_json", is_flag=True,
              help="Print {since, until, fcr_days, team: {...}, consultants: [{consultant, ...}]}.")
@pass_state
def stats_cmd(state: CliState, since_text: str | None, until_text: str | None, as_json: bool) -> None:
    """Contact-centre figures per consultant and team: handled, reach, handling time, callback
    service level (in allowed calling minutes), tNPS, first-contact resolution."""
    from ..operations.callstats import call_stats

    with state.db.session() as s:
        data = call_stats(s, since=parse_when(since_text, "--since"), until=parse_when(until_text, "--until"))
    if as_json:
        echo_json(data)
        return

    def show(v, fmt="{}"):
        return "-" if v is None else fmt.format(v)

    click.echo(_("%(since)s to %(until)s") % {"since": data["since"][:10], "until": data["until"][:10]})
    # column heads (pybabel reads no f-string); tNPS, FCR: the contact centre's names in every language
    click.echo("{:<28} {:>6} {:>6} {:>8} {:>9} {:>7} {:>6} {:>6}".format(
        _("who"), _("calls"), _("reach"), _("AHT min"), _("callbacks"), _("in SLA"), "tNPS", "FCR"))
    for who, row in [(_("team"), data["team"])] + [(r["consultant"], r) for r in data["consultants"]]:
        click.echo(f"{who[:28]:<28} {row['calls_handled']:>6} {show(row['reach_rate'], '{:.0%}'):>6} "
                   f"{show(row['average_handling_minutes']):>8} {row['callbacks']:>9} "
                   f"{show(row['callback_service_level'], '{:.0%}'):>7} {show(row['tnps']):>6} "
                   f"{show(row['first_contact_resolution'], '{:.0%}'):>6}")


def call_shop(session, call):
    from ..models import Shop

    return session.get(Shop, call.shop_id)


def register(group: click.Group) -> None:
    group.add_command(calls_group)
    group.add_command(callback_group)
