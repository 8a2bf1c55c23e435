"""Hostile input at every boundary, on SQLite and PostgreSQL (issue 13).

A table of payloads an attacker or a broken client sends: NUL characters and lone
surrogates anywhere, dates that overflow when made UTC, shop ids outside the alphabet,
bad paging and query parameters, a non-JSON Content-Type, `next=` with CR/LF. Each must
give a 4xx naming the field (never a 500), the same on both databases; the ingestion
channels (events webhook, survey API) keep a rejected body as exactly one dead letter,
however often it is sent.
"""
from __future__ import annotations

import copy
import json
import re

import pytest
from sqlalchemy import func, select

from concierge.models import DeadLetter, Observation, Shop, Submission, TrialEvent
from concierge.operations.shops import ensure_shop
from concierge.operations.tokens import create_token

PASSWORD = "correct horse battery"

START = {"id": "ev-1", "shop": "pl-9", "type": "trial_started", "occurred_at": "2026-03-02T10:00:00+01:00",
         "data": {"market": "PL", "shop_name": "Kwiatki", "trial_ends_at": "2026-03-16T10:00:00+01:00",
                  "owner": {"name": "Anna Nowak", "email": "anna@example.pl", "phone": "601 234 567"}}}
SURVEY = {"shop": "pl-1001", "language": "pl", "response_id": "r-1", "submitted_at": "2026-11-02T10:15:00+01:00",
          "answers": {"owner.name": "Anna Kowalska", "owner.phone": "601 234 567", "owner.hours_per_week": 15,
                      "experience.sold_online_before": True, "experience.tech_comfort": 3,
                      "needs.help_with": ["payments"], "business.type": "handmade", "business.category": "crafts",
                      "business.expected_monthly_turnover": {"amount": 8000.5, "currency": "PLN"}}}
EARLY = "0001-01-01T00:00:00+14:00"  # before year 1 once made UTC
LATE = "9999-12-31T23:59:59-12:00"  # after year 9999 once made UTC


def _db(app):
    return app.extensions["concierge.db"]


@pytest.fixture
def auth(app):
    with _db(app).session() as s:
        _, token = create_token(s, "hostile")
        ensure_shop(s, "pl-1001", "PL", name="Sklep")
    return {"Authorization": f"Bearer {token}"}


def _with(base: dict, path, value) -> dict:
    """A copy of `base` with `path` (dotted, or a tuple of keys) set to `value` ("!k": rename key k to value)."""
    body = copy.deepcopy(base)
    *parents, last = path.split(".") if isinstance(path, str) else path
    cur = body
    for p in parents:
        cur = cur[p]
    if last.startswith("!"):
        cur[value] = cur.pop(last[1:])
    else:
        cur[last] = value
    return body


def _dead_letters(app) -> int:
    with _db(app).session() as s:
        return s.scalar(select(func.count(DeadLetter.id)))


def _fields(resp) -> list[str]:
    body = resp.get_json(silent=True) or {}
    return [e.get("field") for e in body.get("errors") or []]


def test_the_bodies_the_table_spoils_are_accepted_as_they_are(app, client, auth):
    """So every refusal below is the hostile part's doing, not a flaw of the base body."""
    resp = client.post("/api/v1/events", data=json.dumps(START), headers=auth, content_type="application/json")
    assert resp.status_code == 201, resp.get_json()
    resp = client.post("/api/v1/surveys", data=json.dumps(SURVEY), headers=auth, content_type="application/json")
    assert resp.status_code == 201, resp.get_json()
    assert _dead_letters(app) == 0


# ------------------------------------------------------------ the ingestion channels
# (name, raw body or JSON value, field the answer must name)
EVENT_CASES = [
    ("nul in id", _with(START, "id", "ev\x001"), "id"),
    ("nul in shop", _with(START, "shop", "pl\x009"), "shop"),
    ("nul in type", _with(START, "type", "trial\x00started"), "type"),
    ("nul in a data value", _with(START, "data.shop_name", "Kwi\x00atki"), "data.shop_name"),
    ("nul in a nested value", _with(START, "data.owner.name", "Anna\x00"), "data.owner.name"),
    ("nul in a data key", _with(START, "data.!shop_name", "shop\x00name"), "data.shop\\u0000name"),
    ("lone surrogate in a name", _with(START, "data.shop_name", "Kwi\udc00"), "data.shop_name"),
    ("lone high surrogate in owner", _with(START, "data.owner.name", "\ud800x"), "data.owner.name"),
    ("occurred_at before year 1 in UTC", _with(START, "occurred_at", EARLY), "occurred_at"),
    ("occurred_at after year 9999 in UTC", _with(START, "occurred_at", LATE), "occurred_at"),
    ("trial_ends_at before year 1 in UTC", _with(START, "data.trial_ends_at", EARLY), "data.trial_ends_at"),
    ("trial_ends_at after year 9999 in UTC", _with(START, "data.trial_ends_at", LATE), "data.trial_ends_at"),
    ("shop id with a slash", _with(START, "shop", "a/b"), "shop"),
    ("shop id ..", _with(START, "shop", ".."), "shop"),
    ("shop id with a space", _with(START, "shop", "a b"), "shop"),
    ("shop id with a newline", _with(START, "shop", "a\nb"), "shop"),
    ("shop id with an emoji", _with(START, "shop", "shop-\U0001f6d2"), "shop"),
    ("a NUL as the whole body", "\"\\u0000\"", ""),
]


