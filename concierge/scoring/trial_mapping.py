"""The mapping of a trial-history CSV onto interview questions, and a starter one inferred from a file.

Mapping file (YAML) for `concierge import trials FILE.csv --mapping FILE.yaml` (docs/import.md, Trial histories)::

    schema: leads-schema.yaml   # optional: the interview schema, relative to this file (--schema wins)
    outcome: Converted          # the outcome column, or {column: Converted, values: {Won: converted}}
                                # an empty cell (or a placeholder) is an open trial: imported and scored
    id: Lead Number             # optional: the platform's shop id (default: file name and row)
    date: Created               # optional: trial start, or {column: Created, format: "%d/%m/%Y"}
    market: Country             # a column (PL, TR, IN), or {default: PL}
    trial_days: 14              # how long a trial lasts: when a `known: end` column became known
    delimiter: ","              # default ","
    placeholders: [Select, "-"] # cells that mean "missing" in every column (case-insensitive)
    ignore: [Prospect ID]       # columns left out on purpose (not listed as unused)
    columns:
      Lead Source: lead.source  # column -> question, known at the trial's start
      Lead Origin:
        question: lead.origin
        values: {"Landing Page Submission": landing_page}  # what the file says -> the answer
        placeholders: [Select]  # this column only
        known: start            # start (default) | end
        note: free text for people; ignored
      Total Visits: {question: lead.visits, known: end}

`known: end` means the column was filled in during or at the end of the trial (a counter, a
last activity, a sales stage): it is stored as observed at the trial's end (start +
`trial_days`), so a snapshot taken during the trial (the model's day-7 features) never
sees it. A value of a choice question that is not one of its choices becomes `other`
(when the question has that choice; else it is left empty) and is counted in the report.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

import profile_schema
from locales import MARKET_CODES
from locales.yesno import read_yes_no

KNOWN = ("start", "end")
DEFAULT_TRIAL_DAYS = 14
OTHER = "other"
_FIELDS = frozenset({"schema", "outcome", "id", "date", "market", "trial_days", "delimiter", "placeholders",
                     "ignore", "columns"})
_COLUMN_FIELDS = frozenset({"question", "values", "placeholders", "known", "note", "split"})
# cells a form or CRM writes when nobody chose anything: inferred as placeholders when seen
COMMON_PLACEHOLDERS = ("select", "please select", "choose", "-- select --", "--", "-", "n/a", "na", "none",
                       "null", "nan", "not specified", "not provided", "unknown", "?", "wybierz", "seçiniz",
                       "lütfen seçiniz")


#: Outcome words beyond yes and no (which come from locales.yesno, in every language it lists).
CONVERTED = {"converted", "subscribed", "paid", "won"}
NOT_CONVERTED = {"not_converted", "churned", "lost"}


class TrialMappingError(Exception):
    """The mapping file itself is wrong: nothing is imported. Pure (no concierge error class): the
    import operation answers it as `BadMapping`, a ConciergeError with code "bad_mapping"."""


def fold(text: Any) -> str:
    """How cells and map keys are compared: NFKC, case-folded, trimmed, inner spaces single."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def parse_outcome(raw: Any) -> str | None:
    """"converted", "not_converted", or None when the cell names no outcome."""
    s = str(raw or "").strip().lower()
    if s in CONVERTED:
        return "converted"
    if s in NOT_CONVERTED:
        return "not_converted"
    said = read_yes_no(s)  # yes/no, 1/0, true/false in any language locales.yesno lists
    return "converted" if said is True else "not_converted" if said is False else None


@dataclass(frozen=True)
class ColumnRule:
    column: str
    question: str
    values: Mapping[str, Any] = field(default_factory=dict)   # folded cell -> answer
    placeholders: frozenset[str] = frozenset()                 # folded
    known: str = "start"
    split: str = ","


@dataclass(frozen=True)
class TrialMapping:
    columns: tuple[ColumnRule, ...]
    outcome: str | None = None
    outcome_values: Mapping[str, str] = field(default_factory=dict)
    id: str | None = None
    date: str | None = None
    date_format: str | None = None
    market: str | None = None
    default_market: str | None = None
    trial_days: int = DEFAULT_TRIAL_DAYS
    delimiter: str = ","
    placeholders: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    schema_file: str | None = None
    file: str | None = None   # where it was loaded from (kept with dead letters for replay)

    def placeholder(self, rule: ColumnRule | None, cell: str) -> bool:
        f = fold(cell)
        return f in self.placeholders or (rule is not None and f in rule.placeholders)


