"""The scoring tables that still hold their own words (issue 15 lists them for the catalogs) speak
every language of locales.LANGUAGES: a new language cannot leave a feature label or an import error
in English."""
from __future__ import annotations

import pytest

from concierge.operations.scoring import importer
from concierge.scoring import features
from locales import LANGUAGES

TABLES = {
    **{f"features.ACTIVITY[{k}]": v for k, v in features.ACTIVITY.items()},
    "features.MARKET_LABELS": features.MARKET_LABELS,
    **{f"importer._MSG[{k}]": v for k, v in importer._MSG.items()},
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_language_has_its_words(name):
    words = TABLES[name]
    assert set(words) == set(LANGUAGES), name
    assert all(isinstance(w, str) and w.strip() for w in words.values()), name


def test_a_market_column_is_named_in_every_language():
    from profile_schema import load_schema

    space = features.FeatureSpace.from_schema(load_schema())
    market_cols = [c for c in space.columns if c.key == "market" and c.choice]  # "market=other" names no choice
    assert market_cols
    for c in market_cols:
        assert set(c.choice_labels) == set(LANGUAGES)
