"""The consultant's workday in the browser: "My calls", claiming the next call, the call screen.

`GET /calls` lists the consultant's open claims and the next due calls; `POST /calls/next`
claims one (`operations.workday.claim_next`) and opens its call screen. `GET /calls/<id>`
only reads: the picture, the agenda, the phone with the merchant's time now and a warning
when calling is not allowed, a guided interview, the timeline of what we know, and the
outcome panel for the consultant who holds the call. Answers are saved by `static/call.js`
without a reload (`POST /calls/<id>/answers`, JSON; without JavaScript the same URL answers
with the page). `POST /calls/<id>/complete` and `/release` take the claim's fencing token.

**The profile version.** The interview form carries `version`, the shop's highest
observation id when the page was drawn, and `seen`, the newest one the consultant has
been shown (equal at first). A save while the shop has observations newer than `seen`
answers 409 with those observations (question, new value, source, who, when) and stores
nothing; the page lists them and sets `seen`, so saving again applies the consultant's
answers on top. Answers equal to what the page showed (the profile at `version`) are
dropped, so a field the consultant did not touch never overwrites someone else's newer
answer.

**Time.** Whatever depends on "now" (legal calling windows, leases, outcomes) reads
`clock()`: the real time, unless a test sets `app.config["CLOCK"]`.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, refresh
from flask_wtf.csrf import CSRFError
from sqlalchemy import and_, or_, select

import locales
import profile_schema
from audits import slots
from audits.queue import OUTCOMES
from locales.formatting import format_datetime, format_time
from locales.phones import normalize_phone

from ..app import get_session
from ..db import utcnow
from ..errors import NotFound, ValidationFailed
from ..models import PlannedCall, Shop, User
from ..operations import pictures
from ..operations.audits import CALLBACK_HORIZON_DAYS, MAX_NOTE, get_call, shop_contact
from ..operations.planned_calls import describe_call, short_moment
from ..operations.profiles import CallScreenView, call_screen_view, observations_newer_than, shop_observations
from ..operations.scoring.latest import latest_score
from ..operations.survey_links import applies
from ..operations.workday import (
    ClaimLost,
    TooManyClaims,
    call_languages,
    claim_next,
    complete_call,
    my_calls,
    release_call,
)
from .auth import role_required
from .forms import (
    answers_form_class,
    answers_from_form,
    call_questions,
    field_name,
    form_data,
    form_groups,
)
from .helpers import (
    SOURCE_LABELS,
    STAGE_LABELS,
    current_lang,
    format_answer,
    format_when,
)

bp = Blueprint("calls", __name__)

#: How many questions the guided interview asks first; the rest wait under "More questions".
NEXT_QUESTIONS = 6
#: How many observations the timeline shows (newest first); the rest are counted.
TIMELINE_LIMIT = 50
#: How many upcoming calls "My calls" lists.
DUE_LIMIT = 10

OUTCOME_BUTTONS = (
    ("reached", _l("Reached")), ("no_answer", _l("No answer")), ("later", _l("Call later")),
    ("wrong_number", _l("Wrong number")), ("not_interested", _l("Not interested")),
    ("do_not_call", _l("Do not call")),
)
OUTCOME_LABELS = dict(OUTCOME_BUTTONS)
CONSENT_PROBLEMS = {
    "consent.missing": _l("This is a sales call and the merchant has not agreed to sales calls: do not make it."),
    "consent.refused": _l("This is a sales call and the merchant refused sales calls: do not make it."),
    "opted_out": _l("The merchant asked not to be called: do not call."),
}


def clock() -> datetime:
    """Now: the real time, or the moment a test put in `app.config["CLOCK"]` (a callable)."""
    return current_app.config.get("CLOCK", utcnow)()


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _use_market_language(shop: Shop) -> str:
    """On a shop's pages the merchant's market language comes before Accept-Language."""
    g.page_market = shop.market
    refresh()
    return current_lang()


def _call_and_shop(call_id: int) -> tuple[PlannedCall, Shop]:
    session = get_session()
    try:
        call = get_call(session, call_id, lang=current_lang())
    except NotFound:
        abort(404)
    return call, session.get(Shop, call.shop_id)


@bp.errorhandler(CSRFError)
def _csrf_error(exc):
    """An expired form: JSON for the call screen's script, the usual page otherwise; nothing saved."""
    reason = _("The form expired or was sent from elsewhere. Reload the page and try again.")
    if _wants_json():
        return jsonify(ok=False, error="csrf", message=reason), 400
    return render_template("error.html", code=400, reason=reason), 400


