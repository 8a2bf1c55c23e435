"""The manager's dashboard through the Flask test client, on SQLite and PostgreSQL.

Roles (consultants 403, anonymous to the login), every report page on demo data with the
numbers of its HTML tables read back and compared to `build_report`'s rows, every drill-down
link followed to a shop list whose total is the row's count, the CSV download equal to
`reporting.table_csv`, the reader's language, the JSON API, and GETs that write nothing.
The reports' own figures are checked against the raw tables by the reports' tests; here the
page must show exactly what the report computed. A fake report module (hostile texts,
negative values, every column kind, both chart kinds) checks the generic page itself.
"""
from __future__ import annotations

import csv
import io
import math
import re
import sys
import types
import uuid
from datetime import date, datetime, timezone
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from concierge.operations.reports import MODULES, REPORTS, TITLES, build_report
from concierge.reporting import NUMERIC, Column, Report, Table, csv_filename, table_csv
from locales import LANGUAGES

PASSWORD = "correct horse battery"
TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)
COUNT_COLUMNS = ("n", "trials")  # a row's count of shops: its drill-down must list that many


# ---------------------------------------------------------------- reading the page

class Tables(HTMLParser):
    """The report tables of a page: per table key, rows of {column: text}, with the row's
    drill-down link and flags; also the inline charts and the CSV links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[dict]] = {}
        self.captions: dict[str, str] = {}
        self.headers: dict[str, list[str]] = {}
        self.charts = 0
        self.csv_links: list[str] = []
        self._table = self._row = self._cell = None
        self._text: list[str] = []
        self._in_caption = self._in_thead = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and a.get("role") == "img":
            self.charts += 1
        elif tag == "table" and "report" in (a.get("class") or ""):
            self._table = a["data-table"]
            self.tables[self._table], self.headers[self._table] = [], []
        elif self._table is None:
            if tag == "a" and (a.get("href") or "").split("?")[0].endswith(".csv"):
                self.csv_links.append(unescape(a["href"]))
            return
        elif tag == "caption":
            self._in_caption, self._text = True, []
        elif tag == "thead":
            self._in_thead = True
        elif tag == "tr" and not self._in_thead:
            self._row = {"_cells": {}, "_class": a.get("class") or "", "_drill": None, "_flags": []}
        elif tag in ("th", "td"):
            self._cell, self._text = a.get("data-col"), []
        elif tag == "a" and self._row is not None and "drill" in (a.get("class") or ""):
            self._row["_drill"] = a["href"]
        elif tag == "span" and self._row is not None and "flag" in (a.get("class") or ""):
            self._row["_flags"].append("")

    def handle_data(self, data):
        if self._table is not None:
            self._text.append(data)
            if self._row is not None and self._row["_flags"] and self._row["_flags"][-1] == "":
                self._row["_flags"][-1] = data.strip()

    def handle_endtag(self, tag):
        if self._table is None:
            return
        text = " ".join("".join(self._text).split())
        if tag == "caption":
            self.captions[self._table], self._in_caption = text, False
        elif tag == "thead":
            self._in_thead = False
        elif tag in ("th", "td") and self._in_thead:
            self.headers[self._table].append(text)
        elif tag in ("th", "td") and self._row is not None:
            for flag in reversed(self._row["_flags"]):  # the marker words are not part of the figure
                text = text.removesuffix(flag).strip()
            self._row["_cells"][self._cell] = text
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None


def read_page(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


def parse_en(text: str, kind: str):
    """A cell's text as English readers read it, back to a value (None for a dash)."""
    if text == "—":
        return None
    if kind == "rate":
        assert text.endswith("%"), text
        return float(text[:-1].replace(",", "")) / 100
    if kind == "int":
        return int(text.replace(",", ""))
    if kind == "float":
        return float(text.replace(",", ""))
    if kind == "bool":
        return {"Yes": True, "No": False}[text]
    return text


def assert_cell_shows(text: str, value, kind: str, where) -> None:
    if kind == "date" and value is not None:
        from babel.dates import format_date

        day = value if isinstance(value, date) else date.fromisoformat(str(value))
        assert text == format_date(day, "medium", locale="en"), where
        return
    if kind == "datetime":
        assert (text == "—") == (value is None), where
        return
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        assert text == "—", where
        return
    shown = parse_en(text, kind)
    if kind == "rate":
        assert abs(shown - value) <= 0.0005 + 1e-12, (where, text, value)  # one decimal of a percent
    elif kind == "float":
        assert abs(shown - value) <= 0.005 + 1e-12, (where, text, value)
    elif kind == "int":
        assert shown == int(value), (where, text, value)
    else:
        assert shown == (value if kind == "bool" else str(value)), (where, text, value)


