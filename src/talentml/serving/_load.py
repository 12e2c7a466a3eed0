"""``load`` and ``predict``: a served talentml model in process, with its prediction log."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import show_progress as _show_progress
from ._integrity import DIGEST_TAG, ModelIntegrityError, find_pickles
from ._predlog import PredictionLog
from ._scorer import Scorer

__all__ = ["ServedModel", "load", "predict"]

logger = logging.getLogger(__name__)

#: The name of the artifact directory a talentml pyfunc model holds its scorer in.
ARTIFACT_KEY = "talentml"
_REGISTERED = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>[\w-]+))/?$")


class ServedModel:
    """A talentml model ready to answer: score, band, reasons, version and prediction id.

    Made by :func:`load`; every prediction is appended to its :class:`PredictionLog`.

    Parameters
    ----------
    scorer : Scorer
        The scorer.
    log : PredictionLog
        Where predictions are recorded.
    model_uri : str, optional
        Where the model came from.

    Attributes
    ----------
    scorer, log, model_uri
        As the parameters.
    model_name, model_version : str
        What every prediction carries.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.serving import Scorer, ServedModel
    >>> from talentml.tracking import PredictionLog
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"tenure_days": rng.uniform(30, 3000, 300)})
    >>> model = FlightRisk(n_estimators=10, random_state=0).fit(X, rng.random(300) < 0.2)
    >>> served = ServedModel(Scorer(model, reference=X), log=PredictionLog(enabled=False))
    >>> served.predict({"employee_id": "E1", "tenure_days": 400.0})["employee_id"].item()
    'E1'
    """

    def __init__(
        self, scorer: Scorer, *, log: PredictionLog | None = None, model_uri: str | None = None
    ) -> None:
        self.scorer = scorer
        self.log = log if log is not None else PredictionLog()
        self.model_uri = model_uri

    @property
    def model_name(self) -> str:
        return self.scorer.model_name

    @property
    def model_version(self) -> str:
        return self.scorer.model_version

    def __repr__(self) -> str:
        return (
            f"ServedModel({self.model_name!r} version {self.model_version}, "
            f"from {self.model_uri!r}, {self.log!r})"
        )

    def predict(
        self,
        X: pd.DataFrame | Mapping[str, Any],
        *,
        k: int | None = None,
        direction: str | None = None,
        on_missing: str | None = None,
    ) -> pd.DataFrame:
        """Predict with reasons for each row of ``X`` and record it in the prediction log.

        The request is checked by the input guard first (:class:`InputGuard`): a sensitive
        attribute or a label is refused, each row gets its ``input_warnings``, and a row on
        imputed evidence is answered ``"low confidence"`` or refused (``on_missing``).

        Parameters
        ----------
        X : pandas.DataFrame, mapping or list of mappings
            Rows with the model's columns (and ``employee_id``), or one employee as a
            mapping ``{column: value}`` (the fastest: no DataFrame is built on the way in),
            or a list of them.
        k : int, optional
            Reasons per row (default: the model's, 3).
        direction : {"up", "down", "both"}, optional
            Which drivers are reasons (default: the model's, ``"up"``).
        on_missing : {"flag", "refuse"}, optional
            Rows on imputed evidence: band ``"low confidence"``, or refuse the request
            (default: the model's, ``"flag"``).

        Returns
        -------
        pandas.DataFrame
            ``employee_id`` (when given), ``score``, ``band``, ``reasons`` (JSON text),
            ``input_warnings`` (JSON text), ``model_name``, ``model_version``,
            ``prediction_id``.

        Raises
        ------
        talentml.exceptions.PurposeLimitationError
            A sensitive attribute or a label in the request.
        InputRefusedError
            Rows on imputed evidence with ``on_missing="refuse"``.

        Examples
        --------
        >>> import json, numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> from talentml.serving import Scorer, ServedModel
        >>> from talentml.tracking import PredictionLog
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 400)})
        >>> y = rng.random(400) < X["days_since_last_activity"] / 150
        >>> served = ServedModel(Scorer(FlightRisk(n_estimators=20, random_state=0).fit(X, y),
        ...                             reference=X), log=PredictionLog(enabled=False))
        >>> out = served.predict({"days_since_last_activity": 200.0}, k=1)
        >>> json.loads(out["reasons"].item())[0]["text"]
        'no learning activity for 200 days (median of all employees: 24)'
        """
        rows = [X] if isinstance(X, Mapping) else X
        out, digests, codes, warned = self.scorer._predict(
            _as_input(rows),
            k=k,
            direction=direction,
            digests=self.log.enabled,
            on_missing=on_missing,
        )
        if self.log.enabled:
            self.log.write(records(out, digests, codes, warned))
        return out


def records(
    out: pd.DataFrame,
    digests: list[str] | None,
    codes: list[list[str]],
    warned: list[list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Prediction-log records of a prediction frame (no inputs, only their digests)."""
    ids = out["employee_id"].tolist() if "employee_id" in out.columns else [None] * len(out)
    warned = warned if warned is not None else [[] for _ in range(len(out))]
    return [
        {
            "prediction_id": pid,
            "model_name": name,
            "model_version": version,
            "employee_id": eid,
            "inputs_sha256": digest,
            "score": float(score),
            "band": band,
            "reasons": code,
            "input_warnings": warning,
        }
        for pid, name, version, eid, digest, score, band, code, warning in zip(
            out["prediction_id"].tolist(),
            out["model_name"].tolist(),
            out["model_version"].tolist(),
            ids,
            digests if digests is not None else [None] * len(out),
            out["score"].tolist(),
            out["band"].tolist(),
            codes,
            warned,
            strict=True,
        )
    ]


