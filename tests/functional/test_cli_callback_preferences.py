"""`concierge callback preferences`: the same operation as the survey's form, from the terminal (both databases)."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from concierge.models import ContactPreference, Observation


def test_preferences_from_the_cli(cli_run, database):
    from concierge.operations.shops import ensure_shop

    with database.session() as s:
        ensure_shop(s, "in-1", "IN", name="Chai")
        ensure_shop(s, "pl-1", "PL", name="Ceramika")
    r = cli_run("callback", "preferences", "in-1", "--days", "1,3", "--hours", "evening", "--channel", "whatsapp", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data == {"shop": "in-1", "days": [1, 3], "hours": "evening", "channel": "whatsapp",
                    "channels": ["phone", "whatsapp"], "moved": []}
    with database.session() as s:
        before = s.scalar(select(func.count()).select_from(Observation))
    r = cli_run("callback", "preferences", "pl-1", "--days", "0", "--hours", "noon", "--channel", "whatsapp", "--json")
    assert r.exit_code == 1
    assert [e["field"] for e in json.loads(r.output)["errors"]] == ["days", "hours", "channel"]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) == before
        assert s.scalar(select(ContactPreference.days)) == "1,3"  # only India's row
    r = cli_run("callback", "preferences", "pl-1", "--hours", "morning", "--channel", "phone")
    assert r.exit_code == 0 and "pl-1: days any, hours morning, channel phone" in r.output
