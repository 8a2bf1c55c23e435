"""Template helpers: answers, dates and money shown in the reader's language."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from locales import LANGUAGE_NAMES, LANGUAGES

SOURCE_LABELS = {"call": _l("call"), "survey": _l("survey"), "trial": _l("trial shop"), "import": _l("import")}
STAGE_LABELS = {
    "setting_up": _l("Setting up"), "products": _l("Products"),
    "payments_shipping": _l("Payments and shipping"), "legal": _l("Legal"),
    "ready": _l("Ready to open"), "launched": _l("Launched"),
}
OUTCOME_LABELS = {"converted": _l("Subscribed"), "not_converted": _l("Did not subscribe")}
ROLE_LABELS = {"consultant": _l("Consultant"), "manager": _l("Manager"), "admin": _l("Administrator")}
MARKET_LABELS = {"PL": _l("Poland"), "TR": _l("Turkey"), "IN": _l("India")}
FACET_LABELS = {
    "owner": _l("Owner"), "experience": _l("Experience"), "needs": _l("Needs"),
    "business": _l("Business"), "readiness": _l("Launch checklist"), "features": _l("Integrations"),
    "trial": _l("Trial shop"),
}
PERSONA_LABELS = {
    "first_steps": _l("First steps"), "ecommerce_pro": _l("E-commerce pro"),
    "offline_to_online": _l("Offline shop going online"), "marketplace_seller": _l("Marketplace seller"),
    "global_seller": _l("Global seller"), "side_project": _l("Side project"),
    "growing_seller": _l("Growing seller"),
}


# The consultant's language switcher: each language named in itself (not translated).
UI_LANGUAGES = tuple((code, LANGUAGE_NAMES[code]) for code in LANGUAGES)  # the switcher: (code, own name)


def back_here() -> str | None:
    """Where the language switcher returns to: this page, or for a page answering a form
    (a POST), the page the form was on; only paths on this site."""
    from urllib.parse import urlsplit

    from flask import request

    if request.method == "GET":
        return request.full_path.rstrip("?")
    ref = urlsplit(request.referrer or "")
    if ref.netloc and ref.netloc != request.host:
        return None
    return (ref.path + (f"?{ref.query}" if ref.query else "")) or None


def current_lang() -> str:
    loc = get_locale()
    return loc.language if loc else "en"


#: Dates and times as written by `format_when`, by (local day or hour and minute, language, market):
#: Babel's formatting was a fifth of the shop page, and the same days and minutes recur on every
#: page. The market object is kept with each text and compared by identity, so a changed market
#: file (its zone, its locale) is never read from an old entry.
_WHEN: dict[tuple, tuple[Any, str]] = {}


def _memo_when(kind: str, value: datetime, lang: str, market: str | None, m: Any) -> str:
    from locales.formatting import format_date, format_time

    if kind == "date":
        local = value.astimezone(m.tz) if m is not None and value.tzinfo is not None else value
        key: tuple = ("date", local.date(), lang, market)
    else:  # the short time patterns (HH:mm, h:mm a) show the hour and minute only
        local = value.astimezone(m.tz if m is not None else timezone.utc)
        key = ("time", local.hour, local.minute, lang, market)
    hit = _WHEN.get(key)
    if hit is not None and hit[0] is m:
        return hit[1]
    text = format_date(value, lang, market=market) if kind == "date" else format_time(value, lang, market or "UTC")
    if len(_WHEN) >= 8192:
        _WHEN.clear()
    _WHEN[key] = (m, text)
    return text


def format_when(value: datetime | date | None, market: str | None = None, *, lang: str | None = None) -> str:
    """A moment as date and hour:minute in the shop's time zone (else UTC), in the reader's language
    (`lang`: the reader's, when the caller already knows it)."""
    if value is None:
        return ""
    lang = lang or current_lang()
    try:
        from locales.formatting import format_date

        if isinstance(value, datetime) and value.tzinfo is not None:
            from locales import get_market

            m = get_market(market) if market else None  # its zone and locale; compared with the kept texts'
            return f"{_memo_when('date', value, lang, market, m)}, {_memo_when('time', value, lang, market, m)}"
        if isinstance(value, datetime):  # naive: format_time refuses it (the ISO text below)
            from locales.formatting import format_time

            return f"{format_date(value, lang, market=market)}, {format_time(value, lang, market or 'UTC')}"
        return format_date(value, lang, market=market)
    except Exception:  # noqa: BLE001 - an unknown market or zone: plain ISO is still honest
        return value.isoformat(sep=" ", timespec="minutes") if isinstance(value, datetime) else value.isoformat()


def format_money(amount: Any, currency: str | None, market: str | None = None) -> str:
    try:
        from locales.formatting import format_money as fm

        return fm(amount, currency, current_lang(), market)
    except Exception:  # noqa: BLE001
        return f"{amount} {currency or ''}".strip()


def format_answer(question: Any, value: Any, market: str | None = None, *, lang: str | None = None) -> str:
    """Show a stored answer as a person would say it: labels, yes/no, money, dates (`lang`: the
    reader's language, when the caller already knows it)."""
    lang = lang or current_lang()
    if value is None:
        return "—"
    qtype = getattr(question, "type", None)
    if qtype == "yes_no" or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if qtype in ("single_choice", "multi_choice") and question is not None:
        values = value if isinstance(value, (list, tuple)) else [value]
        return ", ".join(question.choice_label(v, lang) for v in values) or "—"
    if qtype == "money" and isinstance(value, dict):
        return format_money(value.get("amount"), value.get("currency"), market)
    if qtype == "date" and isinstance(value, str):
        try:
            return format_when(date.fromisoformat(value), market, lang=lang)
        except ValueError:
            return value
    if qtype == "tax_id" and isinstance(value, dict):
        return f"{value.get('number', '')} ({value.get('kind', '')})"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if qtype == "number" and getattr(question, "unit", None) == "hours":
        return _("%(n)s h/week", n=value)
    return str(value)


def percent(value: Any) -> str:
    if value is None:
        return "—"
    return f"{round(float(value) * 100)} %" if isinstance(value, float) and value <= 1 else f"{value} %"


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        SOURCE_LABELS=SOURCE_LABELS, STAGE_LABELS=STAGE_LABELS, OUTCOME_LABELS=OUTCOME_LABELS,
        ROLE_LABELS=ROLE_LABELS, MARKET_LABELS=MARKET_LABELS, PERSONA_LABELS=PERSONA_LABELS, FACET_LABELS=FACET_LABELS,
        current_lang=current_lang, format_answer=format_answer, UI_LANGUAGES=UI_LANGUAGES, back_here=back_here,
    )
    app.jinja_env.filters.update(when=format_when, money=format_money)


def private_page(response):
    """For pages whose URL holds a token (survey, rating, next-step links): never send it on as a
    referrer, never keep the page in a cache, never index it. Registered with `bp.after_request`."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