@pytest.mark.parametrize("name,body,field", EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
def test_hostile_event_is_refused_naming_the_field_and_dead_lettered_once(app, client, auth, name, body, field):
    raw = body if isinstance(body, str) else json.dumps(body)
    for _ in range(2):  # a retrying sender: the same bad body twice
        resp = client.post("/api/v1/events", data=raw, headers=auth, content_type="application/json")
        assert 400 <= resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True))
        assert field in _fields(resp), resp.get_json()
    assert _dead_letters(app) == 1
    with _db(app).session() as s:
        assert s.scalar(select(func.count(TrialEvent.id))) == 0
        letter = s.scalar(select(DeadLetter))
        assert letter.context["repeats"] == 1 and len(letter.context["payload_sha256"]) == 64
        assert "\x00" not in letter.payload and "\x00" not in json.dumps(letter.errors, ensure_ascii=False)


SURVEY_CASES = [
    ("nul in shop", _with(SURVEY, "shop", "pl-1001\x00"), "shop"),
    ("nul in response_id", _with(SURVEY, "response_id", "r\x001"), "response_id"),
    ("nul in phone", _with(SURVEY, ("answers", "owner.phone"), "601\x00234567"), "answers.owner.phone"),
    ("nul in an answer key", _with(SURVEY, ("answers", "!owner.name"), "owner.\x00name"), "answers.owner.\\u0000name"),
    ("nul in currency", _with(SURVEY, ("answers", "business.expected_monthly_turnover"),
                              {"amount": 10, "currency": "PL\x00"}),
     "answers.business.expected_monthly_turnover.currency"),
    ("lone surrogate in a name", _with(SURVEY, ("answers", "owner.name"), "Anna \udc00"), "answers.owner.name"),
    ("submitted_at before year 1 in UTC", _with(SURVEY, "submitted_at", EARLY), "submitted_at"),
    ("submitted_at after year 9999 in UTC", _with(SURVEY, "submitted_at", LATE), "submitted_at"),
    ("a NUL as the whole body", "\"\\u0000\"", ""),
]


@pytest.mark.parametrize("name,body,field", SURVEY_CASES, ids=[c[0] for c in SURVEY_CASES])
def test_hostile_survey_is_refused_naming_the_field_and_dead_lettered_once(app, client, auth, name, body, field):
    raw = body if isinstance(body, str) else json.dumps(body)
    for _ in range(2):
        resp = client.post("/api/v1/surveys", data=raw, headers=auth, content_type="application/json")
        assert 400 <= resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True))
        assert field in _fields(resp), resp.get_json()
    assert _dead_letters(app) == 1
    with _db(app).session() as s:
        assert s.scalar(select(func.count(Submission.id))) == 0
        assert s.scalar(select(func.count(Observation.id))) == 0


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/surveys"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/html"])
def test_a_json_endpoint_refuses_another_content_type_with_415(app, client, auth, path, content_type):
    body = START if path.endswith("events") else SURVEY
    for _ in range(2):
        resp = client.post(path, data=json.dumps(body), headers=auth, content_type=content_type)
        assert resp.status_code == 415, resp.get_data(as_text=True)
        assert "Content-Type" in _fields(resp)
    assert _dead_letters(app) == 1  # kept, once, for replay by someone who knows better
    with _db(app).session() as s:
        assert s.scalar(select(DeadLetter.payload)) == json.dumps(body)  # the body as sent, not lost


