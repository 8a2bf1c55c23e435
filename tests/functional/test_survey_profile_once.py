"""The survey page folds the shop's observations into a profile once per request, not once for
the pre-filled form and again for the plan (issue 15, item 5)."""
from __future__ import annotations

from sqlalchemy import event

from concierge.operations.shops import ensure_shop
from concierge.operations.survey_links import create_link


def _full_reads(app, client, path: str, **kwargs) -> tuple[int, int]:
    """(status, how many statements read every observation of the shop, as `load_profile` does)."""
    engine = app.extensions["concierge.db"].engine
    seen: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().startswith("SELECT observation.id, observation.question, observation.value"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = client.get(path, **kwargs)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return resp.status_code, len(seen)


def test_the_survey_page_builds_the_profile_once(app, client):
    db = app.extensions["concierge.db"]
    with db.session() as s:
        ensure_shop(s, "pl-1", "PL", name="Ceramika Zofii")
    with db.session() as s:
        token = create_link(s, "pl-1", secret=app.config["SECRET_KEY"], created_by="test", days=14).token
    status, reads = _full_reads(app, client, f"/s/{token}")
    assert status == 200
    assert reads == 1
