"""The calibrated binary classifier shared by FlightRisk and HighPotential."""

from __future__ import annotations

import logging
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d

from ._base import (
    MSG_NOT_BINARY,
    MSG_ONE_CLASS,
    MSG_Y_NONE,
    _XGBModel,
    fmt_rows,
    fold_ids,
    holdout_mask,
    seed_from,
)
from ._calibration import METHODS, apply_calibrator, fit_calibrator

logger = logging.getLogger(__name__)

#: Probabilities are clipped to [EPS, 1 - EPS] before the log-odds of ``decision_function``.
EPS = 1e-12

#: ``max_depth="auto"``: the depths tried, from an additive model (stumps) to six levels of
#: interactions; the one with the lowest validation log loss is kept.
AUTO_DEPTHS = (1, 2, 4, 6)
#: ``n_estimators="auto"``: early stopping picks the rounds, up to this many.
AUTO_MAX_ROUNDS = 2_000
#: Rounds without improvement of the validation log loss before the search stops a depth.
AUTO_PATIENCE = 50
#: Share of the employees held out to choose depth and rounds (the final booster is refit
#: on every training row with ``AUTO_REFIT`` times the rounds found, as it sees more rows).
AUTO_VALIDATION = 0.2
AUTO_REFIT = 1.1
#: The search runs on at most this many rows (whole employees, drawn at random).
AUTO_SEARCH_ROWS = 100_000
#: Below this many labelled rows there is nothing to choose with: depth 2, 100 rounds.
AUTO_MIN_ROWS = 200
#: ``calibration_cv="auto"``: cross-fitted calibration (5 folds) below this many labelled
#: rows, so that a small table does not lose a fifth of its rows to the calibrator.
AUTO_CROSS_FIT_BELOW = 20_000
#: ... and whenever the rarer class holds fewer than this many employees (rows without
#: groups): a held-out fifth would calibrate on fewer than 200 independent events, and the
#: mean probability then follows the draw (measured on the simulator: a 20,600-row spine whose
#: 1,266 exit rows are about 210 employees held out some 40 and calibrated 0.010 low).
AUTO_CROSS_FIT_MIN_EVENTS = 1_000


def _rare_events(target: np.ndarray, groups: np.ndarray | None) -> int:
    """Independent events of the rarer class: its employees when rows are grouped."""
    if len(target) == 0:
        return 0
    counts = []
    for value in (0.0, 1.0):
        hit = target == value
        counts.append(len(pd.unique(groups[hit])) if groups is not None else int(hit.sum()))
    return min(counts)


def _is_auto(value: Any) -> bool:
    return isinstance(value, str) and value == "auto"


def check_alignment(X: Any, y: pd.DataFrame, n: int, *, what: str) -> None:
    """Raise if a label frame and ``X`` are not the same rows (by length, then by keys)."""
    if len(y) != n:
        raise ValueError(
            f"y ({what} label frame) has {len(y)} rows but X has {n}: they must be the "
            "same spine rows, in the same order"
        )
    if isinstance(X, pd.DataFrame):
        for key in ("employee_id", "as_of"):
            if key in X.columns and key in y.columns:
                a = X[key].to_numpy()
                b = y[key].to_numpy()
                differ = ~((a == b) | (pd.isna(a) & pd.isna(b)))
                if differ.any():
                    raise ValueError(
                        f"y ({what} label frame) and X disagree on {key!r} in rows "
                        f"{fmt_rows(X.index, differ)}: align them on the spine first"
                    )


