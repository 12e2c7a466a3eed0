"""Probability calibration on held-out rows: isotonic (stored as knots) or sigmoid (Platt).

Both calibrators map the booster's *margin* (log-odds) to a probability, and both are stored
as plain numbers so a saved model needs no pickle:

* isotonic: the knots ``x`` (margins) and ``y`` (probabilities) of scikit-learn's
  :class:`~sklearn.isotonic.IsotonicRegression`; prediction is linear interpolation between
  knots, clipped at the ends (exactly what ``IsotonicRegression(out_of_bounds="clip")`` does);
* sigmoid: ``p = 1 / (1 + exp(-(a * margin + b)))`` fitted by weighted maximum likelihood.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
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
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True)
        iso.fit(margin, y, sample_weight=w)
        return {
            "method": "isotonic",
            "x": iso.X_thresholds_.astype(np.float64).tolist(),
            "y": iso.y_thresholds_.astype(np.float64).tolist(),
        }
    if method == "sigmoid":
        a, b = _platt(margin, y, w)
        return {"method": "sigmoid", "a": a, "b": b}
    raise ValueError(f"calibration must be one of {METHODS} or None, got {method!r}")


def apply_calibrator(state: dict[str, Any] | None, margin: np.ndarray) -> np.ndarray:
    """Probabilities from margins (the logistic link when ``state`` is None)."""
    margin = np.asarray(margin, dtype=np.float64)
    if state is None:
        return expit(margin)
    if state["method"] == "isotonic":
        x = np.asarray(state["x"], dtype=np.float64)
        y = np.asarray(state["y"], dtype=np.float64)
        if len(x) == 1:
            return np.full_like(margin, y[0])
        return np.interp(margin, x, y)
    return expit(state["a"] * margin + state["b"])


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
