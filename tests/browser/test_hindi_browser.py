"""Hindi in real headless Chromium (issue 15, item 4): the merchant survey on a phone, the shop
page and its picture, for an Indian shop whose reader asks for Hindi.

This machine's Chromium has no Devanagari font of its own (like many phones and office PCs),
so every Devanagari glyph it draws must come from the shipped Lohit Devanagari: the page's
``@font-face`` (served by /fonts/) and the one the SVG picture carries inside. Checked with
Chromium's own font report (DevTools ``CSS.getPlatformFontsForNode``): Devanagari text drawn by
any other font is a row of boxes. Nothing overlaps (the texts' boxes, pairwise), nothing
scrolls sideways. Screenshots: test-output/browser/hindi-*.png.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "browser test password"
HINDI = {"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.5"}

# visible elements with their own text: each one's box, for the overlap check
TEXT_BOXES = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('[hidden], details:not([open]) > :not(summary)')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none' || style.display === 'contents') continue;
    // a bar that stays on screen (sticky, fixed) lies over the page by design: compared on its own
    let layer = 0;
    for (let e = el; e; e = e.parentElement) {
      const pos = getComputedStyle(e).position;
      if (pos === 'fixed' || pos === 'sticky') { layer = 1; break; }
    }
    const range = document.createRange();
    for (const n of el.childNodes) {
      if (n.nodeType !== 3 || !n.textContent.trim()) continue;
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) {
        if (r.width > 0 && r.height > 0) out.push({t: n.textContent.trim().slice(0, 40), layer, x: r.x, y: r.y + scrollY, w: r.width, h: r.height});
      }
    }
  }
  return out;
}"""


def _overlaps(boxes, tol=1.0):
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (a["layer"] == b["layer"] and a["x"] < b["x"] + b["w"] - tol and b["x"] < a["x"] + a["w"] - tol
                    and a["y"] < b["y"] + b["h"] - tol and b["y"] < a["y"] + a["h"] - tol):
                found.append((a["t"], b["t"]))
    return found


def _fonts_drawing(page, selector: str) -> dict[str, int]:
    """Which fonts Chromium drew the text of the first `selector` with: {family: glyphs}."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, selector
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        return {f["familyName"]: f["glyphCount"] for f in fonts}
    finally:
        cdp.detach()


@pytest.fixture
def indian_shop(tmp_path, serve):
    """A live app (CSRF on, SQLite) with an Indian shop, its survey link and a consultant."""
    from concierge import create_app
    from concierge.db import Base
    from concierge.operations.observations import record_answers
    from concierge.operations.shops import ensure_shop
    from concierge.operations.survey_links import create_link
    from concierge.operations.users import create_user

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite'}",
                      "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": uuid.uuid4().hex})
    db = app.extensions["concierge.db"]
    Base.metadata.create_all(db.engine)
    t0 = datetime.now(timezone.utc) - timedelta(days=5)
    with db.session() as s:
        create_user(s, "ravi@example.com", password=PASSWORD, role="consultant", name="Ravi")
        shop = ensure_shop(s, "in-1001", "IN", name="श्री गणेश हस्तशिल्प")
        record_answers(s, shop, {
            "owner.name": "प्रिया शर्मा", "owner.hours_per_week": "40", "experience.sold_online_before": "yes",
            "needs.help_with": ["payments", "shipping", "legal"], "business.type": "manufacturer",
            "business.category": "fashion", "readiness.store_details": "yes", "readiness.payments_connected": "yes",
        }, actor="ravi@example.com", observed_at=t0, now=t0)
        token = create_link(s, "in-1001", secret=app.config["SECRET_KEY"], created_by="ravi@example.com").token
    return app, serve(app, db), token


def _assert_hindi_drawn_with_lohit(page, selector):
    fonts = _fonts_drawing(page, selector)
    assert fonts.get("Lohit Devanagari", 0) > 0, fonts
    return fonts


def _open_in_hindi(page, url: str, width: int, height: int) -> list[str]:
    """Open `url` asking for Hindi, at width x height; the list collects the Content Security Policy
    complaints the page logs from now on."""
    csp: list[str] = []
    page.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    page.set_extra_http_headers(HINDI)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(url)
    return csp


def test_the_hindi_survey_on_a_phone(indian_shop, online_page, output_dir):
    _, base, token = indian_shop
    page = online_page
    csp = _open_in_hindi(page, f"{base}/s/{token}", 390, 844)
    page.wait_for_function("document.fonts.status === 'loaded'")
    assert page.evaluate("document.documentElement.lang") == "hi"
    assert page.evaluate("[...document.fonts].some(f => f.family.includes('Lohit Devanagari') && f.status === 'loaded')")
    heading = _assert_hindi_drawn_with_lohit(page, "h1")
    _assert_hindi_drawn_with_lohit(page, ".brand")
    _assert_hindi_drawn_with_lohit(page, ".langs a[lang=hi]")  # the language's own name, in bold
    assert page.evaluate("document.documentElement.scrollWidth") <= 392  # no sideways scrolling
    assert _overlaps(page.evaluate(TEXT_BOXES)) == []
    page.screenshot(path=str(output_dir / "hindi-survey-390.png"), full_page=True)
    page.screenshot(path=str(output_dir / "hindi-survey-390-top.png"))
    # the switcher: the market's two languages first; English in one tap
    assert page.eval_on_selector_all(".langs a", "as => as.map(a => a.lang)")[:2] == ["en", "hi"]
    with page.expect_navigation():  # the click loads a new page; reading it sooner finds no document
        page.click(".langs a[lang=en]")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert csp == [], csp
    assert heading


def test_the_hindi_shop_page_and_its_picture(indian_shop, online_page, output_dir):
    _, base, _ = indian_shop
    page = online_page
    csp = _open_in_hindi(page, f"{base}/shops/in-1001", 1200, 900)
    page.fill("#email", "ravi@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/shops/in-1001")
    page.wait_for_function("document.fonts.status === 'loaded' && document.querySelector('.picture img').complete")
    assert page.evaluate("document.documentElement.lang") == "hi"
    assert page.evaluate("document.querySelector('.picture img').naturalWidth") > 0
    _assert_hindi_drawn_with_lohit(page, "h1")
    assert _overlaps(page.evaluate(TEXT_BOXES)) == []
    page.screenshot(path=str(output_dir / "hindi-shop-1200.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    page.wait_for_function("document.fonts.status === 'loaded' && document.querySelector('.picture img').complete")
    assert page.evaluate("document.documentElement.scrollWidth") <= 362
    assert _overlaps(page.evaluate(TEXT_BOXES)) == []
    page.screenshot(path=str(output_dir / "hindi-shop-360.png"), full_page=True)
    assert csp == [], csp

    # the picture as the page's <img> loads it, opened on its own: its Devanagari is drawn
    # with the Lohit it carries (nothing else here has a Devanagari glyph)
    src = page.eval_on_selector(".picture img", "i => i.src")
    page.goto(src)
    page.wait_for_function("document.fonts.status === 'loaded'")
    fonts = _fonts_drawing(page, "g.panel text")
    # Chromium names the font file's own family; no Lohit is installed here: it is the one inside
    assert fonts.get("Lohit Devanagari", 0) > 0, fonts
    page.screenshot(path=str(output_dir / "hindi-shop-picture.png"))
    assert csp == [], csp
