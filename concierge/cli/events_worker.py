"""`concierge events worker|backlog|status`: apply the webhook's queued events (queued mode, docs/deploy.md)."""
from __future__ import annotations

import json
import logging
import signal
import threading
import time

import click

from . import CliState, _, answer, echo_json, in_session, ngettext, pass_state

log = logging.getLogger(__name__)


@click.group("events")
def events_group() -> None:
    """The events inbox: webhook events acknowledged in queued mode, waiting to be applied."""


def _line(data: dict) -> str:
    text = (f"Applied {data['claimed']} queued event(s): {data['stored']} stored, {data['duplicates']} duplicate(s), "
            f"{data['rejected']} dead-lettered, {data['waiting']} waiting for their shop; "
            f"{data['shops_rescored']} shop(s) rescored; {data['queued']} still queued.")
    return text


def _backlog_line(data: dict) -> str:
    if not data["queued"]:
        return _("0 event(s) queued.")
    return ngettext("%(num)d event(s) queued, the oldest received %(when)s.",
                    "%(num)d event(s) queued, the oldest received %(when)s.", data["queued"]) % {
        "num": data["queued"], "when": data["oldest_received_at"]}


def _batch(state: CliState, size: int) -> dict:
    """One batch in its own transaction; a batch that fails is applied again one event at a time,
    so one event that cannot be applied (held back, then dead-lettered) does not stop the rest."""
    from ..operations.inbox import BatchReport, apply_batch, backlog, hold_back, queued_ids

    try:
        with state.db.session() as s:
            report = apply_batch(s, limit=size)
    except Exception:  # noqa: BLE001 - find the event at fault below
        log.exception("a batch of queued events failed; applying them one at a time")
        with state.db.session() as s:
            ids = queued_ids(s, size)
        report = BatchReport()
        for row_id in ids:
            try:
                with state.db.session() as s:
                    one = apply_batch(s, ids=[row_id])
            except Exception as exc:  # noqa: BLE001 - held back with the reason, tried again later
                log.exception("queued event (inbox row %s) could not be applied", row_id)
                with state.db.session() as s:
                    report.dead_letters += hold_back(s, [(row_id, f"{type(exc).__name__}: {exc}")])
                continue
            for key in ("claimed", "stored", "duplicates", "rejected", "waiting", "shops_rescored"):
                setattr(report, key, getattr(report, key) + getattr(one, key))
            report.dead_letters += one.dead_letters
    with state.db.session() as s:
        return {**report.as_dict(), **backlog(s)}


@events_group.command("worker")
@click.option("--batch", "batch_size", type=click.IntRange(1, 2000), default=200, show_default=True,
              help="Events applied per transaction (each shop is rescored once per batch).")
@click.option("--batch-seconds", type=click.FloatRange(0), default=0.25, show_default=True,
              help="SQLite: hold the write lock about this long per batch (starting with one event, each batch "
                   "takes as many as fit at the last one's pace, up to --batch), so the webhook's inserts never "
                   "wait long; 0: always --batch. PostgreSQL locks rows, not the database: always --batch.")
@click.option("--idle", type=click.FloatRange(0.05, 3600), default=0.5, show_default=True,
              help="Seconds to wait when the inbox is empty before looking again.")
@click.option("--once", is_flag=True, help="Apply what is queued now, then exit (cron, tests).")
@click.option("--runs", type=click.IntRange(min=1), default=None, help="Stop after this many batches.")
@click.option("--defer-above", type=click.FloatRange(0), default=50.0, show_default=True,
              help="While more events than this arrive per second (a burst), leave the CPU (and SQLite's "
                   "write lock) to the webhook and apply later; 0: never wait.")
@click.option("--max-lag", type=click.FloatRange(0), default=30.0, show_default=True,
              help="Apply anyway once the oldest queued event has waited this many seconds.")
@click.option("--nice", "niceness", type=click.IntRange(0, 19), default=0, show_default=True,
              help="Lower this process's CPU priority (the web server's requests first).")
@click.option("--json", "as_json", is_flag=True,
              help="Print each batch as one JSON line: {claimed, stored, duplicates, rejected, waiting, "
                   "shops_rescored, dead_letters, queued, oldest_received_at}.")
