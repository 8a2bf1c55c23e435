"""Reads never write: a GET of every page, picture and API route leaves the database as it was.

On SQLite and PostgreSQL: a small demo population, a trained model, scores stored the old
way (one language, by a model that is no longer active: the shop page used to score such
a shop again and store it), planned calls, a callback, a survey link, users of every role
(each reading in another language) and an API token. Then every GET rule of the app's URL
map is requested (its arguments filled from that data; only static files are skipped), by
every role, anonymously and through the API, with the query strings that change what a
page shows, and every row of every table is compared before and after.

Nothing is excluded from the comparison. The API token's last use is written at most once
an hour (`operations.tokens.LAST_USE_RESOLUTION`), so the token is used once before the
first dump, as an integration that called a minute ago would have.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from concierge.models import Call, ModelVersion, PlannedCall, Score, Shop, TrialEvent
from tests.support import app_db as _db, csrf_from, table_dump

PASSWORD = "correct horse battery"
TODAY = date(2026, 11, 23)
# a new route argument must be given a value here, so that no GET route goes untested
ARGUMENTS = ("shop", "platform_id", "token", "call_id", "call", "id", "planned_call_id", "key", "table", "event_id",
             "face")


def dump(app) -> dict[str, list[str]]:
    """Every row of every table, sorted: the whole database as comparable text."""
    return table_dump(_db(app))


def logged_in(app, email: str, role: str, language: str | None):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, email, password=PASSWORD, role=role, language=language, name=email.split("@")[0])
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def populate(app) -> dict[str, object]:
    """Demo shops, a model, old and new scores, calls, a callback, a survey link, an API token."""
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.operations.audits import plan_calls, request_callback
    from concierge.operations.survey_links import create_link
    from concierge.operations.tokens import create_token
    from concierge.operations.scoring.service import score_open, train_model

    db = _db(app)
    with db.session() as s:
        load_population(s, generate(60, seed=3, today=TODAY))
    with db.session() as s:
        train_model(s, ages=[7])
        score_open(s, lang="en")
        shops = list(s.scalars(select(Shop).order_by(Shop.id)))
        by_market = {m: next(x for x in shops if x.market == m) for m in ("PL", "TR", "IN")}
        # scores as they were stored before every score carried every language: one in Turkish
        # by a model that is no longer active, one in English by the active model
        old = ModelVersion(version="m-old", kind="fallback", trained_rows=10, artifact=b"", active=False)
        s.add(old)
        s.flush()
        active = s.scalar(select(ModelVersion.id).where(ModelVersion.active.is_(True)))
        at = datetime.now(timezone.utc) - timedelta(hours=1)
        s.add(Score(shop_id=by_market["TR"].id, model_version_id=old.id, probability=0.31, uplift=0.02, scored_at=at,
                    details={"lang": "tr", "history": "10 tamamlanmış denemeden öğrenildi", "fallback": None,
                             "reasons": {"up": [{"factor": "x", "effect": 0.1, "text": "eski neden"}], "down": []},
                             "path": [{"action": "readiness.store_details", "probability": 0.4, "gain": 0.09,
                                       "text": "Mağaza adını ve iletişim bilgilerini girmek"}]}))
        s.add(Score(shop_id=by_market["PL"].id, model_version_id=active, probability=0.27, uplift=None, scored_at=at,
                    details={"lang": "en", "history": "Learned from 10 finished trials", "fallback": None,
                             "reasons": {"up": [], "down": [{"factor": "x", "effect": -0.1, "text": "old reason"}]},
                             "path": []}))
        plan_calls(s, now=datetime.now(timezone.utc))
    with db.session() as s:
        request_callback(s, by_market["PL"].platform_id, now=datetime.now(timezone.utc), at=None,
                         note="Jak podłączyć BLIK?", via="survey", actor="merchant")
        link = create_link(s, by_market["PL"].platform_id, secret=app.config["SECRET_KEY"], created_by="test")
        tr_link = create_link(s, by_market["TR"].platform_id, secret=app.config["SECRET_KEY"], created_by="test")
        _, api_token = create_token(s, "crm", role="admin")  # admin: the privacy export is read too
        call_id = s.scalar(select(PlannedCall.id).order_by(PlannedCall.id))
        event_id = s.scalar(select(TrialEvent.id).order_by(TrialEvent.id))
        rating_tokens = []
        try:
            from concierge.operations.ratings import rating_token
        except ImportError:  # no call ratings in this version
            pass
        else:
            call = s.scalar(select(Call).where(Call.reached.is_(True)).order_by(Call.id))
            rating_tokens.append(rating_token(app.config["SECRET_KEY"], call, s.get(Shop, call.shop_id),
                                              now=datetime.now(timezone.utc)))
    from concierge.operations.reports import build_report
    from concierge.web.dashboard import available_reports

    with db.session() as s:  # the dashboard's reports and their tables (the URLs /dashboard/<key>/<table>.csv)
        reports = {key: [t.key for t in build_report(s, key).tables] for key, _module in available_reports()}
        s.rollback()
    return {"shops": [x.platform_id for x in by_market.values()], "tokens": [link.token, tr_link.token],
            "reports": reports,
            "rating_tokens": rating_tokens, "api_token": api_token, "call_id": call_id,
            "event_ids": [event_id, "no-such-event"]}


def _fills(rule: str, arguments: set[str], data: dict[str, object]) -> list[dict[str, object]]:
    """Values for a rule's arguments: each shop (and an unknown one), each signed link (and a bad one),
    a planned call's id for the rest."""
    if "key" in arguments:  # a dashboard report: each one (and an unknown one), its first table
        if "table" in arguments:
            return [{"key": k, "table": t} for k, tables in data["reports"].items() for t in [*tables[:1], "no-such-table"]]
        return [{"key": k} for k in [*data["reports"], "no-such-report"]]
    if "event_id" in arguments:  # a webhook event: a stored one and an unknown one
        return [{"event_id": e} for e in data["event_ids"]]
    if "face" in arguments:  # a shipped font and an unknown one
        return [{"face": f} for f in ("Lohit-Devanagari", "no-such-font")]
    shop_args = arguments & {"shop", "platform_id"}
    base: dict[str, object] = {a: data["call_id"] for a in arguments - shop_args - {"token"}}
    if shop_args:
        return [{**base, **{a: pid for a in shop_args}} for pid in [*data["shops"], "no-such-shop"]]
    if "token" in arguments:
        tokens = data["rating_tokens"] if rule.startswith("/r/") else data["tokens"]
        return [{**base, "token": t} for t in [*tokens, "not-a-token"]]
    return [base]


