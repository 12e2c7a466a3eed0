"""Time-based backtests: the TimeSplit no-leak rule, censoring at T, backtest() end to end."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline

import talentml as tml
from talentml.datasets import SIMULATION_SECRET
from talentml.labels import censor_at
from talentml.models._backtest import Backtest, TimeSplit, backtest
from talentml.models._evaluate import evaluate

matplotlib.use("Agg")

from matplotlib.axes import Axes

START = pd.Timestamp("2023-01-01", tz="UTC")
DAY = pd.Timedelta(days=1)
PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def rows_frame(days, employees, hours=None):
    as_of = START + pd.to_timedelta(np.asarray(days), unit="D")
    if hours is not None:
        as_of = as_of + pd.to_timedelta(np.asarray(hours), unit="h")
    return pd.DataFrame({"employee_id": [f"e{e}" for e in employees], "as_of": as_of})


# ----------------------------------------------------------------------------- splitter
@PROPERTY
@given(
    data=st.lists(
        st.tuples(st.integers(0, 900), st.integers(0, 12), st.integers(0, 23)),
        min_size=2,
        max_size=120,
    ),
    horizon=st.integers(1, 240),
    step=st.one_of(st.none(), st.integers(1, 150), st.sampled_from(["MS", "2MS", "3MS"])),
    n_splits=st.integers(1, 5),
    known=st.floats(0.3, 1.0),
)
def test_timesplit_never_leaks(data, horizon, step, n_splits, known):
    X = rows_frame([d[0] for d in data], [d[1] for d in data], [d[2] for d in data])
    y = pd.Series(np.where(np.arange(len(X)) < known * len(X), 1.0, np.nan), index=X.index)
    cv = TimeSplit(
        n_splits=n_splits,
        horizon=f"{horizon}D",
        step=step if step is None or isinstance(step, str) else f"{step}D",
    )
    try:
        folds = list(cv._folds(X, y))
    except ValueError as exc:
        assert "TimeSplit" in str(exc)
        assume(False)
    assert len(folds) == n_splits == cv.get_n_splits()
    as_of = X["as_of"]
    ids = X["employee_id"]
    previous = None
    for _, start, stop, train, test in folds:
        assert len(train) and len(test)
        assert not set(train) & set(test)
        # the label window of every training row has closed by T ...
        assert (as_of.iloc[train] + horizon * DAY <= start).all()
        # ... and the test rows are those of [T, T + step)
        assert ((as_of.iloc[test] >= start) & (as_of.iloc[test] < stop)).all()
        expected = np.flatnonzero(((as_of >= start) & (as_of < stop)).to_numpy())
        assert np.array_equal(np.sort(test), expected)
        # an employee on both sides: every training row is strictly before every test row
        train_last = as_of.iloc[train].groupby(ids.iloc[train].to_numpy()).max()
        test_first = as_of.iloc[test].groupby(ids.iloc[test].to_numpy()).min()
        both = train_last.index.intersection(test_first.index)
        assert (train_last[both] + horizon * DAY <= test_first[both]).all()
        assert (train_last[both] < test_first[both]).all()
        # periods follow each other in time, and training only grows
        if previous is not None:
            assert start == previous[1]
            assert set(previous[2]) <= set(train)
        previous = (start, stop, train)
    # the last period ends one day after the latest as_of with a known target, or at the
    # month start after it for calendar steps
    last = as_of[y.notna()].max()
    if isinstance(step, str):
        assert folds[-1][2] == (last.normalize() + pd.offsets.MonthBegin(1)).normalize()
        assert all(f[1].day == 1 and f[1].hour == 0 for f in folds)
    else:
        assert folds[-1][2] == last + DAY


def test_timesplit_default_step_and_periods():
    X = rows_frame(np.repeat(np.arange(0, 360, 30), 3), np.tile([0, 1, 2], 12))
    cv = TimeSplit(n_splits=3, horizon="60D")
    periods = cv.periods(X)
    # span: from day 0 + 60 to day 331 -> 271 days / 4 = 67 days per period
    assert (periods["test_end"] - periods["test_start"]).eq(67 * DAY).all()
    assert periods["test_end"].iloc[-1] == START + 331 * DAY
    assert periods["n_test"].sum() + (X["as_of"] < periods["test_start"].iloc[0]).sum() == len(X)
    assert (periods["train_until"] + 60 * DAY <= periods["test_start"]).all()
    assert "TimeSplit(end=None, horizon='60D', n_splits=3" in repr(cv)


def test_timesplit_errors():
    X = rows_frame([0, 30, 60, 90], [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"fold 0 .* has 1 training and 0 test rows"):
        list(TimeSplit(n_splits=3, horizon="60D", step="10D").split(X))
    with pytest.raises(ValueError, match="horizon must be a positive duration"):
        list(TimeSplit(n_splits=1, horizon="0D").split(X))
    with pytest.raises(ValueError, match="no column 'when'"):
        list(TimeSplit(n_splits=1, horizon="5D", time_column="when").split(X))
    with pytest.raises(ValueError, match="too short"):
        list(TimeSplit(n_splits=5, horizon="90D").split(X))
    bad = X.copy()
    bad.loc[2, "as_of"] = pd.NaT
    with pytest.raises(ValueError, match=r"missing in rows \[2\]"):
        list(TimeSplit(n_splits=1, horizon="5D").split(bad))


def panel(n_employees=150, months=18, seed=0):
    rng = np.random.default_rng(seed)
    n = n_employees * months
    X = pd.DataFrame(
        {
            "employee_id": np.tile([f"e{i:03d}" for i in range(n_employees)], months),
            "as_of": START + pd.to_timedelta(np.repeat(np.arange(months) * 30, n_employees), "D"),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
        }
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * X["x"] - 1)))).astype(int)
    return X, pd.Series(y, index=X.index, name="label")


def test_timesplit_in_cross_validate():
    X, y = panel()
    drop_ids = ColumnTransformer([("features", "passthrough", ["x", "z"])])
    model = make_pipeline(drop_ids, LogisticRegression())
    cv = TimeSplit(n_splits=3, horizon="90D", step="60D")
    scores = cross_validate(model, X, y, cv=cv, scoring="roc_auc")
    assert len(scores["test_score"]) == 3
    assert (scores["test_score"] > 0.7).all()


# --------------------------------------------------------------------- censoring at T
def test_training_labels_are_censored_at_T():
    X = rows_frame([0, 0, 100, 100], [0, 1, 2, 3])
    y = pd.DataFrame(
        {
            "label": pd.array([1, 0, 0, 0], dtype="Int64"),
            "duration_days": [50.0, 400.0, 30.0, 250.0],
            "event": pd.array([1, 1, 1, 0], dtype="Int64"),
        },
        index=X.index,
    )
    T = START + 200 * DAY
    out = censor_at(y, X, np.arange(4), T, time_column="as_of")
    # exits known by T stay; an exit after T becomes a censoring at T
    assert out["duration_days"].tolist() == [50.0, 200.0, 30.0, 100.0]
    assert out["event"].tolist() == [1, 0, 1, 0]
    assert y["duration_days"].tolist() == [50.0, 400.0, 30.0, 250.0]  # the input is untouched
    ramp = pd.DataFrame(
        {
            "hire_date": [START, START, START, START],
            "lower_days": [30.0, 150.0, 250.0, 30.0],
            "upper_days": [60.0, 240.0, np.inf, np.inf],
            "observed": [True, True, False, False],
        }
    )
    out = censor_at(ramp, X, np.arange(4), T)
    # productive by T: kept; productive after T: not yet at T (lower bound up to T)
    assert out["lower_days"].tolist() == [30.0, 150.0, 200.0, 30.0]
    assert out["upper_days"].tolist() == [60.0, np.inf, np.inf, np.inf]
    assert out["observed"].tolist() == [True, False, False, False]


# ------------------------------------------------------------------------------ backtest
def test_backtest_with_a_scikit_learn_classifier():
    X, y = panel()
    bt = backtest(
        LogisticRegression(),
        X,
        y,
        n_splits=3,
        horizon="90D",
        step="60D",
        n_bootstrap=30,
        random_state=0,
    )
    assert isinstance(bt, Backtest)
    cv = TimeSplit(n_splits=3, horizon="90D", step="60D")
    splits = list(cv.split(X, y))
    assert bt.folds["n_train"].tolist() == [len(tr) for tr, _ in splits]
    assert bt.folds["n_test"].tolist() == [len(te) for _, te in splits]
    assert (bt.folds["n_employees_both"] > 0).all()  # the same people, at later times
    assert (bt.folds["train_until"] + 90 * DAY <= bt.folds["test_start"]).all()
    pred = bt.predictions
    assert {"fold", "employee_id", "as_of", "label", "proba"} <= set(pred.columns)
    test_rows = np.concatenate([te for _, te in splits])
    assert pred.index.tolist() == X.index[test_rows].tolist()
    for k, (start, stop) in enumerate(
        zip(bt.folds["test_start"], bt.folds["test_end"], strict=True)
    ):
        when = pred.loc[pred["fold"] == k, "as_of"]
        assert ((when >= start) & (when < stop)).all()
    # pooled metrics: on every out-of-time row, with intervals; per-fold metrics without
    m = bt.metrics.set_index("metric")
    assert m.loc["roc_auc", "n"] == len(test_rows)
    assert m.loc["roc_auc", "ci_low"] < m.loc["roc_auc", "value"] < m.loc["roc_auc", "ci_high"]
    assert 0.75 < bt["roc_auc"] < 0.95
    per_fold = bt.fold_metrics[bt.fold_metrics["metric"] == "roc_auc"]
    assert len(per_fold) == 3 and per_fold["value"].between(0.7, 1).all()
    text = repr(bt)
    assert text.startswith("Backtest(3 folds, out of time)") and "pooled:" in text
    json.dumps(bt.to_dict(), allow_nan=False)
    assert isinstance(bt.plot_calibration(), Axes)
    assert isinstance(bt.plot_lift(), Axes)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_backtest_leaves_unlabelled_rows_out_of_training_and_scoring():
    X, y = panel(n_employees=60, months=12, seed=5)
    y = y.astype(float)
    y.iloc[::7] = np.nan
    bt = backtest(LogisticRegression(), X, y, n_splits=2, horizon="60D", step="60D", n_bootstrap=0)
    n_test = bt.folds["n_test"].sum()
    dropped = int(bt.evaluation.excluded["n"].sum())
    assert dropped > 0
    assert dropped + len(bt.predictions) == n_test
    assert bt.predictions["label"].notna().all()


def test_backtest_needs_a_horizon():
    X, y = panel(n_employees=20, months=6)
    with pytest.raises(ValueError, match="needs the label horizon"):
        backtest(LogisticRegression(), X, y, n_splits=2)


# --------------------------------------------------------------------- simulator models
@pytest.fixture(scope="module")
def sim():
    org = tml.datasets.simulate_workforce(n_employees=300, random_state=3, show_progress=False)
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    spine = tml.features.make_spine(org.employees, start="2023-03-01", end="2025-12-01")
    ramp = tml.labels.ramp_up(org.employees, org.productivity)
    ramp_rows = tml.labels.ramp_up_spine(ramp, days_after_hire=30)
    both = pd.concat([spine, ramp_rows[["employee_id", "as_of"]]], ignore_index=True)
    X_all = tml.features.build(
        both.drop_duplicates(["employee_id", "as_of"]).reset_index(drop=True),
        statements=statements,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
    )
    key = ["employee_id", "as_of"]
    X = spine[key].merge(X_all, on=key, how="left").set_axis(spine.index)
    X_ramp = ramp_rows[key].merge(X_all, on=key, how="left").set_axis(ramp_rows.index)
    return {
        "org": org,
        "spine": spine,
        "X": X,
        "y": tml.labels.flight_risk(spine, org.employees, horizon="180D"),
        "oracle": org.truth.exit_probability(spine, "180D").to_numpy(),
        "X_ramp": X_ramp,
        "y_ramp": ramp_rows,
    }


def test_flight_risk_backtest_on_the_simulator(sim):
    from talentml.models import FlightRisk

    X, y = sim["X"], sim["y"]
    # n_jobs=1: on a busy 2-core machine XGBoost's threads wait on each other (much slower)
    model = FlightRisk(n_estimators=60, random_state=0, n_jobs=1)
    bt = backtest(
        model, X, y, n_splits=2, step="4MS", n_bootstrap=30, random_state=0, oracle=sim["oracle"]
    )
    # the horizon comes from the model; train rows end 180 days before each test period
    assert (bt.folds["train_until"] + 180 * DAY <= bt.folds["test_start"]).all()
    assert bt.evaluation.kind == "survival"
    m = bt.metrics.set_index("metric")
    assert {"c_index_harrell", "c_index_uno", "integrated_brier"} <= set(m.index)
    assert np.isfinite(bt.fold_metrics["value"]).all()
    assert m.loc["roc_auc", "value"] > 0.5
    assert m.loc["roc_auc", "oracle"] > 0.65  # the true probabilities: the ceiling
    gap = bt.evaluation.oracle_gap.set_index("metric")
    assert (
        gap.loc["roc_auc", "ci_low"] <= gap.loc["roc_auc", "gap"] <= gap.loc["roc_auc", "ci_high"]
    )
    # no model beats the truth beyond sampling noise
    assert gap.loc["roc_auc", "ci_low"] < 0
    assert gap.loc["c_index_uno", "ci_low"] < 0
    # rows whose horizon runs past the data have no label but keep a duration (survival)
    assert m.loc["c_index_harrell", "n"] >= m.loc["roc_auc", "n"]


def test_ramp_up_evaluation_on_the_simulator(sim):
    from talentml.models import RampUp

    X, y = sim["X_ramp"], sim["y_ramp"]
    oracle = sim["org"].truth.ramp_up_oracle(job_events=sim["org"].job_events, days_after_hire=30)
    oracle = y[["employee_id"]].merge(oracle, on="employee_id", how="left")["median_days"]
    first = y["hire_date"] < y["hire_date"].quantile(0.6)
    usable = y["censored"].isna()
    model = RampUp(n_estimators=60, random_state=0, n_jobs=1).fit(
        X[first & usable], y[first & usable]
    )
    later = ~first
    ev = evaluate(
        model, X[later], y[later], n_bootstrap=30, random_state=0, oracle=oracle[later].to_numpy()
    )
    assert ev.kind == "interval"
    m = ev.metrics.set_index("metric")
    assert set(m.index) == {"c_index_interval", "mae_observed", "coverage_10_90"}
    assert m.loc["c_index_interval", "oracle"] > 0.6
    assert m.loc["c_index_interval", "value"] > 0.5
    reasons = set(ev.excluded["reason"])
    assert reasons <= {"productive_by_as_of", "not_active"}
    assert isinstance(ev.plot_calibration(), Axes)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_high_potential_evaluation_on_the_simulator(sim):
    from talentml.models import HighPotential

    org, spine, X = sim["org"], sim["spine"], sim["X"]
    y = tml.labels.high_potential(spine, org.job_events, horizon="365D", employees=org.employees)
    oracle = org.truth.high_potential_probability(spine, "365D").to_numpy()
    cut = pd.Timestamp("2024-06-01", tz="UTC")
    early = (X["as_of"] + pd.Timedelta(days=365) <= cut).to_numpy()
    late = (X["as_of"] >= cut).to_numpy()
    model = HighPotential(n_estimators=60, random_state=0, n_jobs=1).fit(X[early], y[early])
    ev = evaluate(model, X[late], y[late], n_bootstrap=20, random_state=0, oracle=oracle[late])
    m = ev.metrics.set_index("metric")
    assert m.loc["roc_auc", "oracle"] > 0.6
    assert m.loc["roc_auc", "value"] > 0.5
    assert ev.oracle_gap.set_index("metric").loc["roc_auc", "ci_low"] < 0
    # every left-out row is accounted for by its censoring reason
    labelled_or_timed = y[late]["label"].notna() | y[late]["duration_days"].notna()
    assert int(ev.excluded["n"].sum()) == int((~labelled_or_timed).sum())
