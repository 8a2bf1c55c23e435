"""What happens next, on the merchant's survey pages (issue 16, item 4): who their consultant is,
when we plan to call, and a form to change the days, hours and channel they prefer.

`next_step_context(token, resolved)` is the ``next_step`` key the survey, thank-you and callback
pages pass to their templates (`_survey_next.html` draws it); it reads only. The form posts to
``/s/<token>/preferences`` (CSRF like every survey form, the same rate limit), which stores the
wishes through `operations.contact_preferences.set_preferences` and returns to the page it came
from; on a mistake that page is shown again with each field's reason and nothing stored.
"""
from __future__ import annotations

from typing import Any

from babel import Locale
from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

import profile_schema
from locales.formatting import babel_locale

from ..app import get_session
from ..errors import ValidationFailed
from ..operations.contact_preferences import CHANNEL_QUESTION, HOURS_QUESTION, WEEKDAYS, next_step, set_preferences
from ..operations.planned_calls import local_moment
from .helpers import current_lang, private_page

bp = Blueprint("survey_next", __name__)

#: Where the form may send the merchant back to (the page it was posted from).
ORIGINS = ("survey", "thanks", "callback")


bp.after_request(private_page)  # as the survey pages: the token is in the URL


def _day_names(lang: str, market: str) -> list[tuple[int, str]]:
    """(ISO weekday, its name in the merchant's language), Monday first."""
    names = Locale.parse(babel_locale(lang, market)).days["format"]["wide"]
    return [(d, names[d - 1]) for d in WEEKDAYS]


def next_step_context(token: str, resolved: Any, *, origin: str = "survey") -> dict[str, Any]:
    """The ``next_step`` template key: consultant, next call, the wishes and the form (reads only)."""
    session = get_session()
    shop = resolved.shop
    lang = current_lang()
    step = next_step(session, shop)
    prefs = step.preferences
    schema = profile_schema.load_schema()
    hours_q, channel_q = schema.questions[HOURS_QUESTION], schema.questions[CHANNEL_QUESTION]
    posted = g.get("survey_next_posted")  # the values and errors of a form that was refused
    values = posted["values"] if posted else {
        "days": [str(d) for d in (prefs.days or ())], "hours": prefs.hours or "any",
        "channel": prefs.channel or prefs.channels[0]}
    return {
        "consultant": step.consultant,
        "when": local_moment(step.call_at, lang, shop.market) if step.call_at is not None else None,
        "is_callback": step.call_is_callback,
        "action": url_for("survey_next.preferences", token=token, lang=lang),
        "origin": origin,
        "days": [(str(d), name) for d, name in _day_names(lang, shop.market)],
        "hours": [(k, hours_q.choice_label(k, lang)) for k in hours_q.choices],
        "channels": [(k, channel_q.choice_label(k, lang)) for k in prefs.channels],
        "chosen": values,
        "errors": posted["errors"] if posted else {},
    }


@bp.post("/s/<token>/preferences")
def preferences(token: str):
    """Store the merchant's preferred days, hours and channel, then back to the page they were on."""
    from . import survey as pages

    session = get_session()
    resolved = pages.resolve_link(session, token, secret=current_app.config["SECRET_KEY"])
    lang = pages._use_language(pages._language(resolved.link, resolved.shop.market))
    origin = request.form.get("origin") if request.form.get("origin") in ORIGINS else "survey"
    raw = {"days": request.form.getlist("days"), "hours": request.form.get("hours"),
           "channel": request.form.get("channel")}
    try:
        set_preferences(session, resolved.shop, raw, actor="merchant", via="survey", lang=lang)
    except ValidationFailed as exc:  # checked before anything is written: nothing stored
        g.survey_next_posted = {"values": {k: (v if k == "days" else (v or "")) for k, v in raw.items()},
                                "errors": {e["field"]: e["message"] for e in exc.errors}}
        if origin == "callback" and pages.open_callback(session, resolved.shop) is not None:
            return pages.callback_done(token), 422
        block = pages._callback_block(token, resolved, origin="thanks" if origin == "thanks" else "survey")
        return pages._callback_page(token, resolved, block, 422)
    flash(_("Thank you: we will call you at the times you prefer."))
    endpoint = {"survey": "survey.page", "thanks": "survey.thanks", "callback": "survey.callback_done"}[origin]
    return redirect(url_for(endpoint, token=token, lang=lang) + "#next", 303)
