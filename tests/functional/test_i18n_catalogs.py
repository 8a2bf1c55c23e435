"""Every UI message has a translation in every language of LANGUAGES (pl, tr, hi); the schema's labels too;
language order, and the market's own languages (Hindi for India)."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from concierge import i18n
from concierge.cli import cli
from locales import LANGUAGES


@pytest.mark.parametrize("lang", i18n.TRANSLATED)
def test_catalog_has_no_empty_or_fuzzy_translation_and_mo_is_current(lang):
    assert i18n.catalog_problems(lang) == []


@pytest.mark.parametrize("lang", i18n.TRANSLATED)
def test_every_message_in_code_and_templates_is_in_the_catalog(lang):
    assert len(i18n.source_message_ids()) > 50  # extraction really found the UI's messages
    assert i18n.untranslated_source_messages(lang) == []


def test_schema_labels_are_complete_in_en_pl_tr():
    assert i18n.schema_label_problems() == []


def _copy_catalogs(tmp_path):
    shutil.copytree(i18n.TRANSLATIONS_DIR, tmp_path / "translations")
    return tmp_path / "translations"


def test_checker_catches_empty_fuzzy_and_stale(tmp_path):
    d = _copy_catalogs(tmp_path)
    po = i18n.po_path("pl", d)
    text = po.read_text(encoding="utf-8")
    assert 'msgstr "Sklepy"' in text
    po.write_text(text.replace('msgstr "Sklepy"', 'msgstr ""'), encoding="utf-8")
    assert any("no translation of 'Shops'" in p for p in i18n.catalog_problems("pl", d))
    po.write_text(text.replace('msgid "Shops"', '#, fuzzy\nmsgid "Shops"'), encoding="utf-8")
    assert any("fuzzy translation of 'Shops'" in p for p in i18n.catalog_problems("pl", d))
    po.write_text(text.replace('msgstr "Sklepy"', 'msgstr "Sklepy!"'), encoding="utf-8")
    assert any("out of date" in p for p in i18n.catalog_problems("pl", d))
    i18n.compile_catalogs(d, ["pl"])
    assert i18n.catalog_problems("pl", d) == []


def test_checker_catches_a_missing_schema_label():
    import profile_schema
    from dataclasses import replace

    schema = profile_schema.load_schema()
    q = schema.questions["owner.name"]
    broken = replace(schema, questions={**schema.questions,
                                        "owner.name": replace(q, labels={"en": q.labels["en"], "pl": "x"})})
    assert i18n.schema_label_problems(broken) == ["schema: owner.name has no tr label", "schema: owner.name has no hi label"]


def test_checker_catches_a_survey_question_without_merchant_wording():
    """Every survey question speaks to the merchant (second person) in every UI language."""
    import profile_schema
    from dataclasses import replace

    from locales import LANGUAGES

    schema = profile_schema.load_schema()
    survey = [q for q in schema.questions.values() if "survey" in q.sources]
    assert survey and all(set(LANGUAGES) <= set(q.asks) for q in survey)
    assert all(q.ask(lang) != q.label(lang) for q in survey for lang in LANGUAGES if q.label(lang) != q.key)
    q = schema.questions["experience.sold_online_before"]
    broken = replace(schema, questions={**schema.questions, q.key: replace(
        q, asks={k: v for k, v in q.asks.items() if k != "pl"})})
    assert i18n.schema_label_problems(broken) == [
        "schema: survey question experience.sold_online_before has no pl merchant wording (ask)"]
    assert i18n.schema_label_problems(broken, (*LANGUAGES, "de"))[0].endswith("has no de label")
    # a choice with its own merchant wording has it in every language too
    q = schema.questions["owner.life_situation"]
    c = q.choices["student"]
    assert c.ask("pl") == "Studiuję" and c.label("pl") == "Student(ka)"
    broken = replace(schema, questions={**schema.questions, q.key: replace(
        q, choices={**q.choices, "student": replace(c, asks={"en": c.asks["en"], "pl": c.asks["pl"]})})})
    assert i18n.schema_label_problems(broken) == [
        "schema: owner.life_situation choice student has no tr merchant wording (ask)",
        "schema: owner.life_situation choice student has no hi merchant wording (ask)"]


def test_choose_language_order():
    class Accept(list):
        def best_match(self, langs):
            return next((t for t, _ in self if t in langs), None)

    choose = i18n.choose_language
    assert choose(user_language="tr", market="PL", accept_languages=["pl"]) == "tr"
    assert choose(user_language=None, market="PL", accept_languages=["tr"]) == "pl"
    assert choose(market="IN", accept_languages=["tr"]) == "en"
    assert choose(accept_languages=["de-DE", "tr-TR", "en"]) == "tr"
    assert choose(accept_languages=Accept([("pl-PL", 1)])) == "pl"
    assert choose(user_language="de", market=None, accept_languages=None) == "en"


def test_an_indian_merchant_gets_hindi_when_the_browser_asks_for_it():
    """India offers English and Hindi (its market file): a browser asking for Hindi gets Hindi on a
    shop's pages although English is the market's default; the user's own setting still comes first,
    and a language the market does not offer does not beat the market's."""
    from locales import market_language, market_languages

    assert market_languages("IN") == ("en", "hi") and market_language("IN") == "en"
    assert market_languages("PL") == ("pl",) and market_languages("TR") == ("tr",)
    assert market_languages(None) == ("en",) and market_languages("XX") == ("en",)
    choose = i18n.choose_language
    assert choose(market="IN", accept_languages=["hi-IN", "en"]) == "hi"
    assert choose(market="IN", accept_languages=["en-IN", "hi"]) == "en"
    assert choose(market="IN") == "en"
    assert choose(market="in", accept_languages=["hi"]) == "hi"
    assert choose(market="PL", accept_languages=["hi"]) == "pl"  # Poland does not offer Hindi
    assert choose(user_language="en", market="IN", accept_languages=["hi"]) == "en"
    assert choose(accept_languages=["hi"]) == "hi"

    from werkzeug.datastructures import LanguageAccept

    # werkzeug's own best_match would pass over "hi-IN" for the later "en"
    assert choose(market="IN", accept_languages=LanguageAccept([("hi-IN", 1), ("en", 0.8)])) == "hi"
    assert i18n.TRANSLATED == tuple(lang for lang in LANGUAGES if lang != "en") and "hi" in i18n.TRANSLATED


