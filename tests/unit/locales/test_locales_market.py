"""Market cards against LOCALES.md §1/§8/§9/§10, and manager overrides without code."""

import datetime as dt
import json

import pytest

import locales
from locales import LANGUAGES, MARKETS, get_market, load_markets
from locales.market import MarketDataError, deep_merge

CARD = [
    # code, languages, currency, tz, phone region, tax kinds, working days, hours
    ("PL", ("pl",), "PLN", "Europe/Warsaw", "PL", ("nip", "regon", "pesel"), (1, 2, 3, 4, 5), ("09:00", "17:00")),
    ("TR", ("tr",), "TRY", "Europe/Istanbul", "TR", ("vkn", "tckn"), (1, 2, 3, 4, 5), ("09:00", "18:00")),
    ("IN", ("en_IN", "hi"), "INR", "Asia/Kolkata", "IN", ("gstin", "pan"), (1, 2, 3, 4, 5, 6), ("10:00", "19:00")),
]


@pytest.mark.parametrize("code,langs,currency,tz,region,kinds,days,hours", CARD)
def test_market_card(code, langs, currency, tz, region, kinds, days, hours):
    market = get_market(code.lower())
    assert market.code == code
    assert market.languages == langs
    assert market.currency == currency
    assert market.timezone == tz and market.tz.key == tz
    assert market.phone_region == region
    assert market.tax_id_kinds == kinds
    assert market.working_days == days
    assert (market.business_hours.start.isoformat("minutes"), market.business_hours.end.isoformat("minutes")) == hours


def test_markets_mapping_is_lazy_and_complete():
    assert list(MARKETS) == ["PL", "TR", "IN"]
    assert "tr" in MARKETS and "DE" not in MARKETS
    assert MARKETS["in"].currency == "INR"
    with pytest.raises(KeyError):
        MARKETS["DE"]


def test_market_is_frozen_and_hashable():
    with pytest.raises(AttributeError):
        get_market("PL").currency = "EUR"
    assert {get_market("PL"): 1}[get_market("pl")] == 1


def test_every_integration_category_has_labels():
    for market in MARKETS.values():
        for category in market.integrations:
            assert market.category_label(category, "pl") != category or category == "marketing", category
        assert market.category_label("payments", "tr") == "Ödeme"
        assert market.category_label("unknown") == "unknown"


def test_turkish_half_days_and_saturday():
    tr = get_market("TR")
    assert tr.half_day_category == "half_day"
    assert tr.half_day_end == dt.time(13, 0)
    assert tr.optional_working_days == (6,)


def test_babel_locale_maps_english_in_india_to_en_in():
    assert get_market("IN").babel_locale("en") == "en_IN"
    assert get_market("IN").babel_locale("hi") == "hi_IN"
    assert get_market("PL").babel_locale() == "pl_PL"


@pytest.mark.parametrize(
    "code,category,keys",
    [
        ("PL", "payments", {"blik", "przelewy24", "payu", "tpay", "paynow"}),
        ("PL", "shipping", {"inpost", "dpd", "poczta_polska"}),
        ("PL", "marketplaces", {"allegro", "ceneo"}),
        ("TR", "payments", {"iyzico", "paytr", "param", "sipay"}),
        ("TR", "shipping", {"yurtici", "aras", "dhl_ecommerce_tr", "ptt"}),
        ("TR", "marketplaces", {"trendyol", "hepsiburada", "n11"}),
        ("IN", "payments", {"razorpay", "upi", "payu_india", "paytm", "cashfree", "razorpay_international"}),
        ("IN", "shipping", {"shiprocket", "delhivery", "india_post"}),
        ("IN", "marketplaces", {"amazon_in", "flipkart", "meesho"}),
    ],
)
def test_integration_catalogue(code, category, keys):
    market = get_market(code)
    assert {i.key for i in market.integrations[category]} == keys
    assert all(i.category == category and i.name for i in market.integrations[category])


def test_every_market_has_invoicing_and_shared_marketing():
    for market in MARKETS.values():
        assert market.integrations["invoicing"]
        assert "google_merchant_center" in {i.key for i in market.integrations["marketing"]}


