"""The consultant's own language, switched in the page header and stored per user (SQLite and PostgreSQL).

Separate from the shop's market: a Polish consultant reading a Turkish shop switches to
Polish and then sees Polish everywhere (the page, the picture, the score's reasons and
path), until they switch again. A POST with CSRF that returns to the page it came from.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select

from concierge.models import ModelVersion, Score, Shop, User
from tests.support import app_db as _db, csrf_from

PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def setup_shop_and_user(app, language=None):
    """A Turkish shop with a score stored in every language, and a consultant."""
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        shop = ensure_shop(s, "tr-1", "TR", name="İstanbul Butik")
        record_answers(s, shop, {"owner.name": "Ayşe"}, actor="cons@example.com", observed_at=T0, now=T0)
        mv = ModelVersion(version="t1", kind="test", artifact=b"", active=True)
        s.add(mv)
        s.flush()
        texts = {lang: {"history": h, "fallback": None, "reasons": {"up": [r], "down": []}, "path": [p]}
                 for lang, h, r, p in [
                     ("en", "Learned from 9 finished trials", "Payments connected: yes (raises the chance by 8.0 pp)",
                      "Add products: the chance would rise from 31% to 39%"),
                     ("pl", "Nauczony na 9 zakończonych okresach próbnych",
                      "Płatności podłączone: tak (podnosi szansę o 8,0 pp)", "Dodać produkty: szansa wzrosłaby z 31% do 39%"),
                     ("tr", "9 tamamlanmış denemeden öğrenildi", "Ödeme bağlı: evet (şansı 8,0 puan artırıyor)",
                      "Ürün eklemek: şans %31 seviyesinden %39 seviyesine çıkar")]}
        s.add(Score(shop_id=shop.id, model_version_id=mv.id, probability=0.31, scored_at=T0, details={
            "lang": "tr", "history": texts["tr"]["history"], "fallback": None,
            "reasons": {"up": [{"factor": "readiness.payments_connected", "effect": 0.08,
                                "text": texts["tr"]["reasons"]["up"][0]}], "down": []},
            "path": [{"action": "readiness.products_added", "probability": 0.39, "gain": 0.08,
                      "text": texts["tr"]["path"][0]}],
            "texts": texts}))
        create_user(s, "ola@example.com", password=PASSWORD, role="consultant", language=language, name="Ola")


def login(client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": "ola@example.com", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302


def user_language(app):
    with _db(app).session() as s:
        return s.scalar(select(User.language).where(User.email == "ola@example.com"))


def test_a_polish_consultant_switches_a_turkish_shop_to_polish_everywhere(app, client):
    setup_shop_and_user(app)
    login(client)
    page = client.get("/shops/tr-1").get_data(as_text=True)
    assert 'lang="tr"' in page and "Ödeme bağlı" in page  # no setting yet: the shop's market language
    assert 'action="/language"' in page
    for code, name in (("en", "English"), ("pl", "Polski"), ("tr", "Türkçe")):
        assert re.search(rf'name="language" value="{code}"[^>]*>{name}</button>', page), code
    r = client.post("/language", data={"csrf_token": csrf_from(page), "language": "pl", "next": "/shops/tr-1"})
    assert r.status_code == 303 and r.location == "/shops/tr-1"
    assert user_language(app) == "pl"
    page = client.get("/shops/tr-1").get_data(as_text=True)
    assert '<html lang="pl">' in page
    assert "Płatności podłączone: tak (podnosi szansę o 8,0 pp)" in page  # the score's reason
    assert "Dodać produkty: szansa wzrosłaby z 31% do 39%" in page  # and its path
    assert "Ödeme bağlı" not in page and "Ürün eklemek" not in page
    assert re.search(r'value="pl" lang="pl" class="link"\s+aria-pressed="true"', page)
    svg = client.get("/shops/tr-1/picture.svg").get_data(as_text=True)
    assert 'lang="pl"' in svg
    assert "Płatności podłączone" in svg or "szans" in svg
    assert '<html lang="pl">' in client.get("/").get_data(as_text=True)
    # and back to English, from the shop list; the stored score was never made again
    r = client.post("/language", data={"csrf_token": csrf_from(page), "language": "en", "next": "/?market=TR"})
    assert r.location == "/?market=TR" and user_language(app) == "en"
    assert "Payments connected: yes" in client.get("/shops/tr-1").get_data(as_text=True)
    with _db(app).session() as s:
        assert len(s.scalars(select(Score)).all()) == 1


def test_the_switch_needs_csrf_a_login_and_a_known_language_and_stays_on_this_site(app, client):
    setup_shop_and_user(app, language="tr")
    anonymous = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/language", data={"csrf_token": anonymous, "language": "pl"})
    assert r.status_code == 302 and r.location.startswith("/login")  # not logged in
    login(client)
    page = client.get("/").get_data(as_text=True)
    r = client.post("/language", data={"language": "pl", "next": "/"})  # no CSRF token
    assert r.status_code == 400 and user_language(app) == "tr"
    r = client.post("/language", data={"csrf_token": csrf_from(page), "language": "de"})
    assert r.status_code == 400 and user_language(app) == "tr"
    r = client.post("/language", data={"csrf_token": csrf_from(page), "language": "pl",
                                       "next": "//evil.example/x"})
    assert r.status_code == 303 and r.location == "/" and user_language(app) == "pl"
    r = client.post("/language", data={"csrf_token": csrf_from(page), "language": "tr",
                                       "next": "https://evil.example/x"})
    assert r.location == "/" and user_language(app) == "tr"


def test_a_page_answering_a_form_returns_to_the_page_the_form_was_on(app, client):
    setup_shop_and_user(app)
    login(client)
    page = client.get("/shops/tr-1").get_data(as_text=True)
    # a bad answer: the form comes back (422) from POST /shops/tr-1/answers
    r = client.post("/shops/tr-1/answers", data={"csrf_token": csrf_from(page), "owner__hours_per_week": "500"},
                    headers={"Referer": "http://localhost/shops/tr-1"})
    assert r.status_code == 422
    assert 'name="next" value="/shops/tr-1"' in r.get_data(as_text=True)
    with _db(app).session() as s:
        assert s.scalar(select(Shop.name).where(Shop.platform_id == "tr-1")) == "İstanbul Butik"
