"""Planned calls on the consultant's shop page and picture, and reading never writes (SQLite and PostgreSQL).

The shop page's "Next call" panel: kind, why, when in the merchant's local time with the
zone, status and agenda, then the shop's other open calls; "No call planned" when none.
The picture carries the next call as one line. A GET of the survey page, the shop page,
the picture or the API's list of calls leaves every row of every table as it was.
"""
from __future__ import annotations

import html as htmllib
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from concierge.models import PlannedCall, Shop
from concierge.operations.planned_calls import local_moment, short_moment
from tests.support import app_db as _db, csrf_from

PASSWORD = "correct horse battery"
NOW = datetime(2027, 3, 9, 9, 30, tzinfo=timezone.utc)  # a Tuesday, 10:30 in Warsaw


def login(app, client, email="anna@example.com", language="en"):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, email, password=PASSWORD, role="consultant", language=language, name="Anna")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302


def make_shop(app, platform_id="pl-1", market="PL"):
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop

    with _db(app).session() as s:
        shop = ensure_shop(s, platform_id, market, name="Sklep Ani", trial_started_at=NOW - timedelta(days=6),
                           trial_ends_at=NOW + timedelta(days=24))
        record_answers(s, shop, {"owner.name": "Anna Nowak", "readiness.store_details": "yes"},
                       actor="cons@example.com", observed_at=NOW - timedelta(days=5), now=NOW - timedelta(days=5))


def add_audit(app, reason, status, days, platform_id="pl-1"):
    """An audit call as the planner stores it (status planned, snoozed or cancelled)."""
    with _db(app).session() as s:
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == platform_id))
        s.add(PlannedCall(
            shop_id=shop_id, kind="audit", reason=reason, rule="quiet", occurrence=reason, trigger="inactive",
            purpose="service", status=status, open_key=None if status == "cancelled" else f"audit:{reason}",
            due_from=NOW, due_until=NOW + timedelta(days=10), scheduled_at=NOW + timedelta(days=days),
            params={"date": (NOW - timedelta(days=5)).isoformat()},
            agenda=[{"code": "activity", "params": {}}], created_by="planner", created_at=NOW, updated_at=NOW))


def ask_callback(app, note="Jak podłączyć BLIK?", platform_id="pl-1", at=None):
    from concierge.operations.audits import request_callback

    with _db(app).session() as s:
        return request_callback(s, platform_id, now=NOW, at=at, note=note, via="survey", actor="merchant").scheduled_at


def panel(html: str) -> str:
    start = html.index('class="card next-call"')
    return htmllib.unescape(html[start:html.index("</section>", start)])


def test_no_call_planned(app, client):
    make_shop(app)
    login(app, client)
    body = client.get("/shops/pl-1").get_data(as_text=True)
    assert "No call planned" in panel(body)


def test_the_callback_is_the_next_call_with_why_when_zone_status_and_agenda(app, client):
    make_shop(app)
    add_audit(app, "quiet-1", "planned", 2)
    add_audit(app, "quiet-2", "snoozed", 5)
    add_audit(app, "quiet-3", "cancelled", 1)
    when = ask_callback(app)
    login(app, client)
    r = client.get("/shops/pl-1")
    assert r.status_code == 200
    text = panel(r.get_data(as_text=True))
    head, others = text.split("Other open calls")
    assert "Callback" in head and "The merchant asked for a call" in head
    assert local_moment(when, "en", "PL") == "Tuesday, 9 March 2027, 10:30"
    assert "Tuesday, 9 March 2027, 10:30" in head and "Europe/Warsaw" in head and "planned" in head
    assert "<li>They asked: Jak podłączyć BLIK?</li>" in head  # the agenda, the merchant's words first
    assert others.count("<li>") == 2 and "Advice call" in others and "snoozed" in others
    assert local_moment(NOW + timedelta(days=2), "en", "PL") in others
    assert local_moment(NOW + timedelta(days=1), "en", "PL") not in others  # cancelled: not open


