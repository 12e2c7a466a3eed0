"""The end-to-end demo behind ``talentml demo``: every capability that exists, on a simulated org."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schemas
from ..datasets import simulate_workforce
from ._models import DEMO_EXPERIMENT, demo_experiment

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
    n_estimators: int | None = None,
    report: bool = True,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Simulate an organization, run the whole loop, record it in MLflow and write the report.

    Parameters
    ----------
    out : str or Path
        Output folder: contract tables (parquet), ``summary.json``, with the report the
        decided activity resolution (``activity_resolution.json``, see
        :meth:`talentml.xapi.ActivityResolver.to_json`) and, unless ``tracking_uri`` is
        given, the local MLflow store ``mlflow.db``.
    n_employees, start, end, random_state
        Passed to :func:`talentml.datasets.simulate_workforce`.
    tracking_uri : str, optional
        MLflow tracking URI; default ``sqlite:///<out>/mlflow.db``.
    n_estimators : int, optional
        Trees of each model; by default each model's own (FlightRisk and HighPotential
        choose depth and rounds on held-out employees, RampUp trains 300 trees).
    report : bool, default True
        Run the pipeline (activity resolution, features, labels, models, explanations,
        audits, loop) and write ``<out>/report.html``
        (:func:`talentml.demo._pipeline.run_pipeline`); its three models are trained once,
        each in a tracked run, registered and promoted to ``champion``, and the report
        evaluates those very models.
    show_progress : bool, optional
        Progress bars (default: talentml's setting).

    Returns
    -------
    dict
        The summary written to ``summary.json`` (with ``mlflow_run_id``, ``tracking_uri`` and,
        with the report, the ``registered`` models and the ``activity_resolution`` counts).

    Examples
    --------
    >>> import tempfile
    >>> from talentml.demo import run_demo
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
    uri = tracking_uri or f"sqlite:///{out / 'mlflow.db'}"
    summary["tracking_uri"] = uri
    pipeline = None
    if report:
        from ._models import demo_model_summary
        from ._pipeline import run_pipeline

        # features once; the three models trained once, each in its tracked run, registered
        # and promoted to champion: the report evaluates those very models
        t = time.perf_counter()
        pipeline = run_pipeline(
            out,
            org=org,
            ingested=ingested,
            random_state=random_state,
            n_estimators=n_estimators,
            report=False,
            tracking_uri=uri,
            experiment=DEMO_EXPERIMENT,
            show_progress=show_progress,
        )
        timings["pipeline_s"] = time.perf_counter() - t
        summary["models"] = pipeline.metrics()
        # the video platform's IRIs resolved to the catalog's activities before features
        summary["activity_resolution"] = pipeline.resolution
        pipeline.resolver.to_json(out / "activity_resolution.json")
        summary["top_reasons"] = _top_reasons(pipeline.reasons, n_employees=5)
        summary["registered"] = demo_model_summary(pipeline.runs)
        # the loop's business case and one manager's team (issue 21)
        summary["roi"] = {k: _plain(v) for k, v in pipeline.roi.to_dict().items()}
        pipeline.roi.to_json(out / "roi.json")
        team = pipeline.team
        summary["team"] = {
            "manager_id": team.manager_id,
            "as_of": team.as_of.isoformat(),
            "members": len(team.members),
            "suggestions": len(team.suggestions),
            "cells": {k: int(v) for k, v in team.heatmap["status"].value_counts().items()},
        }
    summary["timings"] = {k: round(v, 2) for k, v in timings.items()}

    summary["mlflow_run_id"] = _track(summary, uri, out, tables_dir, n_employees, random_state)
    if pipeline is not None:
        runs = pipeline.mlflow_runs()
        org_run = pd.DataFrame(
            {
                "name": ["simulated-organization"],
                "run_id": [summary["mlflow_run_id"]],
                "experiment_id": runs["experiment_id"].iloc[:1].to_list(),
            }
        )
        path = pipeline.write_report(
            out / "report.html",
            mlflow_runs=pd.concat([org_run, runs], ignore_index=True),
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
    from .. import xapi
    from ._pipeline import _secret

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


def _track(
    summary: dict, uri: str, out: Path, tables_dir: Path, n_employees: int, seed: int
) -> str:
    import mlflow

    demo_experiment(uri, out / "mlartifacts", name=DEMO_EXPERIMENT)
    with mlflow.start_run(run_name="simulated-organization") as run:
        mlflow.log_params({"n_employees": n_employees, "random_state": seed})
        mlflow.log_params({f"effect.{k}": v for k, v in summary["effects"].items()})
        metrics = {f"org.{k}": float(v) for k, v in summary["organization"].items()}
        metrics.update({f"timing.{k}": float(v) for k, v in summary["timings"].items()})
        if "ingest" in summary:
            metrics.update(
                {f"ingest.{k}": float(v) for k, v in summary["ingest"].items() if _is_metric(v)}
            )
        metrics.update({f"model.{k}": v for k, v in summary.get("models", {}).items()})
        metrics.update(
            {f"roi.{k}": float(v) for k, v in summary.get("roi", {}).items() if _is_metric(v)}
        )
        resolution = summary.get("activity_resolution", {})
        for what in ("activities", "statements"):
            for outcome, n in resolution.get(what, {}).items():
                metrics[f"resolution.{outcome}_{what}"] = float(n)
        mlflow.log_metrics(metrics)
        mlflow.log_dict(summary, "summary.json")
        return run.info.run_id


def _is_metric(v: Any) -> bool:
    """An int or float (not a bool): a value MLflow logs as a metric."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v
