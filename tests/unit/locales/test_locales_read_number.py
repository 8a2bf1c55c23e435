"""Reading numbers as merchants type them in PL, TR and IN, without ever misreading one.

The rule (docs/design.md, "Numbers typed by people"): a mark that can only be one thing is
read as that thing; "1,200" (one mark, exactly three digits after it) is read as
grouping only where every convention in play calls that mark a group mark, and refused
as ambiguous otherwise.
"""

import decimal
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from locales import InvalidValue, get_market
from locales.formatting import babel_locale, format_money, format_number, read_number

NBSP, NNBSP = "\xa0", "\u202f"


@pytest.mark.parametrize(
    "text,market,lang,expected",
    [
        # India: comma groups (western or lakh), point is decimal
        ("1,200", "IN", "en", "1200"),
        ("12,00,000", "IN", "en", "1200000"),
        ("1,20,00,000.50", "IN", "hi", "12000000.50"),
        ("1,200,000", "IN", "en", "1200000"),
        ("1,200.5", "IN", "en", "1200.5"),
        ("1200.50", "IN", "en", "1200.50"),
        ("0.5", "IN", "en", "0.5"),
        (".5", "IN", "en", "0.5"),
        # Poland: comma is decimal; space, NBSP or point group
        ("1 200,50", "PL", "pl", "1200.50"),
        (f"1{NBSP}200{NBSP}000,5", "PL", "pl", "1200000.5"),
        (f"1{NNBSP}200", "PL", "pl", "1200"),
        ("1.200,50", "PL", "pl", "1200.50"),
        ("1.200", "PL", "pl", "1200"),       # point is a group mark in PL and not a decimal in pl
        ("1,5", "PL", "pl", "1.5"),
        ("1.5", "PL", "pl", "1.5"),          # a point before one digit can only be a decimal
        ("1234,567", "PL", "pl", "1234.567"),  # four digits before the comma: not grouping
        ("0,200", "PL", "pl", "0.2"),
        ("1,200.5", "PL", "en", "1200.5"),   # both marks: the last one is the decimal
        ("1,200,000", "PL", "pl", "1200000"),  # a mark twice is never a decimal
        # Turkey: comma is decimal, point groups
        ("1.200,50", "TR", "tr", "1200.50"),
        ("1.200", "TR", "tr", "1200"),
        ("1.200.000", "TR", "tr", "1200000"),
        ("2,5", "TR", "tr", "2.5"),
        # signs, plain digits, exponents, other scripts' digits
        ("-1.200,50", "TR", "tr", "-1200.50"),
        ("\u22121 200,5", "PL", "pl", "-1200.5"),
        ("+15", "PL", "pl", "15"),
        ("1200", None, "en", "1200"),
        ("1e3", "PL", "pl", "1000"),
        ("१२००", "IN", "hi", "1200"),
        # no market: only the marks that cannot be grouping are read
        ("1,5", None, "en", "1.5"),
        ("1.200,5", None, "en", "1200.5"),
    ],
)
def test_reads_what_the_writer_meant(text, market, lang, expected):
    assert read_number(text, market, lang) == Decimal(expected)


@pytest.mark.parametrize(
    "text,market,lang,whole,fraction",
    [
        ("1,200", "PL", "pl", "1200", "1,2"),     # 1.2 in Polish, 1200 the way software writes it
        ("1,200", "TR", "tr", "1200", "1,2"),
        ("1,200", "PL", "en", "1200", "1.2"),
        ("1.200", "PL", "en", "1200", "1.2"),     # an English-speaking writer's point is a decimal
        ("1.200", "TR", "en", "1200", "1.2"),
        ("1.200", "IN", "en", "1200", "1.2"),     # the point is India's decimal mark
        ("1,200", "IN", "pl", "1200", "1,2"),     # a Polish writer's comma is a decimal
        ("-12,345", "PL", "pl", "-12345", "-12,3450"),  # a fourth digit makes it a decimal
        ("1,000", "TR", "tr", "1000", "1"),
        ("1,200", None, "en", "1200", "1.2"),
    ],
)
def test_ambiguous_input_is_refused_naming_both_readings(text, market, lang, whole, fraction):
    with pytest.raises(InvalidValue) as info:
        read_number(text, market, lang)
    assert info.value.code == "number.ambiguous"
    assert info.value.params == {"value": text, "whole": whole, "fraction": fraction}
    # both suggestions are themselves unambiguous and mean what they say
    assert read_number(whole, market, lang) == Decimal(whole.replace(",", "."))
    assert read_number(fraction, market, lang) == Decimal(fraction.replace(",", "."))


def test_money_suggestion_keeps_two_decimals():
    with pytest.raises(InvalidValue) as info:
        read_number("1,200", "PL", "pl", min_fraction_digits=2)
    assert info.value.params["fraction"] == "1,20"
    assert "1200" in info.value.message("pl") and "1,20" in info.value.message("pl")


