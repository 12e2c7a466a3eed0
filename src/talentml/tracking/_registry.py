"""Logging a talentml model as a pyfunc from code, registering it, aliases.

The version a prediction carries
--------------------------------
A served model must say which registered version answered. MLflow assigns the version number
when the model is registered, after its files are written, and ``mlflow models serve`` gives
the model no way to ask. So talentml *writes the version into the model at registration*:
:func:`register` reserves the next version number of the registered model, logs the model
with that number in its ``serving.json`` and registers it, then checks that the registry gave
that number (if another client registered a version in between, the new version is deleted and
the registration retried with the next number). :func:`talentml.serving.load` also reads the
version from the registry when it loads ``models:/name@alias`` or ``models:/name/3`` and warns
if the two disagree.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._compat import pandas4_warnings_ignored
from ._log import LOG_ENV

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "load_by_alias",
    "log_model",
    "model_signature",
    "promote",
    "register",
    "set_alias",
]

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
_MAX_RETRIES = 5


@contextlib.contextmanager
def _no_prediction_log() -> Iterator[None]:
    """MLflow runs the model while logging it (input example, serving check): not served
    predictions, so they stay out of the prediction log."""
    before = os.environ.get(LOG_ENV)
    os.environ[LOG_ENV] = "off"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(LOG_ENV, None)
        else:
            os.environ[LOG_ENV] = before


def model_signature(scorer: Any):
    """The MLflow signature of a talentml pyfunc: score, band, reasons and warnings out.

    The signature declares **no input schema**: MLflow's schema enforcement would drop the
    columns a request carries beyond the model's (so a sensitive attribute or a label would
    pass silently instead of being refused) and refuse the types clients naturally send
    (the training frame's integer columns against ``double``). talentml's input guard checks
    every request against the training profile instead (``profile.json``, with the input
    example, describes the columns). Parameters: ``k`` (reasons per row), ``direction`` and
    ``on_missing``.

    Parameters
    ----------
    scorer : talentml.serving.Scorer
        The scorer.

    Returns
    -------
    mlflow.models.ModelSignature
        Inputs, outputs and parameters.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.serving import Scorer
    >>> from talentml.tracking import model_signature
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"tenure_days": rng.uniform(30, 3000, 300),
    ...                   "department": rng.choice(["Sales", "Data"], 300)})
    >>> model = FlightRisk(n_estimators=10, random_state=0).fit(X, rng.random(300) < 0.2)
    >>> sig = model_signature(Scorer(model, reference=X))
    >>> sig.inputs is None, [p.name for p in sig.params]
    (True, ['k', 'direction', 'on_missing'])
    >>> sig.outputs.input_names()[:3]
    ['employee_id', 'score', 'band']
    """
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    outputs = [
        ColSpec("string", "employee_id", required=False),
        ColSpec("double", "score"),
        ColSpec("string", "band"),
        ColSpec("string", "reasons"),
        ColSpec("string", "input_warnings"),
        ColSpec("string", "model_name"),
        ColSpec("string", "model_version"),
        ColSpec("string", "prediction_id"),
    ]
    params = ParamSchema(
        [
            ParamSpec("k", "long", int(scorer.k)),
            ParamSpec("direction", "string", scorer.direction),
            ParamSpec("on_missing", "string", getattr(scorer, "on_missing", "flag")),
        ]
    )
    return ModelSignature(inputs=None, outputs=Schema(outputs), params=params)


def input_example(scorer: Any, X: pd.DataFrame, n: int = 2) -> pd.DataFrame:
    """``n`` rows of ``X`` as the signature expects them (the most complete rows first).

    Parameters
    ----------
    scorer : talentml.serving.Scorer
        The scorer (its model columns and category columns).
    X : pandas.DataFrame
        Rows to take the example from.
    n : int, default 2
        Rows in the example.

    Returns
    -------
    pandas.DataFrame
        ``employee_id`` (when ``X`` has it) and the model columns, numbers as float64.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.serving import Scorer
    >>> from talentml.tracking import input_example
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"employee_id": [f"E{i}" for i in range(300)],
    ...                   "tenure_days": rng.integers(30, 3000, 300)})
    >>> model = FlightRisk(n_estimators=5, random_state=0).fit(X, rng.random(300) < 0.2)
    >>> input_example(Scorer(model, reference=X), X).dtypes.astype(str).tolist()
    ['object', 'float64']
    """
    cols = (["employee_id"] if "employee_id" in X.columns else []) + list(scorer.features)
    frame = X[cols]
    order = np.argsort(frame[scorer.features].isna().sum(axis=1).to_numpy(), kind="stable")
    rows = frame.iloc[order[:n]].reset_index(drop=True)
    out = {}
    for col in cols:
        s = rows[col]
        if col == "employee_id" or col in scorer.categorical:
            values = s.astype(object).where(s.notna(), None).to_numpy(dtype=object)
            out[col] = pd.Series(
                [v if v is None else str(v) for v in values], index=s.index, dtype=object
            )
        else:
            out[col] = pd.to_numeric(s, errors="coerce").astype("float64")
    return pd.DataFrame(out)


def profile_example(scorer: Any) -> pd.DataFrame:
    """A one-row input example made from the training profile, not from any employee: the
    median of each numeric column, the most common level of each category column."""
    profile = getattr(scorer, "profile", None)
    columns = profile.columns if profile is not None else {}
    row: dict[str, Any] = {}
    for col in scorer.features:
        entry = columns.get(col, {})
        if col in scorer.categorical:
            shares = entry.get("categories") or {}
            levels = entry.get("levels") or [None]
            row[col] = max(shares, key=shares.get) if shares else levels[0]
        else:
            cdf = entry.get("cdf") or {}
            values, probs = cdf.get("values") or [], cdf.get("cdf") or []
            at = int(np.searchsorted(np.asarray(probs), 0.5)) if values else None
            row[col] = float(values[min(at, len(values) - 1)]) if at is not None else 0.0
    return pd.DataFrame([row])


def _requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in ("talentml", "mlflow", "xgboost", "pandas", "numpy", "numba", "orjson", "scipy"):
        try:
            out.append(f"{name}=={version(name)}")
        except PackageNotFoundError:  # pragma: no cover - all are dependencies
            continue
    return out


def log_model(
    scorer: Any,
    *,
    name: str = "model",
    example: pd.DataFrame | None = None,
    validate: bool = True,
) -> Any:
    """Log a :class:`~talentml.serving.Scorer` as a pyfunc from code (in the active run).

    The model code is :mod:`talentml.tracking._pyfunc`; the weights travel as the
    ``talentml`` artifact (UBJ boosters, JSON, the training profile and ``manifest.json``
    with the SHA-256 of every file). The digest of the manifest is recorded outside the
    artifact, as the logged model's tag ``talentml.artifact_sha256`` (and in the ``MLmodel``
    metadata), so a changed file is refused at load. With ``validate``, the logged model is
    loaded back and asked to answer its input example the way the REST server would
    (``mlflow.models.validate_serving_input``).

    Parameters
    ----------
    scorer : talentml.serving.Scorer
        The scorer (name, version and bands included).
    name : str, default "model"
        The logged model's name (MLflow 3 ``log_model(name=...)``).
    example : pandas.DataFrame, optional
        Rows for the input example (see :func:`input_example`); default: one row made from
        the training profile (medians and most common levels, no employee's data).
    validate : bool, default True
        Check the model answers a serving request.

    Returns
    -------
    mlflow.models.model.ModelInfo
        ``model_uri``, ``model_id``, ...

    Examples
    --------
    >>> import mlflow, tempfile, numpy as np, pandas as pd
    >>> from talentml.models import HighPotential
    >>> from talentml.serving import Scorer
    >>> from talentml.tracking import log_model
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"rating_latest": rng.integers(1, 6, 300).astype(float)})
    >>> model = HighPotential(n_estimators=10, random_state=0).fit(X, X["rating_latest"] > 3)
    >>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
    ...     mlflow.set_tracking_uri(f"sqlite:///{d}/mlflow.db")
    ...     with mlflow.start_run():
    ...         info = log_model(Scorer(model, reference=X), example=X.head(2))
    """
    import mlflow
    from mlflow.models import convert_input_example_to_serving_input, validate_serving_input

    from ..serving.artifact import DIGEST_TAG, MANIFEST, quiet_mlflow_downloads
    from ._pyfunc import ARTIFACT_KEY, MODEL_CODE  # first: imports mlflow.pyfunc quietly

    signature = model_signature(scorer)
    if example is None:
        example = profile_example(scorer)
    with (
        tempfile.TemporaryDirectory(prefix="talentml-model-") as tmp,
        _no_prediction_log(),
        quiet_mlflow_downloads(),
        # MLflow 3 compares the example's columns with a range, which pandas 3 deprecates
        pandas4_warnings_ignored("Operation with range is deprecated"),
    ):
        path = scorer.save(Path(tmp) / ARTIFACT_KEY)
        digest = json.loads((path / MANIFEST).read_text())["sha256"]
        info = mlflow.pyfunc.log_model(
            name=name,
            python_model=str(MODEL_CODE),
            artifacts={ARTIFACT_KEY: str(path)},
            signature=signature,
            input_example=example,
            pip_requirements=_requirements(),
            metadata={DIGEST_TAG: digest},
        )
        # recorded in the tracking store, outside the artifact: a rewritten manifest is caught
        mlflow.MlflowClient().set_logged_model_tags(info.model_id, {DIGEST_TAG: digest})
        if validate and example is not None:
            payload = convert_input_example_to_serving_input(example)
            with warnings.catch_warnings():
                # deprecated since MLflow 3.13 for mlflow.models.predict, which builds a fresh
                # environment (needs a package index); this check runs the scoring server's
                # own parsing and schema enforcement in process
                warnings.filterwarnings("ignore", category=FutureWarning)
                validate_serving_input(info.model_uri, payload)
    logger.info("logged %r as %s", scorer, info.model_uri)
    return info


def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def _next_version(client: Any, name: str) -> int:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(
            name, description=f"talentml model {name} (registered by talentml.tracking)"
        )
        return 1
    versions = client.search_model_versions(f"name = '{name}'")
    return max((int(v.version) for v in versions), default=0) + 1


def register(
    model: Any,
    name: str,
    *,
    aliases: Iterable[str] = (),
    example: pd.DataFrame | None = None,
    validate: bool = False,
    tags: dict[str, str] | None = None,
) -> Any:
    """Register a talentml model under ``name`` with its version written into it.

    Parameters
    ----------
    model : Scorer, TrainedRun or str
        A :class:`~talentml.serving.Scorer` (logged in the active run), the result of
        :func:`train`, or the URI of a logged talentml model (``runs:/...``,
        ``models:/m-...``; it is logged again, in its run, with the version written in).
    name : str
        The registered model name (e.g. ``"flight-risk"``).
    aliases : iterable of str, default ()
        Aliases to point at the new version (e.g. ``["challenger"]``).
    example : pandas.DataFrame, optional
        Input example rows (default: the logged model's own, when ``model`` is a URI).
    validate : bool, default False
        Check the logged model answers a serving request.
    tags : dict, optional
        Tags of the model version.

    Returns
    -------
    mlflow.entities.model_registry.ModelVersion
        The new version.

    Examples
    --------
    >>> from talentml.tracking import register
    >>> # register(trained, "flight-risk", aliases=["challenger"])  # see the user guide
    """
    import mlflow

    from ..serving import Scorer
    from ..serving.artifact import scorer_dir

    client = _client()
    run_id = None
    if isinstance(model, Scorer):
        scorer = model
    elif hasattr(model, "scorer") and hasattr(model, "run_id"):
        scorer, run_id = model.scorer, model.run_id
        example = example if example is not None else getattr(model, "example", None)
    else:
        local, info = scorer_dir(str(model))
        scorer = Scorer.load(local)
        run_id = info.get("run_id")
        if example is None:
            example = _logged_example(str(model))
    active = mlflow.active_run()
    if run_id is None:
        if active is None:
            raise ValueError(
                "register(Scorer, ...) logs the model in the active MLflow run: start one with "
                "mlflow.start_run(), or pass the result of train() or a model URI"
            )
        run_id = active.info.run_id
    for _ in range(_MAX_RETRIES):
        version = _next_version(client, name)
        scorer.model_name, scorer.model_version = name, str(version)
        if active is not None and active.info.run_id == run_id:
            info = log_model(scorer, name=name, example=example, validate=validate)
        else:
            with mlflow.start_run(run_id=run_id, nested=active is not None):
                info = log_model(scorer, name=name, example=example, validate=validate)
        mv = _create_version(client, name, info, run_id, tags)
        if str(mv.version) == str(version):
            break
        logger.warning(
            "register: %s got version %s instead of the reserved %s (a concurrent "
            "registration); retrying",
            name,
            mv.version,
            version,
        )
        client.delete_model_version(name, mv.version)
    else:
        raise RuntimeError(
            f"register: could not give {name} a version matching the one written into it "
            f"after {_MAX_RETRIES} tries (concurrent registrations)"
        )
    for alias in aliases:
        client.set_registered_model_alias(name, alias, mv.version)
    logger.info("registered %s version %s (aliases %s)", name, mv.version, list(aliases))
    return mv


def _create_version(client: Any, name: str, info: Any, run_id: str, tags: Any) -> Any:
    """Register a logged model as a new version of ``name`` (which exists), as
    ``mlflow.register_model`` does, without its lines on standard error."""
    from mlflow.exceptions import MlflowException
    from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS

    mv = client.create_model_version(
        name=name, source=info.model_uri, run_id=run_id, tags=tags, model_id=info.model_id
    )
    link = [{"name": mv.name, "version": mv.version}]
    try:  # the logged model lists its registered versions (as MLflow's UI expects)
        logged = client.get_logged_model(info.model_id)
        if existing := (logged.tags or {}).get(MLFLOW_MODEL_VERSIONS):
            link = json.loads(existing) + link
        client.set_logged_model_tags(info.model_id, {MLFLOW_MODEL_VERSIONS: json.dumps(link)})
    except MlflowException as err:
        logger.warning("register: could not link %s to its logged model: %s", name, err)
    return mv


def _logged_example(model_uri: str) -> pd.DataFrame | None:
    import mlflow
    from mlflow.models import Model

    from ..serving.artifact import quiet_mlflow_downloads

    with quiet_mlflow_downloads():
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri))
    meta = Model.load(str(local / "MLmodel"))
    try:
        example = meta.load_input_example(str(local))
    except Exception:  # an example is optional
        return None
    return example if isinstance(example, pd.DataFrame) else None


def set_alias(name: str, alias: str, version: str | int) -> None:
    """Point ``alias`` of registered model ``name`` at ``version``.

    Parameters
    ----------
    name : str
        Registered model name.
    alias : str
        Alias, e.g. ``"champion"``.
    version : str or int
        The version.

    Examples
    --------
    >>> from talentml.tracking import set_alias
    >>> # set_alias("flight-risk", "champion", 3)
    """
    _client().set_registered_model_alias(name, alias, str(version))


def promote(name: str, version: str | int | None = None) -> str:
    """Make a version the ``champion`` (default: the current ``challenger``).

    The previous champion, if any, becomes the ``challenger`` when the challenger was promoted.

    Parameters
    ----------
    name : str
        Registered model name.
    version : str or int, optional
        The version to promote (default: the ``challenger``).

    Returns
    -------
    str
        The champion's version.

    Examples
    --------
    >>> from talentml.tracking import promote
    >>> # promote("flight-risk")  # challenger -> champion
    """
    from mlflow.exceptions import MlflowException

    client = _client()
    if version is None:
        version = str(client.get_model_version_by_alias(name, CHALLENGER).version)
    try:
        previous = str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        previous = None
    client.set_registered_model_alias(name, CHAMPION, str(version))
    if previous is not None and str(previous) != str(version):
        client.set_registered_model_alias(name, CHALLENGER, str(previous))
    elif previous is None or str(previous) == str(version):
        with contextlib.suppress(MlflowException):
            if str(client.get_model_version_by_alias(name, CHALLENGER).version) == str(version):
                client.delete_registered_model_alias(name, CHALLENGER)
    return str(version)


def load_by_alias(name: str, alias: str = CHAMPION, **kwargs: Any) -> Any:
    """Load the version of ``name`` an alias points at, for serving.

    Parameters
    ----------
    name : str
        Registered model name.
    alias : str, default "champion"
        The alias.
    **kwargs
        Passed to :func:`talentml.serving.load` (``log``, ``sink``).

    Returns
    -------
    talentml.serving.ServedModel
        With ``.predict(df)``.

    Examples
    --------
    >>> from talentml.tracking import load_by_alias
    >>> # load_by_alias("flight-risk").predict(df)
    """
    from ..serving import load

    return load(f"models:/{name}@{alias}", **kwargs)
