"""The merchant survey page `/s/<token>`: no account, on a phone, in the merchant's language.

The token is the only credential (signed, expiring, revocable: see
concierge/operations/survey_links.py), so these pages send `Referrer-Policy: no-referrer`
and `Cache-Control: no-store`, and nothing here logs a URL. Views stay thin: resolve the
link, build the schema's form for source `survey`, call `save_draft` / `submit_answers`.
Consultants create a link from the shop page (`POST /shops/<shop>/survey-link`).
"""
from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from flask_wtf.csrf import CSRFError

import profile_schema
from locales import LANGUAGE_NAMES, market_languages

from ..app import get_session
from ..errors import ConciergeError, NotFound
from ..i18n import choose_language
from ..operations.audits import (
    MAX_NOTE, AuditRequestError, callback_moved, check_callback_request, offered_slots, open_callback,
)
from ..operations.planned_calls import ask_for_callback, local_moment
from ..operations.profiles import load_profile
from ..operations.shops import get_shop
from ..operations.survey_links import (
    LANGUAGES,
    BadLink,
    ExpiredLink,
    LinkError,
    create_link,
    draft_key,
    form_values,
    last_shop_link_submission,
    new_attempt,
    public_base_url,
    resolve_link,
    save_draft,
    submit_answers,
    survey_plan,
    survey_questions,
)
from .auth import role_required
from .forms import answers_form_class, answers_from_form, field_item, field_name, form_data
from .helpers import current_lang, private_page
from .survey_next import next_step_context  # issue 16: who calls, when, and the merchant's preferences

bp = Blueprint("survey", __name__)



bp.after_request(private_page)  # the token is in the URL


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _language(link: Any = None, market: str | None = None) -> str | None:
    """?lang= (the switcher), then the merchant's last choice, then a language of the market the
    browser asks for (Hindi for an Indian merchant), then the market's language."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    if link is not None and link.language in LANGUAGES:
        return link.language
    return choose_language(market=market, accept_languages=request.accept_languages) if market else None


def _use_language(lang: str | None) -> str:
    """Make `lang` the page's language (None: Accept-Language decides) and return the one in use."""
    if lang:
        g.page_language = lang
        refresh()
    return current_lang()


@bp.errorhandler(LinkError)
def _link_error(exc: LinkError):
    """Expired or withdrawn (410) and bad (404) links: a plain page in the merchant's language."""
    _use_language(_language(market=exc.market))
    kind = "expired" if isinstance(exc, ExpiredLink) else "bad" if isinstance(exc, BadLink) else "revoked"
    return render_template("survey_gone.html", kind=kind, expired_at=exc.expired_at, market=exc.market), exc.status


def switcher_languages(market: str | None) -> tuple[str, ...]:
    """The switcher's languages: the market's own first (English and Hindi in India), then the rest."""
    offered = market_languages(market) if market else ()
    return offered + tuple(code for code in LANGUAGES if code not in offered)


def _languages(token: str, market: str | None = None) -> list[tuple[str, str, str]]:
    return [(code, LANGUAGE_NAMES[code], url_for("survey.page", token=token, lang=code))
            for code in switcher_languages(market)]


def _callback_block(token: str, resolved, *, origin: str = "survey", choice: str | None = "now", note: str = "",
                    errors: dict[str, str] | None = None, notice: str | None = None) -> dict[str, Any]:
    """The "ask us to call you" block: now or one of the offered times, in the merchant's time.

    Reads only: the offered times are computed, nothing is stored until the merchant asks.
    """
    session = get_session()
    shop = resolved.shop
    lang = current_lang()
    try:
        offered = offered_slots(session, shop, lang=lang)
    except ConciergeError:  # no market rules to offer times by: "now" still works
        offered = []
    options = [("now", _("Call me now"))]
    options += [(s.at.isoformat(), local_moment(s.at, lang, shop.market)) for s in offered]
    current = open_callback(session, shop)
    errors = errors or {}
    return {
        "action": url_for("survey.callback", token=token, lang=lang), "origin": origin, "options": options,
        "choice": choice, "note": note, "max_note": MAX_NOTE, "notice": notice,
        "at_error": errors.get("at"), "note_error": errors.get("note"),
        "current": local_moment(current.scheduled_at, lang, shop.market) if current is not None else None,
    }


