"""The three models of ``talentml demo``: trained once, tracked, registered and promoted.

The demo pipeline (:func:`talentml.demo._pipeline.run_pipeline`) builds the features and the
out-of-time splits once and hands them here: each model is fitted in its own MLflow run
(:func:`talentml.tracking.train` with the split's :class:`~talentml.models.TimeSplit`, so the
run records the out-of-time split: fitted on its training rows, evaluated on its held-out
rows), registered and promoted to ``champion``. The fitted models and evaluations the report
shows are the ones these runs logged and registered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "DEMO_EXPERIMENT",
    "DEMO_MODEL_NAMES",
    "HEADLINE_METRICS",
    "demo_experiment",
    "demo_model_summary",
    "log_demo_models",
]

logger = logging.getLogger(__name__)

#: The MLflow experiment of the demo (its runs: the organization and the three models).
DEMO_EXPERIMENT = "talentml-demo"

#: Registered names of the demo models.
DEMO_MODEL_NAMES = {
    "flight_risk": "talentml-flight-risk",
    "high_potential": "talentml-high-potential",
    "ramp_up": "talentml-ramp-up",
}

#: The metric each model is summarized by (None: the evaluation's first metric).
HEADLINE_METRICS: dict[str, str | None] = {
    "flight_risk": "roc_auc",
    "high_potential": "roc_auc",
    "ramp_up": None,
}

MSG_MODELS = "log_demo_models: {what} must name exactly the models {expected}, got {got}"


def demo_experiment(
    tracking_uri: str, artifacts: str | Path, *, name: str = DEMO_EXPERIMENT
) -> str:
    """The demo's MLflow experiment, created with its artifacts in ``artifacts`` if missing.

    Parameters
    ----------
    tracking_uri : str
        The MLflow store (becomes MLflow's current tracking URI).
    artifacts : str or Path
        Folder of the experiment's artifacts when it is created (e.g. ``<out>/mlartifacts``,
        next to the demo's SQLite store rather than under the working directory).
    name : str, default "talentml-demo"
        The experiment.

    Returns
    -------
    str
        The experiment id (MLflow's active experiment from now on).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from talentml.demo._models import demo_experiment
    >>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
    ...     demo_experiment(f"sqlite:///{d}/mlflow.db", Path(d) / "mlartifacts")
    '1'
    """
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    if mlflow.get_experiment_by_name(name) is None:
        mlflow.create_experiment(name, artifact_location=Path(artifacts).resolve().as_uri())
    return mlflow.set_experiment(name).experiment_id


def log_demo_models(
    estimators: Mapping[str, Any],
    splits: Mapping[str, Any],
    *,
    tracking_uri: str,
    experiment: str = DEMO_EXPERIMENT,
    sensitive: pd.DataFrame | None = None,
    oracles: Mapping[str, Any] | None = None,
    n_bootstrap: int = 200,
    random_state: int = 0,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Train, track, register and promote the demo's models on splits already built.

    One MLflow run per model (:func:`talentml.tracking.train`): fitted on the split's
    training rows only, evaluated (and, with ``sensitive``, audited) on its held-out rows,
    logged, registered as :data:`DEMO_MODEL_NAMES` and promoted to ``champion``.

    Parameters
    ----------
    estimators : mapping
        The unfitted models by name: ``flight_risk``, ``high_potential``, ``ramp_up``.
    splits : mapping
        The split of each model (:class:`talentml.demo._pipeline.Split`: ``X_train``,
        ``y_train``, ``X_test``, ``y_test``), by the same names. A split that carries its
        splitter and all its rows (``cv``, ``X``, ``y``) is handed to ``train`` as such
        (``train(model, X, y, cv=cv)``: the run's ``talentml.split`` tag is
        ``out_of_time``, with the cutoff and the gap); otherwise its training and held-out
        rows are (``X_test=``, ``y_test=``).
    tracking_uri : str
        The MLflow store (the demo's SQLite file).
    experiment : str, default "talentml-demo"
        Experiment of the runs (create it with :func:`demo_experiment` to choose where its
        artifacts go).
    sensitive : pandas.DataFrame, optional
        The ``sensitive`` table: the flight-risk and high-potential runs log a bias audit of
        their held-out rows.
    oracles : mapping, optional
        True probabilities (or days) of the held-out rows by model name, passed to
        :func:`talentml.models.evaluate` as ``oracle``.
    n_bootstrap : int, default 200
        Bootstrap resamples of the metric and impact-ratio intervals.
    random_state : int, default 0
        Seed of the evaluation and the audit.
    show_progress : bool, optional
        Progress bars.

    Returns
    -------
    dict of str to TrainedRun
        The run of each model: ``model`` (fitted), ``evaluation`` (held-out metrics),
        ``run_id``, ``registered_name``, ``registered_version`` (now ``champion``).

    Raises
    ------
    ValueError
        If ``estimators`` or ``splits`` do not name exactly the demo's three models.

    See Also
    --------
    demo_model_summary : The runs in a few plain numbers (what ``talentml demo`` prints).

    Examples
    --------
    >>> from talentml.demo._models import DEMO_MODEL_NAMES
    >>> sorted(DEMO_MODEL_NAMES)
    ['flight_risk', 'high_potential', 'ramp_up']
    """
    from ..tracking import promote, train

    expected = sorted(DEMO_MODEL_NAMES)
    for what, given in (("estimators", estimators), ("splits", splits)):
        if sorted(given) != expected:
            raise ValueError(MSG_MODELS.format(what=what, expected=expected, got=sorted(given)))
    oracles = dict(oracles or {})
    runs: dict[str, Any] = {}
    for key in DEMO_MODEL_NAMES:
        split = splits[key]
        name = DEMO_MODEL_NAMES[key]
        oracle = oracles.get(key)
        t = time.perf_counter()
        if getattr(split, "cv", None) is not None and getattr(split, "X", None) is not None:
            rows: dict[str, Any] = {"X": split.X, "y": split.y, "cv": split.cv}
        else:
            rows = {"X": split.X_train, "y": split.y_train}
            rows.update(X_test=split.X_test, y_test=split.y_test)
        run = train(
            estimators[key],
            **rows,
            experiment=experiment,
            sensitive=sensitive if key != "ramp_up" else None,
            register_as=name,
            tracking_uri=tracking_uri,
            run_name=f"{key.replace('_', ' ')} model",
            n_bootstrap=n_bootstrap,
            evaluate_options=None if oracle is None else {"oracle": oracle},
            audit_options={"n_bootstrap": n_bootstrap, "proxies": False},
            random_state=random_state,
            show_progress=show_progress,
        )
        promote(name, run.registered_version)
        runs[key] = run
        logger.info(
            "demo: %s trained on %d rows, registered as %s v%s (run %s) in %.1f s",
            key,
            len(split.X_train),
            name,
            run.registered_version,
            run.run_id,
            time.perf_counter() - t,
        )
    return runs


def demo_model_summary(runs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The demo's runs in plain values: registry entry and headline metric with its interval.

    Parameters
    ----------
    runs : mapping of str to TrainedRun
        From :func:`log_demo_models`.

    Returns
    -------
    dict
        Per model: ``run_id``, ``model_uri``, ``registered_name``, ``version``, ``alias``
        (``champion``) and the headline ``metric`` with its ``value``, ``ci_low`` and
        ``ci_high``.

    Examples
    --------
    >>> from talentml.demo._models import demo_model_summary
    >>> demo_model_summary({})
    {}
    """
    from ..tracking import CHAMPION

    out: dict[str, dict[str, Any]] = {}
    for key, run in runs.items():
        metrics = run.evaluation.metrics.set_index("metric")
        metric = HEADLINE_METRICS.get(key) or str(metrics.index[0])
        row = metrics.loc[metric]
        out[key] = {
            "run_id": run.run_id,
            "model_uri": run.model_uri,
            "registered_name": run.registered_name,
            "version": run.registered_version,
            "alias": CHAMPION,
            "metric": metric,
            "value": float(row["value"]),
            "ci_low": float(row["ci_low"]),
            "ci_high": float(row["ci_high"]),
        }
    return out
