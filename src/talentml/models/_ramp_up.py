"""RampUp: interval-censored XGBoost AFT model of the days from hire to productivity."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d

from .._validation import RandomStateLike
from ._base import MSG_Y_NONE, _XGBModel, finite_log_mean, fmt_rows, holdout_mask, seed_from
from ._classifier import check_alignment
from ._params import SHARED_ATTRIBUTES_DOC, XGB_PARAMS_DOC
from ._survival import DISTRIBUTIONS, aft_z

__all__ = ["RAMP_UP_MONOTONE", "RampUp"]

logger = logging.getLogger(__name__)

#: The monotone map of ``monotone_constraints="auto"`` (sign of the effect on log days to
#: productivity: -1 means "more of it, not slower"). Justified in ``docs/models.md``.
RAMP_UP_MONOTONE: Mapping[str, int] = {
    "onboarding_completions_first_30d": -1,
}


class RampUp(RegressorMixin, _XGBModel):
    """Days from hire to sustained productivity: XGBoost AFT with interval censoring.

    The accelerated failure time model ``log T = m(x) + sigma * Z`` is fitted on the
    interval-censored labels of ``talentml.labels.ramp_up`` / ``ramp_up_spine``: the ramp-up
    happened in ``(lower_days, upper_days]``; ``upper_days = inf`` is right-censored (not yet
    productive when observation ended); ``lower_days = 0`` is left-censored. ``predict`` gives
    the median days, :meth:`predict_quantiles` any quantile from the AFT distribution.

    Parameters
    ----------
    distribution : {{"normal", "logistic", "extreme"}}, default "normal"
        Distribution of ``Z`` (XGBoost ``aft_loss_distribution``).
    distribution_scale : float, default 1.0
        ``sigma`` (XGBoost ``aft_loss_distribution_scale``), in log days. It is a fixed
        parameter, not estimated: it sets the spread of :meth:`predict_quantiles`; choose it
        from the spread of log ramp-up times (a cross-validated choice is best).
    {xgb_params}

    Attributes
    ----------
    n_train_ : int
        Rows used by the booster.
    n_unlabeled_ : int
        Rows left out for lack of a ``lower_days``.
    {attributes}

    See Also
    --------
    talentml.labels.ramp_up : The interval-censored labels.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import RampUp
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({{"onboarding_completions_first_30d": rng.poisson(3, 600).astype(float)}})
    >>> days = np.exp(4.5 - 0.1 * X.iloc[:, 0] + 0.3 * rng.normal(size=600))
    >>> y = pd.DataFrame({{"lower_days": np.floor(days / 30) * 30, "upper_days": np.ceil(days / 30) * 30}})
    >>> model = RampUp(distribution_scale=0.3, n_estimators=100, random_state=0).fit(X, y)
    >>> model.predict_quantiles(X.head(2)).columns.tolist()
    [0.1, 0.5, 0.9]
    """

    _MONOTONE_AUTO = RAMP_UP_MONOTONE
    _MARGIN_KIND = "log-days"
    #: What the model predicts, for code that must tell the models apart (never the class name).
    task: ClassVar[str] = "ramp_up"
    #: Prefix of the reason codes (``RU01``, ...).
    reason_prefix: ClassVar[str] = "RU"
    #: What ``predict`` serves: a probability (``"probability"``) or days (``"days"``).
    prediction_kind: ClassVar[str] = "days"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

    def __init__(
        self,
        *,
        distribution: str = "normal",
        distribution_scale: float = 1.0,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        max_depth: int = 4,
        min_child_weight: float = 5.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        colsample_bylevel: float = 1.0,
        colsample_bynode: float = 1.0,
        reg_lambda: float = 1.0,
        reg_alpha: float = 0.0,
        gamma: float = 0.0,
        max_delta_step: float = 0.0,
        max_bin: int = 256,
        max_leaves: int = 0,
        grow_policy: str = "depthwise",
        max_cat_to_onehot: int = 4,
        max_cat_threshold: int = 64,
        tree_method: str = "hist",
        monotone_constraints: str | Mapping[str, int] | None = "auto",
        interaction_constraints: list[list[str]] | None = None,
        early_stopping_rounds: int | None = None,
        validation_fraction: float = 0.1,
        n_jobs: int | None = None,
        random_state: RandomStateLike = 0,
        device: str = "cpu",
        show_progress: bool | None = None,
        xgb_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.distribution = distribution
        self.distribution_scale = distribution_scale
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.colsample_bylevel = colsample_bylevel
        self.colsample_bynode = colsample_bynode
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.gamma = gamma
        self.max_delta_step = max_delta_step
        self.max_bin = max_bin
        self.max_leaves = max_leaves
        self.grow_policy = grow_policy
        self.max_cat_to_onehot = max_cat_to_onehot
        self.max_cat_threshold = max_cat_threshold
        self.tree_method = tree_method
        self.monotone_constraints = monotone_constraints
        self.interaction_constraints = interaction_constraints
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.device = device
        self.show_progress = show_progress
        self.xgb_params = xgb_params

    def _bounds(self, X: Any, y: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lower, upper, usable rows) from a label frame, an (n, 2) array or 1-D times."""
        if y is None:
            raise ValueError(MSG_Y_NONE.format(name=type(self).__name__))
        index = y.index if isinstance(y, (pd.DataFrame, pd.Series)) else None
        if isinstance(y, pd.DataFrame) and {"lower_days", "upper_days"} <= set(y.columns):
            check_alignment(X, y, n, what="ramp_up")
            lower = pd.to_numeric(y["lower_days"], errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            upper = pd.to_numeric(y["upper_days"], errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            usable = ~np.isnan(lower)
            if (~usable).any():
                logger.info(
                    "RampUp: %d of %d rows have no lower_days and are left out",
                    int((~usable).sum()),
                    len(lower),
                )
            source = "y (ramp_up label frame)"
        elif isinstance(y, pd.DataFrame):
            raise ValueError(
                "y is a DataFrame without 'lower_days'/'upper_days': pass the frame of "
                f"talentml.labels.ramp_up, an (n, 2) array of bounds or 1-D days; got columns "
                f"{list(y.columns)[:10]}"
            )
        else:
            arr = np.asarray(y, dtype=np.float64)
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = column_or_1d(arr, warn=True)
            if arr.ndim == 1:
                lower = upper = arr
                source = "y"
                if np.isnan(arr).any():
                    raise ValueError(
                        f"Input y contains NaN in rows {fmt_rows(index, np.isnan(arr))}"
                    )
                if np.isinf(arr).any():
                    raise ValueError(
                        f"Input y contains infinity in rows {fmt_rows(index, np.isinf(arr))}; "
                        "pass (lower, upper) bounds for censored rows"
                    )
            elif arr.ndim == 2 and arr.shape[1] == 2:
                lower, upper = arr[:, 0], arr[:, 1]
                source = "y bounds"
                if np.isnan(lower).any():
                    raise ValueError(
                        f"{source}: lower bound is NaN in rows {fmt_rows(index, np.isnan(lower))}"
                    )
            else:
                raise ValueError(
                    f"y must be the ramp-up label frame, an (n, 2) array or 1-D days; got shape "
                    f"{arr.shape}"
                )
            usable = np.ones(len(lower), dtype=bool)
        if len(lower) != n:
            raise ValueError(f"y has {len(lower)} rows but X has {n}")
        checks = [
            (usable & np.isnan(upper), "upper bound is missing (use inf for right-censored)"),
            (usable & (lower < 0), "lower bound is negative"),
            (usable & (upper < lower), "upper bound is below the lower bound"),
            (usable & (upper <= 0), "upper bound is not positive"),
            (usable & np.isinf(lower), "lower bound is infinite"),
        ]
        for bad, what in checks:
            if bad.any():
                raise ValueError(f"{source}: {what} in rows {fmt_rows(index, bad)}")
        return lower, upper, usable

    def fit(self, X: Any, y: Any, *, sample_weight: Any = None) -> RampUp:
        """Fit the AFT booster on interval-censored days to productivity.

        Parameters
        ----------
        X : pandas.DataFrame
            Features at ``hire + k days`` (``talentml.labels.ramp_up_spine`` rows).
        y : pandas.DataFrame or array-like
            The frame of ``talentml.labels.ramp_up`` (``lower_days``, ``upper_days``; rows
            without ``lower_days`` are left out), an (n, 2) array of bounds, or 1-D exact days.
        sample_weight : array-like, optional
            Non-negative row weights.

        Returns
        -------
        RampUp
            The fitted model.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import RampUp
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=300)})
        >>> bounds = np.column_stack([np.full(300, 30.0), np.where(X["a"] > 0, 60.0, np.inf)])
        >>> RampUp(n_estimators=20, random_state=0).fit(X, bounds).margin_kind_
        'log-days'
        """
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"distribution must be one of {DISTRIBUTIONS}, got {self.distribution!r}"
            )
        if not self.distribution_scale > 0:
            raise ValueError(f"distribution_scale must be > 0, got {self.distribution_scale!r}")
        frame = self._check_X(X, reset=True)
        lower, upper, usable = self._bounds(X, y, len(frame))
        weight = None
        if sample_weight is not None:
            weight = _check_sample_weight(
                sample_weight, np.empty((len(frame), 1)), ensure_non_negative=True
            ).astype(np.float64)
        if not usable.all():
            frame, lower, upper = frame[usable], lower[usable], upper[usable]
            weight = weight[usable] if weight is not None else None
        if len(frame) == 0:
            raise ValueError("y has no usable row (every lower_days is missing)")
        seed, rng = seed_from(self.random_state)
        groups = self._groups(X)
        valid = None
        if self.early_stopping_rounds:
            valid = holdout_mask(
                len(frame),
                fraction=self.validation_fraction,
                rng=rng,
                groups=groups[usable] if groups is not None else None,
            )
        mid = np.where(np.isfinite(upper), (lower + upper) / 2.0, lower)
        booster, meta = self._train(
            frame,
            objective="survival:aft",
            seed=seed,
            lower=lower,
            upper=upper,
            weight=weight,
            valid=valid,
            extra={
                "eval_metric": "aft-nloglik",
                "aft_loss_distribution": self.distribution,
                "aft_loss_distribution_scale": float(self.distribution_scale),
            },
            desc="RampUp",
            base_margin_hint=finite_log_mean(mid),
        )
        self._finish_fit(frame, booster, meta)
        self.n_train_ = int(len(frame) - (valid.sum() if valid is not None else 0))
        self.n_unlabeled_ = int((~usable).sum())
        return self

    def _log_days(self, X: Any) -> tuple[np.ndarray, pd.Index]:
        check_is_fitted(self)
        frame = self._check_X(X, reset=False)
        return self._margin(self.booster_, frame), frame.index

    def predict(self, X: Any) -> np.ndarray:
        """Median days to productivity.

        Parameters
        ----------
        X : pandas.DataFrame
            Features with the columns seen at fit.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            ``exp(margin + sigma * z_0.5)``: the AFT median.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import RampUp
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=300)})
        >>> days = np.exp(4 + 0.5 * X["a"])
        >>> model = RampUp(n_estimators=100, distribution_scale=0.1, random_state=0).fit(X, days)
        >>> bool(np.median(np.abs(model.predict(X) / days - 1)) < 0.1)
        True
        """
        margin, _ = self._log_days(X)
        return self.prediction_from_margin(margin)

    def prediction_from_margin(self, margin: Any) -> np.ndarray:
        """What :meth:`predict` serves for booster margins: the median days.

        For code that computes the booster's margin itself (serving's fast path on a few
        rows); ``predict(X)`` is ``prediction_from_margin(margin of X)``.

        Parameters
        ----------
        margin : array-like of shape (n_samples,)
            The booster's output margin (log days).

        Returns
        -------
        numpy.ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np
        >>> from talentml.models import RampUp
        >>> model = RampUp(distribution="normal", distribution_scale=0.5)
        >>> model.prediction_from_margin([np.log(30.0)]).round(6).tolist()
        [30.0]
        """
        z = float(aft_z(self.distribution, np.array([0.5]))[0])
        return np.exp(np.asarray(margin, dtype=np.float64) + float(self.distribution_scale) * z)

    def predict_quantiles(
        self, X: Any, quantiles: Iterable[float] = (0.1, 0.5, 0.9)
    ) -> pd.DataFrame:
        """Quantiles of the days to productivity from the AFT distribution.

        Parameters
        ----------
        X : pandas.DataFrame
            Features with the columns seen at fit.
        quantiles : iterable of float, default (0.1, 0.5, 0.9)
            Probabilities in (0, 1).

        Returns
        -------
        pandas.DataFrame
            One column per quantile (``exp(margin + sigma * z_q)``), index aligned with ``X``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import RampUp
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=300)})
        >>> model = RampUp(n_estimators=20, random_state=0).fit(X, np.exp(4 + X["a"]))
        >>> q = model.predict_quantiles(X.head(3), quantiles=[0.25, 0.75])
        >>> bool((q[0.25] < q[0.75]).all())
        True
        """
        q = np.asarray(list(quantiles), dtype=np.float64)
        if q.ndim != 1 or len(q) == 0 or np.any((q <= 0) | (q >= 1)):
            raise ValueError(f"quantiles must be probabilities in (0, 1), got {quantiles!r}")
        margin, _ = self._log_days(X)
        z = aft_z(self.distribution, q)
        out = np.exp(margin[:, None] + self.distribution_scale * z[None, :])
        index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(margin))
        return pd.DataFrame(out, index=index, columns=q.tolist())


RampUp.__doc__ = RampUp.__doc__.format(xgb_params=XGB_PARAMS_DOC, attributes=SHARED_ATTRIBUTES_DOC)
