"""Calibration and lift plots (matplotlib; every function returns the Axes it drew on)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import renamed_parameters
from . import _metrics as M

__all__ = ["plot_calibration", "plot_lift"]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(5, 4.5))
    return ax


def plot_calibration(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 10,
    strategy: str = "quantile",
    ax: Any = None,
    oracle: Any = None,
    label: str = "model",
):
    """Reliability diagram: observed event rate against mean predicted probability by bin.

    Each point is a bin of predictions, with a 95% binomial interval on its observed rate;
    a calibrated model lies on the diagonal. The legend gives the expected calibration
    error of the same bins.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcomes, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probabilities.
    n_bins : int, default=10
        Number of bins.
    strategy : {"quantile", "uniform"}, default="quantile"
        Equal-mass bins (every point rests on the same number of rows; the default, as
        predicted risks are usually skewed) or equal-width bins.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    oracle : array-like of shape (n,), optional
        True probabilities (simulator), drawn as a second curve.
    label : str, default="model"
        Legend label of the model's curve.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    See Also
    --------
    talentml.models.expected_calibration_error : The summary of this plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from talentml.models._plots import plot_calibration
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=1000)
    >>> ax = plot_calibration(rng.uniform(size=1000) < p, p)
    >>> ax.get_ylabel()
    'observed rate'
    """
    y, p = M._check_binary(y_true, y_prob)
    ax = _axes(ax)
    curves = [(label, p, "o-")]
    if oracle is not None:
        _, o = M._check_binary(y, oracle)
        curves.append(("oracle", o, "s--"))
    hi = 0.0
    for name, probs, style in curves:
        bins = M._calibration_bins(y, probs, n_bins=n_bins, strategy=strategy)
        ece = M.expected_calibration_error(y, probs, n_bins=n_bins, strategy=strategy)
        rate = bins["observed_rate"].to_numpy()
        half = 1.96 * np.sqrt(rate * (1 - rate) / bins["n"].to_numpy())
        ax.errorbar(
            bins["mean_predicted"],
            rate,
            yerr=half,
            fmt=style,
            capsize=2,
            markersize=4,
            label=f"{name} (ECE {ece:.3f})",
        )
        hi = max(hi, float(np.max(bins["mean_predicted"])), float(np.max(rate + half)))
    hi = min(1.0, hi * 1.05) if hi > 0 else 1.0
    ax.plot([0, hi], [0, hi], color="grey", linestyle=":", linewidth=1, label="perfect")
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title(f"Calibration ({'equal-mass' if strategy == 'quantile' else 'equal-width'} bins)")
    ax.legend(loc="upper left", fontsize="small")
    return ax


@renamed_parameters(top="top_fraction")
def plot_lift(
    y_true: Any, y_prob: Any, *, n_bins: int = 10, top_fraction: float = 0.10, ax: Any = None
):
    """Lift by decile of predicted risk: each group's event rate over the overall rate.

    Bars show the lift of each group (1 = the highest predictions); the line is the
    cumulative lift. A useful model has high lift on the left and below 1 on the right.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcomes, 0 or 1.
    y_prob : array-like of shape (n,)
        Predicted probabilities (or any score).
    n_bins : int, default=10
        Number of groups.
    top_fraction : float, default=0.10
        The fraction whose lift (:func:`~talentml.models.lift_at`) is written in the title.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    See Also
    --------
    talentml.models.decile_table : The numbers behind the plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from talentml.models._plots import plot_lift
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=1000) ** 3
    >>> ax = plot_lift(rng.uniform(size=1000) < p, p)
    >>> len(ax.patches)
    10
    """
    y, p = M._check_binary(y_true, y_prob)
    table = M.decile_table(y, p, n_bins=n_bins)
    ax = _axes(ax)
    x = table["decile"].to_numpy()
    ax.bar(x, table["lift"].to_numpy(), color="tab:blue", alpha=0.8, label="lift")
    ax.plot(x, table["cumulative_lift"].to_numpy(), "o-", color="tab:orange", label="cumulative")
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xticks(x)
    ax.set_xlabel("group of predicted risk (1 = highest)")
    ax.set_ylabel("lift (observed rate / overall rate)")
    lift = M.lift_at(y, p, top_fraction=top_fraction) if y.any() else float("nan")
    ax.set_title(f"Lift (top {100 * top_fraction:g}%: {lift:.2f})")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_quantile_calibration(
    lower: Any, upper: Any, quantiles: Sequence[float], predicted: np.ndarray, ax: Any = None
):
    """Nominal quantile level against the share of observed times below the prediction.

    For each predicted quantile ``q`` the share of observed rows (finite ``upper``) whose
    interval midpoint is at most the predicted ``q``-quantile; a calibrated model lies on
    the diagonal.
    """
    lo, up = M._check_interval(lower, upper)
    observed = np.isfinite(up)
    mid = (lo + up)[observed] / 2.0
    shares = [float(np.mean(mid <= predicted[observed, j])) for j in range(len(quantiles))]
    ax = _axes(ax)
    ax.plot(list(quantiles), shares, "o-", label="model")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("nominal quantile")
    ax.set_ylabel("share of observed times below the prediction")
    ax.set_title("Quantile calibration (observed rows)")
    ax.legend(loc="upper left", fontsize="small")
    return ax
