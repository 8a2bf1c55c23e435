"""Write a generated population into the database through the same paths as real data.

Trial events go through `operations.events.ingest_lines` (the batched path of
`concierge ingest events`: envelope and data checks, the declared mapping, profile_schema
validation, shops created by trial_started, outcomes set by plan_purchased/trial_ended).
Survey and call answers are checked with profile_schema's `Schema.validate` (the one
validation path, with the skip-logic context the shop has at that moment) and stored in
bulk: one Submission per survey or call, its observations with executemany. Calls,
holdout flags and the ground truth (demo_truth) are plain rows. Nothing commits here: the
CLI command commits once.
"""
from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Iterator

import profile_schema
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import Conflict, ValidationFailed
from ..i18n import translations
from ..models import AuditState, Call, DemoTruth, Shop, Submission
from ..operations.events import ingest_lines
from ..operations.observations import add_observations_bulk
from .generator import HOLDOUT_SHARE, DemoAnswers, DemoShop, Population

CHANNEL = "demo"
_CHUNK = 1000


@dataclass
class LoadResult:
    shops: int
    events: int
    observations: int
    surveys: int
    calls: int

    def as_dict(self) -> dict[str, int]:
        return {"shops": self.shops, "events": self.events, "observations": self.observations,
                "surveys": self.surveys, "calls": self.calls}


def iter_event_lines(population: Population) -> Iterator[str]:
    """Every trial event as one JSON line (the `concierge ingest events` envelope), in time order.

    Interleaved across shops as a webhook stream would be; a shop's trial_started always
    comes before its other events (it is the first in time).
    """
    streams = ([((e.occurred_at, e.id), e) for e in shop.events] for shop in population.shops)
    for _key, e in heapq.merge(*streams, key=lambda item: item[0]):
        yield json.dumps(e.envelope(), ensure_ascii=False, separators=(",", ":"))


def _existing(session: Session, platform_ids: list[str]) -> list[str]:
    found: list[str] = []
    for i in range(0, len(platform_ids), _CHUNK):
        chunk = platform_ids[i:i + _CHUNK]
        found += session.scalars(select(Shop.platform_id).where(Shop.platform_id.in_(chunk))).all()
    return found


def _checked(schema: profile_schema.Schema, shop: DemoShop, batch: DemoAnswers, known: dict[str, Any],
             lang: str | None = "en") -> dict[str, Any]:
    v = schema.validate(batch.answers, market=shop.market, source=batch.source, known=known,
                        partial=batch.source != "survey")
    if v.errors:  # a generator bug, never the user's: stop before anything is stored
        raise ValidationFailed(v.errors, translations(lang).gettext(
            "demo %(source)s answers for %(shop)s do not pass the schema")
            % {"source": batch.source, "shop": shop.platform_id})
    return v.values


