"""The "record answers" form, generated from the interview schema (no question is typed here).

One field per question a consultant may answer on a call, with the widget its type needs.
WTForms only renders and carries the CSRF token; the schema's own validation (inside
`record_answers`) decides what is valid, so the form, the CLI and the API agree.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, DateInput, EmailInput, ListWidget, NumberInput, TelInput

SOURCE = "call"

try:  # WTForms >= 3.3 wants SelectChoice objects; older versions take (value, label) tuples
    from wtforms.fields.choices import SelectChoice as _Choice
except ImportError:  # pragma: no cover
    def _Choice(value: str, label: str):  # type: ignore[no-redef]
        return (value, label)


def field_name(key: str) -> str:
    """`owner.name` -> `owner__name`: a form field name that is also a Python identifier."""
    return key.replace(".", "__")


def call_questions(schema: Any, market: str | None) -> list[Any]:
    """The questions a consultant may answer on a call in this market, in schema order."""
    return [q for q in schema.questions.values() if SOURCE in q.sources and q.applies_to(market)]


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


_CURRENCY = {"PL": "PLN", "TR": "TRY", "IN": "INR"}


def _field(q: Any, market: str | None, lang: str):
    label = q.label(lang)
    kw: dict[str, Any] = {"label": label, "render_kw": {}}
    t = q.type
    if t == "single_choice":
        choices = [_Choice("", "—")] + [_Choice(c.key, c.label(lang)) for c in q.choices_for(market)]
        return SelectField(choices=choices, validate_choice=False, **kw)
    if t == "multi_choice":
        return SelectMultipleField(choices=[_Choice(c.key, c.label(lang)) for c in q.choices_for(market)],
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
    if t == "email":
        kw["render_kw"].update(maxlength=254, autocomplete="off")
        return StringField(widget=EmailInput(), **kw)
    if t == "phone":
        kw["render_kw"].update(maxlength=40, autocomplete="off")
        return StringField(widget=TelInput(), **kw)
    maxlength = q.max_length or 200
    kw["render_kw"]["maxlength"] = maxlength
    if t == "text" and maxlength > 160:
        kw["render_kw"]["rows"] = 3
        return TextAreaField(**kw)
    return StringField(**kw)


def answers_form_class(schema: Any, market: str | None, lang: str) -> type[FlaskForm]:
    """Build the form class for a market and language from the schema's call questions."""
    attrs: dict[str, Any] = {}
    for q in call_questions(schema, market):
        attrs[field_name(q.key)] = _field(q, market, lang)
    return type("AnswersForm", (FlaskForm,), attrs)


def answers_from_form(form: FlaskForm, schema: Any, market: str | None) -> dict[str, Any]:
    """What the consultant filled in, as `{question: raw answer}` for `record_answers`.

    Blank fields are left out (they say nothing). Values stay raw strings so the schema's
    validation, not the form, decides; money gets the market's currency unless typed.
    """
    answers: dict[str, Any] = {}
    for q in call_questions(schema, market):
        data = form[field_name(q.key)].data
        if q.type == "multi_choice":
            if data:
                answers[q.key] = list(data)
            continue
        if data is None or (isinstance(data, str) and not data.strip()):
            continue
        if q.type == "money" and _CURRENCY.get(market or ""):
            answers[q.key] = {"amount": data, "currency": _CURRENCY[market]}
        elif q.type == "tax_id":
            answers[q.key] = {"kind": None, "number": data}
        else:
            answers[q.key] = data
    return answers


def currency_for(market: str | None) -> str | None:
    return _CURRENCY.get(market or "")
