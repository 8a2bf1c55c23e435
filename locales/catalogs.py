"""The gettext catalogs, read by language, for the pure packages' YAML message tables.

A message table (``profile_schema/messages.yaml``, ``locales/messages.yaml``,
``concierge/scoring/reasons.yaml``, ``renderers/labels.yaml``) holds each message once, in
English: its key and its English text. The translations live in the gettext catalogs
(``concierge/translations/<lang>/LC_MESSAGES/messages.po`` and the compiled ``.mo``) like
every other word of the UI, where ``pybabel extract`` puts them through
``locales.babel_extract`` (see ``babel.cfg``).

Each entry is a gettext message with a context: the table's name and the entry's key path
(``renderers/labels:words/medium``), so the same English in two places ("Medium" a band,
"Medium" a likelihood) can be translated twice. An entry that is a mapping of ``one`` and
``other`` is a plural pair (``npgettext``); it has a second, singular message for a
fractional number ("2.5 products": CLDR's ``other``, which gettext's integer plural rules
cannot choose), with the context ``<context>#fraction``.

Pure: no Flask, no import of ``concierge``; the catalogs are read from their directory
(shipped beside this package) with Babel, once per language and file version.
"""
from __future__ import annotations

import functools
import os
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from .languages import DEFAULT_LANGUAGE, supported_language

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader (~10x faster) when built with it

#: Where the compiled catalogs live (the ``concierge`` distribution ships them beside this package).
CATALOG_DIR = Path(__file__).resolve().parent.parent / "concierge" / "translations"
#: A plural entry of a table: a mapping of exactly these English forms.
PLURAL_KEYS = frozenset({"one", "other"})
FRACTION = "#fraction"

_LOCK = threading.Lock()
_CATALOGS: dict[tuple[str, str], tuple[int | None, Any]] = {}
_MO_FILES: dict[tuple[Any, str], tuple[str, str]] = {}  # (directory, language) -> (folder, .mo file)


def translations(lang: str | None, directory: Path | str | None = None):
    """The gettext catalog of ``lang`` (Babel ``Translations``); English passes through.

    Parsed once per process, language and ``.mo`` version (its modification time), read only.
    """
    from babel.support import NullTranslations, Translations

    base = supported_language(lang) or DEFAULT_LANGUAGE
    if base == DEFAULT_LANGUAGE:
        return NullTranslations()
    folder = directory if directory is not None else CATALOG_DIR
    where = _MO_FILES.get((folder, base))
    if where is None:  # the file's name is made once: a score's reasons look a catalog up ~20 times
        root = Path(folder)
        where = _MO_FILES[folder, base] = (str(root), str(root / base / "LC_MESSAGES" / "messages.mo"))
    # below, only `where`: a thread that finds the name already made, or a .mo compiled again
    # while the server runs, reloads from it (a local `root` was unset there: every page 500)
    try:
        stamp = os.stat(where[1]).st_mtime_ns
    except OSError:
        stamp = None
    key = (where[0], base)
    hit = _CATALOGS.get(key)
    if hit is None or hit[0] != stamp:
        with _LOCK:
            hit = _CATALOGS[key] = (stamp, Translations.load(where[0], [base]))
    return hit[1]


def table_name(path: Path | str) -> str:
    """A table's name in its messages' contexts: its folder and file stem (``renderers/labels``)."""
    p = Path(path)
    return f"{p.parent.name}/{p.stem}"


def context(table: str, keys: tuple[str, ...]) -> str:
    """The gettext context of the entry at ``keys`` of ``table``."""
    return f"{table}:{'/'.join(str(k) for k in keys)}"


def is_plural(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == PLURAL_KEYS


def entries(data: Any, keys: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every message of a parsed table: (key path, English text or {one, other}), in file order."""
    if isinstance(data, str) or is_plural(data):
        yield keys, data
    elif isinstance(data, Mapping):
        for k, v in data.items():
            yield from entries(v, (*keys, str(k)))
    elif data is not None:
        raise ValueError(f"{'/'.join(keys)}: a message is a text or a mapping of one and other, not {data!r}")


def _integral(count: float) -> bool:
    return float(count).is_integer()


class MessageTable:
    """One YAML message table: English texts by key, translated through the catalogs."""

    def __init__(self, path: Path | str, table: str | None = None):
        self.path = Path(path)
        self.table = table or table_name(self.path)

    @functools.cached_property
    def data(self) -> dict[str, Any]:
        with open(self.path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_FAST_LOADER) or {}

    def entry(self, *keys: str) -> Any:
        """The English text (or {one, other}) at ``keys``; None when the table has none."""
        node: Any = self.data
        for k in keys:
            if not isinstance(node, Mapping) or k not in node:
                return None
            node = node[k]
        return node

    def text(self, keys: tuple[str, ...], lang: str | None, english: str | None = None) -> str | None:
        """The entry at ``keys`` in ``lang`` (English when the catalog lacks it); None if no entry."""
        english = self.entry(*keys) if english is None else english
        if not isinstance(english, str):
            return None
        return translations(lang).pgettext(context(self.table, keys), english)

    def plural(self, keys: tuple[str, ...], count: float, lang: str | None) -> str | None:
        """The plural entry at ``keys`` chosen by ``count`` in ``lang`` (gettext's plural rule; a
        fractional count takes the entry's fraction form); None if no such entry."""
        forms = self.entry(*keys)
        if not is_plural(forms):
            return None
        ctx = context(self.table, keys)
        t = translations(lang)
        count = abs(float(count))
        if not _integral(count):
            return t.pgettext(ctx + FRACTION, forms["other"])
        return t.npgettext(ctx, forms["one"], forms["other"], int(count))

    def missing(self, lang: str, directory: Path | str | None = None) -> list[str]:
        """The contexts of the entries `lang`'s compiled catalog does not translate (empty: complete)."""
        if (supported_language(lang) or DEFAULT_LANGUAGE) == DEFAULT_LANGUAGE:
            return []  # English: the table itself
        catalog = getattr(translations(lang, directory), "_catalog", {})
        out = []
        for ctx, english in self.messages():
            key = f"{ctx}\x04{english[0] if isinstance(english, tuple) else english}"
            found = catalog.get((key, 0)) if isinstance(english, tuple) else catalog.get(key)
            if not found:
                out.append(ctx)
        return out

    def messages(self) -> Iterator[tuple[str, str | tuple[str, str]]]:
        """Every (context, English) of the table, as extraction sees it (plural pairs as tuples)."""
        for keys, value in entries(self.data):
            ctx = context(self.table, keys)
            if isinstance(value, str):
                yield ctx, value
            else:
                yield ctx, (value["one"], value["other"])
                yield ctx + FRACTION, value["other"]
