"""Scoring operations: train, score, evaluate. Add to the session and flush; never commit."""
from __future__ import annotations

import functools
import logging
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import profile_schema
import yaml
from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ...errors import ConciergeError, NotFound
from ...i18n import translations
from ...messages import Note
from ...models import DemoTruth, ModelVersion, Score, Shop
from ...scoring.features import DEFAULT_AGES, DEFAULT_SNAPSHOT_DAY, FeatureSpace, snapshot_time
from ...scoring.metrics import bootstrap, probability_metrics, qini_coefficient, ece
from ...scoring.model import Bundle, DeliberatingScorer, Scorer
from ...scoring.outcome import days_left, decision_window, deliberating
from ...scoring.reasons import LANGUAGES, localized
from ...scoring import reasons as R
from ...scoring.train import NotEnoughData, out_of_time_split, row_age, train, train_deliberating, trial_groups
from .latest import latest_score  # noqa: F401 (its home is latest; callers of service keep it)
from ..shops import resolve_shop
from . import store
from .data import data_clock, deliberating_trials, finished_trials, recorded_clock, snapshots_and_done


log = logging.getLogger(__name__)
DEFAULT_LANGUAGE = "en"


class TrainingFailed(ConciergeError):
    status = 422
    code = "training_failed"


def read_schema_file(path: str | Path) -> tuple[profile_schema.Schema, str]:
    """A schema file given by the user: checked, and its text kept with the model."""
    text = Path(path).read_text(encoding="utf-8")
    return profile_schema.load_schema_file(path), text


@functools.lru_cache(maxsize=8)
def _schema_from_text(text: str) -> profile_schema.Schema:
    return profile_schema.parse_schema(yaml.safe_load(text))


def bundle_schema(bundle: Bundle) -> profile_schema.Schema | None:
    return _schema_from_text(bundle.schema_yaml) if bundle.schema_yaml else None


def train_model(session: Session, *, snapshot_day: int = DEFAULT_SNAPSHOT_DAY, schema_file: str | None = None,
                random_state: int = 0, activate: bool = True, now: datetime | None = None,
                strict: bool = False, ages: Iterable[int] | None = DEFAULT_AGES) -> ModelVersion:
    """Learn from the finished trials in the database and store a new (active) version, so scores stay current.

    Before training, every question of the snapshots is checked for probable leakage
    (`leakage.check_snapshots`): the card's `leakage` lists the flagged ones and training
    goes on, unless `strict`, which refuses (TrainingFailed, nothing stored). The card's
    `source` names the imported files the history came from (`importer.training_source`).

    Every finished trial is snapshotted at each of `ages` (days since its start; the
    snapshot day is always one of them) with the age as a feature, so an open trial is
    scored at its own age; `ages=None` or `[snapshot_day]` trains on the snapshot day alone."""
    now = now or datetime.now(timezone.utc)
    if schema_file:
        schema, text = read_schema_file(schema_file)
    else:
        schema, text = profile_schema.load_schema(), None
    as_of, recorded = data_clock(session), recorded_clock(session)
    days = sorted({int(a) for a in (ages or ())} | {int(snapshot_day)})
    loaded = finished_trials(session, snapshot_day=snapshot_day, schema=schema if text else None, as_of=as_of,
                             ages=days)
    from .importer import training_source
    from ...scoring.leakage import check_snapshots

    space = FeatureSpace.from_schema(schema)
    # leakage is judged once per trial, on its snapshot-day row (as with one snapshot day)
    leak = check_snapshots([r for r in loaded.rows if row_age(r, snapshot_day) == snapshot_day], space)
    if strict and leak["flagged"]:
        raise TrainingFailed("probable leakage, not trained (--strict): " + ", ".join(
            f"{f['question']} (AUC {f['auc']})" for f in leak["flagged"]))
    version = store.new_version_name(now)
    try:
        bundle, card = train(loaded.rows, space, snapshot_day=snapshot_day, ages=days,
                             random_state=random_state, version=version, schema_yaml=text, now=now)
    except NotEnoughData as exc:
        raise TrainingFailed(f"{exc} (skipped: {loaded.skipped})") from None
    card["rows"]["skipped"] = loaded.skipped
    # the deliberating part: trials that ended without a purchase, frozen at their end, on the
    # same sealed split (a trial in the main model's test split is a test row here too)
    delib = deliberating_trials(session, schema=schema if text else None, as_of=as_of)
    bundle.deliberating, card["deliberating"] = train_deliberating(
        delib.rows, space, test_trials=card["split"]["test_trial_ids"], random_state=random_state)
    card["deliberating"]["skipped"] = delib.skipped
    card["split"]["data_clock"] = as_of.isoformat()
    card["split"]["recorded_clock"] = recorded.isoformat() if recorded else None
    card["schema"] = {"file": str(schema_file) if schema_file else None, "version": schema.version}
    card["leakage"] = leak
    card["source"] = training_source(session, list(dict.fromkeys(r.snapshot.shop for r in loaded.rows)))
    return store.save_version(session, bundle, card, version=version, activate=activate)


