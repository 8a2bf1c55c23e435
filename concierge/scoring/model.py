"""A trained model bundle and the scorer: probability, uplift, reasons, path to subscribe."""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any, Collection, Iterator, Sequence

import numpy as np
from threadpoolctl import ThreadpoolController

from . import reasons as R
from .features import FeatureSpace, TrialSnapshot


@dataclass
class Bundle:
    """Everything a score needs, saved together with skops (see store.py)."""

    space: FeatureSpace
    conversion: Any               # ConversionModel, or FallbackModel when history is thin
    fallback: Any                 # FallbackModel on the robust columns
    uplift: Any | None            # UpliftModel or None
    reference: np.ndarray         # the typical value of every column (occlusion baseline)
    robust: np.ndarray            # column indices the fallback uses
    kind: str = "conversion"      # conversion | fallback
    fallback_markets: dict[str, int] = field(default_factory=dict)  # market -> training rows
    trained_rows: int = 0
    snapshot_day: int = 7
    schema_yaml: str | None = None
    # the reasons' baseline: a few training rows spread over the predicted chances (their mean
    # chance is close to the base rate) and the base rate itself; None in bundles from before
    background: np.ndarray | None = None
    base_rate: float | None = None
    # trained on snapshots at several trial ages (`activity.trial_day`): the ages, and per
    # background row its age, and the typical values per age (one row per age); None in
    # bundles of one snapshot day (every bundle from before trial ages)
    snapshot_days: tuple[int, ...] | None = None
    background_ages: np.ndarray | None = None
    reference_by_age: np.ndarray | None = None
    # the deliberating part (`train.train_deliberating`): scores trials that ended without a
    # purchase while their market's decision window is open; None in bundles from before it
    # (such trials are then scored by the trial model, as before)
    deliberating: dict[str, Any] | None = None

    def to_state(self) -> dict[str, Any]:
        return {"format": 1, "space": self.space.to_dict(), "conversion": self.conversion,
                "fallback": self.fallback, "uplift": self.uplift, "reference": self.reference,
                "robust": self.robust, "kind": self.kind, "fallback_markets": dict(self.fallback_markets),
                "trained_rows": int(self.trained_rows), "snapshot_day": int(self.snapshot_day),
                "schema_yaml": self.schema_yaml, "background": self.background,
                "base_rate": None if self.base_rate is None else float(self.base_rate),
                "snapshot_days": None if self.snapshot_days is None else [int(a) for a in self.snapshot_days],
                "background_ages": self.background_ages, "reference_by_age": self.reference_by_age,
                "deliberating": None if self.deliberating is None else dict(self.deliberating)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Bundle":
        return cls(space=FeatureSpace.from_dict(state["space"]), conversion=state["conversion"],
                   fallback=state["fallback"], uplift=state["uplift"],
                   reference=np.asarray(state["reference"], dtype=float),
                   robust=np.asarray(state["robust"], dtype=int), kind=state["kind"],
                   fallback_markets=dict(state["fallback_markets"]), trained_rows=state["trained_rows"],
                   snapshot_day=state["snapshot_day"], schema_yaml=state.get("schema_yaml"),
                   background=None if state.get("background") is None else np.asarray(state["background"], dtype=float),
                   base_rate=state.get("base_rate"),
                   snapshot_days=None if state.get("snapshot_days") is None else tuple(int(a) for a in state["snapshot_days"]),
                   background_ages=None if state.get("background_ages") is None else np.asarray(state["background_ages"], dtype=int),
                   reference_by_age=None if state.get("reference_by_age") is None else np.asarray(state["reference_by_age"], dtype=float),
                   deliberating=None if state.get("deliberating") is None else dict(state["deliberating"]))

    def age_rows(self, trial_day: float | None) -> tuple[np.ndarray | None, np.ndarray]:
        """The reasons' background rows and typical values for a trial of this age (the nearest
        trained age); a bundle of one snapshot day has one set for every trial."""
        days = self.snapshot_days
        if not days or self.background_ages is None or self.background is None or trial_day is None:
            return self.background, self.reference
        k = int(np.argmin([abs(a - trial_day) for a in days]))  # ties: the younger age
        bg = self.background[self.background_ages == days[k]]
        ref = self.reference_by_age[k] if self.reference_by_age is not None else self.reference
        return (bg if len(bg) else self.background), ref


@dataclass
class ScoreResult:
    shop: str
    probability: float
    uplift: float | None
    details: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"shop": self.shop, "probability": round(self.probability, 4),
                "uplift": None if self.uplift is None else round(self.uplift, 4), **self.details}


