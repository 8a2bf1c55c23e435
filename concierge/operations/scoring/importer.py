"""Bring your own history: past trials (and open leads) from a spreadsheet (CSV) as observations and outcomes.

Each CSV row is one trial. A mapping (`--mapping FILE.yaml`, see `trial_mapping`) names the
question each column answers, maps its values, lists the cells that mean "missing"
(placeholders such as "Select") and says when the column was known: `known: start`
columns are observed at the trial's start (the model's snapshot sees them), `known: end`
columns at its end (start + `trial_days`), so the model never takes an end-of-trial
counter for day-0 knowledge. Without a mapping, columns named like the schema's question
keys answer them, known at the start. The outcome column becomes the shop's outcome; an
empty outcome is an open trial, imported so `concierge score --all` scores it.

A value of a choice question the schema does not list becomes `other` (counted in the
report), never a rejected row. A row is stored whole or not at all: a row with any other
value we cannot use (a bad number, date or outcome) goes verbatim to the dead-letter store
(channel "trial_import") with every reason, and the others are imported. After the
import each mapped column is checked for probable leakage (`leakage`).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

import profile_schema

from ...errors import BadMapping, ValidationFailed
from ...ingest.bodies import shop_id_error
from ...messages import SHOP_MESSAGES, localize
from ...models import DeadLetter, Observation, Shop, Submission
from ...scoring import trial_mapping as tm
from ..deadletters import store_dead_letter
from ..shops import MARKETS

CHANNEL = "trial_import"

_MSG = {
    "missing_column": {"en": "the file has no column {column!r}", "pl": "plik nie ma kolumny {column!r}",
                       "tr": "dosyada {column!r} sütunu yok",
                      "hi": "फ़ाइल में कॉलम {column!r} नहीं है"},
    "no_questions": {"en": "no column matches a question of the schema (e.g. business.type)",
                     "pl": "żadna kolumna nie odpowiada pytaniu schematu (np. business.type)",
                     "tr": "hiçbir sütun şemadaki bir soruyla eşleşmiyor (ör. business.type)",
                    "hi": "कोई भी कॉलम स्कीमा के किसी प्रश्न से मेल नहीं खाता (जैसे business.type)"},
    "invalid_outcome": {"en": "{value!r} is not an outcome (use converted / not_converted, 1 / 0, yes / no)",
                        "pl": "{value!r} nie jest wynikiem (użyj converted / not_converted, 1 / 0, tak / nie)",
                        "tr": "{value!r} bir sonuç değil (converted / not_converted, 1 / 0, evet / hayır kullanın)",
                       "hi": "{value!r} कोई नतीजा नहीं है (converted / not_converted, 1 / 0, हाँ / नहीं लिखें)"},
    "invalid_date": {"en": "{value!r} is not a date (YYYY-MM-DD)", "pl": "{value!r} nie jest datą (RRRR-MM-DD)",
                     "tr": "{value!r} bir tarih değil (YYYY-AA-GG)",
                    "hi": "{value!r} कोई तारीख नहीं है (YYYY-MM-DD)"},
    "invalid_date_format": {"en": "{value!r} is not a date in the format {format}",
                            "pl": "{value!r} nie jest datą w formacie {format}",
                            "tr": "{value!r}, {format} biçiminde bir tarih değil",
                           "hi": "{value!r} {format} प्रारूप में तारीख नहीं है"},
    "empty_file": {"en": "the file has no header or no rows", "pl": "plik nie ma nagłówka ani wierszy",
                   "tr": "dosyada başlık veya satır yok",
                  "hi": "फ़ाइल में न हेडर है न पंक्तियाँ"},
    "has_outcome": {"en": "shop {value!r} already has an outcome", "pl": "sklep {value!r} ma już wynik",
                    "tr": "{value!r} mağazasının zaten bir sonucu var",
                   "hi": "शॉप {value!r} का नतीजा पहले से दर्ज है"},
    "no_outcome_column": {"en": "name the outcome column (--outcome COLUMN, or `outcome:` in the mapping)",
                          "pl": "wskaż kolumnę z wynikiem (--outcome KOLUMNA albo `outcome:` w mapowaniu)",
                          "tr": "sonuç sütununu belirtin (--outcome SÜTUN veya eşlemede `outcome:`)",
                         "hi": "नतीजे का कॉलम बताइए (--outcome COLUMN, या मैपिंग में `outcome:`)"},
    "cannot_import": {"en": "The file cannot be imported", "pl": "Nie można zaimportować pliku",
                      "tr": "Dosya içe aktarılamıyor", "hi": "फ़ाइल इंपोर्ट नहीं की जा सकती"},
}


def msg(code: str, lang: str, **params: Any) -> str:
    return localize({**SHOP_MESSAGES, **_MSG}, code, lang, **params)


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    dead_lettered: int = 0
    observations: int = 0
    question_columns: list[str] = field(default_factory=list)
    unused_columns: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=lambda: {"converted": 0, "not_converted": 0})
    errors: list[dict[str, Any]] = field(default_factory=list)
    open_trials: int = 0
    already_imported: int = 0
    other_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    placeholders: dict[str, int] = field(default_factory=dict)
    known_at_end: list[str] = field(default_factory=list)
    leakage: list[dict[str, Any]] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported, "dead_lettered": self.dead_lettered,
                "observations": self.observations, "question_columns": self.question_columns,
                "unused_columns": self.unused_columns, "outcomes": self.outcomes, "errors": self.errors[:100],
                "open_trials": self.open_trials, "already_imported": self.already_imported,
                "other_values": self.other_values, "placeholders": self.placeholders,
                "known_at_end": self.known_at_end, "leakage": self.leakage, "source": self.source}


def parse_start(raw: Any, fmt: str | None = None) -> datetime | None:
    s = str(raw or "").strip()
    if not s:
        return None
    if fmt:
        d = tm.parse_date(s, fmt)
        if d is None:
            return None
        if d.time() == time(0):
            d = datetime.combine(d.date(), time(9))
        return d if d.tzinfo else d.replace(tzinfo=timezone.utc)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            return datetime.combine(date.fromisoformat(s), time(9), tzinfo=timezone.utc)
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


@dataclass(frozen=True, kw_only=True)
class ImportOptions:
    """How a file is imported: the command line's options (named only: most are column names, all
    strings, which a positional call could silently swap)."""

    outcome: str | None = None
    date: str | None = None
    market: str | None = None
    default_market: str | None = None
    id: str | None = None
    file_name: str = "import.csv"
    schema_file: str | None = None
    mapping_file: str | None = None
    file_sha256: str | None = None


def load_schema_for(opts: ImportOptions) -> profile_schema.Schema:
    return profile_schema.load_schema_file(opts.schema_file) if opts.schema_file else profile_schema.load_schema()


def build_mapping(opts: ImportOptions, header: list[str], schema: profile_schema.Schema) -> tm.TrialMapping:
    """The mapping in force: the file's (--mapping) with the command line's options on top, or
    the implicit one (columns named like question keys). A wrong mapping raises BadMapping."""
    try:
        if opts.mapping_file:
            m = tm.load_mapping(opts.mapping_file, schema=schema)
            return tm.with_overrides(m, outcome=opts.outcome, date=opts.date, market=opts.market,
                                     default_market=opts.default_market, id=opts.id)
        return tm.implicit_mapping(header, schema, outcome=opts.outcome, date_col=opts.date, market=opts.market,
                                   default_market=opts.default_market, id_col=opts.id)
    except tm.TrialMappingError as exc:
        raise BadMapping(str(exc)) from None


def _check_header(header: list[str], schema: profile_schema.Schema, m: tm.TrialMapping, lang: str) -> None:
    errors = []
    if not m.outcome:
        errors.append({"field": "--outcome", "code": "no_outcome_column", "message": msg("no_outcome_column", lang)})
    for name, col in (("--outcome", m.outcome), ("--date", m.date), ("--market", m.market), ("--id", m.id)):
        if col and col not in header:
            errors.append({"field": name, "code": "missing_column", "message": f"{name}: " + msg("missing_column", lang, column=col)})
    for r in m.columns:
        if r.column not in header:
            errors.append({"field": r.column, "code": "missing_column", "message": msg("missing_column", lang, column=r.column)})
    if not m.columns:
        errors.append({"field": "columns", "code": "no_questions", "message": msg("no_questions", lang)})
    if not m.market and m.default_market not in MARKETS:
        errors.append({"field": "--default-market", "code": "invalid_market",
                       "message": "--default-market: " + msg("invalid_market", lang, market=m.default_market)})
    if errors:
        raise ValidationFailed(errors, msg("cannot_import", lang))


@dataclass
class RowResult:
    errors: list[dict[str, Any]]
    outcome: str | None = None
    values: dict[str, Any] = field(default_factory=dict)     # question -> stored value
    unseen: list[tuple[str, str]] = field(default_factory=list)  # (column, cell) that became other
    placeholders: list[str] = field(default_factory=list)     # columns whose cell was a placeholder
    already: bool = False


def _answers(row: Mapping[str, str], schema: profile_schema.Schema, m: tm.TrialMapping,
             res: RowResult) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for rule in m.columns:
        cell = str(row.get(rule.column) or "").strip()
        if not cell:
            continue
        if m.placeholder(rule, cell):
            res.placeholders.append(rule.column)
            continue
        q = schema.questions.get(rule.question)
        if q is None:
            continue
        value, unseen = tm.map_cell(rule, q, cell)
        res.unseen.extend((rule.column, u) for u in unseen)
        if value is not None:
            answers[rule.question] = value
    return answers


def row_sha(row: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(row, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def import_row(session: Session, row: Mapping[str, str], n: int, schema: profile_schema.Schema,
               opts: ImportOptions, *, lang: str = "en", now: datetime | None = None,
               touched: set[int] | None = None, mapping: tm.TrialMapping | None = None) -> list[dict[str, Any]]:
    """Store one trial whole, or return every reason it cannot be stored (storing nothing)."""
    return import_row_result(session, row, n, schema, opts, lang=lang, now=now, touched=touched,
                             mapping=mapping).errors


def import_row_result(session: Session, row: Mapping[str, str], n: int, schema: profile_schema.Schema,
                      opts: ImportOptions, *, lang: str = "en", now: datetime | None = None,
                      touched: set[int] | None = None, mapping: tm.TrialMapping | None = None) -> RowResult:
    """Store one trial whole, or return every reason it cannot be stored (storing nothing).

    The stored shop's id is added to ``touched``: the caller refreshes its `shop_state` row."""
    now = now or datetime.now(timezone.utc)
    m = mapping or build_mapping(opts, list(row), schema)
    res = RowResult([])
    errors = res.errors
    out_col = m.outcome or "--outcome"
    out_cell = str(row.get(m.outcome) or "").strip() if m.outcome else ""
    outcome = None
    if out_cell and not m.placeholder(None, out_cell):
        outcome = m.outcome_values.get(tm.fold(out_cell)) or tm.parse_outcome(out_cell)
        if outcome is None:
            errors.append({"field": out_col, "code": "invalid_outcome",
                           "message": f"{out_col}: " + msg("invalid_outcome", lang, value=row.get(m.outcome))})
    res.outcome = outcome
    started = now
    if m.date:
        started = parse_start(row.get(m.date), m.date_format)
        if started is None:
            code, extra = ("invalid_date_format", {"format": m.date_format}) if m.date_format else ("invalid_date", {})
            errors.append({"field": m.date, "code": code,
                           "message": f"{m.date}: " + msg(code, lang, value=row.get(m.date), **extra)})
    market = (row.get(m.market) or "").strip().upper() if m.market else m.default_market
    if market not in MARKETS:
        errors.append({"field": m.market or "--default-market", "code": "invalid_market",
                       "message": msg("invalid_market", lang, market=market)})
        market = None
    answers = _answers(row, schema, m, res)
    checked = schema.validate(answers, market=market, source="import", lang=lang)
    by_question = {r.question: r.column for r in m.columns}
    for e in checked.errors:  # name the file's column, not only the question
        d = e.as_dict()
        col = by_question.get(d["field"])
        if col and col != d["field"]:
            d = {**d, "column": col, "value": row.get(col)}
        errors.append(d)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(opts.file_name).stem).strip("-") or "file"
    platform_id = (row.get(m.id) or "").strip() if m.id else f"import-{stem[:40]}-{n}"
    bad_id = shop_id_error(platform_id, lang, field=m.id or "id")  # the one shop-id rule
    if bad_id is not None:
        errors.append(bad_id)
    existing = session.scalar(select(Shop).where(Shop.platform_id == platform_id)) if bad_id is None else None
    reference = f"{opts.file_name[:80]}#{n}@{(opts.file_sha256 or row_sha(row))[:64]}"
    if existing is not None and session.scalar(select(Submission.id).where(
            Submission.shop_id == existing.id, Submission.reference == reference)) is not None:
        res.already = True  # the same row of the same file: imported before, nothing to do
        return res
    if existing is not None and existing.outcome is not None:
        errors.append({"field": m.id or "id", "code": "has_outcome", "message": msg("has_outcome", lang, value=platform_id)})
    if existing is not None and market and existing.market != market:
        errors.append({"field": m.market or "--default-market", "code": "invalid_market",
                       "message": msg("invalid_market", lang, market=market)})
    if errors:
        return res
    shop = existing or Shop(platform_id=platform_id, market=market)
    shop.trial_started_at = started
    shop.outcome = outcome
    session.add(shop)
    session.flush()
    sub = Submission(shop_id=shop.id, source="import", channel="import", actor=f"import:{opts.file_name}",
                     received_at=now, reference=reference)
    session.add(sub)
    session.flush()
    known = {r.question: r.known for r in m.columns}
    ended = started + timedelta(days=m.trial_days)
    session.add_all([Observation(shop_id=shop.id, question=k, value=v, op="set", source="import",
                                 actor=f"import:{opts.file_name}",
                                 observed_at=ended if known.get(k) == "end" else started, recorded_at=now,
                                 schema_version=schema.version, submission_id=sub.id)
                     for k, v in checked.values.items()])
    session.flush()
    res.values = dict(checked.values)
    if touched is not None:
        touched.add(shop.id)
    return res


