"""Profiles: fold a shop's stored observations into its current (or past) profile."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import profile_schema

from ..models import Call, ProfileSnapshot, Shop
from ..models import Observation as ObservationRow
from .shops import resolve_shop


def shop_observations(session: Session, shop: Shop | str) -> list[profile_schema.Observation]:
    """Read a shop's observations as pure values, so the fold never touches the database."""
    shop = resolve_shop(session, shop)
    rows = session.execute(
        select(ObservationRow.id, ObservationRow.question, ObservationRow.value, ObservationRow.op,
               ObservationRow.source, ObservationRow.actor, ObservationRow.observed_at,
               ObservationRow.schema_version)
        .where(ObservationRow.shop_id == shop.id)
        .order_by(ObservationRow.observed_at, ObservationRow.id)
    )
    return [
        profile_schema.Observation(
            shop=shop.platform_id, question=question, value=value, source=source, actor=actor,
            observed_at=observed_at, schema_version=version, op=op, seq=oid,
        )
        for oid, question, value, op, source, actor, observed_at, version in rows
    ]


def observations_by_shop(session: Session, platform_ids: dict[int, str]) -> dict[int, list[profile_schema.Observation]]:
    """Many shops' observations as pure values, in one query ({shop id: platform id} in, keep it
    to a few hundred shops): what the planner and the read model fold."""
    by_shop: dict[int, list[profile_schema.Observation]] = {sid: [] for sid in platform_ids}
    if not platform_ids:
        return by_shop
    o = ObservationRow.__table__.c  # Core rows: the ORM's per-row result handling was a third of the time
    for shop_id, oid, question, value, op, source, actor, at, version in session.connection().execute(
            select(o.shop_id, o.id, o.question, o.value, o.op, o.source, o.actor, o.observed_at, o.schema_version)
            .where(o.shop_id.in_(list(platform_ids))).order_by(o.shop_id, o.observed_at, o.id)):
        by_shop[shop_id].append(profile_schema.Observation(
            shop=platform_ids[shop_id], question=question, value=value, source=source, actor=actor,
            observed_at=at, schema_version=version, op=op, seq=oid))
    return by_shop


def load_profile(session: Session, shop: Shop | str, *, as_of: datetime | None = None) -> profile_schema.Profile:
    """Build the shop's profile from every observation, so it is always current and never stored."""
    shop = resolve_shop(session, shop)
    return profile_schema.fold(shop_observations(session, shop), shop=shop.platform_id,
                               market=shop.market, as_of=as_of)


def profile_changes(session: Session, shop: Shop | str, since: datetime) -> list[profile_schema.Change]:
    """List what changed since a moment, so a consultant sees news since the last call."""
    return profile_schema.changes_since(shop_observations(session, shop), since=since)


def known_values(profile: profile_schema.Profile) -> dict[str, object]:
    """Current answers by question, for the schema's skip logic."""
    return {k: f.value for k, f in profile.facts.items()}


def change_as_dict(c) -> dict:
    """One profile change as JSON (shared by the API and `profile --since --json`)."""
    return {"key": c.key, "before": c.before, "after": c.after, "source": c.source,
            "observed_at": c.observed_at.isoformat() if isinstance(c.observed_at, datetime) else None}


# --------------------------------------------------------------------------- the kept snapshot

@dataclass(frozen=True)
class ShopView:
    """What a shop's page and picture show of its history: the profile, the last reached call
    and what changed since then (`changes_since` of every observation), and whether it was read
    from the kept snapshot (`ProfileSnapshot`) or folded from the observations."""

    profile: profile_schema.Profile
    last_call: datetime | None
    changes: list[profile_schema.Change]
    from_snapshot: bool


def last_call_at(session: Session, shop: Shop) -> datetime | None:
    """When a consultant last spoke to the merchant: the last reached call in the call log.

    Not any saved answer: a consultant filling in the form after reading a survey has not
    spoken to anyone, and "what changed since the last call" must not restart then.
    """
    return session.scalar(select(func.max(Call.called_at)).where(Call.shop_id == shop.id, Call.reached.is_(True)))


def _snapshot(session: Session, shop: Shop):
    from profile_schema.snapshot import read_snapshot

    body = session.scalar(select(ProfileSnapshot.body).where(ProfileSnapshot.shop_id == shop.id))
    try:
        return read_snapshot(body, shop=shop.platform_id, market=shop.market)
    except (ValueError, TypeError, KeyError):  # a damaged row: the history is the truth
        return None


def current_profile(session: Session, shop: Shop | str) -> profile_schema.Profile:
    """The shop's current profile, equal to `load_profile`'s, read from its kept snapshot (one row)
    when there is a usable one, else folded from every observation. For reads (pages, the API):
    an operation that has just added observations in its transaction folds (`load_profile`)."""
    shop = resolve_shop(session, shop)
    snap = _snapshot(session, shop)
    return snap.profile if snap is not None else load_profile(session, shop)


def shop_view(session: Session, shop: Shop | str) -> ShopView:
    """The profile, last reached call and changes since it: from the shop's kept snapshot, in a
    number of statements and rows that does not grow with its history, when the snapshot was
    made for today's schema and the same last call; else folded from every observation (the
    same values, as the page has always shown them)."""
    shop = resolve_shop(session, shop)
    last = last_call_at(session, shop)
    snap = _snapshot(session, shop)
    if snap is not None and snap.since == last:
        return ShopView(snap.profile, last, snap.changes if last is not None else [], True)
    observations = shop_observations(session, shop)
    profile = profile_schema.fold(observations, shop=shop.platform_id, market=shop.market)
    changes = profile_schema.changes_since(observations, since=last) if last is not None else []
    return ShopView(profile, last, changes, False)
