"""The queue health report, every figure against a count of its own over the raw rows (both databases).

A small demo population is loaded and planned; consultants with languages claim and complete
calls through the workday (reached, no answer, later, wrong number, not interested), merchants
ask for callbacks and rate calls, and a few shops move after their call. The report is then
read eight days later, and each of its figures is recounted here in plain Python over the
`planned_call`, `call`, `call_rating`, `observation`, `shop` and `user_account` rows.
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import locales
from audits import slots
from audits.rules import load_rules
from concierge.demo.generator import generate
from concierge.demo.loader import load_population
from concierge.models import Call, CallRating, Observation, PlannedCall, Shop, User
from concierge.operations import workday
from concierge.operations.audits import plan_calls, request_callback, snooze_call
from concierge.operations.observations import record_answers
from concierge.operations.ratings import rating_token, resolve_rating, submit_rating
from concierge.operations.reports import build_report
from concierge.operations.users import create_user
from concierge.reporting import table_csv
from locales.formatting import format_date
from renderers.labels import label
from tests.support import Statements, table_dump

UTC = timezone.utc
TODAY = date(2026, 11, 23)                      # a Monday
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 11:00 in Warsaw, 13:00 in Istanbul, 15:30 in India
LATER = NOW + timedelta(days=8)                 # the report's moment: the calls of NOW are judged for FCR
SECRET = "test-secret"
PASSWORD = "correct horse battery"
OPEN = ("planned", "snoozed", "claimed")
HORIZON = 28
FCR_DAYS = 7


# ----------------------------------------------------------------------------- the world

def _world(database) -> None:
    """Demo shops, planned calls, callbacks, consultants, a morning of calls, ratings, shops that moved."""
    with database.session() as s:
        load_population(s, generate(150, seed=12, today=TODAY), now=NOW)
    with database.session() as s:
        plan_calls(s, now=NOW)
        # open trials whose merchant named no preferred calling time (a callback "now" is then due now)
        picky = select(Observation.shop_id).where(Observation.question == "needs.preferred_call_time")
        open_trials = {}
        for m in locales.MARKET_CODES:
            where = [Shop.market == m, Shop.outcome.is_(None)] + ([Shop.id.not_in(picky)] if m != "IN" else [])
            open_trials[m] = list(s.scalars(select(Shop.platform_id).where(*where).order_by(Shop.id).limit(1)))
        # callbacks: one asked two hours ago (answered late), one just now (answered in time), one in
        # India nobody takes (late by the time of the report)
        request_callback(s, open_trials["PL"][0], now=NOW - timedelta(hours=2), via="cli", actor="merchant")
        request_callback(s, open_trials["TR"][0], now=NOW - timedelta(minutes=3), via="cli", actor="merchant")
        request_callback(s, open_trials["IN"][0], now=NOW, at=NOW + timedelta(days=2), via="cli", actor="merchant")
        ann = create_user(s, "ann@example.com", password=PASSWORD, role="consultant")
        workday.set_call_languages(s, ann, "pl")
        bob = create_user(s, "bob@example.com", password=PASSWORD, role="consultant")
        workday.set_call_languages(s, bob, "pl,tr")
        create_user(s, "cem@example.com", password=PASSWORD, role="consultant")  # no languages: takes any
        create_user(s, "meg@example.com", password=PASSWORD, role="manager")     # not a consultant
        gone = create_user(s, "old@example.com", password=PASSWORD, role="consultant")
        workday.set_call_languages(s, gone, "tr")
        gone.active = False
    plan = {"ann@example.com": ["reached", "no_answer", "reached", "wrong_number", "reached"],
            "bob@example.com": ["reached", "not_interested", "reached", "later", "no_answer"],
            "cem@example.com": ["no_answer", "reached", "reached", "reached"]}
    t = NOW
    with database.session() as s:
        users = {u.email: u for u in s.scalars(select(User))}
        for step in range(5):
            for email, outcomes in plan.items():
                if step >= len(outcomes):
                    continue
                call = workday.claim_next(s, users[email], now=t)
                assert call is not None, "the demo has calls due for every consultant"
                outcome = outcomes[step]
                workday.complete_call(s, users[email], call.id, outcome=outcome, token=call.token,
                                      now=t + timedelta(minutes=2 + 3 * step),
                                      at=(NOW + timedelta(days=2)) if outcome == "later" else None)
                t += timedelta(minutes=4)
        snoozable = s.scalar(select(PlannedCall).where(PlannedCall.status == "planned", PlannedCall.kind == "audit")
                             .order_by(PlannedCall.id.desc()).limit(1))
        snooze_call(s, snoozable.id, until=NOW + timedelta(days=10), reason="on holiday", actor="ann@example.com",
                    now=NOW)
    with database.session() as s:
        reached = list(s.scalars(select(Call).where(Call.outcome == "reached").order_by(Call.id)))
        assert len(reached) >= 6
        for attempt, score in zip(reached, [10, 9, 3, 7, 10, 6]):  # the last ones stay unrated
            shop = s.get(Shop, attempt.shop_id)
            link = resolve_rating(s, rating_token(SECRET, attempt, shop, now=attempt.called_at), secret=SECRET,
                                  now=attempt.called_at + timedelta(hours=1))
            submit_rating(s, link, score=score, now=attempt.called_at + timedelta(hours=1))
        # two shops move two days after their call (the gap the call was about may have closed)
        for attempt in reached[:2]:
            record_answers(s, s.get(Shop, attempt.shop_id), {"readiness.products_added": True,
                                                             "readiness.payments_connected": True},
                           actor="ann@example.com", source="call", observed_at=NOW + timedelta(days=2),
                           now=NOW + timedelta(days=2), rescore=False)
        # a consultant holds a call at the report's moment
        cem = s.scalar(select(User).where(User.email == "cem@example.com"))
        assert workday.claim_next(s, cem, now=LATER - timedelta(minutes=5)) is not None


# ----------------------------------------------------------------------------- counts of our own

class _Tally:
    def __init__(self) -> None:
        self.handled = self.reached = self.callbacks = self.in_target = self.judged = self.resolved = 0
        self.handling: list[int] = []
        self.ratings: list[int] = []

    def figures(self) -> dict:
        n = len(self.ratings)
        promoters = sum(r >= 9 for r in self.ratings)
        detractors = sum(r <= 6 for r in self.ratings)
        return {
            "calls_handled": self.handled,
            "reach_rate": round(self.reached / self.handled, 4) if self.handled else None,
            "handling_minutes": round(sum(self.handling) / len(self.handling) / 60, 1) if self.handling else None,
            "callbacks": self.callbacks,
            "callback_service_level": round(self.in_target / self.callbacks, 4) if self.callbacks else None,
            "ratings": n,
            "tnps": round(100 * (promoters - detractors) / n, 1) if n else None,
            "fcr_judged": self.judged,
            "first_contact_resolution": round(self.resolved / self.judged, 4) if self.judged else None,
        }


def _raw(s) -> dict:
    return {"market": dict(s.execute(select(Shop.id, Shop.market)).tuples().all()),
            "planned": list(s.scalars(select(PlannedCall))),
            "calls": list(s.scalars(select(Call))),
            "ratings": list(s.scalars(select(CallRating))),
            "observations": list(s.execute(select(Observation.shop_id, Observation.question, Observation.value,
                                                  Observation.source, Observation.observed_at)
                                           .where(Observation.observed_at > LATER - timedelta(days=40)))),
            "users": list(s.scalars(select(User)))}


def _resolved(raw: dict, attempt: Call) -> bool:
    planned = next(p for p in raw["planned"] if p.id == attempt.planned_call_id)
    until = attempt.called_at + timedelta(days=FCR_DAYS)
    if any(p.shop_id == attempt.shop_id and p.reason == planned.reason and p.id != planned.id
           and attempt.called_at < p.created_at <= until for p in raw["planned"]):
        return False
    after = [o for o in raw["observations"]
             if o.shop_id == attempt.shop_id and attempt.called_at < o.observed_at <= until]
    if planned.trigger == "stage_stalled":
        return any(o.question.startswith("readiness.") and o.value is True for o in after)
    if planned.trigger == "inactive":
        return any(o.source == "trial" for o in after)
    if planned.trigger == "disconnected":
        key = f"readiness.{(planned.params or {}).get('category', 'payments')}_connected"
        return any(o.question == key and o.value is True for o in after)
    return True


def _expected_stats(raw: dict, now: datetime, market: str | None) -> tuple[dict, dict[str, dict]]:
    """(team figures, {consultant: figures}) of the call log of the 30 days before ``now``."""
    since = now - timedelta(days=30)
    team, people = _Tally(), defaultdict(_Tally)
    mine = lambda shop_id: market is None or raw["market"][shop_id] == market  # noqa: E731
    calls = {c.id: c for c in raw["calls"]}
    for c in sorted(raw["calls"], key=lambda c: (c.called_at, c.id)):
        if not (since <= c.called_at < now and mine(c.shop_id)):
            continue
        judged = c.planned_call_id is not None and c.outcome == "reached" and \
            c.called_at + timedelta(days=FCR_DAYS) <= now
        ok = judged and _resolved(raw, c)
        for t in (team, people[c.actor]):
            t.handled += 1
            t.reached += bool(c.reached)
            if c.handling_seconds is not None:
                t.handling.append(c.handling_seconds)
            t.judged += judged
            t.resolved += ok
    for r in raw["ratings"]:
        c = calls[r.call_id]
        if since <= r.created_at < now and mine(c.shop_id):
            for t in (team, people[c.actor]):
                t.ratings.append(r.score)
    for p in raw["planned"]:
        if p.kind != "callback" or p.requested_at is None or not (since <= p.requested_at < now) \
                or not mine(p.shop_id):
            continue
        m = raw["market"][p.shop_id]
        target = load_rules(m).callbacks.target_minutes
        end = max(p.first_attempt_at or now, p.requested_at)
        wait = slots.allowed_minutes(slots.Contact(market=m), p.requested_at, end, "service")
        if p.first_attempt_at is None and wait <= target:
            continue
        tried = sorted((c for c in raw["calls"] if c.planned_call_id == p.id), key=lambda c: (c.called_at, c.id))
        for t in (team, *([people[tried[0].actor]] if tried else [])):
            t.callbacks += 1
            t.in_target += wait <= target
    return team.figures(), {who: t.figures() for who, t in people.items()}


def _expected_queue(raw: dict, now: datetime) -> dict[str, dict[str, int]]:
    out = {m: {"due_now": 0, "overdue": 0, "claimed": 0, "callbacks_waiting": 0} for m in locales.MARKET_CODES}
    for p in raw["planned"]:
        if p.status not in OPEN:
            continue
        row = out[raw["market"][p.shop_id]]
        due = p.scheduled_at <= now and p.due_from <= now
        row["due_now"] += due
        row["overdue"] += p.due_until < now
        row["claimed"] += p.status == "claimed" and p.lease_until > now
        row["callbacks_waiting"] += due and p.kind == "callback"
    return out


def _expected_capacity(raw: dict, now: datetime, market: str | None = None):
    """({(day, language): open calls due}, {language: consultants who take calls in it})."""
    today = now.date()
    due: dict = defaultdict(int)
    for p in raw["planned"]:
        m = raw["market"][p.shop_id]
        if p.status not in OPEN or (market and m != market):
            continue
        local_day = p.scheduled_at.astimezone(locales.get_market(m).tz).date()
        index = max(0, (local_day - today).days)
        if index < HORIZON:
            due[(today + timedelta(days=index), p.language)] += 1
    consultants = [u for u in raw["users"] if u.role == "consultant" and u.active]
    anyone = [u for u in consultants if not u.call_languages]
    speakers: dict = defaultdict(int)
    for u in consultants:
        for code in filter(None, (u.call_languages or "").split(",")):
            speakers[code] += 1
    languages = {code for _d, code in due} | set(speakers)
    people = {code: (len(consultants) if code is None else speakers.get(code, 0) + len(anyone)) for code in languages}
    return due, people


# ----------------------------------------------------------------------------- the checks

def _check_stats(row: dict, expected: dict) -> None:
    for key, value in expected.items():
        if value is None:
            assert row[key] is None, key
        else:
            assert row[key] == pytest.approx(value, abs=1e-9), (key, row[key], value)


def test_queue_report_matches_the_raw_tables(database, monkeypatch):
    _world(database)
    with database.sessionmaker() as s:
        raw = _raw(s)
    before = table_dump(database)
    with Statements(database.engine) as statements:
        with database.sessionmaker() as s:
            report = build_report(s, "queue", lang="en", now=LATER, calls_per_consultant_day=40)
            low = build_report(s, "queue", lang="en", now=LATER, calls_per_consultant_day=1)
            polish = build_report(s, "queue", lang="pl", now=LATER, market="pl", calls_per_consultant_day=40)
            monkeypatch.setenv("CONCIERGE_CALLS_PER_CONSULTANT_DAY", "7")
            configured = build_report(s, "queue", lang="en", now=LATER)
            assert not s.new and not s.dirty and not s.deleted
    writes = [q for q in statements.statements if not q.lstrip().upper().startswith(("SELECT", "WITH", "PRAGMA"))]
    assert writes == [], writes
    assert table_dump(database) == before

    # --- summary: queue counts per market and the team, and the call log's figures
    queue = _expected_queue(raw, LATER)
    summary = {r["market"]: r for r in report.table("summary").rows}
    assert list(summary) == [label("markets", m, "en") for m in locales.MARKET_CODES] + ["All markets"]
    for m in locales.MARKET_CODES:
        row = summary[label("markets", m, "en")]
        for key, value in queue[m].items():
            assert row[key] == value, (m, key)
        team, _people = _expected_stats(raw, LATER, m)
        _check_stats(row, team)
        assert row["callback_target"] == load_rules(m).callbacks.target_share
    everyone = summary["All markets"]
    for key in ("due_now", "overdue", "claimed", "callbacks_waiting"):
        assert everyone[key] == sum(queue[m][key] for m in locales.MARKET_CODES)
    team, people = _expected_stats(raw, LATER, None)
    _check_stats(everyone, team)
    # the data exercise every figure (else the comparisons above prove little)
    assert everyone["overdue"] > 0 and everyone["claimed"] == 1 and everyone["due_now"] > everyone["overdue"]
    assert team["fcr_judged"] >= 6 and team["callbacks"] >= 2 and team["ratings"] == 6
    assert 0 < team["reach_rate"] < 1 and 0 < team["callback_service_level"] < 1
    assert team["handling_minutes"] is not None and team["tnps"] is not None

    # --- per consultant
    rows = {r["consultant"]: r for r in report.table("consultants").rows}
    assert set(rows) == set(people)
    for who, figures in people.items():
        _check_stats(rows[who], figures)
    assert {"ann@example.com", "bob@example.com", "cem@example.com"} <= set(rows)

    # --- capacity: calls due per day and language against the consultants who speak it
    due, speakers = _expected_capacity(raw, LATER)
    cap = report.table("capacity")
    assert cap.plot == {"kind": "bars", "x": "day", "y": "calls_due", "reference": "capacity", "format": "number"}
    days = [LATER.date() + timedelta(days=i) for i in range(HORIZON)]
    assert [(r["day"], r["_language"]) for r in cap.rows] == \
        [(d, c) for d in days for c in sorted(speakers, key=lambda c: (c is None, c or ""))]
    for r in cap.rows:
        assert r["calls_due"] == due.get((r["day"], r["_language"]), 0)
        assert r["consultants"] == speakers[r["_language"]]
        assert r["capacity"] == 40 * speakers[r["_language"]]
        assert r["over_capacity"] == (r["calls_due"] > r["capacity"])
        assert r["language"] == (label("languages", r["_language"], "en") if r["_language"] else "Any language")
    assert sum(r["calls_due"] for r in cap.rows) == sum(due.values()) > 0
    assert speakers["pl"] == 3 and speakers["tr"] == 2  # ann, bob, cem / bob, cem (old@ is inactive)
    assert report.warnings == [] and not any(r["over_capacity"] for r in cap.rows)
    assert report.params["calls_per_consultant_day"] == 40

    # --- a low capacity: the first day and language over it is named
    over = [(d, c) for d in days for c in sorted(speakers, key=lambda c: (c is None, c or ""))
            if due.get((d, c), 0) > speakers[c]]
    assert over, "one call a day each is less than the demo's first day"
    day, code = over[0]
    assert len(low.warnings) == 1
    warning = low.warnings[0]
    assert format_date(day, "en", "full") in warning and label("languages", code, "en") in warning
    assert f"calls due {due[(day, code)]}, capacity {speakers[code]}" in warning
    assert [r for r in low.table("capacity").rows if r["over_capacity"]][0]["day"] == day

    # --- the setting from the environment when the report is not told
    assert configured.params["calls_per_consultant_day"] == 7
    assert all(r["capacity"] == 7 * r["consultants"] for r in configured.table("capacity").rows)

    # --- one market, in Polish
    pl_rows = polish.table("summary").rows
    assert [r["market"] for r in pl_rows] == [label("markets", "PL", "pl")]
    for key, value in queue["PL"].items():
        assert pl_rows[0][key] == value
    pl_team, pl_people = _expected_stats(raw, LATER, "PL")
    _check_stats(pl_rows[0], pl_team)
    assert {r["consultant"]: r for r in polish.table("consultants").rows}.keys() == pl_people.keys()
    for r in polish.table("consultants").rows:
        _check_stats(r, pl_people[r["consultant"]])
    pl_due, _ = _expected_capacity(raw, LATER, market="PL")
    assert {(r["day"], r["_language"]): r["calls_due"] for r in polish.table("capacity").rows if r["calls_due"]} \
        == dict(pl_due)
    assert all(r["language"] == label("languages", r["_language"], "pl") for r in polish.table("capacity").rows
               if r["_language"])

    # --- the JSON and CSV shapes hold every table
    data = json.loads(json.dumps(report.as_dict()))
    assert [t["key"] for t in data["tables"]] == ["summary", "consultants", "capacity"]
    lines = list(table_csv(report.table("capacity")))
    assert len(lines) == 1 + len(cap.rows) and "_language" not in lines[0]


def test_capacity_setting_is_read_from_the_environment(monkeypatch):
    from concierge import config

    monkeypatch.delenv("CONCIERGE_CALLS_PER_CONSULTANT_DAY", raising=False)
    assert config.calls_per_consultant_day() == config.CALLS_PER_CONSULTANT_DAY == 40
    monkeypatch.setenv("CONCIERGE_CALLS_PER_CONSULTANT_DAY", "55")
    assert config.calls_per_consultant_day() == 55
    monkeypatch.setenv("CONCIERGE_CALLS_PER_CONSULTANT_DAY", "0")
    with pytest.raises(ValueError, match="CONCIERGE_CALLS_PER_CONSULTANT_DAY"):
        config.calls_per_consultant_day()
