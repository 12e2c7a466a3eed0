"""The demo organization gives the same results on pandas 2 and pandas 3.

``tests/pandas_parity.py`` runs the demo organization (2,000 simulated employees: ingestion,
point-in-time features, labels, the three models, exact SHAP values and reasons, the bias
audit) in two environments that differ only in pandas: ``.venv-pandas3`` (pandas 3 on the
newest Python here) and its twin ``.venv-parity`` (the same interpreter and the same versions
of every other package, pandas 2). ``make test`` creates both; the paths can be overridden
with ``TALENTML_PARITY_PANDAS3`` and ``TALENTML_PARITY_PANDAS2``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "pandas_parity.py"
sys.path.insert(0, str(SCRIPT.parent))

from pandas_parity import compare  # noqa: E402

PYTHONS = {
    "pandas2": Path(
        os.environ.get("TALENTML_PARITY_PANDAS2", ROOT / ".venv-parity" / "bin" / "python")
    ),
    "pandas3": Path(
        os.environ.get("TALENTML_PARITY_PANDAS3", ROOT / ".venv-pandas3" / "bin" / "python")
    ),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Path]:
    missing = {k: str(p) for k, p in PYTHONS.items() if not p.is_file()}
    if missing:
        message = f"no interpreter for the parity check: {missing} (make test creates them)"
        if os.environ.get("TALENTML_TEST_PROFILE") == "full":
            pytest.fail(message)
        pytest.skip(message)
    base = tmp_path_factory.mktemp("parity")
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TALENTML_SHOW_PROGRESS": "0"}
    procs = {
        name: subprocess.Popen(
            [str(python), str(SCRIPT), str(base / name)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, python in PYTHONS.items()
    }
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"{name}: {out[-3000:]}"
    return {name: base / name for name in procs}


def test_the_two_environments_differ_only_in_pandas(results):
    meta = {k: json.loads((p / "meta.json").read_text()) for k, p in results.items()}
    old, new = meta["pandas2"], meta["pandas3"]
    assert old["python"] == new["python"]
    assert old["versions"]["pandas"].startswith("2.")
    assert int(new["versions"]["pandas"].split(".")[0]) >= 3
    for package in ("numpy", "xgboost"):
        assert old["versions"][package] == new["versions"][package], package


def test_features_scores_shap_and_audit_are_equal(results):
    problems = compare(results["pandas2"], results["pandas3"])
    assert not problems, "\n".join(problems[:40])
    # the comparison saw every part: tables, scores of the three models, SHAP, the audit
    names = {p.stem for p in results["pandas3"].glob("*.parquet")}
    assert {"features", "statements", "labels_exit", "labels_hipo", "reasons"} <= names
    scores = np.load(results["pandas3"] / "scores.npz")
    assert set(scores.files) == {"flight_risk", "high_potential", "ramp_up_days"}
    audit = json.loads((results["pandas3"] / "audit.json").read_text())
    assert audit["impact_ratios"] and audit["by_group"]


def test_the_comparison_sees_a_difference(results, tmp_path):
    """A changed score, feature value, column kind or audit figure is reported."""
    copy = tmp_path / "copy"
    shutil.copytree(results["pandas3"], copy)
    assert compare(results["pandas3"], copy) == []
    scores = dict(np.load(copy / "scores.npz"))
    scores["flight_risk"] = scores["flight_risk"].copy()
    scores["flight_risk"][7] += 1e-6
    np.savez(copy / "scores.npz", **scores)
    audit = json.loads((copy / "audit.json").read_text())
    audit["impact_ratios"][0]["impact_ratio"] = 0.5
    (copy / "audit.json").write_text(json.dumps(audit))
    meta = json.loads((copy / "meta.json").read_text())
    meta["dtypes"]["features"]["as_of"] = "datetime[None]"
    (copy / "meta.json").write_text(json.dumps(meta))
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(copy / "features.parquet")
    i = table.column_names.index("tenure_days")
    table = table.set_column(i, "tenure_days", pc.add(table.column(i), 1.0))
    pq.write_table(table, copy / "features.parquet")
    problems = "\n".join(compare(results["pandas3"], copy))
    assert "scores.flight_risk" in problems
    assert "audit.impact_ratios[0].impact_ratio" in problems
    assert "features: column kinds" in problems
    assert "features.tenure_days" in problems
