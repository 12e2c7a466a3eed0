"""The shared machinery of the talentml estimators: input checks, design matrix, XGBoost training.

Every estimator of :mod:`talentml.models` is a thin layer over :class:`_XGBModel`:

* **Inputs.** ``X`` is a DataFrame (a numeric 2-D array also works, as scikit-learn expects;
  its columns are then called ``x0``, ``x1``, ...). Identifier columns (``employee_id``,
  ``as_of``) and every datetime column are *not* model inputs: they are dropped and
  remembered (``id_columns_``); ``employee_id`` groups the held-out splits. Object, string,
  boolean and category columns become pandas categoricals whose levels are fixed at ``fit``
  (``categories_``); a level unseen at fit is *missing* at predict time (counted and logged).
  Numeric columns become ``float32``/``float64``; infinities are rejected with the column and
  rows named. A column of the ``sensitive`` contract, or one listed in
  :data:`SENSITIVE_COLUMNS`, raises :class:`~talentml.exceptions.PurposeLimitationError`.
* **Training.** ``xgboost.train`` with ``tree_method="hist"`` and native categorical support;
  every XGBoost knob is a parameter; ``monotone_constraints="auto"`` uses the model's small,
  documented map (``docs/models.md``), restricted to the numeric columns present.
* **Splits.** Held-out rows (calibration, early stopping) are drawn by *employee* when
  ``employee_id`` is present, so no employee is on both sides.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_array, check_is_fitted
from tqdm.auto import tqdm

from .._validation import (  # one rule, one place: re-exported for the estimators
    ID_COLUMNS,
    LABEL_COLUMNS,
    PROTECTED_NAMES,
    SENSITIVE_COLUMNS,
    check_purpose,
    check_random_state,
    normalize_name,
    sensitive_names,
)
from ..config import show_progress as _show_progress

__all__ = [
    "ID_COLUMNS",
    "LABEL_COLUMNS",
    "PROTECTED_NAMES",
    "SENSITIVE_COLUMNS",
    "check_purpose",
    "normalize_name",
    "sensitive_names",
]

logger = logging.getLogger(__name__)

MSG_Y_NONE = "{name} requires y to be passed, but the target y is None."
MSG_NOT_BINARY = "Only binary classification is supported. The type of the target is {kind}."
MSG_ONE_CLASS = "{name} can't train when only one class is present in y (class {value!r})."
MSG_FEATURE_NAMES = "The feature names should match those that were passed during fit.\n"
MSG_N_FEATURES = "X has {n} features, but {name} is expecting {expected} features as input."


def _rows(index: pd.Index, mask: np.ndarray, limit: int = 10) -> str:
    labels = list(index[np.asarray(mask)][:limit])
    more = int(np.sum(mask)) - len(labels)
    return f"{labels}" + (f" and {more} more" if more > 0 else "")


def _is_categorical_dtype(dtype: object) -> bool:
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def _is_datetime_dtype(dtype: object) -> bool:
    return (
        isinstance(dtype, pd.DatetimeTZDtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
    )


def _levels(values: pd.Series) -> list[str]:
    """Category levels of a column at fit (as strings): the dtype's categories, in order, or
    the sorted distinct values."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories]
    if pd.api.types.is_bool_dtype(values.dtype):
        return ["False", "True"]
    return sorted(pd.unique(values.dropna().astype(str)))


#: The one category of a column that had no value at fit (XGBoost cannot take a categorical
#: column without categories); no value ever takes it, so the column is all missing.
NO_LEVEL = "<no value at fit>"


def _to_categorical(values: pd.Series, levels: list) -> tuple[pd.Series, int]:
    """Code a column with the fit levels; unseen levels become missing (returned count)."""
    present = values.notna().to_numpy()
    source = values.astype(object).to_numpy()
    strings = np.empty(len(source), dtype=object)
    strings[present] = [str(v) for v in source[present]]
    codes = np.full(len(source), -1, dtype=np.int64)
    categories = pd.Index(list(levels) if len(levels) else [NO_LEVEL], dtype=object)
    if len(levels):
        codes[present] = categories.get_indexer(strings[present])
    unknown = int(np.sum((codes < 0) & present))
    cat = pd.Categorical.from_codes(codes, categories=categories)
    return pd.Series(cat, index=values.index, name=values.name), unknown


