"""Serving: score, band, reason codes, model version and a prediction id for every employee.

* :func:`load` a model (a registered ``models:/flight-risk@champion``, a run's model, or a
  local directory) and call ``.predict(df)`` in process: about a millisecond for one
  employee with reasons; every prediction is appended to the prediction log
  (:class:`talentml.tracking.PredictionLog`).
* :func:`predict` does both in one call; :func:`score_batch` scores a whole spine in chunks
  with a progress bar.
* :class:`Scorer` is what a served model holds (saved as UBJ + JSON, never pickle); the
  same scorer answers behind ``mlflow models serve`` (see :mod:`talentml.tracking`).

>>> from talentml.serving import load, predict, score_batch
"""

from __future__ import annotations

from ._batch import score_batch
from ._load import ServedModel, load, predict
from ._scorer import BANDS_DOC, Bands, Scorer

__all__ = ["BANDS_DOC", "Bands", "Scorer", "ServedModel", "load", "predict", "score_batch"]
