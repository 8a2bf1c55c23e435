"""What the planner needs to know about one shop, read once from its history.

``shop_facts`` walks a shop's observations once (plus its folded profile) and keeps only
what the rules look at: the stage and when the checklist last moved, what was
connected and then disconnected, the last trial activity, the merchant's own request
for help, consent and preferred hours, the score and its drop, and the agenda's
ingredients. The result is a small frozen value that the shell stores per shop
(``as_dict``/``from_dict``), so a full plan re-evaluates every shop without replaying
any history.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Iterable, Mapping

import locales

__all__ = ["ShopFacts", "shop_facts", "market_integration_gaps", "FACTS_VERSION"]

#: Bump when ShopFacts changes shape: stored facts of another version are rebuilt.
FACTS_VERSION = 2  # 2: preferred_days (issue 16)
_CONNECTED_KEYS = {"payments": "readiness.payments_connected", "shipping": "readiness.shipping_connected"}
_LAUNCHED = "readiness.launched"
_HELP = "needs.help_with"


@dataclass(frozen=True)
class ShopFacts:
    """One shop as the audit rules see it; every moment is an aware UTC datetime."""

    shop: str
    market: str
    language: str | None = None
    trial_started_at: datetime | None = None
    trial_ends_at: datetime | None = None
    outcome: str | None = None              # converted | not_converted | None
    outcome_at: datetime | None = None
    stage: str | None = None
    progress_at: datetime | None = None     # the launch checklist last moved
    open_items: tuple[tuple[str, bool | None], ...] = ()   # (checklist key, done: False or unknown)
    integration_gaps: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (expected key, category, providers)
    needs: tuple[str, ...] = ()
    disconnected: tuple[tuple[str, datetime], ...] = ()    # (category, when it went from connected to not)
    launched_at: datetime | None = None
    last_activity_at: datetime | None = None  # latest observation from the trial shop itself
    help_topics: tuple[str, ...] = ()       # the merchant's own survey answer asking for help
    help_at: datetime | None = None
    consent: bool | None = None
    is_trader: bool | None = None
    opted_out: bool = False
    preferred_call_time: str | None = None
    preferred_days: tuple[int, ...] | None = None  # ISO weekdays the merchant prefers; None: any day
    has_phone: bool = False
    score: float | None = None
    score_before: float | None = None       # the previous stored score, for a drop
    gain: float | None = None               # the model's expected gain from a call
    path: tuple[str, ...] = ()              # the model's path to subscribe: action keys, best first
    last_reached_at: datetime | None = None
    version: int = FACTS_VERSION

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO strings, tuples as lists (field by field: asdict deep-copies)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in _FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ShopFacts":
        """Read ``as_dict`` back (unknown keys are ignored, so older rows still load)."""
        # one reader per field, chosen once: a full plan reads every shop's facts back
        return cls(**{name: (None if data[name] is None else read(data[name]))
                      for name, read in _READERS.items() if name in data})


_FIELDS = fields(ShopFacts)
_DATETIME_FIELDS = {f.name for f in _FIELDS if str(f.type) == "datetime | None"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _reader(name: str) -> Any:
    if name in _DATETIME_FIELDS:
        return datetime.fromisoformat
    if name == "open_items":
        return lambda v: tuple((k, d) for k, d in v)
    if name == "integration_gaps":
        return lambda v: tuple((k, c, tuple(p)) for k, c, p in v)
    if name == "disconnected":
        return lambda v: tuple((c, datetime.fromisoformat(at)) for c, at in v)
    return _tuple


_READERS = {f.name: _reader(f.name) for f in _FIELDS}


def market_integration_gaps(profile: Any) -> list[tuple[Any, bool | None, list[str]]]:
    """The integrations the shop's market expects that it has not connected yet.

    Each gap is (expected integration, applies (None: facts missing), provider names to
    suggest: the market's recommended ones first). Markets come from `locales`, so a
    manager's override file changes the advice without code.
    """
    if not profile.market:
        return []
    try:
        market = locales.get_market(profile.market)
    except KeyError:
        return []
    model = profile.business.model
    facts = {"sells_abroad": profile.business.sells_abroad,
             "sells_b2c": model in ("b2c", "both") if model else None,
             "sells_b2b": model in ("b2b", "both") if model else None}
    gaps = []
    for expected, applies in market.expected_for(facts):
        connected = profile.features.get(expected.category)
        if connected is not None and expected.satisfied_by(connected.providers):
            continue
        keys = list(expected.recommended) + [k for k in expected.any_of if k not in expected.recommended]
        names = []
        for key in keys[:3]:
            try:
                names.append(market.integration(key).name)
            except KeyError:
                names.append(key)
        gaps.append((expected, applies, names))
    return gaps


def shop_facts(
    observations: Iterable[Any],
    profile: Any,
    *,
    trial_started_at: datetime | None = None,
    trial_ends_at: datetime | None = None,
    outcome: str | None = None,
    outcome_at: datetime | None = None,
    score: float | None = None,
    score_before: float | None = None,
    gain: float | None = None,
    path: Iterable[str] = (),
    last_reached_at: datetime | None = None,
    opted_out: bool = False,
    preferred_days: Iterable[int] | None = None,
) -> ShopFacts:
    """Read a shop's observations (in time order) and its profile into ``ShopFacts``."""
    last: dict[str, Any] = {}
    progress_at: datetime | None = None
    connected_since: dict[str, datetime | None] = {}
    disconnected: dict[str, datetime] = {}
    launched_at: datetime | None = None
    activity: datetime | None = None
    help_at: datetime | None = None
    help_topics: tuple[str, ...] = ()
    for ob in observations:
        value = ob.value if ob.op == "set" else None
        key = ob.question
        previous = last.get(key, _MISSING)
        last[key] = value
        if ob.source == "trial":
            activity = ob.observed_at if activity is None or ob.observed_at > activity else activity
        if key.startswith("readiness.") and previous != value and value is True:
            progress_at = ob.observed_at
        for category, ckey in _CONNECTED_KEYS.items():
            if key != ckey:
                continue
            if value is True:
                connected_since[category] = ob.observed_at
                disconnected.pop(category, None)
            elif value is False and category in connected_since and previous is True:
                disconnected[category] = ob.observed_at
        if key == _LAUNCHED and value is True and previous is not True:
            launched_at = ob.observed_at
        if key == _HELP and ob.source == "survey" and value:
            help_at, help_topics = ob.observed_at, tuple(value)
    readiness = profile.readiness
    open_items = tuple((i.key, i.done) for i in readiness.items if not i.done)
    gaps = tuple((e.key, e.category, tuple(names)) for e, applies, names in market_integration_gaps(profile)
                 if applies is not False)
    phone = profile.value("owner.phone")
    return ShopFacts(
        shop=profile.shop,
        market=profile.market,
        language=profile.language,
        trial_started_at=trial_started_at,
        trial_ends_at=trial_ends_at,
        outcome=outcome,
        outcome_at=outcome_at,
        stage=readiness.stage,
        progress_at=progress_at or trial_started_at,
        open_items=open_items,
        integration_gaps=gaps,
        needs=tuple(profile.needs),
        disconnected=tuple(sorted(disconnected.items())),
        launched_at=launched_at,
        last_activity_at=activity,
        help_topics=help_topics,
        help_at=help_at,
        consent=profile.value("owner.marketing_consent"),
        is_trader=profile.value("owner.is_trader"),
        opted_out=opted_out,
        preferred_call_time=profile.value("needs.preferred_call_time"),
        preferred_days=tuple(sorted(set(preferred_days))) if preferred_days else None,
        has_phone=bool(phone),
        score=score,
        score_before=score_before,
        gain=gain,
        path=tuple(path),
        last_reached_at=last_reached_at,
    )


_MISSING = object()
