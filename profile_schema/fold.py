"""The fold: a shop's observations in, its profile out. Pure and deterministic."""
from __future__ import annotations

import operator
from datetime import datetime
from typing import Any, Iterable, Mapping

from .observations import Observation
from .profile import (
    FEATURE_CATEGORIES, PICTURE_FACETS, BusinessSummary, Change, ChecklistItem, Facet, Fact,
    Feature, Profile, Readiness, ResolvedFact,
)
from .schema import Schema, SchemaRegistry, load_registry

_LEVELS = ("none", "beginner", "intermediate", "expert")


def _maker(cls: type) -> Any:
    """``cls(*every_field)`` for a frozen dataclass without slots or __post_init__, about four
    times faster: its __init__ sets each field with object.__setattr__, this writes the same
    __dict__ (same fields, same order) directly. A fold makes some 45 of them per shop. Any
    other class is returned as it is."""
    import dataclasses

    params = getattr(cls, "__dataclass_params__", None)
    if (params is None or not params.frozen or "__slots__" in cls.__dict__
            or hasattr(cls, "__post_init__") or cls.__init__ is object.__init__):
        return cls
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    if len(names) != len(dataclasses.fields(cls)) or not all(n.isidentifier() for n in names):
        return cls
    args = ", ".join(f"a{i}" for i in range(len(names)))
    body = "; ".join(f"d[{n!r}] = a{i}" for i, n in enumerate(names))
    ns: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(f"def make({args}):\n    o = new(cls)\n    d = o.__dict__\n    {body}\n    return o\n", ns)  # noqa: S102
    return ns["make"]


_ResolvedFact = _maker(ResolvedFact)
_Fact = _maker(Fact)
_ChecklistItem = _maker(ChecklistItem)
_Feature = _maker(Feature)
_Facet = _maker(Facet)
_CHECKLISTS: dict[tuple[int, str | None], tuple[Schema, tuple[tuple[str, str], ...]]] = {}


_SINGLE_SCHEMA: dict[int, tuple[Schema, SchemaRegistry]] = {}


def _registry(schema: Schema | SchemaRegistry | None) -> SchemaRegistry:
    """The registry to upgrade observations with (built once per schema object)."""
    if schema is None:
        return load_registry()
    if isinstance(schema, SchemaRegistry):
        return schema
    default = load_registry()
    if schema is default.latest:
        return default  # today's schema: answers recorded under older versions still count
    hit = _SINGLE_SCHEMA.get(id(schema))
    if hit is None or hit[0] is not schema:
        if len(_SINGLE_SCHEMA) > 64:
            _SINGLE_SCHEMA.clear()
        hit = _SINGLE_SCHEMA[id(schema)] = (schema, SchemaRegistry([schema]))
    return hit[1]


_NUMBER = (int, float)  # exact types: a bool is not a count
_OP_TYPES = {"add": "multi_choice", "remove": "multi_choice", "increment": "number"}


class _Inapplicable(Exception):
    """An observation whose op cannot apply to what is known (kept in history, not folded)."""


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _apply(op: str, current: Any, value: Any) -> Any:
    if op == "set":
        return value
    if op == "add":
        base = list(current) if isinstance(current, list) else []
        for v in value if isinstance(value, list) else [value]:
            if v not in base:
                base.append(v)
        return base
    if op == "remove":
        drop = value if isinstance(value, list) else [value]
        return [v for v in current if v not in drop] if isinstance(current, list) else []
    if op == "increment":
        if not _is_number(value) or (current is not None and not _is_number(current)):
            raise _Inapplicable(op)
        return (current or 0) + value
    raise _Inapplicable(op)


_TIME_SEQ = operator.attrgetter("observed_at", "seq")


def _full_key(o: Observation) -> tuple[Any, ...]:
    return (o.observed_at, o.seq, o.source, o.actor, o.op, o.question, repr(o.value))


def _in_order(observations: Iterable[Observation]) -> list[Observation]:
    """Time order, then `seq` (the database id); only a real tie pays for the full comparison."""
    obs = sorted(observations, key=_TIME_SEQ)
    for a, b in zip(obs, obs[1:]):
        if a.seq == b.seq and a.observed_at == b.observed_at:
            return sorted(obs, key=_full_key)  # same time and seq: make the order not depend on input
    return obs


