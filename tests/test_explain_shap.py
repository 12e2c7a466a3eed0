"""TreeSHAP of talentml models: equal to shap's TreeExplainer, additive, for every booster.

``shap.TreeExplainer`` explains an XGBoost model by calling XGBoost's own C++ TreeSHAP
(``pred_contribs``), which is also talentml's ``method="xgboost"``. To compare with an
independent implementation as well, the tests switch shap's parsed tree ensemble to shap's
own C++ algorithm (``explainer.model.model_type = "internal"``): shap then reads the trees
itself and runs its own TreeSHAP. That algorithm does not support XGBoost's native
categorical splits (shap raises ``NotImplementedError`` wherever it would use them; forced on
such a model it reads them as numeric thresholds), so models with categorical columns are
compared with shap's default path (XGBoost's TreeSHAP) and XGBoost only.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from talentml.exceptions import PurposeLimitationError
from talentml.explain import Explainer, explain
from talentml.explain._design import dense, import_shap, model_view
from talentml.explain._treeshap import tree_tables
from talentml.models import FlightRisk, HighPotential, RampUp

matplotlib.use("Agg")
# shap 0.51 trips a matplotlib PendingDeprecationWarning on import (silenced there only)
shap = import_shap()

TOL = 1e-4


def frame(n=1500, *, seed=0, categorical=False):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "employee_id": [f"E{i % 300:04d}" for i in range(n)],
            "as_of": pd.Timestamp("2025-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 4, n) * 30, unit="D"),
            "days_since_last_activity": rng.exponential(30, n),
            "n_voluntary_completions_90d": rng.poisson(2, n).astype("int64"),
            "tenure_days": rng.uniform(30, 3000, n),
            "rating_latest": rng.integers(1, 6, n).astype(float),
            "team_voluntary_exits_365d": rng.poisson(1, n).astype(float),
        }
    )
    X.loc[rng.random(n) < 0.1, "rating_latest"] = np.nan
    if categorical:
        X["department"] = rng.choice(["Sales", "Data", "Ops", "Finance", "Product", "HR"], n)
        X.loc[rng.random(n) < 0.05, "department"] = None
        X["job_family"] = pd.Categorical(rng.choice(list("abcdefghij"), n))
    score = (
        X["days_since_last_activity"] / 40
        - 0.3 * X["n_voluntary_completions_90d"]
        + 0.4 * X["team_voluntary_exits_365d"]
        - 0.2 * X["rating_latest"].fillna(3)
    )
    if categorical:
        score = score + X["department"].map({"Sales": 0.8, "Data": -0.5}).fillna(0.0)
    return X, score.to_numpy(), rng


def flight_risk_labels(X, score, rng):
    t = rng.exponential(400 * np.exp(-score))
    c = rng.uniform(60, 900, len(X))
    return pd.DataFrame(
        {
            "employee_id": X["employee_id"],
            "as_of": X["as_of"],
            "label": pd.array((t <= 180).astype(int), dtype="Int64"),
            "duration_days": np.minimum(t, c),
            "event": pd.array((t <= c).astype(int), dtype="Int64"),
        }
    )


@pytest.fixture(scope="module")
def numeric_models():
    X, score, rng = frame(seed=1)
    y = flight_risk_labels(X, score, rng)
    fr = FlightRisk(n_estimators=40, max_depth=4, random_state=0, n_jobs=1).fit(X, y)
    hp = HighPotential(n_estimators=30, max_depth=3, random_state=0, n_jobs=1).fit(
        X, (rng.random(len(X)) < 1 / (1 + np.exp(-score))).astype(int)
    )
    days = np.exp(4 + 0.3 * score + 0.2 * rng.normal(size=len(X)))
    ru = RampUp(n_estimators=30, max_depth=4, distribution_scale=0.3, random_state=0, n_jobs=1).fit(
        X, np.column_stack([np.floor(days / 30) * 30, np.ceil(days / 30) * 30 + 1])
    )
    return X, {
        "classifier": (fr, "main"),
        "cox": (fr, "survival"),
        "aft": (ru, "main"),
        "hp": (hp, "main"),
    }


@pytest.fixture(scope="module")
def categorical_model():
    X, score, rng = frame(seed=2, categorical=True)
    y = flight_risk_labels(X, score, rng)
    model = FlightRisk(
        n_estimators=40, max_depth=5, max_cat_to_onehot=4, random_state=0, n_jobs=1
    ).fit(X, y)
    return X, model


def booster_of(model, which):
    return model.survival_booster_ if which == "survival" else model.booster_


def shap_internal(booster, data, *, interactions=False):
    """shap's own TreeSHAP (its tree parser and C++ algorithm, not XGBoost's)."""
    explainer = shap.TreeExplainer(booster)
    explainer.model.model_type = "internal"
    if interactions:
        return explainer.shap_interaction_values(data)
    return explainer.shap_values(data, check_additivity=False)


@pytest.mark.parametrize("kind", ["classifier", "cox", "aft", "hp"])
@pytest.mark.parametrize("method", ["tables", "xgboost"])
def test_equal_to_shap_and_additive(numeric_models, kind, method):
    X, models = numeric_models
    model, which = models[kind]
    ex = explain(model, X, booster=which, method=method)
    booster = booster_of(model, which)
    dm = model.design_matrix(X)
    values = ex.values.to_numpy()
    # shap's default path for XGBoost (XGBoost's own TreeSHAP) ...
    default = shap.TreeExplainer(booster).shap_values(dm)
    assert np.abs(values - default).max() < TOL
    # ... and shap's independent implementation
    internal = shap_internal(booster, dense(dm))
    assert np.abs(values - internal).max() < TOL
    # additive to the booster's margin, row by row
    margin = booster.predict(dm, output_margin=True)
    assert np.abs(ex.margin.to_numpy() - margin).max() < TOL
    assert ex.base_values.nunique() == 1
    assert ex.method == method
    assert (
        ex.margin_kind
        == {
            "classifier": "log-odds",
            "hp": "log-odds",
            "cox": "log-hazard",
            "aft": "log-days",
        }[kind]
    )


def test_categorical_splits_match_xgboost_and_shap(categorical_model):
    X, model = categorical_model
    assert "c" in model.feature_types_
    tables = explain(model, X, method="tables")
    dm = model.design_matrix(X)
    reference = model.booster_.predict(dm, pred_contribs=True)
    assert np.abs(tables.values.to_numpy() - reference[:, :-1]).max() < TOL
    assert abs(tables.base_values.iloc[0] - reference[0, -1]) < TOL
    # shap's default path handles native categoricals through XGBoost...
    via_shap = shap.TreeExplainer(model.booster_).shap_values(dm)
    assert np.abs(tables.values.to_numpy() - via_shap).max() < TOL
    # ...its own algorithm does not (it refuses them whenever it would run, e.g. with
    # background data): the comparison above is the one available
    background = dense(dm)[:50]
    with pytest.raises(NotImplementedError, match="Categorical split"):
        shap.TreeExplainer(model.booster_, data=background).shap_values(dense(dm)[:5])
    margin = model.booster_.predict(dm, output_margin=True)
    assert np.abs(tables.margin.to_numpy() - margin).max() < TOL
    # the survival booster too
    cox = explain(model, X, booster="survival", method="tables")
    ref = model.survival_booster_.predict(dm, pred_contribs=True)
    assert np.abs(cox.values.to_numpy() - ref[:, :-1]).max() < TOL


def test_design_array_is_the_design_matrix(categorical_model):
    X, model = categorical_model
    X = X.copy()
    X.loc[X.index[:5], "department"] = "Unknown level"  # unseen at fit: missing
    view = model_view(model)
    ours = view.design_array(X)
    theirs = dense(model.design_matrix(X))
    same = (ours.astype(np.float32) == theirs) | (np.isnan(ours) & np.isnan(theirs))
    assert same.all()
    assert np.isnan(ours[:5, view.feature_names.index("department")]).all()


def test_interaction_values(numeric_models):
    X, models = numeric_models
    model, _ = models["classifier"]
    sub = X.head(200)
    ex = explain(model, sub, interactions=True)
    inter = ex.interaction_values
    p = len(ex.feature_names)
    assert inter.shape == (200, p, p)
    # rows of the interaction matrix add up to the SHAP values, and it is symmetric
    assert np.abs(inter.sum(axis=2) - ex.values.to_numpy()).max() < TOL
    assert np.abs(inter - inter.transpose(0, 2, 1)).max() < TOL
    reference = shap_internal(model.booster_, dense(model.design_matrix(sub)), interactions=True)
    assert np.abs(inter - reference).max() < TOL
    assert ex.to_shap(interactions=True).values.shape == (200, p, p)


def test_single_row_and_methods_agree(numeric_models):
    X, models = numeric_models
    model, _ = models["classifier"]
    explainer = Explainer(model, reference=X)
    one = explainer.explain(X.iloc[[7]])
    assert one.method == "tables"
    full = explain(model, X, method="xgboost")
    assert np.abs(one.values.to_numpy()[0] - full.values.to_numpy()[7]).max() < TOL
    small = explain(model, X.head(5))  # few rows, tables cached by now: no rebuild
    assert small.method == "tables"
    assert len(explain(model, X.head(0)).values) == 0


def test_to_shap_feeds_the_shap_plots(categorical_model):
    import matplotlib.pyplot as plt

    X, model = categorical_model
    ex = explain(model, X.head(300))
    sv = ex.to_shap()
    assert sv.values.shape == (300, len(ex.feature_names))
    assert sv.feature_names == ex.feature_names
    assert np.allclose(sv.base_values + sv.values.sum(axis=1), ex.margin, atol=TOL)
    shap.plots.beeswarm(sv, show=False)
    plt.close("all")
    shap.plots.waterfall(sv[0], show=False)
    plt.close("all")
    shap.plots.bar(sv, show=False)
    plt.close("all")
    shap.plots.scatter(sv[:, "days_since_last_activity"], show=False)
    plt.close("all")
    grouped = ex.to_shap(grouped=True)
    assert grouped.values.shape[1] == len(ex.business)
    assert np.allclose(grouped.values.sum(axis=1), sv.values.sum(axis=1))


def test_raw_boosters_and_sklearn_models():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    y = (X["a"] + rng.normal(size=400) > 0).astype(int)
    clf = xgb.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1).fit(X, y)
    ex = explain(clf, X)
    ref = clf.get_booster().predict(xgb.DMatrix(X), pred_contribs=True)
    assert np.abs(ex.values.to_numpy() - ref[:, :-1]).max() < TOL
    assert ex.top_reasons(1)["code"].str.startswith("M-FEAT-").all()
    booster = clf.get_booster()
    assert np.abs(explain(booster, X, method="tables").values.to_numpy() - ref[:, :-1]).max() < TOL


def test_sensitive_columns_are_never_explained():
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"caregiver": rng.integers(0, 2, 300), "b": rng.normal(size=300)})
    y = rng.integers(0, 2, 300)
    booster = xgb.train({"max_depth": 2, "nthread": 1}, xgb.DMatrix(X, label=y), 5)
    with pytest.raises(PurposeLimitationError, match="caregiver"):
        explain(booster, X)


def test_bad_input_is_named(numeric_models):
    X, models = numeric_models
    model, _ = models["classifier"]
    with pytest.raises(ValueError, match="lacks 1 model column"):
        explain(model, X.drop(columns="tenure_days"))
    bad = X.head(10).copy()
    bad.loc[bad.index[3], "tenure_days"] = np.inf
    with pytest.raises(ValueError, match=r"'tenure_days' holds infinite values in rows \[3\]"):
        explain(model, bad)
    with pytest.raises(ValueError, match="method must be one of"):
        explain(model, X, method="saabas")
    with pytest.raises(ValueError, match="no survival view"):
        explain(models["aft"][0], X, booster="survival")
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        explain(model, X.to_numpy())


def test_tables_are_cached_per_booster(numeric_models):
    X, models = numeric_models
    model, _ = models["classifier"]
    first = tree_tables(model.booster_)
    assert tree_tables(model.booster_) is first
    assert first.table is not None and first.table.dtype == np.float32
    assert first.n_trees == model.n_estimators_


def test_column_order_and_extra_columns_do_not_matter(categorical_model):
    X, model = categorical_model
    sub = X.head(300)
    shuffled = sub[list(reversed(sub.columns))].assign(manager_note="extra, not a model input")
    for method in ("tables", "xgboost"):
        ex = explain(model, shuffled, method=method)
        assert ex.feature_names == list(model.feature_names_in_)
        margin = model.booster_.predict(model.design_matrix(sub), output_margin=True)
        assert np.abs(ex.margin.to_numpy() - margin).max() < TOL
