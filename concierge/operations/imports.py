r"""Bulk import of survey-tool exports (CSV, JSONL) through a column-to-question mapping.

Each line is one survey response, accepted whole or not at all through the same
`record_answers` as calls and the survey API. A line we cannot accept is kept verbatim
in the dead-letter store (channel "survey_import") with its line number, the file name,
the CSV header and the mapping, so `concierge deadletter replay` can re-run it alone.
Re-importing a file stores nothing twice: each line's reference is the survey tool's
response id, else a hash of the line.

Every mapping key, the yes/no words and two end-to-end examples (Google Forms, LimeSurvey)
are in docs/import.md ("Survey exports"). Mapping file (YAML)::

    format: csv                 # csv | jsonl; default from the file's extension
    delimiter: ";"              # CSV only, default ","
    encoding: utf-8-sig         # utf-8 | utf-8-sig (a BOM is dropped either way)
    decimal_comma: true         # "1.234,50" means 1234.5 in number and money columns
    shop: Sklep                 # the column with the platform's shop id (or "#2": by position)
    shop_email: E-mail          # else the owner's e-mail finds the shop
    shop_phone: Telefon         # else the owner's phone (E.164 in any of our markets)
    response_id: ID odpowiedzi  # optional: the survey tool's response id
    submitted_at:               # optional: a column name, or
      column: Data wysłania
      format: "%d.%m.%Y %H:%M"  # strptime format; default ISO 8601
      timezone: Europe/Warsaw   # for times without an offset; default UTC
    language: pl                # or {column: Język, default: pl}
    source: survey              # survey (default) | import
    require_survey_fields: true # a response must answer the survey's required questions (false: partial)
    on_bad_value: reject        # reject | drop: a bad value refuses the response, or is left out
    split: ","                  # default separator of multi-choice answers
    values: {Tak: true, Nie: false}   # value map applied to every column
    columns:
      Imię i nazwisko: owner.name
      Pomoc:
        question: needs.help_with
        split: ";"
        values: {Płatności: payments}
      "Pomoc: wysyłka": {question: needs.help_with, choice: shipping}  # one column per choice
      kod: {pattern: '^Q1\[SQ001\]', question: business.type, choice: handmade}  # single choice too

Headings match after normalising spaces, BOM and case; unmapped headings may repeat. One
column per choice reads its cells through the value maps, then `locales.yesno`; a word that
is neither yes, no nor missing is an error, never a tick.

Choice questions also understand their choices' labels in every language of the
interview schema ("Moda", "Płatności", "Ödemeler"), so most exports need no value map.
"""
from __future__ import annotations

import csv
import functools
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
from locales.yesno import UNKNOWN, fold, read_yes_no
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import NOT_ACCEPTED, ConciergeError, DuplicateSubmission, NotFound, ValidationFailed
from ..i18n import translations
from ..ingest.bodies import unstorable_errors
from ..ingest.events import dig
from ..messages import SHOP_MESSAGES, localize
from ..models import DeadLetter, Observation, Shop, Submission

CHANNEL = "survey_import"
FORMATS = ("csv", "jsonl")
ENCODINGS = ("utf-8", "utf-8-sig")
CLOCK_SKEW = timedelta(minutes=5)
_MAPPING_FIELDS = frozenset({
    "format", "delimiter", "quotechar", "encoding", "decimal_comma", "shop", "response_id",
    "submitted_at", "language", "source", "require_survey_fields", "split", "values", "columns",
    "shop_email", "shop_phone", "on_bad_value",
})
_COLUMN_FIELDS = frozenset({"question", "values", "split", "choice", "pattern", "on_bad_value"})
BAD_VALUE_RULES = ("reject", "drop")

