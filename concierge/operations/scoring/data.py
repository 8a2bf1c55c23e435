"""Trials from the database as snapshots: finished ones for training, open ones for scoring.

A trial is finished for the model when its outcome is final: its market's decision window
(`locales` card, `conversion.decision_window_days`: PL 60, TR 14, IN 30 days) has closed
since the trial ended. Until then a "not converted" may still turn into a purchase (Polish
merchants deliberate for weeks), so such trials are neither learned from nor tested on,
whatever their outcome so far (keeping only the early buyers would bias the sample). The
label is "subscribed within the window". The clock is the data's own: the latest trial
event stored, so a history loaded or exported on another day is judged as of that day.
Imported trials without an end date count as final.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Collection, Iterable, Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import profile_schema

from ...db import utcnow
from ...models import Call, Shop, TrialEvent
from ...models import Observation as ObservationRow
from ...scoring.features import (NOT_FEATURE_SOURCES, TrialSnapshot, scoring_age, snapshot_ages, snapshot_time,
                                take_snapshot)
from ...scoring.outcome import (DEFAULT_DECISION_WINDOW_DAYS, bought_by_end, decision,  # noqa: F401 - their home is outcome
                                decision_window)

if TYPE_CHECKING:  # train imports scikit-learn (seconds): only training needs it, not every importer of decision()
    from ...scoring.train import TrainingRow

CHUNK = 2000


@dataclass(frozen=True)
class LoadedTrials:
    rows: list[TrainingRow]
    skipped: dict[str, int]


def _observations(session: Session, shops: Sequence[Shop], recorded_by: datetime | None = None,
                  ) -> dict[int, list[profile_schema.Observation]]:
    """The shops' observations; with `recorded_by`, only those stored by then (a sealed split)."""
    by_id = {s.id: s for s in shops}
    out: dict[int, list[profile_schema.Observation]] = defaultdict(list)
    ids = list(by_id)
    for k in range(0, len(ids), CHUNK):
        part = ids[k:k + CHUNK]
        q = (select(ObservationRow.id, ObservationRow.shop_id, ObservationRow.question, ObservationRow.value,
                    ObservationRow.op, ObservationRow.source, ObservationRow.actor, ObservationRow.observed_at,
                    ObservationRow.schema_version)
             .where(ObservationRow.shop_id.in_(part)))
        if recorded_by is not None:
            q = q.where(ObservationRow.recorded_at <= recorded_by)
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
                  schema: profile_schema.Schema | None = None, now: datetime | None = None,
                  ages: Sequence[int] | None = None) -> list[TrialSnapshot]:
    """Each shop as it stood at its snapshot (or now, if the snapshot is still ahead)."""
    return snapshots_and_done(session, shops, snapshot_day=snapshot_day, schema=schema, now=now, ages=ages)[0]


