"""Charts for managers, as scenes: the same two backends, the same safety rules.

- :func:`cohort_conversion_chart`: share of trials converted to paid, per cohort.
- :func:`readiness_funnel_chart`: shops that reached each readiness stage.
- :func:`calibration_chart`: predicted likelihood against observed conversion.

Rows may be tuples, mappings or objects with the named fields. Every text is fitted
(``text.fit``) and numbers are formatted for ``market`` (or the consultant's ``lang``).
Values are encoded by position/length and printed as text, never by colour alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from . import fmt
from .labels import label, norm_lang, template
from .layout import BG, BLUE, BORDER, FAINT, INK, MUTED, PANEL, TRACK, VERMILLION, _Box
from .picture_input import STAGES
from .scene import Circle, Group, Line, Polygon, Rect, Scene
from .text import clean_text, measure


@dataclass(frozen=True, slots=True)
class CohortRow:
    cohort: str
    trials: int
    converted: int


@dataclass(frozen=True, slots=True)
class FunnelRow:
    stage: str
    shops: int


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    predicted: float
    observed: float
    count: int


def _coerce(row: Any, cls, names: tuple[str, ...]):
    if isinstance(row, cls):
        return row
    if isinstance(row, Mapping):
        return cls(*(row[n] for n in names))
    if isinstance(row, (tuple, list)):
        return cls(*row)
    return cls(*(getattr(row, n) for n in names))


def _frame(name: str, width: float, height: float, b: _Box, title: str, desc: str, lang: str) -> Scene:
    group = Group(name, tuple(b.items), Rect(0.5, 0.5, width - 1, height - 1, fill=PANEL, stroke=BORDER, rx=10))
    return Scene(width, height, (group,), title, desc, BG, lang, "chart")


def _nice_max(value: float) -> float:
    """A round axis maximum >= value (fractions): 0.1, 0.2, 0.25, 0.5, 1.0."""
    for top in (0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0):
        if value <= top + 1e-9:
            return top
    return 1.0


def cohort_conversion_chart(rows: Iterable[Any], *, lang: str = "en", market: str | None = None,
                            width: float = 800, height: float = 420) -> Scene:
    """Bar chart of conversion (converted / trials) per cohort, in the given order."""
    lang = norm_lang(lang)
    loc = fmt.locale_for(market, lang)
    data = [_coerce(r, CohortRow, ("cohort", "trials", "converted")) for r in rows]
    title = label("charts", "cohort_title", lang)
    b = _Box("chart", 0, 0, width, height)
    b.text(24, 34, title, 18, width - 48, bold=True)
    b.text(24, 56, label("charts", "cohort_axis", lang), 13, width - 48, fill=MUTED)
    left, right, top, bottom = 70, width - 24, 84, height - 58
    if not data:
        b.text(width / 2, (top + bottom) / 2, label("charts", "no_data", lang), 16, width - 48, fill=MUTED, anchor="middle")
        return _frame("chart", width, height, b, title, title + ": " + label("charts", "no_data", lang), lang)
    rates = [(r.converted / r.trials) if r.trials else 0.0 for r in data]
    ymax = _nice_max(max(rates) if rates else 0.0)
    # Axis and grid: five steps, labelled in percent.
    for k in range(6):
        v = ymax * k / 5
        y = bottom - (bottom - top) * k / 5
        b.add(Line(left, y, right, y, stroke=TRACK if k else FAINT, stroke_width=1))
        b.text(left - 8, y + 4, fmt.percent(v, loc), 11, left - 16, fill=MUTED, anchor="end")
    n = len(data)
    slot = (right - left) / n
    bar_w = max(4.0, min(56.0, slot * 0.62))
    label_size = 11 if slot >= 40 else 9
    descs = []
    for i, (row, rate) in enumerate(zip(data, rates)):
        cx = left + slot * (i + 0.5)
        h = (bottom - top) * (rate / ymax if ymax else 0)
        if row.trials:
            b.add(Rect(cx - bar_w / 2, bottom - h, bar_w, h, fill=BLUE))
            if slot >= 30:
                b.text(cx, bottom - h - 6, fmt.percent(rate, loc), label_size, slot - 4, bold=True, anchor="middle")
        else:
            # No trials: an empty dashed slot, not a zero bar.
            b.add(Rect(cx - bar_w / 2, bottom - 12, bar_w, 12, fill=PANEL, stroke=FAINT, dash=(3, 2)))
        b.text(cx, bottom + 18, row.cohort, label_size, slot - 4, anchor="middle")
        if slot >= 30:
            b.text(cx, bottom + 34, template("charts", "shops", lang, n=fmt.number(row.trials, loc)), 10,
                   slot - 4, fill=MUTED, anchor="middle")
        descs.append(f"{clean_text(row.cohort)} {fmt.percent(rate, loc)}")
    desc = f"{title}: " + "; ".join(descs)
    return _frame("chart", width, height, b, title, desc, lang)


def readiness_funnel_chart(rows: Iterable[Any], *, lang: str = "en", market: str | None = None,
                           width: float = 800) -> Scene:
    """Horizontal funnel: shops per readiness stage, with the share of the first stage."""
    lang = norm_lang(lang)
    loc = fmt.locale_for(market, lang)
    data = [_coerce(r, FunnelRow, ("stage", "shops")) for r in rows]
    order = {s: i for i, s in enumerate(STAGES)}
    data.sort(key=lambda r: order.get(r.stage, len(STAGES)))
    row_h = 44
    height = 96 + row_h * max(1, len(data)) + 16
    title = label("charts", "funnel_title", lang)
    b = _Box("chart", 0, 0, width, height)
    b.text(24, 34, title, 18, width - 48, bold=True)
    b.text(24, 56, label("charts", "funnel_axis", lang), 13, width - 48, fill=MUTED)
    if not data:
        b.text(width / 2, 110, label("charts", "no_data", lang), 16, width - 48, fill=MUTED, anchor="middle")
        return _frame("chart", width, height, b, title, title + ": " + label("charts", "no_data", lang), lang)
    label_w = 190
    bar_x = 24 + label_w + 12
    bar_max = width - bar_x - 24
    first = data[0].shops or 0
    top_count = max(r.shops for r in data) or 1
    descs = []
    for i, row in enumerate(data):
        y = 84 + i * row_h
        name = label("stages", row.stage, lang) if row.stage in order else row.stage
        b.text(24, y + 23, name, 14, label_w, bold=True)
        w = bar_max * row.shops / top_count
        b.add(Rect(bar_x, y + 6, bar_max, 24, fill=TRACK, rx=3))
        if w > 0:
            b.add(Rect(bar_x, y + 6, max(2.0, w), 24, fill=BLUE, rx=3))
        count = fmt.number(row.shops, loc)
        share = fmt.percent(row.shops / first, loc) if first else "?"
        text = f"{count} · " + template("charts", "of_first", lang, pct=share)
        tw = measure(clean_text(text), 12, True)
        if w >= tw + 16:
            b.text(bar_x + 8, y + 23, text, 12, w - 16, bold=True, fill="#ffffff")
        else:
            b.text(bar_x + w + 8, y + 23, text, 12, bar_max - w - 8, bold=True, fill=INK)
        descs.append(f"{clean_text(name)} {count}")
    desc = f"{title}: " + "; ".join(descs)
    return _frame("chart", width, height, b, title, desc, lang)


def calibration_chart(bins: Iterable[Any], *, lang: str = "en", market: str | None = None,
                      size: float = 560) -> Scene:
    """Reliability diagram: observed conversion per bin of predicted likelihood.

    The dashed diagonal is perfect calibration; the model is a solid line with circles
    whose area grows with the number of shops in the bin (and "n =" in the description).
    """
    lang = norm_lang(lang)
    loc = fmt.locale_for(market, lang)
    data = sorted((_coerce(r, CalibrationBin, ("predicted", "observed", "count")) for r in bins),
                  key=lambda r: r.predicted)
    width, height = size, size + 40
    title = label("charts", "calibration_title", lang)
    b = _Box("chart", 0, 0, width, height)
    b.text(24, 34, title, 18, width - 48, bold=True)
    left, right, top, bottom = 78, width - 24, 96, height - 64
    span_x, span_y = right - left, bottom - top

    def px(v: float) -> float:
        return left + span_x * max(0.0, min(1.0, v))

    def py(v: float) -> float:
        return bottom - span_y * max(0.0, min(1.0, v))

    for k in range(6):
        v = k / 5
        b.add(Line(px(v), top, px(v), bottom, stroke=TRACK, stroke_width=1))
        b.add(Line(left, py(v), right, py(v), stroke=TRACK, stroke_width=1))
        b.text(px(v), bottom + 18, fmt.percent(v, loc), 11, 44, fill=MUTED, anchor="middle")
        b.text(left - 8, py(v) + 4, fmt.percent(v, loc), 11, 48, fill=MUTED, anchor="end")
    b.add(Rect(left, top, span_x, span_y, fill=None, stroke=FAINT, stroke_width=1))
    b.text((left + right) / 2, bottom + 42, label("charts", "predicted", lang), 13, span_x, fill=INK, anchor="middle")
    # The y-axis title sits above the axis (no rotated text: it fits and reads on a phone).
    b.text(24, top - 12, label("charts", "observed", lang), 13, span_x, fill=INK)
    # Legend: dashed line = perfect, solid line with circle = model.
    lx = 24
    ly = 60
    b.add(Line(lx, ly - 4, lx + 28, ly - 4, stroke=MUTED, stroke_width=2, dash=(5, 4)))
    used = b.text(lx + 36, ly, label("charts", "perfect", lang), 12, (width - 48) / 2 - 40, fill=MUTED)
    mx = lx + 36 + used + 24
    b.add(Line(mx, ly - 4, mx + 28, ly - 4, stroke=VERMILLION, stroke_width=2.5))
    b.add(Circle(mx + 14, ly - 4, 4, fill=VERMILLION))
    b.text(mx + 36, ly, label("charts", "model", lang), 12, width - 24 - (mx + 36), fill=INK)
    b.add(Line(px(0), py(0), px(1), py(1), stroke=MUTED, stroke_width=2, dash=(5, 4)))
    if not data:
        b.text((left + right) / 2, (top + bottom) / 2, label("charts", "no_data", lang), 16, span_x - 20,
               fill=MUTED, anchor="middle")
        return _frame("chart", width, height, b, title, title + ": " + label("charts", "no_data", lang), lang)
    pts = tuple((px(r.predicted), py(r.observed)) for r in data)
    if len(pts) > 1:
        b.add(Polygon(pts, stroke=VERMILLION, stroke_width=2.5, closed=False))
    most = max(r.count for r in data) or 1
    descs = []
    for r, (x, y) in zip(data, pts):
        radius = 3 + 7 * math.sqrt(max(r.count, 0) / most)
        b.add(Circle(x, y, radius, fill=VERMILLION, stroke=PANEL, stroke_width=1.5))
        descs.append(f"{fmt.percent(r.predicted, loc)} → {fmt.percent(r.observed, loc)} "
                     f"({template('charts', 'shops', lang, n=fmt.number(r.count, loc))})")
    desc = f"{title}: " + "; ".join(descs)
    return _frame("chart", width, height, b, title, desc, lang)


__all__ = [
    "CalibrationBin", "CohortRow", "FunnelRow", "calibration_chart", "cohort_conversion_chart",
    "readiness_funnel_chart",
]
