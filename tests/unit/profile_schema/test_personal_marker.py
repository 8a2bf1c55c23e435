"""The schema marks personal questions (`personal: true`; phone, email and tax_id always are)."""
import copy
import functools

import pytest
import yaml

from profile_schema import SchemaError, load_schema, parse_schema
from profile_schema.schema import SCHEMA_DIR


@functools.cache
def _raw() -> dict:
    return yaml.safe_load((SCHEMA_DIR / "v1.yaml").read_text("utf-8"))


def _with(key: str, **changes) -> dict:
    data = copy.deepcopy(_raw())
    q = next(q for q in data["questions"] if q["key"] == key)
    q.update(changes)
    return data


def test_the_packaged_schema_marks_names_contacts_tax_ids_and_own_words():
    schema = load_schema()
    assert set(schema.personal_questions()) == {"owner.name", "owner.email", "owner.phone", "owner.tax_id",
                                                "needs.main_goal", "features.domain"}
    assert not schema["business.type"].personal and not schema["trial.plan"].personal
    described = {q["key"]: q for q in schema.describe()["questions"]}
    assert described["owner.email"]["personal"] is True and "personal" not in described["business.type"]


def test_phone_email_and_tax_id_are_personal_whatever_the_file_says():
    assert parse_schema(_with("owner.email"))["owner.email"].personal  # no marker needed
    with pytest.raises(SchemaError, match="owner.phone.*always personal"):
        parse_schema(_with("owner.phone", personal=False))


def test_the_marker_must_be_true_or_false():
    with pytest.raises(SchemaError, match="personal must be true or false"):
        parse_schema(_with("owner.name", personal="yes"))
    assert not parse_schema(_with("owner.name", personal=False))["owner.name"].personal
