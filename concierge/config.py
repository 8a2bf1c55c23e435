"""Configuration from the environment; defaults that work on a laptop with no setup."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

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
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _int_env(name: str, default: int, low: int, high: int) -> int:
    """A whole-number setting from the environment, refused with its name when out of range."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return value


def _float_env(name: str, default: float, low: float, high: float) -> float:
    """A number setting from the environment, refused with its name when out of range."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number from {low} to {high}, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low} to {high}, not {raw!r}")
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
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": ["en", "pl", "tr"],
    }
    cfg.update(overrides or {})
    return cfg
