"""Privacy export and erase through every channel: the CLI, the admin's web page, the API (admin tokens)."""
from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from concierge.models import Observation, PrivacyErasure, Shop
from tests.support import app_db as _db, csrf_from as _csrf

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
NAME, EMAIL, PHONE, TAX_ID = "Ayşe Yılmaz-Öztürk", "ayse.ozturk@posta.example", "+90 532 123 45 67", "10000000146"
PASSWORD = "a long enough password"


def _merchant(session, platform_id="tr-9"):
    from concierge.operations.events import ingest_event
    from concierge.operations.observations import record_answers

    out = ingest_event(session, json.dumps({
        "id": f"{platform_id}-start", "type": "trial_started", "shop": platform_id, "occurred_at": T0.isoformat(),
        "data": {"market": "TR", "shop_name": "Ayşe'nin Dükkanı", "owner": {"name": NAME, "email": EMAIL, "phone": PHONE},
                 "trial_ends_at": (T0 + timedelta(days=14)).isoformat()}}), now=T0)
    assert out.status == "stored", out
    record_answers(session, platform_id, {"owner.tax_id": TAX_ID}, actor="anna", now=T0, rescore=False)


# --------------------------------------------------------------------------- CLI

@pytest.fixture
def run(cli_run):
    return lambda *args: cli_run(*args, env={"CONCIERGE_ACTOR": "dpo"})


def test_cli_export_json_csv_and_erase(run, database, tmp_path):
    with database.session() as s:
        _merchant(s)
    res = run("privacy", "export", "tr-9")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["shop_id"] == "tr-9" and EMAIL in res.stdout and TAX_ID in res.stdout
    out = tmp_path / "tr-9.zip"
    res = run("privacy", "export", "tr-9", "--csv", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    archive = zipfile.ZipFile(out)
    assert EMAIL in archive.read("observations.csv").decode("utf-8-sig")
    assert run("privacy", "export", "tr-9", "--csv").exit_code == 2  # a zip needs --out

    assert run("privacy", "erase", "tr-9").exit_code == 2  # --reason is required
    res = run("privacy", "erase", "tr-9", "--reason", "KVKK başvurusu 17", "--json")
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    assert result["counts"]["observations"] == 4 and result["already_erased"] is False
    res = run("privacy", "erase", "tr-9", "--reason", "again")
    assert res.exit_code == 0 and "already erased" in res.stdout
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) >= 0
        rows = list(s.scalars(select(PrivacyErasure).order_by(PrivacyErasure.id)))
        assert [(r.actor, r.channel) for r in rows] == [("dpo", "cli"), ("dpo", "cli")]
    after = run("privacy", "export", "tr-9").stdout
    for value in (NAME, EMAIL, TAX_ID, json.dumps(NAME)[1:-1]):
        assert value not in after

    res = run("privacy", "erase", "nope", "--reason", "x", "--json")
    assert res.exit_code == 1 and json.loads(res.stdout)["error"] == "not_found"


# --------------------------------------------------------------------------- web