def _scorer(session: Session, lang: str | None = "en") -> tuple[store.ActiveModel, Bundle, Scorer]:
    active = store.active_model(session, lang=lang)
    return active, active.bundle, Scorer(active.bundle)


def score_shops(session: Session, shops: list[Shop], *, lang: str = "en", reasons: bool = True,
                now: datetime | None = None) -> list[dict[str, Any]]:
    """Score shops with the active model and store one Score row each, naming the model version.

    The row carries the reasons and path in every UI language (`details["texts"]`), so any
    reader gets them in theirs without a new score; the returned dicts are in `lang`.
    """
    now = now or datetime.now(timezone.utc)
    row, bundle, scorer = _scorer(session, lang)
    results, snaps = _results(session, shops, bundle, scorer, lang=lang, reasons=reasons, now=now)
    out, values = [], []
    for shop, snap, r in zip(shops, snaps, results):
        details = _details(r, snap, lang)
        values.append({"shop_id": shop.id, "model_version_id": row.id, "scored_at": now,
                       "probability": r.probability, "uplift": r.uplift, "details": details})
        out.append(_as_output(shop, row.version, now, r.probability, r.uplift, details, lang))
    if values:
        session.execute(insert(Score), values)
        session.flush()
        from ..shop_state import refresh_states

        refresh_states(session, [v["shop_id"] for v in values], now=now)
    return out


def is_deliberating(shop: Shop, now: datetime) -> bool:
    """The trial ended without a purchase and its market's decision window is open (`outcome.deliberating`)."""
    return deliberating(shop.market, shop.trial_ends_at, shop.outcome, shop.outcome_at, now)


def _results(session: Session, shops: list[Shop], bundle: Bundle, scorer: Scorer, *, lang: str, reasons: bool,
             now: datetime) -> tuple[list[Any], list[Any]]:
    """Score results and snapshots in the order of `shops`; each result's details name its `phase`.

    A deliberating trial (`is_deliberating`) is scored by the bundle's deliberating part on its
    snapshot at the trial end, with a line on the days left to decide in every language; every
    other shop by the trial model (phase "trial"), as is every shop when the bundle has no
    deliberating part (a model from before it).
    """
    ended = {s.id for s in shops if bundle.deliberating is not None and is_deliberating(s, now)}
    snaps, done = snapshots_and_done(session, shops, snapshot_day=bundle.snapshot_day,
                                     schema=bundle_schema(bundle), now=now, ages=bundle.snapshot_days, ended=ended)
    results: list[Any] = [None] * len(shops)
    for phase, pick, sc in (("trial", lambda s: s.id not in ended, scorer),
                            ("deliberating", lambda s: s.id in ended, None)):
        idx = [i for i, s in enumerate(shops) if pick(s)]
        if not idx:
            continue
        sc = sc or DeliberatingScorer(bundle)
        got = sc.score_many([snaps[i] for i in idx], lang=lang, reasons=reasons, languages=LANGUAGES,
                            done=[done[i] for i in idx])
        for i, r in zip(idx, got):
            r.details["phase"] = phase
            if phase == "deliberating":
                _deliberating_details(r.details, shops[i], now, lang)
            results[i] = r
    return results, snaps


def _deliberating_details(details: dict[str, Any], shop: Shop, now: datetime, lang: str) -> None:
    """The days left in the decision window and their sentence, in `lang` and in every UI language."""
    left = days_left(shop.market, shop.trial_ends_at, now)

    def words(lg: str) -> str:
        return R.text("templates", "deliberating", lg, days=R.with_unit(left, "days", lg))

    details["deliberating"] = {"trial_ended_at": shop.trial_ends_at.isoformat(), "days_left": left,
                               "window_days": decision_window(shop.market).days,
                               "method": (details.get("fallback") or {}).get("model") or "model",
                               "text": words(R.lang_of(lang))}
    for lg, t in (details.get("texts") or {}).items():
        t["deliberating"] = words(lg)


def _details(result: Any, snap: Any, lang: str) -> dict[str, Any]:
    return {**result.details, "lang": lang, "snapshot_at": snap.as_of.isoformat() if snap.as_of else None}


