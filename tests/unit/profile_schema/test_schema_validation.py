"""Validation: every question type, sources, markets, skip logic, required fields, localized errors."""
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profile_schema import SOURCES, FieldError, evaluate_condition, load_schema, parse_schema

S = load_schema()


def check(key, raw, *, market="PL", source="call", lang="en", known=None):
    return S.validate({key: raw}, market=market, source=source, lang=lang, known=known)


# ---------------------------------------------------------------- valid answers, per type

VALID = [
    # key, market, raw, clean value
    ("owner.name", "PL", "  Anna Nowak ", "Anna Nowak"),
    ("owner.name", "PL", "Zoe\u0301", "Zo\u00e9"),  # NFC
    ("owner.name", "TR", "Ay\u202eşe", "Ayşe"),  # a bidi override cannot reorder what consultants read
    ("owner.name", "PL", "x" * 120, "x" * 120),  # exactly at max_length
    ("needs.main_goal", "PL", "Sell\tmore\x00 shoes", "Sell\tmore shoes"),
    ("owner.email", "PL", "Anna.Nowak@Example.COM", "Anna.Nowak@example.com"),
    ("owner.email", "TR", " a.b+shop@sub.example.com.tr ", "a.b+shop@sub.example.com.tr"),
    ("owner.phone", "PL", "512 345 678", "+48512345678"),
    ("owner.phone", "PL", 512345678, "+48512345678"),
    ("owner.phone", "TR", "0532 123 45 67", "+905321234567"),
    ("owner.phone", "IN", "09876543210", "+919876543210"),
    ("owner.tax_id", "PL", "8567346215", {"kind": "nip", "number": "8567346215"}),
    ("owner.tax_id", "PL", "PL 856-734-62-15", {"kind": "nip", "number": "8567346215"}),
    ("owner.tax_id", "PL", {"kind": "pesel", "number": "44051401359"}, {"kind": "pesel", "number": "44051401359"}),
    ("owner.tax_id", "TR", "4540536920", {"kind": "vkn", "number": "4540536920"}),
    ("owner.tax_id", "TR", "17291716060", {"kind": "tckn", "number": "17291716060"}),
    ("owner.tax_id", "IN", "27AAPFU0939F1ZV", {"kind": "gstin", "number": "27AAPFU0939F1ZV"}),
    ("owner.tax_id", "IN", {"kind": "pan", "number": "ACUPA7085R"}, {"kind": "pan", "number": "ACUPA7085R"}),
    ("owner.language", "PL", "pl", "pl"),
    ("owner.language", "IN", " hi ", "hi"),
    ("owner.hours_per_week", "PL", 10, 10),
    ("owner.hours_per_week", "PL", "10", 10),
    ("owner.hours_per_week", "PL", 10.0, 10),
    ("owner.hours_per_week", "PL", 0, 0),
    ("owner.hours_per_week", "PL", "100", 100),
    ("experience.years_selling_online", "PL", "1,5", 1.5),  # Polish and Turkish decimal comma
    ("experience.years_selling_online", "TR", 2.5, 2.5),
    ("business.catalogue_size", "PL", "1 000", 1000),
    ("business.catalogue_size", "PL", "12\u00a0500", 12500),
    ("experience.tech_comfort", "PL", 1, 1),
    ("experience.tech_comfort", "PL", "5", 5),
    ("experience.sold_online_before", "PL", True, True),
    ("experience.sold_online_before", "PL", "yes", True),
    ("experience.sold_online_before", "PL", "Tak", True),
    ("experience.sold_online_before", "TR", "evet", True),
    ("experience.sold_online_before", "TR", "Hayır", False),
    ("experience.sold_online_before", "PL", 0, False),
    ("experience.sold_online_before", "PL", "N", False),
    ("needs.help_with", "PL", ["payments", "store_setup"], ["store_setup", "payments"]),  # schema order
    ("needs.help_with", "PL", "seo, payments", ["payments", "seo"]),
    ("needs.help_with", "PL", ("shipping",), ["shipping"]),
    ("features.payments", "PL", [], []),  # explicitly none
    ("features.payments", "PL", ["blik", "paypal"], ["blik", "paypal"]),
    ("business.expected_monthly_turnover", "PL", 5000, {"amount": 5000, "currency": "PLN"}),
    ("business.expected_monthly_turnover", "TR", 5000, {"amount": 5000, "currency": "TRY"}),
    ("business.expected_monthly_turnover", "IN", "80000", {"amount": 80000, "currency": "INR"}),
    ("business.expected_monthly_turnover", "PL", "1 200,50 PLN", {"amount": 1200.5, "currency": "PLN"}),
    # amounts as merchants write them in their market (docs/design.md, "Numbers typed by people")
    ("business.expected_monthly_turnover", "IN", "1,200", {"amount": 1200, "currency": "INR"}),
    ("business.expected_monthly_turnover", "IN", "12,00,000", {"amount": 1200000, "currency": "INR"}),
    ("business.expected_monthly_turnover", "IN", "INR 1,20,000.50", {"amount": 120000.5, "currency": "INR"}),
    ("business.expected_monthly_turnover", "PL", "1.200,50", {"amount": 1200.5, "currency": "PLN"}),
    ("business.expected_monthly_turnover", "PL", "1\u00a0200,50 PLN", {"amount": 1200.5, "currency": "PLN"}),
    ("business.expected_monthly_turnover", "PL", {"amount": "1.200,50", "currency": "PLN"},
     {"amount": 1200.5, "currency": "PLN"}),
    ("business.expected_monthly_turnover", "TR", "1.200,50", {"amount": 1200.5, "currency": "TRY"}),
    ("business.expected_monthly_turnover", "TR", "1.200,00 TRY", {"amount": 1200, "currency": "TRY"}),
    ("business.expected_monthly_turnover", "TR", "2.500.000", {"amount": 2500000, "currency": "TRY"}),
    ("business.expected_monthly_turnover", "PL", "1,200.50", {"amount": 1200.5, "currency": "PLN"}),
    ("business.catalogue_size", "IN", "1,200", 1200),
    ("business.catalogue_size", "IN", "1,00,000", 100000),
    ("business.catalogue_size", "TR", "1.000.000", 1000000),
    ("business.catalogue_size", "PL", "12 500", 12500),
    ("experience.years_selling_online", "TR", "2,5", 2.5),
    ("experience.years_selling_online", "IN", "2.5", 2.5),
    ("business.expected_monthly_turnover", "PL", "EUR 300", {"amount": 300, "currency": "EUR"}),
    ("business.expected_monthly_turnover", "PL", {"amount": "1000", "currency": "try"}, {"amount": 1000, "currency": "TRY"}),
    ("business.expected_monthly_turnover", None, "99 usd", {"amount": 99, "currency": "USD"}),
    ("business.planned_launch", "PL", "2026-03-01", "2026-03-01"),
    ("business.planned_launch", "PL", date(2026, 3, 1), "2026-03-01"),
    ("business.planned_launch", "PL", datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc), "2026-03-01"),
    ("business.planned_launch", "PL", "2020-01-01", "2020-01-01"),  # the bounds are inclusive
    ("business.planned_launch", "PL", "2035-12-31", "2035-12-31"),
]


