"""`concierge demo`: a synthetic trial population with a known truth, in the database or as JSONL."""
from __future__ import annotations

import sys
from datetime import date, datetime, timezone

import click

from . import CliState, _, echo_json, errors_language, fail, ngettext, pass_state

_BIG = 2000  # populations from this size show progress on stderr


def _progress(total: int, label: str, quiet: bool):
    """A click progress bar on stderr for large runs (none for small ones, --json or no tty)."""
    if quiet or total < _BIG:
        return None
    return click.progressbar(length=total, label=label, file=sys.stderr)


@click.command("demo")
@click.option("--shops", "n_shops", default=600, show_default=True, type=click.IntRange(0, 1_000_000),
              help="How many trial shops to generate.")
@click.option("--seed", default=7, show_default=True, type=click.IntRange(0, 2**31 - 1),
              help="Random seed: the same seed and --today give the same population.")
@click.option("--today", "today", default=None, metavar="YYYY-MM-DD",
              help="The day the population ends on (default: today, UTC).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has shops (for `make demo`).")
@click.option("--events-out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the trial events as JSONL envelopes to this file instead of the database.")
@click.option("--plan/--no-plan", default=True, show_default=True,
              help="After loading, let a few merchants ask for callbacks and plan the follow-up calls.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_state
def demo_cmd(state: CliState, n_shops: int, seed: int, today: str | None, if_empty: bool,
             events_out: str | None, plan: bool, as_json: bool) -> None:
    """Load realistic PL/TR/IN demo trials with a known truth, to try the product and judge the model."""
    from ..demo.generator import generate
    from ..demo.loader import iter_event_lines, load_population

    try:
        day = date.fromisoformat(today) if today else datetime.now(timezone.utc).date()
    except ValueError:
        raise click.BadParameter(_("%(value)r is not a date (YYYY-MM-DD)") % {"value": today}, param_hint="--today") from None
    if if_empty and events_out is None:
        from sqlalchemy import select

        from ..models import Shop

        with state.db.session() as s:
            existing = s.scalar(select(Shop.id).limit(1))
        if existing is not None:
            if as_json:
                echo_json({"skipped": True, "reason": "the database already has shops"})
            else:
                click.echo(_("The database already has shops: demo data not loaded (--if-empty)."))
            return
    bar = _progress(n_shops, "Generating", as_json)
    if bar is None:
        population = generate(n_shops, seed=seed, today=day)
    else:
        with bar:
            population = generate(n_shops, seed=seed, today=day, progress=bar.update)
    summary = population.summary()
    if events_out is not None:
        count = 0
        with open(events_out, "w", encoding="utf-8") as fh:
            for line in iter_event_lines(population):
                fh.write(line + "\n")
                count += 1
        summary.update({"events_out": events_out, "loaded": False})
    else:
        from ..errors import ConciergeError

        bar = _progress(n_shops, "Loading", as_json)
        lang = errors_language(as_json)
        try:
            with state.db.session() as s:
                if bar is None:
                    result = load_population(s, population, lang=lang)
                else:
                    with bar:
                        events_total = summary["events"] or 1
                        result = load_population(s, population, lang=lang,
                                                 progress=lambda k: bar.update(k * n_shops / events_total))
        except ConciergeError as exc:  # its shops exist already: nothing was loaded
            fail(exc, as_json)
        summary.update({"loaded": True, "observations": result.observations, "calls": result.calls,
                        "surveys": result.surveys})
        if plan:
            from ..demo.loader import plan_demo_calls

            with state.db.session() as s:
                summary.update(plan_demo_calls(s, population, today=day, seed=seed))
    summary["skipped"] = False
    if as_json:
        echo_json(summary)
        return
    values = {"num": summary["shops"], "file": events_out, "seed": seed, "today": day.isoformat()}
    if events_out:
        click.echo(ngettext("%(num)d demo shops written to %(file)s (seed %(seed)s, today %(today)s):",
                            "%(num)d demo shops written to %(file)s (seed %(seed)s, today %(today)s):",
                            summary["shops"]) % values)
    else:
        click.echo(ngettext("%(num)d demo shops loaded (seed %(seed)s, today %(today)s):",
                            "%(num)d demo shops loaded (seed %(seed)s, today %(today)s):", summary["shops"]) % values)
    click.echo("  " + ", ".join(f"{m} {n}" for m, n in summary["by_market"].items()))
    rate = summary["conversion_rate"]
    click.echo("  " + _("finished trials %(finished)s, converted %(converted)s") % {
        "finished": summary["finished_trials"], "converted": summary["converted"]}
        + (f" ({rate:.1%})" if rate is not None else ""))
    click.echo("  " + _("no-call holdout %(holdout)s, called %(called)s, surveyed %(surveyed)s, events %(events)s") % {
        "holdout": f"{summary['holdout_share']:.1%}", "called": f"{summary['called_share']:.1%}",
        "surveyed": f"{summary['survey_share']:.1%}", "events": summary["events"]})
    if "planned_calls" in summary:
        click.echo("  " + _("follow-up calls planned %(planned)s (%(held_out)s held out), callbacks asked for "
                            "%(callbacks)s") % {"planned": summary["planned_calls"],
                                                "held_out": summary["held_out_calls"], "callbacks": summary["callbacks"]})


def register(group: click.Group) -> None:
    group.add_command(demo_cmd)
