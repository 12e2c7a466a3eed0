"""What differs between the pandas versions talentml supports (2.2 to 3.x), in one place.

talentml runs on pandas 2 and pandas 3. Its own code is written for both (no chained
assignment, explicit time units, no reliance on the string dtype pandas infers); what is left
here are the shims for the libraries around it that trip over pandas 3 and the one
canonical time resolution of talentml's outputs.

Examples
--------
>>> import pandas as pd
>>> from talentml._compat import as_ns
>>> t = pd.Series(pd.to_datetime(["2024-01-01"], utc=True)).dt.as_unit("us")
>>> str(as_ns(t).dtype)
'datetime64[ns, UTC]'
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

__all__ = ["PANDAS_3", "as_ns", "pandas4_warnings_ignored", "pyarrow_from_pandas"]

#: True on pandas 3 or newer.
PANDAS_3 = int(pd.__version__.split(".", 1)[0]) >= 3

try:  # pandas >= 3.0: warnings of behaviour pandas 4 removes
    from pandas.errors import Pandas4Warning as _Pandas4Warning
except ImportError:  # pragma: no cover - pandas 2
    _Pandas4Warning = None


@contextmanager
def pandas4_warnings_ignored(*messages: str) -> Iterator[None]:
    """Silence pandas 3's ``Pandas4Warning`` whose text starts with one of ``messages``.

    Only for calls into other libraries that use pandas in a way pandas 3 deprecates (their
    code, not the caller's data, raises the warning); talentml's own code raises none.
    """
    with warnings.catch_warnings():
        if _Pandas4Warning is not None:
            for message in messages:
                warnings.filterwarnings("ignore", message=message, category=_Pandas4Warning)
        yield


#: pyarrow (< 26) reads tz-aware columns through ``Series.values`` (apache/arrow#51302);
#: pandas' own ``to_parquet`` silences the same warning.
_PYARROW_VALUES = r"(Series|DatetimeIndex)\.values returning an ndarray that drops timezone"


def pyarrow_from_pandas(df: pd.DataFrame, **kwargs):
    """``pyarrow.Table.from_pandas(df, **kwargs)`` without pyarrow's pandas 3 warning."""
    import pyarrow as pa

    with pandas4_warnings_ignored(_PYARROW_VALUES):
        return pa.Table.from_pandas(df, **kwargs)


def as_ns(values: pd.Series) -> pd.Series:
    """A tz-aware datetime column in nanoseconds, talentml's one output resolution.

    pandas 3 parses strings to microseconds and keeps the unit of its inputs; talentml's
    tables use nanoseconds whatever pandas made, so results agree across versions.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype) and values.dtype.unit != "ns":
        return values.dt.as_unit("ns")
    return values


def import_shap():
    """Import shap (once), silencing the deprecation matplotlib >= 3.10 raises on it.

    shap 0.51 calls ``Colormap.set_bad``/``set_over``/``set_under`` at import time, which
    matplotlib 3.11 flags with a ``PendingDeprecationWarning``; only those warnings are
    silenced, only during the import.
    """
    import sys
    import warnings

    if "shap" in sys.modules:
        return sys.modules["shap"]
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=r"The set_(bad|over|under) function",
            category=PendingDeprecationWarning,
        )
        import shap
    return shap
