"""The consultant's pages: the shop list, the shop page with its picture, recording answers."""
from __future__ import annotations

from typing import Any, Callable

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext, refresh
from markupsafe import Markup
from sqlalchemy import func, select

import profile_schema
from locales import MARKET_CODES

from ..app import get_db, get_session
from ..errors import NotFound, ValidationFailed
from ..models import Shop
from ..operations import pictures
from ..operations.profiles import ShopPageRead, shop_page_read
from ..operations.shop_state import HELP_TOPICS_QUESTION
from ..operations.shops import get_shop
from ..operations.users import list_users
from .auth import login_required, role_required
from .forms import (
    answers_form_class,
    answers_from_form,
    call_questions,
    field_name,
    form_groups,
)
from .helpers import current_lang, format_answer, format_when

bp = Blueprint("web", __name__)
PAGE_SIZE = 50
MARKETS = MARKET_CODES


# --- the boundary for every request's parameters ---------------------------------------
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _request_lang() -> str:
    if request.path.startswith("/api"):
        from ..api import request_language

        return request_language()
    return current_lang()


@bp.before_app_request
def refuse_unstorable_parameters():
    """No NUL or lone surrogate in a path segment, query parameter or form field, on any page or
    API route: a 400 naming the parameter, before any view queries the database with it."""
    from ..errors import BadParameter
    from ..ingest.bodies import body_error, escape_unstorable, text_problem

    sources: list[tuple[str, Any]] = list((request.view_args or {}).items())
    sources += list(request.args.items(multi=True))
    # forms of pages only: the API reads its own bodies (a webhook sent as a form is a 415 and a
    # dead letter, so parsing it here would consume the body the dead letter must keep)
    if request.mimetype in _FORM_TYPES and not request.path.startswith("/api"):
        sources += list(request.form.items(multi=True))
    errors = []
    lang = None
    for name, value in sources:
        for text, field in ((name, escape_unstorable(str(name))), (value, escape_unstorable(str(name)))):
            problem = text_problem(text) if isinstance(text, str) else None
            if problem is not None:
                lang = lang or _request_lang()
                errors.append(body_error(field, problem[0], lang, **problem[1]))
                break
    if errors:
        raise BadParameter(errors, errors[0]["message"])


@bp.app_errorhandler(ValidationFailed)
def _validation_failed(exc: ValidationFailed):
    """Parameters refused at the boundary (or any unhandled ValidationFailed): a 4xx naming the field."""
    if request.path.startswith("/api"):  # API routes answer with their own JSON handler; unmatched ones here
        return jsonify(exc.as_dict()), exc.status
    reason = "; ".join(e["message"] if isinstance(e, dict) else str(e) for e in exc.errors) or str(exc)
    return render_template("error.html", code=exc.status, reason=reason), exc.status


@bp.get("/healthz")
def healthz():
    """Say the app and its database answer, and how far the events worker is behind (queued mode):
    `events_queued` waiting in the inbox, the oldest for `events_oldest_seconds`."""
    from ..operations.inbox import backlog

    session = get_session()
    count = session.scalar(select(func.count(Shop.id)))
    waiting = backlog(session)
    oldest = waiting["oldest_received_at"]
    age = None
    if oldest is not None:
        from datetime import datetime, timezone

        then = datetime.fromisoformat(oldest)
        then = then if then.tzinfo else then.replace(tzinfo=timezone.utc)
        age = max(0, round((datetime.now(timezone.utc) - then).total_seconds()))
    return jsonify(status="ok", shops=count, events_queued=waiting["queued"], events_oldest_seconds=age)


#: Drill-down filters shown as removable chips above the list (the form has fields for the others).
CHIP_GROUPS = (("persona",), ("business_type",), ("topic",), ("held_out",), ("contacted",), ("trial_from", "trial_to"),
               ("closed_from", "closed_to"), ("ended_from", "ended_to"), ("stages",))


def _period(query: dict[str, Any], start: str, end: str) -> str:
    """A [from, to) day range as people read it: the last day shown is the one before `to`."""
    from datetime import date, timedelta

    from .helpers import format_when

    first = format_when(date.fromisoformat(query[start])) if start in query else "…"
    last = format_when(date.fromisoformat(query[end]) - timedelta(days=1)) if end in query else "…"
    return f"{first} – {last}"


