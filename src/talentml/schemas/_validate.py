"""Validation against a contract: one pass finds every problem of a table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..exceptions import ContractError
from . import _messages as msg
from ._contracts import KIND_DTYPES, TABLES, Col, contract, dtype_of
from ._messages import Problem

__all__ = ["FAILURE_COLUMNS", "describe", "empty", "problems", "split", "validate"]

#: Columns of ``ContractError.failures``.
FAILURE_COLUMNS = ["column", "rule", "row", "value"]


def _kind_ok(kind: str, s: pd.Series) -> bool:
    dtype = s.dtype
    if kind == "datetime":
        return isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"
    if kind == "float":
        return pd.api.types.is_float_dtype(dtype) or (
            pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        )
    if kind == "int":
        return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if kind == "bool":
        if pd.api.types.is_bool_dtype(dtype):
            return True
        return (
            pd.api.types.is_object_dtype(dtype)
            and s.dropna().map(lambda v: isinstance(v, bool | np.bool_)).all()
        )
    if kind == "string":
        if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            return (
                bool(s.dropna().map(lambda v: isinstance(v, str)).all())
                if pd.api.types.is_object_dtype(dtype)
                else True
            )
        return isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
            dtype.categories
        )
    if kind == "list":
        return pd.api.types.is_object_dtype(dtype)
    raise AssertionError(kind)


def _dtype_fix(table: str, col: Col, s: pd.Series) -> str:
    dtype = s.dtype
    if col.kind == "datetime":
        if isinstance(dtype, pd.DatetimeTZDtype):
            return msg.FIX_DATETIME_ZONE.format(table=table, column=col.name)
        if pd.api.types.is_datetime64_dtype(dtype):
            return msg.FIX_DATETIME_NAIVE.format(table=table, column=col.name)
        return msg.FIX_DATETIME_TEXT.format(table=table, column=col.name)
    template = {
        "string": msg.FIX_STRING,
        "int": msg.FIX_INT,
        "float": msg.FIX_FLOAT,
        "bool": msg.FIX_BOOL,
        "list": msg.FIX_LIST,
    }[col.kind]
    return template.format(table=table, column=col.name)


def _check_fix(table: str, col: Col, rule: str) -> str:
    if rule.startswith("isin_"):
        return msg.FIX_ISIN.format(table=table, allowed=rule[len("isin_") :].split("|"))
    if rule.startswith("between_"):
        lo, hi = rule[len("between_") :].split("_")
        return msg.FIX_RANGE.format(table=table, what=f"allowed: {lo} to {hi}")
    if rule == "iana_timezone":
        return msg.FIX_TIMEZONE
    if rule == "list_of_strings":
        return msg.FIX_LIST.format(table=table, column=col.name)
    if rule == "non_blank":
        return msg.FIX_NOT_NULL.format(table=table)
    what = {"positive": "they must be > 0", "non_negative": "they must be >= 0"}.get(rule, rule)
    return msg.FIX_RANGE.format(table=table, what=what)


class _Collector:
    """Failing rows of a table, by problem, with their positions."""

    def __init__(self, df: pd.DataFrame, max_rows: int) -> None:
        self.df = df
        self.max_rows = max_rows
        self.problems: list[Problem] = []
        self.parts: list[pd.DataFrame] = []
        #: positions of failing rows -> "column: rule" reasons, in finding order
        self.reasons: list[tuple[np.ndarray, str]] = []

    def rows(self, rule: str, columns: tuple[str, ...], bad: np.ndarray, values, fix: str) -> None:
        """Record rows failing ``rule`` (``bad``: boolean mask by position)."""
        pos = np.flatnonzero(bad)
        if not len(pos):
            return
        labels = self.df.index[pos]
        vals = values(pos)
        name = ", ".join(columns)
        self.problems.append(
            Problem(
                rule=rule,
                columns=columns,
                count=len(pos),
                rows=labels[: self.max_rows].tolist(),
                values=list(vals[: self.max_rows]),
                fix=fix,
            )
        )
        self.parts.append(
            pd.DataFrame(
                {
                    "column": name,
                    "rule": rule,
                    "row": labels.to_numpy(dtype=object),
                    "value": pd.Series(list(vals), dtype=object).to_numpy(),
                }
            )
        )
        self.reasons.append((pos, f"{name}: {rule}"))

    def whole(self, problem: Problem) -> None:
        self.problems.insert(sum(p.whole_column for p in self.problems), problem)
        self.parts.insert(
            0,
            pd.DataFrame(
                {
                    "column": [", ".join(problem.columns)],
                    "rule": [problem.rule],
                    "row": [None],
                    "value": [None],
                }
            ),
        )

    def failures(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})
        return pd.concat(self.parts, ignore_index=True)


def _values_of(s: pd.Series):
    def get(pos: np.ndarray) -> list:
        return s.iloc[pos].astype(object).tolist()

    return get


def _row_values(df: pd.DataFrame, columns: tuple[str, ...]):
    def get(pos: np.ndarray) -> list:
        part = df.iloc[pos][list(columns)].astype(object)
        return [dict(zip(columns, row, strict=True)) for row in part.itertuples(index=False)]

    return get


def problems(
    table: str,
    df: pd.DataFrame,
    *,
    max_rows: int = 5,
    require: Sequence[str] = (),
) -> tuple[list[Problem], pd.DataFrame, list[tuple[np.ndarray, str]]]:
    """Every problem of ``df`` against the contract of ``table``, in one pass.

    Returns the problems (whole-column ones first), the failures table (``column``, ``rule``,
    ``row``, ``value``; ``row`` is None for a whole-column problem) and the failing row
    positions with their reasons.
    """
    c = contract(table)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"table {table!r} must be a pandas DataFrame, got {type(df).__name__}")
    unknown = [r for r in require if r not in c.column_names]
    if unknown:
        raise ValueError(f"require={unknown}: not columns of the {table!r} contract")
    out = _Collector(df, max_rows)
    wanted = list(dict.fromkeys([*c.required_columns, *require]))
    missing = [name for name in wanted if name not in df.columns]
    if missing:
        out.whole(
            Problem(
                rule="missing_column",
                columns=tuple(missing),
                count=len(df),
                fix=msg.FIX_MISSING_COLUMN.format(table=table, column=missing[0]),
                detail=([str(x) for x in df.columns],),
                whole_column=True,
            )
        )
    usable: set[str] = set()
    for col in c.columns:
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if isinstance(s, pd.DataFrame):
            out.whole(
                Problem(
                    rule="duplicate_column",
                    columns=(col.name,),
                    count=len(df),
                    fix="keep one column of that name",
                    detail=(),
                    whole_column=True,
                )
            )
            continue
        if not _kind_ok(col.kind, s):
            present = np.flatnonzero(s.notna().to_numpy(dtype=bool))
            out.whole(
                Problem(
                    rule="dtype",
                    columns=(col.name,),
                    count=len(present),
                    rows=df.index[present[:max_rows]].tolist(),
                    values=s.iloc[present[:max_rows]].astype(object).tolist(),
                    fix=_dtype_fix(table, col, s),
                    detail=(str(s.dtype), col.kind, KIND_DTYPES[col.kind]),
                    whole_column=True,
                )
            )
            continue
        usable.add(col.name)
        isna = s.isna().to_numpy(dtype=bool)
        if not col.nullable:
            out.rows(
                "not_null",
                (col.name,),
                isna,
                _values_of(s),
                msg.FIX_NOT_NULL.format(table=table),
            )
        if col.checks and not isna.all():
            present = s[~isna]
            for name, check in col.checks:
                ok = np.asarray(pd.Series(check(present)).fillna(True).to_numpy(dtype=bool))
                bad = np.zeros(len(s), dtype=bool)
                bad[np.flatnonzero(~isna)[~ok]] = True
                out.rows(
                    name, (col.name,), bad, _values_of(s), _check_fix(table, c.col(col.name), name)
                )
    if c.unique and set(c.unique) <= usable:
        dup = df.duplicated(subset=list(c.unique), keep=False).to_numpy(dtype=bool)
        key = "unique(" + ", ".join(c.unique) + ")"
        values = _values_of(df[c.unique[0]]) if len(c.unique) == 1 else _row_values(df, c.unique)
        out.rows(key, c.unique, dup, values, msg.FIX_UNIQUE.format(table=table, key=list(c.unique)))
    for rule in c.rules:
        if not set(rule.columns) <= usable:
            continue
        ok = pd.Series(rule.check(df)).fillna(True).to_numpy(dtype=bool)
        fix = rule.fix or msg._FIX_ROW_RULE_DEFAULT.format(table=table)
        out.rows(rule.name, rule.columns, ~ok, _row_values(df, rule.columns), fix)
    return out.problems, out.failures(), out.reasons


def validate(
    table: str,
    df: pd.DataFrame,
    *,
    lenient: bool = False,
    max_rows: int = 5,
    require: Sequence[str] = (),
) -> pd.DataFrame:
    """Validate ``df`` against the contract of ``table``.

    One pass finds every problem of the table: missing required columns, wrong dtypes,
    missing values, value rules, the unique key and the rules across columns. Each problem
    is one line of the error, naming the table, the column(s), the rule, how many rows fail,
    the first of them with their values, and the fix.

    Parameters
    ----------
    table : str
        Contract name, one of :data:`TABLES`.
    df : pandas.DataFrame
        The table. Extra columns are allowed and passed through; optional columns of the
        contract may be absent (unknown).
    lenient : bool, default False
        If False, raise on a broken contract and otherwise return ``df`` unchanged.
        If True, return the offending rows (with their original index and a ``reason``
        column) instead of raising; an empty frame means the table is valid. Problems that
        concern a whole column (missing column, wrong dtype) raise in both modes.
    max_rows : int, default 5
        How many offending rows the error message shows per problem.
    require : sequence of str, optional
        Optional columns of the contract that this use needs (for example
        ``("termination_date", "termination_type")`` for exit labels): reported as
        missing like required columns.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself (strict) or the offending rows (lenient).

    Raises
    ------
    ContractError
        Naming the table and, per problem, the column, the rule, the count, the first
        offending rows and the fix; every failing row is in its ``failures`` attribute
        (``column``, ``rule``, ``row``, ``value``).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.schemas import validate
    >>> ids = pd.DataFrame({"actor_key": ["a1", "a2", "a2"], "employee_id": ["e1", "e2", "e3"]})
    >>> validate("identities", ids)
    Traceback (most recent call last):
    ...
    talentml.exceptions.ContractError: table 'identities' breaks its contract: column 'actor_key' rule unique(actor_key) fails in 2 row(s), first rows [1, 2] with values ['a2', 'a2']. Fix: keep one row per key: df = df.drop_duplicates(subset=['actor_key'], keep="last"), or quarantine them: good, bad = schemas.split("identities", df)
    >>> validate("identities", ids, lenient=True)
      actor_key employee_id                        reason
    1        a2          e2  actor_key: unique(actor_key)
    2        a2          e3  actor_key: unique(actor_key)
    """
    found, failures, reasons = problems(table, df, max_rows=max_rows, require=require)
    whole = any(p.whole_column for p in found)
    if found and (whole or not lenient):
        raise ContractError(
            msg.contract_message(table, found, max_rows), table=table, failures=failures
        )
    if lenient:
        return _offending(df, reasons)
    return df


def split(table: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Separate the rows that keep the contract from those that break it.

    Returns
    -------
    valid : pandas.DataFrame
        Rows that pass every rule.
    quarantine : pandas.DataFrame
        Rows that break at least one rule, with a ``reason`` column naming column and rule.

    Raises
    ------
    ContractError
        For problems of a whole column (a missing required column, a wrong dtype): no row
        can be kept or quarantined for them.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.schemas import split
    >>> ids = pd.DataFrame({"actor_key": ["a1", " "], "employee_id": ["e1", "e2"]})
    >>> good, bad = split("identities", ids)
    >>> len(good), bad["reason"].tolist()
    (1, ['actor_key: non_blank'])
    """
    found, _, reasons = problems(table, df)
    if any(p.whole_column for p in found):
        validate(table, df)  # raises, naming every problem
    bad = np.zeros(len(df), dtype=bool)
    for pos, _ in reasons:
        bad[pos] = True
    return df.iloc[np.flatnonzero(~bad)], _offending(df, reasons)


