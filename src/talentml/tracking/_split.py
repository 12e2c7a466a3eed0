"""How :func:`talentml.tracking.train` splits the rows: out of time on spine data.

Spine data (an ``as_of`` column with more than one date) is split as
:func:`talentml.models.backtest` splits it, by the last fold of a
:class:`talentml.models.TimeSplit` (:meth:`~talentml.models.TimeSplit.holdout`): the latest
rows held out, training only on rows whose label window closed before them, the training
targets as known then. Without time, at random by employee, and the run says so.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._validation import external_stacklevel, rng_from

__all__ = ["DEFAULT_HORIZON", "MSG_RANDOM_SPLIT", "SPLIT_KINDS"]

#: How :func:`train` split the rows: the ``talentml.split`` tag of its run.
SPLIT_KINDS = ("out_of_time", "random_by_employee", "random_by_row", "given")

#: The gap of the out-of-time split for a model without a ``horizon`` parameter (RampUp).
DEFAULT_HORIZON = "180D"

MSG_RANDOM_SPLIT = (
    "train: {why}: the rows are split at random {how}, so the test rows share their time "
    "with the training rows and the held-out metrics overstate how the model scores the "
    "future. Give X an 'as_of' column (spine data) for an out-of-time split, or pass the "
    "held-out rows (X_test, y_test)."
)


def _default_horizon(model: Any, horizon: Any) -> Any:
    """The gap of the out-of-time split: ``horizon``, else the model's, else 180 days."""
    if horizon is not None:
        return horizon
    params = model.get_params() if hasattr(model, "get_params") else {}
    return params.get("horizon") or DEFAULT_HORIZON


def _has_time(X: pd.DataFrame) -> tuple[bool, str]:
    """Whether ``X`` can be split in time, and why not."""
    if "as_of" not in X.columns:
        return False, "X has no 'as_of' column"
    distinct = pd.to_datetime(X["as_of"], utc=True).dropna().unique()
    if len(distinct) < 2:
        when = f" ({pd.Timestamp(distinct[0]).date()})" if len(distinct) else ""
        return False, f"X has a single as_of{when}"
    return True, ""


def _split_rows(
    X: pd.DataFrame,
    y: pd.Series | pd.DataFrame,
    *,
    test_size: float,
    test_from: Any,
    horizon: Any,
    random_state: int | None,
    cv: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Any, Any, dict[str, Any]]:
    """(X_train, X_test, y_train, y_test, split info) of :func:`train`.

    Out of time when ``X`` has more than one ``as_of`` (or ``test_from`` / ``cv`` is
    given): the last fold of a :class:`talentml.models.TimeSplit`, the training targets as
    known at its start. At random by employee (or by row) otherwise, with a warning.
    """
    timed, why = _has_time(X)
    if cv is not None or test_from is not None or timed:
        return _out_of_time(X, y, test_size=test_size, test_from=test_from, horizon=horizon, cv=cv)
    return _random_split(X, y, test_size=test_size, random_state=random_state, why=why)


def _out_of_time(
    X: pd.DataFrame, y: Any, *, test_size: float, test_from: Any, horizon: Any, cv: Any
) -> tuple[pd.DataFrame, pd.DataFrame, Any, Any, dict[str, Any]]:
    from ..models import TimeSplit

    if cv is not None and test_from is not None:
        raise ValueError("train: cv and test_from both choose the test period: pass one")
    if cv is None:
        if "as_of" not in X.columns:
            raise ValueError("train: test_from needs an 'as_of' column in X")
        as_of = pd.DatetimeIndex(pd.to_datetime(X["as_of"], utc=True))
        gap = _gap(horizon)
        if test_from is not None:
            cut = pd.Timestamp(test_from)
            cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut.tz_convert("UTC")
            n_test, n_train = int((as_of >= cut).sum()), int((as_of + gap <= cut).sum())
            if n_train == 0 or n_test == 0:
                raise ValueError(
                    f"train: the split leaves {n_train} training and {n_test} test rows (test "
                    f"rows as_of >= {cut.date()}, training rows as_of + {gap.days} days <= it; "
                    f"X covers as_of {as_of.min().date()} to {as_of.max().date()}); change "
                    "test_from or horizon"
                )
            end = as_of.max() + pd.Timedelta(days=1)
            cv = TimeSplit(n_splits=1, horizon=gap, step=end - cut, end=end)
        else:
            if not 0.0 < test_size < 1.0:
                raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
            cv = TimeSplit(n_splits=1, horizon=gap, test_size=test_size)
    elif not isinstance(cv, TimeSplit):
        raise TypeError(
            f"train: cv must be a talentml.models.TimeSplit (its last fold is held out), got "
            f"{type(cv).__name__}"
        )
    try:
        held = cv.holdout(X, y)
    except ValueError as exc:
        column = getattr(cv, "time_column", "as_of")
        span = ""
        if column in X.columns:
            t = pd.to_datetime(X[column], utc=True)
            span = f" X covers {column} {t.min().date()} to {t.max().date()}."
        raise ValueError(
            f"train: the out-of-time split failed: {exc}.{span} Give more history, a smaller "
            "test_size or horizon, test_from=..., or the held-out rows (X_test, y_test)"
        ) from exc
    info = held.describe()
    rule = (
        f"out of time: test rows as_of in [{info['test_start']}, {info['test_end']}), "
        f"training rows as_of + {info['gap_days']} days <= {info['test_start']} (their labels "
        f"were known by then; durations and intervals censored there); {info['n_gap']} rows "
        f"inside the gap and {info['n_later']} later rows left out"
    )
    split = {"kind": "out_of_time", "rule": rule, **info}
    return held.X_train, held.X_test, held.y_train, held.y_test, split


