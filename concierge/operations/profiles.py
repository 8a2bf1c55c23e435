"""Profiles: fold a shop's stored observations into its current (or past) profile."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

import profile_schema

from ..models import Call, ProfileSnapshot, Shop
from ..models import Observation as ObservationRow
from .shops import resolve_shop


def shop_observations(session: Session, shop: Shop | str) -> list[profile_schema.Observation]:
    """Read a shop's observations as pure values, so the fold never touches the database."""
    return _oldest_first(session, shop)


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


def _snapshot(session: Session, shop: Shop, body: str | None | object = ...):
    from profile_schema.snapshot import read_snapshot

    if body is ...:
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
    # one statement for both: the last reached call and the kept snapshot's text
    last, body = session.execute(select(_last_call_of(shop.id), _snapshot_of(shop.id))).one()
    return _view(session, shop, last, body)


def _last_call_of(shop_id):
    return (select(func.max(Call.called_at)).where(Call.shop_id == shop_id, Call.reached.is_(True))
            .scalar_subquery())


def _snapshot_of(shop_id):
    return select(ProfileSnapshot.body).where(ProfileSnapshot.shop_id == shop_id).scalar_subquery()


def _view(session: Session, shop: Shop, last: datetime | None, body: str | None) -> ShopView:
    snap = _snapshot(session, shop, body)
    if snap is not None and snap.since == last:
        return ShopView(snap.profile, last, snap.changes if last is not None else [], True)
    observations = shop_observations(session, shop)
    profile = profile_schema.fold(observations, shop=shop.platform_id, market=shop.market)
    changes = profile_schema.changes_since(observations, since=last) if last is not None else []
    return ShopView(profile, last, changes, False)


@dataclass(frozen=True)
class LatestScore:
    """The columns of a shop's latest stored score that pages show (`probability`, `details`)."""

    id: int
    probability: float
    details: object


@dataclass(frozen=True)
class ShopPageRead:
    """What the shop page reads of a shop in one statement: the shop, its `ShopView`, its latest
    score (None without one) and how many open planned calls it has (read only when some)."""

    shop: Shop
    view: ShopView
    score: LatestScore | None
    open_calls: int


_PAGE_READ: list = []  # the statement, built once: building it took 20x longer than running it


def _page_read_statement():
    if not _PAGE_READ:
        from audits.planner import OPEN_STATUSES

        from ..models import PlannedCall, Score

        newest = aliased(Score)
        latest = (select(newest.id).where(newest.shop_id == Shop.id).correlate(Shop)
                  .order_by(newest.scored_at.desc(), newest.id.desc()).limit(1).scalar_subquery())
        _PAGE_READ.append(
            select(Shop, _last_call_of(Shop.id), _snapshot_of(Shop.id), Score.id, Score.probability, Score.details,
                   select(func.count(PlannedCall.id)).where(PlannedCall.shop_id == Shop.id,
                                                            PlannedCall.status.in_(OPEN_STATUSES)).scalar_subquery())
            .outerjoin(Score, Score.id == latest)  # the latest score (on the shop's time index), if any
            .where(Shop.platform_id == bindparam("platform_id")))
    return _PAGE_READ[0]


def shop_page_read(session: Session, platform_id: str, *, lang: str = "en") -> ShopPageRead:
    """The shop, its last reached call, kept snapshot, latest score and count of open calls in one
    indexed statement (a page then renders from it; the snapshot replays history only when
    missing or stale). Raises like `shops.get_shop` for an unknown or unstorable shop id."""
    from ..ingest.bodies import text_problem
    from .shops import get_shop

    if not isinstance(platform_id, str) or text_problem(platform_id) is not None:
        get_shop(session, platform_id, lang=lang)  # raises the boundary's error, as every lookup does
    row = session.execute(_page_read_statement(), {"platform_id": platform_id}).first()
    if row is None:
        get_shop(session, platform_id, lang=lang)  # raises NotFound in the reader's language
    shop, last, body, sid, probability, details, open_calls = row
    score = LatestScore(sid, probability, details) if sid is not None else None
    return ShopPageRead(shop, _view(session, shop, last, body), score, int(open_calls or 0))