def _offending(df: pd.DataFrame, reasons: list[tuple[np.ndarray, str]]) -> pd.DataFrame:
    if not reasons:
        out = df.iloc[:0].copy()
        out["reason"] = pd.Series(dtype="string")
        return out
    texts: dict[int, list[str]] = {}
    for pos, reason in reasons:
        for p in pos.tolist():
            texts.setdefault(p, [])
            if reason not in texts[p]:
                texts[p].append(reason)
    positions = np.array(sorted(texts), dtype=np.int64)
    out = df.iloc[positions].copy()
    out["reason"] = pd.array(["; ".join(texts[p]) for p in positions.tolist()], dtype="string")
    return out


def empty(table: str, *, optional: bool = False) -> pd.DataFrame:
    """An empty DataFrame with the contract's columns and dtypes.

    Parameters
    ----------
    table : str
        Contract name.
    optional : bool, default False
        Also include the optional columns.

    Examples
    --------
    >>> from talentml.schemas import empty
    >>> empty("identities").dtypes.astype(str).to_dict()
    {'actor_key': 'string', 'employee_id': 'string'}
    >>> empty("employees").columns.tolist()
    ['employee_id', 'hire_date']
    """
    c = contract(table)
    return pd.DataFrame(
        {col.name: pd.Series(dtype=dtype_of(col)) for col in c.columns if col.required or optional}
    )


