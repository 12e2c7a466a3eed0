"""The ``talentml`` command line: ``talentml demo``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="talentml",
    help="Close the loop between learning and performance.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # MLflow configures its own INFO handler when it is imported ("Creating initial MLflow
    # database tables", "Validating input example ..."): the command line shows those lines
    # with --verbose only (a level the user set in MLFLOW_LOGGING_LEVEL wins)
    if not verbose:
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the outputs.")] = Path("demo-output"),
    n_employees: Annotated[
        int, typer.Option(help="Headcount of the simulated organization.")
    ] = 2_000,
    start: Annotated[str, typer.Option(help="First day simulated (UTC).")] = "2023-01-01",
    end: Annotated[str, typer.Option(help="Last day simulated (UTC).")] = "2025-12-31",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    tracking_uri: Annotated[
        str | None, typer.Option(help="MLflow tracking URI (default: a SQLite store in OUT).")
    ] = None,
    n_estimators: Annotated[
        int | None,
        typer.Option(
            help="Trees of each model (default: each model's own; flight risk and high "
            "potential choose depth and rounds on held-out employees)."
        ),
    ] = None,
    report: Annotated[
        bool,
        typer.Option(
            help="Train the models (tracked and registered in MLflow), explain, audit and "
            "write OUT/report.html."
        ),
    ] = True,
) -> None:
    """Run the whole loop on a simulated organization with a local MLflow store."""
    from ..demo import run_demo

    s = run_demo(
        out,
        n_employees=n_employees,
        start=start,
        end=end,
        random_state=seed,
        tracking_uri=tracking_uri,
        n_estimators=n_estimators,
        report=report,
    )
    org = s["organization"]
    typer.echo(f"Simulated organization ({n_employees} employees at start, seed {seed}):")
    typer.echo(f"  employees ever             {org['employees_ever']:>10,.0f}")
    typer.echo(f"  voluntary turnover / year  {org['voluntary_turnover_per_year']:>10.1%}")
    typer.echo(f"  promotions / year          {org['promotions_per_year']:>10.1%}")
    typer.echo(f"  caregivers                 {org['caregiver_share']:>10.1%}")
    typer.echo(f"  raw xAPI statements        {org['raw_statements']:>10,.0f}")
    typer.echo(f"  oracle 180-day AUC         {org['oracle_auc_180d']:>10.3f}")
    if "ingest" in s:
        typer.echo(
            "Ingested statements: "
            + ", ".join(f"{k} {v:,}" for k, v in s["ingest"].items() if isinstance(v, int))
        )
    for name, value in sorted(s.get("models", {}).items()):
        if name.endswith((".roc_auc", ".c_index_interval")):
            typer.echo(f"  {name:<30} {value:>7.3f}")
    if s.get("top_reasons"):
        typer.echo("Highest flight risk at the last cutoff, and why:")
        for row in s["top_reasons"]:
            typer.echo(f"  {row['employee_id']}  {row['flight_risk']:.0%}")
            for text in row["reasons"]:
                typer.echo(f"    - {text}")
    typer.echo(f"Outputs in {Path(out).resolve()}")
    if "report" in s:
        typer.echo(f"Report: {s['report']} (open it in a browser)")
    for m in s.get("registered", {}).values():
        typer.echo(
            f"  registered {m['registered_name']} v{m['version']} @{m['alias']}: "
            f"{m['metric']} {m['value']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]"
        )
    typer.echo(f"MLflow run {s['mlflow_run_id']}; open the UI with:")
    typer.echo(f"  .venv/bin/mlflow ui --backend-store-uri {s['tracking_uri']} --host 127.0.0.1")


from ._train import train_command  # noqa: E402

app.command("train")(train_command)


if __name__ == "__main__":  # pragma: no cover
    app()
