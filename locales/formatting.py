"""Money, numbers, dates and plurals through Babel/CLDR, with known Babel bugs worked around.

Babel 2.18.0 quirks handled here (see LOCALES.md §6):
- pl ignores CLDR minimumGroupingDigits=2 and prints ``1\\xa0234``; ICU prints ``1234``.
  We pass ``group_separator=False`` below 10 000 for locales in ``_MIN_GROUPING``.
- long ``format_unit(n, "duration-day", locale="tr")`` returns ``"5 duration-day"``
  (fixed after 2.18 by python-babel#1225); we detect the raw unit id and fall back.
- ``numbering_system="deva"`` keeps Latin digits; ``native_digits`` maps them itself.

``read_number`` reads numbers as people type them in a market ("1 200,50", "1.200,50",
"12,00,000") and refuses the ones that could mean two things ("1,200" in PL/TR); the
rule is in docs/design.md ("Numbers typed by people").
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import re
from dataclasses import dataclass
from typing import Mapping
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError, dates, numbers, units

from .errors import InvalidValue
from .languages import language_or_default
from .market import MARKET_CODES, Market, get_market

__all__ = [
    "babel_locale", "format_money", "format_number", "format_percent", "format_compact", "parse_number",
    "read_number", "NumberConventions", "number_conventions",
    "format_date", "format_time", "format_datetime", "plural_category", "plural", "format_duration_days",
    "format_duration", "native_digits",
    "display_locale", "format_rounded", "format_share", "format_signed_share", "format_whole_money", "format_numeric_date",
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
    """Parse ``1 234,56`` (pl, with NBSP or space) into a Decimal the way Babel does.

    Babel reads "1,200" as 1.2 in pl without a word; for what people type use ``read_number``,
    which refuses such input as ambiguous.
    """
    locale = babel_locale(lang, market)
    if _language(locale) == "pl":
        # People type a normal space; CLDR expects NBSP as the pl group separator.
        text = text.replace(" ", "\xa0")
    return numbers.parse_decimal(text.strip(), locale=locale, strict=False)


@dataclass(frozen=True)
class NumberConventions:
    """How numbers are written by someone typing in ``lang`` for a shop in a market.

    ``decimal``/``group`` are the market's marks (``group`` is the punctuation mark that is
    not its decimal: ``.`` in pl, whose CLDR group is a space); ``lang_decimal`` is the
    writer's language's decimal mark; ``lakh`` allows 12,34,567 (en_IN, hi_IN).
    """

    decimal: str | None  # None: no market known
    group: str | None
    lang_decimal: str
    lakh: bool

    @property
    def decimal_marks(self) -> frozenset[str]:
        """Marks that may be a decimal: the point (software writes it everywhere), the market's, the writer's."""
        return frozenset({".", self.lang_decimal} | ({self.decimal} if self.decimal else {","}))


@functools.lru_cache(maxsize=64)
def _marks(locale: str) -> tuple[str, bool] | None:
    """(decimal mark, lakh grouping) of a Babel locale; None for a locale Babel does not know."""
    try:
        loc = Locale.parse(locale)
    except (ValueError, TypeError, LookupError, UnknownLocaleError):
        return None
    mark = numbers.get_decimal_symbol(loc)
    return (mark if mark in ".," else "."), loc.decimal_formats[None].grouping[1] == 2


def number_conventions(market: Market | str | None, lang: str | None = None) -> NumberConventions:
    """The marks in play when someone writing in ``lang`` types a number for a shop in ``market``.

    Raises ``InvalidValue("market.unknown")`` for an unknown market code.
    """
    decimal_mark: str | None = None
    group: str | None = None
    lakh = False
    if market is not None:
        m = get_market(market)
        decimal_mark, lakh = _marks(m.babel_locale(None)) or (".", False)
        group = "," if decimal_mark == "." else "."
        lang_locale = m.babel_locale(lang or None)
    else:
        lang_locale = babel_locale(lang or None)
    lang_decimal, lang_lakh = _marks(lang_locale) or (decimal_mark or ".", False)
    return NumberConventions(decimal_mark, group, lang_decimal, lakh or lang_lakh)


_SPACES = " \xa0\u202f\u2009"
_NUMBER_CHARS = re.compile(rf"[\d.,{_SPACES}]+")
_SEPARATOR = re.compile(rf"([.,]|[{_SPACES}])")
_EXPONENT = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d+")


def _grouped(groups: list[str], lakh: bool) -> bool:
    """Digit runs between group marks: 1,234,567 (threes) or, with ``lakh``, 12,34,567."""
    if len(groups) == 1:
        return True
    first, rest = groups[0], groups[1:]
    if first.startswith("0"):
        return False
    if 1 <= len(first) <= 3 and all(len(g) == 3 for g in rest):
        return True
    return lakh and 1 <= len(first) <= 2 and len(rest[-1]) == 3 and all(len(g) == 2 for g in rest[:-1])


def read_number(
    text: str, market: Market | str | None = None, lang: str | None = None, *, min_fraction_digits: int = 0
) -> decimal.Decimal:
    """Read a number typed by a person writing in ``lang`` for a shop in ``market``; never guess.

    Spaces (also NBSP) are group marks. With both ``,`` and ``.`` the last one is the
    decimal. A mark used twice is a group mark. A single mark not followed by exactly three
    digits is a decimal. A single mark followed by exactly three digits ("1,200") is a group
    mark only when it is the market's group mark and not the writer's decimal (IN "1,200",
    TR "1.200"); otherwise both readings are plausible and it raises
    ``InvalidValue("number.ambiguous", {value, whole, fraction})`` with the two readings
    written unambiguously (``min_fraction_digits=2`` for money: "1,20"). Anything else raises
    ``InvalidValue("number.invalid")``; an unknown market raises ``market.unknown``.
    """
    conv = number_conventions(market, lang)
    raw = text.strip() if isinstance(text, str) else ""
    if not raw or len(raw) > 100:
        raise InvalidValue("number.invalid", {"value": raw[:100]})
    sign, body = "", raw
    if body[0] in "+-\u2212":
        sign, body = ("" if body[0] == "+" else "-"), body[1:]
    if _EXPONENT.fullmatch(body):
        return decimal.Decimal(sign + body)
    if not body or not _NUMBER_CHARS.fullmatch(body):
        raise InvalidValue("number.invalid", {"value": raw})
    parts = _SEPARATOR.split(body)
    runs, marks = parts[0::2], [" " if m in _SPACES else m for m in parts[1::2]]
    if any(not r for r in runs[1:]) or (not runs[0] and len(marks) != 1):
        raise InvalidValue("number.invalid", {"value": raw})  # "5.", "1..2", ",5,"
    punct = [m for m in marks if m != " "]
    decimal_at: int | None = None  # index into marks
    if len(set(punct)) == 2 or (len(punct) == 1 and len(marks) > 1):
        decimal_at = len(marks) - 1  # "1.200,50", "1 200,50": the last mark, which must be punctuation
        if marks[-1] == " " or marks.count(marks[-1]) > 1:
            raise InvalidValue("number.invalid", {"value": raw})
    elif len(punct) == 1:  # one mark, once, nothing else: "1,5", "1,200", ".5"
        mark, head, tail = punct[0], runs[0], runs[1]
        if len(tail) == 3 and 1 <= len(head) <= 3 and not head.startswith("0"):
            if mark != conv.group or mark == conv.lang_decimal:
                whole = sign + head + tail
                frac = tail.rstrip("0").ljust(min_fraction_digits, "0")
                if len(frac) == 3:
                    frac += "0"  # three digits would be grouping-shaped again
                fraction = sign + head + (conv.lang_decimal + frac if frac else "")
                raise InvalidValue("number.ambiguous", {"value": raw, "whole": whole, "fraction": fraction})
        else:
            decimal_at = 0
    if decimal_at is not None and marks[decimal_at] not in conv.decimal_marks:
        raise InvalidValue("number.invalid", {"value": raw})  # e.g. "1,5" in India
    int_runs = runs if decimal_at is None else runs[: decimal_at + 1]
    if len(set(marks[: len(int_runs) - 1])) > 1 or not _grouped(int_runs, conv.lakh):
        raise InvalidValue("number.invalid", {"value": raw})
    digits = "".join(int_runs) or "0"
    if decimal_at is not None:
        digits += "." + runs[-1]
    return decimal.Decimal(sign + digits)


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
    return _plural_locale(lang).plural_form(n)


@functools.lru_cache(maxsize=16)
def _plural_locale(lang: str) -> Locale:
    return Locale.parse(lang.replace("-", "_"))


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


# ------------------------------------------------- compact forms for pictures and charts
# The shop's market, not the reader, decides these: an Indian shop's turnover is shown in
# lakh grouping (``₹12,34,567``) and a Turkish percentage as ``%62`` whoever looks. They are
# cached by locale because a picture or a chart formats the same few values many times.

#: Beyond this Babel's decimal context overflows; no real fact is this big.
HUGE = 1e15


@functools.lru_cache(maxsize=4096)
def display_locale(market: str | None, lang: str | None = "en") -> str:
    """The CLDR locale a shop's figures are shown in: its market's ("PL" -> "pl_PL", "IN" ->
    "en_IN", from the market data), or the reader's language where the market is unknown."""
    code = (market or "").upper()
    if code in MARKET_CODES:
        return get_market(code).babel_locale()
    return language_or_default(lang)


