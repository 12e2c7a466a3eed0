"""FlightRisk: calibrated probability of a voluntary exit within the horizon, plus a Cox view."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._validation import RandomStateLike
from ._base import fmt_rows
from ._classifier import _CalibratedClassifier
from ._params import CLASSIFIER_XGB_PARAMS_DOC, SHARED_ATTRIBUTES_DOC
from ._survival import breslow, cumulative_hazard

__all__ = ["FLIGHT_RISK_MONOTONE", "FlightRisk"]

logger = logging.getLogger(__name__)

#: Days per month used by :meth:`FlightRisk.predict_exit_probability`.
DAYS_PER_MONTH = 365.25 / 12

#: The monotone map of ``monotone_constraints="auto"`` (sign of the effect on exit risk).
#: Each entry is justified in ``docs/models.md``; everything else is unconstrained (notably
#: ``rating_latest``, whose relation to voluntary turnover is curvilinear, and tenure).
FLIGHT_RISK_MONOTONE: Mapping[str, int] = {
    "team_voluntary_exits_182d": 1,
    "team_voluntary_exits_365d": 1,
    "manager_changes_365d": 1,
    "days_since_promotion": 1,
    "mandatory_days_overdue": 1,
}


class FlightRisk(_CalibratedClassifier):
    """Calibrated probability of a voluntary exit within the horizon, with a survival view.

    The classifier is an XGBoost ``binary:logistic`` booster trained on the rows with a label
    (censored rows are left out, counted and logged), then calibrated on a held-out fraction
    of *employees* the booster never saw (isotonic by default). With ``survival=True`` and a
    label frame holding ``duration_days`` and ``event``, a second booster (``survival:cox``)
    is trained on every row with a duration, censored ones included, and Breslow's baseline
    hazard turns it into exit probabilities at any time (:meth:`predict_survival`).

    Tenure is an input, so every probability is conditional on the employee's tenure at
    ``as_of``; ``conditional_after`` further conditions on staying ``s`` more days.

    Parameters
    ----------
    horizon : str, default "180D"
        The label horizon the model is trained for (documentation and persistence; the labels
        come from ``talentml.labels.flight_risk(..., horizon=...)``).
    calibration : {{"isotonic", "sigmoid"}} or None, default "isotonic"
        Calibrator fitted on the held-out employees; None keeps the booster's probabilities
        and trains on all rows.
    calibration_fraction : float, default 0.2
        Fraction of employees (rows without ``employee_id``) held out for calibration.
    calibration_cv : int, "auto" or None, default "auto"
        Cross-fitted calibration: ``k`` boosters, each trained without one of ``k`` folds of
        employees, give every labelled row an out-of-fold margin; the calibrator is fitted on
        all of them and the final booster on every labelled row (``calibration_fraction`` is
        then unused). Costs ``k`` more boosters; worth it on small tables, where holding out
        a fifth of the rows costs the booster more than it gains the calibrator. ``"auto"``:
        5 folds below 20,000 labelled rows or 1,000 employees in the rarer class, a held-out
        ``calibration_fraction`` above (the choice is in ``calibration_cv_``). None: always
        the held-out fraction.
    survival : bool, default True
        Also fit the Cox survival view when ``y`` holds ``duration_days`` and ``event``.
    survival_n_estimators : int, optional
        Trees of the survival booster (default: ``n_estimators``).
    survival_max_rows : int or None, default 300000
        The survival booster and its baseline hazard are fitted on at most this many rows
        with a duration, drawn at random (logged); None: all rows. The Cox fit needs far
        fewer rows than the classifier, and this keeps 1M-row training within budget.
    scale_pos_weight : float, optional
        XGBoost's weight of the positive class (leave None for calibrated probabilities).
    {xgb_params}

    Attributes
    ----------
    classes_ : numpy.ndarray
        The two class labels; ``classes_[1]`` is the event.
    calibrator_ : dict or None
        The calibrator's state (isotonic knots or sigmoid coefficients).
    survival_booster_ : xgboost.Booster or None
        The ``survival:cox`` booster (margin: log hazard ratio), if fitted.
    baseline_times_, baseline_cumulative_hazard_ : numpy.ndarray
        Breslow's baseline cumulative hazard at the distinct event times (days).
    n_train_, n_calibration_, n_unlabeled_ : int
        Rows used by the booster, by the calibrator, and left out for lack of a label.
    max_depth_ : int
        The tree depth used (chosen when ``max_depth="auto"``).
    complexity_ : list of dict
        The search of ``"auto"``: one entry per depth tried (``max_depth``, ``rounds``,
        ``validation_logloss``, ``chosen``); empty when depth and rounds were given.
    calibration_cv_ : int or None
        The folds of cross-fitted calibration used (None: a held-out fraction).
    {attributes}

    See Also
    --------
    HighPotential : The same classifier for promotions.
    talentml.labels.flight_risk : The labels this model is trained on.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> rng = np.random.default_rng(0)
    >>> n = 2_000
    >>> X = pd.DataFrame({{
    ...     "employee_id": [f"E{{i % 500}}" for i in range(n)],
    ...     "tenure_days": rng.uniform(0, 3_000, n),
    ...     "team_voluntary_exits_365d": rng.poisson(1.0, n).astype(float),
    ...     "department": rng.choice(["sales", "it", "ops"], n),
    ... }})
    >>> hazard = 0.002 * np.exp(0.5 * X["team_voluntary_exits_365d"])
    >>> duration = rng.exponential(1 / hazard)
    >>> y = pd.DataFrame({{
    ...     "employee_id": X["employee_id"],
    ...     "label": pd.array(duration <= 180, dtype="Int64"),
    ...     "duration_days": np.minimum(duration, 700.0),
    ...     "event": pd.array(duration <= 700, dtype="Int64"),
    ... }})
    >>> model = FlightRisk(n_estimators=50, random_state=0).fit(X, y)
    >>> model.predict_proba(X).shape
    (2000, 2)
    >>> model.monotone_constraints_
    {{'team_voluntary_exits_365d': 1}}
    >>> model.predict_exit_probability(X.head(2)).columns.tolist()
    ['exit_3m', 'exit_6m', 'exit_12m']
    """

    _MONOTONE_AUTO = FLIGHT_RISK_MONOTONE
    _WHAT = "flight_risk"
    #: What the model predicts, for code that must tell the models apart (never the class name).
    task: ClassVar[str] = "flight_risk"
    #: Prefix of the reason codes (``FR01``, ...).
    reason_prefix: ClassVar[str] = "FR"
    #: What ``predict`` serves: a probability (``"probability"``) or days (``"days"``).
    prediction_kind: ClassVar[str] = "probability"

    def __init__(
        self,
        *,
        horizon: str = "180D",
        n_estimators: int | str = "auto",
        learning_rate: float = 0.05,
        max_depth: int | str = "auto",
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
        scale_pos_weight: float | None = None,
        monotone_constraints: str | Mapping[str, int] | None = "auto",
        interaction_constraints: list[list[str]] | None = None,
        early_stopping_rounds: int | None = None,
        validation_fraction: float = 0.1,
        calibration: str | None = "isotonic",
        calibration_fraction: float = 0.2,
        calibration_cv: int | str | None = "auto",
        survival: bool = True,
        survival_n_estimators: int | None = None,
        survival_max_rows: int | None = 300_000,
        n_jobs: int | None = None,
        random_state: RandomStateLike = 0,
        device: str = "cpu",
        show_progress: bool | None = None,
        xgb_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.horizon = horizon
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
        self.scale_pos_weight = scale_pos_weight
        self.monotone_constraints = monotone_constraints
        self.interaction_constraints = interaction_constraints
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.calibration_cv = calibration_cv
        self.survival = survival
        self.survival_n_estimators = survival_n_estimators
        self.survival_max_rows = survival_max_rows
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.device = device
        self.show_progress = show_progress
        self.xgb_params = xgb_params

    def fit(self, X: Any, y: Any, *, sample_weight: Any = None) -> FlightRisk:
        """Fit the calibrated classifier (and the survival view when ``y`` allows it).

        Parameters
        ----------
        X : pandas.DataFrame
            Feature frame (``talentml.features.build`` output, or any tabular frame).
            ``employee_id``, ``as_of`` and datetime columns are dropped and remembered.
        y : pandas.DataFrame or array-like
            The frame of ``talentml.labels.flight_risk`` (``label``; rows with a missing
            label are left out of the classifier; ``duration_days``/``event`` feed the
            survival view) or 1-D binary labels.
        sample_weight : array-like, optional
            Non-negative row weights.

        Returns
        -------
        FlightRisk
            The fitted model.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> rng = np.random.default_rng(1)
        >>> X = pd.DataFrame({"a": rng.normal(size=400)})
        >>> y = (X["a"] + rng.normal(size=400) > 1).astype(int)
        >>> model = FlightRisk(random_state=0).fit(X, y)
        >>> model.calibration_cv_, model.n_train_, model.n_calibration_  # cross-fitted
        (5, 400, 400)
        >>> [(r["max_depth"], r["chosen"]) for r in model.complexity_]
        [(1, True), (2, False), (4, False), (6, False)]
        """
        frame, label_frame, _, weight, _ = self._fit_classifier(X, y, sample_weight)
        self.survival_booster_ = None
        self.baseline_times_ = np.zeros(0)
        self.baseline_cumulative_hazard_ = np.zeros(0)
        self.n_survival_ = 0
        if (
            self.survival
            and label_frame is not None
            and {"duration_days", "event"} <= set(label_frame.columns)
        ):
            self._fit_survival(frame, label_frame, weight)
        return self

    def _fit_survival(
        self, frame: pd.DataFrame, labels: pd.DataFrame, weight: np.ndarray | None
    ) -> None:
        duration = pd.to_numeric(labels["duration_days"], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        event = labels["event"]
        usable = np.isfinite(duration) & event.notna().to_numpy()
        negative = usable & (duration < 0)
        if negative.any():
            raise ValueError(
                f"y (flight_risk label frame): column 'duration_days' is negative in rows "
                f"{fmt_rows(labels.index, negative)}"
            )
        n_drop = int((~usable).sum())
        if n_drop:
            logger.info(
                "FlightRisk survival view: %d rows without duration_days/event left out", n_drop
            )
        if usable.sum() < 2:
            logger.warning("FlightRisk: too few rows with a duration; no survival view fitted")
            return
        d = np.maximum(duration[usable], 0.5)  # an exit on as_of: half a day
        e = event.to_numpy(dtype=np.float64, na_value=0.0)[usable] > 0
        if not e.any():
            logger.warning("FlightRisk: no event among the durations; no survival view fitted")
            return
        rows = np.flatnonzero(usable)
        if self.survival_max_rows is not None and len(rows) > self.survival_max_rows:
            rng = np.random.RandomState(self._seed)
            keep = np.sort(rng.choice(len(rows), int(self.survival_max_rows), replace=False))
            logger.info(
                "FlightRisk survival view: fitted on %d of %d rows with a duration "
                "(survival_max_rows)",
                len(keep),
                len(rows),
            )
            rows, d, e = rows[keep], d[keep], e[keep]
        sub = frame.iloc[rows]
        w = weight[rows] if weight is not None else None
        booster, meta = self._train(
            sub,
            objective="survival:cox",
            seed=self._seed,
            label=np.where(e, d, -d),
            weight=w,
            extra={"eval_metric": "cox-nloglik"},
            n_estimators=self.survival_n_estimators,
            desc="FlightRisk survival",
        )
        margin = self._margin(booster, sub)
        self.survival_booster_ = booster
        self.survival_margin_kind_ = "log-hazard"
        self.baseline_times_, self.baseline_cumulative_hazard_ = breslow(d, e, margin, w)
        self.n_survival_ = len(rows)
        self.max_observed_days_ = float(d.max())

    # ------------------------------------------------------------------------ survival
    def _check_survival(self) -> None:
        check_is_fitted(self)
        if getattr(self, "survival_booster_", None) is None:
            raise ValueError(
                "this FlightRisk has no survival view: fit it with survival=True and the label "
                "frame of talentml.labels.flight_risk (duration_days, event)"
            )

    def predict_risk(self, X: Any) -> np.ndarray:
        """Relative exit risk: higher means an earlier expected exit.

        The log hazard ratio of the survival view when fitted, otherwise the classifier's
        log-odds.

        Parameters
        ----------
        X : pandas.DataFrame
            Features with the columns seen at fit.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            Risk scores (for ranking and the C-index).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=300)})
        >>> y = (X["a"] + rng.normal(size=300) > 0).astype(int)
        >>> FlightRisk(n_estimators=20, random_state=0).fit(X, y).predict_risk(X).shape
        (300,)
        """
        check_is_fitted(self)
        if getattr(self, "survival_booster_", None) is None:
            return self.decision_function(X)
        frame = self._check_X(X, reset=False)
        return self._margin(self.survival_booster_, frame)

    def predict_survival(
        self,
        X: Any,
        times: Iterable[float] = (91, 182, 365),
        *,
        conditional_after: float | Iterable[float] | None = None,
    ) -> pd.DataFrame:
        """Probability of a voluntary exit by each time (days after ``as_of``).

        ``1 - S(t | x)`` from the Cox booster and Breslow's baseline. With
        ``conditional_after=s`` (a number, or one per row), the probability of an exit by
        ``s + t`` given the employee is still there ``s`` days after ``as_of``:
        ``1 - S(s + t) / S(s)`` (lifelines' semantics). The baseline is flat after the last
        observed event time, so probabilities beyond it are lower bounds (logged).

        Parameters
        ----------
        X : pandas.DataFrame
            Features with the columns seen at fit.
        times : iterable of float, default (91, 182, 365)
            Days after ``as_of`` (after ``conditional_after`` when given).
        conditional_after : float or array-like, optional
            Days already survived after ``as_of``.

        Returns
        -------
        pandas.DataFrame
            One column per time, index aligned with ``X``; values in [0, 1], non-decreasing
            along the columns when ``times`` is increasing.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=600)})
        >>> t = rng.exponential(300 * np.exp(-X["a"]))
        >>> y = pd.DataFrame({"label": (t <= 180).astype(int),
        ...                   "duration_days": np.minimum(t, 600), "event": (t <= 600).astype(int)})
        >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
        >>> p = model.predict_survival(X.head(3), times=[30, 90, 365])
        >>> bool((p.diff(axis=1).iloc[:, 1:] >= 0).all().all())
        True
        """
        self._check_survival()
        frame = self._check_X(X, reset=False)
        times_arr = np.asarray(list(times), dtype=np.float64)
        if times_arr.ndim != 1 or len(times_arr) == 0 or np.any(~np.isfinite(times_arr)):
            raise ValueError(f"times must be a non-empty list of finite days, got {times!r}")
        if np.any(times_arr < 0):
            raise ValueError(f"times must be non-negative days, got {times_arr.tolist()}")
        n = len(frame)
        if conditional_after is None:
            s = np.zeros(n)
        else:
            s = np.broadcast_to(np.asarray(conditional_after, dtype=np.float64), (n,)).copy()
            if np.any(~np.isfinite(s)) or np.any(s < 0):
                raise ValueError("conditional_after must be finite, non-negative days")
        horizon_max = float(np.max(s) + np.max(times_arr))
        if horizon_max > self.max_observed_days_:
            logger.info(
                "FlightRisk.predict_survival: times up to %.0f days exceed the last observed "
                "duration (%.0f days): the baseline hazard is flat beyond it",
                horizon_max,
                self.max_observed_days_,
            )
        risk = np.exp(self._margin(self.survival_booster_, frame))
        h_s = cumulative_hazard(s, self.baseline_times_, self.baseline_cumulative_hazard_)
        knots, hazard = self.baseline_times_, self.baseline_cumulative_hazard_
        out = np.empty((n, len(times_arr)))
        for j, t in enumerate(times_arr):
            h = cumulative_hazard(s + t, knots, hazard) - h_s
            out[:, j] = -np.expm1(-np.maximum(h, 0.0) * risk)
        index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(n)
        columns = [int(t) if float(t).is_integer() else float(t) for t in times_arr]
        return pd.DataFrame(out, index=index, columns=columns)

    def predict_exit_probability(
        self,
        X: Any,
        months: Iterable[int] = (3, 6, 12),
        *,
        conditional_after: float | Iterable[float] | None = None,
    ) -> pd.DataFrame:
        """Probability of a voluntary exit within 3, 6 and 12 months (or ``months``).

        Months are converted at 365.25 / 12 days. Conditional on the tenure at ``as_of``
        (tenure is an input) and, with ``conditional_after``, on staying that many days more.

        Parameters
        ----------
        X : pandas.DataFrame
            Features with the columns seen at fit.
        months : iterable of int, default (3, 6, 12)
            Months after ``as_of``.
        conditional_after : float or array-like, optional
            Days already survived after ``as_of`` (see :meth:`predict_survival`).

        Returns
        -------
        pandas.DataFrame
            Columns ``exit_{m}m``, index aligned with ``X``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=600)})
        >>> t = rng.exponential(300 * np.exp(-X["a"]))
        >>> y = pd.DataFrame({"label": (t <= 180).astype(int),
        ...                   "duration_days": np.minimum(t, 600), "event": (t <= 600).astype(int)})
        >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
        >>> model.predict_exit_probability(X.head(2)).columns.tolist()
        ['exit_3m', 'exit_6m', 'exit_12m']
        """
        months = list(months)
        days = [m * DAYS_PER_MONTH for m in months]
        out = self.predict_survival(X, days, conditional_after=conditional_after)
        out.columns = [f"exit_{m}m" for m in months]
        return out


FlightRisk.__doc__ = FlightRisk.__doc__.format(
    xgb_params=CLASSIFIER_XGB_PARAMS_DOC, attributes=SHARED_ATTRIBUTES_DOC
)
