"""labels.yaml: every entry in en, pl and tr, with the same placeholders."""
from __future__ import annotations

import string

import pytest
from babel import Locale

from renderers.labels import LANGS, label, load_labels, norm_lang, plural
from renderers.picture_input import FEATURE_CATEGORIES, STAGES

PLURAL_CATEGORIES = {"zero", "one", "two", "few", "many", "other"}


def entries():
    for section, values in load_labels().items():
        for key, entry in values.items():
            yield f"{section}.{key}", entry


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("where,entry", list(entries()), ids=[w for w, _ in entries()])
def test_every_label_has_en_pl_tr_with_the_same_placeholders(where, entry):
    assert isinstance(entry, dict) and set(entry) == set(LANGS), where
    names = None
    for lang in LANGS:
        value = entry[lang]
        if isinstance(value, dict):  # plural forms
            assert "other" in value and set(value) <= PLURAL_CATEGORIES
            needed = set(Locale.parse(lang).plural_form.rules) | {"other"}
            assert needed <= set(value), (where, lang, needed - set(value))
            forms = list(value.values())
        else:
            forms = [value]
        for form in forms:
            assert isinstance(form, str) and form.strip(), (where, lang)
            found = placeholders(form)
            names = found if names is None else names
            assert found == names, (where, lang, form)


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