def profile_schema_outcome_keys() -> frozenset[str]:
    return frozenset({"trial.outcome"})  # the outcome comes from --outcome, never twice


def import_trials(session: Session, text: str, schema: profile_schema.Schema, opts: ImportOptions, *,
                  lang: str = "en", now: datetime | None = None) -> ImportReport:
    """Import trials from CSV text: each row whole or to the dead-letter store, so training can use
    them (rows with an outcome) and scoring can rank them (open rows)."""
    from ...scoring import leakage

    now = now or datetime.now(timezone.utc)
    sha = opts.file_sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    if opts.file_sha256 is None:
        opts = ImportOptions(**{**opts.__dict__, "file_sha256": sha})
    text = text.lstrip("\ufeff")
    first = next(csv.reader(io.StringIO(text)), [])
    m = build_mapping(opts, first, schema) if opts.mapping_file else None
    reader = csv.DictReader(io.StringIO(text), delimiter=m.delimiter if m else ",")
    header = list(reader.fieldnames or [])
    if not header:
        raise ValidationFailed([{"field": "file", "code": "empty_file", "message": msg("empty_file", lang)}])
    m = m or build_mapping(opts, header, schema)
    _check_header(header, schema, m, lang)
    used = {m.outcome, m.date, m.market, m.id}
    mapped = {r.column for r in m.columns}
    report = ImportReport(question_columns=[r.column for r in m.columns],
                          unused_columns=[h for h in header if h not in mapped and h not in used and h not in m.ignore],
                          known_at_end=[r.column for r in m.columns if r.known == "end"],
                          source={"file": opts.file_name, "sha256": sha})
    touched: set[int] = set()
    other: dict[str, Counter[str]] = defaultdict(Counter)
    placeholders: Counter[str] = Counter()
    seen_cols: dict[str, list[Any]] = {r.column: [] for r in m.columns}
    outcomes: list[int] = []
    starts: list[datetime] = []
    markets: Counter[str] = Counter()
    by_q = {r.question: r.column for r in m.columns}
    for n, row in enumerate(reader, start=1):
        report.rows += 1
        row = {k: v for k, v in row.items() if k is not None}
        res = import_row_result(session, row, n, schema, opts, lang=lang, now=now, touched=touched, mapping=m)
        if res.already:
            report.already_imported += 1
            continue
        if res.errors:
            report.dead_lettered += 1
            report.errors.append({"row": n, "errors": res.errors})
            store_dead_letter(session, CHANNEL, json.dumps(row, ensure_ascii=False), errors=res.errors, now=now,
                              context={"file": opts.file_name, "row": n, "header": header, "lang": lang,
                                       "options": opts.__dict__})
            continue
        report.imported += 1
        for col, cell in res.unseen:
            other[col][cell] += 1
        placeholders.update(res.placeholders)
        report.observations += len(res.values)
        if res.outcome is None:
            report.open_trials += 1
        else:
            report.outcomes[res.outcome] += 1
            outcomes.append(1 if res.outcome == "converted" else 0)
            vals = {by_q[k]: v for k, v in res.values.items() if k in by_q}
            for col in seen_cols:
                seen_cols[col].append(vals.get(col))
        if m.date:
            starts.append(parse_start(row.get(m.date), m.date_format))
        markets[(row.get(m.market) or "").strip().upper() if m.market else m.default_market] += 1
    report.other_values = {c: {"count": sum(v.values()), "values": dict(v.most_common(10))} for c, v in other.items()}
    report.placeholders = dict(placeholders)
    known = {r.column: r for r in m.columns}
    for f in leakage.check(seen_cols, outcomes):
        r = known[f["column"]]
        report.leakage.append({**f, "question": r.question, "known": r.known, "used_by_model": r.known == "start"})
    report.source.update({
        "rows": report.rows, "imported": report.imported,
        "date_range": {"from": min(starts).date().isoformat(), "to": max(starts).date().isoformat()} if starts else None,
        "markets": dict(sorted(markets.items())),
        "mapping": Path(opts.mapping_file).name if opts.mapping_file else None})
    if touched:  # the imported shops' shop_state rows, once for the file
        from ..shop_state import refresh_states

        refresh_states(session, touched, now=now)
    return report


