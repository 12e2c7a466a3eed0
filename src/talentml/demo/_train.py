"""The demo's one training step: fit, evaluate, track and register the three models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._models import DEMO_EXPERIMENT

if TYPE_CHECKING:
    from ._pipeline import Split

__all__ = ["train_models"]


def _ramp_scale(split: Split) -> float:
    """AFT scale of RampUp: spread of log ramp-up days within department (training rows)."""
    y, X = split.y_train, split.X_train
    seen = y["observed"].to_numpy(dtype=bool) & np.isfinite(y["upper_days"].to_numpy(float))
    if seen.sum() < 10:
        return 1.0
    mid = np.log((y["lower_days"] + y["upper_days"]) / 2)[seen]
    dept = X["department"].astype(str).to_numpy()[seen]
    spread = mid.groupby(dept).transform(lambda v: v - v.mean()).std()
    return float(spread) if np.isfinite(spread) and spread > 0 else 1.0


def train_models(
    splits: Mapping[str, Split],
    *,
    tracking_uri: str,
    experiment: str = DEMO_EXPERIMENT,
    sensitive: pd.DataFrame | None = None,
    oracles: Mapping[str, Any] | None = None,
    n_estimators: int | None = None,
    n_bootstrap: int = 100,
    n_jobs: int | None = 1,
    random_state: int = 0,
) -> dict[str, Any]:
    """Fit, evaluate, track and register the three models: the pipeline's one training step.

    Each model is fitted once, on its split's training rows only, by
    :func:`talentml.tracking.train` in its own MLflow run, evaluated on the split's held-out
    rows (after the training rows' label windows closed), registered and promoted to
    ``champion`` (:func:`talentml.demo._models.log_demo_models`).

    Parameters
    ----------
    splits : mapping of str to Split
        ``flight_risk``, ``high_potential`` and ``ramp_up``.
    tracking_uri : str
        The MLflow store.
    experiment : str, default "talentml-demo"
        The runs' experiment.
    sensitive : pandas.DataFrame, optional
        The ``sensitive`` table, for the bias audits logged with the binary models.
    oracles : mapping, optional
        The simulator's true probabilities of the held-out rows by model name.
    n_estimators : int, optional
        Trees of each model; by default each model's own (FlightRisk and HighPotential
        choose depth and rounds on held-out employees, RampUp trains 300 trees).
    n_bootstrap : int, default 100
        Bootstrap resamples of the held-out metrics' and audits' intervals.
    n_jobs : int or None, default 1
        Threads of XGBoost.
    random_state : int, default 0
        Seed of the models, the bootstrap and the audits.

    Returns
    -------
    dict of str to TrainedRun
        The run of each model (``model``, ``evaluation``, ``run_id``, registry version).

    Examples
    --------
    >>> from talentml.demo._pipeline import train_models
    >>> runs = train_models(splits, tracking_uri="sqlite:///mlflow.db")  # doctest: +SKIP
    >>> sorted(runs)  # doctest: +SKIP
    ['flight_risk', 'high_potential', 'ramp_up']
    """
    from ..models import FlightRisk, HighPotential, RampUp
    from ._models import log_demo_models

    common: dict[str, Any] = {
        "n_jobs": n_jobs,
        "random_state": random_state,
        "show_progress": False,
    }
    if n_estimators is not None:
        common["n_estimators"] = n_estimators
    estimators = {
        "flight_risk": FlightRisk(horizon=splits["flight_risk"].horizon, **common),
        "high_potential": HighPotential(horizon=splits["high_potential"].horizon, **common),
        "ramp_up": RampUp(distribution_scale=_ramp_scale(splits["ramp_up"]), **common),
    }
    return log_demo_models(
        estimators,
        splits,
        tracking_uri=tracking_uri,
        experiment=experiment,
        sensitive=sensitive,
        oracles=oracles,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        show_progress=False,
    )
