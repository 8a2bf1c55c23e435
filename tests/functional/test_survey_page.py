"""The merchant survey page /s/<token>, its API and CLI, through the Flask client (SQLite and PostgreSQL).

No login, the merchant's language, drafts that come back, submissions through the same
path as POST /api/v1/surveys, CSRF, and clear pages for expired, withdrawn and bad links.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from concierge.models import DeadLetter, Observation, Submission, SurveyLink
from tests.support import app_db as _db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery"

# everything a Polish merchant must answer (survey_required), as the form posts it
REQUIRED_PL = {
    "owner__name": "Zofia Kowalska", "owner__hours_per_week": "15", "experience__sold_online_before": "no",
    "experience__tech_comfort": "3", "needs__help_with": ["payments", "shipping"],
    "business__type": "handmade", "business__category": "crafts",
}


def make_shop(app, platform_id="pl-1", market="PL", name="Ceramika Zofii", answers=None):
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop

    with _db(app).session() as s:
        shop = ensure_shop(s, platform_id, market, name=name)
        if answers:
            record_answers(s, shop, answers, actor="cons@example.com", observed_at=T0, now=T0)


def make_link(app, platform_id="pl-1", now=None, days=14):
    from concierge.operations.survey_links import create_link

    with _db(app).session() as s:
        created = create_link(s, platform_id, secret=app.config["SECRET_KEY"], created_by="test",
                              days=days, now=now)
        return created.token, created.link.id


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def attempt_from(html: str) -> str:
    return re.search(r'name="attempt" value="([^"]+)"', html).group(1)


def page(client, token, **query):
    r = client.get(f"/s/{token}", query_string=query)
    return r, r.get_data(as_text=True)


def post(client, token, data, action="submit", html=None, lang=None):
    html = html if html is not None else page(client, token)[1]
    form = {"csrf_token": csrf_from(html), "attempt": attempt_from(html), "action": action, **data}
    return client.post(f"/s/{token}" + (f"?lang={lang}" if lang else ""), data=form)


_FIELD_RE = re.compile(r'<div class="field[^>]*?(\shidden)?>\s*<(?:fieldset|label)[^>]*?(?:id|for)="([a-z_]+)"')


def fields_on(html: str) -> dict[str, bool]:
    """Each question's field on the page -> shown (True) or sent hidden until its answer calls for it."""
    return {name: not hidden for hidden, name in _FIELD_RE.findall(html)}


def survey_observations(app, shop="pl-1"):
    from concierge.models import Shop

    with _db(app).session() as s:
        sid = s.scalar(select(Shop.id).where(Shop.platform_id == shop))
        return {o.question: o for o in s.scalars(select(Observation).where(
            Observation.shop_id == sid, Observation.source == "survey").order_by(Observation.id))}


def count(app, model):
    with _db(app).session() as s:
        return s.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------- the page

def test_page_needs_no_login_speaks_the_market_language_and_is_private(app, client):
    make_shop(app, name="Ceramika <b>Zofii</b>")
    token, _ = make_link(app)
    r, html = page(client, token)
    assert r.status_code == 200
    assert '<html lang="pl">' in html and "Pytania o Twój sklep" in html
    assert "Ceramika &lt;b&gt;Zofii&lt;/b&gt;" in html  # escaped
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert 'name="viewport"' in html and " style=" not in html
    # one script, our own static file (the CSP allows 'self' only), never inline code
    assert re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S) == [(' src="/static/survey.js" defer', "")]
    assert "script-src 'self';" in r.headers["Content-Security-Policy"]
    assert client.get("/static/survey.js").status_code == 200
    assert "/login" not in html and "Wyloguj" not in html  # nothing of the consultants' app
    # the survey's questions, and no consultant-only ones (readiness.theme_published is trial/call)
    assert 'name="owner__name"' in html and 'name="readiness__ksef_ready"' in html
    assert "readiness__theme_published" not in html and "owner__is_trader" not in html  # TR only
    # switchable: the same link in English, then Turkish
    assert "Questions about your shop" in page(client, token, lang="en")[1]
    assert '<html lang="tr">' in page(client, token, lang="tr")[1]
    assert '<html lang="pl">' in page(client, token, lang="de")[1]  # not ours: the market's


