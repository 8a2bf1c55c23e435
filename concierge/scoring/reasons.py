"""Reasons in words (every UI language) and the path to subscribe, for one scored trial.

A factor's effect is measured by occlusion: the calibrated probability minus the
probability with that question set to its typical value (from the training data).
The path to subscribe tries each checklist item the merchant can still do in the
trial shop and keeps the two or three that raise the probability most.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from locales import LANGUAGES
from locales.catalogs import MessageTable

from .features import FeatureSpace, TrialSnapshot

_FILE = Path(__file__).with_name("reasons.yaml")


@functools.lru_cache(maxsize=1)
def table() -> MessageTable:
    """The words: English in reasons.yaml, their translations in the gettext catalogs."""
    return MessageTable(_FILE)


def catalogue() -> dict[str, Any]:
    """The English words of reasons.yaml by section and key (units: {one, other})."""
    return table().data


def lang_of(lang: str | None) -> str:
    base = (lang or "en").replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else "en"


def text(section: str, key: str, lang: str, **params: Any) -> str:
    template = table().text((section, key), lang)
    if template is None:
        raise KeyError(f"{section}.{key}")
    return template.format(**params)


STANDS_OUT = 0.01   # a factor is given as a reason when it moves the chance by at least 1 pp
CLOSE_TO_BASE = 0.05  # "close to the base rate": within 5 pp of it


def _fmt_number(v: float, lang: str = "en") -> str:
    from locales.formatting import format_number

    v = float(v)
    return format_number(int(v) if v.is_integer() else round(v, 1), lang,
                         fraction_digits=None if v.is_integer() else 1)


def _duration(v: float, unit: str, lang: str) -> str:
    """Hours and minutes in the language's words: "3 h 20 min", "40 hours", "2 years"."""
    from babel import units as babel_units

    from locales.formatting import babel_locale, format_duration

    if unit == "minutes":
        v, unit = v / 60.0, "hours"
    if unit == "hours" and not float(v).is_integer():
        h, m = int(v), int(round((v - int(v)) * 60))
        if m == 60:
            h, m = h + 1, 0
        loc = babel_locale(lang)
        parts = ([babel_units.format_unit(h, "duration-hour", length="short", locale=loc)] if h else []) + \
                ([babel_units.format_unit(m, "duration-minute", length="short", locale=loc)] if m else [])
        return " ".join(parts) or babel_units.format_unit(0, "duration-minute", length="short", locale=loc)
    cldr = {"hours": "hour", "years": "year", "days": "day", "weeks": "week", "months": "month"}[unit]
    return format_duration(int(v) if float(v).is_integer() else round(v, 1), cldr, lang)


DURATIONS = ("minutes", "hours", "days", "weeks", "months", "years")


def with_unit(v: float, unit: str | None, lang: str) -> str:
    """A number with its unit, in the language's style: "40 hours", "12 produktów", "85 %", "3 sipariş"."""
    from locales.formatting import format_percent

    if unit in DURATIONS:
        return _duration(float(v), unit, lang)
    if unit == "percent":
        return format_percent(round(float(v)) / 100.0, lang)
    n = _fmt_number(v, lang)
    template = table().plural(("units", unit), float(v), lang) if unit else None
    if template is not None:
        return template.format(n=n)
    return f"{n} {unit}" if unit else n


def _money(amount: float, currency: str, lang: str) -> str:
    from locales.formatting import format_money

    import re

    try:  # a whole amount: without the ",00" (the typical value is rounded, the merchant's answer too)
        return re.sub(r"[.,]00(?=\D*$)", "", format_money(round(amount), currency, lang))
    except Exception:  # noqa: BLE001 - a currency Babel does not know: the plain number and its code
        return f"{_fmt_number(round(amount), lang)} {currency}"


def _round_typical(v: float) -> float:
    """A typical amount to two significant digits (1 234 -> 1 200): it is a median, not a fact."""
    if v <= 0 or not math.isfinite(v):
        return 0.0
    digits = max(0, int(math.floor(math.log10(v))) - 1)
    return float(round(v, -digits))