def shop_total(html: str) -> int:
    m = re.search(r'role="status">(\d+) shops?\b', html)
    assert m, html[:2000]
    return int(m.group(1))


# ---------------------------------------------------------------- the shared demo database

def _populate(app) -> None:
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.operations.audits import plan_calls
    from concierge.operations.users import create_user
    from concierge.operations.scoring.service import score_open, train_model

    db = app.extensions["concierge.db"]
    with db.session() as s:
        load_population(s, generate(150, seed=17, today=TODAY), now=NOW)
    with db.session() as s:
        train_model(s, now=NOW, ages=[7])
        score_open(s, lang="en", now=NOW)
        plan_calls(s, now=NOW)
    with db.session() as s:
        for email, role, language in (("mira@example.com", "manager", "en"), ("ola@example.com", "manager", "pl"),
                                      ("root@example.com", "admin", "en"), ("cons@example.com", "consultant", "en")):
            create_user(s, email, password=PASSWORD, role=role, language=language, name=email.split("@")[0])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_app(request, tmp_path_factory):
    """One demo population per backend, shared by the tests below: they only read (and one of them
    checks that reading wrote nothing)."""
    from sqlalchemy import text

    from concierge import create_app
    from concierge.db import Base

    admin = schema = None
    tmp = tmp_path_factory.mktemp("dashboard")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'dashboard.sqlite'}"
    else:
        admin, schema, url = request.getfixturevalue("pg_schema_factory")()
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp / "instance"),
                      "SECRET_KEY": "test-secret-" + uuid.uuid4().hex, "TESTING": True})
    app.config["CLOCK"] = lambda: NOW
    db = app.extensions["concierge.db"]
    try:
        Base.metadata.create_all(db.engine)
        _populate(app)
        yield app
    finally:
        for k in [k for k in _CLIENTS if k[0] == id(app)]:
            del _CLIENTS[k]
        db.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


_CLIENTS: dict[tuple[int, str], object] = {}


def login(app, email: str):
    """A test client logged in as `email` (kept per app: a login costs a password hash)."""
    if (id(app), email) in _CLIENTS:
        return _CLIENTS[(id(app), email)]
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    _CLIENTS[(id(app), email)] = client
    return client


def built(app, key: str, **kwargs) -> Report:
    with app.extensions["concierge.db"].sessionmaker() as s:
        report = build_report(s, key, now=NOW, **kwargs)
        s.rollback()
    return report


def available() -> list[str]:
    import importlib.util

    return [k for k in REPORTS if importlib.util.find_spec(f"concierge.operations.reports.{MODULES[k]}")]


# ---------------------------------------------------------------- roles

def test_roles_and_landing(demo_app):
    app = demo_app
    anonymous = app.test_client()
    for path in ("/dashboard", "/dashboard/cohorts", "/dashboard/cohorts/cohorts.csv"):
        r = anonymous.get(path)
        assert r.status_code == 302 and r.location.startswith("/login?next=/dashboard"), path
    consultant = login(app, "cons@example.com")
    for path in ("/dashboard", "/dashboard/cohorts", "/dashboard/cohorts/cohorts.csv"):
        assert consultant.get(path).status_code == 403, path
    assert 'href="/dashboard"' not in consultant.get("/").get_data(as_text=True)  # no link in the nav
    for email in ("mira@example.com", "root@example.com"):
        client = app.test_client()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                          client.get("/login").get_data(as_text=True)).group(1)
        r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 302 and r.location == "/dashboard", email  # managers land on the dashboard
        page = client.get("/dashboard")
        assert page.status_code == 200 and 'href="/dashboard"' in page.get_data(as_text=True)
    manager = login(app, "mira@example.com")
    assert manager.get("/dashboard/no-such-report").status_code == 404
    assert manager.get("/dashboard/no-such-report/x.csv").status_code == 404
    assert manager.get("/dashboard/cohorts/no-such-table.csv").status_code == 404