# --------------------------------------------------------------------------- bounded reads (issue 13)
# The API's `?since=` and the consultant's call screen read what they show from the kept
# snapshot and a few indexed, bounded reads of the observation table, never the whole history.

#: Rows per keyset page when reading a question's history backwards: a small first page (its
#: last `set` is usually near), then bigger ones.
_PAGES = (8, 64)


def _as_observation(shop: Shop, row) -> profile_schema.Observation:
    oid, question, value, op, source, actor, observed_at, version = row
    return profile_schema.Observation(shop=shop.platform_id, question=question, value=value, source=source,
                                      actor=actor, observed_at=observed_at, schema_version=version, op=op, seq=oid)


def _observation_columns():
    return (ObservationRow.id, ObservationRow.question, ObservationRow.value, ObservationRow.op,
            ObservationRow.source, ObservationRow.actor, ObservationRow.observed_at, ObservationRow.schema_version)


def _oldest_first(session: Session, shop: Shop | str, *where: Any) -> list[profile_schema.Observation]:
    """The shop's observations that meet `where` (all of them without), oldest first (time, then id)."""
    shop = resolve_shop(session, shop)
    rows = session.execute(select(*_observation_columns()).where(ObservationRow.shop_id == shop.id, *where)
                           .order_by(ObservationRow.observed_at, ObservationRow.id))
    return [_as_observation(shop, r) for r in rows]


def observations_after(session: Session, shop: Shop | str, since: datetime) -> list[profile_schema.Observation]:
    """The shop's observations after `since` (exclusive), oldest first: one read on the (shop, time) index."""
    return _oldest_first(session, shop, ObservationRow.observed_at > since)


def newest_observations(session: Session, shop: Shop | str, limit: int) -> list[profile_schema.Observation]:
    """The shop's `limit` newest observations (time, then id), newest first: what a timeline shows."""
    shop = resolve_shop(session, shop)
    rows = session.execute(select(*_observation_columns()).where(ObservationRow.shop_id == shop.id)
                           .order_by(ObservationRow.observed_at.desc(), ObservationRow.id.desc()).limit(limit))
    return [_as_observation(shop, r) for r in rows]


def observations_newer_than(session: Session, shop: Shop | str, seq: int) -> list[profile_schema.Observation]:
    """The shop's observations stored after observation id `seq` (what someone else added since a page)."""
    return _oldest_first(session, shop, ObservationRow.id > seq)


def observation_extent(session: Session, shop: Shop | str) -> tuple[int, int]:
    """(how many observations the shop has, its highest observation id; 0 without any): one aggregate."""
    shop = resolve_shop(session, shop)
    count, top = session.execute(select(func.count(ObservationRow.id), func.max(ObservationRow.id))
                                 .where(ObservationRow.shop_id == shop.id)).one()
    return int(count or 0), int(top or 0)


def _stored_names(registry, key: str) -> list[str]:
    """Every question name an observation of today's `key` may be stored under (renamed ones too)."""
    names = {key}
    for version, schema in registry.versions.items():
        for name in schema.questions:
            if registry.current_key(name, version) == key:
                names.add(name)
    return sorted(names)


def _backwards(session: Session, shop: Shop, names: list[str], until: datetime):
    """The shop's observations of these question names at or before `until`, newest first, read in
    keyset pages so a caller that stops early reads only what it needed."""
    cols = _observation_columns()
    after: tuple[datetime, int] | None = None
    page = _PAGES[0]
    while True:
        q = select(*cols).where(ObservationRow.shop_id == shop.id, ObservationRow.question.in_(names),
                                ObservationRow.observed_at <= until)
        if after is not None:
            at, oid = after
            q = q.where((ObservationRow.observed_at < at) | ((ObservationRow.observed_at == at) & (ObservationRow.id < oid)))
        rows = session.execute(q.order_by(ObservationRow.observed_at.desc(), ObservationRow.id.desc())
                               .limit(page)).all()
        for r in rows:
            yield _as_observation(shop, r)
        if len(rows) < page:
            return
        after, page = (rows[-1][6], rows[-1][0]), _PAGES[1]


