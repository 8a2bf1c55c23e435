"""Typed SQLAlchemy models. Observations are append-only; the profile is folded from them."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    BigInteger, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audits.messages import OPEN_STATUSES

from .db import Base, JSONType, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Shop(Base):
    """A trial shop, known by the platform's shop id."""

    __tablename__ = "shop"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64), unique=True)
    market: Mapped[str] = mapped_column(String(2), index=True)
    name: Mapped[Optional[str]] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    trial_started_at: Mapped[Optional[datetime]]
    trial_ends_at: Mapped[Optional[datetime]]
    outcome: Mapped[Optional[str]] = mapped_column(String(16))  # converted | not_converted
    outcome_at: Mapped[Optional[datetime]]
    # randomly held out from calls in the trial's history (imports, the demo's generator), so the
    # effect of a call can be measured honestly; the audit planner's own arm is audit_state.holdout
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)

    observations: Mapped[list["Observation"]] = relationship(back_populates="shop")


class Submission(Base):
    """One accepted batch of answers (a call, a survey, an import line): stored whole."""

    __tablename__ = "submission"
    # a survey response (its id, or the hash of its export line) is stored once per shop,
    # even when two copies race; NULL references (calls) never collide
    __table_args__ = (UniqueConstraint("shop_id", "reference", name="uq_submission_shop_reference"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))  # cli | web | api | import | events
    actor: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    reference: Mapped[Optional[str]] = mapped_column(String(200))  # e.g. a survey response id


#: The answers `ix_observation_needs_answers` holds: full answers to the needs facet's questions.
NEEDS_ANSWERS = "op = 'set' AND question LIKE 'needs.%'"


class Observation(Base):
    """One fact about a shop. Never updated, never deleted."""

    __tablename__ = "observation"
    __table_args__ = (Index("ix_observation_shop_time", "shop_id", "observed_at"),
                      # the answers to one question in a period (voice of the merchant: trend, examples)
                      Index("ix_observation_question_time", "question", "observed_at"),
                      # ... and the same for the needs facet's answers with what the voice reads, so on
                      # PostgreSQL its trend is an index-only scan, not thousands of heap pages
                      # (operations.reports.voice; NEEDS_ANSWERS is its FACET, a test keeps them equal)
                      Index("ix_observation_needs_answers", "question", "observed_at",
                            postgresql_include=["shop_id", "id", "schema_version", "value"],
                            postgresql_where=text(NEEDS_ANSWERS), sqlite_where=text(NEEDS_ANSWERS)))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(80))
    value: Mapped[Any] = mapped_column(JSONType)
    op: Mapped[str] = mapped_column(String(10), default="set")
    source: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(200))
    observed_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    submission_id: Mapped[Optional[int]] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"), index=True)
    event_id: Mapped[Optional[str]] = mapped_column(String(100), index=True)

    shop: Mapped[Shop] = relationship(back_populates="observations")


class TrialEvent(Base):
    """A trial-shop webhook event, kept verbatim; its id makes delivery idempotent."""

    __tablename__ = "trial_event"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(50))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    body_sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(JSONType)


class DeadLetter(Base):
    """Something sent to us that we could not accept, kept verbatim for replay."""

    __tablename__ = "dead_letter"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(30), index=True)  # events | surveys | survey_import | record
    payload: Mapped[str] = mapped_column(Text)
    context: Mapped[Any] = mapped_column(JSONType, default=dict)
    errors: Mapped[Any] = mapped_column(JSONType, default=list)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending | replayed | discarded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    resolved_at: Mapped[Optional[datetime]]


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[Optional[datetime]]
    revoked_at: Mapped[Optional[datetime]]
    # integration (default) | admin: only admin tokens may export or erase a merchant's data (0013)
    role: Mapped[str] = mapped_column(String(20), default="integration", server_default="integration")


class User(Base):
    """A consultant, manager or admin who logs in to the web app."""

    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default="consultant")  # consultant | manager | admin
    language: Mapped[Optional[str]] = mapped_column(String(8))
    # languages the consultant speaks with merchants ("pl,en"); NULL: any (calls are not filtered)
    call_languages: Mapped[Optional[str]] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # sessions (migration 0012): every web session of this user carries this random token, so
    # a new one (logout, password change) ends them all; NULL until the next login
    session_token: Mapped[Optional[str]] = mapped_column(String(64))


