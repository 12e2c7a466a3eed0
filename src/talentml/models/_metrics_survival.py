"""Right-censored survival metrics: Harrell's and Uno's concordance, the integrated Brier score
(see :mod:`talentml.models._metrics`).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from ._metrics_base import (
    MSG_NO_PAIRS,
    _as_float,
    _bad_rows,
    _check_scores,
    _check_survival,
    _check_weight,
)

logger = logging.getLogger("talentml.models._metrics")


# ------------------------------------------------------------------------ pair counting
class _PairCounter:
    """Weighted 2-D dominance counts, reusable across weight vectors (bootstrap).

    For queries ``(a_i, b_i)`` and data points ``(c_j, d_j)`` with weights ``w_j``,
    :meth:`counts` returns, for every query,

    * ``less_i  = sum_j w_j [c_j > a_i] [d_j < b_i]``,
    * ``equal_i = sum_j w_j [c_j > a_i] [d_j == b_i]``,
    * ``total_i = sum_j w_j [c_j > a_i]``.

    The data are sorted by ``c``; the suffix ``c_j > a_i`` is cut into ``O(log n)`` aligned
    blocks, and inside each block (sorted by ``d``) two binary searches count ``d_j < b_i``.
    The positions depend only on ``a, b, c, d``; a weight vector costs ``O(n log n)`` cumulative
    sums.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> None:
        n = len(c)
        self.n_queries = len(a)
        order = np.argsort(c, kind="stable")
        start = np.searchsorted(c[order], a, side="right")
        values, inverse = np.unique(np.concatenate([d, b]), return_inverse=True)
        d_rank = inverse[:n][order].astype(np.int64)
        b_rank = inverse[n:].astype(np.int64)
        width = np.int64(len(values) + 1)
        n_levels = max(1, int(n - 1).bit_length()) if n > 1 else 1
        positions = np.arange(n, dtype=np.int64)
        self._levels: list[tuple[np.ndarray, ...]] = []
        s = start.astype(np.int64)
        for level in range(n_levels + 1):
            if level < n_levels:
                use = ((s >> level) & 1).astype(bool)
                block = s[use] >> level
                s = s + np.where(use, np.int64(1) << level, 0)
            else:
                use = s == 0
                block = np.zeros(int(use.sum()), dtype=np.int64)
            if not use.any():
                continue
            key = (positions >> level) * width + d_rank
            perm = np.argsort(key, kind="stable")
            keys = key[perm]
            base = block * width
            lo = np.searchsorted(keys, base, side="left")
            mid = np.searchsorted(keys, base + b_rank[use], side="left")
            hi = np.searchsorted(keys, base + b_rank[use], side="right")
            end = np.searchsorted(keys, base + width, side="left")
            self._levels.append((np.flatnonzero(use), order[perm], lo, mid, hi, end))

    def counts(self, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        less = np.zeros(self.n_queries)
        equal = np.zeros(self.n_queries)
        total = np.zeros(self.n_queries)
        for queries, data, lo, mid, hi, end in self._levels:
            cw = np.concatenate([[0.0], np.cumsum(weight[data])])
            less[queries] += cw[mid] - cw[lo]
            equal[queries] += cw[hi] - cw[mid]
            total[queries] += cw[end] - cw[lo]
        return less, equal, total


def _dense_rank(values: np.ndarray) -> np.ndarray:
    return np.unique(values, return_inverse=True)[1].astype(np.int64)


class _Concordance:
    """Harrell's and Uno's C for right-censored data, prepared once for many weight vectors.

    Event ``i`` and row ``j`` are comparable when ``t_j > t_i``, or ``t_j == t_i`` and ``j`` is
    censored (scikit-survival's convention); the pair is concordant when ``risk_i > risk_j``
    and counts one half when the risks are equal.
    """

    def __init__(self, time: np.ndarray, event: np.ndarray, risk: np.ndarray) -> None:
        self.time = time
        self.event = event
        key = 2 * _dense_rank(time) + (~event).astype(np.int64)
        self.events = np.flatnonzero(event)
        self._counter = _PairCounter(key[self.events], risk[self.events], key, risk)
        self._cache: tuple[np.ndarray, tuple[np.ndarray, ...]] | None = None

    def value(self, weight: np.ndarray, event_weight: np.ndarray) -> float:
        """C with data weights ``weight`` and extra weights of the events (IPCW)."""
        if self._cache is not None and np.array_equal(self._cache[0], weight):
            less, equal, total = self._cache[1]
        else:
            less, equal, total = self._counter.counts(weight)
            self._cache = (weight.copy(), (less, equal, total))
        w = weight[self.events] * event_weight
        denominator = float(np.sum(w * total))
        if denominator <= 0:
            return float("nan")
        return float(np.sum(w * (less + 0.5 * equal)) / denominator)


class _CensoringKM:
    """Kaplan-Meier of the censoring distribution G(t) = P(C > t), for many weight vectors.

    The unique times are fixed at construction (a time whose rows all have weight 0 leaves G
    unchanged), so the position of every row and of any grid is computed once. At a time
    with both events and censorings the events leave the risk set first (as
    scikit-survival's ``CensoringDistributionEstimator``).
    """

    def __init__(self, time: np.ndarray, event: np.ndarray) -> None:
        self.times, self.inverse = np.unique(time, return_inverse=True)
        self.event = event.astype(np.float64)

    def fit(self, weight: np.ndarray) -> np.ndarray:
        """G at each unique time, for row weights ``weight``."""
        m = len(self.times)
        total = np.bincount(self.inverse, weights=weight, minlength=m)
        events = np.bincount(self.inverse, weights=weight * self.event, minlength=m)
        censored = total - events
        at_risk = weight.sum() - np.concatenate([[0.0], np.cumsum(total)[:-1]]) - events
        ratio = np.divide(censored, at_risk, out=np.zeros(m), where=censored > 0)
        return np.cumprod(1.0 - ratio)

    def positions(self, at: np.ndarray) -> np.ndarray:
        """Index of the step of ``G`` in force at each time of ``at`` (-1 before the first)."""
        return np.searchsorted(self.times, at, side="right") - 1

    @staticmethod
    def value(g: np.ndarray, positions: np.ndarray) -> np.ndarray:
        return np.where(positions >= 0, g[np.maximum(positions, 0)], 1.0)


def _censoring_km(
    time: np.ndarray, event: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Unique times and G(t) of the censoring distribution, with row weights."""
    km = _CensoringKM(time, event)
    return km.times, km.fit(weight)


def _step(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Right-continuous step function (1 before the first time)."""
    idx = np.searchsorted(times, at, side="right") - 1
    return np.where(idx >= 0, values[np.maximum(idx, 0)], 1.0)


def _uno_weights(
    time: np.ndarray,
    event: np.ndarray,
    tau: float | None,
    weight: np.ndarray,
    reference: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    km: _CensoringKM | None = None,
) -> np.ndarray:
    """1 / G(t_i)^2 for the events (0 past ``tau``).

    G comes from ``reference`` (other data), else from the rows themselves (``km``, prepared
    on ``time`` and ``event``, when given).
    """
    t_events = time[event]
    if reference is not None:
        g_times, g = _censoring_km(*reference)
        g_at = _step(g_times, g, t_events)
    else:
        km = km if km is not None else _CensoringKM(time, event)
        g_at = km.fit(weight)[km.inverse[event]]
    inside = np.ones(len(t_events), dtype=bool) if tau is None else t_events < tau
    if (g_at[inside] <= 0).any():
        raise ValueError(
            "concordance_index_ipcw: the censoring survival G(t) is 0 at an event time before "
            "tau; choose a smaller tau (G must be positive up to tau)"
        )
    out = np.zeros(len(t_events))
    out[inside] = 1.0 / np.square(g_at[inside])
    return out


def concordance_index(time: Any, event: Any, risk: Any, *, sample_weight: Any = None) -> float:
    """Harrell's concordance index for right-censored times.

    The share of comparable pairs that the risk scores order correctly. An event at ``t_i``
    is comparable with every row still at risk after it (``t_j > t_i``, or censored at
    ``t_i``); the pair is concordant when the event has the higher risk. Tied risks count one
    half. 0.5 is a random ranking, 1 a perfect one.

    Parameters
    ----------
    time : array-like of shape (n,)
        Time to the event or to censoring (for example ``duration_days``).
    event : array-like of shape (n,)
        1 (or True) for an observed event, 0 for censoring.
    risk : array-like of shape (n,)
        Predicted risk: higher means an earlier event (not a survival probability).
    sample_weight : array-like of shape (n,), optional
        Non-negative row weights (multiplicities: a weight of 2 counts the row twice).

    Returns
    -------
    float
        Harrell's C, in [0, 1].

    Raises
    ------
    ValueError
        If there are no comparable pairs or an input is invalid (the rows are named).

    See Also
    --------
    concordance_index_ipcw : Uno's C, which corrects for censoring.

    Notes
    -----
    The same number as scikit-survival's ``concordance_index_censored`` and lifelines'
    ``concordance_index`` (with survival times instead of risks), with exact equality as the
    tie rule. Harrell's C depends on the censoring distribution; prefer
    :func:`concordance_index_ipcw` to compare models across data sets.

    Examples
    --------
    >>> from talentml.models._metrics import concordance_index
    >>> time = [1, 2, 3, 4]
    >>> event = [1, 0, 1, 1]
    >>> concordance_index(time, event, [4, 3, 2, 1])
    1.0
    >>> concordance_index(time, event, [2, 1, 3, 4])  # 1 of the 4 comparable pairs is right
    0.25
    >>> concordance_index(time, event, [1, 2, 3, 4])
    0.0
    """
    t, e = _check_survival(time, event)
    r = _check_scores(risk, len(t), "risk")
    w = _check_weight(sample_weight, len(t))
    value = _Concordance(t, e, r).value(w, np.ones(int(e.sum())))
    if math.isnan(value):
        raise ValueError(
            MSG_NO_PAIRS.format(
                what="concordance_index", detail="need an event followed by a later time"
            )
        )
    return value


def concordance_index_ipcw(
    time: Any,
    event: Any,
    risk: Any,
    *,
    tau: float | None = None,
    time_train: Any = None,
    event_train: Any = None,
    sample_weight: Any = None,
) -> float:
    """Uno's concordance index with inverse probability of censoring weights (IPCW).

    Harrell's C weights every comparable pair equally, so it depends on how much censoring
    there is. Uno's C weights the pairs of an event at ``t_i`` by ``1 / G(t_i)^2``, where ``G``
    is the Kaplan-Meier estimate of the *censoring* survival function, and only counts events
    before the truncation time ``tau``: it estimates the concordance probability
    ``P(risk_i > risk_j | T_i < T_j, T_i < tau)`` free of the censoring distribution.

    Parameters
    ----------
    time : array-like of shape (n,)
        Time to the event or to censoring.
    event : array-like of shape (n,)
        1 (or True) for an observed event, 0 for censoring.
    risk : array-like of shape (n,)
        Predicted risk: higher means an earlier event.
    tau : float, optional
        Truncation time: events at or after ``tau`` are not counted as the earlier member of
        a pair. ``G`` must be positive up to ``tau`` (choose a time with follow-up beyond it).
        Default: no truncation.
    time_train, event_train : array-like, optional
        The data to estimate ``G`` from (usually the training labels). Default: the evaluated
        rows themselves.
    sample_weight : array-like of shape (n,), optional
        Non-negative row weights (multiplicities); they also weight the estimate of ``G``
        when it comes from the evaluated rows.

    Returns
    -------
    float
        Uno's C, in [0, 1].

    Raises
    ------
    ValueError
        If ``G`` reaches 0 before ``tau``, there are no comparable pairs, or an input is
        invalid.

    See Also
    --------
    concordance_index : Harrell's C.
    integrated_brier_score : Calibration and discrimination over a time grid.

    Notes
    -----
    The same number as scikit-survival's ``concordance_index_ipcw(survival_train,
    survival_test, risk, tau=tau)`` (the tests check it). Uno et al. (2011), "On the
    C-statistics for evaluating overall adequacy of risk prediction procedures with censored
    survival data", Statistics in Medicine 30(10).

    Examples
    --------
    >>> from talentml.models._metrics import concordance_index_ipcw
    >>> time = [1, 2, 3, 4, 5, 6]
    >>> event = [1, 0, 1, 0, 1, 0]
    >>> risk = [6, 5, 4, 3, 2, 1]
    >>> concordance_index_ipcw(time, event, risk, tau=5.5)
    1.0
    >>> # G = 1, 0.8, 0.533 at the events t = 1, 3, 5: weights 1, 1.56, 3.52; only t = 1 is
    >>> # ranked right (5 pairs), t = 3 (3 pairs) and t = 5 (1 pair) are wrong: 5 / 13.2
    >>> round(concordance_index_ipcw(time, event, [6, 1, 2, 3, 4, 5]), 3)
    0.379
    """
    t, e = _check_survival(time, event)
    r = _check_scores(risk, len(t), "risk")
    w = _check_weight(sample_weight, len(t))
    reference = None
    if time_train is not None or event_train is not None:
        if time_train is None or event_train is None:
            raise ValueError("pass both time_train and event_train, or neither")
        tt, et = _check_survival(time_train, event_train, "time_train")
        reference = (tt, et, np.ones(len(tt)))
    ipcw = _uno_weights(t, e, tau, w, reference)
    value = _Concordance(t, e, r).value(w, ipcw)
    if math.isnan(value):
        raise ValueError(
            MSG_NO_PAIRS.format(
                what="concordance_index_ipcw",
                detail="need an event before tau followed by a later time",
            )
        )
    return value


class _Brier:
    """Brier scores with IPCW on a time grid, prepared once for many weight vectors."""

    def __init__(self, t: np.ndarray, e: np.ndarray, survival: np.ndarray, times: np.ndarray):
        case = (t[:, None] <= times[None, :]) & e[:, None]
        control = t[:, None] > times[None, :]
        self.case = np.square(survival) * case  # weighted by 1 / G(t_i)
        self.control = np.square(1.0 - survival) * control  # weighted by 1 / G(t)
        self.t = t
        self.e = e
        self.times = times
        self.km = _CensoringKM(t, e)
        self.grid = self.km.positions(times)

    def curve(
        self,
        weight: np.ndarray,
        reference: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        if reference is None:
            g = self.km.fit(weight)
            g_y = g[self.km.inverse]
            g_t = self.km.value(g, self.grid)
        else:
            g_times, g = _censoring_km(*reference)
            g_y = _step(g_times, g, self.t)
            g_t = _step(g_times, g, self.times)
        inv_y = np.divide(1.0, g_y, out=np.zeros(len(g_y)), where=g_y > 0)
        inv_t = np.divide(1.0, g_t, out=np.zeros(len(g_t)), where=g_t > 0)
        return ((weight * inv_y) @ self.case + (weight @ self.control) * inv_t) / weight.sum()


def integrated_brier_score(
    time: Any,
    event: Any,
    survival: Any,
    times: Any,
    *,
    time_train: Any = None,
    event_train: Any = None,
    sample_weight: Any = None,
) -> float:
    """Integrated Brier score of predicted survival curves, with IPCW (Graf et al.).

    At each time ``t`` of the grid, the Brier score compares the predicted survival
    probability ``S_i(t)`` with the status at ``t``: rows with an event by ``t`` should have
    ``S = 0`` (weighted by ``1 / G(t_i)``), rows still at risk after ``t`` should have ``S = 1``
    (weighted by ``1 / G(t)``); rows censored before ``t`` carry no information and are
    replaced by the weights. The integrated score is the trapezoidal mean over the grid.

    Parameters
    ----------
    time : array-like of shape (n,)
        Time to the event or to censoring.
    event : array-like of shape (n,)
        1 (or True) for an observed event, 0 for censoring.
    survival : array-like of shape (n, len(times))
        Predicted survival probabilities ``S_i(t) = P(T_i > t)`` at each time of the grid
        (for :class:`~talentml.models.FlightRisk`, ``1 - predict_survival(X, times)``).
    times : array-like of shape (m,)
        Increasing time grid, at least two points, inside ``[min(time), max(time))``.
    time_train, event_train : array-like, optional
        The data to estimate the censoring distribution ``G`` from. Default: the evaluated
        rows.
    sample_weight : array-like of shape (n,), optional
        Non-negative row weights (multiplicities).

    Returns
    -------
    float
        The integrated Brier score: 0 is perfect; 0.25 is what a constant 0.5 scores.

    Raises
    ------
    ValueError
        If the grid is not increasing, has fewer than two points, lies outside the follow-up,
        or the inputs are invalid.

    See Also
    --------
    concordance_index_ipcw : Discrimination with the same censoring weights.

    Notes
    -----
    The same number as scikit-survival's ``integrated_brier_score`` (the tests check it).
    Graf, Schmoor, Sauerbrei and Schumacher (1999), "Assessment and comparison of prognostic
    classification schemes for survival data", Statistics in Medicine 18(17-18).

    Examples
    --------
    >>> import numpy as np
    >>> from talentml.models._metrics import integrated_brier_score
    >>> time = np.array([1.0, 2.0, 3.0, 4.0])
    >>> event = np.array([1, 1, 1, 1])
    >>> grid = np.array([1.5, 2.5, 3.5])
    >>> perfect = (time[:, None] > grid[None, :]).astype(float)
    >>> integrated_brier_score(time, event, perfect, grid)
    0.0
    >>> integrated_brier_score(time, event, np.full((4, 3), 0.5), grid)
    0.25
    """
    t, e = _check_survival(time, event)
    grid = _as_float(times, "times")
    s = np.asarray(survival, dtype=np.float64)
    if s.ndim == 1 and len(grid) == 1:
        s = s[:, None]
    if s.shape != (len(t), len(grid)):
        raise ValueError(f"survival must have shape {(len(t), len(grid))}, got {s.shape}")
    if not np.isfinite(s).all() or (s < 0).any() or (s > 1).any():
        bad = (~np.isfinite(s) | (s < 0) | (s > 1)).any(axis=1)
        raise ValueError(f"survival must be probabilities in [0, 1]; rows {_bad_rows(bad)}")
    _check_grid(grid, t)
    w = _check_weight(sample_weight, len(t))
    reference = None
    if time_train is not None or event_train is not None:
        if time_train is None or event_train is None:
            raise ValueError("pass both time_train and event_train, or neither")
        tt, et = _check_survival(time_train, event_train, "time_train")
        reference = (tt, et, np.ones(len(tt)))
    return _integrate(grid, _Brier(t, e, s, grid).curve(w, reference))


def _check_grid(grid: np.ndarray, t: np.ndarray) -> None:
    if len(grid) < 2:
        raise ValueError("times: the integrated Brier score needs at least two time points")
    if not (np.diff(grid) > 0).all():
        raise ValueError(f"times must be strictly increasing, got {grid.tolist()}")
    if grid[0] < t.min() or grid[-1] >= t.max():
        raise ValueError(
            f"times must lie within the follow-up of the data: [{t.min()}; {t.max()}[, got "
            f"[{grid[0]}; {grid[-1]}]"
        )


def _integrate(grid: np.ndarray, curve: np.ndarray) -> float:
    return float(np.trapezoid(curve, grid) / (grid[-1] - grid[0]))
