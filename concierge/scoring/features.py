"""Features from the interview schema, frozen at a snapshot of the trial.

Every column is derived from a question's type, so a new question in the schema file
becomes a feature with no new code:

- single_choice: one-hot per choice, plus "unknown" (not answered) and "other" (a value
  the schema no longer or not yet knows: an unseen category never breaks scoring);
- multi_choice: one 0/1 column per choice, plus an "answered" flag;
- yes_no: 1 / 0 / missing (NaN);
- number, scale: the value (NaN when missing) and a missing indicator;
- money: log(1 + amount in EUR) with fixed, documented rates, and a missing indicator;
- date: days from the snapshot to the date, and a missing indicator;
- text, phone, email, tax_id: an "answered" flag only (never the content);
- plus trial-activity aggregates: readiness percent, days active, trial events seen,
  answers seen, and the market.

The snapshot (trial start + N days) is the only clock: observations after it, and
every observation from a call (a call is the treatment, not a feature), are ignored.
The outcome question itself is never a feature.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

import profile_schema
from locales import LANGUAGES, MARKET_CODES
from profile_schema import Observation, Schema

from .ages import DEFAULT_AGES, DEFAULT_SNAPSHOT_DAY  # noqa: F401 (their home is ages, numpy-free)
MARKETS = MARKET_CODES
# Known after the trial ends (or the outcome itself): never features.
EXCLUDED_QUESTIONS = frozenset({"trial.outcome", "trial.plan"})
# Fixed rates to EUR for comparing turnover across currencies; the model only needs the
# order of magnitude, so yearly rates are plenty (documented in docs/model.md).
EUR_RATES = {"EUR": 1.0, "USD": 0.92, "PLN": 0.23, "TRY": 0.027, "INR": 0.011, "GBP": 1.17}
NOT_FEATURE_SOURCES = frozenset({"call"})


@dataclass(frozen=True)
class TrialSnapshot:
    """What was known about one trial at its snapshot (call answers excluded)."""

    shop: str
    market: str | None
    values: Mapping[str, Any]
    as_of: datetime | None = None
    readiness_percent: float | None = None
    days_active: int = 0
    trial_events: int = 0
    answers: int = 0
    trial_day: float | None = None  # the trial's age at the snapshot, in days (None: not known)


def snapshot_ages(started_at: datetime, decided_at: datetime | None, ages: Sequence[int]) -> list[int]:
    """The ages at which a trial gives a training row: a trial decided before an age gives none at it."""
    return [a for a in sorted(set(int(x) for x in ages))
            if decided_at is None or decided_at >= snapshot_time(started_at, a)]


def scoring_age(started_at: datetime | None, now: datetime, ages: Sequence[int]) -> tuple[datetime, int | None]:
    """When an open trial is snapshotted for its score and the age it is scored at.

    Its real age now in whole days, capped at the largest trained age (then the snapshot is
    taken at that age, not now); a trial that has not started yet is scored at age 0.
    """
    if started_at is None or not ages:
        return now, None
    top = max(int(a) for a in ages)
    if started_at.tzinfo is None and now.tzinfo is not None:
        started_at = started_at.replace(tzinfo=now.tzinfo)
    elif started_at.tzinfo is not None and now.tzinfo is None:
        now = now.replace(tzinfo=started_at.tzinfo)
    age = max(0, int((now - started_at).total_seconds() // 86400))
    if age >= top:
        return snapshot_time(started_at, top), top
    return now, age


def snapshot_time(started_at: datetime, snapshot_day: int = DEFAULT_SNAPSHOT_DAY) -> datetime:
    return started_at + timedelta(days=snapshot_day)


def take_snapshot(
    observations: Iterable[Observation],
    *,
    shop: str,
    market: str | None,
    as_of: datetime,
    schema: Schema | None = None,
    trial_day: float | None = None,
) -> TrialSnapshot:
    """Fold what was known at `as_of`, leaving out call answers (the call is the treatment)."""
    kept = [o for o in observations if o.source not in NOT_FEATURE_SOURCES and o.observed_at <= as_of]
    profile = profile_schema.fold(kept, schema, shop=shop, market=market, as_of=as_of)
    trial_days = {o.observed_at.date() for o in kept if o.source == "trial"}
    return TrialSnapshot(
        shop=shop, market=market, values={k: f.value for k, f in profile.facts.items()}, as_of=as_of,
        readiness_percent=float(profile.readiness.percent) if profile.readiness.items else None,
        days_active=len(trial_days), trial_events=sum(1 for o in kept if o.source == "trial"),
        answers=sum(1 for o in kept if o.source in ("survey", "import")), trial_day=trial_day,
    )


def snapshot_from_profile(profile: profile_schema.Profile, *, days_active: int = 0, trial_events: int = 0) -> TrialSnapshot:
    """A snapshot from an already folded profile (benchmarks, previews)."""
    return TrialSnapshot(
        shop=profile.shop, market=profile.market, values={k: f.value for k, f in profile.facts.items()},
        as_of=profile.as_of, readiness_percent=float(profile.readiness.percent) if profile.readiness.items else None,
        days_active=days_active, trial_events=trial_events, answers=profile.observation_count,
    )


@dataclass(frozen=True)
class Column:
    """One model input: where it comes from and how to say it in words."""

    name: str          # unique column name, e.g. "business.type=handmade"
    key: str           # the question key (or "activity.*" / "market")
    kind: str          # onehot | other | unknown | multi | answered | bool | number | missing | money | date
    choice: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)       # the question in every language
    choice_labels: Mapping[str, str] = field(default_factory=dict)  # the choice in every language
    qtype: str = ""
    actionable: bool = False  # a merchant can do it in the trial shop (path to subscribe)
    stage: str | None = None  # launch checklist stage, for readiness items
    markets: tuple[str, ...] | None = None  # None: every market
    unit: str | None = None   # numbers: the schema's unit (hours, years, products...), for the reasons' words

    def applies_to(self, market: str | None) -> bool:
        return self.markets is None or market is None or market in self.markets

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "key": self.key, "kind": self.kind, "choice": self.choice,
                "labels": dict(self.labels), "choice_labels": dict(self.choice_labels),
                "qtype": self.qtype, "actionable": self.actionable, "stage": self.stage,
                "markets": list(self.markets) if self.markets else None, "unit": self.unit}


ACTIVITY = {
    "activity.readiness_percent": {"en": "Launch checklist done (%)", "pl": "Lista startowa wykonana (%)",
                                    "tr": "Açılış listesi tamamlandı (%)", "hi": "लॉन्च चेकलिस्ट पूरी (%)"},
    "activity.days_active": {"en": "Days active in the trial shop", "pl": "Dni aktywności w sklepie testowym",
                             "tr": "Deneme mağazasında aktif gün", "hi": "ट्रायल शॉप में सक्रिय दिन"},
    "activity.trial_events": {"en": "Changes made in the trial shop", "pl": "Zmiany w sklepie testowym",
                              "tr": "Deneme mağazasındaki değişiklikler", "hi": "ट्रायल शॉप में किए गए बदलाव"},
    "activity.answers": {"en": "Survey answers given", "pl": "Udzielone odpowiedzi w ankiecie",
                         "tr": "Verilen anket yanıtları", "hi": "सर्वे में दिए गए जवाब"},
    # the snapshot's age: a model trained on several ages knows what a young trial can show
    "activity.trial_day": {"en": "Trial day", "pl": "Dzień okresu próbnego", "tr": "Deneme günü", "hi": "ट्रायल का दिन"},
}
ACTIVITY_UNITS = {"activity.readiness_percent": "percent", "activity.days_active": "days",
                  "activity.trial_events": "changes", "activity.answers": "answers", "activity.trial_day": "days"}
MARKET_LABELS = {"en": "Market", "pl": "Rynek", "tr": "Pazar", "hi": "मार्केट"}


def _labels(q: profile_schema.Question, languages: Sequence[str]) -> dict[str, str]:
    return {lang: q.label(lang) for lang in languages}


class FeatureSpace:
    """The columns for one schema and how to fill them from snapshots (fast, pure)."""

    def __init__(self, columns: Sequence[Column]):
        self.columns = list(columns)
        self.names = [c.name for c in self.columns]
        self.index = {c.name: i for i, c in enumerate(self.columns)}
        self.groups: dict[str, list[int]] = {}
        for i, c in enumerate(self.columns):
            self.groups.setdefault(c.key, []).append(i)
        self._plan = self._compile()
        self._fast: tuple[Any, ...] | None = None  # made by _fast_plan on the first transform

    # ---------------------------------------------------------------- building
    @classmethod
    def from_schema(cls, schema: Schema, *, markets: Sequence[str] = MARKETS,
                    exclude: Iterable[str] = EXCLUDED_QUESTIONS) -> "FeatureSpace":
        """Columns for every question of the schema, by type; nothing written by hand."""
        langs = tuple(schema.languages) or ("en",)
        excluded = set(exclude)
        cols: list[Column] = []
        for q in schema.questions.values():
            if q.key in excluded:
                continue
            lab = _labels(q, langs)
            actionable = bool(q.stage) and q.stage != "launched" and "trial" in q.sources
            t = q.type
            if t == "single_choice":
                for c in q.choices:
                    cols.append(Column(f"{q.key}={c}", q.key, "onehot", c, lab,
                                       {lg: q.choice_label(c, lg) for lg in langs}, t))
                cols.append(Column(f"{q.key}=other", q.key, "other", None, lab, {}, t))
                cols.append(Column(f"{q.key}=unknown", q.key, "unknown", None, lab, {}, t))
            elif t == "multi_choice":
                for c in q.choices:
                    cols.append(Column(f"{q.key}+{c}", q.key, "multi", c, lab,
                                       {lg: q.choice_label(c, lg) for lg in langs}, t))
                cols.append(Column(f"{q.key}:answered", q.key, "answered", None, lab, {}, t))
            elif t == "yes_no":
                cols.append(Column(q.key, q.key, "bool", None, lab, {}, t, actionable, q.stage,
                                   tuple(q.markets) if q.markets else None))
            elif t in ("number", "scale"):
                cols.append(Column(q.key, q.key, "number", None, lab, {}, t, unit=q.unit))
                cols.append(Column(f"{q.key}:missing", q.key, "missing", None, lab, {}, t))
            elif t == "money":
                cols.append(Column(f"{q.key}:log_eur", q.key, "money", None, lab, {}, t))
                cols.append(Column(f"{q.key}:missing", q.key, "missing", None, lab, {}, t))
            elif t == "date":
                cols.append(Column(f"{q.key}:days", q.key, "date", None, lab, {}, t))
                cols.append(Column(f"{q.key}:missing", q.key, "missing", None, lab, {}, t))
            else:  # text, phone, email, tax_id: only whether it was answered
                cols.append(Column(f"{q.key}:answered", q.key, "answered", None, lab, {}, t))
        for key, lab in ACTIVITY.items():
            cols.append(Column(key, key, "number", None, lab, {}, "activity", unit=ACTIVITY_UNITS[key]))
        for m in markets:
            cols.append(Column(f"market={m}", "market", "onehot", m, MARKET_LABELS, {lang: m for lang in LANGUAGES}, "market"))
        cols.append(Column("market=other", "market", "other", None, MARKET_LABELS, {}, "market"))
        return cls(cols)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.as_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeatureSpace":
        return cls([Column(name=c["name"], key=c["key"], kind=c["kind"], choice=c.get("choice"),
                           labels=c.get("labels") or {}, choice_labels=c.get("choice_labels") or {},
                           qtype=c.get("qtype", ""), actionable=bool(c.get("actionable")),
                           stage=c.get("stage"), markets=tuple(c["markets"]) if c.get("markets") else None,
                           unit=c.get("unit"))
                    for c in data["columns"]])

    # ---------------------------------------------------------------- filling
    def _compile(self) -> list[tuple[str, str, Any]]:
        """Per question key: how to write its columns (indices precomputed for speed)."""
        plan: list[tuple[str, str, Any]] = []
        for key, idx in self.groups.items():
            cols = [self.columns[i] for i in idx]
            kinds = {c.kind for c in cols}
            if key.startswith("activity."):
                plan.append(("activity", key, idx[0]))
            elif key == "market" or "onehot" in kinds or ("other" in kinds and "unknown" in kinds):
                choices = {c.choice: i for c, i in zip(cols, idx) if c.kind == "onehot"}
                other = next((i for c, i in zip(cols, idx) if c.kind == "other"), None)
                unknown = next((i for c, i in zip(cols, idx) if c.kind == "unknown"), None)
                plan.append(("market" if key == "market" else "single", key, (choices, other, unknown)))
            elif "multi" in kinds:
                choices = {c.choice: i for c, i in zip(cols, idx) if c.kind == "multi"}
                answered = next((i for c, i in zip(cols, idx) if c.kind == "answered"), None)
                plan.append(("multi", key, (choices, answered)))
            elif kinds == {"bool"}:
                plan.append(("bool", key, idx[0]))
            elif "number" in kinds:
                plan.append(("number", key, (idx[0], idx[1] if len(idx) > 1 else None)))
            elif "money" in kinds:
                plan.append(("money", key, (idx[0], idx[1] if len(idx) > 1 else None)))
            elif "date" in kinds:
                plan.append(("date", key, (idx[0], idx[1] if len(idx) > 1 else None)))
            else:
                plan.append(("answered", key, idx[0]))
        return plan

    def fill(self, row: np.ndarray, snap: TrialSnapshot) -> None:
        """Write one snapshot into a row (NaN = missing)."""
        values = snap.values
        for how, key, arg in self._plan:
            if how == "single":
                choices, other, unknown = arg
                v = values.get(key)
                if v is None:
                    if unknown is not None:
                        row[unknown] = 1.0
                else:
                    _mark_choice(row, choices, other, v)
            elif how == "multi":
                v = values.get(key)
                if v is not None:
                    _mark_choices(row, *arg, v)
            elif how == "bool":
                v = values.get(key)
                row[arg] = np.nan if v is None else (1.0 if v is True else 0.0)
            elif how in _MEASURES:
                i, miss = arg
                x = _MEASURES[how](values.get(key), snap.as_of)
                row[i] = np.nan if x is None else x
                if x is None and miss is not None:
                    row[miss] = 1.0
            elif how == "answered":
                v = values.get(key)
                row[arg] = 0.0 if v is None or v == "" else 1.0
            elif how == "activity":
                v = _activity(snap, key)
                row[arg] = np.nan if v is None else float(v)
            elif how == "market":
                choices, other, _unknown = arg
                _mark_choice(row, choices, other, snap.market)

    def transform(self, snapshots: Sequence[TrialSnapshot]) -> np.ndarray:
        """The feature matrix for many snapshots (float64, NaN = missing).

        The same rows as `fill`, faster: every row starts as a snapshot with no answers (the
        unknown, missing and NaN columns set once), then only the questions a snapshot answers
        are written (a few of the ~60), and the activity and market columns.
        """
        X = np.empty((len(snapshots), len(self.columns)), dtype=np.float64)
        if not len(snapshots):
            return X
        blank, by_key, activity, market = self._fast_plan()
        X[:] = blank
        for r, snap in enumerate(snapshots):
            row = X[r]
            for key, v in snap.values.items():
                if v is None:
                    continue
                step = by_key.get(key)
                if step is None:
                    continue
                how, arg = step
                if how == "single":
                    choices, other, unknown = arg
                    if unknown is not None:
                        row[unknown] = 0.0
                    _mark_choice(row, choices, other, v)
                elif how == "multi":
                    _mark_choices(row, *arg, v)
                elif how == "bool":
                    row[arg] = 1.0 if v is True else 0.0
                elif how in _MEASURES:
                    x = _MEASURES[how](v, snap.as_of)
                    if x is not None:
                        i, miss = arg
                        row[i] = x
                        if miss is not None:
                            row[miss] = 0.0
                elif how == "answered":
                    row[arg] = 0.0 if v == "" else 1.0
        for key, i in activity:  # column by column
            field_ = _ACTIVITY_FIELDS.get(key)
            values = (getattr(snap, field_) for snap in snapshots) if field_ else (None for _ in snapshots)
            X[:, i] = [np.nan if a is None else float(a) for a in values]
        for choices, other in market:
            cols = [choices.get(snap.market, other) for snap in snapshots]
            rows = [r for r, c in enumerate(cols) if c is not None]
            X[rows, [cols[r] for r in rows]] = 1.0
        return X

    def _fast_plan(self) -> tuple[Any, ...]:
        """What `transform` needs, made once: the row of a snapshot with no answers (activity and
        market columns 0: every row writes them), the answer-driven steps of the plan by question
        key, the activity columns and the market columns."""
        if getattr(self, "_fast", None) is None:
            blank = np.zeros(len(self.columns), dtype=np.float64)
            self.fill(blank, TrialSnapshot(shop="", market=None, values={}))
            by_key, activity, market = {}, [], []
            for how, key, arg in self._plan:
                if how == "activity":
                    activity.append((key, arg))
                    blank[arg] = 0.0
                elif how == "market":
                    choices, other, _unknown = arg
                    market.append((choices, other))
                    blank[self.groups[key]] = 0.0
                else:
                    by_key[key] = (how, arg)
            self._fast = (blank, by_key, activity, market)
        return self._fast

    # ---------------------------------------------------------------- describing
    def key_label(self, key: str, lang: str = "en") -> str:
        col = self.columns[self.groups[key][0]]
        return col.labels.get(lang) or col.labels.get("en") or key

    def actionable(self, market: str | None = None) -> list[int]:
        """Columns a merchant can still change in the trial shop (checklist items of the market)."""
        return [i for i, c in enumerate(self.columns) if c.actionable and c.applies_to(market)]

    def checklist_size(self, market: str | None) -> int:
        """Items on the market's launch track (what the readiness percent counts)."""
        return sum(1 for c in self.columns
                   if c.stage and c.stage != "launched" and c.kind == "bool"
                   and (c.markets is None or (market is not None and market in c.markets)))


