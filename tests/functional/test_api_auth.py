"""Bearer tokens on the API: missing, invalid and revoked tokens get 401 JSON; good ones are marked used."""
from __future__ import annotations

from sqlalchemy import select

from concierge.models import ApiToken
from concierge.operations.tokens import create_token, hash_token, revoke_token


def make_token(app, name="test"):
    db = app.extensions["concierge.db"]
    with db.session() as s:
        row, token = create_token(s, name)
    return row.id, token


def test_missing_token_is_401_json(client):
    resp = client.post("/api/v1/events", json={})
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_scheme_and_invalid_token_are_401(app, client):
    make_token(app)
    assert client.get("/api/v1/shops", headers={"Authorization": "Basic abc"}).status_code == 401
    resp = client.get("/api/v1/shops", headers={"Authorization": "Bearer cnc_not-a-real-token"})
    assert resp.status_code == 401 and "not valid" in resp.get_json()["message"]


def test_valid_token_works_and_records_last_use(app, client):
    tid, token = make_token(app)
    resp = client.get("/api/v1/shops", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.get_json() == {"shops": []}
    with app.extensions["concierge.db"].session() as s:
        row = s.get(ApiToken, tid)
        assert row.last_used_at is not None
        assert row.token_hash == hash_token(token) and token not in (row.prefix, row.token_hash)


def test_revoked_token_is_rejected(app, client):
    tid, token = make_token(app)
    with app.extensions["concierge.db"].session() as s:
        revoke_token(s, token[:12])
    resp = client.get("/api/v1/shops", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401
    with app.extensions["concierge.db"].session() as s:
        assert s.scalar(select(ApiToken.revoked_at).where(ApiToken.id == tid)) is not None


def test_the_api_refusals_speak_the_callers_language(app, client):
    """401, 403, 404 and a refused event answer in the language of Accept-Language (codes unchanged)."""
    resp = client.get("/api/v1/shops", headers={"Accept-Language": "pl"})
    assert resp.status_code == 401 and resp.get_json() == {
        "error": "unauthorized", "message": "Wyślij token API: Authorization: Bearer <token>"}
    resp = client.get("/api/v1/shops", headers={"Authorization": "Bearer cnc_nope", "Accept-Language": "tr"})
    assert resp.get_json()["message"] == "API belirteci geçersiz ya da iptal edilmiş"
    _, token = make_token(app)
    auth = {"Authorization": f"Bearer {token}"}
    resp = client.get("/api/v1/no-such-thing", headers={**auth, "Accept-Language": "hi"})
    assert resp.status_code == 404 and resp.get_json() == {"error": "not_found", "message": "ऐसा कोई संसाधन नहीं है।"}
    resp = client.get("/api/v1/shops/pl-1/privacy-export", headers={**auth, "Accept-Language": "pl"})
    assert resp.status_code == 403 and resp.get_json()["message"].startswith("To wymaga tokenu administratora")
    resp = client.post("/api/v1/events", data="x", headers={**auth, "Accept-Language": "tr"}, content_type="text/plain")
    assert resp.status_code == 415
    assert resp.get_json()["message"] == "Olay application/json olarak gönderilmelidir; yeniden işlenmek üzere saklandı"
    resp = client.delete("/api/v1/shops", headers={**auth, "Accept-Language": "pl"})
    assert resp.status_code == 405 and "GET" in resp.headers["Allow"]
    assert resp.get_json() == {"error": "method_not_allowed", "message": "Ta metoda nie jest tu dozwolona."}
    resp = client.get("/api/v1/no-such-thing", headers=auth)  # English without Accept-Language
    assert resp.get_json()["message"] == "There is no such resource."


def test_a_refusal_with_the_default_summary_says_it_in_the_callers_language(app):
    """ValidationFailed's default summary (errors.NOT_ACCEPTED) is said in the API caller's language
    (the API's error handler) and kept as it is where no language is asked for."""
    from concierge.api import _concierge_error
    from concierge.errors import NOT_ACCEPTED, ValidationFailed

    refusal = ValidationFailed([{"field": "x", "code": "bad", "message": "x: bad"}])
    assert refusal.as_dict()["message"] == NOT_ACCEPTED == "The submission was not accepted"
    with app.test_request_context("/api/v1/shops", headers={"Accept-Language": "pl"}):
        resp = _concierge_error(refusal)
    assert resp.status_code == 422
    assert resp.get_json() == {"error": "validation_failed", "message": "Zgłoszenie nie zostało przyjęte",
                               "errors": [{"field": "x", "code": "bad", "message": "x: bad"}]}
    given = ValidationFailed([], "Nie przyjęto")  # a summary its raiser gave stays as it is
    assert given.as_dict("tr")["message"] == "Nie przyjęto"