def _huge(value: float, locale: str) -> str:
    try:
        return numbers.format_scientific(value, "#.##E0", locale=locale)
    except Exception:  # noqa: BLE001 - last resort, still a number
        return f"{value:.3g}"


@functools.lru_cache(maxsize=4096)
def format_rounded(value: float, locale: str) -> str:
    """A number with the locale's grouping and at most one decimal (``1234``, ``12 345,5``)."""
    value = float(value)
    if abs(value) >= HUGE:
        return _huge(value, locale)
    value = round(value, 1)
    shown: float | int = int(value) if value == int(value) else value
    return numbers.format_decimal(shown, locale=locale, group_separator=_grouping(shown, locale))


@functools.lru_cache(maxsize=4096)
def format_share(fraction: float, locale: str) -> str:
    """A share clamped to 0-1 as a percentage: ``0.62`` -> ``62%`` (``%62`` in Turkish)."""
    return numbers.format_percent(max(0.0, min(1.0, float(fraction))), locale=locale)


@functools.lru_cache(maxsize=4096)
def format_signed_share(value: float, locale: str, digits: int = 1) -> str:
    """A share that may be negative or above 1, with at most ``digits`` decimals (``-2.5%``,
    ``%12,5`` in Turkish): chart axes and differences."""
    pattern = numbers.parse_pattern(Locale.parse(locale).percent_formats[None].pattern)
    pattern.frac_prec = (0, digits)
    return pattern.apply(decimal.Decimal(str(round(value, 6))), Locale.parse(locale))