def test_expected_integrations_reference_catalogue_keys():
    for market in MARKETS.values():
        for expected in market.expected_integrations:
            for key in expected.any_of + expected.recommended:
                assert market.integration(key).category == expected.category


def test_dhl_ecommerce_tr_notes_the_mng_rebrand():
    assert "MNG" in get_market("TR").integration("dhl_ecommerce_tr").name


@pytest.mark.parametrize(
    "code,facts,present,absent",
    [
        ("IN", {"sells_abroad": True}, {"payments_upi", "payments_international", "shipping"}, set()),
        ("IN", {"sells_abroad": False}, {"payments_upi", "shipping"}, {"payments_international"}),
        ("PL", {}, {"payments_blik", "shipping", "ksef_invoicing"}, set()),
        ("TR", {"gross_sales_try": 400_000}, {"payments_installments", "shipping"}, {"e_arsiv"}),
        ("TR", {"gross_sales_try": 500_000}, {"e_arsiv"}, set()),
    ],
)
def test_expected_integrations_follow_shop_facts(code, facts, present, absent):
    keys = {e.key for e, _ in get_market(code).expected_for(facts)}
    assert present <= keys
    assert not (absent & keys)


def test_unknown_facts_keep_items_as_maybe():
    applies = dict((e.key, a) for e, a in get_market("IN").expected_for({}))
    assert applies["payments_international"] is None
    assert applies["payments_upi"] is True


def test_expected_integration_satisfied_by_any_provider():
    blik = next(e for e in get_market("PL").expected_integrations if e.key == "payments_blik")
    assert blik.satisfied_by(["przelewy24"])
    assert not blik.satisfied_by(["stripe"])


@pytest.mark.parametrize(
    "code,keys",
    [
        ("PL", {"shop_terms", "privacy_policy", "ksef_e_invoicing", "marketing_consent"}),
        ("TR", {"etbis_registration", "kvkk_notice", "e_arsiv_e_fatura", "iys_registration"}),
        ("IN", {"gst_registration", "dpdp_privacy_notice", "refund_policy"}),
    ],
)
def test_legal_checklist_has_the_required_items_with_labels(code, keys):
    items = {i.key: i for i in get_market(code).legal_checklist}
    assert keys <= set(items)
    for item in items.values():
        assert set(LANGUAGES) <= set(item.label), item.key
        assert item.law, item.key


@pytest.mark.parametrize(
    "facts,expected",
    [
        ({"sales_2024_pln": 250_000_000, "vat_payer": True}, dt.date(2026, 2, 1)),
        ({"sales_2024_pln": 1_000_000, "vat_payer": True}, dt.date(2026, 4, 1)),
        ({"vat_payer": True}, dt.date(2026, 2, 1)),  # unknown sales: earliest deadline is the safe one
    ],
)
def test_ksef_deadline_depends_on_2024_sales(facts, expected):
    ksef = next(i for i in get_market("PL").legal_checklist if i.key == "ksef_e_invoicing")
    assert ksef.due_date(facts) == expected


@pytest.mark.parametrize(
    "facts,applies",
    [
        ({"gross_sales_try": 499_999}, False),
        ({"gross_sales_try": 500_000}, True),
        ({}, None),
    ],
)
def test_turkish_e_arsiv_threshold(facts, applies):
    item = next(i for i in get_market("TR").legal_checklist if i.key == "e_arsiv_e_fatura")
    assert item.applies(facts) is applies


@pytest.mark.parametrize(
    "facts,applies",
    [
        ({"employees": 49, "balance_sheet_try": 99_000_000, "special_category_data": False}, False),
        ({"employees": 50, "balance_sheet_try": 1}, True),
        ({"employees": 12, "balance_sheet_try": 1, "special_category_data": True}, True),
        ({"employees": 9, "balance_sheet_try": 9_000_000, "special_category_data": True}, False),
    ],
)
def test_verbis_exemption_thresholds(facts, applies):
    item = next(i for i in get_market("TR").legal_checklist if i.key == "verbis_registration")
    assert item.applies(facts) is applies