def test_json_bodies_of_other_api_routes_refuse_another_content_type_and_nul(app, client, auth):
    url = "/api/v1/shops/pl-1001/survey-links"
    resp = client.post(url, data=json.dumps({"days": 7}), headers=auth, content_type="text/plain")
    assert resp.status_code == 415 and "Content-Type" in _fields(resp)
    resp = client.post(url, data=json.dumps({"days": 7, "x\x00": 1}), headers=auth, content_type="application/json")
    assert 400 <= resp.status_code < 500 and "x\\u0000" in _fields(resp)
    # JSON with its charset, or a +json type, is JSON
    resp = client.post(url, data=json.dumps({"days": 7}), headers=auth, content_type="application/json; charset=utf-8")
    assert resp.status_code == 201, resp.get_json()


def test_messages_come_in_the_senders_language(app, client, auth):
    body = json.dumps(_with(START, "data.shop_name", "Kwi\x00atki"))
    resp = client.post("/api/v1/events?lang=pl", data=body, headers=auth, content_type="application/json")
    assert "zawiera znak NUL" in resp.get_json()["errors"][0]["message"]
    body = json.dumps(_with(_with(SURVEY, "submitted_at", LATE), "language", "tr"))
    resp = client.post("/api/v1/surveys", data=body, headers=auth, content_type="application/json")
    assert any("saklayabildiğimiz tarihlerin dışında" in e["message"] for e in resp.get_json()["errors"])
    resp = client.get("/api/v1/shops/a%00b", headers={**auth, "Accept-Language": "pl"})
    assert "zawiera znak NUL" in resp.get_json()["errors"][0]["message"]


def test_bidi_controls_are_stripped_from_shop_names_of_trial_started(app, client, auth):
    body = _with(START, "data.shop_name", "Kwiat\u202eki\u2066")
    resp = client.post("/api/v1/events", data=json.dumps(body), headers=auth, content_type="application/json")
    assert resp.status_code == 201, resp.get_json()
    with _db(app).session() as s:
        assert s.scalar(select(Shop.name).where(Shop.platform_id == "pl-9")) == "Kwiatki"


def test_the_shop_id_alphabet_accepts_what_platforms_use(app, client, auth):
    for i, shop in enumerate(["pl-1", "TR_2", "in.3", "a" * 64]):
        body = _with(_with(START, "shop", shop), "id", f"ev-{i}")
        resp = client.post("/api/v1/events", data=json.dumps(body), headers=auth, content_type="application/json")
        assert resp.status_code == 201, (shop, resp.get_json())
    body = _with(_with(START, "shop", "a" * 65), "id", "ev-long")
    resp = client.post("/api/v1/events", data=json.dumps(body), headers=auth, content_type="application/json")
    assert resp.status_code == 422 and "shop" in _fields(resp)


def test_a_dead_letter_is_stored_escaped_and_capped_with_the_originals_hash(app, session):
    import hashlib

    from concierge.operations.deadletters import MAX_PAYLOAD_CHARS, store_dead_letter

    raw = "{\"a\": \"x\x00\udc00\"}".encode("utf-8", errors="surrogatepass") + b"\xff"
    first = store_dead_letter(session, "events", raw, errors=[{"field": "a\x00", "code": "c", "message": "m\x00"}],
                              context={"k\ud800": "v\x00"})
    session.commit()
    assert first.payload == "{\"a\": \"x\\u0000\\xed\\xb0\\x80\"}\\xff"
    assert first.errors == [{"field": "a\\u0000", "code": "c", "message": "m\\u0000"}]
    assert first.context["k\\ud800"] == "v\\u0000"
    assert first.context["payload_sha256"] == hashlib.sha256(raw).hexdigest()
    big = "{\"a\": \"" + "x" * (2 * MAX_PAYLOAD_CHARS) + "\"}"
    letter = store_dead_letter(session, "events", big)
    session.commit()
    assert len(letter.payload) == MAX_PAYLOAD_CHARS and letter.context["payload_truncated"] is True
    assert letter.context["payload_sha256"] == hashlib.sha256(big.encode()).hexdigest()
    assert letter.context["payload_bytes"] == len(big)
    # the same capped body again is the same letter; another one with the same start is not
    assert store_dead_letter(session, "events", big).id == letter.id
    assert store_dead_letter(session, "events", big + " ").id != letter.id
    session.commit()


