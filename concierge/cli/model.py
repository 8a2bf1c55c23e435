"""`concierge model train|show|evaluate|list|activate`: the conversion model's life cycle."""
from __future__ import annotations

import sys

import click

from . import (CliState, _, answer, answer_rows, echo_json, errors_language, in_session, ngettext, pass_state,
               reader_language)
from ..errors import ConciergeError
from ..messages import Note
from ..scoring.ages import DEFAULT_AGES, DEFAULT_SNAPSHOT_DAY


def _fail(exc: ConciergeError, as_json: bool) -> None:
    """The error as JSON under --json, and always its line on stderr ("Error: ..." in the reader's
    language, as `fail` says it), exit status 1."""
    if as_json:
        echo_json(exc.as_dict())
    click.echo(_("Error: %(message)s") % {"message": str(exc)}, err=True)
    sys.exit(1)


def _parse_ages(value: str) -> list[int]:
    try:
        ages = sorted({int(x) for x in value.split(",") if x.strip()})
    except ValueError:
        raise click.BadParameter(_("%(value)s: whole days separated by commas, e.g. 0,2,4,7,10")
                                 % {"value": repr(value)}) from None
    if not ages or min(ages) < 0 or max(ages) > 365:
        raise click.BadParameter(_("%(value)s: one or more days from 0 to 365") % {"value": repr(value)})
    return ages


@click.group("model")
def model_group() -> None:
    """Train, show, evaluate, list and activate conversion models."""


@model_group.command("train")
@click.option("--snapshot-day", default=DEFAULT_SNAPSHOT_DAY, show_default=True, type=click.IntRange(0, 365),
              help="Freeze each trial's features this many days after its start.")
@click.option("--ages", default=",".join(str(a) for a in DEFAULT_AGES), show_default=True,
              callback=lambda _ctx, _param, value: _parse_ages(value),
              help="Snapshot every finished trial at these trial days (comma-separated), with the day as a "
                   "feature, so a young trial is scored at its own age; the snapshot day is always one of them.")
@click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False),
              help="Interview schema file of imported history (default: the packaged schema).")
@click.option("--seed", default=0, show_default=True, type=int, help="random_state of the estimators.")
@click.option("--no-activate", is_flag=True, help="Store the version without making it active.")
@click.option("--strict", is_flag=True,
              help="Refuse to train when a question separates the outcome almost perfectly (probable leakage).")
@click.option("--json", "as_json", is_flag=True, help="Print the model card as JSON.")
@pass_state
def train_cmd(state: CliState, snapshot_day: int, ages: list[int], schema_file: str | None, seed: int,
              no_activate: bool, strict: bool, as_json: bool) -> None:
    """Learn from finished trials (out-of-time split), store a new version and activate it."""
    from ..operations.scoring.service import train_model

    def work(s):
        row = train_model(s, snapshot_day=snapshot_day, schema_file=schema_file, random_state=seed,
                          activate=not no_activate, strict=strict, ages=ages)
        return row.version, row.card, row.active

    version, card, active = in_session(state, as_json, work, on_error=_fail)
    if as_json:
        echo_json({"version": version, "active": active, "card": card})
        return
    _echo_card(version, card, active)


