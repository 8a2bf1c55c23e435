"""Validate answers against the schema: one path for calls, surveys, imports and events.

Every error names the field and the reason, in the requested language; nothing is
half-accepted: callers store `values` only when `errors` is empty.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping


from .observations import SOURCES
from .schema import Question, Schema, _base_lang, evaluate_condition

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
_MAX_EXPONENT = 30  # a number written with more digits than this is not an answer anyone gave
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@functools.lru_cache(maxsize=1)
def _table():
    """The validation messages: English in messages.yaml, translations in the gettext catalogs."""
    from locales.catalogs import MessageTable

    return MessageTable(Path(__file__).with_name("messages.yaml"))


class _Defaulting(dict):
    """Leave an unknown {placeholder} visible rather than fail on it."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def message_for(code: str, lang: str | None = "en", **params: Any) -> str:
    """The message template for `code` in `lang` (falling back to English), filled in."""
    template = _table().text((code,), _base_lang(lang))
    if template is None:
        return code
    try:
        return template.format_map(_Defaulting(params))
    except (IndexError, ValueError):
        return template


@dataclass(frozen=True)
class FieldError:
    """What was wrong with one field, in words for the person who sent it."""

    field: str
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Validated:
    values: dict[str, Any]
    errors: list[FieldError]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Invalid(Exception):
    def __init__(self, code: str, message: str | None = None, **params: Any):
        super().__init__(code)
        self.code = code
        self.message = message
        self.params = params


def clean_text(value: str) -> str:
    """NFC, no control characters or bidi overrides, trimmed."""
    return _CONTROL_RE.sub("", unicodedata.normalize("NFC", value)).strip()


def _read_number(value: str, market: str | None, lang: str, *, money: bool = False) -> Decimal:
    """A typed number read with the market's and the writer's conventions; ambiguity is an error.

    The rule lives in `locales.formatting.read_number` (docs/design.md, "Numbers typed by
    people"): "1,200" is 1200 in India, asked back in Poland and Turkey, never guessed.
    """
    from locales import MARKET_CODES, InvalidValue
    from locales.formatting import read_number

    if market not in MARKET_CODES:
        market = None  # unknown market: only marks that cannot be grouping are read
    try:
        return read_number(value, market, lang, min_fraction_digits=2 if money else 0)
    except InvalidValue as exc:
        if exc.code == "number.ambiguous":
            p = exc.params
            raise _Invalid("ambiguous_number", value=p["value"], whole=p["whole"], fraction=p["fraction"]) from None
        raise _Invalid("not_a_number") from None


def _as_number(q: Question, value: Any, market: str | None = None, lang: str = "en", *,
               money: bool = False) -> int | float:
    if isinstance(value, bool):
        raise _Invalid("not_a_number")
    if isinstance(value, str):
        d = _read_number(value, market, lang, money=money)
        if not d.is_finite():
            raise _Invalid("not_a_number")
        # compare before converting: int(Decimal("1e999999999")) would take forever
        if q.max is not None and d > q.max:
            raise _Invalid("above_max", max=q.max)
        if q.min is not None and d < q.min:
            raise _Invalid("below_min", min=q.min)
        if d and abs(d.adjusted()) > _MAX_EXPONENT:
            raise _Invalid("above_max" if d.adjusted() > 0 else "not_a_number", max=q.max)
        value = int(d) if d == d.to_integral_value() else float(d)
    if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
        raise _Invalid("not_a_number")
    if q.integer:
        if isinstance(value, float):
            if not value.is_integer():
                raise _Invalid("not_integer")
            value = int(value)
    if q.min is not None and value < q.min:
        raise _Invalid("below_min", min=q.min)
    if q.max is not None and value > q.max:
        raise _Invalid("above_max", max=q.max)
    return value


