"""Time-based backtests: train on what was known before ``T``, test on what happened after.

:class:`TimeSplit` is a scikit-learn splitter over the ``as_of`` column: for a test period
``[T, T + step)``, the training rows are those whose *label window has closed* by ``T``
(``as_of + horizon <= T``). A row with ``as_of < T`` but ``as_of + horizon > T`` would teach the
model an outcome that was not yet observable at ``T``: that is leakage, and the reason a
random or group K-fold overstates a flight-risk model. :func:`backtest` clones and fits the
model per split, also censors the survival durations and ramp-up intervals of the training
rows at ``T`` (what was known then), and evaluates the pooled out-of-time predictions with
cluster-bootstrap intervals.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from tqdm.auto import tqdm

from .._validation import ID_COLUMNS, RandomStateLike, renamed_parameters
from ..config import show_progress as _show_progress
from ..labels import censor_at
from . import _evaluate as E
from ._timesplit import (  # noqa: F401 - the splitter's names, also importable from here
    DAY,
    MSG_EMPTY_FOLD,
    Holdout,
    TimeSplit,
    _known,
    _months,
    _timedelta,
    _times,
)

__all__ = ["Backtest", "TimeSplit", "backtest"]

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ backtest
def _is_talentml(model: Any) -> bool:
    return type(model).__module__.startswith("talentml.")


def _fit_target(model: Any, y: Any) -> tuple[Any, np.ndarray | None]:
    """What to pass to ``fit``: talentml models take label frames; others a clean target."""
    if _is_talentml(model):
        return y, None
    if not isinstance(y, pd.DataFrame):
        values = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
        if values.ndim == 1 and values.dtype.kind in "fO":
            keep = ~pd.isna(values)
            if not keep.all():
                return values[keep].astype(np.int64), keep
        return y, None
    if "label" in y.columns:
        keep = y["label"].notna().to_numpy()
        return y["label"].to_numpy()[keep].astype(np.int64), keep
    if {"lower_days", "upper_days"} <= set(y.columns):
        keep = y["lower_days"].notna().to_numpy()
        return y[["lower_days", "upper_days"]].to_numpy(dtype=np.float64)[keep], keep
    return y, None


def _fit_input(model: Any, X: pd.DataFrame) -> pd.DataFrame:
    if _is_talentml(model):
        return X
    return X.drop(columns=[c for c in ID_COLUMNS if c in X.columns])


class Backtest:
    """The result of :func:`backtest`: per-fold and pooled out-of-time metrics.

    Parameters
    ----------
    folds : pandas.DataFrame
        One row per fold: ``fold``, ``test_start``, ``test_end``, ``train_until``,
        ``n_train``, ``n_test``, ``n_train_employees``, ``n_test_employees`` and
        ``n_employees_both`` (employees with rows on both sides, at different times).
    fold_metrics : pandas.DataFrame
        ``fold``, ``test_start``, ``metric``, ``value``, ``n`` (no intervals: small samples).
    evaluation : Evaluation
        The evaluation of the pooled out-of-time predictions, with cluster-bootstrap CIs.
    models : list or None
        The fitted model of each fold (with ``keep_models=True``).

    Attributes
    ----------
    folds, fold_metrics, evaluation, models
        As the parameters.
    metrics : pandas.DataFrame
        The pooled metrics (``evaluation.metrics``).
    predictions : pandas.DataFrame
        The pooled out-of-time predictions, with ``fold``, ``employee_id`` and ``as_of``.

    See Also
    --------
    backtest : Build one.

    Examples
    --------
    >>> from talentml.models._backtest import Backtest
    >>> Backtest.__name__
    'Backtest'
    """

    def __init__(
        self,
        *,
        folds: pd.DataFrame,
        fold_metrics: pd.DataFrame,
        evaluation: E.Evaluation,
        models: list | None = None,
    ) -> None:
        self.folds = folds
        self.fold_metrics = fold_metrics
        self.evaluation = evaluation
        self.models = models

    @property
    def metrics(self) -> pd.DataFrame:
        """The pooled metrics with confidence intervals."""
        return self.evaluation.metrics

    @property
    def predictions(self) -> pd.DataFrame:
        """The pooled out-of-time predictions."""
        return self.evaluation.predictions

    def __getitem__(self, metric: str) -> float:
        """The pooled value of one metric."""
        return self.evaluation[metric]

    def plot_calibration(self, ax: Any = None, **kwargs: Any):
        """Calibration plot of the pooled out-of-time predictions.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw.
        **kwargs
            Passed to :meth:`Evaluation.plot_calibration`.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Examples
        --------
        >>> from talentml.models._backtest import Backtest
        >>> callable(Backtest.plot_calibration)
        True
        """
        return self.evaluation.plot_calibration(ax, **kwargs)

    def plot_lift(self, ax: Any = None, **kwargs: Any):
        """Lift plot of the pooled out-of-time predictions.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw.
        **kwargs
            Passed to :meth:`Evaluation.plot_lift`.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.

        Examples
        --------
        >>> from talentml.models._backtest import Backtest
        >>> callable(Backtest.plot_lift)
        True
        """
        return self.evaluation.plot_lift(ax, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable summary: folds, fold metrics and the pooled evaluation.

        Returns
        -------
        dict
            ``folds``, ``fold_metrics`` and ``pooled`` (:meth:`Evaluation.to_dict`).

        Examples
        --------
        >>> from talentml.models._backtest import Backtest
        >>> callable(Backtest.to_dict)
        True
        """
        return {
            "folds": E._records(self.folds),
            "fold_metrics": E._records(self.fold_metrics),
            "pooled": self.evaluation.to_dict(),
        }

    def __repr__(self) -> str:
        wide = self.fold_metrics.pivot(index="metric", columns="fold", values="value")
        wide = wide.reindex(self.fold_metrics["metric"].drop_duplicates())
        wide.columns = [f"fold {c}" for c in wide.columns]
        with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 140):
            folds = self.folds[["fold", "test_start", "test_end", "n_train", "n_test"]].to_string(
                index=False
            )
            per_fold = wide.to_string()
        return "\n".join(
            [
                f"Backtest({len(self.folds)} folds, out of time)",
                folds,
                "per fold:",
                per_fold,
                "pooled:",
                repr(self.evaluation),
            ]
        )


