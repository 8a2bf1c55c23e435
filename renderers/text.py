"""Text cleaning, measuring and fitting with the fonts shipped in ``renderers/fonts``.

Why this module exists: the picture must never let text leave its box, whatever the
merchant typed (80-character names, Polish diacritics, Turkish dotted/dotless i,
Devanagari conjuncts, emoji, right-to-left marks). So every string is

1. cleaned (:func:`clean_text`): NFC, control characters, bidi overrides/embeddings/
   isolates and marks, non-characters and lone surrogates removed, whitespace collapsed;
2. measured (:func:`measure`) with real font metrics via Pillow ``getlength`` on the
   shipped DejaVu Sans (regular/bold) and Lohit Devanagari, choosing the font per
   grapheme cluster the way a browser's font fallback would;
3. fitted (:func:`fit`, :func:`wrap`) by whole grapheme clusters (``regex`` ``\\X``),
   with an ellipsis, never splitting a cluster.

Widths are measured once at a large reference size and scaled linearly, which avoids
hinting round-off (browsers lay out unhinted, with fractional advances) and lets one
cache serve every font size. Measurements are deliberately conservative where we
cannot know the viewer's font: clusters no shipped font covers (colour emoji, CJK...)
count as ``MISSING_EM`` em, and Devanagari gets a ``DEVA_SAFETY`` margin because a
viewer without Lohit falls back to another Devanagari font.
"""

from __future__ import annotations

import struct
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import regex
from PIL import ImageFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"

#: font face key -> file name in FONT_DIR
FACE_FILES = {
    "regular": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "deva": "Lohit-Devanagari.ttf",
}

#: The CSS font stack written into the SVG; the families match the shipped files.
FONT_FAMILY = "DejaVu Sans, Lohit Devanagari, sans-serif"

#: FreeType faces are not safe to use from two threads at once; every call into a
#: shipped font (measuring here, rasterising in png.py) holds this lock.
FONT_LOCK = threading.Lock()

REF_SIZE = 200  # px; widths are measured at this size and scaled
MISSING_EM = 1.2  # width of a cluster no shipped font covers (emoji are ~1.15-1.25 em)
DEVA_SAFETY = 1.10  # margin for Devanagari rendered by a fallback font
ELLIPSIS = "\u2026"
EPS = 0.01  # px of slack so that a width compared with itself (after float maths) fits

# Characters removed before anything is drawn or measured. Bidi formatting characters
# (LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI, LRM/RLM/ALM) can reorder or spoof text;
# BOM/zero-width no-break space and the interlinear annotation characters are noise.
_BIDI_AND_NOISE = (
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069\ufeff\ufff9\ufffa\ufffb"
)
_STRIP_RE = regex.compile(
    "[\\p{Cc}\\p{Cs}\\p{Zl}\\p{Zp}" + _BIDI_AND_NOISE + "\\p{Noncharacter_Code_Point}]"
)
# Breaking whitespace collapses to one space; no-break spaces (NBSP, narrow NBSP, figure
# space) stay, so "6000 zł" or "1 234" is never wrapped apart.
_SPACE_RE = regex.compile(r"[\t\n\r\v\f\p{Zl}\p{Zp}\u0085[\p{Zs}--[\u00a0\u202f\u2007]]]+", regex.V1)
_CLUSTER_RE = regex.compile(r"\X")
# Clusters a browser would draw with a colour-emoji font.
_EMOJI_RE = regex.compile(r"\p{Emoji_Presentation}|\ufe0f|\p{Emoji_Modifier}")
# Joiners and selectors that do not need a glyph of their own.
_IGNORABLE = frozenset("\u200c\u200d\u034f\ufe0e\ufe0f\u2060")


def clean_text(value: object) -> str:
    """Return ``value`` as safe, single-line display text.

    NFC-normalised; every run of breaking whitespace (tabs, newlines, em spaces...)
    becomes one space (no-break spaces are kept); control characters, surrogates,
    bidi controls and non-characters are removed; leading/trailing space is stripped.
    ``None`` becomes ``""``.
    """
    if value is None:
        return ""
    return _clean(value if isinstance(value, str) else str(value))


_PLAIN = frozenset(range(0x20, 0x7F))


