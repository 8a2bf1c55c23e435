"""Privacy: export everything about a merchant, erase what is personal (SQLite and PostgreSQL).

A shop is built through the real paths (a trial_started event with the owner's contact
details, a call's answers with a tax id and the merchant's own words, a survey link's
draft, a callback request with a note, a rejected event that names the shop), plus call
notes, a rating comment and a score with reasons. After the erasure every text and JSON
column of every table is searched for the personal values: none is left, the shop still
counts in the conversion report, and the audit row holds none of them.
"""
from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import JSON, LargeBinary, String, Text, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from concierge.db import Base
from concierge.errors import ValidationFailed
from concierge.models import (
    Call,
    CallRating,
    DeadLetter,
    ModelVersion,
    Observation,
    PlannedCall,
    PrivacyErasure,
    Score,
    Shop,
    ShopState,
    SurveyLink,
    TrialEvent,
)
from concierge.operations.events import ingest_event
from concierge.operations.observations import record_answers
from concierge.operations.privacy import erase_shop, export_shop, export_zip
from concierge.operations.reports import build_report

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
SHOP = "pl-7001"
NAME = "Zofia Wiśniewska-Przybył"
EMAIL = "zofia.przybyl@poczta.example"
PHONE = "+48 601 234 567"
TAX_ID = "5260250274"  # a valid NIP
GOAL = "Sprzedawać hafty Zofii na Etsy"
SHOP_NAME = "Hafty Zofii Przybył"
NOTE = "Zofia prefers mornings; her husband Marek handles invoices"
OTHER = "pl-7002"
OTHER_NAME = "Jan Kowalczyk"


def _event(eid: str, etype: str, shop: str, at: datetime, data: dict) -> str:
    return json.dumps({"id": eid, "type": etype, "shop": shop, "occurred_at": at.isoformat(), "data": data})


def _build(session) -> dict:
    """The merchant, through the real paths where there is one; returns the personal values as stored."""
    for eid, shop, name, owner in (("e1", SHOP, SHOP_NAME, {"name": NAME, "email": EMAIL, "phone": PHONE}),
                                   ("o1", OTHER, "Sklep Jana", {"name": OTHER_NAME})):
        out = ingest_event(session, _event(eid, "trial_started", shop, T0, {
            "market": "PL", "shop_name": name, "trial_ends_at": (T0 + timedelta(days=14)).isoformat(),
            "owner": owner, "language": "pl"}), now=T0)
        assert out.status == "stored", out
    out = ingest_event(session, _event("e2", "plan_purchased", SHOP, T0 + timedelta(days=5), {"plan": "basic"}),
                       now=T0 + timedelta(days=5))
    assert out.status == "stored", out
    # a rejected event naming the shop and the e-mail: a dead letter
    bad = ingest_event(session, _event("e3", "no_such_event", SHOP, T0, {"email": EMAIL}), now=T0)
    assert bad.status == "rejected" and bad.dead_letter is not None
    # the other shop's rejected event stays
    other_bad = ingest_event(session, _event("o2", "no_such_event", OTHER, T0, {"x": 1}), now=T0)
    assert other_bad.dead_letter is not None
    # an unknown shop whose id starts with ours, and a short word of the name: not ours, they stay
    near = ingest_event(session, _event("o3", "product_added", SHOP + "1", T0, {"note": "Zofia"}), now=T0)
    assert near.dead_letter is not None
    shop = session.scalar(select(Shop).where(Shop.platform_id == SHOP))
    record_answers(session, shop, {"owner.tax_id": TAX_ID, "needs.main_goal": GOAL, "business.type": "handmade"},
                   actor="anna@concierge.example", source="call", observed_at=T0 + timedelta(days=1),
                   now=T0 + timedelta(days=1), rescore=False)
    from concierge.operations.survey_links import create_link, resolve_link, save_draft

    created = create_link(session, shop, secret="s3cret", created_by="anna", days=30, now=T0)
    resolved = resolve_link(session, created.token, secret="s3cret", now=T0 + timedelta(days=2))
    save_draft(session, resolved, {"owner.name": NAME, "owner.phone": PHONE}, lang="pl", now=T0 + timedelta(days=2))
    assert created.link.draft
    from concierge.operations.audits import request_callback

    request_callback(session, shop, now=T0 + timedelta(days=2), note=f"Proszę dzwonić na {PHONE}", via="survey")
    call = Call(shop_id=shop.id, actor="anna@concierge.example", kind="onboarding", called_at=T0 + timedelta(days=1),
                reached=True, note=NOTE, outcome="reached")
    session.add(call)
    session.flush()
    session.add(CallRating(call_id=call.id, shop_id=shop.id, score=9, comment=f"Dziękuję, {NAME}"))
    model = ModelVersion(version="m-privacy", kind="conversion", trained_rows=0, artifact=b"", active=False, card={})
    session.add(model)
    session.flush()
    session.add(Score(shop_id=shop.id, model_version_id=model.id, scored_at=T0 + timedelta(days=1),
                      probability=0.62, uplift=0.05,
                      details={"reasons": {"up": [{"key": "x", "text": f"{SHOP_NAME} has products"}]},
                               "texts": {"pl": {"reasons": {"up": [f"{SHOP_NAME} ma produkty"]}}}}))
    from concierge.operations.shop_state import refresh_states

    refresh_states(session, [shop.id], now=NOW)
    session.flush()
    stored_phone = session.scalar(select(Observation.value).where(Observation.shop_id == shop.id,
                                                                  Observation.question == "owner.phone"))
    from locales.text import fold_for_search

    return {"name": NAME, "email": EMAIL, "phone": PHONE, "stored_phone": str(stored_phone), "tax_id": TAX_ID,
            "goal": GOAL, "shop_name": SHOP_NAME, "note": NOTE,
            "searchable_name": fold_for_search(SHOP_NAME, strip_accents=True)}


