"""The kept profile snapshot (profile_snapshot) on real SQLite and PostgreSQL: for every demo shop it is
exactly the fold of all its observations and the changes since its last reached call; the shop page,
the API's profile and the picture read it in statements and rows that do not grow with the shop's
history; the page it gives is the page the fold gives; a stale or missing snapshot is folded instead."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

import profile_schema
from concierge.demo.generator import generate
from concierge.demo.loader import load_population
from concierge.models import Call, ProfileSnapshot, Shop
from concierge.operations import profiles
from concierge.operations.observations import add_observations_bulk, record_answers
from concierge.operations.profiles import current_profile, shop_observations, shop_view
from concierge.operations.shop_state import (
    rebuild_states,
    refresh_states,
    snapshot_rows,
)
from concierge.operations.shops import ensure_shop
from tests.support import count_reads, init_twice_without, make_user, post_login

TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def _folded(session, shop: Shop):
    observations = shop_observations(session, shop)
    last = session.scalar(select(func.max(Call.called_at)).where(Call.shop_id == shop.id, Call.reached.is_(True)))
    profile = profile_schema.fold(observations, shop=shop.platform_id, market=shop.market)
    return profile, last, profile_schema.changes_since(observations, since=last) if last is not None else []


def test_every_demo_shops_snapshot_is_the_fold_of_all_its_observations(database):
    with database.session() as s:
        load_population(s, generate(60, seed=5, today=TODAY), now=NOW)
        shops = s.scalars(select(Shop).order_by(Shop.id)).all()
        # a consultant's answers disagreeing with the survey's, after the last call: conflicts and changes
        for shop in shops[:8]:
            record_answers(s, shop, {"owner.hours_per_week": "37", "business.type": "reseller"},
                           actor="ola@example.com", now=NOW + timedelta(days=1), source="call")
    with database.session() as s:
        shops = s.scalars(select(Shop).order_by(Shop.id)).all()
        assert s.scalar(select(func.count()).select_from(ProfileSnapshot)) == len(shops) == 60
        with_changes = with_conflicts = 0
        for shop in shops:
            view = shop_view(s, shop)
            profile, last, changes = _folded(s, shop)
            assert view.from_snapshot
            assert view.profile == profile and view.profile.as_dict() == profile.as_dict()
            assert (view.last_call, view.changes) == (last, changes)
            assert current_profile(s, shop) == profile
            with_changes += bool(changes)
            with_conflicts += bool(profile.conflicts)
        assert with_changes >= 8 and with_conflicts >= 1  # the property was tested on something


def test_a_rebuild_gives_the_live_snapshots_back(database):
    with database.session() as s:
        load_population(s, generate(20, seed=9, today=TODAY), now=NOW)
        ids = s.scalars(select(Shop.id)).all()
        live = {r["shop_id"]: {k: v for k, v in r.items() if k != "updated_at"}
                for r in s.execute(select(ProfileSnapshot.__table__)).mappings()}
        computed = {r["shop_id"]: {k: v for k, v in r.items() if k != "updated_at"} for r in snapshot_rows(s, ids)}
        assert live == computed and len(live) == 20
        s.execute(update(ProfileSnapshot).values(body="{}", observations=-1))
        s.execute(delete(ProfileSnapshot).where(ProfileSnapshot.shop_id == min(ids)))
        assert rebuild_states(s) == 20
        again = {r["shop_id"]: {k: v for k, v in r.items() if k != "updated_at"}
                 for r in s.execute(select(ProfileSnapshot.__table__)).mappings()}
        assert again == live


def test_a_missing_or_stale_snapshot_is_folded_instead(database):
    with database.session() as s:
        shop = ensure_shop(s, "pl-stale-1", "PL", name="Sklep")
        record_answers(s, shop, {"owner.hours_per_week": "10"}, actor="survey", source="survey",
                       now=NOW - timedelta(days=2))
        s.execute(insert(Call), [{"shop_id": shop.id, "actor": "ola@example.com", "called_at": NOW - timedelta(days=1),
                                  "reached": True}])
        refresh_states(s, [shop.id], now=NOW)
        record_answers(s, shop, {"owner.hours_per_week": "20"}, actor="ola@example.com", now=NOW)
        assert shop_view(s, shop).from_snapshot
        assert [(c.key, c.before, c.after) for c in shop_view(s, shop).changes] == [("owner.hours_per_week", 10, 20)]
        # a reached call logged without the refresh: the snapshot counts changes from another moment
        s.execute(insert(Call), [{"shop_id": shop.id, "actor": "ola@example.com", "called_at": NOW + timedelta(hours=1),
                                  "reached": True}])
        view = shop_view(s, shop)
        assert not view.from_snapshot and view.changes == [] and view.last_call == NOW + timedelta(hours=1)
        s.execute(delete(ProfileSnapshot))  # none at all (a database from before migration 0015)
        view = shop_view(s, shop)
        assert not view.from_snapshot and view.profile.value("owner.hours_per_week") == 20
        assert current_profile(s, shop).value("owner.hours_per_week") == 20


# ---------------------------------------------------------------------------- the pages


def _login(app, client) -> None:
    make_user(app, "ola@example.com", name="Ola")
    assert post_login(client, "ola@example.com").status_code == 302


def _seed_shop(session, platform_id: str, events: int) -> Shop:
    """A shop with a survey, a reached call, answers after it and `events` trial observations around it."""
    shop = ensure_shop(session, platform_id, "PL", name=f"Sklep {platform_id}")
    start = NOW - timedelta(days=10)
    record_answers(session, shop, {"owner.hours_per_week": "10", "business.type": "handmade"}, actor="merchant",
                   source="survey", now=start, rescore=False)
    session.execute(insert(Call), [{"shop_id": shop.id, "actor": "ola@example.com", "reached": True,
                                    "called_at": start + timedelta(days=5)}])
    rows = []
    for i in range(events):
        at = start + timedelta(minutes=3 * i)
        if i % 3 == 0:
            rows.append({"question": "trial.product_count", "value": 1, "op": "increment"})
        elif i % 3 == 1:
            rows.append({"question": "features.payments", "value": ["payu"] if i % 2 else ["przelewy24"], "op": "add"})
        else:
            rows.append({"question": "readiness.products_added", "value": True, "op": "set"})
        rows[-1].update({"shop_id": shop.id, "source": "trial", "actor": "platform", "observed_at": at,
                         "recorded_at": NOW, "schema_version": 1, "submission_id": None, "event_id": None})
    add_observations_bulk(session, rows)
    record_answers(session, shop, {"owner.hours_per_week": "30"}, actor="ola@example.com", source="call",
                   now=start + timedelta(days=6), rescore=False)
    refresh_states(session, [shop.id], now=NOW)
    return shop


def test_the_shop_page_api_and_picture_read_as_much_for_10_as_for_2000_observations(app, client, monkeypatch):
    from concierge.operations.tokens import create_token

    _login(app, client)
    db = app.extensions["concierge.db"]
    with db.session() as s:
        few = _seed_shop(s, "pl-few-1", 8).platform_id
        many = _seed_shop(s, "pl-many-1", 2000).platform_id
        _row, token = create_token(s, "snapshot-test")
        counts = dict(s.execute(select(Shop.platform_id, ProfileSnapshot.observations)
                                .join(ProfileSnapshot, ProfileSnapshot.shop_id == Shop.id)).all())
    assert counts[few] == 11 and counts[many] == 2003
    auth = {"Authorization": f"Bearer {token}"}

    def no_replay(*_a, **_k):
        raise AssertionError("the page replayed the shop's observations")

    def measure(path: str, headers=None) -> tuple[int, int, bytes]:
        client.get(path, headers=headers)  # warm: the app's per-process caches
        monkeypatch.setattr(profiles, "shop_observations", no_replay)
        monkeypatch.setattr(profile_schema, "fold", no_replay)
        try:
            statements, rows, resp = count_reads(db.engine, lambda: client.get(path, headers=headers))
        finally:
            monkeypatch.undo()
        assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
        return statements, rows, resp.data

    for template in ("/shops/{}", "/api/v1/shops/{}", "/shops/{}/picture.svg"):
        headers = auth if template.startswith("/api") else None
        n_few, rows_few, body_few = measure(template.format(few), headers)
        n_many, rows_many, body_many = measure(template.format(many), headers)
        assert n_many == n_few, template
        assert rows_many == rows_few <= 20, template
        assert body_few != body_many
    page = measure(f"/shops/{many}")[2].decode()
    assert "2003" not in page  # nothing on the page counts its history
    assert re.search(r"<del>10[^<]*</del>\s*→\s*<ins>30[^<]*</ins>", page)  # the change since the call, from the snapshot


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"|value="[^"]*"[^>]*name="csrf_token"', "csrf", html)


def test_the_page_from_the_snapshot_is_the_page_from_the_fold(app, client):
    _login(app, client)
    db = app.extensions["concierge.db"]
    with db.session() as s:
        shop = _seed_shop(s, "pl-same-1", 300)
        record_answers(s, shop, {"owner.hours_per_week": "35"}, actor="merchant", source="survey",
                       now=NOW - timedelta(days=1), rescore=False)
        refresh_states(s, [shop.id], now=NOW)
        pid, sid = shop.platform_id, shop.id
    paths = [f"/shops/{pid}", f"/shops/{pid}/picture.svg", f"/shops/{pid}/picture.svg?layout=narrow"]
    kept = [_without_tokens(client.get(p).get_data(as_text=True)) for p in paths]
    with db.session() as s:
        s.execute(delete(ProfileSnapshot).where(ProfileSnapshot.shop_id == sid))
    folded = [_without_tokens(client.get(p).get_data(as_text=True)) for p in paths]
    assert kept == folded
    assert 'id="conflicts-h"' in kept[0] and 'id="changes-h"' in kept[0]


def test_init_writes_the_snapshots_a_database_from_before_0015_lacks(db_url):
    # the shop list's rows stay: only the snapshots are missing
    first, snapshots, again = init_twice_without(db_url, ProfileSnapshot)
    assert first.exit_code == 0 and "3 shops" in first.output
    assert snapshots == 3
    assert "Rebuilt" not in again.output


def test_the_answer_form_from_the_cache_is_the_form_rendered_afresh(app, client):
    """The answer form's fields are rendered once per language, market and skip pattern: each page
    that reads them from the cache is the page rendered afresh, and a shop whose answers rule a
    question out gets its own fields, not another shop's."""
    from concierge.web import views

    _login(app, client)
    with app.extensions["concierge.db"].session() as s:
        plain = ensure_shop(s, "pl-form-1", "PL", name="Sklep").platform_id
        skipping = ensure_shop(s, "pl-form-2", "PL", name="Sklep").platform_id
        record_answers(s, skipping, {"experience.sold_online_before": "no", "business.sells_on_marketplace": "no"},
                       actor="merchant", source="survey", now=NOW)  # rules out the platforms and marketplaces
        turkish = ensure_shop(s, "tr-form-1", "TR", name="Dükkan").platform_id

    def page(pid: str) -> str:
        return _without_tokens(client.get(f"/shops/{pid}").get_data(as_text=True))

    afresh = {}
    for pid in (plain, skipping, turkish):
        views._FRESH_FIELDS.clear()
        afresh[pid] = page(pid)
        assert len(views._FRESH_FIELDS) == 1
    assert afresh[skipping].count('class="hint off"') > afresh[plain].count('class="hint off"')  # ruled out
    views._FRESH_FIELDS.clear()
    for pid in (plain, skipping, turkish, plain, skipping, turkish):
        assert page(pid) == afresh[pid]
    assert len(views._FRESH_FIELDS) == 3
