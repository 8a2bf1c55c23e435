"""Operations' own error messages in en, pl and tr, and one way to read them.

The interview's messages live in `profile_schema/messages.yaml` and the UI's in the
gettext catalogs; these small tables cover what operations say about shops, files and
requests. Messages every channel needs (an unknown shop, a wrong market) are defined once
here; each module keeps the rest in its own table.
"""
from __future__ import annotations

from typing import Any, Mapping

SHOP_MESSAGES: dict[str, dict[str, str]] = {
    "unknown_shop": {"en": "no shop with the id {shop!r}", "pl": "brak sklepu o identyfikatorze {shop!r}",
                     "tr": "{shop!r} kimlikli mağaza yok"},
    "invalid_market": {"en": "market must be one of PL, TR, IN (got {market!r})",
                       "pl": "rynek musi być jednym z PL, TR, IN (podano {market!r})",
                       "tr": "pazar PL, TR, IN değerlerinden biri olmalı ({market!r} verildi)"},
}


def language(lang: str | None) -> str:
    """`pl-PL`, `tr_TR`, `PL` -> `pl`; empty -> `en` (a table falls back to English anyway)."""
    if not lang:
        return "en"
    return str(lang).replace("-", "_").split("_", 1)[0].lower()


def localize(table: Mapping[str, Mapping[str, str]], code: str, lang: str | None, **params: Any) -> str:
    """The message `code` from `table` in `lang`, English when that language has none."""
    texts = table[code]
    return (texts.get(language(lang)) or texts["en"]).format(**params)
