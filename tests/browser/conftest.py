"""Browser fixtures: Debian's headless Chromium driven by Playwright for Python.

The browser is the system one (``/usr/bin/chromium``, or ``CONCIERGE_CHROMIUM``),
launched by Playwright with ``executable_path`` and a fresh user-data-dir, so nothing
is downloaded. Where Chromium or Playwright is missing the browser tests skip and say
why, unless ``CONCIERGE_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they fail.

Screenshots and other artefacts go to ``test-output/`` at the repository root
(gitignored), via the ``output_dir`` fixture.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from tests.support import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CONCIERGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _missing() -> str | None:
    """Why the browser cannot run here, or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed (pip install playwright)"
    return None


def require_browser() -> None:
    skip_or_fail(_missing(), "CONCIERGE_REQUIRE_BROWSER")


def pytest_collection_modifyitems(config, items):
    """Everything under tests/browser is a browser test."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_context():
    """One persistent Chromium context per session, in a fresh user-data-dir.

    Offline by default (data: and file: URLs still load); a test that needs a local
    live server calls ``set_offline(False)`` for its duration and restores it.
    """
    require_browser()
    from playwright.sync_api import sync_playwright

    user_data = tempfile.mkdtemp(prefix="concierge-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                user_data, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1200, "height": 800}, offline=True,
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(user_data, ignore_errors=True)


def block_remote(page) -> None:
    """Abort every request that leaves the machine (loopback, data: and file: still load)."""
    import re

    page.route(re.compile(r"^(https?|wss?)://(?!(127\.\d+\.\d+\.\d+|localhost|\[::1\])[:/])"),
               lambda route: route.abort())


@pytest.fixture(scope="session")
def no_remote_requests():
    """The function that makes a page abort requests leaving the machine."""
    return block_remote


@pytest.fixture
def page(browser_context):
    """A new page (tab) for one test, closed afterwards; remote requests are aborted."""
    p = browser_context.new_page()
    block_remote(p)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """``test-output/browser`` at the repository root (gitignored)."""
    path = ROOT / "test-output" / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def serve():
    """Serve a real app with werkzeug in a thread on a free port: `serve(app, db)` gives the base URL.

    The servers stop (and the app's database is disposed) when the test ends.
    """
    from werkzeug.serving import make_server

    running = []

    def start(app, db) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread, db))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread, db in running:
        server.shutdown()
        thread.join(timeout=10)
        db.dispose()


@pytest.fixture
def online_page(browser_context):
    """A page of the shared context, allowed to reach the local live server for one test."""
    browser_context.set_offline(False)
    page = browser_context.new_page()
    try:
        yield page
    finally:
        page.close()
        browser_context.set_offline(True)


@pytest.fixture
def new_live_app(tmp_path):
    """`new_live_app(clock=None)`: the real app (CSRF on) on a fresh SQLite file with its tables,
    and its Database; with `clock`, the app's clock is fixed to that moment."""
    def make(clock=None):
        from concierge import create_app
        from concierge.db import Base

        app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite'}",
                          "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": uuid.uuid4().hex})
        if clock is not None:
            app.config["CLOCK"] = lambda: clock
        db = app.extensions["concierge.db"]
        Base.metadata.create_all(db.engine)
        return app, db
    return make


def _log_in(page, email: str, password: str, landing) -> None:
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(landing)


@pytest.fixture(scope="session")
def log_in():
    """`log_in(page, email, password, landing)`: fill in the login form the page shows, send it,
    and wait for the page to land on `landing` (a URL or pattern)."""
    return _log_in


def _watch(page, page_errors: bool = False) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    if page_errors:
        page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


@pytest.fixture(scope="session")
def watch_problems():
    """`watch_problems(page, page_errors=False)`: a list that collects the page's Content Security
    Policy violations from now on (and its script errors, with page_errors)."""
    return _watch


def _no_sideways_scroll(page, width: int, why=None) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, why


@pytest.fixture(scope="session")
def no_sideways_scroll():
    """`no_sideways_scroll(page, width, why=None)`: asserts that the document is no wider than `width`."""
    return _no_sideways_scroll
