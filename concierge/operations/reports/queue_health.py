"""Queue health: the calls waiting now, how the team works them, and whether the next four
weeks fit the consultants' capacity.

Three tables:

- ``summary``: per market and for the team, the open calls due now, overdue, claimed and the
  callbacks waiting (one GROUP BY over `planned_call`), beside the contact-centre figures of
  the last 30 days (reach rate, handling time, callback service level, tNPS, first-contact
  resolution) from `operations.callstats.call_stats`, their one home;
- ``consultants``: the same call-log figures per consultant;
- ``capacity``: the open calls due per day for the next 28 days, per merchant language,
  against the consultants who speak it times `config.calls_per_consultant_day()`; the first
  day and language over capacity is a warning, so a peak (December brings several times the
  usual volume) is seen coming.

Reads only: nothing is added, flushed or committed. The shop list has no filter for "has an
open call" or "next call between", so these rows carry no ``_drill``.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, select
from sqlalchemy.orm import Session

import locales
from audits.messages import N_
from audits.planner import OPEN_STATUSES
from audits.rules import load_rules
from locales.formatting import format_date
from renderers.labels import label

from ... import config
from ...i18n import translations
from ...models import PlannedCall, User
from ...reporting import Column, Report, Table
from ..callstats import FCR_DAYS, call_stats
from ..workday import call_languages
from . import report_title

UTC = timezone.utc
#: The call log's period for the contact-centre figures, in days before ``now``.
STATS_DAYS = 30
#: How far ahead the capacity table looks, in days (today included).
HORIZON_DAYS = 28
#: The call-log figures both tables show: (key in call_stats' rows, column key, label msgid, kind).
_STATS = (("calls_handled", "calls_handled", N_("Calls handled"), "int"),
          ("reach_rate", "reach_rate", N_("Reach rate"), "rate"),
          ("average_handling_minutes", "handling_minutes", N_("Average handling (minutes)"), "float"),
          ("callbacks", "callbacks", N_("Callbacks judged"), "int"),
          ("callback_service_level", "callback_service_level", N_("Callback service level"), "rate"),
          ("ratings", "ratings", N_("Ratings"), "int"),
          ("tnps", "tnps", N_("tNPS"), "float"),
          ("fcr_judged", "fcr_judged", N_("Calls judged for FCR"), "int"),
          ("first_contact_resolution", "first_contact_resolution", N_("First-contact resolution"), "rate"))


def _markets(market: str | None) -> tuple[str, ...]:
    return (market,) if market else tuple(locales.MARKET_CODES)


def _queue_scan(session: Session, now: datetime, markets: tuple[str, ...]
                ) -> tuple[dict[str, dict[str, int]], dict[tuple[int, str | None], int]]:
    """One pass over the open calls: (per market, the calls due now, overdue, claimed now and
    callbacks waiting; {(day index, language): open calls} for the capacity horizon).

    Each open call counts on its scheduled day in its shop's market time zone (day index 0 is
    today, UTC's date; calls planned before today and still open count on today). PostgreSQL
    turns the time into the local date with the market card's zone (`timezone(zone, t)`, DST
    included); SQLite, which has no zones, compares it with each day's local midnight.
    """
    is_open = PlannedCall.status.in_(OPEN_STATUSES)
    due = and_(PlannedCall.scheduled_at <= now, PlannedCall.due_from <= now)
    today = now.date()

    def count(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    market = PlannedCall.market  # the shop's, kept on the call: no join to every shop
    if session.get_bind().dialect.name == "postgresql":
        zone = case(*((market == m, locales.get_market(m).timezone) for m in markets), else_="UTC")
        day: Any = cast(func.timezone(zone, PlannedCall.scheduled_at), Date)
    else:
        edges = _day_edges(markets, today)
        day = case(*((and_(market == m, PlannedCall.scheduled_at < edge), i)
                     for m in markets for i, edge in enumerate(edges[m])), else_=None)
    rows = session.execute(
        select(market, PlannedCall.language, day, func.count(), count(due),
               count(PlannedCall.due_until < now),
               count(and_(PlannedCall.status == "claimed", PlannedCall.lease_until > now)),
               count(and_(due, PlannedCall.kind == "callback")))
        .where(is_open, market.in_(markets))
        .group_by(market, PlannedCall.language, day)).all()
    counts = {m: {"due_now": 0, "overdue": 0, "claimed": 0, "callbacks_waiting": 0} for m in markets}
    per_day: dict[tuple[int, str | None], int] = defaultdict(int)
    for market, language, d, n, due_now, overdue, claimed, waiting in rows:
        c = counts[market]
        c["due_now"] += int(due_now)
        c["overdue"] += int(overdue)
        c["claimed"] += int(claimed)
        c["callbacks_waiting"] += int(waiting)
        if d is None:
            continue  # SQLite: after the horizon
        index = max(0, (d - today).days) if isinstance(d, date) else int(d)
        if index < HORIZON_DAYS:
            per_day[(index, language)] += int(n)
    return counts, dict(per_day)


def _stats_fields(stats: dict[str, Any]) -> dict[str, Any]:
    return {col: stats.get(key) for key, col, _label, _kind in _STATS}


def _summary_row(scope: str, queue: dict[str, int], stats: dict[str, Any], target: float | None) -> dict[str, Any]:
    """A summary row: a market's (or the team's) queue counts, call-log figures and callback target."""
    return {"market": scope, **queue, **_stats_fields(stats), "callback_target": target}


def _stats_columns(_: Any) -> list[Column]:
    """The call-log columns, labelled with the reader's catalog ``_``."""
    return [Column(col, _(label), kind) for _key, col, label, kind in _STATS]


