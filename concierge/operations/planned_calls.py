"""Planned calls as people see them: small helpers around `operations.audits` for the shells.

Everything here reads, except `ask_for_callback`, which is `audits.request_callback` plus
whether it created the shop's open callback or moved it. Moments are written in the
reader's language and the merchant's local time (the shop's market zone), so a consultant
in Warsaw and a merchant in Istanbul read the same call the same way.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import Locale, dates
from sqlalchemy import select
from sqlalchemy.orm import Session

import locales
from locales.formatting import babel_locale, format_date, format_time

from audits.agenda import render_reason
from audits.messages import OPEN_STATUSES

from ..i18n import translations
from ..models import PlannedCall, Shop
from .shops import resolve_shop

# `operations.audits` (the planner, the calling-time rules) is imported inside the functions that
# need it: the picture's next-call line does not, and a CLI `render` should not pay for it.


def next_call(session: Session, shop: Shop) -> PlannedCall | None:
    """The shop's next open call: a callback first, else the soonest."""
    return session.scalar(select(PlannedCall)
                          .where(PlannedCall.shop_id == shop.id, PlannedCall.status.in_(OPEN_STATUSES))
                          .order_by(PlannedCall.kind != "callback", PlannedCall.scheduled_at, PlannedCall.id)
                          .limit(1))


def call_reason(call: PlannedCall, shop: Shop, lang: str) -> str:
    """Why the call is planned, in the reader's language (`call_as_dict`'s ``why``)."""
    return render_reason(call.trigger, call.params, market=shop.market, lang=lang,
                         gettext=translations(lang).gettext)



def _join(pattern_width: str, date_text: str, time_text: str, locale: str) -> str:
    """Date and time joined the way the language does it (CLDR datetime pattern)."""
    pattern = Locale.parse(locale).datetime_formats.get(pattern_width)
    pattern = str(getattr(pattern, "pattern", pattern) or "{1}, {0}")
    return pattern.replace("'", "").replace("{1}", date_text).replace("{0}", time_text)


def local_moment(value: datetime, lang: str, market: str) -> str:
    """`Monday, 9 March 2026, 09:00` / `poniedziałek, 9 marca 2026 09:00`: weekday, date and
    time in the market's zone, in the reader's language."""
    locale = babel_locale(lang, market)
    return _join("full", format_date(value, lang, "full", market), format_time(value, lang, market), locale)


def short_moment(value: datetime, lang: str, market: str) -> str:
    """`Tue 1 Dec, 10:00` / `wt., 1 gru, 10:00`: for the picture's one line."""
    locale = babel_locale(lang, market)
    local = value.astimezone(locales.get_market(market).tz)
    day = dates.format_skeleton("MMMEd", local, locale=locale)
    return _join("medium", day, format_time(value, lang, market), locale)


def describe_call(call: PlannedCall, shop: Shop, lang: str) -> dict[str, Any]:
    """`call_as_dict` plus `when` (reader's language, merchant's time) and `moved` for callbacks."""
    from .audits import call_as_dict

    data = call_as_dict(call, shop, lang=lang)
    data["when"] = local_moment(call.scheduled_at, lang, shop.market)
    data.setdefault("moved", False)
    return data


def open_calls(session: Session, shop: Shop, lang: str) -> list[dict[str, Any]]:
    """The shop's open calls (planned or snoozed), the next one first: callbacks, then by time."""
    from .audits import list_calls

    return [describe_call(c, s, lang) for c, s in list_calls(session, shop=shop, status="open", lang=lang)]


def next_call_line(session: Session, shop: Shop, lang: str) -> str | None:
    """`Tue 1 Dec, 10:00 · The merchant asked for a call`: the picture's next call, or None."""
    call = next_call(session, shop)
    return None if call is None else call_line(call, shop, lang)


def call_line(call: PlannedCall, shop: Shop, lang: str, why: str | None = None) -> str:
    """One call as the picture's line (`why`: its reason in `lang`, when already written)."""
    why = call_reason(call, shop, lang) if why is None else why
    return f"{short_moment(call.scheduled_at, lang, shop.market)} · {why}"


def ask_for_callback(session: Session, shop: Shop | str, *, at: Any = None, note: str | None = None,
                     via: str, actor: str, lang: str = "en",
                     now: datetime | None = None) -> tuple[PlannedCall, Shop, bool]:
    """`request_callback`, and whether it made a new callback (False: the open one was moved)."""
    from .audits import open_callback, request_callback

    shop = resolve_shop(session, shop, lang=lang)
    created = open_callback(session, shop) is None
    call = request_callback(session, shop, at=at, note=note, via=via, actor=actor, lang=lang, now=now)
    return call, shop, created