@pytest.mark.parametrize("key,market,raw,clean", VALID)
def test_valid_answers_come_back_clean(key, market, raw, clean):
    result = check(key, raw, market=market)
    assert result.errors == []
    assert result.ok
    assert result.values == {key: clean}


# ---------------------------------------------------------------- invalid answers, per type

INVALID = [
    # key, market, raw, error code
    ("owner.name", "PL", "x" * 121, "too_long"),
    ("owner.name", "PL", 123, "not_text"),
    ("owner.name", "PL", ["Anna"], "not_text"),
    ("owner.email", "PL", "anna", "invalid_email"),
    ("owner.email", "PL", "anna@", "invalid_email"),
    ("owner.email", "PL", "@example.com", "invalid_email"),
    ("owner.email", "PL", "anna@example", "invalid_email"),
    ("owner.email", "PL", "an na@example.com", "invalid_email"),
    ("owner.email", "PL", "a..b@example.com", "invalid_email"),
    ("owner.email", "PL", "a@b@example.com", "invalid_email"),
    ("owner.email", "PL", "a\x00b@example.com", "invalid_email"),
    ("owner.email", "PL", "x" * 65 + "@example.com", "invalid_email"),
    ("owner.email", "PL", 42, "invalid_email"),
    ("owner.phone", "PL", "12", "invalid_phone"),
    ("owner.phone", "PL", "call me", "invalid_phone"),
    ("owner.phone", "TR", "0532 123", "invalid_phone"),
    ("owner.phone", "PL", {"number": "512345678"}, "invalid_phone"),
    ("owner.phone", "PL", True, "invalid_phone"),
    ("owner.phone", None, "512 345 678", "market_required"),
    ("owner.tax_id", "PL", "8567346216", "invalid_tax_id"),
    ("owner.tax_id", "TR", "1234567890", "invalid_tax_id"),
    ("owner.tax_id", "IN", "ABCDE1234F", "invalid_tax_id"),
    ("owner.tax_id", "PL", {"kind": "vkn", "number": "4540536920"}, "invalid_tax_id"),
    ("owner.tax_id", "PL", {"kind": 5, "number": "8567346215"}, "invalid_tax_id"),
    ("owner.tax_id", "PL", [8567346215], "invalid_tax_id"),
    ("owner.tax_id", None, "8567346215", "market_required"),
    ("owner.language", "PL", "de", "invalid_choice"),
    ("owner.language", "PL", 1, "invalid_choice"),
    ("owner.language", "PL", ["pl"], "invalid_choice"),
    ("owner.hours_per_week", "PL", -1, "below_min"),
    ("owner.hours_per_week", "PL", 101, "above_max"),
    ("owner.hours_per_week", "PL", "101", "above_max"),
    ("owner.hours_per_week", "PL", 10**400, "above_max"),
    ("owner.hours_per_week", "PL", "1e999999999", "above_max"),  # and quickly: no huge int()
    ("owner.hours_per_week", "PL", "-1e999999999", "below_min"),
    ("owner.hours_per_week", "PL", "abc", "not_a_number"),
    ("owner.hours_per_week", "PL", "ten", "not_a_number"),
    ("owner.hours_per_week", "PL", 10.5, "not_integer"),
    ("owner.hours_per_week", "PL", "10,5", "not_integer"),
    ("owner.hours_per_week", "PL", True, "not_a_number"),
    ("owner.hours_per_week", "PL", "NaN", "not_a_number"),
    ("owner.hours_per_week", "PL", "Infinity", "not_a_number"),
    ("owner.hours_per_week", "PL", float("nan"), "not_a_number"),
    ("owner.hours_per_week", "PL", float("inf"), "not_a_number"),
    ("owner.hours_per_week", "PL", [], "not_a_number"),
    ("owner.hours_per_week", "PL", {"value": 3}, "not_a_number"),
    ("owner.hours_per_week", "PL", "1" * 200, "not_a_number"),
    ("experience.years_selling_online", "PL", "1,200.5", "above_max"),  # 1200.5: both marks, the last is decimal
    ("experience.years_selling_online", "PL", "1,2,5", "not_a_number"),
    ("business.catalogue_size", "PL", "12 5", "not_a_number"),  # a space where no group ends
    ("business.catalogue_size", "IN", "12,0000", "not_a_number"),  # a comma is never a decimal in India
    ("business.catalogue_size", "PL", "12,00,000", "not_a_number"),  # lakh grouping is India's
    # "1,200" where the comma is the decimal mark: 1.2 or 1200? Asked, never guessed
    ("business.expected_monthly_turnover", "PL", "1,200", "ambiguous_number"),
    ("business.expected_monthly_turnover", "PL", "1,200 PLN", "ambiguous_number"),
    ("business.expected_monthly_turnover", "TR", "1,200", "ambiguous_number"),
    ("business.expected_monthly_turnover", "TR", {"amount": "1,200", "currency": "TRY"}, "ambiguous_number"),
    ("business.expected_monthly_turnover", "IN", "1.200", "ambiguous_number"),
    ("business.catalogue_size", "PL", "1,200", "ambiguous_number"),
    ("business.catalogue_size", "TR", "1,500", "ambiguous_number"),
    ("experience.years_selling_online", "PL", "1,500", "ambiguous_number"),
    ("experience.years_selling_online", "PL", "1e-999999999", "not_a_number"),
    ("experience.tech_comfort", "PL", 0, "below_min"),
    ("experience.tech_comfort", "PL", 6, "above_max"),
    ("experience.tech_comfort", "PL", 3.5, "not_integer"),
    ("experience.sold_online_before", "PL", "maybe", "not_boolean"),
    ("experience.sold_online_before", "PL", 2, "not_boolean"),
    ("experience.sold_online_before", "PL", 1.0, "not_boolean"),
    ("experience.sold_online_before", "PL", [], "not_boolean"),
    ("needs.help_with", "PL", "payments,payments", "duplicate_choice"),
    ("needs.help_with", "PL", [], "too_few_choices"),
    ("needs.help_with", "PL", ["dancing"], "invalid_choice"),
    ("needs.help_with", "PL", [["payments"]], "invalid_choice"),
    ("needs.help_with", "PL", {"payments": True}, "not_a_list"),
    ("needs.help_with", "PL", 5, "not_a_list"),
    ("business.expected_monthly_turnover", "PL", "lots", "invalid_money"),
    ("business.expected_monthly_turnover", "PL", "12 000 zł", "invalid_money"),
    ("business.expected_monthly_turnover", "PL", "PLN 5 EUR", "invalid_money"),
    ("business.expected_monthly_turnover", "PL", True, "invalid_money"),
    ("business.expected_monthly_turnover", "PL", [5000], "invalid_money"),
    ("business.expected_monthly_turnover", "PL", {"amount": None, "currency": "PLN"}, "invalid_money"),
    ("business.expected_monthly_turnover", None, 5000, "invalid_money"),  # which currency?
    ("business.expected_monthly_turnover", "PL", {"amount": 5, "currency": "GBP"}, "invalid_currency"),
    ("business.expected_monthly_turnover", "PL", "5 GBP", "invalid_currency"),
    ("business.expected_monthly_turnover", "PL", -5, "below_min"),
    ("business.expected_monthly_turnover", "PL", {"amount": "1e999999999", "currency": "PLN"}, "above_max"),
    ("business.planned_launch", "PL", "2019-12-31", "below_min"),
    ("business.planned_launch", "PL", "2036-01-01", "above_max"),
    ("business.planned_launch", "PL", "01.02.2026", "invalid_date"),
    ("business.planned_launch", "PL", "2026-02-30", "invalid_date"),
    ("business.planned_launch", "PL", 2026, "invalid_date"),
    ("business.planned_launch", "PL", ["2026-03-01"], "invalid_date"),
    ("features.payments", "PL", ["iyzico"], "choice_not_in_market"),
    ("features.payments", "TR", ["blik"], "choice_not_in_market"),
    ("features.payments", "IN", ["paypal", "przelewy24"], "choice_not_in_market"),
]