def replay_dead_letter(session: Session, dl: DeadLetter) -> None:
    """Re-run one rejected row (after the schema, the mapping or the row was fixed); raises ValidationFailed if still bad."""
    ctx = dl.context or {}
    known = set(ImportOptions.__dataclass_fields__)
    opts = ImportOptions(**{k: v for k, v in ctx["options"].items() if k in known})
    schema = load_schema_for(opts)
    touched: set[int] = set()
    row = json.loads(dl.payload)
    mapping = build_mapping(opts, list(ctx.get("header") or row), schema)
    errors = import_row(session, row, int(ctx.get("row", 0)), schema, opts, lang=ctx.get("lang", "en"),
                        touched=touched, mapping=mapping)
    if errors:
        raise ValidationFailed(errors)
    from ..shop_state import refresh_states

    refresh_states(session, touched)


def training_source(session: Session, platform_ids: Iterable[str]) -> dict[str, Any]:
    """Where a model's history came from: each imported file (name, SHA-256, the trials of it in
    this history, their start dates and markets), and how many trials came otherwise (demo, events)."""
    ids = list(platform_ids)
    files: dict[str, dict[str, Any]] = {}
    from_file: set[str] = set()
    for k in range(0, len(ids), 2000):
        part = ids[k:k + 2000]
        q = (select(Shop.platform_id, Shop.market, Shop.trial_started_at, Submission.actor, Submission.reference)
             .join(Submission, Submission.shop_id == Shop.id)
             .where(Shop.platform_id.in_(part), Submission.channel == "import", Submission.source == "import"))
        for pid, market, started, actor, ref in session.execute(q):
            sha = ref.rsplit("@", 1)[1] if ref and "@" in ref else None
            name = actor.split(":", 1)[1] if actor and ":" in actor else actor
            f = files.setdefault(f"{name}@{sha}", {"file": name, "sha256": sha, "shops": set(), "starts": [],
                                                  "markets": Counter()})
            if pid in f["shops"]:
                continue
            f["shops"].add(pid)
            from_file.add(pid)
            f["markets"][market] += 1
            if started is not None:
                f["starts"].append(started)
    out = []
    for f in files.values():
        markets = dict(sorted(f["markets"].items()))
        out.append({"file": f["file"], "sha256": f["sha256"], "rows": len(f["shops"]),
                    "date_range": {"from": min(f["starts"]).date().isoformat(),
                                   "to": max(f["starts"]).date().isoformat()} if f["starts"] else None,
                    "market": next(iter(markets)) if len(markets) == 1 else "mixed", "markets": markets})
    out.sort(key=lambda d: (d["file"] or "", d["sha256"] or ""))
    return {"imports": out, "other_rows": len(set(ids) - from_file)}
