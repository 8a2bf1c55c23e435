"""The shop's latest stored score: one query, nothing of the model's libraries, so the shop page
and the picture read it without loading numpy. (The one `latest_score`; `service` re-exports it.)"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import ModelVersion, Score, Shop
from ..shops import resolve_shop


def latest_score(session: Session, shop: Shop | str) -> tuple[Score, ModelVersion] | None:
    """The shop's most recent stored score and the version that made it (reads only: a score is
    made when the shop's answers change or on request, never when it is read)."""
    shop = resolve_shop(session, shop)
    hit = session.execute(select(Score, ModelVersion).join(ModelVersion, Score.model_version_id == ModelVersion.id)
                          .where(Score.shop_id == shop.id).order_by(Score.scored_at.desc(), Score.id.desc())
                          .limit(1)).first()
    return None if hit is None else (hit[0], hit[1])
