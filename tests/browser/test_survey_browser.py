"""The merchant survey page in real headless Chromium at phone size (360x740), on a live server.

Opens a link, fills in a few answers, saves a draft, reloads (the draft comes back),
submits with an answer missing (the field says why, in Polish), completes it, and lands on
the thank-you page. Screenshots go to test-output/browser/survey-*.png.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser


@pytest.fixture
def live_survey(new_live_app, serve):
    """The real app (CSRF on) on SQLite with one Polish shop and a survey link, served in a thread."""
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop
    from concierge.operations.survey_links import create_link

    app, db = new_live_app()
    with db.session() as s:
        shop = ensure_shop(s, "pl-1001", "PL", name="Ceramika Zofii")
        record_answers(s, shop, {"owner.name": "Zofia Kowalska"}, actor="anna@example.com")
        token = create_link(s, shop, secret=app.config["SECRET_KEY"], created_by="anna@example.com").token
    yield app, f"{serve(app, db)}/s/{token}"


def test_merchant_fills_saves_reloads_and_submits_on_a_phone(live_survey, online_page, output_dir, watch_problems,
                                                             no_sideways_scroll):
    from concierge.models import Observation

    app, url = live_survey
    page = online_page
    csp_errors = watch_problems(page)
    page.set_viewport_size({"width": 360, "height": 740})

    page.goto(url)
    assert page.inner_text("h1") == "Pytania o Twój sklep"
    assert page.input_value("#owner__name") == "Zofia Kowalska"  # pre-filled from the call
    no_sideways_scroll(page, 362)
    # big enough to hit with a thumb
    for selector in ("button[value=save]", "button[value=submit]", "#survey label.option >> nth=0", "#owner__name"):
        box = page.locator(selector).bounding_box()
        assert box["height"] >= 44, selector
    page.screenshot(path=str(output_dir / "survey-360-top.png"))
    page.screenshot(path=str(output_dir / "survey-360-full.png"), full_page=True)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.screenshot(path=str(output_dir / "survey-360-bottom.png"))
    page.evaluate("window.scrollTo(0, 0)")

    page.fill("#owner__hours_per_week", "12")
    page.check("input[name=experience__sold_online_before][value=no]")
    page.check("input[name=needs__help_with][value=payments]")
    page.check("input[name=needs__help_with][value=shipping]")
    page.click("button[value=save]")
    page.wait_for_selector(".flash")
    assert "Zapisano" in page.inner_text(".flash")
    page.reload()
    assert page.input_value("#owner__hours_per_week") == "12"  # the draft came back
    assert page.is_checked("input[name=needs__help_with][value=shipping]")
    assert page.is_checked("input[name=experience__sold_online_before][value=no]")
    assert page.locator("#experience__platforms").is_hidden()  # ruled out by "no": waits hidden
    with app.extensions["concierge.db"].session() as s:
        assert s.scalars(select(Observation).where(Observation.source == "survey")).all() == []

    # sent with required answers missing: the page says which, in Polish, and keeps the rest
    page.click("button[value=submit]")
    page.wait_for_selector(".error-summary")
    assert "Kategoria: jest wymagane" in page.inner_text(".error-summary")
    assert page.input_value("#owner__hours_per_week") == "12"
    page.screenshot(path=str(output_dir / "survey-360-errors.png"))
    no_sideways_scroll(page, 362)
    page.click(".error-summary a[href='#business__category']")
    page.select_option("#business__category", "crafts")
    page.select_option("#business__type", "handmade")
    page.check("input[name=experience__tech_comfort][value='3']")
    page.click("button[value=submit]")
    page.wait_for_url("**/thanks?lang=pl")
    assert page.inner_text("h1") == "Dziękujemy!"
    page.screenshot(path=str(output_dir / "survey-360-thanks.png"))
    with app.extensions["concierge.db"].session() as s:
        stored = {o.question: o.value for o in s.scalars(select(Observation).where(Observation.source == "survey"))}
    assert stored == {"owner.hours_per_week": 12, "experience.sold_online_before": False,
                      "experience.tech_comfort": 3, "needs.help_with": ["payments", "shipping"],
                      "business.type": "handmade", "business.category": "crafts"}

    # the language switch keeps working on the same link
    page.goto(url + "?lang=tr")
    assert page.inner_text("h1") == "Mağazanız hakkında sorular"
    page.screenshot(path=str(output_dir / "survey-360-tr.png"))
    assert csp_errors == []
