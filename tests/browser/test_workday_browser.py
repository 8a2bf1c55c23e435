"""The consultant's workday in real headless Chromium on a live server, at a desk (1280x800).

A consultant logs in, opens My calls, claims the next call (the merchant's callback),
sees its agenda and the merchant's phone, answers a question and sees the stage, the
readiness and the picture change without the page reloading, logs "no answer", lands on
My calls, and finds the call planned again at the next allowed moment in Warsaw. The
app's clock is fixed (`app.config["CLOCK"]`) on a Tuesday inside Polish business hours,
so the legal calling windows do not depend on when the test runs. Screenshots go to
test-output/browser/workday-*.png.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

PASSWORD = "browser test password"
NOW = datetime(2027, 3, 9, 9, 30, tzinfo=timezone.utc)  # Tuesday 9 March 2027, 10:30 in Warsaw
WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def live_workday(new_live_app, serve):
    """The real app (CSRF on) on SQLite with a fixed clock: a consultant, a Polish shop whose
    merchant asked for a call, a second shop with a planned advice call, and a Turkish one."""
    from concierge.operations.audits import request_callback
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop
    from concierge.operations.users import create_user

    app, db = new_live_app(clock=NOW)
    t0 = NOW - timedelta(days=9)
    with db.session() as s:
        create_user(s, "anna@example.com", password=PASSWORD, role="consultant", language="en", name="Anna Lis")
        shop = ensure_shop(s, "pl-1001", "PL", name="Ceramika Zofii", trial_started_at=t0,
                           trial_ends_at=t0 + timedelta(days=30))
        record_answers(s, shop, {"owner.name": "Zofia Kowalska", "owner.phone": "+48 601 234 567",
                                 "owner.email": "zofia@example.com", "business.type": "handmade"},
                       actor="import", source="import", observed_at=t0, now=t0)
        record_answers(s, shop, {"experience.sold_online_before": "no", "needs.help_with": ["payments", "shipping"],
                                 "needs.preferred_contact": "phone", "owner.marketing_consent": "yes"},
                       actor="merchant", source="survey", observed_at=t0 + timedelta(days=1),
                       now=t0 + timedelta(days=1))
        record_answers(s, shop, {"readiness.store_details": "yes", "readiness.theme_published": "yes"},
                       actor="trial-platform", source="trial", observed_at=t0 + timedelta(days=3),
                       now=t0 + timedelta(days=3))
        request_callback(s, shop, now=NOW - timedelta(minutes=20), note="Jak dodać produkty z Excela?",
                         via="survey", actor="merchant")
        other = ensure_shop(s, "pl-1002", "PL", name="Rowery Marka", trial_started_at=t0)
        record_answers(s, other, {"owner.name": "Marek Nowak"}, actor="import", source="import",
                       observed_at=t0, now=t0)
        request_callback(s, other, now=NOW, at=NOW + timedelta(days=1), via="api", actor="crm")
    yield app, serve(app, db)


def _wait(page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression until it is true (page.evaluate is not subject to the page's CSP,
    whose script-src 'self' forbids the eval that wait_for_function's polling uses)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


def _login(page, base: str, log_in) -> None:
    page.goto(f"{base}/calls")
    assert "/login" in page.url
    log_in(page, "anna@example.com", PASSWORD, f"{base}/calls")


def test_claim_answer_without_reload_and_no_answer(live_workday, online_page, output_dir, log_in, watch_problems):
    from concierge.models import Observation, PlannedCall, Shop

    app, base = live_workday
    db = app.extensions["concierge.db"]
    page = online_page
    page.set_viewport_size({"width": 1280, "height": 800})
    # script errors and CSP violations (a 422 answer is logged too, and expected)
    problems = watch_problems(page, page_errors=True)

    _login(page, base, log_in)
    assert page.inner_text("h1") == "My calls"
    assert "You hold no calls" in page.inner_text("main")
    queue = page.inner_text("table.queue")
    assert "Ceramika Zofii" in queue and "Rowery Marka" in queue and "due now" in queue
    page.screenshot(path=str(output_dir / "workday-1280-my-calls-empty.png"))

    page.click("text=Claim my next call")
    page.wait_for_url(f"{base}/calls/*")
    assert page.inner_text("h1") == "Ceramika Zofii"
    agenda = page.inner_text(".agenda")
    assert "They asked: Jak dodać produkty z Excela?" in agenda
    assert page.get_attribute(".dial a", "href") == "tel:+48601234567"
    assert "Tuesday, 10:30" in page.inner_text(".local-time") and "Europe/Warsaw" in page.inner_text(".local-time")
    assert page.locator(".call-warning").count() == 0
    assert page.inner_text("#stat-stage") == "Products" and page.inner_text("#stat-ready") == "20 %"
    _wait(page, "document.getElementById('call-picture').complete")
    assert page.evaluate("document.getElementById('call-picture').naturalWidth") > 0
    picture_before = page.get_attribute("#call-picture", "src")
    page.screenshot(path=str(output_dir / "workday-1280-call.png"))
    page.screenshot(path=str(output_dir / "workday-1280-call-full.png"), full_page=True)
    page.locator("#interview-card").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('interview-card').scrollIntoView()")
    page.screenshot(path=str(output_dir / "workday-1280-call-interview.png"))

    # the guided interview: the launch checklist's next item is asked first
    first = page.locator(".next-questions .field").first
    assert "Products added" in first.inner_text()
    page.evaluate("window.__sameDocument = 'yes'")
    first.locator("input[value=yes]").check()
    page.click("#save-answers")
    _wait(page, "document.getElementById('stat-stage').textContent.trim() === 'Payments and shipping'")
    assert page.evaluate("window.__sameDocument") == "yes"  # the page did not navigate
    assert page.inner_text("#stat-ready") == "30 %"
    assert page.inner_text("#save-status") == "Saved 1 answer."
    assert page.get_attribute("#call-picture", "src") != picture_before
    _wait(page, "document.getElementById('call-picture').complete")
    assert page.evaluate("document.getElementById('call-picture').naturalWidth") > 0
    assert "Products added" in page.locator("#timeline tbody tr").first.inner_text()
    assert "anna@example.com" in page.locator("#timeline tbody tr").first.inner_text()
    with db.session() as s:
        [row] = s.scalars(select(Observation).where(Observation.question == "readiness.products_added")).all()
        assert (row.value, row.source, row.actor) == (True, "call", "anna@example.com")

    # a wrong answer: named next to its field, nothing stored, still no reload
    page.locator("details.more-questions > summary").click()
    page.fill("#owner__hours_per_week", "500")
    page.click("#save-answers")
    page.wait_for_selector("#owner__hours_per_week-error, .has-error .field-error")
    assert "at most 100" in page.inner_text(".has-error .field-error")
    assert page.evaluate("window.__sameDocument") == "yes"
    page.screenshot(path=str(output_dir / "workday-1280-call-error.png"))
    with db.session() as s:
        assert not s.scalars(select(Observation).where(Observation.question == "owner.hours_per_week")).all()
    page.fill("#owner__hours_per_week", "")

    # the outcome: no answer, pressed with an answer not saved yet: the answer is saved first
    assert "Payments connected" in page.locator(".next-questions .field").first.inner_text()
    page.locator(".next-questions .field").first.locator("input[value=no]").check()
    page.fill("#note", "Nie odbiera, spróbować po południu")
    page.focus("#at")
    page.keyboard.press("Enter")  # Enter picks no outcome (the form's default button has none)
    page.wait_for_timeout(300)
    assert page.url.endswith("/calls/1") and page.evaluate("window.__sameDocument") == "yes"
    page.locator("#outcome").scroll_into_view_if_needed()
    page.locator("#outcome").screenshot(path=str(output_dir / "workday-1280-outcome.png"))
    page.click("button[value=no_answer]")
    page.wait_for_url(f"{base}/calls")
    flash = page.inner_text(".flash")
    with db.session() as s:
        shop_id = s.scalar(select(Shop.id).where(Shop.platform_id == "pl-1001"))
        call = s.scalars(select(PlannedCall).where(PlannedCall.shop_id == shop_id)).one()
        assert (call.status, call.outcome, call.attempts, call.owner_id) == ("planned", "no_answer", 1, None)
        again = call.scheduled_at
        [paid] = s.scalars(select(Observation).where(Observation.question == "readiness.payments_connected")).all()
        assert (paid.value, paid.source) == (False, "call")
    local = again.astimezone(WARSAW)
    assert again >= NOW + timedelta(hours=2)
    assert local.isoweekday() <= 5 and 9 <= local.hour < 17, local
    from concierge.operations.planned_calls import local_moment, short_moment

    assert flash.startswith("No answer (Ceramika Zofii): next attempt") and short_moment(again, "en", "PL") in flash
    assert "You hold no calls" in page.inner_text("main")
    row = page.locator(f"table.queue tr[data-call='{call.id}']")
    assert local_moment(again, "en", "PL") in row.inner_text() and "Europe/Warsaw" in row.inner_text()
    assert "due now" not in row.inner_text()
    page.screenshot(path=str(output_dir / "workday-1280-my-calls-after.png"))
    assert problems == []


def test_my_calls_with_a_held_call_screenshot(live_workday, online_page, output_dir, log_in, no_sideways_scroll):
    """My calls while holding a call (for the eye): the claim with its shop, why, time and lease."""
    _app, base = live_workday
    page = online_page
    page.set_viewport_size({"width": 1280, "height": 800})
    _login(page, base, log_in)
    page.click("text=Claim my next call")
    page.wait_for_url(f"{base}/calls/*")
    page.goto(f"{base}/calls")
    mine = page.inner_text("table.mine")
    assert "Ceramika Zofii" in mine and "The merchant asked for a call" in mine
    assert "until 10:50 (20 minutes left)" in mine and "Europe/Warsaw" in mine
    page.screenshot(path=str(output_dir / "workday-1280-my-calls-held.png"))
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{base}/calls")
    no_sideways_scroll(page, 362)
    page.screenshot(path=str(output_dir / "workday-360-my-calls.png"), full_page=True)
    page.click("table.mine a")
    page.wait_for_url(f"{base}/calls/*")
    wide = page.evaluate("""Array.from(document.querySelectorAll('main *')).filter(e => e.getBoundingClientRect().right > 362)
        .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""")
    no_sideways_scroll(page, 362, wide)
    page.screenshot(path=str(output_dir / "workday-360-call.png"))


def test_a_manager_looks_at_a_call_in_the_evening(live_workday, online_page, output_dir, log_in):
    """Read-only for someone who does not hold the call, and the warning outside calling hours."""
    from concierge.operations.users import create_user

    app, base = live_workday
    with app.extensions["concierge.db"].session() as s:
        create_user(s, "mia@example.com", password=PASSWORD, role="manager", language="pl", name="Mia")
    app.config["CLOCK"] = lambda: NOW.replace(hour=19)  # 20:30 in Warsaw
    page = online_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{base}/calls/1")
    log_in(page, "mia@example.com", PASSWORD, f"{base}/calls/1")
    assert page.locator("#outcome").count() == 0 and page.locator("#interview").count() == 0
    assert page.locator(".call-warning").count() == 1
    assert "20:30" in page.inner_text(".local-time")
    page.screenshot(path=str(output_dir / "workday-1280-call-readonly-pl.png"))
