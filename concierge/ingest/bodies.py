"""Check request bodies against JSON Schemas and say what is wrong, field by field, in en/pl/tr."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

_MESSAGES: dict[str, dict[str, str]] = {
    "required": {"en": "is required", "pl": "jest wymagane", "tr": "zorunludur"},
    "wrong_type": {"en": "must be {expected}", "pl": "musi być typu {expected}", "tr": "{expected} olmalı"},
    "invalid_choice": {"en": "must be one of {choices}", "pl": "musi być jednym z: {choices}",
                       "tr": "şunlardan biri olmalı: {choices}"},
    "invalid_format": {"en": "is not a valid {format}", "pl": "ma niepoprawny format, oczekiwano: {format}",
                       "tr": "biçimi geçersiz, beklenen: {format}"},
    "too_short": {"en": "is too short (at least {limit})", "pl": "jest za krótkie (co najmniej {limit})",
                  "tr": "çok kısa (en az {limit})"},
    "too_long": {"en": "is too long (at most {limit})", "pl": "jest za długie (najwyżej {limit})",
                 "tr": "çok uzun (en fazla {limit})"},
    "below_min": {"en": "must be at least {limit}", "pl": "musi wynosić co najmniej {limit}",
                  "tr": "en az {limit} olmalı"},
    "above_max": {"en": "must be at most {limit}", "pl": "może wynosić najwyżej {limit}",
                  "tr": "en fazla {limit} olmalı"},
    "unknown_field": {"en": "is not an accepted field", "pl": "nie jest dozwolonym polem",
                      "tr": "kabul edilen bir alan değil"},
    "duplicate_items": {"en": "lists an item twice", "pl": "zawiera powtórzony element",
                        "tr": "bir öğeyi iki kez içeriyor"},
    "invalid": {"en": "is not valid ({detail})", "pl": "jest niepoprawne ({detail})",
                "tr": "geçersiz ({detail})"},
    "malformed_json": {"en": "is not valid JSON: {detail}", "pl": "nie jest poprawnym JSON: {detail}",
                       "tr": "geçerli bir JSON değil: {detail}"},
    "not_an_object": {"en": "must be a JSON object", "pl": "musi być obiektem JSON",
                      "tr": "bir JSON nesnesi olmalı"},
}
_TYPE_NAMES = {
    "string": {"en": "text", "pl": "tekst", "tr": "metin"},
    "integer": {"en": "a whole number", "pl": "liczba całkowita", "tr": "tam sayı"},
    "number": {"en": "a number", "pl": "liczba", "tr": "sayı"},
    "boolean": {"en": "true or false", "pl": "true lub false", "tr": "true ya da false"},
    "object": {"en": "an object", "pl": "obiekt", "tr": "nesne"},
    "array": {"en": "a list", "pl": "lista", "tr": "liste"},
    "null": {"en": "null", "pl": "null", "tr": "null"},
}
_FORMAT_NAMES = {
    "date-time": {"en": "date and time with a UTC offset (ISO 8601, e.g. 2026-03-02T09:00:00+01:00)",
                  "pl": "data i godzina z przesunięciem UTC (ISO 8601, np. 2026-03-02T09:00:00+01:00)",
                  "tr": "UTC farkı içeren tarih ve saat (ISO 8601, ör. 2026-03-02T09:00:00+03:00)"},
}


def base_lang(lang: str | None) -> str:
    """`pl_PL`, `tr-TR` -> `pl`, `tr`; anything else we do not speak -> `en`."""
    b = (lang or "en").replace("-", "_").split("_", 1)[0].lower()
    return b if b in ("en", "pl", "tr") else "en"


def body_message(code: str, lang: str | None = "en", **params: Any) -> str:
    """The text for an error code in `lang`, with its parameters filled in."""
    texts = _MESSAGES.get(code) or _MESSAGES["invalid"]
    return texts.get(base_lang(lang), texts["en"]).format(**params)


def body_error(field: str, code: str, lang: str | None = "en", **params: Any) -> dict[str, str]:
    """One error as the API reports it: the field, a stable code and a sentence naming both."""
    text = body_message(code, lang, **params)
    return {"field": field, "code": code, "message": f"{field}: {text}" if field else text}


def parse_datetime_with_offset(value: Any) -> datetime | None:
    """ISO 8601 date and time that says its UTC offset; None when it is not one."""
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    s = value.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None and dt.utcoffset() is not None else None


_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_datetime(value: Any) -> bool:
    return not isinstance(value, str) or parse_datetime_with_offset(value) is not None


_validators: dict[int, tuple[dict, Draft202012Validator]] = {}


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    hit = _validators.get(id(schema))
    if hit is None or hit[0] is not schema:
        Draft202012Validator.check_schema(schema)
        hit = (schema, Draft202012Validator(schema, format_checker=_FORMATS))
        _validators[id(schema)] = hit
    return hit[1]


def _path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _translate(error: Any, lang: str) -> list[dict[str, str]]:
    where = _path(error.absolute_path)
    kind = error.validator
    value = error.validator_value
    if kind == "required":
        inst = error.instance if isinstance(error.instance, dict) else {}
        return [body_error(f"{where}.{name}" if where else name, "required", lang)
                for name in value if name not in inst]
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
        return [body_error(f"{where}.{k}" if where else k, "unknown_field", lang) for k in extra]
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        names = " / ".join(_TYPE_NAMES.get(t, {}).get(lang, t) for t in types)
        return [body_error(where, "wrong_type", lang, expected=names)]
    if kind in ("enum", "const"):
        choices = ", ".join(map(str, value if kind == "enum" else [value]))
        return [body_error(where, "invalid_choice", lang, choices=choices)]
    if kind == "format":
        name = _FORMAT_NAMES.get(value, {}).get(lang, value)
        return [body_error(where, "invalid_format", lang, format=name)]
    if kind in ("minLength", "minItems", "minProperties"):
        return [body_error(where, "too_short", lang, limit=value)]
    if kind in ("maxLength", "maxItems", "maxProperties"):
        return [body_error(where, "too_long", lang, limit=value)]
    if kind in ("minimum", "exclusiveMinimum"):
        return [body_error(where, "below_min", lang, limit=value)]
    if kind in ("maximum", "exclusiveMaximum"):
        return [body_error(where, "above_max", lang, limit=value)]
    if kind == "uniqueItems":
        return [body_error(where, "duplicate_items", lang)]
    return [body_error(where, "invalid", lang, detail=error.message)]


def validate_body(schema: dict[str, Any], data: Any, lang: str = "en") -> list[dict[str, str]]:
    """Every way `data` breaks `schema`, as [{field, code, message}] in `lang`; [] when it fits."""
    lang = base_lang(lang)
    if schema.get("type") == "object" and not isinstance(data, dict):
        return [body_error("", "not_an_object", lang)]
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for error in sorted(_validator(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        for item in _translate(error, lang):
            if (item["field"], item["code"]) not in seen:
                seen.add((item["field"], item["code"]))
                out.append(item)
    return out
