"""Metrics for the talentml models: calibration, lift, survival and interval-censored ranking.

Every function takes NumPy arrays or pandas objects and returns a float or a DataFrame.
The classification metrics scikit-learn already has (``roc_auc_score``,
``average_precision_score``, ``brier_score_loss``) are used from scikit-learn directly;
this module adds what it lacks:

* calibration: :func:`expected_calibration_error` (equal-width or equal-mass bins);
* ranking for action: :func:`decile_table` and :func:`lift_at`;
* right-censored survival: :func:`concordance_index` (Harrell),
  :func:`concordance_index_ipcw` (Uno, inverse probability of censoring weights),
  :func:`integrated_brier_score` (Graf, with the same weights);
* interval-censored times (ramp-up): :func:`interval_concordance_index`,
  :func:`mae_observed` and :func:`quantile_coverage`.

The survival metrics follow the conventions of scikit-survival's ``concordance_index_censored``,
``concordance_index_ipcw`` and ``integrated_brier_score`` and give the same numbers (the tests
check it); they are implemented here in vectorized NumPy, in ``O(n log^2 n)``, and accept
integer *multiplicities* (``sample_weight``), so that the cluster bootstrap of
:func:`talentml.models.evaluate` reuses one sorted structure for every resample instead of
running an ``O(events x n)`` loop 200 times.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = [
    "concordance_index",
    "concordance_index_ipcw",
    "decile_table",
    "expected_calibration_error",
    "integrated_brier_score",
    "interval_concordance_index",
    "lift_at",
    "mae_observed",
    "quantile_coverage",
]

MSG_ONE_CLASS = "{what} is undefined when y_true holds a single class ({value!r})."
MSG_NO_PAIRS = "{what}: no comparable pairs ({detail})."


# --------------------------------------------------------------------------- validation
def _as_float(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}") from exc


def _bad_rows(mask: np.ndarray, limit: int = 10) -> str:
    rows = np.flatnonzero(mask)
    more = len(rows) - min(len(rows), limit)
    return f"{rows[:limit].tolist()}" + (f" and {more} more" if more else "")


def _check_binary(
    y_true: Any, y_prob: Any, *, scores: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    y = _as_float(y_true, "y_true")
    p = _as_float(y_prob, "y_prob")
    if len(y) != len(p):
        raise ValueError(f"y_true and y_prob have different lengths: {len(y)} != {len(p)}")
    if len(y) == 0:
        raise ValueError("y_true is empty")
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"y_true must hold 0/1 only; rows {_bad_rows(bad)} do not")
    if scores:
        bad = ~np.isfinite(p)
        if bad.any():
            raise ValueError(f"y_prob must be finite; rows {_bad_rows(bad)} are not")
        return y, p
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        raise ValueError(f"y_prob must be probabilities in [0, 1]; rows {_bad_rows(bad)} are not")
    return y, p


def _check_survival(time: Any, event: Any, name: str = "time") -> tuple[np.ndarray, np.ndarray]:
    t = _as_float(time, name)
    e = _as_float(event, "event")
    if len(t) != len(e):
        raise ValueError(f"{name} and event have different lengths: {len(t)} != {len(e)}")
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        raise ValueError(f"{name} must be finite and >= 0; rows {_bad_rows(bad)} are not")
    bad = ~np.isin(e, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"event must hold 0/1 (or bool) only; rows {_bad_rows(bad)} do not")
    return t, e.astype(bool)


def _check_scores(values: Any, n: int, name: str) -> np.ndarray:
    s = _as_float(values, name)
    if len(s) != n:
        raise ValueError(f"{name} has {len(s)} rows, expected {n}")
    bad = ~np.isfinite(s)
    if bad.any():
        raise ValueError(f"{name} must be finite; rows {_bad_rows(bad)} are not")
    return s


def _check_weight(sample_weight: Any, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = _check_scores(sample_weight, n, "sample_weight")
    if (w < 0).any():
        raise ValueError(f"sample_weight must be >= 0; rows {_bad_rows(w < 0)} are not")
    return w


# --------------------------------------------------------------------------- calibration
def _bin_index(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    # As sklearn.calibration.calibration_curve: bins (e_k, e_k+1], the first one closed.
    return np.searchsorted(edges[1:-1], p)


def _calibration_bins(y: np.ndarray, p: np.ndarray, *, n_bins: int, strategy: str) -> pd.DataFrame:
    idx = _bin_index(p, n_bins, strategy)
    n = np.bincount(idx, minlength=n_bins)
    events = np.bincount(idx, weights=y, minlength=n_bins)
    total_p = np.bincount(idx, weights=p, minlength=n_bins)
    keep = n > 0
    n, events, total_p = n[keep], events[keep], total_p[keep]
    return pd.DataFrame(
        {
            "bin": np.flatnonzero(keep),
            "n": n,
            "mean_predicted": total_p / n,
            "observed_rate": events / n,
            "events": events,
        }
    )


def expected_calibration_error(
    y_true: Any, y_prob: Any, *, n_bins: int = 10, strategy: str = "uniform"
) -> float:
    """Expected calibration error: the weighted mean gap between predicted and observed rates.

    The predictions are grouped into bins; in each bin the mean predicted probability is
    compared with the observed event rate, and the absolute gaps are averaged with the share
    of rows in the bin as weight: ``ECE = sum_b n_b / n * |observed_b - predicted_b|``.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcomes, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probabilities of the outcome 1.
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: equal-width bins on [0, 1] (the usual ECE; for rare events most rows
        fall in the first bin). ``"quantile"``: equal-mass bins whose edges are quantiles of
        ``y_prob`` (tied predictions stay in one bin, so bins may be uneven or fewer). Bins are
        right-closed, ``(e_k, e_k+1]`` with the first one closed, as in scikit-learn's
        ``calibration_curve``; empty bins are skipped.

    Returns
    -------
    float
        The ECE, between 0 (calibrated in every bin) and 1.

    Raises
    ------
    ValueError
        If ``y_true`` is not 0/1 or ``y_prob`` is not in [0, 1] (the rows are named).

    See Also
    --------
    decile_table : Predicted against observed by decile.

    Notes
    -----
    Even perfectly calibrated probabilities have a positive ECE in a finite sample (the
    observed rate of a bin is noisy); with ``m`` rows per bin the noise floor is of order
    ``sqrt(p (1 - p) / m)``.

    Examples
    --------
    >>> from talentml.models._metrics import expected_calibration_error
    >>> y = [0, 0, 1, 1]
    >>> round(expected_calibration_error(y, [0.1, 0.1, 0.9, 0.9], n_bins=2), 3)
    0.1
    >>> round(expected_calibration_error(y, [0.1, 0.1, 0.9, 0.9], n_bins=2, strategy="quantile"), 3)
    0.1
    """
    y, p = _check_binary(y_true, y_prob)
    bins = _calibration_bins(y, p, n_bins=n_bins, strategy=strategy)
    gap = np.abs(bins["observed_rate"] - bins["mean_predicted"]).to_numpy()
    return float(np.sum(bins["n"].to_numpy() * gap) / len(y))


def decile_table(y_true: Any, y_prob: Any, *, n_bins: int = 10) -> pd.DataFrame:
    """Predicted against observed by decile of predicted risk, with lift and gains.

    Rows are sorted by predicted probability, highest first, and cut into ``n_bins``
    groups of (nearly) equal size: group 1 holds the highest predictions.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcomes, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probabilities of the outcome 1.
    n_bins : int, default=10
        Number of groups (10: deciles). At most ``n``.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``decile`` (1 = highest predicted), ``n``, ``min_predicted``,
        ``max_predicted``, ``mean_predicted``, ``observed_rate``, ``events``, ``lift``
        (``observed_rate`` over the overall rate), ``cumulative_events_share`` (the share of all
        events captured by the groups up to this one: the gains curve) and ``cumulative_lift``.
        ``lift`` columns are NaN when there is no event at all.

    Raises
    ------
    ValueError
        If the inputs are not 0/1 outcomes and probabilities, or ``n_bins`` is out of range.

    See Also
    --------
    lift_at : The lift of the top fraction.

    Notes
    -----
    Tied predictions at a group boundary are split in row order (a stable sort), so that the
    groups keep equal sizes.

    Examples
    --------
    >>> from talentml.models._metrics import decile_table
    >>> table = decile_table([1, 0, 1, 0, 0, 0], [0.9, 0.8, 0.7, 0.2, 0.1, 0.1], n_bins=3)
    >>> table[["decile", "n", "observed_rate", "events", "lift"]]
       decile  n  observed_rate  events  lift
    0       1  2            0.5     1.0   1.5
    1       2  2            0.5     1.0   1.5
    2       3  2            0.0     0.0   0.0
    """
    y, p = _check_binary(y_true, y_prob)
    n = len(y)
    if not isinstance(n_bins, int | np.integer) or not 1 <= n_bins <= n:
        raise ValueError(f"n_bins must be an int in [1, {n}], got {n_bins!r}")
    order = np.argsort(-p, kind="stable")
    group = np.empty(n, dtype=np.int64)
    group[order] = (np.arange(n) * n_bins) // n
    counts = np.bincount(group, minlength=n_bins)
    events = np.bincount(group, weights=y, minlength=n_bins)
    total_p = np.bincount(group, weights=p, minlength=n_bins)
    frame = pd.DataFrame({"group": group, "p": p})
    base = y.mean()
    rate = events / counts
    cum_events = np.cumsum(events)
    cum_n = np.cumsum(counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = rate / base if base > 0 else np.full(n_bins, np.nan)
        share = cum_events / cum_events[-1] if cum_events[-1] > 0 else np.full(n_bins, np.nan)
        cum_lift = (cum_events / cum_n) / base if base > 0 else np.full(n_bins, np.nan)
    return pd.DataFrame(
        {
            "decile": np.arange(1, n_bins + 1),
            "n": counts,
            "min_predicted": frame.groupby("group")["p"].min().to_numpy(),
            "max_predicted": frame.groupby("group")["p"].max().to_numpy(),
            "mean_predicted": total_p / counts,
            "observed_rate": rate,
            "events": events,
            "lift": lift,
            "cumulative_events_share": share,
            "cumulative_lift": cum_lift,
        }
    )


def lift_at(y_true: Any, y_prob: Any, top: float = 0.10) -> float:
    """Lift of the top fraction: its event rate over the overall event rate.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcomes, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probabilities (or any score where higher means more likely).
    top : float, default=0.10
        Fraction of rows with the highest predictions, in (0, 1].

    Returns
    -------
    float
        ``rate(top) / rate(all)``: 1 for a random ranking, ``1 / top`` at most.

    Raises
    ------
    ValueError
        If there is no event (the lift is undefined) or the inputs are invalid.

    See Also
    --------
    decile_table : Lift by decile.

    Notes
    -----
    The top holds exactly ``top * n`` rows: when the cut falls inside a group of tied
    predictions, that group counts with the fraction of it that fits, so the result does not
    depend on the row order.

    Examples
    --------
    >>> from talentml.models._metrics import lift_at
    >>> y = [1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    >>> p = [0.9, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2, 0.1, 0.1, 0.1]
    >>> lift_at(y, p, top=0.1)
    5.0
    >>> lift_at(y, p, top=0.4)  # the tie at 0.3 is split: 1 + 0.5 events in 4 rows
    1.875
    """
    y, p = _check_binary(y_true, y_prob, scores=True)
    if not 0.0 < float(top) <= 1.0:
        raise ValueError(f"top must be in (0, 1], got {top!r}")
    base = y.mean()
    if base == 0:
        raise ValueError(MSG_ONE_CLASS.format(what="lift", value=0))
    return float(_lift(y, p, float(top)) / base)


def _lift(y: np.ndarray, p: np.ndarray, top: float) -> float:
    """Event rate among the top ``top`` fraction, ties split fractionally."""
    n = len(y)
    k = top * n
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    cut = ps[min(n - 1, max(0, math.ceil(k) - 1))]
    above = p > cut
    tied = p == cut
    n_above = int(above.sum())
    frac = (k - n_above) / int(tied.sum())
    events = y[above].sum() + frac * y[tied].sum()
    return float(events / k)


class _BinaryScores:
    """ROC AUC, average precision, Brier, ECE and lift for many weight vectors (bootstrap).

    The rows are sorted once; a weight vector (integer multiplicities) then costs ``O(n)``,
    and every value equals the one computed on the data with each row repeated ``w`` times
    (scikit-learn's ``roc_auc_score`` and ``average_precision_score``, and the functions of
    this module; the tests check it).
    """

    def __init__(self, y: np.ndarray, p: np.ndarray, *, n_bins: int, top: float) -> None:
        self.y = y
        self.p = p
        self.top = top
        self.order = np.argsort(-p, kind="stable")
        ps = p[self.order]
        starts = np.r_[True, ps[1:] != ps[:-1]]
        self.group = np.cumsum(starts) - 1  # tie group of each sorted row
        self.n_groups = int(self.group[-1]) + 1 if len(ps) else 0
        self.uniform_bin = _bin_index(p, n_bins, "uniform")
        self.n_bins = n_bins

    def _groups(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ws = w[self.order]
        ys = self.y[self.order]
        pos = np.bincount(self.group, weights=ws * ys, minlength=self.n_groups)
        neg = np.bincount(self.group, weights=ws * (1 - ys), minlength=self.n_groups)
        return pos, neg

    def values(self, w: np.ndarray) -> dict[str, float]:
        nan = float("nan")
        total = float(w.sum())
        if total <= 0:
            return {}
        pos, neg = self._groups(w)
        n_pos, n_neg = float(pos.sum()), float(neg.sum())
        out: dict[str, float] = {}
        if n_pos > 0 and n_neg > 0:
            neg_below = n_neg - np.cumsum(neg)  # negatives with a lower score
            out["roc_auc"] = float(np.sum(pos * (neg_below + 0.5 * neg)) / (n_pos * n_neg))
        else:
            out["roc_auc"] = nan
        if n_pos > 0:
            keep = (pos + neg) > 0
            tps = np.cumsum(pos[keep])
            fps = np.cumsum(neg[keep])
            precision = tps / (tps + fps)
            recall_step = pos[keep] / n_pos
            out["pr_auc"] = float(max(0.0, np.sum(recall_step * precision)))
        else:
            out["pr_auc"] = nan
        y, p = self.y, self.p
        out["brier"] = float(np.sum(w * np.square(p - y)) / total)
        sum_y = np.bincount(self.uniform_bin, weights=w * y, minlength=self.n_bins)
        sum_p = np.bincount(self.uniform_bin, weights=w * p, minlength=self.n_bins)
        out["ece"] = float(np.sum(np.abs(sum_y - sum_p)) / total)
        out["mean_predicted"] = float(np.sum(w * p) / total)
        out["observed_rate"] = n_pos / total
        if n_pos > 0:
            k = self.top * total
            size = pos + neg
            cum = np.cumsum(size)
            g = int(np.searchsorted(cum, k, side="left"))
            g = min(g, self.n_groups - 1)
            above = cum[g] - size[g]
            frac = (k - above) / size[g] if size[g] > 0 else 0.0
            events = (np.cumsum(pos)[g] - pos[g]) + frac * pos[g]
            out["lift"] = float((events / k) / (n_pos / total))
        else:
            out["lift"] = nan
        return out


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
