"""Evaluate a fitted model: discrimination, calibration, lift, survival and ramp-up metrics.

:func:`evaluate` dispatches on the target and the model:

* a binary target (a 0/1 array, or a label frame of :mod:`talentml.labels` with ``label``)
  and any estimator with ``predict_proba``: ROC AUC, PR AUC, Brier score, expected calibration
  error (equal-width and equal-mass bins), lift in the top 10% and the decile table;
* a label frame that also has ``duration_days`` and ``event`` (flight risk): Harrell's and
  Uno's C-index of the model's risk score (``predict_risk``, else the probability), and the
  integrated Brier score when the model has a survival view (``predict_survival``);
* interval bounds (the frame of :func:`talentml.labels.ramp_up_spine` or an ``(n, 2)`` array)
  and a model predicting days (:class:`~talentml.models.RampUp`): the interval C-index, the
  MAE on observed ramp-ups and the coverage of the predicted quantile interval.

Confidence intervals come from a *cluster* bootstrap: whole employees are resampled (an
employee's rows at several ``as_of`` dates are not independent), and every metric of a
resample is computed on the same draw, so differences between metrics (model minus oracle)
get paired intervals.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from tqdm.auto import tqdm

from ..config import show_progress as _show_progress
from . import _metrics as M

__all__ = ["Evaluation", "evaluate"]

logger = logging.getLogger(__name__)

#: Identifier columns carried into the predictions frame when present in ``X``.
ID_COLUMNS = ("employee_id", "as_of")

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


def _cluster_codes(values: pd.Series) -> np.ndarray:
    codes, _ = pd.factorize(values.astype(object), use_na_sentinel=False)
    return codes.astype(np.int64)


# ------------------------------------------------------------------------------- scoring
@dataclass
class _Stat:
    """One metric: a function of row multiplicities (over the whole predictions frame)."""

    name: str
    fn: Callable[[np.ndarray], float]
    n: int
    oracle_fn: Callable[[np.ndarray], float] | None = None


def _safe(fn: Callable[[np.ndarray], float], w: np.ndarray) -> float:
    try:
        return float(fn(w))
    except ValueError:
        return float("nan")


def _oracle(pred: pd.DataFrame, rows: np.ndarray, what: str) -> np.ndarray | None:
    """The oracle on ``rows``, or None (logged) when it is missing on some of them."""
    if "oracle" not in pred:
        return None
    o = pred["oracle"].to_numpy(dtype=np.float64)[rows]
    bad = ~np.isfinite(o)
    if bad.any():
        logger.info(
            "evaluate: the oracle is missing on %d of the %d rows of the %s metrics: no oracle "
            "value for them",
            int(bad.sum()),
            len(o),
            what,
        )
        return None
    return o


def _binary_stats(pred: pd.DataFrame, *, top: float, n_bins: int) -> list[_Stat]:
    mask = pred["label"].notna().to_numpy()
    rows = np.flatnonzero(mask)
    y = pred["label"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
    p = pred["proba"].to_numpy(dtype=np.float64)[rows]
    o = _oracle(pred, rows, "classification")
    lift_name = f"lift_at_{100 * top:g}"
    names = {
        "roc_auc": "roc_auc",
        "pr_auc": "pr_auc",
        "brier": "brier",
        "ece": "ece",
        lift_name: "lift",
        "mean_predicted": "mean_predicted",
        "observed_rate": "observed_rate",
    }

    def scorer(values: np.ndarray):
        scores = M._BinaryScores(y, values, n_bins=n_bins, top=top)
        cache: dict[str, Any] = {"w": None, "out": {}}

        def get(key: str) -> Callable[[np.ndarray], float]:
            def fn(w: np.ndarray) -> float:
                if cache["w"] is not w:
                    cache["w"], cache["out"] = w, scores.values(w[rows])
                return cache["out"].get(key, float("nan"))

            return fn

        def ece_quantile(w: np.ndarray) -> float:
            # equal-mass edges move with the resample: computed on the repeated rows
            idx = np.repeat(np.arange(len(rows)), w[rows].astype(np.int64))
            return M.expected_calibration_error(
                y[idx], values[idx], n_bins=n_bins, strategy="quantile"
            )

        return get, ece_quantile

    model_get, model_ece_q = scorer(p)
    oracle_get, oracle_ece_q = scorer(o) if o is not None else (None, None)
    stats = []
    for name, key in names.items():
        oracle_fn = oracle_get(key) if oracle_get is not None and name != "observed_rate" else None
        stats.append(_Stat(name, model_get(key), len(rows), oracle_fn))
        if name == "ece":
            stats.append(_Stat("ece_quantile", model_ece_q, len(rows), oracle_ece_q))
    return stats


def _survival_stats(pred: pd.DataFrame, settings: dict[str, Any]) -> list[_Stat]:
    ok = pred["duration_days"].notna().to_numpy()
    rows = np.flatnonzero(ok)
    t = pred["duration_days"].to_numpy(dtype=np.float64)[rows]
    e = pred["event"].to_numpy(dtype=np.float64, na_value=0.0)[rows] > 0
    if not e.any():
        logger.warning("evaluate: no event among the rows with a duration: no C-index")
        return []
    tau = settings["tau"]
    risk = pred["risk"].to_numpy(dtype=np.float64)[rows]
    conc = M._Concordance(t, e, risk)
    km = M._CensoringKM(t, e)
    oracle = None
    o = _oracle(pred, rows, "survival")
    if o is not None:
        oracle = M._Concordance(t, e, o)
    n_events = int(e.sum())

    def harrell(c: M._Concordance) -> Callable[[np.ndarray], float]:
        return lambda w: c.value(w[rows], np.ones(n_events))

    def uno(c: M._Concordance) -> Callable[[np.ndarray], float]:
        def fn(w: np.ndarray) -> float:
            ww = w[rows]
            # G can reach 0 at the longest follow-up of the (resampled) rows: truncate there
            cap = min(tau, float(t[ww > 0].max())) if (ww > 0).any() else tau
            return c.value(ww, M._uno_weights(t, e, cap, ww, km=km))

        return fn

    stats = [
        _Stat("c_index_harrell", harrell(conc), len(rows), harrell(oracle) if oracle else None),
        _Stat("c_index_uno", uno(conc), len(rows), uno(oracle) if oracle else None),
    ]
    times = settings.get("times")
    if times and float(times[-1]) >= float(t.max()):
        logger.info(
            "evaluate: the time grid (up to %s days) reaches past the longest follow-up (%.0f "
            "days): no integrated Brier score",
            times[-1],
            t.max(),
        )
        times = None
    if times:
        grid = np.asarray(times, dtype=np.float64)
        cols = [f"exit_prob_{_as_time(v)}d" for v in grid]
        surv = 1.0 - pred[cols].to_numpy(dtype=np.float64)[rows]
        brier = M._Brier(t, e, surv, grid)

        def ibs(w: np.ndarray) -> float:
            return M._integrate(grid, brier.curve(w[rows]))

        stats.append(_Stat("integrated_brier", ibs, len(rows)))
    return stats


def _interval_stats(pred: pd.DataFrame, settings: dict[str, Any]) -> list[_Stat]:
    lo = pred["lower_days"].to_numpy(dtype=np.float64)
    up = pred["upper_days"].to_numpy(dtype=np.float64)
    p = pred["predicted_days"].to_numpy(dtype=np.float64)
    observed = np.isfinite(up)
    obs = np.flatnonzero(observed)
    mid = (lo + up)[obs] / 2.0
    conc = M._IntervalConcordance(lo, up, p)
    oracle_conc = None
    o = _oracle(pred, np.arange(len(pred)), "ramp-up")
    if o is not None:
        oracle_conc = M._IntervalConcordance(lo, up, o)

    def mae(values: np.ndarray) -> Callable[[np.ndarray], float]:
        def fn(w: np.ndarray) -> float:
            ww = w[obs]
            if ww.sum() == 0:
                return float("nan")
            return float(np.sum(ww * np.abs(values[obs] - mid)) / ww.sum())

        return fn

    stats = [
        _Stat(
            "c_index_interval",
            conc.value,
            len(pred),
            oracle_conc.value if oracle_conc is not None else None,
        ),
        _Stat("mae_observed", mae(p), len(obs), mae(o) if o is not None else None),
    ]
    quantiles = settings.get("quantiles") or []
    if len(quantiles) >= 2:
        q_lo, q_hi = min(quantiles), max(quantiles)
        a = pred[_quantile_name(q_lo)].to_numpy(dtype=np.float64)[obs]
        b = pred[_quantile_name(q_hi)].to_numpy(dtype=np.float64)[obs]
        inside = ((a <= mid) & (mid <= b)).astype(np.float64)

        def coverage(w: np.ndarray) -> float:
            ww = w[obs]
            return float(np.sum(ww * inside) / ww.sum()) if ww.sum() else float("nan")

        name = f"coverage_{100 * q_lo:g}_{100 * q_hi:g}"
        stats.append(_Stat(name, coverage, len(obs)))
        settings["coverage_nominal"] = float(q_hi - q_lo)
    return stats


def _run_bootstrap(
    stats: list[_Stat],
    clusters: np.ndarray,
    *,
    n_bootstrap: int,
    rng: np.random.RandomState,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Model and oracle values of each stat on each cluster resample (NaN when undefined)."""
    n_clusters = int(clusters.max()) + 1 if len(clusters) else 0
    values = np.full((n_bootstrap, len(stats)), np.nan)
    oracle = np.full((n_bootstrap, len(stats)), np.nan)
    for b in tqdm(range(n_bootstrap), desc="bootstrap", disable=not progress, leave=False):
        draw = np.bincount(rng.randint(0, n_clusters, n_clusters), minlength=n_clusters)
        w = draw[clusters].astype(np.float64)
        for j, stat in enumerate(stats):
            values[b, j] = _safe(stat.fn, w)
            if stat.oracle_fn is not None:
                oracle[b, j] = _safe(stat.oracle_fn, w)
    return values, oracle