def _echo_card(version: str, card: dict, active: bool) -> None:
    """The card in a few lines (train, show), in the reader's language."""
    from ..scoring.leakage import warning_line
    from ..scoring.train import deliberating_lines, split_line

    m = card.get("metrics") or {}
    rows, split = card.get("rows") or {}, card.get("split") or {}
    head = {"version": version, "kind": card.get("kind"), "model": card.get("model"),
            "calibration": card.get("calibration")}
    click.echo((_("Model %(version)s (%(kind)s: %(model)s, calibration %(calibration)s) - active") if active
                else _("Model %(version)s (%(kind)s: %(model)s, calibration %(calibration)s)")) % head)
    click.echo(_("History: %(finished)s finished trials, trained on %(train)s, tested on %(test)s (%(kind)s: "
                 "%(cohorts)s)") % {"finished": rows.get("finished"), "train": rows.get("train"),
                                    "test": rows.get("test"), "kind": split.get("kind"),
                                    "cohorts": ", ".join(split.get("test_cohorts") or [])})
    click.echo(_("Split: %(split)s") % {"split": split_line(split, _, ngettext)})
    if card.get("snapshot_days"):
        by_age = card.get("by_age") or {}
        ages = ", ".join(_("%(day)s (train %(rows)s, AUC %(auc)s)") % {
            "day": a, "rows": (by_age.get(str(a)) or {}).get("train_rows"),
            "auc": ((by_age.get(str(a)) or {}).get("metrics") or {}).get("auc")} for a in card["snapshot_days"])
        click.echo(_("Trial ages (days): %(ages)s; headline figures at day %(day)s") % {
            "ages": ages, "day": card.get("snapshot_day")})
    click.echo(_("Test: AUC %(auc)s  PR AUC %(pr_auc)s (prevalence %(prevalence)s)  Brier %(brier)s (skill "
                 "%(skill)s)  log loss %(log_loss)s  ECE %(ece)s") % {
        "auc": m.get("auc"), "pr_auc": m.get("pr_auc"), "prevalence": m.get("prevalence"), "brier": m.get("brier"),
        "skill": m.get("brier_skill"), "log_loss": m.get("log_loss"), "ece": m.get("ece")})
    for mk, v in (card.get("per_market") or {}).items():
        mm = v.get("metrics") or {}
        figures = {"market": mk, "train": v["train_rows"], "test": v["test_rows"], "auc": mm.get("auc"),
                   "ece": mm.get("ece")}
        click.echo("  " + (_("%(market)s: train %(train)s, test %(test)s, AUC %(auc)s, ECE %(ece)s (fallback model)")
                           if v["fallback"] else _("%(market)s: train %(train)s, test %(test)s, AUC %(auc)s, ECE "
                                                   "%(ece)s")) % figures)
    for line in deliberating_lines(card.get("deliberating"), _):
        click.echo(line)
    if (card.get("fallback") or {}).get("whole_model"):
        click.echo(_("Too little history: the whole model is the documented fallback."))
    for f in (card.get("source") or {}).get("imports") or []:
        dr = f.get("date_range") or {}
        click.echo(ngettext("Source: %(file)s (SHA-256 %(sha)s...), %(num)d trial, %(start)s..%(end)s, market "
                            "%(market)s",
                            "Source: %(file)s (SHA-256 %(sha)s...), %(num)d trials, %(start)s..%(end)s, market "
                            "%(market)s", f["rows"]) % {
            "file": f["file"], "sha": (f.get("sha256") or "?")[:12], "num": f["rows"], "start": dr.get("from"),
            "end": dr.get("to"), "market": f["market"]})
    for f in (card.get("leakage") or {}).get("flagged") or []:
        what = _("question %(question)s") % {"question": f["question"]}
        click.echo(_("WARNING %(warning)s: trained anyway; if it is filled in during or after the trial, mark its "
                     "column `known: end` in the import mapping (`model train --strict` refuses to train).")
                   % {"warning": warning_line(f, what, _)})


@model_group.command("show")
@click.argument("version", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the stored card as JSON (as `model train --json`).")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the stored card as Markdown.")
@pass_state
def show_cmd(state: CliState, version: str | None, as_json: bool, as_markdown: bool) -> None:
    """Print a stored model card again (default: the active model's)."""
    from ..operations.scoring.service import show_model
    from ..scoring.train import card_markdown

    if as_json and as_markdown:
        raise click.UsageError(_("--json and --markdown exclude each other"))
    shown = in_session(state, as_json, lambda s: show_model(s, version, lang=errors_language(as_json)),
                       on_error=_fail)
    if as_json:
        echo_json(shown)
    elif as_markdown:
        click.echo(card_markdown({**shown["card"], "version": shown["card"].get("version") or shown["version"]}),
                   nl=False)
    else:
        _echo_card(shown["version"], shown["card"], shown["active"])


@model_group.command("evaluate")
@click.option("--bootstrap", "n_boot", default=200, show_default=True, type=click.IntRange(0, 10000),
              help="Bootstrap resamples for the confidence intervals (0: none).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the evaluation as JSON.")
