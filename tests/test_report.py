"""The demo report: built from a small simulated organization, rendered in headless Chromium.

The browser test needs the Debian packages ``chromium`` and ``chromium-driver`` (CI installs
them) and ``selenium`` (dev extra); without them it fails, it does not skip.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talentml import PurposeLimitationError
from talentml.report import SECTIONS, build_report
from talentml.report._build import (
    MSG_EMPTY,
    MSG_MAX_ROWS,
    MSG_SUFFIX,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DEBIAN_PACKAGES = "chromium chromium-driver"
N_EMPLOYEES = 250


# ------------------------------------------------------------------------ small inputs
@pytest.fixture(scope="module")
def binary_eval():
    from sklearn.linear_model import LogisticRegression

    from talentml.models import evaluate

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    y = (X[:, 0] + rng.normal(size=400) > 1).astype(int)
    return evaluate(LogisticRegression().fit(X, y), X, y, n_bootstrap=0)


@pytest.fixture(scope="module")
def interval_eval():
    from sklearn.linear_model import LinearRegression

    from talentml.models import evaluate

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 1))
    days = np.exp(4 + 0.3 * X[:, 0] + rng.normal(scale=0.2, size=200))
    bounds = np.c_[days - 10, days + 10]
    return evaluate(LinearRegression().fit(X, days), X, bounds, n_bootstrap=0)


def _reasons(**extra) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "employee_id": ["E1", "E1", "E2"],
            "rank": [1, 2, 1],
            "direction": ["up", "up", "up"],
            "code": ["FR-A-UP", "FR-B-UP", "FR-A-UP"],
            "text": ["reason a", "reason b", "reason a"],
            "score": [0.4, 0.4, 0.7],
        }
    )
    return frame.assign(**extra)


# ------------------------------------------------------------------ input validation
def test_nothing_to_report_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape(MSG_EMPTY)):
        build_report(tmp_path / "r.html")


def test_path_must_be_html(tmp_path: Path, binary_eval) -> None:
    path = str(tmp_path / "r.pdf")
    with pytest.raises(ValueError, match=re.escape(MSG_SUFFIX.format(path=path))):
        build_report(path, flight_risk=binary_eval)
    with pytest.raises(TypeError, match="path must be a str or Path"):
        build_report(42, flight_risk=binary_eval)


@pytest.mark.parametrize("value", [0, -3, 2.5, True])
def test_max_rows_must_be_positive_int(tmp_path: Path, binary_eval, value) -> None:
    with pytest.raises(ValueError, match=re.escape(MSG_MAX_ROWS.format(value=value))):
        build_report(tmp_path / "r.html", flight_risk=binary_eval, max_rows=value)


def test_wrong_object_names_the_parameter(tmp_path: Path, binary_eval) -> None:
    with pytest.raises(TypeError, match="flight_risk must be a talentml.models.Evaluation"):
        build_report(tmp_path / "r.html", flight_risk=pd.DataFrame({"proba": [0.1]}))
    with pytest.raises(TypeError, match="explanation must be a talentml.explain.Explanation"):
        build_report(tmp_path / "r.html", explanation=binary_eval)
    with pytest.raises(TypeError, match="bias_audit must be a talentml.fairness.BiasAudit"):
        build_report(tmp_path / "r.html", bias_audit={"flags": []})
    with pytest.raises(TypeError, match="ingest must be the report of talentml.xapi.ingest"):
        build_report(tmp_path / "r.html", ingest={"read": 1})
    with pytest.raises(TypeError, match="organization must be a mapping or a pandas Series"):
        build_report(tmp_path / "r.html", organization=[("employees", 3)])
    assert not (tmp_path / "r.html").exists()


def test_evaluation_of_the_wrong_kind(tmp_path: Path, binary_eval, interval_eval) -> None:
    with pytest.raises(ValueError, match="ramp_up must be an evaluation of interval bounds"):
        build_report(tmp_path / "r.html", ramp_up=binary_eval)
    with pytest.raises(ValueError, match="flight_risk must be an evaluation of a binary target"):
        build_report(tmp_path / "r.html", flight_risk=interval_eval)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"reasons lacks column\(s\) \['code', 'text'\]"):
        build_report(tmp_path / "r.html", reasons=_reasons().drop(columns=["code", "text"]))
    with pytest.raises(ValueError, match=r"actions lacks column\(s\) \['rule_id'"):
        build_report(tmp_path / "r.html", actions=pd.DataFrame({"employee_id": ["E1"]}))
    with pytest.raises(ValueError, match=r"nine_box lacks column\(s\) \['box', 'persona'\]"):
        build_report(tmp_path / "r.html", nine_box=pd.DataFrame({"employee_id": ["E1"]}))


def test_bad_rows_are_named(tmp_path: Path) -> None:
    reasons = _reasons()
    reasons.loc[2, "employee_id"] = None
    with pytest.raises(ValueError, match=r"reasons: column 'employee_id' is missing in row\(s\) 2"):
        build_report(tmp_path / "r.html", reasons=reasons)
    grid = pd.DataFrame({"employee_id": ["a", "b", "c"], "box": [1, 12, 9], "persona": "x"})
    grid.index = ["r1", "r2", "r3"]
    with pytest.raises(ValueError, match=r"nine_box: column 'box' is not 1-9 in row\(s\) 'r2'"):
        build_report(tmp_path / "r.html", nine_box=grid)


def test_names_and_sensitive_attributes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="column 'full_name' that holds names"):
        build_report(tmp_path / "r.html", reasons=_reasons(full_name="Ada Lovelace"))
    with pytest.raises(ValueError, match="column 'Email' that holds names or contact"):
        build_report(tmp_path / "r.html", reasons=_reasons(Email="ada@example.com"))
    flags = pd.DataFrame(
        {"employee_id": ["E1"], "flag": ["hidden_gem"], "evidence": ["x"], "caregiver": [True]}
    )
    with pytest.raises(PurposeLimitationError, match="sensitive column 'caregiver'"):
        build_report(tmp_path / "r.html", calibration_flags=flags)
    actions = pd.DataFrame(
        {"employee_id": ["E1"], "rule_id": ["r"], "action": ["notify"], "reason": ["x"]}
    )
    with pytest.raises(PurposeLimitationError, match="sensitive column 'Race-Ethnicity'"):
        build_report(tmp_path / "r.html", actions=actions.assign(**{"Race-Ethnicity": "x"}))
    with pytest.raises(ValueError, match="column 'First Name' that holds names"):
        build_report(tmp_path / "r.html", actions=actions.assign(**{"First Name": "Ada"}))
    assert not (tmp_path / "r.html").exists()


def test_mlflow_inputs_are_checked(tmp_path: Path, binary_eval) -> None:
    with pytest.raises(ValueError, match="run_id 'not a run' of 'demo' is not a run id"):
        build_report(tmp_path / "r.html", mlflow_runs={"demo": "not a run"})
    with pytest.raises(ValueError, match=r"mlflow_runs lacks column\(s\) \['run_id'\]"):
        build_report(tmp_path / "r.html", mlflow_runs=pd.DataFrame({"name": ["x"]}))
    with pytest.raises(ValueError, match="mlflow_ui must be an http"):
        build_report(tmp_path / "r.html", flight_risk=binary_eval, mlflow_ui="javascript:alert(1)")


def test_sections_follow_the_inputs_and_the_output_is_reproducible(
    tmp_path: Path, binary_eval, interval_eval
) -> None:
    kwargs = {
        "organization": pd.Series({"employees_ever": 306, "caregiver_share": 0.31}),
        "flight_risk": binary_eval,
        "ramp_up": interval_eval,
        "reasons": _reasons(),
        "mlflow_runs": pd.DataFrame(
            {"name": ["demo"], "run_id": ["a" * 32], "experiment_id": ["1"]}
        ),
        "mlflow_ui": "http://127.0.0.1:5000",
        "show_progress": False,
    }
    a = build_report(tmp_path / "a" / "report.html", **kwargs).read_bytes()
    b = build_report(tmp_path / "b.html", **kwargs).read_bytes()
    assert a == b  # same inputs, same bytes (PNGs without dates)
    text = a.decode("utf-8")
    found = re.findall(r'<section id="([a-z-]+)" data-section="\1">', text)
    assert found == ["summary", "flight-risk", "reasons", "ramp-up", "mlflow"]
    assert 'href="http://127.0.0.1:5000/#/experiments/1/runs/' + "a" * 32 + '"' in text
    # E2 has the higher score: listed first
    assert text.index("<td>E2</td>") < text.index("<td>E1</td>")
    assert '<td class="num">306</td>' in text  # the organization's figures


def test_build_report_docstring_is_valid() -> None:
    from numpydoc.validate import validate

    errors = validate("talentml.report._build.build_report")["errors"]
    enforced = {"GL08", "EX01", "PR01", "PR02", "PR06", "SS03", "RT01"}
    assert not [e for e in errors if e[0] in enforced]


# ------------------------------------------------------------ the pipeline and Chromium
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo pipeline on a small organization: its models trained in real MLflow runs
    (SQLite store in the output folder), registered, and the report linking the runs."""
    from talentml.demo._pipeline import run_pipeline

    out = tmp_path_factory.mktemp("demo")
    result = run_pipeline(
        out,
        n_employees=N_EMPLOYEES,
        random_state=3,
        n_estimators=20,
        n_bootstrap=20,
        mlflow_ui="http://127.0.0.1:5000",
        show_progress=False,
    )
    assert result.tracking_uri == f"sqlite:///{out / 'mlflow.db'}"
    return result, result.report_path


