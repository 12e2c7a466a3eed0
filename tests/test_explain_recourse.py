"""Recourse: actionable features only, good direction, plausible range, monotone, verified."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentml.explain import Recourse, recourse
from talentml.models import FlightRisk, HighPotential, RampUp


def frame(n=900, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "employee_id": [f"E{i:04d}" for i in range(n)],
            "n_voluntary_completions_30d": rng.poisson(1, n).astype("int64"),
            "days_since_last_activity": rng.exponential(30, n),
            "offhours_share_90d": rng.uniform(0, 1, n),  # a sensitive proxy
            "rating_latest": rng.integers(1, 6, n).astype(float),  # not actionable
            "tenure_days": rng.uniform(30, 3000, n),  # not actionable
        }
    )
    X["n_voluntary_completions_90d"] = X["n_voluntary_completions_30d"] + rng.poisson(2, n)
    X["n_voluntary_completions_365d"] = X["n_voluntary_completions_90d"] + rng.poisson(6, n)
    risk = (
        -1.0
        - 0.5 * X["n_voluntary_completions_90d"]
        + X["days_since_last_activity"] / 30
        + 1.5 * X["offhours_share_90d"]
        - 0.3 * X["rating_latest"]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = frame()
    model = FlightRisk(
        n_estimators=60, max_depth=3, calibration=None, random_state=0, n_jobs=1
    ).fit(X, y)
    return X, model


def test_recourse_moves_scores_with_actionable_features_only(fitted):
    X, model = fitted
    score = model.predict_proba(X)[:, 1]
    threshold = float(np.quantile(score, 0.7))
    rows = X.iloc[np.argsort(-score)[:30]]
    rec = recourse(model, rows, threshold=threshold, reference=X)
    assert isinstance(rec, Recourse) and rec.goal == "below"
    assert set(rec.candidates["feature"]) == {
        "n_voluntary_completions_30d",
        "n_voluntary_completions_90d",
        "n_voluntary_completions_365d",
        "days_since_last_activity",
    }
    found = rec.summary["status"] == "found"
    assert found.sum() >= 20
    assert rec.validity == 1.0
    assert (rec.summary.loc[found, "score_after"] < threshold).all()
    assert (model.predict_proba(rec.counterfactuals)[:, 1] < threshold).all()
    assert set(rec.changes["feature"]) <= set(rec.candidates["feature"])
    # good directions and plausible ranges (5th to 95th percentile of the reference)
    for r in rec.changes.itertuples():
        low, high = np.quantile(X[r.feature], [0.05, 0.95])
        assert low - 1e-9 <= r.to_value <= high + 1e-9
        if r.feature == "days_since_last_activity":
            assert r.to_value < r.from_value and r.code == "FR-LEARN-INACTIVE-DAYS-LOWER"
        else:
            assert r.to_value > r.from_value and r.code.endswith("-RAISE")
    assert rec.summary.loc[found, "text"].str.startswith("aim for: ").all()
    assert rec.summary.loc[~found, "n_changes"].eq(0).all()


def test_nested_windows_move_together(fitted):
    X, model = fitted
    score = model.predict_proba(X)[:, 1]
    threshold = float(np.quantile(score, 0.8))
    rows = X[(score > threshold) & (score < threshold + 0.1)]  # close to the threshold
    rec = recourse(
        model, rows, threshold=threshold, reference=X, features=["n_voluntary_completions_30d"]
    )
    changes = rec.changes
    assert len(changes) and set(changes["feature"]) == {"n_voluntary_completions_30d"}
    linked = ["n_voluntary_completions_90d", "n_voluntary_completions_365d"]
    assert all(list(v) == linked for v in changes["linked"])
    cf = rec.counterfactuals
    before = rows.loc[cf.index]
    delta = cf["n_voluntary_completions_30d"] - before["n_voluntary_completions_30d"]
    assert (delta > 0).all()
    assert np.allclose(
        cf["n_voluntary_completions_90d"] - before["n_voluntary_completions_90d"], delta
    )
    assert np.allclose(
        cf["n_voluntary_completions_365d"] - before["n_voluntary_completions_365d"], delta
    )
    untouched = ["days_since_last_activity", "offhours_share_90d", "rating_latest", "tenure_days"]
    pd.testing.assert_frame_equal(cf[untouched], before[untouched])


def test_never_proxies_nor_non_actionable(fitted):
    X, model = fitted
    for bad, why in (
        (["offhours_share_90d"], "a sensitive proxy"),
        (["rating_latest"], "not described as actionable"),
        (["tenure_days"], "not described as actionable"),
        (["nope"], "not a model column"),
    ):
        with pytest.raises(ValueError, match="may only change actionable, non-proxy") as err:
            recourse(model, X.head(5), threshold=0.2, features=bad)
        assert f"{bad[0]!r} ({why})" in str(err.value)
    rec = recourse(model, X.head(5), threshold=0.2, reference=X)
    excluded = rec.excluded.set_index("feature")["code"].to_dict()
    assert excluded == {
        "offhours_share_90d": "proxy",
        "rating_latest": "not_actionable",
        "tenure_days": "not_actionable",
    }


def test_monotone_constraints_are_respected():
    X, y = frame(seed=1)
    # a model told that more recent completions *raise* exit risk: increasing them can never
    # lower the score, so recourse leaves them out
    model = FlightRisk(
        n_estimators=30,
        max_depth=3,
        calibration=None,
        monotone_constraints={"n_voluntary_completions_30d": 1},
        random_state=0,
        n_jobs=1,
    ).fit(X, y)
    rec = recourse(model, X.head(10), threshold=0.2, reference=X)
    assert "n_voluntary_completions_30d" not in set(rec.candidates["feature"])
    assert "n_voluntary_completions_90d" in set(rec.candidates["feature"])


def test_goals_statuses_and_errors(fitted):
    X, model = fitted
    score = model.predict_proba(X)[:, 1]
    rec = recourse(model, X.head(50), threshold=0.5, reference=X)
    already = score[:50] < 0.5
    assert (rec.summary["status"] == "already").to_numpy().tolist() == already.tolist()
    # a high-potential score must go up
    X2, y2 = frame(seed=2)
    hp = HighPotential(n_estimators=30, max_depth=3, calibration=None, random_state=0, n_jobs=1)
    hp.fit(X2, 1 - y2)
    p = hp.predict_proba(X2)[:, 1]
    up = recourse(hp, X2.iloc[np.argsort(p)[:20]], threshold=float(np.median(p)), reference=X2)
    assert up.goal == "above"
    ok = up.summary["status"] == "found"
    assert ok.any() and (up.summary.loc[ok, "score_after"] > float(np.median(p))).all()
    # nothing actionable: never an empty answer without a word - it says why, and the fix
    only = FlightRisk(n_estimators=10, random_state=0, n_jobs=1).fit(
        X[["rating_latest", "tenure_days"]], (score > 0.5).astype(int)
    )
    with pytest.raises(
        ValueError, match=r"none of the model's 2 column\(s\) can be changed"
    ) as err:
        recourse(only, X[["rating_latest", "tenure_days"]].head(5), threshold=0.01)
    assert "not described as actionable" in str(err.value)
    assert "describe_columns(" in str(err.value)
    with pytest.raises(ValueError, match="threshold must be a probability"):
        recourse(model, X.head(5), threshold=1.5)
    with pytest.raises(ValueError, match="goal must be one of"):
        recourse(model, X.head(5), threshold=0.5, goal="sideways")
    ru = RampUp(n_estimators=10, random_state=0, n_jobs=1).fit(X[["tenure_days"]], X["tenure_days"])
    with pytest.raises(ValueError, match="needs a classifier"):
        recourse(ru, X[["tenure_days"]].head(5), threshold=0.5)
