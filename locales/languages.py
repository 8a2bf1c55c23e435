"""The interface languages: the one list of languages we speak and the one reading of a language tag.

Every channel (web, API, CLI, survey, picture, reasons) takes its languages from here, so a new
language is added to this list and to the catalogs, nowhere else.
"""
from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "pl", "tr", "hi")
DEFAULT_LANGUAGE = "en"
#: Each language's name in itself, for language switchers (never translated: a reader looks for their own).
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "pl": "Polski", "tr": "Türkçe", "hi": "हिन्दी"}


def language_base(tag: str | None) -> str:
    """`pl_PL`, `tr-TR`, `en_IN` -> `pl`, `tr`, `en` (lower case, not checked); nothing -> the default."""
    if not tag:
        return DEFAULT_LANGUAGE
    return tag.replace("-", "_").split("_", 1)[0].lower()


def supported_language(tag: str | None) -> str | None:
    """The language we speak for this tag, or None (nothing given, or a language we do not speak)."""
    if not tag:
        return None
    base = language_base(tag)
    return base if base in LANGUAGES else None


def language_or_default(tag: str | None) -> str:
    """The language we speak for this tag, else the default (English)."""
    return supported_language(tag) or DEFAULT_LANGUAGE
