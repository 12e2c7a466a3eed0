"""Serving: score, band, reason codes, model version and a prediction id for every employee.

* :func:`load` a model (a registered ``models:/flight-risk@champion``, a run's model, or a
  local directory) and call ``.predict(df)`` in process: about a millisecond for one
  employee with reasons; every prediction is appended to the prediction log
  (:class:`PredictionLog`). A tampered artifact is refused at load
  (:class:`ModelIntegrityError`).
* :func:`predict` does both in one call; :func:`score_batch` scores a whole spine in chunks
  with a progress bar.
* Every request passes the input guard (:class:`InputGuard`) against the model's
  :class:`TrainingProfile`: sensitive attributes or labels are refused, each row carries its
  ``input_warnings``, a row on imputed evidence is ``"low confidence"`` or refused.
* :func:`drift` compares served traffic (a prediction log or a feature table) with the
  training profile: PSI and Kolmogorov-Smirnov per feature and for the score.
* :class:`Scorer` is what a served model holds (saved as UBJ + JSON, never pickle); the
  same scorer answers behind ``mlflow models serve`` (see :mod:`talentml.tracking`).

>>> from talentml.serving import load, predict, score_batch
"""

from __future__ import annotations

from ._batch import score_batch
from ._drift import DRIFT_THRESHOLDS, DriftReport, drift
from ._guard import (
    LOW_CONFIDENCE,
    ON_MISSING,
    REFUSED,
    WARNING_KINDS,
    InputGuard,
    InputRefusedError,
)
from ._integrity import ModelIntegrityError
from ._load import ServedModel, load, predict
from ._predlog import (
    DEFAULT_LOG_PATH,
    LOG_ENV,
    PredictionLog,
    canonical_digests,
    read_prediction_log,
)
from ._profile import TrainingProfile
from ._scorer import BANDS_DOC, Bands, Scorer

__all__ = [
    "BANDS_DOC",
    "DEFAULT_LOG_PATH",
    "DRIFT_THRESHOLDS",
    "LOG_ENV",
    "LOW_CONFIDENCE",
    "ON_MISSING",
    "REFUSED",
    "WARNING_KINDS",
    "Bands",
    "DriftReport",
    "InputGuard",
    "InputRefusedError",
    "ModelIntegrityError",
    "PredictionLog",
    "Scorer",
    "ServedModel",
    "TrainingProfile",
    "canonical_digests",
    "drift",
    "load",
    "predict",
    "read_prediction_log",
    "score_batch",
]
