"""The shop export (`GET /shops.csv`, `concierge shops --csv`) and the shop list's drill-down filters,
on SQLite and PostgreSQL.

The export is checked against the raw shop_state rows read back with plain SQL and filtered
in Python (not through `state_filters`), and against the list's own count (`list_states`):
every filter, RFC 4180, UTF-8, typed numbers, formula injection defused (values and
headers) in the web export and in the CLI, and who may export.
"""
from __future__ import annotations

import csv
import io
import random
import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update
from werkzeug.datastructures import MultiDict

from concierge.cli import cli
from tests.support import app_db as _db

PASSWORD = "correct horse battery"
TODAY = date(2026, 11, 23)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
UTC = timezone.utc

#: The issue's list: each must come back with only a leading ' added.
FORMULAS = ('=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\tSUM(A1)",
            "\rSUM(A1)")
#: Harmless texts: they must come back exactly as stored.
PLAIN = ('Sklep "Pod Lipą"\nul. Długa, 5', "Zażółć gęślą jaźń", "İğdır Çiçekçisi ışık", "a=b, c+d")


def make_user(app, email, role):
    from concierge.operations.users import create_user

    with _db(app).session() as s:
        create_user(s, email, password=PASSWORD, role=role, name=email.split("@")[0])


def login(client, email):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


def manager(app, client):
    make_user(app, "maria@example.com", "manager")
    login(client, "maria@example.com")
    return client


def read_csv(raw: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw, newline="")))


def export(client, query=None) -> tuple[list[str], list[list[str]], str]:
    """GET /shops.csv: (header, rows, raw text)."""
    r = client.get("/shops.csv" + ("?" + urlencode(query, doseq=True) if query else ""))
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    raw = r.get_data().decode("utf-8")  # strict: the body is UTF-8
    table = read_csv(raw)
    return table[0], table[1:], raw


def all_states(app) -> list[dict]:
    """Every shop_state row, read with plain SQL (datetimes made aware: SQLite stores them naive)."""
    with _db(app).engine.connect() as c:
        rows = [dict(r) for r in c.execute(text("SELECT * FROM shop_state")).mappings()]
    for r in rows:
        for k, v in r.items():
            if isinstance(v, str) and k.endswith("_at") and v[:4].isdigit():
                v = datetime.fromisoformat(v)
            if isinstance(v, datetime):
                r[k] = v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
        for k in ("contacted", "held_out"):
            r[k] = bool(r[k])
    return rows


# ---------------------------------------------------------------- data

def formula_shops(app) -> dict[str, str]:
    """Shops named with the injection list and harmless texts; reached by consultants whose names are
    formulas too (the call log's actor is free text); personas written into the read model directly
    (a persona is computed by the fold, never typed, but the column is text: the export must defuse
    whatever it holds). Returns {platform id: name}."""
    from concierge.models import Call, Shop, ShopState
    from concierge.operations.shop_state import refresh_states
    from concierge.operations.shops import ensure_shop

    names = {}
    with _db(app).session() as s:
        for i, name in enumerate(FORMULAS + PLAIN):
            shop = ensure_shop(s, f"pl-f{i}", "PL", name=name, trial_started_at=T0 + timedelta(days=i))
            names[shop.platform_id] = name
            s.add(Call(shop_id=shop.id, actor=(FORMULAS + PLAIN)[-1 - i], kind="onboarding",
                       called_at=T0 + timedelta(days=i, hours=1), reached=True, outcome="reached"))
        s.flush()
        ids = list(s.scalars(select(Shop.id)))
        refresh_states(s, ids)
        for i, sid in enumerate(sorted(ids)):
            s.execute(update(ShopState).where(ShopState.shop_id == sid).values(persona=FORMULAS[i % len(FORMULAS)]))
    return names


def demo(app, n=160, seed=5):
    """A demo population, with a score for most open and closed trials (the model's job, drawn here)."""
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.models import ModelVersion, Score, Shop
    from concierge.operations.shop_state import refresh_states

    with _db(app).session() as s:
        load_population(s, generate(n, seed=seed, today=TODAY))
    rnd = random.Random(seed)
    with _db(app).session() as s:
        model = ModelVersion(version="v-export", kind="test", artifact=b"", active=False)
        s.add(model)
        s.flush()
        ids = list(s.scalars(select(Shop.id).order_by(Shop.id)))
        s.add_all([Score(shop_id=i, model_version_id=model.id, scored_at=T0, probability=rnd.random())
                   for i in ids if rnd.random() < 0.8])
        refresh_states(s, ids)