def _has_answer(field) -> bool:
    data = field.data
    return bool(data) if isinstance(data, (list, tuple)) else data is not None and str(data).strip() != ""


def _shop_profile(resolved) -> tuple[profile_schema.Profile, dict[str, Any], dict[str, Any]]:
    """The shop's profile, built once for the page, and `form_values` from it: (profile, values, known)."""
    session = get_session()
    profile = load_profile(session, resolved.shop)
    return (profile, *form_values(session, resolved, profile))


def _render(token: str, resolved, form, known: dict[str, Any], profile: profile_schema.Profile, *,
            errors: list[dict[str, Any]] | None = None, summary: str | None = None, notice: str | None = None,
            status: int = 200, callback: dict[str, Any] | None = None):
    """The survey in three parts (`survey_plan`): the short default part, "we have this" and
    "tell us more". `known` is the profile with the merchant's answers so far: a follow-up whose
    condition does not hold on it is sent hidden, and static/survey.js shows it when answered.
    `profile`: the shop's (`_shop_profile`), which the plan reads too."""
    session = get_session()
    schema = profile_schema.load_schema()
    market = resolved.shop.market
    lang = current_lang()
    plan = survey_plan(session, resolved, profile)
    listed = []
    for e in errors or []:
        name = field_name(e["field"]) if e["field"] else ""
        if name and name in form:
            form[name].errors = list(form[name].errors or []) + [e["message"]]
        listed.append({"name": name if name in form else "", "message": e["message"]})

    def items(questions):
        return [field_item(form, schema, q, market, lang, known, required=True, merchant=True)
                for q in questions if field_name(q.key) in form]

    ask, have, more = items(plan.ask), items(plan.have), items(plan.more)
    shown = [i for i in ask if not i["hidden"]]
    link = resolved.link
    attempt = new_attempt(session, link)
    state = f"{link.id}:{link.draft_saved_at.isoformat() if link.draft_saved_at else ''}"
    return render_template(
        "survey.html", shop=resolved.shop, form=form, ask=ask, have=have, more=more, errors=listed,
        summary=summary, notice=notice, attempt=attempt, languages=_languages(token, resolved.shop.market),
        answered=sum(1 for i in shown if _has_answer(i["field"])), shown=len(shown),
        open_have=any(i["field"].errors for i in have), open_more=any(
            i["field"].errors or (not i["hidden"] and _has_answer(i["field"])) for i in more),
        draft_key=draft_key(resolved.shop, _secret()), draft_link=link.id, draft_state=state,
        draft_submission=last_shop_link_submission(session, resolved.shop),
        action=url_for("survey.page", token=token, lang=lang), expires_at=link.expires_at,
        submitted_at=link.submitted_at, draft_saved_at=link.draft_saved_at,
        callback=callback or _callback_block(token, resolved),
        next_step=next_step_context(token, resolved),
    ), status


def _fresh_form_page(token: str, resolved, *, callback: dict[str, Any], status: int):
    """The survey as a GET shows it (profile + draft), with this callback block: after a callback post."""
    schema = profile_schema.load_schema()
    market = resolved.shop.market
    form_class = answers_form_class(schema, market, current_lang(), source="survey")
    profile, values, known = _shop_profile(resolved)
    # formdata=None: the posted callback form is not the survey's answers
    form = form_class(formdata=None, data=form_data(survey_questions(schema, market), values, market))
    return _render(token, resolved, form, {**known, **values}, profile, callback=callback, status=status)


def _thanks_page(token: str, resolved, *, callback: dict[str, Any] | None = None, status: int = 200):
    return render_template("survey_thanks.html", shop=resolved.shop, expires_at=resolved.link.expires_at,
                           again=url_for("survey.page", token=token),
                           callback=callback or _callback_block(token, resolved, origin="thanks"),
                           next_step=next_step_context(token, resolved, origin="thanks")), status


