"""Body checking: the fast acceptance path never accepts what jsonschema rejects; errors are translated."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from concierge.ingest.schemas import EVENT_ENVELOPE, REQUEST_SCHEMAS, register_schema, validate_body
from concierge.ingest.bodies import FORMAT_CHECKER, _compile
from concierge.ingest.events import load_mapping, parse_mapping

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 200_000), st.floats(allow_nan=False),
                    st.sampled_from(["", "x", "PL", "IN", "terms", "refund", "2026-03-02T10:00:00+01:00",
                                     "2026-03-02T10:00:00", "blik", "a" * 70, "b" * 260]))
JSONISH = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["id", "shop", "type", "occurred_at", "data", "market", "pages",
                                     "provider", "count", "test", "owner", "name", "converted", "plan"]),
                    inner, max_size=6)), max_leaves=12)
SCHEMAS = [EVENT_ENVELOPE] + [t.data_schema for t in load_mapping().types.values()]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SCHEMAS), JSONISH)
def test_fast_path_accepts_only_what_jsonschema_accepts(schema, data):
    fast = _compile(schema)
    assert fast is not None  # every schema we ship is in the fast subset
    if fast(data):
        assert not list(Draft202012Validator(schema, format_checker=FORMAT_CHECKER).iter_errors(data))


def test_valid_envelope_passes_and_errors_are_in_turkish():
    good = {"id": "e", "shop": "s", "type": "product_added", "occurred_at": "2026-03-02T10:00:00Z"}
    assert validate_body(EVENT_ENVELOPE, good) == []
    errors = validate_body(EVENT_ENVELOPE, {**good, "shop": 7}, "tr-TR")
    assert errors == [{"field": "shop", "code": "wrong_type", "message": "shop: metin olmalı"}]
    assert validate_body(EVENT_ENVELOPE, [1], "en")[0]["code"] == "not_an_object"


def test_register_schema_refuses_a_different_body_under_the_same_name():
    register_schema("TestOnlyBody", {"type": "object"})
    register_schema("TestOnlyBody", {"type": "object"})  # the same again is fine
    try:
        register_schema("TestOnlyBody", {"type": "array"})
    except ValueError:
        pass
    else:
        raise AssertionError("a conflicting schema was registered")
    finally:
        REQUEST_SCHEMAS.pop("TestOnlyBody", None)


def test_mapping_rejects_unknown_questions_and_ops():
    questions = {"readiness.launched": object()}
    for bad in ({"question": "readiness.lunched", "value": True}, {"question": "readiness.launched", "op": "mul", "value": 1},
                {"question": "readiness.launched"}):
        try:
            parse_mapping({"events": {"x": {"observations": [bad]}}}, questions)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SCHEMAS), JSONISH)
def test_generated_checker_answers_as_the_checks_it_was_made_from(schema, data):
    """The generated code skips the isinstance checks its type check already decided: same answers."""
    from concierge.ingest.bodies import _compile_code

    generated = _compile_code(schema)
    assert generated is not None
    assert generated(data) == _compile(schema)(data)
    for key in ("data", "owner"):  # the nested objects of real bodies too
        if isinstance(data, dict) and key in data:
            assert generated(data[key]) == _compile(schema)(data[key])
