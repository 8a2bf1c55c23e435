"""Labels in the consultant's language, read from ``labels.yaml`` (data, not code)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from locales import LANGUAGES, language_or_default
from locales.formatting import plural_category

LANGS = LANGUAGES  # the labels exist in every interface language
LABELS_FILE = Path(__file__).resolve().parent / "labels.yaml"


@lru_cache(maxsize=1)
def load_labels() -> dict[str, Any]:
    """The parsed ``labels.yaml`` (cached)."""
    with LABELS_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=64)
def norm_lang(lang: str | None) -> str:
    """``lang`` reduced to one the labels exist in ("pl_PL" -> "pl"); English otherwise."""
    return language_or_default(lang)


def humanize(key: str) -> str:
    """A readable fallback for a key with no label: ``"store_setup"`` -> ``"Store setup"``."""
    text = str(key).rsplit(".", 1)[-1].replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=8192)
def label(section: str, key: str | None, lang: str, default: str | None = None) -> str:
    """The label of ``key`` in ``section`` for ``lang``; ``default`` or a humanized key."""
    entry = load_labels().get(section, {}).get(key) if key is not None else None
    if isinstance(entry, dict):
        value = entry.get(norm_lang(lang)) or entry.get("en")
        if isinstance(value, str):
            return value
    if default is not None:
        return default
    return humanize(key or "")


def plural(section: str, key: str, lang: str, count: float, **fmt: Any) -> str:
    """A plural-aware label chosen by ``count`` (CLDR rules), formatted with ``fmt``."""
    lang = norm_lang(lang)
    forms = load_labels()[section][key][lang]
    category = plural_category(abs(count), lang)
    template = forms.get(category) or forms["other"]
    return template.format(**fmt)


def template(section: str, key: str, lang: str, **fmt: Any) -> str:
    """A label used as a ``str.format`` template; the values are plain data."""
    return label(section, key, lang).format(**fmt)