def _text_columns():
    for table in Base.metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, (LargeBinary,)):
                continue
            if isinstance(col.type, (String, Text, JSON, JSONB)) or col.type.__class__.__name__ in ("JSON", "Variant"):
                yield table, col


def find_everywhere(session, value: str) -> list[str]:
    """Every table.column (text or JSON, cast to text) whose value contains `value` (or its JSON escape)."""
    forms = {value, json.dumps(value)[1:-1]}
    hits = []
    for table, col in _text_columns():
        conds = [cast(col, Text).like(f"%{f}%") for f in forms]
        n = session.scalar(select(func.count()).select_from(table).where(or_(*conds)))
        if n:
            hits.append(f"{table.name}.{col.name} ({n})")
    return hits


def _conversion(session) -> list[tuple]:
    report = build_report(session, "cohorts", now=NOW, market="PL")
    return [(t.key, r.get("cohort"), r.get("market"), r.get("trials"), r.get("decided"), r.get("converted"))
            for t in report.tables for r in t.rows if "converted" in r]


def test_the_text_search_itself_finds_what_is_there(session):
    values = _build(session)
    for key in values:
        assert find_everywhere(session, values[key]), key
    assert "dead_letter.payload (1)" in find_everywhere(session, EMAIL)


def test_export_holds_everything_before_erasure(session):
    values = _build(session)
    data = export_shop(session, SHOP, lang="pl", now=NOW)
    text = json.dumps(data, ensure_ascii=False)
    for key in ("name", "email", "stored_phone", "tax_id", "goal", "shop_name", "note"):
        assert values[key] in text, key
    assert OTHER_NAME not in text  # nothing about another merchant
    personal = {p["question"]: p for p in data["personal_data"]}
    assert personal["owner.email"]["value"] == EMAIL and personal["owner.tax_id"]["label"] == "NIP / REGON"
    assert len(data["dead_letters"]) == 1 and len(data["calls"]) == 1 and len(data["call_ratings"]) == 1
    assert len(data["trial_events"]) == 2 and len(data["survey_links"]) == 1
    assert "nonce" not in data["survey_links"][0]
    assert data["scores"][0]["model_version"] == "m-privacy"
    assert data["shop_state"]["name"] == SHOP_NAME and data["planned_calls"]
    archive = zipfile.ZipFile(io.BytesIO(export_zip(data)))
    names = set(archive.namelist())
    assert {"export.json", "shop.csv", "observations.csv", "dead_letters.csv", "calls.csv"} <= names
    assert EMAIL in archive.read("observations.csv").decode("utf-8-sig")
    assert NOTE in archive.read("calls.csv").decode("utf-8-sig")
    assert json.loads(archive.read("export.json"))["shop_id"] == SHOP
    assert data["queued_events"] == [] and "queued_events.csv" in names


def test_export_holds_the_webhook_events_still_queued(session):
    from concierge.operations.inbox import queue_event

    _build(session)
    body = _event("ev-queued-1", "store_details_completed", SHOP, T0 + timedelta(days=3),
                  {"store_name": "Hafty Zofii nowe"})
    assert queue_event(session, body, now=NOW).status == "queued"
    session.flush()
    data = export_shop(session, SHOP, now=NOW)
    assert [(q["event_id"], q["type"]) for q in data["queued_events"]] == [("ev-queued-1", "store_details_completed")]
    assert "Hafty Zofii nowe" in data["queued_events"][0]["payload"]
    assert export_shop(session, OTHER, now=NOW)["queued_events"] == []  # nothing of another merchant's
    archive = zipfile.ZipFile(io.BytesIO(export_zip(data)))
    assert "ev-queued-1" in archive.read("queued_events.csv").decode("utf-8-sig")


