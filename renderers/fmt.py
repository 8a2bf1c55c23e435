"""Numbers, money, percentages and dates formatted for the shop's market (Babel/CLDR).

The market, not the consultant, decides the format: an Indian shop's turnover is shown
in lakh grouping (``₹12,34,567``) and a Turkish percentage as ``%62`` whoever looks.
Babel quirk handled here: it groups four-digit numbers in Polish (``1 234``) although
CLDR pl has minimumGroupingDigits=2 (``1234``), see LOCALES.md section 6.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import regex
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, format_scientific

from locales import MARKET_CODES, get_market

LANG_LOCALES = {"en": "en", "pl": "pl_PL", "tr": "tr_TR", "hi": "hi_IN"}

# A lone 4-digit group "1 234" (not part of "1 234 567") -> "1234" for pl.
_PL_GROUP4 = regex.compile(r"(?<![\d\xa0\u202f])(\d)[\xa0\u202f](\d{3})(?![\xa0\u202f]?\d)")


@lru_cache(maxsize=4096)
def locale_for(market: str | None, lang: str = "en") -> str:
    """The CLDR locale for a market ("PL" -> "pl_PL", "IN" -> "en_IN": its default language's, from
    the market data); the consultant's if unknown."""
    code = (market or "").upper()
    if code in MARKET_CODES:
        return get_market(code).babel_locale()
    return LANG_LOCALES.get(lang, "en")


def _fix(text: str, loc: str) -> str:
    if loc.startswith("pl"):
        text = _PL_GROUP4.sub(r"\1\2", text)
    return text


HUGE = 1e15  # beyond this Babel's decimal context overflows; no real fact is this big


def _huge(value: float, loc: str) -> str:
    try:
        return format_scientific(value, "#.##E0", locale=loc)
    except Exception:  # noqa: BLE001 - last resort, still a number
        return f"{value:.3g}"


@lru_cache(maxsize=4096)
def number(value: float, loc: str) -> str:
    """A number with the locale's grouping, at most one decimal."""
    if abs(float(value)) >= HUGE:
        return _huge(float(value), loc)
    value = round(float(value), 1)
    if value == int(value):
        value = int(value)
    return _fix(format_decimal(value, locale=loc), loc)


@lru_cache(maxsize=4096)
def percent(fraction: float, loc: str) -> str:
    """``0.62`` -> ``62%`` (``%62`` in Turkish)."""
    return format_percent(max(0.0, min(1.0, float(fraction))), locale=loc)


@lru_cache(maxsize=32)
def _money_pattern(loc: str) -> str:
    pattern = Locale.parse(loc).currency_formats["standard"].pattern
    # Whole units are enough on the picture: drop the fraction digits.
    return pattern.replace(".00", "").replace(".##", "")


@lru_cache(maxsize=4096)
def money(amount: float, currency: str, loc: str) -> str:
    """Whole-unit money in the locale's pattern: ``25 000 zł``, ``₺25.000``, ``₹25,000``."""
    if abs(float(amount)) >= HUGE:
        return f"{_huge(float(amount), loc)} {currency}"
    text = format_currency(
        round(float(amount)), currency, format=_money_pattern(loc), locale=loc,
        currency_digits=False,
    )
    return _fix(text, loc)


@lru_cache(maxsize=32)
def _date_pattern(loc: str) -> str:
    pattern = Locale.parse(loc).date_formats["short"].pattern
    # Four-digit years: "11/11/26" is ambiguous on a picture kept for months.
    return regex.sub(r"(?<!y)yy(?!y)", "y", pattern)


@lru_cache(maxsize=4096)
def day(value: date | datetime, loc: str) -> str:
    """A numeric date in the market's order: ``11.11.2026`` (pl, tr), ``11/11/2026`` (en_IN).

    Numeric on purpose: month names would be in the market's language, which the
    consultant may not read.
    """
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, _date_pattern(loc), locale=loc)
