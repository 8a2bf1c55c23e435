"""A tiny, data-only condition language for checklist items and follow-up steps.

Managers write conditions in YAML (``when: {sells_abroad: true}``) instead of code.
Evaluation is three-valued: a fact the profile does not know yet yields ``None``
("maybe"), so an item is neither silently dropped nor falsely demanded.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["evaluate", "validate_condition"]

_OPS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "in": lambda a, b: a in b,
}


def _all(results: list[bool | None]) -> bool | None:
    """Kleene AND: one False decides, otherwise any unknown keeps it unknown."""
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


def _any(results: list[bool | None]) -> bool | None:
    """Kleene OR: one True decides, otherwise any unknown keeps it unknown."""
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


def _fact(name: str, test: Any, facts: Mapping[str, Any]) -> bool | None:
    """Compare one fact with a literal or an ``{op: value}`` mapping."""
    value = facts.get(name)
    if value is None:
        return None
    if isinstance(test, Mapping):
        try:
            return _all([_OPS[op](value, operand) for op, operand in test.items()])
        except TypeError:
            return False
    return value == test


def evaluate(condition: Any, facts: Mapping[str, Any]) -> bool | None:
    """Evaluate ``condition`` against ``facts``: True, False, or None when facts are missing."""
    if condition is None:
        return True
    if isinstance(condition, bool):
        return condition
    if isinstance(condition, list):
        return _all([evaluate(c, facts) for c in condition])
    results: list[bool | None] = []
    for key, test in condition.items():
        if key == "all":
            results.append(_all([evaluate(c, facts) for c in test]))
        elif key == "any":
            results.append(_any([evaluate(c, facts) for c in test]))
        elif key == "not":
            inner = evaluate(test, facts)
            results.append(None if inner is None else not inner)
        else:
            results.append(_fact(key, test, facts))
    return _all(results)


def validate_condition(condition: Any, where: str) -> None:
    """Reject malformed conditions when data loads, not when a call is being planned."""
    if condition is None or isinstance(condition, bool):
        return
    if isinstance(condition, list):
        for i, c in enumerate(condition):
            validate_condition(c, f"{where}[{i}]")
        return
    if not isinstance(condition, Mapping):
        raise ValueError(f"{where}: a condition must be a mapping, got {condition!r}")
    for key, test in condition.items():
        if key in ("all", "any"):
            if not isinstance(test, list):
                raise ValueError(f"{where}.{key}: expected a list")
            for i, c in enumerate(test):
                validate_condition(c, f"{where}.{key}[{i}]")
        elif key == "not":
            validate_condition(test, f"{where}.not")
        elif isinstance(test, Mapping):
            unknown = set(test) - set(_OPS)
            if unknown:
                raise ValueError(f"{where}.{key}: unknown operator(s) {sorted(unknown)}; use {sorted(_OPS)}")
