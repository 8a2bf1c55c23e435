"""The manager's dashboard: every report of `operations.reports` as a page, generic over the
report contract (`concierge.reporting`): its tables with their definitions, a chart drawn by
`renderers` beside the numbers, drill-down links to the shops behind each row, and CSV.

Managers and admins only. Pages read only: `build_report` reads stored state with SQL and
this module only formats what it returns, so the page, the CSV and `concierge report` show
the same figures. A report module not written yet is left out of the front page (404 on its
own page) instead of taking the dashboard down.
"""
from __future__ import annotations

import inspect
import math
import time
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from importlib import import_module
from types import ModuleType
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from locales import MARKET_CODES

from ..app import get_session
from ..config import report_settings
from ..errors import BadParameter
from ..i18n import translations
from ..operations.reports import MODULES, REPORTS, build_report, report_title
from ..reporting import NUMERIC, Report, Table, csv_filename, table_csv
from .auth import role_required
from .calls import clock  # now, or the moment a test fixed in app.config["CLOCK"]
from .helpers import current_lang, format_when

bp = Blueprint("dashboard", __name__)

#: Cohort grains a report may take (``grain``).
GRAINS = ("week", "month")
#: Arguments of a report's `build` that are not query parameters.
_FIXED = ("session", "lang", "market", "now")
#: The reports the front page builds for their warnings (calibration drift, a capacity peak). Building
#: all eight per request took 0.53 s warm on 3,000 demo shops on PostgreSQL (voice alone 0.23 s) and
#: grows with the data, so the others are only linked, with the titles below.
WARNING_REPORTS = ("model-health", "queue")
#: The chart's size in the page (user units; the SVG scales to its column).
CHART_WIDTH, CHART_HEIGHT = 720, 400
#: Tables with at most this many columns sit beside their chart on wide screens.
BESIDE_MAX_COLUMNS = 5


def report_module(key: str) -> ModuleType | None:
    """The report's module, or None when it is not written yet (any other import error is raised)."""
    name = f"{build_report.__module__}.{MODULES[key]}"
    try:
        return import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def available_reports() -> list[tuple[str, ModuleType]]:
    """(key, module) of every report whose module exists, in the registry's order."""
    out = []
    for key in REPORTS:
        module = report_module(key)
        if module is not None:
            out.append((key, module))
    return out


