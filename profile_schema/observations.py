"""Observations: the append-only facts every profile is folded from."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

SOURCES = ("call", "survey", "trial", "import")
# set: the value replaces what was known; add/remove: a multi-choice gains or loses items;
# increment: a number grows by the value (trial counters such as products added).
OPS = ("set", "add", "remove", "increment")


@dataclass(frozen=True, slots=True)
class Observation:
    """One fact: who said what about which shop, from which source, when, under which schema."""

    shop: str
    question: str
    value: Any
    source: str
    actor: str
    observed_at: datetime
    schema_version: int = 1
    op: str = "set"
    seq: int = 0  # tie-breaker for equal times (the database id)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown source {self.source!r}")
        if self.op not in OPS:
            raise ValueError(f"unknown op {self.op!r}")
        if not isinstance(self.observed_at, datetime):
            raise TypeError(f"observed_at must be a datetime, not {type(self.observed_at).__name__}")
        if self.observed_at.utcoffset() is None:
            raise ValueError("observed_at must be timezone-aware")
