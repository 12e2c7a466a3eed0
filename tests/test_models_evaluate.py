"""evaluate(): dispatch on target and model, cluster-bootstrap intervals, oracle, plots."""

from __future__ import annotations

import json
import logging

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, QuantileRegressor
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from talentml.models._evaluate import Evaluation, evaluate
from talentml.models._metrics import concordance_index, concordance_index_ipcw, lift_at

matplotlib.use("Agg")

from matplotlib.axes import Axes
from matplotlib.figure import Figure

START = pd.Timestamp("2024-01-01", tz="UTC")
ICC = 1.5  # spread of the employee effects in the coverage test


def panel(n_employees=300, per=6, *, seed=0, icc=1.0):
    """Employees observed monthly; a shared employee effect makes their rows correlated.

    ``v`` is a second employee effect that no feature shows (in ``X`` for the tests to use,
    never as a model input).
    """
    rng = np.random.default_rng(seed)
    n = n_employees * per
    u = np.repeat(rng.normal(scale=icc, size=n_employees), per)
    v = np.repeat(rng.normal(scale=icc, size=n_employees), per)
    X = pd.DataFrame(
        {
            "employee_id": np.repeat([f"e{i:04d}" for i in range(n_employees)], per),
            "as_of": START + pd.to_timedelta(np.tile(np.arange(per) * 30, n_employees), unit="D"),
            "x": u + rng.normal(size=n),
            "z": rng.normal(size=n),
            "v": v,
        }
    )
    return X, rng


def clustered_outcome(X, rng):
    """0/1 outcomes that depend on x and on the hidden employee effect v."""
    p = 1 / (1 + np.exp(-(X["x"] - 1 + X["v"])))
    return (rng.random(len(X)) < p).astype(int).to_numpy()


def flight_labels(X, rng, *, horizon=180):
    """A flight-risk label frame: exponential exit times, uniform end of observation."""
    n = len(X)
    rate = np.exp(-6.0 + 0.8 * X["x"].to_numpy())
    t = rng.exponential(1 / rate)
    c = rng.uniform(60, 900, n)
    duration = np.minimum(t, c)
    event = (t <= c).astype(int)
    label = np.where(t <= horizon, 1.0, np.where(c < horizon, np.nan, 0.0))
    y = pd.DataFrame(
        {
            "employee_id": X["employee_id"],
            "as_of": X["as_of"],
            "label": pd.array(np.where(np.isnan(label), 0, label).astype(int), dtype="Int64"),
            "censored": pd.array([None] * n, dtype="string"),
            "duration_days": duration,
            "event": pd.array(event, dtype="Int64"),
        },
        index=X.index,
    )
    y.loc[np.isnan(label), "label"] = pd.NA
    y.loc[np.isnan(label), "censored"] = "horizon_unobserved"
    return y, 1 - np.exp(-rate * horizon)


@pytest.fixture(scope="module")
def binary():
    X, rng = panel(seed=1)
    p = 1 / (1 + np.exp(-(X["x"] - 0.5 * X["z"] - 1)))
    y = (rng.random(len(X)) < p).astype(int).to_numpy()
    model = LogisticRegression().fit(X[["x", "z"]], y)
    return X, y, model, p.to_numpy()