# ---------------------------------------------------------------- parse_filters (pure)

def test_parse_filters_reads_query_parameters_and_names_every_problem():
    from concierge.operations.shop_state import filter_query, parse_filters

    args = MultiDict([("q", "  Łódź  "), ("market", "pl"), ("stage", "legal"), ("stages", "products"),
                      ("stages", "ready,launched"), ("outcome", "open"), ("consultant", " ola@example.com "),
                      ("persona", "first_steps"), ("business_type", "handmade"), ("held_out", "1"),
                      ("contacted", "0"), ("trial_from", "2026-03-02"), ("trial_to", "2026-03-09"),
                      ("closed_from", "2026-04-01"), ("closed_to", "2026-05-01"), ("score_min", "30"),
                      ("score_max", "70")])
    filters, problems = parse_filters(args)
    assert problems == []
    assert filters == {
        "q": "Łódź", "market": "PL", "stage": "legal", "stages": ["products", "ready", "launched"],
        "outcome": "open", "consultant": "ola@example.com", "persona": "first_steps", "business_type": "handmade",
        "held_out": True, "contacted": False, "trial_from": datetime(2026, 3, 2, tzinfo=UTC),
        "trial_to": datetime(2026, 3, 9, tzinfo=UTC), "closed_from": datetime(2026, 4, 1, tzinfo=UTC),
        "closed_to": datetime(2026, 5, 1, tzinfo=UTC), "min_score": 0.3, "max_score": 0.7}
    assert all(v.tzinfo is UTC for k, v in filters.items() if k.endswith(("_from", "_to")))
    # back to the same query parameters (links that keep the filters)
    query = filter_query(filters)
    assert parse_filters(MultiDict([(k, v) for k, vs in query.items()
                                    for v in (vs if isinstance(vs, list) else [vs])]))[0] == filters
    # a plain dict works too: a list is a repeated parameter
    plain, _ = parse_filters({"stages": ["legal", "ready"], "held_out": "0", "score_max": "100"})
    assert plain == {"stages": ["legal", "ready"], "held_out": False, "max_score": 1.0}

    bad = {"market": "XX", "stage": "flying", "stages": ["legal", "nope"], "outcome": "maybe",
           "persona": "=cmd", "business_type": "spaceship", "held_out": "perhaps", "contacted": "2",
           "trial_from": "02.03.2026", "trial_to": "2026-02-30", "closed_from": "20260301", "score_min": "x",
           "score_max": "101", "q": "", "consultant": "   "}
    filters, problems = parse_filters(bad)
    assert filters == {"stages": ["legal"]}  # only what was valid
    assert sorted(f for f, _ in problems) == sorted(["market", "stage", "stages", "outcome", "persona",
                                                      "business_type", "held_out", "contacted", "trial_from",
                                                      "trial_to", "closed_from", "score_min", "score_max"])
    reasons = dict(problems)
    assert "XX" in reasons["market"] and "PL" in reasons["market"] and "YYYY-MM-DD" in reasons["trial_to"]
    _, polish = parse_filters({"market": "XX"}, lang="pl")
    assert polish[0][0] == "market" and "XX" in polish[0][1]


def test_csv_lines_defuses_formulas_in_headers_and_values_and_keeps_numbers_plain():
    from concierge.reporting import Column, csv_lines

    columns = [Column("t", label, "text") for label in FORMULAS] + [Column("n", "+n", "float"),
                                                                   Column("i", "@i", "int")]
    lines = list(csv_lines(columns, [{"t": v, "n": -2.5, "i": -3} for v in FORMULAS + PLAIN]))
    assert all(line.endswith("\r\n") for line in lines)
    table = read_csv("".join(lines))
    assert table[0] == ["'" + f for f in FORMULAS] + ["'+n", "'@i"]
    for row, value in zip(table[1:], FORMULAS + PLAIN):
        expected = "'" + value if value in FORMULAS else value
        assert row[:len(FORMULAS)] == [expected] * len(FORMULAS)
        assert (float(row[-2]), int(row[-1])) == (-2.5, -3)  # a negative number is a number, not a formula


