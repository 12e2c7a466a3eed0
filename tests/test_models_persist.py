"""Model persistence without pickle: UBJ boosters + model.json, identical predictions."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from talentml.models import FlightRisk, HighPotential, RampUp, load_model, save_model
from talentml.models._persist import FORMAT


def _data(n=1_500, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "employee_id": [f"E{i % 300}" for i in range(n)],
            "as_of": pd.Timestamp("2025-01-01", tz="UTC"),
            "a": rng.normal(size=n),
            "count": rng.poisson(2, n),
            "team": pd.Categorical(rng.choice(["red", "blue", "green"], n)),
            "remote": rng.random(n) < 0.3,
            "level": rng.choice(["L1", "L2", None], n),
        }
    )
    rate = 0.002 * np.exp(0.7 * X["a"].to_numpy())
    t = rng.exponential(1 / rate)
    y = pd.DataFrame(
        {
            "employee_id": X["employee_id"],
            "as_of": X["as_of"],
            "label": pd.array(np.where(rng.random(n) < 0.05, None, t <= 180), dtype="Int64"),
            "duration_days": np.minimum(t, 500.0),
            "event": pd.array(t <= 500, dtype="Int64"),
        }
    )
    return X, y, t


@pytest.fixture(scope="module")
def fitted():
    X, y, t = _data()
    flight = FlightRisk(n_estimators=30, random_state=0, n_jobs=1).fit(X, y)
    hipo = HighPotential(n_estimators=30, calibration="sigmoid", random_state=0, n_jobs=1).fit(
        X, np.where(y["label"].fillna(0).to_numpy() == 1, "yes", "no")
    )
    bounds = np.column_stack(
        [np.floor(t / 30) * 30, np.where(t < 400, np.ceil(t / 30) * 30, np.inf)]
    )
    ramp = RampUp(
        n_estimators=30, distribution="logistic", distribution_scale=0.5, random_state=0, n_jobs=1
    ).fit(X, bounds)
    return X, {"flight": flight, "hipo": hipo, "ramp": ramp}


def _outputs(model, X):
    new = X.copy()
    new.loc[new.index[:5], "team"] = np.nan
    new["level"] = new["level"].where(new.index % 7 != 0, "L9")  # unseen level
    if isinstance(model, RampUp):
        return [model.predict(X), model.predict_quantiles(new).to_numpy()]
    out = [model.predict_proba(X), model.predict(new), model.decision_function(new)]
    if isinstance(model, FlightRisk):
        out += [
            model.predict_survival(new, [30, 200, 400], conditional_after=45).to_numpy(),
            model.predict_risk(X),
        ]
    return out


@pytest.mark.parametrize("name", ["flight", "hipo", "ramp"])
def test_round_trip_gives_identical_predictions(fitted, name, tmp_path):
    X, models = fitted
    model = models[name]
    path = save_model(model, tmp_path / name)
    again = load_model(path)
    assert type(again) is type(model)
    assert again.get_params() == model.get_params()
    for a, b in zip(_outputs(model, X), _outputs(again, X), strict=True):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)
    assert list(again.feature_names_in_) == list(model.feature_names_in_)
    assert again.categories_ == model.categories_
    assert again.feature_types_ == model.feature_types_
    assert again.margin_kind_ == model.margin_kind_
    assert again.design_matrix(X).feature_names == model.design_matrix(X).feature_names
    if hasattr(model, "classes_"):
        assert np.array_equal(again.classes_, model.classes_)
        assert again.classes_.dtype == model.classes_.dtype


def test_saved_files_are_ubj_and_plain_json(fitted, tmp_path):
    _, models = fitted
    path = models["flight"].save(tmp_path / "m")
    assert path == tmp_path / "m"
    names = sorted(p.name for p in path.iterdir())
    assert names == ["booster.ubj", "model.json", "survival_booster.ubj"]
    doc = json.loads((path / "model.json").read_text())
    assert doc["format"] == FORMAT and doc["class"] == "FlightRisk"
    assert doc["boosters"] == {
        "booster_": "booster.ubj",
        "survival_booster_": "survival_booster.ubj",
    }
    assert doc["state"]["calibrator_"]["method"] == "isotonic_interp"
    assert len(doc["state"]["baseline_times_"]["__ndarray__"]) > 10
    for f in path.iterdir():
        assert not f.read_bytes().startswith(b"\x80")  # no pickle protocol header


def test_loading_never_unpickles(fitted, tmp_path, monkeypatch):
    _, models = fitted
    for name, model in models.items():
        save_model(model, tmp_path / name)

    def tripwire(*args, **kwargs):
        raise AssertionError("pickle was used while loading a model")

    monkeypatch.setattr(pickle, "load", tripwire)
    monkeypatch.setattr(pickle, "loads", tripwire)
    monkeypatch.setattr(pickle, "Unpickler", tripwire)
    for name in models:
        assert load_model(tmp_path / name) is not None


def test_load_in_a_fresh_process_with_pickle_disallowed(fitted, tmp_path):
    X, models = fitted
    save_model(models["flight"], tmp_path / "m")
    X.head(50).to_json(tmp_path / "X.json", orient="split", date_format="iso")
    expected = models["flight"].predict_proba(X.head(50))[:, 1]
    script = textwrap.dedent(
        f"""
        import json, pickle, sys
        import numpy as np, pandas as pd
        def refuse(*a, **k):
            raise RuntimeError("unpickling is not allowed")
        pickle.load = pickle.loads = refuse
        from talentml.models import load_model
        model = load_model({str(tmp_path / "m")!r})
        X = pd.read_json({str(tmp_path / "X.json")!r}, orient="split")
        X["team"] = X["team"].astype("category")
        X["as_of"] = pd.to_datetime(X["as_of"], utc=True)
        print(json.dumps(model.predict_proba(X)[:, 1].tolist()))
        """
    )
    env = {**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    got = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    assert np.allclose(got, expected, rtol=0, atol=1e-12)


def test_bad_inputs(fitted, tmp_path):
    from sklearn.utils.validation import NotFittedError

    with pytest.raises(NotFittedError):
        save_model(FlightRisk(), tmp_path / "x")
    with pytest.raises(TypeError, match="talentml models"):
        save_model(object(), tmp_path / "x")
    with pytest.raises(ValueError, match="model.json is missing"):
        load_model(tmp_path / "nothing")
    _, models = fitted
    path = save_model(models["ramp"], tmp_path / "r")
    doc = json.loads((path / "model.json").read_text())
    doc["format"] = "talentml.models/999"
    (path / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="unknown format"):
        load_model(path)


def test_random_state_object_is_saved_as_none(tmp_path, caplog):
    X, y, _ = _data(n=300)
    model = HighPotential(n_estimators=5, random_state=np.random.RandomState(0), n_jobs=1)
    model.fit(X, y)
    again = load_model(save_model(model, tmp_path / "h"))
    assert again.random_state is None
    assert "random_state" in caplog.text
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))
