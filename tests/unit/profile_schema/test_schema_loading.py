"""The interview schema as data: the packaged v1 loads, is complete in en/pl/tr, bad files fail loudly."""
import functools
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

import profile_schema
from profile_schema import (
    SchemaError, SchemaRegistry, UnknownVersion, load_registry, load_schema, load_schema_file,
    message_for, parse_schema,
)
from profile_schema.schema import QUESTION_TYPES, SCHEMA_DIR
from locales import LANGUAGES

PACKAGE = Path(profile_schema.__file__).parent
FIXTURES = Path(__file__).parent / "fixtures"
LANGS = LANGUAGES
SIX_FACETS = ("owner", "experience", "needs", "business", "readiness", "features")


@functools.lru_cache(maxsize=None)
def raw_v1() -> dict:
    """The file as leads edit it (no fallbacks applied), to check it independently of the loader."""
    return yaml.safe_load((SCHEMA_DIR / "v1.yaml").read_text("utf-8"))


@functools.lru_cache(maxsize=None)
def raw_messages() -> dict:
    return yaml.safe_load((PACKAGE / "messages.yaml").read_text("utf-8"))


# ---------------------------------------------------------------- the packaged schema


def test_latest_schema_is_v1_with_three_languages_and_the_six_facets():
    schema = load_schema()
    assert schema.version == 1
    assert schema.languages == LANGS
    assert set(SIX_FACETS) <= set(schema.facets)
    for facet in SIX_FACETS:
        assert schema.by_facet(facet), f"facet {facet} has no questions"


def test_load_schema_is_cached_and_version_1_is_the_same_object():
    assert load_schema() is load_schema()
    assert load_schema(1) is load_schema()


def test_unknown_version_is_a_clear_error_catchable_as_key_error():
    with pytest.raises(UnknownVersion, match="no schema version 99; have 1"):
        load_schema(99)
    with pytest.raises(KeyError):
        load_schema(99)
    with pytest.raises(SchemaError):
        load_schema(99)


def test_every_question_type_is_used_by_v1():
    used = {q.type for q in load_schema().questions.values()}
    assert used == set(QUESTION_TYPES)


@pytest.mark.parametrize(
    "key,qtype",
    [
        ("owner.name", "text"), ("owner.email", "email"), ("owner.phone", "phone"),
        ("owner.tax_id", "tax_id"), ("owner.life_situation", "single_choice"),
        ("owner.hours_per_week", "number"), ("experience.tech_comfort", "scale"),
        ("experience.sold_online_before", "yes_no"), ("needs.help_with", "multi_choice"),
        ("business.type", "single_choice"), ("business.category", "single_choice"),
        ("business.model", "single_choice"), ("business.catalogue_size", "number"),
        ("business.expected_monthly_turnover", "money"), ("business.channels", "multi_choice"),
        ("business.sells_abroad", "yes_no"), ("business.planned_launch", "date"),
        ("features.payments", "multi_choice"), ("features.shipping", "multi_choice"),
        ("features.marketplaces", "multi_choice"), ("features.invoicing", "multi_choice"),
        ("features.marketing", "multi_choice"),
    ],
)
def test_the_questions_the_issue_asks_for_exist_with_their_types(key, qtype):
    q = load_schema()[key]
    assert q.type == qtype
    assert q.facet == key.split(".")[0]


def test_number_money_and_scale_carry_range_unit_and_currency():
    s = load_schema()
    hours = s["owner.hours_per_week"]
    assert (hours.min, hours.max, hours.unit, hours.integer) == (0, 100, "hours", True)
    tech = s["experience.tech_comfort"]
    assert (tech.min, tech.max, tech.integer) == (1, 5, True)
    money = s["business.expected_monthly_turnover"]
    assert {"PLN", "TRY", "INR"} <= set(money.currencies)
    assert s["needs.main_goal"].max_length == 200


@pytest.mark.parametrize("key", [q["key"] for q in raw_v1()["questions"]])
def test_every_question_names_its_sources_and_only_known_ones(key):
    q = load_schema()[key]
    assert q.sources and set(q.sources) <= set(profile_schema.SOURCES)
    if q.survey_required:
        assert "survey" in q.sources