def _chips(query: dict[str, Any], params: dict[str, Any]) -> list[dict[str, str]]:
    """The active drill-down filters, each with its words and the list's URL without it."""
    from .helpers import PERSONA_LABELS, STAGE_LABELS

    chips = []
    for keys in CHIP_GROUPS:
        if not any(k in query for k in keys):
            continue
        key = keys[0]
        if key == "persona":
            text = _("Persona: %(value)s", value=PERSONA_LABELS.get(query[key], query[key]))
        elif key == "business_type":
            question = profile_schema.load_schema().questions.get("business.type")
            label = question.choice_label(query[key], current_lang()) if question is not None else query[key]
            text = _("Business type: %(value)s", value=label)
        elif key == "topic":
            question = profile_schema.load_schema().questions.get(HELP_TOPICS_QUESTION)
            label = question.choice_label(query[key], current_lang()) if question is not None else query[key]
            text = _("Wants help with: %(value)s", value=label)
        elif key == "held_out":
            text = _("Held out from calls") if query[key] == "1" else _("Not held out from calls")
        elif key == "contacted":
            text = _("Contacted") if query[key] == "1" else _("Not contacted yet")
        elif key == "trial_from":
            text = _("Trial started: %(period)s", period=_period(query, "trial_from", "trial_to"))
        elif key == "closed_from":
            text = _("Trial closed: %(period)s", period=_period(query, "closed_from", "closed_to"))
        elif key == "ended_from":
            text = _("Trial ended: %(period)s", period=_period(query, "ended_from", "ended_to"))
        else:
            text = _("Stages: %(stages)s", stages=", ".join(str(STAGE_LABELS.get(s, s)) for s in query[key]))
        without = {k: v for k, v in params.items() if k not in keys}
        chips.append({"text": text, "remove": url_for("web.home", **without)})
    return chips


