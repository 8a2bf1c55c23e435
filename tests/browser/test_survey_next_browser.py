"""What happens next, on a phone (issue 16): the merchant reads who their consultant is on the
thank-you page, opens "change when and how we call you", picks days, hours and WhatsApp with
large tap targets and no sideways scroll, saves, and the page shows what was stored.

Real headless Chromium on a live server, 390x844. Screenshots: test-output/browser/next-*.png.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser


@pytest.fixture
def live(new_live_app, serve):
    from concierge.operations.shops import ensure_shop
    from concierge.operations.survey_links import create_link
    from concierge.operations.users import create_user

    app, db = new_live_app()
    with db.session() as s:
        create_user(s, "ayse@example.com", password="browser test password", role="consultant", language="tr",
                    name="Ayşe Demir")
        shop = ensure_shop(s, "tr-1001", "TR", name="Çiçekçi")
        token = create_link(s, shop, secret=app.config["SECRET_KEY"], created_by="ayse@example.com").token
    base = serve(app, db)
    yield app, f"{base}/s/{token}"


def test_merchant_changes_when_and_how_we_call_on_a_phone(live, online_page, output_dir, no_sideways_scroll):
    from concierge.models import ContactPreference

    app, url = live
    page = online_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{url}/thanks")
    block = page.locator("#next")
    assert "Ayşe" in block.locator(".next-consultant").inner_text()
    page.click("#next summary")
    for target in (page.locator("#next-days label.option").nth(3), page.locator("#next-hours label.option").nth(2),
                   page.locator("#next-channel label.option").nth(1), page.locator("button.next-submit")):
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.locator("#next-days label.option").nth(3).click()   # Thursday
    page.locator("#next-hours label.option").nth(2).click()  # evening
    page.locator("#next-channel label.option").nth(1).click()  # WhatsApp
    no_sideways_scroll(page, 392)
    block.screenshot(path=str(output_dir / "next-390-form.png"))
    page.click("button.next-submit")
    page.wait_for_url(re.compile(r".*/thanks\?lang=tr(#next)?$"))
    assert page.locator(".flash").count() == 1
    page.click("#next summary")
    assert page.is_checked("#next-days input[value='4']") and page.is_checked("#next-hours input[value=evening]")
    assert page.is_checked("#next-channel input[value=whatsapp]")
    page.screenshot(path=str(output_dir / "next-390-saved.png"), full_page=True)
    with app.extensions["concierge.db"].session() as s:
        assert s.scalar(select(ContactPreference.days)) == "4"
