"""Phone numbers against LOCALES.md §5 (phonenumbers 9.0.43)."""

import pytest

from locales import InvalidValue, normalize_phone

SAME_NUMBER = {  # (market, a number in E.164): the ways it is dialled there
    ("PL", "+48512345678"): ["0048512345678", "512 345 678", "+48 512-345-678"],
    ("TR", "+905321234567"): ["0532 123 45 67", "5321234567"],
    ("IN", "+919876543210"): ["09876543210", "+91-9876543210"],
    ("IN", "+916000012345"): ["6000012345"],
}


@pytest.mark.parametrize(
    "market,raw,e164", [(market, raw, e164) for (market, e164), dialled in SAME_NUMBER.items() for raw in dialled])
def test_normalises_local_dialling_to_e164(market, raw, e164):
    assert normalize_phone(raw, market).e164 == e164


@pytest.mark.parametrize(
    "market,raw,national,international,kind",
    [
        ("PL", "512345678", "512 345 678", "+48 512 345 678", "mobile"),
        ("PL", "800 123 456", "800 123 456", "+48 800 123 456", "toll_free"),
        ("TR", "05321234567", "0532 123 45 67", "+90 532 123 45 67", "mobile"),
        ("TR", "02123456789", "(0212) 345 67 89", "+90 212 345 67 89", "fixed_line"),
        ("TR", "0850 123 45 67", "0850 123 4567", "+90 850 123 4567", "voip"),
        ("TR", "444 1 234", "444 1 234", "+90 4441234", "uan"),
        ("IN", "9876543210", "098765 43210", "+91 98765 43210", "mobile"),
        ("IN", "5876543210", "05876 543 210", "+91 5876 543 210", "fixed_line"),
        ("IN", "1800 123 4567", "1800 123 4567", "+91 1800 123 4567", "toll_free"),
    ],
)
def test_display_forms_and_kind(market, raw, national, international, kind):
    phone = normalize_phone(raw, market)
    assert (phone.national, phone.international, phone.kind) == (national, international, kind)
    assert phone.region == market


def test_mobile_flag_tells_mobile_from_landline():
    assert normalize_phone("0532 123 45 67", "TR").is_mobile
    assert not normalize_phone("0212 345 67 89", "TR").is_mobile


def test_market_code_is_case_insensitive():
    assert normalize_phone("512345678", "pl").e164 == "+48512345678"


def test_foreign_number_with_plus_keeps_its_region():
    phone = normalize_phone("+49 30 123456", "PL")
    assert phone.region == "DE"
    assert phone.e164 == "+4930123456"


REJECTIONS = {  # each reason code: the (market, typed number) that get it
    "phone.empty": [("PL", ""), ("PL", "   ")],
    "phone.not_a_number": [("PL", "abc")],
    "phone.too_short": [("PL", "12")],
    "phone.too_long": [("PL", "5123456789999")],
    "phone.invalid": [("PL", "51234567"), ("TR", "0123 456 78 90")],
    "phone.invalid_country_code": [("IN", "+999 123")],
}


@pytest.mark.parametrize(
    "market,raw,code", [(market, raw, code) for code, typed in REJECTIONS.items() for market, raw in typed])
def test_rejections_carry_a_code(market, raw, code):
    with pytest.raises(InvalidValue) as info:
        normalize_phone(raw, market)
    assert info.value.code == code
    assert info.value.message("pl") != info.value.message("en")


def test_result_is_frozen():
    phone = normalize_phone("512345678", "PL")
    with pytest.raises(AttributeError):
        phone.e164 = "+1"
