"""``coerce``: adapt a real table (an HRIS export, a spreadsheet) to its contract, and say how.

Every change is a row of the report; no row is ever dropped. Values that cannot be read
become missing (NaN / NaT / NA) and are counted with examples, so that :func:`validate`
and :func:`split` can quarantine the rows with a reason.
"""

from __future__ import annotations

import ast
import json
import logging
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._compat import as_ns
from ._contracts import Col, Contract, contract

__all__ = ["REPORT_COLUMNS", "Coerced", "coerce"]

logger = logging.getLogger(__name__)

#: Columns of :attr:`Coerced.report`.
REPORT_COLUMNS = ["table", "column", "change", "count", "examples"]
#: Text read as True / False in a boolean column (case and surrounding blanks ignored).
TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_TEXT = frozenset({"false", "f", "no", "n", "0", "0.0"})
#: Separators of a list written as text (``"python; sql"``).
LIST_SEPARATORS = r"[;,|]"
#: Example values shown per change.
N_EXAMPLES = 3

#: A time of day followed by a UTC offset or zone letter: the value names its instant.
_OFFSET = re.compile(
    r"\d:\d{2}(:\d{2}([.,]\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}(:?\d{2})?)$", re.IGNORECASE
)
_UNKNOWN_TABLE = "unknown table {table!r}; contracts exist for {tables}"
RENAME_UNKNOWN_SOURCE = "rename: column(s) {missing} are not in the table; it has {present}"
NOT_A_CONTRACT_COLUMN = (
    "{what}: {columns} are not columns of the {table!r} contract ({known}); close matches: {hints}"
)
BAD_TIMEZONE = (
    'timezone={value!r} is not an IANA time zone: give a name such as "Europe/Berlin", '
    '"America/New_York" or "UTC" (zoneinfo.available_timezones())'
)


@dataclass(frozen=True, eq=False)
class Coerced:
    """The result of :func:`coerce`: the adapted table and a report of every change.

    Attributes
    ----------
    table : str
        The contract.
    frame : pandas.DataFrame
        The adapted table: same rows, in the same order, with the same index.
    report : pandas.DataFrame
        One row per change: ``table``, ``column``, ``change``, ``count`` (values
        affected) and ``examples`` (a few original values).

    Unpacks as ``frame, report = schemas.coerce(...)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml import schemas
    >>> raw = pd.DataFrame({"employee_id": [7, 8], "hire_date": ["2024-01-02", "n/a"]})
    >>> result = schemas.coerce("employees", raw)
    >>> print(result)
    Coerced(table='employees', rows=2, columns=2, changes=4)
      employee_id: numbers written as text (1001.0 -> '1001') (2) e.g. 7, 8
      hire_date: naive times read as UTC (pass timezone= for local times) (1) e.g. '2024-01-02'
      hire_date: text parsed to UTC date-times (1) e.g. '2024-01-02'
      hire_date: unreadable date-times to missing (NaT) (1) e.g. 'n/a'
    >>> frame, report = result
    >>> frame["hire_date"].isna().tolist()
    [False, True]
    """

    table: str
    frame: pd.DataFrame
    report: pd.DataFrame

    def __iter__(self):
        yield self.frame
        yield self.report

    def __repr__(self) -> str:
        head = (
            f"Coerced(table={self.table!r}, rows={len(self.frame):,}, "
            f"columns={len(self.frame.columns)}, changes={len(self.report)})"
        )
        if self.report.empty:
            return head
        lines = [head]
        for r in self.report.itertuples(index=False):
            examples = f" e.g. {r.examples}" if r.examples else ""
            lines.append(f"  {r.column}: {r.change} ({r.count:,}){examples}")
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        title = (
            f"<p><b>Coerced</b> table <code>{self.table}</code>: {len(self.frame):,} rows, "
            f"{len(self.report)} change(s)</p>"
        )
        return title + self.report.to_html(index=False, escape=True)


