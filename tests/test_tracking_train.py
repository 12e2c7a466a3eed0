"""Tracked training in a local MLflow store: what a run holds, registry, pyfunc without pickle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

import talentml as tml
from talentml.serving import load
from talentml.tracking import (
    load_by_alias,
    promote,
    read_prediction_log,
    register,
    table_digest,
    train,
)

pytestmark = [
    # MLflow's SQLite store imports a deprecated SQLAlchemy loader when first used (MLflow's
    # code, not talentml's)
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning"),
]

ROOT = Path(__file__).resolve().parent.parent


def synthetic(n_employees: int = 500, seed: int = 0):
    """A small spine with catalog features, labels and a sensitive table."""
    rng = np.random.default_rng(seed)
    ids = [f"E{i:04d}" for i in range(n_employees)]
    as_of = pd.date_range("2024-01-01", periods=3, freq="QS", tz="UTC")
    X = pd.DataFrame(
        {
            "employee_id": np.repeat(ids, len(as_of)),
            "as_of": np.tile(as_of, n_employees),
        }
    )
    n = len(X)
    X["days_since_last_activity"] = rng.exponential(30, n).round()
    X["n_completed_90d"] = rng.poisson(4, n).astype(float)
    X["rating_latest"] = rng.integers(1, 6, n).astype(float)
    X["tenure_days"] = rng.uniform(30, 3000, n).round()
    X["department"] = rng.choice(["Sales", "Engineering", "Finance"], n)
    X.loc[rng.random(n) < 0.05, "rating_latest"] = np.nan
    logit = -2.5 + X["days_since_last_activity"] / 40 - 0.3 * (X["rating_latest"].fillna(3) - 3)
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    y = pd.DataFrame({"employee_id": X["employee_id"], "as_of": X["as_of"], "label": label})
    sensitive = pd.DataFrame(
        {
            "employee_id": ids,
            "sex": rng.choice(["female", "male"], n_employees),
            "caregiver": rng.random(n_employees) < 0.3,
        }
    )
    return X, y, sensitive


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    X, y, sensitive = synthetic()
    os.environ["TALENTML_PREDICTION_LOG"] = str(root / "predictions.jsonl")
    first = train(
        tml.FlightRisk(n_estimators=40, max_depth=3, survival=False, n_jobs=1, random_state=0),
        X,
        y,
        experiment="flight-risk-tests",
        sensitive=sensitive,
        register_as="flight-risk",
        n_bootstrap=30,
        audit_options={"n_bootstrap": 0, "proxies": False},
        shap_rows=300,
    )
    yield {"root": root, "uri": uri, "X": X, "y": y, "sensitive": sensitive, "first": first}
    os.environ.pop("TALENTML_PREDICTION_LOG", None)
    mlflow.set_tracking_uri(before)


def test_the_run_records_everything(store):
    run = store["first"]
    X, y = store["X"], store["y"]
    client = MlflowClient()
    data = client.get_run(run.run_id).data
    assert data.tags["talentml.model_class"] == "FlightRisk"
    assert data.tags["talentml.features_sha256"] == table_digest(X)
    for metric in ("test.roc_auc", "test.roc_auc.ci_low", "test.roc_auc.ci_high"):
        assert metric in data.metrics
    assert data.metrics["test.roc_auc.ci_low"] <= data.metrics["test.roc_auc"]
    assert data.metrics["test.roc_auc"] > 0.6
    assert "audit.flags_high" in data.metrics
    assert data.params["model.n_estimators"] == "40"
    # spine data: out of time by default, the last period held out after a horizon's gap
    assert data.tags["talentml.split"] == "out_of_time"
    assert data.params["split.kind"] == "out_of_time"
    assert data.params["split.test_start"] == "2024-07-01"
    assert data.params["split.gap_days"] == "180"  # FlightRisk's horizon
    # 2024-04-01 + 180 days is after 2024-07-01: those rows' labels were not known then
    assert (data.params["split.n_gap"], data.params["split.n_train"]) == ("500", "500")
    assert run.split["n_test"] == 500 and "out of time" in data.params["split.rule"]
    inputs = client.get_run(run.run_id).inputs.dataset_inputs
    names = {d.dataset.name: d.dataset for d in inputs}
    assert set(names) == {"spine", "features"}
    assert names["features"].digest == table_digest(X)[:32]
    spine = X[["employee_id", "as_of"]].assign(label=y["label"].to_numpy())
    assert names["spine"].digest == table_digest(spine)[:32]
    files = {
        f.path
        for top in client.list_artifacts(run.run_id)
        for f in ([top] if not top.is_dir else client.list_artifacts(run.run_id, top.path))
    }
    for expected in (
        "model_card.md",
        "model_card.json",
        "feature_catalog.json",
        "evaluation/evaluation.json",
        "plots/calibration.png",
        "plots/lift.png",
        "plots/shap_beeswarm.png",
        "plots/shap_importance.png",
        "audit/bias_audit.json",
        "audit/bias_audit.html",
    ):
        assert expected in files, expected
    card = run.card
    assert "Prohibited uses" in card and "termination" in card
    assert "## Metrics by group (bias audit)" in card and "female" in card
    assert "2024-01-01" in card and "2024-07-01" in card  # the data window
    assert "- split: out_of_time" in card and "- n gap: 500" in card
    catalog = mlflow.load_table("feature_catalog.json", run_ids=[run.run_id])
    assert set(catalog["name"]) == {
        "days_since_last_activity",
        "n_completed_90d",
        "rating_latest",
        "tenure_days",
        "department",
    }


def test_registered_version_is_written_into_the_model(store):
    run = store["first"]
    assert (run.registered_name, run.registered_version) == ("flight-risk", "1")
    client = MlflowClient()
    assert str(client.get_model_version_by_alias("flight-risk", "challenger").version) == "1"
    served = load("models:/flight-risk@challenger")
    out = served.predict(store["X"].head(3))
    assert out["model_version"].tolist() == ["1"] * 3
    assert out["model_name"].tolist() == ["flight-risk"] * 3
    # what mlflow models serve would read: the version inside the model's own files
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=run.model_uri))
    serving = json.loads(next(local.rglob("serving.json")).read_text())
    assert serving["model_version"] == "1"
    assert not [p for p in local.rglob("*") if p.suffix in (".pkl", ".pickle", ".cloudpickle")]
    assert {p.name for p in local.rglob("*.ubj")} == {"booster.ubj"}
    log = read_prediction_log(store["root"] / "predictions.jsonl")
    assert len(log) == 3  # logging the model (input example, serving check) is not served


def test_second_training_promotion_and_aliases(store):
    X, y = store["X"], store["y"]
    second = train(
        tml.FlightRisk(n_estimators=50, max_depth=3, survival=False, n_jobs=1, random_state=1),
        X,
        y,
        experiment="flight-risk-tests",
        register_as="flight-risk",
        test_from="2024-07-01",
        horizon="90D",
        n_bootstrap=0,
        shap_rows=200,
        validate=False,
    )
    assert second.registered_version == "2"
    assert "out of time" in second.split["rule"]
    assert "No bias audit was run" in second.card
    assert promote("flight-risk") == "2"
    client = MlflowClient()
    assert str(client.get_model_version_by_alias("flight-risk", "champion").version) == "2"
    assert promote("flight-risk", 1) == "1"
    assert str(client.get_model_version_by_alias("flight-risk", "challenger").version) == "2"
    champion = load_by_alias("flight-risk", log=None)
    assert champion.model_version == "1"
    assert load_by_alias("flight-risk", "challenger", log=None).model_version == "2"


def test_register_a_logged_model_by_uri(store):
    X, y = store["X"], store["y"]
    run = train(
        tml.HighPotential(n_estimators=20, max_depth=3, n_jobs=1, random_state=0),
        X,
        y,
        experiment="hipo-tests",
        horizon="180D",  # the synthetic labels' window (HighPotential's own is 365 days)
        n_bootstrap=0,
        shap_rows=200,
    )
    assert run.registered_version is None
    assert load(run.model_uri, log=None).model_version == "unregistered"
    mv = register(run.model_uri, "high-potential", aliases=["challenger"])
    assert str(mv.version) == "1"
    served = load("models:/high-potential@challenger", log=None)
    assert served.model_version == "1" and served.model_name == "high-potential"
    a = served.predict(X.head(20))
    b = load(run.model_uri, log=None).predict(X.head(20))
    assert a["score"].tolist() == b["score"].tolist()


def test_pyfunc_loads_without_pickle_in_a_fresh_process(store):
    X = store["X"]
    rows = X.drop(columns="as_of").head(4)
    code = (
        "import io, json, sys, mlflow, pandas as pd\n"
        "mlflow.set_tracking_uri(sys.argv[1])\n"
        "m = mlflow.pyfunc.load_model('models:/flight-risk/1')\n"
        "rows = pd.read_json(io.StringIO(sys.argv[2]), orient='split')\n"
        "num = [c for c in rows.columns if c not in ('employee_id', 'department')]\n"
        "rows[num] = rows[num].astype('float64')  # the signature's doubles\n"
        "out = m.predict(rows)\n"
        "print(json.dumps(out.to_dict(orient='list')))\n"
    )
    env = {
        **os.environ,
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false",
        "TALENTML_PREDICTION_LOG": str(store["root"] / "subprocess.jsonl"),
        "PYTHONWARNINGS": "ignore",
    }
    res = subprocess.run(
        [sys.executable, "-c", code, store["uri"], rows.to_json(orient="split")],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    local = load("models:/flight-risk/1", log=None).predict(rows)
    assert out["score"] == pytest.approx(local["score"].tolist(), abs=1e-5)
    assert out["model_version"] == ["1"] * 4
    assert out["reasons"] == local["reasons"].tolist()
    log = read_prediction_log(store["root"] / "subprocess.jsonl")
    assert log["prediction_id"].tolist() == out["prediction_id"]
    assert log["employee_id"].tolist() == rows["employee_id"].tolist()
    assert not set(log.columns) & {"sex", "caregiver", "tenure_days", "department"}


def test_train_checks_its_inputs(store):
    X, y = store["X"], store["y"]
    with pytest.raises(TypeError, match="talentml's"):
        train(object(), X, y, experiment="x")
    with pytest.raises(ValueError, match="y has 3 rows but X has"):
        train(tml.FlightRisk(), X, y.head(3), experiment="x")
    with pytest.raises(ValueError, match="the split leaves 0 training"):
        train(tml.FlightRisk(), X, y, experiment="x", test_from="2020-01-01")
    with pytest.raises(tml.PurposeLimitationError):
        train(
            tml.FlightRisk(n_estimators=5),
            X.assign(sex="female"),
            y,
            experiment="x",
            n_bootstrap=0,
        )


def test_train_checks_the_held_out_rows_it_is_given(store):
    # the demo hands train() its own out-of-time split (X_test, y_test): checked up front
    X, y = store["X"], store["y"]
    train_rows = (X["as_of"] < "2024-07-01").to_numpy()
    X_train, y_train = X[train_rows], y[train_rows]
    X_test, y_test = X[~train_rows], y[~train_rows]
    model = tml.FlightRisk(n_estimators=5)
    with pytest.raises(ValueError, match="give X_test and y_test together"):
        train(model, X_train, y_train, experiment="x", X_test=X_test)
    with pytest.raises(ValueError, match="pass one or the other"):
        train(model, X_train, y_train, experiment="x", X_test=X_test, y_test=y_test, test_from=1)
    with pytest.raises(ValueError, match="y_test has 3 rows but X_test has"):
        train(model, X_train, y_train, experiment="x", X_test=X_test, y_test=y_test.head(3))
    lacking = X_test.drop(columns="department")
    with pytest.raises(ValueError, match=r"X_test lacks the training column\(s\) \['department'\]"):
        train(model, X_train, y_train, experiment="x", X_test=lacking, y_test=y_test)
    with pytest.raises(TypeError, match="X_test must be a pandas DataFrame"):
        train(model, X_train, y_train, experiment="x", X_test=X_test.to_numpy(), y_test=y_test)


def test_cli_train_command(store, tmp_path):
    import typer
    from typer.testing import CliRunner

    from talentml.cli._train import train_command

    X, y = store["X"], store["y"]
    X.to_parquet(tmp_path / "X.parquet")
    y.to_parquet(tmp_path / "y.parquet")
    app = typer.Typer()
    app.command("train")(train_command)
    app.command("noop")(lambda: None)
    res = CliRunner().invoke(
        app,
        [
            "train",
            str(tmp_path / "X.parquet"),
            str(tmp_path / "y.parquet"),
            "--model",
            "flight-risk",
            "--experiment",
            "cli-tests",
            "--tracking-uri",
            store["uri"],
            "--register-as",
            "flight-risk-cli",
            "--n-estimators",
            "20",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "registered flight-risk-cli version 1" in res.output
    assert "roc_auc" in res.output


def test_out_of_time_split_censors_training_targets_at_the_split_date():
    """A training row's exit after ``test_from`` was not known then: censored at the cut."""
    from talentml.tracking._train import _split_rows

    as_of = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-08-01"], utc=True)
    X = pd.DataFrame({"employee_id": ["a", "b", "c", "d"], "as_of": as_of, "f": [1.0, 2, 3, 4]})
    y = pd.DataFrame(
        {
            "label": [0, 1, 0, 1],
            "duration_days": [400.0, 100.0, 20.0, 30.0],
            "event": pd.array([1, 1, 0, 1], dtype="Int64"),
        }
    )
    X_train, X_test, y_train, y_test, split = _split_rows(
        X, y, test_size=0.2, test_from="2024-07-01", horizon="90D", random_state=0
    )
    assert X_train["employee_id"].tolist() == ["a", "b", "c"]
    assert X_test["employee_id"].tolist() == ["d"]
    assert "cut" not in split and split["n_train"] == 3
    # a: exit 400 days after 2024-01-01 is after the cut (182 days later): censored there
    assert y_train["duration_days"].tolist() == [182.0, 100.0, 20.0]
    assert y_train["event"].tolist() == [0, 1, 0]
    assert y_test["duration_days"].tolist() == [30.0]  # test targets are what happened
    # no time (no as_of): by employee at random, with a warning; targets untouched
    with pytest.warns(UserWarning, match="split at random by employee"):
        _, _, y_train, _, split = _split_rows(
            X.drop(columns="as_of"), y, test_size=0.5, test_from=None, horizon=None, random_state=0
        )
    assert set(y_train["duration_days"]) <= {400.0, 100.0, 20.0, 30.0}
    assert split["kind"] == "random_by_employee"


