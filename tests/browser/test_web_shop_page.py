"""The consultant's shop page in real headless Chromium, on a live server.

Logs in, opens a shop at phone (360 px) and desktop (1200 px) widths, records answers
through the form (and sees a field error), and saves screenshots to test-output/browser/.
Uses the shared `browser_context` (tests/browser/conftest.py), which is offline by
default: this test lets it reach 127.0.0.1 for its duration.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

PASSWORD = "browser test password"


@pytest.fixture
def live_app(new_live_app, serve):
    """The real app (CSRF on) on SQLite, served by werkzeug in a thread on a free port."""
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop
    from concierge.operations.users import create_user

    app, db = new_live_app()
    t0 = datetime.now(timezone.utc) - timedelta(days=5)
    with db.session() as s:
        create_user(s, "anna@example.com", password=PASSWORD, role="consultant", language="en", name="Anna")
        shop = ensure_shop(s, "pl-1001", "PL", name="Ceramika Zofii")
        record_answers(s, shop, {
            "owner.name": "Zofia Kowalska", "owner.life_situation": "parental_leave",
            "experience.sold_online_before": "no", "experience.tech_comfort": "2",
            "needs.help_with": ["payments", "shipping", "legal"], "business.type": "handmade",
            "readiness.store_details": "yes",
        }, actor="anna@example.com", observed_at=t0, now=t0)
        record_answers(s, shop, {"readiness.theme_published": "yes", "readiness.products_added": "yes",
                                 "owner.name": "Zofia K."}, actor="trial-platform", source="trial",
                       observed_at=t0 + timedelta(days=2), now=t0 + timedelta(days=2))
    yield app, serve(app, db)


def test_shop_page_login_record_and_screenshots(live_app, online_page, output_dir, log_in, watch_problems,
                                                no_sideways_scroll):
    from concierge.models import Observation

    app, base = live_app
    page = online_page
    csp_errors = watch_problems(page)

    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"{base}/shops/pl-1001")
    assert "/login" in page.url
    log_in(page, "anna@example.com", PASSWORD, f"{base}/shops/pl-1001")
    assert page.inner_text("h1") == "Ceramika Zofii"
    page.wait_for_function("document.querySelector('.picture img').complete")
    assert page.evaluate("document.querySelector('.picture img').naturalWidth") > 0  # the SVG loaded
    assert "Zofia K." in page.inner_text("#conflicts-h + ul")
    page.screenshot(path=str(output_dir / "web-shop-1200.png"), full_page=True)
    page.screenshot(path=str(output_dir / "web-shop-1200-top.png"))

    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    no_sideways_scroll(page, 362)
    page.screenshot(path=str(output_dir / "web-shop-360.png"), full_page=True)
    page.screenshot(path=str(output_dir / "web-shop-360-top.png"))

    # a wrong answer: the field says why, nothing is stored
    with app.extensions["concierge.db"].session() as s:
        before = len(s.scalars(select(Observation)).all())
    page.fill("#owner__hours_per_week", "500")
    page.check("input[name=needs__help_with][value=marketing]")
    page.click("#record button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert "at most 100" in page.inner_text("#owner__hours_per_week-error")
    page.screenshot(path=str(output_dir / "web-shop-360-error.png"))
    with app.extensions["concierge.db"].session() as s:
        assert len(s.scalars(select(Observation)).all()) == before

    # corrected: stored, and the page says so
    page.fill("#owner__hours_per_week", "15")
    page.click("#record button[type=submit]")
    page.wait_for_selector(".flash")
    assert "Recorded 2 answers." in page.inner_text(".flash")
    with app.extensions["concierge.db"].session() as s:
        rows = s.scalars(select(Observation).where(Observation.question == "owner.hours_per_week")).all()
        assert [r.value for r in rows] == [15]
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"{base}/")
    assert "Ceramika Zofii" in page.inner_text("table.shops")
    page.screenshot(path=str(output_dir / "web-home-1200.png"))
    assert csp_errors == []
