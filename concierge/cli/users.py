"""`concierge users create|list|languages|password|logout|ensure-demo`: who can log in to the web app, and with which role."""
from __future__ import annotations

import sys
from typing import Callable

import click

from locales import LANGUAGES

from . import CliState, _, answer, answer_rows, echo_json, errors_language, in_session, pass_state

ROLE_CHOICE = click.Choice(["consultant", "manager", "admin"])
LANGUAGE_CHOICE = click.Choice(LANGUAGES)


_print_user = click.option("--json", "as_json", is_flag=True, help="Print the user as `users list --json` does.")


def _change_user(state: CliState, as_json: bool, change) -> dict:
    """`change(session)` alters one user in one transaction; the user as `users list --json` shows them."""
    from ..operations.users import user_as_dict

    return in_session(state, as_json, lambda s: user_as_dict(change(s)))


def _read_password(from_stdin: bool, prompt: str) -> str:
    """The first line of stdin, or typed twice at a hidden prompt (a password is never an argument)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


@click.group("users")
def users_group() -> None:
    """Web app users: consultants, managers and admins."""


def _user_command(name: str, *params: Callable[[Callable], Callable]):
    """A `users NAME EMAIL ...` command that changes the user EMAIL names and prints them (`--json` as
    `users list --json`): its own arguments and options `params` come after EMAIL, before --json."""
    def decorate(f: Callable) -> Callable:
        f = pass_state(f)
        for param in reversed((click.argument("email"), *params, _print_user)):  # as if stacked top to bottom
            f = param(f)
        return users_group.command(name)(f)
    return decorate


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True, help="consultant, manager or admin.")
@click.option("--name", default=None, help="Display name (default: the part of EMAIL before @).")
@click.option("--language", type=LANGUAGE_CHOICE, default=None,
              help="UI language; without it the shop's market, then the browser, decides.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--json", "as_json", is_flag=True, help="Print the new user as JSON.")
@pass_state
def create_cmd(state: CliState, email: str, role: str, name: str | None, language: str | None,
               password_stdin: bool, as_json: bool) -> None:
    """Create a user who logs in with EMAIL; the password is prompted for (never an argument)."""
    from ..operations.users import create_user, user_as_dict

    password = _read_password(password_stdin, "Password")
    data = in_session(state, as_json, lambda s: user_as_dict(create_user(
        s, email, password=password, role=role, name=name, language=language, lang=errors_language(as_json))))
    answer(data, as_json, _("Created %(role)s %(email)s (%(name)s).") % {
        "role": data["role"], "email": data["email"], "name": data["name"]})


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True,
              help="Print [{id, email, name, role, language, active, created_at}] as JSON.")
@pass_state
def list_cmd(state: CliState, as_json: bool) -> None:
    """List every user and role, so an admin can see who has access."""
    from ..operations.users import list_users, user_as_dict

    with state.db.session() as s:
        users = [user_as_dict(u) for u in list_users(s)]
    answer_rows(users, as_json, _("No users yet: `concierge users create EMAIL --role consultant`."),
                lambda u: f"{u['role']:<11} {u['email']:<32} {u['name']}  [{u['language'] or '-'}]"
                          + ("" if u["active"] else "  " + _("(inactive)")))


@_user_command("languages", click.argument("languages", required=False, default=""))
def languages_cmd(state: CliState, email: str, languages: str, as_json: bool) -> None:
    """Set the languages EMAIL takes calls in (e.g. pl,en; empty: any): `calls next` routes by them."""
    from ..operations.workday import find_user, set_call_languages

    data = _change_user(state, as_json, lambda s: set_call_languages(s, find_user(s, email), languages))
    answer(data, as_json, _("%(email)s takes calls in: %(languages)s.") % {
        "email": data["email"], "languages": data.get("call_languages") or _("any language")})


@_user_command("password",
               click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin."))
def password_cmd(state: CliState, email: str, password_stdin: bool, as_json: bool) -> None:
    """Set a new password for EMAIL (prompted for, never an argument); their web sessions end."""
    from ..operations.users import find_user_by_email, set_password

    password = _read_password(password_stdin, "New password")
    lang = errors_language(as_json)
    data = _change_user(state, as_json, lambda s: set_password(
        s, find_user_by_email(s, email, lang=lang), password, lang=lang))
    answer(data, as_json, _("New password set for %(email)s; they are logged out everywhere.") % {"email": data["email"]})


@_user_command("logout")
def logout_cmd(state: CliState, email: str, as_json: bool) -> None:
    """End every web session of EMAIL (a lost laptop, a shared computer): they log in again."""
    from ..operations.users import end_sessions, find_user_by_email

    data = _change_user(state, as_json,
                        lambda s: end_sessions(s, find_user_by_email(s, email, lang=errors_language(as_json))))
    answer(data, as_json, _("%(email)s is logged out everywhere.") % {"email": data["email"]})


@users_group.command("ensure-demo")
@click.option("--json", "as_json", is_flag=True,
              help="Print {users: [{email, role, password, status}], file, url} as JSON.")
@pass_state
def ensure_demo_cmd(state: CliState, as_json: bool) -> None:
    """Create the demo consultant, manager and admin if missing, and print how to log in."""
    from ..config import default_instance_path
    from ..operations.users import DEMO_FILE, ensure_demo_users

    instance = default_instance_path()
    with state.db.session() as s:
        logins = ensure_demo_users(s, instance)
    url = "http://127.0.0.1:5000"
    if as_json:
        echo_json({"users": logins, "file": str(instance / DEMO_FILE), "url": url})
        return
    click.echo(_("Demo logins for %(url)s (kept in %(file)s):") % {"url": url, "file": instance / DEMO_FILE})
    for u in logins:
        password = u["password"] or _("(changed by its owner; not shown)")
        click.echo(f"  {u['role']:<11} {u['email']:<26} " + _("password: %(password)s") % {"password": password})


def register(group: click.Group) -> None:
    group.add_command(users_group)
