"""Audit rules as data: a shared file, one file per market, and the manager's overrides.

``audits/rule_files/_shared.yaml`` is merged under ``audits/rule_files/<code>.yaml``, and the
market card's ``audits`` section from the manager's override file (the same
``CONCIERGE_MARKET_OVERRIDES`` file, ``markets: {PL: {audits: {...}}}``) is merged on top
with the market cards' own merge rules. Nothing is read at import time; the parsed rules
are cached on the ``Market`` object, which ``locales.get_market`` replaces when the
override file changes, so an edited file takes effect without a restart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping

import yaml

import locales
from locales.market import Market, deep_merge

from .messages import Gettext, error_text

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader (~10x faster) when built with it

__all__ = ["KINDS", "PURPOSES", "TRIGGERS", "AuditError", "Window", "Trigger", "Rule", "CallbackPolicy",
           "QueuePolicy", "RuleSet", "load_rules", "build_rules"]

KINDS = ("audit", "followup", "callback")
PURPOSES = ("service", "commercial", "by_anchor")
FEATURE_CATEGORIES = ("payments", "shipping", "marketplaces", "invoicing", "marketing", "domain")
#: Each trigger type and its numbers: name -> (min, max); `category` is a feature category.
TRIGGERS: dict[str, dict[str, tuple[int, int]]] = {
    "launched": {"days": (0, 365)},
    "subscribed": {"weeks": (1, 104), "every_weeks": (1, 104)},
    "stage_stalled": {"business_days": (1, 120)},
    "disconnected": {"category": (0, 0)},
    "inactive": {"days": (1, 365)},
    "score_drop": {"points": (1, 100)},
    "survey_help": {},
    "market_follow_up": {},
}
_RULE_FIELDS = ("key", "kind", "purpose", "trigger", "window", "min_gain", "remove")


class AuditError(ValueError):
    """A rule file or a request the audits cannot accept: a stable code, the field, the values."""

    def __init__(self, code: str, field: str, **params: Any):
        self.code = code
        self.field = field
        self.params = {"field": field, **params}
        super().__init__(self.message())

    def message(self, gettext: Gettext | None = None) -> str:
        """Explain the problem in the reader's language (``gettext`` of their catalog)."""
        return error_text(self.code, self.params, gettext)

    def as_dict(self, gettext: Gettext | None = None) -> dict[str, str]:
        """The error as every channel reports it: field, code and message."""
        return {"field": self.field, "code": self.code, "message": self.message(gettext)}


@dataclass(frozen=True)
class Window:
    """How long after it fires a call is due: market business days, or calendar days."""

    business_days: int = 0
    days: int = 0


@dataclass(frozen=True)
class Trigger:
    """What fires a rule: its type and its numbers (days, weeks, points, category)."""

    type: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One audit rule: a trigger, a due window, and what kind of call it plans."""

    key: str
    kind: str
    purpose: str
    trigger: Trigger
    window: Window
    min_gain: float | None = None


@dataclass(frozen=True, kw_only=True)
class CallbackPolicy:
    """How merchant-requested calls are served: due window, service-level target, slots offered."""

    window: Window
    target_minutes: int
    target_share: float
    offered_slots: int


@dataclass(frozen=True, kw_only=True)
class QueuePolicy:
    """How calls are retried and ordered (the priors the call log replaces as it grows)."""

    max_attempts: int = 3
    retry_after_minutes: int = 120
    default_gain: float = 0.01
    reach_prior: float = 0.5
    reach_prior_weight: int = 20
    handling_minutes: Mapping[str, int] = field(default_factory=lambda: {"audit": 12, "followup": 8, "callback": 10})


@dataclass(frozen=True, kw_only=True)
class RuleSet:
    """A market's rules after merging, with the version every planned call records."""

    market: str
    version: int
    holdout_share: float
    rules: tuple[Rule, ...]
    callbacks: CallbackPolicy
    queue: QueuePolicy = field(default_factory=QueuePolicy)

    def rule(self, key: str) -> Rule | None:
        return next((r for r in self.rules if r.key == key), None)


def _read(name: str) -> dict[str, Any]:
    path = resources.files("audits.rule_files").joinpath(name)
    if not path.is_file():
        return {}
    return yaml.load(path.read_text("utf-8"), Loader=_FAST_LOADER) or {}


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AuditError("rules.bad_number", where, value=repr(value), min=low, max=high)
    return value