class _Report:
    def __init__(self, table: str) -> None:
        self.table = table
        self.rows: list[dict[str, Any]] = []

    def add(self, column: str, change: str, values: pd.Series | list | None, count=None) -> None:
        if values is None:
            examples: list[Any] = []
            n = int(count or 0)
        else:
            seq = values if isinstance(values, list) else values.tolist()
            n = len(seq) if count is None else int(count)
            examples = list(dict.fromkeys(_example(v) for v in seq))[:N_EXAMPLES]
        if n == 0:
            return
        self.rows.append(
            {
                "table": self.table,
                "column": column,
                "change": change,
                "count": n,
                "examples": ", ".join(examples),
            }
        )

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(self.rows, columns=REPORT_COLUMNS)
        for col in ("table", "column", "change", "examples"):
            out[col] = out[col].astype("string")
        out["count"] = out["count"].astype("int64")
        return out


def _example(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _norm(name: Any) -> str:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def _check_names(c: Contract, what: str, names) -> None:
    import difflib

    unknown = [n for n in names if n not in c.column_names]
    if unknown:
        hints = {u: difflib.get_close_matches(str(u), c.column_names, n=2) for u in unknown}
        raise ValueError(
            NOT_A_CONTRACT_COLUMN.format(
                what=what, columns=unknown, table=c.name, known=c.column_names, hints=hints
            )
        )


def coerce(
    table: str,
    df: pd.DataFrame,
    *,
    rename: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
    timezone: str | None = None,
) -> Coerced:
    """Adapt a table to the contract of ``table``, reporting every change.

    Columns are matched by name: first ``rename``, then, for contract columns still absent,
    any column whose name is the same up to case, spaces and punctuation (``"Hire Date"``,
    ``"hireDate"`` -> ``hire_date``). Each contract column present is then converted to its
    kind:

    * **datetime**: text, dates and datetimes to UTC (``datetime64[ns, UTC]``); values with
      an offset (``Z``, ``+02:00``) keep their instant, naive values are read in
      ``timezone`` (UTC when not given, and the report says so);
    * **string** (identifiers and categories): numbers to text (``1001`` and ``1001.0`` ->
      ``"1001"``), surrounding blanks trimmed, blank text to missing, values of a fixed set
      (``termination_type``, ``event``, ``program``) matched whatever their case;
    * **int**: integer-like floats and text (``3.0``, ``"3"``) to integers (``Int64``);
    * **float**: text to numbers;
    * **bool**: yes/no, y/n, true/false, t/f, 1/0 (any case) to ``boolean``;
    * **list**: text split on ``,`` ``;`` ``|`` (or read as a JSON list) to lists of strings.

    Values that cannot be read become missing and are counted, with examples: no row is
    dropped. :func:`validate` or :func:`split` then report or quarantine them with a reason.
    Optional columns a table does not have stay absent, which means "unknown" (see
    :func:`describe`'s ``if_absent``), unless ``defaults`` gives them a value.

    Parameters
    ----------
    table : str
        Contract name, one of :data:`TABLES`.
    df : pandas.DataFrame
        The table as read (e.g. ``pd.read_csv``). Not modified.
    rename : mapping, optional
        ``{your column: contract column}``.
    defaults : mapping, optional
        ``{contract column: value}`` for columns the table does not have (added with the
        value) or whose values are missing (filled), e.g. ``{"timezone": "Europe/Berlin"}``.
        Every use is in the report.
    timezone : str, optional
        IANA zone of naive date-times (an HRIS export in local time). Default: UTC.

    Returns
    -------
    Coerced
        ``frame`` (same rows and index) and ``report`` (``table``, ``column``, ``change``,
        ``count``, ``examples``); unpacks as ``frame, report``.

    Raises
    ------
    ValueError
        An unknown table, a ``rename`` source that is not a column, a ``rename`` target or a
        ``defaults`` key that is not a contract column, or a ``timezone`` that is not IANA.

    Examples
    --------
    >>> import io
    >>> import pandas as pd
    >>> from talentml import schemas
    >>> raw = pd.read_csv(io.StringIO(
    ...     "Employee ID,Hire Date,Job Family\\n101,2021-03-01,Sales\\n102, 2022-11-15 ,\\n"))
    >>> employees, report = schemas.coerce("employees", raw, timezone="Europe/Berlin")
    >>> employees.dtypes.astype(str).to_dict()
    {'employee_id': 'string', 'hire_date': 'datetime64[ns, UTC]', 'job_family': 'string'}
    >>> employees["hire_date"].iloc[0]
    Timestamp('2021-02-28 23:00:00+0000', tz='UTC')
    >>> print(report[["column", "change", "count"]].to_string(index=False))
         column                                      change  count
    employee_id                  renamed from 'Employee ID'      2
      hire_date                    renamed from 'Hire Date'      2
     job_family                   renamed from 'Job Family'      2
    employee_id  numbers written as text (1001.0 -> '1001')      2
      hire_date naive times read in Europe/Berlin, then UTC      2
      hire_date               text parsed to UTC date-times      2
    >>> schemas.validate("employees", employees) is employees
    True
    """
    c = contract(table)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"table {table!r} must be a pandas DataFrame, got {type(df).__name__}")
    if timezone is not None and timezone not in zoneinfo.available_timezones():
        raise ValueError(BAD_TIMEZONE.format(value=timezone))
    rename = dict(rename or {})
    defaults = dict(defaults or {})
    missing_src = [k for k in rename if k not in df.columns]
    if missing_src:
        raise ValueError(
            RENAME_UNKNOWN_SOURCE.format(missing=missing_src, present=[str(x) for x in df.columns])
        )
    _check_names(c, "rename targets", list(rename.values()))
    _check_names(c, "defaults", list(defaults))

    report = _Report(table)
    out = df.copy()
    if rename:
        out = out.rename(columns=rename)
        for src, dst in rename.items():
            if src != dst:
                report.add(dst, f"renamed from {src!r}", None, count=len(out))
    # contract columns still absent: a column with the same name up to case and punctuation
    for col in c.columns:
        if col.name in out.columns:
            continue
        candidates = [x for x in out.columns if isinstance(x, str) and _norm(x) == col.name]
        candidates = [x for x in candidates if x not in c.column_names]
        if len(candidates) == 1:
            out = out.rename(columns={candidates[0]: col.name})
            report.add(col.name, f"renamed from {candidates[0]!r}", None, count=len(out))
        elif len(candidates) > 1:
            logger.warning(
                "coerce %s: columns %s all look like %r; pass rename= to choose one",
                table,
                candidates,
                col.name,
            )

    for col in c.columns:
        if col.name not in out.columns:
            if col.name in defaults:
                out[col.name] = pd.Series([defaults[col.name]] * len(out), index=out.index)
                report.add(col.name, f"added with default {defaults[col.name]!r}", None, len(out))
            else:
                continue
        values = out[col.name]
        if isinstance(values, pd.DataFrame):
            raise ValueError(
                f"table {table!r} has {values.shape[1]} columns named {col.name!r} after "
                "renaming: keep one"
            )
        converted = _CONVERTERS[col.kind](values, col, report, timezone)
        if col.name in defaults:
            fill = converted.isna()
            if fill.any():
                default = _CONVERTERS[col.kind](
                    pd.Series([defaults[col.name]], dtype=object), col, _Report(table), timezone
                ).iloc[0]
                if col.kind == "list":
                    converted = converted.where(
                        ~fill, pd.Series([default] * len(fill), index=fill.index)
                    )
                else:
                    converted = converted.where(~fill, default)
                report.add(
                    col.name,
                    f"missing values filled with default {defaults[col.name]!r}",
                    None,
                    int(fill.sum()),
                )
        out[col.name] = converted
    return Coerced(table=table, frame=out, report=report.frame())


