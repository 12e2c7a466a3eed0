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

Calibration and lift are here; the survival metrics are in ``_metrics_survival``, the
interval-censored ones in ``_metrics_interval``, the input checks in ``_metrics_base`` (all
importable from this module).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from .._validation import renamed_parameters
from ._metrics_base import (  # noqa: F401 - every metric is importable from here
    MSG_NO_PAIRS,
    MSG_ONE_CLASS,
    _as_float,
    _bad_rows,
    _check_binary,
    _check_scores,
    _check_survival,
    _check_weight,
)
from ._metrics_interval import (  # noqa: F401 - every metric is importable from here
    _check_interval,
    _IntervalConcordance,
    _midpoint,
    interval_concordance_index,
    mae_observed,
    quantile_coverage,
)
from ._metrics_survival import (  # noqa: F401 - every metric is importable from here
    _Brier,
    _censoring_km,
    _CensoringKM,
    _check_grid,
    _Concordance,
    _dense_rank,
    _integrate,
    _PairCounter,
    _step,
    _uno_weights,
    concordance_index,
    concordance_index_ipcw,
    integrated_brier_score,
)

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


@renamed_parameters(top="top_fraction")
def lift_at(y_true: Any, y_prob: Any, top_fraction: float = 0.10) -> float:
    """Lift of the top fraction: its event rate over the overall event rate.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcomes, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probabilities (or any score where higher means more likely).
    top_fraction : float, default=0.10
        Fraction of rows with the highest predictions, in (0, 1].

    Returns
    -------
    float
        ``rate(top_fraction) / rate(all)``: 1 for a random ranking, ``1 / top_fraction`` at most.

    Raises
    ------
    ValueError
        If there is no event (the lift is undefined) or the inputs are invalid.

    See Also
    --------
    decile_table : Lift by decile.

    Notes
    -----
    The top holds exactly ``top_fraction * n`` rows: when the cut falls inside a group of tied
    predictions, that group counts with the fraction of it that fits, so the result does not
    depend on the row order.

    Examples
    --------
    >>> from talentml.models._metrics import lift_at
    >>> y = [1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    >>> p = [0.9, 0.5, 0.4, 0.3, 0.3, 0.2, 0.2, 0.1, 0.1, 0.1]
    >>> lift_at(y, p, top_fraction=0.1)
    5.0
    >>> lift_at(y, p, top_fraction=0.4)  # the tie at 0.3 is split: 1 + 0.5 events in 4 rows
    1.875
    """
    y, p = _check_binary(y_true, y_prob, scores=True)
    if not 0.0 < float(top_fraction) <= 1.0:
        raise ValueError(f"top_fraction must be in (0, 1], got {top_fraction!r}")
    base = y.mean()
    if base == 0:
        raise ValueError(MSG_ONE_CLASS.format(what="lift", value=0))
    return float(_lift(y, p, float(top_fraction)) / base)


def _lift(y: np.ndarray, p: np.ndarray, top_fraction: float) -> float:
    """Event rate among the top ``top_fraction``, ties split fractionally."""
    n = len(y)
    k = top_fraction * n
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

    def __init__(self, y: np.ndarray, p: np.ndarray, *, n_bins: int, top_fraction: float) -> None:
        self.y = y
        self.p = p
        self.top_fraction = top_fraction
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
            k = self.top_fraction * total
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
