"""Real MLflow servers on 127.0.0.1 for the serving tests: start, wait, stop; a small world."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

START_TIMEOUT = 240


def server_env() -> dict[str, str]:
    """The environment of a server child: quiet, and this environment's scripts first (the
    model server execs ``uvicorn`` by name)."""
    return {
        **os.environ,
        "PYTHONWARNINGS": "ignore",
        "TALENTML_SHOW_PROGRESS": "0",
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }


def model_server(model: str, port: int, log: Path, env: dict[str, str]) -> subprocess.Popen:
    """``mlflow models serve`` of ``model`` on 127.0.0.1:``port`` (one worker, no pickle)."""
    return start(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", model, "--env-manager",
         "local", "--host", "127.0.0.1", "-p", str(port), "-w", "1"],
        log,
        {**env, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false"},
    )  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=log.parent,
            start_new_session=True,
        )


def wait(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or busy starting
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {START_TIMEOUT} s:\n{log.read_text()[-4000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def synthetic(n_employees: int = 400, seed: int = 5):
    rng = np.random.default_rng(seed)
    ids = [f"E{i:04d}" for i in range(n_employees)]
    as_of = pd.date_range("2024-01-01", periods=3, freq="QS", tz="UTC")
    X = pd.DataFrame({"employee_id": np.repeat(ids, 3), "as_of": np.tile(as_of, n_employees)})
    n = len(X)
    X["days_since_last_activity"] = rng.exponential(30, n).round()
    X["voluntary_dropoff_30d_vs_prior_90d"] = rng.uniform(-1, 1, n)
    X["n_completed_90d"] = rng.poisson(4, n).astype(float)
    X["rating_latest"] = rng.integers(1, 6, n).astype(float)
    X["department"] = rng.choice(["Sales", "Engineering", "Finance"], n)
    X.loc[rng.random(n) < 0.05, "rating_latest"] = np.nan
    logit = -2.5 + X["days_since_last_activity"] / 40 - 0.3 * (X["rating_latest"].fillna(3) - 3)
    y = pd.DataFrame(
        {
            "employee_id": X["employee_id"],
            "as_of": X["as_of"],
            "label": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )
    return X, y


def payload(frame: pd.DataFrame, **params) -> dict:
    # full float precision (DataFrame.to_json rounds to 10 digits)
    data = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    body = {"dataframe_split": {"columns": list(frame.columns), "data": data}}
    if params:
        body["params"] = params
    return body


def tracking_server(
    root: Path, port: int, env: dict[str, str], *extra: str, name: str = "tracking"
) -> subprocess.Popen:
    """``mlflow server`` on 127.0.0.1:``port`` with a SQLite store and local artifacts."""
    return start(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
         f"sqlite:///{root / (name + '.db')}", "--artifacts-destination",
         str(root / f"{name}-artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", *extra],
        root / f"{name}.log",
        env,
    )  # fmt: skip
