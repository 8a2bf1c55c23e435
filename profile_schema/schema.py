"""Load the versioned interview schema (data files) into typed, read-only objects."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

SCHEMA_DIR = Path(__file__).with_name("schemas")
QUESTION_TYPES = (
    "single_choice", "multi_choice", "yes_no", "number", "money", "scale",
    "text", "date", "phone", "email", "tax_id",
)
CHOICE_TYPES = ("single_choice", "multi_choice")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class SchemaError(ValueError):
    """The schema file itself is wrong (caught when it is loaded, not when it is used)."""


@dataclass(frozen=True)
class Choice:
    key: str
    labels: Mapping[str, str]
    markets: tuple[str, ...] | None = None

    def available_in(self, market: str | None) -> bool:
        return self.markets is None or market is None or market in self.markets


@dataclass(frozen=True)
class Question:
    """One question of the interview, with everything needed to ask, check and show it."""

    key: str
    type: str
    labels: Mapping[str, str]
    sources: tuple[str, ...]
    facet: str
    survey_required: bool = False
    relevant: Mapping[str, Any] | None = None
    markets: tuple[str, ...] | None = None
    choices: Mapping[str, Choice] = field(default_factory=dict)
    stage: str | None = None
    min: Any = None
    max: Any = None
    min_length: int | None = None
    max_length: int | None = None
    min_selected: int | None = None
    max_selected: int | None = None
    integer: bool = False
    unit: str | None = None
    currencies: tuple[str, ...] | None = None
    renamed_from: Mapping[int, str] = field(default_factory=dict)
    choice_renames: Mapping[int, Mapping[str, str]] = field(default_factory=dict)

    def label(self, lang: str = "en") -> str:
        return self.labels.get(lang) or self.labels["en"]

    def choice_label(self, choice: str, lang: str = "en") -> str:
        c = self.choices.get(choice)
        if c is None:
            return choice
        return c.labels.get(lang) or c.labels["en"]

    def applies_to(self, market: str | None) -> bool:
        return self.markets is None or market is None or market in self.markets

    def choices_for(self, market: str | None) -> list[Choice]:
        return [c for c in self.choices.values() if c.available_in(market)]

    def condition_questions(self) -> list[str]:
        return sorted(_condition_keys(self.relevant)) if self.relevant else []


def _condition_keys(cond: Mapping[str, Any] | None) -> set[str]:
    if not cond:
        return set()
    if "all" in cond or "any" in cond:
        out: set[str] = set()
        for sub in cond.get("all", []) + cond.get("any", []):
            out |= _condition_keys(sub)
        return out
    return {cond["question"]}


def evaluate_condition(cond: Mapping[str, Any] | None, known: Mapping[str, Any]) -> bool | None:
    """Skip logic: True (ask), False (skip) or None (cannot tell yet: ask)."""
    if not cond:
        return True
    if "all" in cond:
        results = [evaluate_condition(c, known) for c in cond["all"]]
        if any(r is False for r in results):
            return False
        return True if all(r is True for r in results) else None
    if "any" in cond:
        results = [evaluate_condition(c, known) for c in cond["any"]]
        if any(r is True for r in results):
            return True
        return False if all(r is False for r in results) else None
    key = cond["question"]
    if key not in known or known[key] is None:
        if "answered" in cond:
            return not cond["answered"]
        return None
    value = known[key]
    if "answered" in cond:
        return bool(cond["answered"])
    if "equals" in cond:
        return value == cond["equals"]
    if "not_equals" in cond:
        return value != cond["not_equals"]
    if "in" in cond:
        return value in cond["in"]
    if "contains" in cond:
        return isinstance(value, (list, tuple)) and cond["contains"] in value
    raise SchemaError(f"unknown condition {cond!r}")


@dataclass(frozen=True)
class Schema:
    """One version of the interview."""

    version: int
    languages: tuple[str, ...]
    facets: tuple[str, ...]
    stages: tuple[str, ...]
    questions: Mapping[str, Question]
    turnover_bands: Mapping[str, Any]

    def __getitem__(self, key: str) -> Question:
        return self.questions[key]

    def __contains__(self, key: object) -> bool:
        return key in self.questions

    def by_facet(self, facet: str) -> list[Question]:
        return [q for q in self.questions.values() if q.facet == facet]

    def checklist(self, market: str | None) -> list[Question]:
        """The launch checklist for a market, in stage order."""
        items = [q for q in self.questions.values() if q.stage and q.applies_to(market)]
        order = {s: i for i, s in enumerate(self.stages)}
        return sorted(items, key=lambda q: order[q.stage])  # stable: file order within a stage

    def survey_questions(self, market: str | None) -> list[Question]:
        return [q for q in self.questions.values() if "survey" in q.sources and q.applies_to(market)]

    def validate(self, answers: Mapping[str, Any], **kwargs: Any):
        from .validation import validate_answers

        return validate_answers(self, answers, **kwargs)

    def describe(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready description (the `schema show --json` contract)."""
        out = []
        for q in self.questions.values():
            item: dict[str, Any] = {
                "key": q.key, "type": q.type, "facet": q.facet, "label": q.label(lang),
                "labels": dict(q.labels), "sources": list(q.sources),
                "survey_required": q.survey_required,
            }
            if q.markets:
                item["markets"] = list(q.markets)
            if q.relevant:
                item["relevant"] = q.relevant
            if q.stage:
                item["stage"] = q.stage
            if q.choices:
                item["choices"] = [
                    {"key": c.key, "label": c.labels.get(lang) or c.labels["en"],
                     **({"markets": list(c.markets)} if c.markets else {})}
                    for c in q.choices.values()
                ]
            for attr in ("min", "max", "min_length", "max_length", "min_selected",
                         "max_selected", "unit"):
                v = getattr(q, attr)
                if v is not None:
                    item[attr] = v
            if q.integer:
                item["integer"] = True
            if q.currencies:
                item["currencies"] = list(q.currencies)
            out.append(item)
        return {"version": self.version, "languages": list(self.languages),
                "facets": list(self.facets), "stages": list(self.stages), "questions": out}


