"""Per-group metrics through fairlearn's :class:`~fairlearn.metrics.MetricFrame`.

Every metric returns NaN (never a warning) where it is undefined for a group, for example the
true-positive rate of a group without positives.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

__all__ = ["group_metrics"]


def _count(y_true, y_pred) -> float:
    return float(len(y_pred))


def _rate(y_true, y_pred, *, flag) -> float:
    flag = np.asarray(flag, dtype=float)
    return float(flag.mean()) if len(flag) else float("nan")


def _mean_score(y_true, y_pred, *, score) -> float:
    s = np.asarray(score, dtype=float)
    s = s[~np.isnan(s)]
    return float(s.mean()) if len(s) else float("nan")


def _base_rate(y_true, y_pred) -> float:
    y = np.asarray(y_true, dtype=float)
    return float(y.mean()) if len(y) else float("nan")


def _tpr(y_true, y_pred) -> float:
    y, p = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    return float(p[y].mean()) if y.any() else float("nan")


def _fpr(y_true, y_pred) -> float:
    y, p = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    return float(p[~y].mean()) if (~y).any() else float("nan")


def _precision(y_true, y_pred) -> float:
    y, p = np.asarray(y_true, dtype=bool), np.asarray(y_pred, dtype=bool)
    return float(y[p].mean()) if p.any() else float("nan")


def _calibration_gap(y_true, y_pred, *, score) -> float:
    """Mean predicted probability minus the observed rate (calibration in the large)."""
    y, s = np.asarray(y_true, dtype=float), np.asarray(score, dtype=float)
    return float(s.mean() - y.mean()) if len(y) else float("nan")


def _ece(y_true, y_pred, *, score, n_bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    y, s = np.asarray(y_true, dtype=float), np.asarray(score, dtype=float)
    if not len(y):
        return float("nan")
    bins = np.clip((s * n_bins).astype(int), 0, n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() * abs(s[m].mean() - y[m].mean())
    return float(total / len(y))


def _auc(y_true, y_pred, *, score) -> float:
    y, s = np.asarray(y_true, dtype=bool), np.asarray(score, dtype=float)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _frame(
    metrics: dict[str, Callable],
    params: dict[str, dict[str, np.ndarray]],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: np.ndarray,
    name: str,
) -> tuple[pd.DataFrame, pd.Series]:
    mf = MetricFrame(
        metrics=metrics,
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=pd.Series(groups, name=name),
        sample_params=params or None,
    )
    by = mf.by_group
    by.index = pd.Index([str(i) for i in by.index], name="group")
    overall = mf.overall
    return by.astype("float64"), overall.astype("float64")


def group_metrics(
    groups: np.ndarray,
    *,
    name: str,
    scores: np.ndarray,
    decision: np.ndarray,
    selected: np.ndarray | None,
    above_median: np.ndarray | None,
    labels: np.ndarray | None,
    probability: bool,
) -> tuple[pd.DataFrame, pd.Series]:
    """The by-group metrics of one attribute (unknown category included), and the overall row.

    ``decision`` is the binary decision used for the error rates (the selection when there is
    one, else "scored above the median").
    """
    metrics: dict[str, Callable] = {"n": _count}
    params: dict[str, dict[str, np.ndarray]] = {}
    if selected is not None:
        metrics["selection_rate"] = _rate
        params["selection_rate"] = {"flag": selected}
    if above_median is not None:
        metrics["scoring_rate"] = _rate
        params["scoring_rate"] = {"flag": above_median}
    metrics["mean_score"] = _mean_score
    params["mean_score"] = {"score": scores}
    by, overall = _frame(metrics, params, decision, decision, groups, name)
    by["n"] = by["n"].round().astype("int64")
    overall["n"] = float(len(groups))
    if labels is None:
        return by, overall
    ok = ~np.isnan(labels) & ~np.isnan(scores)
    if not ok.any():
        return by, overall
    y = labels[ok].astype(int)
    d = decision[ok].astype(int)
    s = scores[ok]
    lab_metrics: dict[str, Callable] = {
        "n_labeled": _count,
        "base_rate": _base_rate,
        "tpr": _tpr,
        "fpr": _fpr,
        "precision": _precision,
        "auc": _auc,
    }
    lab_params: dict[str, dict[str, np.ndarray]] = {"auc": {"score": s}}
    if probability:
        lab_metrics["calibration_gap"] = _calibration_gap
        lab_metrics["ece"] = _ece
        lab_params["calibration_gap"] = {"score": s}
        lab_params["ece"] = {"score": s}
    lab_by, lab_overall = _frame(lab_metrics, lab_params, y, d, groups[ok], name)
    lab_by["n_labeled"] = lab_by["n_labeled"].round().astype("int64")
    by = by.join(lab_by, how="left")
    by["n_labeled"] = by["n_labeled"].fillna(0).astype("int64")
    lab_overall["n_labeled"] = float(ok.sum())
    return by, pd.concat([overall, lab_overall])