def _as_output(shop: Shop, version: str, scored_at: datetime, probability: float, uplift: float | None,
               details: dict[str, Any], lang: str | None) -> dict[str, Any]:
    """The `score --json` / API shape: the texts in `lang` (else as stored), never the "texts" store."""
    return {"shop": shop.platform_id, "market": shop.market, "probability": round(probability, 4),
            "uplift": None if uplift is None else round(uplift, 4), "model_version": version,
            "scored_at": scored_at.isoformat(), **localized(details, lang)}


def score_shop(session: Session, shop: Shop | str, *, lang: str = "en", now: datetime | None = None) -> dict[str, Any]:
    """Score one shop with its reasons and path to subscribe, and store it."""
    return score_shops(session, [resolve_shop(session, shop, lang=lang)], lang=lang, now=now)[0]


def score_open(session: Session, *, lang: str = "en", reasons: bool = True,
               now: datetime | None = None) -> list[dict[str, Any]]:
    """Score every open trial, ordered by the expected gain of a call (then likelihood): the call queue.

    Open: no outcome yet, or deliberating (ended without a purchase, the decision window
    open) when the active model has a deliberating part to score it; such a trial has no
    uplift (the uplift model learned calls during the trial), so it follows the trials that have.
    """
    now = now or datetime.now(timezone.utc)
    bundle = store.active_model(session, lang=lang).bundle
    shops = open_trials(session, now, deliberating_too=bundle.deliberating is not None)
    out = score_shops(session, shops, lang=lang, reasons=reasons, now=now)
    out.sort(key=lambda s: (-(s["uplift"] if s["uplift"] is not None else -1.0), -s["probability"], s["shop"]))
    return out


def open_trials(session: Session, now: datetime, *, deliberating_too: bool = True,
                ids: Iterable[int] | None = None) -> list[Shop]:
    """The trials a score is for: no outcome yet, and (`deliberating_too`) the deliberating ones.

    SQL narrows the ended trials to those without a purchase by `now` inside the longest
    decision window; the one rule (`outcome.deliberating`) decides. `ids` limits to these shops.
    """
    from sqlalchemy import and_, or_

    from locales import MARKET_CODES

    longest = max([decision_window(m) for m in MARKET_CODES] + [decision_window(None)])
    cond = Shop.outcome.is_(None)
    if deliberating_too:
        cond = or_(cond, and_(Shop.trial_ends_at.is_not(None), Shop.trial_ends_at <= now,
                              Shop.trial_ends_at > now - longest,
                              or_(Shop.outcome != "converted", Shop.outcome_at > now)))
    q = select(Shop).where(cond).order_by(Shop.id)
    if ids is None:
        chunks = [q]
    else:
        wanted = sorted({int(i) for i in ids})
        chunks = [q.where(Shop.id.in_(wanted[k:k + RESCORE_CHUNK])) for k in range(0, len(wanted), RESCORE_CHUNK)]
    out = []
    for part in chunks:
        out += [s for s in session.scalars(part) if s.outcome is None or is_deliberating(s, now)]
    return out


# ------------------------------------------------------------------ fresh scores
#
# When a shop's answers change, its score, reasons and path are made again with the active
# model in the same transaction: `record_answers` (web form, `concierge record`, survey page
# and API, survey imports unless they opt out) and the events webhook call `rescore_shops`;
# bulk paths (`ingest events`, demo loading, survey imports) leave it to the planner, which
# calls it for the shops that changed. Reading (a page, a picture, the API) never scores.

RESCORE_CHUNK = 500


