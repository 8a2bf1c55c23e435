""""What happens next" on the merchant's survey pages (/s/<token>), SQLite and PostgreSQL.

The thank-you and callback pages name the consultant (first name) and when we plan to call, in
the merchant's language; the survey page gets the same block for its template. The preferences
form stores the days, hours and channel (WhatsApp only where the market uses it), the next
callback follows them, a bad post names every field and stores nothing, a post without CSRF
stores nothing, and opening any of these pages writes nothing (not even "started").
"""
from __future__ import annotations

import html as htmllib
import re

from flask import template_rendered
from sqlalchemy import func, select

import locales
from concierge.i18n import translations
from concierge.models import ContactPreference, Observation, PlannedCall, Submission, SurveyLink, User
from concierge.operations.planned_calls import local_moment

from .test_survey_callback import _db, csrf_from, make_link, make_shop


def _consultant(app, email="ayse@example.com", name="Ayşe Nur Demir"):
    with _db(app).session() as s:
        s.add(User(email=email, name=name, password_hash="x", role="consultant"))


def _link(app, platform_id, created_by):
    from concierge.operations.survey_links import create_link

    with _db(app).session() as s:
        return create_link(s, platform_id, secret=app.config["SECRET_KEY"], created_by=created_by, days=14).token


def _counts(app) -> tuple:
    with _db(app).session() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (
            ContactPreference, Observation, Submission, PlannedCall)) + (
            s.scalar(select(func.count()).select_from(SurveyLink).where(SurveyLink.started_at.is_not(None))),)


def _text(html: str) -> str:
    return htmllib.unescape(re.sub(r"\s+", " ", html))


def test_thanks_page_names_the_consultant_and_opening_writes_nothing(app, client):
    _consultant(app)
    make_shop(app, "tr-1", "TR", "Çiçekçi")
    token = _link(app, "tr-1", "ayse@example.com")
    before = _counts(app)
    t = translations("tr").gettext
    r = client.get(f"/s/{token}/thanks")
    page = _text(r.get_data(as_text=True))
    assert r.status_code == 200 and 'id="next"' in page
    assert t("Your onboarding consultant is %(name)s.") % {"name": "Ayşe"} in page
    assert t("No call is planned yet. If you would like to talk, ask us to call you.") in page
    assert 'value="whatsapp"' in page and ">WhatsApp<" in page  # Turkey uses WhatsApp
    assert "Perşembe" in page  # the days in the merchant's language
    client.get(f"/s/{token}")
    assert _counts(app) == before  # a GET stores nothing, and does not start the survey


def test_preferences_are_stored_and_the_callback_follows_them(app, client):
    make_shop(app, "tr-2", "TR", "Çiçekçi")
    token = _link(app, "tr-2", "someone@example.com")
    page = client.get(f"/s/{token}/thanks").get_data(as_text=True)
    assert "Your onboarding consultant will look at your answers." in _text(page) or 'id="next"' in page
    r = client.post(f"/s/{token}/preferences", data={
        "csrf_token": csrf_from(page), "origin": "thanks", "days": ["2", "4"], "hours": "morning",
        "channel": "whatsapp"})
    assert r.status_code == 303 and r.headers["Location"].split("#")[1] == "next"
    assert "/thanks" in r.headers["Location"]
    with _db(app).session() as s:
        row = s.get(ContactPreference, s.scalar(select(SurveyLink.shop_id)))
        assert row.days == "2,4" and row.updated_by == "merchant"
        answers = dict(s.execute(select(Observation.question, Observation.value)
                                 .where(Observation.question.like("needs.preferred_%"))).all())
        assert answers == {"needs.preferred_contact": "whatsapp", "needs.preferred_call_time": "morning"}
        assert s.scalar(select(Submission.channel)) == "preferences"
    # the form shows what is stored; a callback "now" lands on a Tuesday or Thursday morning, their time
    page = client.get(f"/s/{token}/thanks").get_data(as_text=True)
    assert re.search(r'name="days" value="2" checked', page) and re.search(r'name="days" value="4" checked', page)
    assert re.search(r'name="channel" value="whatsapp" checked', page)
    r = client.post(f"/s/{token}/callback", data={"csrf_token": csrf_from(page), "at": "now", "origin": "thanks"})
    assert r.status_code == 303
    with _db(app).session() as s:
        call = s.scalar(select(PlannedCall).where(PlannedCall.kind == "callback"))
        local = call.scheduled_at.astimezone(locales.get_market("TR").tz)
        assert local.isoweekday() in (2, 4) and 8 <= local.hour < 12, local
        when = local_moment(call.scheduled_at, "tr", "TR")
    page = _text(client.get(f"/s/{token}/thanks").get_data(as_text=True))
    assert translations("tr").gettext("We will call you on %(when)s (your time).") % {"when": when} in page


def test_bad_preferences_are_named_and_store_nothing(app, client):
    make_shop(app, "pl-1", "PL", "Ceramika")
    token, _ = make_link(app, "pl-1")
    page = client.get(f"/s/{token}/thanks").get_data(as_text=True)
    assert 'value="whatsapp"' not in page[page.index('id="next"'):]  # Poland: phone only
    before = _counts(app)
    r = client.post(f"/s/{token}/preferences", data={
        "csrf_token": csrf_from(page), "origin": "thanks", "days": ["9"], "hours": "night", "channel": "whatsapp"})
    body = _text(r.get_data(as_text=True))
    t = translations("pl").gettext
    assert r.status_code == 422
    assert t("We did not save your preferences. Please correct:") in body
    assert t("%(value)s is not a day of the week.") % {"value": "'9'"} in body
    assert t("Please choose the time of day that suits you.") in body
    assert t("Please choose how we should call you.") in body
    assert _counts(app) == before
    # without the CSRF token: refused, nothing stored
    r = client.post(f"/s/{token}/preferences", data={"origin": "thanks", "hours": "morning", "channel": "phone"})
    assert r.status_code == 400 and _counts(app) == before


def test_the_survey_and_callback_pages_get_the_block(app, client):
    _consultant(app, "jan@example.com", "Jan Kowalski")
    make_shop(app, "pl-2", "PL", "Ceramika")
    token = _link(app, "pl-2", "jan@example.com")
    seen = []

    def record(sender, template, context, **extra):
        seen.append((template.name, context.get("next_step")))

    with template_rendered.connected_to(record, app):
        page = client.get(f"/s/{token}").get_data(as_text=True)
        client.post(f"/s/{token}/callback", data={"csrf_token": csrf_from(page), "at": "now"})
        callback_page = client.get(f"/s/{token}/callback").get_data(as_text=True)
    steps = dict(seen)
    assert steps["survey.html"]["consultant"] == "Jan" and steps["survey.html"]["origin"] == "survey"
    assert steps["survey_callback.html"]["is_callback"] and steps["survey_callback.html"]["when"]
    assert "Jan" in callback_page and 'id="next"' in callback_page