@bp.get("/")
@login_required
def home():
    """List the shops a consultant can call, with search, filters, sorting and paging, so the next
    call is one click away; a dashboard cell's drill-down filters show as removable chips. Reads the
    shop_state read model with SQL: no profile is folded here."""
    from ..operations.shop_state import (
        SORTS,
        consultants,
        filter_query,
        list_states,
        parse_filters,
    )
    from ..operations.users import role_at_least
    from .helpers import OUTCOME_LABELS, PERSONA_LABELS, STAGE_LABELS

    session = get_session()
    args = request.args
    filters, problems = parse_filters(args, lang=current_lang())  # a bad value is ignored, and said so
    query = filter_query(filters)
    sort = args.get("sort") or "newest"
    sort = sort if sort in SORTS else "newest"
    try:
        page = max(1, int(args.get("page", 1)))
    except ValueError:
        page = 1
    rows, total = list_states(session, **filters, sort=sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:  # past the end: the last page
        page = pages
        rows, total = list_states(session, **filters, sort=sort, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    params = {**query, **({"sort": sort} if sort != "newest" else {})}
    drill_keys = [k for group in CHIP_GROUPS for k in group]
    hidden = [(k, v) for k in drill_keys if k in query
              for v in (query[k] if isinstance(query[k], list) else [query[k]])]
    can_export = role_at_least(g.user.role, "manager")
    names = {f"{kind}_names": {k: str(v) for k, v in labels.items()}  # translated once, read per row
             for kind, labels in (("stage", STAGE_LABELS), ("outcome", OUTCOME_LABELS), ("persona", PERSONA_LABELS))}
    return render_template("home.html", rows=rows, q=query.get("q", ""), market=query.get("market", ""),
                           stage=query.get("stage", ""), outcome=query.get("outcome", ""),
                           consultant=query.get("consultant", ""),
                           score_min=int(query["score_min"]) if "score_min" in query else None,
                           score_max=int(query["score_max"]) if "score_max" in query else None, sort=sort,
                           page=page, pages=pages, total=total, markets=MARKETS, stages=profile_schema.load_schema().stages,
                           consultants=consultants(session), params=params, chips=_chips(query, params),
                           hidden=hidden, problems=problems,
                           export_url=url_for("web.shops_csv", **params) if can_export else None, **names)


@bp.get("/shops.csv")
@role_required("manager")
def shops_csv():
    """Export the filtered shop list as CSV (managers and admins): streamed from the read model with
    SQL a thousand rows at a time, in its own read-only session, so 100k shops never sit in memory."""
    from ..db import utcnow
    from ..operations.shop_state import SORTS, export_csv, parse_filters
    from ..reporting import csv_filename

    lang = current_lang()
    filters, problems = parse_filters(request.args, lang=lang)
    if problems:  # the list shows what it ignored; a file cannot, so it is refused rather than widened
        lines = [_("The export was not made: these filters are not valid.")]
        lines += [f"{field}: {reason}" for field, reason in problems]
        return Response("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")
    sort = request.args.get("sort") or "newest"
    sort = sort if sort in SORTS else "newest"
    database = get_db()

    def body():
        session = database.sessionmaker()  # its own: the request's session is committed before the body runs
        try:
            yield from export_csv(session, lang=lang, sort=sort, **filters)
        finally:
            session.rollback()  # reads only: nothing to keep
            session.close()

    name = csv_filename("shops", filters.get("market") or "", utcnow().strftime("%Y-%m-%d"))
    return Response(stream_with_context(body()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


def _shop_or_404(platform_id: str) -> Shop:
    try:
        return get_shop(get_session(), platform_id, lang=current_lang())
    except NotFound:
        abort(404)


def _use_market_language(shop: Shop) -> None:
    """On a shop's pages the merchant's market language comes before Accept-Language."""
    g.page_market = shop.market
    refresh()


#: Labels read per row, translated once per process and locale (a lazy string is translated
#: anew each time it is shown: per row of the facts table, that was a tenth of the page).
_NAMES: dict[str, dict[str, dict[str, str]]] = {}


def _names() -> dict[str, dict[str, str]]:
    from flask_babel import get_locale

    from .helpers import FACET_LABELS, SOURCE_LABELS

    key = str(get_locale())
    names = _NAMES.get(key)
    if names is None:
        names = _NAMES[key] = {"source_names": {k: str(v) for k, v in SOURCE_LABELS.items()},
                               "facet_names": {k: str(v) for k, v in FACET_LABELS.items()}}
    return names


def _shop_read_or_404(platform_id: str) -> ShopPageRead:
    try:
        return shop_page_read(get_session(), platform_id, lang=current_lang())
    except NotFound:
        abort(404)


def _shop_context(read: ShopPageRead) -> dict[str, Any]:
    from ..operations.audits import list_calls
    from ..operations.planned_calls import call_line, describe_call

    session = get_session()
    lang = current_lang()
    schema = profile_schema.load_schema()
    # the shop, its latest score and the profile and changes since the last call from its kept
    # snapshot: one statement, however long its history (folded from the observations only when
    # there is no usable snapshot)
    shop, view, score = read.shop, read.view, read.score
    profile, last_call, changes = view.profile, view.last_call, view.changes
    names = _names()
    sources, market = names["source_names"], shop.market
    # the facts table's and the changes' cells written here, once each: the template only prints
    by_facet: dict[str, list] = {}
    for k, f in profile.facts.items():
        q = schema.questions.get(k)
        if q is not None:
            by_facet.setdefault(q.facet, []).append((
                q.label(lang), format_answer(q, f.value, market, lang=lang), sources.get(f.source, f.source),
                f.actor, format_when(f.observed_at, market, lang=lang), bool(f.alternatives)))
    facts = [(facet, by_facet[facet]) for facet in schema.facets if facet in by_facet]
    changed = []
    for c in changes:
        q = schema.questions.get(c.key)
        changed.append((q.label(lang) if q else c.key,
                        None if c.before is None else format_answer(q, c.before, market, lang=lang),
                        format_answer(q, c.after, market, lang=lang), sources.get(c.source, c.source)))
    next_step = pictures.next_best_step(profile, lang, schema)
    # the open calls, the next one first (a callback, else the soonest): read once for the card
    # and the picture's line, and only when there are some
    rows = list_calls(session, shop=shop, status="open", lang=lang) if read.open_calls else []
    calls = [describe_call(c, s, lang) for c, s in rows]
    try:
        from renderers.layout import describe

        line = call_line(rows[0][0], shop, lang, calls[0]["why"]) if rows else None
        picture_alt = describe(pictures.picture_input(session, shop, lang=lang, view=view, score=score,
                                                      next_step=next_step, next_call=line), lang)
    except Exception:  # noqa: BLE001 - the alt text must never take the page down
        picture_alt = _("Picture of the shop %(shop)s", shop=shop.name or shop.platform_id)
    return {
        "picture_alt": picture_alt, "next_call": calls[0] if calls else None, "other_calls": calls[1:],
        "shop": shop, "profile": profile, "schema": schema, "lang": lang, "facts": facts,
        "changes": changed,
        "conflicts": [(schema.questions.get(k), profile.facts[k]) for k in profile.conflicts
                      if k in profile.facts],
        "last_call": last_call, "score": score, "score_info": pictures.score_info(score, lang),
        "next_step": next_step,
        "open_items": [i for i in profile.readiness.items if i.done is not True][:5],
        **names,
    }


def _form_groups(form, schema, market: str, lang: str, known: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The form's fields grouped by facet, each with its skip-logic hint (and whether it applies now)."""
    return form_groups(form, schema, call_questions(schema, market), market, lang, known)


#: The answer form's fields as rendered for a fresh form (a GET), by language, market and which
#: questions apply now: the same HTML for every shop alike, and half of the page's rendering time.
_FRESH_FIELDS: dict[tuple, Markup] = {}


def _answer_fields(schema, market: str, lang: str, known: dict[str, Any]) -> Markup:
    """The fresh answer form's fields: rendered once per language, market and skip pattern (which
    questions the shop's answers rule out), then read from `_FRESH_FIELDS`; the form itself is
    only built to render them."""
    from flask_babel import get_locale

    from profile_schema import evaluate_condition

    questions = call_questions(schema, market)
    pattern = tuple(bool(q.relevant) and evaluate_condition(q.relevant, known) is False for q in questions)
    key = (str(get_locale()), lang, market, id(schema), schema.version, pattern)
    html = _FRESH_FIELDS.get(key)
    if html is None:
        form = answers_form_class(schema, market, lang)()
        groups = form_groups(form, schema, questions, market, lang, known)
        if len(_FRESH_FIELDS) >= 512:
            _FRESH_FIELDS.clear()
        html = _FRESH_FIELDS[key] = Markup(render_template("_answer_fields.html", groups=groups))
    return html


def _render_shop(read: ShopPageRead, form=None, status: int = 200, errors: list | None = None):
    """The shop page; `form` is the posted answer form to show again with its errors, None for a
    fresh one (a GET: its fields come from the cache, no form is built)."""
    ctx = _shop_context(read)
    shop = read.shop
    known = {k: f.value for k, f in ctx["profile"].facts.items()}
    if form is None:
        groups, fields = None, _answer_fields(ctx["schema"], shop.market, ctx["lang"], known)
    else:
        groups, fields = _form_groups(form, ctx["schema"], shop.market, ctx["lang"], known), None
    return render_template("shop.html", form=form, groups=groups, errors=errors or [], answer_fields=fields,
                           **ctx), status


@bp.get("/shops/<platform_id>")
@login_required
def shop_page(platform_id: str):
    """Show one shop: its picture, what changed since the last call, conflicts, facts and the answer form."""
    read = _shop_read_or_404(platform_id)
    _use_market_language(read.shop)
    return _render_shop(read)


@bp.post("/shops/<platform_id>/answers")
@login_required
def record(platform_id: str):
    """Record the answers from a call through the same operation as the CLI and API; all or nothing."""
    from ..operations.observations import record_answers

    shop = _shop_or_404(platform_id)
    _use_market_language(shop)
    lang = current_lang()
    schema = profile_schema.load_schema()
    form = answers_form_class(schema, shop.market, lang)()
    if not form.validate_on_submit():  # only the CSRF token can fail here; the schema judges answers
        return _render_shop(shop_page_read(get_session(), shop.platform_id, lang=lang), form, 400)
    answers = answers_from_form(form, schema, shop.market)
    if not answers:
        flash(_("Nothing to record: every field was empty."))
        return redirect(url_for("web.shop_page", platform_id=shop.platform_id) + "#record")
    try:
        record_answers(get_session(), shop, answers, actor=g.user.email, source="call",
                       channel="web", lang=lang)
    except ValidationFailed as exc:
        errors = []
        for e in exc.errors:
            key = getattr(e, "field", None) or (e.get("field") if isinstance(e, dict) else None)
            message = getattr(e, "message", None) or (e.get("message") if isinstance(e, dict) else str(e))
            name = field_name(key or "")
            if name in form:
                form[name].errors = list(form[name].errors or []) + [message]
            errors.append({"field": key, "name": name, "message": message})
        return _render_shop(shop_page_read(get_session(), shop.platform_id, lang=lang), form, 422, errors)
    flash(ngettext("Recorded %(num)d answer.", "Recorded %(num)d answers.", len(answers)))
    return redirect(url_for("web.shop_page", platform_id=shop.platform_id))


def _picture_response(platform_id: str, fmt: str) -> Response:
    read = _shop_read_or_404(platform_id)  # the shop, its snapshot and score in one statement
    _use_market_language(read.shop)
    lang = request.args.get("lang") or current_lang()
    layout = request.args.get("layout", "wide")
    if layout not in pictures.LAYOUTS:
        abort(404)
    data = pictures.shop_picture(get_session(), read.shop, fmt=fmt, lang=lang, layout=layout, read=read)
    return picture_response(data, fmt)


def picture_response(data: bytes, fmt: str) -> Response:
    """Serve picture bytes: exact type, nosniff, a CSP that lets nothing run, a deterministic ETag."""
    resp = Response(data, mimetype=pictures.MIME[fmt])
    needs_style = fmt == "svg" and (b"<style" in data or b"style=" in data)
    embeds_font = needs_style and b"@font-face" in data  # Devanagari: the font travels inside, as data:
    resp.headers["Content-Security-Policy"] = (
        "default-src 'none'; " + ("style-src 'unsafe-inline'; " if needs_style else "")
        + ("font-src data:; " if embeds_font else "") + "frame-ancestors 'none'; sandbox")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-cache"
    resp.set_etag(pictures.etag_for(data))
    return resp.make_conditional(request)


def add_picture_routes(blueprint: Blueprint, rule: str, guard: Callable[[Callable[..., Any]], Callable[..., Any]],
                       serve: Callable[..., Response], docs: dict[str, str]) -> dict[str, Callable[..., Any]]:
    """GET `rule`.svg and `rule`.png (endpoints picture_svg and picture_png) behind `guard`, each
    answering serve(<the rule's arguments>, fmt=...); `docs` is each format's docstring, in order.
    The guarded views are returned by format (the API describes them for OpenAPI)."""
    views = {}
    for fmt, doc in docs.items():
        view = guard(_picture_view(serve, fmt, doc))
        blueprint.add_url_rule(f"{rule}.{fmt}", endpoint=f"picture_{fmt}", view_func=view, methods=["GET"])
        views[fmt] = view
    return views


def _picture_view(serve: Callable[..., Response], fmt: str, doc: str) -> Callable[..., Response]:
    def view(**rule_args: str) -> Response:
        return serve(**rule_args, fmt=fmt)

    view.__name__ = view.__qualname__ = f"picture_{fmt}"
    view.__doc__ = doc
    return view


add_picture_routes(bp, "/shops/<platform_id>/picture", login_required, _picture_response, {
    "svg": "Draw the shop's picture as SVG for the shop page (and to open full size).",
    "png": "Draw the shop's picture as PNG, for pasting into e-mail or chat.",
})


@bp.get("/users")
@role_required("manager")
def users():
    """List who can log in and with which role (managers and admins only)."""
    return render_template("users.html", users=list_users(get_session()))