def _typical(space: FeatureSpace, key: str, snap: TrialSnapshot, lang: str, typical: np.ndarray | None,
             unit: str | None) -> str | None:
    """The typical value of a number question (the training median), with its unit; None if unknown."""
    if typical is None:
        return None
    idx = space.groups[key]
    col = space.columns[idx[0]]
    t = float(typical[idx[0]])
    if math.isnan(t):
        return None
    if col.kind == "money":
        from .features import EUR_RATES

        v = snap.values.get(key)
        currency = v.get("currency") if isinstance(v, Mapping) else None
        rate = EUR_RATES.get(currency) if isinstance(currency, str) else None
        if not rate:
            return None
        return _money(_round_typical(math.expm1(t) / rate), currency, lang)
    if col.kind == "date":
        return text("words", "days_left", lang, n=_fmt_number(round(t), lang))
    if col.kind == "number":
        return with_unit(round(t, 1), unit, lang)
    return None


def describe_factor(space: FeatureSpace, key: str, snap: TrialSnapshot, lang: str,
                    typical: np.ndarray | None = None) -> str:
    """"Payments connected: yes", "Hours a week: 40 hours, typical 20 hours", "Hours a week: not known yet".

    Numbers carry their unit (the schema's `unit`, money its currency, activity its own) and,
    given `typical` (the training medians, `Bundle.reference`), the typical value beside them.
    """
    label = space.key_label(key, lang)
    cols = [space.columns[i] for i in space.groups[key]]
    kind = cols[0].qtype
    unit = cols[0].unit

    def valued(value: str) -> str:
        t = _typical(space, key, snap, lang, typical, unit)
        if t is None or t == value:
            return text("templates", "value", lang, label=label, value=value)
        return text("templates", "value_typical", lang, label=label, value=value, typical=t)

    if key == "market":
        return text("templates", "value", lang, label=label, value=snap.market or "?")
    if key.startswith("activity."):
        from .features import _activity

        v = _activity(snap, key)
        if v is None:
            return text("templates", "not_known", lang, label=label)
        return valued(with_unit(v, unit, lang))
    v = snap.values.get(key)
    if v is None:
        if kind in ("text", "phone", "email", "tax_id"):
            return text("templates", "value", lang, label=label, value=text("words", "not_answered", lang))
        return text("templates", "not_known", lang, label=label)
    if kind == "yes_no":
        value = text("words", "yes" if v is True else "no", lang)
    elif kind == "single_choice":
        c = next((c for c in cols if c.choice == v), None)
        value = (c.choice_labels.get(lang) or c.choice_labels.get("en")) if c else text("words", "other", lang)
    elif kind == "multi_choice":
        names = []
        for item in (v if isinstance(v, (list, tuple)) else [v]):
            c = next((c for c in cols if c.choice == item), None)
            names.append((c.choice_labels.get(lang) or c.choice_labels.get("en")) if c else str(item))
        value = ", ".join(names) if names else text("words", "none", lang)
    elif kind == "money" and isinstance(v, Mapping):
        amount, currency = v.get("amount", 0), str(v.get("currency") or "")
        value = _money(float(amount), currency, lang) if currency else _fmt_number(amount, lang)
        return valued(value)
    elif kind in ("number", "scale") and isinstance(v, (int, float)):
        return valued(with_unit(v, unit, lang))
    elif kind == "date" and isinstance(v, str):
        return text("templates", "value", lang, label=label, value=str(v))
    elif kind in ("text", "phone", "email", "tax_id"):
        value = text("words", "answered", lang)  # never the content itself
    else:
        value = str(v)
    return text("templates", "value", lang, label=label, value=value)


def meaningless_factors(bundle: Any) -> frozenset[str]:
    """Factors never given as reasons for this model, though it uses them.

    With an imported history (a model trained on a user's schema) every filled column of the
    file counts as an "answer" at the trial start, so "Survey answers given: 19" says only
    how wide the file was. The trial's age (`activity.trial_day`) is never a reason: it says
    how much a trial could show yet, nothing the merchant or a consultant can change.
    """
    hidden = {"activity.trial_day"}
    if getattr(bundle, "schema_yaml", None):
        hidden.add("activity.answers")
    return frozenset(hidden)