def _fold(
    model: Any,
    X: pd.DataFrame,
    y: Any,
    fold: tuple,
    *,
    time_column: str,
    target_kind: str,
    ids: pd.Series | None,
    times_col: pd.DatetimeIndex,
    group_arr: np.ndarray | None,
    oracle_arr: np.ndarray | None,
    times: Sequence[float] | None,
    tau: float | None,
    quantiles: Sequence[float],
    ci: float,
    top_fraction: float,
    n_bins: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], pd.DataFrame, Any, dict[str, Any]]:
    """Fit on one fold's training rows (targets as known at its start), predict its test rows.

    Returns the predictions, the fold's metrics, its row of ``Backtest.folds``, the excluded
    test rows, the fitted model and the prediction settings.
    """
    k, start, stop, train, test = fold
    X_train = X.iloc[train]
    y_train = censor_at(y, X, train, start, time_column=time_column)
    y_fit, keep = _fit_target(model, y_train)
    X_fit = _fit_input(model, X_train)
    if keep is not None:
        dropped = int((~keep).sum())
        if dropped:
            logger.info("backtest fold %d: %d training rows without a label left out", k, dropped)
        X_fit = X_fit.iloc[np.flatnonzero(keep)]
    fitted = clone(model).fit(X_fit, y_fit)
    X_test = X.iloc[test]
    y_test = y.iloc[test] if isinstance(y, pd.Series | pd.DataFrame) else np.asarray(y)[test]
    pred, excluded, settings = E._predictions(
        fitted,
        X_test,
        E._parse_target(y_test, len(test)),
        groups=None if group_arr is None else group_arr[test],
        oracle=None if oracle_arr is None else oracle_arr[test],
        survival=None,
        times=times,
        tau=tau,
        quantiles=quantiles,
    )
    pred.insert(0, "fold", k)
    kind = target_kind
    if kind == E.KIND_CLASSIFICATION and "risk" in pred:
        kind = E.KIND_SURVIVAL
    fold_settings = dict(settings)
    metrics, _, _ = E._score(
        pred,
        kind,
        fold_settings,
        n_bootstrap=0,
        random_state=None,
        ci=ci,
        top_fraction=top_fraction,
        n_bins=n_bins,
        show_progress=False,
    )
    metrics.insert(0, "test_start", start)
    metrics.insert(0, "fold", k)
    emp_train = set(ids.iloc[train].dropna()) if ids is not None else set()
    emp_test = set(ids.iloc[test].dropna()) if ids is not None else set()
    info = {
        "fold": k,
        "test_start": start,
        "test_end": stop,
        "train_until": times_col[train].max(),
        "n_train": len(train),
        "n_test": len(test),
        "n_train_employees": len(emp_train),
        "n_test_employees": len(emp_test),
        "n_employees_both": len(emp_train & emp_test),
        "n_test_excluded": int(excluded["n"].sum()) if len(excluded) else 0,
    }
    return pred, metrics, info, excluded, fitted, settings