def _browser():
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the report test renders the page in headless "
            f"Chromium; install the Debian packages {DEBIAN_PACKAGES} "
            f"(apt-get install {DEBIAN_PACKAGES})",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover - the dev extra has it
        pytest.fail("selenium is not installed (dev extra)", pytrace=False)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1300,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


# MLflow's SQLite store imports a deprecated SQLAlchemy loader when first used (MLflow's code)
MLFLOW_SQLITE = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SADeprecationWarning")


def test_pipeline_refuses_a_short_history_before_any_work(tmp_path: Path) -> None:
    from talentml.demo._pipeline import run_pipeline

    with pytest.raises(ValueError, match=r"needs at least 1000 days of history .*\(365 days\)"):
        run_pipeline(tmp_path / "out", n_employees=50, start="2024-01-01", end="2024-12-31")
    assert not (tmp_path / "out" / "report.html").exists()


def test_missing_chromium_fails_and_names_the_debian_packages(monkeypatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
    with pytest.raises(
        pytest.fail.Exception, match=f"install the Debian packages {DEBIAN_PACKAGES}"
    ):
        _browser()


@MLFLOW_SQLITE
@pytest.mark.slow  # builds the `demo` fixture: the pipeline on 250 employees, about a minute
def test_pipeline_outputs(demo) -> None:
    result, path = demo
    assert path == result.out / "report.html"
    assert set(result.models) == {"flight_risk", "high_potential", "ramp_up"}
    for name, split in result.splits.items():
        horizon = pd.Timedelta(split.horizon)
        assert (split.X_train["as_of"] + horizon <= split.test_start).all(), name
        assert (split.X_test["as_of"] >= split.test_start).all(), name
    assert result.evaluations["ramp_up"].kind == "interval"
    assert len(result.actions) and len(result.calibration_flags)
    assert result.reasons["employee_id"].nunique() <= 20
    metrics = result.metrics()
    assert 0.0 <= metrics["flight_risk.roc_auc"] <= 1.0
    # activity resolution before features: every video statement counts as its catalog video
    aliases = result.org.truth.activity_aliases
    video = aliases[aliases["platform"] == "Acme Video"]
    resolution = result.resolution
    assert resolution["activities"]["resolved"] == len(video)
    assert resolution["statements"]["resolved"] == int(video["n_accepted"].sum())
    assert resolution["activities"]["unchanged"] == 0
    assert "activity resolution" in result.settings


@MLFLOW_SQLITE
@pytest.mark.slow  # the `demo` fixture (when run alone)
def test_the_report_evaluates_the_registered_models(demo) -> None:
    """One training step: three runs, whose registered champions are the evaluated models."""
    from mlflow import MlflowClient

    from talentml.demo._models import DEMO_EXPERIMENT, DEMO_MODEL_NAMES
    from talentml.demo._pipeline import _snapshot
    from talentml.serving import load

    result, path = demo
    client = MlflowClient(result.tracking_uri)
    experiment = client.get_experiment_by_name(DEMO_EXPERIMENT)
    logged = client.search_runs([experiment.experiment_id])
    # each model trained once: exactly one run per model in the demo's experiment
    assert sorted(r.info.run_id for r in logged) == sorted(r.run_id for r in result.runs.values())
    assert len(logged) == 3
    text = path.read_text(encoding="utf-8")
    for key, name in DEMO_MODEL_NAMES.items():
        run, split = result.runs[key], result.splits[key]
        assert result.models[key] is run.model
        assert result.evaluations[key] is run.evaluation
        champion = client.get_model_version_by_alias(name, "champion")
        assert (champion.run_id, str(champion.version)) == (run.run_id, run.registered_version)
        # fitted on the training rows only, evaluated on the held-out rows only
        data = client.get_run(run.run_id).data
        params = data.params
        assert int(params["split.n_train"]) == len(split.X_train)
        assert int(params["split.n_test"]) == len(split.X_test)
        # the run records the out-of-time split: cutoff and gap
        assert data.tags["talentml.split"] == "out_of_time"
        assert params["split.test_start"] == str(split.test_start.date())
        assert float(params["split.gap_days"]) == pd.Timedelta(split.horizon).days
        horizon = pd.Timedelta(split.horizon)
        assert (split.X_train["as_of"] + horizon <= split.test_start).all(), key
        predictions = run.evaluation.predictions
        held_out = split.X_test.loc[predictions.index]
        assert (held_out["as_of"] >= split.test_start).all(), key
        # the registered champion scores the held-out rows as the report's evaluation did
        served = load(f"models:/{name}@champion", log=None)
        column = "predicted_days" if key == "ramp_up" else "proba"
        np.testing.assert_allclose(
            served.scorer.scores(held_out), predictions[column].to_numpy(), rtol=1e-5
        )
        assert run.run_id in text  # the report links the run
    # the high-potential audit's snapshot rows: the same scores from the registry
    X_snap, _ = _snapshot(result.splits["high_potential"])
    served = load(f"models:/{DEMO_MODEL_NAMES['high_potential']}@champion", log=None)
    np.testing.assert_allclose(
        served.scorer.scores(X_snap),
        result.models["high_potential"].predict_proba(X_snap)[:, 1],
        rtol=1e-5,
    )


@MLFLOW_SQLITE
@pytest.mark.slow  # the `demo` fixture (when run alone), then Chromium
def test_report_renders_in_headless_chromium(demo) -> None:
    result, path = demo
    text = path.read_text(encoding="utf-8")
    # self-contained: no external resource of any kind
    assert not re.search(r"<(?:script|link|iframe)\b", text)
    srcs = re.findall(r'<img src="([^"]{0,40})', text)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    # no name or e-mail address of the simulated organization reaches the page
    org = result.org
    names = {s["actor"].get("name") for s in org.raw_statements[:5000]} - {None}
    emails = set(org.hris_identities["email"].astype(str))
    assert names and emails
    assert not [v for v in names | emails if v in text]

    driver = _browser()
    try:
        driver.get(path.as_uri())
        assert driver.execute_script("return document.readyState") == "complete"
        images = driver.execute_script(
            "return Array.from(document.images).map("
            "i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])"
        )
        sections = driver.execute_script(
            "return Array.from(document.querySelectorAll('section[data-section]'))"
            ".map(s => [s.dataset.section, s.querySelector('h2').textContent])"
        )
        links = driver.execute_script(
            "return Array.from(document.querySelectorAll('nav a')).map(a => a.hash)"
        )
        run_link = driver.execute_script(
            "const a = document.querySelector('#mlflow a'); return a ? a.href : null"
        )
        log = driver.get_log("browser")
    finally:
        driver.quit()
    assert [s for s, _ in sections] == list(SECTIONS)
    assert [t for _, t in sections] == list(SECTIONS.values())
    assert links == [f"#{s}" for s in SECTIONS]
    expected = {
        "calibration of the flight-risk model",
        "lift of the flight-risk model",
        "mean absolute SHAP value of each feature",
        "the 9-box grid with counts",
        "predicted against observed ramp-up days",
        "selection-rate impact ratios",
        "scoring-rate impact ratios",
        "caregiver impact ratio of each variant",
    }
    assert expected <= {alt for alt, *_ in images}
    broken = [alt for alt, complete, w, h in images if not (complete and w > 0 and h > 0)]
    assert not broken, f"figures that did not load: {broken}"
    assert len(images) == text.count("<img ")
    assert run_link.startswith("http://127.0.0.1:5000/#/experiments/")
    assert re.fullmatch(r"[0-9a-f]{32}", run_link.rsplit("/", 1)[-1]), run_link
    errors = [e for e in log if e["level"] == "SEVERE"]
    assert not errors, errors
