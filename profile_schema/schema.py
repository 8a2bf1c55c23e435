"""Load the versioned interview schema (data files) into typed, read-only objects."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader (~10x faster) when built with it

SCHEMA_DIR = Path(__file__).with_name("schemas")
QUESTION_TYPES = (
    "single_choice", "multi_choice", "yes_no", "number", "money", "scale",
    "text", "date", "phone", "email", "tax_id",
)
CHOICE_TYPES = ("single_choice", "multi_choice")
#: question types whose answers are always personal data (see Question.personal)
PERSONAL_TYPES = ("phone", "email", "tax_id")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class SchemaError(ValueError):
    """The schema file itself is wrong (caught when it is loaded, not when it is used)."""


@dataclass(frozen=True)
class Choice:
    key: str
    labels: Mapping[str, str]
    markets: tuple[str, ...] | None = None
    # the merchant's own wording on the survey, where the label speaks of them in the third person
    asks: Mapping[str, str] = field(default_factory=dict)

    def available_in(self, market: str | None) -> bool:
        return self.markets is None or market is None or market in self.markets

    def label(self, lang: str | None = "en") -> str:
        return self.labels.get(_base_lang(lang)) or self.labels["en"]

    def ask(self, lang: str | None = "en") -> str:
        """The choice as the merchant reads it on the survey, else the label."""
        return self.asks.get(_base_lang(lang)) or self.asks.get("en") or self.label(lang)


@dataclass(frozen=True, kw_only=True)
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
    # the answer identifies or describes the merchant as a person (a name, a contact, a tax id,
    # their own words): exported and erased on request (docs/privacy.md); phone, email and
    # tax_id questions are personal whatever the file says
    personal: bool = False
    # the merchant's own wording on the survey page (second person), by language; empty: the label
    asks: Mapping[str, str] = field(default_factory=dict)
    # asked on the survey's short default part; the rest waits under "Tell us more"
    core: bool = False
    # the stages of the launch track at which this question matters most (asked first then)
    matters_at: tuple[str, ...] = ()

    def ask(self, lang: str | None = "en") -> str:
        """The question as the merchant reads it on the survey (second person), else the label."""
        return self.asks.get(_base_lang(lang)) or self.asks.get("en") or self.label(lang)

    def label(self, lang: str | None = "en") -> str:
        """The question in `lang` (`pl`, `pl_PL`, `tr-TR`...), falling back to English."""
        return self.labels.get(_base_lang(lang)) or self.labels["en"]

    def choice_label(self, choice: str, lang: str | None = "en") -> str:
        c = self.choices.get(choice)
        if c is None:
            return str(choice)
        return c.label(lang)

    @functools.cached_property
    def choice_order(self) -> dict[str, int]:
        """Position of each choice in the file: multi-choice answers are kept in this order."""
        return {c: i for i, c in enumerate(self.choices)}

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
        """The launch checklist for a market, in stage order.

        With no market only the items every market shares: a shop whose market is not
        known cannot be held to Polish, Turkish and Indian legal steps at once.
        """
        items = [q for q in self.questions.values()
                 if q.stage and (q.markets is None or (market is not None and market in q.markets))]
        order = {s: i for i, s in enumerate(self.stages)}
        return sorted(items, key=lambda q: order[q.stage])  # stable: file order within a stage

    def personal_questions(self) -> list[str]:
        """The keys of the questions whose answers are personal data (exported, erased on request)."""
        return [q.key for q in self.questions.values() if q.personal]

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
                    {"key": c.key, "label": c.label(lang),
                     **({"markets": list(c.markets)} if c.markets else {}),
                     **({"ask": c.ask(lang)} if c.asks else {})}
                    for c in q.choices.values()
                ]
            for attr in ("min", "max", "min_length", "max_length", "min_selected",
                         "max_selected", "unit"):
                v = getattr(q, attr)
                if v is not None:
                    item[attr] = v
            if q.integer:
                item["integer"] = True
            if q.personal:
                item["personal"] = True
            if q.asks:
                item["ask"] = q.ask(lang)
                item["asks"] = dict(q.asks)
            if q.core:
                item["core"] = True
            if q.matters_at:
                item["matters_at"] = list(q.matters_at)
            if q.currencies:
                item["currencies"] = list(q.currencies)
            out.append(item)
        return {"version": self.version, "languages": list(self.languages),
                "facets": list(self.facets), "stages": list(self.stages), "questions": out}


class UnknownVersion(SchemaError, KeyError):
    """No schema with that version number (catchable as SchemaError or KeyError)."""

    def __str__(self) -> str:
        return ValueError.__str__(self)


def _fail(where: str, problem: str) -> SchemaError:
    return SchemaError(f"{where}: {problem}")


def _str_list(raw: Any, where: str, what: str) -> tuple[str, ...]:
    if not isinstance(raw, (list, tuple)) or not raw or not all(isinstance(x, str) and x for x in raw):
        raise _fail(where, f"{what} must be a non-empty list of names")
    if len(set(raw)) != len(raw):
        raise _fail(where, f"{what} lists a name twice")
    return tuple(raw)


def _labels(raw: Any, where: str, languages: Iterable[str]) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where}: labels must be a mapping of language to text")
    labels = {k: str(v) for k, v in raw.items() if k not in ("markets", "ask") and v is not None}
    missing = [lang for lang in languages if not labels.get(lang, "").strip()]
    if missing:
        raise SchemaError(f"{where}: missing label for {', '.join(missing)}")
    return labels


def _base_lang(lang: str | None) -> str:
    """`pl_PL`, `tr-TR`, `en_IN` -> the catalogue's language key."""
    from locales import language_base

    return language_base(lang)