def _login(app, client, role: str, email: str):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, email, password=PASSWORD, role=role, language="en", name=role.title())
    token = _csrf(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302


def test_web_admin_exports_and_erases_with_a_confirmed_csrf_form(app, client):
    with _db(app).session() as s:
        _merchant(s)
    _login(app, client, "admin", "root@example.com")
    shop_page = client.get("/shops/tr-9").get_data(as_text=True)
    assert "/shops/tr-9/privacy" in shop_page
    page = client.get("/shops/tr-9/privacy")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert EMAIL in html
    export = client.get("/shops/tr-9/privacy/export.json")
    assert export.status_code == 200 and EMAIL in export.get_data(as_text=True)
    assert "attachment" in export.headers["Content-Disposition"] and export.headers["Cache-Control"] == "no-store"
    z = client.get("/shops/tr-9/privacy/export.zip")
    assert z.status_code == 200 and "shop.csv" in zipfile.ZipFile(io.BytesIO(z.data)).namelist()

    token = _csrf(html)
    # no CSRF token: refused, nothing erased
    assert client.post("/shops/tr-9/privacy/erase", data={"reason": "r", "confirm": "tr-9"}).status_code == 400
    # the shop id not typed again, no reason: 422 naming both, nothing erased
    bad = client.post("/shops/tr-9/privacy/erase", data={"csrf_token": token, "reason": " ", "confirm": "tr-8"})
    assert bad.status_code == 422
    assert "Type the shop id tr-9" in bad.get_data(as_text=True) and "Say why" in bad.get_data(as_text=True)
    with _db(app).session() as s:
        assert s.scalar(select(func.count()).select_from(PrivacyErasure)) == 0
    ok = client.post("/shops/tr-9/privacy/erase", data={"csrf_token": token, "reason": "ticket 7", "confirm": "tr-9"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/shops/tr-9/privacy")
    html = client.get("/shops/tr-9/privacy").get_data(as_text=True)
    assert "personal data is erased" in html and EMAIL not in html and "ticket 7" in html
    with _db(app).session() as s:
        row = s.scalars(select(PrivacyErasure)).one()
        assert (row.actor, row.channel) == ("root@example.com", "web")
        assert s.scalar(select(Shop.name).where(Shop.platform_id == "tr-9")) is None


@pytest.mark.parametrize("role", ["consultant", "manager"])
def test_web_privacy_is_for_admins_only(app, client, role):
    with _db(app).session() as s:
        _merchant(s)
    _login(app, client, role, f"{role}@example.com")
    assert "/shops/tr-9/privacy" not in client.get("/shops/tr-9").get_data(as_text=True)
    assert client.get("/shops/tr-9/privacy").status_code == 403
    assert client.get("/shops/tr-9/privacy/export.json").status_code == 403
    token = _csrf(client.get("/shops/tr-9").get_data(as_text=True))
    assert client.post("/shops/tr-9/privacy/erase",
                       data={"csrf_token": token, "reason": "r", "confirm": "tr-9"}).status_code == 403
    with _db(app).session() as s:
        assert s.scalar(select(func.count()).select_from(PrivacyErasure)) == 0


def test_web_privacy_needs_a_login(app, client):
    assert client.get("/shops/tr-9/privacy").status_code == 302


# --------------------------------------------------------------------------- API

@pytest.fixture
def tokens(app):
    from concierge.operations.tokens import create_token

    with _db(app).session() as s:
        _merchant(s)
        _, plain = create_token(s, "crm")
        _, admin = create_token(s, "dpo-tool", role="admin")
    return {"integration": {"Authorization": f"Bearer {plain}"}, "admin": {"Authorization": f"Bearer {admin}"}}


def test_api_export_and_erase_need_an_admin_token(client, tokens, app):
    assert client.get("/api/v1/shops/tr-9/privacy-export").status_code == 401
    res = client.get("/api/v1/shops/tr-9/privacy-export", headers=tokens["integration"])
    assert res.status_code == 403 and res.get_json()["error"] == "forbidden"
    res = client.post("/api/v1/shops/tr-9/privacy-erase", headers=tokens["integration"], json={"reason": "x"})
    assert res.status_code == 403
    with _db(app).session() as s:
        assert s.scalar(select(func.count()).select_from(PrivacyErasure)) == 0

    res = client.get("/api/v1/shops/tr-9/privacy-export", headers=tokens["admin"])
    assert res.status_code == 200 and res.headers["Cache-Control"] == "no-store"
    assert EMAIL in res.get_data(as_text=True) and res.get_json()["shop_id"] == "tr-9"
    assert client.get("/api/v1/shops/nope/privacy-export", headers=tokens["admin"]).status_code == 404

    res = client.post("/api/v1/shops/tr-9/privacy-erase", headers={**tokens["admin"], "Accept-Language": "pl"},
                      json={})
    assert res.status_code == 422 and res.get_json()["errors"][0]["field"] == "reason"
    res = client.post("/api/v1/shops/tr-9/privacy-erase", headers=tokens["admin"], json={"reason": "DSR-1"})
    assert res.status_code == 200, res.get_json()
    body = res.get_json()
    assert body["erased"] > 0 and body["already_erased"] is False
    again = client.post("/api/v1/shops/tr-9/privacy-erase", headers=tokens["admin"], json={"reason": "DSR-1"})
    assert again.status_code == 200 and again.get_json()["already_erased"] is True
    after = client.get("/api/v1/shops/tr-9/privacy-export", headers=tokens["admin"]).get_data(as_text=True)
    assert EMAIL not in after and TAX_ID not in after
    with _db(app).session() as s:
        assert [r.actor for r in s.scalars(select(PrivacyErasure))] == ["api:dpo-tool", "api:dpo-tool"]


def test_api_privacy_routes_are_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["paths"]["/api/v1/shops/{shop}/privacy-export"]["get"]["operationId"] == "exportShopPersonalData"
    erase = doc["paths"]["/api/v1/shops/{shop}/privacy-erase"]["post"]
    assert erase["security"] == [{"bearerAuth": []}] and "403" in erase["responses"]


def test_token_roles_are_listed(run):
    res = run("token", "create", "dpo", "--role", "admin", "--json")
    assert res.exit_code == 0 and json.loads(res.stdout)["role"] == "admin"
    listed = json.loads(run("token", "list", "--json").stdout)
    assert [t["role"] for t in listed] == ["admin"]
