"""The end-to-end demo behind ``talentml demo``: every capability that exists, on a simulated org."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from . import schemas
from .datasets import simulate_workforce

logger = logging.getLogger(__name__)

__all__ = ["run_demo"]


def run_demo(
    out: str | Path = "demo-output",
    *,
    n_employees: int = 2_000,
    start: str = "2023-01-01",
    end: str = "2025-12-31",
    random_state: int = 0,
    tracking_uri: str | None = None,
    n_estimators: int = 150,
    report: bool = True,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Simulate an organization, run the whole loop, record it in MLflow and write the report.

    Parameters
    ----------
    out : str or Path
        Output folder: contract tables (parquet), ``summary.json`` and, unless
        ``tracking_uri`` is given, the local MLflow store ``mlflow.db``.
    n_employees, start, end, random_state
        Passed to :func:`talentml.datasets.simulate_workforce`.
    tracking_uri : str, optional
        MLflow tracking URI; default ``sqlite:///<out>/mlflow.db``.
    n_estimators : int, default 150
        Trees of each model of the pipeline.
    report : bool, default True
        Run the pipeline (features, labels, models, explanations, audits, loop) and write
        ``<out>/report.html`` (:func:`talentml._demo_pipeline.run_pipeline`).

    Returns
    -------
    dict
        The summary written to ``summary.json`` (with ``mlflow_run_id`` and ``tracking_uri``).

    Examples
    --------
    >>> import tempfile
    >>> from talentml._demo import run_demo
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     summary = run_demo(tmp, n_employees=100, start="2024-01-01", end="2024-12-31")
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    org = simulate_workforce(
        n_employees=n_employees,
        start=start,
        end=end,
        random_state=random_state,
        show_progress=show_progress,
    )
    timings["simulate_s"] = time.perf_counter() - t

    t = time.perf_counter()
    for name, table in org.tables.items():
        schemas.validate(name, table)
    timings["validate_s"] = time.perf_counter() - t
    tables_dir = org.to_parquet(out / "tables")

    summary: dict[str, Any] = {
        "organization": {k: _plain(v) for k, v in org.summary().items()},
        "statement_defects_planted": org.truth.statement_counts,
        "effects": org.effects.to_dict(),
        "tables": {name: len(table) for name, table in org.tables.items()},
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }
    counts, ingested = _ingest(org, out, timings)
    summary.update(counts)
    pipeline = None
    if report:
        from ._demo_pipeline import run_pipeline

        t = time.perf_counter()
        pipeline = run_pipeline(
            out,
            org=org,
            ingested=ingested,
            random_state=random_state,
            n_estimators=n_estimators,
            report=False,
            show_progress=show_progress,
        )
        timings["pipeline_s"] = time.perf_counter() - t
        summary["models"] = pipeline.metrics()
        summary["top_reasons"] = _top_reasons(pipeline.reasons, n_employees=5)
    summary["timings"] = {k: round(v, 2) for k, v in timings.items()}

    uri = tracking_uri or f"sqlite:///{out / 'mlflow.db'}"
    summary["tracking_uri"] = uri
    summary["mlflow_run_id"] = _track(summary, uri, out, tables_dir, n_employees, random_state)
    if pipeline is not None:
        import mlflow

        from .tracking._demo_models import log_demo_models

        # the three models, trained in tracked runs, registered and promoted to champion
        t = time.perf_counter()
        summary["registered"] = log_demo_models(
            org,
            ingested.statements,
            tracking_uri=uri,
            n_estimators=n_estimators,
            random_state=random_state,
            show_progress=show_progress,
        )
        timings["registry_s"] = time.perf_counter() - t
        summary["timings"] = {k: round(v, 2) for k, v in timings.items()}
        experiment = mlflow.get_experiment_by_name("talentml-demo")
        runs = {"simulated-organization": summary["mlflow_run_id"]}
        runs.update({f"{key} model": m["run_id"] for key, m in summary["registered"].items()})
        path = pipeline.write_report(
            out / "report.html",
            mlflow_runs=pd.DataFrame(
                {
                    "name": list(runs),
                    "run_id": list(runs.values()),
                    "experiment_id": experiment.experiment_id,
                }
            ),
            tracking_uri=uri,
            mlflow_ui="http://127.0.0.1:5000",
            show_progress=show_progress,
        )
        summary["report"] = str(path)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def _top_reasons(reasons: pd.DataFrame, *, n_employees: int) -> list[dict[str, Any]]:
    """The reasons raising the risk of the ``n_employees`` highest-risk employees."""
    if reasons.empty:
        return []
    top = reasons.sort_values(["score", "employee_id", "rank"], ascending=[False, True, True])
    out = []
    for employee, rows in top.groupby("employee_id", sort=False):
        out.append(
            {
                "employee_id": str(employee),
                "flight_risk": round(float(rows["score"].iloc[0]), 3),
                "reasons": rows["text"].astype(str).tolist(),
            }
        )
        if len(out) == n_employees:
            break
    return out


def _ingest(org, out: Path, timings: dict[str, float]) -> tuple[dict[str, Any], Any]:
    """Ingest the raw statements: validate, normalize, void, deduplicate, pseudonymize."""
    from . import xapi

    t = time.perf_counter()
    result = xapi.ingest(org.raw_statements, identities=org.identities, secret=_secret())
    timings["ingest_s"] = time.perf_counter() - t
    result.statements.to_parquet(out / "tables" / "statements.parquet", index=False)
    report = result.report
    counts = {
        k: getattr(report, k) for k in ("read", "accepted", "duplicates", "voided", "quarantined")
    }
    counts["unmapped_actors"] = int(result.statements["employee_id"].isna().sum())
    reasons = report.reasons.groupby("reason")["count"].sum().sort_values(ascending=False)
    reasons = {str(k): int(v) for k, v in reasons.items()}
    return {"ingest": counts, "quarantine_reasons": reasons}, result


def _secret() -> str:
    from .config import _state
    from .datasets import SIMULATION_SECRET

    return _state()["secret"] or SIMULATION_SECRET


def _track(
    summary: dict, uri: str, out: Path, tables_dir: Path, n_employees: int, seed: int
) -> str:
    import mlflow

    mlflow.set_tracking_uri(uri)
    experiment = "talentml-demo"
    if mlflow.get_experiment_by_name(experiment) is None:
        mlflow.create_experiment(experiment, artifact_location=(out / "mlartifacts").as_uri())
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name="simulated-organization") as run:
        mlflow.log_params({"n_employees": n_employees, "random_state": seed})
        mlflow.log_params({f"effect.{k}": v for k, v in summary["effects"].items()})
        metrics = {f"org.{k}": float(v) for k, v in summary["organization"].items()}
        metrics.update({f"timing.{k}": float(v) for k, v in summary["timings"].items()})
        if "ingest" in summary:
            metrics.update(
                {f"ingest.{k}": float(v) for k, v in summary["ingest"].items() if _is_number(v)}
            )
        metrics.update({f"model.{k}": v for k, v in summary.get("models", {}).items()})
        mlflow.log_metrics(metrics)
        mlflow.log_dict(summary, "summary.json")
        return run.info.run_id


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v