def _shop_market(context: Any) -> str:
    """`call.market` or `planned_call.market` when an insert does not give it: the shop's (one
    lookup a row; the workday, the demo loader, the planner and the callback request give it, so
    only hand-made rows pay for it)."""
    shop_id = context.get_current_parameters()["shop_id"]
    return context.connection.execute(text("SELECT market FROM shop WHERE id = :id"), {"id": shop_id}).scalar_one()


class Call(Base):
    """A consultant's call with a merchant (onboarding, audit or follow-up)."""

    __tablename__ = "call"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    # the shop's market, kept beside the call (it never changes), so the call log's figures per
    # market (operations.callstats) need no join to every shop
    market: Mapped[str] = mapped_column(String(8), default=_shop_market)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="onboarding")  # onboarding | audit | followup
    called_at: Mapped[datetime] = mapped_column(index=True)  # the call log of a period (queue health, stats)
    reached: Mapped[bool] = mapped_column(Boolean, default=True)
    submission_id: Mapped[Optional[int]] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    # an attempt at a planned call: which one, how it ended, the consultant's note, how long it took
    planned_call_id: Mapped[Optional[int]] = mapped_column(ForeignKey("planned_call.id", ondelete="SET NULL"),
                                                           index=True)
    outcome: Mapped[Optional[str]] = mapped_column(String(16))
    note: Mapped[Optional[str]] = mapped_column(Text)
    handling_seconds: Mapped[Optional[int]] = mapped_column(Integer)
    # first-contact resolution, recorded once the call's window has ended (migration 0016;
    # operations.callstats.record_fcr_verdicts): the verdict, and the shop's observation count
    # (shop_state.observations) it was judged with; it holds while that count is unchanged.
    # NULL: not recorded yet, so the figures judge it live.
    fcr_resolved: Mapped[Optional[bool]] = mapped_column(Boolean)
    fcr_observations: Mapped[Optional[int]] = mapped_column(Integer)


class ModelVersion(Base):
    """A trained conversion model, saved with skops; exactly one is active at a time."""

    __tablename__ = "model_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    trained_rows: Mapped[int] = mapped_column(Integer, default=0)
    # deferred: loading a version (lists, scores' versions) never reads the multi-megabyte artifact;
    # only operations.scoring.store reads it, once per process and version
    artifact: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    card: Mapped[Any] = mapped_column(JSONType, default=dict)


class Score(Base):
    """A shop's likelihood to subscribe, with reasons; names the model version that made it."""

    __tablename__ = "score"
    __table_args__ = (Index("ix_score_shop_time", "shop_id", "scored_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_version.id", ondelete="CASCADE"), index=True)
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)
    probability: Mapped[float] = mapped_column(Float)
    uplift: Mapped[Optional[float]] = mapped_column(Float)
    details: Mapped[Any] = mapped_column(JSONType, default=dict)  # reasons, path to subscribe, fallback


class DemoTruth(Base):
    """The generator's ground truth for a synthetic shop: the oracle the model is judged by."""

    __tablename__ = "demo_truth"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    persona: Mapped[str] = mapped_column(String(40))
    p_no_call: Mapped[float] = mapped_column(Float)
    p_call: Mapped[float] = mapped_column(Float)
    called: Mapped[bool] = mapped_column(Boolean)
    seed: Mapped[int] = mapped_column(Integer)


class SurveyLink(Base):
    """A signed, expiring link a merchant opens to fill in the survey (no account).

    The token itself is never stored: it is signed from (shop, id, nonce, expiry) with the
    app's secret. The row says whether the link still works (revoked, expiry) and keeps
    the merchant's unfinished answers (`draft`) so they can stop and continue.
    """

    __tablename__ = "survey_link"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[Optional[datetime]]
    language: Mapped[Optional[str]] = mapped_column(String(8))  # the merchant's last choice
    draft: Mapped[Any] = mapped_column(JSONType, nullable=True)  # {question: clean value}
    draft_saved_at: Mapped[Optional[datetime]]
    submitted_at: Mapped[Optional[datetime]]  # the last accepted submission through this link
    # the survey completion report (migration 0018): the first POST that saved an answer (a draft or
    # a submit; opening the page is not starting) and the first accepted submission; set once
    started_at: Mapped[Optional[datetime]]
    finished_at: Mapped[Optional[datetime]]


class ContactPreference(Base):
    """The days of the week a merchant prefers to be called (migration 0018).

    The preferred hours and channel are profile answers (needs.preferred_call_time and
    needs.preferred_contact); the days have no question in the schema, so they are kept here
    and read into the planner's `ShopFacts` (audits.slots.Contact.preferred_days).
    """

    __tablename__ = "contact_preference"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    days: Mapped[Optional[str]] = mapped_column(String(20))  # ISO weekdays "1,2,3"; NULL: any day
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))


