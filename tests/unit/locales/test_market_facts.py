"""A market's facts have one home (locales: markets/*.yaml read by locales.market): the list of
markets, each market's currency, language and time zone. Every user takes them from there, so a
manager's override reaches all of them and no module types them again."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from locales import MARKET_CODES, get_market, market_currency, market_language

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("concierge", "profile_schema", "renderers", "audits", "locales")

_MARKET = r"""["'](?:PL|TR|IN)["']"""
TYPED = {
    "market list": re.compile(r"""["']PL["'],\s*["']TR["'],\s*["']IN["']"""),
    "market -> currency": re.compile(_MARKET + r"""\s*:\s*["'](?:PLN|TRY|INR)["']"""),
    "market -> language": re.compile(_MARKET + r"""\s*:\s*["'](?:pl|tr|en|hi)(?:_[A-Z]{2})?["']"""),
    "market -> time zone": re.compile(_MARKET + r"""\s*:\s*["'](?:Europe|Asia)/"""),
}
#: Copies in code that another change owns: each must go, and this entry with it (the test fails on
#: an entry that no longer types anything, so the list only shrinks). None is left.
KNOWN: dict[str, str] = {}


def _typed_copies() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if path.relative_to(ROOT).as_posix() == "locales/market.py":
                continue  # the home: MARKET_CODES
            text = path.read_text("utf-8")
            for what, pattern in TYPED.items():
                if pattern.search(text):
                    found.setdefault(path.relative_to(ROOT).as_posix(), set()).add(what)
    return found


def test_no_module_types_a_market_fact_again():
    found = _typed_copies()
    new = {path: sorted(what) for path, what in found.items() if path not in KNOWN or what - {KNOWN[path]}}
    assert new == {}, "take it from locales (MARKET_CODES, market_currency, market_language, get_market(m).tz)"
    gone = sorted(path for path in KNOWN if path not in found)
    assert gone == [], "no longer a copy: drop it from KNOWN"


def test_the_guard_sees_each_kind_of_copy():
    for line in ('CURRENCY = {"PL": "PLN", "TR": "TRY", "IN": "INR"}', "MARKETS = ('PL', 'TR', 'IN')",
                 'LANG = {"PL": "pl", "TR": "tr", "IN": "en"}', 'TZ = {"IN": "Asia/Kolkata"}'):
        assert any(p.search(line) for p in TYPED.values()), line


@pytest.mark.parametrize("code, currency, language", [("PL", "PLN", "pl"), ("tr", "TRY", "tr"), ("IN", "INR", "en")])
def test_market_facts_come_from_the_market_data(code, currency, language):
    assert market_currency(code) == currency == get_market(code).currency
    assert market_language(code) == language


@pytest.mark.parametrize("code", [None, "", "DE"])
def test_no_market_has_no_currency_and_the_default_language(code):
    assert market_currency(code) is None
    assert market_language(code) == "en"


def test_an_override_reaches_every_user(tmp_path, monkeypatch):
    """A manager moves Turkey to euros and Poland to English: the survey form, the answer
    validation, the demo data, the UI language and the survey links all follow."""
    from concierge import i18n
    from concierge.demo import generator
    from concierge.operations.survey_links import market_language as link_language
    from concierge.web.forms import currency_for
    from profile_schema import load_schema
    from profile_schema.validation import validate_answers
    from renderers.from_profile import _local_date

    path = tmp_path / "overrides.json"
    path.write_text(json.dumps({"TR": {"currency": "EUR"},
                                "PL": {"default_language": "en", "timezone": "Asia/Kolkata"}}), encoding="utf-8")
    monkeypatch.setenv("CONCIERGE_MARKET_OVERRIDES", str(path))

    assert market_currency("TR") == currency_for("TR") == "EUR"
    checked = validate_answers(load_schema(), {"business.expected_monthly_turnover": 1200}, market="TR", source="call")
    assert checked.ok and checked.values["business.expected_monthly_turnover"]["currency"] == "EUR"
    assert i18n.choose_language(market="PL") == link_language("PL") == "en"
    assert i18n.choose_language(market="TR") == "tr"
    assert _local_date(datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc), "PL").isoformat() == "2026-03-02"
    assert "MARKETS" not in vars(generator) or tuple(generator.MARKETS) == MARKET_CODES