@functools.lru_cache(maxsize=32)
def _whole_money_pattern(locale: str) -> str:
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    return pattern.replace(".00", "").replace(".##", "")  # whole units: no fraction digits


@functools.lru_cache(maxsize=4096)
def format_whole_money(amount: float, currency: str, locale: str) -> str:
    """Money in whole units in the locale's pattern: ``25 000 zł``, ``₺25.000``, ``₹25,000``."""
    if abs(float(amount)) >= HUGE:
        return f"{_huge(float(amount), locale)} {currency}"
    whole = round(float(amount))
    return numbers.format_currency(whole, currency, format=_whole_money_pattern(locale), locale=locale,
                                   currency_digits=False, group_separator=_grouping(whole, locale))


@functools.lru_cache(maxsize=32)
def _numeric_date_pattern(locale: str) -> str:
    pattern = Locale.parse(locale).date_formats["short"].pattern
    return re.sub(r"(?<!y)yy(?!y)", "y", pattern)  # four-digit years: "11/11/26" is ambiguous


@functools.lru_cache(maxsize=4096)
def format_numeric_date(value: dt.date | dt.datetime, locale: str) -> str:
    """A numeric date in the locale's order with a four-digit year: ``11.11.2026`` (pl, tr),
    ``11/11/2026`` (en_IN). Numeric on purpose: a month's name would be in the market's
    language, which the reader may not read."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return dates.format_date(value, _numeric_date_pattern(locale), locale=locale)
