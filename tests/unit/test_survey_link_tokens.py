"""Survey link tokens: signed, expiring, tamper-evident; the clock is passed in, never slept on."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from concierge.operations.survey_links import (BadLink, ExpiredLink, RevokedLink, check_link, link_url,
                                               market_language, read_token, sign_link)

SECRET = "unit-test-secret"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
EXPIRES = T0 + timedelta(days=14)


def token(**kw):
    args = {"shop": "pl-1001", "link_id": 42, "nonce": "n0nce-abc", "expires_at": EXPIRES, "now": T0, **kw}
    return sign_link(kw.pop("secret", SECRET), **{k: v for k, v in args.items() if k != "secret"})


def test_round_trip_gives_back_shop_link_nonce_and_times():
    claims = read_token(SECRET, token(), now=T0 + timedelta(days=1))
    assert (claims.shop, claims.link_id, claims.nonce) == ("pl-1001", 42, "n0nce-abc")
    assert claims.expires_at == EXPIRES and claims.issued_at == T0


def test_token_is_url_safe_short_and_carries_no_secret():
    t = token()
    assert len(t) < 200 and all(c.isalnum() or c in "-_." for c in t)
    assert SECRET not in t
    assert link_url("https://example.com/", t) == f"https://example.com/s/{t}"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:],  # signature changed
    lambda t: ("A" if t[0] != "A" else "B") + t[1:],    # payload changed
    lambda t: t[:-10],                                   # truncated (copy-paste lost the end)
    lambda t: t + "x",
    lambda t: "",
    lambda t: "not-a-token",
    lambda t: t.replace(".", "", 1),
    lambda t: "x" * 5000,
])
def test_tampered_tokens_are_bad(mangle):
    with pytest.raises(BadLink) as exc:
        read_token(SECRET, mangle(token()), now=T0)
    assert exc.value.status == 404 and exc.value.shop is None


def test_another_secret_or_salt_is_bad():
    with pytest.raises(BadLink):
        read_token("another-secret", token(), now=T0)
    from itsdangerous import URLSafeTimedSerializer

    other_salt = URLSafeTimedSerializer(SECRET, salt="something-else").dumps(
        ["pl-1001", 42, "n0nce-abc", int(EXPIRES.timestamp())])
    with pytest.raises(BadLink):
        read_token(SECRET, other_salt, now=T0)


def test_a_validly_signed_payload_of_the_wrong_shape_is_bad():
    from concierge.operations.survey_links import _serializer

    for payload in (["pl-1001", "42", "n", 1], {"shop": "pl-1001"}, ["pl-1001", True, "n", 1], [1, 2]):
        with pytest.raises(BadLink):
            read_token(SECRET, _serializer(SECRET, T0).dumps(payload), now=T0)


def test_expiry_follows_the_injected_clock():
    t = token()
    read_token(SECRET, t, now=EXPIRES - timedelta(seconds=1))  # still fine a second before
    with pytest.raises(ExpiredLink) as exc:
        read_token(SECRET, t, now=EXPIRES)
    assert exc.value.status == 410
    assert exc.value.shop == "pl-1001"  # signed by us: we may say whose link it was (its language)
    assert exc.value.expired_at == EXPIRES
    with pytest.raises(ExpiredLink):
        read_token(SECRET, t, now=EXPIRES + timedelta(days=400))


def test_a_token_from_the_future_is_bad_not_expired():
    with pytest.raises(BadLink):
        read_token(SECRET, token(now=T0 + timedelta(days=200), expires_at=T0 + timedelta(days=210)), now=T0)


def test_check_link_against_the_stored_row():
    claims = read_token(SECRET, token(), now=T0)
    ok = {"shop": "pl-1001", "nonce": "n0nce-abc", "expires_at": EXPIRES, "revoked_at": None, "now": T0}
    check_link(claims, **ok)
    with pytest.raises(RevokedLink) as exc:
        check_link(claims, **{**ok, "revoked_at": T0})
    assert exc.value.status == 410 and exc.value.shop == "pl-1001"
    for wrong in ({"shop": None, "nonce": None}, {"nonce": "another"}, {"shop": "pl-2"}):
        with pytest.raises(BadLink):
            check_link(claims, **{**ok, **wrong})
    with pytest.raises(ExpiredLink):  # the stored expiry may be earlier than the token's
        check_link(claims, **{**ok, "expires_at": T0 + timedelta(days=1), "now": T0 + timedelta(days=2)})


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        read_token(SECRET, token(), now=datetime(2026, 3, 2))


def test_market_language():
    assert [market_language(m) for m in ("PL", "TR", "IN", "tr", None, "DE")] == ["pl", "tr", "en", "tr", "en", "en"]


def test_messages_in_the_merchants_language():
    assert str(ExpiredLink("tr")) == "bu anket bağlantısının süresi doldu"
    assert str(BadLink("pl")) == "ten link do ankiety jest nieprawidłowy"
