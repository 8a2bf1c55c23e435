"""The fold: a shop's observations in, its profile out. Pure and deterministic."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from .observations import Observation
from .profile import (
    FEATURE_CATEGORIES, PICTURE_FACETS, BusinessSummary, Change, ChecklistItem, Facet, Fact,
    Feature, Profile, Readiness, ResolvedFact,
)
from .schema import Schema, SchemaRegistry, load_registry

_LEVELS = ("none", "beginner", "intermediate", "expert")


def _registry(schema: Schema | SchemaRegistry | None) -> SchemaRegistry:
    if schema is None:
        return load_registry()
    if isinstance(schema, SchemaRegistry):
        return schema
    return SchemaRegistry([schema])


def _apply(op: str, current: Any, value: Any) -> Any:
    if op == "set":
        return value
    if op == "add":
        base = list(current or [])
        for v in value if isinstance(value, list) else [value]:
            if v not in base:
                base.append(v)
        return base
    if op == "remove":
        drop = set(value if isinstance(value, list) else [value])
        return [v for v in (current or []) if v not in drop]
    if op == "increment":
        return (current or 0) + value
    raise ValueError(op)


def resolve_facts(
    observations: Iterable[Observation],
    registry: SchemaRegistry,
    as_of: datetime | None = None,
) -> tuple[dict[str, ResolvedFact], int]:
    """Latest value per question wins; every source's own latest value is kept for conflicts."""
    obs = sorted(observations, key=lambda o: (o.observed_at, o.seq))
    latest = registry.latest.questions
    value: dict[str, Any] = {}
    last: dict[str, Observation] = {}
    per_source: dict[str, dict[str, tuple[Any, Observation]]] = {}
    count = 0
    for o in obs:
        if as_of is not None and o.observed_at > as_of:
            break
        key = registry.current_key(o.question, o.schema_version)
        if key not in latest:
            continue  # a question retired from the schema stays in history, not in the profile
        v = registry.upgrade_value(key, o.value, o.schema_version)
        count += 1
        new = _apply(o.op, value.get(key), v)
        value[key] = new
        last[key] = o
        per_source.setdefault(key, {})[o.source] = (new if o.op == "set" else v, o)
    facts: dict[str, ResolvedFact] = {}
    for key, v in value.items():
        o = last[key]
        alts = tuple(
            Fact(sv, so.source, so.actor, so.observed_at)
            for src, (sv, so) in sorted(per_source[key].items())
            if src != o.source and sv != v and so.op == "set"
        )
        facts[key] = ResolvedFact(key, v, o.source, o.actor, o.observed_at, alts)
    return facts, count


def _experience_level(f: Mapping[str, ResolvedFact]) -> str | None:
    sold = _v(f, "experience.sold_online_before")
    tech = _v(f, "experience.tech_comfort")
    years = _v(f, "experience.years_selling_online") or 0
    platforms = _v(f, "experience.platforms") or []
    if sold is None and tech is None:
        return None
    points = 0
    if sold:
        points += 2
        points += 1 if years >= 1 else 0
        points += 1 if years >= 3 else 0
        points += 1 if len(platforms) >= 2 else 0
    if tech is not None:
        points += {1: -1, 2: 0, 3: 1, 4: 1, 5: 2}[int(tech)]
    if points <= 0:
        return "none"
    if points <= 2:
        return "beginner"
    if points <= 4:
        return "intermediate"
    return "expert"


def _turnover_band(schema: Schema, money: Mapping[str, Any] | None) -> str | None:
    if not money:
        return None
    bands = schema.turnover_bands
    limits = bands.get(money.get("currency"))
    if not limits:
        return None
    for key, limit in zip(bands["keys"], limits):
        if money["amount"] < limit:
            return key
    return bands["keys"][-1]