def snapshots_and_done(session: Session, shops: Sequence[Shop], *, snapshot_day: int,
                       schema: profile_schema.Schema | None = None, now: datetime | None = None,
                       ages: Sequence[int] | None = None, ended: Collection[int] = (),
                       ) -> tuple[list[TrialSnapshot], list[frozenset[str]]]:
    """Each shop's snapshot, and what the shop has done by now that its snapshot does not show.

    The snapshot leaves out call answers (the call is the treatment) and everything after
    the snapshot day; a checklist item done since, or told us on a call, is still done:
    the path to subscribe must not propose it. The second list holds, per shop, the yes/no
    questions answered "yes" in the whole profile up to `now`, when something was left out
    of the snapshot (else an empty set: the snapshot already says it all). A shop whose id is
    in `ended` (a deliberating trial) is snapshotted at its trial end, aged its trial's length,
    as the deliberating model's rows are (`deliberating_trials`).
    """
    obs = _observations(session, shops)
    snaps, done = [], []
    for s in shops:
        age = None
        if s.id in ended and s.trial_started_at is not None and s.trial_ends_at is not None:
            at, age = s.trial_ends_at, trial_length_days(s.trial_started_at, s.trial_ends_at)
        elif ages:
            # a model trained on several ages: the trial at its real age now, capped at the largest
            at, age = scoring_age(s.trial_started_at, now or datetime.now().astimezone(), ages)
        else:  # a model of one snapshot day (stored before trial ages)
            at = snapshot_time(s.trial_started_at, snapshot_day) if s.trial_started_at else None
            if at is None or (now is not None and at > now):
                at = now or max((o.observed_at for o in obs.get(s.id, [])), default=datetime.now().astimezone())
        mine = obs.get(s.id, [])
        snaps.append(take_snapshot(mine, shop=s.platform_id, market=s.market, as_of=at, schema=schema,
                                   trial_day=age))
        left_out = any(o.source in NOT_FEATURE_SOURCES or o.observed_at > at for o in mine)
        if not left_out:
            done.append(frozenset())
            continue
        upto = [o for o in mine if now is None or o.observed_at <= now]
        profile = profile_schema.fold(upto, schema, shop=s.platform_id, market=s.market, as_of=now)
        done.append(frozenset(k for k, f in profile.facts.items() if f.value is True))
    return snaps, done


def recorded_clock(session: Session) -> datetime | None:
    """When the latest observation was stored (None without any): seals what a model saw."""
    return session.scalar(select(func.max(ObservationRow.recorded_at)))


def data_clock(session: Session) -> datetime:
    """The data's own "now": the latest trial event stored (now, when there is none)."""
    latest = session.scalar(select(func.max(TrialEvent.occurred_at)))
    return latest if latest is not None else utcnow()


def finished_trials(session: Session, *, snapshot_day: int, schema: profile_schema.Schema | None = None,
                    as_of: datetime | None = None, only: Collection[str] | None = None,
                    recorded_by: datetime | None = None, ages: Sequence[int] | None = None) -> LoadedTrials:
    """Trials with a final outcome and a start date, frozen at their snapshots, with outcome and treatment.

    One row per trial and age (`ages`, default: the snapshot day alone), in the order of the
    trials (a trial's rows are adjacent, youngest first), each with `trial_day` = its age; a
    trial decided before an age gives no row at that age, and a trial decided before every
    age is skipped (`decided_before_snapshot`). `as_of` is the data clock (default:
    `data_clock`); `only`, when given, keeps the shops with these platform ids and
    `recorded_by` the observations stored by then (a sealed test split, see
    `service.evaluate_model`).
    """
    from ...scoring.train import TrainingRow

    as_of = as_of or data_clock(session)
    days = sorted(set(int(a) for a in ages)) if ages else [int(snapshot_day)]
    skipped = {"no_trial_start": 0, "decided_before_snapshot": 0, "unknown_outcome": 0, "outcome_window_open": 0}
    usable = []
    for s in _decided_shops(session, only):
        if s.trial_started_at is None:
            skipped["no_trial_start"] += 1
        elif s.outcome not in ("converted", "not_converted"):
            skipped["unknown_outcome"] += 1
        elif not snapshot_ages(s.trial_started_at, s.outcome_at, days):
            skipped["decided_before_snapshot"] += 1
        elif s.trial_ends_at is not None and s.trial_ends_at + decision_window(s.market) > as_of:
            skipped["outcome_window_open"] += 1
        else:
            usable.append(s)
    rows: list[TrainingRow] = []
    for s, mine, called in _with_history(session, usable, recorded_by):
        outcome = 1 if _converted_in_window(s) else 0
        call_times = called + [o.observed_at for o in mine if o.source == "call"]
        for age in snapshot_ages(s.trial_started_at, s.outcome_at, days):
            at = snapshot_time(s.trial_started_at, age)
            snap = take_snapshot(mine, shop=s.platform_id, market=s.market, as_of=at, schema=schema,
                                 trial_day=age)
            rows.append(TrainingRow(snap, outcome, s.trial_started_at, treated(s, at, called, mine),
                                    bool(s.holdout), called_before=any(t <= at for t in call_times)))
    return LoadedTrials(rows, skipped)


