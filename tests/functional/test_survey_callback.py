""""Prefer to talk? Ask us to call you" on the merchant survey (/s/<token>), SQLite and PostgreSQL.

The block offers "now" and a few allowed times in the merchant's language and local time,
asks through the same operation as the API and the CLI (via survey, actor merchant), and
confirms when we will call; a "now" outside calling hours says when the call will come.
Bad input is named in the merchant's language and stores nothing; expired links stay 410;
a post without a CSRF token stores nothing.
"""
from __future__ import annotations

import html as htmllib
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from concierge.i18n import translations
from concierge.models import PlannedCall, PlannedCallEvent
from concierge.operations.planned_calls import local_moment
from tests.support import app_db as _db, csrf_from

# A Saturday evening and a Tuesday morning in Warsaw (no holidays), after today
SATURDAY_NIGHT = datetime(2027, 3, 6, 20, 0, tzinfo=timezone.utc)   # 21:00 in Warsaw
TUESDAY_MORNING = datetime(2027, 3, 9, 9, 30, tzinfo=timezone.utc)  # 10:30 in Warsaw


def make_shop(app, platform_id="pl-1", market="PL", name="Ceramika Zofii"):
    from concierge.operations.shops import ensure_shop

    with _db(app).session() as s:
        ensure_shop(s, platform_id, market, name=name)


def make_link(app, platform_id="pl-1", now=None, days=14):
    from concierge.operations.survey_links import create_link

    with _db(app).session() as s:
        created = create_link(s, platform_id, secret=app.config["SECRET_KEY"], created_by="test",
                              days=days, now=now)
        return created.token, created.link.id


def page(client, token, **query):
    r = client.get(f"/s/{token}", query_string=query)
    return r, r.get_data(as_text=True)


def calls(app) -> list[PlannedCall]:
    with _db(app).session() as s:
        rows = list(s.scalars(select(PlannedCall).order_by(PlannedCall.id)))
        s.expunge_all()
        return rows


def count(app, model) -> int:
    with _db(app).session() as s:
        return s.scalar(select(func.count()).select_from(model))


def offered(html: str) -> list[str]:
    block = html[html.index('id="callback"'):]
    return re.findall(r'name="at" value="([^"]+)"', block)


def labels(html: str) -> list[str]:
    block = html[html.index('id="callback"'):]
    found = re.findall(r'name="at" value="[^"]+"(?: checked)?> <span>([^<]+)</span>', block)
    return [htmllib.unescape(text) for text in found]


def ask(client, token, html, *, at="now", note="", origin="survey", lang=None, csrf=True):
    data = {"at": at, "note": note, "origin": origin}
    if csrf:
        data["csrf_token"] = csrf_from(html[html.index('id="callback"'):])
    return client.post(f"/s/{token}/callback" + (f"?lang={lang}" if lang else ""), data=data)


def t(lang: str, msgid: str, **params) -> str:
    """What the page says in `lang` (the English source until the catalogs translate it)."""
    text = translations(lang).gettext(msgid)
    return text % params if params else text


@pytest.fixture
def frozen(monkeypatch):
    """Let the audits operations see a chosen 'now' (the link itself uses the real clock)."""
    def freeze(moment: datetime) -> None:
        monkeypatch.setattr("concierge.operations.audits.utcnow", lambda: moment)
    return freeze


