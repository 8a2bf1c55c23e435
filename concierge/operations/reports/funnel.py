"""The readiness funnel: of the trials started in the period, how many reached each launch
stage, as a share of the step before and of the start, and how the decided ones converted."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import profile_schema
from renderers.labels import label

from ...i18n import translations
from ...models import ShopState
from ...reporting import Column, Report, Table
from . import report_title, sql

DAYS = 90  # trials started in the last 90 days


def build(session: Session, *, lang: str, market: str | None, now: datetime, days: int = DAYS,
          **_: Any) -> Report:
    """Shops per readiness stage reached, with step and overall shares and conversion of the decided."""
    _ = translations(lang).gettext
    stages = list(profile_schema.load_schema().stages)
    since = sql.start_of_day((now - timedelta(days=int(days))).date())
    converted, decided = sql.converted_expr(session), sql.decided_expr(session, now)
    counts = {stage: (int(n), int(c or 0), int(d or 0)) for stage, n, c, d in session.execute(
        select(ShopState.stage, func.count(), func.sum(converted), func.sum(decided))
        .where(*sql.scope(market, since)).group_by(ShopState.stage))}
    started = sum(v[0] for v in counts.values())
    rows: list[dict[str, Any]] = []
    previous = started
    for k, stage in enumerate(stages):
        reached = stages[k:]
        n = sum(counts.get(s, (0, 0, 0))[0] for s in reached)
        c = sum(counts.get(s, (0, 0, 0))[1] for s in reached)
        d = sum(counts.get(s, (0, 0, 0))[2] for s in reached)
        rows.append({"stage": label("stages", stage, lang), "shops": n,
                     "share_previous": n / previous if previous else None,
                     "share_start": n / started if started else None,
                     "decided": d, "converted": c, **sql.rate_fields(c, d),
                     "_drill": sql.drill(market=market, stages=reached, trial_from=since)})
        previous = n
    definition = _("Trials started in the last %(days)d days that have reached each launch stage or a later "
                   "one (their stage today), as a share of the step before and of all trials started. "
                   "Trial-to-paid rate: of those already decided, the share that bought within their "
                   "market's decision window (Wilson 95 %% interval).") % {"days": int(days)}
    columns = [Column("stage", _("Stage")), Column("shops", _("Shops"), "int"),
               Column("share_previous", _("Share of the step before"), "rate"),
               Column("share_start", _("Share of the start"), "rate"),
               Column("decided", _("Decided"), "int"), Column("converted", _("Converted"), "int"),
               Column("rate", _("Trial-to-paid rate"), "rate"), Column("low", _("Interval low"), "rate"),
               Column("high", _("Interval high"), "rate")]
    table = Table("funnel", _("Readiness funnel"), definition, columns, rows,
                  plot={"kind": "bars", "x": "stage", "y": "shops", "format": "number"},
                  notes=[_("Trials started: %(n)d") % {"n": started}])
    return Report("funnel", report_title("funnel", lang), [table], params={"days": int(days)})
