"""Real servers on 127.0.0.1: an MLflow tracking server (SQLite) and ``mlflow models serve``.

A model is trained and registered through the tracking server, served by MLflow's own model
server (``--env-manager local``, pickle deserialization switched off), and asked over HTTP.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import requests

import talentml as tml
from serving_support import (
    free_port,
    model_server,
    payload,
    server_env,
    stop,
    synthetic,
    tracking_server,
    wait,
)
from talentml.serving import ModelIntegrityError, load
from talentml.tracking import canonical_digests, promote, read_prediction_log, train

pytestmark = pytest.mark.mlflow_server

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = [
    "employee_id",
    "score",
    "band",
    "reasons",
    "input_warnings",
    "model_name",
    "model_version",
    "prediction_id",
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    root = tmp_path_factory.mktemp("servers")
    env = server_env()
    port = free_port()
    tracking = tracking_server(root, port, env)
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
        server = model_server(
            "models:/flight-risk@champion",
            serve_port,
            root / "model-server.log",
            {**env, "MLFLOW_TRACKING_URI": uri, "TALENTML_PREDICTION_LOG": str(served_log)},
        )
        procs.append(server)
        wait(f"http://127.0.0.1:{serve_port}/ping", server, root / "model-server.log")
        yield {
            "root": root,
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
    assert got.columns.tolist() == OUTPUT
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


def post(servers, body, **kwargs) -> requests.Response:
    return requests.post(servers["invocations"], json=body, timeout=30, **kwargs)


def test_the_guard_over_http(servers):
    """Each guard case through MLflow's own server: flagged, refused, warned, reported."""
    X = servers["X"].drop(columns="as_of")
    rows = X.head(4).astype({"days_since_last_activity": object, "department": object})
    rows.iloc[0, rows.columns.get_loc("days_since_last_activity")] = None  # never missing
    rows.iloc[1, rows.columns.get_loc("department")] = "Legal"  # unseen level
    rows.iloc[2, rows.columns.get_loc("days_since_last_activity")] = 10**6  # out of range
    res = post(servers, payload(rows.assign(hobby="chess")))
    assert res.status_code == 200, res.text
    got = pd.DataFrame(res.json()["predictions"])
    kinds = [[(w["kind"], w["column"]) for w in json.loads(t)] for t in got["input_warnings"]]
    unused = ("unused_columns", None)
    assert kinds == [
        [("missing", "days_since_last_activity"), unused],
        [("unknown_category", "department"), unused],
        [("out_of_range", "days_since_last_activity"), unused],
        [unused],
    ]
    assert got["band"].tolist()[:2] == ["low confidence"] * 2
    assert "low confidence" not in got["band"].tolist()[2:]
    # the policy "refuse": a 400 naming the column and the row, no score
    refused = post(servers, payload(rows, on_missing="refuse"))
    assert refused.status_code == 400
    assert "'days_since_last_activity' has no value" in refused.json()["message"]
    assert "predictions" not in refused.json()
    # purpose limitation at the door: refused, every field named
    bad = post(servers, payload(X.head(2).assign(gender="f", Age=40, label=1)))
    assert bad.status_code == 400
    message = bad.json()["message"]
    assert all(name in message for name in ("gender", "Age", "label"))
    # the served log carries the warnings, not the inputs
    log = read_prediction_log(servers["log"]).set_index("prediction_id")
    assert log.loc[got["prediction_id"].iloc[0], "input_warnings"] == [
        "missing:days_since_last_activity",
        "unused_columns",
    ]


def test_any_client_dtypes_are_answered(servers):
    """The training frame itself (ints, datetimes), JSON records, instances and inputs."""
    X = servers["X"]
    frame = X.head(5).astype({"n_completed_90d": "int64", "rating_latest": "Int64"})
    orient_split = json.loads(frame.to_json(orient="split", date_format="iso", index=False))
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    answers = []
    for body in (
        {"dataframe_split": orient_split},
        {"dataframe_records": records},
        {"instances": records},
        {"inputs": {c: [r[c] for r in records] for c in frame.columns}},
    ):
        res = post(servers, body)
        assert res.status_code == 200, (list(body), res.text)
        answers.append(pd.DataFrame(res.json()["predictions"]))
    local = load("models:/flight-risk@champion", log=None).predict(X.head(5))
    for got in answers:
        assert got["score"].to_numpy() == pytest.approx(local["score"].to_numpy(), abs=1e-5)
        assert got["reasons"].tolist() == local["reasons"].tolist()
        assert (got["input_warnings"] == "[]").all()


@pytest.mark.filterwarnings("ignore::FutureWarning")  # MLflow's pyfunc loader, see _registry
def test_a_tampered_artifact_is_refused_at_load(servers):
    """A changed file, a pickle slipped in, a rewritten manifest: refused with a clear error."""
    import mlflow

    run = servers["run"]
    store = servers["root"] / "tracking-artifacts"
    (scorer_dir,) = {p.parent for p in store.rglob("serving.json")}
    serving = scorer_dir / "serving.json"
    original = serving.read_bytes()
    try:
        doc = json.loads(original)
        doc["bands"]["thresholds"] = [0.9, 0.95]  # every answer "low"
        serving.write_text(json.dumps(doc))
        with pytest.raises(ModelIntegrityError, match=r"changed since it was written.*serving"):
            load(run.model_uri, log=None)
        with pytest.raises(ModelIntegrityError):
            mlflow.pyfunc.load_model(run.model_uri)  # what mlflow models serve runs
        from talentml.serving.artifact import write_manifest

        manifest = scorer_dir / "manifest.json"
        kept = manifest.read_bytes()
        write_manifest(scorer_dir)  # the manifest rewritten to match: the run's record differs
        with pytest.raises(ModelIntegrityError, match="not the ones recorded when it was logged"):
            load(run.model_uri, log=None)
        manifest.write_bytes(kept)
        serving.write_bytes(original)
        slipped = scorer_dir.parent / "python_model.pkl"
        slipped.write_bytes(b"\x80\x04K\x01.")
        with pytest.raises(ModelIntegrityError, match=r"pickle file\(s\)"):
            load(run.model_uri, log=None)
        slipped.unlink()
    finally:
        serving.write_bytes(original)
    assert load(run.model_uri, log=None).predict(servers["X"].head(1))["score"].notna().all()
