"""The picture of a shop: profile + latest score + changes since the last call + next step
+ the next planned call (one line, in the reader's language and the merchant's time).

Glue only: the profile comes from the fold (operations.profiles), the drawing from the
pure `renderers` package. Nothing here writes to the database.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import profile_schema
from sqlalchemy.orm import Session

from audits.facts import market_integration_gaps

from ..i18n import base_language, translations
from ..models import Score, Shop
from .planned_calls import next_call_line
from .profiles import ShopView, last_call_at, load_profile, profile_changes, shop_view
from .scoring.latest import latest_score
from .shops import resolve_shop

FORMATS = ("svg", "png")
LAYOUTS = ("wide", "narrow")  # 1200 x 760 for screens; 400 wide, one column, for phones
MIME = {"svg": "image/svg+xml", "png": "image/png"}


def score_info(score: Score | None, lang: str | None = None) -> dict[str, Any] | None:
    """A score row as the picture's mapping: probability, the strongest reason, fallback flag,
    and the path to subscribe (its steps' texts), in `lang` when the score carries it.

    The scoring engine stores `details.reasons` as {"up": [...], "down": [...]} of
    {"text": ...} (and the same texts in every UI language under `details.texts`, see
    `scoring.reasons.localized`); a plain list of texts is accepted too. `details.fallback`
    is set (a dict) when the number comes from a rule of thumb rather than the trained model.
    """
    if score is None:
        return None
    from ..scoring.reasons import localized

    details = localized(score.details or {}, base_language(lang) if lang else None)
    reasons = details.get("reasons") or []
    if isinstance(reasons, dict):
        reasons = list(reasons.get("up") or []) + list(reasons.get("down") or [])
    reason = None
    for first in reasons[:1]:
        if isinstance(first, dict):
            reason = first.get("text") or first.get("label") or first.get("feature")
        else:
            reason = str(first)
    fallback = details.get("fallback")
    path = [step.get("text") for step in details.get("path") or () if isinstance(step, dict) and step.get("text")]
    return {"probability": score.probability, "reason": reason, "fallback": bool(fallback),
            # the score's own words for it ("little history so far: a simpler model gives this score")
            "fallback_message": fallback.get("message") if isinstance(fallback, dict) else None,
            "path": path, "lang": details.get("lang")}


def next_best_step(profile: profile_schema.Profile, lang: str = "en",
                   schema: profile_schema.Schema | None = None) -> str | None:
    """What to propose next: the first open launch-checklist item, else the first need."""
    schema = schema or profile_schema.load_schema()
    t = translations(lang)
    lang = base_language(lang) or "en"
    readiness = profile.readiness
    if profile.value("readiness.launched") is True:
        return t.gettext("The shop is live: review its first orders and what to improve next")
    gaps = market_integration_gaps(profile)
    # Merchants who sell abroad need cross-border payments early (DOMAIN: India thinks globally).
    abroad = [g for g in gaps if g[1] is True and g[0].when is not None and g[0].category == "payments"]
    item = next((i for i in readiness.items if i.key == readiness.first_open), None)
    category = _CHECKLIST_CATEGORY.get(item.key) if item is not None else None
    gap = abroad[0] if abroad and profile.value("readiness.payments_connected") else None
    gap = gap or next((g for g in gaps if g[0].category == category), None)
    if gap is not None:
        expected, providers = gap[0], gap[2]
        return t.gettext("To connect: %(what)s (%(providers)s)") % {
            "what": expected.label_for(lang), "providers": ", ".join(providers)}
    if item is not None and item.key in schema.questions:
        label = schema.questions[item.key].label(lang)
        if item.done is None:
            return t.gettext("Ask whether this is done: %(item)s") % {"item": label}
        return t.gettext("Help with the next checklist item: %(item)s") % {"item": label}
    if profile.needs and "needs.help_with" in schema.questions:
        topic = schema.questions["needs.help_with"].choice_label(profile.needs[0], lang)
        return t.gettext("Coach them on: %(topic)s") % {"topic": topic}
    return None


_CHECKLIST_CATEGORY = {"readiness.payments_connected": "payments",
                       "readiness.shipping_connected": "shipping"}


_LATEST = object()


def picture_input(session: Session, shop: Shop | str, *, lang: str = "en",
                  since: datetime | None = None, view: ShopView | None = None, score: Any = _LATEST,
                  next_step: Any = _LATEST, next_call: Any = _LATEST):
    """The renderer's view model of a shop, with changes since `since` (default: last call).

    The profile and the changes since the last call come from the shop's kept snapshot
    (`profiles.shop_view`; pass ``view``, ``score``, ``next_step`` and ``next_call`` (its one
    line, or None) when already read or made): only another ``since`` replays the observations."""
    from renderers.from_profile import picture_input_from_profile

    shop = resolve_shop(session, shop)
    view = view or shop_view(session, shop)
    profile, last = view.profile, view.last_call
    if since is None or since == last:
        changes = view.changes
    else:
        changes = profile_changes(session, shop, since)
    if score is _LATEST:
        hit = latest_score(session, shop)
        score = hit[0] if hit else None
    return picture_input_from_profile(
        profile, score=score_info(score, lang), changes=changes,
        next_step=next_best_step(profile, lang) if next_step is _LATEST else next_step, last_contact=last,
        next_call=next_call_line(session, shop, base_language(lang) or "en") if next_call is _LATEST else next_call,
    )


def shop_picture(session: Session, shop: Shop | str, *, fmt: str = "svg", lang: str = "en",
                 since: datetime | None = None, layout: str = "wide", read: Any = None) -> bytes:
    """Draw the shop's picture as SVG or PNG bytes, in `lang` (the same scene for both); `read`:
    the shop's `profiles.shop_page_read`, when already made (its view, score and open calls)."""
    # submodules, not the package: a stale editable install may see `renderers` as a namespace
    from renderers.layout import build_scene
    from renderers.png import render_png
    from renderers.svg import render_svg

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    lang = base_language(lang) or "en"
    if read is not None:  # no open call: no line to look up
        pic = picture_input(session, read.shop, lang=lang, since=since, view=read.view, score=read.score,
                            next_call=_LATEST if read.open_calls else None)
    else:
        pic = picture_input(session, shop, lang=lang, since=since)
    scene = build_scene(pic, lang, layout=layout)
    return render_svg(scene) if fmt == "svg" else render_png(scene)


def etag_for(data: bytes) -> str:
    """A deterministic strong ETag: the same picture bytes always give the same tag."""
    return hashlib.sha256(data).hexdigest()[:32]


__all__ = ["FORMATS", "LAYOUTS", "MIME", "etag_for", "last_call_at", "next_best_step",
           "picture_input", "score_info", "shop_picture", "load_profile"]