# --------------------------------------------------------------------------- My calls

def _lease_text(call: PlannedCall, shop: Shop, now: datetime, lang: str) -> str:
    left = max(0, math.ceil((call.lease_until - now).total_seconds() / 60))
    until = format_time(call.lease_until, lang, shop.market)
    return ngettext("until %(time)s (%(num)d minute left)", "until %(time)s (%(num)d minutes left)", left, time=until)


def _claims(session, user: User, now: datetime, lang: str) -> list[dict[str, Any]]:
    """The consultant's open claims, each with the time its lease runs out."""
    out = []
    for call in my_calls(session, user, now=now):
        shop = session.get(Shop, call.shop_id)
        out.append(_listed(call, shop, lang, lease=_lease_text(call, shop, now, lang)))
    return out


def _upcoming(session, user: User, now: datetime, lang: str) -> list[dict[str, Any]]:
    """The next calls in the consultant's languages (planned, or claimed with an expired lease):
    callbacks first, then by time. Read-only: no claim."""
    q = (select(PlannedCall, Shop).join(Shop, Shop.id == PlannedCall.shop_id)
         .where(or_(PlannedCall.status == "planned",
                    and_(PlannedCall.status == "claimed", PlannedCall.lease_until < now))))
    langs = call_languages(user)
    if langs is not None:
        q = q.where(or_(PlannedCall.language.is_(None), PlannedCall.language.in_(langs)))
    q = q.order_by(PlannedCall.kind != "callback", PlannedCall.scheduled_at, PlannedCall.id).limit(DUE_LIMIT)
    return [_listed(call, shop, lang, due=call.scheduled_at <= now and call.due_from <= now)
            for call, shop in session.execute(q).tuples()]


def _listed(call: PlannedCall, shop: Shop, lang: str, **extra: Any) -> dict[str, Any]:
    """A call as the calls page lists it (a claim or an upcoming call): `describe_call`, the shop's
    name (its platform id when it has none) and ``extra``."""
    return {**describe_call(call, shop, lang), "shop_name": shop.name or shop.platform_id, **extra}


@bp.get("/calls")
@role_required("consultant")
def my_calls_page():
    """The consultant's open claims, the button to claim the next call, and what is due next."""
    session, lang, now = get_session(), current_lang(), clock()
    return render_template("calls.html", claims=_claims(session, g.user, now, lang),
                           upcoming=_upcoming(session, g.user, now, lang),
                           max_open=current_app.config["MAX_OPEN_CLAIMS"],
                           languages=call_languages(g.user))


@bp.post("/calls/next")
@role_required("consultant")
def claim():
    """Claim the consultant's next call and open it; or say why there is none."""
    session = get_session()
    lang = current_lang()
    try:
        call = claim_next(session, g.user, now=clock(), lease_minutes=current_app.config["CLAIM_LEASE_MINUTES"],
                          max_open=current_app.config["MAX_OPEN_CLAIMS"], lang=lang)
    except TooManyClaims as exc:
        flash(str(exc))
        return redirect(url_for("calls.my_calls_page"), 303)
    if call is None:
        flash(_("Nothing is due that you can call now."))
        return redirect(url_for("calls.my_calls_page"), 303)
    return redirect(url_for("calls.call_page", call_id=call.id), 303)


# --------------------------------------------------------------------------- the call screen

def _known(profile: profile_schema.Profile) -> dict[str, Any]:
    return {k: f.value for k, f in profile.facts.items()}


def _item(form, schema, q, market: str, lang: str, known: dict[str, Any]) -> dict[str, Any]:
    """One question as the shared field macro draws it (hint, skip logic, unit)."""
    return form_groups(form, schema, [q], market, lang, known)[0][1][0]


