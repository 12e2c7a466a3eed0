"""The targets and predictions of :func:`talentml.models.evaluate`: parsing ``y``, aligning it
with ``X``, the predictions frame and its bootstrap clusters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import ID_COLUMNS
from . import _metrics as M

logger = logging.getLogger("talentml.models._evaluate")

MSG_LENGTH = "X and y have different numbers of rows: {n_x} != {n_y}"
MSG_INDEX = (
    "y is not aligned with X: their indexes differ (first mismatch at position {pos}: X has "
    "{x!r}, y has {y!r}). Pass y built on the same spine, or y.to_numpy() to align by position."
)
MSG_IDS = (
    "y is not aligned with X: column {col!r} differs in rows {rows} (X has {x!r}, y has {y!r} in "
    "the first one)."
)
MSG_TARGET = (
    "y must be a 1-D binary target, a label frame of talentml.labels (with 'label', and "
    "optionally 'duration_days'/'event'), or interval bounds ('lower_days'/'upper_days' "
    "columns or an (n, 2) array); got {what}"
)
MSG_NO_PROBA = (
    "{name} has no predict_proba: a binary target needs a classifier that predicts probabilities"
)
MSG_NO_ROWS = "nothing to evaluate: every row of y was left out ({reasons})"

KIND_CLASSIFICATION = "classification"
KIND_SURVIVAL = "survival"
KIND_INTERVAL = "interval"


# ------------------------------------------------------------------------------- target
@dataclass
class _Target:
    """The target, parsed: one entry per row of ``X``."""

    kind: str
    label: np.ndarray | None = None  # float, NaN where missing
    duration: np.ndarray | None = None  # float, NaN where missing
    event: np.ndarray | None = None  # float, NaN where missing
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    reasons: np.ndarray | None = None  # object: why a row is unusable (None when usable)
    frame: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _numeric(values: Any, name: str) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    try:
        return pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y: column {name!r} must be numeric ({exc})") from exc


def _parse_target(y: Any, n: int) -> _Target:
    if isinstance(y, pd.DataFrame):
        cols = set(y.columns)
        reasons = None
        if "censored" in cols:
            reasons = y["censored"].astype(object).where(y["censored"].notna(), None).to_numpy()
        if {"lower_days", "upper_days"} <= cols:
            lower = _numeric(y["lower_days"], "lower_days")
            upper = _numeric(y["upper_days"], "upper_days")
            return _Target(KIND_INTERVAL, lower=lower, upper=upper, reasons=reasons, frame=y)
        if "label" in cols:
            label = _numeric(y["label"], "label")
            target = _Target(KIND_CLASSIFICATION, label=label, reasons=reasons, frame=y)
            if {"duration_days", "event"} <= cols:
                target.duration = _numeric(y["duration_days"], "duration_days")
                target.event = _numeric(y["event"], "event")
            return target
        if y.shape[1] == 1:
            return _Target(KIND_CLASSIFICATION, label=_numeric(y.iloc[:, 0], str(y.columns[0])))
        raise ValueError(MSG_TARGET.format(what=f"a DataFrame with columns {list(y.columns)}"))
    if isinstance(y, pd.Series):
        return _Target(KIND_CLASSIFICATION, label=_numeric(y, str(y.name or "y")))
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 2:
        return _Target(
            KIND_INTERVAL, lower=_numeric(arr[:, 0], "lower"), upper=_numeric(arr[:, 1], "upper")
        )
    if arr.ndim == 1:
        if arr.dtype.kind == "b":
            arr = arr.astype(np.float64)
        return _Target(KIND_CLASSIFICATION, label=_numeric(arr, "y"))
    raise ValueError(MSG_TARGET.format(what=f"an array of shape {arr.shape}"))


def _check_alignment(X: Any, y: Any) -> None:
    n_x, n_y = len(X), len(y)
    if n_x != n_y:
        raise ValueError(MSG_LENGTH.format(n_x=n_x, n_y=n_y))
    if not (isinstance(X, pd.DataFrame) and isinstance(y, pd.Series | pd.DataFrame)):
        return
    if not X.index.equals(y.index):
        diff = np.flatnonzero(np.asarray(X.index != y.index))
        pos = int(diff[0]) if len(diff) else 0
        raise ValueError(MSG_INDEX.format(pos=pos, x=X.index[pos], y=y.index[pos]))
    if isinstance(y, pd.DataFrame):
        for col in ID_COLUMNS:
            if col in X.columns and col in y.columns:
                a, b = X[col], y[col]
                if col == "as_of":
                    a = pd.to_datetime(a, utc=True)
                    b = pd.to_datetime(b, utc=True)
                else:
                    a = a.astype("string")
                    b = b.astype("string")
                bad = (a != b).fillna(a.isna() != b.isna()).to_numpy(dtype=bool)
                if bad.any():
                    first = int(np.flatnonzero(bad)[0])
                    raise ValueError(
                        MSG_IDS.format(
                            col=col,
                            rows=M._bad_rows(bad),
                            x=a.iloc[first],
                            y=b.iloc[first],
                        )
                    )


def _usable(target: _Target) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Rows usable by at least one metric, and the masks of each part."""
    parts: dict[str, np.ndarray] = {}
    if target.kind == KIND_INTERVAL:
        lo, up = target.lower, target.upper
        ok = np.isfinite(lo) & ~np.isnan(up) & (lo >= 0) & (up >= lo)
        bad = np.isfinite(lo) & ~np.isnan(up) & ~ok
        if bad.any():
            raise ValueError(
                "y: interval bounds must satisfy 0 <= lower_days <= upper_days; rows "
                f"{M._bad_rows(bad)} do not"
            )
        parts["interval"] = ok
        return ok, parts
    label = target.label
    has_label = ~np.isnan(label)
    bad = has_label & ~np.isin(label, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"y: the target must be 0/1; rows {M._bad_rows(bad)} are not")
    parts["binary"] = has_label
    usable = has_label.copy()
    if target.duration is not None:
        d, e = target.duration, target.event
        ok = np.isfinite(d) & ~np.isnan(e)
        bad = ok & ((d < 0) | ~np.isin(e, (0.0, 1.0)))
        if bad.any():
            raise ValueError(
                f"y: duration_days must be >= 0 and event 0/1; rows {M._bad_rows(bad)} break it"
            )
        parts["survival"] = ok
        usable |= ok
    return usable, parts


