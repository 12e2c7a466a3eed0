"""What is audited: a fitted model's scores, a score column, or an array; and its version.

Also the per-feature contributions (TreeSHAP) used to attribute group gaps to features:
``talentml.explain`` when it is installed and consistent, XGBoost's native ``pred_contribs``
on the model's ``booster_`` and ``design_matrix`` otherwise.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import ID_COLUMNS

__all__ = [
    "Scores",
    "contributions",
    "contributions_margin",
    "label_values",
    "model_frame",
    "resolve_scores",
]

logger = logging.getLogger(__name__)


@dataclass
class Scores:
    """The audited output: one score per row, and what produced it."""

    values: np.ndarray
    binary: bool
    source: str  # "model", "column" or "array"
    description: str
    model: Any = None
    column: str | None = None
    version: dict[str, Any] = field(default_factory=dict)


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def model_version(model: Any) -> dict[str, Any]:
    """A reproducible fingerprint of a fitted model: class, parameters, features, trees."""
    out: dict[str, Any] = {
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
    }
    if hasattr(model, "get_params"):
        try:
            params = _jsonable(model.get_params(deep=False))
        except Exception as exc:  # a third-party estimator with a broken get_params
            logger.info("model version: get_params failed (%s)", exc)
            params = {}
        out["params_sha256"] = _sha256(json.dumps(params, sort_keys=True).encode())
        for key in ("horizon", "random_state", "n_estimators", "calibration"):
            if key in params:
                out[key] = params[key]
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        out["n_features"] = len(names)
        out["features_sha256"] = _sha256("\n".join(map(str, names)).encode())
    booster = getattr(model, "booster_", None)
    if booster is not None and hasattr(booster, "save_raw"):
        out["booster_sha256"] = _sha256(bytes(booster.save_raw(raw_format="ubj")))
        out["n_trees"] = int(booster.num_boosted_rounds())
    return out


def model_frame(model: Any, X: pd.DataFrame) -> pd.DataFrame:
    """``X`` restricted to the model's inputs (plus its identifier columns), in fit order."""
    names = getattr(model, "feature_names_in_", None)
    if names is None or not isinstance(X, pd.DataFrame):
        return X
    names = [str(c) for c in names]
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise ValueError(
            f"X lacks {len(missing)} feature(s) the model was fitted on: {missing[:8]}"
            + (" ..." if len(missing) > 8 else "")
        )
    ids = [c for c in getattr(model, "id_columns_", []) if c in X.columns]
    ids = ids or [c for c in ID_COLUMNS if c in X.columns]
    return X[ids + names]


def _is_binary(values: np.ndarray) -> bool:
    ok = values[~np.isnan(values)]
    return len(ok) > 0 and bool(np.isin(ok, (0.0, 1.0)).all())


def resolve_scores(model_or_scores: Any, X: pd.DataFrame) -> Scores:
    """Scores for every row of ``X`` from a model, a column name or an array."""
    if isinstance(model_or_scores, str):
        if model_or_scores not in X.columns:
            raise ValueError(
                f"X has no score column {model_or_scores!r}; columns: {list(X.columns)[:10]}..."
            )
        values = pd.to_numeric(X[model_or_scores], errors="raise").to_numpy(dtype=np.float64)
        return Scores(
            values=values,
            binary=_is_binary(values),
            source="column",
            description=f"column {model_or_scores!r} of X",
            column=model_or_scores,
            version={"column": model_or_scores},
        )
    if isinstance(model_or_scores, pd.Series | np.ndarray | list):
        if isinstance(model_or_scores, pd.Series):
            if len(model_or_scores) != len(X) or not model_or_scores.index.equals(X.index):
                raise ValueError(
                    "the scores Series is not aligned with X: it must have X's index "
                    f"({len(model_or_scores)} scores, {len(X)} rows)"
                )
            raw = model_or_scores
        else:
            raw = np.asarray(model_or_scores)
            if raw.ndim != 1 or len(raw) != len(X):
                raise ValueError(
                    f"scores must be 1-D with one value per row of X ({len(X)}), got shape "
                    f"{raw.shape}"
                )
        values = pd.to_numeric(pd.Series(np.asarray(raw)), errors="raise").to_numpy(np.float64)
        name = getattr(model_or_scores, "name", None)
        return Scores(
            values=values,
            binary=_is_binary(values),
            source="array",
            description="scores given as an array" + (f" ({name})" if name else ""),
            version={"scores": str(name) if name else "array"},
        )
    model = model_or_scores
    frame = model_frame(model, X)
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(frame), dtype=np.float64)
        values = proba[:, 1] if proba.ndim == 2 else proba
        classes = getattr(model, "classes_", None)
        event = classes[1] if classes is not None and len(classes) > 1 else 1
        description = f"{type(model).__name__}.predict_proba: probability of class {event!r}"
        binary = False
    elif hasattr(model, "predict"):
        values = np.asarray(model.predict(frame), dtype=np.float64).reshape(-1)
        description = f"{type(model).__name__}.predict"
        binary = _is_binary(values)
    else:
        raise TypeError(
            "model_or_scores must be a fitted model (predict_proba or predict), a column name "
            f"of X, or an array of scores; got {type(model).__name__}"
        )
    if len(values) != len(X):
        raise ValueError(f"the model returned {len(values)} scores for {len(X)} rows")
    return Scores(
        values=values,
        binary=binary,
        source="model",
        description=description,
        model=model,
        version=model_version(model),
    )