@lru_cache(maxsize=32768)
def _clean(s: str) -> str:
    if s.isascii() and _PLAIN.issuperset(map(ord, s)) and "  " not in s:
        return s.strip()  # the common case: printable ASCII, nothing to do
    s = _SPACE_RE.sub(" ", s)
    s = _STRIP_RE.sub("", s)
    s = unicodedata.normalize("NFC", s)
    # NFC can (rarely) not reintroduce anything we stripped, but spaces may now touch.
    return _SPACE_RE.sub(" ", s).strip()


def graphemes(text: str) -> list[str]:
    """Split ``text`` into extended grapheme clusters (what a reader sees as one letter)."""
    return _CLUSTER_RE.findall(text)


# --------------------------------------------------------------------------- fonts


def _read_cmap(path: Path) -> frozenset[int]:
    """Return the code points mapped by a TrueType font's ``cmap`` (formats 4 and 12).

    Pillow has no "does this font have a glyph for X" call, and fontTools is not a
    runtime dependency, so we read the table ourselves (once per font).
    """
    data = path.read_bytes()
    num_tables = struct.unpack_from(">H", data, 4)[0]
    cmap_off = None
    for i in range(num_tables):
        tag, _sum, off, _len = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"cmap":
            cmap_off = off
            break
    if cmap_off is None:  # pragma: no cover - every shipped font has one
        return frozenset()
    n_sub = struct.unpack_from(">H", data, cmap_off + 2)[0]
    points: set[int] = set()
    for i in range(n_sub):
        platform, encoding, sub_off = struct.unpack_from(">HHI", data, cmap_off + 4 + 8 * i)
        if platform not in (0, 3):
            continue
        base = cmap_off + sub_off
        fmt = struct.unpack_from(">H", data, base)[0]
        if fmt == 4:
            seg_x2 = struct.unpack_from(">H", data, base + 6)[0]
            seg = seg_x2 // 2
            ends = struct.unpack_from(f">{seg}H", data, base + 14)
            starts = struct.unpack_from(f">{seg}H", data, base + 16 + seg_x2)
            deltas = struct.unpack_from(f">{seg}h", data, base + 16 + 2 * seg_x2)
            ro_base = base + 16 + 3 * seg_x2
            ranges = struct.unpack_from(f">{seg}H", data, ro_base)
            for k in range(seg):
                start, end = starts[k], ends[k]
                if start == 0xFFFF:
                    continue
                for cp in range(start, end + 1):
                    if ranges[k] == 0:
                        gid = (cp + deltas[k]) & 0xFFFF
                    else:
                        addr = ro_base + 2 * k + ranges[k] + 2 * (cp - start)
                        gid = struct.unpack_from(">H", data, addr)[0]
                        if gid:
                            gid = (gid + deltas[k]) & 0xFFFF
                    if gid:
                        points.add(cp)
        elif fmt == 12:
            n_groups = struct.unpack_from(">I", data, base + 12)[0]
            for g in range(n_groups):
                start, end, gid = struct.unpack_from(">III", data, base + 16 + 12 * g)
                for cp in range(start, end + 1):
                    if gid + (cp - start):
                        points.add(cp)
    return frozenset(points)


@lru_cache(maxsize=None)
def font_coverage(face: str) -> frozenset[int]:
    """Code points the shipped font ``face`` ("regular", "bold", "deva") can draw."""
    return _read_cmap(FONT_DIR / FACE_FILES[face])


@lru_cache(maxsize=64)
def get_font(face: str, size: float = REF_SIZE) -> ImageFont.FreeTypeFont:
    """The shipped font ``face`` at ``size`` px (cached)."""
    return ImageFont.truetype(str(FONT_DIR / FACE_FILES[face]), size)


def font_paths() -> dict[str, Path]:
    """Paths of the shipped font files, e.g. for a web layer's ``@font-face``."""
    return {face: FONT_DIR / name for face, name in FACE_FILES.items()}


@lru_cache(maxsize=8192)
def _face_for_cluster(cluster: str, bold: bool) -> str | None:
    if _EMOJI_RE.search(cluster):
        return None
    core = [ord(c) for c in cluster if c not in _IGNORABLE]
    if not core:
        return "bold" if bold else "regular"
    latin = font_coverage("bold" if bold else "regular")
    if all(cp in latin for cp in core):
        return "bold" if bold else "regular"
    deva = font_coverage("deva")
    if all(cp in deva for cp in core):
        return "deva"
    return None


