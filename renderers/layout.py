"""The merchant picture: one fixed layout, laid out once as a scene.

Six panels of one fixed size, always in the same order, under a header strip:

    header:  shop, market, language | as-of date, changes since the last call
    row 1:   Owner and persona | Readiness to launch | Conversion and next step
    row 2:   Knowledge and needs | Business | Integrated features

``layout="wide"`` (1200 x 760) puts them in a 3 x 2 grid for a screen; ``"narrow"``
(400 wide) stacks the same panels for a phone, so nothing gets smaller than about
12 px on a 360 px screen. Both draw each panel with the same code.

Rules the layout keeps (the tests check them):
- every text is fitted to its box with real font metrics (``text.fit``/``text.wrap``);
  cut text keeps its full value for a tooltip;
- colour is never the only signal: lit features are filled *and* say "✓ Connected";
  unknowns are dashed outlines *and* "?"; changes get a diamond badge *and* a word;
- the palette is Okabe-Ito (colour-blind safe), text contrast >= 4.5:1.
"""

from __future__ import annotations

from typing import Sequence

import regex

from locales import formatting as fmt
from . import icons
from .labels import humanize, label, norm_lang, plural, template
from .picture_input import FEATURE_CATEGORIES, STAGES, PictureInput
from .scene import Circle, Group, Line, Polygon, Rect, Scene, TextRun
from .text import clean_text, fit, line_height, measure, wrap

# ----------------------------------------------------------------------------- theme
BG = "#f3f3f0"
PANEL = "#ffffff"
BORDER = "#c8c8c2"
INK = "#1a1a1a"
MUTED = "#575757"
FAINT = "#6b6b6b"
UNKNOWN = "#767676"
BLUE = "#0072B2"  # Okabe-Ito blue: lit, current, progress
BLUE_INK = "#005a8c"  # darker blue for text on the light blue tint
GREEN = "#009E73"  # Okabe-Ito bluish green: done
ORANGE = "#E69F00"  # Okabe-Ito orange: needs
VERMILLION = "#D55E00"  # Okabe-Ito vermillion: changed since the last call
VERMILLION_INK = "#9E3A00"
TINT_BLUE = "#e5f0f7"
TINT_ORANGE = "#fcefd6"
TRACK = "#e2e2dd"

PANEL_W = 376
PANEL_H = 324
PAD = 16
INNER = PANEL_W - 2 * PAD
GAP = 12

WIDE = "wide"
NARROW = "narrow"


class _Box:
    """Collects the items of one panel and offers fitted-text helpers."""

    def __init__(self, name: str, x: float, y: float, w: float, h: float):
        self.name = name
        self.x, self.y, self.w, self.h = x, y, w, h
        self.items: list = []

    # -- text
    def text(self, x, y, value, size, max_w, *, bold=False, fill=INK, anchor="start") -> float:
        fitted = fit(value, max_w, size, bold)
        if fitted.text:
            self.items.append(TextRun(x, y, fitted.text, size, fitted.width, fill,
                                      "bold" if bold else "normal", anchor, fitted.full_text))
        return fitted.width

    def lines(self, x, y, value, size, max_w, max_lines, line_h, *, bold=False, fill=INK) -> int:
        """Wrapped text; the line height grows for scripts with taller glyphs (Devanagari)."""
        lines, full = wrap(value, max_w, size, bold, max_lines)
        if lines:
            line_h = line_height(clean_text(value), size, bold, line_h)
        for i, line in enumerate(lines):
            self.items.append(TextRun(x, y + i * line_h, line.text, size, line.width, fill,
                                      "bold" if bold else "normal", "start",
                                      full if (full and i == len(lines) - 1) else None))
        return len(lines)

    # -- shapes
    def add(self, *items) -> None:
        self.items.extend(items)

    def unknown(self, x, baseline, lang, max_w, size=12.5, text=None) -> float:
        """A dashed box "? Not known yet": unknown is shown, never guessed."""
        words = text or label("words", "unknown", lang)
        label_w = min(measure(clean_text(words), size), max_w - 32)
        w = label_w + 32
        self.add(Rect(x, baseline - size - 1.5, w, size + 7, fill=PANEL, stroke=UNKNOWN,
                      stroke_width=1.2, dash=(4, 3), rx=0))
        self.text(x + 7, baseline, "?", size + 0.5, 12, bold=True, fill=UNKNOWN)
        self.text(x + 22, baseline, words, size, max_w - 32, fill=FAINT)
        return w

    def badge_width(self, kind: str, lang: str) -> float:
        return measure(clean_text(label("words", kind, lang)), 10.5, True) + 24

    def badge(self, right, baseline, kind: str | None, lang: str) -> float:
        """A "changed"/"new" badge ending at ``right``: diamond shape + word. Returns width."""
        if not kind:
            return 0.0
        word = label("words", kind, lang)
        w = self.badge_width(kind, lang)
        x = right - w
        self.add(Rect(x, baseline - 12, w, 16, fill=PANEL, stroke=VERMILLION, stroke_width=1.5, rx=8))
        self.add(icons.diamond(x + 10, baseline - 4, 4.5, VERMILLION))
        self.text(x + 18, baseline, word, 10.5, w - 22, bold=True, fill=VERMILLION_INK)
        return w + 6

    def group(self) -> Group:
        box = Rect(self.x, self.y, self.w, self.h, fill=PANEL, stroke=BORDER, stroke_width=1, rx=10)
        return Group(self.name, tuple(self.items), box)