@pytest.mark.parametrize("key,market,raw,code", INVALID)
def test_invalid_answers_are_errors_naming_the_field_and_the_reason(key, market, raw, code):
    result = check(key, raw, market=market)
    assert not result.ok
    assert result.values == {}
    assert [(e.field, e.code) for e in result.errors] == [(key, code)]
    assert result.errors[0].message.startswith(S[key].label("en") + ": ")


@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n", "\x00\u202e"])
@pytest.mark.parametrize("key", ["owner.name", "owner.hours_per_week", "owner.phone", "business.type"])
def test_null_and_blank_answers_say_nothing_and_are_dropped(key, raw):
    assert check(key, raw) .values == {}
    assert check(key, raw).errors == []


# ---------------------------------------------------------------- the request's language

LOCALIZED = [
    # key, raw: the message for each (market, lang) it is checked in
    ("owner.hours_per_week", 101, {
        ("PL", "en"): "Hours a week for the shop: must be at most 100",
        ("PL", "pl"): "Godziny tygodniowo na sklep: może wynosić najwyżej 100",
        ("TR", "tr"): "Mağazaya haftada ayrılan saat: en fazla 100 olmalı",
        ("PL", "pl_PL"): "Godziny tygodniowo na sklep: może wynosić najwyżej 100",
        ("IN", "hi"): "शॉप के लिए हफ़्ते में घंटे: अधिकतम 100 होना चाहिए",
        ("IN", "de"): "Hours a week for the shop: must be at most 100"}),
    ("business.type", "shop", {
        ("PL", "pl"): "Rodzaj działalności: 'shop' nie jest dozwoloną odpowiedzią",
        ("TR", "tr"): "İşletme türü: 'shop' izin verilen seçeneklerden biri değil"}),
    ("experience.sold_online_before", "perhaps", {
        ("TR", "tr"): "Daha önce internetten satış yaptı: evet veya hayır olmalı"}),
    ("experience.tech_comfort", 2.5, {("PL", "pl"): "Swoboda w technologii (1-5): musi być liczbą całkowitą"}),
    ("owner.email", "nope", {
        ("PL", "pl"): "E-mail: nie jest poprawnym adresem e-mail",
        ("TR", "tr"): "E-posta: geçerli bir e-posta adresi değil"}),
    ("business.planned_launch", "soon", {("PL", "pl"): "Planowana data otwarcia: musi być datą w formacie RRRR-MM-DD"}),
    ("needs.help_with", [], {("TR", "tr"): "Yardım istediği konular: en az 1 seçim gerekli"}),
    ("business.expected_monthly_turnover", "5 GBP", {
        ("PL", "pl"): "Oczekiwany obrót miesięczny: waluta 'GBP' nie jest akceptowana"}),
    ("business.expected_monthly_turnover", "1,200", {
        ("PL", "pl"): "Oczekiwany obrót miesięczny: '1,200' można odczytać na dwa sposoby: wpisz 1200 albo 1,20, "
                      "zależnie od tego, o co chodzi",
        ("TR", "tr"): "Beklenen aylık ciro: '1,200' iki şekilde okunabilir: hangisini kastediyorsanız 1200 ya da "
                      "1,20 yazın",
        ("TR", "en"): "Expected monthly turnover: '1,200' can be read two ways: write 1200 or 1.20, "
                      "whichever you mean"}),
    ("business.catalogue_size", "1,500", {
        ("PL", "pl"): "Wielkość katalogu: '1,500' można odczytać na dwa sposoby: wpisz 1500 albo 1,5, zależnie od "
                      "tego, o co chodzi"}),
    ("features.payments", ["blik"], {("TR", "tr"): "Ödemeler: 'blik' TR pazarında mevcut değil"}),
    ("owner.name", "x" * 200, {("PL", "pl"): "Imię i nazwisko właściciela: jest dłuższe niż 120 znaków"}),
    # phone and tax id: the field's label, then the market rules' own explanation
    ("owner.phone", "12", {
        ("PL", "pl"): "Telefon: Numer telefonu jest za krótki.",
        ("TR", "tr"): "Telefon: Telefon numarası çok kısa.",
        ("IN", "en"): "Phone: The phone number is too short."}),
    ("owner.tax_id", "8567346216", {
        ("PL", "pl"): "NIP / REGON: Cyfra kontrolna numeru NIP się nie zgadza; sprawdź, czy nie ma literówki."}),
    ("owner.tax_id", "17291716050", {
        ("TR", "tr"): "Vergi / T.C. kimlik no: TCKN kontrol hanesi tutmuyor; lütfen yazım hatası olup olmadığını "
                      "kontrol edin."}),
    ("owner.tax_id", "27AAPFU0939F1Z5", {
        ("IN", "en"): "Tax ID: The GSTIN check digit does not match; please check for a typo."}),
    ("owner.phone", "512345678", {(None, "pl"): "Telefon: wymaga znajomości rynku sklepu"}),
]