# -------------------------------------------------------------------------- converters
def _blank_to_na(s: pd.Series, col: Col, report: _Report) -> pd.Series:
    """Object values with text trimmed and blank text as missing (reported)."""
    obj = s.astype(object)
    is_str = obj.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if not is_str.any():
        return obj
    text = obj[is_str]
    stripped = text.str.strip()
    blank = (stripped == "").to_numpy(dtype=bool)
    report.add(col.name, "blank text to missing", text[blank])
    values = stripped.astype(object).where(~blank, None)
    out = obj.copy()
    out[is_str] = values.to_numpy()
    return out.where(out.notna(), None)


def _to_string(s: pd.Series, col: Col, report: _Report, timezone: str | None) -> pd.Series:
    allowed = _allowed(col)
    lookup = {a.lower(): a for a in allowed}
    out: list[str | None] = []
    blank, trimmed, numbers, not_a_number, others, cased = [], [], [], [], [], []
    for v in s.astype(object).tolist():
        if _missing(v):
            out.append(None)
            continue
        if isinstance(v, str):
            text = v.strip()
            if not text:
                blank.append(v)
                out.append(None)
                continue
            if text != v:
                trimmed.append(v)
        elif isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
            text = _number_text(v)
            if text is None:
                not_a_number.append(v)
                out.append(None)
                continue
            numbers.append(v)
        else:
            others.append(v)
            text = str(v).strip()
        if lookup and text.lower() in lookup and lookup[text.lower()] != text:
            cased.append(text)
            text = lookup[text.lower()]
        out.append(text)
    report.add(col.name, "blank text to missing", blank)
    report.add(col.name, "surrounding blanks trimmed", trimmed)
    report.add(col.name, "numbers written as text (1001.0 -> '1001')", numbers)
    report.add(col.name, "not-a-number to missing", not_a_number)
    report.add(col.name, "values written as text", others)
    report.add(col.name, f"matched to {sorted(allowed)} ignoring case", cased)
    return pd.Series(pd.array(out, dtype="string"), index=s.index, name=s.name)


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and bool(np.isnan(v))