def _title(b: _Box, key: str, lang: str, mark: str | None = None) -> None:
    """The panel's title, with the panel-level "changed"/"new" badge at its right."""
    badge = b.badge(b.x + b.w - PAD, b.y + 27, mark, lang)
    b.text(b.x + PAD, b.y + 27, label("panels", key, lang), 14.5, INNER - badge, bold=True, fill=MUTED)


def _choice(pic: PictureInput, field: str, key: str | None, lang: str, section: str | None = None) -> str:
    """Display label of a schema choice; free text is shown as the merchant wrote it."""
    if key is None:
        return ""
    if pic.choice_labels:
        entry = pic.choice_labels.get(f"{field}:{key}")
        if entry:
            return entry.get(norm_lang(lang)) or entry.get("en") or str(key)
    if section:
        return label(section, key, lang, default=_key_or_text(key))
    return _key_or_text(key)


_KEY_RE = regex.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")


def _key_or_text(value) -> str:
    """A schema key with no label reads as words; anything else is the merchant's text."""
    text = str(value)
    return humanize(text) if _KEY_RE.fullmatch(text) and "_" in text else text


def _field(b: _Box, y: float, name: str, value: str | None, mark: str | None, lang: str,
           *, size: float = 16.0, bold: bool = False, reserve: float = 0.0) -> None:
    """A stacked row: muted field name, then the value (or the unknown pill)."""
    x = b.x + PAD
    badge = b.badge(b.x + b.w - PAD, y, mark, lang)
    b.text(x, y, name, 12, INNER - badge, fill=MUTED)
    if value is None or value == "":
        b.unknown(x, y + 21, lang, INNER - reserve)
    else:
        b.text(x, y + 21, value, size, INNER - reserve, bold=bold)


# ----------------------------------------------------------------------------- header


def _header(pic: PictureInput, lang: str, x: float, y: float, w: float, narrow: bool) -> Group:
    h = 92 if narrow else 56
    b = _Box("header", x, y, w, h)
    loc = fmt.display_locale(pic.market, lang)
    shop = template("picture", "shop", lang, id=clean_text(pic.shop_id) or "?")
    market = label("markets", pic.market, lang) if pic.market else "?"
    language = label("languages", pic.merchant_language, lang) if pic.merchant_language else "?"
    where = f"{market} · {label('fields', 'language', lang)}: {language}"
    as_of = template("picture", "as_of", lang, date=fmt.format_numeric_date(pic.as_of, loc)) if pic.as_of else ""
    n = len(pic.changed | pic.added)
    if n:
        changes = plural("picture", "changes", lang, n, n=fmt.format_rounded(n, loc))
        if pic.last_contact:
            changes += f" ({fmt.format_numeric_date(pic.last_contact, loc)})"
    else:
        changes = label("picture", "no_changes", lang)
    legend = label("picture", "unknown_legend", lang)
    stamp = f"{as_of} · {legend}" if as_of else legend
    left = x + PAD
    if narrow:  # four lines, left-aligned
        b.text(left, y + 24, shop, 16, w - 2 * PAD, bold=True)
        b.text(left, y + 44, where, 13, w - 2 * PAD, fill=MUTED)
        b.text(left, y + 63, stamp, 13, w - 2 * PAD, fill=MUTED)
        change_y, change_w = y + 82, w - 2 * PAD - 16
        change_x = left
    else:  # two lines, left half and right half
        half = (w - 2 * PAD) / 2 - 8
        b.text(left, y + 24, shop, 16, half, bold=True)
        b.text(left, y + 44, where, 13, half, fill=MUTED)
        b.text(x + w - PAD, y + 24, stamp, 13, half, fill=MUTED, anchor="end")
        change_y, change_w = y + 44, half - 18
        change_x = x + w - PAD - fit(changes, change_w, 13, n > 0).width - 16
    # Changes since the last call: the diamond of the badges and the count (a hollow
    # square and "no changes" when there are none).
    if n:
        b.add(icons.diamond(change_x + 5, change_y - 4.5, 5, VERMILLION))
    else:
        b.add(Rect(change_x, change_y - 9.5, 10, 10, fill=PANEL, stroke=FAINT, stroke_width=1.2))
    b.text(change_x + 16, change_y, changes, 13, change_w, bold=n > 0, fill=VERMILLION_INK if n else MUTED)
    return b.group()


