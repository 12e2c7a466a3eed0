"""talentml.fairness.mitigate: fairlearn methods, evaluated on held-out employees, never applied."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentml.fairness import mitigate
from talentml.models import HighPotential


@pytest.fixture(scope="module")
def biased():
    rng = np.random.default_rng(21)
    n_emp = 1500
    emp = np.array([f"E{i:05d}" for i in range(n_emp)])
    sex = rng.choice(["female", "male"], n_emp)
    talent = rng.normal(size=n_emp)
    # two rows per employee; the measured agility under-reads women's talent
    rows = np.repeat(np.arange(n_emp), 2)
    X = pd.DataFrame(
        {
            "employee_id": emp[rows],
            "agility": talent[rows] - 0.9 * (sex[rows] == "female") + rng.normal(0, 0.3, 2 * n_emp),
            "tenure_days": rng.uniform(30, 3000, 2 * n_emp),
        }
    )
    y = (talent[rows] + rng.normal(size=2 * n_emp) > 1.0).astype(int)
    sens = pd.DataFrame({"employee_id": emp, "sex": sex})
    # held-out calibration, as the bounds below were measured. With the default cross-fitted
    # calibration ExponentiatedGradient's mixture still narrows the parity difference (0.18 ->
    # 0.03) but selects almost nobody (0.6% of women, 3.9% of men), so the impact ratio falls
    # (0.30 -> 0.16): the summary's selection rates are how a user sees that trade
    model = HighPotential(n_estimators=40, calibration_cv=None, random_state=0, n_jobs=1).fit(X, y)
    return X, y, sens, model


@pytest.mark.parametrize(
    ("method", "constraint"),
    [
        ("threshold_optimizer", "demographic_parity"),
        ("exponentiated_gradient", "demographic_parity"),
    ],
)
def test_mitigation_narrows_the_gap_on_held_out_employees(biased, method, constraint):
    X, y, sens, model = biased
    before_scores = model.predict_proba(X)
    result = mitigate(
        model,
        X,
        y,
        sensitive=sens,
        attribute="sex",
        method=method,
        constraint=constraint,
        threshold=0.35,
        max_iter=8,
    )
    s = result.summary
    assert s.loc["min_impact_ratio", "before"] < 0.8
    # about half the gap on held-out employees (0.48 of it with XGBoost 3.2, 0.50 with 3.4,
    # whose trees differ slightly: the bound leaves room for the booster, not for the method)
    assert (
        s.loc["demographic_parity_difference", "after"]
        < 0.6 * s.loc["demographic_parity_difference", "before"]
    )
    if method == "threshold_optimizer":
        # group thresholds equalize the selection rates themselves: the ratio rises too
        assert s.loc["min_impact_ratio", "after"] > s.loc["min_impact_ratio", "before"]
    # ExponentiatedGradient bounds the *difference*; it may meet it by selecting fewer people
    # from every group, and then the ratio need not rise (measured 0.46 -> 0.72 on pandas 2 /
    # Python 3.11, 0.46 -> 0.42 on pandas 3 / Python 3.13): docs/fairness.md says so
    np.testing.assert_allclose(s["change"], s["after"] - s["before"])
    by = result.by_group
    assert set(by.index.get_level_values("stage")) == {"before", "after"}
    assert by.loc["before", "n"].sum() == result.n_eval
    # whole employees on each side: 2 rows each
    assert result.n_fit % 2 == 0 and result.n_eval % 2 == 0
    assert result.n_fit + result.n_eval == len(X)
    # reported, never applied
    np.testing.assert_array_equal(model.predict_proba(X), before_scores)
    doc = result.to_dict()
    assert doc["method"] == method and doc["summary"][0]["metric"] == "selection_rate"
    assert result.notes and ("2000e-2(l)" in result.notes[0]) == (method == "threshold_optimizer")


def test_mitigation_on_given_fit_rows_and_errors(biased):
    X, y, sens, model = biased
    half = X["employee_id"] < "E00750"
    result = mitigate(
        model,
        X[~half],
        y[~half],
        X_fit=X[half],
        y_fit=y[half],
        sensitive=sens,
        attribute="sex",
        top_fraction=0.2,
    )
    assert result.n_fit == int(half.sum()) and result.n_eval == int((~half).sum())
    assert result.decision.startswith("top 0.2")
    with pytest.raises(ValueError, match="method must be one of"):
        mitigate(model, X, y, sensitive=sens, attribute="sex", method="reweigh")
    with pytest.raises(ValueError, match="constraint must be one of"):
        mitigate(model, X, y, sensitive=sens, attribute="sex", constraint="parity")
    with pytest.raises(TypeError, match="predict_proba"):
        mitigate(object(), X, y, sensitive=sens, attribute="sex")
    with pytest.raises(ValueError, match="needs outcomes"):
        mitigate(model, X, None, sensitive=sens, attribute="sex")
