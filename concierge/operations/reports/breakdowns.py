"""Conversion broken down by consultant, persona, business type and market (trials started in
the period; rates of the decided trials with Wilson intervals, pending apart)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import profile_schema
from locales import get_market
from renderers.labels import label

from ...i18n import translations
from ...models import ShopState
from ...reporting import Column, Report, Table
from . import report_title, sql

MONTHS = 12


def build(session: Session, *, lang: str, market: str | None, now: datetime, months: int = MONTHS,
          **_: Any) -> Report:
    """Trial-to-paid conversion per consultant, persona, business type and market."""
    _ = translations(lang).gettext
    since = sql.start_of_day(sql.month_start(now.date(), int(months) - 1))
    converted, decided = sql.converted_expr(session), sql.decided_expr(session, now)
    business = profile_schema.load_schema().questions["business.type"]
    dims = [
        ("consultant", ShopState.consultant, _("By consultant"), _("Consultant"),
         lambda v: v, _("No call reached yet")),
        ("persona", ShopState.persona, _("By persona"), _("Persona"),
         lambda v: label("personas", v, lang), _("Not known yet")),
        ("business_type", ShopState.business_type, _("By business type"), _("Business type"),
         lambda v: business.choice_label(v, lang), _("Not known yet")),
        ("market", ShopState.market, _("By market"), _("Market"),
         lambda v: get_market(v).label(lang), _("Not known yet")),
    ]
    definition = _("Trials started in the last %(months)d months. Trial-to-paid rate: trials that bought "
                   "within their market's decision window after the trial, divided by the decided ones "
                   "(Wilson 95 %% interval); pending trials are not counted as losses. A consultant's shops "
                   "are those whose last reached call they made: not a random split, so compare with care."
                   ) % {"months": int(months)}
    # one scan: counts per (consultant, persona, business type, market), summed per dimension here
    cols = [col for _k, col, *_rest in dims]
    tally: dict[str, dict[Any, list[int]]] = {key: {} for key, *_rest in dims}
    for *values, n, c, d in session.execute(
            select(*cols, func.count(), func.sum(converted), func.sum(decided))
            .where(*sql.scope(market, since)).group_by(*cols)):
        for (key, *_rest), value in zip(dims, values):
            acc = tally[key].setdefault(value, [0, 0, 0])
            acc[0] += int(n)
            acc[1] += int(c or 0)
            acc[2] += int(d or 0)
    tables = []
    for key, col, title, head, name, unknown in dims:
        rows = []
        for value, (n, c, d) in tally[key].items():
            if value is None:
                drill = sql.drill(market=market, contacted=False, trial_from=since) if key == "consultant" else None
            else:
                drill = sql.drill(**{"market": market, key: value, "trial_from": since})
            rows.append({"value": name(value) if value is not None else unknown, "code": value or "",
                         "trials": n, "decided": d, "converted": c, "pending": n - d,
                         **sql.rate_fields(c, d), "_pending": n > d, "_drill": drill})
        rows.sort(key=lambda r: (-r["trials"], r["value"]))
        columns = [Column("value", head), Column("code", _("Code")), Column("trials", _("Trials"), "int"),
                   Column("decided", _("Decided"), "int"), Column("converted", _("Converted"), "int"),
                   Column("pending", _("Pending"), "int"), Column("rate", _("Trial-to-paid rate"), "rate"),
                   Column("low", _("Interval low"), "rate"), Column("high", _("Interval high"), "rate")]
        tables.append(Table(key, title, definition, columns, rows,
                            plot={"kind": "bars", "x": "value", "y": "rate", "low": "low", "high": "high",
                                  "format": "percent"}))
    return Report("breakdowns", report_title("breakdowns", lang), tables, params={"months": int(months)})
