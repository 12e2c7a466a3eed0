"""Sensitive attributes: joined from the ``sensitive`` table only, labelled, banded, intersected.

This is the only place where protected attributes meet the audited rows. They are joined by
``employee_id`` (or aligned by index for tables without one, such as the public HR tables),
turned into string category labels, and kept apart from every feature: a sensitive column in
``X`` or among a model's inputs raises :class:`~talentml.exceptions.PurposeLimitationError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import normalize_name, sensitive_names
from ..exceptions import PurposeLimitationError

__all__ = ["UNKNOWN", "Attribute", "age_band", "check_purpose", "resolve_attributes"]

logger = logging.getLogger(__name__)

#: Label of the unknown category (missing or declined); never part of an impact ratio.
UNKNOWN = "unknown"

#: Values read as an unknown category (compared case-insensitively, after stripping).
UNKNOWN_VALUES: tuple[str, ...] = (
    "",
    "unknown",
    "declined to state",
    "prefer not to say",
    "not disclosed",
    "nan",
    "none",
    "<na>",
)

#: Separator of intersectional labels ("female × Asian").
CROSS = " × "

#: Numeric attributes with more distinct values than this must be banded first.
MAX_NUMERIC_LEVELS = 12

MSG_NO_SENSITIVE = (
    "sensitive must be a DataFrame: the `sensitive` table (employee_id plus protected "
    "attributes) or a frame aligned with X by index; got {kind}"
)
MSG_DUPLICATE_IDS = (
    "sensitive: employee_id must be unique (the `sensitive` contract); duplicated ids in rows "
    "{rows}"
)
MSG_NOT_ALIGNED = (
    "sensitive has no employee_id column (or X has none), so it must be aligned with X by "
    "index, but {problem}"
)
MSG_UNKNOWN_ATTRIBUTE = "sensitive has no column(s) {missing}; its columns are {columns}"
MSG_BAND_FIRST = (
    "sensitive column {name!r} is numeric with {k} distinct values: band it into categories "
    "first, e.g. talentml.fairness.age_band(sensitive[{name!r}])"
)


@dataclass(frozen=True)
class Attribute:
    """One audited attribute: a single column or an intersection of columns.

    Attributes
    ----------
    name : str
        The column name, or the columns joined by ``" × "`` for an intersection.
    parts : tuple of str
        The sensitive columns it is made of.
    values : numpy.ndarray
        One string label per audited row; :data:`UNKNOWN` where any part is unknown.
    """

    name: str
    parts: tuple[str, ...]
    values: np.ndarray

    @property
    def n_unknown(self) -> int:
        """Rows whose category is unknown."""
        return int(np.sum(self.values == UNKNOWN))

    @property
    def categories(self) -> list[str]:
        """Known categories, sorted by label."""
        return sorted({v for v in self.values.tolist() if v != UNKNOWN})


def age_band(
    age: Any,
    *,
    edges: Sequence[float] = (25, 35, 45, 55),
) -> pd.Series:
    """Band ages into the age bands of the ``sensitive`` contract.

    The default edges give ``"under 25"``, ``"25-34"``, ``"35-44"``, ``"45-54"`` and
    ``"55 and over"``; ``edges=(40,)`` gives the ADEA split ``"under 40"`` / ``"40 and over"``.
    Missing ages stay missing (an unknown category in an audit).

    Parameters
    ----------
    age : array-like or pandas.Series
        Ages in years.
    edges : sequence of float, default (25, 35, 45, 55)
        Increasing lower bounds of every band but the first.

    Returns
    -------
    pandas.Series
        String labels (dtype ``string``), with the index of ``age`` when it is a Series.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.fairness import age_band
    >>> age_band(pd.Series([19, 25, 44, 61, None])).tolist()
    ['under 25', '25-34', '35-44', '55 and over', <NA>]
    >>> age_band([39, 40], edges=(40,)).tolist()
    ['under 40', '40 and over']
    """
    series = age if isinstance(age, pd.Series) else pd.Series(np.asarray(age, dtype=float))
    values = pd.to_numeric(series, errors="raise").astype("float64")
    cuts = [float(e) for e in edges]
    if not cuts or any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
        raise ValueError(f"edges must be a non-empty increasing sequence, got {tuple(edges)!r}")

    def _fmt(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else f"{v:g}"

    labels = [f"under {_fmt(cuts[0])}"]
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        labels.append(f"{_fmt(lo)}-{_fmt(hi - 1) if float(hi).is_integer() else _fmt(hi)}")
    labels.append(f"{_fmt(cuts[-1])} and over")
    codes = np.searchsorted(np.asarray(cuts), values.to_numpy(), side="right")
    out = np.asarray(labels, dtype=object)[np.minimum(codes, len(labels) - 1)]
    out = np.where(values.isna().to_numpy(), None, out)
    return pd.Series(out, index=series.index, name=series.name, dtype="string")


def _banned_names(sensitive_columns: Iterable[str]) -> set[str]:
    """The library's sensitive names (:mod:`talentml._validation`) and those of ``sensitive``."""
    names = set(sensitive_names())
    names |= {normalize_name(c) for c in sensitive_columns if str(c) != "employee_id"}
    return names


