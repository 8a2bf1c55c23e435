"""`concierge ingest events`' fast path stores exactly what the Core path stored, on SQLite and PostgreSQL.

The fast path (operations/bulk.py) sends events, observations, shop_state and profile_snapshot
rows to the driver as tuples, encodes JSON with a C encoder made once, skips the NUL/surrogate
walk when the text cannot hold one, caches the plan of repeated bodies, and folds the shops a run
created from the observations it kept instead of reading them back. Each test ingests the same
lines twice, into two fresh databases (``FAST_INSERTS`` off: the path before; on: the fast one),
and compares every row of every table the run writes, as the driver reads them (SQLite: the
stored text itself).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from concierge.db import Database
from concierge.ingest.bodies import BodyRejected, load_json_body, unstorable_errors
from concierge.operations import events as events_op
from concierge.operations.events import body_sha256, ingest_lines, iter_jsonl
from concierge.operations.observations import add_observations_bulk
from concierge.operations.shop_state import rebuild_states

NOW = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
TABLES = {"shop": "id", "trial_event": "id", "observation": "id", "shop_state": "shop_id",
          "profile_snapshot": "shop_id", "dead_letter": "id"}


def ev(eid, shop, etype, at, **data):
    return json.dumps({"id": eid, "shop": shop, "type": etype, "occurred_at": at, "data": data},
                      ensure_ascii=bool(len(eid) % 2))  # both spellings of non-ASCII text


def start(eid, shop, market, at, name, phone, **extra):
    return ev(eid, shop, "trial_started", at, market=market, shop_name=name, language="pl",
              trial_ends_at="2026-04-30T23:59:59.250000+02:00",
              owner={"name": name, "email": f"{shop}@example.com", "phone": phone}, **extra)


SEED = [start("old-0", "pl-old", "PL", "2026-03-01T09:00:00+01:00", "Stary sklep", "+48 600 100 200")]

LINES = [
    start("a-0", "pl-a", "PL", "2026-04-01T08:00:00+02:00", "Zoë's śklep ‮x", "+48 601 234 567"),
    ev("a-1", "pl-a", "product_added", "2026-04-01T09:00:00.000001+02:00", count=5),
    ev("a-2", "pl-a", "product_added", "2026-04-01T09:00:00.000001+02:00"),  # a tie in time
    ev("a-3", "pl-a", "payment_connected", "2026-04-02T10:00:00Z", provider="blik"),
    ev("a-4", "pl-a", "payment_connected", "2026-04-02T10:00:00Z", provider="payu"),
    ev("a-4", "pl-a", "payment_connected", "2026-04-02T10:00:00Z", provider="payu"),  # duplicate
    ev("a-4", "pl-a", "payment_connected", "2026-04-02T10:00:00Z", provider="tpay"),  # conflict
    ev("a-5", "pl-a", "legal_pages_published", "2026-04-03T10:00:00+00:00", pages=["privacy", "terms"]),
    ev("a-6", "pl-a", "domain_connected", "2026-04-03T11:00:00+00:00", domain="sklep.example.pl"),
    ev("a-7", "pl-a", "plan_purchased", "2026-04-05T11:00:00+00:00", plan="pro"),
    # out of order: the shop's trial_started comes later in the run
    ev("b-1", "in-b", "shipping_connected", "2026-04-02T10:00:00+05:30", provider="delhivery"),
    ev("b-2", "in-b", "legal_pages_published", "2026-04-02T11:00:00+05:30", pages=["terms", "privacy", "refund"]),
    start("b-0", "in-b", "IN", "2026-04-01T10:00:00+05:30", "Priya", "98765 43210"),
    ev("b-3", "in-b", "international_selling_enabled", "2026-04-03T10:00:00+05:30"),
    ev("b-4", "in-b", "trial_ended", "2026-04-15T10:00:00+05:30", converted=False),
    start("c-0", "tr-c", "TR", "2026-04-01T10:00:00+03:00", "Ayşe", "+90 532 123 45 67"),
    ev("c-1", "tr-c", "marketplace_connected", "2026-04-02T10:00:00+03:00", marketplace="trendyol"),
    ev("c-2", "tr-c", "order_received", "2026-04-02T11:00:00+03:00", test=True),
    # the shop that existed before the run (its history is read back from the database)
    ev("old-1", "pl-old", "product_added", "2026-04-01T10:00:00+02:00", count=2),
    start("old-0b", "pl-old", "PL", "2026-04-01T11:00:00+02:00", "Nowa nazwa", "+48 600 100 200"),
    # rejected: malformed, unknown type, NUL, lone surrogate, bad phone, shop that never starts
    "{not json",
    ev("x-1", "pl-a", "nonsense", "2026-04-02T10:00:00Z"),
    ev("x-2", "pl-a", "payment_connected", "2026-04-02T10:00:00Z", provider="a\u0000b"),
    '{"id": "x-3", "shop": "pl-a", "type": "payment_connected", "occurred_at": "2026-04-02T10:00:00Z", '
    '"data": {"provider": "\\udc00"}}',
    start("x-4", "pl-x", "PL", "2026-04-01T10:00:00+02:00", "X", "12"),
    ev("x-5", "pl-never", "theme_published", "2026-04-02T10:00:00Z"),
    "{not json",  # the same rejected line twice: one dead letter
]


def _dump(db: Database) -> dict[str, list[tuple]]:
    out = {}
    with db.engine.connect() as conn:
        for table, key in TABLES.items():
            out[table] = [tuple(r) for r in conn.exec_driver_sql(f'SELECT * FROM "{table}" ORDER BY {key}')]
    return out


def _run(url: str, fast: bool, monkeypatch, lines=LINES, batch_size=4) -> tuple[Database, dict, dict]:
    db = Database(url)
    db.create_all()
    monkeypatch.setattr(events_op, "FAST_INSERTS", False)
    with db.session() as s:
        ingest_lines(s, list(enumerate(SEED, 1)), now=NOW)
        sid = s.execute(text("SELECT id FROM shop WHERE platform_id = 'pl-old'")).scalar_one()
        add_observations_bulk(s, [{"shop_id": sid, "question": "business.type", "value": "fashion", "op": "set",
                                   "source": "survey", "actor": "survey:1",
                                   "observed_at": datetime(2026, 3, 2, tzinfo=timezone.utc), "recorded_at": NOW,
                                   "schema_version": 1, "submission_id": None, "event_id": None}])
    monkeypatch.setattr(events_op, "FAST_INSERTS", fast)
    with db.session() as s:
        summary = ingest_lines(s, list(iter_jsonl(line + "\n" for line in lines)), now=NOW,
                               batch_size=batch_size, context={"file": "t.jsonl"})
    return db, summary.as_dict(), _dump(db)


@pytest.fixture
def two_urls(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'core.sqlite'}", f"sqlite:///{tmp_path / 'fast.sqlite'}"
        return
    factory = request.getfixturevalue("pg_schema_factory")
    made = [factory(), factory()]
    yield made[0][2], made[1][2]
    for admin, schema, _url in made:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


BOTH = pytest.mark.parametrize("two_urls", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                               indirect=True)


@BOTH
def test_fast_path_stores_exactly_what_the_core_path_stored(two_urls, monkeypatch):
    core_db, core_summary, core = _run(two_urls[0], False, monkeypatch)
    fast_db, fast_summary, fast = _run(two_urls[1], True, monkeypatch)
    try:
        assert fast_summary == core_summary
        assert (core_summary["stored"], core_summary["duplicates"]) == (18, 1)
        assert core_summary["rejected"] == 8 and len(set(core_summary["dead_letters"])) == 7
        assert {t: len(r) for t, r in fast.items()} == {t: len(r) for t, r in core.items()}
        assert len(core["observation"]) > 30 and len(core["shop_state"]) == 4
        for table in TABLES:
            assert fast[table] == core[table], table
    finally:
        core_db.dispose()
        fast_db.dispose()


@BOTH
def test_fast_path_read_model_equals_a_rebuild(two_urls, monkeypatch):
    db, _summary, before = _run(two_urls[1], True, monkeypatch, batch_size=3)
    try:
        with db.session() as s:
            rebuild_states(s, now=NOW)
        after = _dump(db)
        assert after["shop_state"] == before["shop_state"]
        assert after["profile_snapshot"] == before["profile_snapshot"]
    finally:
        db.dispose()


@BOTH
def test_fast_path_on_a_second_run_and_with_dict_values(two_urls, monkeypatch):
    """A second run over the same shops (read back, not kept) and the same ids again (duplicates)."""
    lines = LINES[:10]
    dumps = []
    for url, fast in zip(two_urls, (False, True)):
        db, _s, _d = _run(url, fast, monkeypatch, lines=lines)
        with db.session() as s:
            summary = ingest_lines(s, list(iter_jsonl(line + "\n" for line in LINES)), now=NOW, batch_size=50)
        dumps.append((summary.as_dict(), _dump(db)))
        db.dispose()
    assert dumps[0] == dumps[1]


def test_canonical_and_payload_encodings_are_json_dumps():
    from concierge.operations.bulk import _sqlite_json

    values = [None, True, False, 0, -7, 10 ** 30, 1.5, 1e300, "zażółć \"x\"\n\u202e", [], {},
              [1, "a", {"b": [True, None, 2.5]}], {"z": 1, "a": {"ü": "ğ"}, "m": [False]}]
    for line in LINES:
        try:
            body = json.loads(line)
        except ValueError:
            continue
        if not unstorable_errors(body):  # those never reach the hash
            values.append(body)
    for v in values:
        assert _sqlite_json(v) == json.dumps(v)
        canonical = json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        import hashlib

        assert body_sha256(v) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("raw", [
    '{"a": "\\u0000"}', '{"a": "x\\u0000"}', '{"\\u0000": 1}', '{"a": "\\ud800"}', '{"a": "\\uDC00x"}',
    '{"a": ["\\udfff"]}', '{"a": "\\\\u0000"}', '{"a": "\\u00e9\\u0101"}', '{"a": "\\ud83d\\ude00"}',
    '{"a": "\x00"}', '{"a": "\udc80"}', '{"a": "é"}', '{"a": 1}', '"\\u0000"', '["\\ud800"]',
])
def test_the_quick_text_check_agrees_with_the_walk(raw):
    try:
        parsed = json.loads(raw)
    except ValueError:
        with pytest.raises(BodyRejected):
            load_json_body(raw)
        return
    expected = unstorable_errors(parsed)
    try:
        load_json_body(raw)
        got = []
    except BodyRejected as rej:
        got = rej.errors
    assert got == expected
