"""The three models of ``talentml demo``: trained, tracked, registered and promoted."""

from __future__ import annotations

import logging
import time
from typing import Any

import pandas as pd

__all__ = ["DEMO_MODEL_NAMES", "log_demo_models"]

logger = logging.getLogger(__name__)

#: Registered names of the demo models.
DEMO_MODEL_NAMES = {
    "flight_risk": "talentml-flight-risk",
    "high_potential": "talentml-high-potential",
    "ramp_up": "talentml-ramp-up",
}


def log_demo_models(
    org: Any,
    statements: pd.DataFrame,
    *,
    tracking_uri: str,
    experiment: str = "talentml-demo",
    n_estimators: int = 150,
    random_state: int = 0,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Build features and labels from a simulated organization, then train, track, register
    and promote FlightRisk, HighPotential and RampUp (each becomes its name's ``champion``).

    Parameters
    ----------
    org : talentml.datasets.Organization
        From :func:`talentml.datasets.simulate_workforce`.
    statements : pandas.DataFrame
        Ingested statements (``talentml.xapi.ingest(...).statements``).
    tracking_uri : str
        The MLflow store (the demo's SQLite file).
    experiment : str, default "talentml-demo"
        Experiment of the runs.
    n_estimators : int, default 150
        Trees per model.
    random_state : int, default 0
        Seed.
    show_progress : bool, optional
        Progress bars.

    Returns
    -------
    dict
        Per model: ``run_id``, ``model_uri``, ``registered_name``, ``version``, ``alias``,
        the headline metric with its interval, and ``seconds``.

    Examples
    --------
    >>> from talentml.tracking._demo_models import DEMO_MODEL_NAMES
    >>> sorted(DEMO_MODEL_NAMES)
    ['flight_risk', 'high_potential', 'ramp_up']
    """
    import talentml as tml

    from ._registry import promote
    from ._train import train

    start = pd.Timestamp(org.start)
    first = (start + pd.DateOffset(months=6)).normalize()
    end = pd.Timestamp(org.end)
    spine = tml.features.make_spine(org.employees, start=first, end=end, freq="QS")

    def build(rows: pd.DataFrame) -> pd.DataFrame:
        return tml.features.build(
            rows,
            statements=statements,
            employees=org.employees,
            reviews=org.reviews,
            competency_ratings=org.competency_ratings,
            job_events=org.job_events,
            catalog=org.catalog,
            learning_since=start,
            show_progress=show_progress,
        )

    X = build(spine)
    params = {
        "n_estimators": n_estimators,
        "max_depth": 4,
        "learning_rate": 0.05,
        "random_state": random_state,
        "show_progress": show_progress,
    }
    keys = X[["employee_id", "as_of"]]
    y_fr = tml.labels.flight_risk(keys, org.employees, horizon="180D")
    y_hp = tml.labels.high_potential(keys, org.job_events, horizon="365D", employees=org.employees)
    ramp = tml.labels.ramp_up(org.employees, org.productivity, hired_after=org.start)
    rows = tml.labels.ramp_up_spine(ramp, days_after_hire=30)
    rows = rows[rows["censored"].isna()].reset_index(drop=True)
    XR = build(rows[["employee_id", "as_of"]])
    jobs = [
        ("flight_risk", tml.FlightRisk(**params), X, y_fr, "roc_auc"),
        ("high_potential", tml.HighPotential(horizon="365D", **params), X, y_hp, "roc_auc"),
        ("ramp_up", tml.RampUp(**params), XR, rows, None),
    ]
    out: dict[str, Any] = {}
    for key, model, features, labels, headline in jobs:
        t = time.perf_counter()
        name = DEMO_MODEL_NAMES[key]
        run = train(
            model,
            features,
            labels,
            experiment=experiment,
            sensitive=org.sensitive if key != "ramp_up" else None,
            register_as=name,
            tracking_uri=tracking_uri,
            run_name=f"{key.replace('_', ' ')} model",
            audit_options={"n_bootstrap": 200, "proxies": False},
            random_state=random_state,
            show_progress=show_progress,
        )
        promote(name, run.registered_version)
        metrics = run.evaluation.metrics.set_index("metric")
        metric = headline or str(metrics.index[0])
        row = metrics.loc[metric]
        out[key] = {
            "run_id": run.run_id,
            "model_uri": run.model_uri,
            "registered_name": name,
            "version": run.registered_version,
            "alias": "champion",
            "metric": metric,
            "value": float(row["value"]),
            "ci_low": float(row["ci_low"]),
            "ci_high": float(row["ci_high"]),
            "seconds": round(time.perf_counter() - t, 1),
        }
        logger.info("demo: %s registered as %s v%s", key, name, run.registered_version)
    return out
