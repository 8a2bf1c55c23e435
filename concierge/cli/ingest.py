"""`concierge ingest events FILE.jsonl`: load trial-shop events through the webhook's own path."""
from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import IO, Any, Iterator

import click

from locales import LANGUAGES

from . import CliState, _, echo_json, pass_state


@click.group("ingest")
def ingest() -> None:
    """Load data from files: trial events (and merchant surveys)."""


def _count_lines(path: str) -> int:
    n = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


@contextlib.contextmanager
def _bulk_cache(session: Any) -> Iterator[None]:
    """SQLite: a 64 MB page cache for the run (the default 2 MB made every batch re-read the
    observation table's four indexes), the connection's own setting put back afterwards."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    conn = session.connection()
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size=-65536")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


@ingest.command("events")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of the error messages.")
@click.option("--batch-size", type=click.IntRange(1, 50_000), default=2000, show_default=True,
              help="Events checked and inserted together.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: when stderr is a terminal and not --json).")
@click.option("--json", "as_json", is_flag=True,
              help="Print {file, total, stored, duplicates, rejected, observations, shops_created, dead_letters, errors}.")
@pass_state
def events_cmd(state: CliState, file: str, lang: str, batch_size: int, progress: bool | None, as_json: bool) -> None:
    """Ingest trial events, one JSON envelope per line; the same event twice is stored once.

    Lines we cannot accept are kept verbatim as dead letters (see `concierge deadletter`)
    and the rest is stored; exits 1 when any line was rejected. Everything is committed
    once at the end, so an interrupted run stores nothing and can simply be re-run.
    """
    from ..operations.events import ingest_lines, iter_jsonl

    show = progress if progress is not None else (not as_json and sys.stderr.isatty())
    show = show and not as_json and file != "-"
    name = "<stdin>" if file == "-" else os.path.basename(file)
    stream: IO[str]
    stream = (click.get_text_stream("stdin", encoding="utf-8", errors="surrogateescape") if file == "-"
              else open(file, encoding="utf-8", errors="surrogateescape", newline=""))
    # A run makes a few objects per event and keeps most until the end, and makes almost no
    # reference cycles (about 4,000 objects for 100k events): the collector's passes only
    # re-examined what was kept (a quarter of the run at first, still 0.35 s of 100k events with
    # a 50,000 young-generation threshold). It is off for the run and put back afterwards, also
    # on error; meanwhile the imports are frozen, so a collection forced during the run skips them.
    gc.freeze()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with state.db.session() as s, _bulk_cache(s):
            if show:
                with click.progressbar(length=_count_lines(file), label=f"Ingesting {name}",
                                       file=sys.stderr, show_pos=True) as bar:
                    summary = ingest_lines(s, iter_jsonl(stream), channel="file", lang=lang,
                                           context={"file": name, "lang": lang},
                                           batch_size=batch_size, progress=bar.update)
            else:
                summary = ingest_lines(s, iter_jsonl(stream), channel="file", lang=lang,
                                       context={"file": name, "lang": lang}, batch_size=batch_size)
            result = {"file": name, **summary.as_dict()}
    finally:
        if was_enabled:
            gc.enable()
        gc.unfreeze()
        if file != "-":
            stream.close()
    if as_json:
        echo_json(result)
    else:
        click.echo(_("%(file)s: %(total)s events: %(stored)s stored, %(duplicates)s duplicates, %(rejected)s rejected; "
                     "%(observations)s observations, %(shops)s new shops.") % {
            "file": name, "total": result["total"], "stored": result["stored"], "duplicates": result["duplicates"],
            "rejected": result["rejected"], "observations": result["observations"], "shops": result["shops_created"]})
        for e in result["errors"][:20]:
            first = "; ".join(x["message"] for x in e["errors"])  # every reason, so one fix is enough
            click.echo("  " + _("line %(line)s: %(problem)s (dead letter %(letter)s)") % {
                "line": e["line"], "problem": first, "letter": e["dead_letter"]}, err=True)
        if len(result["errors"]) > 20:
            click.echo("  " + _("... and %(num)d more: concierge deadletter list") % {"num": len(result["errors"]) - 20},
                       err=True)
    if result["rejected"]:
        sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(ingest)
