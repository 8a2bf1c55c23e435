"""The manager's dashboard in real headless Chromium on a live server.

A manager logs in and lands on the dashboard, opens the cohorts report, reads a cell of the
cohort table (the report's value, formatted), follows the row's drill-down to the shop list
with exactly that many shops, goes back, and downloads the table as CSV, which is read with
csv.reader and compared with the report. On a phone the page does not scroll sideways (a
wide table scrolls inside its box). Screenshots: /tmp/dashboard_*.png and
test-output/browser/dashboard-*.png.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "browser test password"
TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=timezone.utc)
SHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> Path:
    """A SQLite file with a demo population and a manager, made once for the module's tests."""
    from concierge.db import Database
    from concierge.demo.generator import generate
    from concierge.demo.loader import load_population
    from concierge.operations.users import create_user

    path = tmp_path_factory.mktemp("dashboard") / "demo.sqlite"
    db = Database(f"sqlite:///{path}")
    db.create_all()
    with db.session() as s:
        load_population(s, generate(300, seed=23, today=TODAY), now=NOW)
        create_user(s, "mira@example.com", password=PASSWORD, role="manager", language="en", name="Mira Nowak")
    db.dispose()
    return path


@pytest.fixture
def live_dashboard(tmp_path, serve, demo_file):
    """The real app (CSRF on) with a fixed clock, on a fresh copy of the demo database."""
    from concierge import create_app

    shutil.copy(demo_file, tmp_path / "live.sqlite")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite'}",
                      "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": uuid.uuid4().hex})
    app.config["CLOCK"] = lambda: NOW
    yield app, serve(app, app.extensions["concierge.db"])


def _report(app, key: str, **kwargs):
    from concierge.operations.reports import build_report

    with app.extensions["concierge.db"].sessionmaker() as s:
        report = build_report(s, key, lang="en", now=NOW, **kwargs)
        s.rollback()
    return report


def _shot(page, output_dir: Path, name: str) -> None:
    path = SHOTS / f"dashboard_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, output_dir / f"dashboard-{name}.png")


def test_a_manager_reads_drills_into_and_exports_the_cohort_table(live_dashboard, online_page, output_dir, log_in,
                                                                  watch_problems):
    app, base = live_dashboard
    page = online_page
    page.set_viewport_size({"width": 1280, "height": 800})
    problems = watch_problems(page, page_errors=True)  # CSP violations and script errors

    page.goto(f"{base}/dashboard")
    assert "/login" in page.url
    log_in(page, "mira@example.com", PASSWORD, f"{base}/dashboard")
    assert page.inner_text("h1") == "Dashboard"
    _shot(page, output_dir, "front")

    report = _report(app, "cohorts")
    page.click(f"h2 a:text-is('{report.title}')")
    page.wait_for_url(f"{base}/dashboard/cohorts")
    assert page.inner_text("h1") == report.title
    table = report.table("cohorts")
    assert table.definition in page.inner_text("#t-cohorts .definition")  # the rate's definition, visible
    assert page.locator("#t-cohorts svg[role=img]").count() == 1  # the chart beside the numbers
    _shot(page, output_dir, "cohorts")

    # a cohort with decided trials: its rate as the reader reads it, and its trials
    index, row = next((i, r) for i, r in enumerate(table.rows) if r["rate"] is not None and r["trials"] > 0)
    cells = page.locator("table[data-table=cohorts] tbody tr").nth(index)
    assert cells.locator("td[data-col=rate]").inner_text() == f"{row['rate'] * 100:.1f}%"
    assert cells.locator("td[data-col=trials]").inner_text() == f"{row['trials']:,}"
    assert cells.locator("th[data-col=cohort] a.drill").inner_text() == row["cohort"]

    # the drill-down: the shop list with exactly the trials of that cohort
    cells.locator("a.drill").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/\?.*trial_from="))
    status = page.inner_text("main p[role=status]")
    assert re.match(rf"{row['trials']} shops?\b", status), status
    assert page.locator("table.shops tbody tr").count() == min(row["trials"], 50)
    _shot(page, output_dir, "drill-down")
    page.go_back()
    page.wait_for_url(f"{base}/dashboard/cohorts")

    # the CSV of the table: what the report holds, read back with csv.reader
    with page.expect_download() as info:
        page.click("#t-cohorts a:text-is('Download CSV')")
    download = info.value
    assert download.suggested_filename == "cohorts-cohorts.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"), newline="")))
    assert rows[0] == [c.label for c in table.columns]
    assert len(rows) == len(table.rows) + 1
    keys = [c.key for c in table.columns]
    for line, expected in zip(rows[1:], table.rows):
        got = dict(zip(keys, line))
        assert got["cohort"] == expected["cohort"] and int(got["trials"]) == expected["trials"]
        assert int(got["converted"]) == expected["converted"] and int(got["pending"]) == expected["pending"]
        if expected["rate"] is None:
            assert got["rate"] == ""
        else:
            assert float(got["rate"]) == pytest.approx(expected["rate"], abs=1e-12)

    # one more report, for the eye: conversion broken down (bars with intervals beside the table)
    page.goto(f"{base}/dashboard/breakdowns")
    assert page.locator("svg[role=img]").count() == len([t for t in _report(app, "breakdowns").tables if t.rows])
    _shot(page, output_dir, "breakdowns")
    assert problems == []


def test_the_cohort_page_fits_a_phone(live_dashboard, online_page, output_dir, log_in, no_sideways_scroll):
    _app, base = live_dashboard
    page = online_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/dashboard/cohorts")
    log_in(page, "mira@example.com", PASSWORD, f"{base}/dashboard/cohorts")
    wide = page.evaluate("""Array.from(document.querySelectorAll('main *'))
        .filter(e => !e.closest('.table-wrap, .chart') && e.getBoundingClientRect().right > 391)
        .slice(0, 8).map(e => e.tagName + '.' + e.className)""")
    no_sideways_scroll(page, 390, wide)
    # the chart keeps a readable size and scrolls inside its own box
    box = page.locator("#t-cohorts figure.chart").bounding_box()
    chart = page.locator("#t-cohorts svg[role=img]").bounding_box()
    assert box["width"] <= 390 and chart["width"] >= 560
    _shot(page, output_dir, "cohorts-phone")