def test_front_page_links_every_report_and_gathers_the_warnings(demo_app):
    from concierge.web.dashboard import WARNING_REPORTS

    manager = login(demo_app, "mira@example.com")
    html = manager.get("/dashboard").get_data(as_text=True)
    keys = available()
    assert "cohorts" in keys
    for key in keys:
        report = built(demo_app, key, lang="en")
        assert f'href="/dashboard/{key}">{report.title}</a>' in unescape(html), key
        if key in WARNING_REPORTS:
            for warning in report.warnings:
                assert unescape_in(warning, html), (key, warning)
    # the data has something to warn about: the model has no trials closed since it was trained
    assert built(demo_app, "model-health", lang="en").warnings


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_front_pages_titles_are_the_reports_titles(demo_app, lang):
    """The front page names the reports it does not build by `report_title`: the reports' own titles."""
    from concierge.operations.reports import TITLES, report_title

    assert set(TITLES) == set(REPORTS)
    for key in available():
        assert report_title(key, lang) == built(demo_app, key, lang=lang).title, (key, lang)
    if lang != "en":
        assert report_title("cohorts", lang) != report_title("cohorts", "en")


def unescape_in(text: str, html: str) -> bool:
    return text in unescape(html)


# ---------------------------------------------------------------- every report page, figure by figure

