"""A quick run of the code path of ``experiments/public_hr.py`` (2 folds, 20 trees)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
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
        show_progress=False,
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
        public_hr.run(["ibm"], models=["forest"], show_progress=False)
    with pytest.raises(ValueError, match="setting must be one of"):
        public_hr.run(["ibm"], settings=["maybe"], show_progress=False)


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
            "--no-track",  # tests/test_experiments_tracking.py runs it tracked
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


@pytest.fixture(scope="module")
def ibm_table(public_hr, shared_data):
    return public_hr.load("ibm", include_sensitive=False)


def test_cross_fit_ensemble_calibrates_each_member_on_its_own_fold(public_hr, ibm_table):
    from talentml.models._calibration import apply_calibrator

    X, y = ibm_table
    model = public_hr.make_flightrisk("regularized-ens")(0, 1, True).fit(X, y)
    assert isinstance(model, public_hr.CrossFitEnsemble)
    assert len(model.members_) == len(model.calibrators_) == 5
    # every member: uncalibrated booster on 4/5 of the rows, with its own sigmoid
    assert {m.n_train_ for m in model.members_} == {1176}
    assert all(m.calibrator_ is None for m in model.members_)
    assert all(c["method"] == "sigmoid" for c in model.calibrators_)
    assert len({m.random_state for m in model.members_}) == 5
    p = model.predict_proba(X.head(50))
    assert p.shape == (50, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    members = [
        apply_calibrator(c, m.decision_function(X.head(50)))
        for m, c in zip(model.members_, model.calibrators_, strict=True)
    ]
    np.testing.assert_allclose(p[:, 1], np.mean(members, axis=0))
    uncalibrated = public_hr.make_flightrisk("regularized-ens", calibrated=False)(0, 1, True)
    assert uncalibrated.fit(X, y).calibrators_ == [None] * 5
    with pytest.raises(ValueError, match="cv_ensemble must be an integer >= 2"):
        public_hr.CrossFitEnsemble(lambda seed: None, k=1, seed=0)


def test_count_encoded_counts_training_rows_only(public_hr, ibm_table):
    X, y = ibm_table
    train, test = X.iloc[:1000], X.iloc[1000:].copy()
    model = public_hr.CountEncoded(
        public_hr.make_flightrisk("default")(0, 1, True), columns=["JobRole"]
    ).fit(train, y[:1000])
    assert list(model.model.feature_names_in_)[-1] == "JobRole_count"
    assert model.counts_["JobRole"] == train["JobRole"].astype(object).value_counts().to_dict()
    test["JobRole"] = test["JobRole"].cat.add_categories(["Astronaut"])
    test.iloc[0, test.columns.get_loc("JobRole")] = "Astronaut"  # unseen level: 0
    test.iloc[1, test.columns.get_loc("JobRole")] = np.nan  # missing stays missing
    counts = model._with_counts(test)["JobRole_count"]
    assert counts.iloc[0] == 0.0
    assert np.isnan(counts.iloc[1])
    role = test["JobRole"].iloc[2]
    assert counts.iloc[2] == (train["JobRole"] == role).sum()
    assert model.predict_proba(test).shape == (len(test), 2)
    with pytest.raises(ValueError, match=r"count_encode: columns \['nope'\] not in the table"):
        public_hr.CountEncoded(model.model, columns=["nope"]).fit(train, y[:1000])


def test_presets_with_wrapper_keys_are_known(public_hr):
    from talentml.models import FlightRisk

    for name, params in public_hr.PRESETS.items():
        unknown = set(params) - set(public_hr.WRAPPER_KEYS)
        assert unknown <= set(FlightRisk().get_params()), (name, unknown)
        assert f"flightrisk:{name}" in public_hr.model_names()
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        public_hr.make_flightrisk("huge")


def test_seed_bag_averages_members_that_differ_in_seed_only(public_hr, ibm_table):
    X, y = ibm_table
    model = public_hr.make_flightrisk("regularized-bag5", calibrated=False)(3, 1, True).fit(X, y)
    assert isinstance(model, public_hr.SeedBag)
    assert [m.random_state for m in model.members_] == [300, 301, 302, 303, 304]
    assert {m.n_train_ for m in model.members_} == {len(X)}
    members = [m.predict_proba(X.head(20)) for m in model.members_]
    np.testing.assert_allclose(model.predict_proba(X.head(20)), np.mean(members, axis=0))
    # the seeds matter (row and column sampling), so the bag is not one model five times
    assert not np.allclose(members[0], members[1])
    with pytest.raises(ValueError, match="n_bags must be an integer >= 1"):
        public_hr.SeedBag(lambda seed: None, n_bags=0, seed=0)


def test_nested_defaults_to_the_recorded_presets(public_hr):
    assert public_hr.BASE_PRESETS == ("default", "additive", "regularized")
    assert public_hr.parse_args([]).presets == list(public_hr.BASE_PRESETS)
    args = public_hr.parse_args(["--presets", "regularized", "regularized-count"])
    assert args.presets == ["regularized", "regularized-count"]


def test_target_encoded_is_cross_fitted_on_the_training_rows(public_hr, ibm_table):
    X, y = ibm_table
    train, test = X.iloc[:1000], X.iloc[1000:].copy()
    preset = public_hr.make_flightrisk("regularized-target", calibrated=False)(0, 1, True)
    assert isinstance(preset, public_hr.TargetEncoded) and preset.columns == ["city"]
    booster = public_hr.make_flightrisk("regularized", calibrated=False)(0, 1, True)
    model = public_hr.TargetEncoded(booster, columns=["JobRole"], seed=0).fit(train, y[:1000])
    # the booster sees a number in place of the category
    assert model.model.feature_names_in_.tolist() == train.columns.tolist()
    rates = pd.Series(y[:1000]).groupby(train["JobRole"].astype(str).to_numpy()).mean()
    encoded = model._replace(test, model.encoder_.transform(model._values(test)))["JobRole"]
    # new rows: the full-training encoding, between the level's rate and the overall rate
    for role, value in encoded.groupby(test["JobRole"].astype(str).to_numpy()).first().items():
        low, high = sorted([rates[role], y[:1000].mean()])
        assert low - 1e-9 <= value <= high + 1e-9, role
    # training rows: cross-fitted (5 folds), so not the full-training encoding
    cross = model.encoder_.fit_transform(model._values(train), y[:1000])[:, 0]
    full = model.encoder_.transform(model._values(train))[:, 0]
    assert not np.allclose(cross, full)
    test["JobRole"] = test["JobRole"].cat.add_categories(["Astronaut"])
    test.iloc[0, test.columns.get_loc("JobRole")] = "Astronaut"
    unseen = model.encoder_.transform(model._values(test.head(1)))[0, 0]
    assert unseen == pytest.approx(y[:1000].mean())
    assert model.predict_proba(test).shape == (len(test), 2)
    with pytest.raises(ValueError, match=r"target_encode: columns \['nope'\] not in the table"):
        public_hr.TargetEncoded(model.model, columns=["nope"], seed=0).fit(train, y[:1000])