def test_classifier_metrics_match_sklearn(binary):
    X, y, model, _ = binary
    ev = evaluate(model, X, y, n_bootstrap=50, random_state=0)
    assert isinstance(ev, Evaluation)
    assert ev.kind == "classification"
    p = model.predict_proba(X[["x", "z"]])[:, 1]
    assert ev["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert ev["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert ev["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert ev["lift_at_10"] == pytest.approx(lift_at(y, p), abs=1e-12)
    assert ev["observed_rate"] == pytest.approx(y.mean())
    m = ev.metrics.set_index("metric")
    assert list(ev.metrics.columns) == ["metric", "value", "ci_low", "ci_high", "n"]
    assert (m["n"] == len(y)).all()
    assert ((m["ci_low"] <= m["value"]) & (m["value"] <= m["ci_high"])).all()
    assert ev.deciles["n"].sum() == len(y)
    assert ev.deciles["events"].sum() == y.sum()
    assert ev.settings["n_clusters"] == X["employee_id"].nunique()
    # predictions keep the identifiers, aligned with X's index
    assert ev.predictions.index.equals(X.index)
    assert ev.predictions["employee_id"].tolist() == X["employee_id"].tolist()
    # same seed, same intervals
    again = evaluate(model, X, y, n_bootstrap=50, random_state=0)
    pd.testing.assert_frame_equal(ev.metrics, again.metrics)


def test_to_dict_is_strict_json_and_repr_is_readable(binary):
    X, y, model, _ = binary
    ev = evaluate(model, X, y, n_bootstrap=10, random_state=0)
    text = json.dumps(ev.to_dict(), allow_nan=False)
    back = json.loads(text)
    assert back["metrics"]["roc_auc"]["value"] == pytest.approx(ev["roc_auc"])
    assert back["settings"]["n_bootstrap"] == 10
    assert len(back["deciles"]) == 10
    text = repr(ev)
    assert text.startswith("Evaluation(classification, model=LogisticRegression, rows=1,800")
    assert "roc_auc" in text and "lift_at_10" in text


def _coverage_run(seed: int, model, truth: float, *, groups=None) -> tuple[bool, float]:
    X, rng = panel(n_employees=80, per=5, seed=seed, icc=ICC)
    y = clustered_outcome(X, rng)
    ev = evaluate(
        model, X, y, n_bootstrap=80, random_state=seed, groups=None if groups is None else groups
    )
    row = ev.metrics.set_index("metric").loc["roc_auc"]
    return bool(row["ci_low"] <= truth <= row["ci_high"]), float(row["ci_high"] - row["ci_low"])


def test_cluster_bootstrap_interval_covers_the_truth():
    """95% intervals of the ROC AUC of a fixed model cover its population AUC."""
    X, rng = panel(n_employees=40_000, per=5, seed=99, icc=ICC)
    y = clustered_outcome(X, rng)
    model = LogisticRegression().fit(X[["x", "z"]].iloc[:20_000], y[:20_000])
    truth = roc_auc_score(y, model.predict_proba(X[["x", "z"]])[:, 1])  # 200,000 rows
    runs = [_coverage_run(seed, model, truth) for seed in range(40)]
    coverage = np.mean([c for c, _ in runs])
    assert coverage >= 0.85, coverage  # nominal 0.95; 40 runs
    # resampling rows instead of employees ignores the correlation: narrower intervals
    rows = [_coverage_run(seed, model, truth, groups=np.arange(400)) for seed in range(10)]
    assert np.mean([w for _, w in rows]) < 0.9 * np.mean([w for _, w in runs[:10]])


def test_survival_frame_with_flight_risk_and_oracle():
    from talentml.models import FlightRisk

    X, rng = panel(n_employees=250, per=6, seed=2)
    y, oracle = flight_labels(X, rng)
    # two rows not at risk at all: no label, no duration
    y.loc[[3, 4], ["label", "duration_days", "event"]] = [pd.NA, np.nan, pd.NA]
    y.loc[[3, 4], "censored"] = "not_active"
    model = FlightRisk(n_estimators=40, random_state=0, n_jobs=1).fit(X, y)
    ev = evaluate(model, X, y, n_bootstrap=30, random_state=0, oracle=oracle)
    assert ev.kind == "survival"
    assert dict(zip(ev.excluded["reason"], ev.excluded["n"], strict=True)) == {"not_active": 2}
    m = ev.metrics.set_index("metric")
    labelled = y["label"].notna()
    assert m.loc["roc_auc", "n"] == labelled.sum()
    assert m.loc["c_index_harrell", "n"] == len(y) - 2
    for name in ("c_index_harrell", "c_index_uno", "integrated_brier"):
        assert np.isfinite(m.loc[name, "value"])
    assert 0.6 < m.loc["c_index_uno", "value"] < 0.95
    assert ev.settings["risk_score"] == "predict_risk"
    assert ev.settings["tau"] == 365.0
    assert ev.settings["times"][0] == 30 and ev.settings["times"][-1] == 365
    # the C-indices are those of the metric functions on the rows with a duration
    pred = ev.predictions[ev.predictions["duration_days"].notna()]
    t = pred["duration_days"].to_numpy()
    e = pred["event"].to_numpy(dtype=int)
    assert m.loc["c_index_harrell", "value"] == pytest.approx(concordance_index(t, e, pred["risk"]))
    assert m.loc["c_index_uno", "value"] == pytest.approx(
        concordance_index_ipcw(t, e, pred["risk"], tau=365.0)
    )
    # oracle: a reference column and paired gaps
    assert "oracle" in ev.metrics.columns
    gap = ev.oracle_gap.set_index("metric")
    assert gap.loc["roc_auc", "gap"] == pytest.approx(
        m.loc["roc_auc", "value"] - m.loc["roc_auc", "oracle"]
    )
    assert gap.loc["roc_auc", "ci_low"] <= gap.loc["roc_auc", "ci_high"]
    oracle_p = ev.predictions.loc[labelled[ev.predictions.index], "oracle"]
    assert m.loc["roc_auc", "oracle"] == pytest.approx(
        roc_auc_score(y.loc[labelled, "label"].astype(int), oracle_p)
    )
    json.dumps(ev.to_dict(), allow_nan=False)


def test_survival_metrics_from_a_plain_classifier():
    X, rng = panel(n_employees=150, per=4, seed=3)
    y, _ = flight_labels(X, rng)
    lab = y["label"].notna()
    model = LogisticRegression().fit(X.loc[lab, ["x", "z"]], y.loc[lab, "label"].astype(int))
    ev = evaluate(model, X, y, n_bootstrap=0)
    assert ev.kind == "survival"
    assert ev.settings["risk_score"] == "predict_proba"
    names = ev.metrics["metric"].tolist()
    assert "c_index_uno" in names and "integrated_brier" not in names
    assert ev.metrics["ci_low"].isna().all()  # no bootstrap
    assert evaluate(model, X, y, n_bootstrap=0, survival=False).kind == "classification"


def test_unusable_rows_are_counted_and_logged(binary, caplog):
    X, y, model, _ = binary
    y = y.astype(float)
    y[[0, 5, 7]] = np.nan
    with caplog.at_level(logging.INFO, logger="talentml.models._evaluate"):
        ev = evaluate(model, X, y, n_bootstrap=0)
    assert ev.excluded.to_dict("records") == [{"reason": "missing_label", "n": 3}]
    assert "3 of 1800 rows left out" in caplog.text
    assert len(ev.predictions) == len(X) - 3


def test_bad_inputs_raise_clear_errors(binary):
    X, y, model, _ = binary
    with pytest.raises(ValueError, match="different numbers of rows: 1800 != 1799"):
        evaluate(model, X, y[:-1])
    shifted = pd.Series(y, index=X.index + 1)
    with pytest.raises(ValueError, match="indexes differ"):
        evaluate(model, X, shifted)
    frame = pd.DataFrame({"employee_id": X["employee_id"], "label": y}, index=X.index)
    frame.loc[10, "employee_id"] = "someone-else"
    with pytest.raises(ValueError, match=r"column 'employee_id' differs in rows \[10\]"):
        evaluate(model, X, frame)
    bad = y.copy()
    bad[[2, 9]] = 2
    with pytest.raises(ValueError, match=r"must be 0/1; rows \[2, 9\]"):
        evaluate(model, X, bad)
    with pytest.raises(TypeError, match="has no predict_proba"):
        evaluate(LinearRegression().fit(X[["x", "z"]], y), X, y)
    with pytest.raises(ValueError, match="y must be"):
        evaluate(model, X, np.zeros((len(y), 3)))
    with pytest.raises(ValueError, match="n_bootstrap"):
        evaluate(model, X, y, n_bootstrap=-1)


class LinearQuantiles:
    """A small real model of days with quantiles: one linear quantile regression per level."""

    def fit(self, X, y):
        mid = y.mean(axis=1)
        self.median_ = QuantileRegressor(quantile=0.5, alpha=0.0).fit(X, mid)
        self.levels_ = {
            q: QuantileRegressor(quantile=q, alpha=0.0).fit(X, mid) for q in (0.1, 0.5, 0.9)
        }
        return self

    def predict(self, X):
        return self.median_.predict(X)

    def predict_quantiles(self, X, quantiles=(0.1, 0.5, 0.9)):
        return pd.DataFrame({q: self.levels_[q].predict(X) for q in quantiles}, index=X.index)


def test_interval_target():
    rng = np.random.default_rng(4)
    n = 300
    X = pd.DataFrame({"employee_id": [f"h{i}" for i in range(n)], "x": rng.normal(size=n)})
    days = np.exp(4.5 - 0.4 * X["x"] + rng.normal(scale=0.3, size=n))
    lower = np.floor(days / 30) * 30
    upper = lower + 30
    upper[rng.random(n) < 0.2] = np.inf  # right-censored
    y = pd.DataFrame({"lower_days": lower, "upper_days": upper}, index=X.index)
    observed = np.isfinite(upper)
    model = LinearQuantiles().fit(X[["x"]][observed], np.c_[lower, upper][observed])
    ev = evaluate(model, X[["x"]], y, n_bootstrap=30, random_state=0, oracle=days)
    assert ev.kind == "interval"
    m = ev.metrics.set_index("metric")
    assert set(m.index) == {"c_index_interval", "mae_observed", "coverage_10_90"}
    assert 0.75 < m.loc["c_index_interval", "value"] <= 1.0
    assert m.loc["c_index_interval", "oracle"] > m.loc["c_index_interval", "value"] - 0.05
    assert m.loc["mae_observed", "n"] == observed.sum()
    assert 0.6 < m.loc["coverage_10_90", "value"] < 0.95
    assert ev.settings["coverage_nominal"] == pytest.approx(0.8)
    # an (n, 2) array works the same
    same = evaluate(model, X[["x"]], np.c_[lower, upper], n_bootstrap=0)
    assert same["c_index_interval"] == pytest.approx(ev["c_index_interval"])
    ax = ev.plot_calibration()
    assert isinstance(ax, Axes)
    with pytest.raises(ValueError, match="no binary target"):
        ev.plot_lift()


def test_plots_return_axes(binary):
    X, y, model, p_true = binary
    ev = evaluate(model, X, y, n_bootstrap=0, oracle=p_true)
    ax = ev.plot_calibration()
    assert isinstance(ax, Axes)
    assert len(ax.get_legend().get_texts()) == 3  # model, oracle, perfect
    fig = Figure()
    mine = fig.add_subplot()
    assert ev.plot_lift(ax=mine) is mine
    assert len(mine.patches) == 10
    assert (
        ev.plot_calibration(ax=fig.add_subplot(), strategy="uniform")
        .get_title()
        .startswith("Calibration (equal-width")
    )
    import matplotlib.pyplot as plt

    plt.close("all")


def test_oracle_of_true_probabilities_is_calibrated(binary):
    X, y, model, p_true = binary
    ev = evaluate(model, X, y, n_bootstrap=40, random_state=1, oracle=p_true)
    m = ev.metrics.set_index("metric")
    # logistic regression on the right features is close to the truth
    assert abs(m.loc["roc_auc", "value"] - m.loc["roc_auc", "oracle"]) < 0.02
    # the true probabilities are calibrated: their ECE is within sampling noise
    assert m.loc["ece", "oracle"] < 0.04
    gap = ev.oracle_gap.set_index("metric")
    assert gap.loc["roc_auc", "ci_low"] < 0.01
    # a paired interval is narrower than the model's own interval
    own = m.loc["roc_auc", "ci_high"] - m.loc["roc_auc", "ci_low"]
    assert gap.loc["roc_auc", "ci_high"] - gap.loc["roc_auc", "ci_low"] < own


def test_oracle_may_be_missing_where_it_is_not_used(caplog):
    X, rng = panel(n_employees=150, per=4, seed=6)
    y, oracle = flight_labels(X, rng)
    oracle = oracle.copy()
    oracle[y["label"].isna().to_numpy()] = np.nan  # known only where the label is
    lab = y["label"].notna()
    model = LogisticRegression().fit(X.loc[lab, ["x", "z"]], y.loc[lab, "label"].astype(int))
    with caplog.at_level(logging.INFO, logger="talentml.models._evaluate"):
        ev = evaluate(model, X, y, n_bootstrap=10, random_state=0, oracle=oracle)
    m = ev.metrics.set_index("metric")
    assert np.isfinite(m.loc["roc_auc", "oracle"])
    assert np.isnan(m.loc["c_index_uno", "oracle"])  # survival rows include unlabelled ones
    assert "the oracle is missing on" in caplog.text
    assert isinstance(ev.plot_calibration(), Axes)
    import matplotlib.pyplot as plt

    plt.close("all")
