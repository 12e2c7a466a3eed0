"""HighPotential: calibrated probability of a promotion (or designation) within the horizon."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .._validation import RandomStateLike
from ._classifier import _CalibratedClassifier
from ._params import CLASSIFIER_XGB_PARAMS_DOC, SHARED_ATTRIBUTES_DOC

__all__ = ["HIGH_POTENTIAL_MONOTONE", "HighPotential"]

#: The monotone map of ``monotone_constraints="auto"`` (sign of the effect on the probability
#: of a promotion). Justified in ``docs/models.md``; everything else is unconstrained (notably
#: tenure and days since the last promotion, whose effects are not monotone).
HIGH_POTENTIAL_MONOTONE: Mapping[str, int] = {
    "rating_latest": 1,
    "potential_latest": 1,
    "goal_attainment_latest": 1,
    "competency_mean": 1,
    "agility_standard_30d": 1,
    "agility_standard_90d": 1,
    "agility_standard_365d": 1,
}


class HighPotential(_CalibratedClassifier):
    """Calibrated probability of a promotion (the high-potential label) within the horizon.

    The same machinery as :class:`FlightRisk` without the survival view: an XGBoost
    ``binary:logistic`` booster on the labeled rows of ``talentml.labels.high_potential``
    (rows censored by an exit or an unobserved horizon are left out, counted and logged),
    calibrated on held-out employees. Its probability is the model half of the potential axis
    of :func:`nine_box`.

    Parameters
    ----------
    horizon : str, default "365D"
        The label horizon the model is trained for (documentation and persistence).
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
    scale_pos_weight : float, optional
        XGBoost's weight of the positive class (leave None for calibrated probabilities).
    {xgb_params}

    Attributes
    ----------
    classes_ : numpy.ndarray
        The two class labels; ``classes_[1]`` is the event.
    calibrator_ : dict or None
        The calibrator's state (isotonic knots or sigmoid coefficients).
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
    nine_box : Performance x potential grid with personas.
    talentml.labels.high_potential : The labels this model is trained on.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import HighPotential
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({{"rating_latest": rng.integers(1, 6, 800).astype(float),
    ...                   "tenure_days": rng.uniform(0, 3_000, 800)}})
    >>> y = (rng.random(800) < 0.05 * X["rating_latest"]).astype(int)
    >>> model = HighPotential(n_estimators=30, random_state=0).fit(X, y)
    >>> model.monotone_constraints_
    {{'rating_latest': 1}}
    >>> p = model.predict_proba(X)[:, 1]
    >>> bool(p[X["rating_latest"] == 5].mean() > p[X["rating_latest"] == 1].mean())
    True
    """

    _MONOTONE_AUTO = HIGH_POTENTIAL_MONOTONE
    _WHAT = "high_potential"
    #: What the model predicts, for code that must tell the models apart (never the class name).
    task: ClassVar[str] = "high_potential"
    #: Prefix of the reason codes (``HP01``, ...).
    reason_prefix: ClassVar[str] = "HP"
    #: What ``predict`` serves: a probability (``"probability"``) or days (``"days"``).
    prediction_kind: ClassVar[str] = "probability"

    def __init__(
        self,
        *,
        horizon: str = "365D",
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
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.device = device
        self.show_progress = show_progress
        self.xgb_params = xgb_params

    def fit(self, X: Any, y: Any, *, sample_weight: Any = None) -> HighPotential:
        """Fit the calibrated classifier.

        Parameters
        ----------
        X : pandas.DataFrame
            Feature frame (``talentml.features.build`` output, or any tabular frame).
            ``employee_id``, ``as_of`` and datetime columns are dropped and remembered.
        y : pandas.DataFrame or array-like
            The frame of ``talentml.labels.high_potential`` (``label``; rows with a missing
            label are left out) or 1-D binary labels.
        sample_weight : array-like, optional
            Non-negative row weights.

        Returns
        -------
        HighPotential
            The fitted model.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import HighPotential
        >>> rng = np.random.default_rng(1)
        >>> X = pd.DataFrame({"a": rng.normal(size=400)})
        >>> y = pd.DataFrame({"label": pd.array([1, 0, None, 0] * 100, dtype="Int64")})
        >>> HighPotential(n_estimators=10, random_state=0).fit(X, y).n_unlabeled_
        100
        """
        self._fit_classifier(X, y, sample_weight)
        return self


HighPotential.__doc__ = HighPotential.__doc__.format(
    xgb_params=CLASSIFIER_XGB_PARAMS_DOC, attributes=SHARED_ATTRIBUTES_DOC
)