_QUESTION_FIELDS = frozenset({
    "key", "type", "label", "sources", "survey_required", "relevant", "markets", "choices",
    "stage", "min", "max", "min_length", "max_length", "min_selected", "max_selected",
    "integer", "unit", "currencies", "renamed_from", "choice_renames", "personal",
    "ask", "core", "matters_at",
})
_TOP_FIELDS = frozenset({"version", "languages", "facets", "stages", "turnover_bands", "questions"})
_OPERATORS = ("equals", "not_equals", "in", "contains", "answered")


def _check_condition(cond: Any, where: str) -> None:
    """Reject malformed skip logic at load time, so evaluating it can never fail later."""
    if not isinstance(cond, Mapping) or not cond:
        raise _fail(where, f"a condition must be a non-empty mapping, not {cond!r}")
    if "all" in cond or "any" in cond:
        if len(cond) != 1:
            raise _fail(where, "a condition uses either all or any, alone")
        subs = cond.get("all", cond.get("any"))
        if not isinstance(subs, list) or not subs:
            raise _fail(where, "all/any need a non-empty list of conditions")
        for sub in subs:
            _check_condition(sub, where)
        return
    if not isinstance(cond.get("question"), str):
        raise _fail(where, f"a condition needs a question: {dict(cond)!r}")
    ops = [op for op in cond if op != "question"]
    if len(ops) != 1 or ops[0] not in _OPERATORS:
        raise _fail(where, f"a condition needs exactly one of {', '.join(_OPERATORS)}: {dict(cond)!r}")
    if ops[0] == "in" and not isinstance(cond["in"], list):
        raise _fail(where, "'in' needs a list")
    if ops[0] == "answered" and not isinstance(cond["answered"], bool):
        raise _fail(where, "'answered' needs true or false")