def _callback_page(token: str, resolved, callback: dict[str, Any], status: int):
    """Show the page the callback block was posted from again (the form, or the thank-you page)."""
    if callback["origin"] == "thanks":
        return _thanks_page(token, resolved, callback=callback, status=status)
    return _fresh_form_page(token, resolved, callback=callback, status=status)


def _callback_errors(errors: list[Any]) -> dict[str, str]:
    """The operation's refusals as the merchant reads them, by form field (`at` or `note`)."""
    out: dict[str, str] = {}
    for e in errors:
        e = e.as_dict() if hasattr(e, "as_dict") else dict(e)
        if e.get("field") == "note":
            out["note"] = _("Your note is too long: please keep it to %(max)d characters.", max=MAX_NOTE)
        elif e.get("code") == "request.no_slot":
            out["at"] = _("We cannot find a time to call you in the coming weeks. "
                          "Please ask your onboarding consultant.")
        else:
            out["at"] = _("Please choose “Call me now” or one of the times offered.")
    return out


@bp.route("/s/<token>", methods=["GET", "POST"])
def page(token: str):
    """Show the survey (pre-filled, draft restored); save a draft or submit it."""
    session = get_session()
    resolved = resolve_link(session, token, secret=_secret())
    lang = _use_language(_language(resolved.link, resolved.shop.market))
    schema = profile_schema.load_schema()
    market = resolved.shop.market
    form_class = answers_form_class(schema, market, lang, source="survey")
    if request.method == "GET":
        profile, values, known = _shop_profile(resolved)
        form = form_class(data=form_data(survey_questions(schema, market), values, market))
        return _render(token, resolved, form, {**known, **values}, profile)
    form = form_class()
    if not form.validate_on_submit():  # only the CSRF token can fail here (and CSRFError comes first)
        abort(400)
    raw = answers_from_form(form, schema, market, source="survey")
    if request.form.get("action") == "submit":
        outcome = submit_answers(session, resolved, raw, lang=lang, attempt=request.form.get("attempt"))
        if outcome.ok:
            if outcome.kept_as_draft:  # another tab sent this form first: these answers are kept, not lost
                flash(_("Your answers had already been sent from another window. The answers in this "
                        "window are kept: choose “Change my answers” to send them."))
            elif outcome.duplicate:
                flash(_("We had already received these answers: they are stored once."))
            return redirect(url_for("survey.thanks", token=token, lang=lang), 303)
        summary = _("Your answers were not sent yet. Please correct:")
        notice = _("What you typed is kept: the valid answers are saved as a draft.")
    else:
        outcome = save_draft(session, resolved, raw, lang=lang)
        if request.form.get("autosave") == "1":  # static/survey.js, leaving the page: no page, no flash
            return ("", 204) if outcome.ok else ({"saved": sorted(outcome.saved),
                                                  "errors": [e["field"] for e in outcome.errors]}, 422)
        if outcome.ok:
            flash(_("Saved. Open the same link to continue where you stopped."))
            return redirect(url_for("survey.page", token=token, lang=lang), 303)
        summary = _("Saved, except these answers. Please correct:")
        notice = None
    profile, _values, known = _shop_profile(resolved)
    return _render(token, resolved, form, {**known, **outcome.saved}, profile, errors=outcome.errors,
                   summary=summary, notice=notice, status=422)


@bp.get("/s/<token>/thanks")
def thanks(token: str):
    """Thank the merchant; the same link lets them change their answers until it expires."""
    resolved = resolve_link(get_session(), token, secret=_secret())
    _use_language(_language(resolved.link, resolved.shop.market))
    return _thanks_page(token, resolved)