@pytest.mark.parametrize("key", available())
def test_report_page_shows_the_reports_rows(demo_app, key):
    manager = login(demo_app, "mira@example.com")
    r = manager.get(f"/dashboard/{key}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    page = read_page(html)
    report = built(demo_app, key, lang="en")
    assert unescape_in(report.title, html)
    for warning in report.warnings:
        assert unescape_in(warning, html)
    assert set(page.tables) == {t.key for t in report.tables if t.rows}
    charts = 0
    for table in report.tables:
        # the title and the definition are on the page, visible (not in a tooltip)
        assert unescape_in(f"{table.title}</h2>", html) and unescape_in(table.definition, html), table.key
        if not table.rows:
            continue
        charts += bool(table.plot)
        assert page.captions[table.key] == " ".join(table.title.split())
        assert page.headers[table.key] == [" ".join(c.label.split()) for c in table.columns]
        shown = page.tables[table.key]
        assert len(shown) == len(table.rows), table.key
        for i, (row, cells) in enumerate(zip(table.rows, shown)):
            for column in table.columns:
                assert_cell_shows(cells["_cells"][column.key], row.get(column.key), column.kind, (key, table.key, i))
            assert ("muted-row" in cells["_class"]) == bool(row.get("_muted"))
            assert ("small sample" in cells["_flags"]) == bool(row.get("_muted"))  # a word, not colour alone
            assert ("pending" in cells["_flags"]) == bool(row.get("_pending"))
            assert (cells["_drill"] is not None) == bool(row.get("_drill"))
        assert f"/dashboard/{key}/{table.key}.csv" in page.csv_links
    assert page.charts == charts  # one chart per table that asks for one and has rows


@pytest.mark.parametrize("key", available())
def test_every_drill_down_is_a_shop_list_and_lists_as_many_shops_as_its_row_counts(demo_app, key):
    """Every row's link opens the shop list with filters it understands; where the row counts its
    shops (a column n or trials; the funnel's shops), the list has exactly that many."""
    manager = login(demo_app, "mira@example.com")
    page = read_page(manager.get(f"/dashboard/{key}").get_data(as_text=True))
    report = built(demo_app, key, lang="en")
    followed = counted = 0
    totals: dict[str, int] = {}  # rows often share a drill-down (voice: the market): open each once
    for table in report.tables:
        count = next((c.key for c in table.columns if c.key in COUNT_COLUMNS), None)
        if key == "funnel":
            count = "shops"  # the shops that reached the stage: the drill-down lists those very shops
        for row, cells in zip(table.rows, page.tables.get(table.key, [])):
            if not row.get("_drill"):
                continue
            link = unescape(cells["_drill"])
            assert link.startswith("/?")
            if link not in totals:
                html = manager.get(link).get_data(as_text=True)
                assert "Some filters were ignored" not in html, (key, table.key, link)
                totals[link] = shop_total(html)
            followed += 1
            if count is not None:
                assert totals[link] == row[count], (key, table.key, link)
                counted += 1
    if key in ("cohorts", "funnel", "breakdowns"):
        assert counted > 5


def test_a_drill_down_keeps_repeated_stages(demo_app):
    manager = login(demo_app, "mira@example.com")
    report = built(demo_app, "funnel", lang="en")
    row = report.table().rows[1]  # the shops that reached the second stage or a later one
    assert len(row["_drill"]["stages"]) > 1
    page = read_page(manager.get("/dashboard/funnel").get_data(as_text=True))
    link = unescape(page.tables["funnel"][1]["_drill"])
    assert [f"stages={s}" in link for s in row["_drill"]["stages"]] == [True] * len(row["_drill"]["stages"])


# ---------------------------------------------------------------- filters, CSV, language

def test_market_and_grain_filters_reach_the_report(demo_app):
    manager = login(demo_app, "mira@example.com")
    html = manager.get("/dashboard/cohorts?market=tr&grain=week&bogus=1").get_data(as_text=True)
    report = built(demo_app, "cohorts", lang="en", market="TR", grain="week")
    page = read_page(html)
    assert [r["_cells"]["cohort"] for r in page.tables["cohorts"]] == [r["cohort"] for r in report.table().rows]
    assert [r["_cells"]["trials"] for r in page.tables["cohorts"]] == [str(r["trials"]) for r in report.table().rows]
    assert '<option value="TR" selected>' in html and '<option value="week" selected>' in html
    assert "/dashboard/cohorts/cohorts.csv?market=TR&amp;grain=week" in html  # the CSV is of what is shown
    assert "bogus" not in html[html.index("<main"):]  # not a report parameter: not kept in the form or links
    # an unknown market or grain is left out and the page says so, as the shop list does
    shown = manager.get("/dashboard/cohorts?market=XX&grain=year").get_data(as_text=True)
    fallback = read_page(shown)
    plain = built(demo_app, "cohorts", lang="en")
    assert [r["_cells"]["trials"] for r in fallback.tables["cohorts"]] == [str(r["trials"]) for r in plain.table().rows]
    notice = shown[shown.index('<div class="notice" role="alert">'):]
    notice = notice[:notice.index("</div>")]
    assert "Some filters were ignored" in notice and "<code>market</code>: must be one of PL, TR, IN" in notice
    assert "<code>grain</code>: must be one of week, month" in notice
    assert 'role="alert"' not in manager.get("/dashboard/cohorts?market=tr").get_data(as_text=True)
    # a file cannot say what it left out: the CSV is refused, naming each value
    refused = manager.get("/dashboard/cohorts/cohorts.csv?market=XX&grain=year")
    assert refused.status_code == 400
    assert "market: must be one of" in refused.get_data(as_text=True) and "grain" in refused.get_data(as_text=True)


@pytest.mark.parametrize("key", available())
def test_csv_download_is_the_table(demo_app, key):
    manager = login(demo_app, "mira@example.com")
    report = built(demo_app, key, lang="en", market="PL")
    for table in report.tables:
        r = manager.get(f"/dashboard/{key}/{table.key}.csv?market=PL")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert r.headers["Content-Disposition"] == f'attachment; filename="{csv_filename(key, table.key, "PL")}"'
        body = r.get_data(as_text=True)
        assert body == "".join(table_csv(table))
        rows = list(csv.reader(io.StringIO(body)))
        assert rows[0] == [c.label for c in table.columns] and len(rows) == len(table.rows) + 1
        for line, row in zip(rows[1:], table.rows):
            for text, column in zip(line, table.columns):
                value = row.get(column.key)
                if column.kind in NUMERIC and value is not None:
                    assert float(text) == pytest.approx(float(value), rel=1e-12, abs=1e-12)


def test_a_polish_manager_reads_polish(demo_app):
    manager = login(demo_app, "ola@example.com")
    html = manager.get("/dashboard/cohorts").get_data(as_text=True)
    assert '<html lang="pl">' in html and ">Sklepy</a>" in html  # the catalog's word for the nav's "Shops"
    report = built(demo_app, "cohorts", lang="pl")
    assert unescape_in(report.title, html) and unescape_in(report.table().definition, html)
    page = read_page(html)
    rates = [(r["rate"], cells["_cells"]["rate"]) for r, cells in zip(report.table().rows, page.tables["cohorts"])
             if r["rate"] is not None]
    assert rates
    for value, text in rates:  # a decimal comma, as Polish readers write it
        assert text == f"{value * 100:.1f}".replace(".", ",") + "%", (value, text)


# ---------------------------------------------------------------- the JSON API

def test_api_report_is_the_report(demo_app):
    import json

    from locales import MARKET_CODES

    from concierge.operations.tokens import create_token

    with demo_app.extensions["concierge.db"].session() as s:
        _row, token = create_token(s, "dashboard-test")
    client = demo_app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/shops", headers=auth)  # the token's hourly last-use mark
    assert client.get("/api/v1/reports/cohorts").status_code == 401
    r = client.get("/api/v1/reports/cohorts?market=pl&grain=week&lang=pl", headers=auth)
    assert r.status_code == 200
    expected = built(demo_app, "cohorts", lang="pl", market="PL", grain="week").as_dict()
    assert r.get_json() == json.loads(json.dumps(expected, default=str))
    assert client.get("/api/v1/reports/no-such", headers=auth).status_code == 404
    bad = client.get("/api/v1/reports/cohorts?market=XX&grain=year&lang=de", headers=auth)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"market", "grain", "lang"}
    assert bad.get_json()["errors"][0] == {"field": "lang", "code": "invalid_choice",
                                           "message": "lang: must be one of en, pl, tr, hi"}
    # no language of ours in ?lang=: every error speaks Accept-Language's
    bad = client.get("/api/v1/reports/cohorts?market=XX&lang=de", headers={**auth, "Accept-Language": "pl"})
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == [
        {"field": "lang", "code": "invalid_choice", "message": "lang: musi być jednym z: en, pl, tr, hi"},
        {"field": "market", "code": "invalid_market",
         "message": "market: musi być jedną z wartości: " + ", ".join(MARKET_CODES)}]