def check_purpose(
    X: pd.DataFrame | None,
    *,
    sensitive_columns: Iterable[str],
    model_features: Iterable[str] | None = None,
) -> None:
    """Raise if ``X`` or a model's inputs hold a sensitive attribute.

    Sensitive attributes reach the audit only through the ``sensitive`` table: a column of
    the ``sensitive`` contract, of :data:`talentml.models.SENSITIVE_COLUMNS` or of the
    ``sensitive`` table passed to the audit, found in ``X`` or among the model's features,
    is a purpose-limitation breach.
    """
    banned = _banned_names(sensitive_columns)
    if X is not None:
        hits = [str(c) for c in X.columns if normalize_name(c) in banned]
        if hits:
            raise PurposeLimitationError(
                f"X holds sensitive column(s) {hits}: protected attributes come only from the "
                "`sensitive` table passed to talentml.fairness, never from the feature frame. "
                "Drop them from X."
            )
    if model_features is not None:
        hits = [str(c) for c in model_features if normalize_name(c) in banned]
        if hits:
            raise PurposeLimitationError(
                f"the model holds sensitive column(s) {hits} among its features: a protected "
                "attribute may never be a model input (purpose limitation)."
            )


def _labels(values: pd.Series, name: str, unknown_values: set[str]) -> np.ndarray:
    """String labels for one sensitive column; UNKNOWN for missing or declined values."""
    s = values
    if pd.api.types.is_bool_dtype(s.dtype) or (
        s.dtype == object and s.dropna().map(type).isin([bool, np.bool_]).all() and s.notna().any()
    ):
        raw = s.astype("object")
        out = np.array([UNKNOWN if pd.isna(v) else str(bool(v)) for v in raw], dtype=object)
        return out
    if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        k = int(s.nunique(dropna=True))
        if k > MAX_NUMERIC_LEVELS:
            raise ValueError(MSG_BAND_FIRST.format(name=name, k=k))
        num = s.astype("float64")
        out = np.array(
            [
                UNKNOWN if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v))
                for v in num
            ],
            dtype=object,
        )
        return out
    raw = s.astype("object").to_numpy()
    out = np.empty(len(raw), dtype=object)
    for i, v in enumerate(raw):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            out[i] = UNKNOWN
            continue
        text = str(v).strip()
        out[i] = UNKNOWN if text.lower() in unknown_values else text
    return out