# ----------------------------------------------------------------------------- panels


def _owner(pic: PictureInput, lang: str, x: float, y: float) -> Group:
    b = _Box("owner", x, y, PANEL_W, PANEL_H)
    _title(b, "owner", lang, pic.mark("owner.name"))
    b.add(Rect(x + PAD, y + 42, 52, 52, fill=TINT_BLUE, rx=26))
    b.add(*icons.person(x + PAD + 4, y + 45, BLUE, TINT_BLUE, size=44))
    nx = x + PAD + 64
    nw = INNER - 64
    # The name gets two lines; one that fits on one line sits level with the avatar.
    name_lines, _ = wrap(pic.owner_name, nw, 19, True, 2)
    one_line = len(name_lines) <= 1
    if name_lines:
        b.lines(nx, y + (73 if one_line else 63), pic.owner_name, 19, nw, 2, 23, bold=True)
    else:
        b.unknown(nx, y + 73, lang, nw)
    where_y = y + (97 if one_line else 110)
    market = label("markets", pic.market, lang) if pic.market else None
    language = label("languages", pic.merchant_language, lang) if pic.merchant_language else None
    parts = [p for p in (market, language) if p]
    lang_mark = pic.mark("owner.language")
    badge_w = b.badge(x + PANEL_W - PAD, where_y, lang_mark, lang)
    if parts:
        b.text(nx, where_y, " · ".join(parts) + ("" if language else " · ?"), 13, nw - badge_w, fill=MUTED)
    else:
        b.text(nx, where_y, "?", 13, nw, fill=MUTED)

    persona = label("personas", pic.persona, lang) if pic.persona else None
    _field(b, y + 150, label("fields", "persona", lang), persona, pic.mark("persona"), lang,
           size=17, bold=True)
    loc = fmt.display_locale(pic.market, lang)
    hours = (template("words", "per_week", lang, n=fmt.format_rounded(pic.hours_per_week, loc))
             if pic.hours_per_week is not None else None)
    _field(b, y + 206, label("fields", "hours", lang), hours, pic.mark("owner.hours_per_week"), lang)

    level = pic.experience_level
    level_text = label("experience", level, lang) if level else None
    _field(b, y + 262, label("fields", "experience", lang), level_text, pic.mark("experience.level"),
           lang, reserve=56)
    # A 3-step meter: shape (bar heights) says the level, not colour.
    steps = {"none": 0, "beginner": 1, "intermediate": 2, "expert": 3}
    mx = x + PANEL_W - PAD - 40
    base = y + 284
    for i in range(3):
        bh = 7 + 5 * i
        lit = level in steps and i < steps[level]
        if level in steps:
            b.add(Rect(mx + i * 14, base - bh, 10, bh, fill=BLUE if lit else PANEL,
                       stroke=BLUE if lit else FAINT, stroke_width=1.2))
        else:
            b.add(Rect(mx + i * 14, base - bh, 10, bh, fill=PANEL, stroke=UNKNOWN,
                       stroke_width=1.2, dash=(2, 2)))
    return b.group()


