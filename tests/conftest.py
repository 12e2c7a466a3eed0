"""Shared fixtures: simulated organizations and the path of the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("TALENTML_SHOW_PROGRESS", "0")

# Several pytest-xdist workers share the cores: one OpenMP/BLAS thread each. XGBoost's and
# BLAS's thread pools sized to every core in every worker oversubscribe the machine, and
# OpenMP's spinning threads then slow a test many times over (an XGBoost fit measured 5 s
# alone and 134 s beside another worker). Set before anything loads the OpenMP runtime.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` relative to the repository root (real third-party data)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data folder is missing: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def org():
    """A 2,000-employee organization over three years with the default effects."""
    from talentml.datasets import simulate_workforce

    return simulate_workforce(n_employees=2_000, random_state=0, show_progress=False)


@pytest.fixture(scope="session")
def org_null():
    """The same organization size with every effect switched off."""
    from talentml.datasets import Effects, simulate_workforce

    return simulate_workforce(
        n_employees=2_000, random_state=1, effects=Effects.none(), show_progress=False
    )


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark (2 cores, bound to 127.0.0.1) per test process, shared by the Spark
    tests; each sets the session time zone it checks."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("talentml-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# ------------------------------------------------------------------------- environments
#: Which environment this run checks (``make test`` sets it; DEVELOPERS.md has the table):
#: ``full`` - the default environment (pandas 2, every extra, the real servers): nothing may be
#: skipped for want of an extra or a second interpreter; ``pandas3`` - pandas 3 on the newest
#: Python, without the extras pinned below pandas 3 and without real servers; unset - whatever
#: is installed (tests that need something missing skip and say what).
PROFILE = os.environ.get("TALENTML_TEST_PROFILE", "")
PROFILES = ("", "full", "pandas3")

#: Tests left out of the pandas 3 run, by marker, and why (printed with ``-rs``).
PANDAS3_SKIPS = {
    "spark": (
        "pandas 3 run: the spark extra pins pandas<3 (PySpark 4.3 says it does not support "
        "pandas 3 yet); Spark runs in the default environment"
    ),
    "lrs": "pandas 3 run: starts a real LRS (ralph); real servers run in the default environment",
    "mlflow_server": (
        "pandas 3 run: starts a real MLflow tracking/model server; real servers run in the "
        "default environment"
    ),
    # tests/test_pandas_parity.py shows that pandas 3 gives the same simulated organization,
    # features, labels, scores, SHAP values and audit as pandas 2, so a statistical property
    # of those outputs holds on both when it holds on one
    "statistical": (
        "pandas 3 run: a statistical property of the simulator's outputs, which the parity "
        "test shows identical on pandas 2 and 3; it runs in the default environment"
    ),
}


def pytest_configure(config):
    if PROFILE not in PROFILES:
        raise pytest.UsageError(
            f"TALENTML_TEST_PROFILE={PROFILE!r}: use one of {[p for p in PROFILES if p]} or unset it"
        )


def pytest_collection_modifyitems(config, items):
    if PROFILE != "pandas3":
        return
    for item in items:
        for marker, why in PANDAS3_SKIPS.items():
            if item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=why))
                break


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In the full run a test may not skip because an extra is missing: that fails instead."""
    outcome = yield
    report = outcome.get_result()
    if (
        PROFILE == "full"
        and report.skipped
        and call.excinfo is not None
        and call.excinfo.errisinstance(pytest.skip.Exception)
        and "could not import" in str(call.excinfo.value)
    ):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in the full run ({call.excinfo.value}): the default environment must "
            "have every extra (make venv installs them)"
        )