def _number_text(v) -> str | None:
    if not np.isfinite(v):
        return None
    if float(v).is_integer() and abs(v) < 2**63:
        return str(int(v))
    return repr(float(v))


def _allowed(col: Col) -> tuple[str, ...]:
    for name, _ in col.checks:
        if name.startswith("isin_"):
            return tuple(name[len("isin_") :].split("|"))
    return ()


def _to_datetime(s: pd.Series, col: Col, report: _Report, timezone: str | None) -> pd.Series:
    zone = timezone or "UTC"
    naive_note = (
        f"naive times read in {timezone}, then UTC"
        if timezone
        else "naive times read as UTC (pass timezone= for local times)"
    )
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        if str(s.dtype.tz) != "UTC":
            report.add(col.name, f"converted from {s.dtype.tz} to UTC", s.dropna())
        return as_ns(s.dt.tz_convert("UTC"))
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return _localize(s, col, report, zone, naive_note, s.dropna())
    obj = _blank_to_na(s, col, report)
    present = obj.notna().to_numpy(dtype=bool)
    text = obj[present].map(_as_text)
    aware = text.map(lambda v: bool(_OFFSET.search(v))).to_numpy(dtype=bool)
    result = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    if aware.any():
        parsed = pd.to_datetime(text[aware], utc=True, errors="coerce", format="mixed")
        result.iloc[np.flatnonzero(present)[aware]] = as_ns(parsed).to_numpy()
    if (~aware).any():
        raw = text[~aware]
        naive = pd.to_datetime(raw, errors="coerce", format="mixed")
        if isinstance(naive.dtype, pd.DatetimeTZDtype):  # pragma: no cover - defensive
            naive = naive.dt.tz_convert("UTC")
            local = naive
        else:
            local = _localize(naive, col, report, zone, naive_note, raw[naive.notna()])
        result.iloc[np.flatnonzero(present)[~aware]] = as_ns(local).to_numpy()
    parsed_ok = result.iloc[np.flatnonzero(present)].notna().to_numpy(dtype=bool)
    report.add(col.name, "text parsed to UTC date-times", obj[present][parsed_ok])
    report.add(col.name, "unreadable date-times to missing (NaT)", obj[present][~parsed_ok])
    return as_ns(result)


def _as_text(v: Any) -> str:
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
        return _number_text(v) or ""
    return str(v)


def _localize(s: pd.Series, col: Col, report: _Report, zone: str, note: str, shown) -> pd.Series:
    if s.dt.tz is not None:  # pragma: no cover - callers pass naive values
        return s.dt.tz_convert("UTC")
    local = s.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    lost = (local.isna() & s.notna()).to_numpy(dtype=bool)
    report.add(col.name, note, shown)
    report.add(col.name, f"ambiguous local times in {zone} (clock change) to missing", s[lost])
    return as_ns(local.dt.tz_convert("UTC"))