def test_the_readiness_checklist_is_the_launch_track_in_stage_order():
    s = load_schema()
    assert s.stages == ("setting_up", "products", "payments_shipping", "legal", "ready", "launched")
    stages = [q.stage for q in s.checklist("PL")]
    assert stages == sorted(stages, key=s.stages.index)
    assert stages[-1] == "launched"
    assert all(q.type == "yes_no" for q in s.checklist("PL"))


@pytest.mark.parametrize(
    "market,has,lacks",
    [
        ("PL", {"readiness.ksef_ready"}, {"readiness.etbis_registered", "readiness.gst_registered",
                                          "readiness.refund_policy_published"}),
        ("TR", {"readiness.etbis_registered"}, {"readiness.ksef_ready", "readiness.gst_registered"}),
        ("IN", {"readiness.gst_registered", "readiness.refund_policy_published"},
         {"readiness.ksef_ready", "readiness.etbis_registered"}),
        (None, set(), {"readiness.ksef_ready", "readiness.etbis_registered", "readiness.gst_registered",
                       "readiness.refund_policy_published"}),
    ],
)
def test_checklist_holds_the_markets_legal_items_only(market, has, lacks):
    keys = {q.key for q in load_schema().checklist(market)}
    assert has <= keys
    assert not (lacks & keys)
    assert {"readiness.terms_published", "readiness.privacy_policy_published"} <= keys


def test_survey_questions_are_those_the_survey_may_set_in_the_market():
    s = load_schema()
    keys = {q.key for q in s.survey_questions("PL")}
    assert "owner.name" in keys
    assert "readiness.products_added" not in keys  # the trial shop tells us that, not the merchant
    assert "owner.is_trader" not in keys  # Turkey only
    assert "owner.is_trader" in {q.key for q in s.survey_questions("TR")}


def test_describe_is_json_ready_and_localised():
    d = load_schema().describe("tr")
    json.dumps(d)
    by_key = {q["key"]: q for q in d["questions"]}
    assert by_key["owner.phone"]["label"] == "Telefon"
    assert by_key["business.model"]["choices"][0] == {"key": "b2c", "label": "Tüketicilere (B2C)"}
    allegro = next(c for c in by_key["business.marketplaces"]["choices"] if c["key"] == "allegro")
    assert allegro["markets"] == ["PL"]
    assert by_key["owner.hours_per_week"]["unit"] == "hours"


# ---------------------------------------------------------------- labels in en, pl and tr


def _label_cases():
    for q in raw_v1()["questions"]:
        for lang in LANGS:
            yield pytest.param(q["label"], lang, id=f"{q['key']}-{lang}")
            for ckey, clabels in (q.get("choices") or {}).items():
                yield pytest.param(clabels, lang, id=f"{q['key']}.{ckey}-{lang}")


@pytest.mark.parametrize("labels,lang", list(_label_cases()))
def test_every_question_and_choice_label_exists_in_the_raw_file(labels, lang):
    assert isinstance(labels.get(lang), str) and labels[lang].strip()


@pytest.mark.parametrize("lang", LANGS)
def test_loaded_labels_are_the_files_own_words_per_language(lang):
    raw = {q["key"]: q for q in raw_v1()["questions"]}
    for key, q in load_schema().questions.items():
        assert q.label(lang) == raw[key]["label"][lang]
        for ckey in q.choices:
            assert q.choice_label(ckey, lang) == raw[key]["choices"][ckey][lang]


def test_polish_and_turkish_labels_are_translated_not_copied_for_words():
    # brand names (BLIK, Shopify) may stay the same; ordinary questions must not
    s = load_schema()
    assert s["owner.hours_per_week"].label("pl") != s["owner.hours_per_week"].label("en")
    assert s["owner.hours_per_week"].label("tr") != s["owner.hours_per_week"].label("en")


@pytest.mark.parametrize(
    "lang,expected",
    [("pl", "Preferowany język"), ("pl_PL", "Preferowany język"), ("tr-TR", "Tercih edilen dil"),
     ("en_IN", "Preferred language"), ("hi", "पसंदीदा भाषा"), ("hi_IN", "पसंदीदा भाषा"),
     ("de", "Preferred language"), (None, "Preferred language")],
)
def test_labels_accept_regional_language_tags_and_fall_back_to_english(lang, expected):
    assert load_schema()["owner.language"].label(lang) == expected


def test_unknown_choice_label_is_the_choice_key_itself():
    assert load_schema()["business.type"].choice_label("spaceship", "pl") == "spaceship"


# ---------------------------------------------------------------- messages.yaml