def _interval(samples: np.ndarray, ci: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(finite, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return float(lo), float(hi)


def _score(
    pred: pd.DataFrame,
    kind: str,
    settings: dict[str, Any],
    *,
    n_bootstrap: int,
    random_state: Any,
    ci: float,
    top: float,
    n_bins: int,
    show_progress: bool | None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """Metrics (with bootstrap CIs), the decile table and the oracle gaps."""
    if not isinstance(n_bootstrap, int | np.integer) or n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be an int >= 0, got {n_bootstrap!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    stats: list[_Stat] = []
    deciles = None
    if kind == KIND_INTERVAL:
        stats += _interval_stats(pred, settings)
    else:
        labelled = pred["label"].notna().to_numpy()
        if labelled.any():
            stats += _binary_stats(pred, top=top, n_bins=n_bins)
            y = pred.loc[labelled, "label"].to_numpy(dtype=np.float64)
            p = pred.loc[labelled, "proba"].to_numpy(dtype=np.float64)
            deciles = M.decile_table(y, p, n_bins=min(n_bins, len(y)))
        if "risk" in pred:
            stats += _survival_stats(pred, settings)
    full = np.ones(len(pred))
    point = [_safe(s.fn, full) for s in stats]
    oracle_point = [_safe(s.oracle_fn, full) if s.oracle_fn else np.nan for s in stats]
    undefined = [s.name for s, v in zip(stats, point, strict=True) if math.isnan(v)]
    if undefined:
        logger.warning("evaluate: undefined on these data (single class?): %s", undefined)
    clusters = _cluster_codes(pred["cluster"])
    progress = _show_progress() if show_progress is None else bool(show_progress)
    rng = check_random_state(random_state)
    boot, boot_oracle = _run_bootstrap(
        stats, clusters, n_bootstrap=n_bootstrap, rng=rng, progress=progress
    )
    rows = []
    gaps = []
    for j, s in enumerate(stats):
        lo, hi = _interval(boot[:, j], ci) if n_bootstrap else (np.nan, np.nan)
        if n_bootstrap:
            n_bad = int(np.sum(~np.isfinite(boot[:, j])))
            if n_bad and np.isfinite(point[j]):
                logger.warning(
                    "evaluate: %s undefined in %d of %d bootstrap resamples (left out of its CI)",
                    s.name,
                    n_bad,
                    n_bootstrap,
                )
        row = {"metric": s.name, "value": point[j], "ci_low": lo, "ci_high": hi, "n": s.n}
        if "oracle" in pred:
            row["oracle"] = oracle_point[j]
            if s.oracle_fn is not None:
                g_lo, g_hi = (
                    _interval(boot[:, j] - boot_oracle[:, j], ci)
                    if n_bootstrap
                    else (np.nan, np.nan)
                )
                gaps.append(
                    {
                        "metric": s.name,
                        "model": point[j],
                        "oracle": oracle_point[j],
                        "gap": point[j] - oracle_point[j],
                        "ci_low": g_lo,
                        "ci_high": g_hi,
                    }
                )
        rows.append(row)
    metrics = pd.DataFrame(rows)
    metrics["n"] = metrics["n"].astype(np.int64)
    gap_frame = pd.DataFrame(gaps) if "oracle" in pred else None
    settings.update(
        {
            "n_bootstrap": int(n_bootstrap),
            "ci": float(ci),
            "n_rows": int(len(pred)),
            "n_clusters": int(clusters.max()) + 1 if len(clusters) else 0,
            "top": float(top),
            "n_bins": int(n_bins),
        }
    )
    return metrics, deciles, gap_frame


# ----------------------------------------------------------------------------- results
def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]] | None:
    if frame is None:
        return None
    return [_jsonable(r) for r in frame.to_dict(orient="records")]


class Evaluation:
    """The result of :func:`evaluate`: metrics with confidence intervals, tables and plots.

    Parameters
    ----------
    kind : {"classification", "survival", "interval"}
        What was evaluated.
    metrics : pandas.DataFrame
        ``metric``, ``value``, ``ci_low``, ``ci_high``, ``n`` (rows used) and, with an oracle,
        ``oracle``.
    deciles : pandas.DataFrame or None
        The decile table of :func:`~talentml.models.decile_table` (binary targets).
    predictions : pandas.DataFrame
        One row per evaluated row (index of ``X``): identifiers, ``cluster`` (the bootstrap
        unit), the target and the predictions.
    excluded : pandas.DataFrame
        ``reason``, ``n``: rows of ``y`` that no metric could use.
    oracle_gap : pandas.DataFrame or None
        With an oracle: ``metric``, ``model``, ``oracle``, ``gap`` (model minus oracle) and its
        paired bootstrap interval ``ci_low``, ``ci_high``.
    settings : dict
        How it was computed (bootstrap size, level, clusters, tau, time grid, ...).

    Attributes
    ----------
    kind, metrics, deciles, predictions, excluded, oracle_gap, settings
        As the parameters.

    See Also
    --------
    evaluate : Build one.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from talentml.models._evaluate import evaluate
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2))
    >>> y = (X[:, 0] + rng.normal(size=500) > 0).astype(int)
    >>> ev = evaluate(LogisticRegression().fit(X, y), X, y, n_bootstrap=20, random_state=0)
    >>> ev.kind
    'classification'
    >>> list(ev.metrics.columns)
    ['metric', 'value', 'ci_low', 'ci_high', 'n']
    """

    def __init__(
        self,
        *,
        kind: str,
        metrics: pd.DataFrame,
        deciles: pd.DataFrame | None,
        predictions: pd.DataFrame,
        excluded: pd.DataFrame,
        oracle_gap: pd.DataFrame | None,
        settings: dict[str, Any],
    ) -> None:
        self.kind = kind
        self.metrics = metrics
        self.deciles = deciles
        self.predictions = predictions
        self.excluded = excluded
        self.oracle_gap = oracle_gap
        self.settings = settings

    def __getitem__(self, metric: str) -> float:
        """The value of one metric, e.g. ``ev["roc_auc"]``."""
        hit = self.metrics.loc[self.metrics["metric"] == metric, "value"]
        if hit.empty:
            raise KeyError(f"no metric {metric!r}; have {self.metrics['metric'].tolist()}")
        return float(hit.iloc[0])

    def _binary(self) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == KIND_INTERVAL or "proba" not in self.predictions:
            raise ValueError(
                f"this evaluation ({self.kind}) has no binary target: calibration and lift "
                "plots need predicted probabilities and 0/1 outcomes"
            )
        pred = self.predictions[self.predictions["label"].notna()]
        return (
            pred["label"].to_numpy(dtype=np.float64),
            pred["proba"].to_numpy(dtype=np.float64),
        )

    def plot_calibration(self, ax: Any = None, *, n_bins: int = 10, strategy: str = "quantile"):
        """Plot predicted against observed rates (binary) or quantile calibration (ramp-up).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure when omitted.
        n_bins : int, default=10
            Number of bins of the reliability diagram.
        strategy : {"quantile", "uniform"}, default="quantile"
            Equal-mass or equal-width bins.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from talentml.models._evaluate import evaluate
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(300, 1))
        >>> y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
        >>> ev = evaluate(LogisticRegression().fit(X, y), X, y, n_bootstrap=0)
        >>> ax = ev.plot_calibration()
        >>> ax.get_xlabel()
        'mean predicted probability'
        """
        from ._plots import plot_calibration, plot_quantile_calibration

        if self.kind == KIND_INTERVAL:
            qs = self.settings.get("quantiles") or []
            if not qs:
                raise ValueError(
                    "this ramp-up evaluation has no predicted quantiles (the model has no "
                    "predict_quantiles): nothing to calibrate"
                )
            pred = self.predictions
            values = pred[[_quantile_name(q) for q in qs]].to_numpy(dtype=np.float64)
            return plot_quantile_calibration(
                pred["lower_days"], pred["upper_days"], qs, values, ax=ax
            )
        y, p = self._binary()
        oracle = None
        if "oracle" in self.predictions:
            labelled = self.predictions["label"].notna()
            oracle = self.predictions.loc[labelled, "oracle"].to_numpy(dtype=np.float64)
            if not np.isfinite(oracle).all():
                oracle = None
        return plot_calibration(y, p, n_bins=n_bins, strategy=strategy, ax=ax, oracle=oracle)

    def plot_lift(self, ax: Any = None, *, n_bins: int = 10):
        """Plot the lift by decile of predicted risk, with the lift of the top 10%.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure when omitted.
        n_bins : int, default=10
            Number of groups.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from talentml.models._evaluate import evaluate
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(300, 1))
        >>> y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
        >>> ev = evaluate(LogisticRegression().fit(X, y), X, y, n_bootstrap=0)
        >>> ev.plot_lift().get_ylabel()
        'lift (observed rate / overall rate)'
        """
        from ._plots import plot_lift

        y, p = self._binary()
        return plot_lift(y, p, n_bins=n_bins, ax=ax)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable summary (for MLflow), without the per-row predictions.

        Returns
        -------
        dict
            ``kind``, ``metrics`` (``{name: {value, ci_low, ci_high, n[, oracle]}}``),
            ``deciles``, ``oracle_gap``, ``excluded`` and ``settings``; NaN becomes ``None``.

        Examples
        --------
        >>> import json
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from talentml.models._evaluate import evaluate
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 1))
        >>> y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
        >>> ev = evaluate(LogisticRegression().fit(X, y), X, y, n_bootstrap=10, random_state=0)
        >>> sorted(json.loads(json.dumps(ev.to_dict())))
        ['deciles', 'excluded', 'kind', 'metrics', 'oracle_gap', 'settings']
        """
        metrics = {
            r["metric"]: {k: v for k, v in r.items() if k != "metric"}
            for r in _records(self.metrics) or []
        }
        excluded = dict(zip(self.excluded["reason"], self.excluded["n"], strict=True))
        return {
            "kind": self.kind,
            "metrics": metrics,
            "deciles": _records(self.deciles),
            "oracle_gap": _records(self.oracle_gap),
            "excluded": _jsonable(excluded),
            "settings": _jsonable(self.settings),
        }

    def __repr__(self) -> str:
        s = self.settings
        head = (
            f"Evaluation({self.kind}, model={s.get('model')}, rows={s.get('n_rows'):,}, "
            f"clusters={s.get('n_clusters'):,}, bootstrap={s.get('n_bootstrap')}, "
            f"ci={s.get('ci', 0):.0%})"
        )
        table = self.metrics.copy()
        with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 120):
            body = table.to_string(index=False)
        lines = [head, body]
        n_out = int(self.excluded["n"].sum()) if len(self.excluded) else 0
        if n_out:
            reasons = ", ".join(
                f"{r}={k:,}"
                for r, k in zip(self.excluded["reason"], self.excluded["n"], strict=True)
            )
            lines.append(f"left out: {n_out:,} rows ({reasons})")
        return "\n".join(lines)


def evaluate(
    model: Any,
    X: Any,
    y: Any,
    *,
    n_bootstrap: int = 200,
    random_state: Any = None,
    groups: Any = None,
    oracle: Any = None,
    ci: float = 0.95,
    top: float = 0.10,
    n_bins: int = 10,
    survival: bool | None = None,
    times: Sequence[float] | None = None,
    tau: float | None = None,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    show_progress: bool | None = None,
) -> Evaluation:
    """Evaluate a fitted model on held-out rows, with cluster-bootstrap confidence intervals.

    Parameters
    ----------
    model : estimator
        A fitted model: any classifier with ``predict_proba`` (scikit-learn's included, or
        :class:`~talentml.models.FlightRisk` / :class:`~talentml.models.HighPotential`), or a
        model predicting days (:class:`~talentml.models.RampUp`: ``predict`` and optionally
        ``predict_quantiles``). When it has ``feature_names_in_``, only those columns of ``X``
        are passed to it.
    X : pandas.DataFrame
        Features of the evaluated rows (with ``employee_id`` / ``as_of`` when available).
    y : array-like or pandas.DataFrame
        The target, aligned with ``X`` (same length, and same index when both are pandas):
        a 0/1 array; the frame of :func:`talentml.labels.flight_risk` or
        :func:`talentml.labels.high_potential` (``label``, and ``duration_days``/``event`` for
        the survival metrics); or the ramp-up bounds (:func:`talentml.labels.ramp_up_spine`,
        or an ``(n, 2)`` array of ``lower, upper``). Rows with a missing target are left out,
        counted by reason (``Evaluation.excluded``) and logged.
    n_bootstrap : int, default=200
        Cluster-bootstrap resamples for the confidence intervals (0: none).
    random_state : int, numpy.random.RandomState or None, default=None
        Seed of the bootstrap.
    groups : array-like, optional
        The bootstrap unit of each row (one entry per row of ``X``). Default:
        ``X["employee_id"]`` (or ``y["employee_id"]``) when present, otherwise rows.
    oracle : array-like, optional
        Reference predictions aligned with ``X``: the true probabilities (simulator) for a
        binary target, or the true/ideal days for ramp-up. Adds an ``oracle`` column to
        ``metrics`` and the paired gaps in ``oracle_gap``; for a survival target the oracle
        probability is also scored as a risk in the C-indices. It may be missing (NaN) on some
        rows: a group of metrics whose rows it does not cover gets no oracle value (logged).
    ci : float, default=0.95
        Level of the percentile bootstrap intervals.
    top : float, default=0.10
        Fraction of the highest predictions for the lift (``lift_at_10``).
    n_bins : int, default=10
        Bins of the calibration error and groups of the decile table.
    survival : bool, optional
        Compute the survival metrics (needs ``duration_days``/``event`` in ``y``). Default:
        when ``y`` has them.
    times : sequence of float, optional
        Time grid (days) of the integrated Brier score. Default: every 30 days up to ``tau``,
        inside the follow-up.
    tau : float, optional
        Truncation time (days) of Uno's C-index: events at or after it do not count as the
        earlier member of a pair. Default: 365 days. It is lowered to the longest follow-up
        of the rows (of each resample) when that is shorter, where the censoring survival
        may reach 0.
    quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        Quantiles asked of ``predict_quantiles`` (ramp-up); the outer two give the interval
        whose coverage is reported (``coverage_10_90``, nominal 0.8).
    show_progress : bool, optional
        Progress bar over the bootstrap. Default: talentml's ``show_progress`` setting.

    Returns
    -------
    Evaluation
        ``metrics`` (``metric``, ``value``, ``ci_low``, ``ci_high``, ``n``), ``deciles``,
        ``predictions``, ``excluded``, ``oracle_gap``, plots and ``to_dict()``.

    Raises
    ------
    ValueError
        If ``X`` and ``y`` are not aligned, the target is invalid (rows named), no row is
        usable, or the model predicts non-finite values.
    TypeError
        If a binary target meets a model without ``predict_proba``.

    See Also
    --------
    backtest : Time-based backtest, evaluated on the pooled out-of-time predictions.

    Notes
    -----
    Metrics: ``roc_auc``, ``pr_auc`` (average precision), ``brier``, ``ece`` (10 equal-width
    bins), ``ece_quantile`` (10 equal-mass bins), ``lift_at_10``, ``mean_predicted`` and
    ``observed_rate`` (calibration in the large); ``c_index_harrell``, ``c_index_uno`` (IPCW,
    truncated at ``tau``) and ``integrated_brier``; ``c_index_interval``, ``mae_observed`` and
    ``coverage_10_90``. The censoring distribution of the IPCW metrics is estimated on the
    evaluated rows, again in every resample. A resample where a metric is undefined (one
    class only) is left out of that metric's interval (logged).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from talentml.models._evaluate import evaluate
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 3))
    >>> y = (X[:, 0] - X[:, 1] + rng.normal(size=1000) > 1).astype(int)
    >>> model = LogisticRegression().fit(X[:500], y[:500])
    >>> ev = evaluate(model, X[500:], y[500:], n_bootstrap=50, random_state=0)
    >>> round(ev["roc_auc"], 2)
    0.91
    >>> ev.metrics["metric"].tolist()[:4]
    ['roc_auc', 'pr_auc', 'brier', 'ece']
    """
    _check_alignment(X, y)
    target = _parse_target(y, len(X))
    predictions, excluded, settings = _predictions(
        model,
        X,
        target,
        groups=groups,
        oracle=oracle,
        survival=survival,
        times=times,
        tau=tau,
        quantiles=quantiles,
    )
    kind = target.kind
    if kind == KIND_CLASSIFICATION and "risk" in predictions:
        kind = KIND_SURVIVAL
    metrics, deciles, gaps = _score(
        predictions,
        kind,
        settings,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        ci=ci,
        top=top,
        n_bins=n_bins,
        show_progress=show_progress,
    )
    return Evaluation(
        kind=kind,
        metrics=metrics,
        deciles=deciles,
        predictions=predictions,
        excluded=excluded,
        oracle_gap=gaps,
        settings=settings,
    )
