"""The call screen and the API's `?since=` read stored state, not the shop's whole history (issue 13).

`GET /calls/<id>` reads the profile from the kept snapshot (`profile_snapshot`), the
timeline's newest rows and one aggregate; `GET /api/v1/shops/<id>?since=T` reads the
observations after T on the (shop, time) index and, for the questions they touch, only as
much earlier history as decides their value at T. Both give exactly what the fold of every
observation gives (the page's HTML, the API's JSON), and read as many statements and rows for
a shop with a long history as for a short one. SQLite and PostgreSQL.
"""
from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select

import profile_schema
from concierge.models import Call, PlannedCall, ProfileSnapshot, Shop
from concierge.operations import profiles
from concierge.operations.observations import add_observations_bulk, record_answers
from concierge.operations.profiles import (
    CallScreenView,
    change_as_dict,
    profile_changes,
    shop_observations,
    stored_changes_since,
)
from concierge.operations.shop_state import refresh_states
from concierge.operations.shops import ensure_shop
from tests.support import count_reads

PASSWORD = "correct horse battery"
NOW = datetime(2027, 3, 9, 9, 30, tzinfo=UTC)  # a Tuesday, 10:30 in Warsaw
START = NOW - timedelta(days=20)

# (question, ops it gets, values): every kind of op the fold knows, on every kind of question it
# applies to, with values it refuses to apply too (an increment of a text, a float count...)
KEYS = [
    ("trial.order_count", ["increment"] * 6 + ["set"], [1, 1, 2, 3, 0, 1.5, "x"]),
    ("trial.product_count", ["increment"], [1, 2, 5, -1, 0]),
    ("features.payments", ["add", "add", "remove", "set"], [["blik"], ["payu"], ["blik", "payu"], [], ["tpay"]]),
    ("owner.hours_per_week", ["set"], [10, 20, 30, 10, None]),
    ("business.type", ["set"], ["handmade", "reseller", "offline_store"]),
    ("readiness.products_added", ["set"], [True, False]),
    ("owner.name", ["set", "increment"], ["Anna", "Anna Nowak", 3]),
]
SOURCES = ["trial", "survey", "call", "import"]


def _history_rows(shop_id: int, n: int, rnd: random.Random) -> list[dict]:
    rows = []
    for i in range(n):
        key, ops, values = rnd.choice(KEYS)
        at = START + timedelta(minutes=rnd.randrange(0, 20 * 24 * 6) * 10)  # ties on purpose: a 10-minute grid
        rows.append({"shop_id": shop_id, "question": key, "value": rnd.choice(values), "op": rnd.choice(ops),
                     "source": rnd.choice(SOURCES), "actor": f"actor-{i % 3}", "observed_at": at,
                     "recorded_at": NOW, "schema_version": 1, "submission_id": None, "event_id": None})
    return rows


def _shop_with_history(session, platform_id: str, n: int, seed: int) -> Shop:
    shop = ensure_shop(session, platform_id, "PL", name=f"Sklep {platform_id}", trial_started_at=START,
                       trial_ends_at=NOW + timedelta(days=10))
    add_observations_bulk(session, _history_rows(shop.id, n, random.Random(seed)))
    refresh_states(session, [shop.id], now=NOW)
    return shop


# ---------------------------------------------------------------------------- ?since= from stored state

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_changes_since_read_from_stored_state_are_the_folds(database, seed):
    rnd = random.Random(seed)
    with database.session() as s:
        shop = _shop_with_history(s, f"pl-since-{seed}", 300, seed)
        moments = sorted({o.observed_at for o in shop_observations(s, shop)})
        sinces = ([START - timedelta(days=1), NOW + timedelta(days=1)] + rnd.sample(moments, 25)
                  + [m + timedelta(minutes=5) for m in rnd.sample(moments, 15)])
        differing = 0
        for since in sinces:
            expected = profile_changes(s, shop, since)
            assert stored_changes_since(s, shop, since) == expected, since
            differing += bool(expected)
        assert differing >= 30  # the comparison was made on real changes
        # without a snapshot the profile is folded, and the changes are still the fold's
        s.execute(delete(ProfileSnapshot).where(ProfileSnapshot.shop_id == shop.id))
        for since in sinces[:10]:
            assert stored_changes_since(s, shop, since) == profile_changes(s, shop, since)


