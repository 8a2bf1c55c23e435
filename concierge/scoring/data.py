"""Trials from the database as snapshots: finished ones for training, open ones for scoring."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

import profile_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Call, Observation as ObservationRow, Shop
from .features import TrialSnapshot, snapshot_time, take_snapshot
from .train import TrainingRow

CHUNK = 2000


@dataclass(frozen=True)
class LoadedTrials:
    rows: list[TrainingRow]
    skipped: dict[str, int]


def _observations(session: Session, shops: Sequence[Shop]) -> dict[int, list[profile_schema.Observation]]:
    by_id = {s.id: s for s in shops}
    out: dict[int, list[profile_schema.Observation]] = defaultdict(list)
    ids = list(by_id)
    for k in range(0, len(ids), CHUNK):
        part = ids[k:k + CHUNK]
        q = (select(ObservationRow.id, ObservationRow.shop_id, ObservationRow.question, ObservationRow.value,
                    ObservationRow.op, ObservationRow.source, ObservationRow.actor, ObservationRow.observed_at,
                    ObservationRow.schema_version)
             .where(ObservationRow.shop_id.in_(part)))
        for oid, sid, question, value, op, source, actor, at, version in session.execute(q):
            out[sid].append(profile_schema.Observation(
                shop=by_id[sid].platform_id, question=question, value=value, source=source, actor=actor,
                observed_at=at, schema_version=version, op=op, seq=oid))
    return out


def _calls(session: Session, shops: Sequence[Shop]) -> dict[int, list[datetime]]:
    out: dict[int, list[datetime]] = defaultdict(list)
    ids = [s.id for s in shops]
    for k in range(0, len(ids), CHUNK):
        for sid, at in session.execute(select(Call.shop_id, Call.called_at).where(Call.shop_id.in_(ids[k:k + CHUNK]))):
            out[sid].append(at)
    return out


def treated(shop: Shop, snapshot_at: datetime, calls: Iterable[datetime],
            observations: Iterable[profile_schema.Observation]) -> bool:
    """A call after the snapshot and before the trial ended (call table or call answers)."""
    end = shop.trial_ends_at or shop.outcome_at
    times = list(calls) + [o.observed_at for o in observations if o.source == "call"]
    return any(t > snapshot_at and (end is None or t <= end) for t in times)


def snapshots_for(session: Session, shops: Sequence[Shop], *, snapshot_day: int,
                  schema: profile_schema.Schema | None = None, now: datetime | None = None) -> list[TrialSnapshot]:
    """Each shop as it stood at its snapshot (or now, if the snapshot is still ahead)."""
    obs = _observations(session, shops)
    out = []
    for s in shops:
        at = snapshot_time(s.trial_started_at, snapshot_day) if s.trial_started_at else None
        if at is None or (now is not None and at > now):
            at = now or max((o.observed_at for o in obs.get(s.id, [])), default=datetime.now().astimezone())
        out.append(take_snapshot(obs.get(s.id, []), shop=s.platform_id, market=s.market, as_of=at, schema=schema))
    return out


def finished_trials(session: Session, *, snapshot_day: int, schema: profile_schema.Schema | None = None) -> LoadedTrials:
    """Finished trials with a start date, frozen at their snapshot, with outcome and treatment."""
    shops = list(session.scalars(select(Shop).where(Shop.outcome.is_not(None)).order_by(Shop.id)))
    skipped = {"no_trial_start": 0, "decided_before_snapshot": 0, "unknown_outcome": 0}
    usable = []
    for s in shops:
        if s.trial_started_at is None:
            skipped["no_trial_start"] += 1
        elif s.outcome not in ("converted", "not_converted"):
            skipped["unknown_outcome"] += 1
        elif s.outcome_at is not None and s.outcome_at < snapshot_time(s.trial_started_at, snapshot_day):
            skipped["decided_before_snapshot"] += 1
        else:
            usable.append(s)
    rows: list[TrainingRow] = []
    for k in range(0, len(usable), CHUNK):
        part = usable[k:k + CHUNK]
        obs = _observations(session, part)
        calls = _calls(session, part)
        for s in part:
            at = snapshot_time(s.trial_started_at, snapshot_day)
            snap = take_snapshot(obs.get(s.id, []), shop=s.platform_id, market=s.market, as_of=at, schema=schema)
            rows.append(TrainingRow(snap, 1 if s.outcome == "converted" else 0, s.trial_started_at,
                                    treated(s, at, calls.get(s.id, []), obs.get(s.id, [])), bool(s.holdout)))
    return LoadedTrials(rows, skipped)
