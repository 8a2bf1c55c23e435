"""Hostile input at every boundary, on SQLite and PostgreSQL (issue 13).

A table of payloads an attacker or a broken client sends: NUL characters and lone
surrogates anywhere, dates that overflow when made UTC, shop ids outside the alphabet,
bad paging and query parameters, a non-JSON Content-Type, `next=` with CR/LF. Each must
give a 4xx naming the field (never a 500), the same on both databases; the ingestion
channels (events webhook, survey API) keep a rejected body as exactly one dead letter,
however often it is sent.

Then the attacks that already held, kept from coming back: stored and reflected XSS (a
shop name, owner, survey answer, callback note and call note carrying `<script>`, an
attribute break or a `javascript:` URL, on every page that shows them, the SVG parsed with
defusedxml, the PNG), CSRF on every state-changing form (no token, another session's, a
forged one: 400 and not a row changed; the same form with its own token is accepted), API
tokens (missing, revoked, forged, another scheme, in the query string, an integration token
on the privacy routes; no dead letter for a body without a valid token) and `next=` after
a correct password never leaving our host.
"""
from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from concierge.models import DeadLetter, Observation, Shop, Submission, TrialEvent
from concierge.operations.shops import ensure_shop
from concierge.operations.tokens import create_token
from tests.support import app_db as _db, table_dump

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


def _refused_twice(app, client, auth, path: str, body, field: str) -> None:
    """A retrying sender: the same bad body posted twice, each time refused (4xx) naming `field`,
    and kept as one dead letter."""
    raw = body if isinstance(body, str) else json.dumps(body)
    for _ in range(2):
        resp = client.post(path, data=raw, headers=auth, content_type="application/json")
        assert 400 <= resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True))
        assert field in _fields(resp), resp.get_json()
    assert _dead_letters(app) == 1


@pytest.mark.parametrize("name,body,field", EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
def test_hostile_event_is_refused_naming_the_field_and_dead_lettered_once(app, client, auth, name, body, field):
    _refused_twice(app, client, auth, "/api/v1/events", body, field)
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
    _refused_twice(app, client, auth, "/api/v1/surveys", body, field)
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
def _a_4xx_naming(resp, field: str) -> None:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.get_data(as_text=True))
    assert field in _fields(resp), resp.get_json()


@pytest.mark.parametrize("method,endpoint", [
    ("get", ""), ("get", "/score"), ("post", "/score"), ("get", "/picture.svg"), ("get", "/picture.png"),
    ("get", "/calls"), ("post", "/survey-links"), ("post", "/callbacks"),
])
def test_a_nul_in_the_shop_id_is_a_4xx_naming_it_on_every_shop_endpoint(app, client, auth, method, endpoint):
    _a_4xx_naming(getattr(client, method)(f"/api/v1/shops/a%00b{endpoint}", headers=auth), "shop")


@pytest.mark.parametrize("path,field", [
    ("/api/v1/shops?consultant=a%00b", "consultant"),
    ("/api/v1/shops?a%00b=1", "a\\u0000b"),
    ("/api/v1/shops?limit=-1", "limit"),
    ("/api/v1/shops?limit=0", "limit"),
    ("/api/v1/shops?limit=", "limit"),
    ("/api/v1/shops?limit=1001", "limit"),
    ("/api/v1/shops?limit=x", "limit"),
    ("/api/v1/shops?offset=-1", "offset"),
    ("/api/v1/shops/pl-1001?since=", "since"),
    ("/api/v1/shops/pl-1001?since=null", "since"),
    (f"/api/v1/shops/pl-1001?since={EARLY.replace('+', '%2B')}", "since"),
    ("/api/v1/shops/pl-1001/score?lang=null", "lang"),
    ("/api/v1/shops/pl-1001/score?refresh=null", "refresh"),
    ("/api/v1/shops/pl-1001/picture.svg?lang=null", "lang"),
])
def test_bad_query_parameters_are_a_4xx_naming_them(app, client, auth, path, field):
    _a_4xx_naming(client.get(path, headers=auth), field)


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


# ============================================================ cases that already held (issue 13's "pass today")
# Stored and reflected XSS, CSRF on every state-changing form, API tokens, open redirects: each
# row must be able to fail, so each hostile request has a control beside it that succeeds.

XSS = ["<script>alert(1)</script>", '"><svg onload=alert(1)>', "javascript:alert(1)"]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data"}