def test_csv_lines_writes_every_cell_as_csv_cell_does():
    """csv_lines' per-column fast paths write exactly what `csv_cell` writes, for every kind and value."""
    from concierge.reporting import KINDS, Column, csv_cell, csv_lines, safe_text

    values = [None, 0, 7, -3, 2.0, -2.5, 1e-7, float("nan"), float("inf"), True, False, "x", "", "a,b", 'q"q',
              "l\nm", "3.5", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), datetime(2026, 1, 2), date(2026, 1, 2),
              *FORMULAS]
    for kind in KINDS:
        column = Column("v", "=" + kind, kind)
        for value in values:
            try:
                expected = [[safe_text(column.label)], [csv_cell(value, kind)]]
            except (TypeError, ValueError, OverflowError):
                with pytest.raises((TypeError, ValueError, OverflowError)):
                    list(csv_lines([column], [{"v": value}]))
                continue
            assert read_csv("".join(csv_lines([column], [{"v": value}]))) == expected, (kind, value)
        assert read_csv("".join(csv_lines([column], [{}])))[1] == [""]  # a missing key is an empty cell


# ---------------------------------------------------------------- the web export

def test_export_defuses_formulas_and_is_rfc4180_utf8(app, client):
    from concierge.operations.shop_state import export_columns

    names = formula_shops(app)
    manager(app, client)
    r = client.get("/shops.csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and re.search(r'filename="shops-[\w.-]+\.csv"', disposition)
    raw = r.get_data().decode("utf-8")
    assert raw.endswith("\r\n") and "\r\n" in raw
    table = read_csv(raw)
    assert len(table) == len(names) + 1
    # every record ends with CRLF; the other line breaks (a newline, a defused leading CR) sit inside quotes
    assert raw.count("\r\n") == len(table) and "\"'\rSUM(A1)\"" in raw
    assert '"Sklep ""Pod Lipą""\nul. Długa, 5"' in raw  # quotes doubled, the newline kept inside quotes
    header, rows = table[0], table[1:]
    assert header == [c.label for c in export_columns("en")]
    col = {c.key: i for i, c in enumerate(export_columns("en"))}
    by_id = {row[col["platform_id"]]: row for row in rows}
    assert set(by_id) == set(names)
    for pid, name in names.items():
        row = by_id[pid]
        assert row[col["name"]] == ("'" + name if name in FORMULAS else name)
        consultant = row[col["consultant"]]
        assert consultant in ["'" + f for f in FORMULAS] + list(PLAIN)
        assert row[col["persona"]] in ["'" + f for f in FORMULAS]
    assert {row[col["consultant"]] for row in rows} == {"'" + f for f in FORMULAS} | set(PLAIN)
    # UTF-8: Polish and Turkish letters as they are, in the bytes
    assert "Zażółć gęślą jaźń".encode() in r.get_data() and "İğdır Çiçekçisi ışık".encode() in r.get_data()


def test_export_headers_in_the_readers_language_are_defused_too(app, client):
    from concierge.i18n import translations
    from concierge.operations.shop_state import export_columns
    from concierge.reporting import safe_text

    formula_shops(app)
    make_user(app, "ayse@example.com", "admin")
    with _db(app).session() as s:
        from concierge.models import User

        s.execute(update(User).where(User.email == "ayse@example.com").values(language="tr"))
    login(client, "ayse@example.com")
    header, rows, _raw = export(client)
    assert header == [safe_text(c.label) for c in export_columns("tr")]
    market = [c.key for c in export_columns("tr")].index("market")
    assert header[market] == translations("tr").gettext("Market") != "Market"  # already in the Turkish catalog


def test_export_honours_every_filter_and_sort(app, client):
    """Each filter's rows equal the raw rows filtered in Python, and the list's count."""
    from concierge.operations.shop_state import list_states, parse_filters

    demo(app)
    manager(app, client)
    states = all_states(app)
    assert len(states) == 160

    def most(key):
        values = [r[key] for r in states if r[key] is not None]
        return max(sorted(set(values)), key=values.count)

    stage, persona, btype, consultant = most("stage"), most("persona"), most("business_type"), most("consultant")
    two_stages = sorted({r["stage"] for r in states})[:2]
    starts = sorted(r["trial_started_at"] for r in states)
    mid = starts[len(starts) // 2].date()
    closes = sorted(r["outcome_at"] for r in states if r["outcome_at"])
    cmid = closes[len(closes) // 2].date()
    word = next(r["name"] for r in states if r["name"]).split()[0]

    def day(d):
        return datetime(d.year, d.month, d.day, tzinfo=UTC)

    cases = [
        ({"market": "TR"}, lambda r: r["market"] == "TR"),
        ({"stage": stage}, lambda r: r["stage"] == stage),
        ({"stages": two_stages}, lambda r: r["stage"] in two_stages),
        ({"outcome": "converted"}, lambda r: r["outcome"] == "converted"),
        ({"outcome": "not_converted"}, lambda r: r["outcome"] == "not_converted"),
        ({"outcome": "open"}, lambda r: r["outcome"] is None),
        ({"consultant": consultant}, lambda r: r["consultant"] == consultant),
        ({"persona": persona}, lambda r: r["persona"] == persona),
        ({"business_type": btype}, lambda r: r["business_type"] == btype),
        ({"held_out": "1"}, lambda r: r["held_out"]),
        ({"held_out": "0"}, lambda r: not r["held_out"]),
        ({"contacted": "1"}, lambda r: r["contacted"]),
        ({"contacted": "0"}, lambda r: not r["contacted"]),
        ({"trial_from": mid.isoformat()}, lambda r: r["trial_started_at"] >= day(mid)),
        ({"trial_to": mid.isoformat()}, lambda r: r["trial_started_at"] < day(mid)),
        ({"trial_from": (mid - timedelta(days=30)).isoformat(), "trial_to": mid.isoformat()},
         lambda r: day(mid - timedelta(days=30)) <= r["trial_started_at"] < day(mid)),
        ({"closed_from": cmid.isoformat(), "closed_to": (cmid + timedelta(days=40)).isoformat()},
         lambda r: r["outcome_at"] is not None and day(cmid) <= r["outcome_at"] < day(cmid + timedelta(days=40))),
        ({"score_min": "30", "score_max": "70"}, lambda r: r["score"] is not None and 0.3 <= r["score"] <= 0.7),
        ({"score_min": "50"}, lambda r: r["score"] is not None and r["score"] >= 0.5),
        ({"q": word.upper()}, lambda r: word.casefold() in (r["name"] or "").casefold()),
        ({"market": "PL", "contacted": "1", "outcome": "not_converted"},
         lambda r: r["market"] == "PL" and r["contacted"] and r["outcome"] == "not_converted"),
    ]
    with _db(app).session() as s:
        for query, keep in cases:
            _header, rows, _raw = export(client, query)
            got = [row[0] for row in rows]
            expected = {r["platform_id"] for r in states if keep(r)}
            assert 0 < len(expected) < len(states), (query, len(expected))  # the filter really filters
            assert set(got) == expected, query
            assert len(got) == len(expected)
            filters, problems = parse_filters(MultiDict([(k, v) for k, vs in query.items()
                                                         for v in (vs if isinstance(vs, list) else [vs])]))
            assert not problems
            found, total = list_states(s, **filters, limit=None)
            assert total == len(got) and [x.platform_id for x in found] == got  # the list's order: newest first
        # sorts: the list's order
        for sort in ("score", "trial_start", "name"):
            got = [row[0] for row in export(client, {"sort": sort, "market": "PL"})[1]]
            found, _total = list_states(s, sort=sort, market="PL", limit=None)
            assert got == [x.platform_id for x in found]
        by_score = [r for r in states if r["market"] == "PL"]  # highest first, unscored last, then newest
        by_score.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), -r["shop_id"]))
        scored = export(client, {"sort": "score", "market": "PL"})[1]
        assert [row[0] for row in scored] == [r["platform_id"] for r in by_score]
        # the consultant filter's choices: everyone who reached a merchant (a loose index scan), as DISTINCT says
        from concierge.operations.shop_state import consultants

        distinct = list(s.execute(text("SELECT DISTINCT consultant FROM shop_state WHERE consultant IS NOT NULL "
                                       "ORDER BY consultant")).scalars())
        assert consultants(s) == distinct and set(distinct) == {r["consultant"] for r in states if r["consultant"]}
        assert len(distinct) > 3
    # an invalid value refuses the export, naming each filter (as `shops --csv` does), never the whole list
    refused = client.get("/shops.csv?stage=flying&held_out=maybe")
    assert refused.status_code == 400
    assert sorted(line.split(":")[0] for line in refused.get_data(as_text=True).splitlines()[1:]) == \
        ["held_out", "stage"]