def _readiness(pic: PictureInput, lang: str, x: float, y: float) -> Group:
    b = _Box("readiness", x, y, PANEL_W, PANEL_H)
    _title(b, "readiness", lang, pic.mark("readiness.percent") or pic.mark("readiness.stage"))
    loc = fmt.display_locale(pic.market, lang)
    left = x + PAD
    if pic.percent is not None:
        pct = max(0.0, min(100.0, float(pic.percent)))
        big = fmt.format_share(pct / 100, loc)
        w = b.text(left, y + 72, big, 34, INNER / 2, bold=True)
        b.text(left + w + 8, y + 72, label("fields", "done", lang), 14, INNER / 2 - 8, fill=MUTED)
        b.add(Rect(left, y + 84, INNER, 10, fill=TRACK, rx=5))
        if pct > 0:
            b.add(Rect(left, y + 84, max(10.0, INNER * pct / 100), 10, fill=BLUE, rx=5))
    else:
        b.unknown(left, y + 68, lang, INNER)
        b.add(Rect(left, y + 84, INNER, 10, fill=PANEL, stroke=UNKNOWN, stroke_width=1, dash=(4, 3)))

    # The stage track, top to bottom: done = filled + tick, current = ring + "now", next = hollow.
    cur = STAGES.index(pic.stage) if pic.stage in STAGES else None
    row0 = y + 118
    step = 25
    nx = left + 11
    for i, stage in enumerate(STAGES):
        cy = row0 + i * step
        if i < len(STAGES) - 1:
            done_seg = cur is not None and i < cur
            b.add(Line(nx, cy + 8, nx, cy + step - 8, stroke=GREEN if done_seg else FAINT,
                       stroke_width=2, dash=None if done_seg else (2, 3)))
        name = label("stages", stage, lang)
        if cur is None:
            b.add(_circle(nx, cy, 7, PANEL, UNKNOWN, (2, 2)))
            b.text(left + 28, cy + 5, name, 14, INNER - 28, fill=FAINT)
        elif i < cur:
            b.add(_circle(nx, cy, 8, GREEN, GREEN))
            b.add(*icons.check(nx, cy, "#ffffff", 8))
            b.text(left + 28, cy + 5, name, 14, INNER - 28, fill=INK)
        elif i == cur:
            b.add(_circle(nx, cy, 10, PANEL, BLUE, None, 3))
            b.add(_circle(nx, cy, 4.5, BLUE, BLUE))
            now = label("words", "now", lang)
            now_w = measure(now, 11, True) + 16
            tag_x = x + PANEL_W - PAD - now_w
            b.add(Polygon(((tag_x - 7, cy), (tag_x, cy - 8), (tag_x + now_w, cy - 8),
                           (tag_x + now_w, cy + 8), (tag_x, cy + 8)), fill=BLUE))
            b.text(tag_x + now_w / 2, cy + 4, now, 11, now_w - 4, bold=True, fill="#ffffff", anchor="middle")
            b.text(left + 28, cy + 5, name, 15, tag_x - 12 - (left + 28), bold=True, fill=INK)
        else:
            b.add(_circle(nx, cy, 7, PANEL, FAINT))
            b.text(left + 28, cy + 5, name, 14, INNER - 28, fill=MUTED)
    if cur is None:
        b.unknown(left + 200, row0 + 5, lang, INNER - 200, size=12, text=label("fields", "stage", lang))

    fy = y + 280
    mark = pic.mark("readiness.first_open")
    bw = b.badge(x + PANEL_W - PAD, fy, mark, lang)
    b.text(left, fy, label("fields", "first_open", lang), 12, INNER - bw, fill=MUTED)
    if pic.first_open:
        item = _choice(pic, "readiness", pic.first_open, lang) if pic.choice_labels else None
        if not item or item == pic.first_open:
            item = pic.first_open_label or label("checklist", pic.first_open, lang)
        b.add(Polygon(((left, fy + 10), (left + 9, fy + 16), (left, fy + 22)), fill=ORANGE))
        b.text(left + 16, fy + 21, item, 15, INNER - 16, bold=True)
    elif pic.stage in ("ready", "launched") or (pic.percent is not None and pic.percent >= 100):
        b.add(*icons.check(left + 6, fy + 16, GREEN, 10))
        b.text(left + 18, fy + 21, label("words", "checklist_done", lang), 15, INNER - 18, bold=True)
    else:
        b.unknown(left, fy + 21, lang, INNER)
    return b.group()


def _circle(cx, cy, r, fill, stroke, dash=None, width=1.5):
    return Circle(cx, cy, r, fill=fill, stroke=stroke, stroke_width=width, dash=dash)


def _band(p: float) -> str:
    return "low" if p < 0.3 else ("medium" if p < 0.6 else "high")


