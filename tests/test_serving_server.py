"""Real servers on 127.0.0.1: an MLflow tracking server (SQLite) and ``mlflow models serve``.

A model is trained and registered through the tracking server, served by MLflow's own model
server (``--env-manager local``, pickle deserialization switched off), and asked over HTTP.
"""

from __future__ import annotations

import json
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

import talentml as tml
from talentml.serving import load
from talentml.tracking import canonical_digests, promote, read_prediction_log, train

pytestmark = pytest.mark.mlflow_server

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 240


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


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    root = tmp_path_factory.mktemp("servers")
    env = {
        **os.environ,
        "PYTHONWARNINGS": "ignore",
        "TALENTML_SHOW_PROGRESS": "0",
        # the model server execs ``uvicorn`` by name: the environment's scripts come first
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    port = free_port()
    tracking = start(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        root / "tracking.log",
        env,
    )
    procs = [tracking]
    uri = f"http://127.0.0.1:{port}"
    previous_uri = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        wait(f"{uri}/health", tracking, root / "tracking.log")
        os.environ["MLFLOW_TRACKING_URI"] = uri
        X, y = synthetic()
        run = train(
            tml.FlightRisk(n_estimators=40, max_depth=3, survival=False, n_jobs=1, random_state=0),
            X,
            y,
            experiment="served",
            register_as="flight-risk",
            tracking_uri=uri,
            n_bootstrap=0,
            shap_rows=200,
            validate=False,  # test_tracking_train checks validate_serving_input
        )
        promote("flight-risk")
        serve_port = free_port()
        served_log = root / "served-predictions.jsonl"
        model_server = start(
            [
                sys.executable,
                "-m",
                "mlflow",
                "models",
                "serve",
                "-m",
                "models:/flight-risk@champion",
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "-p",
                str(serve_port),
                "-w",
                "1",
            ],
            root / "model-server.log",
            {
                **env,
                "MLFLOW_TRACKING_URI": uri,
                "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
                "TALENTML_PREDICTION_LOG": str(served_log),
            },
        )
        procs.append(model_server)
        wait(f"http://127.0.0.1:{serve_port}/ping", model_server, root / "model-server.log")
        yield {
            "uri": uri,
            "invocations": f"http://127.0.0.1:{serve_port}/invocations",
            "X": X,
            "run": run,
            "log": served_log,
        }
    finally:
        for proc in reversed(procs):
            stop(proc)
        if previous_uri is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous_uri


def test_invocations_answer_with_scores_and_reasons(servers):
    X, run = servers["X"], servers["run"]
    rows = X.drop(columns="as_of").sample(6, random_state=0)
    res = requests.post(servers["invocations"], json=payload(rows), timeout=30)
    assert res.status_code == 200, res.text
    got = pd.DataFrame(res.json()["predictions"])
    assert got.columns.tolist() == [
        "employee_id",
        "score",
        "band",
        "reasons",
        "model_name",
        "model_version",
        "prediction_id",
    ]
    local = load("models:/flight-risk@champion", log=None)
    want = local.predict(rows)
    assert got["employee_id"].tolist() == rows["employee_id"].tolist()
    assert got["score"].to_numpy() == pytest.approx(want["score"].to_numpy(), abs=1e-5)
    assert got["band"].tolist() == want["band"].tolist()
    assert got["reasons"].tolist() == want["reasons"].tolist()
    assert set(got["model_version"]) == {run.registered_version} == {"1"}
    assert set(got["model_name"]) == {"flight-risk"}
    first = json.loads(got["reasons"].iloc[0])
    assert first and {"rank", "direction", "code", "feature", "text", "contribution"} <= set(
        first[0]
    )
    assert first[0]["code"].startswith("FR-")
    # the model server appended every prediction to its log, with digests of the inputs
    log = read_prediction_log(servers["log"])
    logged = log.set_index("prediction_id").loc[got["prediction_id"]]
    assert logged["employee_id"].tolist() == rows["employee_id"].tolist()
    assert logged["model_version"].tolist() == ["1"] * len(rows)
    features = local.scorer.features
    digests = canonical_digests(rows[features].astype(object).to_numpy().tolist(), features)
    assert logged["inputs_sha256"].tolist() == digests
    codes = [[r["code"] for r in json.loads(text)] for text in got["reasons"]]
    assert logged["reasons"].tolist() == codes


def test_params_choose_the_reasons(servers):
    rows = servers["X"].drop(columns="as_of").head(3)
    res = requests.post(
        servers["invocations"], json=payload(rows, k=1, direction="both"), timeout=30
    )
    assert res.status_code == 200, res.text
    for text in pd.DataFrame(res.json()["predictions"])["reasons"]:
        reasons = json.loads(text)
        assert 1 <= len(reasons) <= 2
        assert {r["rank"] for r in reasons} == {1}


def test_bad_requests_get_a_4xx_with_a_message(servers):
    X = servers["X"].drop(columns="as_of").head(2)
    url = servers["invocations"]
    missing = requests.post(url, json=payload(X.drop(columns="rating_latest")), timeout=30)
    assert missing.status_code == 400
    assert "rating_latest" in missing.json()["message"]
    text = X.astype({"n_completed_90d": object})
    text["n_completed_90d"] = "many"
    wrong = requests.post(url, json=payload(text), timeout=30)
    assert wrong.status_code == 400
    assert "n_completed_90d" in wrong.json()["message"]
    bad_k = requests.post(url, json=payload(X, k=0), timeout=30)
    assert bad_k.status_code == 400
    assert "k (reasons per prediction)" in bad_k.json()["message"]
    broken = requests.post(
        url, data="{not json", headers={"Content-Type": "application/json"}, timeout=30
    )
    assert broken.status_code == 400
    assert broken.json()["message"]
    unsupported = requests.post(url, data="a,b", headers={"Content-Type": "text/xml"}, timeout=30)
    assert 400 <= unsupported.status_code < 500


def test_the_tracking_server_holds_the_run(servers):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=servers["uri"])
    run = servers["run"]
    artifacts = {a.path for a in client.list_artifacts(run.run_id)}
    assert {"model_card.md", "feature_catalog.json", "plots"} <= artifacts
    assert str(client.get_model_version_by_alias("flight-risk", "champion").version) == "1"
