"""A quick run of the code path of ``experiments/public_hr.py`` (2 folds, 20 trees)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "experiments" / "public_hr.py"


@pytest.fixture(scope="module")
def public_hr():
    spec = importlib.util.spec_from_file_location("public_hr", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["public_hr"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("public_hr", None)


@pytest.fixture(scope="module")
def quick_ibm(public_hr, shared_data):
    return public_hr.run(
        ["ibm"],
        settings=["without", "with"],
        models=["logreg", "xgboost", "flightrisk", "flightrisk:nested", "flightrisk:additive"],
        seeds=[0],
        folds=2,
        inner_folds=2,
        presets=["default", "additive"],
        quick=True,
        progress=False,
    )


def test_quick_run_structure_and_sanity(quick_ibm):
    rows = quick_ibm["results"]
    assert len(rows) == 2 * 5
    for row in rows:
        assert row["status"] == "ok", row
        assert row["n_rows"] == 1470
        assert row["positive_rate"] == pytest.approx(0.1612, abs=1e-4)
        assert len(row["folds"]) == 2
        # even 20 trees or a default logistic regression rank far better than chance here
        assert 0.7 < row["roc_auc"]["mean"] <= 1.0, (row["model"], row["roc_auc"])
        assert 0.0 <= row["ece"]["mean"] <= 1.0
        assert 0.0 < row["brier"]["mean"] < 0.25
    n_features = {(r["setting"]): r["n_features"] for r in rows}
    assert n_features == {"without": 27, "with": 30}
    json.dumps(quick_ibm)  # JSON-able


def test_nested_choice_uses_inner_folds_only(quick_ibm):
    nested = [r for r in quick_ibm["results"] if r["model"] == "flightrisk:nested"]
    assert len(nested) == 2
    for row in nested:
        for fold in row["folds"]:
            assert fold["chosen"] in ("default", "additive")
            inner = fold["inner_roc_auc"]
            assert set(inner) == {"default", "additive"}
            # the chosen preset is the best by inner CV, never by the outer test fold
            assert inner[fold["chosen"]] == max(inner.values())
        assert sum(row["chosen"].values()) == 2


def test_markdown_table(public_hr, quick_ibm):
    table = public_hr.markdown_table(quick_ibm)
    lines = table.splitlines()
    assert lines[0] == "| model | ibm (without sensitive) | ibm (with sensitive) |"
    assert lines[2].startswith("| logreg | 0.")
    assert "Presets chosen by the inner CV" in table


def test_metrics(public_hr):
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    m = public_hr.fold_metrics(y, p)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))
    # perfectly calibrated bins -> 0; all-wrong confident predictions -> 1
    assert public_hr.expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0
    assert public_hr.expected_calibration_error(np.array([1, 0]), np.array([0.0, 1.0])) == 1.0


def test_unknown_model_and_setting(public_hr):
    with pytest.raises(ValueError, match="unknown model 'forest'"):
        public_hr.run(["ibm"], models=["forest"], progress=False)
    with pytest.raises(ValueError, match="setting must be one of"):
        public_hr.run(["ibm"], settings=["maybe"], progress=False)


def test_main_writes_json_and_prints_table(public_hr, tmp_path, capsys):
    out = tmp_path / "results.json"
    public_hr.main(
        [
            "--quick",
            "--quiet",
            "--datasets",
            "ibm",
            "--settings",
            "without",
            "--models",
            "logreg",
            "flightrisk",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert "| flightrisk |" in printed
    saved = json.loads(out.read_text())
    assert [r["model"] for r in saved["results"]] == ["logreg", "flightrisk"]
    assert all(r["n_folds"] == 2 and r["quick"] for r in saved["results"])
    assert saved["goals"] == {"ibm": 0.845, "job_change": 0.805}


def test_recorded_results_match_the_protocol():
    """The committed results file is a full run (5 folds, not --quick) with every model."""
    path = ROOT / "experiments" / "results" / "public_hr.json"
    saved = json.loads(path.read_text())
    models = {(r["dataset"], r["setting"], r["model"]) for r in saved["results"]}
    for dataset in ("ibm", "job_change"):
        for setting in ("without", "with"):
            for model in ("logreg", "xgboost", "flightrisk", "flightrisk:nested"):
                assert (dataset, setting, model) in models
    for row in saved["results"]:
        assert row["n_folds"] == 5
        assert row["quick"] is False
        assert row["status"] in ("ok", "refused")
        if row["status"] == "ok":
            assert len(row["folds"]) == 5 * len(row["seeds"])
        if row["model"] == "flightrisk:nested":
            assert row["inner_folds"] == 3


def test_merge_keeps_one_row_per_key(public_hr, quick_ibm):
    without = dict(
        quick_ibm, results=[r for r in quick_ibm["results"] if r["setting"] == "without"]
    )
    both = dict(quick_ibm, results=list(reversed(quick_ibm["results"])))
    merged = public_hr.merge([without, both])
    keys = [(r["dataset"], r["setting"], r["model"]) for r in merged["results"]]
    assert len(keys) == len(set(keys)) == 10
    # ordered: without before with, models in the script's order
    assert keys[0] == ("ibm", "without", "logreg")
    assert keys[5] == ("ibm", "with", "logreg")
    assert len(merged["meta"]) == 2
    with pytest.raises(ValueError, match="nothing to merge"):
        public_hr.merge([])
