"""labels.yaml: every entry in English, translated in every language of LANGS (through the gettext
catalogs) with the same placeholders."""
from __future__ import annotations

import string

import pytest

from renderers.labels import LANGS, label, load_labels, norm_lang, plural, table
from renderers.picture_input import FEATURE_CATEGORIES, STAGES


def entries():
    for section, values in load_labels().items():
        for key, entry in values.items():
            yield f"{section}.{key}", entry


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", LANGS)
def test_every_label_is_translated(lang):
    assert table().missing(lang) == []


@pytest.mark.parametrize("where,entry", list(entries()), ids=[w for w, _ in entries()])
def test_every_label_is_english_with_the_same_placeholders_in_every_language(where, entry):
    section, key = where.split(".", 1)
    if isinstance(entry, str):
        assert entry.strip(), where
        forms = {lang: [table().text((section, key), lang)] for lang in LANGS}
    else:  # a plural pair; every form of every language (1, 2, 5 and a fraction cover pl's three and CLDR other)
        assert set(entry) == {"one", "other"}, where
        forms = {lang: [table().plural((section, key), n, lang) for n in (1, 2, 5, 1.5)] for lang in LANGS}
    names = placeholders(forms["en"][0])
    for lang, texts in forms.items():
        for text in texts:
            assert isinstance(text, str) and text.strip(), (where, lang)
            assert placeholders(text) == names, (where, lang, text)


def test_the_picture_vocabulary_is_complete():
    labels = load_labels()
    assert set(labels["stages"]) == set(STAGES)
    assert set(labels["categories"]) == set(FEATURE_CATEGORIES)
    assert {"first_steps", "side_project", "growing_seller", "offline_to_online", "marketplace_seller",
            "global_seller", "ecommerce_pro"} <= set(labels["personas"])
    assert {"none", "beginner", "intermediate", "expert"} == set(labels["experience"])


def test_personas_and_levels_match_the_profile_fold():
    """The fold's vocabulary (profile_schema) has a label here for every key."""
    fold = pytest.importorskip("profile_schema.fold")
    labels = load_labels()
    assert set(fold._LEVELS) <= set(labels["experience"])
    source = open(fold.__file__, encoding="utf-8").read()
    for persona in labels["personas"]:
        assert f'"{persona}"' in source, persona


def test_plural_forms_follow_cldr():
    assert plural("words", "products", "pl", 1, n="1") == "1 produkt"
    assert plural("words", "products", "pl", 3, n="3") == "3 produkty"
    assert plural("words", "products", "pl", 5, n="5") == "5 produktów"
    assert plural("words", "products", "en", 1, n="1") == "1 product"
    assert plural("words", "products", "tr", 7, n="7") == "7 ürün"


def test_language_fallbacks():
    assert norm_lang("pl_PL") == "pl" and norm_lang("tr-TR") == "tr" and norm_lang("hi") == "hi" and norm_lang("de") == "en"
    assert label("stages", "legal", "xx") == "Legal"
    assert label("stages", "no_such_key", "pl") == "No such key"
