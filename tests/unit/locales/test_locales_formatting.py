"""Money, numbers, dates and plurals against LOCALES.md §6 (babel 2.18.0), bugs included."""

import datetime as dt
import decimal
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from babel import numbers as babel_numbers
from babel import units as babel_units

from locales import get_market
from locales.formatting import (
    babel_locale,
    display_locale,
    format_compact,
    format_date,
    format_datetime,
    format_duration,
    format_duration_days,
    format_money,
    format_number,
    format_numeric_date,
    format_rounded,
    format_share,
    format_signed_share,
    format_time,
    format_whole_money,
    native_digits,
    parse_number,
    plural,
    plural_category,
)

NBSP = "\xa0"
INSTANT = dt.datetime(2026, 11, 11, 14, 30, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    "amount,currency,lang,market,expected",
    [
        (1234567.891, "INR", "en_IN", None, "₹12,34,567.89"),
        (1234567.891, "INR", "en", None, "₹12,34,567.89"),      # INR's home market picks en_IN
        (1234567.891, "INR", "en", "IN", "₹12,34,567.89"),
        (1234567.891, "INR", "hi", "IN", "₹12,34,567.89"),
        (1234567.891, "INR", "en_GB", None, "₹1,234,567.89"),   # explicit region wins: no lakh
        (1234567.89, "PLN", "pl", None, f"1{NBSP}234{NBSP}567,89{NBSP}zł"),
        (12345, "PLN", "pl", None, f"12{NBSP}345,00{NBSP}zł"),
        (1234, "PLN", "pl", None, f"1234,00{NBSP}zł"),           # CLDR minimumGroupingDigits=2
        (1234567.89, "TRY", "tr", None, "₺1.234.567,89"),
        (99, None, None, "PL", f"99,00{NBSP}zł"),               # the market's currency and language
    ],
)
def test_format_money(amount, currency, lang, market, expected):
    assert format_money(amount, currency, lang, market) == expected


def test_format_money_needs_currency_or_market():
    with pytest.raises(ValueError):
        format_money(1, None, "pl")


def test_babel_pl_grouping_bug_is_still_present():
    """Babel 2.18 groups 1234 as 1\\xa0234 in pl (ICU: 1234). When this fails, Babel fixed
    minimumGroupingDigits and the _MIN_GROUPING workaround in formatting.py can go."""
    assert babel_numbers.format_decimal(1234, locale="pl") == f"1{NBSP}234"


@pytest.mark.parametrize(
    "value,lang,market,expected",
    [
        (1234, "pl", None, "1234"),
        (12345, "pl", None, f"12{NBSP}345"),
        (-12345.5, "pl", None, f"-12{NBSP}345,5"),
        (1234567, "tr", None, "1.234.567"),
        (1234567.5, "en", "IN", "12,34,567.5"),
        (1234567, "en", "PL", "1,234,567"),
    ],
)
def test_format_number(value, lang, market, expected):
    assert format_number(value, lang, market) == expected


def test_format_number_with_fixed_fraction_keeps_lakh_grouping():
    assert format_number(1234567, "en", "IN", fraction_digits=2) == "12,34,567.00"
    assert format_number(1234.5, "pl", fraction_digits=2) == "1234,50"


@pytest.mark.parametrize(
    "value,lang,market,expected",
    [
        (12345678, "en", "IN", "1Cr"),
        (150000, "en_IN", None, "2L"),
        (12345678, "hi", "IN", f"1{NBSP}क॰"),
        (12345678, "pl", None, f"12{NBSP}mln"),
        (12345678, "tr", None, f"12{NBSP}Mn"),
    ],
)
def test_format_compact(value, lang, market, expected):
    assert format_compact(value, lang, market) == expected


@pytest.mark.parametrize(
    "text,lang,market,expected",
    [
        (f"1{NBSP}234,56", "pl", None, "1234.56"),
        ("1 234,56", "pl", None, "1234.56"),      # typed with a plain space
        ("1.234,56", "tr", None, "1234.56"),
        ("12,34,567.89", "en", "IN", "1234567.89"),
    ],
)
def test_parse_number_round_trips(text, lang, market, expected):
    assert parse_number(text, lang, market) == decimal.Decimal(expected)


