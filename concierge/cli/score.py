"""`concierge score SHOP|--all`: likelihood to subscribe, reasons, and the call queue."""
from __future__ import annotations

import click

from locales import LANGUAGES

from ..errors import ConciergeError
from . import CliState, _, echo_json, ngettext, pass_state


@click.command("score")
@click.argument("shop", required=False)
@click.option("--all", "all_open", is_flag=True, help="Score every open trial; list them by the gain from a call.")
@click.option("--lang", default="en", show_default=True, type=click.Choice(LANGUAGES),
              help="Language of the reasons.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def score_cmd(state: CliState, shop: str | None, all_open: bool, lang: str, as_json: bool) -> None:
    """Score one trial with reasons and a path to subscribe, or all open trials (stored, naming the model)."""
    from ..operations.scoring.service import score_open, score_shop

    if bool(shop) == all_open:
        raise click.UsageError(_("give a SHOP or --all (not both)"))
    try:
        with state.db.session() as s:
            result = score_open(s, lang=lang) if all_open else score_shop(s, shop, lang=lang)
    except ConciergeError as exc:
        if as_json:
            echo_json(exc.as_dict())
        raise click.ClickException(str(exc))
    if all_open:
        if as_json:
            echo_json({"scored": len(result),
                       "model_version": result[0]["model_version"] if result else None,
                       "scores": [{**{k: r[k] for k in ("shop", "market", "probability", "uplift")},
                                   "phase": r.get("phase")} for r in result]})
            return
        click.echo(ngettext("%(num)d open trials scored; call queue by expected gain from a call:",
                            "%(num)d open trials scored; call queue by expected gain from a call:",
                            len(result)) % {"num": len(result)})
        for r in result:
            up = "-" if r["uplift"] is None else f"{r['uplift'] * 100:+.1f} pp"
            click.echo(f"  {r['shop']:24} {r['market'] or '':3} {r['probability'] * 100:5.1f}%  "
                       + _("gain %(gain)s") % {"gain": up} + ("  " + _("(fallback)") if r.get("fallback") else ""))
        return
    if as_json:
        echo_json(result)
        return
    up = "-" if result["uplift"] is None else f"{result['uplift'] * 100:+.1f} pp"
    click.echo(_("%(shop)s: %(percent).1f%% likely to subscribe; a call: %(gain)s (model %(model)s)") % {
        "shop": result["shop"], "percent": result["probability"] * 100, "gain": up, "model": result["model_version"]})
    click.echo(result["history"])
    if result.get("deliberating"):
        click.echo(result["deliberating"]["text"])
    if result.get("fallback"):
        click.echo(result["fallback"]["message"])
    if result.get("summary"):
        click.echo(result["summary"])
    for d in ("up", "down"):
        for r in result["reasons"][d]:
            click.echo(f"  {'+' if d == 'up' else '-'} {r['text']}")
    for st in result["path"]:
        click.echo(f"  > {st['text']}")


def register(group: click.Group) -> None:
    group.add_command(score_cmd)
