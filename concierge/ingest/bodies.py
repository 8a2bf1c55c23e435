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


FORMAT_CHECKER = _FORMATS = FormatChecker(formats=())


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
        # null only means "no answer"; naming it tells a merchant nothing
        types = [t for t in types if t != "null"] or types
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


# --- fast acceptance --------------------------------------------------------------------
# jsonschema explains errors well but costs ~50 us per small document; ingesting 100k
# events cannot afford that for the valid ones. `_compile` turns the same schema dict into
# a checker that can only say "surely valid" (True) or "not sure" (False); on False the
# full jsonschema validation runs and has the last word. The checker understands a
# subset of keywords and gives up (None: always ask jsonschema) on any other, so the
# schema stays the one source of truth.
_ANNOTATIONS = {"title", "description", "examples", "default", "$comment", "deprecated"}
_FAST_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,), "null": (type(None),),
}


def _all(checks: list[Any]) -> Any:
    if len(checks) == 1:
        return checks[0]

    def check(v: Any) -> bool:
        for c in checks:
            if not c(v):
                return False
        return True
    return check


def _compile(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return None
    checks: list[Any] = []
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key == "type":
            names = value if isinstance(value, list) else [value]
            if not all(n in _FAST_TYPES for n in names):
                return None
            types = tuple(t for n in names for t in _FAST_TYPES[n])
            if "boolean" in names:
                checks.append(lambda v, types=types: isinstance(v, types))
            else:  # bool is an int subclass in Python, never a number in JSON Schema
                checks.append(lambda v, types=types: isinstance(v, types) and v is not True and v is not False)
        elif key == "enum":
            if not all(isinstance(e, str) for e in value):
                return None
            allowed = frozenset(value)
            checks.append(lambda v, a=allowed: isinstance(v, str) and v in a)
        elif key in ("minLength", "maxLength"):
            checks.append(lambda v, k=key, n=value: not isinstance(v, str) or (
                len(v) >= n if k == "minLength" else len(v) <= n))
        elif key in ("minimum", "maximum"):
            checks.append(lambda v, k=key, n=value: isinstance(v, bool) or not isinstance(v, (int, float)) or (
                v >= n if k == "minimum" else v <= n))
        elif key in ("minItems", "maxItems"):
            checks.append(lambda v, k=key, n=value: not isinstance(v, list) or (
                len(v) >= n if k == "minItems" else len(v) <= n))
        elif key == "uniqueItems":
            checks.append(lambda v: not isinstance(v, list) or (
                all(isinstance(x, str) for x in v) and len(set(v)) == len(v)))
        elif key == "format":
            if value != "date-time":
                return None
            checks.append(lambda v: not isinstance(v, str) or parse_datetime_with_offset(v) is not None)
        elif key == "required":
            names = tuple(value)
            checks.append(lambda v, names=names: not isinstance(v, dict) or all(n in v for n in names))
        elif key == "properties":
            subs = {}
            for name, sub in value.items():
                fn = _compile(sub)
                if fn is None:
                    return None
                subs[name] = fn
            items = tuple(subs.items())

            def props(v: Any, items: tuple = items) -> bool:
                if isinstance(v, dict):
                    for n, fn in items:
                        if n in v and not fn(v[n]):
                            return False
                return True
            checks.append(props)
        elif key == "additionalProperties":
            if value is not False or "properties" not in schema:
                return None
            known = frozenset(schema["properties"])
            checks.append(lambda v, known=known: not isinstance(v, dict) or known.issuperset(v))
        elif key == "items":
            fn = _compile(value)
            if fn is None:
                return None
            checks.append(lambda v, fn=fn: not isinstance(v, list) or all(fn(x) for x in v))
        else:
            return None
    return _all(checks) if checks else (lambda v: True)


_fast: dict[int, tuple[dict, Any]] = {}


def _fast_checker(schema: dict[str, Any]) -> Any:
    hit = _fast.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = (schema, _compile(schema))
        _fast[id(schema)] = hit
    return hit[1]


def validate_body(schema: dict[str, Any], data: Any, lang: str = "en") -> list[dict[str, str]]:
    """Every way `data` breaks `schema`, as [{field, code, message}] in `lang`; [] when it fits."""
    fast = _fast_checker(schema)
    if fast is not None and fast(data):
        return []
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
