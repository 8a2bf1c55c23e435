"""JSON-ready market cards for the ``concierge locales show`` command (pure: no click here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .calendar import holiday_names, supported_subdivisions
from .market import Market, get_market

__all__ = ["describe_market"]


def _time(t: dt.time | None) -> str | None:
    return t.isoformat("minutes") if t is not None else None


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _days(days: tuple[int, ...]) -> list[str]:
    return [_DAY_NAMES[d - 1] for d in days]


def describe_market(code: str | Market, year: int | None = None, *, lang: str = "en", subdivision: str | None = None) -> dict[str, Any]:
    """Everything on the market card plus holidays of ``year`` and ``year + 1`` (default: this year)."""
    m = get_market(code)
    year = year if year is not None else dt.date.today().year  # CLI convenience; callers may pass it
    window = m.calling.promotional_window
    return {
        "code": m.code,
        "name": m.label(lang),
        "languages": list(m.languages),
        "default_language": m.default_language,
        "babel_locale": m.babel_locale(lang if lang in m.formatting_locales else None),
        "currency": m.currency,
        "timezone": m.timezone,
        "working_days": _days(m.working_days),
        "optional_working_days": _days(m.optional_working_days),
        "business_hours": {"start": _time(m.business_hours.start), "end": _time(m.business_hours.end)},
        "half_days": {"category": m.half_day_category, "end": _time(m.half_day_end)},
        "phone_region": m.phone_region,
        "tax_id_kinds": list(m.tax_id_kinds),
        "calling": {
            "law": m.calling.law,
            "commercial_requires_consent": m.calling.commercial_requires_consent,
            "trader_exempt_until_opt_out": m.calling.trader_exempt_until_opt_out,
            "consent_registry": m.calling.consent_registry,
            "promotional_window": {"start": _time(window.start), "end": _time(window.end)} if window else None,
            "respect_business_hours": m.calling.respect_business_hours,
            "number_series": dict(m.calling.number_series),
            "notes": m.calling.notes,
        },
        "integrations": {
            category: [{"key": i.key, "name": i.name, "notes": i.notes} for i in items]
            for category, items in m.integrations.items()
        },
        "expected_integrations": [
            {"key": e.key, "category": e.category, "label": e.label_for(lang), "any_of": list(e.any_of),
             "recommended": list(e.recommended), "when": e.when}
            for e in m.expected_integrations
        ],
        "legal_checklist": [
            {"key": i.key, "label": i.label_for(lang), "law": i.law, "when": i.when,
             "due": [{"date": d.isoformat(), "when": w} for d, w in i.due], "notes": i.notes}
            for i in m.legal_checklist
        ],
        "conversion": {"decision_window_days": m.decision_window_days},
        "follow_up": {
            "consent_required": m.follow_up.consent_required,
            "skip_half_days": m.follow_up.skip_half_days,
            "steps": [
                {"key": s.key, "label": s.label_for(lang), "anchor": s.anchor, "offset": dict(s.offset), "topic": s.topic, "when": s.when}
                for s in m.follow_up.steps
            ],
        },
        "holidays": {
            "source": f"holidays.{m.holidays.country}",
            "categories": list(m.holidays.categories),
            "subdivision": subdivision or m.holidays.subdivision,
            "subdivisions": list(supported_subdivisions(m)),
            "overrides": [
                {"date": o.date.isoformat(), "action": o.action, "name": o.name, "reason": o.reason, "subdivisions": list(o.subdivisions)}
                for o in m.holidays.overrides
            ],
            "years": {
                str(y): [
                    {"date": d.date.isoformat(), "kind": d.kind, "name": d.name, "source": d.source}
                    for d in holiday_names(m, y, subdivision=subdivision, lang=lang)
                ]
                for y in (year, year + 1)
            },
        },
    }