@contextlib.contextmanager
def compute_threads() -> Iterator[None]:
    """Limit OpenMP/BLAS threads (CONCIERGE_SCORING_THREADS, default 1).

    One thread is the fast choice for small batches and on a busy machine: OpenMP
    over-subscription made a 4 s fit take 50 s on a loaded two-core server.
    """
    global _CONTROLLER
    if _CONTROLLER is None:  # finding the thread pools reads /proc: do it once per process
        _CONTROLLER = ThreadpoolController()
    n = int(os.environ.get("CONCIERGE_SCORING_THREADS") or 1)
    with _CONTROLLER.limit(limits=n):
        yield


_CONTROLLER: ThreadpoolController | None = None


def _proba(model: Any, X: np.ndarray) -> np.ndarray:
    p = model.predict_proba(X)
    return p[:, -1] if p.shape[1] == 2 else np.zeros(X.shape[0])


class Scorer:
    """Scores snapshots with a bundle; fast enough for 100k trials and one score in milliseconds."""

    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self.space = bundle.space
        # per question: its columns (a slice when they are side by side, as from_schema makes
        # them) and a column-to-question matrix, so that `explain` finds the background rows
        # that differ from a trial in each question with one product instead of a loop
        space = self.space
        self._groups = [(k, slice(idx[0], idx[-1] + 1) if idx == list(range(idx[0], idx[-1] + 1)) else np.asarray(idx))
                        for k, idx in space.groups.items()]
        self._member = np.zeros((len(space.columns), len(self._groups)))
        for g, idx in enumerate(space.groups.values()):
            self._member[idx, g] = 1.0
        self._by_market: dict[str | None, tuple[list[int], int]] = {}

    def _checklist(self, market: str | None) -> tuple[list[int], int]:
        """The market's actionable columns and launch-checklist size (computed once per market)."""
        if market not in self._by_market:
            self._by_market[market] = (self.space.actionable(market), self.space.checklist_size(market))
        return self._by_market[market]

    def _uses_fallback(self, markets: Sequence[str | None]) -> np.ndarray:
        fb = self.bundle.fallback_markets
        return np.array([self.bundle.kind == "fallback" or (m in fb) for m in markets], dtype=bool)

    def predict(self, X: np.ndarray, markets: Sequence[str | None]) -> np.ndarray:
        """Calibrated probabilities; rows of a thin market go to the fallback model."""
        b = self.bundle
        use_fb = self._uses_fallback(markets)
        p = np.empty(X.shape[0])
        with compute_threads():
            if (~use_fb).any():
                p[~use_fb] = _proba(b.conversion, X[~use_fb])
            if use_fb.any():
                p[use_fb] = _proba(b.fallback, X[use_fb][:, b.robust])
        return p

    def predict_uplift(self, X: np.ndarray) -> np.ndarray | None:
        if self.bundle.uplift is None:
            return None
        with compute_threads():
            return self.bundle.uplift.predict_uplift(X)

    def predict_arms(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(P(subscribe | no call), P(subscribe | call)), or None without an uplift model."""
        if self.bundle.uplift is None:
            return None
        with compute_threads():
            return self.bundle.uplift.predict_arms(X)

    def score_many(self, snapshots: Sequence[TrialSnapshot], *, lang: str = "en",
                   reasons: bool = False, languages: Sequence[str] | None = None,
                   done: Sequence[Collection[str]] | None = None) -> list[ScoreResult]:
        """Probability and uplift for many trials; reasons on request (slower).

        `languages`: also give every text in these languages (`details["texts"]`, see
        `reasons.localized`), from the same numbers: a reader in another language needs
        no new score. `done`: per snapshot, the checklist items the shop has done by now
        (any source, calls too), which the path to subscribe no longer proposes.
        """
        X = self.space.transform(snapshots)
        markets = [s.market for s in snapshots]
        p = self.predict(X, markets)
        u = self.predict_uplift(X)
        out = []
        honesty: dict[tuple[str | None, str], dict[str, Any]] = {}

        def honest(market: str | None, lg: str) -> dict[str, Any]:
            if (market, lg) not in honesty:
                honesty[market, lg] = self._honesty(market, lg)
            return honesty[market, lg]

        for i, snap in enumerate(snapshots):
            details = dict(honest(snap.market, lang))
            found = self.explain(X[i], snap, float(p[i]), lang=lang, languages=languages,
                                 done=done[i] if done is not None else ()) if reasons else {}
            texts = found.pop("_texts", None)
            details.update(found)
            if languages:
                details["texts"] = {lg: {**R.honesty_texts(honest(snap.market, lg)), **(texts or {}).get(lg, {})}
                                    for lg in _languages(languages)}
            out.append(ScoreResult(snap.shop, float(p[i]), None if u is None else float(u[i]), details))
        return out

    def score_one(self, snap: TrialSnapshot, *, lang: str = "en", done: Collection[str] = ()) -> ScoreResult:
        """One trial with reasons and path: the row and all its what-ifs in one predict call."""
        row = self.space.transform([snap])[0]
        details = self._honesty(snap.market, lang)
        explained = self.explain(row, snap, None, lang=lang, done=done)
        p = explained.pop("_p")
        details.update(explained)
        u = self.predict_uplift(row[None, :])
        return ScoreResult(snap.shop, p, None if u is None else float(u[0]), details)

    def _honesty(self, market: str | None, lang: str) -> dict[str, Any]:
        """Say how much history stands behind the score, and whether a simpler model gave it."""
        b = self.bundle
        lang = R.lang_of(lang)
        out: dict[str, Any] = {"trained_rows": b.trained_rows,
                               "history": R.text("templates", "history", lang, rows=b.trained_rows)}
        if b.kind == "fallback" or market in b.fallback_markets:
            rows = b.trained_rows if b.kind == "fallback" else b.fallback_markets[market]
            kind = getattr(b.fallback, "kind_", "base_rate") if b.kind != "fallback" else getattr(b.conversion, "kind_", "base_rate")
            out["fallback"] = {"model": kind, "market_rows": rows,
                               "message": R.text("templates", "fallback_all" if b.kind == "fallback" else "fallback",
                                                 lang, rows=rows, model=R.text("models", kind, lang))}
        else:
            out["fallback"] = None
        return out

    def _swaps(self, row: np.ndarray, base: np.ndarray, hidden: Collection[str]) -> tuple[list[str], list[list[Any]]]:
        """Per question (in the space's order, `hidden` left out) whose value in some background
        rows differs from the row's: its distinct other values in order of first appearance,
        each [values, how many background rows hold it]."""
        keys: list[str] = []
        swaps: list[list[Any]] = []
        # background rows x questions: does the row hold another value of that question?
        differs = (~((base == row) | (np.isnan(base) & np.isnan(row)))) @ self._member > 0
        tagged = np.where(np.isnan(base), -1e300, base)  # a value's identity, NaN included
        for g in np.flatnonzero(differs.any(axis=0)):
            k, sel = self._groups[g]
            if k in hidden:
                continue
            seen: dict[bytes, list[Any]] = {}
            for j in np.flatnonzero(differs[:, g]):
                tag = tagged[j, sel].tobytes()
                if tag in seen:
                    seen[tag][1] += 1
                else:
                    seen[tag] = [base[j, sel], 1]
            keys.append(k)
            swaps.append(list(seen.values()))
        return keys, swaps

    def explain(self, row: np.ndarray, snap: TrialSnapshot, p: float | None, *, lang: str = "en",
                top: int = 3, path: int = 3, languages: Sequence[str] | None = None,
                done: Collection[str] = ()) -> dict[str, Any]:
        """The factors that raise and lower the score most, and the changes that would raise it most.

        With `p=None` the row's own probability is computed in the same batch (key "_p").
        A checklist item in `done` is not proposed (the shop did it after its snapshot, or
        told us on a call, which the snapshot leaves out). With `languages`, the texts in
        each of them are given under "_texts" (the numbers are computed once).
        """
        lang = R.lang_of(lang)
        space = self.space
        bg, ref = self.bundle.age_rows(snap.trial_day)
        # a factor's effect is against the base rate: the row's chance minus its mean chance with
        # that question's value taken from each background row (trials spread over all chances);
        # bundles from before background rows compare with the typical trial (`reference`)
        base = bg if bg is not None and len(bg) else ref[None, :]
        hidden = R.meaningless_factors(self.bundle)
        k_base = len(base)
        # per question, the distinct background values other than the row's own, with how many
        # background rows hold each: one prediction per distinct value (a row's own value gives p)
        keys, swaps = self._swaps(row, base, hidden)
        actionable, checklist = self._checklist(snap.market)
        actions = [i for i in actionable if row[i] != 1.0 and space.columns[i].key not in done]
        first = sum(len(v) for v in swaps)
        n = first + len(actions)
        own = None
        if n == 0:
            up: list[tuple[str, float]] = []
            down: list[tuple[str, float]] = []
            gains: list[tuple[str, float]] = []
            if p is None:
                p = own = float(self.predict(row[None, :], [snap.market])[0])
        else:
            variants = np.repeat(row[None, :], n + (1 if p is None else 0), axis=0)
            r = 0
            for k, values in zip(keys, swaps):
                idx = space.groups[k]
                for vals, _count in values:
                    variants[r, idx] = vals
                    r += 1
            ready = space.index.get("activity.readiness_percent")
            step = 100.0 / max(1, checklist)
            for r, i in enumerate(actions, start=first):
                variants[r, i] = 1.0
                if ready is not None and not np.isnan(row[ready]):
                    variants[r, ready] = min(100.0, row[ready] + step)
            q = self.predict(variants, [snap.market] * len(variants))
            if p is None:
                p = own = float(q[-1])  # the last row is the untouched one
            effects, r = [], 0
            for k, values in zip(keys, swaps):
                counts = np.array([c for _, c in values], dtype=float)
                swapped = float(q[r:r + len(values)] @ counts)
                r += len(values)
                # the background rows that hold the row's own value give p itself
                effects.append((k, p - (swapped + (k_base - counts.sum()) * p) / k_base))
            up = sorted((e for e in effects if e[1] >= R.STANDS_OUT), key=lambda e: -e[1])[:top]
            down = sorted((e for e in effects if e[1] <= -R.STANDS_OUT), key=lambda e: e[1])[:top]
            gains = sorted(((space.columns[i].key, float(q[r])) for r, i in enumerate(actions, start=first)),
                           key=lambda g: -g[1])
        steps = []
        for key, newp in gains[:path]:
            if newp - p <= 0.0005:
                break
            steps.append((key, newp))
        base_rate = self.bundle.base_rate

        def render(lg: str) -> dict[str, Any]:
            def reason(k: str, d: float) -> dict[str, Any]:
                factor = R.describe_factor(space, k, snap, lg, typical=ref)
                return {"factor": k, "effect": round(d, 4),
                        "text": R.text("templates", "raises" if d > 0 else "lowers", lg,
                                       factor=factor, points=R.points(d, lg))}

            return {"reasons": {"up": [reason(k, d) for k, d in up], "down": [reason(k, d) for k, d in down]},
                    "summary": R.summary(p, base_rate, bool(up or down), lg),
                    "path": [{"action": key, "probability": round(newp, 4), "gain": round(newp - p, 4),
                              "text": R.text("templates", "action", lg, action=R.action_text(space, key, lg),
                                             before=R.percent(p), after=R.percent(newp))}
                             for key, newp in steps]}

        out = render(lang)
        out["base_rate"] = None if base_rate is None else round(float(base_rate), 4)
        if languages:
            out["_texts"] = {lg: R.explanation_texts(out if lg == lang else render(lg))
                             for lg in _languages(languages)}
        if own is not None:
            out["_p"] = own
        return out


def deliberating_proba(part: dict[str, Any], X: np.ndarray, markets: Sequence[str | None]) -> np.ndarray:
    """The deliberating part's chances: its model's, or its market's base rate (the overall one
    for a market it has no rate for)."""
    if part.get("method") == "model" and part.get("model") is not None:
        with compute_threads():
            return _proba(part["model"], X)
    rates = part.get("base_rates") or {}
    overall = float(part.get("base_rate") or 0.0)
    return np.array([float(rates.get(m or "", overall)) for m in markets], dtype=float)


class DeliberatingScorer(Scorer):
    """Scores deliberating trials (ended without a purchase, decision window open) with the
    bundle's deliberating part; reasons and path are measured the same way, against the part's
    own background rows. No uplift: the uplift model learned calls made during the trial."""

    def __init__(self, bundle: Bundle):
        part = bundle.deliberating
        if part is None:
            raise ValueError("this model has no deliberating part")
        import dataclasses

        view = dataclasses.replace(
            bundle, uplift=None, kind="conversion", fallback_markets={}, snapshot_days=None,
            background_ages=None, reference_by_age=None,
            background=None if part.get("background") is None else np.asarray(part["background"], dtype=float),
            reference=np.asarray(part["reference"], dtype=float) if part.get("reference") is not None
            else bundle.reference,
            base_rate=part.get("base_rate"), trained_rows=int(part.get("rows") or 0))
        super().__init__(view)
        self.part = part

    def predict(self, X: np.ndarray, markets: Sequence[str | None]) -> np.ndarray:
        return deliberating_proba(self.part, X, markets)

    def _honesty(self, market: str | None, lang: str) -> dict[str, Any]:
        out = super()._honesty(market, lang)
        out["fallback"] = None
        if self.part.get("method") != "model":  # the base rate: say so, as the trial model's fallback does
            lang = R.lang_of(lang)
            rows = int(self.part.get("rows") or 0)
            out["fallback"] = {"model": "base_rate", "market_rows": rows,
                               "message": R.text("templates", "fallback_all", lang, rows=rows,
                                                 model=R.text("models", "base_rate", lang))}
        return out


def _languages(languages: Sequence[str]) -> list[str]:
    """The distinct UI languages asked for, in order (unknown ones read as English)."""
    seen: list[str] = []
    for lg in languages:
        lg = R.lang_of(lg)
        if lg not in seen:
            seen.append(lg)
    return seen