@pytest.mark.parametrize("key,raw,market,lang,message", [
    (key, raw, market, lang, message)
    for key, raw, messages in LOCALIZED for (market, lang), message in messages.items()])
def test_error_messages_are_in_the_requests_language_and_name_the_field(key, raw, market, lang, message):
    result = check(key, raw, market=market, lang=lang)
    assert [e.message for e in result.errors] == [message]


def test_phone_and_tax_id_errors_keep_the_market_rules_reason_code():
    phone = check("owner.phone", "12").errors[0]
    assert (phone.code, phone.params["reason"], phone.params["market"]) == ("invalid_phone", "phone.too_short", "PL")
    tax = check("owner.tax_id", "8567346216").errors[0]
    assert (tax.code, tax.params["reason"]) == ("invalid_tax_id", "taxid.checksum")


def test_field_error_as_dict_is_field_code_message():
    e = check("owner.hours_per_week", 101).errors[0]
    assert e.as_dict() == {"field": "owner.hours_per_week", "code": "above_max",
                           "message": "Hours a week for the shop: must be at most 100"}
    assert isinstance(e, FieldError)


@pytest.mark.parametrize(
    "lang,message",
    [("en", "no.such: is not a question of this interview"),
     ("pl", "no.such: nie jest pytaniem tego wywiadu"),
     ("tr", "no.such: bu görüşmenin bir sorusu değil")],
)
def test_unknown_question_is_an_error_not_silently_dropped(lang, message):
    result = S.validate({"no.such": 1, "owner.hours_per_week": 5}, market="PL", source="call", lang=lang)
    assert [(e.field, e.code, e.message) for e in result.errors] == [("no.such", "unknown_question", message)]
    assert result.values == {}  # nothing is half-accepted


