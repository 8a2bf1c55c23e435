"""Adapter: a ``profile_schema.Profile`` (plus score, changes, next step) -> ``PictureInput``.

The only module of the package that knows the profile's shape. It reads the profile
duck-typed (attributes named as in ``profile_schema/profile.py``) so the renderer does
not import the fold, and it takes display labels for schema choices from the interview
schema (the schema is data: the picture's labels for business types, topics, checklist
items and providers come from there, in en, pl and tr).

Unknown stays unknown: a question nobody answered becomes None, never a default. In
particular a launch checklist where no item is known yet gives no stage and no percent
(the fold reports "setting_up" and 0 %, which the picture would show as a fact).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable, Mapping

from locales import MARKET_CODES, get_market

from .labels import LANGS
from .picture_input import FEATURE_CATEGORIES, FIELD_KEYS, FeatureState, PictureInput, ScoreInfo


# Interview question -> the picture fields it feeds (for "what changed since the last call").
_CHANGE_FIELDS = {
    "owner.name": ("owner.name",),
    "owner.language": ("owner.language",),
    "owner.hours_per_week": ("owner.hours_per_week",),
    "experience.sold_online_before": ("experience.level",),
    "experience.platforms": ("experience.level",),
    "experience.years_selling_online": ("experience.level",),
    "experience.tech_comfort": ("experience.level",),
    "experience.known_topics": ("experience.known_topics",),
    "needs.help_with": ("needs.help_with",),
    "needs.main_goal": ("needs.main_goal",),
    "business.type": ("business.type",),
    "business.category": ("business.category",),
    "business.model": ("business.model",),
    "business.catalogue_size": ("business.catalogue_size",),
    "business.expected_monthly_turnover": ("business.turnover",),
    "business.sells_abroad": ("business.sells_abroad",),
    "readiness.domain_connected": ("readiness.percent", "features.domain"),
    "readiness.payments_connected": ("readiness.percent", "features.payments"),
    "readiness.shipping_connected": ("readiness.percent", "features.shipping"),
}
_EXTRA_FIELDS = frozenset(FIELD_KEYS) | {"needs.main_goal"}



def _value(profile: Any, key: str) -> Any:
    facts = getattr(profile, "facts", None) or {}
    fact = facts.get(key)
    return None if fact is None else getattr(fact, "value", None)


def _known(profile: Any, key: str) -> bool:
    facts = getattr(profile, "facts", None) or {}
    return key in facts


def _local_date(moment: datetime | date | None, market: str | None) -> date | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        if moment.tzinfo is not None and market in MARKET_CODES:
            moment = moment.astimezone(get_market(market).tz)
        return moment.date()
    return moment


def _score(score: Any) -> ScoreInfo | None:
    """Accept a ScoreInfo, a probability, a mapping or any object with the same names."""
    if score is None or isinstance(score, ScoreInfo):
        return score
    if isinstance(score, (int, float)):
        return ScoreInfo(float(score))
    get = score.get if isinstance(score, Mapping) else (lambda k, d=None: getattr(score, k, d))
    probability = get("probability", None)
    if probability is None:
        probability = get("score", None)
    reason = get("reason", None)
    if reason is None:
        reasons = get("reasons", None)
        if reasons:
            first = reasons[0]
            reason = first if isinstance(first, str) else getattr(first, "text", None) or str(first)
    fallback = bool(get("fallback", False) or get("is_fallback", False))
    return ScoreInfo(None if probability is None else float(probability), reason, fallback)


def _changes(changes: Iterable[Any]) -> tuple[frozenset[str], frozenset[str]]:
    changed: set[str] = set()
    added: set[str] = set()
    for change in changes or ():
        if isinstance(change, str):
            key, before = change, object()
        else:
            key = getattr(change, "key", None)
            before = getattr(change, "before", object())
            if key is None:
                continue
        if key in _CHANGE_FIELDS:
            fields = _CHANGE_FIELDS[key]
        elif key.startswith("features."):
            fields = (key,)
        elif key.startswith("readiness."):
            fields = ("readiness.percent",)
        elif key in _EXTRA_FIELDS:
            fields = (key,)
        else:
            fields = ()
        is_new = before is None or before == [] or before == ()
        for f in fields:
            (added if is_new else changed).add(f)
    changed -= added
    return frozenset(changed), frozenset(added)


def _choice_labels(schema: Any, values: Mapping[str, Iterable[str]]) -> dict:
    """{"field:choice": {lang: label}} for the choices this profile actually shows.

    The field "readiness" is special: its values are checklist question keys, labelled
    by the questions themselves.
    """
    if schema is None:
        return {}
    questions = getattr(schema, "questions", {})
    out: dict[str, dict[str, str]] = {}
    for field, keys in values.items():
        for key in keys:
            if key is None:
                continue
            if field == "readiness":
                q = questions.get(key)
                if q is not None:
                    out[f"readiness:{key}"] = {lang: q.label(lang) for lang in LANGS}
                continue
            question = questions.get(field)
            if question is not None and key in getattr(question, "choices", {}):
                out[f"{field}:{key}"] = {lang: question.choice_label(key, lang) for lang in LANGS}
    return out


def _load_schema(version: int | None):
    try:
        from profile_schema import load_schema
    except ImportError:  # pragma: no cover - the renderer still works without labels
        return None
    try:
        return load_schema(version)
    except Exception:  # pragma: no cover - an unknown version: fall back to the latest
        return load_schema()


def picture_input_from_profile(
    profile: Any,
    *,
    score: Any = None,
    changes: Iterable[Any] = (),
    next_step: str | None = None,
    last_contact: date | datetime | None = None,
    schema: Any = None,
    next_call: str | None = None,
) -> PictureInput:
    """Build the picture's view model from a folded profile.

    ``score``: a ScoreInfo, a probability, or an object/mapping with ``probability``,
    ``reason`` (or ``reasons``) and ``fallback``. ``changes``: ``profile_schema.Change``
    objects (or question keys) since the last call; a change from nothing is drawn as
    "new". ``schema``: the interview schema for choice labels (default: the profile's
    schema version, loaded from ``profile_schema``). ``next_call``: the next planned call
    as one line already in the reader's language (the caller formats it).
    """
    market = getattr(profile, "market", None)
    business = getattr(profile, "business", None)
    readiness = getattr(profile, "readiness", None)

    # Readiness: unknown when not a single checklist item is known yet.
    items = tuple(getattr(readiness, "items", ()) or ())
    any_known = any(getattr(i, "done", None) is not None for i in items)
    stage = getattr(readiness, "stage", None) if any_known else None
    percent = getattr(readiness, "percent", None) if any_known else None
    first_open = getattr(readiness, "first_open", None) if any_known else None

    feats = {}
    for cat in FEATURE_CATEGORIES:
        f = (getattr(profile, "features", None) or {}).get(cat)
        if f is not None:
            feats[cat] = FeatureState(getattr(f, "connected", None), tuple(getattr(f, "providers", ()) or ()))

    turnover = getattr(business, "turnover", None) if business is not None else None
    amount = currency = None
    if isinstance(turnover, Mapping):
        amount = turnover.get("amount")
        currency = turnover.get("currency")

    known_topics = _value(profile, "experience.known_topics")
    needs = getattr(profile, "needs", None)
    if schema is None:
        schema = _load_schema(getattr(profile, "schema_version", None))

    pic_values: dict[str, Iterable[str]] = {
        "business.type": [getattr(business, "type", None)],
        "business.category": [getattr(business, "category", None)],
        "experience.known_topics": list(known_topics or ()),
        "needs.help_with": list(needs or ()),
        "readiness": [first_open],
    }
    for cat, state in feats.items():
        if cat != "domain":
            pic_values[f"features.{cat}"] = list(state.providers)
    labels = _choice_labels(schema, pic_values)

    changed, added = _changes(changes)
    return PictureInput(
        shop_id=getattr(profile, "shop", None) or None,
        owner_name=_value(profile, "owner.name"),
        market=market,
        merchant_language=getattr(profile, "language", None),
        persona=getattr(profile, "persona", None),
        hours_per_week=_value(profile, "owner.hours_per_week"),
        experience_level=getattr(profile, "experience_level", None),
        known_topics=tuple(known_topics) if _known(profile, "experience.known_topics") else None,
        needs=tuple(needs or ()) if _known(profile, "needs.help_with") else None,
        main_goal=_value(profile, "needs.main_goal"),
        business_type=getattr(business, "type", None),
        business_category=getattr(business, "category", None),
        business_model=getattr(business, "model", None),
        catalogue_size=getattr(business, "catalogue_size", None),
        turnover_band=getattr(business, "turnover_band", None),
        turnover_amount=amount,
        turnover_currency=currency,
        sells_abroad=getattr(business, "sells_abroad", None),
        stage=stage,
        percent=percent,
        first_open=first_open,
        features=feats or None,
        score=_score(score),
        next_step=next_step,
        next_call=next_call,
        changed=changed,
        added=added,
        as_of=_local_date(getattr(profile, "as_of", None), market),
        last_contact=_local_date(last_contact, market),
        choice_labels=labels or None,
    )
