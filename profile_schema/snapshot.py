"""A kept snapshot of a shop's fold: what its page shows, read back without replaying its history.

`make_snapshot` folds the observations once (with the facts as they stood at `since`, the
last reached call, in the same pass) into plain JSON text: the resolved facts in the fold's
order, the number of observations applied, and the changes since `since`. `read_snapshot`
gives back exactly the `Profile` that `fold` returns for the same observations (the derived
parts - facets, readiness, persona, features - are recomputed from the facts, which costs
only the schema's size) and exactly `changes_since(observations, since=since)`. A snapshot
made under another schema version or format reads as None: the caller folds instead.

Pure: no Flask, no SQLAlchemy.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .fold import (
    _registry,
    changes_between,
    profile_from_facts,
    resolve_facts,
    resolve_facts_and_checkpoint,
)
from .observations import Observation
from .profile import Change, Fact, Profile, ResolvedFact
from .schema import Schema, SchemaRegistry

#: Bumped whenever the text's layout changes: older snapshots then read as None (fold instead).
FORMAT = 1


@dataclass(frozen=True)
class Snapshot:
    """A snapshot read back: the profile, the moment its changes are counted from, the changes."""

    profile: Profile
    since: datetime | None
    changes: list[Change]


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def make_snapshot(observations: Iterable[Observation], *, since: datetime | None = None,
                  schema: Schema | SchemaRegistry | None = None) -> str:
    """The snapshot text of a shop's observations (one shop's, in any order), with the changes
    after `since` (exclusive; None: no changes kept, as a page without a last call shows)."""
    return fold_with_snapshot(observations, since=since, schema=schema)[1]


def fold_with_snapshot(observations: Iterable[Observation], *, shop: str = "", market: str | None = None,
                       since: datetime | None = None,
                       schema: Schema | SchemaRegistry | None = None) -> tuple[Profile, str]:
    """`fold` and `make_snapshot` in one pass over the observations: (profile, snapshot text)."""
    observations = list(observations)
    registry = _registry(schema)
    if since is None:
        facts, count = resolve_facts(observations, registry)
        changes: list[Change] = []
    else:
        facts, count, before = resolve_facts_and_checkpoint(observations, registry, since)
        changes = changes_between(before, facts)
    profile = profile_from_facts(facts, count, registry, shop=shop, market=market)
    seen: dict[tuple[datetime, Any], str] = {}  # a shop's facts share a few moments: format each once

    def when(value: datetime | None) -> str | None:
        if value is None:
            return None
        key = (value, value.utcoffset())  # equal moments in other offsets are written differently
        text = seen.get(key)
        if text is None:
            text = seen[key] = value.isoformat()
        return text

    body = {
        "format": FORMAT, "schema_version": registry.latest.version, "count": count, "since": _when(since),
        "facts": [[f.key, f.value, f.source, f.actor, when(f.observed_at),
                   [[a.value, a.source, a.actor, when(a.observed_at)] for a in f.alternatives]]
                  for f in facts.values()],
        "changes": [[c.key, c.before, c.after, c.source, when(c.observed_at)] for c in changes],
    }
    return profile, _encode(body)


_ENCODER = json.JSONEncoder(separators=(",", ":"))
try:  # json.dumps(body, separators=(",", ":")) with its C encoder made once (json.dumps makes one per call)
    from json.encoder import c_encode_basestring_ascii, c_make_encoder

    if c_make_encoder is None or c_encode_basestring_ascii is None:
        raise ImportError
    _chunks = c_make_encoder(None, _ENCODER.default, c_encode_basestring_ascii, None, ":", ",", False, False, True)

    def _encode(body: dict[str, Any]) -> str:
        return "".join(_chunks(body, 0))
except ImportError:  # pragma: no cover - CPython always has the C encoder
    _encode = _ENCODER.encode


def read_snapshot(text: str | None, *, shop: str = "", market: str | None = None,
                  schema: Schema | SchemaRegistry | None = None) -> Snapshot | None:
    """The profile and changes a snapshot text keeps, or None when there is none, or it was made
    under another schema version or snapshot format (then the caller folds the observations)."""
    if not text:
        return None
    body: dict[str, Any] = json.loads(text)
    registry = _registry(schema)
    if body.get("format") != FORMAT or body.get("schema_version") != registry.latest.version:
        return None
    questions = registry.latest.questions
    facts: dict[str, ResolvedFact] = {}
    for key, value, source, actor, at, alts in body["facts"]:
        if key not in questions:  # the schema changed under the same version: not ours to guess
            return None
        facts[key] = ResolvedFact(key, value, source, actor, _moment(at),
                                  tuple(Fact(v, s, a, _moment(t)) for v, s, a, t in alts))
    profile = profile_from_facts(facts, body["count"], registry, shop=shop, market=market)
    changes = [Change(key, before, after, source, _moment(at)) for key, before, after, source, at in body["changes"]]
    return Snapshot(profile, _moment(body.get("since")), changes)
