"""The consultant's web app through the Flask test client, on SQLite and PostgreSQL.

Logins and roles, CSRF, security headers, the shop list and page, the record form
(stored whole or not at all, errors in the user's language), the picture endpoints and
the API picture behind a bearer token.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.support import app_db as _db, csrf_from

PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def make_user(app, email="anna@example.com", role="consultant", language=None):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, email, password=PASSWORD, role=role, language=language, name=email.split("@")[0])


def make_shop(app, platform_id="pl-1", market="PL", name="Sklep Anny", answers=None, source="call",
              at=T0, actor="cons@example.com"):
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop

    with _db(app).session() as s:
        shop = ensure_shop(s, platform_id, market, name=name)
        if answers:
            record_answers(s, shop, answers, actor=actor, source=source, observed_at=at, now=at)


def observation_count(app) -> int:
    from concierge.models import Observation

    with _db(app).session() as s:
        return s.scalar(select(func.count(Observation.id)))


def login(client, email="anna@example.com", password=PASSWORD, headers=None):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       headers=headers or {})


# ---------------------------------------------------------------- logins and roles

def test_pages_need_a_login(client):
    for path in ("/", "/shops/pl-1", "/shops/pl-1/picture.svg", "/shops/pl-1/picture.png", "/users"):
        r = client.get(path)
        assert r.status_code == 302, path
        assert r.location.startswith("/login?next="), path


def test_wrong_password_and_unknown_email_are_refused(app, client):
    make_user(app)
    r = login(client, password="not the password")
    assert r.status_code == 401
    assert "Wrong e-mail or password." in r.get_data(as_text=True)
    r = login(client, email="nobody@example.com")
    assert r.status_code == 401
    assert client.get("/").status_code == 302  # still logged out


def test_login_then_home_and_next_stays_on_site(app, client):
    make_user(app)
    r = login(client)
    assert r.status_code == 302 and r.location == "/calls"  # a consultant starts with their calls
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login?next=//evil.example/x",
                    data={"email": "anna@example.com", "password": PASSWORD, "csrf_token": token})
    assert r.location == "/calls"  # an off-site next is ignored
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login?next=/users",
                    data={"email": "anna@example.com", "password": PASSWORD, "csrf_token": token})
    assert r.location == "/users"


def test_consultant_cannot_see_users_but_manager_can(app, client):
    make_user(app)
    make_user(app, "boss@example.com", role="manager")
    login(client)
    assert client.get("/users").status_code == 403
    assert "/users" not in client.get("/").get_data(as_text=True)  # no menu link either
    other = app.test_client()
    login(other, "boss@example.com")
    r = other.get("/users")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "anna@example.com" in body and "boss@example.com" in body
    assert PASSWORD not in body and "scrypt" not in body and "pbkdf2" not in body


def test_deactivated_user_is_logged_out(app, client):
    from concierge.models import User

    make_user(app)
    login(client)
    assert client.get("/").status_code == 200
    with _db(app).session() as s:
        s.scalar(select(User).where(User.email == "anna@example.com")).active = False
    assert client.get("/").status_code == 302


def test_logout_needs_post_with_token(app, client):
    make_user(app)
    login(client)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token: refused
    assert client.get("/").status_code == 200  # still logged in
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    assert client.get("/").status_code == 302


def test_csrf_rejects_form_posts_without_token(app, client):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    make_user(app)
    r = client.post("/login", data={"email": "anna@example.com", "password": PASSWORD})
    assert r.status_code == 400
    assert client.get("/").status_code == 302  # not logged in
    make_shop(app)
    login(client)
    before = observation_count(app)
    r = client.post("/shops/pl-1/answers", data={"owner__name": "Anna"})
    assert r.status_code == 400
    r = client.post("/shops/pl-1/answers", data={"owner__name": "Anna", "csrf_token": "forged"})
    assert r.status_code == 400
    assert observation_count(app) == before


def test_security_headers_and_cookie_flags(app, client):
    make_user(app)
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "<script" not in r.get_data(as_text=True) and " style=" not in r.get_data(as_text=True)
    r = login(client)
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").headers["Cache-Control"] == "private, no-store"


# ---------------------------------------------------------------- the shop list

def test_home_lists_shops_with_search_market_stage_and_escaping(app, client):
    make_user(app)
    make_shop(app, "tr-1", "TR", name="İstanbul Butik", answers={"readiness.store_details": "yes", "readiness.theme_published": "yes"})
    make_shop(app, "pl-1", "PL", name="Łódź <script>alert(1)</script>")
    make_shop(app, "in-1", "IN", name="Mumbai Spices")
    login(client)
    body = client.get("/").get_data(as_text=True)
    assert "İstanbul Butik" in body and "Mumbai Spices" in body
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body
    body = client.get("/?q=ISTANBUL").get_data(as_text=True)  # Turkish dotted İ folds to i
    assert "İstanbul Butik" in body and "Mumbai" not in body
    body = client.get("/?q=lodz").get_data(as_text=True)  # Łódź without the accents
    assert "Łódź" in body and "Butik" not in body
    body = client.get("/?market=IN").get_data(as_text=True)
    assert "Mumbai Spices" in body and "Butik" not in body
    body = client.get("/?stage=products").get_data(as_text=True)  # setting up done -> products
    assert "İstanbul Butik" in body and "Mumbai" not in body


def test_home_filters_by_outcome_consultant_and_score_sorts_and_pages(app, client):
    """The list reads the shop_state read model: outcome, consultant and score filters, three sorts."""
    from sqlalchemy import update

    from concierge.models import Call, ModelVersion, Score, Shop
    from concierge.operations.shop_state import refresh_states

    make_user(app)
    make_shop(app, "pl-1", "PL", name="Alfa")
    make_shop(app, "pl-2", "PL", name="Beta")
    make_shop(app, "pl-3", "PL", name="Gamma")
    with _db(app).session() as s:  # an outcome, two scores and a reached call, then the shops' rows
        ids = dict(s.execute(select(Shop.platform_id, Shop.id)).tuples().all())
        s.execute(update(Shop).where(Shop.id == ids["pl-1"]).values(outcome="converted", outcome_at=T0))
        model = ModelVersion(version="v-test", kind="test", artifact=b"", active=False)
        s.add(model)
        s.flush()
        s.add_all([Score(shop_id=ids["pl-1"], model_version_id=model.id, scored_at=T0, probability=0.2),
                   Score(shop_id=ids["pl-2"], model_version_id=model.id, scored_at=T0, probability=0.8),
                   Call(shop_id=ids["pl-3"], actor="ola@example.com", kind="onboarding", called_at=T0,
                        reached=True, outcome="reached")])
        refresh_states(s, ids.values())
    login(client)

    def names(query: str) -> list[str]:
        return re.findall(r"<strong>(\w+)</strong>", client.get(query).get_data(as_text=True))

    assert names("/") == ["Gamma", "Beta", "Alfa"]  # newest first
    assert names("/?outcome=converted") == ["Alfa"]
    assert names("/?outcome=open") == ["Gamma", "Beta"]
    assert names("/?consultant=ola@example.com") == ["Gamma"]
    assert names("/?score_min=50") == ["Beta"]
    assert names("/?score_min=10&score_max=30") == ["Alfa"]
    assert names("/?sort=score") == ["Beta", "Alfa", "Gamma"]  # unscored last
    assert names("/?sort=name") == ["Alfa", "Beta", "Gamma"]
    body = client.get("/?sort=score").get_data(as_text=True)
    assert "80 %" in body and "ola@example.com" in body
    assert names("/?sort=bogus&outcome=bogus&score_min=x") == ["Gamma", "Beta", "Alfa"]  # ignored, not a 500


# ---------------------------------------------------------------- the shop page

def _seed_history(app):
    """A call, then the trial shop reports something new and disagrees on the name."""
    from concierge.models import Call, Shop

    make_shop(app, "pl-1", "PL", name="Sklep Anny", answers={
        "owner.name": "Anna Nowak", "experience.sold_online_before": "no", "owner.hours_per_week": "10",
    }, at=T0)
    with _db(app).session() as s:  # the consultant reached the merchant (the call log, not just the answers)
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == "pl-1"))
        s.add(Call(shop_id=shop_id, actor="cons@example.com", kind="onboarding", called_at=T0, reached=True,
                   outcome="reached"))
    make_shop(app, "pl-1", "PL", answers={"owner.name": "Ania N.", "readiness.products_added": "yes"},
              source="trial", at=T0 + timedelta(days=2), actor="trial-platform")


def test_shop_page_shows_picture_changes_conflicts_and_provenance(app, client):
    make_user(app, language="en")
    _seed_history(app)
    login(client)
    r = client.get("/shops/pl-1")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert re.search(r'<img src="/shops/pl-1/picture.svg" alt="[^"]{20,}"', body)
    changes = body[body.index('id="changes-h"'):body.index('id="record-h"')]
    assert "Products added" in changes or "products" in changes.lower()  # new since the call
    assert "Hours a week" not in changes  # told on the call itself: not news
    conflicts = body[body.index('id="conflicts-h"'):body.index('id="record-h"')]
    assert "Anna Nowak" in conflicts and "Ania N." in conflicts
    facts = body[body.index('id="facts-h"'):]
    assert "cons@example.com" in facts and "trial-platform" in facts  # who said it
    assert "trial shop" in facts and "call" in facts  # which source
    assert "2026" in facts  # when


def test_shop_page_form_is_generated_from_the_schema(app, client):
    import profile_schema

    make_user(app, language="en")
    make_shop(app, "tr-1", "TR", name="Butik")
    login(client)
    body = client.get("/shops/tr-1").get_data(as_text=True)
    form = body[body.index('id="record-h"'):body.index('id="facts-h"')]
    schema = profile_schema.load_schema()
    for q in schema.questions.values():
        name = q.key.replace(".", "__")
        present = f'name="{name}"' in form
        assert present == ("call" in q.sources and q.applies_to("TR")), q.key
    assert '<select id="owner__language" name="owner__language">' in form
    assert 'type="checkbox"' in form and 'name="needs__help_with"' in form
    assert re.search(r'type="radio"[^>]*name="experience__sold_online_before"[^>]*value="yes"', form) or \
        re.search(r'name="experience__sold_online_before" type="radio" value="yes"', form)
    assert re.search(r'<input[^>]*max="100"[^>]*min="0"[^>]*name="owner__hours_per_week"[^>]*type="number"', form)
    assert 'name="business__planned_launch" type="date"' in form
    assert 'name="owner__email" type="email"' in form and 'name="owner__phone" type="tel"' in form
    assert re.search(r'maxlength="120"[^>]*name="owner__name"', form)
    assert "Only when: Has sold online before is Yes" in form  # skip logic as a hint
    assert 'name="owner__is_trader"' in form  # TR-only question shown for a Turkish shop
    assert 'name="readiness__ksef_ready"' not in form  # PL-only question is not


def test_record_form_stores_answers_through_the_operation(app, client):
    from concierge.models import Observation, Submission

    make_user(app)
    make_shop(app, "pl-1", "PL", name="Sklep")
    login(client)
    page = client.get("/shops/pl-1").get_data(as_text=True)
    r = client.post("/shops/pl-1/answers", data={
        "csrf_token": csrf_from(page), "owner__name": "Anna", "owner__hours_per_week": "12",
        "needs__help_with": ["payments", "shipping"], "experience__sold_online_before": "yes",
        "business__expected_monthly_turnover": "5000", "owner__language": "",
    })
    assert r.status_code == 302
    with _db(app).session() as s:
        rows = {o.question: o for o in s.scalars(select(Observation))}
        sub = s.scalars(select(Submission)).one()
    assert set(rows) == {"owner.name", "owner.hours_per_week", "needs.help_with",
                         "experience.sold_online_before", "business.expected_monthly_turnover"}
    assert rows["owner.hours_per_week"].value == 12
    assert rows["needs.help_with"].value == ["payments", "shipping"]
    assert rows["experience.sold_online_before"].value is True
    assert rows["business.expected_monthly_turnover"].value == {"amount": 5000, "currency": "PLN"}
    assert rows["owner.name"].actor == "anna@example.com" and rows["owner.name"].source == "call"
    assert sub.channel == "web"
    page = client.get(r.location).get_data(as_text=True)
    assert "Recorded 5 answers." in page or "Zapisano 5 odpowiedzi." in page


def test_record_form_errors_in_polish_and_nothing_stored(app, client):
    make_user(app, "jan@example.com", language="pl")
    make_shop(app, "pl-1", "PL", name="Sklep")
    login(client, "jan@example.com")
    page = client.get("/shops/pl-1").get_data(as_text=True)
    assert "Zapisz odpowiedzi" in page  # the page itself is Polish
    before = observation_count(app)
    r = client.post("/shops/pl-1/answers", data={
        "csrf_token": csrf_from(page), "owner__name": "Jan",  # valid, but must not be stored alone
        "owner__hours_per_week": "500", "owner__email": "not-an-email",
    })
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "Nic nie zapisano" in body
    assert "Godziny tygodniowo na sklep: może wynosić najwyżej 100" in body
    assert "nie jest poprawnym adresem e-mail" in body
    assert re.search(r'id="owner__hours_per_week-error">[^<]*najwyżej 100', body)
    assert 'aria-invalid="true"' in body
    assert 'value="500"' in body  # what was typed is kept for correcting
    assert observation_count(app) == before


def test_record_form_with_nothing_filled_stores_nothing(app, client):
    make_user(app)
    make_shop(app)
    login(client)
    page = client.get("/shops/pl-1").get_data(as_text=True)
    before = observation_count(app)
    r = client.post("/shops/pl-1/answers", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302
    assert observation_count(app) == before


def test_unknown_shop_is_404(app, client):
    make_user(app)
    login(client)
    assert client.get("/shops/nope").status_code == 404
    assert client.get("/shops/nope/picture.svg").status_code == 404


def test_broken_market_override_file_is_named_on_the_page_not_a_bare_500(app, client, tmp_path, monkeypatch):
    """A manager's typo in the override file: people see which file and field, not 'Internal Server Error'."""
    make_shop(app, "pl-1", "PL")
    make_user(app)
    login(client)
    assert client.get("/shops/pl-1").status_code == 200
    bad = tmp_path / "overrides.json"
    bad.write_text('{"PL": {"conversion": {"decision_window_days": "two months"}}}', encoding="utf-8")
    monkeypatch.setenv("CONCIERGE_MARKET_OVERRIDES", str(bad))
    r = client.get("/shops/pl-1")
    body = r.get_data(as_text=True)
    assert r.status_code == 503
    assert str(bad) in body and "decision_window_days" in body
    monkeypatch.delenv("CONCIERGE_MARKET_OVERRIDES")
    assert client.get("/shops/pl-1").status_code == 200  # fixed file, page back without a restart