def test_a_count_incremented_from_nothing_or_from_zero_is_told_apart(database):
    with database.session() as s:
        shop = ensure_shop(s, "pl-count-1", "PL", name="Sklep")
        other = ensure_shop(s, "pl-count-2", "PL", name="Sklep")

        def add(target, op, value, days):
            add_observations_bulk(s, [{"shop_id": target.id, "question": "trial.order_count", "value": value,
                                       "op": op, "source": "trial", "actor": "platform",
                                       "observed_at": START + timedelta(days=days), "recorded_at": NOW,
                                       "schema_version": 1, "submission_id": None, "event_id": None}])

        add(shop, "increment", 2, 5)  # nothing before day 1: None -> 2
        add(other, "set", 0, 0)  # 0 before day 1: 0 -> 2
        add(other, "increment", 2, 5)
        refresh_states(s, [shop.id, other.id], now=NOW)
        since = START + timedelta(days=1)
        for target, before in ((shop, None), (other, 0)):
            got = stored_changes_since(s, target, since)
            assert got == profile_changes(s, target, since)
            assert [(c.key, c.before, c.after) for c in got] == [("trial.order_count", before, 2)]


def _no_replay(monkeypatch, *modules):
    def refuse(*_a, **_k):
        raise AssertionError("the request replayed the shop's history")

    monkeypatch.setattr(profiles, "shop_observations", refuse)
    monkeypatch.setattr(profile_schema, "fold", refuse)
    for module in modules:
        monkeypatch.setattr(module, "shop_observations", refuse, raising=False)


def _token(app) -> dict[str, str]:
    from concierge.operations.tokens import create_token

    with app.extensions["concierge.db"].session() as s:
        _row, token = create_token(s, "bounded-reads")
    return {"Authorization": f"Bearer {token}"}


def _recent_tail(session, shop: Shop) -> None:
    """A few answers and trial events in the last day, after every `since` the test asks about."""
    add_observations_bulk(session, [
        {"shop_id": shop.id, "question": q, "value": v, "op": op, "source": "trial", "actor": "platform",
         "observed_at": NOW - timedelta(hours=h), "recorded_at": NOW, "schema_version": 1, "submission_id": None,
         "event_id": None}
        for q, v, op, h in (("trial.order_count", 1, "increment", 5), ("trial.order_count", 2, "increment", 4),
                            ("features.payments", ["payu"], "add", 3), ("readiness.products_added", True, "set", 2))])
    record_answers(session, shop, {"owner.hours_per_week": "35"}, actor="ola@example.com", source="call",
                   now=NOW - timedelta(hours=1), rescore=False)
    refresh_states(session, [shop.id], now=NOW)


def _busy_shop(session, platform_id: str, events: int) -> Shop:
    """A survey, three payment providers, then `events` trial events (orders, products, the
    checklist) over the trial's first 18 days, as a busy shop's history grows."""
    shop = ensure_shop(session, platform_id, "PL", name=f"Sklep {platform_id}", trial_started_at=START,
                       trial_ends_at=NOW + timedelta(days=10))
    record_answers(session, shop, {"owner.hours_per_week": "10", "business.type": "handmade"}, actor="merchant",
                   source="survey", now=START, rescore=False)
    rows = [("features.payments", [p], "add") for p in ("blik", "payu", "tpay")]
    for i in range(events):
        rows.append((("trial.order_count", 1, "increment"), ("trial.product_count", 2, "increment"),
                     ("readiness.products_added", bool(i % 2), "set"))[i % 3])
    step = timedelta(days=18) / len(rows)
    add_observations_bulk(session, [
        {"shop_id": shop.id, "question": q, "value": v, "op": op, "source": "trial", "actor": "platform",
         "observed_at": START + step * (i + 1), "recorded_at": NOW, "schema_version": 1, "submission_id": None,
         "event_id": None} for i, (q, v, op) in enumerate(rows)])
    refresh_states(session, [shop.id], now=NOW)
    return shop