def _conversion(pic: PictureInput, lang: str, x: float, y: float) -> Group:
    b = _Box("conversion", x, y, PANEL_W, PANEL_H)
    _title(b, "conversion", lang)
    loc = fmt.display_locale(pic.market, lang)
    left = x + PAD
    score = pic.score
    bw = b.badge(x + PANEL_W - PAD, y + 50, pic.mark("score"), lang)
    b.text(left, y + 50, label("fields", "likelihood", lang), 12, INNER - bw, fill=MUTED)
    if score is not None and score.probability is not None:
        p = max(0.0, min(1.0, float(score.probability)))
        w = b.text(left, y + 88, fmt.format_share(p, loc), 34, INNER / 2, bold=True)
        b.text(left + w + 10, y + 88, label("words", _band(p), lang), 16, INNER - w - 10, bold=True, fill=MUTED)
        # Gauge: three bands with tick marks, a triangle marker under the value.
        gy = y + 100
        b.add(Rect(left, gy, INNER, 8, fill=TRACK, rx=4))
        b.add(Rect(left, gy, max(8.0, INNER * p), 8, fill=BLUE, rx=4))
        for t in (0.3, 0.6):
            b.add(Line(left + INNER * t, gy - 3, left + INNER * t, gy + 11, stroke=MUTED, stroke_width=1.5))
        b.add(icons.triangle_up(left + INNER * p, gy + 11, 12, 8, INK))
        ry = y + 138
        if score.fallback:
            fw = measure(label("words", "fallback", lang), 11.5) + 16
            fw = min(fw, INNER)
            b.add(Rect(left, ry - 13, fw, 18, fill=PANEL, stroke=ORANGE, stroke_width=1.2, dash=(3, 2)))
            b.text(left + 8, ry, label("words", "fallback", lang), 11.5, INNER - 16, fill=MUTED)
            ry += 22
        if score.reason:
            b.lines(left, ry, score.reason, 13, INNER, 2 if not score.fallback else 1, 17, fill=INK)
    else:
        b.unknown(left, y + 84, lang, INNER, text=label("words", "no_score", lang))
        b.add(Rect(left, y + 100, INNER, 8, fill=PANEL, stroke=UNKNOWN, stroke_width=1, dash=(4, 3)))

    # Next best step: the one thing to do; tinted box, thick bar and an arrow. With a next
    # planned call the box starts a little higher and keeps the call at its bottom.
    call = clean_text(pic.next_call) if pic.next_call else ""
    ny = y + (172 if call else 186)
    nh = PANEL_H - (ny - y) - 14
    b.add(Rect(left, ny, INNER, nh, fill=TINT_BLUE, rx=6))
    b.add(Rect(left, ny, 5, nh, fill=BLUE))
    bw = b.badge(x + PANEL_W - PAD - 8, ny + 22, pic.mark("next_step"), lang)
    b.add(Polygon(((left + 16, ny + 12), (left + 26, ny + 17), (left + 16, ny + 22)), fill=BLUE))
    b.text(left + 32, ny + 22, label("fields", "next_step", lang), 13, INNER - 40 - bw, bold=True, fill=BLUE_INK)
    if pic.next_step and clean_text(pic.next_step):
        b.lines(left + 16, ny + 48, pic.next_step, 15, INNER - 28, 2 if call else 4, 20, bold=True)
    else:
        b.unknown(left + 16, ny + 50, lang, INNER - 28, text=label("words", "no_next_step", lang))
    if call:
        _next_call(b, left, ny, call, lang)
    return b.group()


def _next_call(b: _Box, left: float, ny: float, call: str, lang: str) -> None:
    """The next planned call under the next step: a rule, a clock, "Next call" and the call
    (when, in the merchant's time, and why), wrapped on two lines at most."""
    b.add(Line(left + 16, ny + 80, left + INNER - 12, ny + 80, stroke=BLUE, stroke_width=1))
    b.add(Circle(left + 21, ny + 92, 5.5, fill=TINT_BLUE, stroke=BLUE_INK, stroke_width=1.4))
    b.add(Line(left + 21, ny + 92, left + 21, ny + 88.5, stroke=BLUE_INK, stroke_width=1.3))
    b.add(Line(left + 21, ny + 92, left + 23.5, ny + 92, stroke=BLUE_INK, stroke_width=1.3))
    b.text(left + 32, ny + 97, label("fields", "next_call", lang), 12.5, INNER - 44, bold=True, fill=BLUE_INK)
    b.lines(left + 16, ny + 115, call, 13.5, INNER - 28, 2, 17, bold=True)