def test_export_cells_are_typed_and_equal_the_stored_row(app, client):
    from concierge.operations.shop_state import export_columns

    demo(app, n=60, seed=9)
    manager(app, client)
    states = {r["platform_id"]: r for r in all_states(app)}
    header, rows, _raw = export(client)
    kinds = [c.kind for c in export_columns("en")]
    keys = [c.key for c in export_columns("en")]
    assert len(rows) == len(states)
    scored = 0
    for row in rows:
        stored = states[row[0]]
        for key, kind, cell in zip(keys, kinds, row):
            value = stored[key]
            if value is None:
                assert cell == "", (key, cell)
            elif kind == "float":
                assert float(cell) == pytest.approx(value, rel=1e-12, abs=1e-12)
                scored += 1
            elif kind == "int":
                assert int(cell) == value and re.fullmatch(r"-?\d+", cell)
            elif kind == "bool":
                assert cell == ("true" if value else "false")
            elif kind == "datetime":  # (formatted by the database: exactly what isoformat writes)
                assert cell == value.isoformat() and datetime.fromisoformat(cell) == value
            else:
                assert cell == str(value)
    assert scored > 0


def test_only_managers_and_admins_export(app, client):
    formula_shops(app)
    assert client.get("/shops.csv").status_code == 302
    assert "/login" in client.get("/shops.csv").headers["Location"]
    make_user(app, "ola@example.com", "consultant")
    login(client, "ola@example.com")
    assert client.get("/shops.csv").status_code == 403
    assert "/shops.csv" not in client.get("/").get_data(as_text=True)  # no link either
    admin = app.test_client()
    make_user(app, "root@example.com", "admin")
    login(admin, "root@example.com")
    assert admin.get("/shops.csv").status_code == 200
    body = admin.get("/?market=PL&persona=first_steps").get_data(as_text=True)
    link = re.search(r'href="(/shops\.csv\?[^"]+)"', body).group(1).replace("&amp;", "&")
    assert "market=PL" in link and "persona=first_steps" in link



