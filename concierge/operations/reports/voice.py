"""Voice of the merchant: the help topics merchants name most, by market and stage, with their
trend, and a few of their own words.

Which questions: the schema decides (`profile_schema`, the schema is data). The topic
questions are the multi-choice questions of the ``needs`` facet (today `needs.help_with`,
"Wants help with"), the free-text ones its text questions (today `needs.main_goal`, "Main
goal, in their words"). Topic and question labels come from the schema in the reader's
language, stage and market names from `renderers.labels`.

How: the topic counts ("shops naming it", "shops that answered", by market and by stage) are
read from the `shop_state` read model in one scan: its `help_topics` column holds the topics of
each shop's folded profile (`HELP_TOPICS_QUESTION`), grouped in SQL by market, stage and that
string (few distinct combinations) and split in Python. So they follow the folded profile, as
the shop list and its drill-downs do: every answer and every add/remove of a topic counts, also
one dated after the report's moment, and a shop "answered" when its profile names at least one
topic. The trend and the examples read the `observation` table, limited to what they need: the
trend only the answers observed in the last 2 x TREND_DAYS days (each shop's latest full answer,
op ``set``, in each period, picked with a window function over those rows only), the examples
only the most recent answers per market and text question (newest first, with a LIMIT, along
the observation (question, time) index; each shop's first answer met in that order is its
latest one, the older ones are skipped in Python). Answers
recorded under an older schema version are read under today's keys and choices
(`SchemaRegistry.upgrade_value`). No profile is folded, nothing is written.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, select
from sqlalchemy.orm import Session

import locales
import profile_schema
from locales.text import strip_controls, truncate
from renderers.labels import label

from ...i18n import translations
from ...models import Observation, ShopState
from ...reporting import Column, Report, Table
from ...stats import newcombe
from ..shop_state import HELP_TOPICS_QUESTION
from . import report_title, sql

UTC = timezone.utc
#: The schema facet whose multi-choice questions are help topics and whose text questions are examples.
FACET = "needs"
#: The trend compares the answers of the last TREND_DAYS days with those of the TREND_DAYS before.
TREND_DAYS = 30
#: Fewer shops than this answered: the row is greyed (its shares too noisy to read).
SMALL = 20
#: Example answers per market and question, the length they are cut to, and how many of the
#: most recent answers are looked at to find them (answers with contact details are skipped).
EXAMPLES = 3
MAX_CHARS = 200
_CANDIDATES = 25
#: How many of a market's most recent text answers (all text questions) the examples are looked for in.
_RECENT_ANSWERS = 200

_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"']{2,}")
_URL = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+")
_NUMBERISH = re.compile(r"\+?\d[\d\s().\-/]*\d")
PHONE_DIGITS = 7  # a run of this many digits (spaces, dashes, dots and brackets between) reads as a phone number


def looks_like_contact(text: str) -> bool:
    """True when the text seems to hold contact details: an e-mail, a web address or a phone number."""
    if _EMAIL.search(text) or _URL.search(text):
        return True
    return any(sum(ch.isdigit() for ch in m.group(0)) >= PHONE_DIGITS for m in _NUMBERISH.finditer(text))


def example_text(value: Any) -> str | None:
    """A free-text answer fit to quote: controls dropped, whitespace folded, at most MAX_CHARS
    characters; None when it is empty or holds contact details."""
    if not isinstance(value, str):
        return None
    text = " ".join(strip_controls(value).split())
    if not text or looks_like_contact(text):
        return None
    return truncate(text, MAX_CHARS)


def topic_questions(schema: profile_schema.Schema) -> list[profile_schema.Question]:
    """The questions whose choices are help topics: the multi-choice questions of the needs facet."""
    return [q for q in schema.by_facet(FACET) if q.type == "multi_choice"]


def text_questions(schema: profile_schema.Schema) -> list[profile_schema.Question]:
    """The questions merchants answer in their own words: the text questions of the needs facet."""
    return [q for q in schema.by_facet(FACET) if q.type == "text"]


def _recorded_as(registry: profile_schema.SchemaRegistry, keys: Iterable[str]) -> dict[tuple[int, str], str]:
    """{(schema version, key an answer was recorded under): today's key} for these questions."""
    wanted = set(keys)
    out = {}
    for version, schema in registry.versions.items():
        for key in schema.questions:
            current = registry.current_key(key, version)
            if current in wanted:
                out[(version, key)] = current
    return out


def _question_expr(names: dict[tuple[int, str], str]) -> tuple[Any, Any]:
    """(the SQL condition picking answers to these questions, today's key of the answer's question)."""
    o = Observation
    recorded = sorted({k for _v, k in names})
    condition = o.question.in_(recorded)
    if all(k.startswith(f"{FACET}.") for k in recorded):
        # says what the partial index `ix_observation_needs_answers` holds, so PostgreSQL can use it
        condition = and_(condition, o.question.like(f"{FACET}.%"))
    if all(k == current for (_v, k), current in names.items()):
        return condition, o.question
    key = case(*[(and_(o.schema_version == v, o.question == k), current) for (v, k), current in names.items()],
               else_=o.question)
    return condition, key


def _latest(names: dict[tuple[int, str], str], market: str | None, *, start: datetime | None, end: datetime,
            split: datetime | None = None) -> Any:
    """Each shop's latest answer (op ``set``) to each question, observed in (start, end]; with
    ``split``, the latest in each of (start, split] and (split, end] ("earlier", "recent")."""
    o = Observation
    condition, key = _question_expr(names)
    where = [condition, o.op == "set", o.observed_at <= end]
    if start is not None:
        where.append(o.observed_at > start)
    if market:
        where.append(o.shop_id.in_(select(ShopState.shop_id).where(ShopState.market == market)))
    part = [o.shop_id, key]
    cols = [o.shop_id.label("shop_id"), key.label("question"), o.schema_version.label("version"),
            o.observed_at.label("observed_at")]
    if split is not None:
        period = case((o.observed_at > split, "recent"), else_="earlier")
        part.append(period)
        cols.append(period.label("period"))
    return (select(*cols, o.value.label("value"), cast(o.value, Text).label("text"),
                   func.row_number().over(partition_by=part, order_by=(o.observed_at.desc(), o.id.desc())).label("n"))
            .where(*where).subquery())


def _choices(registry: profile_schema.SchemaRegistry, question: str, version: int, text: str | None) -> set[str] | None:
    """The choice keys (today's) of a stored multi-choice value; None when it is not a list."""
    try:
        value = json.loads(text) if text is not None else None
    except ValueError:
        return None
    value = registry.upgrade_value(question, value, int(version or registry.latest.version))
    if not isinstance(value, list):
        return None
    return {v for v in value if isinstance(v, str)}


def _count_topics(session: Session, registry: profile_schema.SchemaRegistry, names: dict[tuple[int, str], str],
                  market: str | None, now: datetime) -> tuple[dict, dict]:
    """Shops counted per (market, question) and per (stage, question):
    ({group: answered}, {(group, topic): shops naming it}) for both, keyed ("market", m, q) / ("stage", s, q).
    `HELP_TOPICS_QUESTION` is read from `shop_state.help_topics` (the folded profile); any other topic
    question from each shop's latest answer up to ``now``."""
    answered: dict[tuple, int] = defaultdict(int)
    named: dict[tuple, int] = defaultdict(int)

    def add(shop_market: str | None, stage: str | None, question: str, topics: Iterable[str], n: int) -> None:
        for group in (("market", shop_market, question), ("market", None, question), ("stage", stage, question)):
            answered[group] += n
            for t in topics:
                named[(group, t)] += n

    if HELP_TOPICS_QUESTION in names.values():
        where = [ShopState.help_topics != ""]
        if market:
            where.append(ShopState.market == market)
        for shop_market, stage, key, n in session.execute(
                select(ShopState.market, ShopState.stage, ShopState.help_topics, func.count())
                .where(*where).group_by(ShopState.market, ShopState.stage, ShopState.help_topics)):
            topics = {t for t in (key or "").split("|") if t}
            if topics:
                add(shop_market, stage, HELP_TOPICS_QUESTION, topics, n)
    others = {k: q for k, q in names.items() if q != HELP_TOPICS_QUESTION}
    if not others:
        return answered, named
    latest = _latest(others, market, start=None, end=now)
    rows = session.execute(
        select(ShopState.market, ShopState.stage, latest.c.question, latest.c.version, latest.c.text, func.count())
        .join(ShopState, ShopState.shop_id == latest.c.shop_id)
        .where(latest.c.n == 1)
        .group_by(ShopState.market, ShopState.stage, latest.c.question, latest.c.version, latest.c.text)).all()
    wanted = set(others.values())
    for shop_market, stage, question, version, text, n in rows:
        topics = _choices(registry, question, version, text) if question in wanted else None
        if topics is not None:
            add(shop_market, stage, question, topics, n)
    return answered, named


def _count_periods(session: Session, registry: profile_schema.SchemaRegistry, names: dict[tuple[int, str], str],
                   market: str | None, now: datetime) -> tuple[dict, dict]:
    """The same per market for the two trend periods: keys (period, market or None, question)."""
    split = now - timedelta(days=TREND_DAYS)
    latest = _latest(names, market, start=now - timedelta(days=2 * TREND_DAYS), end=now, split=split)
    rows = session.execute(
        select(ShopState.market, latest.c.period, latest.c.question, latest.c.version, latest.c.text, func.count())
        .join(ShopState, ShopState.shop_id == latest.c.shop_id)
        .where(latest.c.n == 1)
        .group_by(ShopState.market, latest.c.period, latest.c.question, latest.c.version, latest.c.text)).all()
    answered: dict[tuple, int] = defaultdict(int)
    named: dict[tuple, int] = defaultdict(int)
    for shop_market, period, question, version, text, n in rows:
        topics = _choices(registry, question, version, text)
        if question not in names.values() or topics is None:
            continue
        for group in ((period, shop_market, question), (period, None, question)):
            answered[group] += n
            for t in topics:
                named[(group, t)] += n
    return answered, named


def _drill(question: str, topic: str, **filters: Any) -> dict[str, Any] | None:
    """The shops that named the topic (the shop list filters `shop_state.help_topics`, the answers to
    `HELP_TOPICS_QUESTION`); None for a question the list cannot filter by."""
    if question != HELP_TOPICS_QUESTION:
        return None
    return sql.drill(topic=topic, **filters)


def _share(k: int, n: int) -> float | None:
    return k / n if n else None


def _examples(session: Session, names: dict[tuple[int, str], str], market: str | None,
              now: datetime) -> list[tuple]:
    """Per market and question, the most recent latest answers, a few more than shown (some are
    skipped): the _RECENT_ANSWERS most recent answers up to ``now`` of each market to each text
    question (one short query each, read backwards along the (question, time) index), newest
    first; a shop's first answer in that order is its latest, its older ones are dropped."""
    o = Observation
    condition, key = _question_expr(names)
    rows: list[Any] = []
    for m in ((market,) if market else tuple(locales.MARKET_CODES)):
        for current in sorted(set(names.values())):
            recorded = sorted({k for (_v, k), c in names.items() if c == current})
            rows += session.execute(
                select(ShopState.market, o.shop_id, ShopState.stage, key, o.value, o.observed_at)
                .join(ShopState, ShopState.shop_id == o.shop_id)
                .where(condition, o.question.in_(recorded), key == current, o.op == "set", o.observed_at <= now,
                       ShopState.market == m)
                .order_by(o.observed_at.desc(), o.shop_id.desc(), o.id.desc()).limit(_RECENT_ANSWERS)).all()
    out: list[tuple] = []
    seen: set[tuple[int, str]] = set()
    candidates: dict[tuple[str, str], int] = defaultdict(int)
    for m, shop_id, stage, question, value, observed_at in rows:
        if (shop_id, question) in seen:
            continue
        seen.add((shop_id, question))
        if candidates[(m, question)] < _CANDIDATES:
            candidates[(m, question)] += 1
            out.append((m, stage, question, value, observed_at))
    return out


def build(session: Session, *, lang: str, market: str | None, now: datetime, **params: Any) -> Report:
    """The voice of the merchant in the reader's language, for one market or all."""
    _ = translations(lang).gettext
    now = now.astimezone(UTC)
    registry = profile_schema.load_registry()
    schema = registry.latest
    markets = (market,) if market else tuple(locales.MARKET_CODES)
    topic_qs = topic_questions(schema)
    text_qs = text_questions(schema)
    topic_names = _recorded_as(registry, [q.key for q in topic_qs])
    text_names = _recorded_as(registry, [q.key for q in text_qs])

    if topic_names:
        answered, named = _count_topics(session, registry, topic_names, market, now)
        p_answered, p_named = _count_periods(session, registry, topic_names, market, now)
    else:
        answered, named, p_answered, p_named = {}, {}, {}, {}

    # ------------------------------------------------------------------ by market
    market_rows: list[dict[str, Any]] = []
    groups = [*markets, *([None] if market is None else [])]
    for m in groups:
        for q in topic_qs:
            n = answered.get(("market", m, q.key), 0)
            rn, en = p_answered.get(("recent", m, q.key), 0), p_answered.get(("earlier", m, q.key), 0)
            block = []
            for choice in q.choices_for(m):
                k = named.get((("market", m, q.key), choice.key), 0)
                rk = p_named.get((("recent", m, q.key), choice.key), 0)
                ek = p_named.get((("earlier", m, q.key), choice.key), 0)
                trend = newcombe(rk, rn, ek, en)
                block.append({
                    "market": label("markets", m, lang) if m else _("All markets"),
                    "question": q.label(lang), "topic": choice.label(lang),
                    "shops": k, "answered": n, "share": _share(k, n),
                    "recent_answers": rn, "recent_share": _share(rk, rn),
                    "earlier_answers": en, "earlier_share": _share(ek, en),
                    "trend": trend.estimate, "trend_low": trend.low, "trend_high": trend.high,
                    "_muted": n < SMALL, "_topic": choice.key, "_market": m, "_question": q.key,
                    "_drill": _drill(q.key, choice.key, market=m or market),
                })
            market_rows += sorted(block, key=lambda r: (-r["shops"], r["topic"]))
    by_market = Table(
        key="topics", title=_("Topics merchants ask for help with"),
        definition=_("The topics in each shop's profile today (its latest answers, from a survey, a call or an "
                     "import), by the shop's market. Share: the shops naming the topic, of the shops that "
                     "answered (naming at least one topic). Trend: the share among the "
                     "answers given in the last %(days)s days minus the share among the answers given in the "
                     "%(days)s days before (each shop's latest answer in each period), with its 95%% interval. "
                     "Rows with fewer than %(small)s answers are greyed.") % {"days": TREND_DAYS, "small": SMALL},
        columns=[Column("market", _("Market")), Column("question", _("Question")), Column("topic", _("Topic")),
                 Column("shops", _("Shops naming it"), "int"), Column("answered", _("Shops that answered"), "int"),
                 Column("share", _("Share"), "rate"),
                 Column("recent_answers", _("Answers, last %(days)s days") % {"days": TREND_DAYS}, "int"),
                 Column("recent_share", _("Share, last %(days)s days") % {"days": TREND_DAYS}, "rate"),
                 Column("earlier_answers", _("Answers, %(days)s days before") % {"days": TREND_DAYS}, "int"),
                 Column("earlier_share", _("Share, %(days)s days before") % {"days": TREND_DAYS}, "rate"),
                 Column("trend", _("Trend"), "rate"), Column("trend_low", _("Trend, low"), "rate"),
                 Column("trend_high", _("Trend, high"), "rate")],
        rows=market_rows,
        plot={"kind": "bars", "x": "topic", "y": "share", "format": "percent"},
        notes=[])

    # ------------------------------------------------------------------ by stage
    stage_order = {s: i for i, s in enumerate(schema.stages)}
    stages = sorted({g[1] for g in answered if g[0] == "stage"},
                    key=lambda s: (s is None, stage_order.get(s, len(stage_order)), s or ""))
    stage_rows: list[dict[str, Any]] = []
    for s in stages:
        for q in topic_qs:
            n = answered.get(("stage", s, q.key), 0)
            if not n:
                continue
            block = []
            for choice in q.choices_for(market):
                k = named.get((("stage", s, q.key), choice.key), 0)
                row = {"stage": label("stages", s, lang) if s else _("No stage yet"), "question": q.label(lang),
                       "topic": choice.label(lang), "shops": k, "answered": n, "share": _share(k, n),
                       "_muted": n < SMALL, "_topic": choice.key, "_stage": s, "_question": q.key}
                if s:
                    row["_drill"] = _drill(q.key, choice.key, market=market, stage=s)
                block.append(row)
            stage_rows += sorted(block, key=lambda r: (-r["shops"], r["topic"]))
    by_stage = Table(
        key="stages", title=_("Topics by stage"),
        definition=_("The same profiles by the shop's readiness stage today. Share: the shops naming the "
                     "topic, of the shops in that stage that answered. Rows with fewer than %(small)s answers are "
                     "greyed.") % {"small": SMALL},
        columns=[Column("stage", _("Stage")), Column("question", _("Question")), Column("topic", _("Topic")),
                 Column("shops", _("Shops naming it"), "int"), Column("answered", _("Shops that answered"), "int"),
                 Column("share", _("Share"), "rate")],
        rows=stage_rows,
        notes=[])

    # ------------------------------------------------------------------ in their own words
    example_rows: list[dict[str, Any]] = []
    if text_names:
        shown: dict[tuple[str, str], set[str]] = defaultdict(set)
        questions = {q.key: q for q in text_qs}
        for shop_market, stage, question, value, observed_at in _examples(session, text_names, market, now):
            q = questions.get(question)
            seen = shown[(shop_market, question)]
            if q is None or len(seen) >= EXAMPLES:
                continue
            text = example_text(value)
            if text is None or text.casefold() in seen:
                continue  # contact details, or the same words as an example already shown
            seen.add(text.casefold())
            example_rows.append({"market": label("markets", shop_market, lang), "question": q.label(lang),
                                 "answer": text, "stage": label("stages", stage, lang) if stage else _("No stage yet"),
                                 "answered_on": observed_at.astimezone(UTC).date(), "_market": shop_market,
                                 "_question": question})
        order = {m: i for i, m in enumerate(locales.MARKET_CODES)}
        # markets in their usual order; within one, the SQL's order (most recent first) is kept
        example_rows.sort(key=lambda r: (order.get(r["_market"], len(order)), r["_question"]))
    examples = Table(
        key="examples", title=_("In their own words"),
        definition=_("The most recent answers merchants gave in their own words, at most %(n)s per market and "
                     "question (each shop's latest answer; the same words are shown once), shortened to %(chars)s "
                     "characters. Answers that seem to hold a phone number, an e-mail or a web address are left "
                     "out.")
        % {"n": EXAMPLES, "chars": MAX_CHARS},
        columns=[Column("market", _("Market")), Column("question", _("Question")), Column("answer", _("Answer")),
                 Column("stage", _("Stage")), Column("answered_on", _("Answered on"), "date")],
        rows=example_rows)

    return Report(key="voice", title=report_title("voice", lang), tables=[by_market, by_stage, examples],
                  params={"trend_days": TREND_DAYS})