def rescore_shops(session: Session, shop_ids: Iterable[int], *, now: datetime | None = None,
                  refresh: bool = True) -> int:
    """Make the score, reasons and path of these shops again with the active model, in every UI
    language, and store a row for each whose result differs from its latest stored score.

    Adds and flushes, never commits. Returns how many rows were stored. Without an active
    model, or when the model cannot be loaded (logged), nothing is stored and the shops keep
    the score they have: recording answers must never fail because of scoring. Shops whose
    trial has ended (an outcome) are scored too: their page still shows a score. The
    active model is loaded once per process (`store.active_model`); the cost per shop is
    its observations, two folds and one batched prediction. The shops given a new score get
    their `shop_state` row written again unless ``refresh`` is False (the caller does it).
    """
    ids = sorted({int(i) for i in shop_ids})
    if not ids:
        return 0
    now = now or datetime.now(timezone.utc)
    try:
        active = store.active_model(session)
    except NotFound:
        return 0
    except SQLAlchemyError:
        raise
    except Exception:  # noqa: BLE001 - an artifact that cannot be loaded: keep the old scores
        log.exception("the active model could not be loaded; scores were not refreshed")
        return 0
    scorer = Scorer(active.bundle)
    stored = 0
    scored: list[int] = []
    for k in range(0, len(ids), RESCORE_CHUNK):
        part = ids[k:k + RESCORE_CHUNK]
        shops = list(session.scalars(select(Shop).where(Shop.id.in_(part)).order_by(Shop.id)))
        if not shops:
            continue
        try:
            results, snaps = _results(session, shops, active.bundle, scorer, lang=DEFAULT_LANGUAGE,
                                      reasons=True, now=now)
        except SQLAlchemyError:
            raise
        except Exception:  # noqa: BLE001 - same: a scoring bug must not lose the merchant's answers
            log.exception("could not score shops %s..%s again", part[0], part[-1])
            continue
        latest = _latest_rows(session, [s.id for s in shops])
        values = []
        for shop, snap, r in zip(shops, snaps, results):
            details = _details(r, snap, DEFAULT_LANGUAGE)
            if _same(latest.get(shop.id), active.id, r, details):
                continue
            values.append({"shop_id": shop.id, "model_version_id": active.id, "scored_at": now,
                           "probability": r.probability, "uplift": r.uplift, "details": details})
        if values:
            session.execute(insert(Score), values)
            stored += len(values)
            scored += [v["shop_id"] for v in values]
    if stored:
        session.flush()
        if refresh:
            from ..shop_state import refresh_states

            refresh_states(session, scored, now=now)
    return stored


def _latest_rows(session: Session, shop_ids: list[int]) -> dict[int, Score]:
    rows = session.scalars(select(Score).where(Score.shop_id.in_(shop_ids))
                           .order_by(Score.shop_id, Score.scored_at, Score.id)).all()
    return {r.shop_id: r for r in rows}  # the last one per shop wins


def _same(score: Score | None, version_id: int, result: Any, details: dict[str, Any]) -> bool:
    """The stored score already says this (same model, number, reasons and path): no new row."""
    if score is None or score.model_version_id != version_id:
        return False
    if not math.isclose(score.probability, result.probability, abs_tol=1e-9):
        return False
    if (score.uplift is None) != (result.uplift is None) or (
            score.uplift is not None and not math.isclose(score.uplift, result.uplift, abs_tol=1e-9)):
        return False
    old = dict(score.details or {})
    return _comparable(old) == _comparable(details)


def _comparable(details: dict[str, Any]) -> Any:
    import json

    rest = {k: v for k, v in details.items() if k not in ("snapshot_at", "lang")}
    return json.dumps(rest, sort_keys=True, default=str)


def score_as_dict(score: Score, version: ModelVersion, shop: Shop, lang: str | None = None) -> dict[str, Any]:
    """A stored score as `score --json` gives it, with its texts in `lang` when it carries them
    (a score stored before scores carried every language keeps the language it was made in)."""
    return _as_output(shop, version.version, score.scored_at, score.probability, score.uplift,
                      score.details or {}, lang)


def list_models(session: Session) -> list[dict[str, Any]]:
    """Every stored model version, newest first, so a manager sees what scores come from."""
    out = []
    for r in store.list_versions(session):
        m = (r.card or {}).get("metrics") or {}
        out.append({"version": r.version, "kind": r.kind, "active": bool(r.active), "trained_rows": r.trained_rows,
                    "created_at": r.created_at.isoformat(), "model": (r.card or {}).get("model"),
                    "auc": m.get("auc"), "brier": m.get("brier"), "ece": m.get("ece")})
    return out


def activate_model(session: Session, version: str, *, lang: str | None = "en") -> ModelVersion:
    """Make a stored version the one that scores, e.g. to roll back a worse model; errors in `lang`."""
    return store.activate_version(session, version, lang=lang)


def _metric_block(y, p, n_boot: int, seed: int) -> dict[str, Any]:
    m = probability_metrics(y, p)
    out = {k: m.get(k) for k in ("n", "prevalence", "auc", "pr_auc", "brier", "log_loss", "ece")}
    if n_boot:
        from sklearn.metrics import brier_score_loss, roc_auc_score

        out["auc_ci"] = bootstrap(lambda a, b: roc_auc_score(a, b), [y, p], n_boot=n_boot, seed=seed)
        out["brier_ci"] = bootstrap(lambda a, b: brier_score_loss(a, b), [y, p], n_boot=n_boot, seed=seed)
        out["ece_ci"] = bootstrap(lambda a, b: ece(a, b), [y, p], n_boot=n_boot, seed=seed)
    return out


