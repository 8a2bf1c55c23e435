"""POST /api/v1/surveys through the Flask test client, on SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from concierge.models import DeadLetter, Observation, Submission
from concierge.operations.deadletters import replay
from concierge.operations.shops import ensure_shop
from concierge.operations.tokens import create_token

COMPLETE = {
    "owner.name": "Anna Kowalska",
    "owner.hours_per_week": 15,
    "experience.sold_online_before": True,
    "experience.platforms": ["marketplace", "social_media"],
    "experience.tech_comfort": 3,
    "needs.help_with": ["payments", "shipping"],
    "business.type": "handmade",
    "business.category": "crafts",
    "business.expected_monthly_turnover": {"amount": 8000.5, "currency": "PLN"},
    "business.sells_on_marketplace": True,
    "business.marketplaces": ["allegro"],
}


@pytest.fixture
def token(app):
    with app.extensions["concierge.db"].session() as s:
        _row, tok = create_token(s, "typeform")
    return tok


@pytest.fixture
def shops(app):
    with app.extensions["concierge.db"].session() as s:
        ensure_shop(s, "pl-1001", "PL")
        ensure_shop(s, "tr-2001", "TR")


def post(client, token, body, *, raw=None, headers=None):
    h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})}
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return client.post("/api/v1/surveys", data=data, headers=h)


def counts(app):
    with app.extensions["concierge.db"].session() as s:
        return (s.scalar(select(func.count(Submission.id))), s.scalar(select(func.count(Observation.id))),
                s.scalar(select(func.count(DeadLetter.id))))


def test_valid_survey_is_stored_whole(app, client, token, shops):
    resp = post(client, token, {"shop": "pl-1001", "language": "pl", "response_id": "r-1",
                                "submitted_at": "2026-11-02T10:15:00+01:00", "answers": COMPLETE})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["shop"] == "pl-1001" and body["accepted"] == len(COMPLETE)
    with app.extensions["concierge.db"].session() as s:
        sub = s.get(Submission, body["submission_id"])
        assert (sub.source, sub.channel, sub.reference, sub.actor) == ("survey", "api", "r-1", "api:typeform")
        obs = {o.question: o for o in s.scalars(select(Observation).where(Observation.submission_id == sub.id))}
    assert set(obs) == set(COMPLETE)
    assert obs["business.expected_monthly_turnover"].value == {"amount": 8000.5, "currency": "PLN"}
    assert obs["owner.name"].observed_at.isoformat() == "2026-11-02T09:15:00+00:00"
    assert {o.source for o in obs.values()} == {"survey"}
    assert counts(app)[2] == 0


def test_one_bad_answer_stores_nothing_and_names_the_field_in_polish(app, client, token, shops):
    answers = {**COMPLETE, "owner.hours_per_week": 120}
    resp = post(client, token, {"shop": "pl-1001", "language": "pl", "answers": answers})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["error"] == "validation_failed"
    assert body["message"] == "Ankieta nie została przyjęta; nic nie zapisano"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("answers.owner.hours_per_week", "above_max")]
    assert body["errors"][0]["message"] == "Godziny tygodniowo na sklep: może wynosić najwyżej 100"
    assert counts(app)[:2] == (0, 0)


def test_interview_rule_errors_come_in_turkish_from_accept_language(app, client, token, shops):
    # shape is fine (passes the JSON Schema) but Allegro is a Polish marketplace: the interview says no
    answers = {**COMPLETE, "business.marketplaces": ["allegro"], "business.expected_monthly_turnover": None}
    resp = post(client, token, {"shop": "tr-2001", "answers": answers},
                headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"})
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("answers.business.marketplaces", "choice_not_in_market")]
    assert errors[0]["message"].startswith("Hangi pazaryerleri: 'allegro' TR pazarında mevcut değil")
    assert resp.get_json()["message"] == "Anket kabul edilmedi; hiçbir şey kaydedilmedi"
    assert counts(app)[:2] == (0, 0)


def test_body_language_wins_over_accept_language_and_unknown_falls_back_to_english(app, client, token, shops):
    resp = post(client, token, {"shop": "pl-1001", "language": "pl-PL", "answers": {"owner.name": 5}},
                headers={"Accept-Language": "tr"})
    assert resp.get_json()["errors"][0]["message"].startswith("Imię i nazwisko właściciela: musi być typu tekst")
    resp = post(client, token, {"shop": "pl-1001", "language": "de", "answers": {"owner.name": 5}},
                headers={"Accept-Language": "de-DE"})
    assert resp.get_json()["errors"][0]["message"].startswith("Owner's name: must be text")


def test_required_survey_fields(app, client, token, shops):
    answers = {k: v for k, v in COMPLETE.items() if k not in ("owner.name", "business.category")}
    resp = post(client, token, {"shop": "pl-1001", "language": "en", "answers": answers})
    assert resp.status_code == 422
    errs = {e["field"]: e for e in resp.get_json()["errors"]}
    assert set(errs) == {"answers.owner.name", "answers.business.category"}
    assert errs["answers.owner.name"]["code"] == "required"
    assert errs["answers.owner.name"]["message"] == "Owner's name: is required"
    assert counts(app)[:2] == (0, 0)


def test_required_fields_known_from_an_earlier_survey_need_not_be_repeated(app, client, token, shops):
    assert post(client, token, {"shop": "pl-1001", "answers": COMPLETE}).status_code == 201
    resp = post(client, token, {"shop": "pl-1001", "answers": {"needs.main_goal": "Sprzedawać ceramikę"}})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["accepted"] == 1


def test_skip_logic_rejects_marketplaces_when_not_selling_on_one(app, client, token, shops):
    answers = {**COMPLETE, "business.sells_on_marketplace": False, "business.marketplaces": ["allegro"]}
    resp = post(client, token, {"shop": "pl-1001", "language": "en", "answers": answers})
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("answers.business.marketplaces", "not_relevant")]
    assert "Sells on a marketplace" in errors[0]["message"]
    assert counts(app)[:2] == (0, 0)


def test_duplicate_response_id_returns_200_and_stores_nothing_new(app, client, token, shops):
    body = {"shop": "pl-1001", "response_id": "resp-77", "answers": COMPLETE}
    first = post(client, token, body)
    assert first.status_code == 201
    before = counts(app)
    again = post(client, token, {**body, "answers": {**COMPLETE, "owner.hours_per_week": 40}})
    assert again.status_code == 200
    assert again.get_json() == {"duplicate": True, "shop": "pl-1001",
                                "submission_id": first.get_json()["submission_id"]}
    assert counts(app) == before
    # the same response id for another shop is another response
    assert post(client, token, {**body, "shop": "tr-2001", "answers": {
        **COMPLETE, "business.marketplaces": ["trendyol"],
        "business.expected_monthly_turnover": {"amount": 50000}}}).status_code == 201


def test_malformed_json_is_400_and_dead_lettered_verbatim(app, client, token, shops):
    raw = b'{"shop": "pl-1001", "answers": {"owner.name": "Zofia \xc5\x81\xc4\x85cka",'  # cut short
    resp = post(client, token, None, raw=raw, headers={"Accept-Language": "pl"})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "malformed_json" and body["message"].startswith("Treść żądania nie jest poprawnym JSON-em")
    with app.extensions["concierge.db"].session() as s:
        dl = s.get(DeadLetter, body["dead_letter"])
        assert dl.channel == "surveys" and dl.payload == raw.decode("utf-8")
        assert dl.errors[0]["code"] == "malformed_json"
    assert counts(app)[:2] == (0, 0)


def test_body_that_is_not_utf8_is_kept_readable(app, client, token, shops):
    raw = '{"shop": "pl-1001", "answers": {"owner.name": "Łucja"}}'.encode("cp1250")
    resp = post(client, token, None, raw=raw)
    assert resp.status_code == 400
    with app.extensions["concierge.db"].session() as s:
        dl = s.get(DeadLetter, resp.get_json()["dead_letter"])
    assert dl.payload == '{"shop": "pl-1001", "answers": {"owner.name": "\\xa3ucja"}}'


def test_rejected_survey_is_dead_lettered_verbatim_with_context(app, client, token, shops):
    raw = ('{"shop":"pl-1001",  "language":"pl", "answers":{"owner.hours_per_week": 120, '
           '"owner.name":"Zażółć Gęślą"}}').encode("utf-8")
    resp = post(client, token, None, raw=raw)
    assert resp.status_code == 422
    with app.extensions["concierge.db"].session() as s:
        dl = s.get(DeadLetter, resp.get_json()["dead_letter"])
        assert dl.payload == raw.decode("utf-8")  # byte for byte, odd spacing included
        assert dl.context["language"] == "pl" and dl.context["actor"] == "api:typeform"
        assert dl.context["status"] == 422 and dl.context["shop"] == "pl-1001"
        assert {e["field"] for e in dl.errors} >= {"answers.owner.hours_per_week"}


def test_unknown_shop_is_404_dead_lettered_and_replayed_once_the_shop_arrives(app, client, token):
    body = {"shop": "pl-9999", "language": "pl", "response_id": "late-1", "answers": COMPLETE}
    resp = post(client, token, body)
    assert resp.status_code == 404
    out = resp.get_json()
    assert out["error"] == "not_found" and out["errors"][0]["field"] == "shop"
    assert out["message"] == "brak sklepu o identyfikatorze 'pl-9999'"
    db = app.extensions["concierge.db"]
    with db.session() as s:  # the cause is still there: replay fails, the letter stays pending
        [result] = replay(s, [out["dead_letter"]])
        assert not result.ok and result.errors[0]["code"] == "unknown_shop"
    with db.session() as s:
        ensure_shop(s, "pl-9999", "PL")
    with db.session() as s:
        [result] = replay(s, [out["dead_letter"]])
        assert result.ok and result.status == "replayed"
    with db.session() as s:
        sub = s.scalars(select(Submission)).one()
        assert (sub.reference, sub.source, sub.actor) == ("late-1", "survey", "api:typeform")
        assert s.scalar(select(func.count(Observation.id))) == len(COMPLETE)
    # a late repeat of the same response is a duplicate, not a second copy
    assert post(client, token, body).status_code == 200


def test_bad_body_shapes_are_422_naming_fields(app, client, token, shops):
    resp = post(client, token, {"shop": "", "answers": {"nope.question": 1}, "extra": True,
                                "submitted_at": "yesterday"})
    assert resp.status_code == 422
    fields = {(e["field"], e["code"]) for e in resp.get_json()["errors"]}
    assert fields == {("shop", "too_short"), ("answers.nope.question", "unknown_field"),
                      ("extra", "unknown_field"), ("submitted_at", "invalid_format")}
    resp = post(client, token, [1, 2])
    assert resp.status_code == 400 and resp.get_json()["errors"][0]["code"] == "not_an_object"
    assert counts(app)[:2] == (0, 0)
    assert counts(app)[2] == 2


def test_submitted_at_in_the_future_is_rejected(app, client, token, shops):
    resp = post(client, token, {"shop": "pl-1001", "submitted_at": "2999-01-01T00:00:00Z", "answers": COMPLETE})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["field"] == "submitted_at"
    assert resp.get_json()["errors"][0]["code"] == "in_future"


def test_no_token_is_401_and_not_dead_lettered(app, client, shops):
    resp = client.post("/api/v1/surveys", json={"shop": "pl-1001", "answers": COMPLETE})
    assert resp.status_code == 401
    assert counts(app) == (0, 0, 0)


def test_a_retried_rejected_request_keeps_one_dead_letter(app, client, token, shops):
    body = {"shop": "pl-1001", "answers": {**COMPLETE, "owner.hours_per_week": -3}}
    ids = {post(client, token, body).get_json()["dead_letter"] for _ in range(3)}
    assert len(ids) == 1
    with app.extensions["concierge.db"].session() as s:
        dl = s.get(DeadLetter, ids.pop())
        assert dl.context["repeats"] == 2 and dl.errors[0]["code"] == "below_min"
    assert counts(app) == (0, 0, 1)


def test_absurdly_deep_json_is_400_not_a_crash(app, client, token, shops):
    raw = ("[" * 100000 + "]" * 100000).encode()
    resp = post(client, token, None, raw=raw)
    assert resp.status_code == 400 and resp.get_json()["error"] == "malformed_json"
