"""Bulk import of survey-tool exports (CSV, JSONL) through a column-to-question mapping.

Each line is one survey response, accepted whole or not at all through the same
`record_answers` as calls and the survey API. A line we cannot accept is kept verbatim
in the dead-letter store (channel "survey_import") with its line number, the file name,
the CSV header and the mapping, so `concierge deadletter replay` can re-run it alone.
Re-importing a file stores nothing twice: each line's reference is the survey tool's
response id, else a hash of the line.

Mapping file (YAML)::

    format: csv                 # csv | jsonl; default from the file's extension
    delimiter: ";"              # CSV only, default ","
    encoding: utf-8-sig         # utf-8 | utf-8-sig (a BOM is dropped either way)
    decimal_comma: true         # "1.234,50" means 1234.5 in number and money columns
    shop: Sklep                 # the column with the platform's shop id (required)
    response_id: ID odpowiedzi  # optional: the survey tool's response id
    submitted_at:               # optional: a column name, or
      column: Data wysłania
      format: "%d.%m.%Y %H:%M"  # strptime format; default ISO 8601
      timezone: Europe/Warsaw   # for times without an offset; default UTC
    language: pl                # or {column: Język, default: pl}
    source: survey              # survey (default) | import
    require_survey_fields: true # a response must answer the survey's required questions
    split: ","                  # default separator of multi-choice answers
    values: {Tak: true, Nie: false}   # value map applied to every column
    columns:
      Imię i nazwisko: owner.name
      Pomoc:
        question: needs.help_with
        split: ";"
        values: {Płatności: payments}
      "Pomoc: wysyłka": {question: needs.help_with, choice: shipping}  # one column per choice

Choice questions also understand their choices' labels in every language of the
interview schema ("Moda", "Płatności", "Ödemeler"), so most exports need no value map.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from locales.yesno import read_yes_no
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import ConciergeError, DuplicateSubmission, NotFound, ValidationFailed
from ..ingest.bodies import unstorable_errors
from ..messages import SHOP_MESSAGES, localize
from ..models import DeadLetter, Shop, Submission

CHANNEL = "survey_import"
FORMATS = ("csv", "jsonl")
ENCODINGS = ("utf-8", "utf-8-sig")
CLOCK_SKEW = timedelta(minutes=5)
_MAPPING_FIELDS = frozenset({
    "format", "delimiter", "quotechar", "encoding", "decimal_comma", "shop", "response_id",
    "submitted_at", "language", "source", "require_survey_fields", "split", "values", "columns",
})
_COLUMN_FIELDS = frozenset({"question", "values", "split", "choice"})

_MESSAGES: dict[str, dict[str, str]] = {
    "required": {"en": "is required", "pl": "jest wymagane", "tr": "zorunludur"},
    "invalid_datetime": {"en": "{value!r} is not a date and time in the format {format}",
                         "pl": "{value!r} nie jest datą i godziną w formacie {format}",
                         "tr": "{value!r}, {format} biçiminde bir tarih ve saat değil"},
    "in_future": {"en": "{value!r} lies in the future", "pl": "{value!r} jest w przyszłości",
                  "tr": "{value!r} gelecekte bir zaman"},
    "wrong_column_count": {"en": "the line has {got} columns, the header has {want}",
                           "pl": "wiersz ma {got} kolumn, nagłówek ma {want}",
                           "tr": "satırda {got} sütun var, başlıkta {want} var"},
    "malformed_line": {"en": "the line cannot be read: {detail}", "pl": "nie można odczytać wiersza: {detail}",
                       "tr": "satır okunamıyor: {detail}"},
    "not_text": {"en": "must be text", "pl": "musi być tekstem", "tr": "metin olmalı"},
}


def _msg(code: str, lang: str | None, **params: Any) -> str:
    return localize({**SHOP_MESSAGES, **_MESSAGES}, code, lang, **params)


class MappingError(ConciergeError):
    """The mapping file itself is wrong: nothing is imported (the CLI exits with 2)."""

    code = "bad_mapping"


class ImportFileError(ConciergeError):
    """The export cannot be read at all (encoding, header): nothing is imported."""

    code = "bad_file"


# ---------------------------------------------------------------------------- the mapping


@dataclass(frozen=True)
class ColumnMap:
    """One column of the export and the question it answers."""

    column: str
    question: str
    values: Mapping[str, Any] = field(default_factory=dict)
    split: str | None = None
    choice: str | None = None  # one column per choice: a truthy cell adds this choice


@dataclass(frozen=True)
class SurveyMapping:
    """A survey tool's export layout mapped onto interview questions (checked when loaded)."""

    shop: str
    columns: tuple[ColumnMap, ...]
    format: str | None = None
    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"
    decimal_comma: bool = False
    response_id: str | None = None
    submitted_at: str | None = None
    submitted_at_format: str | None = None
    timezone: str = "UTC"
    language: str = "en"
    language_column: str | None = None
    source: str = "survey"
    require_survey_fields: bool = True
    split: str = ","
    values: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)  # as loaded: kept with dead letters

    def format_for(self, path: str | os.PathLike[str]) -> str:
        """The mapping's format, else the file's extension (.csv, .jsonl, .ndjson)."""
        if self.format:
            return self.format
        ext = Path(path).suffix.lower()
        if ext in (".jsonl", ".ndjson"):
            return "jsonl"
        if ext in (".csv", ".tsv", ".txt"):
            return "csv"
        raise MappingError(f"cannot tell the format of {Path(path).name}: set `format: csv` or "
                           f"`format: jsonl` in the mapping")

    def source_columns(self) -> list[str]:
        """Every column the mapping reads, in the order a header check reports them."""
        cols = [self.shop]
        for c in (self.response_id, self.submitted_at, self.language_column):
            if c:
                cols.append(c)
        cols += [c.column for c in self.columns]
        return list(dict.fromkeys(cols))


