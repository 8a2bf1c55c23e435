"""Money, numbers, dates and plurals through Babel/CLDR, with known Babel bugs worked around.

Babel 2.18.0 quirks handled here (see LOCALES.md §6):
- pl ignores CLDR minimumGroupingDigits=2 and prints ``1\\xa0234``; ICU prints ``1234``.
  We pass ``group_separator=False`` below 10 000 for locales in ``_MIN_GROUPING``.
- long ``format_unit(n, "duration-day", locale="tr")`` returns ``"5 duration-day"``
  (fixed after 2.18 by python-babel#1225); we detect the raw unit id and fall back.
- ``numbering_system="deva"`` keeps Latin digits; ``native_digits`` maps them itself.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Mapping
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers, units

from .market import MARKET_CODES, Market, get_market

__all__ = [
    "babel_locale", "format_money", "format_number", "format_percent", "format_compact", "parse_number",
    "format_date", "format_time", "format_datetime", "plural_category", "plural", "format_duration_days",
    "format_duration", "native_digits",
]

# CLDR minimumGroupingDigits that Babel 2.18 ignores, by language.
_MIN_GROUPING = {"pl": 2}
_DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")


def babel_locale(lang: str | None, market: Market | str | None = None, currency: str | None = None) -> str:
    """Resolve the Babel locale: a market's regional variant wins, then the currency's home market
    (only for a bare language code; an explicit region such as ``en_GB`` is kept).

    ``en`` with an Indian market or INR becomes ``en_IN`` so lakh/crore grouping applies.
    """
    if market is not None:
        return get_market(market).babel_locale(lang)
    lang = (lang or "en").replace("-", "_")
    if currency and "_" not in lang:  # an explicit region (en_GB) is the caller's choice
        base = lang.split("_")[0]
        for code in MARKET_CODES:
            m = get_market(code)
            if m.currency == currency.upper() and (lang in m.formatting_locales or base in m.formatting_locales):
                return m.babel_locale(lang)
    return lang


def _language(locale: str) -> str:
    return locale.split("_")[0]


def _grouping(value: float | decimal.Decimal | int, locale: str) -> bool:
    """Apply CLDR minimumGroupingDigits where Babel does not (pl: 1234 stays ungrouped)."""
    minimum = _MIN_GROUPING.get(_language(locale), 1)
    return abs(value) >= 10 ** (2 + minimum)


def format_money(
    amount: float | decimal.Decimal | int,
    currency: str | None = None,
    lang: str | None = None,
    market: Market | str | None = None,
) -> str:
    """Format an amount in ``currency`` (default: the market's) for ``lang``; INR gets lakh grouping."""
    if currency is None:
        if market is None:
            raise ValueError("format_money needs a currency or a market")
        currency = get_market(market).currency
    locale = babel_locale(lang, market, currency)
    return numbers.format_currency(amount, currency, locale=locale, group_separator=_grouping(amount, locale))


def format_number(
    value: float | decimal.Decimal | int, lang: str | None = None, market: Market | str | None = None, *, fraction_digits: int | None = None
) -> str:
    """Format a plain number with the locale's separators (pl uses NBSP for groups)."""
    locale = babel_locale(lang, market)
    group = _grouping(value, locale)
    if fraction_digits is None:
        return numbers.format_decimal(value, locale=locale, group_separator=group)
    # Keep the locale's own grouping (lakh in en_IN) and only fix the fraction digits.
    pattern = numbers.parse_pattern(Locale.parse(locale).decimal_formats[None].pattern)
    pattern.frac_prec = (fraction_digits, fraction_digits)
    return pattern.apply(decimal.Decimal(str(value)), Locale.parse(locale), group_separator=group)


def format_percent(value: float | decimal.Decimal, lang: str | None = None, market: Market | str | None = None) -> str:
    """Format a ratio (0.25) as a percentage in the locale's style (pl/tr put % differently)."""
    return numbers.format_percent(value, locale=babel_locale(lang, market))


def format_compact(value: float | int, lang: str | None = None, market: Market | str | None = None, *, fraction_digits: int = 0) -> str:
    """Short numbers for the picture: ``1Cr``/``2L`` in en_IN, ``12 mln`` in pl, ``12 Mn`` in tr."""
    return numbers.format_compact_decimal(value, locale=babel_locale(lang, market), fraction_digits=fraction_digits)


def parse_number(text: str, lang: str | None = None, market: Market | str | None = None) -> decimal.Decimal:
    """Parse user input like ``1 234,56`` (pl, with NBSP or space) into a Decimal."""
    locale = babel_locale(lang, market)
    if _language(locale) == "pl":
        # People type a normal space; CLDR expects NBSP as the pl group separator.
        text = text.replace(" ", "\xa0")
    return numbers.parse_decimal(text.strip(), locale=locale, strict=False)


def _as_market(tz: object) -> Market | None:
    """A Market or market code passed as ``tz`` also decides the locale variant (en -> en_IN)."""
    if isinstance(tz, Market):
        return tz
    if isinstance(tz, str) and tz.upper() in MARKET_CODES:
        return get_market(tz)
    return None


def _zone(tz: str | ZoneInfo | Market | dt.tzinfo) -> dt.tzinfo:
    if isinstance(tz, Market):
        return tz.tz
    if isinstance(tz, str):
        if tz.upper() in MARKET_CODES:
            return get_market(tz).tz
        return ZoneInfo(tz)
    return tz


def format_date(d: dt.date | dt.datetime, lang: str | None = None, format: str = "medium", market: Market | str | None = None) -> str:
    """Format a calendar date (pl long form uses the genitive month: ``5 stycznia 2026``)."""
    if isinstance(d, dt.datetime):
        if d.tzinfo is not None and market is not None:
            d = d.astimezone(get_market(market).tz)
        d = d.date()
    return dates.format_date(d, format=format, locale=babel_locale(lang, market))


def format_time(value: dt.datetime, lang: str | None, tz: str | ZoneInfo | Market, format: str = "short") -> str:
    """Format the wall-clock time of an aware instant in ``tz`` (en_IN uses a 12-hour clock)."""
    _require_aware(value)
    zone = _zone(tz)
    locale = babel_locale(lang, _as_market(tz))
    return dates.format_time(value.astimezone(zone), format=format, locale=locale)


def format_datetime(value: dt.datetime, lang: str | None, tz: str | ZoneInfo | Market, format: str = "medium") -> str:
    """Format an aware instant in ``tz`` (a zone name, ZoneInfo, market or market code)."""
    _require_aware(value)
    zone = _zone(tz)
    locale = babel_locale(lang, _as_market(tz))
    return dates.format_datetime(value.astimezone(zone), format=format, locale=locale)


def _require_aware(value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("an aware datetime is required; the zone decides the local time")


def plural_category(n: float | int | decimal.Decimal, lang: str) -> str:
    """CLDR plural category of ``n`` in ``lang`` (pl: one/few/many/other; hi: 0 and 1 are one)."""
    return Locale.parse(lang.replace("-", "_")).plural_form(n)


def plural(n: float | int | decimal.Decimal, forms: Mapping[str, str], lang: str) -> str:
    """Pick the form for ``n``'s category (falling back to ``other``) and fill ``{n}``."""
    category = plural_category(n, lang)
    template = forms.get(category, forms.get("other"))
    if template is None:
        raise KeyError(f"no form for plural category {category!r} and no 'other' form")
    return template.format(n=n)


def format_duration(n: int | float, unit: str, lang: str) -> str:
    """Format ``n`` of a CLDR duration unit ("day", "week"...), dodging Babel's raw-unit-id bug."""
    unit_id = f"duration-{unit}"
    locale = babel_locale(lang)
    text = units.format_unit(n, unit_id, length="long", locale=locale)
    if unit_id in text:  # Babel 2.18 bug (#1217): the long pattern is missing for tr/hi
        text = units.format_unit(n, unit_id, length="short", locale=locale)
    return text


def format_duration_days(n: int | float, lang: str) -> str:
    """``5 dni`` / ``1 dzień`` / ``5 gün`` / ``5 days``: day counts in the user's language."""
    return format_duration(n, "day", lang)


def native_digits(text: str, numbering: str = "deva") -> str:
    """Transliterate ASCII digits to Devanagari; Babel only swaps symbols, never digits."""
    if numbering != "deva":
        raise ValueError(f"unsupported numbering system {numbering!r}")
    return text.translate(_DEVANAGARI_DIGITS)