_MESSAGES: dict[str, dict[str, str]] = {
    "required": {"en": "is required", "pl": "jest wymagane", "tr": "zorunludur",
                 "hi": "आवश्यक है"},
    "invalid_datetime": {"en": "{value!r} is not a date and time in the format {format}",
                         "pl": "{value!r} nie jest datą i godziną w formacie {format}",
                         "tr": "{value!r}, {format} biçiminde bir tarih ve saat değil",
                         "hi": "{value!r} {format} प्रारूप में तारीख और समय नहीं है"},
    "in_future": {"en": "{value!r} lies in the future", "pl": "{value!r} jest w przyszłości",
                  "tr": "{value!r} gelecekte bir zaman",
                  "hi": "{value!r} भविष्य में है"},
    "wrong_column_count": {"en": "the line has {got} columns, the header has {want}",
                           "pl": "wiersz ma {got} kolumn, nagłówek ma {want}",
                           "tr": "satırda {got} sütun var, başlıkta {want} var",
                           "hi": "पंक्ति में {got} कॉलम हैं, हेडर में {want}"},
    "malformed_line": {"en": "the line cannot be read: {detail}", "pl": "nie można odczytać wiersza: {detail}",
                       "tr": "satır okunamıyor: {detail}",
                       "hi": "पंक्ति पढ़ी नहीं जा सकती: {detail}"},
    "not_text": {"en": "must be text", "pl": "musi być tekstem", "tr": "metin olmalı",
                 "hi": "टेक्स्ट होना चाहिए"},
    "not_yes_no": {"en": "{value!r} is neither yes nor no (nor a missing marker such as N/A)",
                   "pl": "{value!r} nie jest ani „tak”, ani „nie” (ani znacznikiem braku odpowiedzi, np. N/A)",
                   "tr": "{value!r} ne evet ne hayır (ne de N/A gibi boş yanıt işareti)",
                   "hi": "{value!r} न हाँ है न नहीं (न ही N/A जैसा खाली जवाब का चिह्न)"},
    "several_choices": {"en": "{columns} are all ticked, but {question} takes one answer",
                        "pl": "zaznaczono {columns}, a {question} przyjmuje jedną odpowiedź",
                        "tr": "{columns} işaretli, ancak {question} tek yanıt alır",
                        "hi": "{columns} सभी पर निशान है, लेकिन {question} एक ही जवाब लेता है"},
    "ambiguous_shop": {"en": "{value!r} belongs to more than one shop ({shops})",
                       "pl": "{value!r} należy do więcej niż jednego sklepu ({shops})",
                       "tr": "{value!r} birden fazla mağazaya ait ({shops})",
                       "hi": "{value!r} एक से अधिक शॉपों का है ({shops})"},
    "unknown_contact": {"en": "no shop with the e-mail or phone {value!r}",
                        "pl": "brak sklepu z adresem e-mail lub telefonem {value!r}",
                        "tr": "{value!r} e-posta veya telefonuna sahip mağaza yok",
                        "hi": "ई-मेल या फ़ोन {value!r} वाली कोई शॉप नहीं"},
    "older_than_stored": {"en": "the answers to {questions} ({at}) are older than what the shop already has; "
                                "the profile keeps the newer ones",
                          "pl": "odpowiedzi na {questions} ({at}) są starsze niż to, co sklep już ma; "
                                "profil zachowuje nowsze",
                          "tr": "{questions} yanıtları ({at}) mağazada zaten bulunanlardan daha eski; "
                                "profil yenilerini tutar",
                          "hi": "{questions} के जवाब ({at}) शॉप के पास पहले से मौजूद जवाबों से पुराने हैं; "
                                "प्रोफ़ाइल नए जवाब रखती है"},
    "no_column": {"en": "the header has no column {columns}", "pl": "nagłówek nie ma kolumny {columns}",
                  "tr": "başlıkta {columns} sütunu yok",
                  "hi": "हेडर में कॉलम {columns} नहीं है"},
    "did_you_mean": {"en": "did you mean {hint}?", "pl": "czy chodziło o {hint}?", "tr": "{hint} mi demek istediniz?",
                     "hi": "क्या आपका मतलब {hint} था?"},
    "header_size": {"en": "the header has {count} columns", "pl": "nagłówek ma {count} kolumn",
                    "tr": "başlıkta {count} sütun var",
                    "hi": "हेडर में {count} कॉलम हैं"},
    "duplicate_heading": {"en": "the heading {heading!r} appears {count} times (columns {positions}); map it "
                                "by position (#{first}) or by pattern",
                          "pl": "nagłówek {heading!r} występuje {count} razy (kolumny {positions}); wskaż go "
                                "pozycją (#{first}) lub wzorcem (pattern)",
                          "tr": "{heading!r} başlığı {count} kez geçiyor (sütunlar {positions}); konumla "
                                "(#{first}) veya desenle (pattern) eşleyin",
                          "hi": "हेडिंग {heading!r} {count} बार आती है (कॉलम {positions}); इसे स्थान "
                                "(#{first}) या पैटर्न (pattern) से मैप करें"},
    "no_position": {"en": "there is no column {key} (the header has {count} columns)",
                    "pl": "nie ma kolumny {key} (nagłówek ma {count} kolumn)",
                    "tr": "{key} sütunu yok (başlıkta {count} sütun var)",
                    "hi": "कॉलम {key} नहीं है (हेडर में {count} कॉलम हैं)"},
    "pattern_none": {"en": "no heading matches the pattern {pattern!r} of {key!r}",
                     "pl": "żaden nagłówek nie pasuje do wzorca {pattern!r} kolumny {key!r}",
                     "tr": "{key!r} için {pattern!r} desenine uyan başlık yok",
                     "hi": "{key!r} के पैटर्न {pattern!r} से कोई हेडिंग मेल नहीं खाती"},
    "pattern_many": {"en": "the pattern {pattern!r} of {key!r} matches {count} headings: {headings}",
                     "pl": "wzorzec {pattern!r} kolumny {key!r} pasuje do {count} nagłówków: {headings}",
                     "tr": "{key!r} için {pattern!r} deseni {count} başlığa uyuyor: {headings}",
                     "hi": "{key!r} का पैटर्न {pattern!r} {count} हेडिंग से मेल खाता है: {headings}"},
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
    choice: str | None = None  # one column per choice: a yes cell adds (or, single choice, is) this choice
    pattern: str | None = None  # a regular expression finding the heading (LimeSurvey codes)
    on_bad_value: str = "reject"  # reject the response, or drop this value and keep the rest


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
    shop_email: str | None = None  # a column with the owner's e-mail: finds the shop too
    shop_phone: str | None = None  # a column with the owner's phone: finds the shop too
    on_bad_value: str = "reject"

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
        cols = [self.shop] if self.shop else []
        for c in (self.shop_email, self.shop_phone, self.response_id, self.submitted_at, self.language_column):
            if c:
                cols.append(c)
        cols += [c.column for c in self.columns]
        return list(dict.fromkeys(cols))

    def pattern_of(self, key: str) -> str | None:
        for c in self.columns:
            if c.column == key and c.pattern:
                return c.pattern
        return None


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
        shop_email = _str_field(data, "shop_email", where)
        shop_phone = _str_field(data, "shop_phone", where)
        shop = _str_field(data, "shop", where, required=not (shop_email or shop_phone))
    except MappingError as exc:
        problems.append(str(exc))
        shop_email = shop_phone = None
    on_bad = data.get("on_bad_value", "reject")
    if on_bad not in BAD_VALUE_RULES:
        problems.append(f"{where}: on_bad_value must be reject or drop, not {on_bad!r}")
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
            if q.type not in ("multi_choice", "single_choice") or choice not in q.choices:
                problems.append(f"{cwhere}: choice {choice!r} is not a choice of the "
                                f"{q.type.replace('_', '-')} question {qkey}"
                                + (f" (choices: {', '.join(q.choices)})" if q.choices else ""))
                continue
        pattern = spec.get("pattern")
        if pattern is not None:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                problems.append(f"{cwhere}: pattern {pattern!r} is not a regular expression: {exc}")
                continue
            pattern = str(pattern)
        col_bad = spec.get("on_bad_value", on_bad)
        if col_bad not in BAD_VALUE_RULES:
            problems.append(f"{cwhere}: on_bad_value must be reject or drop, not {col_bad!r}")
            continue
        csplit = spec.get("split")
        if csplit is not None and (not isinstance(csplit, str) or not csplit):
            raise MappingError(f"{cwhere}: split must be a non-empty separator")
        if csplit is not None and q.type != "multi_choice":
            problems.append(f"{cwhere}: split only applies to multi-choice questions; {qkey} is {q.type}")
            continue
        columns.append(ColumnMap(col, qkey, _value_map(spec.get("values"), cwhere), csplit, choice,
                                 pattern, col_bad))
    if problems:
        raise MappingError("; ".join(problems))
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
        shop=shop or "", columns=tuple(columns), format=fmt, delimiter=delimiter, quotechar=quotechar,
        encoding=encoding, decimal_comma=bool(data.get("decimal_comma", False)),
        response_id=_str_field(data, "response_id", where), submitted_at=submitted_at,
        submitted_at_format=submitted_fmt, timezone=tz, language=lang, language_column=lang_col,
        source=source, require_survey_fields=bool(data.get("require_survey_fields", True)),
        split=split, values=_value_map(data.get("values"), where),
        raw=json.loads(json.dumps(dict(data), default=str)),
        shop_email=shop_email, shop_phone=shop_phone, on_bad_value=on_bad,
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
    number: int | None = None  # the record's number in the file (1 = the first response)


@dataclass
class ExportFile:
    """An export, decoded and split into records; the header is checked before any record."""

    name: str
    format: str
    header: list[str] | None
    header_raw: str | None
    records: list[Record]
    index: dict[str, int] | None = None  # each mapped column's position in the header (CSV)


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
            records.append(_jsonl_record(i, ln, lang, len(records) + 1))
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
    index = resolve_columns(header, mapping, name, lang=lang)
    records = []
    number = 0
    for line_no, raw, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        number += 1
        records.append(_csv_record(line_no, raw, row, header, index, lang, number))
    return ExportFile(name, fmt, header, header_row[1], records, index)


def heading_key(heading: str) -> str:
    """A heading as matched: BOM, non-breaking and repeated spaces, line breaks and case ignored."""
    s = unicodedata.normalize("NFC", heading).replace("\ufeff", "")
    s = s.replace("\xa0", " ").replace("\u202f", " ").replace("\u2007", " ")
    return " ".join(s.split()).casefold()


def resolve_columns(header: list[str], mapping: SurveyMapping, name: str, *, lang: str = "en") -> dict[str, int]:
    """Each column the mapping reads -> its position in the header (MappingError naming what is wrong).

    A mapping key finds its column by heading (exact, else with whitespace, BOM and case
    normalised), by position (`#3`, counting from 1) or by its column's `pattern` (a regular
    expression searched in each heading). Headings nobody maps may repeat; a mapped heading
    that repeats must be named by position or pattern instead.
    """
    import difflib

    keys = [heading_key(h) for h in header]
    index: dict[str, int] = {}
    missing: list[str] = []
    problems: list[str] = []
    for key in mapping.source_columns():
        pattern = mapping.pattern_of(key)
        if pattern is not None:
            rx = re.compile(pattern)
            hits = [i for i, h in enumerate(header) if rx.search(h.replace("\ufeff", ""))]
            if len(hits) == 1:
                index[key] = hits[0]
            elif not hits:
                problems.append(_msg("pattern_none", lang, pattern=pattern, key=key))
            else:
                problems.append(_msg("pattern_many", lang, pattern=pattern, key=key, count=len(hits),
                                     headings=", ".join(repr(header[i]) for i in hits[:5])))
            continue
        m = re.fullmatch(r"#\s*(\d+)", key.strip())
        if m:
            pos = int(m.group(1))
            if 1 <= pos <= len(header):
                index[key] = pos - 1
            else:
                problems.append(_msg("no_position", lang, key=key, count=len(header)))
            continue
        hits = [i for i, h in enumerate(header) if h == key.strip()]
        if not hits:
            hits = [i for i, k in enumerate(keys) if k == heading_key(key)]
        if len(hits) == 1:
            index[key] = hits[0]
        elif hits:
            problems.append(_msg("duplicate_heading", lang, heading=header[hits[0]], count=len(hits),
                                 positions=", ".join(f"#{i + 1}" for i in hits), first=hits[0] + 1))
        else:
            missing.append(key)
    if missing:
        text = _msg("no_column", lang, columns=", ".join(map(repr, missing)))
        hints = []
        for key in missing:
            near = difflib.get_close_matches(heading_key(key), keys, n=1, cutoff=0.6)
            if near:
                hints.append(f"{key!r} -> {header[keys.index(near[0])]!r}")
        if hints:
            text += "; " + _msg("did_you_mean", lang, hint=", ".join(hints))
        problems.insert(0, text + " (" + _msg("header_size", lang, count=len(header)) + ")")
    if problems:
        raise MappingError(f"{name}: " + "; ".join(problems))
    return index


@functools.lru_cache(maxsize=8)
def _cell_names(header: tuple[str, ...]) -> tuple[str, ...]:
    """Each column's name in messages about a whole line: its heading, or its position when repeated."""
    counts: dict[str, int] = {}
    for h in header:
        counts[h] = counts.get(h, 0) + 1
    return tuple(h if h and counts[h] == 1 else f"{h} (#{i + 1})".strip() for i, h in enumerate(header))


def _csv_record(line_no: int, raw: str, row: list[str], header: list[str], index: Mapping[str, int],
                lang: str, number: int | None = None) -> Record:
    if row and row[0].startswith("\x00csv error: "):
        return Record(line_no, raw, None, {"field": "", "code": "malformed_line",
                                           "message": _msg("malformed_line", lang, detail=row[0][12:])}, number)
    if len(row) != len(header):
        return Record(line_no, raw, None, {
            "field": "", "code": "wrong_column_count",
            "message": _msg("wrong_column_count", lang, got=len(row), want=len(header))}, number)
    cells = dict(zip(_cell_names(tuple(header)), row))
    errors = unstorable_errors(cells, lang)
    if errors:
        return Record(line_no, raw, None, errors[0], number)
    return Record(line_no, raw, {key: row[i] for key, i in index.items()}, None, number)


def _checked_record(line_no: int, raw: str, fields: dict[str, Any], lang: str, number: int | None = None) -> Record:
    """A line whose cells (or keys) hold NUL or a lone surrogate is refused whole, naming the column."""
    errors = unstorable_errors(fields, lang)
    if errors:
        return Record(line_no, raw, None, errors[0], number)
    return Record(line_no, raw, fields, None, number)


def _jsonl_record(line_no: int, raw: str, lang: str, number: int | None = None) -> Record:
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        obj, detail = None, str(exc)
    else:
        detail = type(obj).__name__
    if not isinstance(obj, dict):
        return Record(line_no, raw, None, {"field": "", "code": "malformed_line",
                                           "message": _msg("malformed_line", lang, detail=detail)}, number)
    return _checked_record(line_no, raw, obj, lang, number)


# ---------------------------------------------------------------------------- one record -> answers


def _fold(s: str) -> str:
    """Match export text loosely: NFC, trimmed, spaces collapsed, case-blind with Turkish I/İ handled."""
    return fold(s)  # "HAYIR", "Hayır", "hayir" all fold alike


def _lookup(fields: Mapping[str, Any], column: str) -> Any:
    """A column; in JSONL `a/b` also reaches into nested objects."""
    if column in fields:
        return fields[column]
    if "/" in column:
        return dig(fields, column.split("/"), None)
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
    if q.type == "yes_no" and read_yes_no(value) is None:
        return None  # "N/A", "-", an untouched "Select": no answer, not a wrong one
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
    """What became of one line: accepted, updated, duplicate or rejected (with errors and its dead letter)."""

    line: int
    status: str  # accepted | updated | duplicate | rejected
    shop: str | None = None
    submission_id: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    dead_letter_id: int | None = None
    record: int | None = None  # the record's number in the file (the line is its first physical line)
    dropped: list[dict[str, Any]] = field(default_factory=list)  # values left out under `on_bad_value: drop`
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"line": self.line, "status": self.status, "shop": self.shop}
        if self.record is not None:
            d["record"] = self.record
        if self.submission_id is not None:
            d["submission_id"] = self.submission_id
        if self.errors:
            d["errors"] = self.errors
        if self.dead_letter_id is not None:
            d["dead_letter_id"] = self.dead_letter_id
        if self.dropped:
            d["dropped"] = self.dropped
        if self.warnings:
            d["warnings"] = self.warnings
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
    from locales import supported_language

    if mapping.language_column and record.fields is not None:
        v = _lookup(record.fields, mapping.language_column)
        if isinstance(v, str) and v.strip():
            base = supported_language(v.strip())
            if base:
                return base
    return mapping.language