def test_the_api_since_gives_the_folds_json_and_reads_as_much_for_a_long_history(app, client, monkeypatch):
    from concierge.api import shops as api_shops

    db = app.extensions["concierge.db"]
    auth = _token(app)
    with db.session() as s:
        shops = [_shop_with_history(s, "pl-random-1", 400, 7), _busy_shop(s, "pl-few-1", 60),
                 _busy_shop(s, "pl-many-1", 3000)]
        for shop in shops:
            _recent_tail(s, shop)
        ids = [shop.platform_id for shop in shops]
    sinces = ["2027-03-08T12:00:00Z", "2027-03-09T06:00+01:00", "2027-02-20T00:00:00Z", "2027-03-01T10:00:00+03:00",
              "2027-02-17T09:30:00Z"]
    for platform_id in ids:
        for since in sinces:
            resp = client.get(f"/api/v1/shops/{platform_id}", headers=auth, query_string={"since": since})
            assert resp.status_code == 200, resp.get_json()
            body = resp.get_json()
            with db.session() as s:
                when = datetime.fromisoformat(since.replace("Z", "+00:00"))
                expected = [change_as_dict(c) for c in profile_changes(s, platform_id, when)]
            assert body["changes"] == expected, (platform_id, since)
        assert body["changes"] and body["profile"]  # the last `since` (ten days back) changed something

    def measure(platform_id: str) -> tuple[int, int]:
        url = f"/api/v1/shops/{platform_id}?since=2027-03-08T12:00:00Z"
        client.get(url, headers=auth)  # warm the per-process caches
        _no_replay(monkeypatch, api_shops)
        try:
            statements, rows, resp = count_reads(db.engine, lambda: client.get(url, headers=auth))
        finally:
            monkeypatch.undo()
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        assert {c["key"] for c in resp.get_json()["changes"]} >= {"trial.order_count", "owner.hours_per_week"}
        return statements, rows

    statements_few, rows_few = measure("pl-few-1")
    statements_many, rows_many = measure("pl-many-1")
    assert statements_many == statements_few
    assert rows_many == rows_few <= 30, (rows_few, rows_many)


# ---------------------------------------------------------------------------- the call screen

def _login(app, client, email="mia@example.com", role="manager") -> None:
    from concierge.operations.users import create_user

    with app.extensions["concierge.db"].session() as s:
        create_user(s, email, password=PASSWORD, role=role, name="Mia")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302


def _call_for(session, shop: Shop) -> int:
    call = PlannedCall(
        shop_id=shop.id, kind="audit", reason="inactive", rule="inactive", occurrence="inactive", trigger="inactive",
        purpose="service", status="planned", open_key="audit:inactive", due_from=NOW - timedelta(hours=1),
        due_until=NOW + timedelta(days=3), scheduled_at=NOW - timedelta(minutes=5), language="pl",
        params={"date": (NOW - timedelta(days=5)).isoformat()}, agenda=[{"code": "activity", "params": {}}],
        created_by="planner", created_at=NOW - timedelta(days=1), updated_at=NOW - timedelta(days=1))
    session.add(call)
    session.flush()
    return call.id


def _call_shop(session, platform_id: str, n: int, seed: int) -> int:
    from concierge.operations.audits import plan_calls

    shop = _shop_with_history(session, platform_id, n, seed)
    record_answers(session, shop, {"owner.name": "Anna Nowak", "owner.phone": "+48 601 234 567"},
                   actor="cons@example.com", now=NOW - timedelta(days=2), rescore=False)
    session.execute(insert(Call), [{"shop_id": shop.id, "actor": "ola@example.com", "reached": True,
                                    "called_at": NOW - timedelta(days=3)}])
    refresh_states(session, [shop.id], now=NOW)
    plan_calls(session, now=NOW)  # the planner's stored facts: what the phone panel reads
    return _call_for(session, shop)