def _decided_shops(session: Session, only: Collection[str] | None) -> list[Shop]:
    """The shops with an outcome, in id order; with `only`, those with these platform ids."""
    shops = list(session.scalars(select(Shop).where(Shop.outcome.is_not(None)).order_by(Shop.id)))
    if only is None:
        return shops
    keep = set(only)
    return [s for s in shops if s.platform_id in keep]


def _with_history(session: Session, shops: Sequence[Shop], recorded_by: datetime | None,
                  ) -> Iterator[tuple[Shop, list[profile_schema.Observation], list[datetime]]]:
    """Each shop in turn with its observations (those stored by `recorded_by`, when given) and
    its call times, loaded `CHUNK` shops at a time."""
    for k in range(0, len(shops), CHUNK):
        part = shops[k:k + CHUNK]
        obs = _observations(session, part, recorded_by)
        calls = _calls(session, part)
        for s in part:
            yield s, obs.get(s.id, []), calls.get(s.id, [])


def _converted_in_window(s: Shop) -> bool:
    return decision(s.market, s.outcome, s.outcome_at, s.trial_ends_at)[0]


def trial_length_days(started_at: datetime, trial_ends_at: datetime) -> int:
    """The trial's length in whole days: the age of its snapshot at the trial end."""
    return max(0, int((trial_ends_at - started_at).total_seconds() // 86400))


def deliberating_trials(session: Session, *, schema: profile_schema.Schema | None = None,
                        as_of: datetime | None = None, only: Collection[str] | None = None,
                        recorded_by: datetime | None = None) -> LoadedTrials:
    """Finished trials that had not bought by their trial end, frozen at that end: the deliberating
    model's rows (issue 14, item 2).

    The same finished trials as `finished_trials` (the decision window closed by `as_of`, the
    data clock; `only` and `recorded_by` as there), less those that bought during the trial
    (or without a purchase time: when they bought is not known). One row per trial: its
    snapshot at the trial end (`take_snapshot`, call answers left out), `trial_day` = the
    trial's length in days; label 1 when it bought within the decision window after the end.
    A row is never `treated` (the uplift model is not learned from these rows); `called_before`
    says a call came during the trial. `skipped` counts, besides `finished_trials`' reasons,
    `bought_by_end` and `no_trial_end`.
    """
    from ...scoring.train import TrainingRow

    as_of = as_of or data_clock(session)
    skipped = {"no_trial_start": 0, "no_trial_end": 0, "unknown_outcome": 0, "bought_by_end": 0,
               "outcome_window_open": 0}
    usable = []
    for s in _decided_shops(session, only):
        if s.trial_started_at is None:
            skipped["no_trial_start"] += 1
        elif s.trial_ends_at is None or s.trial_ends_at < s.trial_started_at:
            skipped["no_trial_end"] += 1
        elif s.outcome not in ("converted", "not_converted"):
            skipped["unknown_outcome"] += 1
        elif bought_by_end(s.outcome, s.outcome_at, s.trial_ends_at):
            skipped["bought_by_end"] += 1
        elif s.trial_ends_at + decision_window(s.market) > as_of:
            skipped["outcome_window_open"] += 1
        else:
            usable.append(s)
    rows: list[TrainingRow] = []
    for s, mine, called in _with_history(session, usable, recorded_by):
        at = s.trial_ends_at
        snap = take_snapshot(mine, shop=s.platform_id, market=s.market, as_of=at, schema=schema,
                             trial_day=trial_length_days(s.trial_started_at, at))
        call_times = called + [o.observed_at for o in mine if o.source == "call"]
        rows.append(TrainingRow(snap, 1 if _converted_in_window(s) else 0, s.trial_started_at, False,
                                bool(s.holdout), called_before=any(t <= at for t in call_times)))
    return LoadedTrials(rows, skipped)