def test_export_refuses_bad_filters_naming_each_rather_than_exporting_every_shop(app, client):
    formula_shops(app)
    make_user(app, "root@example.com", "admin")
    login(client, "root@example.com")
    r = client.get("/shops.csv?trial_from=2026-13-01&stages=nope&market=PL")
    assert r.status_code == 400 and r.mimetype == "text/plain"
    lines = r.get_data(as_text=True).splitlines()
    assert lines[0] == "The export was not made: these filters are not valid."
    assert sorted(line.split(":")[0] for line in lines[1:]) == ["stages", "trial_from"]
    assert "2026-13-01" in r.get_data(as_text=True) and "nope" in r.get_data(as_text=True)
    assert client.get("/shops.csv?market=PL").status_code == 200


# ---------------------------------------------------------------- the list's drill-down chips

def test_drill_down_filters_show_as_removable_chips(app, client):
    from locales.formatting import format_date

    demo(app, n=80, seed=3)
    manager(app, client)
    states = all_states(app)
    persona = next(r["persona"] for r in states if r["persona"])
    query = {"persona": persona, "held_out": "0", "contacted": "1", "trial_from": "2026-03-02",
             "trial_to": "2026-12-01", "stages": ["legal", "ready"], "market": "PL"}
    body = client.get("/?" + urlencode(query, doseq=True)).get_data(as_text=True)
    expected = sum(1 for r in states if r["persona"] == persona and not r["held_out"] and r["contacted"]
                   and r["stage"] in ("legal", "ready") and r["market"] == "PL"
                   and datetime(2026, 3, 2, tzinfo=UTC) <= r["trial_started_at"] < datetime(2026, 12, 1, tzinfo=UTC))
    assert re.search(rf"\b{expected} shops?\b", body), expected
    chips = re.findall(r'<span class="tag chip">(.*?) <a href="([^"]+)"', body)
    texts = [t for t, _ in chips]
    assert len(chips) == 5  # persona, held out, contacted, the trial period, stages (market has its own field)
    assert any("Persona" in t for t in texts) and "Not held out from calls" in texts and "Contacted" in texts
    [period] = [t for t in texts if t.startswith("Trial started:")]
    assert period == f"Trial started: {format_date(date(2026, 3, 2), 'en')} – {format_date(date(2026, 11, 30), 'en')}"
    assert any("Legal" in t and "Ready to open" in t for t in texts)
    for chip_text, href in chips:  # each chip's link drops only its own filter
        href = href.replace("&amp;", "&")
        assert "market=PL" in href
        if "Persona" in chip_text:
            assert "persona=" not in href and "held_out=0" in href and "stages=legal" in href
        if chip_text.startswith("Stages"):
            assert "stages=" not in href and "persona=" in href
    # the form keeps the drill-down when it is sent again
    assert f'name="persona" value="{persona}"' in body and 'name="stages" value="ready"' in body
    assert "Export CSV" in body
    # a bad value is ignored and said so
    body = client.get("/?held_out=maybe&trial_from=yesterday").get_data(as_text=True)
    assert "Some filters were ignored" in body and "held_out" in body and "trial_from" in body
    assert re.search(rf"\b{len(states)} shops\b", body)


