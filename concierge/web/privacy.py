"""A merchant's personal data for administrators: see what we hold, download it, erase it.

The page and the downloads only read; the erasure is a POST with the CSRF token, a reason
and the shop id typed again as confirmation, through the same operation as
`concierge privacy erase` and the API (docs/privacy.md).
"""
from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from ..app import get_session
from ..errors import NotFound, ValidationFailed
from ..models import PrivacyErasure, Shop
from ..operations.privacy import (
    REASON_MAX,
    SECTIONS,
    erase_shop,
    export_shop,
    export_zip,
)
from ..operations.shops import get_shop
from ..reporting import csv_filename
from .auth import role_required
from .helpers import current_lang

bp = Blueprint("privacy", __name__)

#: a download of personal data is never kept by a browser or a proxy
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "X-Content-Type-Options": "nosniff"}


def _shop(platform_id: str) -> Shop:
    try:
        return get_shop(get_session(), platform_id, lang=current_lang())
    except NotFound:
        abort(404)


def _render(shop: Shop, *, status: int = 200, errors: dict[str, str] | None = None, reason: str = ""):
    session = get_session()
    data = export_shop(session, shop, lang=current_lang())
    counts = [(name, len(v) if isinstance(v, list) else int(v is not None)) for name, v in data.items()
              if name in SECTIONS]
    erasures = list(session.scalars(select(PrivacyErasure).where(PrivacyErasure.shop_id == shop.id)
                                    .order_by(PrivacyErasure.id)))
    resp = Response(render_template("privacy.html", shop=shop, counts=counts, personal=data["personal_data"],
                                    erasures=erasures, errors=errors or {}, reason=reason,
                                    reason_max=REASON_MAX), status=status)
    resp.headers.update(NO_STORE)
    return resp


@bp.get("/shops/<platform_id>/privacy")
@role_required("admin")
def page(platform_id: str):
    """What we hold about the merchant, the downloads, earlier erasures and the erase form."""
    return _render(_shop(platform_id))


@bp.get("/shops/<platform_id>/privacy/export.json")
@role_required("admin")
def export_json(platform_id: str):
    """Everything we hold about the merchant as one JSON document (a download)."""
    return _export_download(platform_id, "json", "application/json", lambda data: json.dumps(
        data, ensure_ascii=False, indent=2, sort_keys=True, default=str))


@bp.get("/shops/<platform_id>/privacy/export.zip")
@role_required("admin")
def export_csv_zip(platform_id: str):
    """The same as one CSV per table in a zip, with export.json beside them."""
    return _export_download(platform_id, "zip", "application/zip", export_zip)


def _export_download(platform_id: str, ext: str, mimetype: str, encode) -> Response:
    """The merchant's export, `encode`d, as the download privacy-<shop>.<ext> that no cache keeps."""
    shop = _shop(platform_id)
    data = export_shop(get_session(), shop, lang=current_lang())
    resp = Response(encode(data), mimetype=mimetype)
    name = csv_filename("privacy", shop.platform_id)[:-4] + "." + ext
    resp.headers.update({**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'})
    return resp


@bp.post("/shops/<platform_id>/privacy/erase")
@role_required("admin")
def erase(platform_id: str):
    """Erase the merchant's personal data: the reason and the shop id typed again are required."""
    shop = _shop(platform_id)
    lang = current_lang()
    reason = request.form.get("reason", "")
    confirm = request.form.get("confirm", "").strip()
    errors: dict[str, str] = {}
    if confirm != shop.platform_id:
        errors["confirm"] = _("Type the shop id %(shop)s to confirm the erasure.", shop=shop.platform_id)
    if not reason.strip() or len(reason.strip()) > REASON_MAX:
        errors["reason"] = _("Say why the data is erased (1 to %(num)d characters), e.g. the request's reference.",
                             num=REASON_MAX)
    if errors:
        return _render(shop, status=422, errors=errors, reason=reason)
    try:
        result = erase_shop(get_session(), shop, reason=reason, actor=g.user.email, channel="web", lang=lang)
    except ValidationFailed as exc:
        return _render(shop, status=422, errors={"reason": str(exc)}, reason=reason)
    if result["already_erased"]:
        flash(_("Nothing more to erase: this merchant's personal data was already erased. The request is recorded."))
    else:
        flash(_("The merchant's personal data is erased (%(num)d records). The conversion figures still count the shop.",
                num=result["erased"]))
    return redirect(url_for("privacy.page", platform_id=shop.platform_id))