def resolve_facts(
    observations: Iterable[Observation],
    registry: SchemaRegistry,
    as_of: datetime | None = None,
) -> tuple[dict[str, ResolvedFact], int]:
    """Latest value per question wins; every source's own latest value is kept for conflicts.

    Observations are applied in time order (ties: `seq`), whatever order they come in.
    Answers recorded under an older schema version are read under today's keys and
    choices; answers to retired questions and ops that cannot apply (adding to a number,
    incrementing a text) stay in history but not in the profile.
    """
    facts, count, _at = _resolve(observations, registry, as_of, None)
    return facts, count


def resolve_facts_and_checkpoint(
    observations: Iterable[Observation],
    registry: SchemaRegistry,
    checkpoint: datetime,
) -> tuple[dict[str, ResolvedFact], int, dict[str, ResolvedFact]]:
    """`resolve_facts` of everything known and of what was known at `checkpoint`, in one pass
    (what `changes_since(observations, since=checkpoint)` compares)."""
    facts, count, at = _resolve(observations, registry, None, checkpoint)
    return facts, count, at if at is not None else facts


def _facts_of(value: dict[str, Any], last: dict[str, Observation], base: dict[str, Observation],
              per_source: dict[str, dict[str, tuple[Any, Observation]]]) -> dict[str, ResolvedFact]:
    facts: dict[str, ResolvedFact] = {}
    for key, v in value.items():
        o = last[key]
        sources = per_source[key]
        if len(sources) == 1:
            alts: tuple[Fact, ...] = ()
        else:
            # another source disagrees when its latest word was a set that was overridden
            # (not built upon) and differs from what we now hold
            b = base.get(key)
            alts = tuple(
                _Fact(sv, so.source, so.actor, so.observed_at)
                for src, (sv, so) in sorted(sources.items())
                if src != o.source and so.op == "set" and so is not b and sv != v
            )
        facts[key] = _ResolvedFact(key, v, o.source, o.actor, o.observed_at, alts)
    return facts


def _resolve(
    observations: Iterable[Observation],
    registry: SchemaRegistry,
    as_of: datetime | None,
    checkpoint: datetime | None,
) -> tuple[dict[str, ResolvedFact], int, dict[str, ResolvedFact] | None]:
    obs = _in_order(observations)
    latest = registry.latest.questions
    key_map = registry._key_map
    upgrade = registry.upgrade_value if registry._choice_map else None
    value: dict[str, Any] = {}
    last: dict[str, Observation] = {}
    base: dict[str, Observation] = {}  # the latest set: what add/remove/increment built upon
    per_source: dict[str, dict[str, tuple[Any, Observation]]] = {}
    count = 0
    at_checkpoint: dict[str, ResolvedFact] | None = None
    for o in obs:
        if as_of is not None and o.observed_at > as_of:
            break
        if checkpoint is not None and at_checkpoint is None and o.observed_at > checkpoint:
            at_checkpoint = _facts_of(value, last, base, per_source)
        key = key_map.get((o.schema_version, o.question), o.question)
        q = latest.get(key) if key is not None else None
        if q is None:
            continue  # a question retired from the schema stays in history, not in the profile
        if o.op != "set" and _OP_TYPES[o.op] != q.type:
            continue  # add/remove only on a multi choice, increment only on a number
        v = o.value if upgrade is None else upgrade(key, o.value, o.schema_version)
        if o.op == "set":
            new = v
        elif o.op == "increment":  # the commonest event of a busy trial shop: keep it cheap
            cur = value.get(key)
            if type(v) not in _NUMBER or (cur is not None and type(cur) not in _NUMBER):
                continue
            new = (cur or 0) + v
        else:
            try:
                new = _apply(o.op, value.get(key), v)
            except _Inapplicable:
                continue
        if q.choices and isinstance(new, list) and len(new) > 1:
            order = q.choice_order
            new = sorted(new, key=lambda c: order.get(c, len(order)) if isinstance(c, str) else len(order))
        count += 1
        value[key] = new
        last[key] = o
        if o.op == "set":
            base[key] = o
        per_source.setdefault(key, {})[o.source] = (new, o)
    return _facts_of(value, last, base, per_source), count, at_checkpoint


def _experience_level(f: Mapping[str, ResolvedFact]) -> str | None:
    """none / beginner / intermediate / expert from selling history and comfort with tech."""
    sold = _v(f, "experience.sold_online_before")
    tech = _v(f, "experience.tech_comfort")
    if sold is None and tech is None:
        return None
    years = _v(f, "experience.years_selling_online")
    years = years if _is_number(years) else 0
    platforms = _v(f, "experience.platforms")
    platforms = platforms if isinstance(platforms, list) else []
    points = 0
    if sold:
        points += 2
        points += 1 if years >= 1 else 0
        points += 1 if years >= 3 else 0
        points += 1 if len(platforms) >= 2 else 0
    if _is_number(tech):
        t = min(5, max(1, round(tech)))
        points += {1: -1, 2: 0, 3: 1, 4: 1, 5: 2}[t]
    if points <= 0:
        return "none"
    if points <= 2:
        return "beginner"
    if points <= 4:
        return "intermediate"
    return "expert"