@pass_state
def evaluate_cmd(state: CliState, n_boot: int, seed: int, as_json: bool) -> None:
    """Compare the active model with the oracle (the demo's true probabilities) on its sealed test trials."""
    from ..operations.scoring.service import evaluate_model

    ev = in_session(state, as_json,
                    lambda s: evaluate_model(s, n_boot=n_boot, seed=seed, lang=errors_language(as_json)),
                    on_error=_fail)
    if as_json:
        echo_json(ev)  # the notes in English, as ever
        return
    lang = reader_language()

    def said(note: str) -> str:  # the operation's English note (a messages.Note) in the reader's language
        return note.in_language(lang) if isinstance(note, Note) else note

    click.echo(ngettext("Model %(version)s on %(num)d test trial (%(treated)s called after the snapshot)",
                        "Model %(version)s on %(num)d test trials (%(treated)s called after the snapshot)",
                        ev["test_rows"]) % {"version": ev["version"], "num": ev["test_rows"], "treated": ev["treated"]})
    sp = ev.get("split") or {}
    if sp.get("source") == "card":
        click.echo(ngettext("Split: sealed in the model card (%(num)d test trial, %(dropped)s can no longer be built "
                            "and were dropped; data clock %(clock)s)",
                            "Split: sealed in the model card (%(num)d test trials, %(dropped)s can no longer be "
                            "built and were dropped; data clock %(clock)s)", sp["test_trials"]) % {
            "num": sp["test_trials"], "dropped": sp["dropped"], "clock": sp.get("data_clock")})
    else:
        click.echo(_("Split: recomputed (seed 0, today's data clock): this card is from before sealed splits"))
    click.echo(f"{'':24}{'AUC':>27}{'Brier':>29}{'ECE':>29}")  # metric names, the same in every language
    for name in ("model", "oracle_policy", "model_given_treatment", "oracle"):
        b = ev.get(name)
        if not b:
            continue
        cell = lambda k: f"{b.get(k)} {b.get(k + '_ci') or ''}"  # noqa: E731
        click.echo(f"{name:24}{cell('auc'):>27}{cell('brier'):>29}{cell('ece'):>29}")  # the JSON's block names
    for k, v in (ev.get("uplift") or {}).items():
        if not k.endswith("_ci"):
            click.echo(f"{k:24}{v} {ev['uplift'].get(k + '_ci') or ''}")
    if ev.get("oracle_note"):  # why the table has no oracle rows
        click.echo(said(ev["oracle_note"]))
    gaps = ev.get("gaps")
    if gaps:
        click.echo(_("Oracle minus %(model)s: AUC %(auc)s %(auc_ci)s, Brier (model minus oracle) %(brier)s "
                     "%(brier_ci)s") % {"model": gaps["model"], "auc": gaps["auc_oracle_minus_model"],
                                        "auc_ci": gaps.get("auc_gap_ci") or "",
                                        "brier": gaps["brier_model_minus_oracle"],
                                        "brier_ci": gaps.get("brier_gap_ci") or ""})
    gp = ev.get("gaps_policy")
    if gp:
        click.echo(_("Like for like, the score users see against the oracle averaged over the call policy: "
                     "AUC %(auc)s %(auc_ci)s, Brier %(brier)s %(brier_ci)s") % {
            "auc": gp["auc_oracle_minus_model"], "auc_ci": gp.get("auc_gap_ci") or "",
            "brier": gp["brier_model_minus_oracle"], "brier_ci": gp.get("brier_gap_ci") or ""})
    elif ev.get("oracle_policy_note"):
        click.echo(said(ev["oracle_policy_note"]))
    for band, b in (ev.get("by_age_band") or {}).items():
        if b:
            figures = {"band": band, "num": b["n"], "auc": b["auc"], "ece": b["ece"],
                       "oracle_auc": b.get("oracle_policy_auc")}
            if "oracle_policy_auc" in b:
                line = ngettext("trial day %(band)s: %(num)d trial, AUC %(auc)s, ECE %(ece)s, oracle (policy) AUC "
                                "%(oracle_auc)s",
                                "trial day %(band)s: %(num)d trials, AUC %(auc)s, ECE %(ece)s, oracle (policy) AUC "
                                "%(oracle_auc)s", b["n"])
            else:
                line = ngettext("trial day %(band)s: %(num)d trial, AUC %(auc)s, ECE %(ece)s",
                                "trial day %(band)s: %(num)d trials, AUC %(auc)s, ECE %(ece)s", b["n"])
            click.echo("  " + line % figures)
    if ev.get("age_note"):
        click.echo(f"  ({said(ev['age_note'])})")
    d = ev.get("deliberating")
    if d:
        click.echo(ngettext("Deliberating trials (%(method)s): %(num)d test trial, %(bought)s bought in the window, "
                            "AUC %(auc)s %(auc_ci)s, ECE %(ece)s %(ece_ci)s",
                            "Deliberating trials (%(method)s): %(num)d test trials, %(bought)s bought in the window, "
                            "AUC %(auc)s %(auc_ci)s, ECE %(ece)s %(ece_ci)s", d["n"]) % {
            "method": d.get("method"), "num": d["n"], "bought": d["positives"], "auc": d.get("auc"),
            "auc_ci": d.get("auc_ci") or "", "ece": d.get("ece"), "ece_ci": d.get("ece_ci") or ""})
    elif ev.get("deliberating_note"):
        click.echo(said(ev["deliberating_note"]))
    for k, v in ev["checks"].items():
        click.echo(f"  {k}: {v}")


@model_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def list_cmd(state: CliState, as_json: bool) -> None:
    """List stored model versions, newest first; the active one is marked."""
    from ..operations.scoring.service import list_models

    with state.db.session() as s:
        rows = list_models(s)
    answer_rows(rows, as_json, _("No models yet: run `concierge model train`."),
                lambda r: f"{'*' if r['active'] else ' '} {r['version']}  {r['kind']:10} {r['model'] or '':16} "
                          + _("rows %(rows)s  AUC %(auc)s  ECE %(ece)s") % {
                              "rows": f"{r['trained_rows']:>6}", "auc": r["auc"], "ece": r["ece"]},
                as_data={"models": rows})


@model_group.command("activate")
@click.argument("version")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def activate_cmd(state: CliState, version: str, as_json: bool) -> None:
    """Make VERSION the model that scores (e.g. roll back to an earlier one)."""
    from ..operations.scoring.service import activate_model

    name = in_session(state, as_json, lambda s: activate_model(s, version, lang=errors_language(as_json)).version,
                      on_error=_fail)
    answer({"version": name, "active": True}, as_json, _("Active model: %(version)s") % {"version": name})


def register(group: click.Group) -> None:
    group.add_command(model_group)
