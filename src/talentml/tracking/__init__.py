"""Tracking: every training run recorded in MLflow, every served prediction logged.

* :func:`train` fits a talentml model inside an MLflow run and logs its parameters, metrics
  with confidence intervals, dataset lineage (``mlflow.data`` with content digests), feature
  catalog, calibration/lift and SHAP plots, bias audit, model card and the model itself.
* The model is an MLflow pyfunc *from code* (:class:`TalentMLPyfunc`): XGBoost boosters as
  UBJ and JSON, never pickle; its ``predict`` answers with score, band, reason codes, model
  name and version and a prediction id, locally or behind ``mlflow models serve``.
* :func:`register` writes the registered version into the model; :func:`set_alias`,
  :func:`promote` (challenger -> champion) and :func:`load_by_alias` manage the registry.
* :func:`log_experiment` records a scripted experiment (``experiments/*.py``) as one run with
  nested runs per unit, its parameters, headline metrics and result files.
* :class:`PredictionLog` appends every served prediction (inputs digest, outputs, version,
  UTC time) to a JSON-lines file a service can ship elsewhere.

>>> from talentml.tracking import train, register, PredictionLog
"""

from __future__ import annotations

from ._card import INTENDED_USES, model_card
from ._experiment import (
    ExperimentRun,
    TrackingError,
    log_experiment,
    metric_name,
    resolve_tracking_uri,
)
from ._log import DEFAULT_LOG_PATH, LOG_ENV, PredictionLog, canonical_digests, read_prediction_log
from ._registry import (
    CHALLENGER,
    CHAMPION,
    input_example,
    load_by_alias,
    log_model,
    model_signature,
    promote,
    register,
    set_alias,
)
from ._train import TrainedRun, table_digest, train


def __getattr__(name: str):
    # the pyfunc class imports mlflow.pyfunc (slow): only when asked for
    if name == "TalentMLPyfunc":
        from ._pyfunc import TalentMLPyfunc

        return TalentMLPyfunc
    raise AttributeError(f"module 'talentml.tracking' has no attribute {name!r}")


__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "DEFAULT_LOG_PATH",
    "ExperimentRun",
    "INTENDED_USES",
    "LOG_ENV",
    "PredictionLog",
    "TalentMLPyfunc",
    "TrackingError",
    "TrainedRun",
    "canonical_digests",
    "input_example",
    "load_by_alias",
    "log_experiment",
    "log_model",
    "metric_name",
    "model_card",
    "model_signature",
    "promote",
    "read_prediction_log",
    "register",
    "resolve_tracking_uri",
    "set_alias",
    "table_digest",
    "train",
]