@pytest.mark.parametrize("answers", [[("owner.name", "Anna")], "owner.name=Anna", 42, None])
def test_a_submission_that_is_not_a_mapping_is_an_error(answers):
    result = S.validate(answers, market="PL", source="survey", lang="pl")
    assert [(e.field, e.code) for e in result.errors] == [("", "invalid_answers")]
    assert result.errors[0].message == "Odpowiedzi muszą być mapą pytanie -> odpowiedź"


def test_every_error_is_reported_at_once():
    result = S.validate(
        {"owner.hours_per_week": 500, "owner.email": "x", "business.type": "boat", "owner.name": "Ok"},
        market="PL", source="call",
    )
    assert sorted(e.field for e in result.errors) == ["business.type", "owner.email", "owner.hours_per_week"]
    assert result.values == {}


# ---------------------------------------------------------------- sources

SOURCE_RULES = [
    # key, source, allowed
    ("owner.name", "trial", True),
    ("owner.name", "survey", True),
    ("owner.hours_per_week", "trial", False),  # the trial shop cannot know a merchant's hours
    ("owner.hours_per_week", "import", True),
    ("readiness.products_added", "survey", False),  # the shop itself knows better than the merchant
    ("readiness.products_added", "trial", True),
    ("readiness.products_added", "call", True),
    ("trial.product_count", "call", False),
    ("trial.product_count", "trial", True),
    ("trial.outcome", "survey", False),
    ("features.payments", "survey", False),
    ("readiness.ksef_ready", "survey", True),
]


@pytest.mark.parametrize("key,source,allowed", SOURCE_RULES)
def test_only_the_listed_sources_may_set_a_question(key, source, allowed):
    value = {"number": 3, "yes_no": True, "text": "Anna", "multi_choice": ["paypal"],
             "single_choice": "converted"}[S[key].type]
    result = check(key, value, source=source)
    assert S[key].sources.count(source) == int(allowed)
    if allowed:
        assert result.errors == []
    else:
        assert [(e.code, e.params) for e in result.errors] == [("source_not_allowed", {"source": source})]


@pytest.mark.parametrize(
    "lang,message",
    [("en", "Products added: cannot be set from survey"),
     ("pl", "Produkty dodane: nie może pochodzić ze źródła survey"),
     ("tr", "Ürünler eklendi: survey kaynağından girilemez")],
)
def test_source_error_is_localized(lang, message):
    assert check("readiness.products_added", True, source="survey", lang=lang).errors[0].message == message


def test_an_unknown_source_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown source 'phone'"):
        check("owner.name", "Anna", source="phone")


# ---------------------------------------------------------------- markets

MARKET_RULES = [
    # key, raw, market, error code or None
    ("owner.is_trader", True, "TR", None),
    ("owner.is_trader", True, "PL", "market_not_applicable"),
    ("owner.is_trader", True, "IN", "market_not_applicable"),
    ("owner.is_trader", True, None, None),  # market unknown: cannot rule it out
    ("readiness.ksef_ready", True, "PL", None),
    ("readiness.ksef_ready", True, "TR", "market_not_applicable"),
    ("readiness.etbis_registered", False, "TR", None),
    ("readiness.gst_registered", True, "IN", None),
    ("readiness.gst_registered", True, "PL", "market_not_applicable"),
    ("features.marketplaces", ["allegro", "amazon"], "PL", None),
    ("features.marketplaces", ["allegro"], "TR", "choice_not_in_market"),
    ("features.marketplaces", ["trendyol"], "TR", None),
    ("features.marketplaces", ["flipkart", "meesho"], "IN", None),
    ("features.marketplaces", ["amazon", "etsy", "ebay"], "TR", None),  # for every market
    ("features.marketplaces", ["allegro", "trendyol"], None, None),
    ("features.invoicing", ["parasut"], "PL", "choice_not_in_market"),
]


