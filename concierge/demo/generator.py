"""A synthetic, realistic trial population with a known truth. Pure: numpy and the stdlib.

`generate(n, seed=..., today=...)` draws, for each shop: the market, the persona first,
then answers consistent with it, native names, a valid phone, a 14-day trial timeline
of events driven by a latent engagement, an optional survey, an onboarding call after
the snapshot day (unless the shop is in the random no-call holdout) and, for trials that
ended before `today`, the outcome drawn from the probabilities in `truth.py`.

The same seed and `today` give identical output; nothing reads the clock.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

import numpy as np

from locales import get_market, market_currency, market_language

from . import names, truth

TRIAL_DAYS = 14
HISTORY_DAYS = 270          # trial starts spread over the last ~9 months
HOLDOUT_SHARE = 0.15
SURVEY_SHARE = 0.60
CONVERSION_HORIZON_DAYS = 120  # a purchase later than this after the trial end does not count
MARKET_SHARES = {"PL": 0.40, "TR": 0.35, "IN": 0.25}
# monthly turnover: PLN per unit; TRY and INR scaled by rough purchasing parity
CURRENCY_SCALE = {"PL": 1.0, "TR": 7.5, "IN": 20.0}

PERSONA_SHARES = {
    "PL": {"first_steps": .22, "side_project": .18, "offline_to_online": .17, "marketplace_seller": .14,
           "global_seller": .06, "ecommerce_pro": .08, "growing_seller": .15},
    "TR": {"first_steps": .18, "side_project": .15, "offline_to_online": .17, "marketplace_seller": .22,
           "global_seller": .06, "ecommerce_pro": .08, "growing_seller": .14},
    "IN": {"first_steps": .17, "side_project": .15, "offline_to_online": .14, "marketplace_seller": .14,
           "global_seller": .20, "ecommerce_pro": .07, "growing_seller": .13},
}
# a latent engagement: how actively the merchant builds the trial shop (mean by persona)
ENGAGEMENT = {"first_steps": -0.45, "side_project": -0.25, "offline_to_online": -0.1,
              "marketplace_seller": 0.25, "global_seller": 0.2, "ecommerce_pro": 0.7,
              "growing_seller": 0.15}
PAYMENTS = {"PL": ["blik", "przelewy24", "payu", "tpay"], "TR": ["iyzico", "paytr", "param"],
            "IN": ["razorpay", "upi", "payu_india", "cashfree"]}
SHIPPING = {"PL": ["inpost", "dpd", "poczta_polska"], "TR": ["yurtici", "aras", "ptt"],
            "IN": ["shiprocket", "delhivery", "india_post"]}
MARKETPLACES = {"PL": ["allegro", "ceneo", "amazon"], "TR": ["trendyol", "hepsiburada", "n11"],
                "IN": ["amazon_in", "flipkart", "meesho"]}
INVOICING = {"PL": ["fakturownia", "wfirma", "infakt"], "TR": ["parasut", "logo"], "IN": ["zoho_books", "tally"]}
LEGAL_PAGES = {"PL": ["terms", "privacy"], "TR": ["terms", "privacy"], "IN": ["terms", "privacy", "refund"]}
TLD = {"PL": ".pl", "TR": ".com.tr", "IN": ".in"}
MAIL_DOMAINS = {"PL": ["gmail.com", "wp.pl", "onet.pl", "o2.pl"], "TR": ["gmail.com", "hotmail.com", "yandex.com.tr"],
                "IN": ["gmail.com", "yahoo.co.in", "rediffmail.com"]}
TOPICS = ["store_setup", "product_photos", "payments", "shipping", "marketing", "seo", "legal",
          "marketplaces", "international", "invoicing"]
PLANS = ["basic", "standard", "pro"]


@dataclass(slots=True)
class DemoEvent:
    """A trial-shop webhook event (the envelope `concierge ingest events` reads)."""

    id: str
    shop: str
    type: str
    occurred_at: datetime
    data: dict[str, Any]

    def envelope(self) -> dict[str, Any]:
        return {"id": self.id, "shop": self.shop, "type": self.type,
                "occurred_at": self.occurred_at.isoformat(), "data": self.data}


@dataclass
class DemoAnswers:
    """A batch of answers from one source (a survey response or a call) at one moment."""

    source: str
    actor: str
    at: datetime
    answers: dict[str, Any]
    reference: str | None = None


@dataclass
class DemoShop:
    index: int
    platform_id: str
    market: str
    persona: str
    shop_name: str
    owner_name: str
    email: str
    phone: str
    language: str
    trial_started_at: datetime
    trial_ends_at: datetime
    holdout: bool
    attributes: dict[str, Any]          # the merchant as they really are (the truth's inputs)
    snapshot: dict[str, float]          # the trial at the snapshot day
    events: list[DemoEvent] = field(default_factory=list)
    survey: DemoAnswers | None = None
    call: DemoAnswers | None = None
    p_no_call: float = 0.0
    p_call: float = 0.0
    called: bool = False
    converts: bool | None = None        # eventual outcome (None: the trial is still open)
    # what the call changed in that outcome: +1 it won the shop, -1 it lost it, 0 neither (one
    # draw decides with and without the call, so the generator knows both); 0 when not called or open
    call_effect: int = 0
    outcome: str | None = None          # as known on `today`
    outcome_at: datetime | None = None

    def record(self) -> dict[str, Any]:
        """Everything about the shop as plain data (what the determinism test compares)."""
        return {
            "platform_id": self.platform_id, "market": self.market, "persona": self.persona,
            "shop_name": self.shop_name, "owner_name": self.owner_name, "email": self.email,
            "phone": self.phone, "trial_started_at": self.trial_started_at.isoformat(),
            "holdout": self.holdout, "p_no_call": round(self.p_no_call, 12),
            "p_call": round(self.p_call, 12), "called": self.called, "outcome": self.outcome,
            "events": [e.envelope() for e in self.events],
            "survey": None if self.survey is None else self.survey.answers,
            "call": None if self.call is None else self.call.answers,
        }


@dataclass
class Population:
    seed: int
    today: date
    snapshot_day: int
    shops: list[DemoShop]

    def summary(self) -> dict[str, Any]:
        """Counts a person checks first: shops per market, conversion, holdout, calls."""
        by_market: dict[str, int] = {m: 0 for m in MARKET_SHARES}
        finished = converted = 0
        for s in self.shops:
            by_market[s.market] += 1
            if s.outcome is not None:
                finished += 1
                converted += s.outcome == "converted"
        n = len(self.shops) or 1
        return {
            "shops": len(self.shops), "by_market": by_market, "seed": self.seed,
            "today": self.today.isoformat(), "finished_trials": finished,
            "converted": converted,
            "conversion_rate": round(converted / finished, 4) if finished else None,
            "holdout_share": round(sum(s.holdout for s in self.shops) / n, 4),
            "called_share": round(sum(s.called for s in self.shops) / n, 4),
            "survey_share": round(sum(s.survey is not None for s in self.shops) / n, 4),
            "events": sum(len(s.events) for s in self.shops),
        }


def _utc(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=timezone.utc)


def _event_id(shop: str, n: int) -> str:
    return f"evt-{shop}-{n:03d}"


def _phone(rnd: random.Random, market: str) -> str:
    """A valid mobile number for the market, E.164 (PL 5xx-8xx, TR 5xx, IN 6-9xxxxxxxxx)."""
    if market == "PL":
        return f"+48{rnd.choice(_PL_MOBILE)}{rnd.randrange(10**7):07d}"
    if market == "TR":
        # Turkcell 53x, Vodafone 54x, Türk Telekom 50x/55x
        return f"+90{rnd.choice(_TR_MOBILE)}{rnd.randrange(10**7):07d}"
    return f"+91{rnd.choice(_IN_MOBILE)}{rnd.randrange(10**7):07d}"


# mobile ranges in libphonenumber's metadata (every number behind these prefixes is a valid mobile)
_TR_MOBILE = ["530", "532", "533", "535", "536", "542", "543", "544", "505", "506", "551", "552"]  # Turkcell, Vodafone, Türk Telekom
_PL_MOBILE = ["50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"]
_IN_MOBILE = ["600", "606", "616", "628", "638", "650", "687", "693", "699", "705", "735", "797", "809",
              "860", "890", "900", "906", "912", "918", "924", "930", "936", "942", "948", "954", "960",
              "966", "972", "978", "984", "990", "996"]


def _owner(rnd: random.Random, market: str) -> tuple[str, str]:
    gender = rnd.choice("fm")
    first = rnd.choice(names.FIRST_NAMES[market][gender])
    last = rnd.choice(names.LAST_NAMES[market])
    if market == "PL" and gender == "f":
        last = names.feminine(last)
    return first, last


@dataclass(frozen=True, kw_only=True)
class _Persona:
    """How a persona's first answers are drawn, field by field in this order (the order of the
    draws fixes a seed's data). A list: one of its items (`rnd.choice`: an item listed twice is
    twice as likely); a (low, high) pair: a whole number from low to high (`rnd.randint`);
    anything else: that answer itself, nothing drawn."""

    life_situation: list[str]
    hours: list[int] | tuple[int, int]
    sold_before: float | bool  # the chance of having sold before (`r() < chance`), or True: all have
    years: Any  # years of selling, for those who sold before (else None)
    # where those who sold before sell (else nowhere): all on `platforms`, then a sample of
    # `other_platforms` = (pool, fewest, most), as many as a whole number from fewest to most
    platforms: tuple[str, ...] = ()
    other_platforms: tuple[list[str], int, int] | None = None
    tech: list[int]
    type: list[str] | str
    catalogue: tuple[int, int]
    band: list[int] | int


_PERSONAS = {
    "first_steps": _Persona(
        life_situation=["parental_leave", "parental_leave", "employed_full_time", "student", "between_jobs"],
        hours=[2, 3, 4, 4, 5, 6, 8, 10, 12, 15], sold_before=0.15, years=0.5, platforms=("social_media",),
        tech=[1, 2, 2, 3], type=["new_brand", "handmade", "handmade"], catalogue=(3, 40), band=0),
    "side_project": _Persona(
        life_situation=["employed_full_time", "employed_full_time", "employed_part_time", "student"],
        hours=(6, 20), sold_before=True, years=[1, 1.5, 2, 3],
        other_platforms=(["social_media", "etsy", "own_website"], 1, 2),
        tech=[3, 3, 4], type=["handmade", "new_brand", "reseller"], catalogue=(10, 120), band=[0, 1]),
    "offline_to_online": _Persona(
        life_situation=["business_owner", "business_owner", "self_employed"],
        hours=(8, 30), sold_before=0.3, years=[0.5, 1], platforms=("social_media",),
        tech=[1, 2, 2, 3, 3, 4], type="offline_store", catalogue=(20, 400), band=[1, 1, 2]),
    "marketplace_seller": _Persona(
        life_situation=["self_employed", "self_employed", "employed_part_time"],
        hours=(15, 38), sold_before=True, years=[1, 2, 3, 4, 6],
        platforms=("marketplace",), other_platforms=(["social_media", "own_website", "woocommerce"], 0, 1),
        tech=[3, 4, 4], type=["reseller", "new_brand", "manufacturer"], catalogue=(30, 1500), band=[1, 2, 2, 3]),
    "global_seller": _Persona(
        life_situation=["self_employed", "self_employed", "employed_part_time"],
        hours=(15, 38), sold_before=True, years=[1, 2, 3, 5],
        other_platforms=(["etsy", "shopify", "own_website", "social_media"], 1, 2),
        tech=[3, 4, 4, 5], type=["handmade", "new_brand", "manufacturer"], catalogue=(15, 500), band=[1, 2, 2, 3]),
    "ecommerce_pro": _Persona(
        life_situation=["self_employed", "business_owner", "employed_full_time"],
        hours=(40, 60), sold_before=True, years=(3, 12),
        other_platforms=(["shopify", "woocommerce", "prestashop", "marketplace", "own_website"], 2, 3),
        tech=[4, 5, 5], type=["online_store", "manufacturer", "reseller", "new_brand"], catalogue=(200, 5000),
        band=[3, 3, 4]),
    "growing_seller": _Persona(
        life_situation=["self_employed", "employed_part_time", "self_employed"],
        hours=(21, 38), sold_before=True, years=[1, 2, 3, 4],
        other_platforms=(["social_media", "woocommerce", "own_website", "etsy"], 1, 2),
        tech=[3, 3, 4], type=["new_brand", "online_store", "reseller", "handmade"], catalogue=(20, 600),
        band=[1, 2, 2]),
}


def _draw(rnd: random.Random, how: Any) -> Any:
    """One of a list's items, a whole number in a (low, high) pair, or `how` itself (nothing drawn)."""
    if isinstance(how, list):
        return rnd.choice(how)
    if isinstance(how, tuple):
        return rnd.randint(*how)
    return how


