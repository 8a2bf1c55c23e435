"""The declared trial-event mapping: event types -> observations, read from event_mapping.yaml.

Pure (no Flask, no database): `plan_event` turns one event's data into the answers to
validate (with profile_schema, like every other source) and the ops to store them with.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml
from jsonschema import Draft202012Validator

MAPPING_FILE = Path(__file__).with_name("event_mapping.yaml")
_OPS = ("set", "add", "increment")
_RULE_KEYS = {"question", "op", "value", "from", "default", "map", "when", "markets"}
_MISSING = object()


class MappingError(ValueError):
    """The mapping file itself is wrong (found when it is loaded, never mid-ingest)."""


@dataclass(frozen=True)
class Rule:
    question: str
    op: str = "set"
    value: Any = _MISSING
    source_field: str | None = None
    default: Any = _MISSING
    map: Mapping[Any, Any] | None = None
    when: Mapping[str, Any] | None = None
    markets: tuple[str, ...] | None = None


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    data_schema: dict[str, Any]
    rules: tuple[Rule, ...]
    shop_fields: Mapping[str, str] | None = None  # trial_started: market/name/trial_ends_at fields
    sets_outcome: bool = False
    questions: frozenset[str] = frozenset()

    @property
    def creates_shop(self) -> bool:
        return self.shop_fields is not None


@dataclass(frozen=True)
class EventMapping:
    version: int
    types: Mapping[str, EventType]


def dig(data: Any, path: Sequence[str], missing: Any = _MISSING) -> Any:
    """The value at `path` (keys, outermost first) in nested mappings; `missing` where the path breaks off."""
    cur: Any = data
    for part in path:
        if not isinstance(cur, Mapping) or part not in cur:
            return missing
        cur = cur[part]
    return cur


def _get(data: Mapping[str, Any], dotted: str) -> Any:
    return dig(data, dotted.split("."))


def _parse_rule(raw: Any, where: str, questions: Mapping[str, Any] | None) -> Rule:
    if not isinstance(raw, Mapping) or "question" not in raw:
        raise MappingError(f"{where}: each observation needs a question")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    q = raw["question"]
    if questions is not None and q not in questions:
        raise MappingError(f"{where}: {q!r} is not a question of the interview schema")
    op = raw.get("op", "set")
    if op not in _OPS:
        raise MappingError(f"{where}: op must be one of {', '.join(_OPS)}")
    if ("value" in raw) == ("from" in raw):
        raise MappingError(f"{where}: give exactly one of value and from")
    when = raw.get("when")
    if when is not None and (not isinstance(when, Mapping) or "field" not in when
                             or not ({"equals", "contains", "present"} & set(when))):
        raise MappingError(f"{where}: when needs a field and equals, contains or present")
    markets = raw.get("markets")
    return Rule(question=q, op=op, value=raw.get("value", _MISSING), source_field=raw.get("from"),
                default=raw.get("default", _MISSING), map=raw.get("map"), when=when,
                markets=tuple(markets) if markets else None)


def parse_mapping(data: Mapping[str, Any], questions: Mapping[str, Any] | None = None) -> EventMapping:
    """Check and load a mapping document; `questions` (the schema's) catches typos in keys."""
    if not isinstance(data, Mapping) or not isinstance(data.get("events"), Mapping):
        raise MappingError("the mapping needs an `events` mapping")
    types: dict[str, EventType] = {}
    for name, raw in data["events"].items():
        if not isinstance(raw, Mapping):
            raise MappingError(f"{name}: must be a mapping")
        schema = raw.get("data") or {"type": "object"}
        Draft202012Validator.check_schema(schema)
        rules = tuple(_parse_rule(r, f"{name}[{i}]", questions)
                      for i, r in enumerate(raw.get("observations") or ()))
        types[name] = EventType(
            name=name, description=str(raw.get("description", "")), data_schema=schema, rules=rules,
            shop_fields=raw.get("shop"), sets_outcome=bool(raw.get("outcome", False)),
            questions=frozenset(r.question for r in rules),
        )
    if not types:
        raise MappingError("the mapping declares no event types")
    return EventMapping(version=int(data.get("version", 1)), types=types)


@functools.lru_cache(maxsize=None)
def load_mapping(path: str | None = None) -> EventMapping:
    """The event mapping file, read and checked once against the latest interview schema."""
    from profile_schema import load_schema

    with open(path or MAPPING_FILE, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when installed
    return parse_mapping(data, load_schema().questions)


def event_types() -> list[str]:
    """The event types we accept, in the mapping file's order."""
    return list(load_mapping().types)


def _condition(when: Mapping[str, Any] | None, data: Mapping[str, Any]) -> bool:
    if not when:
        return True
    v = _get(data, when["field"])
    if v is _MISSING:
        if "present" in when:
            return not when["present"]
        if "default" not in when:
            return False
        v = when["default"]
    if "present" in when:
        return bool(when["present"])
    if "equals" in when:
        return v == when["equals"] and type(v) is type(when["equals"])
    return isinstance(v, list) and when["contains"] in v


def plan_event(etype: EventType, data: Mapping[str, Any], market: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers an event gives (question -> value, for validation) and the op of each."""
    answers: dict[str, Any] = {}
    ops: dict[str, str] = {}
    for rule in etype.rules:
        if rule.markets and market not in rule.markets:
            continue
        if not _condition(rule.when, data):
            continue
        if rule.source_field is None:
            value = copy.deepcopy(rule.value)
        else:
            value = _get(data, rule.source_field)
            if value is _MISSING or value is None:
                if rule.default is _MISSING:
                    continue
                value = copy.deepcopy(rule.default)
            if rule.map is not None:
                value = rule.map.get(value, value)
        if rule.op == "add" and not isinstance(value, list):
            value = [value]
        answers[rule.question] = value
        ops[rule.question] = rule.op
    return answers, ops


def _envelope(types: list[str]) -> dict[str, Any]:
    return {
        "title": "TrialEvent",
        "description": "One trial-shop event; its id makes delivery idempotent.",
        "type": "object",
        "required": ["id", "shop", "type", "occurred_at"],
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 100,
                   "description": "Unique event id: the same id twice is stored once"},
            "shop": {"type": "string", "minLength": 1, "maxLength": 64, "format": "shop-id",
                     "description": "The platform's shop id: letters, digits, '-', '_' and '.' "
                                    "(starting with a letter or digit, no '..')"},
            "type": {"type": "string", "enum": types,
                     "description": "Event type, declared in concierge/ingest/event_mapping.yaml"},
            "occurred_at": {"type": "string", "format": "date-time",
                            "description": "ISO 8601 with a UTC offset"},
            "data": {"type": "object", "description": "Depends on the type"},
        },
    }


EVENT_ENVELOPE: dict[str, Any] = _envelope(event_types())
