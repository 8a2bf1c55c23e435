"""The shop page's read path (issue 13, serving under load), on SQLite and PostgreSQL.

The page reads the shop, its last reached call, kept snapshot, latest score and how many open
calls it has in one statement, and keeps per process what is the same for every shop (the answer
form's class and fields, dates and times as written); these tests pin that each page still shows
its own shop's figures, and that no kept value outlives what it was made from.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from locales import LANGUAGES

from tests.support import app_db as _db, csrf_from

PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def make_user(app, email="anna@example.com", role="consultant", language=None):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, email, password=PASSWORD, role=role, language=language, name=email.split("@")[0])


def make_shop(app, platform_id, market, name, answers=None):
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop

    with _db(app).session() as s:
        shop = ensure_shop(s, platform_id, market, name=name)
        if answers:
            record_answers(s, shop, answers, actor="cons@example.com", source="call", observed_at=T0, now=T0)


def login(client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"email": "anna@example.com", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302


def _score(s, shop_id: int, model_id: int, at: datetime, probability: float, reason: str) -> None:
    from concierge.models import Score

    s.add(Score(shop_id=shop_id, model_version_id=model_id, scored_at=at, probability=probability,
                details={"reasons": {"up": [{"text": reason}], "down": []}}))


def test_each_shop_page_shows_its_own_latest_score(app, client):
    """Scores of two shops interleaved in time: each page shows its shop's newest one, not the
    newest of all, and a shop never scored shows none."""
    from concierge.models import ModelVersion, Shop

    make_user(app, language="en")
    for pid in ("pl-1", "pl-2", "pl-3"):
        make_shop(app, pid, "PL", name=f"Sklep {pid}", answers={"owner.name": "Anna"})
    with _db(app).session() as s:
        ids = {shop.platform_id: shop.id for shop in s.scalars(select(Shop))}
        mv = ModelVersion(version="t1", kind="test", artifact=b"", active=True)
        s.add(mv)
        s.flush()
        _score(s, ids["pl-1"], mv.id, T0, 0.11, "first of one")
        _score(s, ids["pl-2"], mv.id, T0 + timedelta(days=1), 0.22, "first of two")
        _score(s, ids["pl-1"], mv.id, T0 + timedelta(days=2), 0.33, "newest of one")
        _score(s, ids["pl-2"], mv.id, T0 + timedelta(days=3), 0.44, "newest of two")  # the newest of all
    login(client)
    one = client.get("/shops/pl-1").get_data(as_text=True)
    assert "33 %" in one and "newest of one" in one
    assert "44 %" not in one and "newest of two" not in one and "first of one" not in one
    two = client.get("/shops/pl-2").get_data(as_text=True)
    assert "44 %" in two and "newest of two" in two and "first of two" not in two
    three = client.get("/shops/pl-3").get_data(as_text=True)
    stats = three[three.index('class="stats"'):three.index("</dl>")]
    assert "%" not in stats.split("Score", 1)[1].split("Outcome", 1)[0]  # no score: a dash
    assert "Score reason" not in three


def test_each_shop_page_shows_only_its_own_open_calls(app, client):
    """The callback of one shop is on its page (and counted for it), never on another's."""
    from concierge.operations.planned_calls import ask_for_callback

    make_user(app, language="en")
    make_shop(app, "pl-1", "PL", name="Sklep jeden")
    make_shop(app, "pl-2", "PL", name="Sklep dwa")
    with _db(app).session() as s:
        ask_for_callback(s, "pl-1", note="prosze o telefon", via="cli", actor="anna@example.com",
                         now=datetime.now(timezone.utc))
    login(client)
    one = client.get("/shops/pl-1").get_data(as_text=True)
    card = one[one.index('id="next-call-h"'):one.index('class="shop-grid"')]
    assert "No call planned" not in card and 'class="call-when"' in card
    two = client.get("/shops/pl-2").get_data(as_text=True)
    card = two[two.index('id="next-call-h"'):two.index('class="shop-grid"')]
    assert "No call planned" in card and 'class="call-when"' not in card