def show_model(session: Session, version: str | None = None, *, lang: str | None = "en") -> dict[str, Any]:
    """A stored version and its card (default: the active one), as `model train --json` gave it;
    errors in `lang`."""
    if version is None:
        row = store.active_version(session, lang=lang)
    else:
        row = session.scalar(select(ModelVersion).where(ModelVersion.version == version))
        if row is None:
            raise NotFound(translations(lang).gettext(
                "no model version %(version)s: `concierge model list` shows the stored ones") % {
                "version": repr(version)})
    return {"version": row.version, "active": bool(row.active), "created_at": row.created_at.isoformat(),
            "card": row.card or {}}


def _test_rows(session: Session, bundle: Bundle, card: dict[str, Any],
               lang: str | None = "en") -> tuple[list[Any], dict[str, Any]]:
    """The test trials of the active model and the split's provenance.

    A card that stores its split (the test trial ids, the data clock they were loaded at and
    when its latest observation was stored) is judged on exactly those trials, built from
    what was stored by then: another seed, or events, answers and trials added since, change
    nothing. A trial that can no longer be built (deleted, or no longer finished) is counted
    in `dropped`. A card from before sealed splits falls back to recomputing the split (seed
    0, today's data clock): `source` says which. Too few trials: NotFound, in `lang`.
    """
    stored = card.get("split") or {}
    ids = stored.get("test_trial_ids")
    schema = bundle_schema(bundle)
    if ids is None:
        loaded = finished_trials(session, snapshot_day=bundle.snapshot_day, schema=schema,
                                 ages=bundle.snapshot_days)
        if len(loaded.rows) < 10:
            raise NotFound(translations(lang).gettext("too few finished trials to evaluate"))
        _, te, split = out_of_time_split(loaded.rows)
        return [loaded.rows[i] for i in te], {**split, "source": "recomputed",
                                              "test_trials": len({loaded.rows[i].snapshot.shop for i in te}),
                                              "dropped": 0}
    clock, recorded = stored.get("data_clock"), stored.get("recorded_clock")
    loaded = finished_trials(session, snapshot_day=bundle.snapshot_day, schema=schema, only=ids,
                             as_of=datetime.fromisoformat(clock) if clock else None,
                             recorded_by=datetime.fromisoformat(recorded) if recorded else None,
                             ages=card.get("snapshot_days") or bundle.snapshot_days)
    rows = loaded.rows  # in the training's order (shop id), so bootstrap resamples match run to run
    built = len({r.snapshot.shop for r in rows})
    if built < 10:
        raise NotFound(translations(lang).gettext(
            "only %(built)d of the model's %(num)d test trials can still be built: too few to evaluate") % {
            "built": built, "num": len(ids)})
    split = {k: v for k, v in stored.items() if k != "test_trial_ids"}
    return rows, {**split, "source": "card", "test_trials": len(ids), "dropped": len(ids) - built}