def _aligned(X: pd.DataFrame, sensitive: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The sensitive rows of each X row (missing rows all-NaN), and how many were missing."""
    if "employee_id" in sensitive.columns and "employee_id" in X.columns:
        ids = sensitive["employee_id"].astype("string")
        dup = ids.duplicated(keep=False).to_numpy()
        if dup.any():
            rows = list(sensitive.index[dup][:10])
            raise ValueError(MSG_DUPLICATE_IDS.format(rows=rows))
        table = sensitive.drop(columns=["employee_id"]).set_axis(pd.Index(ids), axis=0)
        keys = pd.Index(X["employee_id"].astype("string"))
        found = keys.isin(table.index)
        out = table.reindex(keys)
        out.index = X.index
        return out, int((~found).sum())
    frame = sensitive.drop(columns=["employee_id"], errors="ignore")
    if len(frame) == len(X) and frame.index.equals(X.index):
        return frame, 0
    if X.index.is_unique and frame.index.is_unique:
        missing = ~X.index.isin(frame.index)
        if missing.mean() < 1.0:
            return frame.reindex(X.index), int(missing.sum())
    problem = (
        f"X has {len(X)} rows and sensitive {len(frame)}, and their indexes share "
        f"{int(X.index.isin(frame.index).sum())} labels"
    )
    raise ValueError(MSG_NOT_ALIGNED.format(problem=problem))


def resolve_attributes(
    X: pd.DataFrame,
    sensitive: Any,
    *,
    attributes: Sequence[str] | None = None,
    intersections: Sequence[Sequence[str]] | str | None = "auto",
    unknown_values: Iterable[str] = UNKNOWN_VALUES,
) -> tuple[list[Attribute], dict[str, Any]]:
    """Join the sensitive table to the audited rows and build the audited attributes.

    Returns the attributes (single columns first, then intersections) and a small record of
    the join: rows of X without a sensitive record, the sensitive columns used.
    """
    if not isinstance(sensitive, pd.DataFrame):
        raise TypeError(MSG_NO_SENSITIVE.format(kind=type(sensitive).__name__))
    frame, n_missing = _aligned(X, sensitive)
    available = [c for c in frame.columns]
    if attributes is None:
        attributes = available
    else:
        attributes = [attributes] if isinstance(attributes, str) else list(attributes)
        missing = [a for a in attributes if a not in available]
        if missing:
            raise ValueError(MSG_UNKNOWN_ATTRIBUTE.format(missing=missing, columns=available))
    if not attributes:
        raise ValueError("no sensitive attribute to audit: the sensitive table has no columns")
    unknown = {str(v).strip().lower() for v in unknown_values}
    out: list[Attribute] = []
    labels: dict[str, np.ndarray] = {}
    for name in attributes:
        labels[name] = _labels(frame[name], name, unknown)
        out.append(Attribute(name=name, parts=(name,), values=labels[name]))
    if isinstance(intersections, str):
        if intersections != "auto":
            raise ValueError(
                f"intersections must be 'auto', None or a list of tuples, got {intersections!r}"
            )
        pairs = [("sex", "race_ethnicity")] if {"sex", "race_ethnicity"} <= set(attributes) else []
    else:
        pairs = [tuple(p) for p in (intersections or [])]
    for parts in pairs:
        bad = [p for p in parts if p not in labels]
        if len(parts) < 2 or bad:
            raise ValueError(
                f"intersection {parts!r} must name at least two audited attributes; unknown: {bad}"
            )
        cols = [labels[p] for p in parts]
        known = np.logical_and.reduce([c != UNKNOWN for c in cols])
        joined = cols[0].astype(str)
        for c in cols[1:]:
            joined = np.char.add(np.char.add(joined.astype(str), CROSS), c.astype(str))
        values = np.where(known, joined.astype(object), UNKNOWN).astype(object)
        out.append(Attribute(name=CROSS.join(parts), parts=tuple(parts), values=values))
    if n_missing:
        logger.info(
            "sensitive: %d audited row(s) have no sensitive record; their categories are unknown",
            n_missing,
        )
    info = {"rows_without_sensitive_record": n_missing, "sensitive_columns": list(attributes)}
    return out, info


def category_counts(attributes: Sequence[Attribute]) -> Mapping[str, dict[str, int]]:
    """Rows per category (unknown included) for every attribute."""
    out: dict[str, dict[str, int]] = {}
    for attr in attributes:
        vals, counts = np.unique(attr.values.astype(str), return_counts=True)
        out[attr.name] = {str(v): int(c) for v, c in zip(vals, counts, strict=True)}
    return out