def _day_edges(markets: tuple[str, ...], today: date) -> dict[str, list[datetime]]:
    """Per market, the UTC instants of local midnight that end each of the horizon's days."""
    out = {}
    for m in markets:
        tz = locales.get_market(m).tz
        out[m] = [datetime.combine(today + timedelta(days=i), time(0), tzinfo=tz).astimezone(UTC)
                  for i in range(1, HORIZON_DAYS + 1)]
    return out


def _consultants_per_language(session: Session) -> tuple[dict[str, int], int, int]:
    """({language: active consultants who speak it}, those who take any language, all of them)."""
    per: dict[str, int] = {}
    anyone = everyone = 0
    for user in session.scalars(select(User).where(User.role == "consultant", User.active.is_(True))):
        everyone += 1
        langs = call_languages(user)
        if langs is None:
            anyone += 1
            continue
        for code in langs:
            per[code] = per.get(code, 0) + 1
    return per, anyone, everyone


def build(session: Session, *, lang: str, market: str | None, now: datetime,
          calls_per_consultant_day: int = 0, **params: Any) -> Report:
    """Queue health for the reader's language: the queue now, the last 30 days, the next 28 days.

    ``calls_per_consultant_day``: the calls one consultant makes in a day (0: the configured
    `config.calls_per_consultant_day()`, CONCIERGE_CALLS_PER_CONSULTANT_DAY or 40).
    ``warnings_only=True`` (in ``params``, so that it is no filter of the report's page), for a
    caller that reads only the warnings (the capacity peak), such as the dashboard's front page:
    the call log is not read, so the call-log columns are empty (None) and
    the consultants table has no rows; the queue counts, the capacity table and the warnings are
    the full report's.
    """
    _ = translations(lang).gettext
    now = now.astimezone(UTC)
    per_day = int(calls_per_consultant_day) if calls_per_consultant_day and calls_per_consultant_day > 0 \
        else config.calls_per_consultant_day()
    warnings_only = params.get("warnings_only") is True
    markets = _markets(market)
    since = now - timedelta(days=STATS_DAYS)

    # ------------------------------------------------------------------ summary
    counts, due = _queue_scan(session, now, markets)
    summary_rows = []
    # one pass over the call log: the team's figures (that market's, with a market filter) and each market's
    team_stats = {"team": {}, "consultants": []} if warnings_only else \
        call_stats(session, since=since, until=now, now=now, market=market, by_market=True)
    for m in markets:
        stats = team_stats.get("markets", {}).get(m, {"team": {}})
        summary_rows.append(_summary_row(label("markets", m, lang), counts[m], stats["team"],
                                         load_rules(m).callbacks.target_share))
    if market is None:
        totals = {k: sum(counts[m][k] for m in markets) for k in ("due_now", "overdue", "claimed", "callbacks_waiting")}
        summary_rows.append(_summary_row(_("All markets"), totals, team_stats["team"], None))
    summary = Table(
        key="summary", title=_("Queue health"),
        definition=_("Open calls are planned, snoozed or claimed (held-out calls are never made). Due now: open "
                     "calls whose planned moment has come. Overdue: open calls whose due window has ended. "
                     "Claimed now: calls a consultant holds under an unexpired claim. Callbacks waiting: due "
                     "callbacks. From the call log of the last %(days)s days: reach rate (attempts that reached "
                     "the merchant, of all attempts), average handling time (claim to outcome), callback service "
                     "level (callbacks asked for in the period that were first attempted within the market's "
                     "target wait, counted in allowed calling minutes; a callback still inside its target is not "
                     "judged yet), tNPS (percent of ratings 9-10 minus percent of 0-6) and first-contact "
                     "resolution (reached calls whose gap closed within %(fcr)s days with no call for the same "
                     "reason after; calls younger than that are not judged yet).")
        % {"days": STATS_DAYS, "fcr": FCR_DAYS},
        columns=[Column("market", _("Market")),
                 Column("due_now", _("Due now"), "int"),
                 Column("overdue", _("Overdue"), "int"),
                 Column("claimed", _("Claimed now"), "int"),
                 Column("callbacks_waiting", _("Callbacks waiting"), "int"),
                 *_stats_columns(_),
                 Column("callback_target", _("Callback target"), "rate")],
        rows=summary_rows,
        notes=[_("The shop list cannot yet show only the shops with an open call, so these rows open no "
                 "shop list.")])

    # ------------------------------------------------------------------ per consultant
    people = Table(
        key="consultants", title=_("Calls per consultant"),
        definition=_("The call log of the last %(days)s days per consultant, counted as in the queue health "
                     "table: a callback counts for the consultant who first attempted it, a rating for the "
                     "consultant who made the rated call.") % {"days": STATS_DAYS},
        columns=[Column("consultant", _("Consultant")), *_stats_columns(_)],
        rows=[{"consultant": p["consultant"], **_stats_fields(p)} for p in team_stats["consultants"]])

    # ------------------------------------------------------------------ capacity
    today = now.date()
    speakers, anyone, everyone = _consultants_per_language(session)
    languages = sorted({code for _day, code in due} | set(speakers), key=lambda c: (c is None, c or ""))
    capacity_rows = []
    for i in range(HORIZON_DAYS):
        day = today + timedelta(days=i)
        for code in languages:
            people_n = everyone if code is None else speakers.get(code, 0) + anyone
            n = due.get((i, code), 0)
            cap = people_n * per_day
            capacity_rows.append({"day": day, "language": _language_label(code, lang, _), "calls_due": n,
                                  "consultants": people_n, "capacity": cap, "over_capacity": n > cap,
                                  "_language": code})
    capacity = Table(
        key="capacity", title=_("Calls due per day against capacity"),
        definition=_("Open calls (planned, snoozed or claimed) per day for the next %(days)s days, on the day they "
                     "are planned for in the merchant's time zone, by the language the merchant is called in; "
                     "calls planned for an earlier day and still open count on today. Capacity: the active "
                     "consultants who take calls in that language times %(per_day)s calls a day. A consultant who "
                     "speaks several languages counts once in each of them, and one with no languages set "
                     "counts in every language, so the capacities of different languages cannot be added up.")
        % {"days": HORIZON_DAYS, "per_day": per_day},
        columns=[Column("day", _("Day"), "date"), Column("language", _("Language")),
                 Column("calls_due", _("Calls due"), "int"), Column("consultants", _("Consultants"), "int"),
                 Column("capacity", _("Capacity"), "int"), Column("over_capacity", _("Over capacity"), "bool")],
        rows=capacity_rows,
        plot={"kind": "bars", "x": "day", "y": "calls_due", "reference": "capacity", "format": "number"})
    if market is not None:
        capacity.notes.append(_("Only this market's calls are counted, against every consultant's capacity."))

    warnings = []
    first = next((r for r in capacity_rows if r["over_capacity"]), None)
    if first is not None:
        warnings.append(_("Over capacity on %(day)s (%(language)s): calls due %(due)s, capacity %(capacity)s. "
                          "Plan more hours or consultants for that day.")
                        % {"day": format_date(first["day"], lang, "full"), "due": first["calls_due"],
                           "language": first["language"], "capacity": first["capacity"]})

    return Report(key="queue", title=report_title("queue", lang), tables=[summary, people, capacity], warnings=warnings,
                  params={"calls_per_consultant_day": per_day, "since": since.isoformat(), "until": now.isoformat()})


def _language_label(code: str | None, lang: str, _: Any) -> str:
    """The merchant language's name in the reader's language (a call with none: any consultant)."""
    if code is None:
        return _("Any language")
    return label("languages", code, lang)