@contextlib.contextmanager
def quiet_mlflow_downloads() -> Iterator[None]:
    """MLflow's artifact-download progress bars follow talentml's ``show_progress`` setting
    (``TALENTML_SHOW_PROGRESS``), not MLflow's default of always on."""
    name = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    before = os.environ.get(name)
    os.environ[name] = "true" if _show_progress() else "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _as_input(X: Any) -> pd.DataFrame | list:
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, list | tuple) and all(isinstance(r, Mapping) for r in X):
        return list(X)
    raise TypeError(
        "X must be a pandas DataFrame, a mapping {column: value} for one employee or a list "
        f"of such mappings, got {type(X).__name__}"
    )


def _log_from(
    log: PredictionLog | str | os.PathLike | bool | None,
    sink: Callable[[list[dict[str, Any]]], Any] | None,
) -> PredictionLog:
    if isinstance(log, PredictionLog):
        return log
    if log is None or log is False:
        return PredictionLog(enabled=False, sink=sink)
    if log is True or log == "auto":
        return PredictionLog(sink=sink)
    return PredictionLog(log, sink=sink)


def scorer_dir(model_uri: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """The local scorer directory of a talentml model (downloaded when remote), and the
    ``MLmodel`` metadata (empty for a bare scorer directory).

    A pickle anywhere in an MLflow model directory is refused (:class:`ModelIntegrityError`).
    """
    path = Path(str(model_uri))
    if path.is_dir() and (path / "serving.json").is_file():
        return path, {}
    if path.is_dir() and (path / "MLmodel").is_file():
        local = path
    else:
        import mlflow

        with quiet_mlflow_downloads():
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=str(model_uri)))
    pickles = find_pickles(local)
    if pickles:
        raise ModelIntegrityError(
            f"{model_uri}: refused: the model holds pickle file(s) {pickles[:10]}; talentml "
            "models are UBJ and JSON only, so a pickle was slipped in. Do not serve this copy: "
            "log the model again from its training run."
        )
    from mlflow.models import Model

    meta = Model.load(str(local / "MLmodel"))
    flavor = meta.flavors.get("python_function", {})
    artifacts = flavor.get("artifacts", {})
    if ARTIFACT_KEY not in artifacts:
        raise ValueError(
            f"{model_uri} is not a talentml model: its python_function flavor has no "
            f"{ARTIFACT_KEY!r} artifact (artifacts: {sorted(artifacts)})"
        )
    info = {
        "model_id": getattr(meta, "model_id", None),
        "run_id": meta.run_id,
        "metadata_digest": (meta.metadata or {}).get(DIGEST_TAG),
    }
    return local / artifacts[ARTIFACT_KEY]["path"], info


def recorded_digest(info: Mapping[str, Any], model_uri: str, *, warn: bool = True) -> str | None:
    """The artifact digest the tracking store recorded for a logged model (its tag
    ``talentml.artifact_sha256``); None when the store cannot say."""
    model_id = info.get("model_id")
    if not model_id:
        return None
    try:
        from mlflow import MlflowClient

        logged = MlflowClient().get_logged_model(model_id)
    except Exception as err:  # the store may be unreachable or not hold this model
        logger.warning(
            "%s: the tracking store has no record of logged model %s (%s): its files are "
            "checked against their own manifest only",
            model_uri,
            model_id,
            type(err).__name__,
        )
        return None
    digest = (logged.tags or {}).get(DIGEST_TAG)
    if digest is None and warn:
        logger.warning(
            "%s: logged model %s has no %s tag (logged by an older talentml): its files are "
            "checked against their own manifest only",
            model_uri,
            model_id,
            DIGEST_TAG,
        )
    return digest


def registered_version(model_uri: str) -> tuple[str, str] | None:
    """(name, version) of a ``models:/name/3`` or ``models:/name@alias`` URI, from the
    registry; None for any other URI."""
    match = _REGISTERED.match(str(model_uri))
    if match is None or match["name"].startswith("m-"):
        return None
    from mlflow import MlflowClient

    client = MlflowClient()
    if match["alias"]:
        mv = client.get_model_version_by_alias(match["name"], match["alias"])
    else:
        mv = client.get_model_version(match["name"], match["version"])
    return mv.name, str(mv.version)