def test_the_block_offers_now_and_three_times_in_the_merchants_language_and_time(app, client, frozen):
    frozen(TUESDAY_MORNING)
    make_shop(app)
    token, _ = make_link(app)
    r, html = page(client, token)
    assert r.status_code == 200 and '<html lang="pl">' in html
    assert 'href="#callback"' in html and 'id="callback"' in html
    values = offered(html)
    assert values[0] == "now" and len(values) == 4
    slots = [datetime.fromisoformat(v) for v in values[1:]]
    assert all(s >= TUESDAY_MORNING for s in slots) and slots == sorted(slots)
    assert all(s.utcoffset() == timedelta(hours=1) for s in slots)  # Warsaw winter time, not UTC
    assert labels(html)[1:] == [local_moment(s, "pl", "PL") for s in slots]
    assert labels(html)[1] == "wtorek, 9 marca 2027 10:30"  # weekday, date and time in Polish
    # the same link in Turkish: the merchant's choice of language, still Warsaw's clock
    tr_html = page(client, token, lang="tr")[1]
    assert labels(tr_html)[1:] == [local_moment(s, "tr", "PL") for s in slots]
    assert count(app, PlannedCall) == 0  # showing the block stores nothing


def test_call_me_now_inside_calling_hours(app, client, frozen):
    frozen(TUESDAY_MORNING)
    make_shop(app)
    token, _ = make_link(app)
    html = page(client, token)[1]
    r = ask(client, token, html, at="now", note="Jak podłączyć BLIK?", lang="pl")
    assert r.status_code == 303 and r.location.endswith(f"/s/{token}/callback?lang=pl")
    [call] = calls(app)
    assert (call.kind, call.status) == ("callback", "planned")
    assert (call.requested_via, call.created_by) == ("survey", "merchant")
    assert call.scheduled_at == TUESDAY_MORNING and call.note == "Jak podłączyć BLIK?"
    done = client.get(r.location)
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and '<html lang="pl">' in body
    when = local_moment(TUESDAY_MORNING, "pl", "PL")
    assert when == "wtorek, 9 marca 2027 10:30"
    assert htmllib.unescape(t("pl", "We will call you on %(when)s (your time).", when=when)) in htmllib.unescape(body)
    assert 'class="callback-moved"' not in body  # it is calling time: no delay to explain
    assert "Jak podłączyć BLIK?" in body
    assert done.headers["Referrer-Policy"] == "no-referrer" and done.headers["Cache-Control"] == "no-store"


def test_call_me_now_outside_calling_hours_says_when_the_call_will_come(app, client, frozen):
    frozen(SATURDAY_NIGHT)
    make_shop(app)
    token, _ = make_link(app)
    r = ask(client, token, page(client, token)[1], at="now")
    assert r.status_code == 303
    [call] = calls(app)
    assert call.scheduled_at > SATURDAY_NIGHT + timedelta(hours=8)  # not tonight, not on Sunday
    local = call.scheduled_at.astimezone(timezone(timedelta(hours=1)))
    assert local.isoweekday() == 1 and local.hour >= 8  # Monday, in business hours
    body = htmllib.unescape(client.get(r.location).get_data(as_text=True))
    assert local_moment(call.scheduled_at, "pl", "PL") in body and "poniedziałek" in body
    assert t("pl", "It is outside our calling hours now, so this is the first moment we may call you.") in body


def test_a_picked_time_is_kept_and_a_second_request_moves_the_callback(app, client, frozen):
    frozen(TUESDAY_MORNING)
    make_shop(app)
    token, _ = make_link(app)
    html = page(client, token)[1]
    pick = offered(html)[2]
    r = ask(client, token, html, at=pick, lang="pl")
    assert r.status_code == 303
    [call] = calls(app)
    assert call.scheduled_at == datetime.fromisoformat(pick) and call.requested_via == "survey"
    body = htmllib.unescape(client.get(r.location).get_data(as_text=True))
    assert local_moment(datetime.fromisoformat(pick), "pl", "PL") in body and 'class="callback-moved"' not in body
    # the survey page now says it, and asking again moves the same call
    html = page(client, token)[1]
    assert 'class="callback-current"' in html and local_moment(datetime.fromisoformat(pick), "pl", "PL") in html
    assert ask(client, token, html, at="now").status_code == 303
    [moved] = calls(app)
    assert moved.id == call.id and moved.scheduled_at == TUESDAY_MORNING
    assert count(app, PlannedCallEvent) == 2


