"""scoring.trial_mapping: how cells become answers, and the starter schema's guesses (pure, no database)."""
from __future__ import annotations

import profile_schema
import pytest

from concierge.scoring import trial_mapping as tm

SCHEMA = profile_schema.parse_schema({
    "version": 1, "languages": ["en", "pl"], "facets": ["lead"], "questions": [
        {"key": "lead.kind", "type": "single_choice", "label": {"en": "Kind", "pl": "Rodzaj"},
         "choices": {"shop": {"en": "Shop", "pl": "Sklep"}, "other": {"en": "Other", "pl": "Inne"}}},
        {"key": "lead.tools", "type": "multi_choice", "label": {"en": "Tools", "pl": "Narzędzia"},
         "choices": {"web": {"en": "Website", "pl": "Strona"}, "app": {"en": "App", "pl": "Aplikacja"}}},
        {"key": "lead.size", "type": "single_choice", "label": {"en": "Size", "pl": "Wielkość"},
         "choices": {"small": {"en": "Small", "pl": "Mała"}}},
    ]})


def test_cells_match_a_choice_by_key_or_any_label_and_the_rest_is_other():
    rule = tm.ColumnRule("Kind", "lead.kind", values={tm.fold("Sklepik"): "shop"})
    q = SCHEMA.questions["lead.kind"]
    assert tm.map_cell(rule, q, "SKLEP") == ("shop", [])        # a Polish label, any case
    assert tm.map_cell(rule, q, "sklepik") == ("shop", [])      # the value map
    assert tm.map_cell(rule, q, "Kiosk") == ("other", ["Kiosk"])
    # a question without an `other` choice: the unseen value is left empty, still counted
    assert tm.map_cell(tm.ColumnRule("Size", "lead.size"), SCHEMA.questions["lead.size"], "Huge") == (None, ["Huge"])
    tools = tm.ColumnRule("Tools", "lead.tools", split=";")
    assert tm.map_cell(tools, SCHEMA.questions["lead.tools"], "Strona; Fax; app") == (["web", "app"], ["Fax"])


def test_a_mapping_reports_every_mistake_at_once():
    with pytest.raises(tm.TrialMappingError) as exc:
        tm.parse_mapping({"outcome": {"column": "Paid", "values": {"Maybe": "perhaps"}}, "delimiter": ";;",
                          "columns": {"A": {"question": "lead.kind", "known": "soon"}, "B": "lead.nope",
                                      "C": {"question": "lead.kind"}}, "extra": 1}, schema=SCHEMA)
    text = str(exc.value)
    for words in ("extra", "perhaps", "delimiter", "known must be start or end", "'lead.nope' is not a question",
                  "already the question of column 'A'"):
        assert words in text, words


def test_placeholders_are_case_insensitive_and_per_column():
    m = tm.parse_mapping({"outcome": "Paid", "placeholders": ["Select"],
                          "columns": {"A": {"question": "lead.kind", "placeholders": ["-"]}}})
    rule = m.columns[0]
    assert m.placeholder(rule, " select ") and m.placeholder(rule, "-") and not m.placeholder(None, "-")


def test_the_start_dates_format_is_guessed_day_first():
    assert tm.guess_date_format(["2025-01-06", ""]) is None
    assert tm.guess_date_format(["06/01/2025", "13/01/2025"]) == "%d/%m/%Y"
    assert tm.guess_date_format(["01/13/2025"]) == "%m/%d/%Y"
    assert tm.guess_date_format(["06.01.2025"]) == "%d.%m.%Y"
    assert tm.guess_date_format(["soon"]) is None


def test_infer_types_categories_placeholders_and_ids():
    rows = ["Id,Kind,Visits,Own domain,Paid"]
    for i in range(60):
        kind = ["Shop", "Brand", "Maker", "Select"][i % 4] if i < 56 else f"Rare {i}"
        rows.append(f"x{i},{kind},{i % 9},{'Tak' if i % 3 else 'Nie'},{i % 2}")
    inf = tm.infer("\n".join(rows) + "\n", max_categories=2)
    qs = {q["key"]: q for q in inf.schema["questions"]}
    assert inf.outcome == "Paid" and {c["column"]: c["action"] for c in inf.columns}["Id"] == "ignored"
    assert set(qs["lead.kind"]["choices"]) == {"shop", "brand", "other"}  # top two, the rest other
    assert qs["lead.visits"]["type"] == "number" and qs["lead.own_domain"]["type"] == "yes_no"
    assert inf.mapping["columns"]["Kind"]["placeholders"] == ["Select"]
    profile_schema.parse_schema(inf.schema)  # it loads