def label_values(y: Any, X: pd.DataFrame) -> np.ndarray | None:
    """Binary outcomes aligned with ``X`` as floats (NaN where unlabeled), or None."""
    if y is None:
        return None
    if isinstance(y, str):
        if y not in X.columns:
            raise ValueError(f"X has no label column {y!r}")
        y = X[y]
    if isinstance(y, pd.DataFrame):
        if "label" not in y.columns:
            raise ValueError(
                "y is a DataFrame without a 'label' column: pass a talentml.labels frame or a "
                f"1-D array; got columns {list(y.columns)[:10]}"
            )
        if len(y) != len(X):
            raise ValueError(f"y has {len(y)} rows but X has {len(X)}: align them on the spine")
        for key in ID_COLUMNS:
            if key in y.columns and key in X.columns:
                a, b = X[key].to_numpy(), y[key].to_numpy()
                differ = ~((a == b) | (pd.isna(a) & pd.isna(b)))
                if differ.any():
                    rows = list(X.index[differ][:10])
                    raise ValueError(f"y and X disagree on {key!r} in rows {rows}")
        y = y["label"]
    if isinstance(y, pd.Series):
        if len(y) != len(X):
            raise ValueError(f"y has {len(y)} rows but X has {len(X)}")
        values = pd.to_numeric(y.astype("object").where(y.notna(), np.nan), errors="raise")
        values = values.to_numpy(dtype=np.float64)
    else:
        values = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(values) != len(X):
            raise ValueError(f"y has {len(values)} values but X has {len(X)} rows")
    bad = ~np.isnan(values) & ~np.isin(values, (0.0, 1.0))
    if bad.any():
        rows = list(X.index[bad][:10])
        raise ValueError(f"y must be binary (0/1, missing allowed); other values in rows {rows}")
    return values


def contributions_margin(model: Any, X: pd.DataFrame) -> np.ndarray:
    """The booster's raw margin for the rows of ``X`` (a tie-breaker for calibrated scores)."""
    dm = model.design_matrix(model_frame(model, X))
    return np.asarray(model.booster_.predict(dm, output_margin=True), dtype=np.float64)


def contributions(model: Any, X: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Per-feature TreeSHAP contributions to the booster margin, and the margin.

    ``talentml.explain`` is used when it is installed and additive to the booster margin;
    otherwise XGBoost's ``pred_contribs`` on ``booster_`` and ``design_matrix``. Returns None
    for a model without ``booster_`` and ``design_matrix`` (no attribution possible).
    """
    if not (hasattr(model, "booster_") and hasattr(model, "design_matrix")):
        return None
    frame = model_frame(model, X)
    names = [str(c) for c in model.feature_names_in_]
    dm = model.design_matrix(frame)
    margin = np.asarray(model.booster_.predict(dm, output_margin=True), dtype=np.float64)
    values = None
    try:
        from ..explain import explain  # type: ignore[attr-defined]
    except ImportError:
        explain = None
    if explain is not None:
        try:
            other = np.asarray(explain(model, frame).values, dtype=np.float64)
            base = margin - other.sum(axis=1) if other.shape == (len(frame), len(names)) else None
            if base is not None and np.ptp(base) < 1e-3:
                values = other
            else:
                logger.info("talentml.explain values are not additive here; using pred_contribs")
        except Exception as exc:  # keep the audit running on the booster's own TreeSHAP
            logger.info("talentml.explain failed (%s); using XGBoost pred_contribs", exc)
    if values is None:
        raw = np.asarray(model.booster_.predict(dm, pred_contribs=True), dtype=np.float64)
        values = raw[:, :-1]
    return pd.DataFrame(values, columns=names, index=X.index), margin