# ------------------------------------------------------------------ the default split
def monthly_panel(n_employees: int = 60, months: int = 24, seed: int = 1):
    """A monthly spine with survival labels; the last six months' labels are not known."""
    rng = np.random.default_rng(seed)
    as_of = pd.date_range("2023-01-01", periods=months, freq="MS", tz="UTC")
    X = pd.DataFrame(
        {
            "employee_id": np.tile([f"E{i:03d}" for i in range(n_employees)], months),
            "as_of": np.repeat(as_of, n_employees),
        }
    )
    n = len(X)
    X["tenure_days"] = rng.uniform(30, 3000, n).round()
    duration = rng.exponential(400, n).round() + 1
    label = (duration <= 180).astype(float)
    label[(X["as_of"] > as_of[-7]).to_numpy()] = np.nan  # horizon not observed yet
    y = pd.DataFrame(
        {
            "label": pd.array(label, dtype="Float64"),
            "duration_days": duration,
            "event": pd.array(np.ones(n, dtype=int), dtype="Int64"),
        }
    )
    return X, y


def test_the_default_split_is_out_of_time_and_honours_the_gap():
    from talentml.tracking._train import _split_rows

    X, y = monthly_panel()
    X_train, X_test, y_train, y_test, split = _split_rows(
        X, y, test_size=0.25, test_from=None, horizon="180D", random_state=0
    )
    T = pd.Timestamp(split["test_start"], tz="UTC")
    horizon = pd.Timedelta("180D")
    assert split["kind"] == "out_of_time" and split["gap_days"] == 180
    # no training row's label window crosses T; every test row is at or after T
    assert (X_train["as_of"] + horizon <= T).all()
    assert (X_test["as_of"] >= T).all()
    # about a quarter of the labelled rows are test rows (whole months: within one month)
    labelled = y["label"].notna().to_numpy()
    share = X_test["as_of"].isin(X.loc[labelled, "as_of"]).sum() / labelled.sum()
    assert abs(share - 0.25) <= 1 / 18
    # every row is accounted for: training, test, inside the gap, or after the last label
    in_gap = ((X["as_of"] < T) & (X["as_of"] + horizon > T)).sum()
    later = (X["as_of"] > X.loc[labelled, "as_of"].max()).sum()
    assert split["n_gap"] == in_gap and split["n_later"] == later
    assert split["n_train"] + split["n_test"] + split["n_gap"] + split["n_later"] == len(X)
    # training durations are what was known at T: censored there
    room = ((T - X_train["as_of"]) / pd.Timedelta(days=1)).to_numpy()
    assert (y_train["duration_days"].to_numpy() <= room).all()
    # (the training rows keep X's order)
    known = y.loc[(X["as_of"] + horizon <= T).to_numpy(), "duration_days"].to_numpy()
    cut = y_train["duration_days"].to_numpy() < known
    assert cut.any()
    assert (y_train["event"].to_numpy()[cut] == 0).all()
    assert len(y_test) == len(X_test)


