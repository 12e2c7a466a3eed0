"""The out-of-time splitter: train on what was known before ``T``, test on what came after.

:class:`TimeSplit` is a scikit-learn splitter over the ``as_of`` column: for a test period
``[T, T + step)``, the training rows are those whose *label window has closed* by ``T``
(``as_of + horizon <= T``). A row with ``as_of < T`` but ``as_of + horizon > T`` would teach the
model an outcome that was not yet observable at ``T``: that is leakage, and the reason a
random or group K-fold overstates a flight-risk model. :meth:`TimeSplit.holdout` gives one
fold's rows with the training targets as known at ``T``
(:func:`talentml.labels.censor_at`): the split of
:func:`talentml.models.backtest`, :func:`talentml.tracking.train` and the demo.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from ..labels import censor_at

__all__ = ["Holdout", "TimeSplit"]

logger = logging.getLogger(__name__)

DAY = pd.Timedelta(days=1)
MSG_EMPTY_FOLD = (
    "TimeSplit: fold {fold} (test from {start} to {end}) has {n_train} training and {n_test} test "
    "rows; use fewer splits, a shorter step or horizon, or more history"
)


def _timedelta(value: Any, name: str) -> pd.Timedelta:
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        out = pd.Timedelta(days=float(value))
    else:
        try:
            out = pd.Timedelta(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must be a duration such as '180D' or days, got {value!r}"
            ) from exc
    if pd.isna(out) or out <= pd.Timedelta(0):
        raise ValueError(f"{name} must be a positive duration, got {value!r}")
    return out


def _months(step: Any) -> int:
    """Months of a calendar step (``"MS"``, ``"3MS"``), 0 for a fixed-length step."""
    if isinstance(step, str):
        match = re.fullmatch(r"\s*(\d*)\s*MS\s*", step)
        if match:
            months = int(match.group(1) or 1)
            if months < 1:
                raise ValueError(f"step must be a positive number of months, got {step!r}")
            return months
    return 0


def _times(X: Any, column: str) -> pd.DatetimeIndex:
    if not isinstance(X, pd.DataFrame):
        raise ValueError(f"TimeSplit needs X as a DataFrame with a {column!r} column")
    if column not in X.columns:
        raise ValueError(f"TimeSplit: X has no column {column!r} (the time of each row)")
    # nanoseconds whatever the input's resolution: the folds compare integer times
    times = pd.DatetimeIndex(pd.to_datetime(X[column], utc=True)).as_unit("ns")
    if times.isna().any():
        bad = np.flatnonzero(times.isna())
        raise ValueError(f"TimeSplit: X[{column!r}] is missing in rows {list(X.index[bad[:10]])}")
    return times


def _known(y: Any, n: int) -> np.ndarray:
    """Rows whose target is known (they define where the last test period ends)."""
    if y is None:
        return np.ones(n, dtype=bool)
    if isinstance(y, pd.DataFrame):
        for col in ("label", "lower_days"):
            if col in y.columns:
                return y[col].notna().to_numpy()
        if y.shape[1] == 1:
            return y.iloc[:, 0].notna().to_numpy()
        return np.ones(n, dtype=bool)
    if isinstance(y, pd.Series):
        return y.notna().to_numpy()
    arr = np.asarray(y)
    if arr.dtype.kind == "f":
        return ~np.isnan(arr) if arr.ndim == 1 else ~np.isnan(arr).any(axis=1)
    return np.ones(n, dtype=bool)


class TimeSplit(BaseCrossValidator):
    """Out-of-time splits over ``as_of`` with no label leakage.

    For each test period ``[T, T + step)`` (the last one ends just after the latest ``as_of``
    with a known target):

    * test rows: ``T <= as_of < T + step``;
    * training rows: ``as_of + horizon <= T``, the rows whose label window has closed by
      ``T``, so their labels were observable at ``T``.

    An employee can be on both sides only at different times: training rows are at least one
    ``horizon`` before every test row.

    Parameters
    ----------
    n_splits : int, default=5
        Number of test periods (folds), in time order.
    horizon : str or pandas.Timedelta or float
        The label horizon (``"180D"``; a number is days): the gap between the last training
        ``as_of`` and ``T``. Must be positive.
    step : str or pandas.Timedelta or float, optional
        Length of each test period: a duration (``"91D"``; a number is days) or calendar
        months (``"MS"``, ``"3MS"``: periods from month start to month start, the right choice
        for monthly spines). Default: the time between ``first as_of + horizon`` and the end,
        divided by ``n_splits + 1`` (in whole days), so the first fold trains on about one
        step of history.
    time_column : str, default="as_of"
        The column of ``X`` holding each row's time.
    end : str or pandas.Timestamp, optional
        End (exclusive) of the last test period. Default: one day after the latest ``as_of``
        whose target is known (``y`` not missing; the latest ``as_of`` without ``y``), or the
        first month start after it with a calendar ``step``.
    test_size : float, optional
        Instead of ``step``: the share of the rows with a known target (before ``end``) that
        the test periods hold together, the latest ones; each period holds about
        ``test_size / n_splits`` of them. Periods start at an ``as_of`` of the data (the
        rows of one ``as_of`` stay together), the one whose share of later rows is closest
        to the target (a tie goes to the later one). ``TimeSplit(n_splits=1,
        test_size=0.25, horizon=...)`` holds out the last quarter of the rows: the default
        split of :func:`talentml.tracking.train`.

    See Also
    --------
    backtest : Fit and evaluate over these splits.
    holdout : One fold's rows, with the training targets as known at its start.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.models import TimeSplit
    >>> X = pd.DataFrame({
    ...     "employee_id": ["a", "b"] * 6,
    ...     "as_of": pd.date_range("2024-01-01", periods=6, freq="MS", tz="UTC").repeat(2),
    ... })
    >>> cv = TimeSplit(n_splits=2, horizon="60D", step="31D")
    >>> [(len(train), len(test)) for train, test in cv.split(X)]
    [(4, 4), (6, 2)]
    >>> cv.periods(X)[["test_start", "test_end", "train_until"]].map(lambda t: t.date())
       test_start    test_end train_until
    0  2024-04-01  2024-05-02  2024-02-01
    1  2024-05-02  2024-06-02  2024-03-01

    Calendar months suit a monthly spine (each period is one month here):

    >>> monthly = TimeSplit(n_splits=2, horizon="60D", step="MS")
    >>> [(len(train), len(test)) for train, test in monthly.split(X)]
    [(6, 2), (8, 2)]

    The last third of the rows held out, training rows 60 days before them:

    >>> last = TimeSplit(n_splits=1, horizon="60D", test_size=1 / 3)
    >>> [(len(train), len(test)) for train, test in last.split(X)]
    [(6, 4)]
    """

    def __init__(
        self,
        *,
        n_splits: int = 5,
        horizon: str | pd.Timedelta | float,
        step: str | pd.Timedelta | float | None = None,
        time_column: str = "as_of",
        end: str | pd.Timestamp | None = None,
        test_size: float | None = None,
    ) -> None:
        self.n_splits = n_splits
        self.horizon = horizon
        self.step = step
        self.time_column = time_column
        self.end = end
        self.test_size = test_size

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Return the number of splits.

        Parameters
        ----------
        X, y, groups : object
            Ignored (scikit-learn's signature).

        Returns
        -------
        int
            ``n_splits``.

        Examples
        --------
        >>> from talentml.models import TimeSplit
        >>> TimeSplit(n_splits=3, horizon="90D").get_n_splits()
        3
        """
        return int(self.n_splits)

    def _test_size(self) -> float:
        """``test_size`` checked: a share in (0, 1), not combined with ``step``."""
        share = self.test_size
        if isinstance(share, bool) or not isinstance(share, int | float | np.floating):
            raise ValueError(f"test_size must be a number in (0, 1), got {share!r}")
        if not 0.0 < float(share) < 1.0:
            raise ValueError(f"test_size must be in (0, 1), got {share!r}")
        if self.step is not None:
            raise ValueError(
                f"TimeSplit: give step (the length of a test period) or test_size (the share "
                f"of rows held out), not both; got step={self.step!r}, test_size={share!r}"
            )
        return float(share)

    def _starts(
        self, times: pd.DatetimeIndex, known: np.ndarray
    ) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
        """Start and end (exclusive) of each test period."""
        if not isinstance(self.n_splits, int | np.integer) or self.n_splits < 1:
            raise ValueError(f"n_splits must be a positive int, got {self.n_splits!r}")
        horizon = _timedelta(self.horizon, "horizon")
        months = _months(self.step)
        if self.end is not None:
            end = pd.Timestamp(self.end)
            end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
        else:
            base = times[known] if known.any() else times
            end = base.max() + DAY
            if months:  # calendar periods end at a month start
                end = (base.max().normalize() + pd.offsets.MonthBegin(1)).normalize()
        n = int(self.n_splits)
        if self.test_size is not None:
            starts = _share_starts(times, known, end, n, self._test_size())
            return starts, [*starts[1:], end]
        if months:
            bounds = [end - pd.DateOffset(months=months * (n - k)) for k in range(n + 1)]
            return bounds[:-1], bounds[1:]
        first = times.min()
        if self.step is None:
            span = end - (first + horizon)
            step = (span / (n + 1)).floor("D")
            if step < DAY:
                raise ValueError(
                    f"TimeSplit: the data span from {first} to {end} is too short for "
                    f"{n} splits with a horizon of {horizon}"
                )
        else:
            step = _timedelta(self.step, "step")
        starts = [end - (n - k) * step for k in range(n)]
        return starts, [s + step for s in starts]

    def _folds(
        self, X: Any, y: Any = None
    ) -> Iterator[tuple[int, pd.Timestamp, pd.Timestamp, np.ndarray, np.ndarray]]:
        times = _times(X, self.time_column)
        known = _known(y, len(times))
        horizon = _timedelta(self.horizon, "horizon")
        starts, stops = self._starts(times, known)
        values = times.asi8
        folds = []
        for k, (start, stop) in enumerate(zip(starts, stops, strict=True)):
            train = np.flatnonzero(values + horizon.value <= start.value)
            test = np.flatnonzero((values >= start.value) & (values < stop.value))
            if len(train) == 0 or len(test) == 0:
                raise ValueError(
                    MSG_EMPTY_FOLD.format(
                        fold=k, start=start, end=stop, n_train=len(train), n_test=len(test)
                    )
                )
            folds.append((k, start, stop, train, test))
        return iter(folds)

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield the positions of the training and test rows of each fold, in time order.

        Parameters
        ----------
        X : pandas.DataFrame
            Rows with the ``time_column`` (``as_of``).
        y : array-like or pandas.DataFrame, optional
            The target; rows where it is missing do not extend the last test period.
        groups : object
            Ignored: the time rule already keeps an employee's training rows before its test
            rows.

        Yields
        ------
        train : numpy.ndarray
            Positions of the training rows.
        test : numpy.ndarray
            Positions of the test rows.

        Raises
        ------
        ValueError
            If a fold has no training or no test rows (the fold and dates are named).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.models import TimeSplit
        >>> X = pd.DataFrame({"as_of": pd.date_range("2024-01-01", periods=8, freq="MS")})
        >>> for train, test in TimeSplit(n_splits=2, horizon="50D", step="31D").split(X):
        ...     print(train, test)
        [0 1 2 3] [5 6]
        [0 1 2 3 4] [7]
        """
        for _, _, _, train, test in self._folds(X, y):
            yield train, test

    def periods(self, X: Any, y: Any = None) -> pd.DataFrame:
        """Describe the folds: dates and row counts.

        Parameters
        ----------
        X : pandas.DataFrame
            Rows with the ``time_column``.
        y : array-like or pandas.DataFrame, optional
            The target (see :meth:`split`).

        Returns
        -------
        pandas.DataFrame
            ``fold``, ``test_start``, ``test_end`` (exclusive), ``train_until`` (latest
            training ``as_of``), ``n_train``, ``n_test``.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.models import TimeSplit
        >>> X = pd.DataFrame({"as_of": pd.date_range("2024-01-01", periods=8, freq="MS")})
        >>> TimeSplit(n_splits=2, horizon="50D", step="31D").periods(X)["n_train"].tolist()
        [4, 5]
        """
        times = _times(X, self.time_column)
        rows = []
        for k, start, stop, train, test in self._folds(X, y):
            rows.append(
                {
                    "fold": k,
                    "test_start": start,
                    "test_end": stop,
                    "train_until": times[train].max(),
                    "n_train": len(train),
                    "n_test": len(test),
                }
            )
        return pd.DataFrame(rows)

    def holdout(self, X: pd.DataFrame, y: Any = None, *, fold: int = -1) -> Holdout:
        """One fold's training and test rows, the training targets as known at its start.

        The rows of :meth:`split` for fold ``fold`` (default the last: the latest period
        held out), with the training targets censored at ``T`` as :func:`backtest` does:
        a survival duration (``duration_days``, ``event``) that runs past ``T`` ends there,
        censored; a ramp-up interval (``lower_days``, ``upper_days`` with ``hire_date``) not
        closed by ``T`` becomes right-censored at ``T``. The test targets are left as they
        are (what happened).

        Parameters
        ----------
        X : pandas.DataFrame
            Rows with the ``time_column``.
        y : array-like or pandas.DataFrame, optional
            The target, aligned with ``X``.
        fold : int, default=-1
            Which fold (negative counts from the last).

        Returns
        -------
        Holdout
            ``X_train``, ``y_train``, ``X_test``, ``y_test`` (fresh indexes), the positions
            ``train`` and ``test``, ``test_start``, ``test_end``, ``horizon``, ``n_gap``
            (rows in neither set because their label window was still open at ``T``) and
            ``n_later`` (rows at or after ``test_end``).

        Raises
        ------
        ValueError
            If ``y`` is not aligned with ``X``, ``fold`` is out of range, or the fold has no
            training or no test rows (see :meth:`split`).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.models import TimeSplit
        >>> X = pd.DataFrame({"as_of": pd.date_range("2024-01-01", periods=8, freq="MS",
        ...                                          tz="UTC")})
        >>> y = pd.DataFrame({"label": [0, 1, 0, 0, 1, 0, 1, 0],
        ...                   "duration_days": [400.0, 30, 300, 500, 20, 100, 10, 90],
        ...                   "event": [0, 1, 1, 0, 1, 0, 1, 0]})
        >>> h = TimeSplit(n_splits=1, horizon="90D", test_size=0.25).holdout(X, y)
        >>> h.test_start.date(), len(h.X_train), len(h.X_test), h.n_gap
        (datetime.date(2024, 7, 1), 4, 2, 2)
        >>> h.y_train["duration_days"].tolist()  # what was known on 1 July 2024
        [182.0, 30.0, 122.0, 91.0]
        """
        if y is not None and len(y) != len(X):
            raise ValueError(
                f"TimeSplit.holdout: y has {len(y)} rows but X has {len(X)}; align them"
            )
        folds = list(self._folds(X, y))
        if not isinstance(fold, int | np.integer) or not -len(folds) <= fold < len(folds):
            raise ValueError(
                f"TimeSplit.holdout: fold must be an int in [{-len(folds)}, {len(folds)}), "
                f"got {fold!r}"
            )
        _, start, stop, train, test = folds[fold]
        horizon = _timedelta(self.horizon, "horizon")
        values = _times(X, self.time_column).asi8
        n_gap = int(((values < start.value) & (values + horizon.value > start.value)).sum())
        n_later = int((values >= stop.value).sum())
        X_train = X.iloc[train].reset_index(drop=True)
        X_test = X.iloc[test].reset_index(drop=True)
        y_train = y_test = None
        if y is not None:
            y_train = censor_at(y, X, train, start, time_column=self.time_column)
            if isinstance(y, pd.Series | pd.DataFrame):
                y_train = y_train.reset_index(drop=True)
                y_test = y.iloc[test].reset_index(drop=True)
            else:
                y_test = np.asarray(y)[test]
        return Holdout(
            X_train=X_train,
            y_train=y_train,
            X_test=X_test,
            y_test=y_test,
            train=train,
            test=test,
            test_start=start,
            test_end=stop,
            horizon=horizon,
            n_gap=n_gap,
            n_later=n_later,
        )

    def _iter_test_indices(self, X: Any = None, y: Any = None, groups: Any = None):
        for _, test in self.split(X, y, groups):
            yield test


def _share_starts(
    times: pd.DatetimeIndex, known: np.ndarray, end: pd.Timestamp, n: int, share: float
) -> list[pd.Timestamp]:
    """Starts of ``n`` test periods holding the latest ``share`` of the known rows together."""
    values = times.asi8[known & (times.asi8 < end.value)]
    if len(values) == 0:
        raise ValueError(f"TimeSplit: no row with a known target before {end}: nothing to hold out")
    distinct, counts = np.unique(values, return_counts=True)
    # share of the rows at or after each distinct time
    later = np.cumsum(counts[::-1])[::-1] / len(values)
    starts = []
    for k in range(n):
        target = share * (n - k) / n
        gap = np.abs(later - target)
        best = np.flatnonzero(gap <= gap.min() + 1e-12)[-1]  # a tie: the later time
        starts.append(pd.Timestamp(int(distinct[best]), tz="UTC"))
    return starts


@dataclass
class Holdout:
    """One out-of-time fold of :class:`TimeSplit`: its rows, targets and dates.

    Built by :meth:`TimeSplit.holdout`.

    Attributes
    ----------
    X_train, X_test : pandas.DataFrame
        The training rows (``as_of + horizon <= test_start``) and the test rows
        (``test_start <= as_of < test_end``), with fresh indexes.
    y_train, y_test : pandas.Series, pandas.DataFrame, numpy.ndarray or None
        Their targets (None without ``y``): the training targets as known at
        ``test_start`` (durations and ramp-up intervals censored there), the test targets
        as they are.
    train, test : numpy.ndarray
        Positions of those rows in ``X``.
    test_start, test_end : pandas.Timestamp
        The test period ``[test_start, test_end)`` (UTC).
    horizon : pandas.Timedelta
        The gap: training rows are at least this long before ``test_start``.
    n_gap : int
        Rows in neither set: ``test_start - horizon < as_of < test_start``, whose label
        window was still open at ``test_start``.
    n_later : int
        Rows at or after ``test_end`` (in no set either: e.g. rows whose target is not known
        yet).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.models import TimeSplit
    >>> X = pd.DataFrame({"as_of": pd.date_range("2024-01-01", periods=6, freq="MS",
    ...                                          tz="UTC")})
    >>> h = TimeSplit(n_splits=1, horizon="60D", step="MS").holdout(X)
    >>> h.describe()["n_gap"], h.describe()["test_start"]
    (1, '2024-06-01')
    """

    X_train: pd.DataFrame
    y_train: Any
    X_test: pd.DataFrame
    y_test: Any
    train: np.ndarray
    test: np.ndarray
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    horizon: pd.Timedelta
    n_gap: int
    n_later: int

    def describe(self) -> dict[str, Any]:
        """The split in plain values (for logs, run parameters and reports).

        Returns
        -------
        dict
            ``test_start`` and ``test_end`` (ISO dates, or times when not at midnight),
            ``gap_days``, ``n_train``, ``n_test``, ``n_gap`` and ``n_later``.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.models import TimeSplit
        >>> X = pd.DataFrame({"as_of": pd.date_range("2024-01-01", periods=4, freq="MS")})
        >>> TimeSplit(n_splits=1, horizon="31D", step="MS").holdout(X).describe()["n_train"]
        3
        """
        return {
            "test_start": _day(self.test_start),
            "test_end": _day(self.test_end),
            "gap_days": _days(self.horizon),
            "n_train": len(self.train),
            "n_test": len(self.test),
            "n_gap": int(self.n_gap),
            "n_later": int(self.n_later),
        }


def _days(delta: pd.Timedelta) -> int | float:
    days = float(delta / DAY)
    return int(days) if days.is_integer() else days


def _day(t: pd.Timestamp) -> str:
    return str(t.date()) if t == t.normalize() else t.isoformat()
