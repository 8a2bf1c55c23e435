"""Charts for managers, as scenes: the same two backends, the same safety rules.

- :func:`cohort_conversion_chart`: share of trials converted to paid, per cohort.
- :func:`readiness_funnel_chart`: shops that reached each readiness stage.
- :func:`calibration_chart`: predicted likelihood against observed conversion.
- :func:`bar_chart`: any figure per row (a dashboard table's ``plot``), with optional
  interval whiskers and a reference marker per bar; negative values hang below a zero line.

Rows may be tuples, mappings or objects with the named fields. Every text is fitted
(``text.fit``) and numbers are formatted for ``market`` (or the consultant's ``lang``).
Values are encoded by position/length and printed as text, never by colour alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping


from locales import formatting as fmt
from .labels import label, norm_lang, template
from .layout import BG, BLUE, BORDER, FAINT, INK, MUTED, PANEL, TINT_BLUE, TRACK, VERMILLION, _Box
from .picture_input import STAGES
from .scene import Circle, Group, Line, Polygon, Rect, Scene, TextRun
from .text import clean_text, line_height, measure, wrap


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
    loc = fmt.display_locale(market, lang)
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
        b.text(left - 8, y + 4, fmt.format_share(v, loc), 11, left - 16, fill=MUTED, anchor="end")
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
                b.text(cx, bottom - h - 6, fmt.format_share(rate, loc), label_size, slot - 4, bold=True, anchor="middle")
        else:
            # No trials: an empty dashed slot, not a zero bar.
            b.add(Rect(cx - bar_w / 2, bottom - 12, bar_w, 12, fill=PANEL, stroke=FAINT, dash=(3, 2)))
        b.text(cx, bottom + 18, row.cohort, label_size, slot - 4, anchor="middle")
        if slot >= 30:
            b.text(cx, bottom + 34, template("charts", "shops", lang, n=fmt.format_rounded(row.trials, loc)), 10,
                   slot - 4, fill=MUTED, anchor="middle")
        descs.append(f"{clean_text(row.cohort)} {fmt.format_share(rate, loc)}")
    desc = f"{title}: " + "; ".join(descs)
    return _frame("chart", width, height, b, title, desc, lang)


def readiness_funnel_chart(rows: Iterable[Any], *, lang: str = "en", market: str | None = None,
                           width: float = 800) -> Scene:
    """Horizontal funnel: shops per readiness stage, with the share of the first stage."""
    lang = norm_lang(lang)
    loc = fmt.display_locale(market, lang)
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
        count = fmt.format_rounded(row.shops, loc)
        share = fmt.format_share(row.shops / first, loc) if first else "?"
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
    loc = fmt.display_locale(market, lang)
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
        b.text(px(v), bottom + 18, fmt.format_share(v, loc), 11, 44, fill=MUTED, anchor="middle")
        b.text(left - 8, py(v) + 4, fmt.format_share(v, loc), 11, 48, fill=MUTED, anchor="end")
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
        descs.append(f"{fmt.format_share(r.predicted, loc)} → {fmt.format_share(r.observed, loc)} "
                     f"({template('charts', 'shops', lang, n=fmt.format_rounded(r.count, loc))})")
    desc = f"{title}: " + "; ".join(descs)
    return _frame("chart", width, height, b, title, desc, lang)


# --------------------------------------------------------------------------- any figure per row

VALUE_FORMATS = ("percent", "number")


@dataclass(frozen=True, slots=True)
class BarRow:
    """One bar: its label, value (None: not known), optional interval and reference value.

    ``muted`` (too small a sample to read) and ``pending`` (still inside its decision
    window) are drawn as outlined bars, named in the legend and the description.
    """

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    reference: float | None = None
    muted: bool = False
    pending: bool = False


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


_BAR_FIELDS = ("label", "value", "low", "high", "reference", "muted", "pending")


def _bar_row(row: Any) -> BarRow:
    if isinstance(row, BarRow):
        r = row
    elif isinstance(row, Mapping):
        r = BarRow(*(row.get(n) for n in _BAR_FIELDS))
    elif isinstance(row, (tuple, list)):
        r = BarRow(*row)
    else:
        r = BarRow(*(getattr(row, n, None) for n in _BAR_FIELDS))
    return BarRow(clean_text(r.label), _finite(r.value), _finite(r.low), _finite(r.high), _finite(r.reference),
                  bool(r.muted), bool(r.pending))


def _nice_step(span: float, steps: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``steps`` intervals."""
    raw = span / steps if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw - 1e-12:
            return m * power
    return 10 * power  # pragma: no cover


def _axis(values: list[float], value_format: str) -> tuple[float, float, float]:
    """(low, high, step) of a y axis holding every value and zero, on round ticks."""
    lo, hi = min([0.0, *values]), max([0.0, *values])
    if hi - lo < 1e-12:
        hi = lo + (0.1 if value_format == "percent" else 1.0)
    step = _nice_step(hi - lo)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step