def _persona_attributes(rnd: random.Random, market: str, persona: str) -> dict[str, Any]:
    """Answers consistent with who the merchant is."""
    r = rnd.random
    p = _PERSONAS.get(persona, _PERSONAS["growing_seller"])
    a: dict[str, Any] = {}
    a["life_situation"] = rnd.choice(p.life_situation)
    a["hours"] = _draw(rnd, p.hours)
    a["sold_before"] = p.sold_before is True or r() < p.sold_before
    a["years"] = _draw(rnd, p.years) if a["sold_before"] else None
    platforms: list[str] = []
    if a["sold_before"]:
        platforms = list(p.platforms)
        if p.other_platforms:
            pool, fewest, most = p.other_platforms
            platforms += rnd.sample(pool, rnd.randint(fewest, most))
    a["platforms"] = platforms
    a["tech"] = rnd.choice(p.tech)
    a["type"] = _draw(rnd, p.type)
    a["catalogue"] = rnd.randint(*p.catalogue)
    a["band"] = _draw(rnd, p.band)
    abroad_base = {"PL": 0.05, "TR": 0.07, "IN": 0.22}[market]
    a["sells_abroad"] = persona == "global_seller" or (persona not in ("first_steps", "offline_to_online") and r() < abroad_base)
    a["on_marketplace"] = persona == "marketplace_seller" or (persona == "ecommerce_pro" and r() < 0.5)
    a["marketplaces"] = rnd.sample(MARKETPLACES[market], rnd.randint(1, 2)) if a["on_marketplace"] else []
    a["category"] = rnd.choice(["fashion", "beauty", "home_garden", "electronics", "food", "kids",
                                "sports", "crafts", "health", "other"])
    if a["type"] == "handmade" and r() < 0.6:
        a["category"] = "crafts"
    a["model"] = "b2c" if persona != "ecommerce_pro" and r() < 0.8 else rnd.choice(["b2b", "both", "b2c"])
    channels = ["own_shop"]
    if a["type"] == "offline_store":
        channels.append("physical_store")
    if a["on_marketplace"]:
        channels.append("marketplaces")
    if r() < 0.55:
        channels.append("social_media")
    if a["model"] != "b2c" and r() < 0.5:
        channels.append("wholesale")
    a["channels"] = channels
    a["company_registered"] = persona in ("offline_to_online", "ecommerce_pro") or r() < 0.45
    # monthly turnover inside the band (PLN bounds, scaled to the market's currency)
    lo, hi = [(300, 4000), (4000, 40000), (40000, 400000), (400000, 4000000), (4000000, 12000000)][a["band"]]
    amount = math.exp(rnd.uniform(math.log(lo), math.log(hi))) * CURRENCY_SCALE[market]
    a["turnover"] = int(round(amount, -2 if amount > 1000 else 0))
    a["help_with"] = sorted(rnd.sample(TOPICS, rnd.randint(1, 3)), key=TOPICS.index)
    if persona in ("first_steps", "offline_to_online") and "store_setup" not in a["help_with"]:
        a["help_with"] = sorted(a["help_with"] + ["store_setup"], key=TOPICS.index)
    known = [t for t in TOPICS if t not in a["help_with"] and r() < (0.15 + 0.12 * a["tech"])]
    a["known_topics"] = known
    a["preferred_contact"] = rnd.choice(["phone", "phone", "email", "whatsapp" if market != "PL" else "chat"])
    a["call_time"] = rnd.choice(["morning", "afternoon", "evening", "any"])
    return a