class PlannedCall(Base):
    """A follow-up call the audit planner (or a merchant's callback request) put in the queue.

    One row per occurrence of a rule, ever (`shop, rule, occurrence` is unique), so a call
    that was made, cancelled or held out is never planned again; `open_key` ("kind:reason")
    is set only while the call is open, so a shop has one open call per kind and reason.
    Every change of status is kept in `planned_call_event`.
    """

    __tablename__ = "planned_call"
    __table_args__ = (
        UniqueConstraint("shop_id", "rule", "occurrence", name="uq_planned_call_occurrence"),
        UniqueConstraint("shop_id", "open_key", name="uq_planned_call_open_key"),
        Index("ix_planned_call_status_scheduled", "status", "scheduled_at"),
        Index("ix_planned_call_status_rank", "status", "rank"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    # the shop's market, kept beside the call (a shop's market never changes: operations.shops
    # refuses it) so the queue's reads group open calls by market without joining every shop
    market: Mapped[str] = mapped_column(String(8), default=_shop_market)
    kind: Mapped[str] = mapped_column(String(12))          # audit | followup | callback
    reason: Mapped[str] = mapped_column(String(80))        # what it is about (dedupe)
    rule: Mapped[str] = mapped_column(String(60))
    rules_version: Mapped[int] = mapped_column(Integer, default=1)
    occurrence: Mapped[str] = mapped_column(String(160))
    trigger: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(String(12))       # service | commercial
    status: Mapped[str] = mapped_column(String(12))        # planned | snoozed | held_out | cancelled | claimed | done
    open_key: Mapped[Optional[str]] = mapped_column(String(120))
    due_from: Mapped[datetime]
    due_until: Mapped[datetime]
    scheduled_at: Mapped[datetime]
    preference_met: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[Any] = mapped_column(JSONType, default=dict)
    agenda: Mapped[Any] = mapped_column(JSONType, default=list)
    gain: Mapped[Optional[float]] = mapped_column(Float)
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[Optional[datetime]]
    note: Mapped[Optional[str]] = mapped_column(Text)      # the merchant's words (callbacks) or the last snooze/cancel note
    cancel_reason: Mapped[Optional[str]] = mapped_column(String(40))
    # callbacks: when the merchant asked (indexed: the callbacks asked for in a period, queue health)
    requested_at: Mapped[Optional[datetime]] = mapped_column(index=True)
    requested_via: Mapped[Optional[str]] = mapped_column(String(12))  # survey | api | cli | web
    first_attempt_at: Mapped[Optional[datetime]]           # service level: the first dial
    # the queue: callbacks first, then the expected gain per consultant-minute (higher first)
    rank: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    language: Mapped[Optional[str]] = mapped_column(String(8))   # the merchant's language, for routing
    # a claim: who has it, until when, and a fencing token that grows with every claim
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    lease_until: Mapped[Optional[datetime]]
    token: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_at: Mapped[Optional[datetime]]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outcome: Mapped[Optional[str]] = mapped_column(String(16))  # how it ended: reached, no_answer, ...
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[Optional[datetime]]


# The open calls by market, language and moment, with what the queue's health counts (the
# dashboard's queue scan reads only this index on PostgreSQL; operations.reports.queue_health).
Index("ix_planned_call_open_market", PlannedCall.market, PlannedCall.language, PlannedCall.scheduled_at,
      postgresql_include=["due_from", "due_until", "status", "lease_until", "kind"],
      postgresql_where=PlannedCall.status.in_(OPEN_STATUSES),
      sqlite_where=PlannedCall.status.in_(OPEN_STATUSES))

# The queue in claim order, open calls only: a claim (operations.workday.claim_next) walks it from
# the top and stops at the first call it may take, instead of sorting every due call (PostgreSQL
# proves the claim's "planned, or claimed with an expired lease" implies the predicate).
_QUEUE_STATUSES = ("planned", "claimed")
Index("ix_planned_call_queue", PlannedCall.rank.desc(), PlannedCall.scheduled_at, PlannedCall.id,
      postgresql_where=PlannedCall.status.in_(_QUEUE_STATUSES),
      sqlite_where=PlannedCall.status.in_(_QUEUE_STATUSES))


class PlannedCallEvent(Base):
    """One change of a planned call: created, held out, snoozed, rescheduled, cancelled."""

    __tablename__ = "planned_call_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("planned_call.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[Optional[str]] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[Optional[str]] = mapped_column(String(40))
    note: Mapped[Optional[str]] = mapped_column(Text)
    details: Mapped[Any] = mapped_column(JSONType, default=dict)


class AuditState(Base):
    """What the planner last read of a shop (its `ShopFacts`) and when to look at it again.

    Derived, never the truth: rebuilt from the shop's history whenever it changes, so a
    full plan re-evaluates every shop without replaying any history.
    """

    __tablename__ = "audit_state"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    facts: Mapped[Any] = mapped_column(JSONType, default=dict)
    facts_version: Mapped[int] = mapped_column(Integer, default=1)
    last_observation_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_score_id: Mapped[int] = mapped_column(BigInteger, default=0)
    next_check_at: Mapped[Optional[datetime]] = mapped_column(index=True)
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the planner's randomised arm, drawn once when it first sees the shop (a fixed draw from
    # the shop id, so a rebuilt table draws the same): held-out shops' audits are recorded, never called
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    holdout_share: Mapped[float] = mapped_column(Float, default=0.0)  # the share in force at the draw


class PlannerRun(Base):
    """The incremental planner's bookmark: how far it has read, and with which rules."""

    __tablename__ = "planner_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_run_at: Mapped[datetime]
    observation_watermark: Mapped[int] = mapped_column(BigInteger, default=0)
    score_watermark: Mapped[int] = mapped_column(BigInteger, default=0)
    rules_digest: Mapped[str] = mapped_column(String(64), default="")


class CallRating(Base):
    """How a reached call felt to the merchant (transactional NPS): once per call, from a signed link."""

    __tablename__ = "call_rating"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column(Integer)            # 0-10: how likely to recommend us
    comment: Mapped[Optional[str]] = mapped_column(Text)
    language: Mapped[Optional[str]] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShopState(Base):
    """The read model: one row per shop with what lists, filters and counts need.

    Derived, never the truth: computed from the shop's history by
    `operations.shop_state.state_rows`, written in the same transaction as every change to
    the shop (`refresh_states`), and rebuilt from history by `concierge state rebuild`.
    """

    __tablename__ = "shop_state"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64))
    market: Mapped[str] = mapped_column(String(2))  # indexed with shop_id below
    name: Mapped[Optional[str]] = mapped_column(String(200))
    search_key: Mapped[str] = mapped_column(Text, default="")  # name and id folded for search (accents, case)
    trial_started_at: Mapped[Optional[datetime]] = mapped_column(index=True)
    trial_ends_at: Mapped[Optional[datetime]]
    outcome: Mapped[Optional[str]] = mapped_column(String(16), index=True)
    outcome_at: Mapped[Optional[datetime]]
    # the decision rule (scoring.outcome.decision), stored so reports count with plain SQL
    converted: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_at: Mapped[Optional[datetime]] = mapped_column(index=True)
    stage: Mapped[Optional[str]] = mapped_column(String(40), index=True)
    readiness_percent: Mapped[int] = mapped_column(Integer, default=0)
    persona: Mapped[Optional[str]] = mapped_column(String(60))
    business_type: Mapped[Optional[str]] = mapped_column(String(60))
    language: Mapped[Optional[str]] = mapped_column(String(16))
    score: Mapped[Optional[float]] = mapped_column(Float, index=True)  # the latest probability
    score_model_version: Mapped[Optional[str]] = mapped_column(String(40))
    scored_at: Mapped[Optional[datetime]]
    gain: Mapped[Optional[float]] = mapped_column(Float)  # the latest score's uplift
    consultant: Mapped[Optional[str]] = mapped_column(String(200), index=True)  # who made the last reached call
    last_reached_at: Mapped[Optional[datetime]]
    contacted: Mapped[bool] = mapped_column(Boolean, default=False)
    held_out: Mapped[bool] = mapped_column(Boolean, default=False)
    next_call_at: Mapped[Optional[datetime]]
    observations: Mapped[int] = mapped_column(Integer, default=0)
    # what the merchant wants help with (needs.help_with), as "|topic|topic|": the voice report's drill-down
    help_topics: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# The closed trials by the moment they closed, with what model health reads of them (on PostgreSQL an
