"""TimeSplit by share of rows (test_size) and TimeSplit.holdout: one fold, its targets as
known at its start, every row accounted for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from talentml.models import TimeSplit
from talentml.models._backtest import TimeSplit as ReExported

START = pd.Timestamp("2023-01-01", tz="UTC")
DAY = pd.Timedelta(days=1)


def monthly(months: int = 24, per_month: int = 10) -> pd.DataFrame:
    as_of = pd.date_range(START, periods=months, freq="MS")
    return pd.DataFrame(
        {
            "employee_id": np.tile([f"e{i}" for i in range(per_month)], months),
            "as_of": np.repeat(as_of, per_month),
        }
    )


def test_the_splitter_is_one_class_wherever_it_is_imported_from():
    assert ReExported is TimeSplit


def test_test_size_holds_out_the_latest_share_of_rows():
    X = monthly()
    for share, months in ((0.25, 6), (0.5, 12), (1 / 24, 1)):
        cv = TimeSplit(n_splits=1, horizon="90D", test_size=share)
        train, test = next(cv.split(X))
        assert len(test) == 10 * months
        start = X["as_of"].iloc[test].min()
        assert (X["as_of"].iloc[test] >= start).all()
        assert (X["as_of"].iloc[train] + pd.Timedelta("90D") <= start).all()
    # the rows of one as_of stay together: 30% of 24 months is 7.2 months -> 7
    train, test = next(TimeSplit(n_splits=1, horizon="90D", test_size=0.3).split(X))
    assert len(test) == 70


def test_test_size_counts_the_rows_with_a_known_target():
    X = monthly()
    y = pd.Series(np.where(X["as_of"] < START + pd.DateOffset(months=18), 1.0, np.nan))
    # 18 labelled months: a third of them is the last 6 labelled months
    periods = TimeSplit(n_splits=1, horizon="60D", test_size=1 / 3).periods(X, y)
    assert periods["test_start"].iloc[0] == START + pd.DateOffset(months=12)
    assert periods["n_test"].iloc[0] == 60


def test_test_size_over_several_folds():
    X = monthly()
    periods = TimeSplit(n_splits=3, horizon="60D", test_size=0.25).periods(X)
    assert periods["n_test"].tolist() == [20, 20, 20]
    assert (periods["test_end"].iloc[:-1].to_numpy() == periods["test_start"].iloc[1:]).all()


def test_test_size_errors():
    X = monthly()
    with pytest.raises(ValueError, match="give step .* or test_size .*, not both"):
        list(TimeSplit(n_splits=1, horizon="60D", step="MS", test_size=0.2).split(X))
    for bad in (0, 1.0, -0.1, "a quarter", True):
        with pytest.raises(ValueError, match="test_size must be"):
            list(TimeSplit(n_splits=1, horizon="60D", test_size=bad).split(X))
    # two folds asked of a share too small to hold two distinct months: an empty fold
    with pytest.raises(ValueError, match="fold 0 .* 0 test rows"):
        list(TimeSplit(n_splits=2, horizon="60D", test_size=0.02).split(X))


def test_holdout_rows_targets_and_accounting():
    X = monthly()
    n = len(X)
    y = pd.DataFrame(
        {
            "label": pd.array(np.r_[np.ones(n - 30), [np.nan] * 30], dtype="Float64"),
            "duration_days": np.full(n, 400.0),
            "event": pd.array(np.ones(n, dtype=int), dtype="Int64"),
        }
    )
    cv = TimeSplit(n_splits=1, horizon="180D", test_size=0.25)
    held = cv.holdout(X, y)
    train, test = next(cv.split(X, y))
    np.testing.assert_array_equal(held.train, train)
    np.testing.assert_array_equal(held.test, test)
    pd.testing.assert_frame_equal(held.X_train, X.iloc[train].reset_index(drop=True))
    pd.testing.assert_frame_equal(held.X_test, X.iloc[test].reset_index(drop=True))
    pd.testing.assert_frame_equal(held.y_test, y.iloc[test].reset_index(drop=True))
    T = held.test_start
    # durations censored at T; the test targets are what happened
    room = ((T - held.X_train["as_of"]) / DAY).to_numpy()
    np.testing.assert_array_equal(held.y_train["duration_days"], np.minimum(400.0, room))
    assert (held.y_train["event"][room < 400] == 0).all()
    assert (held.y_test["duration_days"] == 400.0).all()
    # every row is training, test, in the gap or after the last known target
    assert len(held.train) + len(held.test) + held.n_gap + held.n_later == n
    assert held.n_later == 30  # the last month has no known target
    info = held.describe()
    assert info["gap_days"] == 180 and info["test_start"] == str(T.date())
    assert info["n_gap"] == held.n_gap
    # the original target is untouched
    assert (y["duration_days"] == 400.0).all()


def test_holdout_of_another_fold_and_its_errors():
    X = monthly()
    cv = TimeSplit(n_splits=3, horizon="60D", step="MS")
    first = cv.holdout(X, fold=0)
    assert first.test_start == cv.periods(X)["test_start"].iloc[0]
    assert first.y_train is None and first.y_test is None
    assert first.n_later == 20  # the two later folds' months
    with pytest.raises(ValueError, match=r"fold must be an int in \[-3, 3\)"):
        cv.holdout(X, fold=3)
    with pytest.raises(ValueError, match="y has 3 rows but X has 240"):
        cv.holdout(X, [1, 2, 3])
    arr = cv.holdout(X, np.arange(len(X)))
    np.testing.assert_array_equal(arr.y_test, arr.test)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    days=st.lists(st.integers(0, 700), min_size=4, max_size=80),
    horizon=st.integers(1, 200),
    share=st.floats(0.05, 0.9),
)
def test_holdout_never_leaks_and_loses_no_row(days, horizon, share):
    X = pd.DataFrame({"as_of": START + pd.to_timedelta(np.asarray(days), unit="D")})
    cv = TimeSplit(n_splits=1, horizon=f"{horizon}D", test_size=share)
    try:
        held = cv.holdout(X)
    except ValueError as exc:
        assert "TimeSplit" in str(exc)
        assume(False)
    T = held.test_start
    assert (held.X_train["as_of"] + horizon * DAY <= T).all()
    assert (held.X_test["as_of"] >= T).all()
    assert len(held.train) + len(held.test) + held.n_gap + held.n_later == len(X)
    # T is an as_of of the data, the one whose share of later rows is closest to the target
    later = np.array([(X["as_of"] >= t).mean() for t in X["as_of"].unique()])
    assert abs((X["as_of"] >= T).mean() - share) <= np.abs(later - share).min() + 1e-12
