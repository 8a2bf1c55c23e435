"""The per-shop profile: plain frozen dataclasses, the output of the fold."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

PICTURE_FACETS = ("owner", "experience", "needs", "business", "readiness", "features")
FEATURE_CATEGORIES = ("payments", "shipping", "marketplaces", "invoicing", "marketing", "domain")


@dataclass(frozen=True)
class Fact:
    """One source's latest word on a question."""

    value: Any
    source: str
    actor: str
    observed_at: datetime


@dataclass(frozen=True)
class ResolvedFact:
    """The value that wins (the latest), where it came from, and what other sources say."""

    key: str
    value: Any
    source: str
    actor: str
    observed_at: datetime
    alternatives: tuple[Fact, ...] = ()

    @property
    def conflict(self) -> bool:
        return bool(self.alternatives)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value, "source": self.source, "actor": self.actor,
            "observed_at": self.observed_at.isoformat(),
            "conflicts": [
                {"value": a.value, "source": a.source, "actor": a.actor,
                 "observed_at": a.observed_at.isoformat()} for a in self.alternatives
            ],
        }


@dataclass(frozen=True)
class Facet:
    name: str
    facts: Mapping[str, ResolvedFact]

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(f.source for f in self.facts.values())

    @property
    def updated_at(self) -> datetime | None:
        return max((f.observed_at for f in self.facts.values()), default=None)

    def value(self, key: str, default: Any = None) -> Any:
        f = self.facts.get(key)
        return default if f is None else f.value


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    stage: str
    done: bool | None  # None: nobody has told us yet
    source: str | None = None


@dataclass(frozen=True)
class Readiness:
    items: tuple[ChecklistItem, ...]
    percent: int
    stage: str
    first_open: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage, "percent": self.percent, "first_open": self.first_open,
            "items": [{"key": i.key, "stage": i.stage, "done": i.done, "source": i.source}
                      for i in self.items],
        }


@dataclass(frozen=True)
class Feature:
    category: str
    connected: bool | None  # None: unknown
    providers: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class BusinessSummary:
    type: str | None = None
    category: str | None = None
    model: str | None = None
    catalogue_size: int | None = None
    turnover: Mapping[str, Any] | None = None
    turnover_band: str | None = None
    channels: tuple[str, ...] = ()
    marketplaces: tuple[str, ...] = ()
    sells_abroad: bool | None = None


@dataclass(frozen=True)
class Change:
    """A question whose resolved value differs between two moments."""

    key: str
    before: Any
    after: Any
    source: str | None
    observed_at: datetime | None


@dataclass(frozen=True)
class Profile:
    shop: str
    market: str | None
    language: str | None
    as_of: datetime | None
    facts: Mapping[str, ResolvedFact]
    facets: Mapping[str, Facet]
    experience_level: str | None
    persona: str | None
    needs: tuple[str, ...]
    business: BusinessSummary
    readiness: Readiness
    features: Mapping[str, Feature]
    outcome: str | None
    schema_version: int = 1
    observation_count: int = 0
    conflicts: tuple[str, ...] = field(default=())

    def value(self, key: str, default: Any = None) -> Any:
        f = self.facts.get(key)
        return default if f is None else f.value

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the `profile --json` contract): six facets with provenance."""
        return {
            "shop": self.shop,
            "market": self.market,
            "language": self.language,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "schema_version": self.schema_version,
            "observations": self.observation_count,
            "persona": self.persona,
            "experience_level": self.experience_level,
            "needs": list(self.needs),
            "business": {
                "type": self.business.type, "category": self.business.category,
                "model": self.business.model, "catalogue_size": self.business.catalogue_size,
                "turnover": dict(self.business.turnover) if self.business.turnover else None,
                "turnover_band": self.business.turnover_band,
                "channels": list(self.business.channels),
                "marketplaces": list(self.business.marketplaces),
                "sells_abroad": self.business.sells_abroad,
            },
            "readiness": self.readiness.as_dict(),
            "features": {
                c: {"connected": f.connected, "providers": list(f.providers), "source": f.source}
                for c, f in self.features.items()
            },
            "outcome": self.outcome,
            "conflicts": list(self.conflicts),
            "facets": {
                name: {
                    "sources": sorted(facet.sources),
                    "updated_at": facet.updated_at.isoformat() if facet.updated_at else None,
                    "facts": {k: f.as_dict() for k, f in facet.facts.items()},
                }
                for name, facet in self.facets.items()
            },
        }
