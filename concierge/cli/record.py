"""`concierge record`: store a consultant's answers from the terminal, all or nothing."""
from __future__ import annotations

import getpass
import json
import os
from typing import Any

import click

from locales import LANGUAGES

from . import CliState, _, echo_json, fail, ngettext, pass_state
from .shops import parse_when


def parse_value(text: str) -> Any:
    """JSON when it parses (12, true, ["a"], {"amount": 5}), else the text itself (a,b stays text)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: tuple[str, ...]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(_("%(pair)r is not key=value") % {"pair": pair}, param_hint="ANSWERS")
        answers[key.strip()] = parse_value(value)
    return answers


def _default_actor() -> str:
    try:
        return os.environ.get("CONCIERGE_ACTOR") or getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


@click.command("record")
@click.argument("shop")
@click.argument("answers", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.option("--actor", default=_default_actor, show_default="$CONCIERGE_ACTOR or your user name",
              help="Who learned this (a consultant's name).")
@click.option("--source", type=click.Choice(["call", "survey", "import", "trial"]), default="call", show_default=True)
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of the error messages.")
@click.option("--observed-at", help="When it was learned (ISO 8601; default now).")
@click.option("--json", "as_json", is_flag=True, help="Print {submission, shop, answers} as JSON.")
@pass_state
def record_cmd(state: CliState, shop: str, answers: tuple[str, ...], actor: str, source: str, lang: str,
               observed_at: str | None, as_json: bool) -> None:
    """Record answers for a shop, e.g. owner.hours_per_week=10 needs.help_with=payments,shipping.

    Values are JSON when they parse, else text; lists as a,b. One bad answer stores
    nothing and exits 1 with every field's error.
    """
    from sqlalchemy import select

    from ..errors import ConciergeError
    from ..models import Observation
    from ..operations.observations import record_answers

    parsed = parse_pairs(answers)
    when = parse_when(observed_at, "--observed-at")
    try:
        with state.db.session() as s:
            sub = record_answers(s, shop, parsed, actor=actor, source=source, channel="cli", lang=lang,
                                 observed_at=when)
            stored = {q: v for q, v in s.execute(select(Observation.question, Observation.value)
                                                 .where(Observation.submission_id == sub.id))}
            sub_id = sub.id
    except ConciergeError as exc:
        fail(exc, as_json)
    if as_json:
        echo_json({"submission": sub_id, "shop": shop, "answers": stored})
    else:
        click.echo(ngettext("Recorded %(num)d answer(s) for %(shop)s (submission %(submission)s).",
                            "Recorded %(num)d answer(s) for %(shop)s (submission %(submission)s).",
                            len(stored)) % {"num": len(stored), "shop": shop, "submission": sub_id})


def register(group: click.Group) -> None:
    group.add_command(record_cmd)
