"""Layout invariants of a scene, checkable without a browser.

``layout_problems(scene)`` lists every text that leaves its panel and every pair of
texts in a panel whose boxes overlap. Text boxes use the measured width and the
ascent/descent of the fonts the text is drawn with. The browser test checks the same
two rules on Chromium's own ``getBBox()``.
"""

from __future__ import annotations

import itertools

from .scene import Group, Scene, TextRun
from .text import vmetrics


def text_box(run: TextRun) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a text run."""
    ascent, descent = vmetrics(run.text, run.size, run.weight == "bold")
    return run.left, run.y - ascent, run.left + run.width, run.y + descent


def _overlap(a, b, tol: float) -> bool:
    return a[0] < b[2] - tol and b[0] < a[2] - tol and a[1] < b[3] - tol and b[1] < a[3] - tol


def _runs(items):
    for item in items:
        if isinstance(item, Group):
            yield from _runs(item.items)
        elif isinstance(item, TextRun):
            yield item


def layout_problems(scene: Scene, tol: float = 0.01) -> list[str]:
    """Texts outside their panel's box, and overlapping texts within a panel."""
    problems = []
    for group in scene.items:
        if not isinstance(group, Group) or group.box is None:
            continue
        box = group.box
        boxes = [(r, text_box(r)) for r in _runs(group.items)]
        for r, (x0, y0, x1, y1) in boxes:
            if x0 < box.x - tol or x1 > box.x + box.w + tol or y0 < box.y - tol or y1 > box.y + box.h + tol:
                problems.append(f"{group.name}: {r.text!r} leaves its panel")
        for (ra, a), (rb, b) in itertools.combinations(boxes, 2):
            if _overlap(a, b, tol):
                problems.append(f"{group.name}: {ra.text!r} overlaps {rb.text!r}")
    return problems