def resolve_n_jobs(n_jobs: int | None) -> int | None:
    """XGBoost ``nthread`` from scikit-learn's ``n_jobs`` (None: XGBoost's default)."""
    if n_jobs is None:
        return None
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, a positive int or -1")
    return int(n_jobs)


def seed_from(random_state: Any) -> tuple[int, np.random.RandomState]:
    """An XGBoost seed and a NumPy generator, both drawn from ``random_state``."""
    rng = check_random_state(random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    return seed, np.random.RandomState(seed)


def holdout_mask(
    n: int,
    *,
    fraction: float,
    rng: np.random.RandomState,
    groups: np.ndarray | None,
    stratify: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask of held-out rows: whole groups (employees) when ``groups`` is given.

    Without groups, the draw is stratified by ``stratify`` (so both classes appear on both
    sides when possible).
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"a held-out fraction must be in (0, 1), got {fraction!r}")
    mask = np.zeros(n, dtype=bool)
    if groups is not None:
        codes, uniques = pd.factorize(pd.Series(groups), sort=True)
        k = len(uniques)
        if k >= 2:
            n_out = min(k - 1, max(1, int(round(fraction * k))))
            chosen = np.zeros(k, dtype=bool)
            chosen[rng.permutation(k)[:n_out]] = True
            return chosen[codes]
    if stratify is None:
        stratify = np.zeros(n, dtype=np.int8)
    for value in np.unique(stratify):
        idx = np.flatnonzero(stratify == value)
        n_out = int(round(fraction * len(idx)))
        if len(idx) >= 2:
            n_out = min(len(idx) - 1, max(1, n_out))
        else:
            n_out = 0
        mask[rng.permutation(idx)[:n_out]] = True
    return mask


def fold_ids(
    n: int,
    *,
    k: int,
    rng: np.random.RandomState,
    groups: np.ndarray | None,
    stratify: np.ndarray | None = None,
) -> np.ndarray:
    """Fold of each row (``0 .. k-1``): whole groups (employees) when ``groups`` is given.

    Groups are dealt to the folds at random, in turn; without groups the rows of each class
    of ``stratify`` are, so every fold holds both classes when possible.
    """
    if k < 2:
        raise ValueError(f"a cross-fitting needs at least 2 folds, got {k!r}")
    folds = np.empty(n, dtype=np.int64)
    if groups is not None:
        codes, uniques = pd.factorize(pd.Series(groups), sort=True)
        if len(uniques) < k:
            raise ValueError(
                f"calibration_cv={k} needs at least {k} employees, the labelled rows hold "
                f"{len(uniques)}"
            )
        dealt = np.empty(len(uniques), dtype=np.int64)
        dealt[rng.permutation(len(uniques))] = np.arange(len(uniques)) % k
        return dealt[codes]
    if stratify is None:
        stratify = np.zeros(n, dtype=np.int8)
    offset = 0
    for value in np.unique(stratify):
        idx = np.flatnonzero(stratify == value)
        folds[rng.permutation(idx)] = (np.arange(len(idx)) + offset) % k
        offset += len(idx)
    return folds


class _ProgressCallback(xgb.callback.TrainingCallback):
    """A tqdm bar over boosting rounds."""

    def __init__(self, total: int, desc: str, disable: bool) -> None:
        super().__init__()
        self._bar = tqdm(total=total, desc=desc, unit="tree", disable=disable, leave=False)

    def after_iteration(self, model, epoch, evals_log) -> bool:
        self._bar.update(1)
        return False

    def after_training(self, model):
        self._bar.close()
        return model


#: The XGBoost knobs every estimator exposes, with their defaults (shared by all models).
XGB_PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "max_depth": 4,
    "min_child_weight": 5.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "colsample_bylevel": 1.0,
    "colsample_bynode": 1.0,
    "reg_lambda": 1.0,
    "reg_alpha": 0.0,
    "gamma": 0.0,
    "max_delta_step": 0.0,
    "max_bin": 256,
    "max_leaves": 0,
    "grow_policy": "depthwise",
    "max_cat_to_onehot": 4,
    "max_cat_threshold": 64,
    "tree_method": "hist",
}