def _as_choice(q: Question, value: Any, market: str | None) -> str:
    if not isinstance(value, str):
        raise _Invalid("invalid_choice", value=value)
    v = value.strip()
    choice = q.choices.get(v)
    if choice is None:
        raise _Invalid("invalid_choice", value=v)
    if not choice.available_in(market):
        raise _Invalid("choice_not_in_market", value=v, market=market)
    return v


def _convert(q: Question, value: Any, market: str | None, lang: str) -> Any:
    t = q.type
    if t == "single_choice":
        return _as_choice(q, value, market)
    if t == "multi_choice":
        if isinstance(value, str):
            value = [p for p in (s.strip() for s in value.split(",")) if p]
        if not isinstance(value, (list, tuple)):
            raise _Invalid("not_a_list")
        out: list[str] = []
        for item in value:
            c = _as_choice(q, item, market)
            if c in out:
                raise _Invalid("duplicate_choice", value=c)
            out.append(c)
        if q.min_selected is not None and len(out) < q.min_selected:
            raise _Invalid("too_few_choices", min=q.min_selected)
        if q.max_selected is not None and len(out) > q.max_selected:
            raise _Invalid("too_many_choices", max=q.max_selected)
        order = list(q.choices)
        return sorted(out, key=order.index)  # canonical order: equal sets compare equal
    if t == "yes_no":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            from locales.yesno import read_yes_no  # the one list of yes/no words

            read = read_yes_no(value)
            if read is True or read is False:
                return read
        raise _Invalid("not_boolean")
    if t in ("number", "scale"):
        return _as_number(q, value, market, lang)
    if t == "money":
        return _as_money(q, value, market, lang)
    if t == "text":
        if not isinstance(value, str):
            raise _Invalid("not_text")
        s = clean_text(value)
        n = len(s)
        if q.max_length is not None and n > q.max_length:
            raise _Invalid("too_long", max=q.max_length)
        if q.min_length is not None and n < q.min_length:
            raise _Invalid("too_short", min=q.min_length)
        return s
    if t == "date":
        if isinstance(value, datetime):
            d = value.date()
        elif isinstance(value, date):
            d = value
        else:
            try:
                d = date.fromisoformat(str(value).strip())
            except ValueError:
                raise _Invalid("invalid_date") from None
        if q.min and d < date.fromisoformat(q.min):
            raise _Invalid("below_min", min=q.min)
        if q.max and d > date.fromisoformat(q.max):
            raise _Invalid("above_max", max=q.max)
        return d.isoformat()
    if t == "email":
        if not isinstance(value, str):
            raise _Invalid("invalid_email")
        s = value.strip()
        if len(s) > 254 or not _EMAIL_RE.match(s) or ".." in s or _CONTROL_RE.search(s):
            raise _Invalid("invalid_email")
        local, domain = s.rsplit("@", 1)
        return f"{local}@{domain.lower()}"
    if t == "phone":
        if market is None:
            raise _Invalid("market_required")
        from locales import InvalidValue
        from locales.phones import phone_e164

        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise _Invalid("invalid_phone", market=market)
        try:
            return phone_e164(str(value), market)
        except InvalidValue as exc:
            raise _Invalid("invalid_phone", exc.message(lang), market=market, reason=exc.code) from None
    if t == "tax_id":
        if market is None:
            raise _Invalid("market_required")
        from locales import InvalidValue, validate_tax_id

        kind = None
        raw = value
        if isinstance(value, Mapping):
            kind, raw = value.get("kind"), value.get("number", "")
        if not isinstance(raw, (str, int)) or isinstance(raw, bool) or not isinstance(kind, (str, type(None))):
            raise _Invalid("invalid_tax_id", market=market)
        try:
            tid = validate_tax_id(str(raw), market, kind)
        except InvalidValue as exc:
            raise _Invalid("invalid_tax_id", exc.message(lang), market=market, reason=exc.code) from None
        return {"kind": tid.kind, "number": tid.compact}
    raise AssertionError(f"unhandled type {t}")  # parse_schema rejects unknown types