def _exclusions(target: _Target, usable: np.ndarray) -> pd.DataFrame:
    dropped = ~usable
    if target.reasons is not None:
        reasons = np.where(pd.isna(target.reasons), "missing_label", target.reasons.astype(object))[
            dropped
        ]
    else:
        reasons = np.full(int(dropped.sum()), "missing_label", dtype=object)
    counts = pd.Series(reasons, dtype=object).value_counts()
    return pd.DataFrame({"reason": counts.index.astype(str), "n": counts.to_numpy(dtype=np.int64)})


# -------------------------------------------------------------------------- predictions
def _model_input(model: Any, X: Any) -> Any:
    """``X`` as the model takes it: its fit columns when it knows them, else without ids.

    talentml models drop (and use) the identifier columns themselves.
    """
    if not isinstance(X, pd.DataFrame):
        return X
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise ValueError(
                f"X lacks column(s) {missing[:10]} that {type(model).__name__} was fitted on"
            )
        return X[list(names)]
    if type(model).__module__.startswith("talentml."):
        return X
    return X.drop(columns=[c for c in ID_COLUMNS if c in X.columns])


def _subset(X: Any, mask: np.ndarray) -> Any:
    if isinstance(X, pd.DataFrame | pd.Series):
        return X.iloc[np.flatnonzero(mask)]
    return np.asarray(X)[mask]


def _positive_proba(model: Any, X: Any) -> np.ndarray:
    if not callable(getattr(model, "predict_proba", None)):
        raise TypeError(MSG_NO_PROBA.format(name=type(model).__name__))
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    classes = list(getattr(model, "classes_", [0, 1]))
    if proba.ndim != 2 or proba.shape[1] != 2 or len(classes) != 2:
        raise ValueError(
            f"{type(model).__name__}.predict_proba must return two columns (a binary "
            f"classifier); got shape {proba.shape}"
        )
    if [float(c) for c in classes] != [0.0, 1.0]:
        raise ValueError(f"the classifier's classes_ must be [0, 1], got {classes}")
    return proba[:, 1]


def _check_prediction(values: np.ndarray, name: str, index: pd.Index) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"the model predicted non-finite {name} for rows "
            f"{list(index[np.flatnonzero(bad)[:10]])}"
        )
    return values


def _has_survival_view(model: Any) -> bool:
    if not callable(getattr(model, "predict_survival", None)):
        return False
    # talentml's FlightRisk keeps survival_booster_ = None when no survival view was fitted.
    return getattr(model, "survival_booster_", "absent") is not None


def _default_tau(duration: np.ndarray) -> float:
    return float(min(365.0, duration.max()))


def _default_grid(duration: np.ndarray, tau: float) -> np.ndarray:
    grid = np.unique(np.r_[np.arange(30.0, tau, 30.0), tau])
    return grid[(grid >= duration.min()) & (grid < duration.max())]


def _quantile_name(q: float) -> str:
    return f"q{100 * q:g}"