def report_params(module: ModuleType) -> dict[str, inspect.Parameter]:
    """The query parameters a report takes: the keyword arguments of its `build` beyond the fixed ones."""
    sig = inspect.signature(module.build)
    return {name: p for name, p in sig.parameters.items()
            if name not in _FIXED and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


#: The largest whole number a report parameter may take from a URL (months, days, counts).
_MAX_INT = 10_000


def _kind(param: inspect.Parameter) -> type | None:
    """The type a parameter takes: its default's, else its annotation's (bool, int, float or str)."""
    if param.default is not None and param.default is not inspect.Parameter.empty:
        return type(param.default) if type(param.default) in (bool, int, float, str) else None
    annotation = param.annotation if isinstance(param.annotation, str) else getattr(param.annotation, "__name__", "")
    for name, kind in (("bool", bool), ("float", float), ("int", int), ("str", str)):
        if name in str(annotation):
            return kind
    return None


def coerce_param(raw: str, param: inspect.Parameter) -> Any:
    """A query string value as the parameter's type; ValueError when it is not one (or is out of range)."""
    kind = _kind(param)
    if kind is bool:
        if raw.lower() in ("1", "true", "yes"):
            return True
        if raw.lower() in ("0", "false", "no"):
            return False
        raise ValueError(raw)
    if kind is int:
        value = int(raw)
        if not 0 <= value <= _MAX_INT:
            raise ValueError(raw)
        return value
    if kind is float:
        number = float(raw)
        if not math.isfinite(number) or number < 0:
            raise ValueError(raw)
        return number
    if kind is str:
        return raw[:100]
    raise ValueError(raw)  # a parameter of another type is not taken from a URL


def query_arguments(module: ModuleType, args: Any, lang: str = "en"
                    ) -> tuple[str | None, dict[str, Any], list[dict[str, str]]]:
    """(market, params, errors) from a request's query, for the dashboard pages, their CSV and the API:
    a market of `locales`, and the parameters the report's `build` takes (``grain`` one of GRAINS).
    A value that cannot be used is an error naming the field, in the reader's language (nothing is
    silently dropped: a manager must not read all markets believing they asked for one)."""
    gettext = translations(lang).gettext
    errors: list[dict[str, str]] = []

    def bad(field: str, code: str, text: str) -> None:
        errors.append({"field": field, "code": code, "message": f"{field}: {text}"})

    market = (args.get("market") or "").strip().upper() or None
    if market is not None and market not in MARKET_CODES:
        bad("market", "invalid_market", gettext("must be one of %(choices)s") % {"choices": ", ".join(MARKET_CODES)})
        market = None
    params: dict[str, Any] = {}
    for name, param in report_params(module).items():
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        if name == "grain" and raw not in GRAINS:
            bad(name, "invalid_choice", gettext("must be one of %(choices)s") % {"choices": ", ".join(GRAINS)})
            continue
        try:
            params[name] = coerce_param(raw, param)
        except ValueError:
            bad(name, "invalid_value", gettext("%(value)s is not a valid value") % {"value": repr(raw)})
    return market, params, errors


def build_from_query(key: str, args: Any, *, lang: str, strict: bool = False
                     ) -> tuple[Report, str | None, dict[str, Any], ModuleType, list[dict[str, str]]]:
    """Build report `key` for a request (404 when unknown or not written yet), with the query
    values that could not be used: a page leaves them out and says so, as the shop list does;
    ``strict`` (a file, which cannot say so) refuses them with a 400 naming each."""
    if key not in MODULES:
        abort(404)
    module = report_module(key)
    if module is None:
        abort(404)
    market, params, errors = query_arguments(module, args, lang)
    if errors and strict:
        raise BadParameter(errors, "; ".join(e["message"] for e in errors))
    report = build_report(get_session(), key, lang=lang, market=market, now=clock(),
                          settings=report_settings(current_app.config), **params)
    return report, market, params, module, errors


# ---------------------------------------------------------------------------- formatting

@lru_cache(maxsize=16)
def _rate_pattern(lang: str):
    """The reader's locale and its percent pattern with one decimal (parsed once per language)."""
    from babel import Locale, numbers

    from locales.formatting import babel_locale

    loc = Locale.parse(babel_locale(lang))
    pattern = numbers.parse_pattern(loc.percent_formats[None].pattern)
    pattern.frac_prec = (1, 1)
    return loc, pattern


def format_rate(value: float, lang: str) -> str:
    """A fraction as a percentage with one decimal, in the reader's locale (12.3%, 12,3%, %12,3)."""
    loc, pattern = _rate_pattern(lang)
    return pattern.apply(Decimal(str(round(float(value), 6))), loc)


@lru_cache(maxsize=8192)
def format_count(value: float, lang: str) -> str:
    """A number grouped for the reader's locale (`locales.formatting.format_number`); counts repeat, so cached."""
    from locales.formatting import format_number

    return format_number(value, lang)


def cell_text(value: Any, kind: str, lang: str) -> str:
    """One cell as the reader reads it: rates as percentages, numbers grouped, dates in their language."""
    from locales.formatting import format_date

    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if kind == "rate":
        return format_rate(value, lang)
    if kind == "int":
        return format_count(int(value), lang)
    if kind == "float":
        return format_count(round(float(value), 2), lang)
    if kind == "bool" or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if kind == "date":
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return format_date(day, lang, format="medium")
    if kind == "datetime" and isinstance(value, datetime):
        return format_when(value)
    return str(value)


# ---------------------------------------------------------------------------- charts

def _svg(scene) -> Markup:
    """The scene as inline SVG: every text in it was cleaned and escaped by the SVG backend."""
    from renderers import render_svg

    svg = render_svg(scene).decode("utf-8")
    if svg.startswith("<?xml"):
        svg = svg.split("?>", 1)[1].lstrip()
    return Markup(svg)  # noqa: S704 - the backend escapes every text and attribute it writes


def plot_scene(table: Table, lang: str):
    """The scene a table's ``plot`` asks for (see `reporting.PLOTS`), or None."""
    from renderers.charts import BarRow, bar_chart, calibration_chart

    plot = table.plot or {}
    kind = plot.get("kind")
    if kind == "bars":
        xcol, ycol = table.column(plot["x"]), table.column(plot["y"])
        low, high, ref = plot.get("low"), plot.get("high"), plot.get("reference")
        value_format = plot.get("format") or ("percent" if ycol.kind == "rate" else "number")
        rows = [BarRow(cell_text(r.get(xcol.key), xcol.kind, lang), r.get(ycol.key),
                       r.get(low) if low else None, r.get(high) if high else None, r.get(ref) if ref else None,
                       bool(r.get("_muted")), bool(r.get("_pending"))) for r in table.rows]
        return bar_chart(rows, title=table.title, lang=lang, value_format=value_format, y_label=ycol.label,
                         reference_label=table.column(ref).label if ref else None,
                         width=CHART_WIDTH, height=CHART_HEIGHT)
    if kind == "calibration":
        x, y, n = plot["x"], plot["y"], plot.get("n")
        bins = [(r[x], r[y], (r.get(n) or 0) if n else 1) for r in table.rows
                if r.get(x) is not None and r.get(y) is not None]
        return calibration_chart(bins, lang=lang)
    return None


# ---------------------------------------------------------------------------- the page's tables

def _drill_url(row: dict[str, Any]) -> str | None:
    drill = row.get("_drill")
    if not drill:
        return None
    return url_for("web.home", **{k: v for k, v in drill.items() if v is not None and v != "" and v != []})


def table_view(table: Table, lang: str) -> dict[str, Any]:
    """What the template draws for a table: header, formatted cells, drill links, flags, the chart."""
    rows = []
    for row in table.rows:
        cells = [{"key": c.key, "text": cell_text(row.get(c.key), c.kind, lang), "numeric": c.kind in NUMERIC}
                 for c in table.columns]
        rows.append({"cells": cells, "drill": _drill_url(row), "muted": bool(row.get("_muted")),
                     "pending": bool(row.get("_pending"))})
    scene = plot_scene(table, lang) if table.rows else None
    return {
        "key": table.key, "title": table.title, "definition": table.definition, "notes": table.notes,
        "columns": [{"key": c.key, "label": c.label, "numeric": c.kind in NUMERIC, "help": c.help}
                    for c in table.columns],
        "rows": rows, "chart": _svg(scene) if scene is not None else None,
        "any_muted": any(r["muted"] for r in rows), "any_pending": any(r["pending"] for r in rows),
        # a narrow table sits beside its chart on a wide screen; a wide one goes under it
        "beside": len(table.columns) <= BESIDE_MAX_COLUMNS,
    }


def _link_args(market: str | None, params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"market": market} if market else {}
    for name, value in params.items():
        out[name] = ("1" if value else "0") if isinstance(value, bool) else value
    return out


# ---------------------------------------------------------------------------- views

@bp.get("/dashboard")
@role_required("manager")
def index():
    """Link every report and show the warnings of those that watch for trouble (managers, admins)."""
    lang = current_lang()
    session = get_session()
    now = clock()
    started = time.perf_counter()
    reports, warnings = [], []
    for key, _module in available_reports():
        title = report_title(key, lang)
        if key in WARNING_REPORTS:
            cheap = {"warnings_only": True} if key == "queue" else {}  # only its warnings are shown here
            report = build_report(session, key, lang=lang, now=now, settings=report_settings(current_app.config),
                                  **cheap)
            title = report.title
            warnings += [{"key": key, "report": report.title, "text": w} for w in report.warnings]
        reports.append({"key": key, "title": str(title)})
    current_app.logger.debug("dashboard front page in %.3f s", time.perf_counter() - started)
    return render_template("dashboard.html", reports=reports, warnings=warnings)


@bp.get("/dashboard/<key>")
@role_required("manager")
def report_page(key: str):
    """Show one report: filters, then each table with its definition, chart, numbers and drill-downs."""
    lang = current_lang()
    report, market, params, module, problems = build_from_query(key, request.args, lang=lang)
    takes = report_params(module)
    link_args = _link_args(market, params)
    tables = [table_view(t, lang) for t in report.tables]
    for t in tables:
        t["csv"] = url_for("dashboard.table_csv_download", key=key, table=t["key"], **link_args)
    # a known parameter that has no field of its own stays in the form as a hidden input
    hidden = [(k, v) for k, v in link_args.items() if k not in ("market", "grain")]
    return render_template("dashboard_report.html", report=report, key=key, tables=tables,
                           markets=MARKET_CODES, market=market or "", grains=GRAINS if "grain" in takes else (),
                           grain=params.get("grain") or (report.params.get("grain") or ""), hidden=hidden,
                           problems=[(e["field"], e["message"].split(": ", 1)[-1]) for e in problems])


@bp.get("/dashboard/<key>/<table>.csv")
@role_required("manager")
def table_csv_download(key: str, table: str):
    """Download one table of a report as CSV (RFC 4180, UTF-8, formulas defused), streamed line by line."""
    report, market, _params, _module, _problems = build_from_query(key, request.args, lang=current_lang(),
                                                                   strict=True)
    try:
        found = report.table(table)
    except KeyError:
        abort(404)
    name = csv_filename(key, table, market or "")
    return Response(table_csv(found), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