def _value_at(session: Session, shop: Shop, registry, key: str, since: datetime,
              tail: list[profile_schema.Observation], now_value) -> object:
    """The value `key` resolved to at `since` (what `fold(as_of=since)` holds), from its value now,
    the observations after `since` (`tail`) and as little of its earlier history as decides it:
    back to its last `set`, or, for a count only incremented since, one row (None or a number)."""
    from profile_schema.fold import resolve_facts

    counted = (registry.latest.questions[key].type == "number" and type(now_value) is int
               and all(o.op == "increment" and type(o.value) is int for o in tail))
    if counted:  # the count then was the count now less what was added since (ints: exact)
        before = now_value - sum(o.value for o in tail)
        if before != 0:
            return before
    taken: list[profile_schema.Observation] = []
    for o in _backwards(session, shop, _stored_names(registry, key), since):
        if registry.current_key(o.question, o.schema_version) != key:
            continue
        if counted:  # 0 or None: the newest observation that applied decides
            if o.op == "set":
                taken.append(o)
                break
            if o.op == "increment" and type(o.value) in (int, float):
                return 0
            continue
        taken.append(o)
        if o.op == "set":
            break
    if not taken:
        return None
    fact = resolve_facts(taken, registry)[0].get(key)
    return fact.value if fact is not None else None


def stored_changes_since(session: Session, shop: Shop | str, since: datetime, *,
                         profile: profile_schema.Profile | None = None) -> list[profile_schema.Change]:
    """`profile_changes(session, shop, since)` without replaying the history: the profile now (the
    kept snapshot, or `profile` when the caller has read it), the observations after `since` (one
    indexed read) and, for each question they touch, only as much of its earlier history as
    decides its value at `since`. The same changes, in the same order."""
    shop = resolve_shop(session, shop)
    tail = observations_after(session, shop, since)
    if not tail:
        return []
    registry = profile_schema.load_registry()
    touched: dict[str, list[profile_schema.Observation]] = {}
    for o in tail:
        key = registry.current_key(o.question, o.schema_version)
        if key is not None and key in registry.latest.questions:
            touched.setdefault(key, []).append(o)
    if not touched:
        return []
    profile = profile if profile is not None else current_profile(session, shop)
    out = []
    for key in sorted(touched):
        now = profile.facts.get(key)
        after = now.value if now is not None else None
        before = _value_at(session, shop, registry, key, since, touched[key], after)
        if before != after:
            out.append(profile_schema.Change(key, before, after, now.source if now is not None else None,
                                             now.observed_at if now is not None else None))
    return out


@dataclass(frozen=True)
class CallScreenView:
    """What the consultant's call screen shows of a shop's history: the profile (kept snapshot),
    the highest observation id (the form's version), how many observations there are, and the
    newest ones for the timeline (newest first). Read in a number of statements and rows that
    does not grow with the history."""

    profile: profile_schema.Profile
    version: int
    total: int
    newest: list[profile_schema.Observation]


def call_screen_view(session: Session, shop: Shop | str, *, timeline: int = 50) -> CallScreenView:
    """Read the call screen's `CallScreenView`: the profile from the kept snapshot (folded only when
    there is none), the count and highest id in one aggregate, and the `timeline` newest rows."""
    shop = resolve_shop(session, shop)
    # the version first: a change committed between the reads then shows as newer than the page's
    # version (a 409 that lists it on saving), never as seen when it was not
    total, version = observation_extent(session, shop)
    profile = current_profile(session, shop)
    return CallScreenView(profile, version, total, newest_observations(session, shop, timeline) if total else [])