def _str_field(raw: Mapping[str, Any], name: str, where: str, *, required: bool = False) -> str | None:
    v = raw.get(name)
    if v is None:
        if required:
            raise MappingError(f"{where}: `{name}` is required (the column with the platform's shop id)"
                               if name == "shop" else f"{where}: `{name}` is required")
        return None
    if isinstance(v, bool) or not isinstance(v, (str, int, float)) or str(v) == "":
        raise MappingError(f"{where}: `{name}` must be a column name, not {v!r}")
    return str(v)


def _value_map(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise MappingError(f"{where}: `values` must map what the export says to the answer")
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if isinstance(k, bool):  # YAML 1.1: an unquoted yes/no key is a bool
            raise MappingError(f"{where}: value key {k!r} must be quoted text in the YAML")
        out[_fold(str(k))] = v
    return out


def parse_mapping(data: Any, *, where: str = "mapping") -> SurveyMapping:
    """Check a mapping (parsed YAML) against the interview schema; any mistake is a MappingError."""
    from profile_schema import load_schema

    if not isinstance(data, Mapping):
        raise MappingError(f"{where}: must be a mapping with at least `shop` and `columns`")
    unknown = sorted(set(map(str, data)) - _MAPPING_FIELDS)
    if unknown:
        raise MappingError(f"{where}: unknown field(s) {', '.join(unknown)} "
                           f"(known: {', '.join(sorted(_MAPPING_FIELDS))})")
    problems: list[str] = []  # reported all at once, so one run shows every mistake
    shop = None
    try:
        shop = _str_field(data, "shop", where, required=True)
    except MappingError as exc:
        problems.append(str(exc))
    fmt = data.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise MappingError(f"{where}: format must be csv or jsonl, not {fmt!r}")
    delimiter = data.get("delimiter", ",")
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise MappingError(f"{where}: delimiter must be one character, not {delimiter!r}")
    quotechar = data.get("quotechar", '"')
    if not isinstance(quotechar, str) or len(quotechar) != 1:
        raise MappingError(f"{where}: quotechar must be one character, not {quotechar!r}")
    encoding = str(data.get("encoding", "utf-8")).lower().replace("_", "-")
    if encoding in ("utf8",):
        encoding = "utf-8"
    if encoding not in ENCODINGS:
        raise MappingError(f"{where}: encoding must be utf-8 or utf-8-sig, not {data.get('encoding')!r}")
    for flag in ("decimal_comma", "require_survey_fields"):
        if flag in data and not isinstance(data[flag], bool):
            raise MappingError(f"{where}: {flag} must be true or false")
    source = data.get("source", "survey")
    if source not in ("survey", "import"):
        raise MappingError(f"{where}: source must be survey or import, not {source!r}")

    submitted_at = submitted_fmt = None
    tz = "UTC"
    sa = data.get("submitted_at")
    if isinstance(sa, Mapping):
        submitted_at = _str_field(sa, "column", f"{where}: submitted_at", required=True)
        submitted_fmt = sa.get("format")
        if submitted_fmt is not None and (not isinstance(submitted_fmt, str) or "%" not in submitted_fmt):
            raise MappingError(f"{where}: submitted_at.format must be a strptime format such as %d.%m.%Y %H:%M")
        tz = str(sa.get("timezone") or "UTC")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(f"{where}: submitted_at.timezone {tz!r} is not a known time zone") from None
    elif sa is not None:
        submitted_at = _str_field(data, "submitted_at", where)

    lang, lang_col = "en", None
    lv = data.get("language")
    if isinstance(lv, Mapping):
        lang_col = _str_field(lv, "column", f"{where}: language", required=True)
        lang = str(lv.get("default") or "en")
    elif lv is not None:
        if not isinstance(lv, str) or not re.match(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$", lv):
            raise MappingError(f"{where}: language must be a language code such as pl, or {{column: ...}}")
        lang = lv
    split = data.get("split", ",")
    if not isinstance(split, str) or not split:
        raise MappingError(f"{where}: split must be a non-empty separator")

    schema = load_schema()
    raw_cols = data.get("columns")
    if not isinstance(raw_cols, Mapping) or not raw_cols:
        problems.append(f"{where}: `columns` must map export columns to question keys")
        raw_cols = {}
    columns: list[ColumnMap] = []
    for col, spec in raw_cols.items():
        col = str(col)
        cwhere = f"{where}: column {col!r}"
        if isinstance(spec, str):
            spec = {"question": spec}
        if not isinstance(spec, Mapping):
            raise MappingError(f"{cwhere}: give a question key or {{question: ..., values: ...}}")
        extra = sorted(set(map(str, spec)) - _COLUMN_FIELDS)
        if extra:
            raise MappingError(f"{cwhere}: unknown field(s) {', '.join(extra)}")
        qkey = spec.get("question")
        q = schema.questions.get(qkey) if isinstance(qkey, str) else None
        if q is None:
            problems.append(f"{cwhere}: {qkey!r} is not a question of the interview schema "
                            f"v{schema.version}")
            continue
        if source not in q.sources:
            problems.append(f"{cwhere}: {qkey} cannot be answered from the {source} "
                            f"(sources: {', '.join(q.sources)})")
            continue
        choice = spec.get("choice")
        if choice is not None:
            if q.type != "multi_choice" or choice not in q.choices:
                problems.append(f"{cwhere}: choice {choice!r} is not a choice of the multi-choice "
                                f"question {qkey}")
                continue
        csplit = spec.get("split")
        if csplit is not None and (not isinstance(csplit, str) or not csplit):
            raise MappingError(f"{cwhere}: split must be a non-empty separator")
        if csplit is not None and q.type != "multi_choice":
            problems.append(f"{cwhere}: split only applies to multi-choice questions; {qkey} is {q.type}")
            continue
        columns.append(ColumnMap(col, qkey, _value_map(spec.get("values"), cwhere), csplit, choice))
    if problems:
        raise MappingError("; ".join(problems))
    assert shop is not None
    seen: dict[str, str] = {}
    for c in columns:
        if c.choice is None:
            if c.question in seen:
                raise MappingError(f"{where}: columns {seen[c.question]!r} and {c.column!r} both answer "
                                   f"{c.question}")
            seen[c.question] = c.column
    for c in columns:
        if c.choice is not None and c.question in seen:
            raise MappingError(f"{where}: {c.question} is mapped both whole ({seen[c.question]!r}) and "
                               f"per choice ({c.column!r})")
    return SurveyMapping(
        shop=shop, columns=tuple(columns), format=fmt, delimiter=delimiter, quotechar=quotechar,
        encoding=encoding, decimal_comma=bool(data.get("decimal_comma", False)),
        response_id=_str_field(data, "response_id", where), submitted_at=submitted_at,
        submitted_at_format=submitted_fmt, timezone=tz, language=lang, language_column=lang_col,
        source=source, require_survey_fields=bool(data.get("require_survey_fields", True)),
        split=split, values=_value_map(data.get("values"), where),
        raw=json.loads(json.dumps(dict(data), default=str)),
    )


def load_mapping(path: str | os.PathLike[str]) -> SurveyMapping:
    """Read and check a mapping file; a MappingError names the file and the problem."""
    name = Path(path).name
    try:
        with open(path, encoding="utf-8-sig") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise MappingError(f"{name}: cannot read the mapping: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise MappingError(f"{name}: the mapping must be UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{name}: not valid YAML: {exc}") from None
    return parse_mapping(data, where=name)


# ---------------------------------------------------------------------------- reading records


@dataclass(frozen=True)
class Record:
    """One response as read from the export: its first line number, text as sent and fields."""

    line: int
    raw: str
    fields: Mapping[str, Any] | None
    problem: dict[str, Any] | None = None  # set when the line itself cannot be read


@dataclass
class ExportFile:
    """An export, decoded and split into records; the header is checked before any record."""

    name: str
    format: str
    header: list[str] | None
    header_raw: str | None
    records: list[Record]


def _decode(data: bytes, encoding: str, name: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ImportFileError(f"{name}: not {encoding} text (byte {exc.start}, line {line}); "
                              f"save the export as UTF-8 or set `encoding` in the mapping") from None
    return text[1:] if text.startswith("\ufeff") else text


def _csv_rows(text: str, mapping: SurveyMapping) -> Iterator[tuple[int, str, list[str]]]:
    """CSV records with their first line number and exact text (a quoted cell may span lines)."""
    consumed: list[str] = []
    lines = io.StringIO(text, newline="")

    def feed() -> Iterator[str]:
        for ln in lines:
            consumed.append(ln)
            yield ln

    reader = csv.reader(feed(), delimiter=mapping.delimiter, quotechar=mapping.quotechar, strict=False)
    line_no = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a NUL byte; the row is lost to csv but not to us
            raw = "".join(consumed)
            consumed.clear()
            yield line_no, raw, [f"\x00csv error: {exc}"]
            line_no += max(1, raw.count("\n"))
            continue
        raw = "".join(consumed)
        consumed.clear()
        yield line_no, raw, row
        line_no += max(1, len(io.StringIO(raw, newline="").readlines()))


def read_export(path: str | os.PathLike[str], mapping: SurveyMapping, *, lang: str = "en") -> ExportFile:
    """Decode the export and check its header against the mapping (ImportFileError/MappingError)."""
    name = Path(path).name
    fmt = mapping.format_for(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{name}: cannot read: {exc.strerror or exc}") from None
    text = _decode(data, mapping.encoding, name)
    if fmt == "jsonl":
        records = []
        for i, ln in enumerate(io.StringIO(text, newline=""), start=1):
            if not ln.strip():
                continue
            records.append(_jsonl_record(i, ln, lang))
        return ExportFile(name, fmt, None, None, records)
    rows = _csv_rows(text, mapping)
    header_row = None
    for line_no, raw, row in rows:
        if any(cell.strip() for cell in row):
            header_row = (line_no, raw, [cell.strip() for cell in row])
            break
    if header_row is None:
        raise ImportFileError(f"{name}: the file is empty (no header line)")
    header = header_row[2]
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise ImportFileError(f"{name}: the header names {', '.join(map(repr, dupes))} more than once")
    missing = [c for c in mapping.source_columns() if c not in header]
    if missing:
        raise MappingError(f"{name}: the header has no column {', '.join(map(repr, missing))} "
                           f"(it has: {', '.join(map(repr, header))})")
    records = []
    for line_no, raw, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        records.append(_csv_record(line_no, raw, row, header, lang))
    return ExportFile(name, fmt, header, header_row[1], records)


def _csv_record(line_no: int, raw: str, row: list[str], header: list[str], lang: str) -> Record:
    if row and row[0].startswith("\x00csv error: "):
        return Record(line_no, raw, None, {"field": "", "code": "malformed_line",
                                           "message": _msg("malformed_line", lang, detail=row[0][12:])})
    if len(row) != len(header):
        return Record(line_no, raw, None, {
            "field": "", "code": "wrong_column_count",
            "message": _msg("wrong_column_count", lang, got=len(row), want=len(header))})
    return _checked_record(line_no, raw, dict(zip(header, row)), lang)


def _checked_record(line_no: int, raw: str, fields: dict[str, Any], lang: str) -> Record:
    """A line whose cells (or keys) hold NUL or a lone surrogate is refused whole, naming the column."""
    errors = unstorable_errors(fields, lang)
    if errors:
        return Record(line_no, raw, None, errors[0])
    return Record(line_no, raw, fields)


def _jsonl_record(line_no: int, raw: str, lang: str) -> Record:
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        obj, detail = None, str(exc)
    else:
        detail = type(obj).__name__
    if not isinstance(obj, dict):
        return Record(line_no, raw, None, {"field": "", "code": "malformed_line",
                                           "message": _msg("malformed_line", lang, detail=detail)})
    return _checked_record(line_no, raw, obj, lang)


# ---------------------------------------------------------------------------- one record -> answers


def _fold(s: str) -> str:
    """Match export text loosely: NFC, trimmed, case-blind with Turkish I/İ handled."""
    s = unicodedata.normalize("NFC", s).strip()
    s = s.replace("İ", "i").replace("I", "ı")
    return s.lower().replace("ı", "i")  # "HAYIR", "Hayır", "hayir" all fold alike


def _lookup(fields: Mapping[str, Any], column: str) -> Any:
    """A column; in JSONL `a/b` also reaches into nested objects."""
    if column in fields:
        return fields[column]
    if "/" in column:
        cur: Any = fields
        for part in column.split("/"):
            if not isinstance(cur, Mapping) or part not in cur:
                return None
            cur = cur[part]
        return cur
    return None


def _choice_lookup(question: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, choice in question.choices.items():
        for label in choice.labels.values():
            out.setdefault(_fold(str(label)), key)
    for key in question.choices:
        out[_fold(key)] = key
    return out


_CHOICE_CACHE: dict[tuple[int, str], dict[str, str]] = {}


def _choices_of(schema: Any, question: Any) -> dict[str, str]:
    k = (schema.version, question.key)
    if k not in _CHOICE_CACHE:
        _CHOICE_CACHE[k] = _choice_lookup(question)
    return _CHOICE_CACHE[k]


def _decimal_comma(value: str) -> str:
    s = value.strip().replace("\xa0", "").replace("\u202f", "").replace(" ", "")
    if "," in s:
        s = s.replace(".", "").replace(",", ".")
    return s


def _convert_cell(value: Any, col: ColumnMap, mapping: SurveyMapping, schema: Any) -> Any:
    """Turn one cell into the answer the interview schema expects (it still validates it)."""
    q = schema.questions[col.question]
    if value is None:
        return None
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value)
        if not value.strip():
            return None
    if isinstance(value, str):
        folded = _fold(value)
        if folded in col.values:
            return col.values[folded]
        if folded in mapping.values and q.type not in ("multi_choice",):
            return mapping.values[folded]
    if q.type == "multi_choice":
        if isinstance(value, str):
            sep = col.split or mapping.split
            items: list[Any] = [p for p in (x.strip() for x in value.split(sep)) if p]
        elif isinstance(value, list):
            items = value
        else:
            return value
        lookup = _choices_of(schema, q)
        out = []
        for item in items:
            if isinstance(item, str):
                f = _fold(item)
                item = col.values.get(f, mapping.values.get(f, lookup.get(f, item.strip())))
            out.append(item)
        return out
    if q.type == "single_choice" and isinstance(value, str):
        return _choices_of(schema, q).get(_fold(value), value.strip())
    if q.type in ("number", "money", "scale") and isinstance(value, str) and mapping.decimal_comma:
        if q.type == "money":
            m = re.match(r"^\s*([A-Za-z]{3}|zł|₺|₹)?\s*([-0-9.,\s\xa0\u202f]+?)\s*([A-Za-z]{3}|zł|₺|₹)?\s*$", value)
            if m:
                cur = (m.group(1) or m.group(3) or "").replace("zł", "PLN").replace("₺", "TRY").replace("₹", "INR")
                return f"{_decimal_comma(m.group(2))} {cur}".strip()
            return value
        return _decimal_comma(value)
    return value


@dataclass
class LineResult:
    """What became of one line: accepted, duplicate or rejected (with errors and its dead letter)."""

    line: int
    status: str  # accepted | duplicate | rejected
    shop: str | None = None
    submission_id: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    dead_letter_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"line": self.line, "status": self.status, "shop": self.shop}
        if self.submission_id is not None:
            d["submission_id"] = self.submission_id
        if self.errors:
            d["errors"] = self.errors
        if self.dead_letter_id is not None:
            d["dead_letter_id"] = self.dead_letter_id
        return d


def line_reference(record: Record, mapping: SurveyMapping) -> str:
    """The response id, else a hash of the line's text (line ending aside): re-imports dedupe."""
    if mapping.response_id and record.fields is not None:
        rid = _lookup(record.fields, mapping.response_id)
        if rid is not None and str(rid).strip():
            return str(rid).strip()[:200]
    text = record.raw.rstrip("\r\n")
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _line_language(record: Record, mapping: SurveyMapping) -> str:
    if mapping.language_column and record.fields is not None:
        v = _lookup(record.fields, mapping.language_column)
        if isinstance(v, str) and v.strip():
            base = v.strip().replace("-", "_").split("_", 1)[0].lower()
            if base in ("en", "pl", "tr", "hi"):
                return base
    return mapping.language


def _submitted_at(record: Record, mapping: SurveyMapping, lang: str, now: datetime) -> datetime | None:
    if not mapping.submitted_at or record.fields is None:
        return None
    v = _lookup(record.fields, mapping.submitted_at)
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    fmt = mapping.submitted_at_format
    err = ValidationFailed([{"field": mapping.submitted_at, "code": "invalid_datetime",
                             "message": f"{mapping.submitted_at}: "
                                        + _msg("invalid_datetime", lang, value=v, format=fmt or "ISO 8601")}])
    try:
        if fmt:
            at = datetime.strptime(str(v).strip(), fmt)
        else:
            at = datetime.fromisoformat(str(v).strip().replace("Z", "+00:00"))
    except ValueError:
        raise err from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(mapping.timezone))
    try:
        at = at.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+14:00: before year 1 once made UTC
        raise err from None
    if at > now + CLOCK_SKEW:
        raise ValidationFailed([{"field": mapping.submitted_at, "code": "in_future",
                                 "message": f"{mapping.submitted_at}: " + _msg("in_future", lang, value=v)}])
    return at


def record_answers_of(record: Record, mapping: SurveyMapping) -> dict[str, Any]:
    """The answers a record gives, keyed by question (before the interview schema checks them)."""
    from profile_schema import load_schema

    schema = load_schema()
    answers: dict[str, Any] = {}
    assert record.fields is not None
    for col in mapping.columns:
        cell = _lookup(record.fields, col.column)
        if col.choice is not None:
            if cell is None or cell is False:
                continue
            if isinstance(cell, str) and read_yes_no(cell) in (False, None):
                continue
            if isinstance(cell, str) and _fold(cell) in col.values and not col.values[_fold(cell)]:
                continue
            answers.setdefault(col.question, []).append(col.choice)
            continue
        value = _convert_cell(cell, col, mapping, schema)
        if value is not None:
            answers[col.question] = value
    return answers


def import_record(
    session: Session,
    record: Record,
    mapping: SurveyMapping,
    *,
    actor: str,
    lang: str | None = None,
    now: datetime | None = None,
    shops: dict[str, Shop | None] | None = None,
    references: dict[tuple[int, str], int] | None = None,
) -> LineResult:
    """Store one line whole, or raise ValidationFailed (nothing stored); a duplicate is no error."""
    from .observations import record_answers
    from .shops import get_shop
    from .surveys import find_duplicate

    now = now or utcnow()
    lang = lang or _line_language(record, mapping)
    if record.problem is not None:
        raise ValidationFailed([record.problem])
    assert record.fields is not None
    shop_value = _lookup(record.fields, mapping.shop)
    if isinstance(shop_value, (int, float)) and not isinstance(shop_value, bool):
        shop_value = str(shop_value)
    if shop_value is not None and not isinstance(shop_value, str):
        raise ValidationFailed([{"field": mapping.shop, "code": "not_text",
                                 "message": f"{mapping.shop}: {_msg('not_text', lang)}"}])
    shop_id = (shop_value or "").strip()
    if not shop_id:
        raise ValidationFailed([{"field": mapping.shop, "code": "required",
                                 "message": f"{mapping.shop}: {_msg('required', lang)}"}])
    shop = shops.get(shop_id) if shops is not None and shop_id in shops else None
    prefetched = shop is not None
    if shop is None:
        try:
            shop = get_shop(session, shop_id, lang=lang)
        except NotFound:
            raise ValidationFailed([{"field": mapping.shop, "code": "unknown_shop",
                                     "message": f"{mapping.shop}: {_msg('unknown_shop', lang, shop=shop_id)}"}]) from None
    reference = line_reference(record, mapping)
    if references is not None and prefetched:  # the file's references were loaded up front
        earlier_id = references.get((shop.id, reference))
    else:
        earlier = find_duplicate(session, shop, reference)
        earlier_id = earlier.id if earlier is not None else None
    if earlier_id is not None:
        return LineResult(record.line, "duplicate", shop_id, earlier_id)
    observed_at = _submitted_at(record, mapping, lang, now)
    answers = record_answers_of(record, mapping)
    try:
        submission = record_answers(session, shop, answers, actor=actor, source=mapping.source,
                                    channel="import", observed_at=observed_at, lang=lang,
                                    require_survey_fields=mapping.require_survey_fields,
                                    reference=reference, now=now,
                                    rescore=False)  # a bulk path: the planner makes the scores again
    except DuplicateSubmission as dup:  # stored a moment ago by another import or the API
        return LineResult(record.line, "duplicate", shop_id, dup.submission.id)
    except ValidationFailed as exc:
        columns = {c.question: c.column for c in mapping.columns if c.choice is None}
        errors = []
        for e in exc.errors:
            d = e.as_dict() if hasattr(e, "as_dict") else dict(e)
            if d.get("field") in columns:
                d["column"] = columns[d["field"]]
            errors.append(d)
        raise ValidationFailed(errors) from None
    if references is not None and prefetched:
        references[(shop.id, reference)] = submission.id
    return LineResult(record.line, "accepted", shop_id, submission.id)


# ---------------------------------------------------------------------------- whole files


@dataclass
class ImportReport:
    """The outcome of one import: counts and every rejected line (the `--json` contract)."""

    file: str
    format: str
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    results: list[LineResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        rejected = [r for r in self.results if r.status == "rejected"]
        return {
            "file": self.file, "format": self.format, "total": self.lines,
            "accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected,
            "dead_letters": [r.dead_letter_id for r in rejected],
            "errors": [{"line": r.line, "shop": r.shop, "errors": r.errors, "dead_letter": r.dead_letter_id}
                       for r in rejected],
        }


def import_surveys(
    session: Session,
    path: str | os.PathLike[str],
    mapping: SurveyMapping,
    *,
    actor: str,
    lang: str | None = None,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    export: ExportFile | None = None,
) -> ImportReport:
    """Import every line of an export; bad lines are dead-lettered verbatim, good ones stored whole."""
    from .deadletters import storable, store_dead_letter

    now = now or utcnow()
    export = export or read_export(path, mapping, lang=lang or mapping.language)
    report = ImportReport(file=export.name, format=export.format)
    shops, references = _prefetch(session, export.records, mapping)
    touched: set[str] = set()
    for record in export.records:
        report.lines += 1
        try:
            result = import_record(session, record, mapping, actor=actor, lang=lang, now=now, shops=shops,
                                   references=references)
        except ValidationFailed as exc:
            errors = [e.as_dict() if hasattr(e, "as_dict") else dict(e) for e in exc.errors]
            shop = _lookup(record.fields, mapping.shop) if record.fields is not None else None
            context = {
                "file": export.name, "line": record.line, "format": export.format,
                "header": export.header_raw, "mapping": dict(mapping.raw), "actor": actor,
                "language": lang, "shop": shop if isinstance(shop, str) else None,
            }
            dl = _pending_dead_letter(session, record.raw, context)
            if dl is None:  # the same line in another file (another header) is another letter
                dl = store_dead_letter(session, CHANNEL, record.raw, errors=errors, context=context, dedupe=False)
            else:  # the same line of the same file imported again: one letter, latest reasons
                dl.errors = storable([{k: e.get(k) for k in ("field", "code", "message")} for e in errors])
                session.flush()
            result = LineResult(record.line, "rejected", shop if isinstance(shop, str) else None,
                                errors=errors, dead_letter_id=dl.id)
        report.results.append(result)
        if result.status == "accepted":
            report.accepted += 1
            touched.add(result.shop)
        elif result.status == "duplicate":
            report.duplicates += 1
        else:
            report.rejected += 1
        if progress is not None:
            progress(1)
    if touched:  # the imported shops' shop_state rows, once for the file
        from .shop_state import refresh_states, shop_ids_of

        known = [shops[p].id for p in touched if shops.get(p) is not None]
        refresh_states(session, known + shop_ids_of(session, [p for p in touched if shops.get(p) is None]), now=now)
    return report


_CHUNK = 500  # ids per IN (...) query: well under every backend's parameter limit


def _prefetch(session: Session, records: list[Record], mapping: SurveyMapping
              ) -> tuple[dict[str, Shop | None], dict[tuple[int, str], int]]:
    """The file's shops and their stored references in a few queries, not a few per line."""
    ids = set()
    for r in records:
        v = _lookup(r.fields, mapping.shop) if r.fields is not None else None
        if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip():
            ids.add(str(v).strip())
    shops: dict[str, Shop | None] = {}
    ordered = sorted(ids)
    for i in range(0, len(ordered), _CHUNK):
        for shop in session.scalars(select(Shop).where(Shop.platform_id.in_(ordered[i:i + _CHUNK]))):
            shops[shop.platform_id] = shop
    references: dict[tuple[int, str], int] = {}
    shop_ids = sorted(s.id for s in shops.values() if s is not None)
    for i in range(0, len(shop_ids), _CHUNK):
        rows = session.execute(select(Submission.shop_id, Submission.reference, Submission.id)
                               .where(Submission.shop_id.in_(shop_ids[i:i + _CHUNK]),
                                      Submission.reference.is_not(None))
                               .order_by(Submission.id.desc()))
        for shop_id, ref, sub_id in rows:
            references[(shop_id, ref)] = sub_id  # descending: the first submission wins
    return shops, references


def _pending_dead_letter(session: Session, raw: str, context: Mapping[str, Any]) -> DeadLetter | None:
    """A pending letter for this very line of this file (re-imports must not pile up copies)."""
    from .deadletters import MAX_PAYLOAD_CHARS, storable, storable_text

    stored = storable_text(raw)[:MAX_PAYLOAD_CHARS]  # as store_dead_letter keeps it (NUL escaped, capped)
    rows = session.scalars(select(DeadLetter).where(
        DeadLetter.channel == CHANNEL, DeadLetter.status == "pending", DeadLetter.payload == stored))
    for row in rows:
        c = row.context or {}
        if c.get("file") == storable(context["file"]) and c.get("header") == storable(context["header"]):
            return row
    return None


def replay_dead_letter(session: Session, dead_letter: DeadLetter) -> None:
    """Re-run one dead-lettered import line with the mapping it came with; raise if it still fails."""
    context = dead_letter.context or {}
    mapping = parse_mapping(context.get("mapping"), where=f"dead letter {dead_letter.id} mapping")
    fmt = context.get("format") or mapping.format or "csv"
    line = int(context.get("line") or 0)
    lang = context.get("language")
    if fmt == "jsonl":
        record = _jsonl_record(line, dead_letter.payload, lang or mapping.language)
    else:
        header_raw = context.get("header")
        if not header_raw:
            raise ConciergeError(f"dead letter {dead_letter.id}: no CSV header kept; re-import the file")
        header_rows = list(_csv_rows(header_raw, mapping))
        header = [c.strip() for c in header_rows[0][2]]
        rows = list(_csv_rows(dead_letter.payload, mapping))
        if not rows:
            raise ValidationFailed([{"field": "", "code": "malformed_line", "message": "empty line"}])
        record = _csv_record(line, dead_letter.payload, rows[0][2], header, lang or mapping.language)
    result = import_record(session, record, mapping, actor=context.get("actor") or "replay", lang=lang)
    if result.status == "accepted":
        from .shop_state import refresh_states, shop_ids_of

        refresh_states(session, shop_ids_of(session, [result.shop]))