# ------------------------------------------------------------ path and query parameters
@pytest.mark.parametrize("method,path,field", [
    ("get", "/api/v1/shops/a%00b", "shop"),
    ("get", "/api/v1/shops/a%00b/score", "shop"),
    ("post", "/api/v1/shops/a%00b/score", "shop"),
    ("get", "/api/v1/shops/a%00b/picture.svg", "shop"),
    ("get", "/api/v1/shops/a%00b/picture.png", "shop"),
    ("get", "/api/v1/shops/a%00b/calls", "shop"),
    ("post", "/api/v1/shops/a%00b/survey-links", "shop"),
    ("post", "/api/v1/shops/a%00b/callbacks", "shop"),
    ("get", "/api/v1/shops?consultant=a%00b", "consultant"),
    ("get", "/api/v1/shops?a%00b=1", "a\\u0000b"),
    ("get", "/api/v1/shops?limit=-1", "limit"),
    ("get", "/api/v1/shops?limit=0", "limit"),
    ("get", "/api/v1/shops?limit=", "limit"),
    ("get", "/api/v1/shops?limit=1001", "limit"),
    ("get", "/api/v1/shops?limit=x", "limit"),
    ("get", "/api/v1/shops?offset=-1", "offset"),
    ("get", "/api/v1/shops/pl-1001?since=", "since"),
    ("get", "/api/v1/shops/pl-1001?since=null", "since"),
    ("get", f"/api/v1/shops/pl-1001?since={EARLY.replace('+', '%2B')}", "since"),
    ("get", "/api/v1/shops/pl-1001/score?lang=null", "lang"),
    ("get", "/api/v1/shops/pl-1001/score?refresh=null", "refresh"),
    ("get", "/api/v1/shops/pl-1001/picture.svg?lang=null", "lang"),
])
def test_bad_path_and_query_parameters_are_a_4xx_naming_them(app, client, auth, method, path, field):
    resp = getattr(client, method)(path, headers=auth)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True))
    assert field in _fields(resp), resp.get_json()


# ------------------------------------------------------------ the web app
def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


@pytest.fixture
def user(app):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, "anna@example.com", password=PASSWORD, role="manager", name="Anna")
    return "anna@example.com"


def _login(client, email, password=PASSWORD, query=""):
    token = _csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login" + query, data={"email": email, "password": password, "csrf_token": token})


def test_login_with_a_nul_in_the_email_is_a_400_naming_it(app, client, user):
    resp = _login(client, "anna\x00@example.com")
    assert resp.status_code == 400
    assert "email" in resp.get_data(as_text=True)
    resp = _login(client, "anna@example.com", password="x\x00")  # and the password
    assert resp.status_code == 400


@pytest.mark.parametrize("next_", ["/%0d%0aSet-Cookie:%20x=1", "/shops%0a", "/%5c%5cevil.example", "%0d/x"])
def test_next_with_cr_lf_after_a_correct_password_is_a_safe_redirect(app, client, user, next_):
    resp = _login(client, "anna@example.com", query=f"?next={next_}")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert "\r" not in resp.location and "\n" not in resp.location and "Set-Cookie" not in resp.location
    assert resp.location.startswith("/") and not resp.location.startswith("//")
    assert "x=1" not in resp.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("path", ["/shops/a%00b", "/shops/a%00b/picture.svg", "/?q=a%00b"])
def test_web_pages_with_a_nul_in_the_path_or_query_are_a_400(app, client, user, path):
    assert _login(client, "anna@example.com").status_code == 302
    resp = client.get(path)
    assert resp.status_code == 400, resp.status_code
    assert "NUL" in resp.get_data(as_text=True)


# ------------------------------------------------------------ the file channels (CLI)
@pytest.fixture
def cli_run(database, db_url):
    from click.testing import CliRunner

    from concierge.cli import cli

    def invoke(*args):
        return CliRunner().invoke(cli, [str(a) for a in args], env={"CONCIERGE_DATABASE_URL": db_url},
                                  catch_exceptions=False)
    return invoke


def _count(database, model) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_ingest_events_file_refuses_hostile_lines_and_keeps_each_once(cli_run, database, tmp_path):
    good = json.dumps(_with(START, "shop", "pl-2"))
    bad = [json.dumps(_with(START, "id", "ev\x002")), json.dumps(_with(START, "data.owner.name", "\udc00")),
           json.dumps(_with(_with(START, "id", "ev-3"), "occurred_at", LATE)),
           json.dumps(_with(_with(START, "id", "ev-4"), "shop", "a/b")), "\"\\u0000\""]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([good, *bad, *bad]) + "\n", encoding="utf-8")  # every bad line twice
    for _ in range(2):  # and the file twice
        res = cli_run("ingest", "events", path, "--json")
        assert res.exit_code == 1, res.output
        out = json.loads(res.stdout)
        assert out["rejected"] == 2 * len(bad)
        fields = [e["errors"][0]["field"] for e in out["errors"][:len(bad)]]
        assert fields == ["id", "data.owner.name", "occurred_at", "shop", ""]
    assert _count(database, DeadLetter) == len(bad)
    assert _count(database, TrialEvent) == 1


