"""Shops: find, create and list the trial shops every profile belongs to."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from locales import MARKET_CODES

from ..errors import BadParameter, NotFound, ValidationFailed
from ..ingest.bodies import body_error, shop_id_error, text_problem
from ..messages import N_, SHOP_MESSAGES, localize
from ..models import Shop

MARKETS = MARKET_CODES

_MESSAGES: dict[str, str] = {
    **SHOP_MESSAGES,
    "market_changed": N_("shop {shop!r} is in market {old}, not {new}"),
}


def message(code: str, lang: str | None = "en", **params: object) -> str:
    """A shop-related error message in `lang` (en, pl, tr, hi), English when unknown."""
    return localize(_MESSAGES, code, lang, **params)


def get_shop(session: Session, platform_id: str, *, lang: str = "en") -> Shop:
    """Find a shop by the platform's shop id, so every caller names shops the same way."""
    problem = text_problem(platform_id) if isinstance(platform_id, str) else None
    if problem is not None:  # no database can look it up (PostgreSQL refuses NUL): name the field
        raise BadParameter([body_error("shop", problem[0], lang, **problem[1])])
    shop = session.scalar(select(Shop).where(Shop.platform_id == platform_id))
    if shop is None:
        raise NotFound(message("unknown_shop", lang, shop=platform_id))
    return shop


def resolve_shop(session: Session, shop: Shop | str, *, lang: str = "en") -> Shop:
    """Accept a Shop or a platform id, so operations take either."""
    return shop if isinstance(shop, Shop) else get_shop(session, shop, lang=lang)


def ensure_shop(
    session: Session,
    platform_id: str,
    market: str,
    *,
    name: str | None = None,
    trial_started_at: datetime | None = None,
    trial_ends_at: datetime | None = None,
) -> Shop:
    """Create the shop or fill in what we newly learned, so a repeated start never duplicates it."""
    errors = []
    bad_id = shop_id_error(platform_id, "en", field="shop")  # the one shop-id rule (API, web, CLI, imports)
    if bad_id is not None:
        errors.append(bad_id)
    if market not in MARKETS:
        errors.append({"field": "market", "code": "invalid_market",
                       "message": message("invalid_market", market=market)})
    if errors:
        raise ValidationFailed(errors)
    shop = session.scalar(select(Shop).where(Shop.platform_id == platform_id))
    if shop is None:
        shop = Shop(platform_id=platform_id, market=market, name=name,
                    trial_started_at=trial_started_at, trial_ends_at=trial_ends_at)
        session.add(shop)
        session.flush()
        _refresh(session, shop)
        return shop
    if shop.market != market:
        raise ValidationFailed([{"field": "market", "code": "market_changed",
                                 "message": message("market_changed", shop=platform_id,
                                                    old=shop.market, new=market)}])
    if name is not None:
        shop.name = name
    if trial_started_at is not None:
        shop.trial_started_at = trial_started_at
    if trial_ends_at is not None:
        shop.trial_ends_at = trial_ends_at
    session.flush()
    _refresh(session, shop)
    return shop


def _refresh(session: Session, shop: Shop) -> None:
    """The shop's read-model row (`shop_state`), in the same transaction."""
    from .shop_state import refresh_states

    refresh_states(session, [shop.id])


def list_shops(session: Session, market: str | None = None, limit: int | None = None) -> list[Shop]:
    """List shops newest first, optionally one market, so lists and exports agree on order."""
    q = select(Shop).order_by(Shop.created_at.desc(), Shop.id.desc())
    if market is not None:
        q = q.where(Shop.market == market.upper())
    if limit is not None:
        q = q.limit(limit)
    return list(session.scalars(q))


def shop_summary(shop: Shop, profile=None) -> dict:
    """A shop's row as every list shows it (the `shops --json` contract)."""
    out = {"id": shop.platform_id, "market": shop.market, "name": shop.name, "outcome": shop.outcome,
           "trial_started_at": shop.trial_started_at.isoformat() if shop.trial_started_at else None,
           "trial_ends_at": shop.trial_ends_at.isoformat() if shop.trial_ends_at else None}
    if profile is not None:
        out.update(stage=profile.readiness.stage, percent=profile.readiness.percent)
    return out
