"""A merchant asks for a call from the survey on a phone; the consultant sees it on the shop page.

Real headless Chromium on a live server: the merchant opens the survey link at 360x740,
picks the first offered time, adds a note, sees the confirmation with that time in Polish
and their local time; then a consultant logs in at desktop size and the shop page's
"Next call" panel shows the callback at the same moment. Screenshots go to
test-output/browser/callback-*.png.
"""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

PASSWORD = "browser test password"


@pytest.fixture
def live(new_live_app, serve):
    """The real app (CSRF on) on SQLite: a Polish shop, a survey link and a consultant."""
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop
    from concierge.operations.survey_links import create_link
    from concierge.operations.users import create_user

    app, db = new_live_app()
    with db.session() as s:
        create_user(s, "anna@example.com", password=PASSWORD, role="consultant", language="en", name="Anna")
        shop = ensure_shop(s, "pl-1001", "PL", name="Ceramika Zofii")
        record_answers(s, shop, {"owner.name": "Zofia Kowalska"}, actor="anna@example.com")
        token = create_link(s, shop, secret=app.config["SECRET_KEY"], created_by="anna@example.com").token
    base = serve(app, db)
    yield app, base, f"{base}/s/{token}"


def test_merchant_asks_for_a_call_on_a_phone_and_the_consultant_sees_it(live, online_page, output_dir, log_in,
                                                                       watch_problems, no_sideways_scroll):
    from concierge.models import PlannedCall
    from concierge.operations.planned_calls import local_moment

    app, base, url = live
    page = online_page
    csp_errors = watch_problems(page)

    # the merchant, on a phone
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(url)
    assert page.inner_text("h1") == "Pytania o Twój sklep"
    page.click("a[href='#callback']")  # the shortcut at the top jumps to the block below the form
    block = page.locator("#callback")
    assert block.is_visible()
    options = page.locator("#callback input[name=at]")
    assert options.count() == 4 and page.is_checked("#callback input[name=at][value=now]")
    first = options.nth(1)
    value = first.get_attribute("value")
    picked = datetime.fromisoformat(value)
    label = page.locator("#callback label.option").nth(1)
    assert label.inner_text().strip() == local_moment(picked, "pl", "PL")  # Polish, Warsaw's clock
    for target in (label, page.locator("button.callback-submit"), page.locator("#callback-note")):
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360
    no_sideways_scroll(page, 362)
    label.click()
    assert first.is_checked()
    page.fill("#callback-note", "Jak podłączyć BLIK?")
    block.screenshot(path=str(output_dir / "callback-360-block.png"))
    page.click("button.callback-submit")
    page.wait_for_url(re.compile(r".*/callback\?lang=pl(#callback)?$"))  # the form's #callback carries over
    when = page.inner_text(".callback-when")
    assert local_moment(picked, "pl", "PL") in when
    assert page.locator(".callback-moved").count() == 0  # an offered time is a calling time
    assert "Jak podłączyć BLIK?" in page.inner_text("main")
    no_sideways_scroll(page, 362)
    page.screenshot(path=str(output_dir / "callback-360-confirmation.png"), full_page=True)
    with app.extensions["concierge.db"].session() as s:
        [call] = s.scalars(select(PlannedCall)).all()
        assert (call.kind, call.requested_via, call.created_by) == ("callback", "survey", "merchant")
        assert call.scheduled_at == picked and call.note == "Jak podłączyć BLIK?"

    # the consultant, at a desk
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"{base}/shops/pl-1001")
    assert "/login" in page.url
    log_in(page, "anna@example.com", PASSWORD, f"{base}/shops/pl-1001")
    next_call = page.locator(".next-call")
    text = next_call.inner_text()
    assert "Callback" in text and "The merchant asked for a call" in text and "Europe/Warsaw" in text
    assert next_call.locator(".call-when").inner_text() == local_moment(picked, "en", "PL")
    assert "They asked: Jak podłączyć BLIK?" in next_call.locator(".agenda").inner_text()
    page.wait_for_function("document.querySelector('.picture img').complete")
    assert page.evaluate("document.querySelector('.picture img').naturalWidth") > 0
    next_call.screenshot(path=str(output_dir / "callback-1200-shop-panel.png"))
    page.screenshot(path=str(output_dir / "callback-1200-shop-top.png"))
    assert csp_errors == []