@pytest.mark.parametrize("market, lang, phrase", [("TR", "tr", "Mağazanız hakkında sorular"),
                                                  ("IN", "en", "Questions about your shop")])
def test_default_language_follows_the_market(app, client, market, lang, phrase):
    make_shop(app, f"{market.lower()}-1", market, name="Shop")
    token, _ = make_link(app, f"{market.lower()}-1")
    r, html = page(client, token)
    assert f'<html lang="{lang}">' in html and phrase in html
    r, html = page(client, token)  # a browser asking for Polish does not override the market
    assert f'<html lang="{lang}">' in client.get(f"/s/{token}", headers={"Accept-Language": "pl"}).get_data(as_text=True)


def test_happy_path_stores_observations_with_source_survey(app, client):
    make_shop(app)
    token, link_id = make_link(app)
    r = post(client, token, {**REQUIRED_PL, "owner__email": "zofia@example.com",
                             "business__expected_monthly_turnover": "8000,50"})
    assert r.status_code == 303 and r.location.endswith(f"/s/{token}/thanks?lang=pl")
    obs = survey_observations(app)
    assert obs["owner.name"].value == "Zofia Kowalska" and obs["owner.hours_per_week"].value == 15
    assert obs["experience.sold_online_before"].value is False
    assert obs["needs.help_with"].value == ["payments", "shipping"]
    assert obs["business.expected_monthly_turnover"].value == {"amount": 8000.5, "currency": "PLN"}
    assert {o.actor for o in obs.values()} == {"merchant"}
    with _db(app).session() as s:
        sub = s.scalars(select(Submission)).one()
        assert (sub.source, sub.channel, sub.actor) == ("survey", "survey_link", "merchant")
        assert sub.reference.startswith(f"link-{link_id}-")
        link = s.get(SurveyLink, link_id)
        assert link.submitted_at is not None and link.draft is None and link.language == "pl"
    thanks = client.get(r.location)
    assert thanks.status_code == 200 and "Dziękujemy!" in thanks.get_data(as_text=True)
    assert thanks.headers["Referrer-Policy"] == "no-referrer"