@pytest.mark.parametrize(
    "lang,market,fmt,expected",
    [
        ("pl", None, "short", "11.11.2026"),
        ("pl", None, "long", "11 listopada 2026"),
        ("tr", None, "full", "11 Kasım 2026 Çarşamba"),
        ("en", "IN", "short", "11/11/26"),
        ("hi", None, "full", "बुधवार, 11 नवंबर 2026"),
    ],
)
def test_format_date(lang, market, fmt, expected):
    assert format_date(INSTANT.date(), lang, fmt, market) == expected


def test_polish_genitive_in_dates_nominative_standalone():
    assert format_date(dt.date(2026, 1, 5), "pl", "long") == "5 stycznia 2026"
    assert format_date(dt.date(2026, 1, 5), "pl", "LLLL y") == "styczeń 2026"


def test_format_date_of_an_instant_uses_the_market_day():
    late = dt.datetime(2026, 11, 11, 20, 0, tzinfo=dt.timezone.utc)  # already 12 Nov in Kolkata
    assert format_date(late, "en", "short", "IN") == "12/11/26"


@pytest.mark.parametrize(
    "lang,tz,expected",
    [
        ("pl", "Europe/Warsaw", "15:30"),
        ("tr", "TR", "17:30"),
        ("en", "IN", "8:00\u202fpm"),            # en_IN: 12-hour clock, narrow NBSP, lower-case
        ("en", "Asia/Kolkata", "8:00\u202fPM"),  # plain en: the zone alone does not pick en_IN
    ],
)
def test_format_time_in_zone(lang, tz, expected):
    assert format_time(INSTANT, lang, tz) == expected


def test_format_datetime_across_zones():
    assert format_datetime(INSTANT, "pl", "PL") == "11 lis 2026, 15:30:00"
    assert "8:00:00" in format_datetime(INSTANT, "en", get_market("IN"))
    with pytest.raises(ValueError):
        format_datetime(INSTANT.replace(tzinfo=None), "pl", "PL")


@pytest.mark.parametrize(
    "lang,numbers_by_category",
    [
        ("pl", {"one": [1], "few": [2, 3, 4, 22, 102], "many": [0, 5, 11, 12, 13, 14, 21, 25, 112], "other": [1.5]}),
        ("tr", {"one": [1], "other": [0, 2, 5, 1.5]}),
        ("en_IN", {"one": [1], "other": [0, 2, 5]}),
        ("hi", {"one": [0, 1], "other": [2, 5]}),
    ],
)
def test_plural_categories(lang, numbers_by_category):
    for category, values in numbers_by_category.items():
        for n in values:
            assert plural_category(n, lang) == category, (lang, n)


PL_SHOPS = {"one": "{n} sklep", "few": "{n} sklepy", "many": "{n} sklepów", "other": "{n} sklepu"}


@pytest.mark.parametrize("n,expected", [(1, "1 sklep"), (3, "3 sklepy"), (5, "5 sklepów"), (22, "22 sklepy"), (1.5, "1.5 sklepu")])
def test_plural_picks_polish_forms(n, expected):
    assert plural(n, PL_SHOPS, "pl") == expected


def test_plural_falls_back_to_other_and_fails_without_it():
    assert plural(5, {"one": "{n} shop", "other": "{n} shops"}, "en") == "5 shops"
    with pytest.raises(KeyError):
        plural(5, {"one": "{n} shop"}, "pl")


def test_babel_tr_long_duration_bug_is_still_present():
    """Babel 2.18 (#1217, fixed by #1225) returns the raw unit id; when this fails, the
    fallback in format_duration can go."""
    assert babel_units.format_unit(5, "duration-day", locale="tr") == "5 duration-day"
    assert babel_units.format_unit(5, "duration-week", locale="hi") == "5 duration-week"


