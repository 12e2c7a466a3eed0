"""The metrics of :func:`talentml.models.evaluate` as functions of row multiplicities, and their
cluster bootstrap.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._validation import bootstrap_clusters, check_random_state
from ..config import show_progress as _show_progress
from . import _metrics as M
from ._evaluate_target import KIND_INTERVAL, _as_time, _quantile_name

logger = logging.getLogger("talentml.models._evaluate")


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


def _binary_stats(pred: pd.DataFrame, *, top_fraction: float, n_bins: int) -> list[_Stat]:
    mask = pred["label"].notna().to_numpy()
    rows = np.flatnonzero(mask)
    y = pred["label"].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
    p = pred["proba"].to_numpy(dtype=np.float64)[rows]
    o = _oracle(pred, rows, "classification")
    lift_name = f"lift_at_{100 * top_fraction:g}"
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
        scores = M._BinaryScores(y, values, n_bins=n_bins, top_fraction=top_fraction)
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
    top_fraction: float,
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
            stats += _binary_stats(pred, top_fraction=top_fraction, n_bins=n_bins)
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
    clusters, _ = bootstrap_clusters(pred["cluster"].to_numpy(dtype=object))
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
            "top_fraction": float(top_fraction),
            "n_bins": int(n_bins),
        }
    )
    return metrics, deciles, gap_frame