def evaluate_model(session: Session, *, n_boot: int = 200, seed: int = 0, lang: str | None = "en") -> dict[str, Any]:
    """Judge the active model on its test trials beside the oracle (the demo's true probabilities).

    The test trials are the ones its card sealed at training (see `_test_rows`); `seed` is
    only the bootstrap's. Errors are in `lang`; the notes (`*_note`) are English, as `--json` gives
    them, and `Note`s: a person's view says them in its reader's language with `in_language`.
    """
    row, bundle, scorer = _scorer(session, lang)
    card = session.scalar(select(ModelVersion.card).where(ModelVersion.id == row.id)) or {}
    all_rows, split = _test_rows(session, bundle, card, lang)
    # every figure but `by_age_band` is on the snapshot-day rows (one per trial), comparable
    # with models of one snapshot day; `by_age_band` is on every test snapshot
    X_all = bundle.space.transform([r.snapshot for r in all_rows])
    y_all = np.array([r.outcome for r in all_rows])
    p_all = scorer.predict(X_all, [r.snapshot.market for r in all_rows])
    head = np.array([row_age(r, bundle.snapshot_day) == bundle.snapshot_day for r in all_rows], dtype=bool)
    rows = [r for r, h in zip(all_rows, head) if h]
    X, y, p = X_all[head], y_all[head], p_all[head]
    t = np.array([r.treated for r in rows], dtype=bool)
    out: dict[str, Any] = {"version": row.version, "test_rows": int(len(rows)), "treated": int(t.sum()),
                           "split": split, "bootstrap": n_boot,
                           "snapshot_day": bundle.snapshot_day,
                           "snapshot_days": list(card.get("snapshot_days") or bundle.snapshot_days
                                                 or [bundle.snapshot_day]),
                           "test_snapshots": int(len(all_rows)),
                           "model": _metric_block(y, p, n_boot, seed)}
    arms = scorer.predict_arms(X)
    uplift = scorer.predict_uplift(X)  # what orders the call queue
    if arms is not None:
        p0, p1 = arms
        out["model_given_treatment"] = _metric_block(y, np.where(t, p1, p0), n_boot, seed)
    else:
        out["model_given_treatment"] = None
    ids = {s.platform_id: s.id for s in session.scalars(select(Shop).where(Shop.platform_id.in_(
        list({r.snapshot.shop for r in all_rows}))))}
    truth = {d.shop_id: d for d in session.scalars(select(DemoTruth).where(DemoTruth.shop_id.in_(list(ids.values()))))} if ids else {}
    have = np.array([ids.get(r.snapshot.shop) in truth for r in rows], dtype=bool)
    oracle_uplift = p_pol = p_pol_all = None
    if have.all() and len(rows) and all(ids.get(r.snapshot.shop) in truth for r in all_rows):
        tr = [truth[ids[r.snapshot.shop]] for r in rows]
        p_or = np.array([d.p_call if d.called else d.p_no_call for d in tr])
        oracle_uplift = np.array([d.p_call - d.p_no_call for d in tr])
        out["oracle"] = _metric_block(y, p_or, n_boot, seed)
        tr_all = [truth[ids[r.snapshot.shop]] for r in all_rows]
        chances, note = _policy_chances(session, all_rows, tr_all)
        if chances is not None:
            from ...demo.generator import policy_oracle

            p_pol_all = np.array([policy_oracle(d.p_call, d.p_no_call, c) for d, c in zip(tr_all, chances)])
            p_pol = p_pol_all[head]
            out["oracle_policy"] = _metric_block(y, p_pol, n_boot, seed)
        else:
            out["oracle_policy"] = None
            out["oracle_policy_note"] = note
    else:
        out["oracle"] = out["oracle_policy"] = None
        out["oracle_note"] = _oracle_note(int(have.sum()), len(rows))
    if out["oracle"] is not None:
        given = arms is not None
        out["gaps"] = _gaps(y, np.where(t, arms[1], arms[0]) if given else p, p_or, n_boot, seed,
                            model="model_given_treatment" if given else "model")
    if p_pol is not None:
        # like for like: the score users see cannot know whether a call will follow, nor can this oracle
        out["gaps_policy"] = _gaps(y, p, p_pol, n_boot, seed, model="model")
    out["by_age_band"], out["age_note"] = _age_bands(all_rows, y_all, p_all, p_pol_all, bundle.snapshot_day,
                                                     n_boot=n_boot, seed=seed)
    out["deliberating"], note = _deliberating_block(session, bundle, card, n_boot=n_boot, seed=seed)
    if note:
        out["deliberating_note"] = note
    q: dict[str, Any] = {}
    if t.any() and (~t).any():
        def qini(score):
            return round(qini_coefficient(score, y, t), 5)

        def ci(score):
            return bootstrap(lambda s, a, b: qini_coefficient(s, a, b), [score, y, t], n_boot=n_boot, seed=seed)

        q["qini_by_likelihood"], q["qini_by_likelihood_ci"] = qini(p), ci(p)
        if uplift is not None:
            q["qini_model"], q["qini_model_ci"] = qini(uplift), ci(uplift)
        if oracle_uplift is not None:
            q["qini_oracle"], q["qini_oracle_ci"] = qini(oracle_uplift), ci(oracle_uplift)
    out["uplift"] = q or None
    out["checks"] = _checks(out)
    return out


def _oracle_note(have: int, total: int) -> Note:
    """Why an evaluation has no oracle figures: demo truth for only some of its test trials."""
    return Note(lambda t: t.ngettext("demo truth for %(have)d of %(num)d test trial: no oracle comparison",
                                     "demo truth for %(have)d of %(num)d test trials: no oracle comparison", total)
                % {"have": have, "num": total})


