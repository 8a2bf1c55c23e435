"""The voice of the merchant report, every figure against a count of its own over the raw rows (both databases).

A small demo population (surveys and onboarding calls answer "Wants help with" and "Main goal,
in their words") plus answers of our own: a merchant who changed their mind, an answer given
after the report's moment (not counted), and free-text answers holding a phone number, an
e-mail, a web address, and one longer than the report quotes. Each figure is recounted here
in plain Python over the `observation` and `shop_state` rows; the topic counts (which follow
the folded profile, as the shop list does) over each shop's profile folded from its observations.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select

import locales
import profile_schema
from concierge.demo.generator import generate
from concierge.demo.loader import load_population
from concierge.models import Observation, Shop, ShopState
from concierge.operations.observations import record_answers
from concierge.operations.profiles import load_profile
from concierge.operations.reports import build_report
from concierge.operations.reports.voice import looks_like_contact
from concierge.operations.shop_state import list_states, parse_filters, refresh_states, state_filters
from concierge.reporting import table_csv
from concierge.stats import newcombe
from renderers.labels import label
from tests.support import Statements, table_dump

UTC = timezone.utc
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TOPICS = "needs.help_with"
GOAL = "needs.main_goal"
SMALL = 20
LONG = "Chcemy sprzedawać ręcznie robione świece sojowe w całej Polsce, " * 6  # > 200 characters
CONTACTS = ("Zadzwońcie proszę: +48 601 234 567, najlepiej rano", "Napiszcie na jan.kowalski@example.pl",
            "Mój sklep: www.swiece-example.pl, zapraszam")


def _world(database) -> dict[str, int]:
    with database.session() as s:
        load_population(s, generate(150, seed=31, today=TODAY), now=NOW)
    with database.session() as s:
        pl = list(s.scalars(select(Shop).where(Shop.market == "PL").order_by(Shop.id).limit(6)))
        # a merchant changes their mind on a later call: only the later answer counts
        for answers, at in (({TOPICS: ["payments"]}, NOW - timedelta(days=40)),
                            ({TOPICS: ["seo", "marketing"]}, NOW - timedelta(days=3))):
            record_answers(s, pl[0], answers, actor="ann@example.com", source="call", observed_at=at, now=at,
                           rescore=False)
        # an answer given after the report's moment: the topic counts follow the folded profile (it counts),
        # the trend reads the answers up to the report's moment (it does not)
        record_answers(s, pl[1], {TOPICS: ["legal"]}, actor="ann@example.com", source="call",
                       observed_at=NOW + timedelta(days=1), now=NOW + timedelta(days=1), rescore=False)
        # free text: contact details (never quoted), and a long answer from an old import (cut to 200)
        rows = [{"shop_id": shop.id, "question": GOAL, "value": text, "op": "set", "source": "import",
                 "actor": "import", "observed_at": NOW - timedelta(hours=1 + i), "recorded_at": NOW,
                 "schema_version": 1}
                for i, (shop, text) in enumerate(zip(pl[2:], (*CONTACTS, LONG)))]
        s.execute(insert(Observation), rows)
        refresh_states(s, [shop.id for shop in pl], now=NOW)  # as bulk callers of rescore=False do
        return {"changed": pl[0].id, "future": pl[1].id}


# ----------------------------------------------------------------------------- counts of our own

def _answers(s) -> tuple[list, dict[int, tuple[str, str | None]]]:
    obs = list(s.execute(select(Observation.id, Observation.shop_id, Observation.question, Observation.value,
                                Observation.op, Observation.observed_at)
                         .where(Observation.question.in_([TOPICS, GOAL]))))
    state = {sid: (m, st) for sid, m, st in s.execute(select(ShopState.shop_id, ShopState.market, ShopState.stage))}
    return obs, state


class _Folded:
    """A shop's help topics as its folded profile holds them (shaped like an observation for `_tally`)."""

    def __init__(self, topics):
        self.value = list(topics)


def _profiles(s) -> dict[int, _Folded]:
    """{shop: its folded profile's help topics}, for the shops whose profile names at least one."""
    out = {}
    for shop in s.scalars(select(Shop).order_by(Shop.id)):
        needs = load_profile(s, shop).needs
        if needs:
            out[shop.id] = _Folded(needs)
    return out


def _latest(obs, question: str, lo: datetime | None, hi: datetime) -> dict[int, object]:
    """{shop: its latest full answer to the question observed in (lo, hi]}."""
    best: dict[int, object] = {}
    for o in obs:
        if o.question != question or o.op != "set" or o.observed_at > hi or (lo is not None and o.observed_at <= lo):
            continue
        if o.shop_id not in best or (o.observed_at, o.id) > (best[o.shop_id].observed_at, best[o.shop_id].id):
            best[o.shop_id] = o
    return best