def urls_for(app, data: dict[str, object]) -> list[tuple[str, str]]:
    """(rule, URL) for every GET route of the app (static files aside), its arguments filled from the data."""
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        unknown = set(rule.arguments) - set(ARGUMENTS)
        if unknown:
            pytest.fail(f"{rule.rule}: give the argument(s) {sorted(unknown)} a value in this test")
        for values in _fills(rule.rule, set(rule.arguments), data):
            path = rule.rule
            for name, value in values.items():
                path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), path)
            extra = [path]
            if "picture" in path:
                extra += [f"{path}?lang=pl", f"{path}?lang=tr&layout=narrow", f"{path}?lang=hi"]
            elif path.endswith("/score"):
                extra += [f"{path}?lang=pl", f"{path}?lang=tr", f"{path}?refresh=1"]
            elif path.startswith(("/s/", "/r/")):
                extra += [f"{path}?lang=tr", f"{path}?lang=en", f"{path}?lang=hi"]
            elif path.startswith("/shops/"):
                extra += [f"{path}?lang=tr", f"{path}?lang=hi"]
            elif path == "/":
                extra += ["/?q=sklep&market=PL", "/?stage=products", "/?page=2", "/?market=TR&stage=legal"]
            elif path == "/shops.csv":  # the export streams its body: read whole below (buffered)
                extra += ["/shops.csv?market=PL&stage=products&sort=score", "/shops.csv?held_out=0&contacted=1"]
            elif path.startswith("/dashboard/") and not path.endswith(".csv"):
                extra.append(f"{path}?market=TR&grain=week")
            elif path.startswith("/api/v1/reports/"):
                extra.append(f"{path}?market=PL&lang=tr")
            elif path == "/api/v1/shops":
                extra.append("/api/v1/shops?market=TR&limit=5")
            elif path.endswith("/calls"):
                extra.append(f"{path}?status=open")
            out += [(rule.rule, u) for u in extra]
    return out


def test_a_get_of_every_page_picture_and_api_route_changes_nothing(app, client):
    data = populate(app)
    auth = {"Authorization": f"Bearer {data['api_token']}"}
    readers = [
        ("anonymous", client, {}),
        ("consultant (pl)", logged_in(app, "ola@example.com", "consultant", "pl"), {}),
        ("manager (tr)", logged_in(app, "ayse@example.com", "manager", "tr"), {}),
        ("admin (no language)", logged_in(app, "root@example.com", "admin", None), {}),
        ("api", app.test_client(), auth),
    ]
    assert client.get("/api/v1/shops", headers=auth).status_code == 200  # the token's hourly last-use mark
    urls = urls_for(app, data)
    rules = {rule for rule, _url in urls}
    assert any(r.startswith("/shops/") for r in rules) and any(r.startswith("/api/v1/") for r in rules)
    assert any(r.startswith("/s/") for r in rules) and "/api/v1/shops/<shop>/score" in rules
    assert {"/dashboard", "/dashboard/<key>", "/dashboard/<key>/<table>.csv", "/api/v1/reports/<key>"} <= rules
    before = dump(app)
    assert before["score"] and before["planned_call"] and before["survey_link"] and before["model_version"]
    served = set()
    for name, reader, headers in readers:
        for rule, url in urls:
            r = reader.get(url, headers=headers, buffered=True)  # a streamed body runs to its end
            assert r.status_code < 500, (name, url, r.status_code, r.get_data(as_text=True)[:500])
            if r.status_code < 400:
                served.add(rule)
    assert rules == served, f"never answered, so not really tested: {sorted(rules - served)}"
    after = dump(app)
    changed = {t: (len(before[t]), len(after[t])) for t in before if before[t] != after[t]}
    assert not changed, f"a GET wrote to these tables (rows before, after): {changed}"