def _interview(form, schema, market: str, lang: str, profile: profile_schema.Profile) -> dict[str, Any]:
    """The guided interview: the next questions (the launch checklist's first open item, then
    follow-ups the known answers unlocked, then unanswered questions in the interview's order),
    the known answers (editable), and the rest under "More questions"."""
    known = _known(profile)
    questions = call_questions(schema, market)
    first_open = profile.readiness.first_open
    unlocked = [q for q in questions if known.get(q.key) is None and q.relevant
                and profile_schema.evaluate_condition(q.relevant, known) is True]
    checklist = [q for q in questions if q.key == first_open and applies(q, known)]
    rest = [q for q in questions if known.get(q.key) is None and applies(q, known)]
    nexts: list[Any] = []
    for q in checklist + unlocked + rest:
        if q not in nexts and len(nexts) < NEXT_QUESTIONS:
            nexts.append(q)
    answered = [q for q in questions if known.get(q.key) is not None and q not in nexts]
    more = [q for q in questions if q not in nexts and q not in answered]
    return {
        "next": [_item(form, schema, q, market, lang, known) for q in nexts],
        "known": form_groups(form, schema, answered, market, lang, known),
        "known_count": len(answered),
        "more": form_groups(form, schema, more, market, lang, known),
        "more_count": len(more),
    }


def _timeline(view: CallScreenView, schema, market: str, lang: str) -> dict[str, Any]:
    """The newest observations (the view read at most TIMELINE_LIMIT of them) and how many there are."""
    newest = sorted(view.newest, key=lambda o: (o.observed_at, o.seq or 0), reverse=True)
    rows = [_observation_row(o, schema, market, lang) for o in newest[:TIMELINE_LIMIT]]
    return {"rows": rows, "rest": max(0, view.total - TIMELINE_LIMIT), "total": view.total}


def _observation_row(o: profile_schema.Observation, schema, market: str, lang: str) -> dict[str, Any]:
    q = schema.questions.get(o.question)
    value = format_answer(q, o.value, market)
    if o.op == "add":
        value = "+ " + value
    elif o.op == "remove":
        value = "− " + value
    elif o.op == "increment":
        value = _("%(value)s more", value=o.value)
    return {"key": o.question, "label": q.label(lang) if q else o.question, "value": value,
            "source": o.source, "source_label": str(SOURCE_LABELS.get(o.source, o.source)), "actor": o.actor,
            "at": o.observed_at.isoformat(), "when": format_when(o.observed_at, market)}


def _score_view(shop: Shop, lang: str) -> dict[str, Any] | None:
    """The latest stored score (made again by `record_answers` when a model is active): the chance,
    its reasons (up and down, in the reader's language when stored so) and the path to subscribe."""
    hit = latest_score(get_session(), shop)
    score = hit[0] if hit else None
    info = pictures.score_info(score, lang)
    if info is None:
        return None
    reasons: list[dict[str, str]] = []
    summary = None
    try:
        from ..scoring.reasons import localized

        shown = localized(score.details or {}, lang)
        found = shown.get("reasons") or []
        summary = shown.get("summary") if isinstance(shown.get("summary"), str) else None
    except Exception:  # noqa: BLE001 - a score's details in an older shape: the strongest reason still shows
        found = []
    if isinstance(found, dict):
        pairs = [("up", r) for r in (found.get("up") or [])[:3]] + [("down", r) for r in (found.get("down") or [])[:3]]
    else:
        pairs = [("", r) for r in list(found)[:4]]
    for direction, r in pairs:
        text = (r.get("text") or r.get("label") or r.get("feature")) if isinstance(r, dict) else str(r)
        if text:
            reasons.append({"direction": direction, "text": str(text)})
    if not reasons and info.get("reason"):
        reasons.append({"direction": "", "text": info["reason"]})
    return {"id": score.id, "probability": score.probability, "percent": round(score.probability * 100),
            "reasons": reasons, "summary": summary, "path": list(info.get("path") or []), "fallback": info.get("fallback"),
            "fallback_message": info.get("fallback_message"), "scored_at": score.scored_at.isoformat()}