def _column_name(v: Any, where: str) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int, float)) or str(v).strip() == "":
        raise TrialMappingError(f"{where} must be a column name, not {v!r}")
    return str(v)


def _folded_list(v: Any, where: str) -> frozenset[str]:
    if v is None:
        return frozenset()
    if isinstance(v, (str, int, float)) and not isinstance(v, bool):
        v = [v]
    if not isinstance(v, list) or any(isinstance(x, bool) or x is None for x in v):
        raise TrialMappingError(f"{where} must be a list of cells (quote yes/no in the YAML)")
    return frozenset(fold(x) for x in v)


def _value_map(v: Any, where: str) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise TrialMappingError(f"{where}: `values` must map what the file says to the answer")
    out = {}
    for k, a in v.items():
        if isinstance(k, bool):  # YAML 1.1 reads an unquoted yes/no as a bool
            raise TrialMappingError(f"{where}: value key {k!r} must be quoted text in the YAML")
        out[fold(k)] = a
    return out


def parse_mapping(data: Any, *, base_dir: Path | None = None, schema: profile_schema.Schema | None = None,
                  file: str | None = None) -> TrialMapping:
    """Check a mapping (parsed YAML); every mistake at once, as a TrialMappingError."""
    if not isinstance(data, Mapping):
        raise TrialMappingError("the mapping must be a YAML mapping with `outcome` and `columns`")
    problems: list[str] = []
    unknown = sorted(set(map(str, data)) - _FIELDS)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(_FIELDS))})")

    def attempt(fn, *a, **kw):
        try:
            return fn(*a, **kw)
        except TrialMappingError as exc:
            problems.append(str(exc))
            return None

    outcome, outcome_values = data.get("outcome"), {}
    if isinstance(outcome, Mapping):
        outcome_values = attempt(_value_map, outcome.get("values"), "outcome") or {}
        for k, v in outcome_values.items():
            if v not in ("converted", "not_converted"):
                problems.append(f"outcome: {k!r} maps to {v!r}; use converted or not_converted")
        outcome = outcome.get("column")
    outcome = attempt(_column_name, outcome, "outcome") if outcome is not None else None
    id_col = attempt(_column_name, data["id"], "id") if data.get("id") is not None else None
    date_col, date_format = data.get("date"), None
    if isinstance(date_col, Mapping):
        date_format = date_col.get("format")
        date_col = date_col.get("column")
        if date_format is not None and not isinstance(date_format, str):
            problems.append("date: `format` must be a strptime format such as \"%d/%m/%Y\"")
    date_col = attempt(_column_name, date_col, "date") if date_col is not None else None
    market, default_market = data.get("market"), None
    if isinstance(market, Mapping):
        default_market = market.get("default")
        market = market.get("column")
        if default_market is not None:
            default_market = str(default_market).upper()
            if default_market not in MARKET_CODES:
                problems.append(f"market: default {default_market!r} is not one of {', '.join(MARKET_CODES)}")
    market = attempt(_column_name, market, "market") if market is not None else None
    trial_days = data.get("trial_days", DEFAULT_TRIAL_DAYS)
    if not isinstance(trial_days, int) or isinstance(trial_days, bool) or not 1 <= trial_days <= 365:
        problems.append(f"trial_days must be a whole number of days (1-365), not {trial_days!r}")
        trial_days = DEFAULT_TRIAL_DAYS
    delimiter = data.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        problems.append(f"delimiter must be one character, not {delimiter!r}")
        delimiter = ","
    placeholders = attempt(_folded_list, data.get("placeholders"), "placeholders") or frozenset()
    ignore = data.get("ignore") or []
    if not isinstance(ignore, list):
        problems.append("ignore must be a list of column names")
        ignore = []
    schema_file = data.get("schema")
    if schema_file is not None:
        if not isinstance(schema_file, str):
            problems.append("schema must be a file name")
            schema_file = None
        else:
            p = Path(schema_file)
            schema_file = str((base_dir / p) if base_dir and not p.is_absolute() else p)
    cols_raw = data.get("columns")
    rules: list[ColumnRule] = []
    if not isinstance(cols_raw, Mapping) or not cols_raw:
        problems.append("columns must map each CSV column to a question (e.g. Lead Source: lead.source)")
        cols_raw = {}
    seen_q: dict[str, str] = {}
    for col, spec in cols_raw.items():
        where = f"columns.{col}"
        if isinstance(spec, str):
            spec = {"question": spec}
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: give a question key or {{question: ..., known: start|end}}")
            continue
        bad = sorted(set(map(str, spec)) - _COLUMN_FIELDS)
        if bad:
            problems.append(f"{where}: unknown field(s) {', '.join(bad)} (known: {', '.join(sorted(_COLUMN_FIELDS))})")
        q = spec.get("question")
        if not isinstance(q, str) or not q:
            problems.append(f"{where}: `question` is required")
            continue
        if schema is not None and q not in schema.questions:
            problems.append(f"{where}: {q!r} is not a question of the schema")
        if q in seen_q:
            problems.append(f"{where}: {q!r} is already the question of column {seen_q[q]!r}")
        seen_q[q] = str(col)
        known = spec.get("known", "start")
        if known not in KNOWN:
            problems.append(f"{where}: known must be start or end, not {known!r}")
            known = "start"
        split = spec.get("split", ",")
        if not isinstance(split, str) or not split:
            problems.append(f"{where}: split must be a separator such as \",\"")
            split = ","
        rules.append(ColumnRule(str(col), q, attempt(_value_map, spec.get("values"), where) or {},
                                attempt(_folded_list, spec.get("placeholders"), f"{where}.placeholders")
                                or frozenset(), known, split))
    if problems:
        raise TrialMappingError("the mapping is not valid: " + "; ".join(problems))
    return TrialMapping(tuple(rules), outcome, outcome_values, id_col, date_col, date_format, market,
                        default_market, trial_days, delimiter, placeholders, frozenset(map(str, ignore)),
                        schema_file, file)