@pass_state
def worker_cmd(state: CliState, batch_size: int, batch_seconds: float, idle: float, once: bool, runs: int | None,
               defer_above: float, max_lag: float, niceness: int, as_json: bool) -> None:
    """Apply queued webhook events in batches until stopped; SIGTERM or Ctrl-C finishes the batch and exits.

    During a burst of deliveries (more than --defer-above a second) the worker waits, so the
    webhook's answers get the CPU, until the burst ends or the oldest event has waited --max-lag
    seconds; it then applies everything queued. --once never waits.
    """
    import os

    from ..operations.inbox import backlog

    if niceness:
        os.nice(niceness)
    stop = threading.Event()

    def _stop(_signum, _frame) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    batches = applied = 0
    began = time.monotonic()
    bounded = batch_seconds > 0 and state.db.engine.dialect.name == "sqlite"
    size = 1 if bounded else batch_size  # bounded: start with one event, then as many as fit
    seen: tuple[float, int] | None = None  # (when, queued + applied so far): the arrival rate
    try:
        while not stop.is_set():
            if defer_above and not once:
                try:
                    with state.db.session() as s:
                        now_q = backlog(s)
                except Exception:  # noqa: BLE001 - reported by the batch below
                    now_q = None
                if now_q is not None and now_q["queued"]:
                    t = time.monotonic()
                    total = now_q["queued"] + applied
                    rate = (total - seen[1]) / (t - seen[0]) if seen and t > seen[0] else 0.0
                    seen = (t, total)
                    oldest = now_q["oldest_received_at"]
                    lag = (time.time() - _epoch(oldest)) if oldest else 0.0
                    if rate > defer_above and lag < max_lag:
                        stop.wait(min(idle, 0.5))
                        continue
            try:
                started = time.monotonic()
                data = _batch(state, size)
                if bounded and data["claimed"]:
                    size = batch_size_for(batch_seconds, time.monotonic() - started, data["claimed"], batch_size)
            except Exception:  # noqa: BLE001 - the database is away: log, wait, try again
                log.exception("the events inbox could not be read; trying again in %s s", max(idle, 1.0))
                if once:
                    raise
                stop.wait(max(idle, 1.0))
                continue
            batches += 1
            applied += data["claimed"] - data["waiting"]
            if data["claimed"] or as_json:
                click.echo(json.dumps(data, sort_keys=True) if as_json else _line(data))
            if runs is not None and batches >= runs:
                break
            if data["claimed"] - data["waiting"] == 0:  # nothing (more) to do now
                if once:
                    break
                stop.wait(idle)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(ngettext("Events worker stopped after %(num)d batch:", "Events worker stopped after %(num)d batches:",
                        batches) % {"num": batches} + " "
               + ngettext("%(num)d event applied in %(seconds).1f s.", "%(num)d events applied in %(seconds).1f s.",
                          applied) % {"num": applied, "seconds": time.monotonic() - began}, err=True)


def batch_size_for(seconds: float, took: float, claimed: int, most: int) -> int:
    """The next batch's size so that applying it takes about `seconds` (at this batch's pace per
    event), between 1 and `most`; it may grow at most twofold a batch, so one quick batch of
    cheap events does not let the next one hold SQLite's write lock for long."""
    per_event = took / claimed
    fits = int(seconds / per_event) if per_event > 0 else most
    return max(1, min(most, fits, 2 * claimed))


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


@events_group.command("backlog")
@click.option("--json", "as_json", is_flag=True, help="Print {queued, oldest_received_at}.")
@pass_state
def backlog_cmd(state: CliState, as_json: bool) -> None:
    """How many webhook events wait in the inbox, and since when."""
    from ..operations.inbox import backlog

    data = in_session(state, as_json, backlog)
    answer(data, as_json, _backlog_line(data))


@events_group.command("status")
@click.argument("event_id")
@click.option("--json", "as_json", is_flag=True,
              help="Print {id, shop, type, status, occurred_at, received_at, attempts, available_at} "
                   "(as GET /api/v1/events/<id>); an unknown id prints {error, message} and exits 1.")
@pass_state
def status_cmd(state: CliState, event_id: str, as_json: bool) -> None:
    """Where one webhook event is: stored (applied), queued, or held back after a failed apply."""
    from ..errors import NotFound
    from ..operations.inbox import event_status

    with state.db.session() as s:
        data = event_status(s, event_id)
    if data is None:
        exc = NotFound(f"no event with the id {event_id!r} was accepted")
        if as_json:
            echo_json(exc.as_dict())
        raise click.ClickException(_("no event with the id %(id)r was accepted") % {"id": event_id})
    if as_json:
        echo_json(data)
        return
    status = {"stored": _("stored"), "queued": _("queued"), "held_back": _("held back")}.get(
        data["status"], data["status"].replace("_", " "))
    line = _("%(id)s (%(type)s, shop %(shop)s): %(status)s") % {
        "id": data["id"], "type": data["type"], "shop": data["shop"], "status": status}
    if data["status"] == "held_back":
        line += " " + ngettext("after %(num)d failed attempt(s), next try from %(when)s",
                               "after %(num)d failed attempt(s), next try from %(when)s", data["attempts"]) % {
            "num": data["attempts"], "when": data["available_at"]}
    click.echo(line + "; " + _("received %(when)s.") % {"when": data["received_at"]})


def register(group: click.Group) -> None:
    group.add_command(events_group)
