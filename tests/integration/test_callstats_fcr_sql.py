"""First-contact resolution, judged by the database (correlated EXISTS probes), against a judgement
written here in plain Python from the rule, on SQLite and PostgreSQL; also with verdicts recorded
(`record_fcr_verdicts`), some or all of them, and after changes that must make a recorded verdict
give way to the live judgement (an observation dated inside the window, a call planned inside it).

Each attempt is made by its own consultant, so the per-consultant figures show each attempt's
verdict; the calls carry a fraction of .9999 s, which SQLite's date functions would round into the
next second (the window's end must keep the stored fraction).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text

from concierge.models import Call, Observation, PlannedCall, ShopState
from concierge.operations.audits import request_callback
from concierge.operations.callstats import (
    FCR_DAYS,
    FCR_RECORD_AFTER,
    FCR_RECORD_DAYS,
    call_stats,
    record_fcr_verdicts,
)
from concierge.operations.shop_state import refresh_states
from concierge.operations.shops import ensure_shop

UTC = timezone.utc
C = datetime(2026, 11, 2, 9, 0, 59, 999900, tzinfo=UTC)   # the attempts' time
UNTIL = C + timedelta(days=FCR_DAYS)                        # the end of their window (included)
NOW = UNTIL                                                 # so an attempt 1 µs later is not judged yet
US = timedelta(microseconds=1)


@dataclass
class Case:
    """One attempt: its planned call (trigger, params, reason), what happened to its shop afterwards
    (observations: (when, question, value, source); planned calls: (created_at, reason)) and the
    verdict: None (not judged), True or False."""
    name: str
    trigger: str | None = "stage_stalled"
    expected: bool | None = True
    params: dict[str, Any] | None = None
    observations: tuple[tuple[datetime, str, Any, str], ...] = ()
    later: tuple[tuple[datetime, str], ...] = ()
    called_at: datetime = C
    outcome: str = "reached"
    created_at: datetime = C - timedelta(days=1)


def _obs(at: datetime, question: str = "readiness.products_added", value: Any = True, source: str = "call"):
    return (at, question, value, source)


CASES = [
    # stage_stalled: a readiness answer turned true in (called_at, called_at + FCR_DAYS]
    Case("stall-at-call", expected=False, observations=(_obs(C),)),
    Case("stall-at-end", expected=True, observations=(_obs(UNTIL),)),
    Case("stall-after-end", expected=False, observations=(_obs(UNTIL + US),)),
    Case("stall-just-after-call", expected=True, observations=(_obs(C + US),)),
    Case("stall-false", expected=False, observations=(_obs(C + timedelta(days=1), value=False),)),
    Case("stall-string-true", expected=False, observations=(_obs(C + timedelta(days=1), value="true"),)),
    Case("stall-one", expected=False, observations=(_obs(C + timedelta(days=1), value=1),)),
    Case("stall-other-question", expected=False,
         observations=(_obs(C + timedelta(days=1), question="business.name_set"),)),
    Case("stall-none", expected=False),
    # inactive: any trial activity in the window
    Case("inactive-trial", trigger="inactive", expected=True,
         observations=(_obs(C + timedelta(days=2), question="trial.orders", value=3, source="trial"),)),
    Case("inactive-trial-at-end", trigger="inactive", expected=True,
         observations=(_obs(UNTIL, question="trial.orders", value=0, source="trial"),)),
    Case("inactive-trial-at-call", trigger="inactive", expected=False,
         observations=(_obs(C, question="trial.orders", value=3, source="trial"),)),
    Case("inactive-survey", trigger="inactive", expected=False,
         observations=(_obs(C + timedelta(days=2), source="survey"),)),
    # disconnected: the call's category (payments without one) connected again
    Case("disconnected-default", trigger="disconnected", params={}, expected=True,
         observations=(_obs(C + timedelta(days=1), question="readiness.payments_connected"),)),
    Case("disconnected-default-other", trigger="disconnected", params={}, expected=False,
         observations=(_obs(C + timedelta(days=1), question="readiness.shipping_connected"),)),
    Case("disconnected-shipping", trigger="disconnected", params={"category": "shipping"}, expected=True,
         observations=(_obs(C + timedelta(days=1), question="readiness.shipping_connected"),)),
    Case("disconnected-shipping-payments", trigger="disconnected", params={"category": "shipping"},
         expected=False, observations=(_obs(C + timedelta(days=1), question="readiness.payments_connected"),)),
    Case("disconnected-false", trigger="disconnected", params={"category": "shipping"}, expected=False,
         observations=(_obs(C + timedelta(days=1), question="readiness.shipping_connected", value=False),)),
    Case("disconnected-at-end", trigger="disconnected", params={"category": "payments", "date": "x"},
         expected=True, observations=(_obs(UNTIL, question="readiness.payments_connected"),)),
    Case("disconnected-after-end", trigger="disconnected", params={}, expected=False,
         observations=(_obs(UNTIL + US, question="readiness.payments_connected"),)),
    # any other trigger: resolved unless repeated
    Case("callback", trigger="callback", expected=True),
    # a call planned for the same reason in (called_at, called_at + FCR_DAYS]: not resolved
    Case("repeat", expected=False, observations=(_obs(C + timedelta(days=1)),),
         later=((C + timedelta(days=3), "same"),)),
    Case("repeat-at-call", trigger="callback", expected=True, later=((C, "same"),)),
    Case("repeat-just-after-call", trigger="callback", expected=False, later=((C + US, "same"),)),
    Case("repeat-at-end", trigger="callback", expected=False, later=((UNTIL, "same"),)),
    Case("repeat-after-end", trigger="callback", expected=True, later=((UNTIL + US, "same"),)),
    Case("repeat-other-reason", trigger="inactive", expected=True,
         observations=(_obs(C + timedelta(days=1), source="trial"),), later=((C + timedelta(days=2), "other"),)),
    # the planned call itself, created inside the window, is no repeat
    Case("itself-in-window", trigger="callback", expected=True, created_at=C + timedelta(days=1)),
    # not judged: not reached, too young; judged exactly when its window has ended by now
    Case("no-answer", expected=None, outcome="no_answer", observations=(_obs(C + timedelta(days=1)),)),
    Case("too-young", trigger="callback", expected=None, called_at=C + US),
    Case("unplanned", trigger=None, expected=None),
]


def _judge(case: Case, observations: list[tuple[str, datetime, str, Any, str]],
           planned: list[tuple[str, int, datetime, str]], shop: str, pid: int | None) -> bool | None:
    """The rule, from the rows as built (not from the database)."""
    if pid is None or case.outcome != "reached" or case.called_at + timedelta(days=FCR_DAYS) > NOW:
        return None
    lo, hi = case.called_at, case.called_at + timedelta(days=FCR_DAYS)
    if any(s == shop and other != pid and reason == case.name and lo < created <= hi
           for s, other, created, reason in planned):
        return False
    seen = [(q, v, src) for s, at, q, v, src in observations if s == shop and lo < at <= hi]
    if case.trigger == "stage_stalled":
        return any(q.startswith("readiness.") and v is True for q, v, _src in seen)
    if case.trigger == "inactive":
        return any(src == "trial" for _q, _v, src in seen)
    if case.trigger == "disconnected":
        key = f"readiness.{(case.params or {}).get('category', 'payments')}_connected"
        return any(q == key and v is True for q, v, _src in seen)
    return True


def _populate(s):
    """Every case's shop, planned call, attempt and what followed; returns (observations, planned,
    planned call ids by case) as the rule reads them."""
    observations: list[tuple[str, datetime, str, Any, str]] = []
    planned: list[tuple[str, int, datetime, str]] = []
    pids: dict[str, int | None] = {}
    n = 0

    def plan(shop, reason, trigger, created_at, params=None):
        nonlocal n
        n += 1
        call = PlannedCall(shop_id=shop.id, kind="audit", reason=reason, rule=reason, occurrence=f"o{n}",
                           trigger=trigger, purpose="service", status="done", due_from=C, due_until=C,
                           scheduled_at=C, created_by="t", created_at=created_at, params=params or {})
        s.add(call)
        s.flush()
        planned.append((shop.platform_id, call.id, created_at, reason))
        return call

    # a neighbour whose activity and repeat calls must not count for anyone else
    other = ensure_shop(s, "pl-neighbour", "PL")
    for case in CASES:
        shop = ensure_shop(s, f"pl-{case.name}", "PL")
        pc = None if case.trigger is None else plan(shop, case.name, case.trigger, case.created_at, case.params)
        pids[case.name] = pc.id if pc else None
        s.add(Call(shop_id=shop.id, actor=f"{case.name}@x", kind="audit", called_at=case.called_at, reached=True,
                   outcome=case.outcome, planned_call_id=pc.id if pc else None, handling_seconds=60))
        for at, question, value, source in case.observations:
            s.add(Observation(shop_id=shop.id, question=question, value=value, source=source, actor="x",
                              observed_at=at))
            observations.append((shop.platform_id, at, question, value, source))
        for created_at, reason in case.later:
            plan(shop, case.name if reason == "same" else f"{case.name}-{reason}", "stage_stalled", created_at)
        # the neighbour: the gap closed and a repeat, both for the same reason, in the window
        s.add(Observation(shop_id=other.id, question="readiness.payments_connected", value=True, source="trial",
                          actor="x", observed_at=C + timedelta(days=1)))
        plan(other, case.name, "stage_stalled", C + timedelta(days=2))
    s.flush()
    return observations, planned, pids


def _verdicts(data: dict) -> dict[str, bool | None]:
    """{case: None (not judged), True or False} from the per-consultant figures."""
    people = {p["consultant"]: p for p in data["consultants"]}
    verdicts = {}
    for case in CASES:
        p = people[f"{case.name}@x"]
        verdicts[case.name] = None if p["fcr_judged"] == 0 else p["first_contact_resolution"] == 1.0
        assert p["fcr_judged"] in (0, 1)
    return verdicts


def _stats(s) -> dict:
    return call_stats(s, since=C - timedelta(days=1), until=C + timedelta(days=1), now=NOW, by_market=True)


def test_fcr_judged_in_sql_matches_the_rule(session):
    s = session
    observations, planned, pids = _populate(s)
    if s.get_bind().dialect.name == "postgresql":
        jit_before = s.execute(text("SELECT current_setting('jit')")).scalar_one()

    data = _stats(s)

    verdicts = _verdicts(data)
    rule = {c.name: _judge(c, observations, planned, f"pl-{c.name}", pids[c.name]) for c in CASES}
    assert rule == {c.name: c.expected for c in CASES}   # the Python rule agrees with the cases' verdicts
    assert verdicts == rule
    judged = [v for v in rule.values() if v is not None]
    team = data["team"]
    assert team["fcr_judged"] == len(judged)
    assert team["first_contact_resolution"] == round(sum(judged) / len(judged), 4)
    assert data["markets"]["PL"]["team"]["fcr_judged"] == len(judged)
    assert call_stats(s, since=C - timedelta(days=1), until=C + timedelta(days=1), now=NOW,
                      market="pl")["team"] == team
    if s.get_bind().dialect.name == "postgresql":   # the JIT switch-off is put back
        assert s.execute(text("SELECT current_setting('jit')")).scalar_one() == jit_before


def _recorded(s) -> dict[str, bool | None]:
    """{case: its call's recorded verdict (None: none)}."""
    return {actor.split("@")[0]: v for actor, v in s.execute(
        Call.__table__.select().with_only_columns(Call.actor, Call.fcr_resolved)
        .where(Call.actor.like("%@x"))).all()}


def test_recorded_verdicts_give_the_same_figures_and_give_way_when_the_window_changes(session):
    s = session
    observations, planned, pids = _populate(s)
    shops = {c.name: ensure_shop(s, f"pl-{c.name}", "PL") for c in CASES}
    refresh_states(s, [shop.id for shop in shops.values()], now=NOW)  # as every change to a shop does

    def rule() -> dict[str, bool | None]:
        return {c.name: _judge(c, observations, planned, f"pl-{c.name}", pids[c.name]) for c in CASES}

    live = _stats(s)
    assert _verdicts(live) == rule() == {c.name: c.expected for c in CASES}

    # nothing is recorded before the window has ended FCR_RECORD_AFTER ago, nor FCR_RECORD_DAYS after the call
    assert record_fcr_verdicts(s, now=C + US + timedelta(days=FCR_RECORD_DAYS)) == 0
    assert record_fcr_verdicts(s, now=NOW + FCR_RECORD_AFTER - US) == 0
    # then every judged call is, except the one whose window ends 1 us later; a second run records nothing
    judged = {name for name, v in rule().items() if v is not None}
    assert record_fcr_verdicts(s, now=NOW + FCR_RECORD_AFTER) == len(judged)
    assert record_fcr_verdicts(s, now=NOW + FCR_RECORD_AFTER) == 0
    recorded = _recorded(s)
    assert {n for n, v in recorded.items() if v is not None} == judged
    assert {n: recorded[n] for n in judged} == {n: rule()[n] for n in judged}
    assert _stats(s) == live   # all recorded: the same figures

    # the figures read the recorded verdicts (a wrong one shows), while the shop's observations are unchanged
    s.execute(Call.__table__.update().where(Call.actor == "stall-none@x").values(fcr_resolved=True))
    assert _verdicts(_stats(s))["stall-none"] is True
    s.execute(Call.__table__.update().where(Call.actor == "stall-none@x").values(fcr_resolved=False))

    # a mix: every other judged call forgets its verdict; the figures are the same
    for name in sorted(judged - {"stall-none", "callback"})[::2]:
        s.execute(Call.__table__.update().where(Call.actor == f"{name}@x")
                  .values(fcr_resolved=None, fcr_observations=None))
    assert _stats(s) == live

    # an answer dated inside a recorded call's window arrives late: the live judgement takes over
    late = C + timedelta(days=2)
    s.add(Observation(shop_id=shops["stall-none"].id, question="readiness.store_opened", value=True,
                      source="survey", actor="x", observed_at=late))
    observations.append(("pl-stall-none", late, "readiness.store_opened", True, "survey"))
    refresh_states(s, [shops["stall-none"].id], now=NOW)
    assert rule()["stall-none"] is True
    assert _verdicts(_stats(s)) == rule()
    assert _recorded(s)["stall-none"] is False                      # the stale verdict is still stored...
    assert record_fcr_verdicts(s, now=NOW + FCR_RECORD_AFTER) >= 1   # ...until the next run judges it again
    assert _recorded(s)["stall-none"] is True
    assert _verdicts(_stats(s)) == rule()

    # a callback asked for inside a recorded call's window (a clock set back) repeats that call
    asked = C + timedelta(days=3)
    callback = request_callback(s, shops["callback"], now=asked, via="cli", actor="t")
    planned.append(("pl-callback", callback.id, asked, callback.reason))
    assert rule()["callback"] is False
    assert _recorded(s)["callback"] is None                          # forgotten when the call was planned
    assert _verdicts(_stats(s)) == rule()
    record_fcr_verdicts(s, now=NOW + FCR_RECORD_AFTER)
    assert _recorded(s)["callback"] is False
    assert _verdicts(_stats(s)) == rule()

    # a shop without a state row: nothing recorded for it, judged live
    s.execute(ShopState.__table__.delete().where(ShopState.shop_id == shops["stall-at-end"].id))
    s.execute(Call.__table__.update().where(Call.actor == "stall-at-end@x")
              .values(fcr_resolved=None, fcr_observations=None))
    record_fcr_verdicts(s, now=NOW + FCR_RECORD_AFTER)
    assert _recorded(s)["stall-at-end"] is None
    assert _verdicts(_stats(s)) == rule()
