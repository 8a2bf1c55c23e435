"""Tax ids against LOCALES.md §4 (python-stdnum 2.2), plus the placeholder guard."""

import pytest

from locales import InvalidValue, validate_tax_id
from locales.taxids import is_placeholder_digits

ACCEPTED = [
    # market, kind, raw, compact, display
    ("PL", "nip", "8567346215", "8567346215", "856-734-62-15"),
    ("PL", "nip", "PL 856-734-62-15", "8567346215", "856-734-62-15"),
    ("PL", "nip", "5260250274", "5260250274", "526-025-02-74"),
    ("PL", "regon", "192598184", "192598184", "192598184"),
    ("PL", "regon", "12345678512347", "12345678512347", "12345678512347"),
    ("PL", "pesel", "44051401359", "44051401359", "44051401359"),
    ("TR", "vkn", "4540536920", "4540536920", "4540536920"),
    ("TR", "tckn", "17291716060", "17291716060", "17291716060"),
    ("TR", "tckn", "10000000146", "10000000146", "10000000146"),
    ("IN", "gstin", "27AAPFU0939F1ZV", "27AAPFU0939F1ZV", "27AAPFU0939F1ZV"),
    ("IN", "gstin", "29AAGCB7383J1Z4", "29AAGCB7383J1Z4", "29AAGCB7383J1Z4"),
    ("IN", "gstin", "37AADCB2230M2ZR", "37AADCB2230M2ZR", "37AADCB2230M2ZR"),
    ("IN", "pan", "ACUPA7085R", "ACUPA7085R", "ACUPA7085R"),
    ("IN", "pan", "AAPFU0939F", "AAPFU0939F", "AAPFU0939F"),
    ("IN", "pan", "ABCPE1234F", "ABCPE1234F", "ABCPE1234F"),
]

REJECTED = [
    # market, kind, raw, code
    ("PL", "nip", "8567346216", "taxid.checksum"),
    ("PL", "nip", "1234567890", "taxid.checksum"),
    ("PL", "regon", "192598183", "taxid.checksum"),
    ("PL", "regon", "12345678512348", "taxid.checksum"),
    ("PL", "regon", "000000000", "taxid.repeated_digits"),  # stdnum accepts it (§4 pitfall)
    ("PL", "pesel", "44051401358", "taxid.checksum"),
    ("TR", "vkn", "4540536921", "taxid.checksum"),
    ("TR", "vkn", "0010012345", "taxid.checksum"),
    ("TR", "vkn", "1234567890", "taxid.sequential_digits"),  # stdnum accepts it (§4 pitfall)
    ("TR", "tckn", "17291716050", "taxid.checksum"),
    ("TR", "tckn", "12345678901", "taxid.checksum"),
    ("TR", "tckn", "00000000000", "taxid.format"),
    ("IN", "gstin", "27AAPFU0939F1Z5", "taxid.checksum"),
    ("IN", "gstin", "99AAPFU0939F1ZV", "taxid.component"),
    ("IN", "pan", "ABCDE1234F", "taxid.component"),
    ("IN", "pan", "AAAAA0000A", "taxid.component"),
    ("IN", "pan", "ACUPA7085RR", "taxid.length"),
]


@pytest.mark.parametrize("market,kind,raw,compact,display", ACCEPTED)
def test_accepted_with_explicit_kind(market, kind, raw, compact, display):
    tax_id = validate_tax_id(raw, market, kind)
    assert (tax_id.kind, tax_id.compact, tax_id.display) == (kind, compact, display)


@pytest.mark.parametrize("market,kind,raw,compact,display", ACCEPTED)
def test_accepted_kind_is_guessed(market, kind, raw, compact, display):
    assert validate_tax_id(raw, market.lower()).kind == kind


@pytest.mark.parametrize("market,kind,raw,code", REJECTED)
def test_rejected_with_reason(market, kind, raw, code):
    with pytest.raises(InvalidValue) as info:
        validate_tax_id(raw, market, kind)
    assert info.value.code == code
    assert info.value.params["kind"] == kind


@pytest.mark.parametrize("market,kind,raw,code", REJECTED)
def test_rejected_without_kind_still_rejected(market, kind, raw, code):
    with pytest.raises(InvalidValue) as info:
        validate_tax_id(raw, market)
    assert info.value.code.startswith("taxid.")


def test_guess_reports_the_specific_reason_when_one_kind_matches_the_shape():
    with pytest.raises(InvalidValue) as info:
        validate_tax_id("1234567890", "TR")
    assert info.value.code == "taxid.sequential_digits"


def test_guess_reports_unrecognised_for_garbage():
    with pytest.raises(InvalidValue) as info:
        validate_tax_id("12", "PL")
    assert info.value.code == "taxid.unrecognised"
    assert "NIP" in info.value.message("en")


def test_kind_from_another_market_is_unknown():
    with pytest.raises(InvalidValue) as info:
        validate_tax_id("4540536920", "PL", "vkn")
    assert info.value.code == "taxid.unknown_kind"


def test_empty_value():
    with pytest.raises(InvalidValue) as info:
        validate_tax_id("  ", "IN")
    assert info.value.code == "taxid.empty"


def test_gstin_info_gives_state_and_pan():
    tax_id = validate_tax_id("27AAPFU0939F1ZV", "IN")
    assert tax_id.info["state"] == "Maharashtra"
    assert tax_id.info["pan"] == "AAPFU0939F"
    assert tax_id.info["state_code"] == "27"
    assert "Firm" in tax_id.info["holder_type"]


def test_pan_info_gives_holder_type():
    assert validate_tax_id("ACUPA7085R", "IN", "pan").info["holder_type"] == "Individual"


def test_pesel_info_decodes_birth_date():
    assert validate_tax_id("44051401359", "PL", "pesel").info["birth_date"] == "1944-05-14"


@pytest.mark.parametrize(
    "digits,expected",
    [
        ("0000000000", "taxid.repeated_digits"),
        ("1234567890", "taxid.sequential_digits"),
        ("9876543210", "taxid.sequential_digits"),
        ("8901234567", "taxid.sequential_digits"),
        ("12345678512347", None),
        ("4540536920", None),
        ("ABC", None),
    ],
)
def test_placeholder_detection(digits, expected):
    assert is_placeholder_digits(digits) == expected


def test_tckn_validation_never_calls_the_live_kps_service(monkeypatch):
    """tckimlik.check_kps makes a live SOAP call to the government; it must stay unreachable."""
    from stdnum.tr import tckimlik

    def boom(*args, **kwargs):
        raise AssertionError("check_kps called")

    monkeypatch.setattr(tckimlik, "check_kps", boom)
    assert validate_tax_id("17291716060", "TR").kind == "tckn"


TOLERATED = {  # market: {as typed: the compact form}
    "TR": {" 454 053 6920 ": "4540536920",  # stdnum.tr.vkn alone rejects inner spaces
           "172 917 160 60": "17291716060"},
    "IN": {"27aapfu0939f1zv": "27AAPFU0939F1ZV", "acupa 7085 r": "ACUPA7085R"},
    "PL": {"856.734.62.15": "8567346215", "pl8567346215": "8567346215", "192\u00a0598\u00a0184": "192598184"},
}


@pytest.mark.parametrize(
    "raw,market,compact",
    [(raw, market, compact) for market, typed in TOLERATED.items() for raw, compact in typed.items()])
def test_typed_separators_and_case_are_tolerated(raw, market, compact):
    assert validate_tax_id(raw, market).compact == compact