def _panel(shop: Shop, profile: profile_schema.Profile, version: int, lang: str) -> dict[str, Any]:
    """What the save updates in place: picture (with a cache-busting query), stage, readiness, score."""
    score = _score_view(shop, lang)
    stamp = f"{version}.{score['id'] if score else 0}"
    known = bool(profile.observation_count)
    stage = profile.readiness.stage
    return {
        "picture_url": url_for("web.picture_svg", platform_id=shop.platform_id, v=stamp),
        "stage": stage if known else None,
        "stage_label": str(STAGE_LABELS.get(stage, stage)) if known else "—",
        "readiness": profile.readiness.percent if known else None,
        "score": score,
    }


def _calling(call: PlannedCall, shop: Shop, profile: profile_schema.Profile, now: datetime,
             lang: str) -> dict[str, Any]:
    """The phone, the merchant's time now, and whether the law and the merchant let us call now."""
    session = get_session()
    market = locales.get_market(shop.market)
    phone = profile.value("owner.phone")
    shown = phone
    e164 = None
    if phone:
        try:
            number = normalize_phone(str(phone), shop.market)
            shown, e164 = number.international, number.e164
        except Exception:  # noqa: BLE001 - a stored number we cannot format is still dialled as stored
            shown = str(phone)
    contact = shop_contact(session, shop)
    problem = slots.consent_problem(contact, call.purpose)
    allowed = slots.is_allowed(contact, now, call.purpose, honour_preferences=False)
    preferred = allowed and slots.is_allowed(contact, now, call.purpose)
    next_allowed = None
    if not allowed and problem is None:
        try:
            next_allowed = short_moment(slots.next_slot(contact, now, call.purpose).at, lang, shop.market)
        except slots.NoSlot:
            next_allowed = None
    return {
        "phone": str(phone) if phone else None, "phone_shown": shown,
        "local_now": format_datetime(now, lang, shop.market, "EEEE, HH:mm"),
        "timezone": market.timezone, "allowed": allowed, "preferred": preferred,
        "consent_problem": str(CONSENT_PROBLEMS.get(problem, problem)) if problem else None,
        "next_allowed": next_allowed, **_wishes(profile, contact, shop, e164, lang),
    }


def _wishes(profile: profile_schema.Profile, contact: slots.Contact, shop: Shop, e164: str | None,
            lang: str) -> dict[str, Any]:
    """How and when the merchant prefers to be called (issue 16): channel (phone, or WhatsApp where
    the market uses it, with its chat link), days and hours, in the consultant's language."""
    from babel import Locale

    from locales.calling import call_channels
    from locales.formatting import babel_locale

    schema = profile_schema.load_schema()
    channel = profile.value("needs.preferred_contact")
    channel = channel if channel in call_channels(shop.market) else None
    hours = profile.value("needs.preferred_call_time")
    names = Locale.parse(babel_locale(lang, shop.market)).days["format"]["abbreviated"]
    return {
        "channel": channel,
        "channel_label": schema.questions["needs.preferred_contact"].choice_label(channel, lang) if channel else None,
        "whatsapp": f"https://wa.me/{e164.lstrip('+')}" if channel == "whatsapp" and e164 else None,
        "days_label": ", ".join(names[d - 1] for d in contact.preferred_days) if contact.preferred_days else None,
        "hours_label": (schema.questions["needs.preferred_call_time"].choice_label(hours, lang)
                        if hours and hours != "any" else None),
    }


def _holds(call: PlannedCall, now: datetime) -> bool:
    return (call.status == "claimed" and call.owner_id == g.user.id and call.lease_until is not None
            and call.lease_until > now)


def _state(call_id: int):
    """The call, its shop, what the screen shows of the shop's history and its profile, and now.

    The history is read as a `CallScreenView` (the kept snapshot, one aggregate and the newest
    TIMELINE_LIMIT observations), never replayed whole: the screen reads as much for a shop with
    thousands of events as for a new one."""
    call, shop = _call_and_shop(call_id)
    lang = _use_market_language(shop)
    view = call_screen_view(get_session(), shop, timeline=TIMELINE_LIMIT)
    return call, shop, view, view.profile, lang, clock()


