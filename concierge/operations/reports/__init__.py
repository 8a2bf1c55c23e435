"""The manager's reports: conversion by cohort, the funnel, breakdowns, the gain from calls,
expected conversions, model health, queue health, the voice of the merchant and survey completion.

Each module has one `build(session, *, lang, market, now, **params) -> Report` that reads
stored state with SQL (the `shop_state` read model, scores, calls, planned calls,
observations) and never folds a profile. The dashboard, `concierge report` and the CSV
exports all call `build_report`, so a figure is computed in one place.
Reads only: nothing here adds, flushes or commits.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from datetime import datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any

from audits.messages import N_

from ...i18n import translations
from ...reporting import Report

if TYPE_CHECKING:  # SQLAlchemy is imported by the reports themselves, not by `concierge --help`
    from sqlalchemy.orm import Session

#: report key -> module (the CLI's `concierge report KEY` and the dashboard's URLs use the keys)
MODULES = {
    "cohorts": "cohorts",
    "funnel": "funnel",
    "breakdowns": "breakdowns",
    "lift": "lift",
    "forecast": "forecast",
    "model-health": "model_health",
    "queue": "queue_health",
    "voice": "voice",
    "survey": "survey_completion",
}
REPORTS = tuple(MODULES)
#: PostgreSQL's memory for each sort or hash while a report is built (the server default, 4 MB,
#: sent model health's 44k closed trials to an on-disk merge sort at 100k shops): a report reads
#: once per request, so a few concurrent managers stay far below the server's memory.
REPORT_WORK_MEM = "64MB"
#: Each report's title (msgids): the page, the front page's links and `Report.title` read it here.
TITLES = {
    "cohorts": N_("Conversion by cohort"),
    "funnel": N_("Readiness funnel"),
    "breakdowns": N_("Breakdowns"),
    "lift": N_("Gain from calls"),
    "forecast": N_("Expected conversions"),
    "model-health": N_("Model health"),
    "queue": N_("Queue health"),
    "voice": N_("Voice of the merchant"),
    "survey": N_("Survey completion"),
}


def report_title(key: str, lang: str = "en") -> str:
    """A report's title in the reader's language, without computing the report."""
    return translations(lang).gettext(TITLES[key])


class UnknownReport(KeyError):
    pass


def build_report(session: Session, key: str, *, lang: str = "en", market: str | None = None,
                 now: datetime | None = None, settings: Mapping[str, Any] | None = None, **params: Any) -> Report:
    """Compute one report for the reader's language, optionally for one market.

    ``settings``: the app's report settings (`config.report_settings`: the drift threshold,
    calls per consultant and day); each report takes those its `build` names, and ``params``
    (a URL's or the CLI's) win over them.
    """
    if key not in MODULES:
        raise UnknownReport(key)
    module = import_module(f"{__name__}.{MODULES[key]}")
    if now is None:
        from ...db import utcnow

        now = utcnow()
    if settings:
        takes = inspect.signature(module.build).parameters
        params = {**{k: v for k, v in settings.items() if k in takes}, **params}
    from ...db import server_settings  # here, not at the top: the CLI's --help reads REPORTS without SQLAlchemy

    with server_settings(session, work_mem=REPORT_WORK_MEM):
        report: Report = module.build(session, lang=lang, market=market.upper() if market else None, now=now,
                                      **params)
    report.generated_at = report.generated_at or now
    report.params = {"market": market.upper() if market else None, **report.params}
    return report