class _Markup(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def _assert_inert_html(html: str, where: str) -> None:
    """No payload became markup: not verbatim, no script running it, no on* handler, no javascript: URL."""
    for payload in XSS[:2]:
        assert payload not in html, (where, payload)
    parser = _Markup()
    parser.feed(html)
    assert not any("alert(1)" in s for s in parser.scripts), where
    for tag, attrs in parser.tags:
        for name, value in attrs:
            value = (value or "").strip().lower()
            assert not (name.lower().startswith("on") and "alert" in value), (where, tag, name, value)
            if name.lower() in URL_ATTRIBUTES:
                assert not value.replace("\t", "").replace("\n", "").startswith("javascript:"), (where, tag, value)


def _assert_inert_svg(body: bytes, where: str) -> None:
    from defusedxml import ElementTree

    text = body.decode("utf-8")
    for payload in XSS[:2]:
        assert payload not in text, (where, payload)
    root = ElementTree.fromstring(body)
    for el in root.iter():
        assert el.tag.rsplit("}", 1)[-1].lower() not in ("script", "foreignobject"), (where, el.tag)
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            assert not local.startswith("on"), (where, el.tag, name)
            if local == "href":
                assert not value.strip().lower().startswith("javascript:"), (where, value)


NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def admin(app):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, "root@example.com", password=PASSWORD, role="admin", name="Root")
    return "root@example.com"


def _xss_shop(app, client, auth, payload: str) -> tuple[str, int]:
    """A shop whose name, owner, survey answer, merchant's callback note and trial event data carry
    `payload`, through the channels that take them (webhook, survey API, callback); returns the shop
    and its callback's planned call id."""
    from concierge.models import PlannedCall
    from concierge.operations.audits import request_callback

    shop = "pl-xss"
    event = _with(_with(_with(START, "shop", shop), "data.shop_name", f"Sklep {payload}"), "data.owner.name",
                  f"Anna {payload}")
    resp = client.post("/api/v1/events", data=json.dumps(event), headers=auth, content_type="application/json")
    assert resp.status_code == 201, resp.get_json()
    survey = _with(_with(_with(SURVEY, "shop", shop), ("answers", "needs.main_goal"), f"Cel: {payload}"),
                   ("answers", "owner.name"), f"Anna {payload}")
    resp = client.post("/api/v1/surveys", data=json.dumps(survey), headers=auth, content_type="application/json")
    assert resp.status_code == 201, resp.get_json()
    with _db(app).session() as s:
        call = request_callback(s, shop, now=NOW, note=f"Pytanie {payload}", via="survey", actor="merchant")
        call_id = call.id
    with _db(app).session() as s:  # the page's holder: the outcome form shows the typed note again
        from concierge.models import User

        row = s.get(PlannedCall, call_id)
        row.status, row.owner_id = "claimed", s.scalar(select(User.id).where(User.email == "root@example.com"))
        row.lease_until, row.token = NOW + timedelta(hours=1), 1
    with _db(app).session() as s:
        assert s.scalar(select(Shop.name).where(Shop.platform_id == shop)) == f"Sklep {payload}"
    return shop, call_id


