"""Phone numbers parsed with the market's region, stored E.164, shown nationally.

Merchants type numbers the way they dial them locally (``0532 123 45 67``,
``512 345 678``), so parsing must use the market's region; ``parse(x, None)``
would reject anything without a ``+``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import ValidationResult

from .errors import InvalidValue

__all__ = ["PhoneNumber", "normalize_phone", "phone_e164", "PHONE_KINDS"]

_KINDS = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.UAN: "uan",
}
#: Every value ``PhoneNumber.kind`` can take.
PHONE_KINDS = ("mobile", "fixed_line", "fixed_line_or_mobile", "toll_free", "voip", "uan", "other")

_POSSIBLE_ERRORS = {
    ValidationResult.TOO_SHORT: "phone.too_short",
    ValidationResult.INVALID_LENGTH: "phone.too_short",
    ValidationResult.TOO_LONG: "phone.too_long",
    ValidationResult.INVALID_COUNTRY_CODE: "phone.invalid_country_code",
}
_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "phone.invalid_country_code",
    NumberParseException.TOO_SHORT_AFTER_IDD: "phone.too_short",
    NumberParseException.TOO_SHORT_NSN: "phone.too_short",
    NumberParseException.TOO_LONG: "phone.too_long",
}


@dataclass(frozen=True)
class PhoneNumber:
    """A validated number: store ``e164``, show ``national`` to locals, ``international`` abroad."""

    e164: str
    national: str
    international: str
    kind: str
    region: str

    @property
    def is_mobile(self) -> bool:
        """Tell whether an SMS can reach it (fixed_line_or_mobile counts, e.g. in the US)."""
        return self.kind in ("mobile", "fixed_line_or_mobile")

    def __str__(self) -> str:
        return self.e164


def _region_for(market: str) -> str:
    """Map a market code to its phonenumbers region, accepting bare regions for reuse."""
    from .market import get_market  # late import: market loading reads YAML

    try:
        return get_market(market).phone_region
    except InvalidValue:
        code = (market or "").upper()
        if code in phonenumbers.SUPPORTED_REGIONS:
            return code
        raise


def _checked(raw: str, market: str) -> tuple[Any, str]:
    """(the parsed number, the market's region) of a valid number, or raise InvalidValue."""
    text = (raw or "").strip()
    if not text:
        raise InvalidValue("phone.empty", {"raw": raw})
    region = _region_for(market)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidValue(_PARSE_ERRORS.get(exc.error_type, "phone.not_a_number"), {"raw": text, "region": region}) from exc
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in _POSSIBLE_ERRORS:
        raise InvalidValue(_POSSIBLE_ERRORS[reason], {"raw": text, "region": region})
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue("phone.invalid", {"raw": text, "region": region})
    return number, region


def phone_e164(raw: str, market: str) -> str:
    """``normalize_phone(raw, market).e164`` (the same checks and errors) without the other forms:
    half the cost, for storing many numbers at once."""
    return phonenumbers.format_number(_checked(raw, market)[0], PhoneNumberFormat.E164)


def normalize_phone(raw: str, market: str) -> PhoneNumber:
    """Parse ``raw`` as dialled in ``market`` and return its canonical forms, or raise InvalidValue."""
    number, region = _checked(raw, market)
    number_region = phonenumbers.region_code_for_number(number) or region
    return PhoneNumber(
        e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
        national=phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL),
        international=phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        kind=_KINDS.get(phonenumbers.number_type(number), "other"),
        region=number_region,
    )
