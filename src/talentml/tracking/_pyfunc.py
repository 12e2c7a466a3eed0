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
``input_warnings`` (JSON text), ``model_name``, ``model_version`` and ``prediction_id`` (a
UUID), and appends it to the prediction log (``TALENTML_PREDICTION_LOG``). Every request
passes talentml's input guard (:class:`talentml.serving.InputGuard`); the signature declares
no input schema, so MLflow passes the request's columns as sent (a sensitive attribute or a
label is refused, not silently dropped) and the guard reads any client's types. A refused or
invalid request raises an ``MlflowException`` with ``INVALID_PARAMETER_VALUE``, which the
scoring server answers with HTTP 400 and the message naming the field.

At load the model's files are checked (:mod:`talentml.serving._integrity`): a pickle, or a
file whose digest differs from the one recorded when it was logged, is refused.
"""

from __future__ import annotations

import logging
import os
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

from talentml.serving.artifact import ARTIFACT_KEY  # noqa: E402  (after MLflow's quiet import)

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
        """Rebuild the scorer from the ``talentml`` artifact (UBJ + JSON), files checked."""
        from talentml.serving import PredictionLog, Scorer, ServedModel

        config = dict(getattr(context, "model_config", None) or {})
        artifact = Path(context.artifacts[ARTIFACT_KEY])
        scorer = Scorer.load(
            artifact,
            model_name=config.get("model_name"),
            model_version=config.get("model_version"),
            expected_digest=_expected_digest(artifact),
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
            if isinstance(k, bool) or k is not None and not isinstance(k, int | float | str):
                raise ValueError(f"parameter k must be an integer, got {k!r}")
            return self.served.predict(
                model_input,
                k=int(k) if k is not None else None,
                direction=params.get("direction"),
                on_missing=params.get("on_missing"),
            )
        except (TypeError, ValueError, KeyError, OverflowError) as err:
            raise MlflowException(
                f"talentml {self.served.model_name} rejected the input: {err}",
                error_code=INVALID_PARAMETER_VALUE,
            ) from err


def _expected_digest(artifact: Path) -> str | None:
    """The digest recorded for this model: the tracking store's tag when it can be asked
    (``MLFLOW_TRACKING_URI``), else the ``MLmodel`` metadata; pickles anywhere refused."""
    from talentml.serving.artifact import (
        DIGEST_TAG,
        ModelIntegrityError,
        find_pickles,
        recorded_digest,
    )

    root = artifact.parents[1]
    if not (root / "MLmodel").is_file():
        return None
    pickles = find_pickles(root)
    if pickles:
        raise ModelIntegrityError(
            f"{root}: refused: the model holds pickle file(s) {pickles[:10]}; talentml models "
            "are UBJ and JSON only, so a pickle was slipped in"
        )
    from mlflow.models import Model

    meta = Model.load(str(root / "MLmodel"))
    info = {"model_id": getattr(meta, "model_id", None)}
    written = (meta.metadata or {}).get(DIGEST_TAG)
    recorded = (
        recorded_digest(info, str(root), warn=written is None)
        if os.environ.get("MLFLOW_TRACKING_URI")
        else None
    )
    if recorded is not None and written is not None and recorded != written:
        raise ModelIntegrityError(
            f"{root}: refused: MLmodel records digest {written[:12]}... but the tracking store "
            f"recorded {recorded[:12]}... when the model was logged"
        )
    return recorded or written


if not __name__.startswith("talentml."):
    # run by MLflow as model code: register the model object
    mlflow.models.set_model(TalentMLPyfunc())
