"""Train, store (skops), score and evaluate on real SQLite and PostgreSQL, through the CLI and the API."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from concierge.cli import cli
from concierge.models import ModelVersion, Score, Shop
from concierge.operations.tokens import create_token
from concierge.operations.scoring.service import train_model
from concierge.scoring.synthetic import make_trials
from locales import LANGUAGES
from tests.support import load_trials


def run(db_url, *args):
    result = CliRunner().invoke(cli, list(args), env={"CONCIERGE_DATABASE_URL": db_url}, catch_exceptions=False)
    return result


def test_train_score_evaluate_through_the_cli(database, db_url):
    with database.sessionmaker() as s:
        load_trials(s, make_trials(1400, seed=5, months=5), open_last=5)
    r = run(db_url, "model", "train", "--ages", "7", "--json")
    assert r.exit_code == 0, r.output
    trained = json.loads(r.output)
    card = trained["card"]
    assert trained["active"] is True
    assert card["split"]["kind"] == "out_of_time"
    assert max(card["split"]["train_cohorts"]) < min(card["split"]["test_cohorts"])
    assert card["rows"]["train"] + card["rows"]["test"] == 1395
    for k in ("auc", "pr_auc", "prevalence", "brier", "brier_skill", "log_loss", "ece"):
        assert card["metrics"][k] is not None, k
    assert card["metrics"]["auc"] > 0.6
    assert set(card["per_market"]) == {"PL", "TR", "IN"}

    r = run(db_url, "score", "syn-5-1399", "--json", "--lang", "pl")
    assert r.exit_code == 0, r.output
    one = json.loads(r.output)
    assert one["model_version"] == trained["version"]
    assert 0 < one["probability"] < 1
    assert one["reasons"]["up"] or one["reasons"]["down"]
    assert all(("szans" in x["text"]) for x in one["reasons"]["up"] + one["reasons"]["down"])
    assert "zakończonych" in one["history"]
    # beside the reasons, the score against the base rate, in the reader's language (issue 14)
    assert 0 < one["base_rate"] < 1
    assert f"wobec średniej {int(one['base_rate'] * 100 + 0.5)}%" in one["summary"]

    r = run(db_url, "score", "--all", "--json")
    queue = json.loads(r.output)
    assert queue["scored"] == 5
    gains = [x["uplift"] for x in queue["scores"]]
    assert gains == sorted(gains, reverse=True)
    with database.sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Score)) == 6
        ids = set(s.scalars(select(Score.model_version_id)))
        assert ids == {s.scalar(select(ModelVersion.id).where(ModelVersion.version == trained["version"]))}

    r = run(db_url, "model", "evaluate", "--json", "--bootstrap", "20")
    ev = json.loads(r.output)
    assert ev["oracle"]["auc"] >= ev["model"]["auc"] - 0.05
    assert len(ev["model"]["auc_ci"]) == 2 and ev["model"]["auc_ci"][0] <= ev["model"]["auc_ci"][1]
    for k in ("qini_model", "qini_oracle", "qini_by_likelihood"):
        assert k in ev["uplift"]
    assert set(ev["checks"]) >= {"auc_within_0.01_of_oracle", "ece_at_most_0.02"}
    # the gap is the paired difference on the same trials, its interval around it
    gaps = ev["gaps"]
    given = ev["model_given_treatment"] or ev["model"]
    assert gaps["auc_oracle_minus_model"] == pytest.approx(ev["oracle"]["auc"] - given["auc"], abs=2e-4)
    assert gaps["auc_gap_ci"][0] <= gaps["auc_oracle_minus_model"] <= gaps["auc_gap_ci"][1]
    assert gaps["brier_gap_ci"][0] <= gaps["brier_model_minus_oracle"] <= gaps["brier_gap_ci"][1]

    r = run(db_url, "score", "syn-5-1399")  # the text output says the summary too
    assert f"against a base rate of {int(one['base_rate'] * 100 + 0.5)}%" in r.output


def test_versions_list_and_activate(database, db_url):
    with database.sessionmaker() as s:
        load_trials(s, make_trials(300, seed=6, months=4))
    first = json.loads(run(db_url, "model", "train", "--ages", "7", "--json").output)
    second = json.loads(run(db_url, "model", "train", "--ages", "7", "--json", "--seed", "1").output)
    assert first["card"]["kind"] == "fallback"  # 300 trials: too little for boosting
    listed = json.loads(run(db_url, "model", "list", "--json").output)["models"]
    assert [m["active"] for m in listed if m["version"] == second["version"]] == [True]
    assert sum(m["active"] for m in listed) == 1
    r = run(db_url, "model", "activate", first["version"], "--json")
    assert json.loads(r.output) == {"version": first["version"], "active": True}
    listed = json.loads(run(db_url, "model", "list", "--json").output)["models"]
    assert [m["version"] for m in listed if m["active"]] == [first["version"]]
    r = run(db_url, "model", "activate", "nope")
    assert r.exit_code != 0 and "nope" in r.output


def test_no_history_is_a_clear_error(database, db_url):
    r = run(db_url, "model", "train", "--ages", "7")
    assert r.exit_code != 0
    assert "finished trials" in r.output
    r = run(db_url, "score", "--all")
    assert r.exit_code != 0 and "model train" in r.output


def test_score_endpoint(app, client):
    db = app.extensions["concierge.db"]
    with db.session() as s:
        load_trials(s, make_trials(300, seed=11, months=4), open_last=2)
        _, token = create_token(s, "test")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/shops/syn-11-299/score").status_code == 401
    r = client.get("/api/v1/shops/syn-11-299/score", headers=auth)
    assert r.status_code == 404 and "model train" in r.get_json()["message"]
    with db.session() as s:
        version = train_model(s, ages=[7]).version
    r = client.get("/api/v1/shops/syn-11-299/score?lang=tr", headers=auth)
    assert r.status_code == 404 and r.get_json()["error"] == "no_score"  # a GET never scores
    assert "POST /api/v1/shops/syn-11-299/score" in r.get_json()["message"]
    r = client.post("/api/v1/shops/syn-11-299/score?lang=tr", headers=auth)
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["model_version"] == version and made["current"] is True and made["lang"] == "tr"
    assert "texts" not in made
    r = client.get("/api/v1/shops/syn-11-299/score?lang=tr", headers=auth)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["model_version"] == version and 0 < body["probability"] < 1 and body["current"] is True
    assert body["fallback"] is not None and "basit" in body["fallback"]["message"]  # 300 trials: the fallback
    assert {"up", "down"} == set(body["reasons"])
    assert body["scored_at"] == made["scored_at"]  # the stored score, not a new one
    polish = client.get("/api/v1/shops/syn-11-299/score?lang=pl", headers=auth).get_json()
    assert polish["scored_at"] == made["scored_at"] and polish["lang"] == "pl"  # stored in every language
    assert "Mało historii" in polish["fallback"]["message"] or "mało historii" in polish["fallback"]["message"]
    assert polish["probability"] == body["probability"]
    assert [x["effect"] for x in polish["reasons"]["up"]] == [x["effect"] for x in body["reasons"]["up"]]
    r = client.get("/api/v1/shops/syn-11-299/score?refresh=1", headers=auth)
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "use_post"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Score)) == 1
    assert client.get("/api/v1/shops/nope/score", headers=auth).status_code == 404
    r = client.get("/api/v1/shops/syn-11-299/score?lang=xx", headers=auth)
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "lang"


def test_only_trials_whose_decision_window_has_closed_are_learned_from(database):
    """A 'not converted' may still buy (PL deliberates 60 days, TR 14): such trials are not used, either way."""
    from datetime import datetime, timezone

    from concierge.models import TrialEvent
    from concierge.operations.scoring.data import data_clock, finished_trials

    clock = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    ended = clock - timedelta(days=20)  # 20 days ago: past TR's 14-day window, inside PL's 60 days

    def shop(pid, market, outcome, bought_days_after_end=None, ends=ended):
        start = ends - timedelta(days=14)
        outcome_at = ends if bought_days_after_end is None else ends + timedelta(days=bought_days_after_end)
        return Shop(platform_id=pid, market=market, trial_started_at=start, trial_ends_at=ends,
                    outcome=outcome, outcome_at=outcome_at)

    with database.sessionmaker() as s:
        shops = [
            shop("pl-open-no", "PL", "not_converted"),
            shop("pl-open-yes", "PL", "converted", -1),     # bought early, but its peers' outcomes are not final
            shop("tr-closed-no", "TR", "not_converted"),
            shop("tr-closed-yes", "TR", "converted", 1),
            shop("pl-old-late", "PL", "converted", 75, ends=clock - timedelta(days=200)),  # bought after the window
            shop("pl-old-yes", "PL", "converted", 10, ends=clock - timedelta(days=200)),
        ]
        s.add_all(shops)
        s.flush()
        s.add(TrialEvent(id="e-last", shop_id=shops[2].id, type="trial_ended", occurred_at=clock,
                         body_sha256="0" * 64, payload={}))
        s.commit()
        assert data_clock(s) == clock
        loaded = finished_trials(s, snapshot_day=7)
        labels = {r.snapshot.shop: r.outcome for r in loaded.rows}
        assert labels == {"tr-closed-no": 0, "tr-closed-yes": 1, "pl-old-late": 0, "pl-old-yes": 1}
        assert loaded.skipped["outcome_window_open"] == 2
        # judged as of a later day, the Polish window has closed too
        later = finished_trials(s, snapshot_day=7, as_of=clock + timedelta(days=41))
        assert {r.snapshot.shop for r in later.rows} >= {"pl-open-no", "pl-open-yes"}


def test_shop_page_gives_the_reasons_in_the_readers_language(app, client):
    """The call queue stored the score once; a Polish consultant's page shows its reasons in Polish,
    and reading the page or the picture stores nothing."""
    from concierge.operations.users import create_user
    from concierge.operations.scoring.service import score_open

    db = app.extensions["concierge.db"]
    with db.session() as s:
        load_trials(s, make_trials(300, seed=11, months=4), open_last=2)
        train_model(s, ages=[7])
        score_open(s, lang="en")
        create_user(s, "ola@example.com", password="correct horse battery", role="consultant",
                    language="pl", name="Ola")
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
    assert client.post("/login", data={"email": "ola@example.com", "password": "correct horse battery",
                                       "csrf_token": token}).status_code == 302
    with db.session() as s:
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == "syn-11-299"))
        english = s.scalars(select(Score).where(Score.shop_id == shop_id)).one()
        assert english.details["lang"] == "en" and set(english.details["texts"]) == set(LANGUAGES)
        reason_en = (english.details["reasons"]["up"] + english.details["reasons"]["down"])[0]["text"]
    body = client.get("/shops/syn-11-299").get_data(as_text=True)
    assert "pp)" in reason_en and reason_en not in body
    assert "szansę o" in body  # "podnosi/obniża szansę o N pp": the reason in Polish
    # 300 trials: the whole model is the fallback, and the page says so in the score's own words
    assert "Na razie mało historii" in body and "reguła orientacyjna" not in body
    client.get("/shops/syn-11-299/picture.svg")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Score).where(Score.shop_id == shop_id)) == 1


def test_a_score_stored_in_one_language_by_an_older_model_is_shown_as_stored(app, client):
    """Before scores carried every language: shown in the language it was made in, never made again on a read."""
    from concierge.operations.users import create_user

    db = app.extensions["concierge.db"]
    with db.session() as s:
        load_trials(s, make_trials(300, seed=11, months=4), open_last=2)
        old = ModelVersion(version="m-old", kind="fallback", artifact=b"", active=False)
        s.add(old)
        s.flush()
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == "syn-11-299"))
        s.add(Score(shop_id=shop_id, model_version_id=old.id, probability=0.42, uplift=None,
                    details={"lang": "en", "history": "Learned from 9 finished trials", "fallback": None,
                             "reasons": {"up": [{"factor": "x", "effect": 0.1, "text": "Old English reason"}],
                                         "down": []}, "path": []}))
        train_model(s, ages=[7])
        create_user(s, "ola@example.com", password="correct horse battery", role="consultant",
                    language="pl", name="Ola")
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
    client.post("/login", data={"email": "ola@example.com", "password": "correct horse battery",
                                "csrf_token": token})
    body = client.get("/shops/syn-11-299").get_data(as_text=True)
    assert "Old English reason" in body and "42 %" in body
    with db.session() as s:
        _, api = create_token(s, "crm")
    r = client.get("/api/v1/shops/syn-11-299/score?lang=pl", headers={"Authorization": f"Bearer {api}"})
    assert r.status_code == 200
    assert r.get_json()["lang"] == "en" and r.get_json()["current"] is False
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Score)) == 1
