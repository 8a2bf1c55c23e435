"""UI languages: which one a request gets, and checks that the catalogs are complete.

Order of choice: the logged-in user's own setting; then, on a shop's pages, a language the
browser asks for among those the merchant's market offers (Hindi for India), else the
market's default language; then the browser's Accept-Language; then English.
"""
from __future__ import annotations

import gettext
from pathlib import Path
from typing import Any, Iterable

from locales import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    MARKET_CODES,
    MarketDataError,
    market_language,
    market_languages,
    supported_language,
)

#: The catalogs' languages: every language we speak but English, the source language of the catalogs.
TRANSLATED: tuple[str, ...] = tuple(lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE)
TRANSLATIONS_DIR = Path(__file__).with_name("translations")
ROOT = Path(__file__).resolve().parent.parent  # where babel.cfg's paths start


def base_language(lang: str | None) -> str | None:
    """`pl_PL`, `tr-TR` -> `pl`, `tr`; None or an unsupported language -> None."""
    return supported_language(lang)


def _accepted(accept_languages: Any, offered: Iterable[str]) -> str | None:
    """The language of `offered` the browser prefers, or None when it asks for none of them.

    Tags are read in the browser's order of preference by their base ("hi-IN" asks for "hi":
    werkzeug's best_match would pass over it for a later "en").
    """
    if accept_languages is None:
        return None
    offered = tuple(offered)
    tags = [item[0] if isinstance(item, tuple) else item for item in accept_languages]
    for tag in tags:
        lang = base_language(tag)
        if lang in offered:
            return lang
    return None


def choose_language(*, user_language: str | None = None, market: str | None = None,
                    accept_languages: Any = None) -> str:
    """The UI language: user setting, then a browser language the market offers, then the market
    language, then Accept-Language, then en.

    `accept_languages` is werkzeug's `request.accept_languages` (or any object with
    `best_match`), or a plain list of language tags in order of preference.
    """
    lang = base_language(user_language)
    if lang:
        return lang
    if market and market.strip().upper() in MARKET_CODES:
        try:
            return _accepted(accept_languages, market_languages(market)) or market_language(market)
        except MarketDataError:  # a broken override file: its error page still needs a language
            pass
    return _accepted(accept_languages, LANGUAGES) or DEFAULT_LANGUAGE


# ---------------------------------------------------------------- catalog checks

def po_path(lang: str, directory: Path | None = None) -> Path:
    return (directory or TRANSLATIONS_DIR) / lang / "LC_MESSAGES" / "messages.po"


def mo_path(lang: str, directory: Path | None = None) -> Path:
    return (directory or TRANSLATIONS_DIR) / lang / "LC_MESSAGES" / "messages.mo"


def _read_po(path: Path):
    from babel.messages.pofile import read_po

    with open(path, "rb") as fh:
        return read_po(fh, locale=path.parent.parent.name)


def catalog_problems(lang: str, directory: Path | None = None) -> list[str]:
    """Every message of `lang`'s catalog that is untranslated or fuzzy, and a stale .mo."""
    path = po_path(lang, directory)
    if not path.exists():
        return [f"{lang}: {path} is missing"]
    catalog = _read_po(path)
    problems = []
    for msg in catalog:
        if not msg.id:
            continue  # the header
        if msg.fuzzy:
            problems.append(f"{lang}: fuzzy translation of {_show(msg.id, msg.context)}")
        strings = msg.string if isinstance(msg.string, (tuple, list)) else (msg.string,)
        if not all(s and s.strip() for s in strings):
            problems.append(f"{lang}: no translation of {_show(msg.id, msg.context)}")
    if not problems:
        problems.extend(_stale_mo(lang, catalog, directory))
    return problems


def _show(msgid: Any, context: str | None = None) -> str:
    text = repr(msgid[0] if isinstance(msgid, (tuple, list)) else msgid)
    return f"{text} (context {context!r})" if context else text


def _stale_mo(lang: str, catalog: Any, directory: Path | None) -> list[str]:
    """The compiled .mo must carry exactly the .po's translations (it is committed too)."""
    path = mo_path(lang, directory)
    if not path.exists():
        return [f"{lang}: {path} is missing (run `concierge locales compile`)"]
    with open(path, "rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    for msg in catalog:
        if not msg.id:
            continue
        prefix = f"{msg.context}\x04" if msg.context else ""
        if isinstance(msg.id, (tuple, list)):
            for i, s in enumerate(msg.string):
                if compiled.get((prefix + msg.id[0], i)) != s:
                    return [f"{lang}: {path.name} is out of date with the .po (run `concierge locales compile`)"]
        elif compiled.get(prefix + msg.id) != msg.string:
            return [f"{lang}: {path.name} is out of date with the .po (run `concierge locales compile`)"]
    return []


def catalog_message_ids(lang: str, directory: Path | None = None) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in _read_po(po_path(lang, directory)) if m.id}


def catalog_message_keys(lang: str, directory: Path | None = None) -> set[tuple[str | None, str]]:
    """Every (context, msgid) of `lang`'s catalog (context None for most messages)."""
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0])
            for m in _read_po(po_path(lang, directory)) if m.id}


def compile_catalogs(directory: Path | None = None, languages: Iterable[str] = TRANSLATED) -> list[Path]:
    """Write each language's .mo from its .po (the .mo files are committed alongside)."""
    from babel.messages.mofile import write_mo

    written = []
    for lang in languages:
        catalog = _read_po(po_path(lang, directory))
        with open(mo_path(lang, directory), "wb") as fh:
            write_mo(fh, catalog)
        written.append(mo_path(lang, directory))
    return written