_ACTIVITY_FIELDS = {"activity.readiness_percent": "readiness_percent", "activity.days_active": "days_active",
                    "activity.trial_events": "trial_events", "activity.answers": "answers",
                    "activity.trial_day": "trial_day"}  # the snapshot's field of each (as _activity reads it)


def _activity(snap: TrialSnapshot, key: str) -> float | None:
    if key == "activity.readiness_percent":
        return snap.readiness_percent
    if key == "activity.days_active":
        return snap.days_active
    if key == "activity.trial_events":
        return snap.trial_events
    if key == "activity.answers":
        return snap.answers
    if key == "activity.trial_day":
        return snap.trial_day
    return None


def _mark_choice(row: np.ndarray, choices: Mapping[str, int], other: int | None, v: Any) -> None:
    """A single choice: its column set to 1, or the "other" column for an unseen one (counted, never an error)."""
    i = choices.get(v) if isinstance(v, str) else None
    if i is not None:
        row[i] = 1.0
    elif other is not None:
        row[other] = 1.0


def _mark_choices(row: np.ndarray, choices: Mapping[str, int], answered: int | None, v: Any) -> None:
    """A multiple-choice answer (a list, or one item): its "answered" column and the column of
    each known choice set to 1."""
    if answered is not None:
        row[answered] = 1.0
    for item in (v if isinstance(v, (list, tuple)) else [v]):
        i = choices.get(item) if isinstance(item, str) else None
        if i is not None:
            row[i] = 1.0


def _number(value: Any) -> float | None:
    """A finite number (not a bool) as a float; None otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def money_to_log_eur(value: Any) -> float | None:
    """log(1 + amount in EUR); None when missing or in a currency we cannot convert."""
    if not isinstance(value, Mapping):
        return None
    amount, currency = value.get("amount"), value.get("currency")
    rate = EUR_RATES.get(currency) if isinstance(currency, str) else None
    if rate is None or not isinstance(amount, (int, float)) or isinstance(amount, bool) or amount < 0:
        return None
    return math.log1p(amount * rate)


def _days_until(value: Any, as_of: datetime | None) -> float | None:
    if not isinstance(value, str) or as_of is None:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        return None
    return float((d - as_of.date()).days)


# the value column of a number, money or date question, read from the answer and the snapshot's
# moment (None: missing or unreadable, the column NaN and its ":missing" column 1)
_MEASURES = {"number": lambda value, as_of: _number(value), "money": lambda value, as_of: money_to_log_eur(value),
             "date": _days_until}
