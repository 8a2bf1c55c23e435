"""Profiles: fold a shop's stored observations into its current (or past) profile."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import profile_schema

from ..models import Observation as ObservationRow
from ..models import Shop
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