def _labels(raw: Any, where: str, languages: Iterable[str]) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where}: labels must be a mapping of language to text")
    labels = {k: str(v) for k, v in raw.items() if k != "markets"}
    missing = [lang for lang in languages if not labels.get(lang, "").strip()]
    if missing:
        raise SchemaError(f"{where}: missing label for {', '.join(missing)}")
    return labels


def parse_schema(data: Mapping[str, Any]) -> Schema:
    """Build a Schema from parsed YAML, checking it thoroughly so mistakes surface at load."""
    version = int(data["version"])
    languages = tuple(data.get("languages", ["en"]))
    facets = tuple(data["facets"])
    stages = tuple(data.get("stages", ()))
    questions: dict[str, Question] = {}
    for raw in data["questions"]:
        key = raw.get("key", "")
        if not _KEY_RE.match(key):
            raise SchemaError(f"bad question key {key!r}")
        if key in questions:
            raise SchemaError(f"{key}: defined twice")
        qtype = raw.get("type")
        if qtype not in QUESTION_TYPES:
            raise SchemaError(f"{key}: unknown type {qtype!r}")
        facet = key.split(".", 1)[0]
        if facet not in facets:
            raise SchemaError(f"{key}: facet {facet!r} is not declared")
        choices: dict[str, Choice] = {}
        if qtype in CHOICE_TYPES:
            if not raw.get("choices"):
                raise SchemaError(f"{key}: a choice question needs choices")
            for ckey, craw in raw["choices"].items():
                markets = tuple(craw["markets"]) if isinstance(craw, Mapping) and craw.get("markets") else None
                choices[str(ckey)] = Choice(str(ckey), _labels(craw, f"{key}.{ckey}", languages), markets)
        stage = raw.get("stage")
        if stage is not None and stage not in stages:
            raise SchemaError(f"{key}: unknown stage {stage!r}")
        sources = tuple(raw.get("sources", ("call", "survey", "import")))
        q = Question(
            key=key, type=qtype, labels=_labels(raw.get("label"), key, languages),
            sources=sources, facet=facet,
            survey_required=bool(raw.get("survey_required", False)),
            relevant=raw.get("relevant"),
            markets=tuple(raw["markets"]) if raw.get("markets") else None,
            choices=choices, stage=stage,
            min=raw.get("min", 1 if qtype == "scale" else None),
            max=raw.get("max", 5 if qtype == "scale" else None),
            min_length=raw.get("min_length"), max_length=raw.get("max_length"),
            min_selected=raw.get("min_selected"), max_selected=raw.get("max_selected"),
            integer=bool(raw.get("integer", qtype == "scale")), unit=raw.get("unit"),
            currencies=tuple(raw["currencies"]) if raw.get("currencies") else None,
            renamed_from={int(k): v for k, v in (raw.get("renamed_from") or {}).items()},
            choice_renames={int(k): dict(v) for k, v in (raw.get("choice_renames") or {}).items()},
        )
        if qtype == "text" and not q.max_length:
            raise SchemaError(f"{key}: a text question needs max_length")
        questions[key] = q
    for q in questions.values():
        for dep in q.condition_questions():
            if dep not in questions:
                raise SchemaError(f"{q.key}: condition on unknown question {dep!r}")
    return Schema(version, languages, facets, stages, questions, data.get("turnover_bands", {}))


