"""Answer forms generated from the interview schema (no question is typed here).

One field per question a source may answer (`call` for the consultant's record form,
`survey` for the merchant's survey page), with the widget its type needs. WTForms only
renders and carries the CSRF token; the schema's own validation (inside the operations)
decides what is valid, so the forms, the CLI and the API agree.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, DateInput, EmailInput, ListWidget, NumberInput, TelInput

from locales import market_currency

SOURCE = "call"

try:  # WTForms >= 3.3 wants SelectChoice objects; older versions take (value, label) tuples
    from wtforms.fields.choices import SelectChoice as _Choice
except ImportError:  # pragma: no cover
    def _Choice(value: str, label: str):  # type: ignore[no-redef]
        return (value, label)


def field_name(key: str) -> str:
    """`owner.name` -> `owner__name`: a form field name that is also a Python identifier."""
    return key.replace(".", "__")


#: Built once per process and reused: {key: (schema, value)}. The schema is kept beside the value
#: and compared by identity, so a schema loaded anew (another version) never reads an old entry.
_PER_SCHEMA: dict[tuple, tuple[Any, Any]] = {}


def _per_schema(schema: Any, key: tuple, build):
    hit = _PER_SCHEMA.get((id(schema), *key))
    if hit is not None and hit[0] is schema:
        return hit[1]
    value = build()
    if len(_PER_SCHEMA) >= 512:
        _PER_SCHEMA.clear()
    _PER_SCHEMA[(id(schema), *key)] = (schema, value)
    return value


def questions_for(schema: Any, market: str | None, source: str = SOURCE) -> list[Any]:
    """The questions `source` may answer in this market, in schema order."""
    return list(_per_schema(schema, ("questions", market, source), lambda: tuple(
        q for q in schema.questions.values() if source in q.sources and q.applies_to(market))))


def call_questions(schema: Any, market: str | None) -> list[Any]:
    """The questions a consultant may answer on a call in this market, in schema order."""
    return questions_for(schema, market, SOURCE)


def skip_hint(schema: Any, question: Any, lang: str) -> str | None:
    """Skip logic in words: "Only when: <question> is <answer>"."""
    cond = question.relevant
    if not cond:
        return None
    parts = _describe(schema, cond, lang)
    return _("Only when: %(condition)s", condition=parts) if parts else None


def _describe(schema: Any, cond: Mapping[str, Any], lang: str) -> str:
    if "all" in cond:
        return _(" and ").join(_describe(schema, c, lang) for c in cond["all"])
    if "any" in cond:
        return _(" or ").join(_describe(schema, c, lang) for c in cond["any"])
    dep = schema.questions.get(cond["question"])
    label = dep.label(lang) if dep else cond["question"]

    def show(v: Any) -> str:
        if isinstance(v, bool):
            return _("Yes") if v else _("No")
        return dep.choice_label(v, lang) if dep is not None and dep.choices else str(v)

    if "equals" in cond:
        return _("%(question)s is %(answer)s", question=label, answer=show(cond["equals"]))
    if "not_equals" in cond:
        return _("%(question)s is not %(answer)s", question=label, answer=show(cond["not_equals"]))
    if "in" in cond:
        return _("%(question)s is one of %(answers)s", question=label,
                 answers=", ".join(show(v) for v in cond["in"]))
    if "contains" in cond:
        return _("%(question)s includes %(answer)s", question=label, answer=show(cond["contains"]))
    if "answered" in cond:
        return (_("%(question)s is answered", question=label) if cond["answered"]
                else _("%(question)s is not answered", question=label))
    return ""


# On the merchant's own survey the browser may fill in their details; a consultant types someone else's.
_OWN_AUTOCOMPLETE = {"owner.name": "name", "owner.email": "email", "owner.phone": "tel"}


def _field(q: Any, market: str | None, lang: str, source: str = SOURCE):
    # the merchant reads the question in their own voice (second person); a consultant, the label
    merchant = source == "survey"
    label = q.ask(lang) if merchant else q.label(lang)
    kw: dict[str, Any] = {"label": label, "render_kw": {}}
    t = q.type

    def choice_text(c: Any) -> str:
        return c.ask(lang) if merchant else c.label(lang)

    if t == "single_choice":
        choices = [_Choice("", "—")] + [_Choice(c.key, choice_text(c)) for c in q.choices_for(market)]
        return SelectField(choices=choices, validate_choice=False, **kw)
    if t == "multi_choice":
        return SelectMultipleField(choices=[_Choice(c.key, choice_text(c)) for c in q.choices_for(market)],
                                   validate_choice=False, widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput(), **kw)
    if t == "yes_no":
        return RadioField(choices=[_Choice("yes", _("Yes")), _Choice("no", _("No"))], validate_choice=False, **kw)
    if t == "scale":
        lo, hi = int(q.min or 1), int(q.max or 5)
        return RadioField(choices=[_Choice(str(i), str(i)) for i in range(lo, hi + 1)], validate_choice=False, **kw)
    if t in ("number", "money"):
        kw["render_kw"]["step"] = "1" if q.integer else "any"
        if q.min is not None:
            kw["render_kw"]["min"] = q.min
        if q.max is not None:
            kw["render_kw"]["max"] = q.max
        kw["render_kw"]["inputmode"] = "numeric" if q.integer else "decimal"
        return StringField(widget=NumberInput(), **kw)
    if t == "date":
        if q.min:
            kw["render_kw"]["min"] = q.min
        if q.max:
            kw["render_kw"]["max"] = q.max
        return StringField(widget=DateInput(), **kw)
    own = _OWN_AUTOCOMPLETE.get(q.key) if source == "survey" else None
    if t == "email":
        kw["render_kw"].update(maxlength=254, autocomplete=own or "off")
        return StringField(widget=EmailInput(), **kw)
    if t == "phone":
        kw["render_kw"].update(maxlength=40, autocomplete=own or "off")
        return StringField(widget=TelInput(), **kw)
    maxlength = q.max_length or 200
    kw["render_kw"]["maxlength"] = maxlength
    if own:
        kw["render_kw"]["autocomplete"] = own
    if t == "text" and maxlength > 160:
        kw["render_kw"]["rows"] = 3
        return TextAreaField(**kw)
    return StringField(**kw)


def answers_form_class(schema: Any, market: str | None, lang: str, source: str = SOURCE) -> type[FlaskForm]:
    """The form class for a market and language from the questions `source` may answer: built once
    per process for each (schema, market, language, source) and reused (its fields' labels are
    translated when it is built, so the reader's locale is part of the key)."""
    from flask_babel import get_locale

    def build() -> type[FlaskForm]:
        attrs: dict[str, Any] = {}
        for q in questions_for(schema, market, source):
            attrs[field_name(q.key)] = _field(q, market, lang, source)
        return type("AnswersForm", (FlaskForm,), attrs)

    return _per_schema(schema, ("form", market, lang, source, str(get_locale())), build)


def answers_from_form(form: FlaskForm, schema: Any, market: str | None, source: str = SOURCE) -> dict[str, Any]:
    """What was filled in, as `{question: raw answer}` for the operations.

    Blank fields are left out (they say nothing). Values stay raw strings so the schema's
    validation, not the form, decides; money gets the market's currency unless typed.
    """
    answers: dict[str, Any] = {}
    for q in questions_for(schema, market, source):
        data = form[field_name(q.key)].data
        if q.type == "multi_choice":
            if data:
                answers[q.key] = list(data)
            continue
        if data is None or (isinstance(data, str) and not data.strip()):
            continue
        if q.type == "money" and currency_for(market):
            answers[q.key] = {"amount": data, "currency": currency_for(market)}
        elif q.type == "tax_id":
            answers[q.key] = {"kind": None, "number": data}
        else:
            answers[q.key] = data
    return answers


def currency_for(market: str | None) -> str | None:
    """The market's currency (from locales), in which the form asks for money; None without a market."""
    return market_currency(market)


def form_data(questions: list[Any], values: dict[str, Any], market: str | None) -> dict[str, Any]:
    """Stored answers as the form's widgets show them (the inverse of `answers_from_form`).

    Money in another currency than the market's is left out: the form only asks for an
    amount in the market's currency, and showing it there would change its meaning.
    """
    data: dict[str, Any] = {}
    for q in questions:
        v = values.get(q.key)
        if v is None:
            continue
        name = field_name(q.key)
        if q.type == "yes_no":
            data[name] = "yes" if v else "no"
        elif q.type == "multi_choice":
            data[name] = list(v) if isinstance(v, (list, tuple)) else [v]
        elif q.type == "money":
            if isinstance(v, dict) and v.get("currency") == currency_for(market) and v.get("amount") is not None:
                data[name] = str(v["amount"])
        elif q.type == "tax_id":
            data[name] = v.get("number") if isinstance(v, dict) else str(v)
        else:
            data[name] = str(v)
    return data


def form_groups(form: FlaskForm, schema: Any, questions: list[Any], market: str | None, lang: str,
                known: dict[str, Any], *, required: bool = False) -> list[tuple[str, list[dict[str, Any]]]]:
    """The form's fields grouped by facet, each with its skip-logic hint and whether it applies now.

    With `required`, each item also says whether the survey needs it (`survey_required`).
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for q in questions:
        groups.setdefault(q.facet, []).append(field_item(form, schema, q, market, lang, known, required=required))
    return [(facet, groups[facet]) for facet in schema.facets if facet in groups]


def field_item(form: FlaskForm, schema: Any, q: Any, market: str | None, lang: str, known: dict[str, Any], *,
               required: bool = False, merchant: bool = False) -> dict[str, Any]:
    """What `_field.html` needs to show one question.

    For the consultant (`merchant` false) the skip logic is a hint in words ("Only when: ...").
    For the merchant it is never text: the item carries the condition (`relevant`, read by
    static/survey.js from a data attribute) and `hidden` says whether it is hidden until answered.
    """
    from profile_schema import evaluate_condition

    state = evaluate_condition(q.relevant, known) if q.relevant else True
    return {
        "q": q, "field": form[field_name(q.key)],
        "hint": None if merchant else skip_hint(schema, q, lang),
        "skipped": bool(q.relevant) and state is False and not merchant,
        "relevant": q.relevant if merchant else None,
        "hidden": merchant and state is not True,
        "unit": currency_for(market) if q.type == "money" else None,
        "required": required and q.survey_required,
    }
