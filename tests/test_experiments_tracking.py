"""Every experiment script is a tracked MLflow run (issue 10): ``talentml.tracking.log_experiment``.

Each script runs once in its quick mode against a SQLite store in a temporary folder; the
runs are read back with ``MlflowClient`` and compared with the results the script returned
and wrote (params, metrics, child runs, artifacts). No mocks: failures are real ones (a
store that cannot be opened, an artifact folder that cannot be written).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from talentml.tracking import (
    ExperimentRun,
    TrackingError,
    log_experiment,
    metric_name,
    resolve_tracking_uri,
)

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"


def load_script(name: str):
    """An experiment script as a module (under a name of its own: other tests load them too)."""
    spec = importlib.util.spec_from_file_location(f"tracked_{name}", EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """One SQLite store for every run of this module (one migration)."""
    root = tmp_path_factory.mktemp("mlflow")
    return resolve_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")


@pytest.fixture(autouse=True)
def no_env_store(monkeypatch):
    """A tracking URI in the environment must not leak into (or out of) these tests."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def parent_and_children(uri: str, experiment: str) -> tuple:
    """The latest parent run of ``experiment`` and its children by name."""
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None, f"no experiment {experiment!r} in {uri}"
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    parent = max(parents, key=lambda r: r.info.end_time)
    children = {
        r.info.run_name: r
        for r in runs
        if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    }
    return client, parent, children


def artifact_text(client: MlflowClient, run_id: str, path: str, tmp_path: Path) -> str:
    local = client.download_artifacts(run_id, path, str(tmp_path))
    return Path(local).read_text(encoding="utf-8")


def check_common(parent, *, script: str, quick: bool) -> None:
    tags, params = parent.data.tags, parent.data.params
    assert parent.info.status == "FINISHED"
    assert tags["talentml.script"] == f"{script}.py"
    assert tags["mlflow.source.name"] == f"experiments/{script}.py"
    assert tags["quick"] == str(quick)
    if (ROOT / ".git").exists():  # the commit of the checkout the script ran from
        assert len(tags["mlflow.source.git.commit"]) == 40
        assert tags["talentml.git_dirty"] in ("True", "False")
    for name in ("python", "talentml", "xgboost", "scikit-learn", "mlflow"):
        assert params[f"env.{name}"], name
    assert parent.info.end_time >= parent.info.start_time


def assert_metrics_equal(logged: dict[str, float], expected: dict[str, float]) -> None:
    missing = sorted(set(expected) - set(logged))
    assert not missing, missing
    for key, value in expected.items():
        assert logged[key] == pytest.approx(value, rel=1e-12, nan_ok=True), key


# ---------------------------------------------------------------------- the four scripts
def test_public_hr_run(store, tmp_path, capsys):
    public_hr = load_script("public_hr")
    out = tmp_path / "public_hr.json"
    results = public_hr.main(
        [
            "--quick",
            "--quiet",
            "--datasets",
            "ibm",
            "--settings",
            "without",
            "--models",
            "logreg",
            "flightrisk:nested",
            "--presets",
            "default",
            "additive",
            "--out",
            str(out),
            "--tracking-uri",
            store,
        ]
    )
    assert "MLflow run" in capsys.readouterr().out
    # tracking came after the JSON was written and changed nothing in the results
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    client, parent, children = parent_and_children(store, "talentml-experiments/public_hr")
    check_common(parent, script="public_hr", quick=True)
    params = parent.data.params
    assert json.loads(params["models"]) == ["logreg", "flightrisk:nested"]
    assert params["presets.additive.max_depth"] == "1"
    assert params["meta.threads_per_model"] == "1"
    assert sorted(children) == ["ibm.without.flightrisk:nested", "ibm.without.logreg"]
    for row in results["results"]:
        child = children[f"ibm.without.{row['model']}"]
        prefix = metric_name(f"ibm.without.{row['model']}")
        expected = {"fit_s_mean": row["fit_s_mean"], "wall_s": row["wall_s"]}
        for m in ("roc_auc", "pr_auc", "brier", "ece"):
            expected[f"{m}.mean"] = row[m]["mean"]
            expected[f"{m}.sd_folds"] = row[m]["sd_folds"]
            expected[f"{m}.per_seed.0"] = row[m]["per_seed"][0]
        for preset, n in row.get("chosen", {}).items():
            expected[f"chosen.{preset}"] = n
        assert_metrics_equal(child.data.metrics, expected)
        assert_metrics_equal(parent.data.metrics, {f"{prefix}.{k}": v for k, v in expected.items()})
        assert child.data.params["n_folds"] == "2"
        assert child.data.tags["status"] == "ok"
        assert "roc_auc.sd_seeds" not in child.data.metrics  # one seed: no value, not 0
    assert "ibm.without.flightrisk_nested.roc_auc.mean" in parent.data.metrics
    assert json.loads(
        artifact_text(client, parent.info.run_id, "results/public_hr.json", tmp_path)
    ) == (json.loads(out.read_text()))
    table = artifact_text(client, parent.info.run_id, "results/public_hr.md", tmp_path)
    assert table.rstrip("\n") == public_hr.markdown_table(results)