# ---------------------------------------------------------------- reads never write

def test_the_dashboard_writes_nothing(demo_app):
    from concierge.db import Base

    def dump():
        out = {}
        with demo_app.extensions["concierge.db"].engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                out[table.name] = sorted(repr(sorted(r.items())) for r in conn.execute(select(table)).mappings())
        return out

    manager = login(demo_app, "ola@example.com")  # a manager reading Polish (the admin's pages are the same views)
    before = dump()
    assert before["shop"] and before["planned_call"] and before["score"]
    urls = ["/dashboard"]
    for key in available():
        report = built(demo_app, key, lang="en")
        urls += [f"/dashboard/{key}?market=IN&grain=week", f"/dashboard/{key}/{report.tables[0].key}.csv"]
    for url in urls:
        assert manager.get(url).status_code == 200, url
    assert manager.get("/api/v1/reports/cohorts").status_code == 401  # and the API without a token
    assert dump() == before


# ---------------------------------------------------------------- the generic page: a fake report

CALLS: list[dict] = []


def _hostile_build(session, *, lang, market, now, grain: str = "month", months: int = 12,
                   drift: float | None = None, **_ignored) -> Report:
    CALLS.append({"market": market, "grain": grain, "months": months, "drift": drift, "extra": dict(_ignored)})
    bars = Table(
        "gain", "Gain <script>alert('t')</script>", "Calls minus holdout <b>bold</b>",
        [Column("who", "Who"), Column("n", "Shops", "int"), Column("gain", "Gain", "rate", help="What <i>gain</i> means"),
         Column("low", "Low", "rate"), Column("high", "High", "rate"), Column("cap", "Capacity", "float"),
         Column("day", "Day", "date"), Column("at", "At", "datetime"), Column("ok", "OK", "bool")],
        [{"who": "<script>alert(1)</script>", "n": 1234, "gain": 0.123, "low": 0.05, "high": 0.2, "cap": 0.3,
          "day": date(2026, 1, 5), "at": NOW, "ok": True, "_drill": {"market": "PL", "stages": ["legal", "ready"]}},
         {"who": "Ayşe & Co", "n": 7, "gain": -0.04, "low": -0.1, "high": 0.02, "cap": None, "day": "2026-02-01",
          "at": None, "ok": False, "_muted": True, "_pending": True}],
        plot={"kind": "bars", "x": "who", "y": "gain", "low": "low", "high": "high", "reference": "cap"},
        notes=["A note <u>here</u>"])
    calibration = Table(
        "reliability", "Reliability", "Predicted against observed",
        [Column("predicted", "Predicted", "rate"), Column("observed", "Observed", "rate"), Column("n", "Trials", "int")],
        [{"predicted": 0.1, "observed": 0.08, "n": 40}, {"predicted": 0.5, "observed": None, "n": 0},
         {"predicted": 0.7, "observed": 0.6, "n": 12}],
        plot={"kind": "calibration", "x": "predicted", "y": "observed", "n": "n"})
    empty = Table("empty", "Nothing yet", "No rows", [Column("x", "X")], [])
    return Report("hostile", "Hostile <em>report</em>", [bars, calibration, empty],
                  warnings=["Drift <script>x()</script>"], params={"grain": grain})


