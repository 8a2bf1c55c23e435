"""Market objects (PL, TR, IN) built from YAML so managers change defaults without code.

``markets/_base.yaml`` is deep-merged under each ``markets/<code>.yaml``; an optional
override file (path argument or ``CONCIERGE_MARKET_OVERRIDES``) is merged on top.
Nothing is read at import time; ``get_market`` loads lazily and reloads when the
override file changes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from .conditions import evaluate, validate_condition
from .errors import InvalidValue, UnknownMarket
from .languages import DEFAULT_LANGUAGE, language_or_default, supported_language

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader (~10x faster) when built with it

__all__ = [
    "MARKET_CODES", "MARKETS", "OVERRIDES_ENV", "Market", "TimeWindow", "HolidayRules", "HolidayOverride",
    "CallingRules", "Integration", "ExpectedIntegration", "LegalItem", "FollowUpStep", "FollowUpPolicy",
    "MarketDataError", "get_market", "load_markets", "deep_merge", "CALL_CHANNELS", "market_currency",
    "market_language", "market_languages",
]

#: Codes of the markets shipped with the package, in display order.
MARKET_CODES = ("PL", "TR", "IN")
#: Environment variable naming a YAML/JSON file of manager overrides.
OVERRIDES_ENV = "CONCIERGE_MARKET_OVERRIDES"
_WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_OFFSET_UNITS = ("days", "weeks", "months", "business_days")


class MarketDataError(ValueError):
    """Market data (shipped or overridden) is malformed; the message names the bad path."""


def _label(labels: Mapping[str, str], lang: str | None) -> str:
    """Pick ``lang``'s label, else English, else any, so a missing translation never blanks UI."""
    base = (lang or "en").replace("-", "_").split("_")[0].lower()
    return labels.get(lang or "") or labels.get(base) or labels.get("en") or next(iter(labels.values()), "")


@dataclass(frozen=True)
class TimeWindow:
    """A half-open local time range ``[start, end)`` such as business hours."""

    start: dt.time
    end: dt.time

    def contains(self, t: dt.time) -> bool:
        """Tell whether a wall-clock time falls inside the window."""
        return self.start <= t.replace(tzinfo=None) < self.end


@dataclass(frozen=True)
class HolidayOverride:
    """A manual correction to the library's holidays (bridge day, moon-sighting shift)."""

    date: dt.date
    action: str  # "add" | "remove" | "half_day"
    name: str = ""
    reason: str = ""
    subdivisions: tuple[str, ...] = ()

    def applies_to(self, subdivision: str | None) -> bool:
        """Limit state-specific corrections (India) to their states."""
        return not self.subdivisions or (subdivision or "").upper() in self.subdivisions


@dataclass(frozen=True)
class HolidayRules:
    """Which ``holidays`` calendar to use and how to correct it."""

    country: str
    categories: tuple[str, ...]
    subdivision: str | None
    names_language: str
    overrides: tuple[HolidayOverride, ...] = ()


@dataclass(frozen=True)
class CallingRules:
    """When a merchant may be called, per the market's telemarketing law."""

    law: str
    commercial_requires_consent: bool
    trader_exempt_until_opt_out: bool
    consent_registry: str | None
    promotional_window: TimeWindow | None
    respect_business_hours: bool
    number_series: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    #: How a consultant may reach a merchant who wants to talk (CALL_CHANNELS): "phone" always,
    #: "whatsapp" where merchants commonly use it (a sourced market fact, see the market files).
    channels: tuple[str, ...] = ("phone",)


@dataclass(frozen=True)
class Integration:
    """One provider a shop can connect (payments, shipping, marketplace...)."""

    key: str
    name: str
    category: str
    notes: str = ""


@dataclass(frozen=True)
class ExpectedIntegration:
    """A category a shop in this market is expected to cover, with any of these providers."""

    key: str
    category: str
    any_of: tuple[str, ...]
    label: dict[str, str]
    recommended: tuple[str, ...] = ()
    when: Any = None

    def applies(self, facts: Mapping[str, Any]) -> bool | None:
        """Tell whether the shop needs it (None when the profile lacks the facts)."""
        return evaluate(self.when, facts)

    def satisfied_by(self, connected: Any) -> bool:
        """Tell whether any connected provider key covers this expectation."""
        return any(key in self.any_of for key in connected)

    def label_for(self, lang: str | None) -> str:
        """Return the label in ``lang`` (falling back to English)."""
        return _label(self.label, lang)


