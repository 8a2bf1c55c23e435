"""Reasons in words (en, pl, tr) and the path to subscribe, for one scored trial.

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
import yaml

from locales import LANGUAGES

from .features import FeatureSpace, TrialSnapshot

_FILE = Path(__file__).with_name("reasons.yaml")


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Any]:
    with open(_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def lang_of(lang: str | None) -> str:
    base = (lang or "en").replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else "en"


def text(section: str, key: str, lang: str, **params: Any) -> str:
    entry = catalogue()[section][key]
    return (entry.get(lang) or entry["en"]).format(**params)


def _fmt_number(v: float) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.1f}"


def describe_factor(space: FeatureSpace, key: str, snap: TrialSnapshot, lang: str) -> str:
    """"Payments connected: yes", "Category: Fashion", "Hours a week: not known yet"."""
    label = space.key_label(key, lang)
    cols = [space.columns[i] for i in space.groups[key]]
    kind = cols[0].qtype
    if key == "market":
        return text("templates", "value", lang, label=label, value=snap.market or "?")
    if key.startswith("activity."):
        from .features import _activity

        v = _activity(snap, key)
        if v is None:
            return text("templates", "not_known", lang, label=label)
        return text("templates", "value", lang, label=label, value=_fmt_number(v))
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
        value = f"{_fmt_number(v.get('amount', 0))} {v.get('currency', '')}".strip()
    elif kind in ("number", "scale") and isinstance(v, (int, float)):
        value = _fmt_number(v)
    elif kind in ("text", "phone", "email", "tax_id"):
        value = text("words", "answered", lang)  # never the content itself
    else:
        value = str(v)
    return text("templates", "value", lang, label=label, value=value)


def action_text(space: FeatureSpace, key: str, lang: str) -> str:
    acts = catalogue().get("actions", {})
    if key in acts:
        return acts[key].get(lang) or acts[key]["en"]
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
