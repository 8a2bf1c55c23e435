"""Survey completion: of the survey links sent, how many merchants started, how many finished,
how long finishing took, and the question where those who did not finish stopped.

Definitions (the stored data they are read from, with SQL):

- **sent**: survey links created in the last ``days`` days (``survey_link.created_at``), by the
  shop's market;
- **started**: the link's first POST that saved anything, a draft or a submit
  (``survey_link.started_at``, set once by `operations.survey_links`); opening the page is not
  starting, a GET writes nothing;
- **finished**: the link's first accepted submission (``survey_link.finished_at``);
- **time to finish**: finished minus started, in minutes (median and the 90th percentile);
- **stop question**: for a started link not finished, the last question in schema order that its
  saved draft (``survey_link.draft``) holds an answer to; "no answer saved" when the draft is
  empty. A draft keeps the answers the form showed, pre-filled ones included.

Moments after the report's ``now`` do not count. Reads only.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

import profile_schema
from locales import MARKET_CODES, get_market

from ...i18n import translations
from ...models import Shop, SurveyLink
from ...reporting import Column, Report, Table
from . import report_title, sql

DAYS = 90  # links created in the last 90 days
#: Fewer started surveys than this: the row is greyed (its shares too noisy to read).
SMALL = 10
#: The stop-question table's key for a started survey whose draft holds no answer.
NO_ANSWER = ""


def _answered(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def stop_question(draft: Any, order: dict[str, int]) -> str:
    """The last question in schema order (``order``: key -> position) answered in ``draft``, or NO_ANSWER."""
    if not isinstance(draft, dict):
        return NO_ANSWER
    keys = [k for k, v in draft.items() if k in order and _answered(v)]
    return max(keys, key=order.__getitem__) if keys else NO_ANSWER


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between closest ranks, or None when empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def build(session: Session, *, lang: str, market: str | None, now: datetime, days: int = DAYS,
          **_: Any) -> Report:
    """Survey links sent, started and finished per market, time to finish, and where people stop."""
    _ = translations(lang).gettext
    since = sql.start_of_day((now - timedelta(days=int(days))).date())
    link = SurveyLink
    started = and_(link.started_at.is_not(None), link.started_at <= now)
    finished = and_(started, link.finished_at.is_not(None), link.finished_at <= now)
    where = [link.created_at >= since, link.created_at <= now]
    if market:
        where.append(Shop.market == market)
    base = select().select_from(link).join(Shop, Shop.id == link.shop_id).where(*where)
    counts = {m: (int(n), int(s or 0), int(f or 0)) for m, n, s, f in session.execute(
        base.add_columns(Shop.market, func.count(), func.sum(case((started, 1), else_=0)),
                         func.sum(case((finished, 1), else_=0))).group_by(Shop.market))}
    minutes: dict[str, list[float]] = {}
    for m, d in session.execute(base.add_columns(Shop.market, sql.days_between(session, link.started_at,
                                                                                 link.finished_at)).where(finished)):
        minutes.setdefault(m, []).append(max(0.0, float(d)) * 1440.0)
    schema = profile_schema.load_schema()
    order = {key: i for i, key in enumerate(schema.questions)}
    stops: dict[str, int] = {}
    for (draft,) in session.execute(base.add_columns(link.draft).where(
            started, ~and_(link.finished_at.is_not(None), link.finished_at <= now))):
        key = stop_question(draft, order)
        stops[key] = stops.get(key, 0) + 1

    def row(label: str, n: int, s: int, f: int, mins: list[float]) -> dict[str, Any]:
        return {"market": label, "sent": n, "started": s, "started_share": s / n if n else None,
                "finished": f, "finished_share": f / s if s else None, "stopped": s - f,
                "median_minutes": percentile(mins, 0.5), "p90_minutes": percentile(mins, 0.9),
                "_muted": s < SMALL}

    codes = [market] if market else [m for m in MARKET_CODES if m in counts] + sorted(set(counts) - set(MARKET_CODES))
    rows = [row(get_market(m).label(lang) if m in MARKET_CODES else m, *counts.get(m, (0, 0, 0)), minutes.get(m, []))
            for m in codes]
    if not market:
        every = [x for m in codes for x in minutes.get(m, [])]
        rows.append(row(_("All markets"), *(sum(counts.get(m, (0, 0, 0))[i] for m in codes) for i in range(3)),
                        every))
    definition = _("Survey links created in the last %(days)d days. Started: the merchant saved or sent "
                   "answers at least once (opening the page does not count). Finished: the answers were "
                   "sent. Time to finish: from the first save to the first sending, in minutes.") % {
        "days": int(days)}
    columns = [Column("market", _("Market")), Column("sent", _("Links sent"), "int"),
               Column("started", _("Started"), "int"), Column("started_share", _("Share of links sent"), "rate"),
               Column("finished", _("Finished"), "int"), Column("finished_share", _("Share of started"), "rate"),
               Column("stopped", _("Started, not finished"), "int"),
               Column("median_minutes", _("Median minutes to finish"), "float"),
               Column("p90_minutes", _("90th percentile, minutes"), "float")]
    completion = Table("completion", _("Survey completion"), definition, columns, rows,
                       plot={"kind": "bars", "x": "market", "y": "finished_share", "format": "percent"})
    unfinished = sum(stops.values())
    stop_rows = []
    for key in sorted(stops, key=lambda k: order.get(k, -1)):
        question = schema.questions.get(key)
        stop_rows.append({"question": question.label(lang) if question is not None else _("No answer saved"),
                          "key": key, "stopped": stops[key], "share": stops[key] / unfinished,
                          "_muted": unfinished < SMALL})
    stop_definition = _("Surveys started but not finished, by the last question they answered (in the "
                        "survey's order): the merchant stopped after it. A saved draft keeps pre-filled "
                        "answers too.")
    stop_table = Table("stops", _("Where merchants stop"), stop_definition,
                       [Column("question", _("Last question answered")), Column("key", _("Question key")),
                        Column("stopped", _("Surveys"), "int"), Column("share", _("Share of unfinished"), "rate")],
                       stop_rows, plot={"kind": "bars", "x": "question", "y": "stopped", "format": "number"},
                       notes=[_("Started, not finished: %(n)d") % {"n": unfinished}])
    return Report("survey", report_title("survey", lang), [completion, stop_table], params={"days": int(days)})
