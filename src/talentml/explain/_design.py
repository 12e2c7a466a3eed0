"""What a model sees: its booster(s), feature names, categories, and a fast design array.

:class:`ModelView` adapts the models :func:`talentml.explain.explain` accepts (the talentml
estimators, an ``xgboost.Booster``, an XGBoost scikit-learn model) to one small interface.
Its :meth:`ModelView.design_array` encodes ``X`` exactly as the model's ``design_matrix``
does (same column order, categoricals as the codes of the levels fixed at fit, a level unseen
at fit as missing), as a dense float array, without building a ``DMatrix``: a single
employee is encoded in well under a millisecond.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from .._compat import import_shap
from .._validation import ID_COLUMNS, check_purpose

logger = logging.getLogger(__name__)

__all__ = ["ID_COLUMNS", "ModelView", "check_not_sensitive", "dense", "import_shap", "model_view"]


def _rows(index: pd.Index, mask: np.ndarray, limit: int = 10) -> str:
    labels = list(index[np.asarray(mask)][:limit])
    more = int(np.sum(mask)) - len(labels)
    return f"{labels}" + (f" and {more} more" if more > 0 else "")


class ModelView:
    """The parts of a fitted model that explanations (and serving's fast path) need.

    Made by :func:`model_view`: the booster, the feature names and categories fixed at fit,
    the margin's kind, the reason-code prefix and the monotone constraints, with
    :meth:`design_array`, the booster's input for a frame without building a ``DMatrix``.

    Parameters
    ----------
    model : object
        The fitted model.
    booster : xgboost.Booster
        Its booster.
    feature_names : list of str
        The booster's input columns, in order.
    categories : mapping
        Levels of each categorical column, as fixed at fit.
    margin_kind : str
        What the margin is (``"margin"``, ``"log-hazard"``, ``"log-days"``).
    prefix : str
        Reason-code prefix.
    monotone : mapping
        Monotone constraint of each constrained column.
    device : str, default "cpu"
        XGBoost device.
    talentml : bool, default False
        Whether the model is a talentml estimator.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.explain import model_view
    >>> from talentml.models import FlightRisk
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    >>> model = FlightRisk(n_estimators=10, random_state=0).fit(X, (X["a"] > 0).astype(int))
    >>> view = model_view(model)
    >>> view.feature_names, view.prefix, view.design_array(X).shape
    (['a', 'b'], 'FR', (200, 2))
    """

    def __init__(
        self,
        *,
        model: Any,
        booster: xgb.Booster,
        feature_names: list[str],
        categories: Mapping[str, list],
        margin_kind: str,
        prefix: str,
        monotone: Mapping[str, int],
        device: str,
        talentml: bool,
    ) -> None:
        self.model = model
        self.booster = booster
        self.feature_names = feature_names
        self.categories = dict(categories)
        self.margin_kind = margin_kind
        self.prefix = prefix
        self.monotone = dict(monotone)
        self.device = device
        self.talentml = talentml
        self._numeric = np.asarray(
            [j for j, c in enumerate(feature_names) if c not in self.categories], dtype=np.int64
        )
        self._level_index = {
            col: {level: i for i, level in enumerate(levels)}
            for col, levels in self.categories.items()
        }

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def check_frame(self, X: Any, *, table: str = "X") -> pd.DataFrame:
        """Raise unless ``X`` is a DataFrame holding every model column."""
        if not isinstance(X, pd.DataFrame):
            if hasattr(X, "to_pandas") and not isinstance(X, np.ndarray):
                X = X.to_pandas()
            else:
                raise TypeError(
                    f"{table} must be a pandas DataFrame with the model's columns, got "
                    f"{type(X).__name__}"
                )
        if not all(isinstance(c, str) for c in X.columns):
            X = X.set_axis([str(c) for c in X.columns], axis=1)
        missing = [c for c in self.feature_names if c not in X.columns]
        if missing:
            raise ValueError(
                f"{table} lacks {len(missing)} model column(s): {missing[:10]}"
                + (" ..." if len(missing) > 10 else "")
            )
        return X

    def design_array(self, X: pd.DataFrame, *, table: str = "X") -> np.ndarray:
        """The booster's input for ``X``: (n, p) float64, NaN missing, categorical codes."""
        if getattr(self, "raw_categoricals", None):
            return dense(self.dmatrix(X))
        n = len(X)
        out = np.empty((n, self.n_features), dtype=np.float64)
        numeric = [c for c in self.feature_names if c not in self.categories]
        if numeric:
            frame = X[numeric]
            for col, dtype in frame.dtypes.items():
                if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
                    continue  # the common case, checked without pandas' type machinery
                if (
                    isinstance(dtype, pd.CategoricalDtype)
                    or pd.api.types.is_object_dtype(dtype)
                    or pd.api.types.is_string_dtype(dtype)
                    or pd.api.types.is_bool_dtype(dtype)
                ):
                    raise ValueError(
                        f"{table}: column {col!r} was numeric at fit but is {dtype} now"
                    )
            block = frame.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = np.isinf(block)
            if bad.any():
                j = int(np.flatnonzero(bad.any(axis=0))[0])
                raise ValueError(
                    f"{table}: column {numeric[j]!r} holds infinite values in rows "
                    f"{_rows(X.index, bad[:, j])}; use NaN for unknown values."
                )
            out[:, self._numeric] = block
        unknown: dict[str, int] = {}
        for j, col in enumerate(self.feature_names):
            if col in self.categories:
                out[:, j], k = self._codes(X[col], col)
                if k:
                    unknown[col] = k
        if unknown:
            logger.info(
                "explain: category levels unseen at fit treated as missing: %s",
                ", ".join(f"{c}={k}" for c, k in unknown.items()),
            )
        return out

    def _codes(self, values: pd.Series, col: str) -> tuple[np.ndarray, int]:
        index = self._level_index[col]
        dtype = values.dtype
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
            source = values.astype(object)
            keys = source.to_numpy()
            mapped = [index.get(v, -1) if not pd.isna(v) else -2 for v in keys]
        else:
            notna = values.notna().to_numpy()
            keys = values.to_numpy(dtype=object)
            mapped = [
                index.get(str(v), -1) if ok else -2 for v, ok in zip(keys, notna, strict=True)
            ]
        codes = np.asarray(mapped, dtype=np.float64)
        n_unknown = int(np.sum(codes == -1))
        codes[codes < 0] = np.nan
        return codes, n_unknown

    def dmatrix(self, X: pd.DataFrame) -> xgb.DMatrix:
        """The model's own design matrix for ``X`` (authoritative, slower)."""
        if self.talentml:
            ids = [c for c in self.model.id_columns_ if c in X.columns]
            return self.model.design_matrix(X[[*ids, *self.feature_names]])
        frame = X[self.feature_names]
        return xgb.DMatrix(frame, enable_categorical=True)


def dense(dmatrix: xgb.DMatrix) -> np.ndarray:
    """A DMatrix's values as a dense float64 array (absent entries are missing)."""
    csr = dmatrix.get_data()
    out = np.full((dmatrix.num_row(), dmatrix.num_col()), np.nan, dtype=np.float64)
    rows = np.repeat(np.arange(dmatrix.num_row()), np.diff(csr.indptr))
    out[rows, csr.indices] = csr.data
    return out


def check_not_sensitive(columns: list[str]) -> None:
    """Raise :class:`~talentml.exceptions.PurposeLimitationError` for a sensitive column."""
    check_purpose(
        columns,
        table="the model",
        message="protected attributes may not be model inputs, and talentml never explains a "
        "score with them (purpose limitation)",
    )


def model_view(model: Any, *, booster: str = "main") -> ModelView:
    """Adapt ``model`` (talentml estimator, ``xgboost.Booster`` or XGBoost sklearn model).

    Parameters
    ----------
    model : object
        A fitted talentml estimator, an ``xgboost.Booster`` or an XGBoost scikit-learn model.
    booster : {"main", "survival"}, default "main"
        Which booster of a talentml model (``"survival"``: FlightRisk's survival view).

    Returns
    -------
    ModelView

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.explain import model_view
    >>> from talentml.models import RampUp
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=200)})
    >>> model = RampUp(n_estimators=10, random_state=0).fit(X, np.exp(3 + X["a"]))
    >>> view = model_view(model)
    >>> view.prefix, view.margin_kind
    ('RU', 'log-days')
    """
    from sklearn.utils.validation import check_is_fitted

    if booster not in ("main", "survival"):
        raise ValueError(f"booster must be 'main' or 'survival', got {booster!r}")
    name = type(model).__name__
    prefix = getattr(type(model), "reason_prefix", None)
    if hasattr(model, "design_matrix") and hasattr(model, "booster_") or prefix is not None:
        check_is_fitted(model)
        if not hasattr(model, "feature_names_in_"):
            raise ValueError(
                f"{name} was fitted on an array without column names; explanations need the "
                "DataFrame the model was fitted on (reason codes are named after its columns)"
            )
        if booster == "survival":
            b = getattr(model, "survival_booster_", None)
            if b is None:
                raise ValueError(
                    f"{name} has no survival view (survival_booster_); fit FlightRisk with "
                    "survival=True and the flight_risk label frame, or use booster='main'"
                )
            kind = getattr(model, "survival_margin_kind_", "log-hazard")
        else:
            b = model.booster_
            kind = getattr(model, "margin_kind_", "margin")
        return ModelView(
            model=model,
            booster=b,
            feature_names=[str(c) for c in model.feature_names_in_],
            categories=getattr(model, "categories_", {}) or {},
            margin_kind=kind,
            prefix=prefix or "M",
            monotone=getattr(model, "monotone_constraints_", {}) or {},
            device=str(getattr(model, "device", "cpu") or "cpu"),
            talentml=True,
        )
    if booster == "survival":
        raise ValueError("booster='survival' needs a talentml FlightRisk with a survival view")
    if isinstance(model, xgb.Booster):
        b = model
    elif hasattr(model, "get_booster"):
        b = model.get_booster()
    else:
        raise TypeError(
            "model must be a fitted talentml estimator (FlightRisk, HighPotential, RampUp), an "
            f"xgboost.Booster or an XGBoost scikit-learn model, got {name}"
        )
    names = b.feature_names
    if names is None:
        raise ValueError(
            "the booster has no feature names; train it on a DataFrame so that reasons can "
            "name its columns"
        )
    check_not_sensitive(list(names))
    types = b.feature_types or ["float"] * len(names)
    cats = {n: None for n, t in zip(names, types, strict=True) if t == "c"}
    view = ModelView(
        model=model,
        booster=b,
        feature_names=list(names),
        categories={},
        margin_kind="margin",
        prefix="M",
        monotone={},
        device="cpu",
        talentml=False,
    )
    view.raw_categoricals = list(cats)
    return view
