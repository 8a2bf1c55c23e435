"""Model versions in the database: skops artifacts (never pickle), one active version.

Loading trusts only the types listed in TRUSTED: a stored artifact that names anything
else is refused instead of being executed.
"""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import skops.io as sio
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...errors import NotFound
from ...i18n import translations
from ...messages import N_, translate
from ...models import ModelVersion
from ...scoring.model import Bundle

# Every type a bundle may contain beyond skops' defaults (numpy, builtins): exactly these.
TRUSTED = [
    "concierge.scoring.estimators.ConversionModel",
    "concierge.scoring.estimators.BoostedBag",
    "concierge.scoring.estimators.FallbackModel",
    "concierge.scoring.estimators.UpliftModel",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss._loss.CyHalfSquaredError",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.utils._bunch.Bunch",
    "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.calibration._TemperatureScaling",
    "numpy.dtype",
    "builtins.slice",
    "builtins.frozenset",
]


class UntrustedArtifact(ValueError):
    """A stored model names a type we do not trust; it is not loaded."""


def dumps(bundle: Bundle) -> bytes:
    """The bundle as skops bytes; refuses to write a type that could not be loaded back."""
    data = sio.dumps(bundle.to_state())
    unknown = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED))
    if unknown:
        raise UntrustedArtifact(f"the model contains types not in store.TRUSTED: {', '.join(unknown)}")
    return data


def loads(data: bytes) -> Bundle:
    """Load with the explicit trusted list only (never pickle, never trust=True)."""
    unknown = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED))
    if unknown:
        raise UntrustedArtifact(f"refusing to load a model with untrusted types: {', '.join(unknown)}")
    return Bundle.from_state(sio.loads(data, trusted=TRUSTED))


def new_version_name(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.strftime("m%Y%m%d-%H%M%S-%f")


def save_version(session: Session, bundle: Bundle, card: dict[str, Any], *, version: str,
                 activate: bool = True) -> ModelVersion:
    """Store a trained bundle as a new version (and make it the active one)."""
    row = ModelVersion(version=version, kind=bundle.kind, trained_rows=bundle.trained_rows,
                       artifact=dumps(bundle), card=card, active=False)
    session.add(row)
    session.flush()
    if activate:
        activate_version(session, version)
    return row


def activate_version(session: Session, version: str, *, lang: str | None = "en") -> ModelVersion:
    """Make one version the active one (exactly one is active); NotFound in `lang` when it is not stored."""
    row = session.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if row is None:
        raise NotFound(translations(lang).gettext("no model version %(version)s") % {"version": repr(version)})
    session.execute(update(ModelVersion).where(ModelVersion.id != row.id).values(active=False))
    row.active = True
    session.flush()
    forget_cached(keep_id=row.id)  # free the old bundles now; other processes see the new id at their next call
    return row


def no_active_model(lang: str | None = "en") -> NotFound:
    """The error of everything that needs the active model and finds none, in `lang`."""
    return NotFound(translate(N_("no active model: run `concierge model train` first"), lang))


def active_version(session: Session, *, lang: str | None = "en") -> ModelVersion:
    row = session.scalar(select(ModelVersion).where(ModelVersion.active.is_(True)).order_by(ModelVersion.id.desc()))
    if row is None:
        raise no_active_model(lang)
    return row


# The deserialised bundles of this process, keyed by (version id, name). Scoring asks for the
# active model with a query of the id and name only; the artifact (megabytes) is read and
# deserialised only when that key is not here yet: once per process and active version.
_CACHE: dict[tuple[int, str], Bundle] = {}
_LOCK = threading.Lock()  # gthread workers: one load per version, not one per thread


def load_bundle(row: ModelVersion) -> Bundle:
    """The version's bundle, loaded once per process."""
    key = (row.id, row.version)
    bundle = _CACHE.get(key)
    if bundle is None:
        with _LOCK:
            bundle = _CACHE.get(key)
            if bundle is None:
                bundle = _remember(key, loads(row.artifact))
    return bundle


def _remember(key: tuple[int, str], bundle: Bundle) -> Bundle:
    if len(_CACHE) > 4:
        _CACHE.clear()
    _CACHE[key] = bundle
    return bundle


def forget_cached(keep_id: int | None = None) -> None:
    """Drop this process's loaded bundles (all but version `keep_id`): another version is active."""
    with _LOCK:
        for key in [k for k in _CACHE if k[0] != keep_id]:
            del _CACHE[key]


def cached_versions() -> list[tuple[int, str]]:
    """The (id, name) of the versions this process holds loaded (for tests and diagnostics)."""
    return list(_CACHE)


@dataclass(frozen=True)
class ActiveModel:
    """The active version's id and name, and its bundle (loaded once per process)."""

    id: int
    version: str
    bundle: Bundle


def active_ref(session: Session) -> tuple[int, str] | None:
    """The active version's (id, name): a one-row query that never touches the artifact column."""
    ref = session.execute(select(ModelVersion.id, ModelVersion.version).where(ModelVersion.active.is_(True))
                          .order_by(ModelVersion.id.desc()).limit(1)).first()
    return None if ref is None else (ref[0], ref[1])


def active_model(session: Session, *, lang: str | None = "en") -> ActiveModel:
    """The active model, cheaply: one small query, and the artifact read only when this process
    has not loaded that version yet (the cache is keyed on the version id, so activating
    another version, in this process or another, is seen at the next call). Without one:
    NotFound, its message in `lang`."""
    key = active_ref(session)
    if key is None:
        raise no_active_model(lang)
    bundle = _CACHE.get(key)
    if bundle is None:
        with _LOCK:
            bundle = _CACHE.get(key)
            if bundle is None:
                for old in [k for k in _CACHE if k != key]:  # a new active version: forget the ones before
                    del _CACHE[old]
                data = session.scalar(select(ModelVersion.artifact).where(ModelVersion.id == key[0]))
                bundle = _remember(key, loads(data))
    return ActiveModel(key[0], key[1], bundle)


def list_versions(session: Session) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())))