def test_an_unknown_shop_is_a_404_and_a_nul_in_its_id_a_400(app, client):
    make_user(app)
    login(client)
    assert client.get("/shops/pl-nope").status_code == 404
    assert client.get("/shops/pl%00x").status_code == 400


def test_the_answer_form_class_is_built_once_per_schema_market_and_language(app):
    """Reused while nothing it was built from changes; another market, language or schema object
    (a schema loaded anew) gets its own class."""
    import profile_schema
    from flask_babel import refresh

    from concierge.web.forms import answers_form_class

    schema = profile_schema.load_schema()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        pl = answers_form_class(schema, "PL", "en")
        assert answers_form_class(schema, "PL", "en") is pl
        assert answers_form_class(schema, "TR", "en") is not pl
        assert answers_form_class(schema, "PL", "en", source="survey") is not pl
        again = dataclasses.replace(schema)  # equal, but another object: as after a reload
        assert answers_form_class(again, "PL", "en") is not pl
        yes_en = [c for c in pl().__iter__() if c.type == "RadioField"][0].choices
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        refresh()
        pl_pl = answers_form_class(schema, "PL", "pl")
        assert pl_pl is not pl
        yes_pl = [c for c in pl_pl().__iter__() if c.type == "RadioField"][0].choices
    assert [str(c.label) for c in yes_en][:2] == ["Yes", "No"]
    assert [str(c.label) for c in yes_pl][:2] == ["Tak", "Nie"]


@pytest.mark.parametrize("market", ["PL", "TR", "IN", None])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_kept_dates_and_times_are_written_as_babel_writes_them(market, lang):
    """Every moment, across the day and both clock changes of the year, as `format_date` and
    `format_time` write it."""
    from locales.formatting import format_date, format_time

    from concierge.web.helpers import format_when

    start = datetime(2026, 3, 28, 0, 7, tzinfo=timezone.utc)
    moments = [start + timedelta(minutes=53 * i) for i in range(160)]
    moments += [datetime(2026, 10, 24, 22, 0, tzinfo=timezone.utc) + timedelta(minutes=37 * i) for i in range(120)]
    for at in moments:
        for _ in range(2):  # written, then kept
            assert format_when(at, market, lang=lang) == \
                f"{format_date(at, lang, market=market)}, {format_time(at, lang, market or 'UTC')}"


def test_a_changed_market_is_never_written_from_what_was_kept(monkeypatch):
    """A market file changed in a running process (another zone here): the next moment is written
    in the new zone, not read from the texts kept for the old market object."""
    import locales
    from locales import formatting

    from concierge.web.helpers import format_when

    at = datetime(2026, 6, 1, 10, 30, tzinfo=timezone.utc)
    assert format_when(at, "PL", lang="en").endswith("12:30")  # Warsaw, summer time
    moved = dataclasses.replace(locales.get_market("PL"), timezone="Asia/Tokyo")
    real = locales.get_market

    def get_market(code):
        return moved if str(code).upper() == "PL" else real(code)

    monkeypatch.setattr(locales, "get_market", get_market)
    monkeypatch.setattr(formatting, "get_market", get_market)
    assert format_when(at, "PL", lang="en").endswith("19:30")


def test_the_logged_in_user_may_still_be_changed_by_a_view(app, client):
    """The user read per request by one Core statement is the session's row: the language switch
    stores on it, and the next page is in that language."""
    from concierge.models import User

    make_user(app, language="en")
    make_shop(app, "pl-1", "PL", name="Sklep")
    login(client)
    page = client.get("/shops/pl-1").get_data(as_text=True)
    r = client.post("/language", data={"language": "tr", "next": "/shops/pl-1", "csrf_token": csrf_from(page)})
    assert r.status_code == 303
    with _db(app).session() as s:
        assert s.scalar(select(User.language)) == "tr"
    assert 'lang="tr"' in client.get("/shops/pl-1").get_data(as_text=True)