def _turnover_band(schema: Schema, money: Any) -> str | None:
    """The band of the expected monthly turnover, with limits in its own currency."""
    if not isinstance(money, Mapping) or not _is_number(money.get("amount")):
        return None
    bands = schema.turnover_bands
    limits = bands.get(money.get("currency")) if isinstance(money.get("currency"), str) else None
    if not limits:
        return None
    for key, limit in zip(bands["keys"], limits):
        if money["amount"] < limit:
            return key
    return bands["keys"][-1]


PERSONAS = ("ecommerce_pro", "offline_to_online", "marketplace_seller", "global_seller",
            "first_steps", "side_project", "growing_seller")


def _persona(f: Mapping[str, ResolvedFact], level: str | None, band: str | None) -> str | None:
    """A few words that change the advice: who is this merchant, for a coach?

    Order matters: the most specific description that fits wins. A beginner whose hours
    are not known yet is taken for a first-timer: that is the safer coaching stance.
    """
    hours = _v(f, "owner.hours_per_week")
    hours = hours if _is_number(hours) else None
    btype = _v(f, "business.type")
    situation = _v(f, "owner.life_situation")
    abroad = _v(f, "business.sells_abroad")
    on_marketplace = _v(f, "business.sells_on_marketplace")
    if level == "expert" and (band in ("large", "very_large") or (hours or 0) >= 40):
        return "ecommerce_pro"
    if btype == "offline_store" or situation == "business_owner":
        return "offline_to_online"
    if on_marketplace is True and level in ("intermediate", "expert"):
        return "marketplace_seller"
    if abroad is True and level in ("intermediate", "expert"):
        return "global_seller"
    if level in ("none", "beginner") and (hours is None or hours <= 15):
        return "first_steps"
    if hours is not None and hours <= 20:
        return "side_project"
    if level is None and hours is None and btype is None:
        return None
    return "growing_seller"


def _v(f: Mapping[str, ResolvedFact], key: str) -> Any:
    r = f.get(key)
    return None if r is None else r.value


def _readiness(schema: Schema, f: Mapping[str, ResolvedFact], market: str | None) -> Readiness:
    """The launch checklist for the market: done / not done / unknown, percent and stage.

    The stage is the stage of the first item not known to be done, in track order;
    "launched" is the end of the track, not a box to tick before it.
    """
    hit = _CHECKLISTS.get((id(schema), market))
    if hit is None or hit[0] is not schema:  # the checklist of a schema and market, made once
        if len(_CHECKLISTS) > 64:
            _CHECKLISTS.clear()
        hit = _CHECKLISTS[(id(schema), market)] = (schema, tuple((q.key, q.stage) for q in schema.checklist(market)))
    items = []
    for key, stage in hit[1]:
        r = f.get(key)
        items.append(_ChecklistItem(key, stage, None, None) if r is None
                     else _ChecklistItem(key, stage, r.value is True, r.source))
    track = [i for i in items if i.stage != "launched"]
    done = sum(1 for i in track if i.done)
    percent = round(100 * done / len(track)) if track else 0
    first = next((i for i in track if not i.done), None)
    if any(i.done for i in items if i.stage == "launched"):
        stage = "launched"
    elif first is None:
        stage = "ready"
    else:
        stage = first.stage
    return Readiness(tuple(items), percent, stage, None if first is None else first.key)


def _features(f: Mapping[str, ResolvedFact]) -> dict[str, Feature]:
    """What is integrated, per category: connected True / False (explicitly none) / None (unknown).

    Two facts can speak to a category: the list of providers (`features.<cat>`) and the
    checklist flag (`readiness.<cat>_connected`, `readiness.domain_connected`); the newer
    one decides whether it is connected, the list always names the providers.
    """
    out: dict[str, Feature] = {}
    for cat in FEATURE_CATEGORIES:
        r = f.get(f"features.{cat}")
        flag = f.get(f"readiness.{cat}_connected")
        providers: tuple[str, ...] = ()
        if r is not None:
            if cat == "domain":
                providers = (r.value,) if isinstance(r.value, str) and r.value else ()
            elif isinstance(r.value, list):
                providers = tuple(r.value)
        list_says = None if r is None else bool(providers)
        if cat == "domain" and r is not None and not providers:
            list_says, r = None, None  # an empty domain name says nothing either way
        if flag is not None and (r is None or flag.observed_at > r.observed_at):
            out[cat] = _Feature(cat, flag.value is True, providers, flag.source)
        elif r is not None:
            out[cat] = _Feature(cat, list_says, providers, r.source)
        else:
            out[cat] = _Feature(cat, None, (), None)
    return out