@pytest.fixture
def fake_reports(monkeypatch):
    """A report module 'hostile' and a key whose module does not exist, added to the registry."""
    from concierge.web import dashboard

    module = types.ModuleType("concierge.operations.reports.hostile_for_test")
    module.build = _hostile_build
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(MODULES, "hostile", "hostile_for_test")
    monkeypatch.setitem(MODULES, "missing", "no_such_report_module")
    monkeypatch.setitem(TITLES, "hostile", "Hostile <em>report</em>")
    monkeypatch.setitem(TITLES, "missing", "Missing")
    monkeypatch.setattr(dashboard, "REPORTS", (*REPORTS, "hostile", "missing"))
    monkeypatch.setattr(dashboard, "WARNING_REPORTS", (*dashboard.WARNING_REPORTS, "hostile"))
    CALLS.clear()
    return CALLS


def _manager(app):
    from concierge.operations.users import create_user

    with app.extensions["concierge.db"].session() as s:
        create_user(s, "mira@example.com", password=PASSWORD, role="manager", language="en", name="Mira")
    return login(app, "mira@example.com")


def test_the_generic_page_escapes_marks_and_charts_any_report(app, fake_reports):
    manager = _manager(app)
    front = manager.get("/dashboard")
    assert front.status_code == 200  # the missing module is left out, not a crash
    body = front.get_data(as_text=True)
    assert "/dashboard/hostile" in body and "/dashboard/missing" not in body
    assert "Drift &lt;script&gt;x()&lt;/script&gt;" in body and "<script>x()" not in body
    assert manager.get("/dashboard/missing").status_code == 404

    html = manager.get("/dashboard/hostile").get_data(as_text=True)
    assert "<script>" not in html and "<b>bold</b>" not in html and "<em>report</em>" not in html
    assert "Calls minus holdout &lt;b&gt;bold&lt;/b&gt;" in html  # the definition, visible
    assert "What &lt;i&gt;gain&lt;/i&gt; means" in html and "A note &lt;u&gt;here&lt;/u&gt;" in html
    page = read_page(html)
    assert page.charts == 2  # bars and calibration; the empty table has none
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg  # the label, escaped by the SVG backend
    assert "interval 5% to 20%" in svg and "Capacity" in svg and "-4%" in svg
    first, second = page.tables["gain"]
    assert first["_cells"] == {"who": "<script>alert(1)</script>", "n": "1,234", "gain": "12.3%", "low": "5.0%",
                               "high": "20.0%", "cap": "0.3", "day": "Jan 5, 2026", "at": first["_cells"]["at"],
                               "ok": "Yes"}
    assert first["_cells"]["at"].startswith("Nov 16, 2026")
    assert second["_cells"]["gain"] == "-4.0%" and second["_cells"]["cap"] == "—" and second["_cells"]["ok"] == "No"
    assert second["_cells"]["day"] == "Feb 1, 2026" and second["_cells"]["who"] == "Ayşe & Co"
    assert unescape(first["_drill"]) == "/?market=PL&stages=legal&stages=ready" and second["_drill"] is None
    assert "muted-row" in second["_class"] and "pending-row" in second["_class"]
    assert second["_flags"] == ["small sample", "pending"] and first["_flags"] == []
    assert 'class="num">1,234<' in html  # numbers right-aligned
    assert "Nothing yet" in html and "No data for these filters yet." in html
    assert page.tables["reliability"][1]["_cells"]["observed"] == "—"


def test_only_known_report_parameters_reach_the_report(app, fake_reports):
    manager = _manager(app)
    assert manager.get("/dashboard/hostile?market=pl&grain=week&months=3&drift=0.05&bogus=1&session=x").status_code == 200
    assert fake_reports[-1] == {"market": "PL", "grain": "week", "months": 3, "drift": 0.05, "extra": {}}
    html = manager.get("/dashboard/hostile?market=XX&grain=year&months=abc&drift=nan").get_data(as_text=True)
    assert fake_reports[-1] == {"market": None, "grain": "month", "months": 12, "drift": None, "extra": {}}
    assert '<select id="grain" name="grain">' in html  # the report takes a grain: the form offers it
    html = manager.get("/dashboard/hostile?months=3").get_data(as_text=True)
    assert '<input type="hidden" name="months" value="3">' in html  # kept when the form is sent again
    assert "/dashboard/hostile/gain.csv?months=3" in html
    r = manager.get("/dashboard/hostile/gain.csv?market=tr&months=3")
    assert fake_reports[-1]["market"] == "TR" and fake_reports[-1]["months"] == 3
    assert r.headers["Content-Disposition"] == 'attachment; filename="hostile-gain-TR.csv"'
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[1][0] == "<script>alert(1)</script>" and rows[2][2] == "-0.04"