@pytest.mark.parametrize("key,raw,market,code", MARKET_RULES)
def test_market_restricted_questions_and_choices(key, raw, market, code):
    result = check(key, raw, market=market)
    assert [e.code for e in result.errors] == ([code] if code else [])


def test_choices_for_a_market_list_only_what_it_offers():
    q = S["features.payments"]
    pl = {c.key for c in q.choices_for("PL")}
    assert {"blik", "przelewy24", "paypal"} <= pl and "iyzico" not in pl and "razorpay" not in pl
    assert {c.key for c in q.choices_for(None)} == set(q.choices)


# ---------------------------------------------------------------- skip logic

CONDITIONS = [
    # condition, known answers, expected (True ask, False skip, None cannot tell yet)
    (None, {}, True),
    ({}, {}, True),
    ({"question": "a", "equals": 1}, {"a": 1}, True),
    ({"question": "a", "equals": 1}, {"a": 2}, False),
    ({"question": "a", "equals": 1}, {}, None),
    ({"question": "a", "equals": 1}, {"a": None}, None),
    ({"question": "a", "equals": True}, {"a": False}, False),
    ({"question": "a", "not_equals": "x"}, {"a": "y"}, True),
    ({"question": "a", "not_equals": "x"}, {"a": "x"}, False),
    ({"question": "a", "not_equals": "x"}, {}, None),
    ({"question": "a", "in": ["x", "y"]}, {"a": "y"}, True),
    ({"question": "a", "in": ["x", "y"]}, {"a": "z"}, False),
    ({"question": "a", "contains": "x"}, {"a": ["w", "x"]}, True),
    ({"question": "a", "contains": "x"}, {"a": ["w"]}, False),
    ({"question": "a", "contains": "x"}, {"a": "x"}, False),  # not a list: no
    ({"question": "a", "answered": True}, {"a": 0}, True),
    ({"question": "a", "answered": True}, {}, False),
    ({"question": "a", "answered": False}, {}, True),
    ({"question": "a", "answered": False}, {"a": "x"}, False),
]
T = {"question": "t", "equals": 1}
F = {"question": "f", "equals": 1}
U = {"question": "u", "equals": 1}
KNOWN = {"t": 1, "f": 0}
CONDITIONS += [
    ({"all": [T, T]}, KNOWN, True),
    ({"all": [T, F]}, KNOWN, False),
    ({"all": [T, U]}, KNOWN, None),
    ({"all": [U, F]}, KNOWN, False),  # one no is enough
    ({"any": [F, T]}, KNOWN, True),
    ({"any": [F, F]}, KNOWN, False),
    ({"any": [F, U]}, KNOWN, None),
    ({"any": [U, T]}, KNOWN, True),  # one yes is enough
    ({"all": [T, {"any": [F, T]}]}, KNOWN, True),
    ({"any": [F, {"all": [T, F]}]}, KNOWN, False),
]


@pytest.mark.parametrize("cond,known,expected", CONDITIONS)
def test_evaluate_condition(cond, known, expected):
    assert evaluate_condition(cond, known) is expected


SKIP = [
    # answers, known, error fields
    ({"experience.sold_online_before": False, "experience.platforms": ["etsy"]}, None, ["experience.platforms"]),
    ({"experience.sold_online_before": True, "experience.platforms": ["etsy"]}, None, []),
    ({"experience.platforms": ["etsy"]}, None, []),  # not known yet: ask, accept
    ({"experience.platforms": ["etsy"]}, {"experience.sold_online_before": False}, ["experience.platforms"]),
    ({"experience.platforms": ["etsy"]}, {"experience.sold_online_before": True}, []),
    ({"experience.sold_online_before": True, "experience.platforms": ["etsy"]},
     {"experience.sold_online_before": False}, []),  # this submission overrides what was known
    ({"needs.preferred_contact": "email", "needs.preferred_call_time": "evening"}, None, ["needs.preferred_call_time"]),
    ({"needs.preferred_contact": "whatsapp", "needs.preferred_call_time": "evening"}, None, []),
    ({"needs.preferred_call_time": "evening"}, {"needs.preferred_contact": "phone"}, []),
    ({"business.sells_on_marketplace": False, "business.marketplaces": ["allegro"]}, None, ["business.marketplaces"]),
]


@pytest.mark.parametrize("answers,known,fields", SKIP)
def test_skip_logic_refuses_answers_to_questions_that_do_not_apply(answers, known, fields):
    result = S.validate(answers, market="PL", source="survey", known=known)
    assert [e.field for e in result.errors] == fields
    assert all(e.code == "not_relevant" for e in result.errors)
    assert result.values == ({} if fields else {k: result.values[k] for k in answers})


@pytest.mark.parametrize(
    "lang,message",
    [("en", "Best time to call: does not apply given the answer to Preferred contact"),
     ("pl", "Najlepsza pora na telefon: nie dotyczy przy odpowiedzi na Preferowany kontakt"),
     ("tr", "Aramak için en uygun zaman: Tercih edilen iletişim cevabına göre geçerli değil")],
)
def test_not_relevant_names_the_deciding_question_in_the_language(lang, message):
    result = S.validate({"needs.preferred_contact": "chat", "needs.preferred_call_time": "any"},
                        market="PL", source="survey", lang=lang)
    assert [e.message for e in result.errors] == [message]


