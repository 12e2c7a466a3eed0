"""Input checks shared by the metrics of :mod:`talentml.models._metrics`."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

logger = logging.getLogger("talentml.models._metrics")

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