def _predictions(
    model: Any,
    X: Any,
    target: _Target,
    *,
    groups: Any,
    oracle: Any,
    survival: bool | None,
    times: Sequence[float] | None,
    tau: float | None,
    quantiles: Sequence[float],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Predict on the usable rows; return predictions, exclusions and settings."""
    n = len(X)
    usable, parts = _usable(target)
    excluded = _exclusions(target, usable)
    if not usable.any():
        raise ValueError(
            MSG_NO_ROWS.format(reasons=dict(zip(excluded["reason"], excluded["n"], strict=True)))
        )
    if len(excluded):
        logger.info(
            "evaluate: %d of %d rows left out (%s)",
            int((~usable).sum()),
            n,
            ", ".join(f"{r}={k}" for r, k in zip(excluded["reason"], excluded["n"], strict=True)),
        )
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(n)
    index = index[usable]
    out = pd.DataFrame(index=index)
    rows = np.flatnonzero(usable)
    for col in ID_COLUMNS:  # identifiers from X, else from y; dtypes kept
        for source in (X, target.frame):
            if isinstance(source, pd.DataFrame) and col in source.columns:
                out[col] = source[col].array[rows]
                break
    out["cluster"] = _clusters(groups, out, n, usable)
    Xu = _model_input(model, _subset(X, usable))
    settings: dict[str, Any] = {"model": type(model).__name__}
    oracle_arr = None
    if oracle is not None:
        oracle_arr = M._as_float(oracle, "oracle")
        if len(oracle_arr) != n:
            raise ValueError(f"oracle has {len(oracle_arr)} rows, X has {n}")
        oracle_arr = oracle_arr[usable]
    if target.kind == KIND_INTERVAL:
        out["lower_days"] = target.lower[usable]
        out["upper_days"] = target.upper[usable]
        predicted = np.asarray(model.predict(Xu), dtype=np.float64).reshape(-1)
        out["predicted_days"] = _check_prediction(predicted, "days", index)
        if callable(getattr(model, "predict_quantiles", None)) and len(quantiles):
            q = model.predict_quantiles(Xu, quantiles=tuple(quantiles))
            q = np.asarray(q, dtype=np.float64)
            if q.shape != (len(Xu), len(quantiles)):
                raise ValueError(
                    f"predict_quantiles returned shape {q.shape}, expected "
                    f"{(len(Xu), len(quantiles))}"
                )
            for j, qq in enumerate(quantiles):
                out[_quantile_name(qq)] = _check_prediction(q[:, j], f"quantile {qq}", index)
            settings["quantiles"] = [float(v) for v in quantiles]
        if oracle_arr is not None:
            out["oracle"] = oracle_arr
        return out, excluded, settings
    # binary (+ survival)
    label = target.label[usable]
    out["label"] = pd.array(np.where(np.isnan(label), 0, label).astype(np.int64), dtype="Int64")
    out.loc[np.isnan(label), "label"] = pd.NA
    proba = _check_prediction(_positive_proba(model, Xu), "probabilities", index)
    out["proba"] = proba
    if oracle_arr is not None:
        out["oracle"] = oracle_arr
    want = target.duration is not None and survival is not False
    if survival and target.duration is None:
        raise ValueError("survival=True needs y with 'duration_days' and 'event' columns")
    if want:
        ok = parts["survival"][usable]
        out["duration_days"] = np.where(ok, target.duration[usable], np.nan)
        out["event"] = pd.array(
            np.where(ok, target.event[usable], 0).astype(np.int64), dtype="Int64"
        )
        out.loc[~ok, "event"] = pd.NA
        if callable(getattr(model, "predict_risk", None)):
            risk = np.asarray(model.predict_risk(Xu), dtype=np.float64).reshape(-1)
            settings["risk_score"] = "predict_risk"
        else:
            risk = proba
            settings["risk_score"] = "predict_proba"
        out["risk"] = _check_prediction(risk, "risk scores", index)
        d = target.duration[usable][ok]
        tau_value = _default_tau(d) if tau is None else float(tau)
        settings["tau"] = tau_value
        if _has_survival_view(model):
            grid = _default_grid(d, tau_value) if times is None else np.asarray(times, float)
            if len(grid) >= 2:
                exit_prob = model.predict_survival(Xu, times=[_as_time(t) for t in grid])
                exit_prob = np.asarray(exit_prob, dtype=np.float64)
                if exit_prob.shape != (len(Xu), len(grid)):
                    raise ValueError(
                        f"predict_survival returned shape {exit_prob.shape}, expected "
                        f"{(len(Xu), len(grid))}"
                    )
                for j, t in enumerate(grid):
                    out[f"exit_prob_{_as_time(t)}d"] = _check_prediction(
                        exit_prob[:, j], f"exit probabilities at {t} days", index
                    )
                settings["times"] = [_as_time(t) for t in grid]
            else:
                logger.warning(
                    "evaluate: the follow-up is too short for an integrated Brier score grid"
                )
    return out, excluded, settings


def _as_time(t: float) -> int | float:
    return int(t) if float(t).is_integer() else float(t)


def _clusters(groups: Any, out: pd.DataFrame, n: int, usable: np.ndarray) -> np.ndarray:
    """The bootstrap unit of each usable row: ``groups``, ``employee_id`` or the row."""
    if groups is not None:
        g = np.asarray(groups.to_numpy() if hasattr(groups, "to_numpy") else groups, dtype=object)
        if g.ndim != 1 or len(g) != n:
            raise ValueError(f"groups must be 1-D with one entry per row of X ({n})")
        return g[usable]
    if "employee_id" in out.columns:
        return out["employee_id"].to_numpy(dtype=object)
    logger.info("evaluate: no employee_id and no groups: the bootstrap resamples rows")
    return np.asarray(out.index.to_numpy(), dtype=object)