# ---------------------------------------------------------------- language choice

def test_language_user_setting_then_market_then_accept_language(app, client):
    make_shop(app, "tr-1", "TR", name="Butik")
    make_shop(app, "in-1", "IN", name="Spices")
    make_user(app, "pl@example.com", language="pl")
    make_user(app, "none@example.com", language=None)
    c = app.test_client()
    login(c, "pl@example.com")
    assert "Zapisz odpowiedzi" in c.get("/shops/tr-1", headers={"Accept-Language": "en"}).get_data(as_text=True)
    c = app.test_client()
    login(c, "none@example.com")
    # no user setting: the Turkish shop's page is Turkish, whatever the browser says
    assert "Cevapları kaydet" in c.get("/shops/tr-1", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    # an Indian shop -> English
    assert "Record answers" in c.get("/shops/in-1", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    # no shop on the page: the browser's Accept-Language
    assert "Sklepy" in c.get("/", headers={"Accept-Language": "pl-PL,pl;q=0.9"}).get_data(as_text=True)
    assert "Mağazalar" in c.get("/", headers={"Accept-Language": "tr-TR"}).get_data(as_text=True)
    assert ">Shops<" in c.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)


# ---------------------------------------------------------------- pictures

def test_picture_svg_is_served_safely_and_escaped(app, client):
    make_user(app)
    make_shop(app, "pl-1", "PL", name="x", answers={"owner.name": "<script>alert(1)</script>"})
    login(client)
    r = client.get("/shops/pl-1/picture.svg")
    assert r.status_code == 200
    assert r.mimetype == "image/svg+xml"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    csp = r.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'") and "script-src" not in csp
    assert b"<script" not in r.data and b"&lt;script&gt;" in r.data
    etag = r.headers["ETag"]
    again = client.get("/shops/pl-1/picture.svg")
    assert again.headers["ETag"] == etag and again.data == r.data  # deterministic
    assert client.get("/shops/pl-1/picture.svg", headers={"If-None-Match": etag}).status_code == 304


def test_picture_png_and_language(app, client):
    make_user(app, language="tr")
    make_shop(app, "pl-1", "PL", name="x", answers={"owner.name": "Anna"})
    login(client)
    r = client.get("/shops/pl-1/picture.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    svg = client.get("/shops/pl-1/picture.svg").data
    assert b'lang="tr"' in svg  # the user's own language wins over the shop's market


def test_api_picture_needs_a_token(app, client):
    from concierge.operations.tokens import create_token

    make_shop(app, "tr-1", "TR", name="Butik", answers={"owner.name": "Ayşe"})
    r = client.get("/api/v1/shops/tr-1/picture.svg")
    assert r.status_code == 401 and r.is_json
    r = client.get("/api/v1/shops/tr-1/picture.svg", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    with _db(app).session() as s:
        _row, token = create_token(s, "crm")
    auth = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/v1/shops/tr-1/picture.svg", headers=auth)
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert b'lang="tr"' in r.data  # a Turkish shop, no language asked: Turkish
    assert b'lang="en"' in client.get("/api/v1/shops/tr-1/picture.svg?lang=en", headers=auth).data
    r = client.get("/api/v1/shops/tr-1/picture.png", headers=auth)
    assert r.status_code == 200 and r.data[:4] == b"\x89PNG"
    r = client.get("/api/v1/shops/nope/picture.svg", headers=auth)
    assert r.status_code == 404 and r.is_json


def _turkish_shop_and_token(app) -> dict[str, str]:
    """A Turkish shop tr-1 and an API token's Authorization header."""
    from concierge.operations.tokens import create_token

    make_shop(app, "tr-1", "TR", name="Butik", answers={"owner.name": "Ayşe"})
    with _db(app).session() as s:
        _row, token = create_token(s, "crm")
    auth = {"Authorization": f"Bearer {token}"}
    return auth


def test_api_picture_errors_speak_the_request_language(app, client):
    auth = _turkish_shop_and_token(app)
    lang_en = {"field": "lang", "code": "invalid_choice", "message": "lang: must be one of en, pl, tr, hi"}
    layout_en = {"field": "layout", "code": "invalid_layout", "message": "layout: must be wide or narrow"}
    for query, accept, expected in [
        # an unknown ?lang=: the error speaks Accept-Language's; the code and English text are as before
        ("picture.svg?lang=de", "pl", {**lang_en, "message": "lang: musi być jednym z: en, pl, tr, hi"}),
        ("picture.svg?lang=de", None, lang_en),
        # a bad layout: in the picture's language (asked for, else the market's)
        ("picture.png?layout=huge&lang=pl", None, {**layout_en, "message": "layout: musi mieć wartość wide lub narrow"}),
        ("picture.svg?layout=huge", None, {**layout_en, "message": "layout: wide ya da narrow olmalı"}),
        ("picture.svg?layout=huge&lang=en", "hi", layout_en),
    ]:
        r = client.get(f"/api/v1/shops/tr-1/{query}", headers={**auth, **({"Accept-Language": accept} if accept else {})})
        assert r.status_code == 422 and r.get_json()["errors"] == [expected], query


def test_api_no_active_model_in_the_request_language(app, client):
    auth = _turkish_shop_and_token(app)
    for r in (client.get("/api/v1/shops/tr-1/score?lang=tr", headers=auth),
              client.post("/api/v1/shops/tr-1/score?lang=tr", headers=auth)):  # the operations' own error
        assert r.status_code == 404
        assert r.get_json() == {"error": "not_found",
                                "message": "etkin model yok: önce `concierge model train` çalıştırın"}
    r = client.post("/api/v1/shops/tr-1/score", headers=auth)
    assert r.get_json()["message"] == "no active model: run `concierge model train` first"


def test_latest_score_and_its_reason_are_shown(app, client):
    from concierge.models import ModelVersion, Score, Shop

    make_user(app, language="en")
    make_shop(app, "pl-1", "PL", name="Sklep", answers={"owner.name": "Anna"})
    with _db(app).session() as s:
        shop = s.scalar(select(Shop))
        mv = ModelVersion(version="t1", kind="test", artifact=b"", active=True)
        s.add(mv)
        s.flush()
        s.add(Score(shop_id=shop.id, model_version_id=mv.id, probability=0.2, scored_at=T0,
                    details={"reasons": {"up": [], "down": [{"text": "old reason"}]}}))
        s.add(Score(shop_id=shop.id, model_version_id=mv.id, probability=0.734, scored_at=T0 + timedelta(days=1),
                    details={"reasons": {"up": [{"text": "Payments connected early"}], "down": []},
                             "fallback": None}))
        from concierge.operations.shop_state import refresh_states

        refresh_states(s, [shop.id])  # as operations.scoring.service does after storing scores: the list reads shop_state
    login(client)
    assert "73 %" in client.get("/").get_data(as_text=True)
    body = client.get("/shops/pl-1").get_data(as_text=True)
    assert "73 %" in body and "Payments connected early" in body and "old reason" not in body
    assert "rule of thumb" not in body
    svg = client.get("/shops/pl-1/picture.svg").get_data(as_text=True)
    assert "73" in svg


def test_password_change_ends_other_sessions(app, client):
    from werkzeug.security import generate_password_hash

    from concierge.models import User

    make_user(app)
    login(client)
    cookie = client.get_cookie("concierge_session").value
    assert "scrypt" not in cookie and "pbkdf2" not in cookie
    assert client.get("/").status_code == 200
    with _db(app).session() as s:
        s.scalar(select(User)).password_hash = generate_password_hash("a brand new password")
    assert client.get("/").status_code == 302


def test_session_lasts_a_working_day_not_a_month(app, client):
    make_user(app)
    r = login(client)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("concierge_session=")
    expires = re.search(r"Expires=([^;]+)", cookie).group(1)
    from email.utils import parsedate_to_datetime

    left = parsedate_to_datetime(expires) - datetime.now(timezone.utc)
    assert timedelta(hours=11) < left <= timedelta(hours=12, minutes=1)


def test_a_manager_starts_with_the_dashboard(app, client):
    make_user(app, email="mira@example.com", role="manager")
    r = login(client, email="mira@example.com")
    assert r.status_code == 302 and r.location == "/dashboard"


def test_saving_answers_is_not_a_call_so_changes_still_count_from_the_last_reached_call(app, client):
    from concierge.operations import pictures

    make_user(app, language="en")
    _seed_history(app)  # reached on T0
    make_shop(app, "pl-1", "PL", answers={"owner.hours_per_week": "12"}, at=T0 + timedelta(days=3))  # a form save
    with _db(app).session() as s:
        from concierge.models import Shop

        shop = s.scalar(select(Shop).where(Shop.platform_id == "pl-1"))
        assert pictures.last_call_at(s, shop) == T0
    login(client)
    body = client.get("/shops/pl-1").get_data(as_text=True)
    changes = body[body.index('id="changes-h"'):body.index('id="record-h"')]
    assert "Hours a week" in changes and "Products added" in changes