def test_bad_choice_and_long_note_are_named_in_the_merchants_language_and_nothing_is_stored(app, client, frozen):
    frozen(TUESDAY_MORNING)
    make_shop(app)
    token, _ = make_link(app)
    html = page(client, token)[1]
    note = "ż" * 501
    r = ask(client, token, html, at="2027-03-09T10:00:00", note=note, lang="pl")  # naive: tampered
    body = htmllib.unescape(r.get_data(as_text=True))
    assert r.status_code == 422 and '<html lang="pl">' in body
    assert t("pl", "Please choose “Call me now” or one of the times offered.") in body
    assert t("pl", "Your note is too long: please keep it to %(max)d characters.", max=500) in body
    assert note in body  # what they typed is kept
    assert 'name="owner__name"' in body  # the survey form is still there, below the block's errors
    assert count(app, PlannedCall) == 0 and count(app, PlannedCallEvent) == 0
    for at in ("", "soon", "2020-01-01T10:00:00+01:00", "2031-01-01T10:00:00+01:00"):
        r = ask(client, token, html, at=at)
        assert r.status_code == 422, at
        assert t("pl", "Please choose “Call me now” or one of the times offered.") in htmllib.unescape(
            r.get_data(as_text=True))
    assert count(app, PlannedCall) == 0


def test_the_thank_you_page_offers_the_call_again(app, client, frozen):
    frozen(TUESDAY_MORNING)
    make_shop(app)
    token, _ = make_link(app)
    r = client.get(f"/s/{token}/thanks")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="callback"' in html and 'name="origin" value="thanks"' in html
    assert len(offered(html)) == 4
    r = ask(client, token, html, at="bogus", origin="thanks")  # an error comes back on the thank-you page
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and 'class="card done"' in body and 'name="owner__name"' not in body
    assert ask(client, token, html, at=offered(html)[1], origin="thanks").status_code == 303
    assert len(calls(app)) == 1


def test_expired_and_revoked_links_stay_410_and_store_nothing(app, client):
    from concierge.operations.survey_links import revoke_link

    make_shop(app, "tr-1", "TR", name="Dükkan")
    token, _ = make_link(app, "tr-1", now=datetime.now(timezone.utc) - timedelta(days=3), days=2)
    for r in (client.post(f"/s/{token}/callback", data={"at": "now"}), client.get(f"/s/{token}/callback")):
        assert r.status_code == 410 and "Bu bağlantının süresi doldu" in r.get_data(as_text=True)
    make_shop(app)
    token, link_id = make_link(app)
    html = page(client, token)[1]
    with _db(app).session() as s:
        revoke_link(s, link_id)
    assert ask(client, token, html).status_code == 410
    assert client.post("/s/not-a-token/callback", data={"at": "now"}).status_code == 404
    assert count(app, PlannedCall) == 0


def test_a_post_without_csrf_stores_nothing_and_keeps_the_choice(app, client, frozen):
    frozen(TUESDAY_MORNING)
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    make_shop(app)
    token, _ = make_link(app)
    html = page(client, token)[1]
    pick = offered(html)[1]
    for extra in ({}, {"csrf_token": "forged"}):
        r = client.post(f"/s/{token}/callback", data={"at": pick, "note": "Zadzwońcie", **extra})
        body = htmllib.unescape(r.get_data(as_text=True))
        assert r.status_code == 400 and '<html lang="pl">' in body
        assert t("pl", "This page was open for a long time, so your request was not sent. "
                       "Please press the button again.") in body
        assert f'value="{pick}" checked' in body and "Zadzwońcie" in body and csrf_from(body)
    assert count(app, PlannedCall) == 0


def test_the_confirmation_without_a_callback_goes_back_to_the_survey(app, client):
    make_shop(app)
    token, _ = make_link(app)
    r = client.get(f"/s/{token}/callback")
    assert r.status_code == 303 and r.location.endswith(f"/s/{token}?lang=pl#callback")
