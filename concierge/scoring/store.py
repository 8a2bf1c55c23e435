"""Model versions in the database: skops artifacts (never pickle), one active version.

Loading trusts only the types listed in TRUSTED: a stored artifact that names anything
else is refused instead of being executed.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import skops.io as sio
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..models import ModelVersion
from .model import Bundle

# Every type a bundle may contain beyond skops' defaults (numpy, builtins): exactly these.
TRUSTED = [
    "concierge.scoring.estimators.ConversionModel",
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


def activate_version(session: Session, version: str) -> ModelVersion:
    """Make one version the active one (exactly one is active)."""
    row = session.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if row is None:
        raise NotFound(f"no model version {version!r}")
    session.execute(update(ModelVersion).where(ModelVersion.id != row.id).values(active=False))
    row.active = True
    session.flush()
    return row


def active_version(session: Session) -> ModelVersion:
    row = session.scalar(select(ModelVersion).where(ModelVersion.active.is_(True)).order_by(ModelVersion.id.desc()))
    if row is None:
        raise NotFound("no active model: run `concierge model train` first")
    return row


_CACHE: dict[tuple[int, str], Bundle] = {}


def load_bundle(row: ModelVersion) -> Bundle:
    """The version's bundle, loaded once per process."""
    key = (row.id, row.version)
    if key not in _CACHE:
        _remember(key, loads(row.artifact))
    return _CACHE[key]


def _remember(key: tuple[int, str], bundle: Bundle) -> Bundle:
    if len(_CACHE) > 4:
        _CACHE.clear()
    _CACHE[key] = bundle
    return bundle


@dataclass(frozen=True)
class ActiveModel:
    """The active version's id and name, and its bundle (loaded once per process)."""

    id: int
    version: str
    bundle: Bundle


def active_model(session: Session) -> ActiveModel:
    """The active model, cheaply: one small query, and the artifact read only when this process
    has not loaded that version yet (the cache is keyed on the version id, so activating
    another version, in this process or another, is seen at the next call)."""
    ref = session.execute(select(ModelVersion.id, ModelVersion.version).where(ModelVersion.active.is_(True))
                          .order_by(ModelVersion.id.desc()).limit(1)).first()
    if ref is None:
        raise NotFound("no active model: run `concierge model train` first")
    key = (ref[0], ref[1])
    bundle = _CACHE.get(key)
    if bundle is None:
        for old in [k for k in _CACHE if k != key]:  # a new active version: forget the ones before
            del _CACHE[old]
        data = session.scalar(select(ModelVersion.artifact).where(ModelVersion.id == ref[0]))
        bundle = _remember(key, loads(data))
    return ActiveModel(ref[0], ref[1], bundle)


def list_versions(session: Session) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())))