def _deliberating_block(session: Session, bundle: Bundle, card: dict[str, Any], *, n_boot: int = 0,
                        seed: int = 0) -> tuple[dict[str, Any] | None, Note | None]:
    """The deliberating part on the sealed test trials that had not bought by their trial end.

    The same trials the card sealed (`split.test_trial_ids`), built at the stored data clock
    from what was stored by then, each at its trial end (`data.deliberating_trials`). None, with
    a note, for a model without a deliberating part or a card without a sealed split.
    """
    from ...scoring.model import deliberating_proba

    stored = card.get("split") or {}
    ids = stored.get("test_trial_ids")
    if bundle.deliberating is None:
        return None, Note(lambda t: t.gettext("this model has no deliberating part (trained before it, or no trial "
                                              "ended without a purchase)"))
    if ids is None:
        return None, Note(lambda t: t.gettext("the card does not seal its test split: no deliberating figures"))
    clock, recorded = stored.get("data_clock"), stored.get("recorded_clock")
    loaded = deliberating_trials(session, schema=bundle_schema(bundle), only=ids,
                                 as_of=datetime.fromisoformat(clock) if clock else None,
                                 recorded_by=datetime.fromisoformat(recorded) if recorded else None)
    rows = loaded.rows
    y = np.array([r.outcome for r in rows], dtype=int)
    block: dict[str, Any] = {"method": bundle.deliberating.get("method"), "n": len(rows), "positives": int(y.sum()),
                             "auc": None, "auc_ci": None, "ece": None, "ece_ci": None, "brier": None}
    if not rows:
        return block, Note(lambda t: t.gettext("no sealed test trial ended without a purchase"))
    X = bundle.space.transform([r.snapshot for r in rows])
    p = deliberating_proba(bundle.deliberating, X, [r.snapshot.market for r in rows])
    m = probability_metrics(y, p)
    block.update(auc=m.get("auc"), ece=m.get("ece"), brier=m.get("brier"), prevalence=m.get("prevalence"))
    if n_boot:
        from sklearn.metrics import roc_auc_score

        if block["auc"] is not None:
            block["auc_ci"] = bootstrap(lambda a, b: roc_auc_score(a, b), [y, p], n_boot=n_boot, seed=seed)
        block["ece_ci"] = bootstrap(lambda a, b: ece(a, b), [y, p], n_boot=n_boot, seed=seed)
    return block, None


AGE_BANDS = (("0-2", 0, 2), ("3-6", 3, 6), ("7+", 7, None))


