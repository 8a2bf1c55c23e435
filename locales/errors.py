"""Validation errors that carry a stable code and speak the user's language.

Codes are part of the public contract (forms, API and logs match on them); the
English wording lives in ``messages.yaml``, its translations in the gettext catalogs
(``locales.catalogs``), so translators see it with every other word of the UI.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from .catalogs import MessageTable
from .languages import LANGUAGES, language_base

#: Languages every message must exist in; others fall back to English.
MESSAGE_LANGUAGES = LANGUAGES


@lru_cache(maxsize=1)
def table() -> MessageTable:
    """The messages: English in ``messages.yaml``, read once, lazily, so importing costs nothing."""
    return MessageTable(Path(__file__).with_name("messages.yaml"))


def messages() -> Mapping[str, Mapping[str, str]]:
    """Every code's template in every language of MESSAGE_LANGUAGES (English where a catalog lacks one)."""
    t = table()
    return {code: {lang: t.text((code,), lang) for lang in MESSAGE_LANGUAGES} for code in t.data}


def _base_language(lang: str | None) -> str:
    """Reduce ``pl_PL``/``tr-TR``/``en_IN`` to the catalogue's language key."""
    return language_base(lang)


class _Defaulting(dict):
    """Keep unknown ``{placeholders}`` visible instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_message(code: str, params: Mapping[str, Any] | None = None, lang: str | None = "en") -> str:
    """Render a catalogue message in ``lang``, falling back to English, then to the code."""
    entry = messages().get(code)
    if entry is None:
        return code
    template = entry.get(_base_language(lang)) or entry["en"]
    return template.format_map(_Defaulting(params or {}))


class InvalidValue(ValueError):
    """A user-supplied value was rejected; ``code`` says why, ``params`` fill the message."""

    def __init__(self, code: str, params: Mapping[str, Any] | None = None):
        self.code = code
        self.params = dict(params or {})
        super().__init__(f"{code}: {self.message('en')}")

    def message(self, lang: str | None = "en") -> str:
        """Explain the problem to a human in ``lang`` (a language of LANGUAGES; others get English)."""
        return render_message(self.code, self.params, lang)

    def __reduce__(self):
        # Keep the exception picklable (task queues, multiprocessing) despite the custom init.
        return (type(self), (self.code, self.params))


class UnknownMarket(InvalidValue, KeyError):
    """An unknown market code; catchable as InvalidValue, ValueError or KeyError."""

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message; keep the readable ValueError form.
        return ValueError.__str__(self)