def load_population(
    session: Session,
    population: Population,
    *,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    lang: str | None = "en",
) -> LoadResult:
    """Add the population's shops, events, answers, calls and truth to the session (flushes, never
    commits); when some of its shops exist already, Conflict (in `lang`) and nothing is added."""
    now = now or utcnow()
    shops = population.shops
    clash = _existing(session, [s.platform_id for s in shops])
    if clash:
        raise Conflict(translations(lang).ngettext(
            "%(num)d demo shops already exist (e.g. %(shop)s): use `concierge demo --if-empty`, another --seed "
            "range, or a fresh database",
            "%(num)d demo shops already exist (e.g. %(shop)s): use `concierge demo --if-empty`, another --seed "
            "range, or a fresh database", len(clash)) % {"num": len(clash), "shop": clash[0]})
    lines = ((None, line) for line in iter_event_lines(population))
    per_event = (lambda n: None) if progress is None else progress
    summary = ingest_lines(session, lines, channel=CHANNEL, now=now, batch_size=5000, progress=per_event,
                           refresh=False)  # the shop_state rows are written once, at the end
    if summary.rejected:
        first = summary.outcomes[0].as_dict() if summary.outcomes else {}
        raise ValidationFailed(first.get("errors", []), translations(lang).ngettext(
            "%(num)d demo event was rejected, e.g. %(example)s", "%(num)d demo events were rejected, e.g. %(example)s",
            summary.rejected) % {"num": summary.rejected, "example": first})
    ids: dict[str, int] = {}
    pids = [s.platform_id for s in shops]
    for i in range(0, len(pids), _CHUNK):
        ids.update(session.execute(select(Shop.platform_id, Shop.id)
                                   .where(Shop.platform_id.in_(pids[i:i + _CHUNK]))).tuples().all())
    holdout_ids = [ids[s.platform_id] for s in shops if s.holdout]
    for i in range(0, len(holdout_ids), _CHUNK):
        session.execute(update(Shop).where(Shop.id.in_(holdout_ids[i:i + _CHUNK])).values(holdout=True))
    schema = profile_schema.load_schema()
    # answers: validate every batch first (nothing is stored if one fails), then insert in bulk
    batches: list[tuple[DemoShop, DemoAnswers, dict[str, Any]]] = []
    for s in shops:
        known: dict[str, Any] = {}
        if s.survey is not None:
            known = _checked(schema, s, s.survey, {}, lang)
            batches.append((s, s.survey, known))
        if s.call is not None:
            values = _checked(schema, s, s.call, known, lang)
            batches.append((s, s.call, values))
    observations = summary.observations
    for i in range(0, len(batches), _CHUNK):
        chunk = batches[i:i + _CHUNK]
        sub_ids = session.execute(
            insert(Submission).returning(Submission.id, sort_by_parameter_order=True),
            [{"shop_id": ids[s.platform_id], "source": b.source, "channel": CHANNEL, "actor": b.actor,
              "received_at": b.at, "reference": b.reference} for s, b, _ in chunk],
        ).scalars().all()
        observations += add_observations_bulk(session, (
            {"shop_id": ids[s.platform_id], "question": key, "value": value, "op": "set", "source": b.source,
             "actor": b.actor, "observed_at": b.at, "recorded_at": now, "schema_version": schema.version,
             "submission_id": sid, "event_id": None}
            for (s, b, values), sid in zip(chunk, sub_ids) for key, value in values.items()))
        calls = [{"shop_id": ids[s.platform_id], "market": s.market, "actor": b.actor, "kind": "onboarding", "called_at": b.at,
                  "reached": True, "submission_id": sid}
                 for (s, b, _), sid in zip(chunk, sub_ids) if b.source == "call"]
        if calls:
            session.execute(insert(Call), calls)
    for i in range(0, len(shops), _CHUNK):
        session.execute(insert(DemoTruth), [
            {"shop_id": ids[s.platform_id], "persona": s.persona, "p_no_call": s.p_no_call,
             "p_call": s.p_call, "called": s.called, "seed": population.seed}
            for s in shops[i:i + _CHUNK]])
    # the generator's no-call holdout is the arm its calls were made by: hand it to the audit
    # planner as the shop's arm (facts_version 0: the planner builds the facts on its first run),
    # so the planner keeps calling the same shops and the gain from calls compares like with like
    for i in range(0, len(shops), _CHUNK):
        session.execute(insert(AuditState), [
            {"shop_id": ids[s.platform_id], "facts": {}, "facts_version": 0, "last_observation_id": 0,
             "last_score_id": 0, "next_check_at": None, "planned_at": now, "holdout": s.holdout,
             "holdout_share": HOLDOUT_SHARE}
            for s in shops[i:i + _CHUNK]])
    session.flush()
    from ..operations.shop_state import refresh_states

    refresh_states(session, ids.values(), now=now)
    return LoadResult(shops=len(shops), events=summary.stored, observations=observations,
                      surveys=sum(s.survey is not None for s in shops),
                      calls=sum(s.call is not None for s in shops))


#: Share of open trials whose merchant asks for a callback in the demo (at least three, so the queue shows them).
DEMO_CALLBACK_SHARE = 0.10


def plan_demo_calls(session: Session, population: Population, *, today: date, seed: int,
                    now: datetime | None = None) -> dict[str, int]:
    """Let a few demo merchants with open trials ask for a callback, then plan every shop's calls.

    The moment is now when the population ends today, else noon UTC of its last day, so a
    demo made for another day plans as of that day.
    """
    import random

    from ..operations.audits import plan_calls, request_callback

    if now is None:
        real = datetime.now(timezone.utc)
        now = real if real.date() == today else datetime.combine(today, time(12), tzinfo=timezone.utc)
    rng = random.Random(seed)
    open_trials = [s.platform_id for s in population.shops if s.outcome is None]
    chosen = sorted(rng.sample(open_trials, min(len(open_trials), max(3, round(len(open_trials) * DEMO_CALLBACK_SHARE))))) if open_trials else []
    for i, pid in enumerate(chosen):
        at = None if i % 2 == 0 else now + timedelta(days=1 + i % 3, hours=i % 5)
        request_callback(session, pid, now=now, at=at, via="survey", actor="merchant")
    report = plan_calls(session, now=now)
    return {"planned_calls": report.created, "held_out_calls": report.held_out, "callbacks": len(chosen)}
