"""The call screen shows how and when the merchant prefers to be called (issue 16), SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import select

from concierge.models import Shop
from concierge.operations.contact_preferences import set_preferences

from .test_web_workday import NOW, _db, add_call, clock, login, make_shop, page_text  # noqa: F401 (clock: a fixture)


def _wishes(app, platform_id, raw):
    with _db(app).session() as s:
        set_preferences(s, s.scalar(select(Shop).where(Shop.platform_id == platform_id)), raw, now=NOW)


def test_the_call_screen_shows_whatsapp_days_and_hours(app, client, clock):
    make_shop(app, "tr-1", "TR", name="Çiçekçi", phone="+90 532 123 45 67")
    _wishes(app, "tr-1", {"days": ["2", "4"], "hours": "afternoon", "channel": "whatsapp"})
    cid = add_call(app, "tr-1")
    login(app, client)
    text = page_text(client, f"/calls/{cid}")
    wishes = text[text.index('class="call-wishes"'):]
    wishes = " ".join(wishes[:wishes.index("</p>")].split())
    assert "The merchant prefers:" in wishes and ">WhatsApp</strong>" in wishes
    assert 'href="https://wa.me/905321234567"' in wishes
    assert "· Tue, Thu" in wishes and "· Afternoon" in wishes


def test_phone_and_no_wishes_say_nothing_more(app, client, clock):
    make_shop(app)  # Poland, nothing said about how or when
    cid = add_call(app)
    login(app, client)
    text = page_text(client, f"/calls/{cid}")
    assert "call-wishes" not in text and "wa.me" not in text
