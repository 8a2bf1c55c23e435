"""`concierge audits plan|worker|rules`: the follow-up call planner, from cron or as a process."""
from __future__ import annotations

import re
import signal
import threading
from datetime import datetime

import click

from locales import MARKET_CODES

from ..i18n import LANGUAGES
from . import CliState, _, answer, echo_json, fail, ngettext, pass_state
from .shops import parse_when


@click.group("audits")
def audits_group() -> None:
    """Plan follow-up advice calls (audits) from the audit rules; see `calls` for the queue."""


def _run_plan(state: CliState, now: datetime | None, full: bool) -> dict:
    from ..operations.audits import plan_calls

    with state.db.session() as s:
        return plan_calls(s, now=now, full=full).as_dict()


def _summary(data: dict) -> str:
    skipped = ", ".join(f"{k} {v}" for k, v in data["skipped"].items()) or _("none")
    cancelled = ", ".join(f"{k} {v}" for k, v in data["cancelled_by_reason"].items())
    return _("Planned at %(now)s: %(seen)s shops looked at (%(rebuilt)s re-read), %(created)s calls planned, "
             "%(held_out)s held out, %(cancelled)s cancelled%(reasons)s, %(unsnoozed)s back from snooze; "
             "not planned: %(skipped)s.") % {
        "now": data["now"], "seen": data["shops_seen"], "rebuilt": data["shops_rebuilt"], "created": data["created"],
        "held_out": data["held_out"], "cancelled": data["cancelled"], "reasons": f" ({cancelled})" if cancelled else "",
        "unsnoozed": data["unsnoozed"], "skipped": skipped}


@audits_group.command("plan")
@click.option("--now", "now_text", metavar="ISO", help="Plan as of this moment (default: now). A date alone is midnight UTC.")
@click.option("--full", is_flag=True, help="Re-plan every shop, not only those that changed or fell due.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {now, full, shops_seen, shops_rebuilt, created, held_out, cancelled, cancelled_by_reason, unsnoozed, skipped}.")
@pass_state
def plan_cmd(state: CliState, now_text: str | None, full: bool, as_json: bool) -> None:
    """Plan calls for shops that changed since the last run and rules that fell due (safe to repeat; cron it)."""
    from ..errors import ConciergeError

    now = parse_when(now_text, "--now")
    try:
        data = _run_plan(state, now, full)
    except ConciergeError as exc:
        fail(exc, as_json)
    answer(data, as_json, _summary(data))


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h)?\s*$")


def parse_every(value: str) -> float:
    """'30s', '5m', '1h' or plain seconds -> seconds (at least 1)."""
    match = _DURATION.match(value or "")
    if not match:
        raise click.BadParameter(_("%(value)r is not a duration such as 30s, 5m or 1h") % {"value": value},
                                 param_hint="--every")
    seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[match.group(2)]
    if seconds < 1:
        raise click.BadParameter(_("the interval must be at least 1 second"), param_hint="--every")
    return float(seconds)


@audits_group.command("worker")
@click.option("--every", "every_text", default="5m", show_default=True, help="How often to plan (30s, 5m, 1h).")
@click.option("--runs", type=click.IntRange(min=1), default=None, help="Stop after this many runs (default: until SIGTERM).")
@click.option("--json", "as_json", is_flag=True, help="Print each run's report as one JSON line.")
@pass_state
def worker_cmd(state: CliState, every_text: str, runs: int | None, as_json: bool) -> None:
    """Plan calls every interval until stopped; SIGTERM or Ctrl-C finishes the current run and exits."""
    import json
    import logging

    from ..errors import ConciergeError

    every = parse_every(every_text)
    stop = threading.Event()

    def _stop(_signum, _frame) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    done = 0
    try:
        while not stop.is_set():
            try:
                data = _run_plan(state, None, False)
                click.echo(json.dumps(data, sort_keys=True) if as_json else _summary(data))
            except ConciergeError as exc:
                click.echo(_("Error: %(message)s") % {"message": exc}, err=True)
            except Exception:  # noqa: BLE001 - a worker logs and tries again next time
                logging.getLogger(__name__).exception("audit planning failed; trying again in %s s", every)
            done += 1
            if runs is not None and done >= runs:
                break
            stop.wait(every)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(ngettext("Planner stopped after %(num)d run.", "Planner stopped after %(num)d runs.", done)
               % {"num": done}, err=True)


@audits_group.command("rules")
@click.option("--market", type=click.Choice(MARKET_CODES, case_sensitive=False), default=None,
              help="One market (default: all).")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print [{market, version, holdout_share, callbacks, rules: [...]}].")
@pass_state
def rules_cmd(state: CliState, market: str | None, lang: str, as_json: bool) -> None:
    """Show the audit rules in force for each market (shipped files plus the manager's overrides)."""
    from audits.messages import KINDS, PURPOSES

    from ..errors import ConciergeError
    from ..operations.audits import rules_as_dict

    try:
        data = [rules_as_dict(code, lang) for code in ([market.upper()] if market else MARKET_CODES)]
    except ConciergeError as exc:
        fail(exc, as_json)
    if as_json:
        echo_json(data)
        return
    for block in data:
        level = block["callbacks"]["service_level"]
        click.echo(f"{block['market']}  " + _("rules v%(version)s, holdout %(holdout)s, callbacks within %(minutes)s "
                                              "allowed minutes for %(share)s") % {
            "version": block["version"], "holdout": f"{block['holdout_share']:.0%}",
            "minutes": level["target_minutes"], "share": f"{level['target_share']:.0%}"})
        for r in block["rules"]:
            trigger = ", ".join(f"{k}={v}" for k, v in r["trigger"].items() if k != "type")
            window = ", ".join(f"{k}={v}" for k, v in r["window"].items())
            gain = ", " + _("min gain %(gain)s") % {"gain": r["min_gain"]} if r["min_gain"] is not None else ""
            kind, purpose = _(KINDS.get(r["kind"], r["kind"])), _(PURPOSES.get(r["purpose"], r["purpose"]))
            click.echo(f"  {r['key']:<24} {kind:<14} {purpose:<31} {r['trigger']['type']}({trigger})  "
                       + _("due within %(window)s") % {"window": window} + gain)


def register(group: click.Group) -> None:
    group.add_command(audits_group)