def _as_money(q: Question, value: Any, market: str | None, lang: str = "en") -> dict[str, Any]:
    from locales import market_currency

    default_currency = market_currency(market)
    amount: Any
    currency: Any
    if isinstance(value, Mapping):
        amount, currency = value.get("amount"), value.get("currency") or default_currency
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        amount, currency = value, default_currency
    elif isinstance(value, str):
        m = re.match(r"^\s*([A-Za-z]{3})?\s*([-+\u2212\d.,\s]+?)\s*([A-Za-z]{3})?\s*$", value)
        if not m or (m.group(1) and m.group(3)):
            raise _Invalid("invalid_money")
        amount, currency = m.group(2), (m.group(1) or m.group(3) or default_currency)
    else:
        raise _Invalid("invalid_money")
    if not currency:
        raise _Invalid("invalid_money")
    currency = str(currency).upper()
    if q.currencies and currency not in q.currencies:
        raise _Invalid("invalid_currency", value=currency)
    try:
        number = _as_number(q, amount, market, lang, money=True)
    except _Invalid as exc:
        if exc.code == "not_a_number":
            raise _Invalid("invalid_money") from None
        raise
    return {"amount": number, "currency": currency}


def validate_answers(
    schema: Schema,
    answers: Mapping[str, Any],
    *,
    market: str | None,
    source: str,
    lang: str = "en",
    known: Mapping[str, Any] | None = None,
    partial: bool = True,
    require_survey_fields: bool = False,
) -> Validated:
    """Check every answer; return clean values or every error at once (never a partial set).

    `known` holds what the profile already knows, so skip logic can look at earlier
    answers; answers in the same submission take precedence. A null or blank answer is
    dropped (it says nothing). With `partial=False` (a survey being submitted; the old
    spelling is `require_survey_fields=True`) every relevant survey-required question
    must be answered, here or before. Never raises on bad answers: only a programming
    error (an unknown `source`) raises.
    """
    errors: list[FieldError] = []
    values: dict[str, Any] = {}

    def err(field_name: str, code: str, message: str | None = None, **params: Any) -> None:
        q = schema.questions.get(field_name)
        label = q.label(lang) if q else field_name
        text = message or message_for(code, lang, **params)
        errors.append(FieldError(field_name, code, f"{label}: {text}" if label else text, params))

    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    if not isinstance(answers, Mapping):
        err("", "invalid_answers")
        return Validated({}, errors)
    answered: set[str] = set()
    for key, raw in answers.items():
        if not isinstance(key, str):
            err(str(key), "unknown_question")
            continue
        q = schema.questions.get(key)
        if q is None:
            err(key, "unknown_question")
            continue
        if source not in q.sources:
            err(key, "source_not_allowed", source=source)
            continue
        if not q.applies_to(market):
            err(key, "market_not_applicable", market=market)
            continue
        if raw is None or (isinstance(raw, str) and not clean_text(raw)):
            continue
        answered.add(key)
        try:
            values[key] = _convert(q, raw, market, lang)
        except _Invalid as exc:
            err(key, exc.code, exc.message, **exc.params)

    merged = dict(known or {})
    merged.update(values)
    for key in list(values):
        q = schema.questions[key]
        if q.relevant and evaluate_condition(q.relevant, merged) is False:
            cond = ", ".join(schema.questions[c].label(lang) for c in q.condition_questions())
            err(key, "not_relevant", condition=cond)
            values.pop(key)
    if require_survey_fields or not partial:
        for q in schema.survey_questions(market):
            if not q.survey_required or q.key in answered or q.key in values:
                continue  # answered (an answer with an error already has its error)
            if known and known.get(q.key) is not None:
                continue
            if evaluate_condition(q.relevant, merged) is not False:
                err(q.key, "required")
    if errors:
        return Validated({}, errors)
    return Validated(values, [])
