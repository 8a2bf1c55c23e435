"""`concierge privacy export|erase`: a merchant's personal data (GDPR, KVKK, DPDP; docs/privacy.md)."""
from __future__ import annotations

import json
import os

import click

from ..i18n import LANGUAGES
from . import CliState, _, echo_json, fail, ngettext, pass_state
from .record import _default_actor


@click.group("privacy")
def privacy_group() -> None:
    """Export everything held about a merchant, or erase their personal data (docs/privacy.md)."""


def _write_private(path: str, data: bytes) -> None:
    """Write a file only its owner can read (0600 from the start: it holds personal data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        os.write(fd, data)
    finally:
        os.close(fd)


@privacy_group.command("export")
@click.argument("shop")
@click.option("--json", "fmt", flag_value="json", default=True,
              help="One JSON document (default): every section, see docs/privacy.md.")
@click.option("--csv", "fmt", flag_value="csv",
              help="A zip with one CSV per section and export.json beside them; needs --out.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file (created 0600) instead of standard output.")
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default="en", show_default=True,
              help="Language of the questions' labels and of error messages.")
@pass_state
def export_cmd(state: CliState, shop: str, fmt: str, out: str | None, lang: str) -> None:
    """Everything we hold about SHOP (its platform id): the shop, its answers, calls, notes,
    ratings, scores, planned calls, trial events, dead letters and derived rows."""
    from ..errors import ConciergeError
    from ..operations.privacy import export_shop, export_zip

    if fmt == "csv" and not out:
        raise click.UsageError(_("--csv writes a zip: give --out FILE.zip"))
    try:
        with state.db.session() as s:
            data = export_shop(s, shop, lang=lang)
    except ConciergeError as exc:
        fail(exc, fmt == "json")
    if fmt == "csv":
        _write_private(out, export_zip(data))  # type: ignore[arg-type]
        rows = sum(len(v) for v in data.values() if isinstance(v, list))
        click.echo(ngettext("Wrote %(file)s (%(num)d rows).", "Wrote %(file)s (%(num)d rows).", rows) % {
            "file": out, "num": rows}, err=True)
    elif out:
        _write_private(out, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8"))
        click.echo(_("Wrote %(file)s.") % {"file": out}, err=True)
    else:
        echo_json(data)


@privacy_group.command("erase")
@click.argument("shop")
@click.option("--reason", required=True, help="Why (e.g. the request's reference); kept in the audit record.")
@click.option("--actor", default=_default_actor, show_default="$CONCIERGE_ACTOR or your user name",
              help="Who erases (kept in the audit record).")
@click.option("--lang", type=click.Choice(list(LANGUAGES)), default="en", show_default=True,
              help="Language of error messages.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {shop, erasure_id, erased_at, counts, erased, already_erased}.")
@pass_state
def erase_cmd(state: CliState, shop: str, reason: str, actor: str, lang: str, as_json: bool) -> None:
    """Erase SHOP's personal data in one transaction; what the conversion figures need stays.

    Running it again is harmless: it finds nothing more and says so.
    """
    from ..errors import ConciergeError
    from ..operations.privacy import erase_shop

    try:
        with state.db.session() as s:
            result = erase_shop(s, shop, reason=reason, actor=actor, channel="cli", lang=lang)
    except ConciergeError as exc:
        fail(exc, as_json)
    if as_json:
        echo_json(result)
        return
    if result["already_erased"]:
        click.echo(_("%(shop)s: already erased, nothing more to erase (recorded as erasure %(erasure)s).") % {
            "shop": result["shop"], "erasure": result["erasure_id"]})
        return
    done = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result["counts"].items() if v) or _("nothing found")
    click.echo(_("Erased %(shop)s's personal data (erasure %(erasure)s): %(done)s.") % {
        "shop": result["shop"], "erasure": result["erasure_id"], "done": done})


def register(group: click.Group) -> None:
    group.add_command(privacy_group)
