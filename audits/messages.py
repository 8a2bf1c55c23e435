"""Every sentence the audits package gives a person, as gettext message ids.

The package is pure, so it does not load catalogs: it marks its English sentences with
``N_`` (which pybabel extracts into concierge's catalogs) and every function that
produces text takes the reader's ``gettext``. The shell passes the catalog of the
reader's language; tests may pass none and read English.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here."""
    return message


def _identity(message: str) -> str:
    return message


def render(template: str, params: Mapping[str, Any] | None = None, gettext: Gettext | None = None) -> str:
    """Translate ``template`` with the reader's ``gettext`` and fill its %(name)s slots."""
    text = (gettext or _identity)(template)
    return text % dict(params or {}) if params else text


#: Why a rule's file or a request was refused; each names the field (see AuditError).
ERRORS: dict[str, str] = {
    "rules.not_mapping": N_("%(field)s must be a mapping"),
    "rules.missing": N_("%(field)s is required"),
    "rules.unknown_kind": N_("%(field)s: %(value)s is not a call kind (expected one of %(expected)s)"),
    "rules.unknown_purpose": N_("%(field)s: %(value)s is not a call purpose (expected one of %(expected)s)"),
    "rules.unknown_trigger": N_("%(field)s: %(value)s is not a trigger type (expected one of %(expected)s)"),
    "rules.bad_number": N_("%(field)s must be a whole number from %(min)s to %(max)s, not %(value)s"),
    "rules.bad_share": N_("%(field)s must be a number from %(min)s to %(max)s, not %(value)s"),
    "rules.bad_window": N_("%(field)s must be {business_days: N} or {days: N} with N from 0 to 60, not %(value)s"),
    "rules.unknown_field": N_("%(field)s: unknown setting %(value)s (expected %(expected)s)"),
    "rules.duplicate_key": N_("%(field)s: the rule key %(value)s is used twice"),
    "rules.unknown_category": N_("%(field)s: %(value)s is not a feature category (expected one of %(expected)s)"),
    "request.unknown_market": N_("%(field)s: %(value)s is not a market (expected one of %(expected)s)"),
    "request.naive_time": N_("%(field)s must include a time zone offset, e.g. 2027-01-12T10:00:00+01:00"),
    "request.bad_time": N_("%(field)s is not a date and time: %(value)s"),
    "request.in_the_past": N_("%(field)s is in the past (%(value)s); pick a later moment"),
    "request.too_far": N_("%(field)s is more than %(days)s days ahead (%(value)s)"),
    "request.no_slot": N_("%(field)s: no allowed calling time in %(market)s from %(value)s within %(days)s days"),
    "request.consent": N_("%(field)s: this call needs the merchant's consent, which we do not have (%(law)s)"),
    "request.empty_reason": N_("%(field)s is required: say why, for the next consultant"),
    "request.too_long": N_("%(field)s is longer than %(max)s characters"),
    "request.not_open": N_("call %(call)s is %(status)s, so it cannot be %(action)s"),
}

#: Why a call was planned: one sentence per trigger type, filled with the firing's params.
REASONS: dict[str, str] = {
    "launched": N_("The shop opened on %(date)s: review its first orders"),
    "subscribed": N_("Year-round check-in, %(weeks)s weeks after subscribing"),
    "stage_stalled": N_("Stuck at '%(stage)s' since %(date)s"),
    "disconnected": N_("%(category)s disconnected on %(date)s"),
    "inactive": N_("No activity in the trial shop since %(date)s"),
    "score_drop": N_("Likelihood to subscribe fell by %(points)s points"),
    "survey_help": N_("Asked for help in the survey: %(topics)s"),
    "market_follow_up": N_("%(step)s"),
    "callback": N_("The merchant asked for a call"),
}

#: Why a planned call was withdrawn (kept with the call, for managers and the next consultant).
CANCEL_REASONS: dict[str, str] = {
    "condition_cleared": N_("No longer needed: what it was about has been resolved"),
    "subscribed": N_("No longer needed: the shop subscribed"),
    "shop_left": N_("No longer needed: the trial ended without a subscription"),
    "low_gain": N_("Dropped: the expected gain from a call is too small"),
    "consent_missing": N_("Dropped: the merchant's consent for this call is missing"),
    "do_not_call": N_("Dropped: the merchant asked not to be called"),
    "rule_removed": N_("Dropped: its rule was removed"),
    "personal_data_erased": N_("Dropped: the merchant's personal data was erased"),
    "manual": N_("Cancelled by %(actor)s: %(note)s"),
}

#: Agenda sentences: advice items for the call, filled with localised labels.
AGENDA: dict[str, str] = {
    "callback_note": N_("They asked: %(note)s"),
    "reconnect": N_("Reconnect %(category)s (%(providers)s)"),
    "integration": N_("Connect %(what)s: %(providers)s"),
    "checklist": N_("Next on the launch checklist: %(item)s"),
    "checklist_unknown": N_("Ask whether this is done: %(item)s"),
    "legal": N_("Legal: %(item)s"),
    "help": N_("Coach them on: %(topics)s"),
    "path": N_("On the path to subscribe: %(step)s"),
    "first_orders": N_("Review the first orders: delivery, payment and returns"),
    "monitoring": N_("Review the shop's sales and what to improve next"),
    "blocker": N_("Ask what is holding them back, and agree the next step"),
    "activity": N_("Ask what stopped them, and plan the next hour of work together"),
}

#: Statuses in which a call still waits to be made (claimed: a consultant is on it).
OPEN_STATUSES = ("planned", "snoozed", "claimed")

#: Status names as people read them.
STATUSES: dict[str, str] = {
    "planned": N_("planned"),
    "snoozed": N_("snoozed"),
    "held_out": N_("held out (not called)"),
    "cancelled": N_("cancelled"),
    "claimed": N_("claimed (a consultant is on it)"),
    "done": N_("done"),
}

#: Call kinds as people read them.
KINDS: dict[str, str] = {
    "audit": N_("Advice call"),
    "followup": N_("Follow-up call"),
    "callback": N_("Callback"),
}

#: Rule purposes as people read them (`concierge audits rules`): what consent a call needs.
PURPOSES: dict[str, str] = {
    "service": N_("service (about their own shop)"),
    "commercial": N_("commercial (needs consent where the law asks)"),
    "by_anchor": N_("set by each follow-up step"),
}


def error_text(code: str, params: Mapping[str, Any], gettext: Gettext | None = None) -> str:
    """The error ``code`` in the reader's language, with its field and value."""
    return render(ERRORS[code], params, gettext)