def schema_label_problems(schema: Any = None, languages: Iterable[str] = LANGUAGES) -> list[str]:
    """Every question and choice of the interview schema lacking a label in a UI language, and
    every survey question lacking the merchant's own wording (`ask`) in one."""
    if schema is None:
        from profile_schema import load_schema

        schema = load_schema()
    problems = []
    for q in schema.questions.values():
        for lang in languages:
            if not str(q.labels.get(lang) or "").strip():
                problems.append(f"schema: {q.key} has no {lang} label")
            if "survey" in q.sources and not str(q.asks.get(lang) or "").strip():
                problems.append(f"schema: survey question {q.key} has no {lang} merchant wording (ask)")
        for c in q.choices.values():
            for lang in languages:
                if not str(c.labels.get(lang) or "").strip():
                    problems.append(f"schema: {q.key} choice {c.key} has no {lang} label")
                if c.asks and not str(c.asks.get(lang) or "").strip():
                    problems.append(f"schema: {q.key} choice {c.key} has no {lang} merchant wording (ask)")
    return problems


def translations(lang: str | None):
    """The gettext catalog of `lang` outside a request (CLI, operations); English passes through.

    The same cache as the pure packages' message tables read (`locales.catalogs`): parsed once
    per process and catalog file, read only."""
    from locales.catalogs import translations as load

    return load(lang, TRANSLATIONS_DIR)


# What pybabel extracts (babel.cfg says the same for the command line).
_YAML = "locales.babel_extract.extract_yaml_messages"  # babel.cfg sections cannot hold a colon
#: The pure packages' message tables: English in the YAML, translations in the catalogs.
MESSAGE_TABLES = ("profile_schema/messages.yaml", "locales/messages.yaml", "concierge/scoring/reasons.yaml",
                  "renderers/labels.yaml")
_METHOD_MAP = [("concierge/**.py", "python"), ("audits/**.py", "python"), ("concierge/templates/**.html", "jinja2"),
               *((table, _YAML) for table in MESSAGE_TABLES)]
_KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
             "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}


def source_entries(root: Path | None = None) -> dict[tuple[str | None, str], str | None]:
    """Every message the code, templates and message tables use, as extraction finds it:
    {(context, msgid): plural msgid, or None for a singular}; context is None but for the tables'."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    root = root or ROOT
    keywords = {**DEFAULT_KEYWORDS, **_KEYWORDS}
    found: dict[tuple[str | None, str], str | None] = {}
    for _file, _line, msg, _comments, ctx in extract_from_dir(
            str(root), _METHOD_MAP, keywords=keywords,
            options_map={"concierge/templates/**.html": {"extensions": "jinja2.ext.do"}}):
        if isinstance(msg, (tuple, list)):
            if msg[0]:
                key = (ctx, msg[0])
                found[key] = msg[1] if len(msg) > 1 and msg[1] else found.get(key)
        elif msg:
            found.setdefault((ctx, msg), None)
    return found


def source_message_ids(root: Path | None = None) -> set[str]:
    """Every msgid the code, templates and message tables pass to gettext today."""
    return {msgid for _ctx, msgid in source_entries(root)}


def untranslated_source_messages(lang: str, root: Path | None = None,
                                 directory: Path | None = None) -> list[str]:
    """Messages in the code, templates or message tables that `lang`'s catalog lacks (by context
    and msgid: a table's entry is not covered by the same English elsewhere)."""
    have = catalog_message_keys(lang, directory)
    missing = sorted(set(source_entries(root)) - have, key=lambda k: (k[0] or "", k[1]))
    return [f"{lang}: {_show(m, ctx)} is used in the code but missing from the catalog" for ctx, m in missing]


def source_messages(root: Path | None = None) -> dict[str, str | None]:
    """Every message the code and templates use without a context: {msgid: plural msgid, or None}."""
    return {msgid: plural for (ctx, msgid), plural in source_entries(root).items() if ctx is None}


def merge_new_messages(translated: dict[str, dict[str, Any]] | None = None,
                       root: Path | None = None, directory: Path | None = None) -> dict[str, list[str]]:
    """Add the messages the code uses but a catalog lacks to each .po (keeping its order and
    style: no locations, no wrapping), with the translations given in ``translated``
    ({lang: {msgid: msgstr, or a list of plural forms}}; a message with a context, as the message
    tables' are, is given under the key ``(context, msgid)``); returns what each catalog still lacks."""
    import io

    from babel.messages.pofile import write_po

    missing: dict[str, list[str]] = {}
    used = source_entries(root)
    for lang in TRANSLATED:
        path = po_path(lang, directory)
        catalog = _read_po(path)
        forms = catalog.num_plurals
        given = (translated or {}).get(lang, {})
        for ctx, msgid in sorted(used, key=lambda k: (k[0] is not None, k[0] or "", k[1])):
            plural = used[(ctx, msgid)]
            key = (msgid, plural) if plural else msgid
            current = catalog.get(msgid, context=ctx)
            text = given.get((ctx, msgid) if ctx else msgid)
            if plural:
                text = tuple(text) if isinstance(text, (list, tuple)) and len(text) == forms else ("",) * forms
            elif not isinstance(text, str):
                text = ""
            flags = ("python-format",) if "%(" in msgid else ()
            if current is None:
                catalog.add(key, text, flags=flags, context=ctx)
            elif not any(current.string if isinstance(current.string, tuple) else (current.string,)) and any(
                    text if isinstance(text, tuple) else (text,)):
                current.string = text
        buf = io.BytesIO()
        write_po(buf, catalog, width=0, no_location=True, sort_output=False)
        path.write_bytes(buf.getvalue())
        missing[lang] = [m.id if isinstance(m.id, str) else m.id[0] for m in _read_po(path)
                         if m.id and not all(m.string if isinstance(m.string, tuple) else (m.string,))]
    return missing
