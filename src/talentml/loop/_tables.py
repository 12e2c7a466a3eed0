"""The loop's input tables and timestamps: required columns, UTC times, xAPI time text.

Every loop module checks its input tables the same way (:func:`_require`: a pandas
DataFrame with the named columns; :func:`_utc`: a timezone-aware column, as UTC) and writes
times the same way (:func:`_iso`: the xAPI timestamp form, millisecond precision, ``Z``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__: list[str] = []


def _require(table: Any, columns: Sequence[str], name: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table {name!r} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"table {name!r} is missing column(s) {missing}; it has {list(table.columns)}"
        )


def _utc(values: pd.Series, table: str, column: str) -> pd.Series:
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"table {table!r}: column {column!r} must hold timezone-aware timestamps, "
            f"got dtype {values.dtype}"
        )
    return values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")


def _ns(values: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (UTC) of timezone-aware timestamps."""
    return values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view("int64")


def _utc_ts(value: Any) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _iso(value: Any) -> str:
    t = _utc_ts(value)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
