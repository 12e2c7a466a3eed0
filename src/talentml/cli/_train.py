"""``talentml train``: train, track and register a model from feature and label files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["MODEL_KINDS", "train_command"]

#: ``--model`` choices and the estimator each builds.
MODEL_KINDS = {
    "flight-risk": "FlightRisk",
    "high-potential": "HighPotential",
    "ramp-up": "RampUp",
}


def _read(path: Path):
    import pandas as pd

    if path.suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise typer.BadParameter(f"{path}: use a .parquet or .csv file")


def train_command(
    features: Annotated[Path, typer.Argument(help="Feature table (parquet or csv).")],
    labels: Annotated[Path, typer.Argument(help="Label table aligned with FEATURES.")],
    model: Annotated[
        str, typer.Option(help="flight-risk, high-potential or ramp-up.")
    ] = "flight-risk",
    experiment: Annotated[str, typer.Option(help="MLflow experiment.")] = "talentml",
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI (default: MLflow's own).")
    ] = None,
    register_as: Annotated[
        str | None, typer.Option(help="Register the model under this name.")
    ] = None,
    sensitive: Annotated[
        Path | None, typer.Option(help="Sensitive table for the bias audit.")
    ] = None,
    test_from: Annotated[
        str | None, typer.Option(help="Out-of-time split: test rows from this date.")
    ] = None,
    horizon: Annotated[
        str | None,
        typer.Option(help="Label horizon, the gap of the split (default: the model's)."),
    ] = None,
    n_estimators: Annotated[int, typer.Option(help="Trees.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train a model in an MLflow run: metrics, lineage, plots, audit, model card, model."""
    import talentml as tml

    from ..tracking import train

    if model not in MODEL_KINDS:
        raise typer.BadParameter(f"--model must be one of {sorted(MODEL_KINDS)}, got {model!r}")
    estimator = getattr(tml, MODEL_KINDS[model])(n_estimators=n_estimators, random_state=seed)
    run = train(
        estimator,
        _read(features),
        _read(labels),
        experiment=experiment,
        sensitive=_read(sensitive) if sensitive is not None else None,
        register_as=register_as,
        tracking_uri=tracking_uri,
        test_from=test_from,
        horizon=horizon,
        random_state=seed,
    )
    typer.echo(f"MLflow run {run.run_id} (experiment {experiment!r})")
    typer.echo(f"model {run.model_uri}")
    if run.registered_name:
        typer.echo(f"registered {run.registered_name} version {run.registered_version}")
    for r in run.evaluation.metrics.head(6).to_dict("records"):
        typer.echo(f"  {r['metric']:<28} {r['value']:.4f}  [{r['ci_low']:.4f}, {r['ci_high']:.4f}]")
