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

:func:`evaluate` and :class:`Evaluation` are here; parsing the target and building the
predictions frame is in ``_evaluate_target``, the metrics and their bootstrap in
``_evaluate_stats``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import (
    ID_COLUMNS,  # noqa: F401 - importable from here
    RandomStateLike,
    renamed_parameters,
)
from ._evaluate_stats import (  # noqa: F401 - the steps of evaluate, also used by _backtest
    _binary_stats,
    _interval,
    _interval_stats,
    _oracle,
    _run_bootstrap,
    _safe,
    _score,
    _Stat,
    _survival_stats,
)
from ._evaluate_target import (  # noqa: F401 - the steps of evaluate, also used by _backtest
    KIND_CLASSIFICATION,
    KIND_INTERVAL,
    KIND_SURVIVAL,
    MSG_IDS,
    MSG_INDEX,
    MSG_LENGTH,
    MSG_NO_PROBA,
    MSG_NO_ROWS,
    MSG_TARGET,
    _as_time,
    _check_alignment,
    _check_prediction,
    _clusters,
    _default_grid,
    _default_tau,
    _exclusions,
    _has_survival_view,
    _model_input,
    _numeric,
    _parse_target,
    _positive_proba,
    _predictions,
    _quantile_name,
    _subset,
    _Target,
    _usable,
)

__all__ = ["Evaluation", "evaluate"]

logger = logging.getLogger(__name__)


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


@renamed_parameters(top="top_fraction")
def evaluate(
    model: Any,
    X: Any,
    y: Any,
    *,
    n_bootstrap: int = 200,
    random_state: RandomStateLike = 0,
    groups: Any = None,
    oracle: Any = None,
    ci: float = 0.95,
    top_fraction: float = 0.10,
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
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
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
    top_fraction : float, default=0.10
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
        top_fraction=top_fraction,
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