@pytest.mark.parametrize(
    "facts,keys_present,keys_absent",
    [
        ({"sells_interstate": True, "sells_abroad": True, "sells_b2b": False}, {"gst_registration", "iec_lut"}, {"e_invoice_irn"}),
        ({"sells_interstate": False, "annual_turnover_inr": 1_000_000, "sells_abroad": False}, set(), {"gst_registration", "iec_lut"}),
        ({"sells_b2b": True, "aggregate_turnover_inr": 60_000_000}, {"e_invoice_irn"}, set()),
    ],
)
def test_indian_checklist_reads_the_shop(facts, keys_present, keys_absent):
    keys = {i.key for i, _ in get_market("IN").checklist_for(facts)}
    assert keys_present <= keys
    assert not (keys_absent & keys)


def test_follow_up_defaults_reflect_market_observations():
    pl, tr, india = (get_market(c).follow_up for c in ("PL", "TR", "IN"))
    assert pl.consent_required and not tr.consent_required
    assert [s.offset for s in pl.steps if s.anchor == "trial_end"] == [{"weeks": 2}, {"weeks": 6}, {"months": 3}]
    assert [s.offset for s in tr.steps if s.anchor == "trial_end"] == [{"business_days": 1}, {"business_days": 2}]
    assert india.steps[1].topic == "cross_border_setup"  # after the shared stage audit, before trial end
    assert all(f.steps[0].key == "stage_audit" for f in (pl, tr, india))


def test_decision_windows_reflect_how_fast_each_market_decides():
    # DOMAIN.md: Turkish merchants decide within days, Polish ones deliberate for weeks or months
    windows = {c: get_market(c).decision_window_days for c in ("PL", "TR", "IN")}
    assert windows == {"PL": 60, "TR": 14, "IN": 30}


def test_decision_window_can_be_changed_without_code(tmp_path):
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"PL": {"conversion": {"decision_window_days": 90}}}), encoding="utf-8")
    assert load_markets(path)["PL"].decision_window_days == 90
    assert load_markets(path)["TR"].decision_window_days == 14


def test_calling_rules():
    pl, tr, india = (get_market(c).calling for c in ("PL", "TR", "IN"))
    assert pl.commercial_requires_consent and not pl.trader_exempt_until_opt_out
    assert tr.commercial_requires_consent and tr.trader_exempt_until_opt_out and tr.consent_registry == "IYS"
    assert india.promotional_window.start == dt.time(9) and india.promotional_window.end == dt.time(21)
    assert india.number_series["promotional_voice"] == "140"


def test_call_channels_say_where_whatsapp_is_used_and_can_be_changed_without_code(tmp_path):
    from locales.calling import call_channels

    assert {c: call_channels(c) for c in ("PL", "TR", "IN")} == {
        "PL": ("phone",), "TR": ("phone", "whatsapp"), "IN": ("phone", "whatsapp")}
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"PL": {"calling": {"channels": ["whatsapp", "phone"]}}}), encoding="utf-8")
    assert load_markets(path)["PL"].calling.channels == ("phone", "whatsapp")


# --------------------------------------------------------------- overrides without code


def test_override_file_changes_defaults(tmp_path):
    path = tmp_path / "overrides.yaml"
    path.write_text(
        """
markets:
  TR:
    business_hours: {start: "09:30", end: 18:30}   # unquoted on purpose (YAML sexagesimal)
    follow_up:
      steps:
        - {key: trial_end_2, remove: true}
        - {key: trial_end_1, offset: {business_days: 3}}
    holidays:
      overrides:
        - {date: 2026-05-25, action: add, name: "İdari izin", reason: "bridge day"}
""",
        encoding="utf-8",
    )
    tr = load_markets(path)["TR"]
    assert tr.business_hours.start == dt.time(9, 30) and tr.business_hours.end == dt.time(18, 30)
    steps = {s.key: s for s in tr.follow_up.steps}
    assert "trial_end_2" not in steps
    assert steps["trial_end_1"].offset == {"business_days": 3}
    assert steps["trial_end_1"].topic == "open_shop"  # untouched fields survive the merge
    assert tr.holidays.overrides[0].date == dt.date(2026, 5, 25)
    assert load_markets(path)["PL"] == load_markets()["PL"]