def test_public_hr_merge_of_the_recorded_results(store, tmp_path):
    """``--merge`` of the recorded file: every (dataset, setting, model) of the real run."""
    public_hr = load_script("public_hr")
    recorded = EXPERIMENTS / "results" / "public_hr.json"
    before = recorded.read_bytes()
    results = public_hr.main(["--merge", str(recorded), "--no-write", "--tracking-uri", store])
    assert recorded.read_bytes() == before
    _, parent, children = parent_and_children(store, "talentml-experiments/public_hr")
    assert parent.data.tags["merge"] == "True"
    assert len(children) == len(results["results"]) >= 16
    for row in results["results"]:
        key = f"{row['dataset']}.{row['setting']}.{row['model']}"
        child = children[key]
        assert child.data.tags["status"] == row["status"]
        if row["status"] == "ok":
            assert child.data.metrics["roc_auc.mean"] == row["roc_auc"]["mean"]
            assert parent.data.metrics[metric_name(f"{key}.roc_auc.mean")] == row["roc_auc"]["mean"]
            if row["roc_auc"]["sd_seeds"] is not None:
                assert child.data.metrics["roc_auc.sd_seeds"] == row["roc_auc"]["sd_seeds"]
        else:
            assert not child.data.metrics
            assert child.data.tags["reason"] == row["reason"]


def test_no_track_writes_no_store(tmp_path, monkeypatch):
    public_hr = load_script("public_hr")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'env.db'}")
    recorded = EXPERIMENTS / "results" / "public_hr.json"
    public_hr.main(["--merge", str(recorded), "--no-write", "--no-track"])
    assert not (tmp_path / "env.db").exists()


def test_a_wrong_store_fails_before_the_experiment(tmp_path, capsys):
    public_hr = load_script("public_hr")
    (tmp_path / "a-file").write_text("not a folder")
    bad = f"sqlite:///{tmp_path / 'a-file' / 'mlflow.db'}"
    with pytest.raises(TrackingError, match="cannot open the MLflow tracking store"):
        public_hr.main(
            ["--quick", "--quiet", "--datasets", "ibm", "--models", "logreg", "--no-write"]
            + ["--tracking-uri", bad]
        )
    assert capsys.readouterr().out == ""  # nothing ran