_XGB_NAMES = {
    "learning_rate": "eta",
    "reg_lambda": "lambda",
    "reg_alpha": "alpha",
}


class _XGBModel(BaseEstimator):
    """Base of the talentml estimators (not public: use the subclasses)."""

    #: Name -> sign (+1 increasing, -1 decreasing) of the monotone map of ``"auto"``.
    _MONOTONE_AUTO: Mapping[str, int] = {}
    #: The kind of margin the main booster outputs.
    _MARGIN_KIND = "log-odds"

    # ----------------------------------------------------------------------------- tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags

    # ------------------------------------------------------------------------- inputs
    def _xgb_params(self, objective: str, *, seed: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": objective,
            "seed": seed,
            "verbosity": 1,
            "device": self.device,
        }
        resolved = getattr(self, "_resolved", {})
        for name in XGB_PARAMS:
            if name == "n_estimators":
                continue
            value = resolved.get(name, getattr(self, name))
            params[_XGB_NAMES.get(name, name)] = value
        nthread = resolve_n_jobs(self.n_jobs)
        if nthread is not None:
            params["nthread"] = nthread
        spw = getattr(self, "scale_pos_weight", None)
        if spw is not None and objective.startswith("binary"):
            params["scale_pos_weight"] = spw
        if self.interaction_constraints is not None:
            params["interaction_constraints"] = self.interaction_constraints
        for key, value in dict(self.xgb_params or {}).items():
            params[key] = value
        return params

    def _check_X(self, X: Any, *, reset: bool, table: str = "X") -> pd.DataFrame:
        """Validate ``X`` and return the model-input frame (categoricals coded as at fit)."""
        name = type(self).__name__
        if isinstance(X, pd.Series):
            raise ValueError(
                f"{table} must be 2-D (a DataFrame), got a Series {X.name!r}; use "
                "X.to_frame() for a single feature."
            )
        if isinstance(X, pd.DataFrame):
            return self._check_frame(X, reset=reset, table=table)
        if hasattr(X, "to_pandas") and not isinstance(X, np.ndarray):
            return self._check_frame(X.to_pandas(), reset=reset, table=table)
        arr = check_array(
            X,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
            ensure_2d=True,
            ensure_min_samples=1,
            estimator=self,
            input_name=table,
        )
        if reset:
            self.id_columns_ = []
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            self.n_features_in_ = arr.shape[1]
            self.categories_ = {}
            self._names = [f"x{i}" for i in range(arr.shape[1])]
        else:
            check_is_fitted(self)
            if arr.shape[1] != self.n_features_in_:
                raise ValueError(
                    MSG_N_FEATURES.format(n=arr.shape[1], name=name, expected=self.n_features_in_)
                )
            if getattr(self, "categories_", None):
                raise ValueError(
                    f"{name} was fitted on a DataFrame with categorical columns "
                    f"{sorted(self.categories_)}; pass a DataFrame to predict."
                )
            if hasattr(self, "feature_names_in_"):
                warnings.warn(
                    f"X does not have valid feature names, but {name} was fitted with "
                    "feature names",
                    UserWarning,
                    stacklevel=3,
                )
        return pd.DataFrame(arr, columns=list(self._names), copy=False)

    def _check_frame(self, X: pd.DataFrame, *, reset: bool, table: str) -> pd.DataFrame:
        name = type(self).__name__
        if not all(isinstance(c, str) for c in X.columns):
            X = X.set_axis([str(c) for c in X.columns], axis=1)
        cols = list(X.columns)
        if len(set(cols)) != len(cols):
            dupes = sorted({str(c) for c in cols if list(map(str, cols)).count(str(c)) > 1})
            raise ValueError(f"{table} has duplicated column names {dupes}")
        ids = [c for c in cols if c in ID_COLUMNS or _is_datetime_dtype(X[c].dtype)]
        if reset:
            check_purpose(cols, table=table)
            leaks = [c for c in cols if c in LABEL_COLUMNS]
            if leaks:
                raise ValueError(
                    f"{table} holds label column(s) {leaks}: pass labels as y, never inside X "
                    "(leakage)."
                )
            features = [c for c in cols if c not in ids]
            if not features:
                raise ValueError(
                    f"{table} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                    f"required (identifier/datetime columns {ids} are not model inputs)."
                )
            if len(X) == 0:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is "
                    "required."
                )
            self.id_columns_ = ids
            self.feature_names_in_ = np.asarray(features, dtype=object)
            self.n_features_in_ = len(features)
            self._names = list(features)
            categories: dict[str, list] = {}
            for col in features:
                dtype = X[col].dtype
                if _is_categorical_dtype(dtype):
                    categories[col] = _levels(X[col])
                    if not categories[col]:
                        logger.warning(
                            "%s: column %r has no value in the training rows (every value is "
                            "missing): it carries no information",
                            table,
                            col,
                        )
                elif pd.api.types.is_complex_dtype(dtype):
                    raise ValueError(f"{table}: column {col!r} holds complex numbers")
                elif not pd.api.types.is_numeric_dtype(dtype):
                    raise ValueError(
                        f"{table}: column {col!r} has dtype {dtype}, which is neither numeric "
                        "nor categorical; convert it first."
                    )
            self.categories_ = categories
        else:
            check_is_fitted(self)
            features = [c for c in cols if c not in ids and c not in self.id_columns_]
            expected = getattr(self, "feature_names_in_", None)
            if expected is None:
                if len(features) != self.n_features_in_:
                    raise ValueError(
                        MSG_N_FEATURES.format(
                            n=len(features), name=name, expected=self.n_features_in_
                        )
                    )
                warnings.warn(
                    f"X has feature names, but {name} was fitted without feature names",
                    UserWarning,
                    stacklevel=3,
                )
                X = X[features].set_axis(self._names, axis=1)
                features = list(self._names)
            else:
                expected = list(expected)
                if features != expected:
                    self._raise_names(features, expected)
        out: dict[str, pd.Series] = {}
        n_unknown = {}
        for col in self._names:
            values = X[col]
            if col in self.categories_:
                coded, unknown = _to_categorical(values, self.categories_[col])
                if unknown:
                    n_unknown[col] = unknown
                out[col] = coded
                continue
            if _is_categorical_dtype(values.dtype):
                raise ValueError(
                    f"{table}: column {col!r} was numeric at fit but is {values.dtype} now"
                )
            numeric = values
            if not isinstance(values.dtype, np.dtype) or values.dtype.kind not in "fiu":
                numeric = values.astype("float64")
            arr = numeric.to_numpy()
            if arr.dtype.kind in "iu":
                arr = arr.astype(np.float64)
            if arr.dtype == np.float16:
                arr = arr.astype(np.float32)
            bad = np.isinf(arr)
            if bad.any():
                raise ValueError(
                    f"{table}: column {col!r} holds infinite values in rows "
                    f"{_rows(X.index, bad)}; use NaN for unknown values."
                )
            out[col] = pd.Series(arr, index=X.index, name=col)
        if n_unknown:
            logger.info(
                "%s: category levels unseen at fit treated as missing: %s",
                name,
                ", ".join(f"{c}={k}" for c, k in n_unknown.items()),
            )
        frame = pd.DataFrame(out, index=X.index)
        return frame

    def _raise_names(self, features: list, expected: list) -> None:
        unseen = [c for c in features if c not in expected]
        missing = [c for c in expected if c not in features]
        message = MSG_FEATURE_NAMES
        if unseen:
            message += "Feature names unseen at fit time:\n"
            message += "".join(f"- {c}\n" for c in unseen[:5])
            if len(unseen) > 5:
                message += "- ...\n"
        if missing:
            message += "Feature names seen at fit time, yet now missing:\n"
            message += "".join(f"- {c}\n" for c in sorted(missing)[:5])
            if len(missing) > 5:
                message += "- ...\n"
        if not unseen and not missing:
            message += "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(message)

    def _groups(self, X: Any) -> np.ndarray | None:
        if isinstance(X, pd.DataFrame) and "employee_id" in X.columns:
            return X["employee_id"].astype("string").fillna("<NA>").to_numpy(dtype=object)
        return None

    # ------------------------------------------------------------------- constraints
    def _monotone(self, frame: pd.DataFrame) -> dict[str, int]:
        spec = self.monotone_constraints
        numeric = [c for c in frame.columns if c not in self.categories_]
        if spec is None:
            return {}
        if isinstance(spec, str):
            if spec != "auto":
                raise ValueError(
                    f"monotone_constraints must be 'auto', a dict or None, got {spec!r}"
                )
            return {c: int(s) for c, s in self._MONOTONE_AUTO.items() if c in numeric}
        if not isinstance(spec, Mapping):
            raise ValueError(
                "monotone_constraints must be 'auto', a dict {column: -1/0/1} or None, got "
                f"{type(spec).__name__}"
            )
        out = {}
        for col, sign in spec.items():
            if col not in frame.columns:
                raise ValueError(
                    f"monotone_constraints names column {col!r}, which is not a feature of X"
                )
            if col in self.categories_:
                raise ValueError(
                    f"monotone_constraints: column {col!r} is categorical; only numeric "
                    "columns can be monotone"
                )
            if sign not in (-1, 0, 1):
                raise ValueError(f"monotone_constraints[{col!r}] must be -1, 0 or 1, got {sign!r}")
            if sign:
                out[col] = int(sign)
        return out

    # ------------------------------------------------------------------------ training
    def _dmatrix(self, frame: pd.DataFrame, **kwargs) -> xgb.DMatrix:
        return xgb.DMatrix(
            frame, enable_categorical=True, nthread=resolve_n_jobs(self.n_jobs) or -1, **kwargs
        )

    def _train(
        self,
        frame: pd.DataFrame,
        *,
        objective: str,
        seed: int,
        label: np.ndarray | None = None,
        weight: np.ndarray | None = None,
        lower: np.ndarray | None = None,
        upper: np.ndarray | None = None,
        valid: np.ndarray | None = None,
        extra: Mapping[str, Any] | None = None,
        n_estimators: int | None = None,
        desc: str = "boosting",
        base_margin_hint: float | None = None,
        early_stopping_rounds: int | None = None,
    ) -> tuple[xgb.Booster, dict[str, Any]]:
        """Train one booster on ``frame`` (rows in ``valid`` kept aside for early stopping)."""
        params = self._xgb_params(objective, seed=seed)
        monotone = self._monotone(frame)
        if monotone:
            params["monotone_constraints"] = (
                "(" + ",".join(str(monotone.get(c, 0)) for c in frame.columns) + ")"
            )
        if base_margin_hint is not None and "base_score" not in (self.xgb_params or {}):
            params["base_score"] = base_margin_hint
        params.update(extra or {})
        if n_estimators is None:
            n_estimators = getattr(self, "_resolved", {}).get("n_estimators", self.n_estimators)
        n_rounds = int(n_estimators)
        if n_rounds < 1:
            raise ValueError(f"n_estimators must be >= 1, got {n_rounds}")

        def info(rows: np.ndarray | slice) -> dict[str, Any]:
            out: dict[str, Any] = {}
            if label is not None:
                out["label"] = label[rows]
            if weight is not None:
                out["weight"] = weight[rows]
            if lower is not None:
                out["label_lower_bound"] = lower[rows]
                out["label_upper_bound"] = upper[rows]
            return out

        nthread = resolve_n_jobs(self.n_jobs) or -1
        rounds = (
            self.early_stopping_rounds if early_stopping_rounds is None else early_stopping_rounds
        )
        if valid is not None and valid.any() and rounds:
            fit_rows = ~valid
            dtrain = xgb.QuantileDMatrix(
                frame[fit_rows],
                enable_categorical=True,
                max_bin=self.max_bin,
                nthread=nthread,
                **info(fit_rows),
            )
            dvalid = xgb.QuantileDMatrix(
                frame[valid], enable_categorical=True, ref=dtrain, nthread=nthread, **info(valid)
            )
            evals = [(dvalid, "validation")]
        else:
            dtrain = xgb.QuantileDMatrix(
                frame,
                enable_categorical=True,
                max_bin=self.max_bin,
                nthread=nthread,
                **info(slice(None)),
            )
            evals = []
            rounds = None
        callbacks = [_ProgressCallback(n_rounds, desc, disable=not self._progress())]
        booster = xgb.train(
            params,
            dtrain,
            num_boost_round=n_rounds,
            evals=evals,
            early_stopping_rounds=rounds,
            verbose_eval=False,
            callbacks=callbacks,
        )
        meta: dict[str, Any] = {"monotone_constraints": monotone, "n_rounds": n_rounds}
        if rounds:
            best = int(booster.best_iteration)
            meta["best_score"] = float(booster.best_score)
            booster = booster[: best + 1]
            meta["best_iteration"] = best
            logger.info("%s: early stopping kept %d of %d trees", desc, best + 1, n_rounds)
        return booster, meta

    def _progress(self) -> bool:
        return _show_progress() if self.show_progress is None else bool(self.show_progress)

    # ------------------------------------------------------------------------ outputs
    def design_matrix(self, X: pd.DataFrame) -> xgb.DMatrix:
        """Return the exact matrix the booster sees for ``X``.

        Same column order as at fit, categoricals coded with the fit levels (a level unseen
        at fit is missing), identifier and datetime columns dropped.

        Parameters
        ----------
        X : pandas.DataFrame
            Features, with the columns seen at fit (identifier columns may be present).

        Returns
        -------
        xgboost.DMatrix
            The design matrix, with ``feature_names`` and ``feature_types`` set.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=200), "team": rng.choice(["x", "y"], 200)})
        >>> y = (X["a"] + rng.normal(size=200) > 0).astype(int)
        >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, y)
        >>> dm = model.design_matrix(X)
        >>> dm.feature_names, dm.feature_types
        (['a', 'team'], ['float', 'c'])
        """
        check_is_fitted(self)
        return self._dmatrix(self._check_X(X, reset=False))

    def _margin(self, booster: xgb.Booster, frame: pd.DataFrame) -> np.ndarray:
        if len(frame) == 0:
            return np.zeros(0, dtype=np.float64)
        out = booster.inplace_predict(frame, predict_type="margin")
        return np.asarray(out, dtype=np.float64).reshape(-1)

    def _finish_fit(self, frame: pd.DataFrame, booster: xgb.Booster, meta: dict) -> None:
        self.booster_ = booster
        self.feature_types_ = list(booster.feature_types or [])
        self.margin_kind_ = self._MARGIN_KIND
        self.monotone_constraints_ = dict(meta.get("monotone_constraints", {}))
        self.n_estimators_ = int(booster.num_boosted_rounds())
        self.best_iteration_ = meta.get("best_iteration")

    # ---------------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Save the fitted model to a directory, without pickle (see :func:`save_model`).

        Parameters
        ----------
        path : str or os.PathLike
            Directory to create (or overwrite): boosters as UBJ plus ``model.json``.

        Returns
        -------
        pathlib.Path
            The directory.

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk, load_model
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"a": rng.normal(size=200)})
        >>> y = (X["a"] + rng.normal(size=200) > 0).astype(int)
        >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = model.save(d)
        ...     again = load_model(d)
        >>> bool(np.array_equal(again.predict_proba(X), model.predict_proba(X)))
        True
        """
        from ._persist import save_model

        return save_model(self, path)


def as_1d_float(values: Any, *, name: str) -> np.ndarray:
    """A 1-D float array from a Series/array; raises naming ``name`` otherwise."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def fmt_rows(index: pd.Index | None, mask: np.ndarray) -> str:
    """The labels of the rows in ``mask`` (first ten), for error messages."""
    idx = index if index is not None else pd.RangeIndex(len(mask))
    return _rows(idx, mask)


def finite_log_mean(values: np.ndarray) -> float:
    """exp(mean(log(v))) over positive finite values (1.0 if none)."""
    v = values[np.isfinite(values) & (values > 0)]
    if len(v) == 0:
        return 1.0
    return float(math.exp(np.mean(np.log(v))))