def _persona(f: Mapping[str, ResolvedFact], level: str | None, band: str | None) -> str | None:
    """A few words that change the advice: who is this merchant, for a coach?

    Order matters: the most specific description that fits wins.
    """
    hours = _v(f, "owner.hours_per_week")
    btype = _v(f, "business.type")
    situation = _v(f, "owner.life_situation")
    abroad = _v(f, "business.sells_abroad")
    on_marketplace = _v(f, "business.sells_on_marketplace")
    if level == "expert" and (band in ("large", "very_large") or (hours or 0) >= 40):
        return "ecommerce_pro"
    if btype == "offline_store" or situation == "business_owner":
        return "offline_to_online"
    if on_marketplace and level in ("intermediate", "expert"):
        return "marketplace_seller"
    if abroad and level in ("intermediate", "expert"):
        return "global_seller"
    if level in ("none", "beginner") and hours is not None and hours <= 15:
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
    items = []
    for q in schema.checklist(market):
        r = f.get(q.key)
        items.append(ChecklistItem(q.key, q.stage, None if r is None else bool(r.value),
                                   None if r is None else r.source))
    # "launched" is the end of the track, not a box to tick before it
    track = [i for i in items if i.stage != "launched"]
    done = sum(1 for i in track if i.done)
    percent = round(100 * done / len(track)) if track else 0
    first_open = next((i.key for i in track if not i.done), None)
    launched = any(i.done for i in items if i.stage == "launched")
    if launched:
        stage = "launched"
    elif first_open is None:
        stage = "ready"
    else:
        stage = next(i.stage for i in track if not i.done)
    return Readiness(tuple(items), percent, stage, first_open)


def _features(f: Mapping[str, ResolvedFact]) -> dict[str, Feature]:
    out: dict[str, Feature] = {}
    for cat in FEATURE_CATEGORIES:
        r = f.get(f"features.{cat}")
        if cat == "domain":
            flag = f.get("readiness.domain_connected")
            if r is not None and r.value:
                out[cat] = Feature(cat, True, (r.value,), r.source)
            elif flag is not None:
                out[cat] = Feature(cat, bool(flag.value), (), flag.source)
            else:
                out[cat] = Feature(cat, None)
            continue
        if r is None:
            flag = f.get(f"readiness.{cat}_connected")
            out[cat] = Feature(cat, None if flag is None else bool(flag.value), (),
                               None if flag is None else flag.source)
        else:
            out[cat] = Feature(cat, bool(r.value), tuple(r.value or ()), r.source)
    return out


def fold(
    observations: Iterable[Observation],
    schema: Schema | SchemaRegistry | None = None,
    *,
    shop: str | None = None,
    market: str | None = None,
    as_of: datetime | None = None,
) -> Profile:
    """Fold a shop's observations into its profile, as it stood at `as_of` (default: now)."""
    observations = list(observations)
    registry = _registry(schema)
    latest = registry.latest
    facts, count = resolve_facts(observations, registry, as_of)
    shop = shop or (observations[0].shop if observations else "")
    facets = {
        name: Facet(name, {k: r for k, r in facts.items() if k.split(".", 1)[0] == name})
        for name in PICTURE_FACETS + ("trial",)
    }
    level = _experience_level(facts)
    turnover = _v(facts, "business.expected_monthly_turnover")
    band = _turnover_band(latest, turnover)
    business = BusinessSummary(
        type=_v(facts, "business.type"), category=_v(facts, "business.category"),
        model=_v(facts, "business.model"), catalogue_size=_v(facts, "business.catalogue_size"),
        turnover=turnover, turnover_band=band,
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
    """What changed between `since` and `until` (default: everything known)."""
    observations = list(observations)
    registry = _registry(schema)
    before, _ = resolve_facts(observations, registry, since)
    after, _ = resolve_facts(observations, registry, until)
    out = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if (b.value if b else None) != (a.value if a else None):
            out.append(Change(key, b.value if b else None, a.value if a else None,
                              a.source if a else None, a.observed_at if a else None))
    return out
