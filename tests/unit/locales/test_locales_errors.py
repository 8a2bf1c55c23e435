"""The message catalogue: every code speaks every language (through the gettext catalogs); rendering
falls back sanely."""

import pickle
import re
from pathlib import Path

import pytest

import locales
from locales.errors import MESSAGE_LANGUAGES, InvalidValue, messages, table

PACKAGE = Path(locales.__file__).parent


def test_the_table_holds_english_only():
    """One home per word: the YAML has each code's English, the gettext catalogs its translations."""
    assert len(table().data) > 20 and all(isinstance(v, str) and v.strip() for v in table().data.values())


@pytest.mark.parametrize("lang", MESSAGE_LANGUAGES)
def test_every_code_has_every_language(lang):
    assert table().missing(lang) == []


def test_translations_use_the_same_placeholders():
    for code, entry in messages().items():
        names = {lang: set(re.findall(r"{(\w+)}", entry[lang])) for lang in MESSAGE_LANGUAGES}
        assert all(n == names["en"] for n in names.values()), code


def test_every_code_raised_in_the_source_is_in_the_catalogue():
    source = "\n".join(p.read_text("utf-8") for p in PACKAGE.glob("*.py"))
    raised = set(re.findall(r'"((?:phone|taxid|market|calendar|number)\.[a-z_]+)"', source))
    assert {"phone.invalid", "taxid.checksum", "market.unknown", "number.ambiguous"} <= raised, "the scan is broken"
    assert raised <= set(messages()), raised - set(messages())


def test_every_calling_reason_has_a_message():
    from locales.calling import REASON_CODES

    assert {f"calling.{code}" for code in REASON_CODES} <= set(messages())


def test_message_in_each_language_and_fallback():
    error = InvalidValue("taxid.checksum", {"kind": "nip", "kind_label": "NIP"})
    assert "check digit" in error.message("en")
    assert "kontrolna" in error.message("pl_PL")
    assert "kontrol hanesi" in error.message("tr-TR")
    assert "चेक अंक" in error.message("hi-IN")
    assert error.message("de") == error.message("en")
    assert error.message(None) == error.message("en")


def test_missing_param_stays_visible_instead_of_crashing():
    assert "{kind_label}" in InvalidValue("taxid.checksum").message("en")


def test_unknown_code_renders_as_code():
    assert InvalidValue("something.else").message("pl") == "something.else"


def test_is_a_value_error_with_code_and_params_and_pickles():
    error = InvalidValue("phone.invalid", {"region": "PL"})
    assert isinstance(error, ValueError)
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.code, clone.params) == ("phone.invalid", {"region": "PL"})


def test_unknown_market_is_both_invalid_value_and_key_error():
    with pytest.raises(KeyError):
        locales.get_market("DE")
    with pytest.raises(InvalidValue) as info:
        locales.get_market("DE")
    assert info.value.code == "market.unknown"
    assert "DE" in str(info.value)