# index-only scan instead of reading every wide row: operations.reports.model_health; CLOSED_OUTCOMES
# is its CLOSED, a test keeps them equal).
CLOSED_OUTCOMES = ("converted", "not_converted")
Index("ix_shop_state_closed", ShopState.outcome_at,
      postgresql_include=["market", "outcome", "converted", "trial_ends_at", "scored_at", "score_model_version",
                          "score", "shop_id"],
      postgresql_where=ShopState.outcome.in_(CLOSED_OUTCOMES), sqlite_where=ShopState.outcome.in_(CLOSED_OUTCOMES))

# The shops of a market, by market and shop id (migration 0023): a report limited to one market picks its
# shops' rows elsewhere ("shop_id IN (the market's shops)") from this index alone, not from the wide rows.
Index("ix_shop_state_market", ShopState.market, ShopState.shop_id)

# The help topics by market and stage, of the shops that named any (the voice of the merchant's
# topic counts: an index-only scan instead of reading every wide row).
Index("ix_shop_state_help_topics", ShopState.market, ShopState.stage, ShopState.help_topics,
      postgresql_where=ShopState.help_topics != "", sqlite_where=ShopState.help_topics != "")


class ProfileSnapshot(Base):
    """A shop's folded profile, kept (migration 0015): what its page, the API's profile and its
    picture show, read without replaying every observation.

    Derived, never the truth, like `ShopState`: `profile_schema.snapshot.make_snapshot` of all
    the shop's observations, with the changes since its last reached call (`last_call_at`),
    written in the same transaction as every change to the shop (`shop_state.refresh_states`)
    and rebuilt by `concierge state rebuild`. Read by `operations.profiles.shop_view`, which
    folds instead when the row is missing, from another schema version, or older than the
    shop's last reached call.
    """

    __tablename__ = "profile_snapshot"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    schema_version: Mapped[int] = mapped_column(Integer)
    last_call_at: Mapped[Optional[datetime]]  # the changes are counted from here (None: no reached call)
    observations: Mapped[int] = mapped_column(Integer, default=0)  # rows folded (all the shop's observations)
    body: Mapped[str] = mapped_column(Text)  # the snapshot's JSON text (profile_schema.snapshot)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------- privacy (H3, migration 0013)