def _age_bands(rows: list[Any], y: np.ndarray, p: np.ndarray, p_policy: np.ndarray | None,
               snapshot_day: int, *, n_boot: int = 0, seed: int = 0) -> tuple[dict[str, Any], Note | None]:
    """AUC and ECE of the score users see (and of its oracle) per trial age at the snapshot.

    Over every test snapshot (a model trained on several ages has one per trial and age).
    The age is the snapshot's trial day (`trial_day`, else from its time). A model trained
    on one snapshot day has every test trial in one band: the other bands are reported
    empty and the note says so. `auc_ci` resamples whole trials (a band holds two
    snapshots of most trials: day 0 and 2, day 7 and 10).
    """
    def utc(d: datetime) -> datetime:
        return d if d.tzinfo else d.replace(tzinfo=timezone.utc)

    ages = np.array([int(r.snapshot.trial_day) if r.snapshot.trial_day is not None else
                     max(0, int((utc(r.snapshot.as_of) - utc(r.started_at)).total_seconds() // 86400))
                     if r.snapshot.as_of is not None else snapshot_day for r in rows], dtype=int)
    groups = trial_groups(rows) if len(rows) else np.zeros(0, dtype=int)
    out: dict[str, Any] = {}
    for name, lo, hi in AGE_BANDS:
        m = (ages >= lo) & (ages <= hi if hi is not None else True)
        if not m.any():
            out[name] = None
            continue
        pm = probability_metrics(y[m], p[m])
        band: dict[str, Any] = {"n": int(m.sum()), "trials": int(len(set(groups[m].tolist()))),
                                "ages": sorted(set(ages[m].tolist())), "auc": pm.get("auc"), "ece": pm.get("ece")}
        if n_boot:
            from sklearn.metrics import roc_auc_score

            band["auc_ci"] = bootstrap(lambda a, b: roc_auc_score(a, b), [y[m], p[m]], n_boot=n_boot, seed=seed,
                                       groups=groups[m])
            band["ece_ci"] = bootstrap(lambda a, b: ece(a, b), [y[m], p[m]], n_boot=n_boot, seed=seed,
                                       groups=groups[m])
        if p_policy is not None:
            po = probability_metrics(y[m], p_policy[m])
            band["oracle_policy_auc"], band["oracle_policy_ece"] = po.get("auc"), po.get("ece")
            band["auc_oracle_policy_minus_model"] = (None if po.get("auc") is None or pm.get("auc") is None
                                                     else round(po["auc"] - pm["auc"], 4))
        out[name] = band
    filled = [k for k, v in out.items() if v is not None]
    note = None
    if len(filled) == 1:
        figures = {"day": int(ages[0]) if len(set(ages)) == 1 else snapshot_day, "snapshot_day": snapshot_day,
                   "band": filled[0]}
        note = Note(lambda t: t.gettext("every evaluated trial is a day-%(day)s snapshot (the model is trained and "
                                        "judged at snapshot day %(snapshot_day)s): only band %(band)s has trials")
                    % figures)
    return out, note


def _policy_chances(session: Session, rows: list[Any], truths: list[DemoTruth]) -> tuple[list[float] | None, Note | None]:
    """Each test trial's chance of a call under the demo's call policy, from the generator.

    The demo stores each shop's true chances but not the policy's inputs (the merchant's true
    turnover band among them), so the population is drawn again from its seed: its size is
    the number of shops with that seed's truth, its `today` follows from a shop's start. The
    drawn population must give every test trial exactly its stored chances, else no figure.
    """
    from sqlalchemy import func

    from ...demo.generator import generate, policy_chances, population_today

    seeds = {d.seed for d in truths}
    if len(seeds) != 1:
        return None, Note(lambda t: t.gettext("test trials from %(num)d demo populations: no policy oracle")
                          % {"num": len(seeds)})
    (pop_seed,) = seeds
    n = int(session.scalar(select(func.count()).select_from(DemoTruth).where(DemoTruth.seed == pop_seed)) or 0)
    first = rows[0]
    day = population_today(n, pop_seed, first.snapshot.shop, first.started_at)
    if day is None:
        return None, Note(lambda t: t.gettext("the demo population could not be drawn again (shops added or removed): "
                                              "no policy oracle"))
    pop = generate(n, seed=pop_seed, today=day)
    by_id = {s.platform_id: s for s in pop.shops}
    for r, d in zip(rows, truths):
        s = by_id.get(r.snapshot.shop)
        if s is None or abs(s.p_no_call - d.p_no_call) > 1e-9 or abs(s.p_call - d.p_call) > 1e-9:
            return None, Note(lambda t: t.gettext("the demo population drawn again does not match the stored truth: "
                                                  "no policy oracle"))
    chances = policy_chances(pop)
    return [chances[r.snapshot.shop] for r in rows], None


def _gaps(y: np.ndarray, p: np.ndarray, p_oracle: np.ndarray, n_boot: int, seed: int, *, model: str) -> dict[str, Any]:
    """The model's distance from the oracle on the same trials, with paired bootstrap intervals.

    Both are resampled together, so the interval is of the difference itself (much narrower
    than the two AUC intervals side by side): it says whether a gap is real or noise.
    """
    from sklearn.metrics import brier_score_loss, roc_auc_score

    def auc_gap(a, b, c):
        return roc_auc_score(a, c) - roc_auc_score(a, b)

    def brier_gap(a, b, c):
        return brier_score_loss(a, b) - brier_score_loss(a, c)

    out: dict[str, Any] = {"model": model}
    try:
        out["auc_oracle_minus_model"] = round(float(auc_gap(y, p, p_oracle)), 5)
    except ValueError:
        out["auc_oracle_minus_model"] = None
    out["auc_gap_ci"] = bootstrap(auc_gap, [y, p, p_oracle], n_boot=n_boot, seed=seed)
    out["brier_model_minus_oracle"] = round(float(brier_gap(y, p, p_oracle)), 5)
    out["brier_gap_ci"] = bootstrap(brier_gap, [y, p, p_oracle], n_boot=n_boot, seed=seed)
    return out


def _checks(ev: dict[str, Any]) -> dict[str, bool | None]:
    """The issue's done-means on this data (None where a figure is missing)."""
    m, o, mt, u = ev["model"], ev.get("oracle"), ev.get("model_given_treatment"), ev.get("uplift") or {}
    best = mt or m

    def ok(f):
        try:
            return bool(f())
        except (TypeError, KeyError):
            return None

    op = ev.get("oracle_policy")
    return {
        "auc_within_0.01_of_oracle": ok(lambda: o["auc"] - best["auc"] <= 0.01),
        # the score users see against its like-for-like oracle (averaged over the call policy)
        "score_auc_within_0.01_of_policy_oracle": ok(lambda: op["auc"] - m["auc"] <= 0.01),
        "ece_at_most_0.02": ok(lambda: m["ece"] <= 0.02),
        "brier_within_0.005_of_oracle": ok(lambda: best["brier"] - o["brier"] <= 0.005),
        "qini_at_least_80pct_of_oracle": ok(lambda: u["qini_model"] >= 0.8 * u["qini_oracle"]),
        "qini_beats_likelihood": ok(lambda: u["qini_model"] > u["qini_by_likelihood"]),
    }
