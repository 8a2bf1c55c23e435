"""`phone_e164` (what profile_schema validation stores) is `normalize_phone(...).e164`, errors included."""
from __future__ import annotations

import pytest

from locales import InvalidValue, normalize_phone
from locales.phones import phone_e164

NUMBERS = [
    ("PL", "0048512345678"), ("PL", "512 345 678"), ("PL", "+48 512-345-678"), ("PL", "+49 30 123456"),
    ("TR", "0532 123 45 67"), ("TR", "5321234567"), ("TR", "0212 345 67 89"),
    ("IN", "09876543210"), ("IN", "+91-9876543210"), ("IN", "6000012345"), ("in", "98765 43210"),
    # refused ones: the same code either way
    ("PL", ""), ("PL", "   "), ("PL", "abc"), ("PL", "12"), ("PL", "5123456789999"), ("PL", "51234567"),
    ("TR", "0123 456 78 90"), ("IN", "+999 123"), ("XX", "512345678"),
]


def _outcome(fn, raw: str, market: str):
    try:
        return "ok", fn(raw, market)
    except InvalidValue as exc:
        return "refused", exc.code, exc.message("en")


@pytest.mark.parametrize("market,raw", NUMBERS)
def test_phone_e164_is_the_e164_of_normalize_phone(market, raw):
    full = _outcome(normalize_phone, raw, market)
    short = _outcome(phone_e164, raw, market)
    if full[0] == "ok":
        assert short == ("ok", full[1].e164)
    else:
        assert short == full


def test_the_numbers_above_include_both_outcomes():
    outcomes = {_outcome(phone_e164, raw, market)[0] for market, raw in NUMBERS}
    assert outcomes == {"ok", "refused"}