# ---------------------------------------------------------------- the CLI twin

def test_shops_csv_defuses_formulas_and_equals_the_web_export(app, client, cli_run):
    names = formula_shops(app)
    res = cli_run("shops", "--csv")
    assert res.exit_code == 0, res.output
    raw = res.stdout_bytes.decode("utf-8")  # (click's Result.stdout turns CRLF into LF)
    assert raw.endswith("\r\n") and raw.count("\r\n") == len(names) + 1
    table = read_csv(raw)
    assert len(table) == len(names) + 1
    by_id = {row[0]: row for row in table[1:]}
    for pid, name in names.items():
        assert by_id[pid][1] == ("'" + name if name in FORMULAS else name)
    manager(app, client)
    assert read_csv(export(client)[2]) == table  # one home: the same columns and cells
    # the text and JSON outputs are unchanged contracts
    assert cli_run("shops").stdout.splitlines()[0].startswith("SHOP ")
    assert "'" + FORMULAS[0] not in cli_run("shops", "--json").stdout


def test_shops_csv_filters_equal_the_web_export(app, client, cli_run):
    demo(app, n=80, seed=4)
    manager(app, client)
    states = all_states(app)
    persona = next(r["persona"] for r in states if r["persona"])
    btype = next(r["business_type"] for r in states if r["business_type"])
    cases = [
        (["--persona", persona], {"persona": persona}),
        (["--business-type", btype], {"business_type": btype}),
        (["--held-out"], {"held_out": "1"}),
        (["--not-held-out", "--contacted"], {"held_out": "0", "contacted": "1"}),
        (["--not-contacted", "--market", "TR"], {"contacted": "0", "market": "TR"}),
        (["--trial-from", "2026-06-01", "--trial-to", "2026-09-01"], {"trial_from": "2026-06-01",
                                                                      "trial_to": "2026-09-01"}),
        (["--stages", "legal", "--stages", "launched", "--sort", "name"], {"stages": ["legal", "launched"],
                                                                          "sort": "name"}),
    ]
    for args, query in cases:
        res = cli_run("shops", "--csv", *args)
        assert res.exit_code == 0, (args, res.output)
        cli_rows = read_csv(res.stdout_bytes.decode("utf-8"))
        assert 1 < len(cli_rows) < len(states) + 1, args
        assert cli_rows == read_csv(export(client, query)[2]), args
    assert len(read_csv(cli_run("shops", "--csv", "--limit", "7", "--offset", "3").stdout_bytes.decode())) == 8


def test_shops_csv_refuses_bad_filters_naming_the_option(cli_run):
    for args, option in ((["--trial-from", "yesterday"], "--trial-from"), (["--trial-to", "2026-02-30"], "--trial-to"),
                         (["--persona", "astronaut"], "--persona"), (["--business-type", "spaceship"], "--business-type"),
                         (["--stages", "legal", "--stages", "flying"], "--stages")):
        res = CliRunner().invoke(cli, ["shops", "--csv", *args], catch_exceptions=False,
                                 env={"CONCIERGE_DATABASE_URL": "sqlite:///:memory:"})
        assert res.exit_code == 2, (args, res.output)
        assert option in res.output and "Invalid value" in res.output, res.output
    res = cli_run("shops", "--csv", "--json")
    assert res.exit_code == 2 and "--json and --csv" in res.output