@pytest.mark.parametrize(
    "text,market",
    [
        ("", "PL"), ("abc", "PL"), ("1,2,3", "PL"), ("12 5", "PL"), ("1 2345", "PL"),
        ("1,20,000", "PL"),          # lakh grouping is India's
        ("1,20,000", "TR"),
        ("12,0000", "IN"),           # the comma is not a decimal mark in India
        ("1,5", "IN"),
        ("1.200,50", "IN"),
        ("1,200.000.5", "PL"), ("1.200,000,5", "TR"), ("1,200 000", "PL"), ("1 200.000,5", "PL"),
        ("5.", "PL"), ("5,", "PL"), (",", "PL"), ("-", "PL"), ("1..2", "PL"), ("01,200,000", "PL"),
        ("NaN", "PL"), ("Infinity", "PL"), ("1" * 101, "PL"), ("1 ,5", "PL"),
    ],
)
def test_not_a_number(text, market):
    with pytest.raises(InvalidValue) as info:
        read_number(text, market, "en")
    assert info.value.code == "number.invalid"


def test_unknown_market_is_reported_not_guessed():
    with pytest.raises(InvalidValue) as info:
        read_number("1", "XX", "en")
    assert info.value.code == "market.unknown"


# ---------------------------------------------------------------- properties

MARKETS = ["PL", "TR", "IN"]


def _own_languages(code):
    return get_market(code).languages


market_and_lang = st.sampled_from(MARKETS).flatmap(
    lambda m: st.tuples(st.just(m), st.sampled_from(list(_own_languages(m)))))
market_and_any_lang = st.sampled_from(MARKETS).flatmap(
    lambda m: st.tuples(st.just(m), st.sampled_from(sorted(set(_own_languages(m)) | {"en", "pl", "tr", "hi"}))))
BIG = 10**15


def _reads_back(ml, value, **formatting) -> None:
    """`value` formatted for the (market, language) pair `ml` is read back as `value`."""
    market, lang = ml
    text = format_number(value, lang, market, **formatting)
    assert read_number(text, market, lang) == value, text


@settings(max_examples=300, deadline=None)
@given(market_and_lang, st.integers(min_value=-BIG, max_value=BIG))
def test_any_whole_number_formatted_for_the_market_reads_back(ml, n):
    _reads_back(ml, n)


@settings(max_examples=300, deadline=None)
@given(market_and_any_lang, st.decimals(min_value=-BIG, max_value=BIG, places=2,
                                         allow_nan=False, allow_infinity=False))
def test_any_amount_with_two_decimals_reads_back_in_every_language(ml, amount):
    _reads_back(ml, amount, fraction_digits=2)


@settings(max_examples=300, deadline=None)
@given(market_and_any_lang, st.decimals(min_value=-BIG, max_value=BIG, places=3,
                                         allow_nan=False, allow_infinity=False))
def test_a_formatted_number_reads_back_or_is_refused_never_misread(ml, value):
    """Babel writes 1.234 as '1,234' in pl: that is refused as ambiguous, never read as 1234."""
    market, lang = ml
    text = format_number(value, lang, market)
    try:
        got = read_number(text, market, lang)
    except InvalidValue as exc:
        assert exc.code == "number.ambiguous", (text, exc.code)
        assert Decimal(value) in {read_number(exc.params["whole"], market, lang),
                                  read_number(exc.params["fraction"], market, lang)}, text
    else:
        assert got == value, text


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(MARKETS),
       st.decimals(min_value=0, max_value=10**10, places=2, allow_nan=False, allow_infinity=False))
def test_money_formatted_by_babel_for_the_market_reads_back(market, amount):
    text = format_money(amount, market=market)
    lang = get_market(market).default_language
    number = text.strip("zł₺₹" + NBSP + " ")
    assert read_number(number, market, lang) == amount, text


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789.,  \xa0-+e", max_size=14), st.sampled_from([None, *MARKETS]),
       st.sampled_from(["en", "pl", "tr", "hi", "de", "", "xx"]))
def test_never_raises_anything_but_invalid_value(text, market, lang):
    try:
        value = read_number(text, market, lang)
    except InvalidValue as exc:
        assert exc.code in {"number.invalid", "number.ambiguous"}
    else:
        assert isinstance(value, Decimal) and value.is_finite()


def test_conventions_come_from_babel_for_the_market():
    # a Babel upgrade that changes the marks should fail here, not silently in reading
    assert babel_locale("pl", "PL") == "pl_PL" and format_number(decimal.Decimal("1.5"), "pl", "PL") == "1,5"
    assert format_number(1200, "tr", "TR") == "1.200"
    assert format_number(1200000, "en", "IN") == "12,00,000"
