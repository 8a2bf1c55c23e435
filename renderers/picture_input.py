"""``PictureInput``: the renderer's own view model of a shop, plain values only.

Why a view model of its own: the picture must not depend on how the profile is stored
or folded. ``from_profile.picture_input_from_profile`` builds one from a
``profile_schema.Profile``; tests, benchmarks and other callers build one directly.

Every field may be None, which means *unknown*: the picture then draws an outline and
"?" instead of guessing. Keys (persona, stage, category...) are the interview schema's
keys; their display labels come from ``labels.yaml`` or, for schema choices, from
``choice_labels`` (filled by the adapter from the schema).

Field keys used by ``changed``/``added`` (what changed since the last call):

``owner.name owner.language owner.hours_per_week persona experience.level
experience.known_topics needs.help_with business.type business.category
business.model business.catalogue_size business.turnover business.sells_abroad
readiness.stage readiness.percent readiness.first_open features.<category> score
next_step``
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Mapping

from locales import MARKET_CODES

STAGES = ("setting_up", "products", "payments_shipping", "legal", "ready", "launched")
FEATURE_CATEGORIES = ("payments", "shipping", "marketplaces", "invoicing", "marketing", "domain")
MARKETS = MARKET_CODES

FIELD_KEYS = (
    "owner.name", "owner.language", "owner.hours_per_week", "persona", "experience.level",
    "experience.known_topics", "needs.help_with", "business.type", "business.category",
    "business.model", "business.catalogue_size", "business.turnover", "business.sells_abroad",
    "readiness.stage", "readiness.percent", "readiness.first_open",
    *(f"features.{c}" for c in FEATURE_CATEGORIES), "score", "next_step",
)


@dataclass(frozen=True, slots=True)
class FeatureState:
    """One integration category: connected (True/False/None = unknown) and providers."""

    connected: bool | None = None
    providers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "providers", tuple(str(p) for p in (self.providers or ())))


@dataclass(frozen=True, slots=True)
class ScoreInfo:
    """Conversion likelihood: probability in [0, 1], a one-line reason, fallback flag.

    ``fallback`` is True when the number comes from rules rather than the trained model
    (the picture says so, so nobody over-trusts it).
    """

    probability: float | None = None
    reason: str | None = None
    fallback: bool = False


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        return False


@dataclass(frozen=True, slots=True)
class PictureInput:
    """Everything the picture shows. None anywhere = unknown."""

    shop_id: str | None = None
    owner_name: str | None = None
    market: str | None = None  # "PL" | "TR" | "IN"
    merchant_language: str | None = None  # "pl", "tr", "en", "hi"
    persona: str | None = None  # schema persona key, e.g. "first_steps"
    hours_per_week: float | None = None
    experience_level: str | None = None  # "none" | "beginner" | "intermediate" | "expert"
    known_topics: tuple[str, ...] | None = None  # topic keys (or free text)
    needs: tuple[str, ...] | None = None  # topic keys (or free text)
    main_goal: str | None = None  # the merchant's own words
    business_type: str | None = None
    business_category: str | None = None
    business_model: str | None = None  # "b2c" | "b2b" | "both"
    catalogue_size: int | None = None
    turnover_band: str | None = None  # "micro" ... "very_large"
    turnover_amount: float | None = None  # expected monthly turnover
    turnover_currency: str | None = None  # ISO code, e.g. "PLN"
    sells_abroad: bool | None = None
    stage: str | None = None  # one of STAGES
    percent: float | None = None  # 0-100
    first_open: str | None = None  # checklist item key, e.g. "readiness.payments_connected"
    first_open_label: str | None = None  # its label when it has no label of its own
    features: Mapping[str, FeatureState] | None = None  # category -> state
    score: ScoreInfo | None = None
    next_step: str | None = None
    # the next planned call as one line, in the reader's language and the merchant's time,
    # e.g. "Tue 1 Dec, 10:00 · The merchant asked for a call" (None: none planned, nothing drawn)
    next_call: str | None = None
    changed: frozenset[str] = field(default_factory=frozenset)  # field keys changed
    added: frozenset[str] = field(default_factory=frozenset)  # field keys newly known
    as_of: date | None = None
    last_contact: date | None = None
    # "field:choice" -> {lang: label}, for schema choices (business type, topics, providers...)
    choice_labels: Mapping[str, Mapping[str, str]] | None = None

    def __post_init__(self) -> None:
        # A number that is not a finite number is not a fact: unknown, like None.
        for name in ("hours_per_week", "catalogue_size", "turnover_amount", "percent"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not _finite(value)):
                object.__setattr__(self, name, None)
        if self.score is not None and self.score.probability is not None and not _finite(self.score.probability):
            object.__setattr__(self, "score", ScoreInfo(None, self.score.reason, self.score.fallback))
        for name in ("known_topics", "needs"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(str(v) for v in value))
        if self.features is not None:
            feats = {}
            for cat, state in dict(self.features).items():
                if not isinstance(state, FeatureState):
                    if isinstance(state, Mapping):
                        state = FeatureState(state.get("connected"), tuple(state.get("providers") or ()))
                    else:
                        connected, providers = state
                        state = FeatureState(connected, tuple(providers or ()))
                feats[str(cat)] = state
            object.__setattr__(self, "features", MappingProxyType(feats))
        object.__setattr__(self, "changed", frozenset(self.changed or ()))
        object.__setattr__(self, "added", frozenset(self.added or ()))
        if self.choice_labels is not None:
            object.__setattr__(
                self, "choice_labels",
                MappingProxyType({k: MappingProxyType(dict(v)) for k, v in self.choice_labels.items()}),
            )

    def feature(self, category: str) -> FeatureState:
        """The state of ``category`` (unknown when absent)."""
        if self.features is None:
            return FeatureState()
        return self.features.get(category) or FeatureState()

    def mark(self, key: str) -> str | None:
        """"new" / "changed" when ``key`` changed since the last call, else None."""
        if key in self.added:
            return "new"
        if key in self.changed:
            return "changed"
        return None
