"""`concierge survey link|revoke|links`: signed, expiring survey links for merchants.

The link is signed with the same secret as the web app (CONCIERGE_SECRET_KEY, else
`instance/secret_key`), so run this where the server's secret is.
"""
from __future__ import annotations

import click

from . import CliState, _, answer, answer_rows, in_session, pass_state


def _config() -> dict:
    from ..config import load_config

    return load_config()


@click.group("survey")
def survey_group() -> None:
    """Survey links a merchant opens on their phone (no account): /s/<token>."""


@survey_group.command("link")
@click.argument("shop")
@click.option("--days", type=int, default=None,
              help="How long the link works (1-90; default SURVEY_LINK_MAX_AGE_DAYS, 14).")
@click.option("--base-url", help="The address merchants reach (default PUBLIC_BASE_URL, else http://127.0.0.1:5000).")
@click.option("--created-by", default="cli", show_default=True, help="Who made the link (kept with it).")
@click.option("--json", "as_json", is_flag=True, help='Print {"id", "shop", "url", "expires_at"} as JSON.')
@pass_state
def link_cmd(state: CliState, shop: str, days: int | None, base_url: str | None, created_by: str,
             as_json: bool) -> None:
    """Make a survey link for SHOP and print it (send it only to the merchant)."""
    from ..operations.survey_links import create_link, public_base_url

    config = _config()
    data = in_session(state, as_json, lambda s: create_link(
        s, shop, secret=config["SECRET_KEY"], created_by=created_by,
        days=days if days is not None else config.get("SURVEY_LINK_MAX_AGE_DAYS"),
    ).as_dict(public_base_url(base_url or config.get("PUBLIC_BASE_URL"))))
    answer({key: data[key] for key in ("id", "shop", "url", "expires_at")}, as_json,
           _("Survey link %(id)s for %(shop)s, works until %(until)s:") % {
               "id": data["id"], "shop": data["shop"], "until": data["expires_at"]} + "\n" + data["url"])


@survey_group.command("revoke")
@click.argument("link_id", type=int, metavar="ID")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def revoke_cmd(state: CliState, link_id: int, as_json: bool) -> None:
    """Withdraw link ID at once: it answers 410 from now on."""
    from ..models import Shop
    from ..operations.survey_links import link_as_dict, revoke_link

    def work(s):
        link = revoke_link(s, link_id)
        return link_as_dict(link, s.get(Shop, link.shop_id))

    data = in_session(state, as_json, work)
    answer(data, as_json, _("Revoked survey link %(id)s (%(shop)s).") % {"id": data["id"], "shop": data["shop"]})


@survey_group.command("links")
@click.argument("shop")
@click.option("--json", "as_json", is_flag=True,
              help="Print [{id, shop, state, created_by, created_at, expires_at, revoked_at, draft_saved_at, submitted_at}].")
@pass_state
def links_cmd(state: CliState, shop: str, as_json: bool) -> None:
    """List SHOP's survey links, newest first (never the URLs: make a new link to send)."""
    from ..operations.shops import get_shop
    from ..operations.survey_links import link_as_dict, list_links

    def work(s):
        row = get_shop(s, shop)
        return [link_as_dict(link, row) for link in list_links(s, row)]

    answer_rows(in_session(state, as_json, work), as_json, _("No survey links for %(shop)s.") % {"shop": shop},
                lambda r: f"{r['id']:>5}  {r['state']:<8} " + _("until %(expires)s  by %(creator)s sent %(sent)s") % {
                    "expires": r["expires_at"][:16], "creator": f"{r['created_by']:<24}",
                    "sent": r["submitted_at"][:16] if r["submitted_at"] else "-"})


def register(group: click.Group) -> None:
    group.add_command(survey_group)