def _check_condition_values(cond: Mapping[str, Any], where: str, questions: Mapping[str, Question]) -> None:
    """A condition may only compare a choice question with its own choices (typos surface now)."""
    if "all" in cond or "any" in cond:
        for sub in cond.get("all", cond.get("any")):
            _check_condition_values(sub, where, questions)
        return
    dep = questions.get(cond["question"])
    if dep is None:
        raise _fail(where, f"condition on unknown question {cond['question']!r}")
    if dep.key == where:
        raise _fail(where, "a question cannot depend on itself")
    if dep.type in CHOICE_TYPES:
        for op in ("equals", "not_equals", "contains"):
            if op in cond and cond[op] not in dep.choices:
                raise _fail(where, f"{cond[op]!r} is not a choice of {dep.key}")
        for v in cond.get("in", ()):
            if v not in dep.choices:
                raise _fail(where, f"{v!r} is not a choice of {dep.key}")
    if dep.type == "yes_no":
        for op in ("equals", "not_equals"):
            if op in cond and not isinstance(cond[op], bool):
                raise _fail(where, f"{dep.key} is yes/no: compare it with true or false")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _parse_question(raw: Any, version: int, languages: tuple[str, ...], facets: tuple[str, ...],
                    stages: tuple[str, ...]) -> Question:
    from .observations import SOURCES

    if not isinstance(raw, Mapping):
        raise SchemaError(f"each question must be a mapping, not {raw!r}")
    key = raw.get("key", "")
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise SchemaError(f"bad question key {key!r}")
    unknown = sorted(set(map(str, raw)) - _QUESTION_FIELDS)
    if unknown:
        raise _fail(key, f"unknown field(s) {', '.join(unknown)}")
    qtype = raw.get("type")
    if qtype not in QUESTION_TYPES:
        raise _fail(key, f"unknown type {qtype!r}")
    facet = key.split(".", 1)[0]
    if facet not in facets:
        raise _fail(key, f"facet {facet!r} is not declared")
    choices: dict[str, Choice] = {}
    if qtype in CHOICE_TYPES:
        if not isinstance(raw.get("choices"), Mapping) or not raw["choices"]:
            raise _fail(key, "a choice question needs choices")
        for ckey, craw in raw["choices"].items():
            if not isinstance(ckey, str) or not ckey:
                # YAML reads yes/no/on/off/1 as bool or int: a silent "True" choice helps nobody
                raise _fail(key, f"choice key {ckey!r} must be text (quote it in the YAML)")
            markets = None
            if isinstance(craw, Mapping) and craw.get("markets") is not None:
                markets = _str_list(craw["markets"], f"{key}.{ckey}", "markets")
            casks = {}
            if isinstance(craw, Mapping) and craw.get("ask") is not None:
                if "survey" not in raw.get("sources", ["call", "survey", "import"]):
                    raise _fail(key, f"choice {ckey}: ask is for survey questions (sources include survey)")
                casks = _labels(craw["ask"], f"{key}.{ckey} ask", languages)
            choices[str(ckey)] = Choice(str(ckey), _labels(craw, f"{key}.{ckey}", languages), markets, casks)
    elif raw.get("choices") is not None:
        raise _fail(key, f"a {qtype} question has no choices")
    stage = raw.get("stage")
    if stage is not None:
        if stage not in stages:
            raise _fail(key, f"unknown stage {stage!r}")
        if qtype != "yes_no":
            raise _fail(key, "a checklist item (stage) must be a yes_no question")
    sources = _str_list(raw.get("sources", ["call", "survey", "import"]), key, "sources")
    bad = [s for s in sources if s not in SOURCES]
    if bad:
        raise _fail(key, f"unknown source(s) {', '.join(bad)}; use {', '.join(SOURCES)}")
    survey_required = raw.get("survey_required", False)
    if not isinstance(survey_required, bool):
        raise _fail(key, "survey_required must be true or false")
    if survey_required and "survey" not in sources:
        raise _fail(key, "survey_required, but the survey is not one of its sources")
    relevant = raw.get("relevant")
    if relevant is not None:
        _check_condition(relevant, key)
    markets = _str_list(raw["markets"], key, "markets") if raw.get("markets") is not None else None
    qmin = raw.get("min", 1 if qtype == "scale" else None)
    qmax = raw.get("max", 5 if qtype == "scale" else None)
    if qtype in ("number", "money", "scale"):
        for name, bound in (("min", qmin), ("max", qmax)):
            if bound is not None and not _is_number(bound):
                raise _fail(key, f"{name} must be a number")
    elif qtype == "date":
        try:
            qmin = None if qmin is None else date.fromisoformat(str(qmin)).isoformat()
            qmax = None if qmax is None else date.fromisoformat(str(qmax)).isoformat()
        except ValueError:
            raise _fail(key, "min/max of a date must be YYYY-MM-DD") from None
    elif qmin is not None or qmax is not None:
        raise _fail(key, f"a {qtype} question has no min/max")
    if qmin is not None and qmax is not None and qmin > qmax:
        raise _fail(key, "min is greater than max")
    for name in ("min_length", "max_length", "min_selected", "max_selected"):
        v = raw.get(name)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise _fail(key, f"{name} must be a whole number >= 0")
    if qtype == "text" and not raw.get("max_length"):
        raise _fail(key, "a text question needs max_length")
    renamed_from = raw.get("renamed_from") or {}
    choice_renames = raw.get("choice_renames") or {}
    if not isinstance(renamed_from, Mapping) or not isinstance(choice_renames, Mapping):
        raise _fail(key, "renamed_from / choice_renames map a version to the old name(s)")
    try:
        renamed = {int(k): v for k, v in renamed_from.items()}
        crenames = {int(k): {str(a): str(b) for a, b in v.items()} for k, v in choice_renames.items()}
    except (TypeError, ValueError, AttributeError):
        raise _fail(key, "renamed_from / choice_renames map a version to the old name(s)") from None
    for v, old in renamed.items():
        if not 1 <= v < version:
            raise _fail(key, f"renamed_from version {v} must be older than this schema (v{version})")
        if not isinstance(old, str) or not _KEY_RE.match(old):
            raise _fail(key, f"renamed_from {v}: bad question key {old!r}")
    final: dict[str, str] = {}
    for v in sorted(crenames):
        ren = crenames[v]
        if not 1 <= v < version:
            raise _fail(key, f"choice_renames version {v} must be older than this schema (v{version})")
        if qtype not in CHOICE_TYPES:
            raise _fail(key, "only a choice question can rename choices")
        final = {old: ren.get(new, new) for old, new in final.items()}
        final.update({old: new for old, new in ren.items() if old not in final})
    # renames kept from earlier files may pass through names gone since; where they end must exist
    missing = sorted({new for new in final.values() if new not in choices})
    if missing:
        raise _fail(key, f"choice_renames: {', '.join(missing)} not among the choices")
    currencies = None
    if raw.get("currencies") is not None:
        if qtype != "money":
            raise _fail(key, "only a money question has currencies")
        currencies = _str_list(raw["currencies"], key, "currencies")
    integer = raw.get("integer", qtype == "scale")
    if not isinstance(integer, bool):
        raise _fail(key, "integer must be true or false")
    personal = raw.get("personal", qtype in PERSONAL_TYPES)
    if not isinstance(personal, bool):
        raise _fail(key, "personal must be true or false")
    if qtype in PERSONAL_TYPES and not personal:
        raise _fail(key, f"a {qtype} question is always personal")
    asks = _labels(raw["ask"], f"{key} ask", languages) if raw.get("ask") is not None else {}
    core = raw.get("core", False)
    if not isinstance(core, bool):
        raise _fail(key, "core must be true or false")
    if (core or asks) and "survey" not in sources:
        raise _fail(key, "ask and core are for survey questions (sources include survey)")
    matters_at: tuple[str, ...] = ()
    if raw.get("matters_at") is not None:
        matters_at = _str_list(raw["matters_at"], key, "matters_at")
        bad = [s for s in matters_at if s not in stages]
        if bad:
            raise _fail(key, f"matters_at: unknown stage(s) {', '.join(bad)}")
    return Question(
        key=key, type=qtype, labels=_labels(raw.get("label"), key, languages),
        sources=sources, facet=facet, survey_required=survey_required,
        relevant=relevant, markets=markets, choices=choices, stage=stage,
        min=qmin, max=qmax,
        min_length=raw.get("min_length"), max_length=raw.get("max_length"),
        min_selected=raw.get("min_selected"), max_selected=raw.get("max_selected"),
        integer=integer, unit=raw.get("unit"), currencies=currencies,
        renamed_from=renamed, choice_renames=crenames, personal=personal,
        asks=asks, core=core, matters_at=matters_at,
    )