def test_the_split_gap_defaults_to_the_models_horizon():
    from talentml.tracking._train import _default_horizon

    assert _default_horizon(tml.FlightRisk(), None) == "180D"
    assert _default_horizon(tml.HighPotential(), None) == "365D"
    assert _default_horizon(tml.RampUp(), None) == "180D"  # no horizon parameter
    assert _default_horizon(tml.HighPotential(), "90D") == "90D"  # explicit wins


def test_a_time_split_can_be_given_as_a_timesplit():
    from talentml.models import TimeSplit
    from talentml.tracking._train import _split_rows

    X, y = monthly_panel()
    cv = TimeSplit(n_splits=1, horizon="90D", step="3MS")
    X_train, X_test, _, _, split = _split_rows(
        X, y, test_size=0.25, test_from=None, horizon=None, random_state=0, cv=cv
    )
    held = cv.holdout(X, y)
    assert split["test_start"] == str(held.test_start.date())
    assert X_test["as_of"].nunique() == 3 and split["gap_days"] == 90
    pd.testing.assert_frame_equal(X_train, held.X_train)
    with pytest.raises(ValueError, match="cv and test_from both choose the test period"):
        _split_rows(
            X, y, test_size=0.25, test_from="2024-06-01", horizon="90D", random_state=0, cv=cv
        )
    with pytest.raises(TypeError, match="cv must be a talentml.models.TimeSplit"):
        _split_rows(X, y, test_size=0.25, test_from=None, horizon="90D", random_state=0, cv=3)
    with pytest.raises(ValueError, match="horizon .* must be a positive duration"):
        _split_rows(X, y, test_size=0.25, test_from=None, horizon="soon", random_state=0)
    # too little history for the horizon: named, with what X covers and the fixes
    with pytest.raises(ValueError, match=r"X covers as_of 2023-01-01 to 2024-12-01\. Give more"):
        _split_rows(X, y, test_size=0.25, test_from=None, horizon="900D", random_state=0)
    # a single as_of is no time to split on: at random by employee, with a warning
    one = X[X["as_of"] == X["as_of"].min()].reset_index(drop=True)
    with pytest.warns(UserWarning, match=r"X has a single as_of \(2023-01-01\)"):
        *_, split = _split_rows(
            one, y.head(len(one)), test_size=0.25, test_from=None, horizon=None, random_state=0
        )
    assert split["kind"] == "random_by_employee"


def test_a_run_without_time_says_it_was_split_at_random(store):
    X, y = store["X"], store["y"]
    with pytest.warns(UserWarning, match="split at random by employee") as caught:
        run = train(
            tml.FlightRisk(n_estimators=10, max_depth=2, survival=False, n_jobs=1),
            X.drop(columns="as_of"),
            y["label"],
            experiment="flight-risk-tests",
            n_bootstrap=0,
            shap_rows=100,
            validate=False,
        )
    assert caught[0].filename == __file__  # the warning points at the caller
    data = MlflowClient().get_run(run.run_id).data
    assert data.tags["talentml.split"] == "random_by_employee"
    assert data.params["split.kind"] == "random_by_employee"
    assert "overstate" in data.params["split.warning"]
    assert run.split["kind"] == "random_by_employee"
    assert "- split: random_by_employee" in run.card and "- warning: train: X has no" in run.card
    # every employee is on one side only
    held_out = set(run.evaluation.predictions["employee_id"])
    assert 0 < len(held_out) < X["employee_id"].nunique()