def test_invalid_answer_reshows_the_form_in_polish_with_the_values_and_stores_nothing(app, client):
    make_shop(app)
    token, link_id = make_link(app)
    r = post(client, token, {**REQUIRED_PL, "owner__hours_per_week": "500", "owner__phone": "12",
                             "needs__main_goal": "Sprzedawać <b>kubki</b>"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Twoje odpowiedzi nie zostały jeszcze wysłane" in html
    assert "Godziny tygodniowo na sklep: może wynosić najwyżej 100" in html  # the field and why, in Polish
    assert 'href="#owner__hours_per_week"' in html and 'id="owner__hours_per_week-error"' in html
    assert "Telefon:" in html
    assert 'value="500"' in html and 'value="Zofia Kowalska"' in html  # nothing typed is lost
    assert "Sprzedawać &lt;b&gt;kubki&lt;/b&gt;" in html and "<b>kubki" not in html
    assert re.search(r'value="payments"[^>]*checked|checked[^>]*value="payments"', html)
    assert survey_observations(app) == {} and count(app, Submission) == 0
    assert count(app, DeadLetter) == 0  # the merchant is right here to fix it; no dead letter
    with _db(app).session() as s:  # and the valid answers are kept as the draft
        draft = s.get(SurveyLink, link_id).draft
    assert draft["owner.name"] == "Zofia Kowalska" and "owner.hours_per_week" not in draft
    # corrected: stored
    r = post(client, token, {**REQUIRED_PL, "owner__hours_per_week": "50"}, html=html)
    assert r.status_code == 303
    assert survey_observations(app)["owner.hours_per_week"].value == 50


def test_required_questions_are_named_when_missing(app, client):
    make_shop(app, "tr-1", "TR", name="Çiçekçi")
    token, _ = make_link(app, "tr-1")
    r = post(client, token, {"owner__name": "Ayşe"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Mağazaya haftada ayrılan saat: zorunludur" in html  # the field and why, in Turkish
    assert "Yanıtlarınız henüz gönderilmedi" in html and 'value="Ayşe"' in html
    assert 'href="#business__category"' in html and 'href="#needs__help_with"' in html
    assert survey_observations(app, "tr-1") == {}


def test_draft_is_saved_partially_and_restored_when_the_link_is_opened_again(app, client):
    make_shop(app)
    token, link_id = make_link(app)
    r = post(client, token, {"owner__name": "Zofia", "owner__hours_per_week": "12",
                             "needs__help_with": ["legal"]}, action="save")
    assert r.status_code == 303 and r.location.endswith(f"/s/{token}?lang=pl")
    assert survey_observations(app) == {}  # a draft is not an answer yet
    other = app.test_client()  # another day, another browser: the same link
    r, html = page(other, token)
    assert 'value="Zofia"' in html and 'value="12"' in html
    assert re.search(r'value="legal"[^>]*checked|checked[^>]*value="legal"', html)
    assert "Wersja robocza zapisana" in html
    # an invalid answer in a draft: the rest is kept, the field says why
    r = post(other, token, {"owner__name": "Zofia K.", "owner__hours_per_week": "abc"}, action="save", html=html)
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "Zapisano, oprócz tych odpowiedzi" in body and 'value="abc"' in body
    with _db(app).session() as s:
        assert s.get(SurveyLink, link_id).draft == {"owner.name": "Zofia K."}


def test_skip_logic_is_applied_on_the_server(app, client):
    make_shop(app, answers={"experience.sold_online_before": "no"})
    token, _ = make_link(app)
    html = page(client, token)[1]
    fields = fields_on(html)
    assert fields["experience__platforms"] is False  # ruled out by what the profile knows: hidden
    assert fields["needs__preferred_call_time"] is False  # depends on an unanswered question: waits
    assert fields["needs__preferred_contact"] is True and fields["experience__sold_online_before"] is True
    # the condition is there for static/survey.js, never as words for the merchant
    assert "data-relevant='{\"equals\": true, \"question\": \"experience.sold_online_before\"}'" in html
    assert "Tylko gdy" not in html and "Only when" not in html and "Teraz nie dotyczy" not in html
    # answering a question the same form rules out: the answer is dropped, not stored, no error
    r = post(client, token, {**REQUIRED_PL, "needs__preferred_contact": "email",
                             "needs__preferred_call_time": "evening"})
    assert r.status_code == 303
    obs = survey_observations(app)
    assert obs["needs.preferred_contact"].value == "email" and "needs.preferred_call_time" not in obs
    # said yes now: the platforms question appears
    r = post(client, token, {**REQUIRED_PL, "experience__sold_online_before": "yes"})
    assert r.status_code == 303
    assert fields_on(page(client, token)[1])["experience__platforms"] is True


def test_prefilled_answers_and_reopening_makes_a_new_submission_of_what_changed(app, client):
    make_shop(app, answers={"owner.name": "Zofia Kowalska", "business.category": "crafts"})
    token, _ = make_link(app)
    html = page(client, token)[1]
    assert 'value="Zofia Kowalska"' in html
    assert re.search(r'<option selected value="crafts">|<option value="crafts" selected>', html)
    form = {k: v for k, v in REQUIRED_PL.items()}
    assert post(client, token, form, html=html).status_code == 303
    obs = survey_observations(app)
    assert "owner.name" not in obs and "business.category" not in obs  # unchanged: keeps its source (call)
    assert obs["owner.hours_per_week"].value == 15
    # reopened: the answers are there; a change is a new submission
    html = page(client, token)[1]
    assert 'value="15"' in html and "Wysłano Twoje odpowiedzi" in html
    assert post(client, token, {**form, "owner__hours_per_week": "20"}, html=html).status_code == 303
    with _db(app).session() as s:
        assert s.scalar(select(func.count(Submission.id)).where(Submission.source == "survey")) == 2
        hours = s.scalars(select(Observation.value).where(Observation.question == "owner.hours_per_week",
                                                           Observation.source == "survey")).all()
    assert hours == [15, 20]
    # nothing new: thanked, nothing stored
    before = count(app, Observation)
    assert post(client, token, {**form, "owner__hours_per_week": "20"}).status_code == 303
    assert count(app, Observation) == before


def test_a_double_tapped_submit_is_stored_once(app, client):
    make_shop(app)
    token, _ = make_link(app)
    html = page(client, token)[1]
    from concierge.operations import survey_links

    # the second tap arrives before the first one's answers are known to it: same attempt id
    with _db(app).session() as s:
        from concierge.operations.survey_links import resolve_link

        resolved = resolve_link(s, token, secret=app.config["SECRET_KEY"])
        raw = {"owner.name": "Zofia", "owner.hours_per_week": "15", "experience.sold_online_before": "no",
               "experience.tech_comfort": "3", "needs.help_with": ["payments"], "business.type": "handmade",
               "business.category": "crafts"}
        first = survey_links.submit_answers(s, resolved, raw, lang="pl", attempt=attempt_from(html))
        assert first.ok and first.accepted == 7
    assert post(client, token, REQUIRED_PL, html=html).status_code == 303  # same attempt, different answers
    with _db(app).session() as s:
        assert s.scalar(select(func.count(Submission.id))) == 1


def test_csrf_missing_or_forged_is_rejected_and_nothing_is_stored(app, client):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    make_shop(app)
    token, link_id = make_link(app)
    page(client, token)
    for extra in ({}, {"csrf_token": "forged"}):
        r = client.post(f"/s/{token}", data={**REQUIRED_PL, "action": "submit", **extra})
        assert r.status_code == 400
        html = r.get_data(as_text=True)
        assert "nic nie zostało zapisane" in html  # said in Polish, the form is back with its values
        assert 'value="Zofia Kowalska"' in html and csrf_from(html)
        r = client.post(f"/s/{token}", data={**REQUIRED_PL, "action": "save", **extra})
        assert r.status_code == 400
    assert count(app, Submission) == 0 and count(app, Observation) == 0
    with _db(app).session() as s:
        assert s.get(SurveyLink, link_id).draft is None


def test_expired_link_is_410_in_turkish_for_a_turkish_shop(app, client):
    make_shop(app, "tr-1", "TR", name="Çiçekçi")
    token, _ = make_link(app, "tr-1", now=datetime.now(timezone.utc) - timedelta(days=3), days=2)
    r = client.get(f"/s/{token}", headers={"Accept-Language": "en"})
    assert r.status_code == 410
    html = r.get_data(as_text=True)
    assert '<html lang="tr">' in html and "Bu bağlantının süresi doldu" in html
    assert "Traceback" not in html and r.headers["Referrer-Policy"] == "no-referrer"
    assert client.post(f"/s/{token}", data={"action": "submit"}).status_code == 410
    assert client.get(f"/s/{token}/thanks").status_code == 410


def test_bad_and_revoked_links(app, client):
    from concierge.operations.survey_links import revoke_link

    make_shop(app)
    token, link_id = make_link(app)
    for bad in (token[:-3] + "xyz", "nonsense", "a" * 2000):
        r = client.get(f"/s/{bad}", headers={"Accept-Language": "tr"})
        assert r.status_code == 404
        assert "Bu bağlantı çalışmıyor" in r.get_data(as_text=True)  # the browser's language: shop unknown
    assert "This link does not work" in client.get("/s/nonsense").get_data(as_text=True)
    with _db(app).session() as s:
        revoke_link(s, link_id)
    r = client.get(f"/s/{token}")
    assert r.status_code == 410 and "Ten link nie jest już aktywny" in r.get_data(as_text=True)


def test_a_link_from_another_server_secret_is_bad(app, client):
    from concierge.operations.survey_links import sign_link

    make_shop(app)
    _token, link_id = make_link(app)
    with _db(app).session() as s:
        link = s.get(SurveyLink, link_id)
        forged = sign_link("not-our-secret", shop="pl-1", link_id=link.id, nonce=link.nonce,
                           expires_at=link.expires_at, now=link.created_at)
    assert client.get(f"/s/{forged}").status_code == 404


# ---------------------------------------------------------------- creating links: web, API, CLI

def _login(app, client):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, "anna@example.com", password=PASSWORD, role="consultant", language="en", name="Anna")
    html = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "anna@example.com", "password": PASSWORD, "csrf_token": csrf_from(html)})


def test_consultant_creates_a_link_from_the_shop_page(app, client):
    make_shop(app)
    assert client.post("/shops/pl-1/survey-link").status_code in (302, 400)  # anonymous: no link
    assert count(app, SurveyLink) == 0
    _login(app, client)
    html = client.get("/shops/pl-1").get_data(as_text=True)
    assert 'action="/shops/pl-1/survey-link"' in html and "Create a survey link" in html
    r = client.post("/shops/pl-1/survey-link", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 201
    body = r.get_data(as_text=True)
    url = re.search(r'id="survey-url" type="text" readonly value="([^"]+)"', body).group(1)
    assert url.startswith("http://localhost/s/")
    assert r.headers["Referrer-Policy"] == "no-referrer" and "no-store" in r.headers["Cache-Control"]
    with _db(app).session() as s:
        link = s.scalars(select(SurveyLink)).one()
        assert link.created_by == "anna@example.com"
        assert (link.expires_at - link.created_at) == timedelta(days=14)
    assert client.post("/shops/pl-1/survey-link").status_code == 400  # CSRF still applies
    assert client.post("/shops/nope/survey-link", data={"csrf_token": csrf_from(html)}).status_code == 404
    # the merchant (another browser, no login) opens it
    assert app.test_client().get(url.replace("http://localhost", "")).status_code == 200


def test_public_base_url_and_days_come_from_config(app, client):
    app.config.update(PUBLIC_BASE_URL="https://survey.example.com/", SURVEY_LINK_MAX_AGE_DAYS=3)
    make_shop(app)
    _login(app, client)
    html = client.get("/shops/pl-1").get_data(as_text=True)
    assert "It works for 3 days." in html
    body = client.post("/shops/pl-1/survey-link", data={"csrf_token": csrf_from(html)}).get_data(as_text=True)
    assert 'value="https://survey.example.com/s/' in body
    with _db(app).session() as s:
        link = s.scalars(select(SurveyLink)).one()
    assert link.expires_at - link.created_at == timedelta(days=3)


@pytest.fixture
def api_token(app):
    from concierge.operations.tokens import create_token

    with _db(app).session() as s:
        return create_token(s, "crm")[1]


def test_api_creates_a_link(app, client, api_token):
    make_shop(app)
    auth = {"Authorization": f"Bearer {api_token}"}
    r = client.post("/api/v1/shops/pl-1/survey-links", headers=auth)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert set(body) == {"id", "shop", "url", "expires_at"} and body["shop"] == "pl-1"
    assert body["url"].startswith("http://localhost/s/")
    assert client.get(body["url"].replace("http://localhost", "")).status_code == 200
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=13, hours=23) < expires - datetime.now(timezone.utc) <= timedelta(days=14)
    r = client.post("/api/v1/shops/pl-1/survey-links", headers=auth, json={"days": 2})
    assert r.status_code == 201
    assert datetime.fromisoformat(r.get_json()["expires_at"]) - datetime.now(timezone.utc) <= timedelta(days=2)
    with _db(app).session() as s:
        assert {link.created_by for link in s.scalars(select(SurveyLink))} == {"api:crm"}


def test_api_refuses_unknown_shop_bad_days_and_no_token(app, client, api_token):
    make_shop(app)
    auth = {"Authorization": f"Bearer {api_token}"}
    r = client.post("/api/v1/shops/nope/survey-links", headers=auth)
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"
    r = client.post("/api/v1/shops/pl-1/survey-links", headers={**auth, "Accept-Language": "pl"}, json={"days": 500})
    assert r.status_code == 422
    assert r.get_json()["errors"][0]["field"] == "days"
    assert client.post("/api/v1/shops/pl-1/survey-links", headers=auth, data="{nope",
                       content_type="application/json").status_code == 400
    assert client.post("/api/v1/shops/pl-1/survey-links").status_code == 401
    assert count(app, SurveyLink) == 0


@pytest.fixture
def run(app, db_url):
    runner = CliRunner()
    env = {"CONCIERGE_DATABASE_URL": db_url, "CONCIERGE_SECRET_KEY": app.config["SECRET_KEY"],
           "CONCIERGE_PUBLIC_BASE_URL": "", "CONCIERGE_SURVEY_LINK_MAX_AGE_DAYS": ""}

    def invoke(*args):
        from concierge.cli import cli

        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)
    return invoke


