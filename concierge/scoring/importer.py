"""Bring your own history: past trials from a spreadsheet (CSV) as observations and outcomes.

Each CSV row is one past trial. Columns named like the schema's question keys become
observations (source "import", observed at the trial start, so they count as known at
the snapshot); the outcome column becomes the shop's outcome. A row is stored whole or
not at all: a row with any value we cannot use goes verbatim to the dead-letter store
(channel "trial_import") with every reason, and the others are imported.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

import profile_schema

from ..errors import ValidationFailed
from ..ingest.bodies import shop_id_error
from ..messages import SHOP_MESSAGES, localize
from ..models import DeadLetter, Observation, Shop, Submission
from ..operations.deadletters import store_dead_letter
from ..operations.shops import MARKETS

CHANNEL = "trial_import"
CONVERTED = {"converted", "1", "yes", "true", "y", "tak", "evet", "subscribed", "paid", "won"}
NOT_CONVERTED = {"not_converted", "0", "no", "false", "n", "nie", "hayır", "hayir", "churned", "lost"}

_MSG = {
    "missing_column": {"en": "the file has no column {column!r}", "pl": "plik nie ma kolumny {column!r}",
                       "tr": "dosyada {column!r} sütunu yok"},
    "no_questions": {"en": "no column matches a question of the schema (e.g. business.type)",
                     "pl": "żadna kolumna nie odpowiada pytaniu schematu (np. business.type)",
                     "tr": "hiçbir sütun şemadaki bir soruyla eşleşmiyor (ör. business.type)"},
    "invalid_outcome": {"en": "{value!r} is not an outcome (use converted / not_converted, 1 / 0, yes / no)",
                        "pl": "{value!r} nie jest wynikiem (użyj converted / not_converted, 1 / 0, tak / nie)",
                        "tr": "{value!r} bir sonuç değil (converted / not_converted, 1 / 0, evet / hayır kullanın)"},
    "invalid_date": {"en": "{value!r} is not a date (YYYY-MM-DD)", "pl": "{value!r} nie jest datą (RRRR-MM-DD)",
                     "tr": "{value!r} bir tarih değil (YYYY-AA-GG)"},
    "empty_file": {"en": "the file has no header or no rows", "pl": "plik nie ma nagłówka ani wierszy",
                   "tr": "dosyada başlık veya satır yok"},
    "has_outcome": {"en": "shop {value!r} already has an outcome", "pl": "sklep {value!r} ma już wynik",
                    "tr": "{value!r} mağazasının zaten bir sonucu var"},
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

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported, "dead_lettered": self.dead_lettered,
                "observations": self.observations, "question_columns": self.question_columns,
                "unused_columns": self.unused_columns, "outcomes": self.outcomes, "errors": self.errors[:100]}


def parse_outcome(raw: Any) -> str | None:
    s = str(raw or "").strip().lower()
    if s in CONVERTED:
        return "converted"
    if s in NOT_CONVERTED:
        return "not_converted"
    return None


def parse_start(raw: Any) -> datetime | None:
    s = str(raw or "").strip()
    if not s:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            return datetime.combine(date.fromisoformat(s), time(9), tzinfo=timezone.utc)
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class ImportOptions:
    outcome: str
    date: str | None = None
    market: str | None = None
    default_market: str | None = None
    id: str | None = None
    file_name: str = "import.csv"
    schema_file: str | None = None


def _check_header(header: list[str], schema: profile_schema.Schema, opts: ImportOptions, lang: str) -> None:
    errors = []
    for name, col in (("--outcome", opts.outcome), ("--date", opts.date), ("--market", opts.market), ("--id", opts.id)):
        if col and col not in header:
            errors.append({"field": name, "code": "missing_column", "message": f"{name}: " + msg("missing_column", lang, column=col)})
    if not any(h in schema.questions for h in header):
        errors.append({"field": "columns", "code": "no_questions", "message": msg("no_questions", lang)})
    if not opts.market and opts.default_market not in MARKETS:
        errors.append({"field": "--default-market", "code": "invalid_market",
                       "message": "--default-market: " + msg("invalid_market", lang, market=opts.default_market)})
    if errors:
        raise ValidationFailed(errors, "The file cannot be imported")


def import_row(session: Session, row: Mapping[str, str], n: int, schema: profile_schema.Schema,
               opts: ImportOptions, *, lang: str = "en", now: datetime | None = None,
               touched: set[int] | None = None) -> list[dict[str, Any]]:
    """Store one past trial whole, or return every reason it cannot be stored (storing nothing).

    The stored shop's id is added to ``touched``: the caller refreshes its `shop_state` row."""
    now = now or datetime.now(timezone.utc)
    errors: list[dict[str, Any]] = []
    outcome = parse_outcome(row.get(opts.outcome))
    if outcome is None:
        errors.append({"field": opts.outcome, "code": "invalid_outcome",
                       "message": f"{opts.outcome}: " + msg("invalid_outcome", lang, value=row.get(opts.outcome))})
    started = now
    if opts.date:
        started = parse_start(row.get(opts.date))
        if started is None:
            errors.append({"field": opts.date, "code": "invalid_date",
                           "message": f"{opts.date}: " + msg("invalid_date", lang, value=row.get(opts.date))})
    market = (row.get(opts.market) or "").strip().upper() if opts.market else opts.default_market
    if market not in MARKETS:
        errors.append({"field": opts.market or "--default-market", "code": "invalid_market",
                       "message": msg("invalid_market", lang, market=market)})
        market = None
    answers = {k: v for k, v in row.items() if k in schema.questions and k not in profile_schema_outcome_keys()}
    checked = schema.validate(answers, market=market, source="import", lang=lang)
    errors.extend(e.as_dict() for e in checked.errors)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(opts.file_name).stem).strip("-") or "file"
    platform_id = (row.get(opts.id) or "").strip() if opts.id else f"import-{stem[:40]}-{n}"
    bad_id = shop_id_error(platform_id, lang, field=opts.id or "id")  # the one shop-id rule
    if bad_id is not None:
        errors.append(bad_id)
    existing = session.scalar(select(Shop).where(Shop.platform_id == platform_id)) if bad_id is None else None
    if existing is not None and existing.outcome is not None:
        errors.append({"field": opts.id or "id", "code": "has_outcome", "message": msg("has_outcome", lang, value=platform_id)})
    if existing is not None and market and existing.market != market:
        errors.append({"field": opts.market or "--default-market", "code": "invalid_market",
                       "message": msg("invalid_market", lang, market=market)})
    if errors:
        return errors
    shop = existing or Shop(platform_id=platform_id, market=market)
    shop.trial_started_at = started
    shop.outcome = outcome
    session.add(shop)
    session.flush()
    sub = Submission(shop_id=shop.id, source="import", channel="import", actor=f"import:{opts.file_name}",
                     received_at=now, reference=f"{opts.file_name}#{n}")
    session.add(sub)
    session.flush()
    session.add_all([Observation(shop_id=shop.id, question=k, value=v, op="set", source="import",
                                 actor=f"import:{opts.file_name}", observed_at=started, recorded_at=now,
                                 schema_version=schema.version, submission_id=sub.id)
                     for k, v in checked.values.items()])
    session.flush()
    if touched is not None:
        touched.add(shop.id)
    return []