@lru_cache(maxsize=None)
def _plain_cover(face: str) -> frozenset[str]:
    """Characters ``face`` draws in text presentation (no emoji-presentation chars)."""
    return frozenset(
        ch for ch in map(chr, font_coverage(face))
        if not _EMOJI_RE.search(ch) and ch not in _IGNORABLE and not unicodedata.combining(ch)
    )


@lru_cache(maxsize=16384)
def segments(text: str, bold: bool = False) -> tuple[tuple[str | None, str], ...]:
    """Split clean ``text`` into runs of one font face each.

    Returns ``((face, run_text), ...)``; ``face`` is None for clusters that no shipped
    font covers (each such cluster is its own run so it can be drawn as a box).
    """
    face = "bold" if bold else "regular"
    if _plain_cover(face).issuperset(text):
        return ((face, text),) if text else ()  # one font draws it all (Latin text)
    runs: list[tuple[str | None, str]] = []
    for cluster in _CLUSTER_RE.findall(text):
        face = _face_for_cluster(cluster, bold)
        if runs and face is not None and runs[-1][0] == face:
            runs[-1] = (face, runs[-1][1] + cluster)
        else:
            runs.append((face, cluster))
    return tuple(runs)


@lru_cache(maxsize=16384)
def _run_width_ref(face: str | None, run: str) -> float:
    """Width of one run at REF_SIZE, with the safety margins applied."""
    if face is None:
        return MISSING_EM * REF_SIZE
    font = get_font(face)
    with FONT_LOCK:
        width = font.getlength(run)
    if face == "deva":
        width *= DEVA_SAFETY
    return width


@lru_cache(maxsize=65536)
def _width_ref(text: str, bold: bool) -> float:
    return sum(_run_width_ref(face, run) for face, run in segments(text, bold))


def measure(text: str, size: float, bold: bool = False) -> float:
    """Width in px of already-clean ``text`` at font ``size`` px."""
    if not text:
        return 0.0
    return _width_ref(text, bold) * size / REF_SIZE


def run_widths(text: str, size: float, bold: bool = False) -> list[tuple[str | None, str, float]]:
    """``segments`` with each run's drawn width at ``size`` (used by the PNG backend).

    Unlike :func:`measure`, without the Devanagari safety margin: this is where the
    shipped font really puts the next run.
    """
    k = size / REF_SIZE
    out = []
    for face, run in segments(text, bold):
        width = _run_width_ref(face, run)
        if face == "deva":
            width /= DEVA_SAFETY
        out.append((face, run, width * k))
    return out


# Ascent and descent in em of the shipped fonts (hhea), for line spacing and bounding boxes.
LATIN_METRICS = (0.929, 0.236)
DEVA_METRICS = (0.976, 0.357)


def vmetrics(text: str, size: float, bold: bool = False) -> tuple[float, float]:
    """(ascent, descent) in px of clean ``text`` at ``size``: the tallest font it uses."""
    ascent, descent = LATIN_METRICS
    if any(face == "deva" for face, _ in segments(text, bold)):
        ascent, descent = max(ascent, DEVA_METRICS[0]), max(descent, DEVA_METRICS[1])
    return ascent * size, descent * size


def line_height(text: str, size: float, bold: bool = False, minimum: float = 0.0) -> float:
    """The baseline-to-baseline distance at which lines of ``text`` cannot overlap."""
    ascent, descent = vmetrics(text, size, bold)
    return max(minimum, float(int(ascent + descent + 0.999)))


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True, slots=True)
class Fitted:
    """A string fitted to a width: what to draw, its width, and the full text if cut."""

    text: str
    width: float
    full_text: str | None = None  # set only when ``text`` was truncated

    @property
    def truncated(self) -> bool:
        return self.full_text is not None