def mini_schema():
    """A small interview with all/any skip logic and required follow-ups."""
    label = {"en": "L", "pl": "L", "tr": "L"}

    def q(key, qtype, **kw):
        return {"key": key, "type": qtype, "label": {"en": key, "pl": key + " (pl)", "tr": key + " (tr)"},
                "sources": ["call", "survey"], **kw}

    return parse_schema({
        "version": 1, "languages": ["en", "pl", "tr"], "facets": ["business"],
        "questions": [
            q("business.registered", "yes_no", survey_required=True),
            q("business.model", "single_choice", choices={"b2c": label, "b2b": label, "both": label}),
            q("business.vat_id", "text", max_length=20, survey_required=True,
              relevant={"all": [{"question": "business.registered", "equals": True},
                                {"question": "business.model", "in": ["b2b", "both"]}]}),
            q("business.why_not", "text", max_length=50, survey_required=True,
              relevant={"any": [{"question": "business.registered", "equals": False},
                                {"question": "business.model", "equals": "b2c"}]}),
        ],
    })


ALL_ANY = [
    # answers, errors (field, code)
    ({"business.registered": True, "business.model": "b2b", "business.vat_id": "X1"}, []),
    ({"business.registered": True, "business.model": "b2c", "business.vat_id": "X1"},
     [("business.vat_id", "not_relevant")]),
    ({"business.registered": False, "business.model": "b2b", "business.vat_id": "X1"},
     [("business.vat_id", "not_relevant")]),
    ({"business.model": "b2b", "business.vat_id": "X1"}, []),  # registered unknown: all() cannot say no
    ({"business.registered": True, "business.model": "b2b", "business.why_not": "-"},
     [("business.why_not", "not_relevant")]),
    ({"business.registered": True, "business.model": "b2c", "business.why_not": "-"}, []),  # any(): one yes
    ({"business.why_not": "-"}, []),
]


@pytest.mark.parametrize("answers,errors", ALL_ANY)
def test_all_and_any_conditions_in_validation(answers, errors):
    result = mini_schema().validate(answers, market=None, source="survey")
    assert [(e.field, e.code) for e in result.errors] == errors


# ---------------------------------------------------------------- survey required fields

COMPLETE_SURVEY = {
    "owner.name": "Anna", "owner.hours_per_week": 10, "experience.sold_online_before": False,
    "experience.tech_comfort": 3, "needs.help_with": ["payments"], "business.type": "handmade",
    "business.category": "crafts",
}


def test_the_survey_required_questions_of_v1():
    required = {q.key for q in S.survey_questions("PL") if q.survey_required}
    assert required == set(COMPLETE_SURVEY)


def test_a_complete_survey_passes():
    result = S.validate(COMPLETE_SURVEY, market="PL", source="survey", partial=False)
    assert result.ok and result.values["owner.name"] == "Anna"


@pytest.mark.parametrize("missing", sorted(COMPLETE_SURVEY))
def test_each_missing_required_answer_is_named(missing):
    answers = {k: v for k, v in COMPLETE_SURVEY.items() if k != missing}
    result = S.validate(answers, market="PL", source="survey", partial=False)
    assert [(e.field, e.code) for e in result.errors] == [(missing, "required")]


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_a_blank_answer_does_not_satisfy_a_required_question(blank):
    result = S.validate({**COMPLETE_SURVEY, "owner.name": blank}, market="PL", source="survey", partial=False)
    assert [(e.field, e.code, e.message) for e in result.errors] == [("owner.name", "required", "Owner's name: is required")]


def test_a_wrong_required_answer_gets_one_error_not_two():
    result = S.validate({**COMPLETE_SURVEY, "owner.hours_per_week": "many"}, market="PL", source="survey",
                        partial=False)
    assert [(e.field, e.code) for e in result.errors] == [("owner.hours_per_week", "not_a_number")]


def test_known_answers_satisfy_required_questions():
    known = {"owner.name": "Anna", "business.type": "handmade"}
    answers = {k: v for k, v in COMPLETE_SURVEY.items() if k not in known}
    assert S.validate(answers, market="PL", source="survey", partial=False, known=known).ok


def test_partial_submissions_do_not_require_anything_and_the_old_keyword_still_works():
    assert S.validate({"owner.name": "Anna"}, market="PL", source="survey").ok
    assert S.validate({"owner.name": "Anna"}, market="PL", source="survey", partial=True).ok
    old = S.validate({"owner.name": "Anna"}, market="PL", source="survey", require_survey_fields=True)
    assert len(old.errors) == len(COMPLETE_SURVEY) - 1


@pytest.mark.parametrize("lang,message", [("pl", "Imię i nazwisko właściciela: jest wymagane"),
                                          ("tr", "Mağaza sahibinin adı: zorunludur")])
def test_required_message_is_localized(lang, message):
    answers = {k: v for k, v in COMPLETE_SURVEY.items() if k != "owner.name"}
    result = S.validate(answers, market="PL", source="survey", partial=False, lang=lang)
    assert [e.message for e in result.errors] == [message]