@lru_cache(maxsize=4096)
def _value_text(value: float, loc: str, value_format: str, digits: int = 1) -> str:
    """A signed value as text: percent with at most ``digits`` decimals, or a grouped number."""
    if value_format == "percent":
        return fmt.format_signed_share(value, loc, digits)
    return fmt.format_rounded(value, loc)


def _tick_digits(step: float, value_format: str) -> int:
    """Decimals the tick labels need so that neighbouring ticks differ."""
    scaled = step * 100 if value_format == "percent" else step
    digits = 0
    while digits < 3 and abs(scaled * 10 ** digits - round(scaled * 10 ** digits)) > 1e-6:
        digits += 1
    return digits


def _centred_lines(b: _Box, cx: float, y: float, text: str, size: float, max_w: float, max_lines: int) -> None:
    """Wrapped text centred on ``cx`` (the x labels under the bars)."""
    lines, full = wrap(text, max_w, size, False, max_lines)
    step = line_height(clean_text(text), size, False, size + 3) if lines else 0  # taller scripts need more
    for i, line in enumerate(lines):
        b.add(TextRun(cx, y + i * step, line.text, size, line.width, INK, "normal", "middle",
                      full if (full and i == len(lines) - 1) else None))


def bar_chart(rows: Iterable[Any], *, title: str, lang: str = "en", market: str | None = None,
              value_format: str = "percent", y_label: str | None = None, reference_label: str | None = None,
              width: float = 800, height: float = 420) -> Scene:
    """Bars of a value per row, in the given order (a dashboard table's ``plot``).

    ``rows`` are `BarRow`s, mappings with ``label``/``value`` (and ``low``, ``high``,
    ``reference``, ``muted``, ``pending``) or tuples. An interval (``low``..``high``) is drawn
    as a whisker with caps; a reference value (a capacity, a target) as a vermillion mark
    across the bar, named ``reference_label`` in the legend. Negative values hang below a
    zero line. A bar with no value is an empty dashed slot, never a zero bar. Every value,
    interval and reference is also in the scene's description (the SVG's <desc>).
    """
    if value_format not in VALUE_FORMATS:
        raise ValueError(f"unknown value format {value_format!r}; expected one of {VALUE_FORMATS}")
    lang = norm_lang(lang)
    loc = fmt.display_locale(market, lang)
    data = [_bar_row(r) for r in rows]
    title = clean_text(title) or label("charts", "no_data", lang)
    b = _Box("chart", 0, 0, width, height)
    b.text(24, 34, title, 18, width - 48, bold=True)
    if y_label:
        b.text(24, 56, y_label, 13, width - 48, fill=MUTED)
    left, right, top, bottom = 78, width - 24, 104, height - 58
    if all(r.value is None for r in data):  # nothing to draw: say so instead of an empty axis
        b.text(width / 2, (top + bottom) / 2, label("charts", "no_data", lang), 16, width - 48, fill=MUTED,
               anchor="middle")
        return _frame("chart", width, height, b, title, title + ": " + label("charts", "no_data", lang), lang)
    has_interval = any(r.low is not None and r.high is not None for r in data)
    ref_name = clean_text(reference_label) or label("charts", "reference", lang)

    # Legend (only what is drawn): interval whisker, reference mark, outlined bars.
    lx, ly = 24.0, 80.0
    entries: list[tuple[str, str]] = []
    if has_interval:
        entries.append(("interval", label("charts", "interval", lang)))
    if any(r.reference is not None for r in data):
        entries.append(("reference", ref_name))
    if any(r.muted for r in data):
        entries.append(("muted", label("charts", "small_sample", lang)))
    if any(r.pending for r in data):
        entries.append(("pending", label("charts", "pending", lang)))
    for kind, words in entries:
        room = width - 24 - (lx + 24)
        if room < 40:
            break
        if kind == "interval":
            b.add(Line(lx + 8, ly - 11, lx + 8, ly + 1, stroke=INK, stroke_width=1.5),
                  Line(lx + 4, ly - 11, lx + 12, ly - 11, stroke=INK, stroke_width=1.5),
                  Line(lx + 4, ly + 1, lx + 12, ly + 1, stroke=INK, stroke_width=1.5))
        elif kind == "reference":
            b.add(Line(lx, ly - 5, lx + 16, ly - 5, stroke=VERMILLION, stroke_width=3))
        elif kind == "muted":
            b.add(Rect(lx + 2, ly - 11, 12, 12, fill=PANEL, stroke=FAINT, stroke_width=1.5, dash=(3, 2)))
        else:
            b.add(Rect(lx + 2, ly - 11, 12, 12, fill=TINT_BLUE, stroke=BLUE, stroke_width=1.5))
        used = b.text(lx + 22, ly, words, 12, min(room, (width - 48) / 2), fill=INK)
        lx += 22 + used + 20

    # The y axis: round ticks holding zero, every value, interval end and reference.
    values = [v for r in data for v in (r.value, r.low, r.high, r.reference) if v is not None]
    lo, hi, step = _axis(values, value_format)
    has_negative = lo < 0
    y_top, y_bottom = top + 18, bottom - (18 if has_negative else 0)  # room for value labels

    def py(v: float) -> float:
        return y_bottom - (y_bottom - y_top) * (v - lo) / (hi - lo)

    digits = _tick_digits(step, value_format)
    ticks = int(round((hi - lo) / step))
    for k in range(ticks + 1):
        v = lo + step * k
        y = py(v)
        b.add(Line(left, y, right, y, stroke=TRACK, stroke_width=1))
        b.text(left - 8, y + 4, _value_text(v + 0.0, loc, value_format, digits), 11, left - 16, fill=MUTED,
               anchor="end")
    zero = py(0.0)
    b.add(Line(left, zero, right, zero, stroke=INK if has_negative else FAINT, stroke_width=1.5 if has_negative else 1))

    n = len(data)
    slot = (right - left) / n
    bar_w = max(3.0, min(56.0, slot * 0.62))
    label_size = 11 if slot >= 40 else 10
    # x labels: every bar's (wrapped on two lines, cut with "…") when a slot is wide enough,
    # else every k-th on one line (all of them are in the description)
    every = 1
    if slot < 44:
        widest = max(measure(r.label, label_size) for r in data) + 6
        every = max(1, math.ceil(min(widest, 96) / slot))
    descs = []
    for i, r in enumerate(data):
        cx = left + slot * (i + 0.5)
        if r.value is None:
            b.add(Rect(cx - bar_w / 2, zero - 12, bar_w, 12, fill=PANEL, stroke=FAINT, dash=(3, 2)))
            value_text = label("charts", "no_data", lang)
        else:
            y = py(r.value)
            top_y, h = min(y, zero), abs(zero - y)
            if r.muted:
                b.add(Rect(cx - bar_w / 2, top_y, bar_w, max(h, 1.0), fill=PANEL, stroke=FAINT, stroke_width=1.5,
                           dash=(3, 2)))
            elif r.pending:
                b.add(Rect(cx - bar_w / 2, top_y, bar_w, max(h, 1.0), fill=TINT_BLUE, stroke=BLUE, stroke_width=1.5))
            elif h > 0:
                b.add(Rect(cx - bar_w / 2, top_y, bar_w, h, fill=BLUE))
            value_text = _value_text(r.value, loc, value_format)
        ends = [v for v in (r.value, r.low, r.high) if v is not None]
        if r.low is not None and r.high is not None:
            ylo, yhi = py(min(r.low, r.high)), py(max(r.low, r.high))
            cap = max(2.0, min(8.0, bar_w / 3))
            b.add(Line(cx, yhi, cx, ylo, stroke=INK, stroke_width=1.5),
                  Line(cx - cap, yhi, cx + cap, yhi, stroke=INK, stroke_width=1.5),
                  Line(cx - cap, ylo, cx + cap, ylo, stroke=INK, stroke_width=1.5))
        if r.reference is not None:
            yr = py(r.reference)
            half = min(slot / 2 - 1, bar_w / 2 + 6)
            b.add(Line(cx - half, yr, cx + half, yr, stroke=VERMILLION, stroke_width=3))
        if slot >= 30 and r.value is not None:
            # the value above the bar (or below a negative one), beyond its whisker
            if r.value >= 0:
                b.text(cx, py(max(ends)) - 6, value_text, label_size, slot - 4, bold=True, anchor="middle")
            else:
                b.text(cx, py(min(ends)) + 6 + label_size, value_text, label_size, slot - 4, bold=True,
                       anchor="middle")
        if i % every == 0:  # centred on its bar, and cut (…) where it would leave the panel at either side
            room = min(slot * every - 4, 2 * (width - 4 - cx), 2 * (cx - 4))
            _centred_lines(b, cx, bottom + 18, r.label, label_size, room, 2 if every == 1 else 1)
        parts = [f"{r.label} {value_text}"]
        if r.low is not None and r.high is not None:
            parts.append(template("charts", "interval_desc", lang,
                                  low=_value_text(min(r.low, r.high), loc, value_format),
                                  high=_value_text(max(r.low, r.high), loc, value_format)))
        if r.reference is not None:
            parts.append(f"{ref_name} {_value_text(r.reference, loc, value_format)}")
        if r.muted:
            parts.append(label("charts", "small_sample", lang))
        if r.pending:
            parts.append(label("charts", "pending", lang))
        descs.append(", ".join(parts))
    desc = f"{title}: " + "; ".join(descs)
    return _frame("chart", width, height, b, title, desc, lang)


__all__ = [
    "BarRow", "CalibrationBin", "CohortRow", "FunnelRow", "VALUE_FORMATS", "bar_chart", "calibration_chart",
    "cohort_conversion_chart", "readiness_funnel_chart",
]
