"""The loop's input tables and timestamps: required columns, UTC times, xAPI time text.

Every loop module checks its input tables the same way (:func:`_require`: a pandas
DataFrame with the named columns; :func:`_utc`: a timezone-aware column, as UTC) and writes
times the same way (:func:`_iso`: the xAPI timestamp form, millisecond precision, ``Z``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_utc, require_columns

__all__: list[str] = []


#: The shared input checks (one rule, one place), under the names the loop's modules use.
_require = require_columns
_utc = as_utc


def _ns(values: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (UTC) of timezone-aware timestamps."""
    return values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view("int64")


def _utc_ts(value: Any) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _iso(value: Any) -> str:
    t = _utc_ts(value)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