def load_mapping(path: str | Path, *, schema: profile_schema.Schema | None = None) -> TrialMapping:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TrialMappingError(f"{p.name}: cannot read the mapping: {exc}") from None
    return parse_mapping(data, base_dir=p.resolve().parent, schema=schema, file=str(p.resolve()))


def mapping_schema_file(path: str | Path) -> str | None:
    """The `schema:` a mapping file names (resolved beside it), read before the rest is checked."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TrialMappingError(f"{p.name}: cannot read the mapping: {exc}") from None
    v = data.get("schema") if isinstance(data, Mapping) else None
    if not isinstance(v, str) or not v:
        return None
    return str(Path(v) if Path(v).is_absolute() else p.resolve().parent / v)


def implicit_mapping(header: Sequence[str], schema: profile_schema.Schema, *, outcome: str | None,
                     date_col: str | None, market: str | None, default_market: str | None,
                     id_col: str | None) -> TrialMapping:
    """Without --mapping: every column named like a question key answers it, known at the start."""
    used = {outcome, date_col, market, id_col}
    rules = tuple(ColumnRule(h, h) for h in header if h in schema.questions and h != "trial.outcome" and h not in used)
    return TrialMapping(rules, outcome, {}, id_col, date_col, None, market, default_market)


def with_overrides(m: TrialMapping, **cli: Any) -> TrialMapping:
    """The command line's --outcome/--date/--market/--default-market/--id win over the mapping's."""
    from dataclasses import replace

    changes = {k: v for k, v in cli.items() if v is not None}
    if "market" in changes:
        changes["default_market"] = None
    elif "default_market" in changes:
        changes["market"] = None
    return replace(m, **changes)


# ------------------------------------------------------------------------- values


def resolve_choice(q: profile_schema.Question, cell: str) -> str | None:
    """The choice a cell names: its key or a label in any language (case-insensitive); None if none."""
    if cell in q.choices:
        return cell
    f = fold(cell)
    for key, c in q.choices.items():
        if fold(key) == f or any(fold(lab) == f for lab in c.labels.values()):
            return key
    return None


def map_cell(rule: ColumnRule, q: profile_schema.Question, cell: str) -> tuple[Any, list[str]]:
    """(the answer to validate, the cells that were not choices of the question)."""
    v: Any = rule.values.get(fold(cell), cell)
    if q.type == "single_choice" and isinstance(v, str):
        c = resolve_choice(q, v)
        if c is None:
            return (OTHER if OTHER in q.choices else None), [cell]
        return c, []
    if q.type == "multi_choice" and isinstance(v, str):
        items, unseen = [], []
        for part in (p.strip() for p in v.split(rule.split)):
            if not part:
                continue
            mapped = rule.values.get(fold(part), part)
            c = resolve_choice(q, mapped) if isinstance(mapped, str) else None
            if c is None:
                unseen.append(part)
                c = OTHER if OTHER in q.choices else None
            if c is not None and c not in items:
                items.append(c)
        return (items or None), unseen
    return v, []


def parse_date(cell: str, fmt: str | None) -> date | datetime | None:
    if fmt:
        try:
            return datetime.strptime(cell.strip(), fmt)
        except ValueError:
            return None
    return None


# ------------------------------------------------------------------------- inference

_OUTCOME_NAMES = ("converted", "conversion", "outcome", "subscribed", "paid", "won", "target", "label", "churned")


def slug(text: str, *, fallback: str = "x") -> str:
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")
    if not s:
        s = fallback
    if not s[0].isalpha():
        s = f"{fallback}_{s}"
    return s[:60]


def _is_number(cell: str) -> bool:
    return re.fullmatch(r"[-+]?\d+(\.\d+)?", cell.strip()) is not None


def _is_iso_date(cell: str) -> bool:
    try:
        date.fromisoformat(cell.strip()[:10])
        return len(cell.strip()) >= 10
    except ValueError:
        return False


DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M",
                "%d.%m.%Y %H:%M")


def guess_date_format(cells: Sequence[str]) -> str | None:
    """None when the dates are ISO 8601 (read without a format) or nothing fits; else the first
    format of DATE_FORMATS that reads every cell (day first when both would)."""
    filled = [c for c in cells if c]
    if not filled or all(_is_iso_date(c) for c in filled):
        return None
    for fmt in DATE_FORMATS:
        if all(parse_date(c, fmt) is not None for c in filled):
            return fmt
    return None


@dataclass
class Inferred:
    schema: dict[str, Any]
    mapping: dict[str, Any]
    columns: list[dict[str, Any]]           # what was decided per column, for the report
    outcome: str | None


def infer(text: str, *, facet: str = "lead", max_categories: int = 15, min_category_rows: int = 5,
          outcome: str | None = None, id_col: str | None = None, date_col: str | None = None,
          market: str | None = None, default_market: str | None = None, delimiter: str = ",",
          schema_file: str = "schema.yaml") -> Inferred:
    """A starter schema and mapping from a CSV: types, the top categories (the rest `other`),
    placeholders seen, columns that look like ids or free text left out, and each column's
    probable leakage when the outcome column is known (named, or guessed by its name)."""
    from . import leakage

    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    rows = list(reader)
    if not rows:
        raise TrialMappingError("the file has no header")
    header, body = rows[0], [r + [""] * (len(rows[0]) - len(r)) for r in rows[1:]]
    n = len(body)
    cols = {h: [r[i].strip() for r in body] for i, h in enumerate(header)}
    if outcome is None:  # guess by name: a column called converted, outcome, paid... with two values
        for h in header:
            vals = {fold(v) for v in cols[h] if v}
            if slug(h) in _OUTCOME_NAMES and 1 < len(vals) <= 3:
                outcome = h
                break
    y_all = None
    if outcome in cols:
        y_all = [parse_outcome(v) for v in cols[outcome]]
    special = {c for c in (outcome, id_col, date_col, market) if c}
    questions, columns_map, report, seen_keys = [], {}, [], set()
    all_placeholders: Counter[str] = Counter()
    for h in header:
        if h in special:
            continue
        cells = cols[h]
        ph = Counter(c for c in cells if c and fold(c) in COMMON_PLACEHOLDERS)
        values = [c for c in cells if c and fold(c) not in COMMON_PLACEHOLDERS]
        info: dict[str, Any] = {"column": h, "placeholders": dict(ph), "filled": len(values), "rows": n}
        name = slug(h)
        key = f"{facet}.{name}"
        while key in seen_keys:
            key += "_2"
        distinct = Counter(values)
        if not values or len(distinct) < 2:
            report.append({**info, "action": "ignored", "why": "one value or none"})
            continue
        folded = {fold(v) for v in distinct}
        if all(isinstance(read_yes_no(v), bool) for v in distinct) and not (folded <= {"0", "1"}
                                                                             and len(folded) < 2):
            qtype, spec = "yes_no", {}
        elif all(_is_number(v) for v in distinct):
            qtype, spec = "number", {"integer": all(re.fullmatch(r"[-+]?\d+", v) for v in distinct)}
            if not spec["integer"]:
                spec = {}
        elif all(_is_iso_date(v) for v in distinct):
            qtype, spec = "date", {}
        elif len(distinct) > max(50, 0.5 * len(values)):
            report.append({**info, "action": "ignored", "why": "mostly unique values: an id or free text",
                           "distinct": len(distinct)})
            continue
        else:
            qtype = "single_choice"
            top = [v for v, c in distinct.most_common() if c >= min_category_rows][:max_categories]
            choices: dict[str, Any] = {}
            for v in top:
                ck = slug(v, fallback="c")
                while ck in choices or ck == OTHER:
                    ck += "_2"
                choices[ck] = {"en": v}
            choices[OTHER] = {"en": "Other"}
            spec = {"choices": choices}
            rest = len(values) - sum(distinct[v] for v in top)
            info.update(categories=len(top), distinct=len(distinct), other_rows=rest)
        seen_keys.add(key)
        q = {"key": key, "type": qtype, "label": {"en": h}, "sources": ["import"], **spec}
        questions.append(q)
        rule: dict[str, Any] = {"question": key, "known": "start"}
        # no value map needed for choices: a cell is matched with a choice's key or label
        if ph:
            rule["placeholders"] = sorted(ph)
            all_placeholders.update(ph)
        if y_all is not None:
            keep = [i for i, o in enumerate(y_all) if o is not None]
            vals = [None if (not cells[i] or fold(cells[i]) in COMMON_PLACEHOLDERS) else cells[i] for i in keep]
            if qtype == "number":
                vals = [None if v is None else float(v) for v in vals]
            judged = leakage.assess(vals, [1 if y_all[i] == "converted" else 0 for i in keep])
            if judged and judged["leak"]:
                info["leakage"] = {k: judged[k] for k in ("auc", "pure_share", "reasons")}
                rule["note"] = (f"probable leakage (AUC {judged['auc']} on its own): if this is filled in during "
                                f"or after the trial, set known: end")
        columns_map[h] = rule
        report.append({**info, "action": "question", "question": key, "type": qtype})
    if not questions:
        raise TrialMappingError("no column could become a question (every column is empty, constant or an id)")
    schema = {"version": 1, "languages": ["en"], "facets": [facet], "questions": questions}
    mapping: dict[str, Any] = {"schema": schema_file}
    if outcome:
        mapping["outcome"] = outcome
    if id_col:
        mapping["id"] = id_col
    if date_col:
        fmt = guess_date_format(cols.get(date_col, []))
        mapping["date"] = {"column": date_col, "format": fmt} if fmt else date_col
    if market:
        mapping["market"] = market
    elif default_market:
        mapping["market"] = {"default": default_market}
    mapping["trial_days"] = DEFAULT_TRIAL_DAYS
    ignored = [r["column"] for r in report if r["action"] == "ignored"]
    if ignored:
        mapping["ignore"] = ignored
    mapping["columns"] = columns_map
    return Inferred(schema, mapping, report, outcome)


def dump_yaml(data: Any, header: Iterable[str] = ()) -> str:
    lines = [f"# {h}" for h in header]
    return "\n".join(lines) + ("\n" if lines else "") + yaml.safe_dump(data, allow_unicode=True, sort_keys=False,
                                                                      width=120)