def _folded_view(session, shop, *, timeline: int = 50) -> CallScreenView:
    """The call screen's history as it was read before: every observation, folded."""
    shop = profiles.resolve_shop(session, shop)
    observations = shop_observations(session, shop)
    profile = profile_schema.fold(observations, shop=shop.platform_id, market=shop.market)
    newest = sorted(observations, key=lambda o: (o.observed_at, o.seq or 0), reverse=True)
    return CallScreenView(profile, max((o.seq or 0 for o in observations), default=0), len(observations), newest)


def test_the_call_screen_is_the_folds_and_reads_as_much_for_a_long_history(app, client, monkeypatch):
    from concierge.web import calls as web_calls

    app.config["CLOCK"] = lambda: NOW
    db = app.extensions["concierge.db"]
    with db.session() as s:
        few = _call_shop(s, "pl-call-few", 70, 11)
        many = _call_shop(s, "pl-call-many", 1500, 12)
    _login(app, client)

    def page(call_id: int) -> str:
        resp = client.get(f"/calls/{call_id}")
        assert resp.status_code == 200, resp.status_code
        html = resp.get_data(as_text=True)
        for token in set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html)):
            html = html.replace(token, "CSRF")  # signed with the second it was made in
        return html

    for call_id, platform_id in ((few, "pl-call-few"), (many, "pl-call-many")):
        now_read = page(call_id)
        monkeypatch.setattr(web_calls, "call_screen_view", _folded_view)
        folded = page(call_id)
        monkeypatch.undo()
        assert now_read == folded
        with db.session() as s:
            total = len(shop_observations(s, platform_id))
        assert total > 70 and re.search(rf'class="muted small">…[^<]*\b{total - 50}\b', now_read)
        assert now_read.count('<tr class="src-') == 50

    def measure(call_id: int) -> tuple[int, int]:
        page(call_id)  # warm
        _no_replay(monkeypatch, web_calls)
        try:
            statements, rows, _ = count_reads(db.engine, lambda: page(call_id))
        finally:
            monkeypatch.undo()
        return statements, rows

    statements_few, rows_few = measure(few)
    statements_many, rows_many = measure(many)
    assert statements_many == statements_few
    assert rows_many == rows_few <= 100, (rows_few, rows_many)


def test_saving_on_the_call_screen_still_sees_a_change_made_meanwhile(app, client):
    """The 409 reads only the observations after the version the consultant saw."""
    app.config["CLOCK"] = lambda: NOW
    db = app.extensions["concierge.db"]
    with db.session() as s:
        call_id = _call_shop(s, "pl-call-409", 200, 13)
    _login(app, client, email="ola@example.com", role="consultant")
    text = client.get("/calls").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text).group(1)
    assert client.post("/calls/next", data={"csrf_token": token}).headers["Location"] == f"/calls/{call_id}"
    text = client.get(f"/calls/{call_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', text).group(1)
    with db.session() as s:
        record_answers(s, "pl-call-409", {"owner.hours_per_week": "12"}, actor="survey", source="survey",
                       now=NOW - timedelta(minutes=1))
    form = {"csrf_token": token, "version": version, "seen": version, "owner__hours_per_week": "40"}
    resp = client.post(f"/calls/{call_id}/answers", data=form, headers={"Accept": "application/json"})
    assert resp.status_code == 409, resp.get_json()
    body = resp.get_json()
    assert [c["key"] for c in body["changes"]] == ["owner.hours_per_week"] and body["seen"] > int(version)
    form["seen"] = str(body["seen"])
    resp = client.post(f"/calls/{call_id}/answers", data=form, headers={"Accept": "application/json"})
    assert resp.status_code == 200, resp.get_json()
    with db.session() as s:
        assert profiles.current_profile(s, "pl-call-409").value("owner.hours_per_week") == 40
        assert s.scalar(select(ProfileSnapshot.observations).join(Shop, Shop.id == ProfileSnapshot.shop_id)
                        .where(Shop.platform_id == "pl-call-409")) == 204
