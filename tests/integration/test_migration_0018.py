"""Migration 0018 gives survey links written before it their best-known started and finished moments."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from concierge.models import SurveyLink
from tests.support import migrate_across


def test_0018_fills_started_and_finished_from_what_the_links_stored(db_url):
    utc = timezone.utc
    t0 = datetime(2026, 10, 1, 9, 0, tzinfo=utc)
    cases = [  # draft_saved_at, submitted_at -> started_at, finished_at
        (None, None, None, None),                                   # only opened: not started
        (t0, None, t0, None),                                       # a draft, never sent
        (None, t0, t0, t0),                                         # sent at once
        (t0 + timedelta(hours=2), t0, t0, t0),                      # sent, then a newer draft
        (t0, t0 + timedelta(hours=1), t0, t0 + timedelta(hours=1)),  # a draft, then sent
    ]

    def write(conn, stamp):
        conn.execute(text("INSERT INTO shop (id, platform_id, market, created_at, holdout) "
                          "VALUES (1, 'pl-1', 'PL', :c, false)"), {"c": stamp(t0)})
        for i, (draft, sent, _s, _f) in enumerate(cases, start=1):
            conn.execute(text("INSERT INTO survey_link (id, shop_id, nonce, created_by, created_at, expires_at, "
                              "draft_saved_at, submitted_at) VALUES (:i, 1, 'n', 'anna', :c, :e, :d, :s)"),
                         {"i": i, "c": stamp(t0 - timedelta(days=1)), "e": stamp(t0 + timedelta(days=13)),
                          "d": stamp(draft), "s": stamp(sent)})

    got = migrate_across(db_url, "0017", write,
                         lambda s: {r.id: (r.started_at, r.finished_at) for r in s.query(SurveyLink)})
    assert got == {i: (c[2], c[3]) for i, c in enumerate(cases, start=1)}