def test_override_from_env_var_is_read_when_loading(tmp_path, monkeypatch):
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"PL": {"business_hours": {"start": "08:00", "end": "16:00"}}}), encoding="utf-8")
    monkeypatch.setenv("CONCIERGE_MARKET_OVERRIDES", str(path))
    assert load_markets()["PL"].business_hours.start == dt.time(8)
    assert get_market("PL").business_hours.start == dt.time(8)
    monkeypatch.delenv("CONCIERGE_MARKET_OVERRIDES")
    assert get_market("PL").business_hours.start == dt.time(9)


@pytest.mark.parametrize(
    "override,message",
    [
        ({"DE": {}}, "unknown market"),
        ({"PL": {"working_days": ["mon", "funday"]}}, "funday"),
        ({"PL": {"business_hours": {"start": "18:00", "end": "09:00"}}}, "start must be before end"),
        ({"PL": {"timezone": "Europe/Nowhere"}}, "market PL"),
        ({"PL": {"legal_checklist": [{"key": "shop_terms", "when": {"x": {"approx": 1}}}]}}, "approx"),
        ({"PL": {"follow_up": {"steps": [{"key": "nurture_2w", "offset": {"fortnights": 1}}]}}}, "fortnights"),
        ({"PL": {"conversion": {"decision_window_days": "two months"}}}, "decision_window_days"),
        ({"TR": {"conversion": {"decision_window_days": -1}}}, "decision_window_days"),
        ({"TR": {"calling": {"channels": ["whatsapp"]}}}, "calling.channels"),
        ({"TR": {"calling": {"channels": ["phone", "telegram"]}}}, "telegram"),
    ],
)
def test_bad_override_is_reported_with_its_path(tmp_path, override, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(override), encoding="utf-8")
    with pytest.raises(MarketDataError, match=message):
        load_markets(path)


def test_shipped_override_example_is_valid():
    from importlib import resources

    example = resources.files("locales.markets").joinpath("overrides.example.yaml")
    markets = load_markets(str(example))
    assert markets["TR"].business_hours.start == dt.time(9, 30)
    assert "nurture_4m" in {s.key for s in markets["PL"].follow_up.steps}
    assert "nurture_3m" not in {s.key for s in markets["PL"].follow_up.steps}


def test_missing_override_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CONCIERGE_MARKET_OVERRIDES", str(tmp_path / "nope.yaml"))
    with pytest.raises(MarketDataError, match="CONCIERGE_MARKET_OVERRIDES"):
        get_market("PL")


def test_deep_merge_rules():
    base = {"a": {"b": 1, "c": [1, 2]}, "items": [{"key": "x", "v": 1}, {"key": "y", "v": 2}]}
    merged = deep_merge(base, {"a": {"c": [3]}, "items": [{"key": "y", "v": 3}, {"key": "z"}]})
    assert merged == {"a": {"b": 1, "c": [3]}, "items": [{"key": "x", "v": 1}, {"key": "y", "v": 3}, {"key": "z"}]}
    assert base["items"][1]["v"] == 2  # inputs are not mutated


def test_importing_the_package_reads_no_market_file(tmp_path):
    """Nothing at import: a broken override file must not break `import locales`."""
    import subprocess
    import sys
    from pathlib import Path

    bad = tmp_path / "broken.yaml"
    bad.write_text("PL: [not, a, mapping", encoding="utf-8")
    root = str(Path(locales.__file__).parents[1])
    modules = ", ".join(f"locales.{m}" for m in IMPORTABLE)
    code = f"import sys; sys.path.insert(0, {root!r}); import locales, {modules}; print('ok')"
    env = {"CONCIERGE_MARKET_OVERRIDES": str(bad)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr
    with pytest.raises(MarketDataError):
        load_markets(bad)


IMPORTABLE = ("errors", "market", "phones", "taxids", "conditions", "calendar", "calling", "formatting", "text", "cli_support")
