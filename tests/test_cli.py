"""The ``talentml`` command line, run as a user runs it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

TALENTML = Path(sys.executable).parent / "talentml"


def test_help_lists_demo():
    res = subprocess.run([str(TALENTML), "--help"], capture_output=True, text=True, check=True)
    assert "demo" in res.stdout


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    out = tmp_path / "demo"
    res = subprocess.run(
        [
            str(TALENTML),
            "demo",
            "--out",
            str(out),
            "--n-employees",
            "150",
            "--start",
            "2022-01-01",
            "--end",
            "2024-12-31",
            "--n-estimators",
            "20",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={"TALENTML_SHOW_PROGRESS": "0", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "voluntary turnover" in res.stdout
    assert "mlflow ui --backend-store-uri sqlite:///" in res.stdout
    # the top reasons of the highest-risk employees, in words, and the report
    assert "Highest flight risk at the last cutoff, and why:" in res.stdout
    assert "Report: " in res.stdout and (out / "report.html").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["organization"]["employees_ever"] > 150
    assert summary["top_reasons"] and all(row["reasons"] for row in summary["top_reasons"])
    assert summary["models"]["flight_risk.roc_auc"] > 0.5
    ingest = summary["ingest"]
    assert ingest["read"] == summary["organization"]["raw_statements"]
    for name in ("employees", "reviews", "statements", "identities"):
        assert (out / "tables" / f"{name}.parquet").exists()
    # The run is in the local MLflow store with its metrics; each model was trained once, in
    # one run, and the report links the organization's run and the three models' runs.
    with closing(sqlite3.connect(out / "mlflow.db")) as db:
        runs = {r[0] for r in db.execute("select run_uuid from runs").fetchall()}
        aliases = set(db.execute("select name, alias from registered_model_aliases"))
        metrics = dict(db.execute("select key, value from metrics"))
    models = {m["run_id"] for m in summary["registered"].values()}
    assert runs == {summary["mlflow_run_id"], *models} and len(models) == 3
    report = (out / "report.html").read_text(encoding="utf-8")
    assert all(run in report for run in runs)
    for m in summary["registered"].values():
        assert f"registered {m['registered_name']} v1 @champion: {m['metric']}" in res.stdout
    for name in ("talentml-flight-risk", "talentml-high-potential", "talentml-ramp-up"):
        assert (name, "champion") in aliases
    assert metrics["org.oracle_auc_180d"] == pytest.approx(
        summary["organization"]["oracle_auc_180d"]
    )
    # No raw e-mail address or display name reaches the MLflow store or the summary.
    text = (out / "summary.json").read_text() + json.dumps(metrics)
    assert "@acme.example" not in text
