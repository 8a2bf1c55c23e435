"""GET/PUT /api/v1/shops/<shop>/contact-preferences: the merchant's wishes from a CRM (both databases).

The same operation as the survey's form and `concierge callback preferences`, so the answers match
the CLI's; every bad field is named and nothing is stored then."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from concierge.models import ContactPreference, Observation


@pytest.fixture
def auth(db, bearer):
    from concierge.operations.shops import ensure_shop

    with db.session() as s:
        ensure_shop(s, "tr-1", "TR", name="Dükkan")
        ensure_shop(s, "pl-1", "PL", name="Ceramika")
    return bearer("crm")


def put(client, auth, shop, body, **headers):
    return client.put(f"/api/v1/shops/{shop}/contact-preferences", data=json.dumps(body),
                      headers={**auth, **headers}, content_type="application/json")


def counts(db):
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(Observation)),
                s.scalar(select(func.count()).select_from(ContactPreference)))


def test_wishes_are_read_replaced_and_read_back(client, auth, db):
    assert client.get("/api/v1/shops/tr-1/contact-preferences").status_code == 401
    got = client.get("/api/v1/shops/tr-1/contact-preferences", headers=auth)
    assert got.status_code == 200
    assert got.get_json() == {"shop": "tr-1", "days": None, "hours": None, "channel": None,
                              "channels": ["phone", "whatsapp"]}
    saved = put(client, auth, "tr-1", {"days": [3, 1], "hours": "evening", "channel": "whatsapp"})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json() == {"shop": "tr-1", "days": [1, 3], "hours": "evening", "channel": "whatsapp",
                                "channels": ["phone", "whatsapp"], "moved": []}
    again = client.get("/api/v1/shops/tr-1/contact-preferences", headers=auth).get_json()
    assert again == {k: v for k, v in saved.get_json().items() if k != "moved"}
    with db.session() as s:  # hours and channel are the profile's answers, as the survey stores them
        answers = dict(s.execute(select(Observation.question, Observation.value)
                                 .where(Observation.question.in_(["needs.preferred_call_time",
                                                                  "needs.preferred_contact"]))).all())
    assert answers == {"needs.preferred_call_time": "evening", "needs.preferred_contact": "whatsapp"}
    # all seven days, or none: any day
    assert put(client, auth, "tr-1", {"days": [1, 2, 3, 4, 5, 6, 7], "hours": "morning",
                                      "channel": "phone"}).get_json()["days"] is None


def test_bad_wishes_are_named_and_nothing_is_stored(client, auth, db):
    before = counts(db)
    # Poland offers no WhatsApp calls: the channel is named, in the caller's language
    bad = put(client, auth, "pl-1", {"hours": "evening", "channel": "whatsapp"}, **{"Accept-Language": "pl"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.get_json()["errors"]] == ["channel"]
    assert "Please choose" not in bad.get_json()["errors"][0]["message"]
    # outside the schema: each field named by the boundary's check
    worse = put(client, auth, "pl-1", {"days": [0], "hours": "noon", "channel": "fax"})
    assert worse.status_code == 422
    assert {e["field"].split(".")[0].split("[")[0] for e in worse.get_json()["errors"]} >= {"hours"}
    missing = client.put("/api/v1/shops/pl-1/contact-preferences", headers=auth)
    assert missing.status_code == 422
    assert {e["field"] for e in missing.get_json()["errors"]} == {"hours", "channel"}
    assert counts(db) == before
    assert put(client, auth, "no-such-shop", {"hours": "evening", "channel": "phone"}).status_code == 404
    assert client.put("/api/v1/shops/pl-1/contact-preferences", data="{", headers=auth,
                      content_type="application/json").status_code == 400
    assert counts(db) == before


def test_the_api_and_the_cli_answer_alike(client, auth, db, db_url):
    from click.testing import CliRunner

    from concierge.cli import cli

    api = put(client, auth, "tr-1", {"days": [2], "hours": "afternoon", "channel": "phone"}).get_json()
    out = CliRunner().invoke(cli, ["callback", "preferences", "tr-1", "--days", "2", "--hours", "afternoon",
                                   "--channel", "phone", "--json"], env={"CONCIERGE_DATABASE_URL": db_url},
                             catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == api