@pytest.mark.parametrize("payload", XSS, ids=["script", "attribute-break", "javascript-url"])
def test_stored_and_reflected_xss_is_escaped_everywhere_it_is_shown(app, client, auth, admin, payload):
    shop, call_id = _xss_shop(app, client, auth, payload)
    assert _login(client, admin).status_code == 302
    pages = [f"/shops/{shop}", "/", "/?market=PL&sort=name", f"/?q={payload}", f"/?consultant={payload}",
             "/dashboard", "/dashboard/voice", "/calls", f"/calls/{call_id}", f"/shops/{shop}/privacy",
             f"/login?next={payload}"]
    seen_payload = False
    for path in pages:
        resp = client.get(path, query_string=None)
        assert resp.status_code == 200, (path, resp.status_code)
        html = resp.get_data(as_text=True)
        _assert_inert_html(html, path)
        seen_payload |= "alert(1)" in html  # escaped, but shown: the surface was really tested
    assert seen_payload
    page = client.get(f"/shops/{shop}").get_data(as_text=True)
    assert "alert(1)" in page  # the shop page shows the (escaped) name and answers
    # a call note the consultant typed comes back in the form when the outcome is refused
    token = _csrf(client.get(f"/calls/{call_id}").get_data(as_text=True))
    resp = client.post(f"/calls/{call_id}/complete", data={"csrf_token": token, "token": "1", "outcome": "",
                                                          "note": f"Notatka {payload}"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Notatka" in html and "alert(1)" in html
    _assert_inert_html(html, "call note")
    # the pictures: the SVG parsed safely has no script, no handler, no javascript: link; the PNG draws
    for path in (f"/shops/{shop}/picture.svg", f"/api/v1/shops/{shop}/picture.svg"):
        resp = client.get(path, headers=auth if path.startswith("/api") else None)
        assert resp.status_code == 200 and resp.mimetype == "image/svg+xml", (path, resp.status_code)
        _assert_inert_svg(resp.data, path)
        assert "alert(1)" in resp.get_data(as_text=True) or "alert(1" in resp.get_data(as_text=True)
    for path in (f"/shops/{shop}/picture.png", f"/api/v1/shops/{shop}/picture.png"):
        resp = client.get(path, headers=auth if path.startswith("/api") else None)
        assert resp.status_code == 200 and resp.data.startswith(b"\x89PNG\r\n\x1a\n"), path
    # JSON carries the text as data, never as markup to be trusted
    body = client.get(f"/api/v1/shops/{shop}", headers=auth)
    assert body.status_code == 200 and body.mimetype == "application/json"
    assert f"Sklep {payload}" == body.get_json()["shop"]["name"]


# ------------------------------------------------------------ CSRF: every state-changing form
def _dump(app) -> dict[str, list[str]]:
    """Every row of every table."""
    return table_dump(_db(app))


def _csrf_world(app, client) -> dict[str, object]:
    """A shop with answers, a call the admin holds, a survey link and a rating link; the admin logged in."""
    from concierge.models import Call
    from concierge.operations.audits import request_callback
    from concierge.operations.observations import record_answers
    from concierge.operations.ratings import rating_token
    from concierge.operations.survey_links import create_link
    from concierge.operations.users import create_user

    secret = app.config["SECRET_KEY"]
    with _db(app).session() as s:
        user = create_user(s, "root@example.com", password=PASSWORD, role="admin", name="Root")
        shop = ensure_shop(s, "pl-1", "PL", name="Sklep", trial_started_at=NOW - timedelta(days=3),
                           trial_ends_at=NOW + timedelta(days=11))
        record_answers(s, shop, {"owner.name": "Anna Nowak", "owner.phone": "+48 601 234 567"}, actor="x@example.com",
                       now=NOW - timedelta(days=2))
        call = request_callback(s, shop, now=NOW, note="Pytanie", via="survey", actor="merchant")
        call.status, call.owner_id, call.lease_until, call.token = "claimed", user.id, NOW + timedelta(hours=1), 1
        reached = Call(shop_id=shop.id, actor="x@example.com", kind="audit", called_at=NOW - timedelta(days=1),
                       reached=True, outcome="reached")
        s.add(reached)
        s.flush()
        link = create_link(s, shop, secret=secret, created_by="x@example.com")
        world = {"call": call.id, "survey": link.token, "rating": rating_token(secret, reached, shop, now=NOW),
                 "user": user.id}
    assert _login(client, "root@example.com").status_code == 302
    return world


# (name, path template, form fields, who posts: "user" logged in, "merchant" anonymous with the page open)
CSRF_FORMS = [
    ("login", "/login", {"email": "root@example.com", "password": PASSWORD}, "anonymous"),
    ("logout", "/logout", {}, "user"),
    ("language", "/language", {"language": "pl"}, "user"),
    ("claim the next call", "/calls/next", {}, "user"),
    ("call answers", "/calls/{call}/answers", {"version": "1000000", "seen": "1000000",
                                              "owner__hours_per_week": "40"}, "user"),
    ("call outcome", "/calls/{call}/complete", {"outcome": "reached", "token": "1", "note": "ok"}, "user"),
    ("release a call", "/calls/{call}/release", {"token": "1"}, "user"),
    ("shop page answers", "/shops/pl-1/answers", {"owner__hours_per_week": "40"}, "user"),
    ("survey link", "/shops/pl-1/survey-link", {}, "user"),
    ("privacy erase", "/shops/pl-1/privacy/erase", {"reason": "GDPR request 7", "confirm": "pl-1"}, "user"),
    ("merchant survey", "/s/{survey}", {"action": "draft", "owner__hours_per_week": "25"}, "merchant"),
    ("merchant callback", "/s/{survey}/callback", {"at": "now", "note": "Proszę o telefon"}, "merchant"),
    ("merchant rating", "/r/{rating}", {"score": "9", "comment": "Dobrze"}, "merchant"),
]


def _form_page(path: str) -> str:
    """The page whose form posts to `path` (for its CSRF token)."""
    if path.startswith(("/s/", "/r/")):
        return path.removesuffix("/callback")
    if path.startswith("/calls/") and path != "/calls/next":
        return path.rsplit("/", 1)[0]
    if path.startswith("/shops/pl-1/privacy"):
        return "/shops/pl-1/privacy"
    if path.startswith("/shops/"):
        return "/shops/pl-1"
    return "/calls" if path != "/login" else "/login"


@pytest.mark.parametrize("name,template,fields,who", CSRF_FORMS, ids=[c[0] for c in CSRF_FORMS])
def test_a_state_changing_form_without_its_csrf_token_is_refused_and_stores_nothing(app, name, template, fields, who):
    client = app.test_client()
    world = _csrf_world(app, client)
    if who == "anonymous":
        client = app.test_client()
    elif who == "merchant":
        client = app.test_client()  # the merchant's browser: no login, the form's page opened
    if name == "claim the next call":  # something due to claim: a callback at 10:30 on a weekday in Warsaw
        from concierge.operations.audits import request_callback

        morning = datetime(2027, 3, 9, 9, 30, tzinfo=timezone.utc)
        app.config["CLOCK"] = lambda: morning
        with _db(app).session() as s:
            ensure_shop(s, "pl-2", "PL", name="Drugi", trial_started_at=morning - timedelta(days=3),
                        trial_ends_at=morning + timedelta(days=11))
            request_callback(s, "pl-2", now=morning, note="Pytanie", via="survey", actor="merchant")
    path = template.format(**world)
    page = _form_page(path)
    own = _csrf(client.get(page).get_data(as_text=True))
    stranger = app.test_client()  # another session's token (another person, or a forged page)
    _login(stranger, "root@example.com")
    foreign = _csrf(stranger.get(page).get_data(as_text=True))
    assert foreign != own
    before = _dump(app)
    for token in (None, foreign, "", own[:-4] + "AAAA"):
        data = dict(fields) if token is None else {**fields, "csrf_token": token}
        resp = client.post(path, data=data)
        assert resp.status_code in (400, 403), (name, token is None, resp.status_code)
        assert _dump(app) == before, name
    if who == "anonymous":  # not logged in by the refused login
        assert client.get("/calls").status_code == 302
    # the control: the same form with its own token is accepted (so the refusals above were CSRF's)
    resp = client.post(path, data={**fields, "csrf_token": own})
    assert resp.status_code not in (400, 403) and resp.status_code < 500, (name, resp.status_code)
    if name != "login":
        assert _dump(app) != before, name


# ------------------------------------------------------------ API tokens
def _tokens(app) -> dict[str, str]:
    from concierge.operations.tokens import revoke_token

    with _db(app).session() as s:
        ensure_shop(s, "pl-1001", "PL", name="Sklep")
        _row, integration = create_token(s, "integration")
        _row, admin_token = create_token(s, "admin", role="admin")
        revoked_row, revoked = create_token(s, "revoked")
        revoke_token(s, revoked_row.prefix)
    return {"integration": integration, "admin": admin_token, "revoked": revoked}


API_READS = ["/api/v1/shops", "/api/v1/shops/pl-1001", "/api/v1/shops/pl-1001/score", "/api/v1/shops/pl-1001/calls",
             "/api/v1/shops/pl-1001/picture.svg"]


def _bad_credentials(tokens: dict[str, str]) -> list[tuple[str, dict[str, str], str]]:
    good = tokens["integration"]
    return [
        ("no token", {}, ""),
        ("revoked", {"Authorization": f"Bearer {tokens['revoked']}"}, ""),
        ("wrong prefix", {"Authorization": f"Bearer xyz_{good[4:]}"}, ""),
        ("prefix only", {"Authorization": f"Bearer {good[:12]}"}, ""),
        ("one character changed", {"Authorization": f"Bearer {good[:-1]}{'A' if good[-1] != 'A' else 'B'}"}, ""),
        ("another scheme", {"Authorization": f"Token {good}"}, ""),
        ("basic auth", {"Authorization": "Basic " + __import__("base64").b64encode(f"x:{good}".encode()).decode()}, ""),
        ("in the query string", {}, f"?token={good}&access_token={good}&api_key={good}"),
        ("in the query string beside a forged header", {"Authorization": "Bearer cnc_forged"}, f"?token={good}"),
    ]


def test_the_api_refuses_missing_revoked_forged_and_misplaced_tokens(app, client):
    tokens = _tokens(app)
    for path in API_READS:
        ok = client.get(path, headers={"Authorization": f"Bearer {tokens['integration']}"})
        assert ok.status_code in (200, 404), (path, ok.status_code)  # the control (404: no score made yet)
        for name, headers, query in _bad_credentials(tokens):
            resp = client.get(path + query, headers=headers)
            assert resp.status_code == 401, (path, name, resp.status_code)
            assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer"), (path, name)
            assert resp.get_json()["error"] == "unauthorized"


def test_privacy_routes_need_an_admin_token(app, client):
    tokens = _tokens(app)
    routes = [("get", "/api/v1/shops/pl-1001/privacy-export", None),
              ("post", "/api/v1/shops/pl-1001/privacy-erase", {"reason": "GDPR request 9"})]
    for method, path, body in routes:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
        resp = getattr(client, method)(path, headers={"Authorization": f"Bearer {tokens['integration']}"}, **kwargs)
        assert resp.status_code == 403, (path, resp.status_code)
        for name, headers, query in _bad_credentials(tokens):
            assert getattr(client, method)(path + query, headers=headers, **kwargs).status_code == 401, (path, name)
        with _db(app).session() as s:
            from concierge.models import PrivacyErasure

            assert s.scalar(select(func.count(PrivacyErasure.id))) == 0
    # the control: the admin token may
    assert client.get(routes[0][1], headers={"Authorization": f"Bearer {tokens['admin']}"}).status_code == 200
    resp = client.post(routes[1][1], headers={"Authorization": f"Bearer {tokens['admin']}"},
                       data=json.dumps(routes[1][2]), content_type="application/json")
    assert resp.status_code == 200, resp.get_json()


@pytest.mark.parametrize("path,body", [("/api/v1/events", _with(START, "id", "ev\x001")),
                                       ("/api/v1/surveys", _with(SURVEY, "response_id", "r\x001"))])
def test_a_hostile_body_without_a_valid_token_is_refused_and_not_kept(app, client, path, body):
    """Without a valid token nothing is stored, not even a dead letter (anyone could fill the table);
    with one, the same body is refused and kept once, as above."""
    tokens = _tokens(app)
    raw = json.dumps(body)
    for name, headers, query in _bad_credentials(tokens):
        resp = client.post(path + query, data=raw, headers=headers, content_type="application/json")
        assert resp.status_code == 401, (name, resp.status_code)
    assert _dead_letters(app) == 0
    for _ in range(2):
        resp = client.post(path, data=raw, headers={"Authorization": f"Bearer {tokens['integration']}"},
                           content_type="application/json")
        assert 400 <= resp.status_code < 500 and resp.status_code != 401
    assert _dead_letters(app) == 1


# ------------------------------------------------------------ open redirects after login
@pytest.mark.parametrize("next_", [
    "//evil.example", "//evil.example/shops", "https://evil.example", "http://evil.example/", "HTTPS://evil.example",
    "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    " javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "///evil.example", "/%2F/evil.example",
    "/\r\nLocation: https://evil.example", "/shops\r\n", "/\x00//evil.example", "\x00https://evil.example",
    "/\t/evil.example", "https:evil.example", "evil.example", "@evil.example", "/@evil.example",
])
def test_next_never_leaves_our_host_after_a_correct_password(app, client, user, next_):
    from urllib.parse import quote, urlsplit

    resp = _login(client, "anna@example.com", query="?next=" + quote(next_, safe=""))
    if "\x00" in next_:  # a NUL anywhere in a web request is refused at the boundary, naming it: no redirect
        assert resp.status_code == 400 and "Location" not in resp.headers and "NUL" in resp.get_data(as_text=True)
        assert client.get("/dashboard").status_code == 302  # and no login either
        return
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    location = resp.headers["Location"]
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert not any(ch in location for ch in "\r\n\x00\\"), location
    assert "evil.example" not in location or location.startswith("/") and "//" not in location, location
    assert client.get("/dashboard").status_code == 200  # logged in: only the target was refused


@pytest.mark.parametrize("next_", ["/shops/pl-1001", "/dashboard?market=PL", "/calls"])
def test_next_on_our_host_is_followed(app, client, user, next_):
    """The control: a same-site path is where the login goes."""
    from urllib.parse import quote

    resp = _login(client, "anna@example.com", query="?next=" + quote(next_, safe=""))
    assert resp.status_code == 302 and resp.headers["Location"] == next_