def test_ingest_surveys_file_refuses_a_nul_or_an_overflowing_date_naming_the_column(cli_run, database, tmp_path):
    with database.session() as s:
        ensure_shop(s, "in-3001", "IN")
    line = {"response_id": "j-1", "shop": "in-3001", "submitted_at": "2026-11-02T08:00:00Z", "lang": "en",
            "answers": {"name": "Priya Sharma", "hours": 30, "sold_before": True, "comfort": 4,
                        "help": ["payments"], "type": "new_brand", "category": "fashion", "turnover": "250000 INR"}}
    bad = [_with(line, "answers.name", "Pri\x00ya"), _with(_with(line, "response_id", "j-2"), "submitted_at", EARLY),
           _with(_with(line, "response_id", "j-3"), "shop", "in-3001\x00")]
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(b) for b in bad) + "\n", encoding="utf-8")
    mapping = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures" / "surveys" / "jsonl_mapping.yaml"
    for _ in range(2):
        res = cli_run("ingest", "surveys", path, "--mapping", mapping, "--json")
        assert res.exit_code != 0 and "Traceback" not in res.output, res.output
        out = json.loads(res.stdout)
        assert out["rejected"] == 3
        fields = sorted(e["errors"][0]["field"] for e in out["errors"])
        assert fields == ["answers.name", "shop", "submitted_at"], out["errors"]
    assert _count(database, DeadLetter) == 3
    assert _count(database, Submission) == 0


# ------------------------------------------------------------ the boundary's rules themselves
@pytest.mark.parametrize("shop,ok", [
    ("pl-1001", True), ("TR_2", True), ("in.3", True), ("a" * 64, True), ("7", True),
    ("a" * 65, False), ("", False), ("a/b", False), ("..", False), ("a..b", False), (".a", False),
    ("-a", False), ("a b", False), ("a\nb", False), ("a\x00b", False), ("shop-\U0001f6d2", False),
    ("ł-1", False), (None, False), (12, False),
])
def test_the_shop_id_rule(shop, ok):
    from concierge.ingest.bodies import is_valid_shop_id

    assert is_valid_shop_id(shop) is ok


@pytest.mark.parametrize("value,problem", [
    ("2026-03-02T10:00:00+01:00", None), ("2026-03-02T09:00:00Z", None),
    ("0001-01-01T00:00:00+00:00", None), ("9999-12-31T23:59:59+00:00", None),
    (EARLY, "datetime_out_of_range"), (LATE, "datetime_out_of_range"),
    ("2026-03-02T10:00:00", "invalid_format"), ("2026-03-02", "invalid_format"), ("", "invalid_format"),
])
def test_dates_must_be_storable_once_made_utc(value, problem):
    from concierge.ingest.bodies import datetime_problem, parse_datetime_with_offset

    assert datetime_problem(value) == problem
    assert (parse_datetime_with_offset(value) is None) is (problem is not None)


@pytest.mark.parametrize("content_type,ok", [
    (None, True), ("", True), ("application/json", True), ("application/json; charset=utf-8", True),
    ("APPLICATION/JSON", True), ("application/merge-patch+json", True), ("text/plain", False),
    ("application/x-www-form-urlencoded", False), ("multipart/form-data; boundary=x", False), ("text/json", False),
])
def test_which_content_types_are_json(content_type, ok):
    from concierge.ingest.bodies import content_type_error

    assert (content_type_error(content_type) is None) is ok


@pytest.mark.parametrize("path,body", [
    ("/api/v1/surveys", _with(SURVEY, "response_id", "r\x001")),
    ("/api/v1/events", _with(START, "data.owner.email", "a\x00@example.pl")),
])
def test_replaying_a_hostile_dead_letter_fails_cleanly_and_keeps_it(app, client, auth, path, body):
    from concierge.operations.deadletters import replay

    resp = client.post(path, data=json.dumps(body), headers=auth, content_type="application/json")
    assert 400 <= resp.status_code < 500
    with _db(app).session() as s:
        [result] = replay(s)
        s.commit()
        assert not result.ok and result.status == "pending"
        assert result.errors and "\\u0000" in json.dumps(result.errors)


@pytest.mark.parametrize("when", [EARLY, LATE])
def test_cli_refuses_a_moment_that_overflows_naming_the_option(cli_run, database, when):
    with database.session() as s:
        ensure_shop(s, "pl-7", "PL")
    res = cli_run("record", "pl-7", "owner.name=Anna", "--observed-at", when)
    assert res.exit_code == 2 and "--observed-at" in res.output and "9999" in res.output, res.output
    assert _count(database, Observation) == 0
