"""Targets as known at a date: :func:`censor_at` (the training targets of an out-of-time split)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["censor_at"]

logger = logging.getLogger("talentml.labels")

DAY = pd.Timedelta(days=1)


def censor_at(
    y: Any,
    X: pd.DataFrame,
    rows: np.ndarray,
    start: pd.Timestamp,
    *,
    time_column: str = "as_of",
) -> Any:
    """The targets of ``rows`` as they were known at ``start``.

    A label looks after its ``as_of``; a model trained at ``start`` may only see what had
    happened by then. For the rows ``rows`` of ``y``:

    * a survival target (``duration_days`` and ``event``, as :func:`flight_risk` and
      :func:`high_potential` return) whose duration runs past ``start`` is censored there:
      ``duration_days = start - as_of`` and ``event = 0``;
    * an interval target (``lower_days`` and ``upper_days`` with the ``hire_date`` of
      :func:`ramp_up_spine`) whose upper bound lies after ``start`` becomes right-censored:
      ``lower_days = min(lower_days, start - hire_date)``, ``upper_days = inf`` and
      ``observed = False``. Without ``hire_date`` the intervals cannot be censored (a
      warning is logged) and are returned as they are;
    * any other target (a Series, an array, a frame of other columns) is returned as the
      selected rows, unchanged.

    The input is never modified.

    Parameters
    ----------
    y : DataFrame, Series or array-like
        The targets, one per row of ``X``.
    X : DataFrame
        The rows the targets belong to; ``X[time_column]`` holds each row's ``as_of``.
    rows : ndarray of int
        Positions of the rows to return (for example the training rows of a fold).
    start : Timestamp
        The date the targets are known at (timezone-aware UTC).
    time_column : str, default "as_of"
        The column of ``X`` holding the rows' ``as_of``.

    Returns
    -------
    DataFrame, Series or ndarray
        The targets of ``rows`` as known at ``start`` (the same kind as ``y``).

    See Also
    --------
    talentml.models.TimeSplit.holdout : One out-of-time fold, with its targets censored here.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from talentml.labels import censor_at
    >>> X = pd.DataFrame({"as_of": pd.to_datetime(["2024-01-01", "2024-01-01"], utc=True)})
    >>> y = pd.DataFrame({
    ...     "label": pd.array([1, 0], dtype="Int64"),
    ...     "duration_days": [30.0, 200.0],
    ...     "event": pd.array([1, 1], dtype="Int64"),
    ... })
    >>> censor_at(y, X, np.arange(2), pd.Timestamp("2024-04-10", tz="UTC"))
       label  duration_days  event
    0      1           30.0      1
    1      0          100.0      0
    """
    column = time_column
    if not isinstance(y, pd.DataFrame):
        return y.iloc[rows] if isinstance(y, pd.Series) else np.asarray(y)[rows]
    out = y.iloc[rows].copy()
    if {"duration_days", "event"} <= set(out.columns):
        as_of = pd.DatetimeIndex(pd.to_datetime(X[column].iloc[rows], utc=True))
        room = (start - as_of) / DAY
        d = pd.to_numeric(out["duration_days"], errors="coerce").to_numpy(dtype=np.float64)
        cut = np.isfinite(d) & (d > room)
        if cut.any():
            out["duration_days"] = np.where(cut, room, d)
            event = out["event"].astype("Int64")
            event[cut] = 0
            out["event"] = event
    if {"lower_days", "upper_days"} <= set(out.columns) and "hire_date" not in out.columns:
        logger.warning(
            "backtest: y has lower_days/upper_days but no hire_date: the training intervals "
            "cannot be censored at T (pass the frame of talentml.labels.ramp_up_spine)"
        )
    if {"lower_days", "upper_days"} <= set(out.columns) and "hire_date" in out.columns:
        hire = pd.DatetimeIndex(pd.to_datetime(out["hire_date"], utc=True))
        room = ((start - hire) / DAY).to_numpy(dtype=np.float64)
        lo = out["lower_days"].to_numpy(dtype=np.float64)
        up = out["upper_days"].to_numpy(dtype=np.float64)
        late = np.isfinite(lo) & (up > room)
        if late.any():
            out["lower_days"] = np.where(late, np.minimum(lo, room), lo)
            out["upper_days"] = np.where(late, np.inf, up)
            if "observed" in out.columns:
                out["observed"] = np.where(late, False, out["observed"].to_numpy(dtype=bool))
    return out