def _chips(b: _Box, x: float, y: float, max_w: float, keys: Sequence[str], pic: PictureInput,
           field: str, lang: str, style: str, rows: int = 2) -> None:
    """Wrapped chips (one row 26 px); overflow becomes "+N more" with the rest in a tooltip."""
    size = 13
    h = 22
    gap = 6
    prefix = "✓ " if style == "known" else "→ "
    fill = PANEL if style == "known" else TINT_ORANGE
    stroke = GREEN if style == "known" else ORANGE
    texts = [prefix + (_choice(pic, field, k, lang) or k) for k in keys]
    cx, row = x, 0
    i = 0
    while i < len(texts):
        remaining = len(texts) - i
        t = clean_text(texts[i])
        w = measure(t, size) + 16
        last_row = row == rows - 1
        more = None
        if last_row and remaining > 1:
            more = plural("words", "more", lang, remaining - 1, n=str(remaining - 1))
        more_w = (measure(more, size) + 16 + gap) if more else 0
        room = x + max_w - cx
        if w + (more_w if last_row else 0) > room:
            if cx > x and not last_row:
                row += 1
                cx = x
                continue
            if cx > x and last_row:
                # No room on the last row: the rest goes into "+N more".
                rest = plural("words", "more", lang, remaining, n=str(remaining))
                _chip(b, cx, y + row * (h + gap), rest, size, h, PANEL, MUTED,
                      full=", ".join(clean_text(s[2:]) for s in texts[i:]), max_w=x + max_w - cx)
                return
            # A single chip wider than the row: cut it.
            w = room - (more_w if last_row else 0)
        _chip(b, cx, y + row * (h + gap), t, size, h, fill, stroke, max_w=w)
        cx += w + gap
        i += 1


def _chip(b: _Box, x, y, text, size, h, fill, stroke, full=None, max_w=None):
    fitted = fit(text, (max_w or 1e9) - 16, size)
    w = fitted.width + 16
    b.add(Rect(x, y, w, h, fill=fill, stroke=stroke, stroke_width=1.3, rx=h / 2))
    if fitted.text:
        b.add(TextRun(x + 8, y + h - 6.5, fitted.text, size, fitted.width, INK, "normal", "start",
                      full or fitted.full_text))


def _knowledge(pic: PictureInput, lang: str, x: float, y: float) -> Group:
    b = _Box("knowledge", x, y, PANEL_W, PANEL_H)
    _title(b, "knowledge", lang)
    left = x + PAD
    for key, field, values, ly, style in (
        ("known", "experience.known_topics", pic.known_topics, y + 52, "known"),
        ("needs", "needs.help_with", pic.needs, y + 142, "needs"),
    ):
        bw = b.badge(x + PANEL_W - PAD, ly, pic.mark(field), lang)
        b.text(left, ly, label("fields", key, lang), 12, INNER - bw, fill=MUTED)
        if values is None:
            b.unknown(left, ly + 25, lang, INNER)
        elif not values:
            b.text(left, ly + 24, label("words", "nothing", lang), 14, INNER, fill=MUTED)
        else:
            _chips(b, left, ly + 9, INNER, values, pic, field, lang, style)
    gy = y + 232
    bw = b.badge(x + PANEL_W - PAD, gy, pic.mark("needs.main_goal"), lang)
    b.text(left, gy, label("fields", "goal", lang), 12, INNER - bw, fill=MUTED)
    if pic.main_goal and clean_text(pic.main_goal):
        b.add(Rect(left, gy + 8, 3, 62, fill=TRACK))
        b.lines(left + 12, gy + 25, "“" + clean_text(pic.main_goal) + "”", 14, INNER - 12, 3, 19)
    else:
        b.unknown(left, gy + 25, lang, INNER)
    return b.group()