def _parse_bands(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SchemaError("turnover_bands must be a mapping")
    keys = _str_list(raw.get("keys"), "turnover_bands", "keys")
    out: dict[str, Any] = {"keys": list(keys)}
    for currency, limits in raw.items():
        if currency == "keys":
            continue
        where = f"turnover_bands.{currency}"
        if (not isinstance(limits, list) or len(limits) != len(keys) - 1
                or not all(_is_number(x) for x in limits)):
            raise _fail(where, f"needs {len(keys) - 1} upper bounds (one fewer than the keys)")
        if any(a >= b for a, b in zip(limits, limits[1:])):
            raise _fail(where, "upper bounds must rise")
        out[str(currency)] = list(limits)
    return out


def parse_schema(data: Any) -> Schema:
    """Build a Schema from parsed YAML, checking it thoroughly so mistakes surface at load."""
    if not isinstance(data, Mapping):
        raise SchemaError("a schema file must be a mapping (version, languages, facets, questions)")
    unknown = sorted(set(map(str, data)) - _TOP_FIELDS)
    if unknown:
        raise SchemaError(f"unknown top-level field(s) {', '.join(unknown)}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SchemaError(f"version must be a whole number >= 1, not {version!r}")
    languages = _str_list(data.get("languages", ["en"]), "languages", "languages")
    if "en" not in languages:
        raise SchemaError("languages must include en (the fallback)")
    facets = _str_list(data.get("facets"), "facets", "facets")
    stages = _str_list(data["stages"], "stages", "stages") if data.get("stages") else ()
    if not isinstance(data.get("questions"), list) or not data["questions"]:
        raise SchemaError("questions must be a non-empty list")
    questions: dict[str, Question] = {}
    for raw in data["questions"]:
        q = _parse_question(raw, version, languages, facets, stages)
        if q.key in questions:
            raise SchemaError(f"{q.key}: defined twice")
        questions[q.key] = q
    for q in questions.values():
        if q.relevant:
            _check_condition_values(q.relevant, q.key, questions)
    return Schema(version, languages, facets, stages, questions, _parse_bands(data.get("turnover_bands")))


def load_schema_file(path: str | Path) -> Schema:
    """Read and check one schema file; any mistake in it is a SchemaError naming the file."""
    with open(path, encoding="utf-8") as fh:
        try:
            data = yaml.load(fh, Loader=_FAST_LOADER)
        except yaml.YAMLError as exc:
            raise SchemaError(f"{path}: not valid YAML: {exc}") from None
    try:
        return parse_schema(data)
    except SchemaError as exc:
        raise SchemaError(f"{path}: {exc}") from None


Node = tuple[int, str]  # (schema version, question key as it was in that version)


class SchemaRegistry:
    """All versions of the schema; maps answers recorded under any version to the latest.

    Identity of a question across versions: the same key in two consecutive versions is
    the same question, unless a rename says otherwise; `renamed_from: {N: old}` on a
    question says "answers recorded under version N as `old` are answers to me".
    Renames chain (a -> b in v2, b -> c in v3), may skip versions and may swap keys;
    `choice_renames: {N: {old: new}}` likewise maps choice keys recorded under version
    N (or earlier, while the choice kept its name) to this version's keys.
    """

    def __init__(self, schemas: Iterable[Schema]):
        versions: dict[int, Schema] = {}
        for s in schemas:
            if s.version in versions:
                raise SchemaError(f"schema version {s.version} given twice")
            versions[s.version] = s
        if not versions:
            raise SchemaError("no schema versions")
        self.versions: dict[int, Schema] = dict(sorted(versions.items()))
        self.latest: Schema = self.versions[max(self.versions)]
        self._key_map, self._choice_map = self._link()

    def _link(self) -> tuple[dict[Node, str | None], dict[Node, dict[str, str]]]:
        parent: dict[Node, Node] = {}

        def find(n: Node) -> Node:
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        def union(a: Node, b: Node) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[rb] = ra

        for v, schema in self.versions.items():
            for k in schema.questions:
                parent[(v, k)] = (v, k)
        unloaded = sorted({u for schema in self.versions.values() for q in schema.questions.values()
                           for u in (*q.renamed_from, *q.choice_renames) if u not in self.versions})
        prev: int | None = None
        for w, schema in self.versions.items():
            links: list[tuple[Node, Node]] = []
            for q in schema.questions.values():
                for u, old in q.renamed_from.items():
                    node = (u, old)
                    if node not in parent:
                        if u in self.versions:
                            raise SchemaError(
                                f"v{w} {q.key}: renamed_from {u}: {old!r} is not a question of v{u}")
                        parent[node] = node  # that version is not loaded: trust the file
                    links.append((node, (w, q.key)))
            claims: dict[Node, Node] = {}
            for node, target in links:
                root = find(node)
                if claims.setdefault(root, target) != target:
                    raise SchemaError(
                        f"v{w}: {claims[root][1]} and {target[1]} both claim to be {node[1]} of v{node[0]}")
            if prev is not None:
                for k in self.versions[prev].questions:
                    if k not in schema.questions:
                        continue  # retired (or renamed: the rename links it below)
                    root = find((prev, k))
                    claimer = claims.get(root)
                    if claimer is not None and claimer != (w, k):
                        continue  # the old k became another question; this k is new
                    own = schema.questions[k].renamed_from.items()
                    if own and all(find(n) != root for n in own):
                        continue  # this k was renamed from something else; the old k retired
                    union((prev, k), (w, k))
            # a version between the loaded ones (or before them) that renames still speak of:
            # its keys are taken to be this version's, except where a rename says otherwise
            for u in unloaded:
                if (prev is None or prev < u) and u < w:
                    for k, q in schema.questions.items():
                        if (u, k) not in parent and u not in q.renamed_from:
                            parent[(u, k)] = (u, k)
                            union((u, k), (w, k))
            for node, target in links:
                union(node, target)
            prev = w

        classes: dict[Node, list[Node]] = {}
        for n in parent:
            classes.setdefault(find(n), []).append(n)
        key_map: dict[Node, str | None] = {}
        choice_map: dict[Node, dict[str, str]] = {}
        latest_v = self.latest.version
        for members in classes.values():
            by_version: dict[int, str] = {}
            for v, k in members:
                if v in by_version and v in self.versions:
                    raise SchemaError(f"v{v}: {by_version[v]} and {k} would become one question")
                by_version[v] = k
            current = by_version.get(latest_v)
            for v, k in members:
                key_map[(v, k)] = current
                if current is not None and v != latest_v:
                    m = self._compose_choice_renames(v, k, by_version)
                    if m:
                        choice_map[(v, current)] = m
        return key_map, choice_map

    def _compose_choice_renames(self, v: int, key: str, by_version: Mapping[int, str]) -> dict[str, str]:
        """Where each choice recorded under version v (as question `key`) ends up today.

        A rename `{u: {old: new}}` applies to values recorded up to version u, and to later
        ones while the question still offered `old` (the rename named the first version).
        """
        names: set[str] = set()
        alive: set[str] = set()
        if v in self.versions and key in self.versions[v].questions:
            alive = set(self.versions[v].questions[key].choices)
            names |= alive
        steps = []
        for w, k in by_version.items():
            if w > v and w in self.versions:
                q = self.versions[w].questions[k]
                steps.append((w, q))
                for ren in q.choice_renames.values():
                    names |= set(ren)
        mapping = {c: c for c in names}
        applied: set[tuple[int, tuple[tuple[str, str], ...]]] = set()
        for w, q in sorted(steps, key=lambda s: s[0]):
            for u in sorted(q.choice_renames):
                ren = q.choice_renames[u]
                ident = (u, tuple(sorted(ren.items())))
                if ident in applied:
                    continue  # the same rename, copied forward into a later file
                applied.add(ident)
                if u < v:  # recorded after that rename: only names the question still had apply
                    ren = {old: new for old, new in ren.items() if old in alive}
                mapping = {c: ren.get(t, t) for c, t in mapping.items()}
        return {c: t for c, t in mapping.items() if c != t}

    def current_key(self, key: str, version: int) -> str | None:
        """Today's key for `key` as recorded under `version`; None if that question was retired.

        A key the registry does not know for that version (an unloaded version, a typo)
        is returned unchanged: the fold then keeps it only if today's schema has it.
        """
        return self._key_map.get((version, key), key)

    def upgrade_value(self, current_key: str, value: Any, version: int) -> Any:
        """Map choice keys recorded under `version` to today's keys (single or multi choice)."""
        renames = self._choice_map.get((version, current_key))
        if not renames:
            return value
        if isinstance(value, str):
            return renames.get(value, value)
        if isinstance(value, list):
            out: list[Any] = []
            for x in value:
                x = renames.get(x, x) if isinstance(x, str) else x
                if x not in out:  # two old choices merged into one
                    out.append(x)
            return out
        return value

    def get(self, version: int | None = None) -> Schema:
        if version is None:
            return self.latest
        try:
            return self.versions[version]
        except KeyError:
            raise UnknownVersion(f"no schema version {version}; have {', '.join(map(str, self.versions))}") from None


_FILE_RE = re.compile(r"^v([0-9]+)$")


@functools.lru_cache(maxsize=None)
def load_registry(directory: str | None = None) -> SchemaRegistry:
    """Every `v<N>.yaml` in the schema folder, read once; the file name must match its version."""
    folder = Path(directory) if directory else SCHEMA_DIR
    schemas = []
    for p in folder.glob("v*.yaml"):
        m = _FILE_RE.match(p.stem)
        if not m:
            continue
        schema = load_schema_file(p)
        if schema.version != int(m.group(1)):
            raise SchemaError(f"{p}: declares version {schema.version}, but the file name says {m.group(1)}")
        schemas.append(schema)
    return SchemaRegistry(schemas)


def load_schema(version: int | None = None) -> Schema:
    return load_registry().get(version)
