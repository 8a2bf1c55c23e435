"""JSON Schemas for the merchant survey, derived from the interview schema (never by hand).

The same dictionaries validate `POST /api/v1/surveys` bodies and appear in
`GET /api/openapi.json`, so the documentation cannot drift from what the endpoint
accepts. A new survey question in `profile_schema/schemas/v<N>.yaml` shows up here
with no code change. The JSON Schema checks shapes and ranges; the interview schema
(`profile_schema`) still has the last word on meaning (markets, skip logic, required
questions, phone numbers and tax ids).
"""
from __future__ import annotations

from typing import Any

from locales import LANGUAGES
from profile_schema import Question, Schema, load_schema

SURVEY_BODY = "SurveySubmission"  # the key of the request body schema in REQUEST_SCHEMAS

_LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"


# A string that is blank once cleaned (profile_schema.validation.clean_text drops control and bidi
# characters, then trims Python's whitespace) is "not answered", as in the web form, so a formatted
# answer may be blank. NUL is refused before (at the boundary), hence from \u0001.
_BLANK = {"pattern": "^[\\u0001-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u202f\\u205f"
                     "\\u2066-\\u2069\\u3000]*$",
          "description": "blank (spaces or control characters only): not answered"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """null means "not answered" (the interview schema drops it), so every answer may be null."""
    out = dict(schema)
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    t = out.get("type")
    if isinstance(t, str):
        out["type"] = [t, "null"]
    return out


def question_json_schema(q: Question) -> dict[str, Any]:
    """The JSON Schema of one answer: type, choices, bounds and the English label as description."""
    s: dict[str, Any]
    t = q.type
    if t == "single_choice":
        s = {"type": "string", "enum": list(q.choices)}
    elif t == "multi_choice":
        s = {"type": "array", "items": {"type": "string", "enum": list(q.choices)}, "uniqueItems": True}
        if q.min_selected is not None:
            s["minItems"] = q.min_selected
        if q.max_selected is not None:
            s["maxItems"] = q.max_selected
    elif t == "yes_no":
        s = {"type": "boolean"}
    elif t in ("number", "scale"):
        s = {"type": "integer" if q.integer else "number"}
        if q.min is not None:
            s["minimum"] = q.min
        if q.max is not None:
            s["maximum"] = q.max
    elif t == "money":
        amount: dict[str, Any] = {"type": "integer" if q.integer else "number"}
        if q.min is not None:
            amount["minimum"] = q.min
        if q.max is not None:
            amount["maximum"] = q.max
        currency: dict[str, Any] = {"type": "string", "pattern": "^[A-Z]{3}$",
                                    "description": "ISO 4217; the shop's market currency when left out"}
        if q.currencies:
            currency = {"type": "string", "enum": list(q.currencies),
                        "description": "ISO 4217; the shop's market currency when left out"}
        s = {"type": "object", "required": ["amount"], "additionalProperties": False,
             "properties": {"amount": amount, "currency": currency}}
    elif t == "text":
        s = {"type": "string"}
        if q.max_length is not None:
            s["maxLength"] = q.max_length
        if q.min_length is not None:
            s["minLength"] = q.min_length
    elif t == "date":
        s = {"type": "string", "anyOf": [{"format": "date"}, _BLANK]}
        if q.min is not None:
            s["formatMinimum"] = q.min  # informative (JSON Schema vocabulary for formats)
        if q.max is not None:
            s["formatMaximum"] = q.max
    elif t == "email":
        s = {"type": "string", "anyOf": [{"format": "email"}, _BLANK], "maxLength": 254}
    elif t == "phone":
        s = {"type": "string", "maxLength": 40, "description": "national or +E.164"}
    elif t == "tax_id":
        s = {"oneOf": [
            {"type": "string", "maxLength": 40},
            {"type": "object", "required": ["number"], "additionalProperties": False,
             "properties": {"kind": {"type": "string", "maxLength": 20},
                            "number": {"type": "string", "maxLength": 40}}},
        ]}
    else:  # pragma: no cover - parse_schema rejects unknown types
        raise ValueError(f"no JSON Schema for question type {t!r}")
    if "oneOf" in s:
        s["oneOf"] = [*s["oneOf"], {"type": "null"}]
    else:
        s = _nullable(s)
    label = q.label("en")
    s["description"] = f"{label} ({s['description']})" if s.get("description") else label
    s["x-question-type"] = t
    if q.survey_required:
        s["x-survey-required"] = True
    if q.markets:
        s["x-markets"] = list(q.markets)
    if q.relevant:
        s["x-relevant"] = q.relevant
    return s


def answers_json_schema(schema: Schema | None = None) -> dict[str, Any]:
    """Every question the survey may answer (source `survey`), keyed by question key."""
    schema = schema or load_schema()
    props = {q.key: question_json_schema(q) for q in schema.questions.values() if "survey" in q.sources}
    return {
        "type": "object",
        "description": (f"Answers keyed by question (interview schema v{schema.version}); null means "
                        "not answered. Questions marked x-survey-required must be answered here or "
                        "known from an earlier answer, unless skip logic (x-relevant) rules them out."),
        "properties": props,
        "additionalProperties": False,
        "minProperties": 1,
    }


def survey_body_schema(schema: Schema | None = None) -> dict[str, Any]:
    """The body of `POST /api/v1/surveys`."""
    return {
        "type": "object",
        "title": SURVEY_BODY,
        "required": ["shop", "answers"],
        "additionalProperties": False,
        "properties": {
            "shop": {"type": "string", "minLength": 1, "maxLength": 64,
                     "description": "The platform's shop id"},
            "answers": answers_json_schema(schema),
            "language": {"type": "string", "pattern": _LANGUAGE_PATTERN, "maxLength": 35,
                         "description": f"The merchant's language ({', '.join(LANGUAGES)}; pl-PL works); "
                                        "error messages come back in it"},
            "response_id": {"type": "string", "minLength": 1, "maxLength": 200,
                            "description": "The survey tool's id of this response; a repeat is "
                                           "answered 200 duplicate and stores nothing"},
            "submitted_at": {"type": "string", "format": "date-time",
                             "description": "When the merchant submitted (RFC 3339 with offset); "
                                            "default: when we receive it"},
        },
    }


def survey_response_schemas() -> dict[str, dict[str, Any]]:
    """Response bodies of the survey endpoint, by component name."""
    return {
        "SurveyAccepted": {
            "type": "object", "required": ["submission_id", "shop", "accepted"],
            "properties": {
                "submission_id": {"type": "integer"},
                "shop": {"type": "string"},
                "accepted": {"type": "integer", "description": "answers stored"},
            },
        },
        "SurveyDuplicate": {
            "type": "object", "required": ["duplicate", "shop"],
            "properties": {
                "duplicate": {"type": "boolean", "const": True},
                "shop": {"type": "string"},
                "submission_id": {"type": "integer", "description": "the submission stored the first time"},
            },
        },
    }


_registered: dict[str, Any] = {}


def survey_request_schema() -> dict[str, Any]:
    """The survey body schema, built once and registered in REQUEST_SCHEMAS (validation = docs)."""
    schema = _registered.get(SURVEY_BODY)
    if schema is None:
        from .schemas import register_schema

        schema = register_schema(SURVEY_BODY, survey_body_schema())
        _registered[SURVEY_BODY] = schema
    return schema


def validate_survey_body(data: Any, lang: str = "en") -> list[dict[str, str]]:
    """Every way a survey body breaks its JSON Schema, naming answers by their label in `lang`."""
    from .schemas import validate_body

    errors = validate_body(survey_request_schema(), data, lang)
    schema = load_schema()
    out = []
    for e in errors:
        field = e["field"]
        key = field[len("answers."):] if field.startswith("answers.") else None
        if key is not None:
            # "answers.owner.hours_per_week[0]" or ".amount": the question is the first two parts
            qkey = ".".join(key.replace("[", ".[").split(".")[:2])
            q = schema.questions.get(qkey)
            if q is not None and e["message"].startswith(field + ": "):
                e = {**e, "message": f"{q.label(lang)}: {e['message'][len(field) + 2:]}"}
            if e["code"] == "invalid_choice" and e["message"].endswith(", None"):
                e = {**e, "message": e["message"][:-len(", None")]}  # null is "not answered", no choice
        out.append(e)
    return out
