"""`concierge token create|revoke|list`: bearer tokens for the API (only hashes are stored)."""
from __future__ import annotations

import click

from . import CliState, _, answer, answer_rows, errors_language, in_session, pass_state


@click.group("token")
def token_group() -> None:
    """API tokens for integrations (the trial platform's webhook, survey tools)."""


@token_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["integration", "admin"]), default="integration", show_default=True,
              help="admin: may also export and erase a merchant's personal data (docs/privacy.md).")
@click.option("--json", "as_json", is_flag=True, help="Print {id, name, prefix, token, role, ...} as JSON.")
@pass_state
def create_cmd(state: CliState, name: str, role: str, as_json: bool) -> None:
    """Issue a token named NAME; it is shown once, so copy it now."""
    from ..operations.tokens import create_token, token_as_dict

    def work(s):
        row, token = create_token(s, name, role=role, lang=errors_language(as_json))
        return {**token_as_dict(row), "token": token}

    data = in_session(state, as_json, work)
    answer(data, as_json, _("Token %(id)s (%(name)s), shown once:") % {"id": data["id"], "name": name}
           + "\n" + data["token"])


@token_group.command("revoke")
@click.argument("ref", metavar="ID|PREFIX")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def revoke_cmd(state: CliState, ref: str, as_json: bool) -> None:
    """Revoke a token by its id or prefix, so it stops working at once."""
    from ..operations.tokens import revoke_token, token_as_dict

    data = in_session(state, as_json, lambda s: token_as_dict(revoke_token(s, ref, lang=errors_language(as_json))))
    answer(data, as_json, _("Revoked token %(id)s (%(name)s, %(prefix)s...).") % {
        "id": data["id"], "name": data["name"], "prefix": data["prefix"]})


@token_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a list of {id, name, prefix, created_at, last_used_at, revoked_at, active, role}.")
@pass_state
def list_cmd(state: CliState, as_json: bool) -> None:
    """List API tokens (never the secrets) with when each was last used."""
    from ..operations.tokens import list_tokens, token_as_dict

    with state.db.session() as s:
        rows = [token_as_dict(t) for t in list_tokens(s)]
    answer_rows(rows, as_json, _("No tokens."), _token_line)


def _token_line(r: dict) -> str:
    state_txt = "active" if r["active"] else f"revoked {r['revoked_at'][:10]}"
    return (f"{r['id']:>4}  {r['prefix']}...  {r['name']:<30} {state_txt:<20} "
            f"last used {r['last_used_at'][:16] if r['last_used_at'] else 'never'}")


def register(group: click.Group) -> None:
    group.add_command(token_group)