def test_the_table_holds_english_only():
    """One home per word: the YAML has the English, the gettext catalogs the translations."""
    assert len(raw_messages()) > 20
    assert all(isinstance(v, str) and v.strip() for v in raw_messages().values())


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_exists_in_every_language(lang):
    from profile_schema.validation import _table

    assert _table().missing(lang) == []


@pytest.mark.parametrize("code", list(raw_messages()))
def test_every_language_uses_the_same_placeholders(code):
    from profile_schema.validation import _table

    fields = {lang: set(re.findall(r"\{(\w+)\}", _table().text((code,), lang))) for lang in LANGS}
    assert all(f == fields["en"] for f in fields.values()), fields


def test_every_error_code_the_validator_can_produce_has_a_message():
    source = (PACKAGE / "validation.py").read_text("utf-8")
    codes = set(re.findall(r'_Invalid\(\s*"(\w+)"', source)) | set(re.findall(r'err\([^,]+,\s*"(\w+)"', source))
    assert len(codes) > 20  # the regexes found the calls
    assert codes - set(raw_messages()) == set()


@pytest.mark.parametrize(
    "code,lang,params,expected",
    [
        ("above_max", "en", {"max": 100}, "must be at most 100"),
        ("above_max", "pl", {"max": 100}, "może wynosić najwyżej 100"),
        ("above_max", "tr", {"max": 100}, "en fazla 100 olmalı"),
        ("above_max", "de", {"max": 100}, "must be at most 100"),
        ("above_max", "pl_PL", {"max": 7}, "może wynosić najwyżej 7"),
        ("above_max", "en", {}, "must be at most {max}"),  # a missing parameter stays visible
        ("no_such_code", "en", {}, "no_such_code"),
    ],
)
def test_message_for_fills_templates_and_falls_back(code, lang, params, expected):
    assert message_for(code, lang, **params) == expected


# ---------------------------------------------------------------- bad schema files


BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


def test_there_are_bad_schema_fixtures():
    assert len(BAD) >= 30


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_a_bad_schema_file_is_a_schema_error_that_says_what_is_wrong(path):
    expected = path.read_text("utf-8").splitlines()[0].split("# expect:", 1)[1].strip()
    with pytest.raises(SchemaError) as info:
        load_schema_file(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)  # and which file


def test_schema_error_is_a_value_error():
    assert issubclass(SchemaError, ValueError)


def test_a_missing_file_is_a_file_not_found_error():
    with pytest.raises(FileNotFoundError):
        load_schema_file(FIXTURES / "does_not_exist.yaml")


def test_parse_schema_rejects_what_yaml_can_return_besides_a_mapping():
    for data in (None, [], "version: 1", 3):
        with pytest.raises(SchemaError, match="must be a mapping"):
            parse_schema(data)


# ---------------------------------------------------------------- the schema folder


def test_load_registry_reads_every_version_file_in_a_folder(tmp_path):
    shutil.copy(SCHEMA_DIR / "v1.yaml", tmp_path / "v1.yaml")
    shutil.copy(FIXTURES / "versions" / "v2.yaml", tmp_path / "v2.yaml")
    (tmp_path / "vnotes.yaml").write_text("not: a schema\n")  # not v<N>: ignored
    registry = load_registry(str(tmp_path))
    assert sorted(registry.versions) == [1, 2]
    assert registry.latest.version == 2
    assert registry.get(1).version == 1


def test_a_file_whose_name_and_version_disagree_is_refused(tmp_path):
    shutil.copy(FIXTURES / "versions" / "v2.yaml", tmp_path / "v3.yaml")
    with pytest.raises(SchemaError, match="declares version 2, but the file name says 3"):
        load_registry(str(tmp_path))


def test_an_empty_folder_has_no_schema(tmp_path):
    with pytest.raises(SchemaError, match="no schema versions"):
        load_registry(str(tmp_path))


def test_a_version_given_twice_is_refused():
    with pytest.raises(SchemaError, match="version 1 given twice"):
        SchemaRegistry([load_schema(1), load_schema(1)])


def test_the_package_imports_nothing_from_the_web_or_the_database():
    for path in PACKAGE.glob("*.py"):
        text = path.read_text("utf-8")
        for banned in ("flask", "sqlalchemy", "concierge"):
            assert not re.search(rf"^\s*(from|import)\s+{banned}\b", text, re.M), (path.name, banned)
