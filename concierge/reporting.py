"""Report tables: one shape for the dashboard, the CLI's `--json`/`--csv` and the CSV export.

A report (`Report`) is a few tables (`Table`) with their warnings. A table has typed
columns (`Column`) and rows of raw values: numbers stay numbers (a rate is a fraction
0..1), missing is None. Each row may carry

- ``_drill``: the shop-list filters (`operations.shop_state.list_states` keywords) that
  select the shops behind the row, so every cell drills down to them;
- ``_muted``: True when the cell is too small to read as a figure (greyed on the page);
- ``_pending``: True when its trials are still inside their decision window.

Keys starting with ``_`` never reach a CSV or a column. The web page, the CLI and the
exports all read the same `Report`, so a figure cannot differ between them.

CSV (`csv_lines`) follows RFC 4180 (CRLF, quotes doubled, UTF-8), writes numbers in
numeric columns unquoted with a dot, and defuses spreadsheet formulas: a text cell or
header starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
``'``. It yields one line at a time, so 100k rows never sit in memory.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

#: Column kinds. Numeric kinds are written as numbers in CSV and JSON.
KINDS = ("text", "int", "float", "rate", "date", "datetime", "bool")
NUMERIC = frozenset({"int", "float", "rate"})
#: Charts a table can ask for in ``Table.plot`` (drawn by `renderers` on the dashboard):
#: {"kind": "bars", "x": key, "y": key, "low": key?, "high": key?, "format": "percent"|"number",
#:  "reference": key?}  bars per row with optional interval whiskers and a reference line per row;
#: {"kind": "calibration", "x": predicted key, "y": observed key, "n": count key}  a reliability diagram.
PLOTS = ("bars", "calibration")
#: A text cell starting with one of these is read as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str               # translated, in the reader's language
    kind: str = "text"       # one of KINDS
    help: str | None = None  # a translated definition shown beside the header

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(slots=True)
class Table:
    key: str                           # stable id: the CSV file name and the --table value
    title: str                         # translated
    definition: str                    # translated: what the figures mean, how they are counted
    columns: list[Column]
    rows: list[dict[str, Any]]
    plot: dict[str, Any] | None = None  # what to chart beside the table (see PLOTS), or None
    notes: list[str] = field(default_factory=list)  # translated remarks under the table

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        """JSON for scripts: columns and rows (drill filters kept as ``drill``, the row's ``_muted`` and
        ``_pending`` as ``flags``: ["muted", "pending"])."""
        return {
            "key": self.key, "title": self.title, "definition": self.definition, "notes": list(self.notes),
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": [_json_row(self.columns, r) for r in self.rows],
        }


@dataclass(slots=True)
class Report:
    key: str                           # cohorts, funnel, breakdowns, lift, forecast, model-health, queue, voice
    title: str                         # translated
    tables: list[Table]
    warnings: list[str] = field(default_factory=list)  # translated; shown on the dashboard's front page too
    params: dict[str, Any] = field(default_factory=dict)  # the filters it was computed with (market, grain...)
    generated_at: datetime | None = None

    def table(self, key: str | None = None) -> Table:
        """The named table (the first when ``key`` is None)."""
        if key is None:
            return self.tables[0]
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        return {"report": self.key, "title": self.title, "params": dict(self.params),
                "generated_at": self.generated_at.isoformat() if self.generated_at else None,
                "warnings": list(self.warnings), "tables": [t.as_dict() for t in self.tables]}


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if kind in NUMERIC:
        return int(value) if kind == "int" else float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _json_row(columns: Sequence[Column], row: Mapping[str, Any]) -> dict[str, Any]:
    out = {c.key: _plain(row.get(c.key), c.kind) for c in columns}
    if row.get("_drill"):
        out["drill"] = dict(row["_drill"])
    # the row's flags in their own key: a column may well be called "pending" (the cohorts' count)
    flags = [flag[1:] for flag in ("_muted", "_pending") if row.get(flag)]
    if flags:
        out["flags"] = flags
    return out


def safe_text(text: Any) -> str:
    """A text cell a spreadsheet will not run: a leading ``'`` before a formula start."""
    s = "" if text is None else str(text)
    return "'" + s if s.startswith(FORMULA_STARTS) else s


def _number(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if kind == "int":
        return str(int(value))
    return repr(float(value)) if not float(value).is_integer() else str(float(value))


def csv_cell(value: Any, kind: str) -> str:
    """One cell as text: numbers plain (a dot, no grouping), dates ISO, booleans true/false, text defused."""
    if kind in NUMERIC:
        return _number(value, kind)
    if value is None:
        return ""
    if kind == "bool" or isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return safe_text(value)


def _converter(kind: str):
    """`csv_cell` for one column kind, with the common types first: the same text, faster
    (an export writes every cell of 100k rows through it)."""
    if kind == "int":
        def int_cell(value: Any) -> str:
            if value is None:
                return ""
            return str(value) if type(value) is int else _number(value, kind)
        return int_cell
    if kind in NUMERIC:
        def float_cell(value: Any) -> str:
            if value is None:
                return ""
            if type(value) is float:
                return repr(value) if math.isfinite(value) else ""
            return _number(value, kind)
        return float_cell
    if kind == "bool":
        def bool_cell(value: Any) -> str:
            return "" if value is None else ("true" if value else "false")
        return bool_cell

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if type(value) is str:
            return "'" + value if value.startswith(FORMULA_STARTS) else value
        if type(value) is datetime:
            return value.isoformat()
        return csv_cell(value, kind)
    return cell


class _Line:
    """A file-like that hands back what csv.writer wrote for one row (kept as a list of what it wrote:
    cheaper per row than a StringIO emptied each time)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.write = self.parts.append

    def take(self) -> str:
        text = self.parts[0] if len(self.parts) == 1 else "".join(self.parts)
        self.parts.clear()
        return text


def csv_lines(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], *, header: bool = True) -> Iterator[str]:
    """The table as RFC 4180 CSV lines (each ends with CRLF), one row at a time.

    Numeric columns are written unquoted (QUOTE_MINIMAL never quotes a plain number), text
    is defused (`safe_text`) and quoted when it holds a comma, quote or line break.
    """
    out = _Line()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow([safe_text(c.label) for c in columns])
        yield out.take()
    text_cell = _converter("text")
    # None: a text-like column, whose plain strings (most cells) need no call at all
    cells = [(c.key, None if c.kind in ("text", "date", "datetime") else _converter(c.kind)) for c in columns]
    for row in rows:
        get = row.get
        writer.writerow([
            (v if type(v := get(k)) is str and not v.startswith(FORMULA_STARTS) else text_cell(v))
            if conv is None else conv(get(k))
            for k, conv in cells])
        yield out.take()


def table_csv(table: Table) -> Iterator[str]:
    """A report table as CSV lines (`csv_lines`)."""
    return csv_lines(table.columns, table.rows)


def csv_filename(*parts: str) -> str:
    """A safe download name: letters, digits, dot, dash and underscore only."""
    name = "-".join(p for p in parts if p)
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[:120] + ".csv"