def summary(p: float, base_rate: float | None, stands_out: bool, lang: str) -> str | None:
    """The score beside the base rate, and an honest sentence when no single factor stands out."""
    if not stands_out:
        if base_rate is None:
            return text("templates", "nothing_stands_out", lang)
        key = "nothing_stands_out_close" if abs(p - base_rate) < CLOSE_TO_BASE else "nothing_stands_out_far"
        return text("templates", key, lang, p=percent(p), base=percent(base_rate))
    if base_rate is None:
        return None
    return text("templates", "against_base_rate", lang, p=percent(p), base=percent(base_rate))


def action_text(space: FeatureSpace, key: str, lang: str) -> str:
    action = table().text(("actions", key), lang)
    if action is not None:
        return action
    return text("templates", "generic_action", lang, label=space.key_label(key, lang))


def points(delta: float, lang: str = "en") -> str:
    """Percentage points with one decimal in the language's style (pl and tr: "2,1")."""
    from locales.formatting import format_number

    return format_number(round(abs(delta) * 100, 1), lang, fraction_digits=1)


def percent(p: float) -> str:
    return str(int(math.floor(p * 100 + 0.5)))


def differs(row: np.ndarray, ref: np.ndarray, idx: list[int]) -> bool:
    a, b = row[idx], ref[idx]
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return not bool(np.all(same))


# ------------------------------------------------------------- stored texts, per language
#
# A score is stored once with its numbers and the texts in every UI language
# (`details["texts"][lang]`: history, fallback message, reason and path texts, in the order
# of `details["reasons"]` and `details["path"]`). A reader picks its language from there, so
# reading a score never makes a new one.

def honesty_texts(honesty: Mapping[str, Any]) -> dict[str, Any]:
    """The words of `Scorer._honesty` (how much history; the fallback's message, if any)."""
    fallback = honesty.get("fallback")
    return {"history": honesty.get("history"),
            "fallback": fallback.get("message") if isinstance(fallback, Mapping) else None}


def explanation_texts(explained: Mapping[str, Any]) -> dict[str, Any]:
    """The words of `Scorer.explain`: each reason's and each path step's text, in order."""
    reasons = explained.get("reasons") or {}
    return {"reasons": {d: [r.get("text") for r in reasons.get(d) or ()] for d in ("up", "down")},
            "summary": explained.get("summary"),
            "path": [s.get("text") for s in explained.get("path") or ()]}


def localized(details: Mapping[str, Any] | None, lang: str | None) -> dict[str, Any]:
    """A stored score's details with its texts in `lang`, when the score carries that language.

    Otherwise (an older score stored in one language, or no language asked for) the details
    as stored, whose "lang" says which language they are in. "texts" itself is not returned.
    """
    out = {k: v for k, v in (details or {}).items() if k != "texts"}
    texts = (details or {}).get("texts")
    chosen = texts.get(lang_of(lang)) if lang and isinstance(texts, Mapping) else None
    if not isinstance(chosen, Mapping):
        return out
    out["lang"] = lang_of(lang)
    if chosen.get("history") is not None:
        out["history"] = chosen["history"]
    if chosen.get("summary") is not None and "summary" in out:
        out["summary"] = chosen["summary"]
    deliberating = out.get("deliberating")
    if isinstance(deliberating, Mapping) and chosen.get("deliberating"):
        out["deliberating"] = {**deliberating, "text": chosen["deliberating"]}
    fallback = out.get("fallback")
    if isinstance(fallback, Mapping) and chosen.get("fallback"):
        out["fallback"] = {**fallback, "message": chosen["fallback"]}

    def overlay(items: Any, words: Any) -> Any:
        if not isinstance(items, list) or not isinstance(words, list) or len(items) != len(words):
            return items
        return [{**item, "text": word} if isinstance(item, Mapping) and word is not None else item
                for item, word in zip(items, words)]

    reasons = out.get("reasons")
    if isinstance(reasons, Mapping) and isinstance(chosen.get("reasons"), Mapping):
        out["reasons"] = {d: overlay(v, chosen["reasons"].get(d)) for d, v in reasons.items()}
    if "path" in out and "path" in chosen:
        out["path"] = overlay(out["path"], chosen["path"])
    return out