def _business(pic: PictureInput, lang: str, x: float, y: float) -> Group:
    b = _Box("business", x, y, PANEL_W, PANEL_H)
    _title(b, "business", lang)
    loc = fmt.display_locale(pic.market, lang)
    rows: list[tuple[str, str | None, str]] = [
        ("type", _choice(pic, "business.type", pic.business_type, lang) or None, "business.type"),
        ("category", _choice(pic, "business.category", pic.business_category, lang) or None, "business.category"),
        ("model", label("models", pic.business_model, lang) if pic.business_model else None, "business.model"),
        ("catalogue", plural("words", "products", lang, pic.catalogue_size, n=fmt.format_rounded(pic.catalogue_size, loc))
         if pic.catalogue_size is not None else None, "business.catalogue_size"),
    ]
    turnover = None
    if pic.turnover_band or pic.turnover_amount is not None:
        parts = []
        if pic.turnover_band:
            parts.append(label("turnover_bands", pic.turnover_band, lang))
        if pic.turnover_amount is not None and pic.turnover_currency:
            amount = fmt.format_whole_money(pic.turnover_amount, pic.turnover_currency, loc)
            parts.append(template("words", "per_month", lang, amount=amount))
        turnover = " · ".join(parts) or None
    rows.append(("turnover", turnover, "business.turnover"))
    for i, (key, value, field) in enumerate(rows):
        _field(b, y + 52 + i * 45, label("fields", key, lang), value, pic.mark(field), lang)
    # Sells abroad: globe + Yes/No (filled globe tint when yes), or unknown.
    ay = y + 52 + 5 * 45
    bw = b.badge(x + PANEL_W - PAD, ay, pic.mark("business.sells_abroad"), lang)
    b.text(x + PAD, ay, label("fields", "abroad", lang), 12, INNER - bw, fill=MUTED)
    if pic.sells_abroad is None:
        b.unknown(x + PAD, ay + 21, lang, INNER)
    else:
        yes = bool(pic.sells_abroad)
        b.add(*icons.globe_small(x + PAD, ay + 7, BLUE if yes else FAINT, TINT_BLUE if yes else PANEL))
        if not yes:
            b.add(Line(x + PAD + 1, ay + 22, x + PAD + 15, ay + 8, stroke=FAINT, stroke_width=1.5))
        b.text(x + PAD + 24, ay + 21, label("words", "yes" if yes else "no", lang), 16, INNER - 24,
               bold=yes)
    return b.group()


