"""Operations' own messages, and one way to read them in the user's language.

Every message is in the gettext catalogs (concierge/translations) like the UI's: a module
keeps a small table of stable codes and English msgids marked with `N_` (so `pybabel extract`
finds them) and `localize` translates and fills one. Messages every channel needs (an unknown
shop, a wrong market) are defined once here.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from locales import MARKET_CODES


def N_(msgid: str) -> str:
    """Mark an English message for extraction into the catalogs; translated later by `localize`."""
    return msgid


SHOP_MESSAGES: dict[str, str] = {
    "unknown_shop": N_("no shop with the id {shop!r}"),
    "invalid_market": N_("market must be one of {markets} (got {market!r})"),
}


def language(lang: str | None) -> str:
    """`pl-PL`, `tr_TR`, `PL` -> `pl`; empty -> `en` (a table falls back to English anyway)."""
    if not lang:
        return "en"
    return str(lang).replace("-", "_").split("_", 1)[0].lower()


def translate(msgid: str, lang: str | None) -> str:
    """One English msgid in `lang` from the catalogs (English when the language or message has none)."""
    from .i18n import translations

    return translations(lang).gettext(msgid)


def localize(table: Mapping[str, str | Mapping[str, str]], code: str, lang: str | None, **params: Any) -> str:
    """The message `code` from `table` in `lang`, its `{placeholders}` filled (`{markets}`: the markets we serve).

    An entry is an English msgid from the catalogs; an entry still written as {language: text}
    (a module not moved to the catalogs yet) is read as before, English when `lang` has none.
    """
    texts = table[code]
    if isinstance(texts, str):
        text = translate(texts, lang)
    else:
        text = texts.get(language(lang)) or texts["en"]
    return text.format(**{"markets": ", ".join(MARKET_CODES), **params})


class Note(str):
    """A sentence that a machine-readable answer keeps in English (a `--json` value is a
    contract) and that a person can still read in their language.

    `say(catalog)` builds the sentence with the catalog's `gettext`/`ngettext` and `%(name)s`
    placeholders (so extraction finds its msgids, and the sentence has one home): the Note's text
    is what `say` gives in English, `in_language(lang)` says it again in `lang`. It is a `str`, so
    JSON writes it, and code compares it, as the English text.
    """

    _say: Callable[[Any], str]

    def __new__(cls, say: Callable[[Any], str]) -> "Note":
        from .i18n import translations

        note = super().__new__(cls, say(translations(None)))
        note._say = say
        return note

    def in_language(self, lang: str | None) -> str:
        from .i18n import translations

        return self._say(translations(lang))