def fold(
    observations: Iterable[Observation],
    schema: Schema | SchemaRegistry | None = None,
    *,
    shop: str | None = None,
    market: str | None = None,
    as_of: datetime | None = None,
) -> Profile:
    """Fold a shop's observations into its profile, as it stood at `as_of` (default: all known).

    `schema` is today's schema, a registry of every version, or None for the packaged
    one. Observations of another shop are a caller's mistake and raise ValueError.
    """
    observations = list(observations)
    shops = {o.shop for o in observations}
    if shop is not None:
        shops.add(shop)
    if len(shops) > 1:
        raise ValueError(f"observations of more than one shop: {', '.join(sorted(shops))}")
    shop = shops.pop() if shops else ""
    registry = _registry(schema)
    facts, count = resolve_facts(observations, registry, as_of)
    return profile_from_facts(facts, count, registry, shop=shop, market=market, as_of=as_of)


def profile_from_facts(
    facts: Mapping[str, ResolvedFact],
    count: int,
    schema: Schema | SchemaRegistry | None = None,
    *,
    shop: str = "",
    market: str | None = None,
    as_of: datetime | None = None,
) -> Profile:
    """The profile of already resolved facts (`resolve_facts`, in its order) and the number of
    observations applied: what `fold` returns for the observations they were resolved from.
    Costs only the schema's size, so a kept snapshot of the facts gives the profile back
    without replaying the history."""
    facts = dict(facts)
    latest = _registry(schema).latest
    by_facet: dict[str, dict[str, ResolvedFact]] = {name: {} for name in PICTURE_FACETS + ("trial",)}
    for k, r in facts.items():
        by_facet.setdefault(latest.questions[k].facet, {})[k] = r
    facets = {name: _Facet(name, fs) for name, fs in by_facet.items()}
    level = _experience_level(facts)
    turnover = _v(facts, "business.expected_monthly_turnover")
    band = _turnover_band(latest, turnover)
    business = BusinessSummary(
        type=_v(facts, "business.type"), category=_v(facts, "business.category"),
        model=_v(facts, "business.model"), catalogue_size=_v(facts, "business.catalogue_size"),
        turnover=turnover if isinstance(turnover, Mapping) else None, turnover_band=band,
        channels=tuple(_v(facts, "business.channels") or ()),
        marketplaces=tuple(_v(facts, "business.marketplaces") or ()),
        sells_abroad=_v(facts, "business.sells_abroad"),
    )
    return Profile(
        shop=shop, market=market, language=_v(facts, "owner.language"),
        as_of=as_of, facts=facts, facets=facets,
        experience_level=level, persona=_persona(facts, level, band),
        needs=tuple(_v(facts, "needs.help_with") or ()), business=business,
        readiness=_readiness(latest, facts, market), features=_features(facts),
        outcome=_v(facts, "trial.outcome"), schema_version=latest.version,
        observation_count=count,
        conflicts=tuple(sorted(k for k, r in facts.items() if r.conflict)),
    )


def changes_since(
    observations: Iterable[Observation],
    schema: Schema | SchemaRegistry | None = None,
    since: datetime | None = None,
    *,
    until: datetime | None = None,
) -> list[Change]:
    """What changed after `since` (exclusive) up to `until` (inclusive; default: everything known).

    With `since=None` everything known is new. A value that changed and changed back
    is not a change; the source and time are those of the value now.
    """
    observations = list(observations)
    registry = _registry(schema)
    before = resolve_facts(observations, registry, since)[0] if since is not None else {}
    after, _ = resolve_facts(observations, registry, until)
    return changes_between(before, after)


def changes_between(before: Mapping[str, ResolvedFact], after: Mapping[str, ResolvedFact]) -> list[Change]:
    """The changes from one set of resolved facts to another (`changes_since`'s comparison)."""
    out = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if (b.value if b else None) != (a.value if a else None):
            out.append(Change(key, b.value if b else None, a.value if a else None,
                              a.source if a else None, a.observed_at if a else None))
    return out
