"""The call's agenda: 2-4 advice items for this shop's stage, gaps and market.

Items are stored as codes with raw parameters (checklist keys, integration keys, topic
choices), never as sentences, so each reader sees them in their own language: a Polish
consultant reads Polish, a manager reviewing the same call reads English.
``render_agenda``/``render_reason`` turn them into sentences with the reader's gettext,
the schema's labels and the market card's labels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

import locales
from locales.formatting import format_date
from renderers.labels import norm_lang

from .facts import ShopFacts
from .messages import AGENDA, CANCEL_REASONS, REASONS, Gettext, render

__all__ = ["AgendaItem", "build_agenda", "render_agenda", "render_reason", "render_cancel_reason",
           "MIN_ITEMS", "MAX_ITEMS"]

MIN_ITEMS, MAX_ITEMS = 2, 4
_CATEGORY_OF = {"readiness.payments_connected": "payments", "readiness.shipping_connected": "shipping"}


@dataclass(frozen=True)
class AgendaItem:
    """One advice item: a code from ``messages.AGENDA`` and its raw parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AgendaItem":
        return cls(str(data["code"]), dict(data.get("params") or {}))


def _integration_items(facts: ShopFacts, category: str | None = None) -> list[AgendaItem]:
    return [AgendaItem("integration", {"expected": key, "providers": list(providers)})
            for key, cat, providers in facts.integration_gaps if category is None or cat == category]


def _checklist_items(facts: ShopFacts) -> list[AgendaItem]:
    """The first open checklist item, and with it the integration that closes it."""
    if not facts.open_items:
        return []
    key, done = facts.open_items[0]
    items = [AgendaItem("checklist" if done is False else "checklist_unknown", {"item": key})]
    category = _CATEGORY_OF.get(key)
    if category:
        items = _integration_items(facts, category)[:1] + items
    return items


def build_agenda(facts: ShopFacts, trigger: str, params: Mapping[str, Any] | None = None,
                 *, note: str | None = None) -> tuple[AgendaItem, ...]:
    """Pick 2-4 advice items for a call fired by ``trigger`` (its type) with ``params``."""
    params = params or {}
    first: list[AgendaItem] = []
    if trigger == "callback" and note:
        first.append(AgendaItem("callback_note", {"note": note}))
    elif trigger == "disconnected":
        category = params.get("category", "payments")
        providers = next((list(p) for _k, c, p in facts.integration_gaps if c == category), [])
        first.append(AgendaItem("reconnect", {"category": category, "providers": providers}))
    elif trigger == "launched":
        first.append(AgendaItem("first_orders"))
    elif trigger == "subscribed":
        first.append(AgendaItem("monitoring"))
    elif trigger == "inactive":
        first.append(AgendaItem("activity"))
    elif trigger in ("stage_stalled", "score_drop"):
        first.append(AgendaItem("blocker"))
    elif trigger == "survey_help" and facts.help_topics:
        first.append(AgendaItem("help", {"topics": list(facts.help_topics)}))
    rest: list[AgendaItem] = []
    if facts.stage != "launched":
        rest += _checklist_items(facts)
        rest += _integration_items(facts)
    rest += [AgendaItem("path", {"action": a}) for a in facts.path[:2]]
    if facts.needs and trigger != "survey_help":
        rest.append(AgendaItem("help", {"topics": list(facts.needs[:2])}))
    items: list[AgendaItem] = []
    seen: set[tuple[str, str]] = set()
    mentioned: set[str] = set()
    for item in first + rest:
        ident = (item.code, repr(sorted(item.params.items())))
        subject = str(item.params.get("item") or item.params.get("action") or item.params.get("expected") or "")
        if ident in seen or (subject and subject in mentioned):
            continue
        seen.add(ident)
        if subject:
            mentioned.add(subject)
        items.append(item)
        if len(items) == MAX_ITEMS:
            break
    for filler in (AgendaItem("blocker"), AgendaItem("monitoring" if facts.stage == "launched" else "activity")):
        if len(items) >= MIN_ITEMS:
            break
        if filler not in items:
            items.append(filler)
    return tuple(items)