def _features(pic: PictureInput, lang: str, x: float, y: float) -> Group:
    b = _Box("features", x, y, PANEL_W, PANEL_H)
    _title(b, "features", lang)
    gap = 8
    tw = (INNER - 2 * gap) / 3
    th = 128
    for i, cat in enumerate(FEATURE_CATEGORIES):
        tx = x + PAD + (i % 3) * (tw + gap)
        ty = y + 44 + (i // 3) * (th + gap)
        state = pic.feature(cat)
        connected = state.connected
        if connected is True:
            tile, ink, icon_c, sub = BLUE, "#ffffff", "#ffffff", "#ffffff"
            b.add(Rect(tx, ty, tw, th, fill=BLUE, rx=8))
        elif connected is False:
            tile, ink, icon_c, sub = PANEL, INK, FAINT, MUTED
            b.add(Rect(tx, ty, tw, th, fill=PANEL, stroke=FAINT, stroke_width=1.5, rx=8))
        else:
            tile, ink, icon_c, sub = PANEL, FAINT, "#9a9a9a", FAINT
            b.add(Rect(tx, ty, tw, th, fill=PANEL, stroke=UNKNOWN, stroke_width=1.5, dash=(5, 4)))
        b.add(*icons.FEATURE_ICONS[cat](tx + tw / 2 - 16, ty + 12, icon_c, tile))
        cx = tx + tw / 2
        b.text(cx, ty + 64, label("categories", cat, lang), 13, tw - 10, bold=True, fill=ink, anchor="middle")
        if connected is True:
            status = "✓ " + label("words", "connected", lang)
        elif connected is False:
            status = "× " + label("words", "not_connected", lang)
        else:
            status = "? " + label("words", "unknown_short", lang)
        b.text(cx, ty + 82, status, 11.5, tw - 8, bold=connected is True, fill=sub, anchor="middle")
        if state.providers:
            names = [_choice(pic, f"features.{cat}", p, lang) or p for p in state.providers]
            joined = ", ".join(clean_text(n) for n in names)
            lines, full = wrap(joined, tw - 10, 11.5, False, 2)
            step = line_height(joined, 11.5, False, 15)  # taller scripts (Devanagari) need more
            for k, line in enumerate(lines):
                b.add(TextRun(cx, ty + 101 + k * step, line.text, 11.5, line.width, ink, "normal", "middle",
                              full if (full and k == len(lines) - 1) else None))
        mark = pic.mark(f"features.{cat}")
        if mark:
            word = label("words", mark, lang)
            w = min(measure(word, 10, True) + 22, tw - 6)
            bx = tx + tw - w - 3
            b.add(Rect(bx, ty - 7, w, 15, fill=PANEL, stroke=VERMILLION, stroke_width=1.5, rx=7.5))
            b.add(icons.diamond(bx + 9, ty + 0.5, 4, VERMILLION))
            b.text(bx + 16, ty + 4.5, word, 10, w - 19, bold=True, fill=VERMILLION_INK)
    return b.group()


# ----------------------------------------------------------------------------- desc


def describe(pic: PictureInput, lang: str = "en") -> str:
    """One or two sentences that say the whole picture, for screen readers (<desc>)."""
    lang = norm_lang(lang)
    loc = fmt.display_locale(pic.market, lang)
    unknown = "?"
    name = clean_text(pic.owner_name) or unknown
    persona = label("personas", pic.persona, lang) if pic.persona else unknown
    market = label("markets", pic.market, lang) if pic.market else unknown
    parts = [template("desc", "owner", lang, name=name, persona=persona, market=market)]
    stage = label("stages", pic.stage, lang) if pic.stage in STAGES else unknown
    pct = fmt.format_share(pic.percent / 100, loc) if pic.percent is not None else unknown
    first = (pic.first_open_label or label("checklist", pic.first_open, lang)) if pic.first_open else unknown
    if pic.choice_labels and pic.first_open:
        first = _choice(pic, "readiness", pic.first_open, lang) or first
    parts.append(template("desc", "readiness", lang, stage=stage, percent=pct, first_open=first))
    connected = [label("categories", c, lang) for c in FEATURE_CATEGORIES if pic.feature(c).connected]
    parts.append(template("desc", "features", lang, connected=", ".join(connected) or "-"))
    if pic.score is not None and pic.score.probability is not None:
        parts.append(template("desc", "score", lang, score=fmt.format_share(pic.score.probability, loc)))
    if pic.next_step and clean_text(pic.next_step):
        parts.append(template("desc", "next_step", lang, step=clean_text(pic.next_step)))
    if pic.next_call and clean_text(pic.next_call):
        if not parts[-1].endswith((".", "!", "?", "…")):  # a next step ends without a full stop
            parts[-1] += "."
        parts.append(template("desc", "next_call", lang, call=clean_text(pic.next_call)))
    return " ".join(parts)


# ----------------------------------------------------------------------------- scene


PANEL_ORDER = ("owner", "readiness", "conversion", "knowledge", "business", "features")
_BUILDERS = {
    "owner": _owner, "readiness": _readiness, "conversion": _conversion,
    "knowledge": _knowledge, "business": _business, "features": _features,
}


def build_scene(pic: PictureInput, lang: str = "en", *, layout: str = WIDE) -> Scene:
    """Lay out the merchant picture for ``pic`` in the consultant's ``lang``.

    ``layout`` is "wide" (1200 x 760, three columns) or "narrow" (400 wide, one column,
    for phones). Same panels, same order, same drawing; only their places differ.
    """
    lang = norm_lang(lang)
    narrow = layout == NARROW
    if narrow:
        width = PANEL_W + 2 * GAP
        head_h = 92
        items = [_header(pic, lang, GAP, GAP, PANEL_W, True)]
        top = GAP + head_h + GAP
        for i, name in enumerate(PANEL_ORDER):
            items.append(_BUILDERS[name](pic, lang, GAP, top + i * (PANEL_H + GAP)))
        height = top + len(PANEL_ORDER) * (PANEL_H + GAP)
    else:
        width = 3 * PANEL_W + 2 * GAP + 2 * 24
        items = [_header(pic, lang, 24, 16, width - 48, False)]
        top = 16 + 56 + GAP
        for i, name in enumerate(PANEL_ORDER):
            col, row = i % 3, i // 3
            items.append(_BUILDERS[name](pic, lang, 24 + col * (PANEL_W + GAP), top + row * (PANEL_H + GAP)))
        height = top + 2 * PANEL_H + GAP + 16
    name = clean_text(pic.owner_name) or "?"
    title = f"{label('picture', 'title', lang)}: {name}"
    if pic.shop_id:
        title += f" ({clean_text(pic.shop_id)})"
    return Scene(width, height, tuple(items), title, describe(pic, lang), BG, lang, "picture")