def _tally(latest: dict[int, object], state, key) -> tuple[dict, dict]:
    """(answered per group, naming per (group, topic)) with ``key(market, stage)`` the groups of a shop."""
    answered, named = defaultdict(int), defaultdict(int)
    for shop_id, o in latest.items():
        market, stage = state[shop_id]
        for group in key(market, stage):
            answered[group] += 1
            for topic in set(o.value):
                named[(group, topic)] += 1
    return answered, named


def _fit(text: str) -> str | None:
    text = " ".join(text.split())
    digits = sum(ch.isdigit() for ch in text)
    if "@" in text or "www." in text or "://" in text or digits >= 7:
        return None
    return text if len(text) <= 200 else text[:199].rstrip() + "…"


def _expected_examples(obs, state, market: str, now: datetime) -> list[str]:
    latest = _latest(obs, GOAL, None, now)
    ordered = sorted((o for sid, o in latest.items() if state[sid][0] == market),
                     key=lambda o: (o.observed_at, o.shop_id), reverse=True)
    out: list[str] = []
    for o in ordered:
        text = _fit(o.value)
        if text is not None and text.casefold() not in {t.casefold() for t in out} and len(out) < 3:
            out.append(text)
    return out


# ----------------------------------------------------------------------------- the checks

def test_voice_report_matches_the_raw_tables(database):
    planted = _world(database)
    with database.sessionmaker() as s:
        obs, state = _answers(s)
        folded = _profiles(s)
    before = table_dump(database)
    with Statements(database.engine) as statements:
        with database.sessionmaker() as s:
            report = build_report(s, "voice", lang="en", now=NOW)
            turkish = build_report(s, "voice", lang="pl", now=NOW, market="tr")
            assert not s.new and not s.dirty and not s.deleted
            shops_in = {m: s.scalar(select(func.count()).select_from(ShopState).where(*state_filters(market=m)))
                        for m in locales.MARKET_CODES}
            # every row's drill-down, as the shop list counts it
            drilled = {id(r): list_states(s, limit=1, **parse_filters(r["_drill"])[0])[1]
                       for t in report.tables for r in t.rows if r.get("_drill")}
    assert [q for q in statements.statements if not q.lstrip().upper().startswith(("SELECT", "WITH", "PRAGMA"))] == []
    assert table_dump(database) == before

    question = profile_schema.load_schema()[TOPICS]
    everyone = lambda m, st: (m, None)  # noqa: E731 - each shop counts in its market and in all markets

    # --- topics by market: shops naming each, of those that answered, and the trend
    latest = _latest(obs, TOPICS, None, NOW)
    answered, named = _tally(folded, state, everyone)  # the folded profiles: every answer, also a later one
    recent_a, recent_n = _tally(_latest(obs, TOPICS, NOW - timedelta(days=30), NOW), state, everyone)
    earlier_a, earlier_n = _tally(_latest(obs, TOPICS, NOW - timedelta(days=60), NOW - timedelta(days=30)),
                                  state, everyone)
    assert set(latest[planted["changed"]].value) == {"seo", "marketing"}  # the later answer is the one counted
    assert set(folded[planted["changed"]].value) == {"seo", "marketing"}
    assert planted["future"] in latest and latest[planted["future"]].value != ["legal"]
    assert folded[planted["future"]].value == ["legal"]  # the folded profile holds the answer after now
    topics = report.table("topics")
    assert topics.plot == {"kind": "bars", "x": "topic", "y": "share", "format": "percent"}
    groups = [*locales.MARKET_CODES, None]
    assert [r["_market"] for r in topics.rows] == [m for m in groups for _c in question.choices_for(m)]
    for m in groups:
        block = [r for r in topics.rows if r["_market"] == m]
        assert {r["_topic"] for r in block} == {c.key for c in question.choices_for(m)}
        assert [(-r["shops"], r["topic"]) for r in block] == sorted((-r["shops"], r["topic"]) for r in block)
        n = answered[m]
        assert n > 0
        for r in block:
            t = r["_topic"]
            k, rk, ek = named[(m, t)], recent_n[(m, t)], earlier_n[(m, t)]
            rn, en = recent_a[m], earlier_a[m]
            assert (r["shops"], r["answered"], r["recent_answers"], r["earlier_answers"]) == (k, n, rn, en)
            assert r["share"] == pytest.approx(k / n)
            assert r["recent_share"] == (pytest.approx(rk / rn) if rn else None)
            assert r["earlier_share"] == (pytest.approx(ek / en) if en else None)
            trend = newcombe(rk, rn, ek, en)
            assert (r["trend"], r["trend_low"], r["trend_high"]) == \
                (pytest.approx(trend.estimate), pytest.approx(trend.low), pytest.approx(trend.high))
            assert r["topic"] == question.choice_label(t, "en")
            assert r["market"] == (label("markets", m, "en") if m else "All markets")
            assert r["_muted"] == (n < SMALL)
            assert r["_drill"] == ({"market": m, "topic": t} if m else {"topic": t}) and (not m or shops_in[m] >= n)
            # the shop list reads the folded profile: every answer, also one dated after the report's now
            assert drilled[id(r)] == k
    assert answered[None] == len(folded) and recent_a[None] > 0 and earlier_a[None] > 0
    assert any(r["trend"] not in (None, 0) for r in topics.rows)

    # --- topics by stage
    by_stage_a, by_stage_n = _tally(folded, state, lambda m, st: (st,))
    stage_rows = report.table("stages").rows
    stages = profile_schema.load_schema().stages
    expected_stages = sorted(by_stage_a, key=lambda st: (st is None, stages.index(st) if st in stages else 99))
    assert [r["_stage"] for r in stage_rows] == [st for st in expected_stages for _c in question.choices_for(None)]
    for r in stage_rows:
        st, t = r["_stage"], r["_topic"]
        n, k = by_stage_a[st], by_stage_n[(st, t)]
        assert (r["shops"], r["answered"], r["share"]) == (k, n, pytest.approx(k / n))
        assert r["stage"] == (label("stages", st, "en") if st else "No stage yet")
        assert r["_muted"] == (n < SMALL)
        assert r.get("_drill") == ({"stage": st, "topic": t} if st else None)
        if st:
            assert drilled[id(r)] == k
    assert len({r["_stage"] for r in stage_rows}) >= 3

    # --- in their own words: the most recent fit answers, never contact details
    examples = report.table("examples").rows
    for m in locales.MARKET_CODES:
        got = [r["answer"] for r in examples if r["_market"] == m]
        assert got == _expected_examples(obs, state, m, NOW)
        assert 1 <= len(got) <= 3
    texts = [r["answer"] for r in examples]
    assert not any(looks_like_contact(t) or re.search(r"\d{3}\D?\d{3}", t) or "@" in t for t in texts)
    assert not set(CONTACTS) & set(texts)
    cut = [t for t in texts if t.endswith("…")]
    assert cut == [LONG[:199].rstrip() + "…"] and len(cut[0]) <= 200
    assert all(r["answered_on"] <= NOW.date() for r in examples)

    # --- one market in Polish: the schema's labels in the reader's language, that market's shops only
    tr_folded = {sid: o for sid, o in folded.items() if state[sid][0] == "TR"}
    t_rows = turkish.table("topics").rows
    assert {r["_market"] for r in t_rows} == {"TR"}
    full = {r["_topic"]: r for r in topics.rows if r["_market"] == "TR"}
    for r in t_rows:
        assert r["topic"] == question.choice_label(r["_topic"], "pl")
        assert r["market"] == label("markets", "TR", "pl")
        for key in ("shops", "answered", "share", "recent_answers", "earlier_answers", "trend"):
            assert r[key] == full[r["_topic"]][key]
    tr_a, tr_n = _tally(tr_folded, state, lambda m, st: (st,))
    for r in turkish.table("stages").rows:
        assert (r["shops"], r["answered"]) == (tr_n[(r["_stage"], r["_topic"])], tr_a[r["_stage"]])
        assert r.get("_drill") == ({"stage": r["_stage"], "market": "TR", "topic": r["_topic"]}
                                   if r["_stage"] else None)
    assert [r["answer"] for r in turkish.table("examples").rows] == _expected_examples(obs, state, "TR", NOW)

    # --- the JSON and CSV shapes
    data = json.loads(json.dumps(report.as_dict(), default=str))
    assert [t["key"] for t in data["tables"]] == ["topics", "stages", "examples"]
    assert len(list(table_csv(topics))) == 1 + len(topics.rows)


@pytest.mark.parametrize("text, contact", [
    ("Call me: +48 601 234 567", True), ("tel. 601-234-567", True), ("(0532) 123 45 67", True),
    ("jan@example.com", True), ("https://example.com/shop", True), ("see www.example.in", True),
    ("Sell 1000 candles a month by 2027", False), ("Grow to 50 000 zł a month", False),
    ("Yurt dışına satış yapmak", False),
])
def test_contact_details_are_recognised(text, contact):
    assert looks_like_contact(text) is contact