def test_the_panel_speaks_the_consultants_language(app, client):
    make_shop(app, "tr-1", "TR")
    when = ask_callback(app, platform_id="tr-1", note=None)
    login(app, client, language="pl")
    text = panel(client.get("/shops/tr-1").get_data(as_text=True))
    assert local_moment(when, "pl", "TR") in text and "Europe/Istanbul" in text
    assert local_moment(when, "pl", "PL") not in text  # Istanbul's clock (UTC+3), not Warsaw's
    assert re.search(r"(poniedziałek|wtorek|środa|czwartek|piątek|sobota|niedziela), \d+ marca 2027", text)


def test_the_picture_shows_the_next_call(app, client):
    from concierge.operations.tokens import create_token

    make_shop(app)
    when = ask_callback(app)
    login(app, client)
    svg = htmllib.unescape(client.get("/shops/pl-1/picture.svg").get_data(as_text=True))
    assert "Next call" in svg and short_moment(when, "en", "PL") == "Tue 9 Mar, 10:30"
    assert "Tue 9 Mar, 10:30 · The merchant asked for a call" in svg
    svg_pl = htmllib.unescape(client.get("/shops/pl-1/picture.svg?lang=pl").get_data(as_text=True))
    assert "Następna rozmowa" in svg_pl and short_moment(when, "pl", "PL") in svg_pl
    with _db(app).session() as s:
        _, token = create_token(s, "crm")
    png = client.get("/api/v1/shops/pl-1/picture.png", headers={"Authorization": f"Bearer {token}"})
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")


def test_no_next_call_leaves_the_picture_as_it_was(app, client):
    make_shop(app)
    login(app, client)
    svg = client.get("/shops/pl-1/picture.svg").get_data(as_text=True)
    assert "Next call" not in svg


# ---------------------------------------------------------------- reading never writes

def dump(app) -> dict[str, list[str]]:
    """Every row of every table (the API token's last use aside: authenticating records it)."""
    from concierge.db import Base

    out = {}
    with _db(app).engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = []
            for row in conn.execute(select(table)).mappings():
                items = {k: v for k, v in row.items() if not (table.name == "api_token" and k == "last_used_at")}
                rows.append(repr(sorted(items.items())))
            out[table.name] = sorted(rows)
    return out


def test_reading_pages_pictures_and_the_api_writes_nothing(app, client):
    from concierge.operations.audits import plan_calls
    from concierge.operations.survey_links import create_link
    from concierge.operations.tokens import create_token

    make_shop(app)
    with _db(app).session() as s:
        plan_calls(s, now=NOW)
    make_shop(app, "tr-1", "TR")  # never planned: its facts are folded on the fly, not stored
    add_audit(app, "quiet-1", "planned", 2)
    ask_callback(app)
    with _db(app).session() as s:
        token = create_link(s, "pl-1", secret=app.config["SECRET_KEY"], created_by="test").token
        tr_token = create_link(s, "tr-1", secret=app.config["SECRET_KEY"], created_by="test").token
        _, api = create_token(s, "crm")
    login(app, client)
    before = dump(app)
    assert before["planned_call"] and before["audit_state"] and before["survey_link"]
    auth = {"Authorization": f"Bearer {api}"}
    for path, headers in [
        (f"/s/{token}", {}), (f"/s/{token}?lang=tr", {}), (f"/s/{token}/thanks", {}), (f"/s/{token}/callback", {}),
        (f"/s/{tr_token}", {}), (f"/s/{tr_token}/callback", {}),
        ("/shops/pl-1", {}), ("/shops/tr-1", {}), ("/shops/pl-1/picture.svg", {}),
        ("/shops/pl-1/picture.png?layout=narrow", {}), ("/shops/tr-1/picture.svg", {}),
        ("/api/v1/shops/pl-1/calls", auth), ("/api/v1/shops/pl-1/calls?status=open", auth),
        ("/api/v1/shops/tr-1/calls", auth), ("/api/v1/shops/pl-1/picture.svg", auth),
    ]:
        r = client.get(path, headers=headers)
        assert r.status_code in (200, 303), (path, r.status_code)
    assert dump(app) == before
