"""The consultant's workday in the web app, on SQLite and PostgreSQL.

"My calls" (`GET /calls`), claiming from the page (`POST /calls/next`), the call screen
(`GET /calls/<id>`: agenda, tel: link, the merchant's time, warnings), saving answers as
JSON (`POST /calls/<id>/answers`: 200, 422 naming the field, 409 on a stale version),
each outcome from the form (`POST /calls/<id>/complete`), a lost claim (409), giving a
call back, and reading never writes. The app's clock is fixed with `app.config["CLOCK"]`.
"""
from __future__ import annotations

import html as htmllib
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from concierge.models import Call, ModelVersion, Observation, PlannedCall, Score, Shop
from tests.support import app_db as _db, csrf_from, table_dump

PASSWORD = "correct horse battery"
NOW = datetime(2027, 3, 9, 9, 30, tzinfo=timezone.utc)  # Tuesday, 10:30 in Warsaw
EVENING = datetime(2027, 3, 9, 19, 30, tzinfo=timezone.utc)  # Tuesday, 20:30 in Warsaw: no calls
WARSAW = ZoneInfo("Europe/Warsaw")
JSON = {"Accept": "application/json"}


class Clock:
    """The app's "now", moved by the test."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app):
    c = Clock(NOW)
    app.config["CLOCK"] = c
    return c


def login(app, client, email="anna@example.com", language="en", role="consultant", name="Anna"):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, email, password=PASSWORD, role=role, language=language, name=name)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    return csrf_from(client.get("/calls").get_data(as_text=True))  # the logged-in session's token


def make_shop(app, platform_id="pl-1", market="PL", name="Sklep Ani", phone="+48 601 234 567"):
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop

    with _db(app).session() as s:
        shop = ensure_shop(s, platform_id, market, name=name, trial_started_at=NOW - timedelta(days=6),
                           trial_ends_at=NOW + timedelta(days=24))
        answers = {"owner.name": "Anna Nowak", "readiness.store_details": "yes", "readiness.theme_published": "yes"}
        if phone:
            answers["owner.phone"] = phone
        record_answers(s, shop, answers, actor="cons@example.com", observed_at=NOW - timedelta(days=5),
                       now=NOW - timedelta(days=5))


def add_call(app, platform_id="pl-1", *, purpose="service", reason="inactive", scheduled=None, kind="audit"):
    """A due call as the planner stores it."""
    with _db(app).session() as s:
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == platform_id))
        call = PlannedCall(
            shop_id=shop_id, kind=kind, reason=reason, rule=reason, occurrence=reason, trigger="inactive",
            purpose=purpose, status="planned", open_key=f"{kind}:{reason}", due_from=NOW - timedelta(hours=1),
            due_until=NOW + timedelta(days=3), scheduled_at=scheduled or NOW - timedelta(minutes=5), language="pl",
            params={"date": (NOW - timedelta(days=5)).isoformat()},
            agenda=[{"code": "activity", "params": {}}, {"code": "checklist", "params": {"item": "readiness.products_added"}}],
            created_by="planner", created_at=NOW - timedelta(days=1), updated_at=NOW - timedelta(days=1))
        s.add(call)
        s.flush()
        return call.id


def claim(client, token) -> int:
    r = client.post("/calls/next", data={"csrf_token": token})
    assert r.status_code == 303, r.get_data(as_text=True)
    m = re.fullmatch(r"/calls/(\d+)", r.headers["Location"])
    assert m, r.headers["Location"]
    return int(m.group(1))


def holding_a_call(app, client) -> tuple[str, int]:
    """A Polish shop with a due call, the consultant logged in and holding it: (the session's CSRF token, the call's id)."""
    make_shop(app)
    add_call(app)
    token = login(app, client)
    return token, claim(client, token)


def page_text(client, path: str) -> str:
    r = client.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return htmllib.unescape(r.get_data(as_text=True))


def version_of(text: str) -> str:
    return re.search(r'name="version" value="(\d+)"', text).group(1)


def flashes(text: str) -> list[str]:
    return [htmllib.unescape(m) for m in re.findall(r'class="flash"[^>]*>([^<]*)<', text)]


def dump(app) -> dict[str, list[str]]:
    """Every row of every table."""
    return table_dump(_db(app))


def the_call(app, call_id) -> PlannedCall:
    with _db(app).session() as s:
        call = s.get(PlannedCall, call_id)
        s.expunge(call)
        return call


def observations(app, question=None) -> list[Observation]:
    with _db(app).session() as s:
        q = select(Observation).order_by(Observation.id)
        if question:
            q = q.where(Observation.question == question)
        rows = s.scalars(q).all()
        for r in rows:
            s.expunge(r)
        return rows


# ---------------------------------------------------------------- My calls and claiming

def test_my_calls_lists_the_queue_and_a_claim_opens_the_call_screen(app, client, clock):
    make_shop(app)
    cid = add_call(app)
    token = login(app, client)
    text = page_text(client, "/calls")
    assert "Claim my next call" in text and "You hold no calls" in text
    queue = text[text.index("Next in the queue"):]
    assert "Sklep Ani" in queue and "due now" in queue and "Europe/Warsaw" in queue
    assert claim(client, token) == cid
    call = the_call(app, cid)
    assert call.status == "claimed" and call.lease_until == NOW + timedelta(minutes=20) and call.token == 1
    text = page_text(client, "/calls")
    held = text[text.index("Calls you hold"):text.index("Next in the queue")]
    assert "Sklep Ani" in held and "No activity in the trial shop since" in held
    assert "until 10:50 (20 minutes left)" in held and "Europe/Warsaw" in held
    assert f'href="/calls/{cid}"' in held


def test_nothing_due_says_so(app, client, clock):
    make_shop(app)
    add_call(app, scheduled=NOW + timedelta(days=1))  # not due yet
    token = login(app, client)
    r = client.post("/calls/next", data={"csrf_token": token}, follow_redirects=True)
    assert r.status_code == 200 and r.request.path == "/calls"
    assert "Nothing is due that you can call now." in flashes(r.get_data(as_text=True))


def test_nothing_can_be_called_outside_calling_hours(app, client, clock):
    make_shop(app)
    add_call(app)
    clock.now = EVENING
    token = login(app, client)
    r = client.post("/calls/next", data={"csrf_token": token}, follow_redirects=True)
    assert "Nothing is due that you can call now." in flashes(r.get_data(as_text=True))
    assert the_call(app, 1).status == "planned"


def test_too_many_claims_in_the_users_language(app, client, clock):
    app.config["MAX_OPEN_CLAIMS"] = 1
    make_shop(app)
    make_shop(app, "pl-2", name="Sklep Bartka")
    add_call(app)
    add_call(app, "pl-2")
    token = login(app, client, language="pl")
    claim(client, token)
    r = client.post("/calls/next", data={"csrf_token": token}, follow_redirects=True)
    assert r.request.path == "/calls"
    assert "Masz już otwarte rozmowy (1): najpierw zakończ albo oddaj jedną z nich." in flashes(r.get_data(as_text=True))
    with _db(app).session() as s:
        assert s.scalar(select(PlannedCall.status).where(PlannedCall.id == 2)) == "planned"


def test_a_claim_without_csrf_is_refused_and_stores_nothing(app, client, clock):
    make_shop(app)
    add_call(app)
    login(app, client)
    before = dump(app)
    assert client.post("/calls/next", data={}).status_code == 400
    assert dump(app) == before


# ---------------------------------------------------------------- the call screen

def test_the_call_screen_shows_agenda_phone_and_the_merchants_time(app, client, clock):
    token, cid = holding_a_call(app, client)
    text = page_text(client, f"/calls/{cid}")
    assert "<h1>Sklep Ani</h1>" in text and "No activity in the trial shop since" in text
    agenda = text[text.index('class="agenda"'):]
    agenda = agenda[:agenda.index("</ol>")]
    assert "Ask what stopped them, and plan the next hour of work together" in agenda
    assert "Next on the launch checklist: Products added" in agenda
    assert '<a href="tel:+48601234567">+48 601 234 567</a>' in text
    assert "Their time now: Tuesday, 10:30" in text and "(Europe/Warsaw)" in text
    assert "call-warning" not in text
    assert "How did the call go?" in text and 'name="token" value="1"' in text
    assert 'src="/shops/pl-1/picture.svg?v=' in text
    # the guided interview: the launch checklist's next item first, known answers editable, the rest behind
    ask = text[text.index("Ask next"):text.index("Known answers")]
    assert ask.index("Products added") < ask.index("Preferred language")
    known = text[text.index("Known answers"):text.index("More questions")]
    assert 'value="Anna Nowak"' in known and "Store name and contact details set" in known
    assert "<summary>More questions" in text and "Platforms used" in text[text.index("More questions"):]
    timeline = text[text.index("What we know, newest first"):]
    assert "Owner's name" in timeline and "cons@example.com" in timeline and "4 Mar 2027, 10:30" in timeline


def test_a_warning_outside_calling_hours_and_without_consent(app, client, clock):
    make_shop(app)
    cid = add_call(app)
    sales = add_call(app, purpose="commercial", reason="offer")
    login(app, client)
    text = page_text(client, f"/calls/{cid}")
    assert "call-warning" not in text
    assert "This is a sales call" in page_text(client, f"/calls/{sales}")  # no marketing consent recorded
    clock.now = EVENING
    text = page_text(client, f"/calls/{cid}")
    assert "Their time now: Tuesday, 20:30" in text
    assert "Calling is not allowed now: it is outside the calling hours in Poland." in text
    assert "Next allowed: Wed 10 Mar, " in text


def test_no_phone_known(app, client, clock):
    make_shop(app, phone=None)
    cid = add_call(app)
    login(app, client)
    text = page_text(client, f"/calls/{cid}")
    assert "No phone number known yet." in text and "tel:" not in text


def test_a_call_someone_else_holds_is_read_only_for_a_manager(app, client, clock):
    make_shop(app)
    add_call(app)
    other = app.test_client()
    cid = claim(other, login(app, other, email="bob@example.com", name="Bob"))
    login(app, client, email="mia@example.com", role="manager", name="Mia")
    text = page_text(client, f"/calls/{cid}")
    assert "Bob holds this call: read-only." in text
    assert "How did the call go?" not in text and 'id="interview"' not in text and "Give back" not in text
    assert "Their time now: Tuesday, 10:30" in text and "Ask what stopped them" in text
    assert "What we know, newest first" in text


def test_an_unknown_call_is_404_and_anonymous_visitors_log_in(app, client, clock):
    assert client.get("/calls").status_code == 302
    assert client.get("/calls/1").status_code == 302
    login(app, client)
    assert client.get("/calls/999").status_code == 404


def test_reading_my_calls_and_the_call_screen_writes_nothing(app, client, clock):
    make_shop(app)
    cid = add_call(app)
    add_call(app, purpose="commercial", reason="offer")
    token = login(app, client)
    claim(client, token)
    before = dump(app)
    assert before["planned_call"] and before["observation"] and before["planned_call_event"]
    for path in ("/calls", f"/calls/{cid}", "/calls/2", "/shops/pl-1/picture.svg?v=5.0"):
        assert client.get(path).status_code == 200, path
    clock.now = EVENING  # the lease expired and calling is closed: still only reading
    for path in ("/calls", f"/calls/{cid}", "/calls/2"):
        assert client.get(path).status_code == 200, path
    assert dump(app) == before


# ---------------------------------------------------------------- saving answers

def test_saving_answers_returns_the_new_stage_and_picture(app, client, clock):
    token, cid = holding_a_call(app, client)
    text = page_text(client, f"/calls/{cid}")
    version = version_of(text)
    clock.now = NOW + timedelta(minutes=3)
    r = client.post(f"/calls/{cid}/answers", headers=JSON, data={
        "csrf_token": token, "version": version, "readiness__products_added": "yes",
        "owner__name": "Anna Nowak",  # as shown: not stored again
        "readiness__store_details": "yes"})
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    assert data["ok"] is True and data["saved"] == 1 and data["keys"] == ["readiness.products_added"]
    assert data["message"] == "Saved 1 answer."
    assert data["stage"] == "payments_shipping" and data["stage_label"] == "Payments and shipping"
    assert data["readiness"] == 30 and data["score"] is None
    assert data["picture_url"].startswith("/shops/pl-1/picture.svg?v=") and data["picture_url"] != \
        re.search(r'id="call-picture" src="([^"]+)"', text).group(1).replace("&amp;", "&")
    assert int(data["version"]) > int(version)
    assert 'name="version" value="%s"' % data["version"] in data["interview_html"]
    assert "Payments and shipping" in data["panel_html"] and "Products added" in data["timeline_html"]
    [row] = observations(app, "readiness.products_added")
    assert (row.value, row.source, row.actor, row.observed_at) == (True, "call", "anna@example.com",
                                                                   NOW + timedelta(minutes=3))
    assert len(observations(app, "owner.name")) == 1
    # the next page shows it as known
    assert 'name="version" value="%s"' % data["version"] in page_text(client, f"/calls/{cid}")


def test_the_latest_stored_score_comes_back_with_its_reasons_and_path(app, client, clock):
    token, cid = holding_a_call(app, client)
    with _db(app).session() as s:
        mv = ModelVersion(version="t1", kind="test", artifact=b"", active=False)
        s.add(mv)
        s.flush()
        s.add(Score(shop_id=1, model_version_id=mv.id, scored_at=NOW - timedelta(hours=1), probability=0.42,
                    details={"reasons": {"up": [{"text": "Products are being added"}],
                                         "down": [{"text": "No payments yet"}]},
                             "summary": "This trial: 42%, against a base rate of 20% for all trials",
                             "path": [{"text": "Connect payments", "action": "readiness.payments_connected"}]}))
    version = version_of(page_text(client, f"/calls/{cid}"))
    r = client.post(f"/calls/{cid}/answers", headers=JSON,
                    data={"csrf_token": token, "version": version, "readiness__products_added": "yes"})
    score = r.get_json()["score"]
    assert score["percent"] == 42 and score["path"] == ["Connect payments"]
    assert score["reasons"] == [{"direction": "up", "text": "Products are being added"},
                                {"direction": "down", "text": "No payments yet"}]
    assert "42 %" in r.get_json()["panel_html"] and "Connect payments" in r.get_json()["panel_html"]
    # the score against the base rate (issue 14), as stored
    assert score["summary"] == "This trial: 42%, against a base rate of 20% for all trials"
    assert "against a base rate of 20%" in r.get_json()["panel_html"]


def test_a_wrong_answer_names_the_field_and_stores_nothing(app, client, clock):
    make_shop(app)
    add_call(app)
    token = login(app, client, language="pl")
    cid = claim(client, token)
    version = version_of(page_text(client, f"/calls/{cid}"))
    before = dump(app)
    r = client.post(f"/calls/{cid}/answers", headers=JSON, data={
        "csrf_token": token, "version": version, "readiness__products_added": "yes",
        "owner__hours_per_week": "500"})
    assert r.status_code == 422
    data = r.get_json()
    assert data["ok"] is False and data["error"] == "validation_failed"
    [e] = data["errors"]
    assert (e["field"], e["name"]) == ("owner.hours_per_week", "owner__hours_per_week")
    import profile_schema

    label = profile_schema.load_schema().questions["owner.hours_per_week"].label("pl")
    assert e["message"].startswith(label) and "100" in e["message"]  # in the consultant's language
    assert dump(app) == before


def test_a_stale_version_is_409_with_what_changed_and_saving_again_applies_on_top(app, client, clock):
    from concierge.operations.observations import record_answers

    token, cid = holding_a_call(app, client)
    version = version_of(page_text(client, f"/calls/{cid}"))
    with _db(app).session() as s:  # a colleague corrects the name meanwhile
        record_answers(s, "pl-1", {"owner.name": "Anna Kowalska"}, actor="bob@example.com",
                       observed_at=NOW + timedelta(minutes=1), now=NOW + timedelta(minutes=1))
    before = dump(app)
    form = {"csrf_token": token, "version": version, "owner__name": "Anna Nowak",  # the page's (older) value
            "readiness__products_added": "yes"}
    r = client.post(f"/calls/{cid}/answers", headers=JSON, data=form)
    assert r.status_code == 409
    data = r.get_json()
    assert data["error"] == "changed_since" and "nothing was saved" in data["message"]
    [change] = data["changes"]
    assert (change["key"], change["label"], change["value"], change["actor"], change["source"]) == \
        ("owner.name", "Owner's name", "Anna Kowalska", "bob@example.com", "call")
    assert change["at"] == (NOW + timedelta(minutes=1)).isoformat()
    assert int(data["seen"]) > int(version) and data["version"] == int(version)
    assert dump(app) == before
    # saving again (the page now says it has seen the change) applies the consultant's answers on top
    r = client.post(f"/calls/{cid}/answers", headers=JSON, data={**form, "seen": data["seen"]})
    assert r.status_code == 200 and r.get_json()["keys"] == ["readiness.products_added"]
    with _db(app).session() as s:
        from concierge.operations.profiles import load_profile

        profile = load_profile(s, "pl-1")
        assert profile.value("owner.name") == "Anna Kowalska"  # untouched on the page: the colleague's stands
        assert profile.value("readiness.products_added") is True


def test_without_javascript_saving_answers_redirects_or_shows_the_page(app, client, clock):
    token, cid = holding_a_call(app, client)
    version = version_of(page_text(client, f"/calls/{cid}"))
    html_accept = {"Accept": "text/html"}
    r = client.post(f"/calls/{cid}/answers", headers=html_accept,
                    data={"csrf_token": token, "version": version, "owner__hours_per_week": "dużo"})
    assert r.status_code == 422 and 'id="owner__hours_per_week-error"' in r.get_data(as_text=True)
    r = client.post(f"/calls/{cid}/answers", headers=html_accept,
                    data={"csrf_token": token, "version": version, "owner__hours_per_week": "12"})
    assert r.status_code == 303 and r.headers["Location"] == f"/calls/{cid}"
    assert "Saved 1 answer." in flashes(page_text(client, f"/calls/{cid}"))
    # a stale page: 409, the change listed, the consultant's input kept, `seen` moved on
    r = client.post(f"/calls/{cid}/answers", headers=html_accept,
                    data={"csrf_token": token, "version": version, "readiness__products_added": "yes"})
    assert r.status_code == 409
    text = htmllib.unescape(r.get_data(as_text=True))
    assert "Changed since you opened this call" in text and "Hours a week for the shop" in text
    assert f'name="version" value="{version}"' in text and f'name="seen" value="{int(version) + 1}"' in text
    assert re.search(r'<input checked id="readiness__products_added-0"[^>]*value="yes">', text)
    assert not observations(app, "readiness.products_added")


def test_saving_without_a_csrf_token_is_json_and_stores_nothing(app, client, clock):
    token, cid = holding_a_call(app, client)
    before = dump(app)
    r = client.post(f"/calls/{cid}/answers", headers=JSON, data={"version": "1", "readiness__products_added": "yes"})
    assert r.status_code == 400 and r.get_json()["error"] == "csrf"
    assert dump(app) == before


# ---------------------------------------------------------------- outcomes

@pytest.mark.parametrize("outcome,status,flash", [
    ("reached", "done", "Reached (Sklep Ani): the call is done."),
    ("no_answer", "planned", "No answer (Sklep Ani): next attempt Tue 9 Mar, 12:36, merchant's time."),
    ("later", "planned", "Call later (Sklep Ani): planned for Wed 10 Mar, 15:00, merchant's time."),
    ("wrong_number", "done", "Wrong number (Sklep Ani): the call is done."),
    ("not_interested", "done", "Not interested (Sklep Ani): the call is done."),
    ("do_not_call", "done", "Do not call (Sklep Ani): the merchant will get no more sales calls."),
])
def test_each_outcome_from_the_form(app, client, clock, outcome, status, flash):
    token, cid = holding_a_call(app, client)
    assert 'value="%s"' % outcome in page_text(client, f"/calls/{cid}")
    clock.now = NOW + timedelta(minutes=6)
    form = {"csrf_token": token, "token": "1", "outcome": outcome, "note": "Rozmowa o produktach",
            "at": "2027-03-10T15:00"}  # the merchant's wall clock: 15:00 in Warsaw is 14:00 UTC
    r = client.post(f"/calls/{cid}/complete", data=form)
    assert r.status_code == 303 and r.headers["Location"] == "/calls"
    assert flashes(page_text(client, "/calls")) == [flash]
    call = the_call(app, cid)
    assert (call.status, call.outcome, call.owner_id, call.attempts) == (status, outcome, None, 1)
    if outcome == "no_answer":
        assert call.scheduled_at == datetime(2027, 3, 9, 11, 36, tzinfo=timezone.utc)  # 2 h later: 12:36 in Warsaw
    if outcome == "later":
        assert call.scheduled_at == datetime(2027, 3, 10, 14, 0, tzinfo=timezone.utc)
    with _db(app).session() as s:
        [attempt] = s.scalars(select(Call)).all()
        assert (attempt.outcome, attempt.note, attempt.actor, attempt.handling_seconds) == \
            (outcome, "Rozmowa o produktach", "anna@example.com", 360)
    consent = [o.value for o in observations(app, "owner.marketing_consent")]
    assert consent == ([False] if outcome == "do_not_call" else [])


def test_later_needs_a_time_in_the_future_and_stores_nothing_otherwise(app, client, clock):
    token, cid = holding_a_call(app, client)
    before = dump(app)
    form = {"csrf_token": token, "token": "1", "outcome": "later", "note": "Oddzwonić"}
    for at, message in (("", "Say when to call again (the merchant's time)."),
                        ("jutro", "The time to call again is not a date and time."),
                        ("2027-03-09T08:00", "The time to call again is in the past: pick a later time."),
                        ("2027-06-01T10:00", "The time to call again is too far ahead: pick a time within 30 days.")):
        r = client.post(f"/calls/{cid}/complete", data={**form, "at": at})
        assert r.status_code == 422, at
        text = htmllib.unescape(r.get_data(as_text=True))
        assert message in text and "Oddzwonić" in text  # the note typed is kept
    r = client.post(f"/calls/{cid}/complete", data={**form, "outcome": "maybe"})
    assert r.status_code == 422 and "Choose how the call went." in r.get_data(as_text=True)
    assert dump(app) == before


def test_a_lost_claim_is_409_and_stores_nothing(app, client, clock):
    token, cid = holding_a_call(app, client)
    before = dump(app)
    r = client.post(f"/calls/{cid}/complete", data={"csrf_token": token, "token": "7", "outcome": "reached",
                                                   "note": "Wszystko jasne"})
    assert r.status_code == 409
    text = htmllib.unescape(r.get_data(as_text=True))
    assert f"You no longer hold call {cid}" in text and "nothing was saved" in text
    assert dump(app) == before
    clock.now = NOW + timedelta(minutes=25)  # the lease ran out
    r = client.post(f"/calls/{cid}/complete", data={"csrf_token": token, "token": "1", "outcome": "reached",
                                                   "note": "Wszystko jasne"})
    assert r.status_code == 409
    text = htmllib.unescape(r.get_data(as_text=True))
    assert f"Your claim on call {cid} expired at 09:50 UTC" in text
    assert "Your note, not saved:" in text and "Wszystko jasne" in text and "How did the call go?" not in text
    assert dump(app) == before
    r = client.post(f"/calls/{cid}/release", data={"csrf_token": token, "token": "1"})
    assert r.status_code == 409 and dump(app) == before


def test_giving_a_call_back(app, client, clock):
    token, cid = holding_a_call(app, client)
    r = client.post(f"/calls/{cid}/release", data={"csrf_token": token, "token": "1"})
    assert r.status_code == 303 and r.headers["Location"] == "/calls"
    assert flashes(page_text(client, "/calls")) == ["Sklep Ani: given back; the call is in the queue again."]
    call = the_call(app, cid)
    assert (call.status, call.owner_id, call.lease_until) == ("planned", None, None)
