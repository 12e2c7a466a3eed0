"""The training profile: what a model saw in training, stored with it as JSON.

:class:`TrainingProfile` summarizes the training rows of a served model, one entry per model
column, and the distribution of the training scores:

* ``kind`` (``numeric`` or ``categorical``), the training ``dtype`` and, for numbers, whether
  every value was an integer;
* ``min`` and ``max`` (numbers), ``missing_share`` (the share of training rows without a
  value) and ``n`` (rows with a value);
* ``categories``: each level's share of the training rows (category columns);
* ``bins``: the decile edges of the values and each bin's share of the training rows, the
  reference of the population stability index (PSI) of :func:`talentml.serving.drift`;
* ``cdf``: the exact training distribution function at (up to) 101 percentiles, the reference
  of the Kolmogorov-Smirnov statistic;
* ``catalog``: the feature catalog entry of the column (description, unit, family, ...).

No row of data is kept: only counts, shares, percentiles and ranges. The input guard of
:class:`talentml.serving.Scorer` reads the profile on every request (a value missing where
training never was, outside the training range, an unknown category) and
:func:`talentml.serving.drift` compares served traffic with it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import renamed_parameters

__all__ = ["PROFILE_FORMAT", "TrainingProfile"]

logger = logging.getLogger(__name__)

#: Identifier of the on-disk format of a training profile (``profile.json``).
PROFILE_FORMAT = "talentml.profile/1"
#: Percentiles kept for the Kolmogorov-Smirnov reference (0, 1, ..., 100).
CDF_POINTS = 101
#: Quantiles whose values are the PSI bin edges (deciles).
PSI_QUANTILES = tuple(i / 10 for i in range(1, 10))


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def numeric_values(values: pd.Series | np.ndarray) -> np.ndarray:
    """float64 values of a numeric column (NaN missing), for any pandas numeric dtype."""
    if isinstance(values, pd.Series):
        if pd.api.types.is_bool_dtype(values.dtype):
            values = values.astype("float64")
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def numeric_summary(values: np.ndarray) -> dict[str, Any]:
    """min, max, missing share, PSI bins and the CDF grid of float values (NaN missing)."""
    n_all = int(values.size)
    present = values[~np.isnan(values)]
    n = int(present.size)
    out: dict[str, Any] = {
        "n": n,
        "missing_share": (n_all - n) / n_all if n_all else 0.0,
        "min": None,
        "max": None,
        "integer": False,
        "bins": {"edges": [], "shares": [1.0]},
        "cdf": {"values": [], "cdf": []},
    }
    if n == 0:
        return out
    out["min"], out["max"] = _finite(present.min()), _finite(present.max())
    out["integer"] = bool(np.all(np.mod(present, 1) == 0))
    edges = np.unique(np.quantile(present, PSI_QUANTILES))
    counts = np.bincount(np.searchsorted(edges, present, side="left"), minlength=edges.size + 1)
    out["bins"] = {"edges": edges.tolist(), "shares": (counts / n).tolist()}
    grid = np.unique(np.quantile(present, np.linspace(0.0, 1.0, CDF_POINTS)))
    ordered = np.sort(present)
    cdf = np.searchsorted(ordered, grid, side="right") / n
    out["cdf"] = {"values": grid.tolist(), "cdf": cdf.tolist()}
    return out


class TrainingProfile:
    """What a model's training rows looked like, per model column and for the score.

    Made by :meth:`from_frame` (the :class:`~talentml.serving.Scorer` does it from its
    ``reference`` rows), saved as ``profile.json`` with the model, and read by the input
    guard and :func:`~talentml.serving.drift`.

    Parameters
    ----------
    columns : mapping
        ``{column: entry}`` (see the module docstring for the fields of an entry).
    score : mapping, optional
        The same numeric entry for the training scores.
    n_rows : int, default 0
        Training rows profiled.
    task : str, default "probability"
        What the scores are (``probability`` or ``days``).

    Attributes
    ----------
    columns, score, n_rows, task
        As the parameters.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.serving import TrainingProfile
    >>> X = pd.DataFrame({"tenure_days": [100, 400, 900, None],
    ...                   "department": ["Sales", "Sales", "Data", "Data"]})
    >>> profile = TrainingProfile.from_frame(X, categorical={"department": ["Data", "Sales"]})
    >>> profile.table()[["column", "kind", "min", "max", "missing_share"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'column': 'tenure_days', 'kind': 'numeric', 'min': 100.0, 'max': 900.0,
      'missing_share': 0.25},
     {'column': 'department', 'kind': 'categorical', 'min': nan, 'max': nan,
      'missing_share': 0.0}]
    """

    def __init__(
        self,
        columns: Mapping[str, Mapping[str, Any]],
        *,
        score: Mapping[str, Any] | None = None,
        n_rows: int = 0,
        task: str = "probability",
    ) -> None:
        self.columns = {str(k): dict(v) for k, v in columns.items()}
        self.score = dict(score) if score is not None else None
        self.n_rows = int(n_rows)
        self.task = str(task)

    def __repr__(self) -> str:
        return (
            f"TrainingProfile({len(self.columns)} columns, {self.n_rows:,} training rows"
            f"{', score' if self.score else ''})"
        )

    @property
    def complete(self) -> bool:
        """Whether it was made from training rows (not only the model's own categories)."""
        return self.n_rows > 0

    @classmethod
    @renamed_parameters(catalog="feature_catalog")
    def from_frame(
        cls,
        X: pd.DataFrame,
        *,
        features: Sequence[str] | None = None,
        categorical: Mapping[str, Sequence[str]] | None = None,
        scores: Any = None,
        feature_catalog: pd.DataFrame | None = None,
        task: str = "probability",
    ) -> TrainingProfile:
        """Profile the training rows ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            The training rows (the model's columns; others are ignored).
        features : sequence of str, optional
            The model columns (default: every column of ``X`` but ``employee_id`` and
            ``as_of``).
        categorical : mapping, optional
            ``{column: levels}`` of the category columns (the model's levels). A column
            that is not numeric (strings, a pandas category) and is not named here is
            profiled as a category whose levels are the ones it holds.
        scores : array-like, optional
            The model's scores of the rows (profiled as ``score``).
        feature_catalog : pandas.DataFrame, optional
            The feature catalog (a ``name`` column); each column's entry is kept.
        task : str, default "probability"
            What the scores are.

        Returns
        -------
        TrainingProfile
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"TrainingProfile: X must be a pandas DataFrame, got {type(X)}")
        categorical = {str(k): [str(x) for x in v] for k, v in (categorical or {}).items()}
        names = (
            [str(c) for c in features]
            if features is not None
            else [str(c) for c in X.columns if c not in ("employee_id", "as_of")]
        )
        lacking = [c for c in names if c not in X.columns]
        if lacking:
            raise ValueError(f"TrainingProfile: X lacks model column(s) {lacking[:10]}")
        entries = _catalog_entries(feature_catalog, names)
        columns: dict[str, dict[str, Any]] = {}
        n_rows = len(X)
        for col in names:
            s = X[col]
            if col not in categorical and not (
                pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)
            ):
                categorical[col] = sorted({str(v) for v in s.dropna().unique()})
            if col in categorical:
                present = s.notna().to_numpy()
                strings = s[present].astype(str).to_numpy(dtype=object)
                levels, counts = (
                    np.unique(strings, return_counts=True) if len(strings) else ([], [])
                )
                shares = {str(k): int(c) / n_rows for k, c in zip(levels, counts, strict=True)}
                entry: dict[str, Any] = {
                    "kind": "categorical",
                    "dtype": str(s.dtype),
                    "n": int(present.sum()),
                    "missing_share": float(1 - present.mean()) if n_rows else 0.0,
                    "levels": list(categorical[col]),
                    "categories": shares,
                }
            else:
                entry = {"kind": "numeric", "dtype": str(s.dtype)}
                entry.update(numeric_summary(numeric_values(s)))
            if col in entries:
                entry["catalog"] = entries[col]
            columns[col] = entry
        score = None
        if scores is not None:
            score = numeric_summary(np.asarray(scores, dtype=np.float64))
            score["kind"] = "numeric"
        return cls(columns, score=score, n_rows=n_rows, task=task)

    @classmethod
    def from_model(
        cls, features: Sequence[str], categorical: Mapping[str, Sequence[str]]
    ) -> TrainingProfile:
        """A partial profile from the model alone (its columns and category levels): no
        ranges, no missing shares, no score distribution."""
        columns: dict[str, dict[str, Any]] = {}
        for col in features:
            if col in categorical:
                columns[col] = {
                    "kind": "categorical",
                    "levels": [str(x) for x in categorical[col]],
                }
            else:
                columns[col] = {"kind": "numeric"}
        return cls(columns, n_rows=0)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able profile (``profile.json``)."""
        return {
            "format": PROFILE_FORMAT,
            "n_rows": self.n_rows,
            "task": self.task,
            "columns": self.columns,
            "score": self.score,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> TrainingProfile:
        """Rebuild a profile from :meth:`to_dict`."""
        if doc.get("format") != PROFILE_FORMAT:
            raise ValueError(
                f"unknown training profile format {doc.get('format')!r} (this talentml reads "
                f"{PROFILE_FORMAT!r})"
            )
        return cls(
            doc["columns"],
            score=doc.get("score"),
            n_rows=int(doc.get("n_rows", 0)),
            task=str(doc.get("task", "probability")),
        )

    def table(self) -> pd.DataFrame:
        """One row per column: kind, dtype, integer, min, max, missing share, categories,
        description.

        Returns
        -------
        pandas.DataFrame
        """
        rows = []
        for col, e in self.columns.items():
            rows.append(
                {
                    "column": col,
                    "kind": e.get("kind"),
                    "dtype": e.get("dtype"),
                    "integer": bool(e.get("integer", False)),
                    "min": np.nan if e.get("min") is None else float(e["min"]),
                    "max": np.nan if e.get("max") is None else float(e["max"]),
                    "missing_share": float(e.get("missing_share", np.nan)),
                    "n_categories": len(e.get("levels", []))
                    if e.get("kind") == "categorical"
                    else 0,
                    "description": (e.get("catalog") or {}).get("description"),
                }
            )
        return pd.DataFrame(rows)


def _catalog_entries(catalog: pd.DataFrame | None, names: Sequence[str]) -> dict[str, dict]:
    if catalog is None or not isinstance(catalog, pd.DataFrame) or "name" not in catalog:
        return {}
    wanted = set(names)
    out = {}
    for rec in catalog.astype(object).to_dict("records"):
        name = str(rec.get("name"))
        if name not in wanted:
            continue
        out[name] = {str(k): (_json_value(v)) for k, v in rec.items() if k != "name"}
    return out


def _json_value(v: Any) -> Any:
    if isinstance(v, list | tuple | np.ndarray):
        return [_json_value(x) for x in v]
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v)
    return str(v)