class PrivacyErasure(Base):
    """A merchant's personal data was erased: who asked for it, when, why, and how much went.

    Holds no personal data itself: the shop's ids, the operator, the reason (scrubbed of the
    erased values) and counts per kind of row (`operations.privacy.erase_shop`). Kept when
    the shop itself is deleted later (the shop id is then set to NULL, the platform id stays).
    """

    __tablename__ = "privacy_erasure"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[Optional[int]] = mapped_column(ForeignKey("shop.id", ondelete="SET NULL"), index=True)
    platform_id: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))  # cli | web | api
    reason: Mapped[str] = mapped_column(Text)
    counts: Mapped[Any] = mapped_column(JSONType, default=dict)  # {"observations": 4, "call_notes": 1, ...}


# ---------------------------------------------------------------- events inbox (issue 13, migration 0017)


class EventInbox(Base):
    """A webhook event acknowledged but not applied yet (queued mode, `CONCIERGE_EVENTS_QUEUED`).

    The webhook checks the event (the same checks as the inline path), stores it here and
    answers 202; `concierge events worker` applies rows in id order through the batch ingest
    path and deletes them in the same transaction (`operations.inbox`). The claim is the
    applying transaction's row lock (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the one
    writer), so a worker that dies mid-batch claims nothing: its rows are simply still here.
    `attempts`, `available_at` and `last_error` hold a row back after a failed apply.
    """

    __tablename__ = "event_inbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # the order the events are applied in
    event_id: Mapped[str] = mapped_column(String(100), unique=True)  # idempotency, with trial_event.id
    shop: Mapped[str] = mapped_column(String(64), index=True)  # the platform's shop id
    type: Mapped[str] = mapped_column(String(50))
    creates_shop: Mapped[bool] = mapped_column(Boolean, default=False)  # a trial_started: the shop is known
    market: Mapped[Optional[str]] = mapped_column(String(2))  # the market its answers were checked for
    payload: Mapped[str] = mapped_column(Text)  # the body as received (checked: UTF-8, no NUL)
    body_sha256: Mapped[str] = mapped_column(String(64))  # events.body_sha256 of the parsed body
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(20), default="api")
    lang: Mapped[str] = mapped_column(String(5), default="en")
    context: Mapped[Any] = mapped_column(JSONType, default=dict)  # token prefix, content type
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # failed applies so far
    available_at: Mapped[datetime] = mapped_column(default=utcnow)  # not applied before this
    last_error: Mapped[Optional[str]] = mapped_column(Text)