def test_audit_public_run(store, tmp_path, monkeypatch):
    """The environment's MLFLOW_TRACKING_URI is the store when --tracking-uri is not given."""
    audit_public = load_script("audit_public")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    summaries = audit_public.main(["--tables", "ibm_attrition", "--quick", "--no-write"])
    summary = summaries["ibm_attrition"]
    client, parent, children = parent_and_children(store, "talentml-experiments/audit_public")
    check_common(parent, script="audit_public", quick=True)
    assert list(children) == ["ibm_attrition"]
    child = children["ibm_attrition"]
    expected = {"oof_auc_mean": summary["oof_auc_mean"], "high_flags": len(summary["high_flags"])}
    for kind in ("selection", "scoring"):
        for row in summary[f"worst_{kind}"]:
            for key in ("impact_ratio", "p_value"):
                expected[f"worst_{kind}.{row['attribute']}.{key}"] = row[key]
            assert child.data.params[f"worst_{kind}.{row['attribute']}"] == row["group"]
    for m in summary["mitigation"]:
        for metric, values in m["summary"].items():
            expected[f"mitigation.{m['method']}.{metric}.after"] = values["after"]
    assert_metrics_equal(child.data.metrics, expected)
    assert_metrics_equal(
        parent.data.metrics, {f"ibm_attrition.{k}": v for k, v in expected.items()}
    )
    assert {"age_band", "MaritalStatus"} <= {r["attribute"] for r in summary["worst_selection"]}
    assert child.data.params["mitigation_attribute"] == summary["mitigation_attribute"]
    audit = json.loads(
        artifact_text(client, parent.info.run_id, "results/audit_ibm_attrition.json", tmp_path)
    )
    assert audit["schema_version"]
    html = artifact_text(client, parent.info.run_id, "reports/audit_ibm_attrition.html", tmp_path)
    assert html.lstrip().lower().startswith("<!doctype html")
    logged = json.loads(
        artifact_text(client, parent.info.run_id, "results/summaries.json", tmp_path)
    )
    assert logged == json.loads(json.dumps(summaries))


@pytest.mark.slow  # about 25 s: two simulated organizations, eight caregiver-hours checks
def test_audit_caregiver_run(store, tmp_path):
    audit_caregiver = load_script("audit_caregiver")
    report = audit_caregiver.main(["--quick", "--no-write", "--tracking-uri", store])
    client, parent, children = parent_and_children(store, "talentml-experiments/audit_caregiver")
    check_common(parent, script="audit_caregiver", quick=True)
    assert parent.data.params["n_employees"] == str(audit_caregiver.QUICK["n_employees"])
    assert json.loads(parent.data.params["seeds"]) == [0]
    assert list(children) == ["seed_0"]
    assert len(report["headline"]) == 4  # two worlds x two models
    expected = {}
    for row in report["headline"]:
        key = f"{row['world']}.{row['model']}"
        for figure in ("scoring_impact_ratio", "selection_impact_ratio", "scoring_p_value"):
            expected[f"{key}.{figure}"] = row[figure]
        low, high = row["auc_change_normalized_ci"]
        expected[f"{key}.auc_change_normalized_ci_low"] = low
        expected[f"{key}.auc_change_normalized_ci_high"] = high
    # None (no value, e.g. no p-value without a gap) is not logged; "agility+reviews" is
    # written "agility_reviews"
    expected = {metric_name(k): v for k, v in expected.items() if v is not None}
    assert_metrics_equal(children["seed_0"].data.metrics, expected)
    assert_metrics_equal(parent.data.metrics, {f"seed_0.{k}": v for k, v in expected.items()})
    logged = json.loads(
        artifact_text(client, parent.info.run_id, "results/audit_caregiver.json", tmp_path)
    )
    assert logged == report
    names = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert names == {f"figures/{n}" for n in report["figures"]}
    names = {a.path for a in client.list_artifacts(parent.info.run_id, "reports")}
    assert names == {f"reports/{n}" for n in audit_caregiver.REPORT_FILES.values()}


def test_simulator_models_run(store, tmp_path):
    simulator = load_script("simulator_models")
    results = simulator.main(
        [
            "--quick",
            "--n-employees",
            "200",
            "--n-splits",
            "2",
            "--no-ablations",
            "--n-jobs",
            "1",
            "--no-write",
            "--tracking-uri",
            store,
        ]
    )
    # explicit options win over the quick defaults
    assert results["setup"]["n_employees"] == 200
    assert results["setup"]["model_params"]["n_estimators"] == 60
    client, parent, children = parent_and_children(store, "talentml-experiments/simulator_models")
    check_common(parent, script="simulator_models", quick=True)
    assert sorted(children) == ["flight_risk", "high_potential", "ramp_up"]
    for task, metric in (
        ("flight_risk", "roc_auc"),
        ("high_potential", "roc_auc"),
        ("ramp_up", "c_index_interval"),
    ):
        m = results[task]["metrics"][metric]
        expected = {
            f"metrics.{metric}.value": m["value"],
            f"metrics.{metric}.oracle": m["oracle"],
            f"metrics.{metric}.gap": m["gap"],
            f"metrics.{metric}.gap_ci_low": m["gap_ci"][0],
            f"metrics.{metric}.gap_ci_high": m["gap_ci"][1],
            "rows": results[task]["rows"],
        }
        assert_metrics_equal(children[task].data.metrics, expected)
        assert_metrics_equal(parent.data.metrics, {f"{task}.{k}": v for k, v in expected.items()})
        assert children[task].data.params["n_folds"] == str(len(results[task]["folds"]))
    pooled = results["diagnostics"]["flight_risk"]["pooled"]
    assert (
        parent.data.metrics["diagnostics.flight_risk.pooled.observable_oracle"]
        == (pooled["observable_oracle"])
    )
    gap = results["high_potential"]["metrics"]["roc_auc"]["gap"]
    assert parent.data.metrics["goals_met.high_potential_auc_gap"] == float(gap >= -0.03)
    assert parent.data.params["model_params.learning_rate"] == "0.15"
    logged = json.loads(
        artifact_text(client, parent.info.run_id, "results/simulator_models.json", tmp_path)
    )
    assert logged == json.loads(json.dumps(results, default=str))
    table = artifact_text(client, parent.info.run_id, "results/simulator_models.md", tmp_path)
    assert table == simulator.markdown(results)


