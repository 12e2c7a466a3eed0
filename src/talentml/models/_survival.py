"""Survival helpers: the Breslow baseline of a Cox booster and AFT quantiles.

Cox (``survival:cox``). The booster's margin ``m(x)`` is a log hazard ratio. With risk
scores ``r_i = exp(m_i)``, Breslow's estimator of the baseline cumulative hazard at the
distinct event times ``t_j`` is::

    H0(t_j) = sum_{t_k <= t_j} d_k / sum_{i: T_i >= t_k} r_i

(``d_k`` the weighted number of events at ``t_k``), a step function, flat after the last
event time. Then ``S(t | x) = exp(-H0(t) * exp(m(x)))`` and, given survival to ``s``,
``S(s + t | x) / S(s | x) = exp(-(H0(s + t) - H0(s)) * exp(m(x)))`` (lifelines'
``conditional_after`` semantics).

AFT (``survival:aft``). ``log T = m(x) + sigma * Z`` with ``Z`` normal, logistic or extreme
(minimum extreme value: ``P(Z <= z) = 1 - exp(-exp(z))``). The ``q`` quantile of ``T`` is
``exp(m(x) + sigma * z_q)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logit
from scipy.stats import norm

DISTRIBUTIONS = ("normal", "logistic", "extreme")


def breslow(
    duration: np.ndarray, event: np.ndarray, margin: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Breslow baseline cumulative hazard: (event times, H0 at those times)."""
    duration = np.asarray(duration, dtype=np.float64)
    event = np.asarray(event, dtype=bool)
    w = np.ones_like(duration) if weight is None else np.asarray(weight, dtype=np.float64)
    # centre the margins for numerical range; H0 absorbs the constant (undone below)
    shift = float(np.max(margin)) if len(margin) else 0.0
    risk = w * np.exp(np.asarray(margin, dtype=np.float64) - shift)
    times = np.unique(duration[event])
    if len(times) == 0:
        return np.zeros(0), np.zeros(0)
    # risk set sums: sum of risk over T_i >= t, via a reverse cumulative sum over sorted T
    order = np.argsort(duration, kind="stable")
    sorted_t = duration[order]
    rev_cum = np.cumsum(risk[order][::-1])[::-1]
    first = np.searchsorted(sorted_t, times, side="left")
    at_risk = rev_cum[first]
    deaths = np.bincount(
        np.searchsorted(times, duration[event]), weights=w[event], minlength=len(times)
    )
    increments = deaths / at_risk / np.exp(shift)
    return times, np.cumsum(increments)


def cumulative_hazard(times: np.ndarray, knots: np.ndarray, hazard: np.ndarray) -> np.ndarray:
    """H0 at arbitrary ``times`` (step function, 0 before the first event time)."""
    times = np.asarray(times, dtype=np.float64)
    if len(knots) == 0:
        return np.zeros_like(times)
    pos = np.searchsorted(knots, times, side="right") - 1
    out = np.where(pos >= 0, hazard[np.clip(pos, 0, None)], 0.0)
    return out


def aft_z(distribution: str, q: np.ndarray) -> np.ndarray:
    """Quantiles of the standardized AFT error ``Z``."""
    q = np.asarray(q, dtype=np.float64)
    if distribution == "normal":
        return norm.ppf(q)
    if distribution == "logistic":
        return logit(q)
    if distribution == "extreme":
        return np.log(-np.log1p(-q))
    raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
