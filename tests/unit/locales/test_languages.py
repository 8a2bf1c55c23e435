"""The interface languages have one home (locales.languages): every channel takes them from there."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import locales
from locales import DEFAULT_LANGUAGE, LANGUAGES, language_base, language_or_default, supported_language

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("concierge", "profile_schema", "renderers", "audits", "locales")


@pytest.mark.parametrize("tag, base, supported, chosen", [
    ("pl_PL", "pl", "pl", "pl"),
    ("tr-TR", "tr", "tr", "tr"),
    ("EN-in", "en", "en", "en"),
    ("de_DE", "de", None, "en"),
    ("", "en", None, "en"),
    (None, "en", None, "en"),
])
def test_a_language_tag_is_read_one_way(tag, base, supported, chosen):
    assert language_base(tag) == base
    assert supported_language(tag) == supported
    assert language_or_default(tag) == chosen


def test_every_channel_uses_the_one_list():
    from click import Choice

    from concierge import i18n
    from concierge.cli.users import LANGUAGE_CHOICE
    from concierge.config import load_config
    from renderers.labels import LANGS

    assert DEFAULT_LANGUAGE in LANGUAGES
    assert i18n.LANGUAGES is LANGUAGES and LANGS is LANGUAGES and locales.errors.MESSAGE_LANGUAGES is LANGUAGES
    assert load_config({})["LANGUAGES"] == list(LANGUAGES)
    assert isinstance(LANGUAGE_CHOICE, Choice) and tuple(LANGUAGE_CHOICE.choices) == LANGUAGES
    catalogs = {p.parent.parent.name for p in (ROOT / "concierge" / "translations").glob("*/LC_MESSAGES/messages.po")}
    assert catalogs == set(LANGUAGES) - {"en"}
    # every language has its own name for the switchers, and the web's switcher lists exactly those
    from concierge.web.helpers import UI_LANGUAGES

    assert tuple(locales.LANGUAGE_NAMES) == LANGUAGES
    assert UI_LANGUAGES == tuple((code, locales.LANGUAGE_NAMES[code]) for code in LANGUAGES)


def test_no_module_types_the_language_list_again():
    typed = re.compile(r"""["']en["'],\s*["']pl["'],\s*["']tr["']\s*[)\]]""")
    found = [f"{p.relative_to(ROOT)}:{n}" for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
             if p.name != "languages.py"
             for n, line in enumerate(p.read_text("utf-8").splitlines(), 1) if typed.search(line)]
    assert found == []
