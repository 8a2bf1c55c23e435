"""The manager's reports: conversion by cohort, the funnel, breakdowns, the gain from calls,
expected conversions, model health, queue health and the voice of the merchant.

Each module has one `build(session, *, lang, market, now, **params) -> Report` that reads
stored state with SQL (the `shop_state` read model, scores, calls, planned calls,
observations) and never folds a profile. The dashboard, `concierge report` and the CSV
exports all call `build_report`, so a figure is computed in one place.
Reads only: nothing here adds, flushes or commits.
"""
from __future__ import annotations

from datetime import datetime
from importlib import import_module
from typing import Any

from sqlalchemy.orm import Session

from ...db import utcnow
from ...reporting import Report

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
}
REPORTS = tuple(MODULES)


class UnknownReport(KeyError):
    pass


def build_report(session: Session, key: str, *, lang: str = "en", market: str | None = None,
                 now: datetime | None = None, **params: Any) -> Report:
    """Compute one report for the reader's language, optionally for one market."""
    if key not in MODULES:
        raise UnknownReport(key)
    module = import_module(f"{__name__}.{MODULES[key]}")
    now = now or utcnow()
    report: Report = module.build(session, lang=lang, market=market.upper() if market else None, now=now, **params)
    report.generated_at = report.generated_at or now
    report.params = {"market": market.upper() if market else None, **report.params}
    return report