def load(
    model_uri: str | os.PathLike,
    *,
    log: PredictionLog | str | os.PathLike | bool | None = "auto",
    sink: Callable[[list[dict[str, Any]]], Any] | None = None,
) -> ServedModel:
    """Load a talentml model for serving in process: ``.predict(df)`` gives score and reasons.

    The model is read from its artifacts (UBJ boosters and JSON, never pickle), so loading
    does not depend on ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``. Its files are checked first:
    a pickle anywhere in the model, a file whose SHA-256 differs from the manifest written
    with it, or a manifest that is not the one recorded in the tracking store when the model
    was logged is refused (:class:`ModelIntegrityError`). For a registered model
    (``models:/name@champion``, ``models:/name/3``) the version predictions carry is read
    from the registry; it is also written into the model at registration, which is where
    ``mlflow models serve`` reads it.

    Parameters
    ----------
    model_uri : str or os.PathLike
        An MLflow model URI (``models:/flight-risk@champion``, ``runs:/<run>/model``,
        ``models:/m-...``), a local MLflow model directory, or a directory written by
        :meth:`Scorer.save`.
    log : PredictionLog, path, bool or None, default "auto"
        Where predictions are recorded: ``"auto"`` (or True) is the ``TALENTML_PREDICTION_LOG``
        environment variable, else ``talentml-predictions.jsonl`` in the working directory; a
        path; a :class:`~talentml.tracking.PredictionLog`; None or False records nothing
        (except to ``sink``).
    sink : callable, optional
        Receives each batch of log records (to ship them elsewhere).

    Returns
    -------
    ServedModel
        With ``.predict(df)``.

    Raises
    ------
    ModelIntegrityError
        A tampered model artifact.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from talentml.models import HighPotential
    >>> from talentml.serving import Scorer, load
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"rating_latest": rng.integers(1, 6, 300).astype(float)})
    >>> model = HighPotential(n_estimators=10, random_state=0).fit(X, X["rating_latest"] > 3)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     served = load(Scorer(model, reference=X, model_name="hipo").save(d), log=None)
    >>> served.predict(X.head(1))[["band", "model_name"]].to_dict("records")
    [{'band': 'high', 'model_name': 'hipo'}]
    """
    local, info = scorer_dir(model_uri)
    name = version = None
    reg = registered_version(str(model_uri)) if info else None
    expected = recorded_digest(info, str(model_uri)) if info else None
    scorer = Scorer.load(local, expected_digest=expected)
    if reg is not None:
        name, version = reg
        if scorer.model_version not in (version, "unregistered") or scorer.model_name != name:
            logger.warning(
                "%s: the model was written as %s version %s but the registry says %s version "
                "%s; predictions carry the registry's",
                model_uri,
                scorer.model_name,
                scorer.model_version,
                name,
                version,
            )
        scorer.model_name, scorer.model_version = name, version
    served = ServedModel(scorer, log=_log_from(log, sink), model_uri=str(model_uri))
    logger.info("loaded %r; prediction log: %s", served, served.log.path)
    return served


def predict(
    model: ServedModel | Scorer | str | os.PathLike,
    X: pd.DataFrame | Mapping[str, Any],
    *,
    k: int | None = None,
    direction: str | None = None,
    log: PredictionLog | str | os.PathLike | bool | None = "auto",
    on_missing: str | None = None,
) -> pd.DataFrame:
    """One-call predict: score, band, reasons, model version and prediction id per row.

    Parameters
    ----------
    model : ServedModel, Scorer, model URI or path
        A loaded model, or where to load one from (see :func:`load`).
    X : pandas.DataFrame or mapping
        Rows with the model's columns, or one employee as a mapping.
    k : int, optional
        Reasons per row.
    direction : {"up", "down", "both"}, optional
        Which drivers are reasons.
    log : PredictionLog, path, bool or None, default "auto"
        The prediction log when ``model`` is a URI, path or Scorer (see :func:`load`); a
        :class:`ServedModel` keeps its own.
    on_missing : {"flag", "refuse"}, optional
        Rows on imputed evidence: band ``"low confidence"``, or refuse (default: the model's).

    Returns
    -------
    pandas.DataFrame
        As :meth:`ServedModel.predict`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import RampUp
    >>> from talentml.serving import Scorer, predict
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"onboarding_completions_first_30d": rng.poisson(3, 300)})
    >>> days = np.exp(4.5 - 0.2 * X.iloc[:, 0] + 0.2 * rng.normal(size=300))
    >>> scorer = Scorer(RampUp(n_estimators=20, random_state=0).fit(X, days), reference=X)
    >>> predict(scorer, X.head(3), log=None)["band"].isin(["fast", "typical", "slow"]).all()
    np.True_
    """
    if isinstance(model, ServedModel):
        served = model
    elif isinstance(model, Scorer):
        served = ServedModel(model, log=_log_from(log, None))
    else:
        served = load(model, log=log)
    return served.predict(X, k=k, direction=direction, on_missing=on_missing)
