"""Two tabs sending the same merchant survey at once store it once (SQLite and PostgreSQL).

Both tabs are opened from the same state of the link, then submitted from two threads
released together. One submission is stored; the other tab gets the thank-you page
saying the answers were already received (no 500, no second submission). When the
second tab's answers differ, they are kept as the link's draft instead of being lost.
"""
from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from concierge.models import Observation, Submission, SurveyLink
from tests.support import app_db as _db

REQUIRED_PL = {
    "owner__name": "Zofia Kowalska", "owner__hours_per_week": "15", "experience__sold_online_before": "no",
    "experience__tech_comfort": "3", "needs__help_with": ["payments", "shipping"],
    "business__type": "handmade", "business__category": "crafts",
}
ROUNDS = 4
ALREADY = "We had already received these answers"
ALREADY_PL = "Te odpowiedzi już do nas dotarły"
KEPT = "The answers in this window are kept"
KEPT_PL = "Odpowiedzi z tego okna są zachowane"


def make_link(app, platform_id):
    from concierge.operations.shops import ensure_shop
    from concierge.operations.survey_links import create_link

    with _db(app).session() as s:
        ensure_shop(s, platform_id, "PL", name="Ceramika Zofii")
        created = create_link(s, platform_id, secret=app.config["SECRET_KEY"], created_by="test")
        return created.token, created.link.id


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}"[^>]*value="([^"]+)"', html)
    assert m, f"no {name} in the page"
    return m.group(1)


def open_tab(app, token):
    client = app.test_client()
    html = client.get(f"/s/{token}").get_data(as_text=True)
    return client, {"csrf_token": hidden(html, "csrf_token"), "attempt": hidden(html, "attempt"), "action": "submit"}


def submit_together(token, tabs):
    """POST each (client, form) from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(tabs))
    results: list = [None] * len(tabs)

    def send(i, client, form):
        barrier.wait()
        try:
            results[i] = client.post(f"/s/{token}", data=form)
        except Exception as exc:  # noqa: BLE001 - reported below, as the test's failure
            results[i] = exc

    threads = [threading.Thread(target=send, args=(i, c, f)) for i, (c, f) in enumerate(tabs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def submissions(app, link_id):
    with _db(app).session() as s:
        return s.scalars(select(Submission).where(Submission.reference.like(f"link-{link_id}-%"))).all()


def test_two_tabs_sending_the_same_survey_at_once_store_it_once(app):
    for n in range(ROUNDS):
        token, link_id = make_link(app, f"pl-{n}")
        (a, form_a), (b, form_b) = open_tab(app, token), open_tab(app, token)
        assert form_a["attempt"] == form_b["attempt"]  # the same state of the link
        results = submit_together(token, [(a, {**form_a, **REQUIRED_PL}), (b, {**form_b, **REQUIRED_PL})])
        assert [getattr(r, "status_code", r) for r in results] == [303, 303]
        assert all("/thanks" in r.location for r in results)
        stored = submissions(app, link_id)
        assert len(stored) == 1, f"round {n}: {len(stored)} submissions"
        with _db(app).session() as s:
            assert s.scalar(select(func.count(Observation.id)).where(
                Observation.submission_id == stored[0].id)) == 7
            assert s.get(SurveyLink, link_id).draft is None  # nothing left over
        pages = [client.get(r.location).get_data(as_text=True) for client, r in zip((a, b), results)]
        assert all("Dziękujemy" in p for p in pages)  # both thanked, in the merchant's language
        # the tab that came second is told so, whether it lost the race or came just after
        assert sum(ALREADY in p or ALREADY_PL in p for p in pages) == 1


def test_the_slower_tab_with_other_answers_keeps_them_as_a_draft(app):
    token, link_id = make_link(app, "pl-1")
    (a, form_a), (b, form_b) = open_tab(app, token), open_tab(app, token)
    results = submit_together(token, [(a, {**form_a, **REQUIRED_PL}),
                                      (b, {**form_b, **REQUIRED_PL, "owner__hours_per_week": "40"})])
    assert [getattr(r, "status_code", r) for r in results] == [303, 303]
    stored = submissions(app, link_id)
    assert len(stored) == 1
    with _db(app).session() as s:
        hours = s.scalar(select(Observation.value).where(Observation.submission_id == stored[0].id,
                                                          Observation.question == "owner.hours_per_week"))
        draft = s.get(SurveyLink, link_id).draft
    # whichever tab won is stored; the other tab's differing answer is the draft, shown when the link is opened
    loser_hours = 40 if hours == 15 else 15
    assert draft is not None and draft["owner.hours_per_week"] == loser_hours
    assert f'value="{loser_hours}"' in app.test_client().get(f"/s/{token}").get_data(as_text=True)
    pages = [client.get(r.location).get_data(as_text=True) for client, r in zip((a, b), results)]
    assert sum(KEPT in p or KEPT_PL in p for p in pages) == 1  # the second tab is told


def test_the_same_tab_sent_again_later_is_already_received_and_a_fresh_form_is_a_new_submission(app):
    token, link_id = make_link(app, "pl-1")
    client, form = open_tab(app, token)
    assert client.post(f"/s/{token}", data={**form, **REQUIRED_PL}).status_code == 303
    again = client.post(f"/s/{token}", data={**form, **REQUIRED_PL, "owner__hours_per_week": "16"})
    assert again.status_code == 303
    assert len(submissions(app, link_id)) == 1
    client, fresh = open_tab(app, token)  # reopened after the submission: a change is a new one
    assert fresh["attempt"] != form["attempt"]
    assert client.post(f"/s/{token}", data={**fresh, **REQUIRED_PL, "owner__hours_per_week": "16"}).status_code == 303
    assert len(submissions(app, link_id)) == 2