@bp.post("/s/<token>/callback")
def callback(token: str):
    """The merchant asks us to call them: now, or at one of the offered times (CSRF like the form)."""
    session = get_session()
    resolved = resolve_link(session, token, secret=_secret())
    lang = _use_language(_language(resolved.link, resolved.shop.market))
    choice = request.form.get("at") or ""
    note = request.form.get("note") or ""
    origin = "thanks" if request.form.get("origin") == "thanks" else "survey"
    problems: list[Any] = []
    at = None
    try:  # both fields are checked together, so every mistake is named at once
        at, _text = check_callback_request(None if choice == "now" else choice, note, lang=lang)
    except AuditRequestError as exc:
        problems += exc.errors
    if not problems:
        try:
            ask_for_callback(session, resolved.shop, at=at, note=note, via="survey", actor="merchant", lang=lang)
        except AuditRequestError as exc:  # nothing stored: the operation checks everything before it writes
            problems += exc.errors
    errors = _callback_errors(problems)
    if errors:
        block = _callback_block(token, resolved, origin=origin, choice=choice, note=note, errors=errors)
        return _callback_page(token, resolved, block, 422)
    return redirect(url_for("survey.callback_done", token=token, lang=lang), 303)


@bp.get("/s/<token>/callback")
def callback_done(token: str):
    """When we will call, in the merchant's language and local time (read only)."""
    session = get_session()
    resolved = resolve_link(session, token, secret=_secret())
    lang = _use_language(_language(resolved.link, resolved.shop.market))
    call = open_callback(session, resolved.shop)
    if call is None:  # nothing asked (or already handled): the block is on the survey page
        return redirect(url_for("survey.page", token=token, lang=lang) + "#callback", 303)
    return render_template("survey_callback.html", shop=resolved.shop, when=local_moment(
        call.scheduled_at, lang, resolved.shop.market), moved=callback_moved(call),
        asked_now=bool((call.params or {}).get("now")), note=call.note,
        back=url_for("survey.page", token=token, lang=lang),
        next_step=next_step_context(token, resolved, origin="callback"))


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    """A survey page left open too long: show the form again with the answers, nothing stored."""
    token = (request.view_args or {}).get("token")
    if request.endpoint not in ("survey.page", "survey.callback") or not token:
        return render_template("error.html", code=400, reason=_(
            "The form expired or was sent from elsewhere. Reload the page and try again.")), 400
    try:
        resolved = resolve_link(get_session(), token, secret=_secret())
    except LinkError as link_exc:
        return _link_error(link_exc)
    lang = _use_language(_language(resolved.link, resolved.shop.market))
    if request.endpoint == "survey.callback":  # the call request: nothing asked, the choice kept
        block = _callback_block(
            token, resolved, origin="thanks" if request.form.get("origin") == "thanks" else "survey",
            choice=request.form.get("at") or "now", note=request.form.get("note") or "",
            notice=_("This page was open for a long time, so your request was not sent. "
                     "Please press the button again."))
        return _callback_page(token, resolved, block, 400)
    schema = profile_schema.load_schema()
    form = answers_form_class(schema, resolved.shop.market, lang, source="survey")()
    profile, _values, known = _shop_profile(resolved)
    return _render(token, resolved, form, known, profile, status=400, notice=_(
        "This page was open for a long time, so nothing was saved. Your answers are still here: "
        "press the button again."))


@bp.post("/shops/<platform_id>/survey-link")
@role_required("consultant")
def create(platform_id: str):
    """Make a survey link for the shop and show it to copy (the shop page's button)."""
    session = get_session()
    try:
        shop = get_shop(session, platform_id, lang=current_lang())
    except NotFound:
        abort(404)
    g.page_market = shop.market  # like the shop page: the merchant's market language by default
    refresh()
    try:
        created = create_link(session, shop, secret=_secret(), created_by=g.user.email,
                              days=current_app.config.get("SURVEY_LINK_MAX_AGE_DAYS"), lang=current_lang())
    except ConciergeError as exc:  # a misconfigured lifetime: say so instead of a 500
        return render_template("error.html", code=400, reason=str(exc)), 400
    data = created.as_dict(public_base_url(current_app.config.get("PUBLIC_BASE_URL"), request.url_root))
    return render_template("survey_link_created.html", shop=shop, url=data["url"],
                           expires_at=created.link.expires_at), 201
