"""What each demo trial event says about the profile: (question, value, op) triples. Pure.

The loader writes these as source=trial observations (validated by profile_schema like
every other answer) next to the verbatim event, so a freshly loaded demo database looks
as if `concierge ingest events` had read the same envelopes.
"""
from __future__ import annotations

from typing import Any

INTERNATIONAL_PAYMENTS = ("razorpay_international",)
LEGAL_PAGE_ITEMS = {"terms": "readiness.terms_published", "privacy": "readiness.privacy_policy_published",
                    "refund": "readiness.refund_policy_published"}


def event_facts(etype: str, data: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """The observations an event implies, as (question, value, op)."""
    if etype == "trial_started":
        return [(q, data[k], "set") for q, k in (("owner.name", "owner_name"), ("owner.email", "email"),
                                                  ("owner.phone", "phone")) if data.get(k)]
    if etype == "product_added":
        return [("readiness.products_added", True, "set"), ("trial.product_count", int(data.get("count", 1)), "increment")]
    if etype == "theme_published":
        return [("readiness.theme_published", True, "set"), ("readiness.store_details", True, "set")]
    if etype == "payment_connected":
        out = [("features.payments", [data["provider"]], "add"), ("readiness.payments_connected", True, "set")]
        if data["provider"] in INTERNATIONAL_PAYMENTS:
            out.append(("business.sells_abroad", True, "set"))
        return out
    if etype == "shipping_connected":
        return [("features.shipping", [data["provider"]], "add"), ("readiness.shipping_connected", True, "set")]
    if etype == "legal_pages_published":
        return [(LEGAL_PAGE_ITEMS[p], True, "set") for p in data.get("pages", []) if p in LEGAL_PAGE_ITEMS]
    if etype == "domain_connected":
        return [("features.domain", data["domain"], "set"), ("readiness.domain_connected", True, "set")]
    if etype == "marketplace_connected":
        return [("features.marketplaces", [data["marketplace"]], "add")]
    if etype == "invoicing_connected":
        return [("features.invoicing", [data["provider"]], "add")]
    if etype == "marketing_connected":
        return [("features.marketing", [data["channel"]], "add")]
    if etype == "order_received":
        out = [("trial.order_count", 1, "increment")]
        if data.get("test"):
            out.append(("readiness.test_order_placed", True, "set"))
        return out
    if etype == "shop_opened":
        return [("readiness.launched", True, "set")]
    if etype == "plan_purchased":
        return [("trial.plan", data["plan"], "set"), ("trial.outcome", "converted", "set")]
    if etype == "trial_ended":
        return [("trial.outcome", "converted" if data.get("converted") else "not_converted", "set")]
    raise ValueError(f"unknown demo event type {etype!r}")
