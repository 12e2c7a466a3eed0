"""talentml.fairness.proxy_analysis: predictiveness of features, and the gap they carry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from talentml.exceptions import PurposeLimitationError
from talentml.fairness import proxy_analysis
from talentml.models import HighPotential


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 2400
    emp = np.array([f"E{i:05d}" for i in range(n)])
    care = rng.random(n) < 0.35
    sex = rng.choice(["female", "male"], n)
    talent = rng.normal(size=n)
    X = pd.DataFrame(
        {
            "employee_id": emp,
            "as_of": pd.Timestamp("2025-01-01", tz="UTC"),
            "weekend_share_90d": np.clip(np.where(care, 0.05, 0.2) + rng.normal(0, 0.08, n), 0, 1),
            "n_voluntary_completions_90d": rng.poisson(np.exp(0.3 * talent) * 4),
            "rating_latest": np.clip(np.round(3 + talent + rng.normal(0, 0.8, n)), 1, 5),
            # a categorical that tells caregivers apart, and one that is pure noise with many
            # levels (an out-of-fold encoding must not find signal in it)
            "schedule": np.where(care, rng.choice(["part", "full"], n, p=[0.7, 0.3]), "full"),
            "desk": np.array([f"D{i}" for i in rng.integers(0, 800, n)]),
        }
    )
    y = (talent + 0.8 * X["weekend_share_90d"] * 5 + rng.normal(size=n) > 1.5).astype(int)
    sens = pd.DataFrame({"employee_id": emp, "caregiver": care, "sex": sex})
    model = HighPotential(n_estimators=60, random_state=0, n_jobs=1).fit(X, y)
    return X, y, sens, model


def test_numeric_auc_matches_sklearn_and_categoricals_are_not_inflated(data):
    X, _, sens, _ = data
    table = proxy_analysis(X, sens, attributes=["caregiver"]).loc["caregiver"]
    care = sens["caregiver"].to_numpy()
    for feature in ("weekend_share_90d", "n_voluntary_completions_90d", "rating_latest"):
        auc = roc_auc_score(care, X[feature])
        assert table.loc[feature, "auc"] == pytest.approx(max(auc, 1 - auc), abs=1e-12)
    assert table.loc["weekend_share_90d", "group"] in {"True", "False"}
    assert bool(table.loc["weekend_share_90d", "proxy"])
    assert bool(table.loc["weekend_share_90d", "catalog_proxy"])
    assert not bool(table.loc["rating_latest", "catalog_proxy"])
    assert table.loc["schedule", "auc"] > 0.7
    # 800 random desk levels: an in-sample encoding would reach ~0.75; out of fold it is ~0.5
    assert table.loc["desk", "auc"] < 0.56
    assert table.index[0] == "weekend_share_90d"  # sorted by AUC within an attribute


def test_gap_attribution_is_exact_and_matches_pred_contribs(data):
    X, _, sens, model = data
    table = proxy_analysis(X, sens, model=model)
    care = sens["caregiver"].to_numpy()
    dm = model.design_matrix(X)
    contribs = model.booster_.predict(dm, pred_contribs=True)
    margin = model.booster_.predict(dm, output_margin=True)
    names = list(model.feature_names_in_)
    caregiver = table.loc["caregiver"]
    group = caregiver["gap_group"].iloc[0]
    member = care if group == "True" else ~care
    gap = margin[member].mean() - margin[~member].mean()
    assert gap < 0  # the worst-off category, against the reference
    for feature in names:
        j = names.index(feature)
        expected = contribs[member, j].mean() - contribs[~member, j].mean()
        assert caregiver.loc[feature, "gap_contribution"] == pytest.approx(expected, abs=1e-5)
        assert caregiver.loc[feature, "gap_share"] == pytest.approx(expected / gap, abs=1e-4)
    assert caregiver["gap_share"].sum() == pytest.approx(1.0, abs=1e-4)
    assert caregiver["gap_share"].idxmax() == "weekend_share_90d"
    assert caregiver["used_by_model"].all()


def test_proxy_analysis_refuses_sensitive_columns(data):
    X, _, sens, _ = data
    with pytest.raises(PurposeLimitationError):
        proxy_analysis(X.assign(sex=sens["sex"].to_numpy()), sens)
    with pytest.raises(ValueError, match="no feature column"):
        proxy_analysis(X, sens, features=["nope"])