@pytest.mark.parametrize(
    "answers,required_errors",
    [
        ({"business.registered": True, "business.model": "b2b"}, ["business.vat_id"]),
        ({"business.registered": True, "business.model": "b2c"}, ["business.why_not"]),
        ({"business.registered": False, "business.model": "b2c"}, ["business.why_not"]),
        ({"business.registered": True, "business.model": "both"}, ["business.vat_id"]),
        ({"business.model": "b2b"}, ["business.registered", "business.vat_id", "business.why_not"]),  # unknown: asked
    ],
)
def test_required_only_when_relevant(answers, required_errors):
    result = mini_schema().validate(answers, market=None, source="survey", partial=False)
    assert [(e.field, e.code) for e in result.errors] == [(f, "required") for f in required_errors]


# ---------------------------------------------------------------- never raises on JSON-like input

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
question_keys = st.sampled_from(sorted(S.questions)) | st.text(max_size=20)
answer_dicts = st.dictionaries(question_keys, json_values, max_size=8)


@settings(max_examples=300, deadline=None)
@given(
    answers=answer_dicts | json_values,
    market=st.sampled_from([None, "PL", "TR", "IN", "XX"]),
    source=st.sampled_from(SOURCES),
    lang=st.sampled_from(["en", "pl", "tr", "de", ""]),
    known=st.none() | st.dictionaries(st.sampled_from(sorted(S.questions)), json_values, max_size=4),
    partial=st.booleans(),
)
def test_validation_never_raises_on_arbitrary_json_like_input(answers, market, source, lang, known, partial):
    result = S.validate(answers, market=market, source=source, lang=lang, known=known, partial=partial)
    assert (result.values == {}) or not result.errors  # all or nothing
    for e in result.errors:
        assert isinstance(e.message, str) and e.message
        assert e.field == "" or isinstance(e.field, str)
    for key in result.values:
        assert key in S.questions


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(S.questions)), json_values, st.sampled_from(["PL", "TR", "IN"]))
def test_a_clean_value_validates_again_to_itself(key, raw, market):
    """Idempotence: what we store is itself a valid answer, so imports can re-validate it."""
    q = S[key]
    first = S.validate({key: raw}, market=market, source=q.sources[0])
    if first.ok and key in first.values:
        again = S.validate({key: first.values[key]}, market=market, source=q.sources[0])
        assert again.values == first.values


# ---------------------------------------------------------------- numbers as each market writes them


@pytest.mark.parametrize("market,lang,raw", [("IN", "en", "1,200"), ("IN", "hi", "1,200"), ("TR", "tr", "1.200"),
                                             ("PL", "pl", "1.200"), ("PL", "pl", "1 200")])
def test_a_thousand_two_hundred_is_never_read_as_one_point_two(market, lang, raw):
    result = check("business.expected_monthly_turnover", raw, market=market, lang=lang)
    assert result.values["business.expected_monthly_turnover"]["amount"] == 1200


def test_the_writers_language_counts_when_a_point_could_be_either():
    """In PL a point groups for someone writing Polish; for someone writing English it is a decimal."""
    assert check("business.catalogue_size", "1.200", market="PL", lang="pl").values == {"business.catalogue_size": 1200}
    [error] = check("business.catalogue_size", "1.200", market="PL", lang="en").errors
    assert (error.code, error.params) == ("ambiguous_number", {"value": "1.200", "whole": "1200", "fraction": "1.2"})


def test_an_unknown_market_reads_only_what_cannot_be_grouping():
    key = "experience.years_selling_online"
    assert check(key, "1,5", market=None).values == {key: 1.5}
    assert [e.code for e in check(key, "1,500", market=None).errors] == ["ambiguous_number"]
    assert [e.code for e in check(key, "1.500", market="XX").errors] == ["ambiguous_number"]


_MARKET_LANGS = st.sampled_from([("PL", "pl"), ("PL", "en"), ("TR", "tr"), ("TR", "en"), ("IN", "en"), ("IN", "hi")])


@settings(max_examples=200, deadline=None)
@given(_MARKET_LANGS, st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
       st.booleans())
def test_an_amount_formatted_by_babel_for_the_market_validates_to_itself(market_lang, amount, code_first):
    from locales import get_market
    from locales.formatting import format_number

    market, lang = market_lang
    currency = get_market(market).currency
    number = format_number(amount, lang, market, fraction_digits=2)
    raw = f"{currency} {number}" if code_first else f"{number} {currency}"
    result = check("business.expected_monthly_turnover", raw, market=market, lang=lang)
    assert result.errors == []
    assert result.values["business.expected_monthly_turnover"] == {"amount": float(amount) if amount % 1 else int(amount),
                                                                   "currency": currency}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([("PL", "pl"), ("TR", "tr"), ("IN", "en"), ("IN", "hi")]), st.integers(0, 1_000_000))
def test_a_count_formatted_by_babel_for_the_market_validates_to_itself(market_lang, n):
    from locales.formatting import format_number

    market, lang = market_lang
    result = check("business.catalogue_size", format_number(n, lang, market), market=market, lang=lang)
    assert result.values == {"business.catalogue_size": n}