def load_schema_file(path: str | Path) -> Schema:
    with open(path, encoding="utf-8") as fh:
        return parse_schema(yaml.safe_load(fh))


class SchemaRegistry:
    """All versions of the schema; maps answers recorded under any version to the latest."""

    def __init__(self, schemas: Iterable[Schema]):
        self.versions: dict[int, Schema] = {s.version: s for s in schemas}
        if not self.versions:
            raise SchemaError("no schema versions")
        self.latest: Schema = self.versions[max(self.versions)]
        # (version, old key) -> current key; follow the rename chain through every version.
        self._key_map: dict[tuple[int, str], str] = {}
        self._choice_map: dict[tuple[int, str], Mapping[str, str]] = {}
        for v, schema in self.versions.items():
            for key in schema.questions:
                self._key_map[(v, key)] = self._forward(v, key)
        for q in self.latest.questions.values():
            for v, old in q.renamed_from.items():
                self._key_map[(v, old)] = q.key
            for v, renames in q.choice_renames.items():
                self._choice_map[(v, q.key)] = renames

    def _forward(self, version: int, key: str) -> str:
        current = key
        for v in sorted(self.versions):
            if v <= version:
                continue
            for q in self.versions[v].questions.values():
                if q.renamed_from.get(v - 1) == current or q.renamed_from.get(version) == current:
                    current = q.key
                    break
        return current

    def current_key(self, key: str, version: int) -> str:
        return self._key_map.get((version, key), key)

    def upgrade_value(self, current_key: str, value: Any, version: int) -> Any:
        """Map choice keys renamed since `version` to today's keys."""
        renames: dict[str, str] = {}
        for v in sorted(self.versions):
            if v > version:
                # a choice renamed in a later version applies to anything older
                for old, new in self._choice_map.get((v - 1, current_key), {}).items():
                    renames[old] = new
        if not renames:
            return value
        if isinstance(value, list):
            return [renames.get(x, x) for x in value]
        if isinstance(value, str):
            return renames.get(value, value)
        return value

    def get(self, version: int | None = None) -> Schema:
        return self.latest if version is None else self.versions[version]


@functools.lru_cache(maxsize=None)
def load_registry(directory: str | None = None) -> SchemaRegistry:
    """Every `v*.yaml` in the schema folder, read once."""
    folder = Path(directory) if directory else SCHEMA_DIR
    files = sorted(folder.glob("v*.yaml"), key=lambda p: int(p.stem[1:]))
    return SchemaRegistry(load_schema_file(p) for p in files)


def load_schema(version: int | None = None) -> Schema:
    return load_registry().get(version)