def profile_schema_outcome_keys() -> frozenset[str]:
    return frozenset({"trial.outcome"})  # the outcome comes from --outcome, never twice


def import_trials(session: Session, text: str, schema: profile_schema.Schema, opts: ImportOptions, *,
                  lang: str = "en", now: datetime | None = None) -> ImportReport:
    """Import past trials from CSV text: each row whole or to the dead-letter store, so training can use them."""
    now = now or datetime.now(timezone.utc)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = list(reader.fieldnames or [])
    if not header:
        raise ValidationFailed([{"field": "file", "code": "empty_file", "message": msg("empty_file", lang)}])
    _check_header(header, schema, opts, lang)
    used = {opts.outcome, opts.date, opts.market, opts.id}
    report = ImportReport(question_columns=[h for h in header if h in schema.questions],
                          unused_columns=[h for h in header if h not in schema.questions and h not in used])
    touched: set[int] = set()
    for n, row in enumerate(reader, start=1):
        report.rows += 1
        row = {k: v for k, v in row.items() if k is not None}
        errors = import_row(session, row, n, schema, opts, lang=lang, now=now, touched=touched)
        if errors:
            report.dead_lettered += 1
            report.errors.append({"row": n, "errors": errors})
            store_dead_letter(session, CHANNEL, json.dumps(row, ensure_ascii=False), errors=errors, now=now,
                              context={"file": opts.file_name, "row": n, "header": header, "lang": lang,
                                       "options": opts.__dict__})
        else:
            report.imported += 1
            report.outcomes[parse_outcome(row.get(opts.outcome))] += 1
            report.observations += sum(1 for k, v in row.items()
                                       if k in schema.questions and k != "trial.outcome" and str(v or "").strip())
    if touched:  # the imported shops' shop_state rows, once for the file
        from ..operations.shop_state import refresh_states

        refresh_states(session, touched, now=now)
    return report


def replay_dead_letter(session: Session, dl: DeadLetter) -> None:
    """Re-run one rejected row (after the schema or the row was fixed); raises ValidationFailed if still bad."""
    ctx = dl.context or {}
    opts = ImportOptions(**ctx["options"])
    schema = profile_schema.load_schema_file(opts.schema_file) if opts.schema_file else profile_schema.load_schema()
    touched: set[int] = set()
    errors = import_row(session, json.loads(dl.payload), int(ctx.get("row", 0)), schema, opts, lang=ctx.get("lang", "en"),
                        touched=touched)
    if errors:
        raise ValidationFailed(errors)
    from ..operations.shop_state import refresh_states

    refresh_states(session, touched)