@pytest.mark.parametrize(
    "n,lang,expected",
    [(1, "pl", "1 dzień"), (2, "pl", "2 dni"), (5, "pl", "5 dni"), (1, "tr", "1 gün"), (5, "tr", "5 gün"), (5, "en", "5 days"), (5, "hi", "5 दिन")],
)
def test_format_duration_days(n, lang, expected):
    assert format_duration_days(n, lang) == expected


def test_format_duration_weeks_dodges_the_hi_bug():
    assert "duration" not in format_duration(5, "week", "hi")
    assert format_duration(5, "week", "pl") == "5 tygodni"


def test_deva_numbering_system_keeps_latin_digits_so_we_map_them():
    assert babel_numbers.format_decimal(1234, locale="hi", numbering_system="deva") == "1,234"
    assert native_digits(format_number(1234567, "hi", "IN")) == "१२,३४,५६७"


def test_babel_locale_resolution():
    assert babel_locale("en", "IN") == "en_IN"
    assert babel_locale("en", currency="INR") == "en_IN"
    assert babel_locale("pl", currency="EUR") == "pl"
    assert babel_locale("en", "PL") == "en_GB"


@pytest.mark.parametrize("fmt", ["full", "long", "medium", "short"])
@pytest.mark.parametrize("lang,tz", [("en", "IN"), ("hi", "IN"), ("en", "TR"), ("tr", "TR")])
def test_never_shows_the_ambiguous_ist_abbreviation(lang, tz, fmt):
    """'IST' means both India and Istanbul time (LOCALES.md §3)."""
    assert "IST" not in format_datetime(INSTANT, lang, tz, fmt)
    assert "IST" not in format_time(INSTANT, lang, tz, fmt)


# ------------------------------------------------------------------ one formatter
_BABEL_FORMATTING = re.compile(r"^\s*(?:from babel(?:\.(?:numbers|dates|units))? import|import babel)", re.M)


def test_renderers_format_only_through_locales_formatting():
    """Issue 15: ``renderers`` had a second formatter (``renderers/fmt.py``) beside this one.
    No renderer module may call Babel itself: numbers, money, dates and plurals come from here."""
    root = Path(__file__).resolve().parents[3] / "renderers"
    offenders = [p.name for p in sorted(root.rglob("*.py")) if _BABEL_FORMATTING.search(p.read_text("utf-8"))]
    assert offenders == []
    assert not (root / "fmt.py").exists()


@pytest.mark.parametrize("market,lang,value,expected", [
    ("PL", "en", 1234, "1234"),             # CLDR pl: minimumGroupingDigits=2, which Babel ignores
    ("PL", "tr", 12345.67, "12\xa0345,7"),  # the market decides, not the reader
    ("IN", "pl", 1234567, "12,34,567"),     # lakh grouping
    (None, "tr", 1234.5, "1.234,5"),        # no market: the reader's language
    ("TR", "en", 2e15, "2E15"),             # beyond Babel's decimal context: still a number
])
def test_format_rounded_uses_the_market_locale(market, lang, value, expected):
    assert format_rounded(value, display_locale(market, lang)) == expected


def test_compact_forms_for_pictures():
    assert format_share(0.62, display_locale("TR")) == "%62"
    assert format_share(1.7, display_locale("PL")) == "100%"  # a share is clamped
    assert format_signed_share(-0.025, display_locale("PL"), 1) == "-2,5%"
    assert format_whole_money(25000.4, "PLN", display_locale("PL")) == "25\xa0000\xa0zł"
    assert format_whole_money(1234, "PLN", display_locale("PL")) == "1234\xa0zł"
    assert format_whole_money(1234567, "INR", display_locale("IN")) == "₹12,34,567"
    assert format_numeric_date(date(2026, 11, 1), display_locale("IN")) == "01/11/2026"
    assert format_numeric_date(datetime(2026, 11, 1, 23, 0), display_locale("TR")) == "1.11.2026"  # CLDR tr short: d.MM.y