def _share(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise AuditError("rules.bad_share", where, value=repr(value), min=low, max=high)
    return float(value)


def _window(value: Any, where: str) -> Window:
    if not isinstance(value, Mapping) or len(value) != 1 or not set(value) <= {"business_days", "days"}:
        raise AuditError("rules.bad_window", where, value=repr(value))
    (unit, n), = value.items()
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 60:
        raise AuditError("rules.bad_window", where, value=repr(value))
    return Window(**{unit: n})


def _choice(value: Any, where: str, allowed: tuple[str, ...], code: str) -> str:
    if value not in allowed:
        raise AuditError(code, where, value=repr(value), expected=", ".join(allowed))
    return value


def _trigger(value: Any, where: str) -> Trigger:
    if not isinstance(value, Mapping):
        raise AuditError("rules.not_mapping", where)
    kind = _choice(value.get("type"), f"{where}.type", tuple(TRIGGERS), "rules.unknown_trigger")
    spec = TRIGGERS[kind]
    params: dict[str, Any] = {}
    for name, raw in value.items():
        if name == "type":
            continue
        if name not in spec:
            raise AuditError("rules.unknown_field", f"{where}.{name}", value=repr(name),
                             expected=", ".join(["type", *spec]) or "type")
        if name == "category":
            params[name] = _choice(raw, f"{where}.category", FEATURE_CATEGORIES, "rules.unknown_category")
        else:
            params[name] = _int(raw, f"{where}.{name}", *spec[name])
    for name in spec:
        if name not in params:
            raise AuditError("rules.missing", f"{where}.{name}")
    return Trigger(kind, params)


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, Mapping):
        raise AuditError("rules.not_mapping", where)
    for name in item:
        if name not in _RULE_FIELDS:
            raise AuditError("rules.unknown_field", f"{where}.{name}", value=repr(name), expected=", ".join(_RULE_FIELDS[:-1]))
    for name in ("kind", "purpose", "trigger", "window"):
        if name not in item:
            raise AuditError("rules.missing", f"{where}.{name}")
    min_gain = item.get("min_gain")
    return Rule(
        key=str(item["key"]),
        kind=_choice(item["kind"], f"{where}.kind", KINDS[:2], "rules.unknown_kind"),
        purpose=_choice(item["purpose"], f"{where}.purpose", PURPOSES, "rules.unknown_purpose"),
        trigger=_trigger(item["trigger"], f"{where}.trigger"),
        window=_window(item["window"], f"{where}.window"),
        min_gain=None if min_gain is None else _share(min_gain, f"{where}.min_gain", 0.0, 1.0),
    )


def build_rules(data: Mapping[str, Any], market: str) -> RuleSet:
    """Validate merged rule data; raise AuditError naming the first bad field."""
    where = "audits"
    if not isinstance(data, Mapping):
        raise AuditError("rules.not_mapping", where)
    rules = []
    seen: set[str] = set()
    items = data.get("rules") or []
    if not isinstance(items, list):
        raise AuditError("rules.not_mapping", f"{where}.rules")
    for i, item in enumerate(items):
        key = item.get("key") if isinstance(item, Mapping) else None
        if not key:
            raise AuditError("rules.missing", f"{where}.rules[{i}].key")
        if key in seen:
            raise AuditError("rules.duplicate_key", f"{where}.rules[{i}].key", value=repr(key))
        seen.add(key)
        rules.append(_rule(item, f"{where}.rules.{key}"))
    callbacks = data.get("callbacks") or {}
    if not isinstance(callbacks, Mapping):
        raise AuditError("rules.not_mapping", f"{where}.callbacks")
    level = callbacks.get("service_level") or {}
    attempts = data.get("attempts") or {}
    queue = data.get("queue") or {}
    if not isinstance(attempts, Mapping):
        raise AuditError("rules.not_mapping", f"{where}.attempts")
    if not isinstance(queue, Mapping):
        raise AuditError("rules.not_mapping", f"{where}.queue")
    handling = queue.get("handling_minutes") or {}
    if not isinstance(handling, Mapping):
        raise AuditError("rules.not_mapping", f"{where}.queue.handling_minutes")
    for kind in handling:
        _choice(kind, f"{where}.queue.handling_minutes", KINDS, "rules.unknown_kind")
    policy = QueuePolicy(
        max_attempts=_int(attempts.get("max", 3), f"{where}.attempts.max", 1, 20),
        retry_after_minutes=_int(attempts.get("retry_after_minutes", 120), f"{where}.attempts.retry_after_minutes", 5, 10_080),
        default_gain=_share(queue.get("default_gain", 0.01), f"{where}.queue.default_gain", 0.0, 1.0),
        reach_prior=_share(queue.get("reach_prior", 0.5), f"{where}.queue.reach_prior", 0.01, 1.0),
        reach_prior_weight=_int(queue.get("reach_prior_weight", 20), f"{where}.queue.reach_prior_weight", 0, 100_000),
        handling_minutes={**QueuePolicy().handling_minutes,
                          **{k: _int(v, f"{where}.queue.handling_minutes.{k}", 1, 240) for k, v in handling.items()}},
    )
    return RuleSet(
        market=market,
        version=_int(data.get("version", 1), f"{where}.version", 1, 1_000_000),
        holdout_share=_share(data.get("holdout_share", 0.1), f"{where}.holdout_share", 0.0, 0.5),
        rules=tuple(rules),
        callbacks=CallbackPolicy(
            window=_window(callbacks.get("window", {"business_days": 1}), f"{where}.callbacks.window"),
            target_minutes=_int(level.get("target_minutes", 15), f"{where}.callbacks.service_level.target_minutes", 1, 10_000),
            target_share=_share(level.get("target_share", 0.8), f"{where}.callbacks.service_level.target_share", 0.0, 1.0),
            offered_slots=_int(callbacks.get("offered_slots", 3), f"{where}.callbacks.offered_slots", 1, 10),
        ),
        queue=policy,
    )


def load_rules(market: Market | str) -> RuleSet:
    """The market's audit rules: shared file, market file, then the manager's overrides."""
    try:
        m = locales.get_market(market)
    except locales.InvalidValue as exc:
        raise AuditError("request.unknown_market", "market", value=repr(market),
                         expected=", ".join(locales.MARKET_CODES)) from exc
    cached = m._cache.get("audit_rules")
    if cached is None:
        data = deep_merge(_read("_shared.yaml"), _read(f"{m.code.lower()}.yaml"))
        override = m.data.get("audits")
        if override is not None:
            data = deep_merge(data, override)
        cached = m._cache["audit_rules"] = build_rules(data, m.code)
    return cached
