"""The talentml model as an MLflow pyfunc, logged from code (MLflow 3 models-from-code).

This file is both a module of talentml and the *model code* MLflow stores with every talentml
model: :func:`log_model` passes its path as ``python_model``, and MLflow runs it at load time,
where the last line registers a :class:`TalentMLPyfunc` with ``mlflow.models.set_model``.

The trained weights are not in the code and never pickled: the ``talentml`` artifact is a
:class:`talentml.serving.Scorer` directory (XGBoost boosters as UBJ, ``model.json``,
``serving.json`` with the model name, version and bands, ``catalog.json``), read back by
``load_context``. So the model loads where ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false``.

``predict`` returns one row per input row: ``employee_id`` (when given), ``score``, ``band``,
``reasons`` (JSON text: a list of ``{"rank", "direction", "code", "feature", "text",
"contribution"}``, text because MLflow signatures and the REST server carry it as is),
``model_name``, ``model_version`` and ``prediction_id`` (a UUID), and appends it to the
prediction log (``TALENTML_PREDICTION_LOG``). Invalid input raises an ``MlflowException``
with ``INVALID_PARAMETER_VALUE``, which the scoring server answers with HTTP 400.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

with warnings.catch_warnings():
    # importing mlflow.pyfunc warns about type hints of MLflow's own agent classes
    warnings.filterwarnings("ignore", message=".*Any type hint is inferred as AnyType")
    from mlflow.pyfunc import PythonModel

logger = logging.getLogger("talentml.tracking._pyfunc")

ARTIFACT_KEY = "talentml"
#: This file: the model code MLflow stores with each talentml model.
MODEL_CODE = Path(__file__).resolve()


class TalentMLPyfunc(PythonModel):
    """An MLflow ``PythonModel`` answering with score, band, reasons, version and id.

    Examples
    --------
    >>> from talentml.tracking import TalentMLPyfunc
    >>> TalentMLPyfunc().served is None
    True
    """

    def __init__(self) -> None:
        self.served = None

    def load_context(self, context: Any) -> None:
        """Rebuild the scorer from the ``talentml`` artifact (UBJ + JSON)."""
        from talentml.serving._load import ServedModel
        from talentml.serving._scorer import Scorer
        from talentml.tracking._log import PredictionLog

        config = dict(getattr(context, "model_config", None) or {})
        scorer = Scorer.load(
            context.artifacts[ARTIFACT_KEY],
            model_name=config.get("model_name"),
            model_version=config.get("model_version"),
        )
        self.served = ServedModel(scorer, log=PredictionLog())
        logger.info("talentml pyfunc loaded: %r", self.served)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Score, band, reasons, model name and version and prediction id per row."""
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        params = dict(params or {})
        if not isinstance(model_input, pd.DataFrame):
            try:
                model_input = pd.DataFrame(model_input)
            except (TypeError, ValueError) as err:
                raise MlflowException(
                    f"talentml model input must be a table of employees: {err}",
                    error_code=INVALID_PARAMETER_VALUE,
                ) from err
        try:
            k = params.get("k")
            return self.served.predict(
                model_input,
                k=int(k) if k is not None else None,
                direction=params.get("direction"),
            )
        except (TypeError, ValueError, KeyError) as err:
            raise MlflowException(
                f"talentml {self.served.model_name} rejected the input: {err}",
                error_code=INVALID_PARAMETER_VALUE,
            ) from err


if not __name__.startswith("talentml."):
    # run by MLflow as model code: register the model object
    mlflow.models.set_model(TalentMLPyfunc())