def describe(table: str | None = None) -> pd.DataFrame:
    """The contracts as a table: one row per column with type, nullability and rules.

    Returns
    -------
    pandas.DataFrame
        ``table``, ``column``, ``type`` (the dtype talentml writes; any integer, string or
        datetime resolution of the same kind is accepted), ``nullable``,
        ``required`` (an optional column may be absent), ``rules``, ``description`` and
        ``if_absent`` (what talentml does without the column).

    Examples
    --------
    >>> from talentml.schemas import describe
    >>> describe("identities")[["table", "column", "type", "nullable"]]
            table       column    type  nullable
    0  identities    actor_key  string     False
    1  identities  employee_id  string     False
    >>> describe("employees").query("required")["column"].tolist()
    ['employee_id', 'hire_date']
    """
    names = [table] if table is not None else list(TABLES)
    rows = []
    for name in names:
        c = contract(name)
        for col in c.columns:
            rules = [n for n, _ in col.checks]
            rules += [r.name for r in c.rules if col.name in r.columns]
            if col.name in c.unique:
                rules.append("unique(" + ", ".join(c.unique) + ")")
            rows.append(
                {
                    "table": name,
                    "column": col.name,
                    "type": dtype_of(col),
                    "nullable": col.nullable,
                    "required": col.required,
                    "rules": ", ".join(rules),
                    "description": col.description,
                    "if_absent": col.if_absent,
                }
            )
    return pd.DataFrame(rows)