# --------------------------------------------------------------------- log_experiment
def test_metric_names():
    assert metric_name("ibm.with.flightrisk:nested") == "ibm.with.flightrisk_nested"
    assert metric_name("last_fold_+true_engagement") == "last_fold__true_engagement"
    assert metric_name("audit/min impact-ratio") == "audit/min impact-ratio"
    for bad in ("", "a//b", "/a", "a/", "x" * 251):
        with pytest.raises(ValueError, match="metric_name"):
            metric_name(bad)


def test_tracking_uri_precedence(tmp_path, monkeypatch):
    default = tmp_path / "default.db"
    assert resolve_tracking_uri(default=default, check=False) == f"sqlite:///{default}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///env.db")
    assert resolve_tracking_uri(default=default, check=False) == "sqlite:///env.db"
    assert resolve_tracking_uri("sqlite:///cli.db", default=default, check=False) == (
        "sqlite:///cli.db"
    )
    assert resolve_tracking_uri(default="http://127.0.0.1:1", check=False) == "sqlite:///env.db"


def test_log_experiment_records_what_it_is_given(store, tmp_path):
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "a.png").write_bytes(b"\x89PNG")
    params = {"seeds": [0, 1], "model": {"depth": 4}, "out": None}
    metrics = {"auc": {"mean": 0.8, "sd": None}, "flag": True, "n": 3}
    children = {
        "ibm:with": {"metrics": {"auc": 0.81}, "params": {"seed": 0}, "tags": {"x": "1"}},
        "ibm:without": {"metrics": {"auc": 0.79}},
    }
    given = copy.deepcopy((params, metrics, children))
    run = log_experiment(
        "talentml-experiments/unit",
        params=params,
        metrics=metrics,
        tags={"quick": False, "none": None},
        artifacts={
            "results/r.json": {"auc": math.nan},
            "results/r.md": "| a |\n",
            "plots": tmp_path / "plots",
            "raw.bin": b"\x00\x01",
        },
        children=children,
        run_name="unit",
        tracking_uri=store,
        source=__file__,
        start_time=1_700_000_000.0,
    )
    assert (params, metrics, children) == given  # nothing changed in what was given
    assert isinstance(run, ExperimentRun)
    assert list(run.children) == ["ibm:with", "ibm:without"]
    client = MlflowClient(store)
    logged = client.get_run(run.run_id)
    assert logged.info.start_time == 1_700_000_000_000
    assert logged.info.run_name == "unit"
    assert logged.data.metrics == {
        "auc.mean": 0.8,
        "flag": 1.0,
        "n": 3.0,
        "ibm_with.auc": 0.81,
        "ibm_without.auc": 0.79,
    }
    assert logged.data.params["seeds"] == "[0, 1]"
    assert logged.data.params["model.depth"] == "4"
    assert logged.data.params["out"] == "None"
    assert logged.data.tags["quick"] == "False"
    assert "none" not in logged.data.tags
    assert logged.data.tags["talentml.script"] == "test_experiments_tracking.py"
    child = client.get_run(run.children["ibm:with"])
    assert child.data.tags["mlflow.parentRunId"] == run.run_id
    assert child.data.tags["x"] == "1"
    assert child.data.metrics == {"auc": 0.81}
    assert child.data.params == {"seed": "0"}
    paths = {a.path for a in client.list_artifacts(run.run_id)}
    assert paths == {"plots", "raw.bin", "results"}
    assert artifact_text(client, run.run_id, "results/r.md", tmp_path / "dl") == "| a |\n"
    text = artifact_text(client, run.run_id, "results/r.json", tmp_path / "dl")
    assert math.isnan(json.loads(text)["auc"])
    # the artifacts of a local SQLite store sit next to its database, not in ./mlruns
    db = Path(store.removeprefix("sqlite:///"))
    assert run.artifact_uri.startswith((db.parent / "mlartifacts").as_uri())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metrics": {"auc": "high"}}, TypeError, "metric 'auc' must be a number or None"),
        ({"metrics": {"a:b": 1, "a_b": 2}}, ValueError, "both become 'a_b'"),
        (
            {"metrics": {"s.auc": 1}, "children": {"s": {"metrics": {"auc": 2}}}},
            ValueError,
            "would be logged on the run as 's.auc'",
        ),
        ({"children": {"s": {"metric": {}}}}, ValueError, r"unknown keys \['metric'\]"),
        ({"artifacts": {"r.json": Path("/no/such/file")}}, FileNotFoundError, "does not exist"),
        ({"artifacts": {"../r.json": "x"}}, ValueError, "relative POSIX path"),
        ({"artifacts": {"r.json": object()}}, TypeError, "must be a path, text, bytes"),
        ({"params": {"env": {"python": "2"}}}, ValueError, "reserved for the environment"),
    ],
)
def test_bad_values_are_refused_before_anything_is_logged(store, kwargs, error, match):
    name = "talentml-experiments/refused"
    with pytest.raises(error, match=match):
        log_experiment(name, tracking_uri=store, **kwargs)
    assert MlflowClient(store).get_experiment_by_name(name) is None


