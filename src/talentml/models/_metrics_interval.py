"""Interval-censored (ramp-up) metrics: concordance, MAE on observed rows, quantile coverage
(see :mod:`talentml.models._metrics`).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from ._metrics_base import MSG_NO_PAIRS, _as_float, _bad_rows, _check_scores, _check_weight
from ._metrics_survival import _PairCounter

logger = logging.getLogger("talentml.models._metrics")


# ------------------------------------------------------------------ interval censoring
def _check_interval(lower: Any, upper: Any) -> tuple[np.ndarray, np.ndarray]:
    lo = _as_float(lower, "lower")
    up = _as_float(upper, "upper")
    if len(lo) != len(up):
        raise ValueError(f"lower and upper have different lengths: {len(lo)} != {len(up)}")
    bad = np.isnan(lo) | np.isnan(up) | np.isinf(lo) | (lo < 0) | (up < lo)
    if bad.any():
        raise ValueError(
            "interval bounds must satisfy 0 <= lower <= upper (upper may be inf); rows "
            f"{_bad_rows(bad)} do not"
        )
    return lo, up


class _IntervalConcordance:
    """C-index for interval-censored times ``T in (lower, upper]``, prepared for many weights.

    ``i`` is surely faster than ``j`` when ``upper_i < lower_j``, or ``upper_i == lower_j``
    and ``j``'s interval is not a single point (``T_j > lower_j``). The pair is concordant when
    ``predicted_i < predicted_j``.
    """

    def __init__(self, lower: np.ndarray, upper: np.ndarray, predicted: np.ndarray) -> None:
        values, inverse = np.unique(np.concatenate([lower, upper]), return_inverse=True)
        n = len(lower)
        rank_lo = inverse[:n].astype(np.int64)
        rank_up = inverse[n:].astype(np.int64)
        self.queries = np.flatnonzero(np.isfinite(upper))
        a = 2 * rank_up[self.queries]
        c = 2 * rank_lo + (lower < upper).astype(np.int64)
        self._counter = _PairCounter(a, -predicted[self.queries], c, -predicted)

    def value(self, weight: np.ndarray) -> float:
        less, equal, total = self._counter.counts(weight)
        w = weight[self.queries]
        denominator = float(np.sum(w * total))
        if denominator <= 0:
            return float("nan")
        return float(np.sum(w * (less + 0.5 * equal)) / denominator)


def interval_concordance_index(
    lower: Any, upper: Any, predicted: Any, *, sample_weight: Any = None
) -> float:
    """Concordance index for interval-censored times (for example days to productivity).

    Each row's true time lies in ``(lower, upper]`` (``upper = inf`` when right-censored, as
    returned by :func:`talentml.labels.ramp_up`). A pair is comparable only when the order of
    the true times is certain: one interval ends before the other begins (``upper_i <=
    lower_j``; when ``lower_j == upper_j`` is an exact time, ``upper_i < lower_j``). It is
    concordant when the model predicts the shorter time for the row that was surely faster;
    tied predictions count one half.

    Parameters
    ----------
    lower, upper : array-like of shape (n,)
        Bounds of the true time, ``0 <= lower <= upper`` (``upper`` may be ``inf``).
    predicted : array-like of shape (n,)
        Predicted times (for example the median days of :class:`~talentml.models.RampUp`):
        smaller means faster.
    sample_weight : array-like of shape (n,), optional
        Non-negative row weights (multiplicities).

    Returns
    -------
    float
        The C-index, in [0, 1]; 0.5 is a random ranking.

    Raises
    ------
    ValueError
        If no pair is comparable or an input is invalid.

    See Also
    --------
    mae_observed : Error of the predicted days on observed rows.

    Notes
    -----
    With exact times (``lower == upper``) and right-censoring (``upper = inf``) it reduces to
    Harrell's C on predicted times.

    Examples
    --------
    >>> from talentml.models._metrics import interval_concordance_index
    >>> lower = [0, 30, 60, 90]
    >>> upper = [30, 60, float("inf"), 120]
    >>> interval_concordance_index(lower, upper, [20, 50, 70, 100])
    1.0
    >>> interval_concordance_index(lower, upper, [50, 20, 70, 100])  # (0, 30] vs (30, 60] wrong
    0.8
    """
    lo, up = _check_interval(lower, upper)
    p = _check_scores(predicted, len(lo), "predicted")
    w = _check_weight(sample_weight, len(lo))
    value = _IntervalConcordance(lo, up, p).value(w)
    if math.isnan(value):
        raise ValueError(
            MSG_NO_PAIRS.format(
                what="interval_concordance_index", detail="no interval ends before another begins"
            )
        )
    return value


def _midpoint(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return (lower + upper) / 2.0


def mae_observed(lower: Any, upper: Any, predicted: Any) -> float:
    """Mean absolute error of predicted times on the observed (not right-censored) rows.

    The truth of an observed row is the midpoint of its interval ``(lower, upper]``.

    Parameters
    ----------
    lower, upper : array-like of shape (n,)
        Bounds of the true time; rows with ``upper = inf`` (right-censored) are left out.
    predicted : array-like of shape (n,)
        Predicted times.

    Returns
    -------
    float
        Mean of ``|predicted - (lower + upper) / 2|`` over rows with a finite ``upper``.

    Raises
    ------
    ValueError
        If no row is observed or an input is invalid.

    See Also
    --------
    quantile_coverage : Coverage of predicted intervals.

    Notes
    -----
    Observed rows are the faster ones (slow ramp-ups are still censored at the end of the
    data), so this MAE describes the observed part of the distribution; the interval C-index
    uses the censored rows as well.

    Examples
    --------
    >>> from talentml.models._metrics import mae_observed
    >>> mae_observed([0, 30, 60], [30, 60, float("inf")], [20, 40, 500])
    5.0
    """
    lo, up = _check_interval(lower, upper)
    p = _check_scores(predicted, len(lo), "predicted")
    observed = np.isfinite(up)
    if not observed.any():
        raise ValueError("mae_observed: no observed row (every upper bound is inf)")
    return float(np.mean(np.abs(p[observed] - _midpoint(lo, up)[observed])))


def quantile_coverage(lower: Any, upper: Any, q_low: Any, q_high: Any) -> float:
    """Share of observed rows whose time falls inside the predicted interval.

    Parameters
    ----------
    lower, upper : array-like of shape (n,)
        Bounds of the true time; rows with ``upper = inf`` are left out and the truth of the
        others is the midpoint of ``(lower, upper]``.
    q_low, q_high : array-like of shape (n,)
        Predicted quantiles bounding the interval (for example the 0.1 and 0.9 quantiles: an
        80% interval).

    Returns
    -------
    float
        Share of observed rows with ``q_low <= midpoint <= q_high``; compare it with the
        nominal level (0.8 for the 0.1-0.9 interval).

    Raises
    ------
    ValueError
        If no row is observed, ``q_low > q_high`` somewhere, or an input is invalid.

    See Also
    --------
    mae_observed : Error of the predicted days.

    Notes
    -----
    Computed on the observed rows, so it is conditional on ramping up within the data
    (right-censored rows are the slow ones and would be missed more often).

    Examples
    --------
    >>> from talentml.models._metrics import quantile_coverage
    >>> quantile_coverage([0, 30, 60, 0], [30, 60, 90, float("inf")], [10, 40, 40, 0], [40, 80, 70, 9])
    0.6666666666666666
    """
    lo, up = _check_interval(lower, upper)
    a = _check_scores(q_low, len(lo), "q_low")
    b = _check_scores(q_high, len(lo), "q_high")
    if (a > b).any():
        raise ValueError(f"q_low > q_high in rows {_bad_rows(a > b)}")
    observed = np.isfinite(up)
    if not observed.any():
        raise ValueError("quantile_coverage: no observed row (every upper bound is inf)")
    mid = _midpoint(lo, up)[observed]
    return float(np.mean((a[observed] <= mid) & (mid <= b[observed])))
