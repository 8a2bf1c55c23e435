"""A Babel extractor for the YAML message tables (``babel.cfg`` names it).

``[locales.babel_extract:extract_yaml_messages: renderers/labels.yaml]`` makes ``pybabel
extract`` read a table's English texts as ``pgettext(context, text)`` and its plural entries
as ``npgettext(context, one, other)`` plus the fraction form; ``locales.catalogs`` says how
contexts are made, and reads the translations back at run time.
"""
from __future__ import annotations

from typing import Any, Collection, Iterator, Mapping

import yaml

from .catalogs import FRACTION, context, entries, table_name

FRACTION_COMMENT = "The form for a fractional number (2.5); {n} is the number."


def extract_yaml_messages(fileobj: Any, keywords: Collection[str], comment_tags: Collection[str],
                          options: Mapping[str, Any]) -> Iterator[tuple[int, str, Any, list[str]]]:
    """Yield ``(lineno, funcname, messages, comments)`` for every entry of a message table.

    The table's name (the contexts' prefix) is the file's folder and stem unless the
    ``table`` option of its babel.cfg section says otherwise.
    """
    raw = fileobj.read()
    data = yaml.safe_load(raw.decode(options.get("encoding") or "utf-8") if isinstance(raw, bytes) else raw)
    table = options.get("table") or table_name(getattr(fileobj, "name", "") or "messages.yaml")
    lines = _key_lines(raw)
    for keys, value in entries(data or {}):
        ctx = context(table, keys)
        lineno = lines.get(keys[-1], 0) if keys else 0
        if isinstance(value, str):
            yield lineno, "pgettext", [ctx, value], []
        else:
            yield lineno, "npgettext", [ctx, value["one"], value["other"]], []
            yield lineno, "pgettext", [ctx + FRACTION, value["other"]], [FRACTION_COMMENT]


def _key_lines(raw: Any) -> dict[str, int]:
    """A key's first line in the file (for the .pot's locations; approximate for repeated keys)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or ":" not in stripped:
            continue
        key = stripped.split(":", 1)[0].strip().strip('"\'')
        found.setdefault(key, number)
    return found