@dataclass(frozen=True)
class LegalItem:
    """One legal launch-checklist item with its law reference and applicability rule."""

    key: str
    label: dict[str, str]
    law: str
    when: Any = None
    due: tuple[tuple[dt.date, Any], ...] = ()
    notes: str = ""

    def applies(self, facts: Mapping[str, Any]) -> bool | None:
        """Tell whether the shop must do it (None when the profile lacks the facts)."""
        return evaluate(self.when, facts)

    def due_date(self, facts: Mapping[str, Any]) -> dt.date | None:
        """Return the first deadline whose condition holds; unknown facts pick the earliest safe one."""
        for date, condition in self.due:
            if evaluate(condition, facts) is not False:
                return date
        return None

    def label_for(self, lang: str | None) -> str:
        """Return the label in ``lang`` (falling back to English)."""
        return _label(self.label, lang)


@dataclass(frozen=True)
class FollowUpStep:
    """A default follow-up call: anchor event plus an offset, landing on a business moment."""

    key: str
    anchor: str
    offset: dict[str, int]
    topic: str
    label: dict[str, str] = field(default_factory=dict)
    when: Any = None

    def label_for(self, lang: str | None) -> str:
        """Return the label in ``lang`` (falling back to the key)."""
        return _label(self.label, lang) or self.key


@dataclass(frozen=True)
class FollowUpPolicy:
    """Market-specific follow-up cadence (observations, not law: keep it editable)."""

    consent_required: bool
    skip_half_days: bool
    steps: tuple[FollowUpStep, ...]