def _fresh_form(schema, shop: Shop, profile: profile_schema.Profile, lang: str):
    """The interview form filled with what the profile knows (not with what was posted)."""
    cls = answers_form_class(schema, shop.market, lang)
    return cls(formdata=None, data=form_data(call_questions(schema, shop.market), _known(profile), shop.market))


def _render_call(call: PlannedCall, shop: Shop, view: CallScreenView, profile, lang: str, now: datetime, *,
                 form=None, version: int | None = None, seen: int | None = None, status: int = 200,
                 errors: list[dict[str, Any]] | None = None, conflict: list[dict[str, Any]] | None = None,
                 outcome_error: str | None = None, notice: str | None = None, outcome_values: dict | None = None):
    session = get_session()
    schema = profile_schema.load_schema()
    holder = _holds(call, now)
    current = view.version
    form = form if form is not None else _fresh_form(schema, shop, profile, lang)
    owner = session.get(User, call.owner_id) if call.owner_id else None
    data = describe_call(call, shop, lang)
    m = locales.get_market(shop.market)
    return render_template(
        "call.html", call=call, c=data, shop=shop, profile=profile, schema=schema, lang=lang, holder=holder,
        owner=owner, lease=_lease_text(call, shop, now, lang) if holder else None,
        calling=_calling(call, shop, profile, now, lang), panel=_panel(shop, profile, current, lang),
        interview=_interview(form, schema, shop.market, lang, profile), form=form,
        version=current if version is None else version, seen=current if seen is None else seen,
        timeline=_timeline(view, schema, shop.market, lang), errors=errors or [], conflict=conflict,
        outcomes=OUTCOME_BUTTONS, outcome_error=outcome_error, notice=notice, outcome_values=outcome_values or {},
        later_min=now.astimezone(m.tz).strftime("%Y-%m-%dT%H:%M"), max_note=MAX_NOTE,
    ), status


@bp.get("/calls/<int:call_id>")
@role_required("consultant")
def call_page(call_id: int):
    """The call screen: reads only. The outcome panel and the form are for the consultant holding the call."""
    call, shop, view, profile, lang, now = _state(call_id)
    return _render_call(call, shop, view, profile, lang, now)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _changed_answers(form, schema, shop: Shop, base: profile_schema.Profile) -> dict[str, Any]:
    """The posted answers that differ from what the page showed (the profile at its version)."""
    questions = call_questions(schema, shop.market)
    shown = form_data(questions, _known(base), shop.market)
    answers = answers_from_form(form, schema, shop.market)
    out = {}
    for key, value in answers.items():
        name = field_name(key)
        posted, before = form[name].data, shown.get(name)
        if isinstance(posted, (list, tuple)) and isinstance(before, (list, tuple)):
            same = sorted(map(str, posted)) == sorted(map(str, before))
        else:
            same = before is not None and str(posted).strip() == str(before).strip()
        if not same:
            out[key] = value
    return out


def _error_list(exc: ValidationFailed, form) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors:
        d = e.as_dict() if hasattr(e, "as_dict") else dict(e) if isinstance(e, dict) else {"message": str(e)}
        if not isinstance(d, dict):
            d = {"message": str(e)}
        key = d.get("field") or getattr(e, "field", "") or ""
        message = d.get("message") or getattr(e, "message", "") or str(e)
        name = field_name(key) if key else ""
        if name and name in form:
            form[name].errors = list(form[name].errors or []) + [message]
        out.append({"field": key, "name": name if name in form else "", "message": message})
    return out


