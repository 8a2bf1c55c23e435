"""Hindi for Indian merchants (issue 15, item 4): the survey page, the shop page and its picture
in Hindi, through the Flask client (SQLite and PostgreSQL).

An Indian merchant gets English or Hindi by choice: the browser's Hindi beats the market's
default (English), the switcher offers the market's two languages first. Every translated word
is Devanagari (no English fallback), and the pages and the picture bring the shipped Devanagari
font along, so a phone without one draws no boxes.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

from concierge.models import ModelVersion, Score

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery"
DEVANAGARI = re.compile("[\u0900-\u097f]")


def _db(app):
    return app.extensions["concierge.db"]


def make_indian_shop(app, platform_id="in-1"):
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop

    with _db(app).session() as s:
        shop = ensure_shop(s, platform_id, "IN", name="Shri Ganesh Handicrafts")
        record_answers(s, shop, {"owner.name": "प्रिया शर्मा", "business.type": "manufacturer",
                                 "business.category": "fashion", "readiness.payments_connected": True},
                       actor="cons@example.com", observed_at=T0, now=T0)


def make_link(app, platform_id="in-1"):
    from concierge.operations.survey_links import create_link

    with _db(app).session() as s:
        return create_link(s, platform_id, secret=app.config["SECRET_KEY"], created_by="test", days=14).token


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _translated_english(lang: str = "hi") -> set[str]:
    """The English of every schema label and ask whose Hindi differs (a brand name is the same)."""
    from profile_schema import load_schema

    words = set()
    for q in load_schema().questions.values():
        for table in (q.labels, q.asks, *(c.labels for c in q.choices.values()),
                      *(c.asks for c in q.choices.values() if c.asks)):
            if table and table.get("en") and table.get(lang) != table["en"] and len(table["en"]) > 3:
                words.add(table["en"])
    from locales import LANGUAGE_NAMES

    return words - set(LANGUAGE_NAMES.values())  # the switcher names each language in itself


def _leaked(text: str) -> list[str]:
    return sorted(w for w in _translated_english() if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text))


def test_an_indian_merchant_whose_browser_asks_for_hindi_gets_the_survey_in_hindi(app, client):
    make_indian_shop(app)
    token = make_link(app)
    html = client.get(f"/s/{token}", headers={"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="hi">' in html
    text = _visible_text(html)
    assert "आपका नाम क्या है?" in text and len(DEVANAGARI.findall(text)) > 300
    assert _leaked(text) == []  # no English fallback for a translated word
    from concierge import i18n

    catalog = i18n.translations("hi")
    for msgid in ("Questions about your shop", "Skip to content", "Shop survey"):
        assert msgid not in text and catalog.gettext(msgid) in html
    # the switcher: the market's languages first (English, Hindi), then the rest
    langs = re.findall(r'<a href="[^"]*lang=(\w+)" lang="\w+"', html)
    assert langs[:2] == ["en", "hi"] and set(langs) == {"en", "pl", "tr", "hi"}
    assert re.search(r'lang="hi" hreflang="hi" aria-current="page">हिन्दी</a>', html)


def test_without_hindi_in_the_browser_the_indian_survey_stays_english_and_the_merchant_can_switch(app, client):
    make_indian_shop(app)
    token = make_link(app)
    html = client.get(f"/s/{token}", headers={"Accept-Language": "en-IN,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "What is your name?" in html
    html = client.get(f"/s/{token}?lang=hi").get_data(as_text=True)
    assert '<html lang="hi">' in html and "आपका नाम क्या है?" in html
    # a Polish browser does not turn an Indian merchant's page Polish: India offers en and hi
    html = client.get(f"/s/{token}", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert '<html lang="en">' in html


def test_the_page_style_sheet_brings_the_shipped_devanagari_font(app, client):
    from renderers.text import font_paths

    css = client.get("/static/style.css").get_data(as_text=True)
    m = re.search(r'@font-face \{ font-family: "Lohit Devanagari"; src: url\("\.\./fonts/([\w-]+)\.ttf"\)', css)
    # first in the body's fonts: its unicode-range gives it Devanagari only (Latin stays with the
    # system fonts), and a bold heading no longer falls to a font without Devanagari (boxes)
    assert m and "U+0900-097F" in css and 'body { margin: 0; font-family: "Lohit Devanagari", system-ui' in css
    r = client.get(f"/fonts/{m.group(1)}.ttf")  # ../fonts from /static/ is /fonts/
    assert r.status_code == 200 and r.mimetype == "font/ttf"
    assert r.data == font_paths()["deva"].read_bytes()
    assert "max-age=31536000" in r.headers["Cache-Control"] and "public" in r.headers["Cache-Control"]
    assert client.get(f"/fonts/{m.group(1)}.ttf", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    assert client.get("/fonts/secret.ttf").status_code == 404
    assert client.get("/fonts/..%2Fconfig.ttf").status_code == 404
    assert "font-src 'self'" in client.get("/login").headers["Content-Security-Policy"]


def _login_consultant(app, client, language=None):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, "ravi@example.com", password=PASSWORD, role="consultant", language=language, name="Ravi")
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    assert client.post("/login", data={"email": "ravi@example.com", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302


def _score(app, platform_id="in-1"):
    from sqlalchemy import select

    from concierge.models import Shop

    with _db(app).session() as s:
        shop = s.scalar(select(Shop).where(Shop.platform_id == platform_id))
        mv = ModelVersion(version="t1", kind="test", artifact=b"", active=True)
        s.add(mv)
        s.flush()
        texts = {"hi": {"history": "9 पूरे ट्रायल से सीखा गया", "fallback": None,
                        "reasons": {"up": ["भुगतान जुड़े हुए: हाँ (संभावना 8 pp बढ़ाता है)"], "down": []},
                        "path": ["उत्पाद जोड़ना: संभावना 31% से बढ़कर 39% हो जाएगी"]}}
        s.add(Score(shop_id=shop.id, model_version_id=mv.id, probability=0.31, scored_at=T0, details={
            "lang": "hi", "history": texts["hi"]["history"], "fallback": None,
            "reasons": {"up": [{"factor": "readiness.payments_connected", "effect": 0.08,
                                "text": texts["hi"]["reasons"]["up"][0]}], "down": []},
            "path": [{"action": "readiness.products_added", "probability": 0.39, "gain": 0.08,
                      "text": texts["hi"]["path"][0]}], "texts": texts}))


def test_the_shop_page_and_its_picture_in_hindi(app, client):
    make_indian_shop(app)
    _score(app)
    _login_consultant(app, client)
    r = client.get("/shops/in-1", headers={"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.5"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '<html lang="hi">' in html
    text = _visible_text(html)
    assert len(DEVANAGARI.findall(text)) > 300 and "प्रिया शर्मा" in text
    assert "भुगतान जुड़े हुए: हाँ" in text  # the score's reasons in Hindi
    assert _leaked(text) == []
    assert "Payments connected" not in text and "Owner's name" not in text
    # the picture the page shows: Devanagari, with Lohit inside (an <img> loads no font from outside)
    src = re.search(r'<img src="([^"]+picture\.svg[^"]*)"', html).group(1)
    pic = client.get(src.replace("&amp;", "&"), headers={"Accept-Language": "hi"})
    assert pic.status_code == 200 and pic.mimetype == "image/svg+xml"
    svg = pic.get_data(as_text=True)
    assert 'lang="hi"' in svg and "शॉप" in svg and "@font-face{font-family:'Concierge Devanagari'" in svg
    csp = pic.headers["Content-Security-Policy"]
    assert "font-src data:" in csp and "default-src 'none'" in csp and "script-src" not in csp
    png = client.get(src.replace("picture.svg", "picture.png").replace("&amp;", "&"))
    assert png.status_code == 200 and png.data[:4] == b"\x89PNG"


def test_a_consultant_who_chose_english_reads_an_indian_shop_in_english(app, client):
    make_indian_shop(app)
    _login_consultant(app, client, language="en")
    html = client.get("/shops/in-1", headers={"Accept-Language": "hi"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    svg = client.get("/shops/in-1/picture.svg").get_data(as_text=True)
    assert 'lang="en"' in svg