def test_erase_leaves_no_personal_value_anywhere_and_keeps_the_conversion(session):
    values = _build(session)
    before = _conversion(session)
    assert any(row[5] for row in before)  # the shop converted and counts
    result = erase_shop(session, SHOP, reason="DSR-2026-0042 (art. 17)", actor="admin@concierge.example",
                        channel="cli", now=NOW)
    session.flush()
    for key, value in values.items():
        assert find_everywhere(session, value) == [], key
    assert _conversion(session) == before
    shop = session.scalar(select(Shop).where(Shop.platform_id == SHOP))
    assert shop.outcome == "converted" and shop.name is None and shop.market == "PL"
    state = session.get(ShopState, shop.id)
    assert state.converted and state.name is None and state.platform_id == SHOP
    # what the figures need stays: the events (their other fields), the score's probability
    events = {e.id: e.payload for e in session.scalars(select(TrialEvent).where(TrialEvent.shop_id == shop.id))}
    assert events["e2"]["data"]["plan"] == "basic" and events["e1"]["data"]["market"] == "PL"
    assert "owner" in events["e1"]["data"] and "name" not in events["e1"]["data"]["owner"]
    assert session.scalar(select(Score.probability).where(Score.shop_id == shop.id)) == 0.62
    assert session.scalar(select(func.count()).select_from(SurveyLink)) == 0
    assert all(c.status == "cancelled" for c in session.scalars(select(PlannedCall)))
    assert session.scalar(select(Call.reached).where(Call.shop_id == shop.id)) is True
    assert session.scalar(select(CallRating.score)) == 9
    # the other merchant is untouched
    assert find_everywhere(session, OTHER_NAME)
    assert session.scalar(select(func.count()).select_from(DeadLetter)) == 2
    # the audit row: who, when, why, how much; none of the values
    audit = session.scalars(select(PrivacyErasure)).one()
    assert audit.platform_id == SHOP and audit.actor == "admin@concierge.example"
    assert audit.reason == "DSR-2026-0042 (art. 17)" and audit.erased_at == NOW
    assert audit.counts == result["counts"]
    c = result["counts"]
    assert c["observations"] >= 5 and c["dead_letters"] == 1 and c["survey_links"] == 1
    assert c["survey_drafts"] == 1 and c["call_notes"] == 1 and c["rating_comments"] == 1
    assert c["score_reasons"] == 1 and c["shop_name"] == 1 and c["trial_events"] == 1
    assert c["planned_calls_cancelled"] == 1 and c["planned_call_notes"] == 1
    assert result["already_erased"] is False
    audit_text = json.dumps([audit.platform_id, audit.actor, audit.reason, audit.counts], ensure_ascii=False)
    for value in values.values():
        assert value not in audit_text


def test_erasing_twice_is_harmless_and_says_so(session):
    _build(session)
    first = erase_shop(session, SHOP, reason="request 1", actor="admin", now=NOW)
    snapshot = export_shop(session, SHOP, now=NOW)
    again = erase_shop(session, SHOP, reason="request 1, repeated", actor="admin", now=NOW + timedelta(minutes=1))
    assert first["erased"] > 0 and again["erased"] == 0 and again["already_erased"] is True
    after = export_shop(session, SHOP, now=NOW)
    for section in ("shop", "observations", "trial_events", "calls", "scores", "planned_calls", "dead_letters"):
        assert after[section] == snapshot[section], section
    assert session.scalar(select(func.count()).select_from(PrivacyErasure)) == 2


def test_the_reason_is_required_and_scrubbed(session):
    _build(session)
    with pytest.raises(ValidationFailed) as exc:
        erase_shop(session, SHOP, reason="  ", actor="admin", lang="pl")
    assert exc.value.errors[0]["field"] == "reason" and "powód" in exc.value.errors[0]["message"]
    result = erase_shop(session, SHOP, reason=f"request from {NAME} <{EMAIL}>", actor="admin", now=NOW)
    audit = session.get(PrivacyErasure, result["erasure_id"])
    assert NAME not in audit.reason and EMAIL not in audit.reason and "[erased]" in audit.reason


def test_erasing_a_demo_merchant_leaves_none_of_their_values(session):
    """The demo's own merchants (names, phones, e-mails in several scripts; notes, callbacks,
    ratings): the shop with the most personal values is erased, the rest of the demo is not."""
    from datetime import date

    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.operations.privacy import personal_values

    load_population(session, generate(40, seed=3, today=date(2026, 11, 16)), now=NOW)
    session.flush()
    shops = list(session.scalars(select(Shop).order_by(Shop.id)))
    target = max(shops, key=lambda s: len(personal_values(session, s)))
    others = {s.id: personal_values(session, s) for s in shops if s.id != target.id}
    shared = {n for values in others.values() for n in values}  # the demo's stock phrases: other merchants' too
    needles = [n for n in personal_values(session, target) if "\\u" not in n and n not in shared]
    assert len(needles) >= 3 and all(find_everywhere(session, n) for n in needles)
    before = _conversion(session)
    erase_shop(session, target, reason="demo request", actor="dpo", now=NOW)
    session.flush()
    for n in needles:
        assert find_everywhere(session, n) == [], n
    assert _conversion(session) == before
    assert {s.id: personal_values(session, s) for s in shops if s.id != target.id} == others


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "a\x00b", "a\udc00b", None, 42])
def test_a_reason_that_cannot_be_stored_is_refused_and_nothing_is_erased(session, reason):
    _build(session)
    before = export_shop(session, SHOP, now=NOW)
    with pytest.raises(ValidationFailed) as exc:
        erase_shop(session, SHOP, reason=reason, actor="admin")
    assert exc.value.errors[0]["field"] == "reason"
    assert export_shop(session, SHOP, now=NOW) == before
