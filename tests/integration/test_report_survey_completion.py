"""The survey completion report against a count of its own over the raw `survey_link` rows (both databases).

Merchants in three markets go through the survey operations as the pages call them: some only
open the link (nothing stored: not started), some save a draft and stop (at different
questions, one with nothing answered), some finish, one finishes after the report's moment,
one link is older than the report's period. Every figure is recounted here in plain Python
from the rows, with the schema's order for the stop question.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

import profile_schema
from concierge.models import Shop, SurveyLink
from concierge.operations.reports import build_report
from concierge.operations.shops import ensure_shop
from concierge.operations.survey_links import create_link, resolve_link, save_draft, submit_answers
from concierge.reporting import table_csv

SECRET = "integration-secret"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
ANSWERS = {
    "TR": {"owner.name": "Ayşe Yılmaz", "owner.hours_per_week": "25", "experience.sold_online_before": "evet",
           "experience.tech_comfort": "4", "needs.help_with": ["payments"], "business.type": "new_brand",
           "business.category": "fashion"},
    "PL": {"owner.name": "Anna Nowak", "owner.hours_per_week": "10", "experience.sold_online_before": "tak",
           "experience.tech_comfort": "3", "needs.help_with": ["shipping"], "business.type": "handmade",
           "business.category": "beauty"},
    "IN": {"owner.name": "Priya Shah", "owner.hours_per_week": "30", "experience.sold_online_before": "yes",
           "experience.tech_comfort": "5", "needs.help_with": ["marketing"], "business.type": "reseller",
           "business.category": "fashion"},
}


def _link(s, shop, at):
    created = create_link(s, shop, secret=SECRET, created_by="anna@example.com", days=30, now=at)
    return resolve_link(s, created.token, secret=SECRET, now=at)


def _world(s) -> None:
    n = 0
    for market, answers in ANSWERS.items():
        for i in range(6):
            n += 1
            shop = ensure_shop(s, f"{market.lower()}-{i}", market, name=f"Shop {n}")
            at = NOW - timedelta(days=10 - i, hours=n)
            resolved = _link(s, shop, at)
            if i == 0:
                continue  # opened only: a GET stores nothing, so not started
            if i == 1:  # stops after the first question
                save_draft(s, resolved, {"owner.name": answers["owner.name"]}, now=at + timedelta(minutes=2))
            elif i == 2:  # stops later, after saving twice
                save_draft(s, resolved, {"owner.name": answers["owner.name"]}, now=at + timedelta(minutes=1))
                save_draft(s, resolved, {k: answers[k] for k in ("owner.name", "needs.help_with")},
                           now=at + timedelta(minutes=4))
            elif i == 3:  # saved with nothing answered
                save_draft(s, resolved, {}, now=at + timedelta(minutes=1))
            else:  # finishes: a draft first, then the sending, (i * 3 + n) minutes later
                save_draft(s, resolved, {"owner.name": answers["owner.name"]}, now=at + timedelta(minutes=1))
                done = at + timedelta(minutes=1 + i * 3 + n)
                if market == "IN" and i == 5:
                    done = NOW + timedelta(hours=1)  # after the report's moment: not finished yet
                outcome = submit_answers(s, resolved, answers, now=done)
                assert outcome.ok and outcome.submitted, outcome.errors
                # sent again later: still finished at the first sending
                submit_answers(s, resolved, {**answers, "owner.hours_per_week": "40"}, now=done + timedelta(days=1))
    old = ensure_shop(s, "pl-old", "PL", name="Old")
    resolved = _link(s, old, NOW - timedelta(days=200))
    save_draft(s, resolved, {"owner.name": "Old"}, now=NOW - timedelta(days=199))
    s.flush()


def _median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def _expected(s, market=None):
    """Counts of our own from the raw rows."""
    since = datetime(2026, 8, 25, tzinfo=timezone.utc)  # 90 days before NOW, start of day
    order = list(profile_schema.load_schema().questions)
    per: dict[str, dict] = {}
    stops: dict[str, int] = {}
    for link, shop_market in s.execute(select(SurveyLink, Shop.market).join(Shop, Shop.id == SurveyLink.shop_id)):
        if not since <= link.created_at <= NOW or (market and shop_market != market):
            continue
        m = per.setdefault(shop_market, {"sent": 0, "started": 0, "finished": 0, "minutes": []})
        m["sent"] += 1
        started = link.started_at is not None and link.started_at <= NOW
        finished = started and link.finished_at is not None and link.finished_at <= NOW
        m["started"] += started
        m["finished"] += finished
        if finished:
            m["minutes"].append((link.finished_at - link.started_at).total_seconds() / 60)
        elif started:
            answered = [k for k, v in (link.draft or {}).items() if v not in (None, "", [])]
            last = max(answered, key=order.index) if answered else ""
            stops[last] = stops.get(last, 0) + 1
    return per, stops


def _close(a, b):
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b, abs_tol=1e-6))


def test_survey_completion_matches_the_raw_rows(session):
    _world(session)
    session.commit()
    before = session.scalar(select(func.count()).select_from(SurveyLink))
    report = build_report(session, "survey", lang="en", now=NOW)
    assert not session.new and not session.dirty  # reads only
    per, stops = _expected(session)
    completion = report.table("completion")
    rows = {r["market"]: r for r in completion.rows}
    labels = {"PL": "Poland", "TR": "Turkey", "IN": "India"}
    for code, want in per.items():
        got = rows[labels[code]]
        assert (got["sent"], got["started"], got["finished"]) == (want["sent"], want["started"], want["finished"])
        assert got["stopped"] == want["started"] - want["finished"]
        assert _close(got["median_minutes"], _median(want["minutes"])), (code, got, want)
        assert _close(got["finished_share"], want["finished"] / want["started"])
    # what the world was built to show
    assert (per["PL"]["sent"], per["PL"]["started"], per["PL"]["finished"]) == (6, 5, 2)  # the old link is out
    assert (per["IN"]["started"], per["IN"]["finished"]) == (5, 1)  # one finishes after the report's moment
    total = rows["All markets"]
    assert total["sent"] == 18 and total["started"] == 15 and total["finished"] == 5
    assert _close(total["median_minutes"], _median([x for v in per.values() for x in v["minutes"]]))
    # the stop questions, in schema order
    got_stops = {r["key"]: r["stopped"] for r in report.table("stops").rows}
    assert got_stops == stops
    # IN's late finisher: its draft is gone (sent since), so the report can only say "no answer saved"
    assert stops == {"owner.name": 3, "needs.help_with": 3, "": 3 + 1}
    assert [r["key"] for r in report.table("stops").rows] == ["", "owner.name", "needs.help_with"]
    assert session.scalar(select(func.count()).select_from(SurveyLink)) == before
    # one market, and the CSV carries the same numbers
    only_tr = build_report(session, "survey", lang="pl", market="TR", now=NOW).table("completion").rows
    assert len(only_tr) == 1 and only_tr[0]["sent"] == per["TR"]["sent"] and only_tr[0]["finished"] == 2
    text = "".join(table_csv(completion))
    assert "All markets,18,15," in text


def test_opening_is_not_starting_and_a_later_sending_keeps_the_first_finish(session):
    shop = ensure_shop(session, "tr-x", "TR", name="X")
    resolved = _link(session, shop, NOW - timedelta(days=1))
    link = resolved.link
    assert link.started_at is None and link.finished_at is None
    outcome = submit_answers(session, resolved, {"owner.name": "A"}, now=NOW - timedelta(hours=5))
    assert not outcome.ok  # required answers missing: a draft is kept, the survey started, not finished
    assert link.started_at == NOW - timedelta(hours=5) and link.finished_at is None
    submit_answers(session, resolved, ANSWERS["TR"], now=NOW - timedelta(hours=4))
    submit_answers(session, resolved, {**ANSWERS["TR"], "owner.hours_per_week": "3"}, now=NOW - timedelta(hours=1))
    assert link.started_at == NOW - timedelta(hours=5) and link.finished_at == NOW - timedelta(hours=4)
    assert link.submitted_at == NOW - timedelta(hours=1)
    row = build_report(session, "survey", lang="en", market="TR", now=NOW).table("completion").rows[0]
    assert row["finished"] == 1 and _close(row["median_minutes"], 60.0)
