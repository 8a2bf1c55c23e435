"""The merchant rates a reached call through a signed link: once, in their language, expiring."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from concierge.models import Call, CallRating, Shop
from concierge.operations.ratings import rating_token, resolve_rating
from concierge.operations.shops import ensure_shop
from concierge.operations.survey_links import BadLink, ExpiredLink

NOW = datetime.now(timezone.utc)


@pytest.fixture
def reached(app):
    db = app.extensions["concierge.db"]
    with db.session() as s:
        shop = ensure_shop(s, "tr-rate", "TR", trial_started_at=NOW - timedelta(days=3))
        call = Call(shop_id=shop.id, actor="emre@example.com", kind="audit", called_at=NOW, reached=True,
                    outcome="reached")
        missed = Call(shop_id=shop.id, actor="emre@example.com", kind="audit", called_at=NOW, reached=False,
                      outcome="no_answer")
        s.add_all([call, missed])
        s.flush()
        secret = app.config["SECRET_KEY"]
        return {"token": rating_token(secret, call, shop, now=NOW),
                "missed": rating_token(secret, missed, shop, now=NOW),
                "old": rating_token(secret, call, shop, now=NOW - timedelta(days=6)), "db": db}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_merchant_rates_once_in_their_language(client, reached):
    page = client.get(f"/r/{reached['token']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'lang="tr"' in html
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    token = _csrf(html)
    bad = client.post(f"/r/{reached['token']}", data={"csrf_token": token, "score": "11", "comment": "x" * 1001})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "0" in text and "1000" in text
    with reached["db"].sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(CallRating)) == 0
    ok = client.post(f"/r/{reached['token']}", data={"csrf_token": token, "score": "9", "comment": " Çok  yardımcı "})
    assert ok.status_code == 303
    with reached["db"].sessionmaker() as s:
        rating = s.scalar(select(CallRating))
        assert (rating.score, rating.comment, rating.language) == (9, "Çok yardımcı", "tr")
    again = client.post(f"/r/{reached['token']}", data={"csrf_token": token, "score": "3"})
    assert again.status_code == 409
    with reached["db"].sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(CallRating)) == 1
    assert client.get(f"/r/{reached['token']}").status_code == 200  # "rated already, thank you"


def test_expired_forged_and_unreached_links(client, reached, app):
    assert client.get(f"/r/{reached['old']}").status_code == 410
    assert client.get(f"/r/{reached['token']}x").status_code == 404
    assert client.get(f"/r/{reached['missed']}").status_code == 404  # a call nobody answered is not rated
    with reached["db"].sessionmaker() as s:
        with pytest.raises(BadLink):
            resolve_rating(s, reached["token"], secret="another secret")
        with pytest.raises(ExpiredLink):
            resolve_rating(s, reached["token"], secret=app.config["SECRET_KEY"], now=NOW + timedelta(days=5, seconds=1))
        assert resolve_rating(s, reached["token"], secret=app.config["SECRET_KEY"]).call.outcome == "reached"


def test_a_survey_token_does_not_open_a_rating(client, app, reached):
    from concierge.operations.survey_links import create_link

    with reached["db"].session() as s:
        created = create_link(s, "tr-rate", secret=app.config["SECRET_KEY"], created_by="t", days=3)
        survey_token = created.token
    assert client.get(f"/r/{survey_token}").status_code == 404