@bp.post("/calls/<int:call_id>/answers")
@role_required("consultant")
def save_answers(call_id: int):
    """Record the interview's changed answers (source call, channel web); all or nothing.

    JSON for the call screen's script (200 with the fresh picture, stage, readiness and score;
    422 naming each field; 409 with what changed since the page's version); without JavaScript,
    the page again (or a redirect after saving)."""
    from ..operations.observations import record_answers

    call, shop, view, profile, lang, now = _state(call_id)
    schema = profile_schema.load_schema()
    form = answers_form_class(schema, shop.market, lang)()
    current = view.version
    version = _int(request.form.get("version"))  # what the page showed
    version = current if version is None else min(max(version, 0), current)
    seen = _int(request.form.get("seen"))  # the newest change the consultant has been shown
    seen = version if seen is None else min(max(seen, version), current)
    newer = observations_newer_than(get_session(), shop, seen) if seen < current else []
    if newer:
        changes = [_observation_row(o, schema, shop.market, lang)
                   for o in sorted(newer, key=lambda o: (o.observed_at, o.seq or 0), reverse=True)]
        message = ngettext("Someone changed this shop while you were on the call (%(num)d answer): nothing was "
                           "saved. Check the change below, then save again to apply your answers on top.",
                           "Someone changed this shop while you were on the call (%(num)d answers): nothing was "
                           "saved. Check the changes below, then save again to apply your answers on top.",
                           len(changes))
        if _wants_json():
            return jsonify(ok=False, error="changed_since", message=message, changes=changes, version=version,
                           seen=current), 409
        return _render_call(call, shop, view, profile, lang, now, form=form, version=version, seen=current,
                            conflict=changes, notice=message, status=409)
    if version == current:  # the page showed the profile as it is now
        base = profile
    else:  # saving again after a 409: the profile the page was drawn from
        base = profile_schema.fold([o for o in shop_observations(get_session(), shop) if (o.seq or 0) <= version],
                                   shop=shop.platform_id, market=shop.market)
    answers = _changed_answers(form, schema, shop, base)
    if not answers:
        message = _("Nothing new to save: every answer is as it was.")
        if _wants_json():
            return jsonify(ok=True, saved=0, message=message, version=current, **_panel(shop, profile, current, lang))
        flash(message)
        return redirect(url_for("calls.call_page", call_id=call.id), 303)
    try:
        record_answers(get_session(), shop, answers, actor=g.user.email, source="call", channel="web",
                       lang=lang, now=now)
    except ValidationFailed as exc:
        errors = _error_list(exc, form)
        if _wants_json():
            return jsonify(ok=False, error="validation_failed", errors=errors,
                           message=_("Nothing was saved: correct the answers marked in red."),
                           heading=_("Nothing was saved. Please correct:")), 422
        return _render_call(call, shop, view, profile, lang, now, form=form, version=version, seen=seen,
                            errors=errors, status=422)
    message = ngettext("Saved %(num)d answer.", "Saved %(num)d answers.", len(answers))
    if not _wants_json():
        flash(message)
        return redirect(url_for("calls.call_page", call_id=call.id), 303)
    view = call_screen_view(get_session(), shop, timeline=TIMELINE_LIMIT)  # the snapshot the save refreshed
    profile = view.profile
    current = view.version
    panel = _panel(shop, profile, current, lang)
    fresh = _fresh_form(schema, shop, profile, lang)
    fragments = {
        "interview_html": render_template("_call_interview.html", interview=_interview(fresh, schema, shop.market,
                                                                                         lang, profile),
                                          form=fresh, version=current, seen=current, errors=[]),
        "panel_html": render_template("_call_panel.html", panel=panel),
        "timeline_html": render_template("_call_timeline.html",
                                         timeline=_timeline(view, schema, shop.market, lang)),
    }
    return jsonify(ok=True, saved=len(answers), keys=sorted(answers), message=message, version=current,
                   **panel, **fragments)


# --------------------------------------------------------------------------- outcome

def _later_moment(raw: str, market: str) -> datetime | None:
    """A `datetime-local` value read in the MERCHANT's zone, as an aware moment (None if unreadable)."""
    try:
        naive = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    moment = naive if naive.tzinfo is not None else naive.replace(tzinfo=locales.get_market(market).tz)
    try:  # 0001-01-01T00:00 in a zone east of UTC is before year 1 once made UTC: unreadable too
        moment.astimezone(timezone.utc)
    except OverflowError:
        return None
    return moment


