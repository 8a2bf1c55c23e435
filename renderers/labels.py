"""Labels in the consultant's language: English in ``labels.yaml`` (data, not code), the
translations in the gettext catalogs (read through ``locales.catalogs``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from locales import LANGUAGES, language_or_default
from locales.catalogs import MessageTable

LANGS = LANGUAGES  # the labels exist in every interface language
LABELS_FILE = Path(__file__).resolve().parent / "labels.yaml"


@lru_cache(maxsize=1)
def table() -> MessageTable:
    """The labels table (its YAML parsed once)."""
    return MessageTable(LABELS_FILE)


def load_labels() -> dict[str, Any]:
    """The parsed ``labels.yaml``: the English labels by section and key (plurals: {one, other})."""
    return table().data


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
    value = table().text((section, key), norm_lang(lang)) if key is not None else None
    if value:
        return value
    if default is not None:
        return default
    return humanize(key or "")


def plural(section: str, key: str, lang: str, count: float, **fmt: Any) -> str:
    """A plural-aware label chosen by ``count`` (the catalog's plural rule; a fraction takes the
    entry's fraction form, CLDR's ``other``), formatted with ``fmt``."""
    template = table().plural((section, key), count, norm_lang(lang))
    if template is None:
        raise KeyError(f"{section}.{key} has no plural forms")
    return template.format(**fmt)


def template(section: str, key: str, lang: str, **fmt: Any) -> str:
    """A label used as a ``str.format`` template; the values are plain data."""
    return label(section, key, lang).format(**fmt)
