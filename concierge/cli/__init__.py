"""The `concierge` command line. Every module in this package may define `register(group)`.

Commands stay thin: they parse arguments, call the same operations as the web and the
API inside one session (commit once, roll back on error), and print text or `--json`.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:  # the database layer (SQLAlchemy) is imported when a command opens it, not for --help
    from sqlalchemy.orm import Session

    from ..db import Database

T = TypeVar("T")


class CliState:
    """Lazily opened database for one CLI invocation (nothing opens at import)."""

    def __init__(self) -> None:
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            from ..config import database_url
            from ..db import Database

            self._db = Database(database_url())
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


pass_state = click.make_pass_decorator(CliState, ensure=True)


#: The POSIX locale settings, in the order they win (`pl_PL.UTF-8` -> pl).
LOCALE_ENV = ("LC_ALL", "LC_MESSAGES", "LANG")


def reader_language(lang: str | None = None) -> str:
    """The language the CLI's reader gets: `lang` (a command's own --lang when given on the command
    line), else CONCIERGE_LANG, else the POSIX locale (LC_ALL, LC_MESSAGES, LANG), else English.

    Without `lang`, the running command's --lang counts when the user gave it (not its default).
    """
    from locales import DEFAULT_LANGUAGE, supported_language

    if lang is None:
        ctx = click.get_current_context(silent=True)
        while ctx is not None and lang is None:
            source = ctx.get_parameter_source("lang") if "lang" in ctx.params else None
            if source is not None and source != click.core.ParameterSource.DEFAULT and ctx.params["lang"]:
                lang = ctx.params["lang"]
            ctx = ctx.parent
    chosen = supported_language(lang) or supported_language(os.environ.get("CONCIERGE_LANG"))
    if chosen:
        return chosen
    posix = next((os.environ[name] for name in LOCALE_ENV if os.environ.get(name)), None)
    return supported_language(posix) or DEFAULT_LANGUAGE


def errors_language(as_json: bool) -> str:
    """The language of an operation's error: the reader's, but English under --json (the same in every locale)."""
    return "en" if as_json else reader_language()


def _translations(lang: str | None = None) -> Any:
    from ..i18n import translations

    return translations(reader_language(lang))


def _(message: str) -> str:
    """`message` in the reader's language (`reader_language`); use `%(name)s` placeholders."""
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a sentence for `n`, in the reader's language."""
    return _translations().ngettext(singular, plural, n)


def echo_json(data: Any) -> None:
    """Print JSON for scripts: UTF-8, stable key order, one document."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str))


def fail(exc: Exception, as_json: bool = False) -> NoReturn:
    """Report a ConciergeError (field errors included) on stderr or as JSON, and exit 1."""
    data: dict[str, Any] = (exc.as_dict(None if as_json else reader_language()) if hasattr(exc, "as_dict")
                            else {"error": "error", "message": str(exc)})
    if as_json:
        echo_json(data)
    else:
        click.echo(_("Error: %(message)s") % {"message": data.get("message", exc)}, err=True)
        for e in data.get("errors") or ():
            field = e.get("field") if isinstance(e, dict) else ""
            msg = e.get("message") if isinstance(e, dict) else str(e)
            if msg == data.get("message") and len(data.get("errors") or ()) == 1:
                continue  # the summary already said it
            click.echo(f"  {field or '-'}: {msg}" if field and not str(msg).startswith(f"{field}") else f"  {msg}",
                       err=True)
    sys.exit(1)


def in_session(state: CliState, as_json: bool, work: Callable[[Session], T],
               on_error: Callable[[Exception, bool], None] = fail) -> T:
    """`work(session)` in one transaction (committed when it returns, rolled back when it raises);
    a ConciergeError (unknown shop, bad field...) ends the command through `on_error`."""
    from ..errors import ConciergeError

    try:
        with state.db.session() as s:
            return work(s)
    except ConciergeError as exc:
        on_error(exc, as_json)
        raise  # on_error exits; never reached


def answer(data: Any, as_json: bool, sentence: str) -> None:
    """A command's answer: `data` as JSON under --json, else the sentence for people."""
    if as_json:
        echo_json(data)
    else:
        click.echo(sentence)


def answer_rows(rows: list, as_json: bool, empty: str, line: Callable[[Any], str], as_data: Any = None) -> None:
    """A listing's answer: the rows (or `as_data`) as JSON under --json, else a line per row (`empty` for none)."""
    if as_json:
        echo_json(rows if as_data is None else as_data)
        return
    if not rows:
        click.echo(empty)
    for row in rows:
        click.echo(line(row))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="concierge")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Concierge: merchant onboarding profiles, pictures, scores and follow-ups.

    The database comes from CONCIERGE_DATABASE_URL (default: SQLite under ./instance).
    """
    state = ctx.ensure_object(CliState)
    ctx.call_on_close(state.close)


#: The modules whose `register(group)` adds commands, listed rather than found by a package scan
#: (tests/unit/test_architecture.py checks that none is left out).
COMMAND_MODULES = (
    "audits", "calls", "core", "deadletter", "demo", "events_worker", "import_trials", "ingest", "ingest_surveys",
    "locales_cmd", "model", "privacy", "record", "render", "report", "schema_cmd", "score", "shops", "state",
    "survey", "tokens", "users",
)


def _register() -> None:
    for mod in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{mod}").register(cli)


_register()


def main() -> None:  # console script entry point
    """Run the CLI; a database without tables or a broken market override file gets advice, not a traceback.

    The error classes are looked up only once something failed, and only in modules the command
    loaded (an error of a library that was never imported cannot have happened), so `--help`
    does not pay for importing SQLAlchemy."""
    try:
        cli(prog_name="concierge", standalone_mode=True)
    except Exception as exc:
        locales_mod, sa_exc = sys.modules.get("locales"), sys.modules.get("sqlalchemy.exc")
        if locales_mod is not None and isinstance(exc, locales_mod.MarketDataError):
            source = os.environ.get("CONCIERGE_MARKET_OVERRIDES")
            if source:
                text = _("Error: the market override file %(file)s (CONCIERGE_MARKET_OVERRIDES) is not valid: "
                         "%(problem)s")
            else:
                text = _("Error: the market data is not valid: %(problem)s")
            click.echo(text % {"file": source, "problem": exc}, err=True)
            sys.exit(2)
        if sa_exc is not None and isinstance(exc, (sa_exc.OperationalError, sa_exc.ProgrammingError)):
            message = str(exc.orig) if getattr(exc, "orig", None) else str(exc)
            if "no such table" in message or "does not exist" in message:
                click.echo(_("Error: the database has no Concierge tables yet (%(problem)s).\nRun `concierge init` "
                             "first.") % {"problem": message.splitlines()[0]}, err=True)
                sys.exit(2)
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