def _outcome_message(call: PlannedCall, shop: Shop, outcome: str, lang: str) -> str:
    """What happens next, for the flash on "My calls": "No answer (Sklep Ani): next attempt Tue 1 Dec, 11:30 ..."."""
    name = shop.name or shop.platform_id
    label = str(OUTCOME_LABELS[outcome])
    if call.status == "planned":
        when = short_moment(call.scheduled_at, lang, shop.market)
        if outcome == "later":
            return _("%(outcome)s (%(shop)s): planned for %(when)s, merchant's time.", outcome=label, shop=name,
                     when=when)
        return _("%(outcome)s (%(shop)s): next attempt %(when)s, merchant's time.", outcome=label, shop=name, when=when)
    if outcome in ("no_answer", "later"):
        return _("%(outcome)s (%(shop)s): no further attempt, the call is closed.", outcome=label, shop=name)
    if outcome == "do_not_call":
        return _("%(outcome)s (%(shop)s): the merchant will get no more sales calls.", outcome=label, shop=name)
    return _("%(outcome)s (%(shop)s): the call is done.", outcome=label, shop=name)


def _lost(call_id: int, exc: ClaimLost, note: str | None = None):
    """The claim is gone: its message, 409, and the screen read-only (with the note typed, so it is not lost)."""
    call, shop, view, profile, lang, now = _state(call_id)
    return _render_call(call, shop, view, profile, lang, now, status=409, outcome_error=str(exc),
                        outcome_values={"note": note or ""})


@bp.post("/calls/<int:call_id>/complete")
@role_required("consultant")
def complete(call_id: int):
    """Record how the call went with the claim's token; then back to "My calls" saying what happens next."""
    call, shop, view, profile, lang, now = _state(call_id)
    outcome = request.form.get("outcome") or ""
    token = _int(request.form.get("token"))
    note = (request.form.get("note") or "")[:MAX_NOTE * 4]
    raw_at = request.form.get("at") or ""
    values = {"note": note, "at": raw_at}

    def refuse(message: str):
        return _render_call(call, shop, view, profile, lang, now, status=422, outcome_error=message,
                            outcome_values=values)

    if outcome not in OUTCOMES:
        return refuse(_("Choose how the call went."))
    at = None
    if outcome == "later":
        if not raw_at.strip():
            return refuse(_("Say when to call again (the merchant's time)."))
        at = _later_moment(raw_at, shop.market)
        if at is None:
            return refuse(_("The time to call again is not a date and time."))
    try:
        done, _attempt = complete_call(get_session(), g.user, call.id, outcome=outcome, at=at,
                                       token=-1 if token is None else token,
                                       note=note, now=now, channel="web", lang=lang)
    except ClaimLost as exc:
        return _lost(call_id, exc, note)
    except ValidationFailed as exc:
        codes = {(e.get("code") if isinstance(e, dict) else getattr(e, "code", None)) for e in exc.errors}
        if "request.in_the_past" in codes:
            return refuse(_("The time to call again is in the past: pick a later time."))
        if "request.too_far" in codes:
            return refuse(_("The time to call again is too far ahead: pick a time within %(days)d days.",
                            days=CALLBACK_HORIZON_DAYS))
        if "request.too_long" in codes:
            return refuse(_("The note is too long: keep it to %(max)d characters.", max=MAX_NOTE))
        return refuse(str(exc))
    flash(_outcome_message(done, shop, outcome, lang))
    return redirect(url_for("calls.my_calls_page"), 303)


@bp.post("/calls/<int:call_id>/release")
@role_required("consultant")
def release(call_id: int):
    """Give the call back to the queue untouched."""
    call, shop, _o, _p, lang, now = _state(call_id)
    try:
        release_call(get_session(), g.user, call.id, token=_int(request.form.get("token")) or -1, now=now, lang=lang)
    except ClaimLost as exc:
        return _lost(call_id, exc)
    flash(_("%(shop)s: given back; the call is in the queue again.", shop=shop.name or shop.platform_id))
    return redirect(url_for("calls.my_calls_page"), 303)