def _truncate(clusters: list[str], max_width: float, size: float, bold: bool) -> tuple[str, float]:
    """Longest prefix of ``clusters`` plus an ellipsis that fits ``max_width``.

    The cut is first estimated from per-cluster widths (cached: letters repeat), then
    checked with a real measurement of the candidate, stepping back a cluster at a
    time while it does not fit. So the result always fits, measured as a whole, and a
    long string costs one or two font layouts instead of a binary search of them.
    """
    ell_w = measure(ELLIPSIS, size, bold)
    if ell_w > max_width + EPS:
        return "", 0.0
    budget = max_width - ell_w
    n, total = 0, 0.0
    for cluster in clusters[:-1]:  # the whole text is known not to fit
        total += measure(cluster, size, bold)
        if total > budget + EPS:
            break
        n += 1
    while n > 0:
        candidate = "".join(clusters[:n]).rstrip() + ELLIPSIS
        w = measure(candidate, size, bold)
        if w <= max_width + EPS:
            return candidate, w
        n -= 1
    return ELLIPSIS, ell_w


def fit(value: object, max_width: float, size: float, bold: bool = False) -> Fitted:
    """Clean ``value`` and cut it by whole grapheme clusters, with "…", to ``max_width``."""
    text = clean_text(value)
    width = measure(text, size, bold)
    if width <= max_width + EPS:
        return Fitted(text, width)
    cut, cut_w = _truncate(graphemes(text), max_width, size, bold)
    return Fitted(cut, cut_w, text)


def _break_lines(text: str, max_width: float, size: float, bold: bool) -> list[tuple[int, int]]:
    """Greedy line breaks of clean ``text`` at spaces: a list of ``(start, end)`` offsets.

    Lines are filled from cached word widths, then each line is measured as a whole
    and shortened by a word if kerning or shaping made it wider than estimated. A word
    wider than a line is broken between grapheme clusters.
    """
    space = measure(" ", size, bold)
    spans: list[tuple[int, int]] = []
    n = len(text)
    pos = 0
    while pos < n:
        # Estimate: add words while the sum of their widths fits.
        ends: list[int] = []
        total = 0.0
        cursor = pos
        while cursor < n:
            sp = text.find(" ", cursor)
            end = n if sp == -1 else sp
            total += (space if ends else 0.0) + measure(text[cursor:end], size, bold)
            if total > max_width + EPS:
                break
            ends.append(end)
            cursor = end + 1
        # Check: the line as a whole must fit; drop words until it does.
        while ends and measure(text[pos:ends[-1]], size, bold) > max_width + EPS:
            ends.pop()
        if ends:
            best_end = ends[-1]
        else:
            # The next word alone is wider than the line: break it between clusters.
            sp = text.find(" ", pos)
            word = text[pos:] if sp == -1 else text[pos:sp]
            clusters = graphemes(word)
            k, acc = 1, measure(clusters[0], size, bold)
            while k < len(clusters):
                acc += measure(clusters[k], size, bold)
                if acc > max_width + EPS:
                    break
                k += 1
            while k > 1 and measure("".join(clusters[:k]), size, bold) > max_width + EPS:
                k -= 1
            best_end = pos + len("".join(clusters[:k]))
        spans.append((pos, best_end))
        pos = best_end
        while pos < n and text[pos] == " ":
            pos += 1
    return spans


def wrap(
    value: object, max_width: float, size: float, bold: bool = False, max_lines: int = 2
) -> tuple[list[Fitted], str | None]:
    """Greedy word wrap of ``value`` into at most ``max_lines`` lines of ``max_width``.

    Returns ``(lines, full_text)``; ``full_text`` is the whole clean text when anything
    was cut (the last line then ends with "…"), else None. Words wider than a line are
    broken between grapheme clusters, never inside one.
    """
    text = clean_text(value)
    if not text:
        return [], None
    whole = measure(text, size, bold)
    if whole <= max_width + EPS:
        return [Fitted(text, whole)], None
    spans = _break_lines(text, max_width, size, bold)
    if len(spans) <= max_lines:
        return [Fitted(text[a:b], measure(text[a:b], size, bold)) for a, b in spans], None
    kept = spans[: max_lines - 1]
    out = [Fitted(text[a:b], measure(text[a:b], size, bold)) for a, b in kept]
    rest = text[spans[max_lines - 1][0]:]
    last, last_w = _truncate(graphemes(rest), max_width, size, bold)
    out.append(Fitted(last, last_w))
    return out, text