def _decision_window(conversion: Mapping[str, Any], where: str) -> int:
    days = conversion.get("decision_window_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 730:
        raise MarketDataError(f"{where}.conversion.decision_window_days must be a whole number of days from 0 to 730, not {days!r}")
    return days


@dataclass(frozen=True)
class Market:
    """Everything the app needs to know about one market, as immutable data."""

    code: str
    name: dict[str, str]
    languages: tuple[str, ...]
    default_language: str
    formatting_locales: dict[str, str]
    currency: str
    timezone: str
    working_days: tuple[int, ...]
    optional_working_days: tuple[int, ...]
    business_hours: TimeWindow
    half_day_category: str | None
    half_day_end: dt.time | None
    phone_region: str
    tax_id_kinds: tuple[str, ...]
    holidays: HolidayRules
    calling: CallingRules
    integrations: dict[str, tuple[Integration, ...]]
    expected_integrations: tuple[ExpectedIntegration, ...]
    legal_checklist: tuple[LegalItem, ...]
    follow_up: FollowUpPolicy
    # days after the trial ends during which a purchase still counts as the trial's conversion;
    # until the window closes the outcome is not final (the model neither learns from nor is tested on it)
    decision_window_days: int = 30
    data: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    _cache: dict[Any, Any] = field(repr=False, compare=False, hash=False, default_factory=dict)

    def __hash__(self) -> int:
        # Dict fields make the generated hash fail; equal markets always share a code.
        return hash(self.code)

    @property
    def tz(self) -> ZoneInfo:
        """The market's IANA zone (zoneinfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)

    def label(self, lang: str | None = "en") -> str:
        """The market's name in ``lang``."""
        return _label(self.name, lang)

    def babel_locale(self, lang: str | None = None) -> str:
        """Map a UI language to the Babel locale for this market (``en`` in India -> ``en_IN``)."""
        lang = lang or self.default_language
        base = lang.replace("-", "_").split("_")[0]
        return self.formatting_locales.get(lang) or self.formatting_locales.get(base) or lang

    def category_label(self, category: str, lang: str | None = "en") -> str:
        """Label of an integration category ("payments") in ``lang`` for the picture."""
        labels = (self.data.get("integration_categories") or {}).get(category)
        return _label(labels, lang) if labels else category

    def integration(self, key: str) -> Integration:
        """Look up a provider in the catalogue by key."""
        for items in self.integrations.values():
            for item in items:
                if item.key == key:
                    return item
        raise KeyError(key)

    def expected_for(self, facts: Mapping[str, Any] | None = None) -> list[tuple[ExpectedIntegration, bool | None]]:
        """Expected integrations for a shop, with applicability (None = facts missing); drops the inapplicable."""
        facts = facts or {}
        return [(e, a) for e in self.expected_integrations if (a := e.applies(facts)) is not False]

    def checklist_for(self, facts: Mapping[str, Any] | None = None) -> list[tuple[LegalItem, bool | None]]:
        """Legal items for a shop, with applicability (None = facts missing); drops the inapplicable."""
        facts = facts or {}
        return [(item, a) for item in self.legal_checklist if (a := item.applies(facts)) is not False]


# --------------------------------------------------------------------------- loading


def deep_merge(base: Any, override: Any) -> Any:
    """Merge ``override`` into ``base``: mappings by key, keyed lists by item key, else replace."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    if _is_keyed_list(base) and _is_keyed_list(override):
        merged_items = {item["key"]: item for item in base}
        for item in override:
            if item.get("remove"):
                merged_items.pop(item["key"], None)
            elif item["key"] in merged_items:
                merged_items[item["key"]] = deep_merge(merged_items[item["key"]], item)
            else:
                merged_items[item["key"]] = item
        return list(merged_items.values())
    return override


def _is_keyed_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, Mapping) and "key" in i for i in value)


def _time(value: Any, where: str) -> dt.time:
    """Parse ``"09:00"``; also accept YAML 1.1's sexagesimal int for an unquoted ``10:00``."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int):
        hours, minutes = divmod(value, 60)
        return dt.time(hours, minutes)
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise MarketDataError(f"{where}: expected HH:MM, got {value!r}") from exc


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise MarketDataError(f"{where}: expected YYYY-MM-DD, got {value!r}") from exc


_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(value: Any, where: str) -> int:
    """Accept ``mon``, ``monday`` or ISO number ``1`` so hand-edited overrides just work."""
    if isinstance(value, int) and 1 <= value <= 7:
        return value
    name = str(value).strip().lower()
    if name in _WEEKDAYS:
        return _WEEKDAYS[name]
    if name in _FULL_DAYS:
        return _FULL_DAYS.index(name) + 1
    raise MarketDataError(f"{where}: unknown weekday {value!r}")


def _days(values: Any, where: str) -> tuple[int, ...]:
    return tuple(sorted({_day(v, where) for v in values or ()}))


#: The channels a consultant can call a merchant on (the market's ``calling.channels`` pick from these).
CALL_CHANNELS = ("phone", "whatsapp")


def _channels(value: Any, where: str) -> tuple[str, ...]:
    channels = tuple(value or ("phone",))
    unknown = [c for c in channels if c not in CALL_CHANNELS]
    if unknown or "phone" not in channels or len(set(channels)) != len(channels):
        raise MarketDataError(f"{where}: must list 'phone' and may add {CALL_CHANNELS[1:]}, once each; got {list(channels)}")
    return tuple(c for c in CALL_CHANNELS if c in channels)


def _window(value: Any, where: str) -> TimeWindow | None:
    if value is None:
        return None
    window = TimeWindow(_time(value["start"], f"{where}.start"), _time(value["end"], f"{where}.end"))
    if window.start >= window.end:
        raise MarketDataError(f"{where}: start must be before end")
    return window


def _condition(value: Any, where: str) -> Any:
    try:
        validate_condition(value, where)
    except ValueError as exc:
        raise MarketDataError(str(exc)) from exc
    return value


def _offset(value: Mapping[str, Any], where: str) -> dict[str, int]:
    unknown = set(value) - set(_OFFSET_UNITS)
    if unknown or not value:
        raise MarketDataError(f"{where}: offset units must be among {_OFFSET_UNITS}, got {sorted(value)}")
    return {k: int(v) for k, v in value.items()}


def build_market(data: Mapping[str, Any]) -> Market:
    """Turn merged YAML data into a validated ``Market``; raise MarketDataError on bad data."""
    code = str(data.get("code", "?")).upper()
    where = f"market {code}"
    try:
        ZoneInfo(data["timezone"])
        hol = data["holidays"]
        half = data.get("half_days") or {}
        calling = data.get("calling") or {}
        return Market(
            code=code,
            name=dict(data["name"]),
            languages=tuple(data["languages"]),
            default_language=data["default_language"],
            formatting_locales=dict(data.get("formatting_locales") or {}),
            currency=data["currency"],
            timezone=data["timezone"],
            working_days=_days(data["working_days"], f"{where}.working_days"),
            optional_working_days=_days(data.get("optional_working_days"), f"{where}.optional_working_days"),
            business_hours=_window(data["business_hours"], f"{where}.business_hours"),
            half_day_category=half.get("category"),
            half_day_end=_time(half["end"], f"{where}.half_days.end") if half.get("end") is not None else None,
            phone_region=data["phone_region"],
            tax_id_kinds=tuple(data["tax_id_kinds"]),
            holidays=HolidayRules(
                country=hol["country"],
                categories=tuple(hol.get("categories") or ("public",)),
                subdivision=hol.get("subdivision"),
                names_language=hol.get("names_language") or "en_US",
                overrides=tuple(
                    HolidayOverride(
                        date=_date(o["date"], f"{where}.holidays.overrides[{i}].date"),
                        action=_choice(o.get("action", "add"), ("add", "remove", "half_day"), f"{where}.holidays.overrides[{i}].action"),
                        name=o.get("name", ""),
                        reason=o.get("reason", ""),
                        subdivisions=tuple(s.upper() for s in o.get("subdivisions") or ()),
                    )
                    for i, o in enumerate(hol.get("overrides") or ())
                ),
            ),
            calling=CallingRules(
                law=calling.get("law", ""),
                commercial_requires_consent=bool(calling.get("commercial_requires_consent")),
                trader_exempt_until_opt_out=bool(calling.get("trader_exempt_until_opt_out")),
                consent_registry=calling.get("consent_registry"),
                promotional_window=_window(calling.get("promotional_window"), f"{where}.calling.promotional_window"),
                respect_business_hours=bool(calling.get("respect_business_hours", True)),
                number_series=dict(calling.get("number_series") or {}),
                notes=calling.get("notes", ""),
                channels=_channels(calling.get("channels"), f"{where}.calling.channels"),
            ),
            integrations={
                category: tuple(Integration(i["key"], i["name"], category, i.get("notes", "")) for i in items or ())
                for category, items in (data.get("integrations") or {}).items()
            },
            expected_integrations=tuple(
                ExpectedIntegration(
                    key=e["key"],
                    category=e["category"],
                    any_of=tuple(e["any_of"]),
                    label=dict(e.get("label") or {"en": e["key"]}),
                    recommended=tuple(e.get("recommended") or ()),
                    when=_condition(e.get("when"), f"{where}.expected_integrations.{e['key']}.when"),
                )
                for e in data.get("expected_integrations") or ()
            ),
            legal_checklist=tuple(
                LegalItem(
                    key=item["key"],
                    label=dict(item["label"]),
                    law=item.get("law", ""),
                    when=_condition(item.get("when"), f"{where}.legal_checklist.{item['key']}.when"),
                    due=tuple(
                        (_date(d["date"], f"{where}.legal_checklist.{item['key']}.due"), _condition(d.get("when"), f"{where}.legal_checklist.{item['key']}.due.when"))
                        for d in item.get("due") or ()
                    ),
                    notes=item.get("notes", ""),
                )
                for item in data.get("legal_checklist") or ()
            ),
            decision_window_days=_decision_window(data.get("conversion") or {}, where),
            follow_up=FollowUpPolicy(
                consent_required=bool(data["follow_up"].get("consent_required")),
                skip_half_days=bool(data["follow_up"].get("skip_half_days", True)),
                steps=tuple(
                    FollowUpStep(
                        key=s["key"],
                        anchor=s["anchor"],
                        offset=_offset(s["offset"], f"{where}.follow_up.{s['key']}.offset"),
                        topic=s.get("topic", s["key"]),
                        label=dict(s.get("label") or {}),
                        when=_condition(s.get("when"), f"{where}.follow_up.{s['key']}.when"),
                    )
                    for s in data["follow_up"].get("steps") or ()
                ),
            ),
            data=dict(data),
        )
    except MarketDataError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MarketDataError(f"{where}: invalid or missing data ({type(exc).__name__}: {exc})") from exc


def _choice(value: str, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise MarketDataError(f"{where}: {value!r} is not one of {allowed}")
    return value


def _read_package_yaml(name: str) -> dict[str, Any]:
    text = resources.files("locales.markets").joinpath(name).read_text("utf-8")
    return yaml.load(text, Loader=_FAST_LOADER) or {}


def read_overrides(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a manager override file (YAML or JSON): ``{markets: {TR: {...}}}`` or ``{TR: {...}}``."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise MarketDataError(f"{path}: cannot read market overrides (set by argument or ${OVERRIDES_ENV}): {exc}") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise MarketDataError(f"{path}: cannot parse overrides ({exc})") from exc
    data = data or {}
    if not isinstance(data, Mapping):
        raise MarketDataError(f"{path}: expected a mapping of market codes")
    data = data.get("markets", data)
    unknown = {str(k).upper() for k in data} - set(MARKET_CODES)
    if unknown:
        raise MarketDataError(f"{path}: unknown market code(s) {sorted(unknown)}")
    return {str(k).upper(): v for k, v in data.items()}


def load_markets(overrides_path: str | os.PathLike[str] | None = None) -> dict[str, Market]:
    """Build all markets from the shipped YAML plus overrides (argument, else ``$CONCIERGE_MARKET_OVERRIDES``)."""
    if overrides_path is None:
        overrides_path = os.environ.get(OVERRIDES_ENV) or None
    overrides = read_overrides(overrides_path) if overrides_path else {}
    base = _read_package_yaml("_base.yaml")
    markets = {}
    for code in MARKET_CODES:
        data = deep_merge(base, _read_package_yaml(f"{code.lower()}.yaml"))
        if code in overrides:
            data = deep_merge(data, overrides[code])
        markets[code] = build_market(data)
    return markets


_LOADED: dict[tuple[str | None, float | None], dict[str, Market]] = {}


def _current_markets() -> dict[str, Market]:
    """Return markets for the current override file, reloading when its path or mtime changes."""
    path = os.environ.get(OVERRIDES_ENV) or None
    mtime = os.stat(path).st_mtime if path and os.path.exists(path) else None
    key = (path, mtime)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load_markets(path)
    return _LOADED[key]


def get_market(code: str | Market) -> Market:
    """Return the market for ``code`` (case-insensitive); raise UnknownMarket (InvalidValue and KeyError)."""
    if isinstance(code, Market):
        return code
    key = str(code or "").strip().upper()
    markets = _current_markets()
    if key not in markets:
        raise UnknownMarket("market.unknown", {"market": code, "expected": ", ".join(MARKET_CODES)})
    return markets[key]


def _known(code: str | Market | None) -> bool:
    return isinstance(code, Market) or str(code or "").strip().upper() in MARKET_CODES


def market_currency(code: str | Market | None) -> str | None:
    """The currency of a market we serve ("PL" -> "PLN"), from its market data; None for none or an unknown one."""
    return get_market(code).currency if _known(code) else None  # type: ignore[arg-type]


def market_language(code: str | Market | None) -> str:
    """The interface language for a market's merchants: its default language if we speak it (IN's
    ``en_IN`` -> ``en``), else the default language; the default too for none or an unknown market."""
    return language_or_default(get_market(code).default_language) if _known(code) else DEFAULT_LANGUAGE  # type: ignore[arg-type]


def market_languages(code: str | Market | None) -> tuple[str, ...]:
    """The interface languages a market's merchants may choose, the market's default first: the
    languages of its market file that we speak (IN's ``[en_IN, hi]`` -> ``("en", "hi")``, PL -> ``("pl",)``);
    the default language alone for none or an unknown market."""
    if not _known(code):
        return (DEFAULT_LANGUAGE,)
    market = get_market(code)  # type: ignore[arg-type]
    spoken = (supported_language(tag) for tag in (market.default_language, *market.languages))
    return tuple(dict.fromkeys(lang for lang in spoken if lang)) or (DEFAULT_LANGUAGE,)


class _LazyMarkets(Mapping[str, Market]):
    """``MARKETS["PL"]`` without reading any file at import time."""

    def __getitem__(self, code: str) -> Market:
        try:
            return get_market(code)
        except InvalidValue as exc:
            raise KeyError(code) from exc

    def __iter__(self) -> Iterator[str]:
        return iter(MARKET_CODES)

    def __len__(self) -> int:
        return len(MARKET_CODES)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.upper() in MARKET_CODES

    def __repr__(self) -> str:
        return f"MARKETS{MARKET_CODES}"


#: Read-only mapping of market code -> Market, loaded on first access.
MARKETS: Mapping[str, Market] = _LazyMarkets()