@renamed_parameters(top="top_fraction")
def backtest(
    model: Any,
    X: pd.DataFrame,
    y: Any,
    *,
    n_splits: int = 5,
    horizon: str | pd.Timedelta | float | None = None,
    step: str | pd.Timedelta | float | None = None,
    end: str | pd.Timestamp | None = None,
    time_column: str = "as_of",
    n_bootstrap: int = 200,
    random_state: RandomStateLike = 0,
    groups: Any = None,
    oracle: Any = None,
    ci: float = 0.95,
    top_fraction: float = 0.10,
    n_bins: int = 10,
    times: Sequence[float] | None = None,
    tau: float | None = None,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    keep_models: bool = False,
    show_progress: bool | None = None,
) -> Backtest:
    """Time-based backtest: fit on the past, predict the next period, pool and evaluate.

    For each fold of :class:`TimeSplit`, a clone of ``model`` is fitted on the rows whose
    label window closed before ``T`` (``as_of + horizon <= T``), with survival durations and
    ramp-up intervals censored at ``T`` (what was known then), and predicts the rows with
    ``T <= as_of < T + step``. The out-of-time predictions of all folds are pooled and
    evaluated with :func:`evaluate`'s metrics and cluster-bootstrap intervals.

    Parameters
    ----------
    model : estimator
        An unfitted (or fitted: it is cloned) estimator. talentml models get ``X`` and the
        label frame as they are; other estimators get ``X`` without ``employee_id``/``as_of``
        and a plain target (``y["label"]`` without its missing rows, or the ramp-up bounds).
    X : pandas.DataFrame
        Features with ``as_of`` (and ``employee_id``).
    y : array-like or pandas.DataFrame
        The target, aligned with ``X`` (see :func:`evaluate`).
    n_splits : int, default=5
        Number of test periods.
    horizon : str or pandas.Timedelta or float, optional
        The label horizon. Default: the model's ``horizon`` parameter.
    step : str or pandas.Timedelta or float, optional
        Length of each test period (see :class:`TimeSplit`).
    end : str or pandas.Timestamp, optional
        End of the last test period (see :class:`TimeSplit`).
    time_column : str, default="as_of"
        The column of ``X`` with each row's time.
    n_bootstrap : int, default=200
        Cluster-bootstrap resamples of the pooled metrics.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed of the bootstrap (the model's own ``random_state`` is left as set).
    groups : array-like, optional
        Bootstrap unit per row; default ``employee_id``.
    oracle : array-like, optional
        Reference predictions aligned with ``X`` (see :func:`evaluate`).
    ci : float, default=0.95
        Level of the bootstrap intervals.
    top_fraction : float, default=0.10
        Fraction of the highest predictions for the lift.
    n_bins : int, default=10
        Bins of the calibration error and groups of the decile table.
    times : sequence of float, optional
        Time grid (days) of the integrated Brier score; by default computed once on all the
        test rows (every 30 days up to ``tau``), so that folds and pooled metrics share it.
    tau : float, optional
        Truncation time (days) of Uno's C-index (default 365 days, see :func:`evaluate`).
    quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        Quantiles asked of ``predict_quantiles`` (ramp-up).
    keep_models : bool, default=False
        Keep each fold's fitted model in ``Backtest.models``.
    show_progress : bool, optional
        Progress bar over the folds. Default: talentml's ``show_progress`` setting.

    Returns
    -------
    Backtest
        ``folds``, ``fold_metrics``, ``metrics`` (pooled, with CIs), ``predictions`` (pooled,
        with ``fold``), ``evaluation``, plots and ``to_dict()``.

    Raises
    ------
    ValueError
        If no horizon is known, a fold is empty, or ``X`` and ``y`` are not aligned.

    See Also
    --------
    TimeSplit : The splitter.
    evaluate : The metrics.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from talentml.models._backtest import backtest
    >>> rng = np.random.default_rng(0)
    >>> n = 2400
    >>> X = pd.DataFrame({
    ...     "employee_id": [f"e{i % 200}" for i in range(n)],
    ...     "as_of": pd.date_range("2023-01-01", periods=12, freq="MS", tz="UTC").repeat(200),
    ...     "x": rng.normal(size=n),
    ... })
    >>> y = (X["x"] + rng.normal(size=n) > 1).astype(int)
    >>> bt = backtest(LogisticRegression(), X, y, n_splits=3, horizon="90D", step="61D",
    ...               n_bootstrap=20, random_state=0)
    >>> bt.folds["n_train"].tolist()  # as_of up to 90 days before Jun 2, Aug 2, Oct 2
    [600, 1000, 1400]
    >>> bool(bt["roc_auc"] > 0.7)
    True
    """
    E._check_alignment(X, y)
    if horizon is None:
        params = model.get_params() if hasattr(model, "get_params") else {}
        horizon = params.get("horizon")
        if horizon is None:
            raise ValueError(
                "backtest needs the label horizon: pass horizon=..., or a model with a "
                "'horizon' parameter"
            )
    cv = TimeSplit(n_splits=n_splits, horizon=horizon, step=step, time_column=time_column, end=end)
    target = E._parse_target(y, len(X))
    folds = list(cv._folds(X, y))
    test_rows = np.unique(np.concatenate([f[4] for f in folds]))
    if target.duration is not None:
        d = target.duration[test_rows]
        d = d[np.isfinite(d)]
        if len(d):
            tau = E._default_tau(d) if tau is None else tau
            times = list(E._default_grid(d, float(tau))) if times is None else times
    ids = X["employee_id"].astype("string") if "employee_id" in X.columns else None
    times_col = pd.DatetimeIndex(pd.to_datetime(X[time_column], utc=True))
    progress = _show_progress() if show_progress is None else bool(show_progress)
    oracle_arr = None if oracle is None else np.asarray(oracle, dtype=np.float64)
    group_arr = None
    if groups is not None:
        group_arr = np.asarray(
            groups.to_numpy() if hasattr(groups, "to_numpy") else groups, dtype=object
        )
    pooled, info, per_fold, models, exclusions = [], [], [], [], []
    for k, start, stop, train, test in tqdm(folds, desc="backtest", disable=not progress):
        pred, metrics, row, excluded, fitted, settings = _fold(
            model,
            X,
            y,
            (k, start, stop, train, test),
            time_column=time_column,
            target_kind=target.kind,
            ids=ids,
            times_col=times_col,
            group_arr=group_arr,
            oracle_arr=oracle_arr,
            times=times,
            tau=tau,
            quantiles=quantiles,
            ci=ci,
            top_fraction=top_fraction,
            n_bins=n_bins,
        )
        per_fold.append(metrics[["fold", "test_start", "metric", "value", "n"]])
        pooled.append(pred)
        info.append(row)
        exclusions.append(excluded)
        if keep_models:
            models.append(fitted)
        last_settings = settings
    predictions = pd.concat(pooled)
    kind = target.kind
    if kind == E.KIND_CLASSIFICATION and "risk" in predictions:
        kind = E.KIND_SURVIVAL
    settings = dict(last_settings)
    settings["backtest"] = {
        "n_splits": int(n_splits),
        "horizon": str(horizon),
        "step": str(step) if step is not None else str(folds[0][2] - folds[0][1]),
    }
    metrics, deciles, gaps = E._score(
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
    excluded = pd.concat(exclusions).groupby("reason", as_index=False, sort=False)["n"].sum()
    evaluation = E.Evaluation(
        kind=kind,
        metrics=metrics,
        deciles=deciles,
        predictions=predictions,
        excluded=excluded,
        oracle_gap=gaps,
        settings=settings,
    )
    return Backtest(
        folds=pd.DataFrame(info),
        fold_metrics=pd.concat(per_fold, ignore_index=True),
        evaluation=evaluation,
        models=models if keep_models else None,
    )