def _gap(horizon: Any) -> pd.Timedelta:
    """The horizon as a positive Timedelta (a number is days)."""
    try:
        if isinstance(horizon, int | float | np.integer | np.floating) and not isinstance(
            horizon, bool
        ):
            gap = pd.Timedelta(days=float(horizon))
        else:
            gap = pd.Timedelta(horizon)
    except (TypeError, ValueError):
        gap = pd.NaT
    if pd.isna(gap) or gap <= pd.Timedelta(0):
        raise ValueError(
            f"train: horizon (the gap of the out-of-time split) must be a positive duration "
            f"such as '180D' or a number of days, got {horizon!r}"
        )
    return gap


def _random_split(
    X: pd.DataFrame, y: Any, *, test_size: float, random_state: int | None, why: str
) -> tuple[pd.DataFrame, pd.DataFrame, Any, Any, dict[str, Any]]:
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    rng = rng_from(random_state)
    if "employee_id" in X.columns:
        codes, uniques = pd.factorize(X["employee_id"].astype("string"), sort=True)
        test = rng.random(len(uniques)) < test_size
        test = test[codes]
        kind, how = "random_by_employee", "by employee"
        rule = f"by employee, at random: {test_size:.0%} of employees held out (all their rows)"
    else:
        test = rng.random(len(X)) < test_size
        kind, how = "random_by_row", "by row"
        rule = f"by row, at random: {test_size:.0%} of rows held out"
    train_rows = ~test
    if train_rows.sum() == 0 or test.sum() == 0:
        raise ValueError(
            f"train: the split leaves {int(train_rows.sum())} training and {int(test.sum())} "
            "test rows; change test_size"
        )
    warning = MSG_RANDOM_SPLIT.format(why=why, how=how)
    warnings.warn(warning, UserWarning, stacklevel=external_stacklevel())
    split = {
        "kind": kind,
        "rule": rule,
        "n_train": int(train_rows.sum()),
        "n_test": int(test.sum()),
        "warning": warning,
    }
    return (
        X[train_rows].reset_index(drop=True),
        X[test].reset_index(drop=True),
        y[train_rows].reset_index(drop=True),
        y[test].reset_index(drop=True),
        split,
    )


def _check_given(
    X: pd.DataFrame, y: Any, X_test: Any, y_test: Any, test_from: Any, cv: Any = None
) -> None:
    """The caller's held-out rows: both given, aligned, with the training columns."""
    if X_test is None or y_test is None:
        raise ValueError("train: give X_test and y_test together (the held-out rows)")
    for name, value in (("test_from", test_from), ("cv", cv)):
        if value is not None:
            raise ValueError(
                f"train: {name} splits X itself; with X_test and y_test the held-out rows are "
                "given: pass one or the other"
            )
    if not isinstance(X_test, pd.DataFrame):
        raise TypeError(f"train: X_test must be a pandas DataFrame, got {type(X_test).__name__}")
    n_y = len(y_test) if hasattr(y_test, "__len__") else None
    if n_y != len(X_test):
        raise ValueError(
            f"train: y_test has {n_y} rows but X_test has {len(X_test)}; align them on the spine"
        )
    if isinstance(y, pd.DataFrame) != isinstance(y_test, pd.DataFrame):
        raise ValueError("train: y and y_test must both be label frames, or both not")
    missing = [c for c in X.columns if c not in X_test.columns]
    if missing:
        raise ValueError(f"train: X_test lacks the training column(s) {missing}")
    if len(X) == 0 or len(X_test) == 0:
        raise ValueError(
            f"train: {len(X)} training and {len(X_test)} test rows given; both need rows"
        )


def _given_split(X_train: pd.DataFrame, X_test: pd.DataFrame) -> dict[str, Any]:
    """What the caller's split was, in the words of :func:`_split_rows`."""
    rule = "given by the caller"
    if "as_of" in X_train.columns and "as_of" in X_test.columns:
        a = pd.to_datetime(X_train["as_of"], utc=True)
        b = pd.to_datetime(X_test["as_of"], utc=True)
        rule = (
            f"given by the caller: training rows as_of {a.min().date()} to {a.max().date()}, "
            f"test rows as_of {b.min().date()} to {b.max().date()}"
        )
    return {"kind": "given", "rule": rule, "n_train": len(X_train), "n_test": len(X_test)}