def _submitted_at(record: Record, mapping: SurveyMapping, lang: str, now: datetime) -> datetime | None:
    if not mapping.submitted_at or record.fields is None:
        return None
    v = _lookup(record.fields, mapping.submitted_at)
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    fmt = mapping.submitted_at_format
    where = {"field": mapping.submitted_at, "column": mapping.submitted_at, "value": v, "record": record.number}
    err = ValidationFailed([{**where, "code": "invalid_datetime",
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
        raise ValidationFailed([{**where, "code": "in_future",
                                 "message": f"{mapping.submitted_at}: " + _msg("in_future", lang, value=v)}])
    return at


# ---------------------------------------------------------------------------- one record -> answers


@dataclass
class Reading:
    """What one record says, before the interview schema checks it."""

    answers: dict[str, Any]
    cells: dict[str, tuple[str, Any]]  # question -> (column, the cell as given): for error messages
    problems: list[dict[str, Any]]  # cells that could not be read (each with its column's rule)
    implied_empty: set[str]  # multi-choice questions whose every option column said no
    rules: dict[str, str]  # question -> on_bad_value (reject wins when its columns disagree)


def _tick(cell: Any, col: ColumnMap, mapping: SurveyMapping, schema: Any) -> Any:
    """A one-column-per-choice cell: True (ticked), False (not), None (no answer) or UNKNOWN.

    The column's value map first, then the mapping's, then `locales.yesno`; a cell holding
    the choice's own label (SurveyMonkey writes the option's text in its column) is a tick."""
    if isinstance(cell, str):
        f = _fold(cell)
        for vm in (col.values, mapping.values):
            if f in vm:
                v = vm[f]
                if v is None:
                    return None
                if isinstance(v, str) and v == col.choice:
                    return True
                r = read_yes_no(v)
                return r
    r = read_yes_no(cell)
    if r is UNKNOWN and isinstance(cell, str):
        if _choices_of(schema, schema.questions[col.question]).get(_fold(cell)) == col.choice:
            return True
    return r


def read_record(record: Record, mapping: SurveyMapping, lang: str = "en") -> Reading:
    """Read a record's cells into answers; a cell that is not yes, no or missing where one is
    expected is a problem naming the record, column and value, never a tick."""
    from profile_schema import load_schema

    schema = load_schema()
    assert record.fields is not None
    reading = Reading({}, {}, [], set(), {})
    groups: dict[str, list[tuple[ColumnMap, Any, Any]]] = {}
    for col in mapping.columns:
        cell = _lookup(record.fields, col.column)
        rule = reading.rules.get(col.question)
        reading.rules[col.question] = "reject" if "reject" in (rule, col.on_bad_value) else col.on_bad_value
        if col.choice is not None:
            groups.setdefault(col.question, []).append((col, cell, _tick(cell, col, mapping, schema)))
            continue
        value = _convert_cell(cell, col, mapping, schema)
        if value is not None:
            reading.answers[col.question] = value
            reading.cells[col.question] = (col.column, cell)
    for qkey, items in groups.items():
        q = schema.questions[qkey]
        ticked: list[tuple[ColumnMap, Any]] = []
        said = False
        for col, cell, tick in items:
            if tick is UNKNOWN:
                reading.problems.append({
                    "field": qkey, "code": "not_yes_no", "column": col.column, "value": cell,
                    "record": record.number, "rule": col.on_bad_value,
                    "message": f"{col.column}: {_msg('not_yes_no', lang, value=cell)}"})
            elif tick is True:
                ticked.append((col, cell))
                said = True
            elif tick is False:
                said = True
        if ticked:
            reading.cells[qkey] = (", ".join(c.column for c, _ in ticked), ", ".join(str(v) for _, v in ticked))
        if q.type == "single_choice":
            if len(ticked) == 1:
                reading.answers[qkey] = ticked[0][0].choice
            elif len(ticked) > 1:
                reading.problems.append({
                    "field": qkey, "code": "several_choices", "column": reading.cells[qkey][0],
                    "value": reading.cells[qkey][1], "record": record.number, "rule": reading.rules[qkey],
                    "message": f"{q.label(lang)}: " + _msg("several_choices", lang, question=q.label(lang),
                                                           columns=", ".join(repr(c.column) for c, _ in ticked))})
        elif ticked:
            reading.answers[qkey] = [c.choice for c, _ in ticked]
        elif said and not any(p["field"] == qkey for p in reading.problems):
            reading.answers[qkey] = []  # every option said no: "none of these", not "not asked"
            reading.implied_empty.add(qkey)
            reading.cells[qkey] = (", ".join(c.column for c, _, _ in items), "")
    return reading


def record_answers_of(record: Record, mapping: SurveyMapping) -> dict[str, Any]:
    """The answers a record gives, keyed by question (before the interview schema checks them)."""
    return read_record(record, mapping).answers


def _with_place(d: Mapping[str, Any], record: Record, reading: Reading | None) -> dict[str, Any]:
    """An error or dropped value naming the record, column and value."""
    out = dict(d)
    out.pop("rule", None)
    if record.number is not None:
        out.setdefault("record", record.number)
    q = out.get("field")
    if reading is not None and q in reading.cells:
        col, val = reading.cells[q]
        out.setdefault("column", col)
        out.setdefault("value", val)
    return out


# ---------------------------------------------------------------------------- finding the shop


@dataclass
class ShopIndex:
    """The file's shops, found up front in a few queries: by platform id, e-mail and phone."""

    by_platform: dict[str, Shop | None] = field(default_factory=dict)
    by_id: dict[int, Shop] = field(default_factory=dict)
    emails: dict[str, set[int]] = field(default_factory=dict)
    phones: dict[str, set[int]] = field(default_factory=dict)
    contacts_loaded: bool = False
    latest: dict[tuple[int, str], datetime] = field(default_factory=dict)  # newest answer per shop, question
    latest_loaded: set[int] = field(default_factory=set)


def _email_key(value: str) -> str:
    return value.strip().casefold()


def _phone_keys(value: str) -> set[str]:
    """The E.164 forms a phone cell can mean, in any of our markets (it carries no market)."""
    from locales import MARKET_CODES, InvalidValue
    from locales.phones import phone_e164

    out = set()
    for market in MARKET_CODES:
        try:
            out.add(phone_e164(value, market))
        except InvalidValue:
            continue
    return out


def _load_contacts(session: Session, index: ShopIndex) -> None:
    """Every shop's current owner.email and owner.phone (the latest set of each)."""
    if index.contacts_loaded:
        return
    index.contacts_loaded = True
    current: dict[tuple[int, str], Any] = {}
    rows = session.execute(select(Observation.shop_id, Observation.question, Observation.value)
                           .where(Observation.question.in_(("owner.email", "owner.phone")),
                                  Observation.op == "set")
                           .order_by(Observation.observed_at, Observation.id))
    for shop_id, question, value in rows:
        current[(shop_id, question)] = value
    for (shop_id, question), value in current.items():
        if not isinstance(value, str) or not value.strip():
            continue
        if question == "owner.email":
            index.emails.setdefault(_email_key(value), set()).add(shop_id)
        else:
            index.phones.setdefault(value.strip(), set()).add(shop_id)


def _shop_error(column: str, code: str, value: Any, record: Record, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": column, "code": code, "column": column, "value": value,
                              "record": record.number, "message": f"{column}: {message}"}])


def _find_shop(session: Session, record: Record, mapping: SurveyMapping, lang: str,
               index: ShopIndex | None) -> tuple[Shop, bool]:
    """The record's shop by platform id, else e-mail, else phone; (shop, found in the prefetch)."""
    from .shops import get_shop

    assert record.fields is not None
    first_error: ValidationFailed | None = None
    if mapping.shop:
        shop_value = _lookup(record.fields, mapping.shop)
        if isinstance(shop_value, (int, float)) and not isinstance(shop_value, bool):
            shop_value = str(shop_value)
        if shop_value is not None and not isinstance(shop_value, str):
            raise _shop_error(mapping.shop, "not_text", shop_value, record, _msg("not_text", lang))
        shop_id = (shop_value or "").strip()
        if shop_id:
            shop = index.by_platform.get(shop_id) if index is not None else None
            if shop is not None:
                return shop, True
            try:
                return get_shop(session, shop_id, lang=lang), False
            except NotFound:
                first_error = _shop_error(mapping.shop, "unknown_shop", shop_id, record,
                                          _msg("unknown_shop", lang, shop=shop_id))
    for column, kind in ((mapping.shop_email, "email"), (mapping.shop_phone, "phone")):
        if not column:
            continue
        v = _lookup(record.fields, column)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or not v.strip():
            continue
        index = index if index is not None else ShopIndex()
        _load_contacts(session, index)
        if kind == "email":
            ids = set(index.emails.get(_email_key(v), set()))
        else:
            ids = set()
            for key in _phone_keys(v):
                ids |= index.phones.get(key, set())
        if len(ids) == 1:
            [sid] = ids
            shop = index.by_id.get(sid) or session.get(Shop, sid)
            assert shop is not None
            index.by_id[sid] = shop
            return shop, False
        if len(ids) > 1:
            names = sorted(s.platform_id for s in session.scalars(select(Shop).where(Shop.id.in_(sorted(ids)))))
            raise _shop_error(column, "ambiguous_shop", v, record,
                              _msg("ambiguous_shop", lang, value=v.strip(), shops=", ".join(names)))
        if first_error is None:
            first_error = _shop_error(column, "unknown_shop", v, record, _msg("unknown_contact", lang, value=v.strip()))
    if first_error is not None:
        raise first_error
    column = mapping.shop or mapping.shop_email or mapping.shop_phone or ""
    raise _shop_error(column, "required", None, record, _msg("required", lang))


def _latest_answers(session: Session, index: ShopIndex, shop_ids: list[int]) -> None:
    """When each of these shops last had each question answered (one grouped query per chunk)."""
    todo = sorted(set(shop_ids) - index.latest_loaded)
    for i in range(0, len(todo), _CHUNK):
        chunk = todo[i:i + _CHUNK]
        rows = session.execute(select(Observation.shop_id, Observation.question, func.max(Observation.observed_at))
                               .where(Observation.shop_id.in_(chunk))
                               .group_by(Observation.shop_id, Observation.question))
        for sid, question, at in rows:
            if at is not None:
                index.latest[(sid, question)] = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
        index.latest_loaded.update(chunk)


def _older_warning(session: Session, index: ShopIndex, shop: Shop, keys: list[str], at: datetime,
                   record: Record, lang: str) -> dict[str, Any] | None:
    """A warning when the shop already holds newer answers to some of these questions."""
    _latest_answers(session, index, [shop.id])
    older = sorted(k for k in keys if index.latest.get((shop.id, k)) is not None and index.latest[(shop.id, k)] > at)
    for k in keys:
        if index.latest.get((shop.id, k)) is None or index.latest[(shop.id, k)] < at:
            index.latest[(shop.id, k)] = at
    if not older:
        return None
    return {"code": "older_than_stored", "record": record.number, "line": record.line, "shop": shop.platform_id,
            "questions": older, "observed_at": at.isoformat(),
            "message": _msg("older_than_stored", lang, questions=", ".join(older), at=at.isoformat())}


# ---------------------------------------------------------------------------- one record -> stored


def _stored_values(session: Session, shop: Shop, reference: str) -> dict[str, Any]:
    """What this response's earlier imports (the first and every --update) stored, latest per question."""
    subs = select(Submission.id).where(Submission.shop_id == shop.id,
                                       (Submission.reference == reference)
                                       | Submission.reference.startswith(reference[:150] + "~", autoescape=True))
    rows = session.execute(select(Observation.question, Observation.value)
                           .where(Observation.submission_id.in_(subs)).order_by(Observation.id))
    return {q: v for q, v in rows}


def import_record(
    session: Session,
    record: Record,
    mapping: SurveyMapping,
    *,
    actor: str,
    lang: str | None = None,
    now: datetime | None = None,
    shops: dict[str, Shop | None] | ShopIndex | None = None,
    references: dict[tuple[int, str], int] | None = None,
    update: bool = False,
) -> LineResult:
    """Store one line whole (less any value its column's `on_bad_value: drop` lets go), or raise
    ValidationFailed naming the record, column and value (nothing stored); a duplicate is no error.

    `update`: a response imported before is read again with this mapping; what changed is
    stored as a new submission of the same response (status "updated"), nothing when the
    answers are the same."""
    from .observations import record_answers

    now = now or utcnow()
    lang = lang or _line_language(record, mapping)
    if record.problem is not None:
        raise ValidationFailed([{**record.problem, "record": record.number}])
    assert record.fields is not None
    index = shops if isinstance(shops, ShopIndex) else ShopIndex(by_platform=dict(shops or {}))
    shop, prefetched = _find_shop(session, record, mapping, lang, index)
    shop_id = shop.platform_id
    reference = line_reference(record, mapping)
    if references is not None and prefetched:  # the file's references were loaded up front
        earlier_id = references.get((shop.id, reference))
    else:
        from .surveys import find_duplicate

        earlier = find_duplicate(session, shop, reference)
        earlier_id = earlier.id if earlier is not None else None
    if earlier_id is not None and not update:
        return LineResult(record.line, "duplicate", shop_id, earlier_id, record=record.number)
    observed_at = _submitted_at(record, mapping, lang, now)
    reading = read_record(record, mapping, lang)
    rejected = [p for p in reading.problems if p["rule"] != "drop"]
    if rejected:
        raise ValidationFailed([_with_place(p, record, reading) for p in reading.problems])
    dropped = [_with_place(p, record, reading) for p in reading.problems]
    answers = dict(reading.answers)
    stored_before: dict[str, Any] | None = None
    if earlier_id is not None:  # --update: a new submission of the same response, if anything changed
        stored_before = _stored_values(session, shop, reference)
        digest = hashlib.sha256(json.dumps(answers, sort_keys=True, default=str).encode()).hexdigest()[:16]
        reference = f"{reference[:150]}~{digest}"
        from .surveys import find_duplicate

        again = find_duplicate(session, shop, reference)
        if again is not None:
            return LineResult(record.line, "duplicate", shop_id, again.id, record=record.number)
    submission = None
    for attempt in (1, 2):
        try:
            with session.begin_nested() as savepoint:
                submission = record_answers(session, shop, answers, actor=actor, source=mapping.source,
                                            channel="import", observed_at=observed_at, lang=lang,
                                            require_survey_fields=mapping.require_survey_fields,
                                            reference=reference, now=now,
                                            rescore=False)  # a bulk path: the planner makes the scores again
                if stored_before is not None:
                    new = dict(session.execute(select(Observation.question, Observation.value)
                                               .where(Observation.submission_id == submission.id)).all())
                    if all(stored_before.get(k) == v for k, v in new.items()):
                        savepoint.rollback()  # the corrected reading says what was stored: nothing to do
                        return LineResult(record.line, "duplicate", shop_id, earlier_id, record=record.number)
            break
        except DuplicateSubmission as dup:  # stored a moment ago by another import or the API
            return LineResult(record.line, "duplicate", shop_id, dup.submission.id, record=record.number)
        except ValidationFailed as exc:
            errors = [_with_place(e.as_dict() if hasattr(e, "as_dict") else dict(e), record, reading)
                      for e in exc.errors]
            # "none of these" on a question that does not apply says nothing; a value whose column
            # says `on_bad_value: drop` is left out; anything else rejects the response
            removable = {e.get("field") for e in errors if e.get("field") in answers
                         and (e["field"] in reading.implied_empty or reading.rules.get(e["field"]) == "drop")}
            if attempt == 2 or not removable or any(e.get("field") not in removable for e in errors):
                raise ValidationFailed(errors) from None
            dropped += [e for e in errors if e["field"] not in reading.implied_empty]
            for k in removable:
                answers.pop(k, None)
    assert submission is not None
    if references is not None and prefetched:
        references[(shop.id, reference)] = submission.id
    result = LineResult(record.line, "updated" if stored_before is not None else "accepted", shop_id,
                        submission.id, record=record.number, dropped=dropped)
    keys = [k for k, v in answers.items() if v is not None and not (isinstance(v, str) and not v.strip())]
    warning = _older_warning(session, index, shop, keys, observed_at or now, record, lang)
    if warning is not None:
        result.warnings.append(warning)
    return result


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
    updated: int = 0
    results: list[LineResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        rejected = [r for r in self.results if r.status == "rejected"]
        return {
            "file": self.file, "format": self.format, "total": self.lines,
            "accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected,
            "dead_letters": [r.dead_letter_id for r in rejected],
            "errors": [{"line": r.line, "record": r.record, "shop": r.shop, "errors": r.errors,
                        "dead_letter": r.dead_letter_id} for r in rejected],
            "updated": self.updated,
            "dropped": [{"line": r.line, "record": r.record, "shop": r.shop, **d}
                        for r in self.results for d in r.dropped],
            "warnings": [w for r in self.results for w in r.warnings],
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
    update: bool = False,
) -> ImportReport:
    """Import every line of an export; bad lines are dead-lettered verbatim, good ones stored whole.

    `update`: responses imported before are read again with this mapping (see `import_record`)."""
    from .deadletters import storable, store_dead_letter

    now = now or utcnow()
    export = export or read_export(path, mapping, lang=lang or mapping.language)
    report = ImportReport(file=export.name, format=export.format)
    index, references = _prefetch(session, export.records, mapping)
    touched: set[int] = set()
    for record in export.records:
        report.lines += 1
        try:
            result = import_record(session, record, mapping, actor=actor, lang=lang, now=now, shops=index,
                                   references=references, update=update)
        except ValidationFailed as exc:
            errors = [e.as_dict() if hasattr(e, "as_dict") else dict(e) for e in exc.errors]
            errors = [{**e, "record": e.get("record", record.number)} for e in errors]
            shop = _record_shop_label(record, mapping)
            context = {
                "file": export.name, "line": record.line, "record": record.number, "format": export.format,
                "header": export.header_raw, "mapping": dict(mapping.raw), "actor": actor,
                "language": lang, "shop": shop,
            }
            dl = _pending_dead_letter(session, record.raw, context)
            if dl is None:  # the same line in another file (another header) is another letter
                dl = store_dead_letter(session, CHANNEL, record.raw, errors=errors, context=context, dedupe=False)
            else:  # the same line of the same file imported again: one letter, latest reasons and mapping
                dl.errors = storable([{k: e.get(k) for k in _ERROR_KEYS if k in e} for e in errors])
                dl.context = {**(dl.context or {}), "mapping": storable(dict(mapping.raw)),
                              "record": record.number}
                session.flush()
            result = LineResult(record.line, "rejected", shop, errors=errors, dead_letter_id=dl.id,
                                record=record.number)
        report.results.append(result)
        if result.status in ("accepted", "updated"):
            if result.status == "accepted":
                report.accepted += 1
            else:
                report.updated += 1
            touched.add(result.submission_id or 0)
        elif result.status == "duplicate":
            report.duplicates += 1
        else:
            report.rejected += 1
        if progress is not None:
            progress(1)
    if touched:  # the imported shops' shop_state rows, once for the file
        from .shop_state import refresh_states

        ids = sorted(set(session.scalars(select(Submission.shop_id).where(Submission.id.in_(sorted(touched))))))
        refresh_states(session, ids, now=now)
    return report


_ERROR_KEYS = ("field", "code", "message", "column", "value", "record")


def _record_shop_label(record: Record, mapping: SurveyMapping) -> str | None:
    """What the record names its shop by (platform id, else e-mail, else phone), for reports."""
    if record.fields is None:
        return None
    for column in (mapping.shop, mapping.shop_email, mapping.shop_phone):
        if column:
            v = _lookup(record.fields, column)
            if isinstance(v, str) and v.strip():
                return v
    return None


_CHUNK = 500  # ids per IN (...) query: well under every backend's parameter limit


def _prefetch(session: Session, records: list[Record], mapping: SurveyMapping
              ) -> tuple[ShopIndex, dict[tuple[int, str], int]]:
    """The file's shops, their stored references and latest answers in a few queries, not a few per line."""
    ids = set()
    for r in records:
        v = _lookup(r.fields, mapping.shop) if r.fields is not None and mapping.shop else None
        if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip():
            ids.add(str(v).strip())
    index = ShopIndex()
    ordered = sorted(ids)
    for i in range(0, len(ordered), _CHUNK):
        for shop in session.scalars(select(Shop).where(Shop.platform_id.in_(ordered[i:i + _CHUNK]))):
            index.by_platform[shop.platform_id] = shop
            index.by_id[shop.id] = shop
    references: dict[tuple[int, str], int] = {}
    shop_ids = sorted(index.by_id)
    for i in range(0, len(shop_ids), _CHUNK):
        rows = session.execute(select(Submission.shop_id, Submission.reference, Submission.id)
                               .where(Submission.shop_id.in_(shop_ids[i:i + _CHUNK]),
                                      Submission.reference.is_not(None))
                               .order_by(Submission.id.desc()))
        for shop_id, ref, sub_id in rows:
            references[(shop_id, ref)] = sub_id  # descending: the first submission wins
    _latest_answers(session, index, shop_ids)
    return index, references


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


def replay_dead_letter(session: Session, dead_letter: DeadLetter, *, mapping: SurveyMapping | None = None) -> None:
    """Re-run one dead-lettered import line with the mapping it came with, or with `mapping` (a
    corrected one: it is kept with the letter from then on); raise if it still fails."""
    from .deadletters import storable

    context = dict(dead_letter.context or {})
    corrected = mapping is not None
    if mapping is None:
        mapping = parse_mapping(context.get("mapping"), where=f"dead letter {dead_letter.id} mapping")
    fmt = context.get("format") or mapping.format or "csv"
    line = int(context.get("line") or 0)
    number = context.get("record")
    lang = context.get("language")
    if fmt == "jsonl":
        record = _jsonl_record(line, dead_letter.payload, lang or mapping.language, number)
    else:
        header_raw = context.get("header")
        if not header_raw:
            raise ConciergeError(translations(lang or mapping.language).gettext(
                "dead letter %(letter)s: no CSV header kept; re-import the file") % {"letter": dead_letter.id})
        header_rows = list(_csv_rows(header_raw, mapping))
        header = [c.strip() for c in header_rows[0][2]]
        index = resolve_columns(header, mapping, context.get("file") or f"dead letter {dead_letter.id}",
                                lang=lang or mapping.language)
        rows = list(_csv_rows(dead_letter.payload, mapping))
        if not rows:
            _ = translations(lang or mapping.language).gettext
            raise ValidationFailed([{"field": "", "code": "malformed_line", "message": _("empty line")}],
                                   _(NOT_ACCEPTED))
        record = _csv_record(line, dead_letter.payload, rows[0][2], header, index, lang or mapping.language, number)
    result = import_record(session, record, mapping, actor=context.get("actor") or "replay", lang=lang)
    if corrected:  # the letter says which mapping it was finally read with
        dead_letter.context = {**context, "mapping": storable(dict(mapping.raw))}
    if result.status == "accepted":
        from .shop_state import refresh_states, shop_ids_of

        refresh_states(session, shop_ids_of(session, [result.shop]))