def test_a_failure_while_logging_marks_the_run_failed(store, tmp_path):
    client = MlflowClient(store)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the artifact folder should be")
    name = "talentml-experiments/unwritable"
    client.create_experiment(name, artifact_location=(blocker / "artifacts").as_uri())
    with pytest.raises(TrackingError, match="logging the run's artifacts failed") as info:
        log_experiment(name, metrics={"auc": 0.8}, artifacts={"a.txt": "x"}, tracking_uri=store)
    assert info.value.__cause__ is not None
    (failed,) = client.search_runs([client.get_experiment_by_name(name).experiment_id])
    assert failed.info.status == "FAILED"
    assert failed.data.metrics == {"auc": 0.8}


def test_a_deleted_experiment_is_reported(store):
    client = MlflowClient(store)
    name = "talentml-experiments/deleted"
    client.delete_experiment(client.create_experiment(name))
    with pytest.raises(TrackingError, match="is deleted"):
        log_experiment(name, metrics={"auc": 0.8}, tracking_uri=store)


def test_the_source_tags_follow_the_scripts_repository(tmp_path):
    """Commit and dirty flag of the repository holding the script; none outside one."""
    import git

    from talentml.tracking._experiment import _source_tags

    outside = tmp_path / "loose.py"
    outside.write_text("print(1)\n")
    tags = _source_tags(outside)
    assert "mlflow.source.git.commit" not in tags and "talentml.git_dirty" not in tags
    repo = git.Repo.init(tmp_path / "repo")
    script = Path(repo.working_tree_dir) / "exp" / "run.py"
    script.parent.mkdir()
    script.write_text("print(1)\n")
    repo.index.add([str(script)])
    actor = git.Actor("t", "t@example.invalid")
    commit = repo.index.commit("one", author=actor, committer=actor)
    tags = _source_tags(script)
    assert tags["mlflow.source.git.commit"] == commit.hexsha
    assert tags["mlflow.source.name"] == "exp/run.py"
    assert tags["talentml.git_dirty"] == "False"
    script.write_text("print(2)\n")
    assert _source_tags(script)["talentml.git_dirty"] == "True"