def test_locales_check_command_passes_and_reports_json():
    r = CliRunner().invoke(cli, ["locales", "check", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"ok": True, "problems": []}


def test_locales_check_command_fails_with_the_list(monkeypatch, tmp_path):
    d = _copy_catalogs(tmp_path)
    po = i18n.po_path("tr", d)
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Mağazalar"', 'msgstr ""'), encoding="utf-8")
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", d)  # point the real checker at a broken copy
    r = CliRunner().invoke(cli, ["locales", "check"])
    assert r.exit_code == 1
    assert "tr: no translation of 'Shops'" in r.output


@pytest.mark.parametrize("market", ["PL", "TR", "IN"])
def test_locales_show(market):
    r = CliRunner().invoke(cli, ["locales", "show", market.lower(), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["code"] == market and data["currency"] == {"PL": "PLN", "TR": "TRY", "IN": "INR"}[market]
    r = CliRunner().invoke(cli, ["locales", "show", market])
    assert r.exit_code == 0 and data["timezone"] in r.output


@pytest.mark.parametrize("table", i18n.MESSAGE_TABLES)
def test_a_message_table_entry_without_its_hindi_translation_fails_the_completeness_checks(tmp_path, table):
    """The pure packages' YAML tables are in the catalogs like any other word: drop the Hindi of one of
    their entries from a copy of the catalogs, or blank it, and the checkers name it with its context."""
    import re

    from locales.catalogs import MessageTable

    ctx, english = next(MessageTable(i18n.ROOT / table).messages())
    msgid = english[0] if isinstance(english, tuple) else english
    d = _copy_catalogs(tmp_path)
    po = i18n.po_path("hi", d)
    text = po.read_text(encoding="utf-8")
    entry = re.compile(r'msgctxt "%s"\nmsgid "[^\n]*"\n(msgid_plural "[^\n]*"\n)?(msgstr(\[\d\])? "[^\n]+"\n)+' % re.escape(ctx))
    assert len(entry.findall(text)) == 1, ctx
    assert i18n.untranslated_source_messages("hi", directory=d) == []
    po.write_text(entry.sub("", text), encoding="utf-8")
    assert i18n.untranslated_source_messages("hi", directory=d) == [
        f"hi: {msgid!r} (context {ctx!r}) is used in the code but missing from the catalog"]
    blank = entry.sub(lambda m: m.group(0).split("msgstr")[0] + ("msgstr[0] \"\"\nmsgstr[1] \"\"\n" if m.group(1)
                                                                  else 'msgstr ""\n'), text)
    po.write_text(blank, encoding="utf-8")
    assert f"hi: no translation of {msgid!r} (context {ctx!r})" in i18n.catalog_problems("hi", d)