def _numbers(s: pd.Series, col: Col, report: _Report) -> pd.Series:
    """Float values of a column (text parsed; unreadable text reported and missing)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        report.add(col.name, "booleans to numbers", s.dropna())
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype("float64")
    obj = _blank_to_na(s, col, report)
    num = pd.to_numeric(obj, errors="coerce")
    bad = (obj.notna() & num.isna()).to_numpy(dtype=bool)
    is_text = obj.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    report.add(col.name, "text parsed to numbers", obj[is_text & ~bad])
    report.add(col.name, "unreadable numbers to missing", obj[bad])
    return num.astype("float64")


def _to_float(s: pd.Series, col: Col, report: _Report, timezone: str | None) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        if pd.api.types.is_extension_array_dtype(s.dtype):
            return s.astype("float64")
        return s
    return _numbers(s, col, report)


def _to_int(s: pd.Series, col: Col, report: _Report, timezone: str | None) -> pd.Series:
    if pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s
    num = _numbers(s, col, report)
    whole = num.notna() & (num == np.floor(num)) & (num.abs() < 2**53)
    fraction = (num.notna() & ~whole).to_numpy(dtype=bool)
    report.add(col.name, "non-integer values to missing", s[fraction])
    if pd.api.types.is_float_dtype(s.dtype):
        report.add(col.name, "integer-like floats to integers (3.0 -> 3)", s[whole.to_numpy()])
    values = num.where(whole)
    return pd.Series(pd.array(values.to_numpy(), dtype="Float64").astype("Int64"), index=s.index)


def _to_bool(s: pd.Series, col: Col, report: _Report, timezone: str | None) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s if s.dtype == "boolean" else s.astype("boolean")
    obj = _blank_to_na(s, col, report)

    def read(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, bool | np.bool_):
            return bool(v)
        if isinstance(v, int | float | np.integer | np.floating):
            return True if v == 1 else (False if v == 0 else _BAD)
        text = str(v).strip().lower()
        if text in TRUE_TEXT:
            return True
        if text in FALSE_TEXT:
            return False
        return _BAD

    read_values = obj.map(read)
    bad = read_values.map(lambda v: v is _BAD).to_numpy(dtype=bool)
    converted = ~bad & read_values.notna().to_numpy(dtype=bool)
    already = obj.map(lambda v: isinstance(v, bool | np.bool_)).to_numpy(dtype=bool)
    report.add(col.name, "yes/no, true/false, 1/0 read as booleans", obj[converted & ~already])
    report.add(col.name, "unreadable booleans to missing", obj[bad])
    values = [None if (b or v is None) else v for v, b in zip(read_values, bad, strict=True)]
    return pd.Series(pd.array(values, dtype="boolean"), index=s.index)


_BAD = object()


def _to_list(s: pd.Series, col: Col, report: _Report, timezone: str | None) -> pd.Series:
    parsed: list[Any] = []
    split_text, unreadable = [], []
    for v in s.astype(object).tolist():
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            parsed.append(None)
        elif isinstance(v, list | tuple | np.ndarray):
            parsed.append([str(x).strip() for x in v if x is not None and str(x).strip()])
        elif isinstance(v, str):
            text = v.strip()
            if not text:
                parsed.append(None)
                split_text.append(v)
                continue
            items = _list_text(text)
            if items is None:
                unreadable.append(v)
                parsed.append(None)
            else:
                split_text.append(v)
                parsed.append(items)
        else:
            unreadable.append(v)
            parsed.append(None)
    report.add(col.name, "text split into lists (on , ; | or as a JSON list)", split_text)
    report.add(col.name, "unreadable lists to missing", unreadable)
    out = pd.Series([None] * len(parsed), index=s.index, dtype=object)
    for i, value in enumerate(parsed):
        out.iat[i] = value
    return out


def _list_text(text: str) -> list[str] | None:
    if text.startswith("["):
        for loader in (json.loads, ast.literal_eval):
            try:
                value = loader(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, list):
                return [str(x).strip() for x in value if x is not None and str(x).strip()]
        return None
    return [part.strip() for part in re.split(LIST_SEPARATORS, text) if part.strip()]


_CONVERTERS = {
    "string": _to_string,
    "datetime": _to_datetime,
    "float": _to_float,
    "int": _to_int,
    "bool": _to_bool,
    "list": _to_list,
}
