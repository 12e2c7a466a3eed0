"""Probability calibration on held-out rows: isotonic (strictly monotone) or sigmoid (Platt).

Both calibrators map the booster's *margin* (log-odds) to a probability, and both are stored
as plain numbers so a saved model needs no pickle:

* isotonic: scikit-learn's :class:`~sklearn.isotonic.IsotonicRegression` (pool adjacent
  violators) fitted on the calibration rows; its blocks become knots at each block's mean
  margin, prediction interpolates linearly between knots and continues past the first and
  last knot with a logistic tail whose slope is the Platt slope of the same rows. The map is
  strictly increasing, so the calibrated probabilities rank rows exactly as the booster does
  (same ROC AUC, no plateau of tied scores at the top of a list), while the knots keep the
  isotonic fit's calibration. ``experiments/calibration.py`` measures it against the step
  function and Platt scaling on the demo's flight-risk split (docs/models.md).
  Models saved before (state ``"isotonic"``, the step function's knots interpolated and
  clipped) load and predict as they did;
* sigmoid: ``p = 1 / (1 + exp(-(a * margin + b)))`` fitted by weighted maximum likelihood.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logit
from sklearn.isotonic import IsotonicRegression

logger = logging.getLogger(__name__)

METHODS = ("isotonic", "sigmoid")


def fit_calibrator(
    method: str, margin: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
) -> dict[str, Any]:
    """Fit a calibrator from margins to probabilities; returns its JSON-able state."""
    margin = np.asarray(margin, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(margin) if weight is None else np.asarray(weight, dtype=np.float64)
    if method == "isotonic":
        return _isotonic_interp(margin, y, w)
    if method == "sigmoid":
        a, b = _platt(margin, y, w)
        return {"method": "sigmoid", "a": a, "b": b}
    raise ValueError(f"calibration must be one of {METHODS} or None, got {method!r}")


def apply_calibrator(state: dict[str, Any] | None, margin: np.ndarray) -> np.ndarray:
    """Probabilities from margins (the logistic link when ``state`` is None)."""
    margin = np.asarray(margin, dtype=np.float64)
    if state is None:
        return expit(margin)
    method = state["method"]
    if method == "isotonic_interp":
        x = np.asarray(state["x"], dtype=np.float64)
        y = np.asarray(state["y"], dtype=np.float64)
        out = np.interp(margin, x, y)
        slope = float(state["slope"])
        low, high = margin < x[0], margin > x[-1]
        out[low] = expit(logit(y[0]) + slope * (margin[low] - x[0]))
        out[high] = expit(logit(y[-1]) + slope * (margin[high] - x[-1]))
        return out
    if method == "isotonic":  # the step function of models saved before isotonic_interp
        x = np.asarray(state["x"], dtype=np.float64)
        y = np.asarray(state["y"], dtype=np.float64)
        if len(x) == 1:
            return np.full_like(margin, y[0])
        return np.interp(margin, x, y)
    return expit(state["a"] * margin + state["b"])


#: Knot probabilities stay this far inside (0, 1), so that the logistic tails are defined.
_EPS = 1e-9


def _isotonic_interp(margin: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    """Isotonic fit turned into a strictly increasing map: block means as knots, logistic tails."""
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True)
    fitted = iso.fit(margin, y, sample_weight=w).predict(margin)
    order = np.argsort(margin, kind="stable")
    xs, fs, ws = margin[order], fitted[order], w[order]
    starts = np.r_[0, np.flatnonzero(np.diff(fs) != 0) + 1]
    weight = np.add.reduceat(ws, starts)
    keep = weight > 0
    centers = (np.add.reduceat(ws * xs, starts)[keep]) / weight[keep]
    values = np.clip(fs[starts][keep], _EPS, 1.0 - _EPS)
    slope, intercept = _platt(margin, y, w)
    if len(centers) < 2 or not np.all(np.diff(centers) > 0) or not np.all(np.diff(values) > 0):
        # one block (no ranking signal in the calibration rows) or degenerate knots: Platt
        logger.info("isotonic calibration found %d block(s): using a sigmoid", len(centers))
        return {"method": "sigmoid", "a": slope, "b": intercept}
    return {
        "method": "isotonic_interp",
        "x": centers.tolist(),
        "y": values.tolist(),
        # the tails continue the map with the Platt slope (strictly increasing when > 0)
        "slope": max(float(slope), 1e-3),
    }


def _platt(margin: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted logistic regression of ``y`` on ``margin`` with Platt's smoothed targets."""
    pos = float(w[y == 1].sum())
    neg = float(w[y == 0].sum())
    target = np.where(y == 1, (pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0))
    scale = float(np.std(margin)) or 1.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] * margin / scale + theta[1]
        # log(1 + exp(z)) - t * z, stable
        value = np.sum(w * (np.logaddexp(0.0, z) - target * z))
        g = w * (expit(z) - target)
        return float(value), np.array([np.sum(g * margin / scale), np.sum(g)])

    res = minimize(loss, x0=np.array([scale, 0.0]), jac=True, method="L-BFGS-B")
    if not res.success:
        logger.warning("sigmoid calibration did not converge: %s", res.message)
    return float(res.x[0] / scale), float(res.x[1])