def _trial(rnd: random.Random, shop: str, market: str, persona: str, a: dict[str, Any], engagement: float,
           start: datetime, snapshot_day: int) -> tuple[list[DemoEvent], dict[str, float]]:
    """The trial's events: milestones reached at times driven by the latent engagement."""
    events: list[tuple[datetime, str, dict[str, Any]]] = []
    speed = math.exp(engagement)

    def when(rate: float, after: float = 0.0) -> float:
        """Day the milestone happens (may fall after the trial end: not reached)."""
        return after + rnd.expovariate(rate * speed)

    day = lambda d: start + timedelta(days=d)  # noqa: E731
    t_theme = when(0.14)
    t_first_products = when(0.3)
    t_pay = when(0.05 if a["tech"] <= 2 else 0.09, after=min(t_first_products, 6))
    t_ship = when(0.12, after=t_pay * 0.8)
    t_legal = when(0.035, after=1.0)
    t_domain = when(0.008 if a["band"] <= 1 else 0.04)
    t_test = when(0.2, after=max(t_pay, t_first_products))
    if persona == "ecommerce_pro":
        t_first_products = rnd.uniform(0.05, 2.0)   # a catalogue import, not typing
    # product sessions: a catalogue built a few products at a time, up to the intended size
    products_by_day: list[tuple[float, int]] = []
    total = 0
    target = a["catalogue"]
    t = t_first_products
    while t < TRIAL_DAYS and total < target:
        if persona == "ecommerce_pro" and total == 0:
            k = max(1, int(target * rnd.uniform(0.3, 1.0)))
        else:
            k = max(1, int(rnd.expovariate(1 / max(2.0 + 2.5 * speed, target / 8))))
        k = min(k, target - total)
        total += k
        products_by_day.append((t, k))
        t += rnd.expovariate(0.5 * speed)
    for t, k in products_by_day:
        events.append((day(t), "product_added", {"count": k}))
    if t_theme < TRIAL_DAYS:
        events.append((day(t_theme), "theme_published", {}))
    t_details = when(0.5)
    if t_details < TRIAL_DAYS:
        events.append((day(t_details), "store_details_completed", {}))
    pay_provider = None
    if t_pay < TRIAL_DAYS:
        pay_provider = rnd.choice(PAYMENTS[market])
        events.append((day(t_pay), "payment_connected", {"provider": pay_provider}))
    abroad_pay_day = None
    if a["sells_abroad"]:
        # Indian merchants think globally: international payments straight away
        abroad_pay_day = rnd.uniform(0.1, 3.0) if market == "IN" else when(0.15, after=2.0)
        if abroad_pay_day < TRIAL_DAYS:
            intl = "razorpay_international" if market == "IN" else rnd.choice(["paypal", "stripe"])
            events.append((day(abroad_pay_day), "international_selling_enabled", {}))
            events.append((day(abroad_pay_day + 0.01), "payment_connected", {"provider": intl}))
    if t_ship < TRIAL_DAYS:
        events.append((day(t_ship), "shipping_connected", {"provider": rnd.choice(SHIPPING[market])}))
    if a["type"] == "offline_store" and t_ship < TRIAL_DAYS and rnd.random() < 0.6:
        events.append((day(t_ship + 0.01), "shipping_connected", {"provider": "pickup"}))
    if t_legal < TRIAL_DAYS:
        events.append((day(t_legal), "legal_pages_published", {"pages": list(LEGAL_PAGES[market])}))
    domain = None
    if t_domain < TRIAL_DAYS:
        domain = names.ascii_slug(a["shop_name_ascii"]).replace(".", "-")[:40] + TLD[market]
        events.append((day(t_domain), "domain_connected", {"domain": domain}))
    if a["on_marketplace"]:
        t_mp = when(0.2, after=1.0)
        if t_mp < TRIAL_DAYS:
            events.append((day(t_mp), "marketplace_connected", {"marketplace": a["marketplaces"][0]}))
    if a["company_registered"]:
        t_inv = when(0.08, after=2.0)
        if t_inv < TRIAL_DAYS:
            events.append((day(t_inv), "invoicing_connected", {"provider": rnd.choice(INVOICING[market])}))
    t_mkt = when(0.03, after=2.0)
    if t_mkt < TRIAL_DAYS:
        events.append((day(t_mkt), "marketing_connected", {"channel": rnd.choice(["meta_ads", "google_merchant", "newsletter"])}))
    if t_test < TRIAL_DAYS and pay_provider is not None:
        events.append((day(t_test), "order_received", {"test": True, "order_id": f"T{rnd.randint(1000, 9999)}"}))
        t_real = when(0.1, after=max(t_test, 7.0))
        for _ in range(3):  # the first real orders, in the second week
            if t_real >= TRIAL_DAYS:
                break
            events.append((day(t_real), "order_received", {"test": False, "order_id": f"O{rnd.randint(10000, 99999)}"}))
            t_real = when(0.3, after=t_real)
    events.sort(key=lambda e: e[0])
    trial_started = (start, "trial_started", {})
    out = [trial_started] + events
    snap = start + timedelta(days=snapshot_day)
    seen: set[str] = set()
    days: set[int] = set()
    products = 0
    for t_, typ, d in events:
        if t_ > snap:
            continue
        seen.add(typ)
        days.add(int((t_ - start).total_seconds() // 86400))
        if typ == "product_added":
            products += d["count"]
    snapshot = {
        "products": float(products),
        "payments": float("payment_connected" in seen),
        "shipping": float("shipping_connected" in seen),
        "legal": float("legal_pages_published" in seen),
        "domain": float("domain_connected" in seen),
        "test_order": float("order_received" in seen),
        "theme": float("theme_published" in seen),
        "active_days": float(len(days)),
    }
    return [DemoEvent(_event_id(shop, i), shop, typ, t_, d) for i, (t_, typ, d) in enumerate(out)], snapshot


def _survey_answers(rnd: random.Random, s: DemoShop, a: dict[str, Any]) -> dict[str, Any]:
    """What the merchant tells the online survey: self-reported, so a little off at times."""
    m = s.market
    hours = a["hours"]
    if rnd.random() < 0.35:  # people round, and hope
        hours = max(1, min(100, int(5 * round((hours + rnd.choice([-3, 2, 4, 6])) / 5)) or 2))
    tech = a["tech"]
    if rnd.random() < 0.2:
        tech = min(5, tech + 1)
    ans: dict[str, Any] = {
        "owner.name": s.owner_name,
        "owner.email": s.email,
        "owner.phone": s.phone,
        "owner.language": s.language,
        "owner.life_situation": a["life_situation"],
        "owner.hours_per_week": hours,
        "owner.marketing_consent": rnd.random() < 0.7,
        "experience.sold_online_before": a["sold_before"],
        "experience.tech_comfort": tech,
        "experience.known_topics": a["known_topics"],
        "needs.help_with": a["help_with"],
        "needs.preferred_contact": a["preferred_contact"],
        **_business_answers(a),
        **_follow_up_answers(a),
    }
    if a["preferred_contact"] in ("phone", "whatsapp"):
        ans["needs.preferred_call_time"] = a["call_time"]
    if rnd.random() < 0.8:
        ans["business.catalogue_size"] = a["catalogue"]
    if rnd.random() < 0.7:
        optimism = rnd.choice([1.0, 1.0, 1.5, 2.0])
        ans["business.expected_monthly_turnover"] = {"amount": int(a["turnover"] * optimism), "currency": market_currency(m)}
    if rnd.random() < 0.3:
        ans["needs.main_goal"] = rnd.choice(names.MAIN_GOALS[m])
    if m == "PL":
        ans["readiness.ksef_ready"] = a["company_registered"] and rnd.random() < 0.4
    elif m == "TR":
        ans["owner.is_trader"] = a["company_registered"]
        ans["readiness.etbis_registered"] = a["company_registered"] and rnd.random() < 0.5
    else:
        ans["readiness.gst_registered"] = a["company_registered"] and rnd.random() < 0.6
    return ans


def _call_answers(rnd: random.Random, s: DemoShop, a: dict[str, Any], surveyed: bool) -> dict[str, Any]:
    """What the consultant records on the call: the true values, the full interview if no survey."""
    ans: dict[str, Any] = {
        "owner.hours_per_week": a["hours"],
        "owner.life_situation": a["life_situation"],
        "experience.tech_comfort": a["tech"],
        "needs.help_with": a["help_with"],
        "business.catalogue_size": a["catalogue"],
        "business.expected_monthly_turnover": {"amount": a["turnover"], "currency": market_currency(s.market)},
        "needs.main_goal": rnd.choice(names.MAIN_GOALS[s.market]),
    }
    if not surveyed:
        ans.update({
            "owner.name": s.owner_name, "owner.language": s.language,
            "experience.sold_online_before": a["sold_before"],
            **_business_answers(a),
            "needs.preferred_contact": a["preferred_contact"],
            **_follow_up_answers(a),
        })
    return ans


def _business_answers(a: dict[str, Any]) -> dict[str, Any]:
    """The business facts as the merchant gives them (survey) or tells the consultant (call)."""
    return {"business.type": a["type"], "business.category": a["category"], "business.model": a["model"],
            "business.channels": a["channels"], "business.sells_on_marketplace": a["on_marketplace"],
            "business.sells_abroad": a["sells_abroad"], "business.company_registered": a["company_registered"]}


def _follow_up_answers(a: dict[str, Any]) -> dict[str, Any]:
    """The follow-ups the merchant's answers call for: platforms and years if they sold online, marketplaces."""
    ans: dict[str, Any] = {}
    if a["sold_before"]:
        ans["experience.platforms"] = a["platforms"]
        ans["experience.years_selling_online"] = a["years"]
    if a["on_marketplace"]:
        ans["business.marketplaces"] = a["marketplaces"]
    return ans


def _purchase_delay_days(rnd: random.Random, market: str) -> float:
    """Days from the trial end to the purchase (negative: bought during the trial)."""
    if market == "TR":   # decide fast: within about two days of the end
        return rnd.uniform(-2.0, 2.5)
    if market == "IN":
        return rnd.expovariate(1 / 3.0) - 1.0
    # PL deliberates: a median of ~10 days, weeks or months for some
    return min(rnd.lognormvariate(math.log(10.0), 1.0), CONVERSION_HORIZON_DAYS) - 0.5


def _first_draws(n_shops: int, seed: int) -> tuple[np.random.Generator, np.ndarray, np.ndarray, np.ndarray]:
    """The population's first draws (markets, per-shop seeds, start offsets), in `generate`'s order."""
    rng = np.random.Generator(np.random.PCG64(seed))
    markets = rng.choice(list(MARKET_SHARES), size=n_shops, p=list(MARKET_SHARES.values()))
    shop_seeds = rng.integers(0, 2**63 - 1, size=n_shops, dtype=np.int64)
    start_offsets = rng.uniform(0, HISTORY_DAYS, size=n_shops)
    return rng, markets, shop_seeds, start_offsets


def shop_index(platform_id: str) -> int | None:
    """The position of a demo shop in its population (`pl-000123` -> 123), None for other ids."""
    head, _, tail = platform_id.partition("-")
    return int(tail) if head.upper() in MARKET_SHARES and tail.isdigit() and len(tail) == 6 else None


def population_today(n_shops: int, seed: int, platform_id: str, trial_started_at: datetime) -> date | None:
    """The `today` a population of (n_shops, seed) was drawn for, from one of its shops' start.

    Trial starts are `today - offset` (to the second), so the start plus its offset is
    `today`'s midnight; None when the shop cannot belong to such a population.
    """
    i = shop_index(platform_id)
    if i is None or i >= n_shops:
        return None
    _, markets, _, offsets = _first_draws(n_shops, seed)
    if str(markets[i]).lower() != platform_id.split("-")[0].lower():
        return None
    at = trial_started_at if trial_started_at.tzinfo else trial_started_at.replace(tzinfo=timezone.utc)
    end = at + timedelta(days=float(offsets[i]))
    day = (end + timedelta(hours=12)).date()
    return day if abs((end - _utc(day)).total_seconds()) < 2 else None


def generate(
    n_shops: int = 600,
    *,
    seed: int = 7,
    today: date,
    snapshot_day: int = truth.SNAPSHOT_DAY,
    progress: Callable[[int], None] | None = None,
) -> Population:
    """Draw a population of `n_shops` trials ending around `today`; deterministic in (seed, today)."""
    if n_shops < 0:
        raise ValueError("n_shops must be >= 0")
    rng, markets, shop_seeds, start_offsets = _first_draws(n_shops, seed)
    holdout = rng.random(n_shops) < HOLDOUT_SHARE
    surveyed = rng.random(n_shops) < SURVEY_SHARE
    noise_eng = rng.normal(0.0, 0.8, size=n_shops)
    today_dt = _utc(today)
    shops: list[DemoShop] = []
    for i in range(n_shops):
        rnd = random.Random(int(shop_seeds[i]))
        market = str(markets[i])
        persona = rnd.choices(list(PERSONA_SHARES[market]), weights=list(PERSONA_SHARES[market].values()))[0]
        a = _persona_attributes(rnd, market, persona)
        first, last = _owner(rnd, market)
        owner = f"{first} {last}"
        word = rnd.choice(names.SHOP_WORDS[market][a["category"]])
        shop_name = word if rnd.random() < 0.5 else (f"{word} {first}" if market != "IN" else f"{first}'s {word}")
        a["shop_name_ascii"] = names.ascii_slug(f"{word} {last}") or f"shop{i}"
        pid = f"{market.lower()}-{i:06d}"
        mail_user = names.ascii_slug(owner) + (str(rnd.randint(1, 99)) if rnd.random() < 0.4 else "")
        email = f"{mail_user}@{rnd.choice(MAIL_DOMAINS[market])}"
        start = today_dt - timedelta(days=float(start_offsets[i]))
        start = start.replace(microsecond=0) + timedelta(hours=0)
        engagement = ENGAGEMENT[persona] + 0.02 * (a["hours"] - 20) + 0.25 * (a["tech"] - 3) + float(noise_eng[i])
        events, snap = _trial(rnd, pid, market, persona, a, engagement, start, snapshot_day)
        phone = _phone(rnd, market)
        language = market_language(market) if market != "IN" or rnd.random() < 0.8 else "hi"
        events[0].data = {"market": market, "shop_name": shop_name, "language": language,
                          "trial_ends_at": (start + timedelta(days=TRIAL_DAYS)).isoformat(),
                          "owner": {"name": owner, "email": email, "phone": phone}}
        shop = DemoShop(
            index=i, platform_id=pid, market=market, persona=persona, shop_name=shop_name,
            owner_name=owner, email=email, phone=phone, language=language,
            trial_started_at=start, trial_ends_at=start + timedelta(days=TRIAL_DAYS),
            holdout=bool(holdout[i]), attributes=a, snapshot=snap, events=events,
        )
        if surveyed[i]:
            # sent at sign-up: most answer in the first days, before the snapshot
            at = start + timedelta(days=min(rnd.expovariate(1 / 1.5), TRIAL_DAYS - 0.5))
            shop.survey = DemoAnswers("survey", "merchant", at.replace(microsecond=0), _survey_answers(rnd, shop, a),
                                      reference=f"svy-{pid}")
        shops.append(shop)
        if progress is not None and (i + 1) % 1000 == 0:
            progress(1000)
    _draw_truth(rng, shops, today_dt, snapshot_day)
    if progress is not None and n_shops % 1000:
        progress(n_shops % 1000)
    return Population(seed=seed, today=today, snapshot_day=snapshot_day, shops=shops)


def truth_inputs(shops: list[DemoShop]) -> dict[str, np.ndarray]:
    """The truth's inputs for each shop, as arrays (see truth.base_logit)."""
    return {
        "market": np.array([s.market for s in shops]),
        "hours": np.array([s.attributes["hours"] for s in shops], dtype=float),
        "sold_before": np.array([s.attributes["sold_before"] for s in shops], dtype=bool),
        "tech": np.array([s.attributes["tech"] for s in shops], dtype=float),
        "catalogue": np.array([s.attributes["catalogue"] for s in shops], dtype=float),
        "sells_abroad": np.array([s.attributes["sells_abroad"] for s in shops], dtype=bool),
        "turnover_band_idx": np.array([s.attributes["band"] for s in shops], dtype=float),
        **{k: np.array([s.snapshot[k] for s in shops], dtype=float)
           for k in ("products", "payments", "shipping", "legal", "domain", "test_order", "theme", "active_days")},
    }


def call_chance(x: dict[str, np.ndarray], surveyed: np.ndarray) -> np.ndarray:
    """The call policy: the chance consultants call a shop outside the holdout after the snapshot.

    They pick whom to call from what they can see at the snapshot (selection, not chance):
    an answered survey, a large expected turnover, products added, payments not connected
    yet, and the market.
    """
    market = x["market"]
    call_logit = (0.1 + 0.9 * surveyed + 0.5 * (x["turnover_band_idx"] >= 3) + 0.4 * (x["products"] >= 1)
                  - 0.3 * x["payments"] + np.where(market == "TR", 0.3, np.where(market == "IN", -0.2, 0.0)))
    return truth.sigmoid(call_logit)


def _surveyed_by_snapshot(shops: list[DemoShop], snapshot_day: int) -> np.ndarray:
    return np.array([s.survey is not None and s.survey.at <= s.trial_started_at + timedelta(days=snapshot_day)
                     for s in shops])


def policy_chances(pop: Population) -> dict[str, float]:
    """Each shop's chance of a call under the policy, not knowing whether it is in the holdout.

    `(1 - HOLDOUT_SHARE) * call_chance`: the holdout is drawn at random, so a score that
    cannot know whether a call will follow cannot know the holdout either. With it, the
    true chance a score users see should match is `P(call) p_call + (1 - P(call)) p_no_call`
    (see `policy_oracle`).
    """
    if not pop.shops:
        return {}
    chance = (1.0 - HOLDOUT_SHARE) * call_chance(truth_inputs(pop.shops),
                                                 _surveyed_by_snapshot(pop.shops, pop.snapshot_day))
    return {s.platform_id: float(c) for s, c in zip(pop.shops, chance)}


def policy_oracle(p_call: float, p_no_call: float, chance_of_call: float) -> float:
    """The true chance averaged over the call policy: what a score blind to the call can reach."""
    return chance_of_call * p_call + (1.0 - chance_of_call) * p_no_call


def _draw_truth(rng: np.random.Generator, shops: list[DemoShop], today: datetime, snapshot_day: int) -> None:
    """Probabilities, who gets called, the unseen effect and the outcome; then the late events."""
    n = len(shops)
    if n == 0:
        return
    x = truth_inputs(shops)
    persona = np.array([s.persona for s in shops])
    L, tau, p0, p1 = truth.probabilities(x, persona)
    # consultants pick whom to call from what they can see at the snapshot (selection, not chance)
    surveyed = _surveyed_by_snapshot(shops, snapshot_day)
    holdout = np.array([s.holdout for s in shops])
    wants_call = (~holdout) & (rng.random(n) < call_chance(x, surveyed))
    call_day = rng.uniform(snapshot_day + 0.25, 13.5, size=n)
    u = rng.normal(0.0, truth.NOISE_SD, size=n)
    draw = rng.random(n)
    late_seeds = rng.integers(0, 2**63 - 1, size=n, dtype=np.int64)
    q = truth.sigmoid(L + u)  # the shop's own probability, with the effect nobody sees
    q_called = truth.with_call(q, tau)
    for i, s in enumerate(shops):
        rnd = random.Random(int(late_seeds[i]))
        s.p_no_call, s.p_call = float(p0[i]), float(p1[i])
        call_at = (s.trial_started_at + timedelta(days=float(call_day[i]))).replace(microsecond=0)
        s.called = bool(wants_call[i]) and call_at <= today
        if s.called:
            actor = rnd.choice(names.CONSULTANTS[s.market])
            s.call = DemoAnswers("call", actor, call_at, _call_answers(rnd, s, s.attributes, s.survey is not None))
        if s.survey is not None and s.survey.at > today:
            s.survey = None
        converts = draw[i] < q_called[i] if s.called else draw[i] < q[i]
        n_events = len(s.events)
        late: list[tuple[datetime, str, dict[str, Any]]] = []
        if s.trial_ends_at <= today:
            s.converts = bool(converts)
            if s.called:
                s.call_effect = int(converts) - int(draw[i] < q[i])
            if converts:
                bought = s.trial_ends_at + timedelta(days=_purchase_delay_days(rnd, s.market))
                bought = max(bought, s.trial_started_at + timedelta(days=snapshot_day + 1)).replace(microsecond=0)
                if bought <= today:
                    late.append((bought, "plan_purchased", {"plan": rnd.choice(PLANS)}))
                    open_delay = {"TR": rnd.uniform(0.0, 2.0), "IN": rnd.uniform(0.0, 3.0)}.get(s.market, rnd.uniform(0.0, 10.0))
                    opened = bought + timedelta(days=open_delay)
                    if opened <= today:
                        late.append((opened.replace(microsecond=0), "shop_opened", {}))
                    s.outcome, s.outcome_at = "converted", bought
                converted_by_end = bought <= s.trial_ends_at
            else:
                converted_by_end = False
            late.append((s.trial_ends_at, "trial_ended", {"converted": converted_by_end}))
            if s.outcome is None:
                s.outcome, s.outcome_at = "not_converted", s.trial_ends_at
        evs = [e for e in s.events if e.occurred_at <= today]
        for j, (t, typ, d) in enumerate(sorted(late, key=lambda e: e[0])):
            if t <= today:
                evs.append(DemoEvent(_event_id(s.platform_id, n_events + j), s.platform_id, typ, t, d))
        evs.sort(key=lambda e: (e.occurred_at, e.id))
        s.events = evs


@dataclass(frozen=True)
class GainTruth:
    """The true gain from calls in the gain report's own terms (reports.lift)."""
    expected: float   # mean over the call arm of called x (p_call - p_no_call)
    realized: float   # the conversions the calls added (call_effect), per call-arm trial
    trials: int       # the call arm's trials counted


def call_gain_truth(shops: list[DemoShop], now: datetime) -> GainTruth | None:
    """What the gain report (reports.lift) should find, over the call arm's trials whose
    decision window has passed by `now` (None when there are none).

    `expected` is the effect the probabilities promise; `realized` counts what the calls did
    to these very shops (`call_effect`): a shop the call won counts when it bought inside the
    window, as the report counts a conversion; a shop the call lost counts whole. The report's
    interval is for the realized figure (the arms are random, the outcomes as they fell); the
    expected one moves from it by the outcomes' own chance (about 0.2 points at 20k shops).
    """
    expected: list[float] = []
    realized: list[int] = []
    for s in shops:
        window = timedelta(days=get_market(s.market).decision_window_days)
        if s.holdout or s.trial_ends_at > now - window:
            continue
        expected.append(s.called * (s.p_call - s.p_no_call))
        won = s.outcome == "converted" and s.outcome_at is not None and s.outcome_at - s.trial_ends_at <= window
        realized.append(s.call_effect if s.call_effect < 0 or won else 0)
    if not expected:
        return None
    return GainTruth(math.fsum(expected) / len(expected), sum(realized) / len(realized), len(expected))


def population_digest(pop: Population) -> str:
    """A short fingerprint of everything generated (for determinism checks)."""
    import json

    h = hashlib.sha256()
    for s in pop.shops:
        h.update(json.dumps(s.record(), sort_keys=True, ensure_ascii=False, default=str).encode())
    return h.hexdigest()
