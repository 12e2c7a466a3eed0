"""Request values to the booster's input, taking what a client naturally sends.

Numbers may come as ints, floats, JSON numbers, booleans or numeric text (``"3.5"``); a
category as text, or as the number a client sends for a numeric-looking level (``3`` for the
level ``"3"``). What had to be converted is returned (the ``coerced`` warnings of the input
guard); what cannot be read (text that is no number, a list, a mapping, an infinity) is
refused with the column, rows and values named.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._bands import _missing

__all__ = ["encode_frame", "encode_values"]

_NUMBER = (int, float, np.integer, np.floating)
_BOOL = (bool, np.bool_)


def _type_name(v: Any) -> str:
    if isinstance(v, _BOOL):
        return "boolean"
    if isinstance(v, str):
        return "text"
    if isinstance(v, _NUMBER):
        return "number"
    return type(v).__name__


def _number(v: Any) -> tuple[float, bool] | None:
    """(float, coerced) of one value for a numeric column; None if it is no number."""
    if _missing(v):
        return math.nan, False
    if isinstance(v, _BOOL):
        return float(v), True
    if isinstance(v, _NUMBER):
        return float(v), False
    if isinstance(v, str):
        text = v.strip()
        if not text:
            return math.nan, True
        try:
            return float(text), True
        except ValueError:
            return None
    return None


def _level(v: Any, index_of: Mapping[str, int]) -> tuple[float, bool, str | None]:
    """(code or NaN, coerced, matched level) of one value for a category column."""
    if isinstance(v, str):
        code = index_of.get(v)
        return (math.nan, False, None) if code is None else (float(code), False, v)
    if isinstance(v, _BOOL):
        key = str(bool(v))
        code = index_of.get(key)
        return (math.nan, False, None) if code is None else (float(code), False, key)
    if isinstance(v, _NUMBER):
        f = float(v)
        keys = [str(v)]
        if math.isfinite(f) and f == int(f):
            keys += [str(int(f)), str(f)]
        for key in keys:
            code = index_of.get(key)
            if code is not None:
                return float(code), True, key
        return math.nan, False, None
    code = index_of.get(str(v))
    return (math.nan, False, None) if code is None else (float(code), True, str(v))


def _bad_values(col: str, rows: list, values: list, what: str) -> ValueError:
    shown = [v if not isinstance(v, str) or len(v) <= 40 else v[:37] + "..." for v in values[:3]]
    return ValueError(
        f"X: column {col!r} must be {what}; rows {rows[:10]}"
        + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")
        + f" hold {shown}"
    )


def _numeric_column(column: Sequence[Any], col: str, index: Sequence[Any]):
    """(floats, positions coerced with their given type) of one numeric column."""
    out = np.empty(len(column), dtype=np.float64)
    coerced: list[tuple[int, str]] = []
    bad: list[int] = []
    for i, v in enumerate(column):
        got = _number(v)
        if got is None:
            bad.append(i)
            continue
        out[i] = got[0]
        if got[1]:
            coerced.append((i, _type_name(v)))
    if bad:
        raise _bad_values(col, [index[i] for i in bad], [column[i] for i in bad], "numeric")
    return out, coerced


def _check_infinite(design: np.ndarray, features: Sequence[str], index: Sequence[Any]) -> None:
    inf = np.isinf(design)
    if inf.any():
        j = int(np.flatnonzero(inf.any(axis=0))[0])
        rows = [index[i] for i in np.flatnonzero(inf[:, j])[:10]]
        raise ValueError(
            f"X: column {features[j]!r} holds infinite values in rows {rows}; use "
            "NaN (null) for unknown values."
        )


def _scalar_check(values: np.ndarray, features: Sequence[str], index: Sequence[Any]) -> None:
    """Refuse lists, mappings and other containers (nested junk) in any model column."""
    for j, col in enumerate(features):
        column = values[:, j]
        bad = [
            i
            for i, v in enumerate(column)
            if isinstance(v, list | tuple | dict | set | np.ndarray | Mapping)
        ]
        if bad:
            raise _bad_values(col, [index[i] for i in bad], [column[i] for i in bad], "one value")


def encode_values(
    values: np.ndarray,
    *,
    features: Sequence[str],
    numeric_idx: np.ndarray,
    categorical_idx: Sequence[int],
    level_index: Mapping[str, Mapping[str, int]],
    index: Sequence[Any],
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, str]]]:
    """(design (n, p), raw missing (n, p), coerced (row, position, given type)) of raw values.

    Category values matched after a conversion are written back into ``values`` as the level.
    """
    n, p = values.shape
    design = np.empty((n, p), dtype=np.float64)
    coerced: list[tuple[int, int, str]] = []
    num = numeric_idx
    if len(num):
        block = values[:, num]
        clean = not any(
            isinstance(v, str | bool | np.bool_) or not isinstance(v, _NUMBER) and v is not None
            for v in block.flat
        )
        try:
            if not clean:
                raise ValueError("values to convert")
            design[:, num] = block.astype(np.float64)
        except (TypeError, ValueError):
            _scalar_check(block, [features[j] for j in num], index)
            for j in num:
                design[:, j], got = _numeric_column(values[:, j], features[j], index)
                coerced.extend((i, int(j), t) for i, t in got)
    raw_missing = np.isnan(design)
    if len(categorical_idx):
        _scalar_check(
            values[:, list(categorical_idx)], [features[j] for j in categorical_idx], index
        )
    for j in categorical_idx:
        index_of = level_index[features[j]]
        column = values[:, j]
        for i, v in enumerate(column):
            if _missing(v):
                design[i, j] = math.nan
                raw_missing[i, j] = True
                continue
            raw_missing[i, j] = False
            code, was_coerced, key = _level(v, index_of)
            design[i, j] = code
            if was_coerced:
                coerced.append((i, int(j), _type_name(v)))
                values[i, j] = key
    _check_infinite(design, features, index)
    return design, raw_missing, coerced


def encode_frame(
    view: Any, X: pd.DataFrame, *, features: Sequence[str], categorical_idx: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, str]]]:
    """As :func:`encode_values` for a DataFrame of any size (the explain design array, with
    columns of the wrong type converted first)."""
    index = list(X.index)
    coerced: list[tuple[int, int, str]] = []
    categorical = {features[j] for j in categorical_idx}
    fixes: dict[str, np.ndarray] = {}
    for j, col in enumerate(features):
        if col in categorical:
            continue
        dtype = X[col].dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            continue
        if isinstance(dtype, np.dtype) and dtype.kind == "b" or pd.api.types.is_bool_dtype(dtype):
            s = X[col]
            fixes[col] = s.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
            coerced.extend((i, j, "boolean") for i in np.flatnonzero(s.notna().to_numpy()))
            continue
        if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            fixes[col] = X[col].to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        column = X[col].to_numpy(dtype=object)
        _scalar_check(column.reshape(-1, 1), [col], index)
        fixes[col], got = _numeric_column(column, col, index)
        coerced.extend((i, j, t) for i, t in got)
    frame = X.assign(**fixes) if fixes else X
    design = view.design_array(frame)
    raw_missing = np.isnan(design)
    for j in categorical_idx:
        col = features[j]
        s = X[col]
        present = s.notna().to_numpy()
        raw_missing[:, j] = ~present
        unknown = np.flatnonzero(np.isnan(design[:, j]) & present)
        if len(unknown):
            column = s.to_numpy(dtype=object)
            _scalar_check(column[unknown].reshape(-1, 1), [col], [index[i] for i in unknown])
            index_of = view._level_index[col]
            for i in unknown:
                code, was_coerced, _ = _level(column[i], index_of)
                design[i, j] = code
                if was_coerced:
                    coerced.append((int(i), int(j), _type_name(column[i])))
    coerced.sort()
    return design, raw_missing, coerced