# ------------------------------------------------------------------ rendering

def _schema():
    import profile_schema

    return profile_schema.load_schema()


def _question_label(key: str, lang: str) -> str:
    schema = _schema()
    q = schema.questions.get(key)
    return q.label(lang) if q is not None else key.rsplit(".", 1)[-1].replace("_", " ")


def _topics(topics: Any, lang: str) -> str:
    q = _schema().questions.get("needs.help_with")
    return ", ".join(q.choice_label(t, lang) if q is not None else str(t) for t in topics or ())


def _market(code: str | None):
    try:
        return locales.get_market(code) if code else None
    except KeyError:
        return None


def _expected_label(market: Any, key: str, lang: str) -> str:
    for e in getattr(market, "expected_integrations", ()):
        if e.key == key:
            return e.label_for(lang)
    return key


def render_agenda(items: Any, *, market: str | None, lang: str | None = "en",
                  gettext: Gettext | None = None) -> list[str]:
    """The agenda's items as sentences in ``lang`` (``gettext``: that language's catalog)."""
    lang = norm_lang(lang)
    m = _market(market)
    out = []
    for raw in items or ():
        item = raw if isinstance(raw, AgendaItem) else AgendaItem.from_dict(raw)
        p = item.params
        template = AGENDA.get(item.code)
        if template is None:
            continue
        values: dict[str, Any] = {}
        if item.code in ("checklist", "checklist_unknown"):
            values["item"] = _question_label(p.get("item", ""), lang)
        elif item.code == "integration":
            values = {"what": _expected_label(m, p.get("expected", ""), lang),
                      "providers": ", ".join(p.get("providers") or ())}
        elif item.code == "reconnect":
            category = p.get("category", "")
            values = {"category": m.category_label(category, lang) if m else category,
                      "providers": ", ".join(p.get("providers") or ()) or "-"}
        elif item.code == "help":
            values["topics"] = _topics(p.get("topics"), lang)
        elif item.code == "path":
            values["step"] = _question_label(p.get("action", ""), lang)
        elif item.code == "callback_note":
            values["note"] = str(p.get("note", ""))
        out.append(render(template, values, gettext))
    return out


def _date_text(value: Any, lang: str, market: Any) -> str:
    if not value:
        return "?"
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)
    if isinstance(moment, datetime) and market is not None:
        moment = moment.astimezone(market.tz).date()
    if isinstance(moment, (date, datetime)):
        return format_date(moment, lang, market=market)
    return str(value)


def render_reason(reason: str, params: Mapping[str, Any] | None, *, market: str | None,
                  lang: str | None = "en", gettext: Gettext | None = None) -> str:
    """Why a call was planned, in ``lang``: e.g. "Stuck at 'Products' since 3 Dec 2026"."""
    from renderers.labels import label

    lang = norm_lang(lang)
    m = _market(market)
    p = dict(params or {})
    template = REASONS.get(reason)
    if template is None:
        return reason
    values: dict[str, Any] = {}
    if "date" in p:
        values["date"] = _date_text(p["date"], lang, m)
    if reason == "stage_stalled":
        values["stage"] = label("stages", p.get("stage"), lang)
    elif reason == "disconnected":
        category = p.get("category", "")
        values["category"] = m.category_label(category, lang) if m else category
    elif reason == "subscribed":
        values["weeks"] = p.get("weeks", "?")
    elif reason == "score_drop":
        values["points"] = p.get("points", "?")
    elif reason == "survey_help":
        values["topics"] = _topics(p.get("topics"), lang)
    elif reason == "market_follow_up":
        step = next((s for s in m.follow_up.steps if s.key == p.get("step")), None) if m else None
        values["step"] = step.label_for(lang) if step is not None else str(p.get("step", ""))
    return render(template, values, gettext)


def render_cancel_reason(code: str | None, params: Mapping[str, Any] | None = None,
                         gettext: Gettext | None = None) -> str:
    """Why a call was withdrawn, in the reader's language."""
    if not code:
        return ""
    template = CANCEL_REASONS.get(code)
    return render(template, params, gettext) if template else code