def test_cli_creates_lists_and_revokes_links(app, client, run):
    make_shop(app)
    res = run("survey", "link", "pl-1", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == {"id", "shop", "url", "expires_at"}
    assert data["shop"] == "pl-1" and data["url"].startswith("http://127.0.0.1:5000/s/")
    token = data["url"].rsplit("/", 1)[1]
    assert client.get(f"/s/{token}").status_code == 200  # the app's secret signed it
    res = run("survey", "link", "pl-1", "--days", "3", "--base-url", "https://x.example/", "--json")
    data3 = json.loads(res.stdout)
    assert data3["url"].startswith("https://x.example/s/")
    expires = datetime.fromisoformat(data3["expires_at"])
    assert timedelta(days=2, hours=23) < expires - datetime.now(timezone.utc) <= timedelta(days=3)
    listed = json.loads(run("survey", "links", "pl-1", "--json").stdout)
    assert [r["id"] for r in listed] == [data3["id"], data["id"]] and {r["state"] for r in listed} == {"active"}
    assert token not in run("survey", "links", "pl-1").output
    res = run("survey", "revoke", str(data["id"]), "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["state"] == "revoked"
    assert client.get(f"/s/{token}").status_code == 410
    text = run("survey", "link", "pl-1").output
    assert "http://127.0.0.1:5000/s/" in text


def test_cli_refuses_unknown_shop_and_bad_days(app, run):
    make_shop(app)
    res = run("survey", "link", "nope", "--json")
    assert res.exit_code == 1 and json.loads(res.stdout)["error"] == "not_found"
    res = run("survey", "link", "pl-1", "--days", "0")
    assert res.exit_code == 1 and "days" in res.output
    assert run("survey", "revoke", "999").exit_code == 1
    assert count(app, SurveyLink) == 0


def test_leaving_the_page_autosaves_a_draft_quietly_with_csrf(app, client):
    """static/survey.js posts the form as a draft when the merchant leaves: 204, no page, no flash."""
    make_shop(app)
    token, link_id = make_link(app)
    html = page(client, token)[1]
    r = post(client, token, {"owner__hours_per_week": "12", "autosave": "1"}, action="save", html=html)
    assert r.status_code == 204 and r.get_data() == b""
    with _db(app).session() as s:
        assert s.get(SurveyLink, link_id).draft == {"owner.hours_per_week": 12}
    again = page(client, token)[1]
    assert 'value="12"' in again and "Zapisano." not in again  # no "Saved" message left for later
    # an invalid answer: the valid ones are kept, the bad one named for the script
    r = post(client, token, {"owner__name": "Zofia", "owner__hours_per_week": "abc", "autosave": "1"},
             action="save", html=again)
    assert r.status_code == 422 and r.get_json() == {"saved": ["owner.name"], "errors": ["owner.hours_per_week"]}
    # no CSRF token: nothing stored, as for the buttons
    r = client.post(f"/s/{token}", data={"action": "save", "autosave": "1", "owner__name": "Mallory"})
    assert r.status_code == 400
    with _db(app).session() as s:
        assert s.get(SurveyLink, link_id).draft == {"owner.name": "Zofia"}


def test_the_page_asks_first_what_it_does_not_know_and_shows_what_it_has(app, client):
    make_shop(app, answers={"owner.name": "Zofia Kowalska", "owner.phone": "601 234 567",
                            "business.category": "crafts"})
    token, _ = make_link(app)
    html = page(client, token)[1]
    ask = html[html.index('id="survey-ask"'):html.index('id="survey-have"')]
    have = html[html.index('id="survey-have"'):html.index('id="survey-more"')]
    start = html.index('id="survey-more"')
    more = html[start:html.index("</form>", start)]  # the survey's own form (the next-step form comes first)
    for name in ("owner__name", "owner__phone", "business__category"):
        assert f'name="{name}"' in have and f'name="{name}"' not in ask
    assert 'value="Zofia Kowalska"' in have and "To już wiemy" in html
    assert 'name="readiness__ksef_ready"' in ask and 'name="owner__email"' in more
    shown = [n for n, visible in fields_on(ask).items() if visible]
    assert 7 <= len(shown) <= 12
    assert f"Odpowiedzi: 0 z {len(shown)}" in html  # the progress, before any script runs
    # the merchant's own wording, never the consultant's
    assert "Czy masz już za sobą sprzedaż w internecie?" in html and "Sprzedawał(a) już w internecie" not in html
    assert ">Studiuję<" in html and "Student(ka)" not in html  # choices too, where the label says "they"
