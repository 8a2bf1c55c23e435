"""Configuration from the environment; defaults that work on a laptop with no setup."""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locales import LANGUAGES

#: Model health: the expected calibration error above which the dashboard warns that the
#: active model's probabilities have drifted from what happens (CONCIERGE_CALIBRATION_DRIFT_ECE).
CALIBRATION_DRIFT_ECE = 0.05


def default_instance_path() -> Path:
    return Path(os.environ.get("CONCIERGE_INSTANCE_PATH") or Path.cwd() / "instance")


def database_url(instance_path: Path | None = None) -> str:
    """CONCIERGE_DATABASE_URL, else an SQLite file under the instance folder."""
    url = os.environ.get("CONCIERGE_DATABASE_URL")
    if url:
        return url
    folder = instance_path or default_instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'concierge.sqlite'}"


def secret_key(instance_path: Path) -> str:
    """CONCIERGE_SECRET_KEY, else a random key kept in the instance folder (never in git)."""
    key = os.environ.get("CONCIERGE_SECRET_KEY")
    if key:
        return key
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "secret_key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


def write_private(path: Path, text: str) -> None:
    """Create `path` holding `text`, readable by its owner only (0600) from its first byte.

    The text goes to a private temporary file that is then linked into place, so nobody
    ever sees the file half-written or with wider permissions, and when two processes
    start at once the first one's file wins and the other's is discarded.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError:  # a file system without hard links: create it in place, still 0600
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
    finally:
        tmp.unlink(missing_ok=True)


def _int_env(name: str, default: int, low: int, high: int) -> int:
    """A whole-number setting from the environment, refused with its name when out of range."""
    return _number_env(name, default, low, high, int, "a whole number")


def _float_env(name: str, default: float, low: float, high: float) -> float:
    """A number setting from the environment, refused with its name when out of range."""
    return _number_env(name, default, low, high, float, "a number")


def _number_env(name: str, default: Any, low: Any, high: Any, parse: Callable[[str], Any], what: str) -> Any:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ValueError(f"{name} must be {what} from {low} to {high}, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be {what} from {low} to {high}, not {raw!r}")
    return value


def calibration_drift_ece() -> float:
    """The ECE above which model health warns: CONCIERGE_CALIBRATION_DRIFT_ECE, else CALIBRATION_DRIFT_ECE."""
    return _float_env("CONCIERGE_CALIBRATION_DRIFT_ECE", CALIBRATION_DRIFT_ECE, 0.0, 1.0)


#: How many calls one consultant can make in a working day: the capacity line of the queue
#: report's calls-due-per-day table (CONCIERGE_CALLS_PER_CONSULTANT_DAY overrides it).
CALLS_PER_CONSULTANT_DAY = 40


def calls_per_consultant_day() -> int:
    """CONCIERGE_CALLS_PER_CONSULTANT_DAY, else `CALLS_PER_CONSULTANT_DAY` (what the CLI and scripts read)."""
    return _int_env("CONCIERGE_CALLS_PER_CONSULTANT_DAY", CALLS_PER_CONSULTANT_DAY, 1, 1000)


def report_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """The app's settings the dashboard's reports take (`operations.reports.build_report(settings=...)`)."""
    return {"drift_ece": cfg.get("CALIBRATION_DRIFT_ECE"), "calls_per_consultant_day": cfg.get("CALLS_PER_CONSULTANT_DAY")}


#: Rate limits (see concierge/limits.py), in Flask-Limiter's notation ("10 per minute;50 per hour"):
#: each can be replaced by its environment variable, CONCIERGE_RATE_LIMIT_<NAME>.
RATE_LIMITS = {
    "LOGIN": "10 per minute;50 per hour",          # POST /login, per client address
    "API": "6000 per minute",                      # API requests, per token (the events webhook too)
    "API_FAILED": "20 per minute;100 per hour",    # failed API authentications (401), per client address
    "SURVEY": "60 per minute;600 per hour",        # merchant survey pages (/s/...), per client address
}


def rate_limit(name: str) -> str:
    """CONCIERGE_RATE_LIMIT_<name>, else RATE_LIMITS[name]; refused with its name when it does not parse."""
    env = f"CONCIERGE_RATE_LIMIT_{name}"
    raw = (os.environ.get(env) or "").strip()
    if not raw:
        return RATE_LIMITS[name]
    from limits import parse_many

    try:
        if parse_many(raw):
            return raw
    except ValueError:
        pass
    raise ValueError(f"{env} must be limits such as '10 per minute;50 per hour', not {raw!r}")


def rate_limit_settings(overrides: dict[str, Any]) -> dict[str, Any]:
    """The rate-limit settings: on unless CONCIERGE_RATE_LIMITS=0, and off under TESTING unless the
    test turns them on (RATE_LIMITS_ENABLED=True), so tests do not share budgets by accident."""
    flag = (os.environ.get("CONCIERGE_RATE_LIMITS") or "1").strip().lower()
    if flag not in ("0", "1", "on", "off", "true", "false"):
        raise ValueError(f"CONCIERGE_RATE_LIMITS must be 1 (on) or 0 (off), not {flag!r}")
    return {
        "RATE_LIMITS_ENABLED": flag in ("1", "on", "true") and not overrides.get("TESTING"),
        **{f"RATE_LIMIT_{name}": rate_limit(name) for name in RATE_LIMITS},
        # where the budgets are kept: Redis shared by every worker, else this process's memory
        "REDIS_URL": os.environ.get("CONCIERGE_REDIS_URL") or None,
        "RATE_LIMIT_KEY_PREFIX": os.environ.get("CONCIERGE_RATE_LIMIT_KEY_PREFIX") or "concierge",
        # reverse proxies in front of the app whose X-Forwarded-* headers are trusted (ProxyFix)
        "TRUSTED_PROXIES": _int_env("CONCIERGE_TRUSTED_PROXIES", 0, 0, 10),
    }


def events_queued() -> bool:
    """CONCIERGE_EVENTS_QUEUED: the events webhook stores and acknowledges (202), a worker applies
    (`concierge events worker`); off by default, on under `concierge serve --production`."""
    flag = (os.environ.get("CONCIERGE_EVENTS_QUEUED") or "0").strip().lower()
    if flag not in ("0", "1", "on", "off", "true", "false"):
        raise ValueError(f"CONCIERGE_EVENTS_QUEUED must be 1 (on) or 0 (off), not {flag!r}")
    return flag in ("1", "on", "true")


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    instance = Path((overrides or {}).get("INSTANCE_PATH") or default_instance_path())
    cfg: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": (overrides or {}).get("DATABASE_URL") or database_url(instance),
        "SECRET_KEY": (overrides or {}).get("SECRET_KEY") or secret_key(instance),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # merchant survey links (/s/<token>): lifetime of a new link, and the address put in it
        "SURVEY_LINK_MAX_AGE_DAYS": int(os.environ.get("CONCIERGE_SURVEY_LINK_MAX_AGE_DAYS") or 14),
        "PUBLIC_BASE_URL": os.environ.get("CONCIERGE_PUBLIC_BASE_URL") or None,
        # the workday: how long a claimed call is held, and how many a consultant may hold at once
        "CLAIM_LEASE_MINUTES": _int_env("CONCIERGE_CLAIM_LEASE_MINUTES", 20, 1, 480),
        "MAX_OPEN_CLAIMS": _int_env("CONCIERGE_MAX_OPEN_CLAIMS", 3, 1, 50),
        # the queue report: calls a consultant makes in a day, against the calls due per day
        "CALLS_PER_CONSULTANT_DAY": calls_per_consultant_day(),
        # model health: warn when the active model's calibration error (ECE) passes this
        "CALIBRATION_DRIFT_ECE": calibration_drift_ece(),
        # the events webhook: store and acknowledge, applied by `concierge events worker`
        "EVENTS_QUEUED": events_queued(),
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": list(LANGUAGES),
        # rate limits on login, API tokens and survey links (concierge/limits.py)
        **rate_limit_settings(overrides or {}),
    }
    cfg.update(overrides or {})
    return cfg
