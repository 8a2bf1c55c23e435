"""Scores are fresh: when a shop's answers change, its score, reasons and path are made again in the
same request (web form, `concierge record`, survey page, events webhook), on SQLite and PostgreSQL.

A shop recorded as having its store details filled in no longer reads "Fill in the store
name" anywhere: not on the page, not in the API, not in the stored score the planner reads.
Bulk paths leave it to the planner, which calls `operations.scoring.service.rescore_shops`.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from concierge.models import ModelVersion, Score, Shop
from locales import LANGUAGES
from tests.support import app_db as _db, csrf_from

PASSWORD = "correct horse battery"
TODAY = date(2026, 11, 23)
FILL_IN = "Fill in the store name and contact details"
STORE = "readiness.store_details"


@pytest.fixture
def model_and_shop(app):
    """A model trained on a small demo population, and a Polish shop two days into its trial
    (theme published, store details not yet): its path to subscribe starts with the store details."""
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop
    from concierge.operations.scoring.service import train_model

    now = datetime.now(timezone.utc)
    with _db(app).session() as s:
        load_population(s, generate(60, seed=3, today=TODAY))
        train_model(s)
        shop = ensure_shop(s, "pl-fresh", "PL", name="Sklep Świeży", trial_started_at=now - timedelta(days=2),
                           trial_ends_at=now + timedelta(days=12))
        record_answers(s, shop, {"readiness.theme_published": True}, actor="trial:1", source="trial",
                       now=now - timedelta(days=1))
    assert STORE in path_of(app), "the shop's first step is its store details"
    return "pl-fresh"


def latest(app, platform_id: str = "pl-fresh") -> Score | None:
    with _db(app).session() as s:
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == platform_id))
        return s.scalars(select(Score).where(Score.shop_id == shop_id)
                         .order_by(Score.scored_at.desc(), Score.id.desc()).limit(1)).first()


def path_of(app, platform_id: str = "pl-fresh") -> list[str]:
    score = latest(app, platform_id)
    return [step["action"] for step in (score.details or {}).get("path", [])] if score else []


def scores(app) -> int:
    with _db(app).session() as s:
        return s.scalar(select(func.count()).select_from(Score))


def login(app, client, language: str | None = "en") -> None:
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, "anna@example.com", password=PASSWORD, role="consultant", language=language, name="Anna")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": "anna@example.com", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302


def test_the_web_form_makes_the_score_and_path_fresh_in_the_same_request(app, client, model_and_shop):
    login(app, client)
    page = client.get("/shops/pl-fresh").get_data(as_text=True)
    assert FILL_IN in page  # the path to subscribe, under the next best step
    before = latest(app)
    r = client.post("/shops/pl-fresh/answers", data={"csrf_token": csrf_from(page), "readiness__store_details": "yes"})
    assert r.status_code == 302, r.get_data(as_text=True)
    after = latest(app)
    assert after.id != before.id and after.scored_at >= before.scored_at
    assert STORE not in path_of(app) and path_of(app), "the path goes on with what is still to do"
    assert set(after.details["texts"]) == set(LANGUAGES)
    page = client.get("/shops/pl-fresh").get_data(as_text=True)
    assert FILL_IN not in page
    # the API reads the same fresh score, in any language
    from concierge.operations.tokens import create_token

    with _db(app).session() as s:
        _, api = create_token(s, "crm")
    body = client.get("/api/v1/shops/pl-fresh/score?lang=pl", headers={"Authorization": f"Bearer {api}"}).get_json()
    assert body["scored_at"] == after.scored_at.isoformat() and body["current"] is True
    assert STORE not in [p["action"] for p in body["path"]] and "Uzupełnić" not in json.dumps(body)


def test_an_answer_that_changes_nothing_stores_no_new_score(app, client, model_and_shop):
    from concierge.operations.observations import record_answers
    from concierge.operations.scoring.service import rescore_shops

    with _db(app).session() as s:
        # the fixture's score was made a day ago: the shop is scored at its age today first (a
        # trial a day older gets a new score, its age is a feature), then the answer changes nothing
        rescore_shops(s, [s.scalar(select(Shop.id).where(Shop.platform_id == "pl-fresh"))])
    n = scores(app)
    with _db(app).session() as s:
        record_answers(s, "pl-fresh", {"owner.name": "Ania"}, actor="anna", source="call")  # not a feature
    assert scores(app) == n


def test_concierge_record_makes_the_score_fresh(app, db_url, model_and_shop):
    from concierge.cli import cli

    n = scores(app)
    r = CliRunner().invoke(cli, ["record", "pl-fresh", f"{STORE}=true", "--json"],
                           env={"CONCIERGE_DATABASE_URL": db_url}, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert scores(app) == n + 1 and STORE not in path_of(app)


def test_the_survey_page_makes_the_score_fresh(app, client, model_and_shop):
    from concierge.operations.survey_links import create_link

    with _db(app).session() as s:
        token = create_link(s, "pl-fresh", secret=app.config["SECRET_KEY"], created_by="test").token
    html = client.get(f"/s/{token}").get_data(as_text=True)
    attempt = re.search(r'name="attempt" value="([^"]+)"', html).group(1)
    r = client.post(f"/s/{token}", data={
        "csrf_token": csrf_from(html), "attempt": attempt, "action": "submit",
        "owner__name": "Zofia Kowalska", "owner__hours_per_week": "15", "experience__sold_online_before": "no",
        "experience__tech_comfort": "3", "needs__help_with": ["payments", "shipping"],
        "business__type": "handmade", "business__category": "crafts", "readiness__store_details": "yes"})
    assert r.status_code == 303, r.get_data(as_text=True)
    assert STORE not in path_of(app)


def test_the_events_webhook_makes_the_score_fresh(app, client, model_and_shop):
    from concierge.operations.tokens import create_token

    with _db(app).session() as s:
        _, api = create_token(s, "platform")
    event = {"id": "ev-fresh-1", "shop": "pl-fresh", "type": "store_details_completed",
             "occurred_at": (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(), "data": {}}
    r = client.post("/api/v1/events", data=json.dumps(event), content_type="application/json",
                    headers={"Authorization": f"Bearer {api}"})
    assert r.status_code == 201, r.get_json()
    assert STORE not in path_of(app)


def test_bulk_paths_leave_it_to_the_planner_which_calls_rescore_shops(app, model_and_shop):
    from concierge.operations.audits import plan_calls
    from concierge.operations.events import ingest_lines
    from concierge.operations.scoring.service import rescore_shops

    with _db(app).session() as s:
        plan_calls(s)  # the planner has seen every shop once
    n = scores(app)
    event = {"id": "ev-bulk-1", "shop": "pl-fresh", "type": "store_details_completed",
             "occurred_at": (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(), "data": {}}
    with _db(app).session() as s:
        assert ingest_lines(s, [(1, json.dumps(event))], channel="file").stored == 1
    assert scores(app) == n and STORE in path_of(app)  # a file: not scored inline
    with _db(app).session() as s:
        report = plan_calls(s)
    assert report.shops_rebuilt == 1 and report.rescored == 1
    assert scores(app) == n + 1 and STORE not in path_of(app)
    with _db(app).session() as s:
        assert plan_calls(s).rescored == 0  # nothing changed since: nothing scored again
        ids = list(s.scalars(select(Shop.id).where(Shop.platform_id == "pl-fresh")))
        assert rescore_shops(s, ids) == 0  # and scoring again gives the stored result: no new row


def test_a_model_that_cannot_be_loaded_never_stops_an_answer(app, client, model_and_shop):
    from concierge.operations.observations import record_answers
    from concierge.operations.scoring import store

    with _db(app).session() as s:
        s.add(ModelVersion(version="m-broken", kind="conversion", artifact=b"not a model", active=False))
        s.flush()
        store.activate_version(s, "m-broken")
    n = scores(app)
    with _db(app).session() as s:
        record_answers(s, "pl-fresh", {STORE: True}, actor="anna", source="call")
    assert scores(app) == n  # the old score stays; the answer is stored
    with _db(app).session() as s:
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == "pl-fresh"))
        from concierge.models import Observation

        assert s.scalar(select(func.count()).select_from(Observation).where(
            Observation.shop_id == shop_id, Observation.question == STORE)) == 1