class _CalibratedClassifier(ClassifierMixin, _XGBModel):
    """A binary XGBoost classifier whose probabilities are calibrated on held-out employees."""

    _OBJECTIVE = "binary:logistic"
    _WHAT = "classifier"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    # ------------------------------------------------------------------------- labels
    def _labels(self, X: Any, y: Any, n: int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame | None]:
        """(y values, mask of usable rows, the label frame if one was given)."""
        if y is None:
            raise ValueError(MSG_Y_NONE.format(name=type(self).__name__))
        if isinstance(y, pd.DataFrame):
            if "label" not in y.columns:
                raise ValueError(
                    "y is a DataFrame without a 'label' column: pass the frame of "
                    "talentml.labels (label, censored, ...) or a 1-D array of labels; got "
                    f"columns {list(y.columns)[:10]}"
                )
            check_alignment(X, y, n, what=self._WHAT)
            label = y["label"]
            usable = label.notna().to_numpy()
            n_drop = int((~usable).sum())
            if n_drop:
                reasons = (
                    y.loc[~usable, "censored"].fillna("missing").value_counts().to_dict()
                    if "censored" in y.columns
                    else {"missing": n_drop}
                )
                logger.info(
                    "%s: %d of %d rows have no label (censored) and are left out of the "
                    "classifier: %s",
                    type(self).__name__,
                    n_drop,
                    len(y),
                    reasons,
                )
            values = label.to_numpy(dtype=object)
            values = np.where(usable, values, 0)
            values = np.asarray(values.tolist())
            return values, usable, y
        values = column_or_1d(y, warn=True)
        if len(values) != n:
            raise ValueError(f"y has {len(values)} rows but X has {n}")
        if pd.api.types.is_float_dtype(values.dtype) or values.dtype == object:
            with np.errstate(invalid="ignore"):
                missing = pd.isna(values)
                inf = np.zeros(len(values), dtype=bool)
                if values.dtype.kind == "f":
                    inf = np.isinf(values)
            index = y.index if isinstance(y, pd.Series) else None
            if missing.any():
                raise ValueError(
                    f"Input y contains NaN in rows {fmt_rows(index, missing)}; pass the label "
                    "frame of talentml.labels to leave censored rows out, or drop them."
                )
            if inf.any():
                raise ValueError(f"Input y contains infinity in rows {fmt_rows(index, inf)}.")
        return values, np.ones(len(values), dtype=bool), None

    def _encode(self, values: np.ndarray) -> np.ndarray:
        check_classification_targets(values)
        kind = type_of_target(values, input_name="y", raise_unknown=True)
        if kind != "binary":
            raise ValueError(MSG_NOT_BINARY.format(kind=kind))
        classes = np.unique(values)
        if len(classes) < 2:
            raise ValueError(MSG_ONE_CLASS.format(name=type(self).__name__, value=classes[0]))
        self.classes_ = classes
        return (values == classes[1]).astype(np.float64)

    # ---------------------------------------------------------------------------- fit
    def _fit_classifier(
        self, X: Any, y: Any, sample_weight: Any
    ) -> tuple[pd.DataFrame, pd.DataFrame | None, np.ndarray, np.ndarray, np.random.RandomState]:
        frame_all = self._check_X(X, reset=True)
        values, usable, label_frame = self._labels(X, y, len(frame_all))
        weight_all = None
        if sample_weight is not None:
            weight_all = _check_sample_weight(
                sample_weight, np.empty((len(frame_all), 1)), ensure_non_negative=True
            ).astype(np.float64)
        frame = frame_all[usable] if not usable.all() else frame_all
        target = self._encode(values[usable])
        weight = weight_all[usable] if weight_all is not None else None
        if weight is not None and not np.any(weight > 0):
            raise ValueError("Sample weights must contain at least one non-zero number.")
        groups_all = self._groups(X)
        groups = groups_all[usable] if groups_all is not None else None
        seed, rng = seed_from(self.random_state)
        self._seed = seed

        calibration = self.calibration
        if calibration is not None and calibration not in METHODS:
            raise ValueError(f"calibration must be one of {METHODS} or None, got {calibration!r}")
        n = len(frame)
        calib = np.zeros(n, dtype=bool)
        cv = self.calibration_cv
        if _is_auto(cv):
            small = n < AUTO_CROSS_FIT_BELOW or _rare_events(target, groups) < (
                AUTO_CROSS_FIT_MIN_EVENTS
            )
            cv = 5 if calibration is not None and small else None
        elif cv is not None and (isinstance(cv, bool) or not isinstance(cv, Integral) or cv < 2):
            raise ValueError(f"calibration_cv must be None, 'auto' or an integer >= 2, got {cv!r}")
        self.calibration_cv_ = cv
        self._choose_complexity(frame, target, weight, groups, rng, seed)
        if calibration is not None and cv is not None:
            oof = self._cross_fit_margin(frame, target, weight, groups, rng, seed, int(cv))
            self.calibrator_ = fit_calibrator(calibration, oof, target, weight)
        elif calibration is not None:
            calib = holdout_mask(
                n, fraction=self.calibration_fraction, rng=rng, groups=groups, stratify=target
            )
            if len(np.unique(target[calib])) < 2 or (~calib).sum() < 1:
                logger.warning(
                    "%s: the calibration split (%d rows) does not hold both classes; "
                    "calibration is skipped and probabilities are the booster's own",
                    type(self).__name__,
                    int(calib.sum()),
                )
                calib[:] = False
                calibration = None
        fit_rows = ~calib
        valid = None
        if self.early_stopping_rounds and not self._rounds_chosen:
            sub_groups = groups[fit_rows] if groups is not None else None
            valid = holdout_mask(
                int(fit_rows.sum()),
                fraction=self.validation_fraction,
                rng=rng,
                groups=sub_groups,
                stratify=target[fit_rows],
            )
        train_frame = frame[fit_rows] if calib.any() else frame
        booster, meta = self._train(
            train_frame,
            objective=self._OBJECTIVE,
            seed=seed,
            label=target[fit_rows],
            weight=weight[fit_rows] if weight is not None else None,
            valid=valid,
            extra={"eval_metric": "logloss"},
            desc=f"{type(self).__name__} classifier",
        )
        self._finish_fit(train_frame, booster, meta)
        if calibration is None:
            self.calibrator_ = None
        elif cv is None:
            margin = self._margin(booster, frame[calib])
            self.calibrator_ = fit_calibrator(
                calibration, margin, target[calib], weight[calib] if weight is not None else None
            )
        self.n_train_ = int(fit_rows.sum())
        self.n_calibration_ = n if calibration is not None and cv is not None else int(calib.sum())
        self.n_unlabeled_ = int((~usable).sum())
        logger.info(
            "%s: booster on %d rows, calibration (%s) on %d %s rows, %d unlabeled rows left out",
            type(self).__name__,
            self.n_train_,
            calibration,
            self.n_calibration_,
            "held-out" if cv is None else f"out-of-fold ({cv} folds)",
            self.n_unlabeled_,
        )
        return frame_all, label_frame, usable, weight_all, rng

    def _choose_complexity(
        self,
        frame: pd.DataFrame,
        target: np.ndarray,
        weight: np.ndarray | None,
        groups: np.ndarray | None,
        rng: np.random.RandomState,
        seed: int,
    ) -> None:
        """Resolve ``max_depth="auto"`` and ``n_estimators="auto"`` on held-out employees.

        Sets ``max_depth_``, ``complexity_`` (one row per depth tried: ``max_depth``,
        ``rounds``, ``validation_logloss``, ``chosen``) and the resolved values the boosters
        are trained with.
        """
        depth_auto, rounds_auto = _is_auto(self.max_depth), _is_auto(self.n_estimators)
        self._resolved = {}
        self._rounds_chosen = False
        self.complexity_ = []
        for name, value, auto in (
            ("max_depth", self.max_depth, depth_auto),
            ("n_estimators", self.n_estimators, rounds_auto),
        ):
            low = 0 if name == "max_depth" else 1
            if not auto and (
                isinstance(value, bool) or not isinstance(value, Integral) or value < low
            ):
                raise ValueError(f"{name} must be 'auto' or an integer >= {low}, got {value!r}")
        if not depth_auto and not rounds_auto:
            self.max_depth_ = int(self.max_depth)
            return
        n = len(frame)
        if n < AUTO_MIN_ROWS or len(np.unique(target)) < 2:
            depth = 2 if depth_auto else int(self.max_depth)
            rounds = 100 if rounds_auto else int(self.n_estimators)
            self._resolved = {"max_depth": depth, "n_estimators": rounds}
            self.max_depth_ = depth
            logger.info(
                "%s: %d labelled rows are too few to choose the complexity: depth %d, %d rounds",
                type(self).__name__,
                n,
                depth,
                rounds,
            )
            return
        rows = np.arange(n)
        if n > AUTO_SEARCH_ROWS:
            keep = holdout_mask(
                n, fraction=AUTO_SEARCH_ROWS / n, rng=rng, groups=groups, stratify=target
            )
            rows = np.flatnonzero(keep)
        sub_groups = groups[rows] if groups is not None else None
        valid = holdout_mask(
            len(rows), fraction=AUTO_VALIDATION, rng=rng, groups=sub_groups, stratify=target[rows]
        )
        if len(np.unique(target[rows][valid])) < 2 or len(np.unique(target[rows][~valid])) < 2:
            valid = holdout_mask(
                len(rows), fraction=AUTO_VALIDATION, rng=rng, groups=None, stratify=target[rows]
            )
        depths = AUTO_DEPTHS if depth_auto else (int(self.max_depth),)
        cap = AUTO_MAX_ROUNDS if rounds_auto else int(self.n_estimators)
        search = frame.iloc[rows]
        y_valid = target[rows][valid]
        results, losses = [], []
        for depth in depths:
            self._resolved = {"max_depth": depth}
            booster, meta = self._train(
                search,
                objective=self._OBJECTIVE,
                seed=seed,
                label=target[rows],
                weight=weight[rows] if weight is not None else None,
                valid=valid,
                extra={"eval_metric": "logloss"},
                n_estimators=cap,
                early_stopping_rounds=AUTO_PATIENCE,
                desc=f"{type(self).__name__} depth {depth}",
            )
            p = np.clip(expit(self._margin(booster, search[valid])), 1e-15, 1 - 1e-15)
            losses.append(-(y_valid * np.log(p) + (1 - y_valid) * np.log1p(-p)))
            results.append(
                {
                    "max_depth": depth,
                    "rounds": int(meta["best_iteration"]) + 1,
                    "validation_logloss": float(losses[-1].mean()),
                }
            )
        # the lowest loss, unless a shallower depth is within one standard error of it (the
        # standard error of the row-by-row difference of the two losses: the same rows)
        i_min = int(np.argmin([r["validation_logloss"] for r in results]))
        chosen = i_min
        for i in range(i_min):
            diff = losses[i] - losses[i_min]
            if diff.mean() <= diff.std(ddof=1) / np.sqrt(len(diff)):
                chosen = i
                break
        best = results[chosen]
        depth = best["max_depth"] if depth_auto else int(self.max_depth)
        rounds = (
            max(1, int(round(best["rounds"] * AUTO_REFIT)))
            if rounds_auto
            else int(self.n_estimators)
        )
        for r in results:
            r["chosen"] = r is best
        self.complexity_ = results
        self._resolved = {"max_depth": depth, "n_estimators": rounds}
        self._rounds_chosen = rounds_auto
        self.max_depth_ = depth
        logger.info(
            "%s: depth %d and %d rounds chosen on %d held-out rows (validation log loss %s)",
            type(self).__name__,
            depth,
            rounds,
            int(valid.sum()),
            {r["max_depth"]: round(r["validation_logloss"], 5) for r in results},
        )

    def _cross_fit_margin(
        self,
        frame: pd.DataFrame,
        target: np.ndarray,
        weight: np.ndarray | None,
        groups: np.ndarray | None,
        rng: np.random.RandomState,
        seed: int,
        k: int,
    ) -> np.ndarray:
        """Out-of-fold margins of ``k`` boosters, each trained without one fold of employees."""
        folds = fold_ids(len(frame), k=k, rng=rng, groups=groups, stratify=target)
        oof = np.empty(len(frame), dtype=np.float64)
        for j in range(k):
            held = folds == j
            if len(np.unique(target[~held])) < 2:
                raise ValueError(
                    f"calibration_cv={k}: the rows outside fold {j} hold one class only; "
                    "use fewer folds or calibration_cv=None"
                )
            rest = ~held
            valid = None
            if self.early_stopping_rounds and not self._rounds_chosen:
                valid = holdout_mask(
                    int(rest.sum()),
                    fraction=self.validation_fraction,
                    rng=rng,
                    groups=groups[rest] if groups is not None else None,
                    stratify=target[rest],
                )
            booster, _ = self._train(
                frame[rest],
                objective=self._OBJECTIVE,
                seed=seed + j + 1,
                label=target[rest],
                weight=weight[rest] if weight is not None else None,
                valid=valid,
                extra={"eval_metric": "logloss"},
                desc=f"{type(self).__name__} calibration fold {j + 1}/{k}",
            )
            oof[held] = self._margin(booster, frame[held])
        logger.info(
            "%s: calibration on the out-of-fold margins of %d boosters (%d rows)",
            type(self).__name__,
            k,
            len(frame),
        )
        return oof

    # ------------------------------------------------------------------------ predict
    def _proba1(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        frame = self._check_X(X, reset=False)
        return self.prediction_from_margin(self._margin(self.booster_, frame))

    def prediction_from_margin(self, margin: Any) -> np.ndarray:
        """What the model serves for booster margins: the calibrated probability of class 1.

        For code that computes the booster's margin itself (serving's fast path on a few
        rows); ``predict_proba(X)[:, 1]`` is ``prediction_from_margin(margin of X)``.

        Parameters
        ----------
        margin : array-like of shape (n_samples,)
            The booster's output margin (log-odds).

        Returns
        -------
        numpy.ndarray of shape (n_samples,)

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=300)})
        >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, (X["a"] > 0).astype(int))
        >>> p = model.prediction_from_margin(model.booster_.predict(
        ...     model.design_matrix(X), output_margin=True))
        >>> bool(np.allclose(p, model.predict_proba(X)[:, 1]))
        True
        """
        return apply_calibrator(
            getattr(self, "calibrator_", None), np.asarray(margin, dtype=np.float64)
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated class probabilities.

        Parameters
        ----------
        X : pandas.DataFrame
            Features with the columns seen at fit.

        Returns
        -------
        numpy.ndarray of shape (n_samples, 2)
            ``P(classes_[0])`` and ``P(classes_[1])`` (the event) per row.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=300)})
        >>> y = (X["a"] + rng.normal(size=300) > 0).astype(int)
        >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, y)
        >>> model.predict_proba(X).shape
        (300, 2)
        """
        p = self._proba1(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class: ``classes_[1]`` where the calibrated probability exceeds 0.5.

        Parameters
        ----------
        X : pandas.DataFrame
            Features with the columns seen at fit.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            Labels from ``classes_``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=300)})
        >>> y = (X["a"] > 0).astype(int)
        >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, y)
        >>> float((model.predict(X) == y).mean()) > 0.9
        True
        """
        p = self._proba1(X)
        return self.classes_[(p > 0.5).astype(int)]

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of the calibrated probability (the booster margin when uncalibrated).

        ``decision_function(X) > 0`` exactly where :meth:`predict` returns ``classes_[1]``.
        The booster's raw margin is ``booster_.predict(design_matrix(X), output_margin=True)``.

        Parameters
        ----------
        X : pandas.DataFrame
            Features with the columns seen at fit.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            Log-odds of the event.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=300)})
        >>> y = (X["a"] + rng.normal(size=300) > 0).astype(int)
        >>> model = FlightRisk(n_estimators=20, calibration=None, random_state=0).fit(X, y)
        >>> margin = model.booster_.predict(model.design_matrix(X), output_margin=True)
        >>> bool(np.allclose(model.decision_function(X), margin, atol=1e-5))
        True
        """
        check_is_fitted(self)
        frame = self._check_X(X, reset=False)
        margin = self._margin(self.booster_, frame)
        if self.calibrator_ is None:
            return margin
        p = apply_calibrator(self.calibrator_, margin)
        return logit(np.clip(p, EPS, 1.0 - EPS))
