"""Data contracts: the tables every part of talentml speaks, and their validation.

Each table of the design (``statements``, ``employees``, ``job_events``, ``reviews``,
``competency_ratings``, ``catalog``, ``productivity``, ``sensitive``, ``identities``) has a
contract: column names, logical types, nullability, value rules, unique keys and row rules.
:func:`validate` checks a DataFrame against it with `pandera <https://pandera.readthedocs.io>`_
and raises a :class:`~talentml.exceptions.ContractError` that names the table, the column, the
rule and the first offending rows; ``lenient=True`` returns the offending rows instead, and
:func:`split` separates usable rows from rows to quarantine.

All times are timezone-aware UTC, in any resolution (pandas 3 parses text to microseconds,
pandas 2 to nanoseconds; talentml writes nanoseconds); identifiers are strings, as ``object``,
``string`` or pandas 3's ``str``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from .exceptions import ContractError

__all__ = [
    "MAX_CLOCK_SKEW",
    "TABLES",
    "describe",
    "empty",
    "split",
    "validate",
]

#: How far ``stored`` may precede ``timestamp`` in a statement (device clocks drift; the LRS
#: clock is authoritative). A statement stored more than this before it happened is invalid.
MAX_CLOCK_SKEW = pd.Timedelta(minutes=10)

TERMINATION_TYPES = ("voluntary", "involuntary")
JOB_EVENTS = ("hire", "promotion", "transfer", "manager_change", "termination")
OBJECT_TYPES = ("Activity", "Agent", "Group", "StatementRef", "SubStatement")
PROGRAMS = ("onboarding", "compliance", "leadership", "elective", "product", "technical")
_TIMEZONES = frozenset(zoneinfo.available_timezones())


@dataclass(frozen=True)
class Col:
    """One column of a contract."""

    name: str
    kind: str  # "string", "datetime", "float", "int", "bool", "list"
    nullable: bool = False
    required: bool = True
    description: str = ""
    checks: tuple[tuple[str, Callable[[pd.Series], pd.Series]], ...] = ()


@dataclass(frozen=True)
class RowRule:
    """A rule across columns of one row; ``check`` returns True for good rows."""

    name: str
    description: str
    columns: tuple[str, ...]
    check: Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Contract:
    """The contract of one table."""

    name: str
    description: str
    columns: tuple[Col, ...]
    unique: tuple[str, ...] = ()
    rules: tuple[RowRule, ...] = ()
    extra_columns: bool = True
    time_columns: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _between(lo: float, hi: float) -> tuple[str, Callable[[pd.Series], pd.Series]]:
    return (f"between_{lo:g}_{hi:g}", lambda s: s.between(lo, hi))


def _isin(values: Sequence[str]) -> tuple[str, Callable[[pd.Series], pd.Series]]:
    allowed = set(values)
    return ("isin_" + "|".join(values), lambda s: s.isin(allowed))


def _positive(s: pd.Series) -> pd.Series:
    return s > 0


def _non_negative(s: pd.Series) -> pd.Series:
    return s >= 0


def _non_blank(s: pd.Series) -> pd.Series:
    return s.astype("string[pyarrow]").str.strip().str.len() > 0


def _iana(s: pd.Series) -> pd.Series:
    return s.isin(_TIMEZONES)


def _list_of_strings(s: pd.Series) -> pd.Series:
    return s.map(
        lambda v: isinstance(v, list | tuple | np.ndarray) and all(isinstance(x, str) for x in v)
    )


def _nullable_pair(a: str, b: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda df: df[a].isna() == df[b].isna()


def _ordered(
    early: str, late: str, slack: pd.Timedelta | None = None
) -> Callable[[pd.DataFrame], pd.Series]:
    def check(df: pd.DataFrame) -> pd.Series:
        lhs = df[late] if slack is None else df[late] + slack
        return df[early].isna() | df[late].isna() | (lhs >= df[early])

    return check


def _score_order(df: pd.DataFrame) -> pd.Series:
    raw, lo, hi = df["score_raw"], df["score_min"], df["score_max"]
    ok = lo.isna() | hi.isna() | (lo <= hi)
    ok &= raw.isna() | lo.isna() | (raw >= lo)
    ok &= raw.isna() | hi.isna() | (raw <= hi)
    return ok


S, DT, F, INT, B, L = "string", "datetime", "float", "int", "bool", "list"
_ID = (("non_blank", _non_blank),)

TABLES: dict[str, Contract] = {
    c.name: c
    for c in [
        Contract(
            "statements",
            "Normalized xAPI statements, one row per accepted statement.",
            (
                Col("statement_id", S, checks=_ID, description="xAPI statement id (UUID)"),
                Col("actor_key", S, checks=_ID, description="keyed hash of the actor's IFI"),
                Col(
                    "employee_id",
                    S,
                    nullable=True,
                    description="employee, when the actor is mapped",
                ),
                Col("verb_id", S, checks=_ID, description="verb IRI"),
                Col("verb", S, description="verb short name (last IRI segment)"),
                Col(
                    "object_id",
                    S,
                    checks=_ID,
                    description="activity IRI, or the object's identifier",
                ),
                Col("object_type", S, checks=(_isin(OBJECT_TYPES),), description="xAPI objectType"),
                Col("activity_type", S, nullable=True, description="activity type IRI"),
                Col(
                    "object_name",
                    S,
                    nullable=True,
                    description="activity name from its language map",
                ),
                Col("success", B, nullable=True, description="result.success"),
                Col("completion", B, nullable=True, description="result.completion"),
                Col(
                    "score_scaled",
                    F,
                    nullable=True,
                    checks=(_between(-1, 1),),
                    description="scaled score in [-1, 1]",
                ),
                Col("score_raw", F, nullable=True, description="raw score"),
                Col("score_min", F, nullable=True, description="minimum possible score"),
                Col("score_max", F, nullable=True, description="maximum possible score"),
                Col(
                    "duration_s",
                    F,
                    nullable=True,
                    checks=(("non_negative", _non_negative),),
                    description="result.duration in seconds",
                ),
                Col("timestamp", DT, description="when the experience happened (UTC)"),
                Col("stored", DT, description="when the LRS stored it: the available time (UTC)"),
                Col("registration", S, nullable=True, description="context.registration"),
                Col("platform", S, nullable=True, description="context.platform"),
            ),
            unique=("statement_id",),
            rules=(
                RowRule(
                    "stored_after_timestamp",
                    f"stored >= timestamp - {MAX_CLOCK_SKEW}",
                    ("timestamp", "stored"),
                    _ordered("timestamp", "stored", MAX_CLOCK_SKEW),
                ),
                RowRule(
                    "score_min_raw_max",
                    "score_min <= score_raw <= score_max",
                    ("score_raw", "score_min", "score_max"),
                    _score_order,
                ),
            ),
            time_columns=("timestamp", "stored"),
        ),
        Contract(
            "employees",
            "HRIS employee records, one row per employee.",
            (
                Col("employee_id", S, checks=_ID, description="employee identifier"),
                Col("hire_date", DT, description="first day of employment (UTC)"),
                Col(
                    "termination_date",
                    DT,
                    nullable=True,
                    description="last day, null while employed",
                ),
                Col(
                    "termination_type",
                    S,
                    nullable=True,
                    checks=(_isin(TERMINATION_TYPES),),
                    description="voluntary / involuntary / null",
                ),
                Col("job_family", S, description="job family"),
                Col(
                    "job_level", INT, checks=(_between(1, 12),), description="job level (1 = entry)"
                ),
                Col("department", S, description="department"),
                Col("location", S, description="work location"),
                Col(
                    "timezone",
                    S,
                    checks=(("iana_timezone", _iana),),
                    description="IANA time zone of the employee",
                ),
                Col("manager_id", S, nullable=True, description="employee_id of the manager"),
            ),
            unique=("employee_id",),
            rules=(
                RowRule(
                    "termination_after_hire",
                    "termination_date >= hire_date",
                    ("hire_date", "termination_date"),
                    _ordered("hire_date", "termination_date"),
                ),
                RowRule(
                    "termination_type_iff_date",
                    "termination_type is set exactly when termination_date is",
                    ("termination_date", "termination_type"),
                    _nullable_pair("termination_date", "termination_type"),
                ),
                RowRule(
                    "not_own_manager",
                    "manager_id != employee_id",
                    ("employee_id", "manager_id"),
                    lambda df: df["manager_id"].isna() | (df["manager_id"] != df["employee_id"]),
                ),
            ),
            time_columns=("hire_date", "termination_date"),
        ),
        Contract(
            "job_events",
            "Dated HR events; recorded_at is when the event became known.",
            (
                Col("employee_id", S, checks=_ID),
                Col("effective_date", DT, description="when the event takes effect"),
                Col(
                    "recorded_at",
                    DT,
                    description="when it was entered in the HRIS: the available time",
                ),
                Col(
                    "event",
                    S,
                    checks=(_isin(JOB_EVENTS),),
                    description="hire, promotion, transfer, manager_change, termination",
                ),
                Col(
                    "from_value",
                    S,
                    nullable=True,
                    description="value before (level, department, manager)",
                ),
                Col("to_value", S, nullable=True, description="value after"),
            ),
            time_columns=("effective_date", "recorded_at"),
        ),
        Contract(
            "reviews",
            "Performance reviews, one row per employee and cycle.",
            (
                Col("employee_id", S, checks=_ID),
                Col("cycle_id", S, checks=_ID, description="review cycle, e.g. 2024H1"),
                Col("period_end", DT, description="end of the reviewed period"),
                Col(
                    "submitted_at",
                    DT,
                    description="when the rating was submitted: the available time",
                ),
                Col(
                    "overall_rating",
                    F,
                    checks=(_between(1, 5),),
                    description="overall rating, 1 (low) to 5",
                ),
                Col(
                    "potential_rating",
                    F,
                    nullable=True,
                    required=False,
                    checks=(_between(1, 3),),
                    description="potential, 1 (low) to 3",
                ),
                Col(
                    "goal_attainment",
                    F,
                    nullable=True,
                    required=False,
                    checks=(_between(0, 2),),
                    description="share of goals attained (1 = 100%)",
                ),
            ),
            unique=("employee_id", "cycle_id"),
            rules=(
                RowRule(
                    "submitted_after_period_end",
                    "submitted_at >= period_end",
                    ("period_end", "submitted_at"),
                    _ordered("period_end", "submitted_at"),
                ),
            ),
            time_columns=("period_end", "submitted_at"),
        ),
        Contract(
            "competency_ratings",
            "Competency ratings given in a review cycle.",
            (
                Col("employee_id", S, checks=_ID),
                Col("cycle_id", S, checks=_ID),
                Col("competency", S, checks=_ID, description="competency (skill) name"),
                Col("rating", F, checks=(_between(1, 5),), description="1 (low) to 5"),
                Col("submitted_at", DT, description="available time"),
            ),
            unique=("employee_id", "cycle_id", "competency"),
            time_columns=("submitted_at",),
        ),
        Contract(
            "catalog",
            "Learning activities: courses, modules and programs.",
            (
                Col(
                    "activity_id",
                    S,
                    checks=_ID,
                    description="activity IRI, as in statements.object_id",
                ),
                Col("title", S),
                Col(
                    "skills",
                    L,
                    checks=(("list_of_strings", _list_of_strings),),
                    description="skills the activity teaches",
                ),
                Col("level", INT, checks=(_between(1, 4),), description="1 foundation .. 4 expert"),
                Col("mandatory", B, description="required (compliance)"),
                Col("voluntary", B, description="chosen by the learner"),
                Col(
                    "program",
                    S,
                    nullable=True,
                    checks=(_isin(PROGRAMS),),
                    description="onboarding, compliance, leadership, elective, product, technical",
                ),
                Col(
                    "expected_minutes",
                    F,
                    checks=(("positive", _positive),),
                    description="expected time to complete",
                ),
            ),
            unique=("activity_id",),
            rules=(
                RowRule(
                    "not_mandatory_and_voluntary",
                    "an activity is not both mandatory and voluntary",
                    ("mandatory", "voluntary"),
                    lambda df: ~(df["mandatory"].astype(bool) & df["voluntary"].astype(bool)),
                ),
            ),
        ),
        Contract(
            "productivity",
            "Periodic productivity measurements (used for ramp-up).",
            (
                Col("employee_id", S, checks=_ID),
                Col("period_end", DT),
                Col("recorded_at", DT, description="available time"),
                Col("metric", S, checks=_ID),
                Col("value", F),
                Col("target", F, checks=(("positive", _positive),)),
            ),
            unique=("employee_id", "period_end", "metric"),
            rules=(
                RowRule(
                    "recorded_after_period_end",
                    "recorded_at >= period_end",
                    ("period_end", "recorded_at"),
                    _ordered("period_end", "recorded_at"),
                ),
            ),
            time_columns=("period_end", "recorded_at"),
        ),
        Contract(
            "sensitive",
            "Protected attributes: read only by talentml.fairness.",
            (
                Col("employee_id", S, checks=_ID),
                Col("sex", S, nullable=True),
                Col("race_ethnicity", S, nullable=True),
                Col("age_band", S, nullable=True),
                Col("caregiver", B, nullable=True),
            ),
            unique=("employee_id",),
        ),
        Contract(
            "identities",
            "Map from pseudonymized actor keys to employees.",
            (
                Col("actor_key", S, checks=_ID, description="keyed hash of a canonical actor IFI"),
                Col("employee_id", S, checks=_ID),
            ),
            unique=("actor_key",),
        ),
    ]
}

_KIND_DTYPES = {
    S: "string",
    DT: "datetime64[ns, UTC]",
    F: "float64",
    INT: "int64",
    B: "boolean",
    L: "object",
}


def _kind_ok(kind: str, s: pd.Series) -> bool:
    dtype = s.dtype
    if kind == DT:
        return isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"
    if kind == F:
        return pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
    if kind == INT:
        return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if kind == B:
        if pd.api.types.is_bool_dtype(dtype):
            return True
        return (
            pd.api.types.is_object_dtype(dtype)
            and s.dropna().map(lambda v: isinstance(v, bool | np.bool_)).all()
        )
    if kind == S:
        if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            return (
                bool(s.dropna().map(lambda v: isinstance(v, str)).all())
                if pd.api.types.is_object_dtype(dtype)
                else True
            )
        return isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
            dtype.categories
        )
    if kind == L:
        return pd.api.types.is_object_dtype(dtype)
    raise AssertionError(kind)


def _contract(table: str) -> Contract:
    try:
        return TABLES[table]
    except KeyError:
        raise ValueError(f"unknown table {table!r}; contracts exist for {sorted(TABLES)}") from None


def _pandera_schema(contract: Contract, present: set[str]) -> pa.DataFrameSchema:
    columns = {}
    for col in contract.columns:
        if col.name not in present:
            continue
        checks = [pa.Check(fn, name=name, element_wise=False) for name, fn in col.checks]
        columns[col.name] = pa.Column(
            None, checks=checks, nullable=col.nullable, required=col.required
        )
    rules = [
        pa.Check(rule.check, name=rule.name, element_wise=False)
        for rule in contract.rules
        if set(rule.columns) <= present
    ]
    unique = [c for c in contract.unique if c in present]
    return pa.DataFrameSchema(
        columns,
        checks=rules,
        unique=unique if unique else None,
        strict=not contract.extra_columns,
        name=contract.name,
    )


def _failures(contract: Contract, df: pd.DataFrame) -> pd.DataFrame:
    """Every failed check as rows: column, rule, row (index label), value."""
    missing = [c.name for c in contract.columns if c.required and c.name not in df.columns]
    if missing:
        raise ContractError(
            f"table {contract.name!r} is missing required column(s) {missing}; "
            f"its contract has {contract.column_names}",
            table=contract.name,
        )
    wrong = [
        (c.name, str(df[c.name].dtype), c.kind)
        for c in contract.columns
        if c.name in df.columns and not _kind_ok(c.kind, df[c.name])
    ]
    if wrong:
        detail = "; ".join(
            f"column {name!r} has dtype {have}, the contract wants {kind} ({_KIND_DTYPES[kind]})"
            for name, have, kind in wrong
        )
        raise ContractError(f"table {contract.name!r}: {detail}", table=contract.name)
    schema = _pandera_schema(contract, set(df.columns))
    try:
        schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        fc = exc.failure_cases
        rows = []
        for rec in fc.itertuples(index=False):
            column = rec.column if isinstance(rec.column, str) else None
            check = str(rec.check)
            if check == "not_nullable":
                rule = "not_null"
            elif check.startswith("field_uniqueness") or check.startswith(
                "multiple_fields_uniqueness"
            ):
                rule = "unique(" + ", ".join(contract.unique) + ")"
            else:
                rule = check
            if column is None:
                rule_cols = {r.name: r.columns for r in contract.rules}
                column = ", ".join(rule_cols.get(rule, ())) or ", ".join(contract.unique)
            rows.append(
                {"column": column, "rule": rule, "row": rec.index, "value": rec.failure_case}
            )
        out = pd.DataFrame(rows, columns=["column", "rule", "row", "value"])
        # Row rules report one failure per column of the row: keep one per (rule, row).
        return out.drop_duplicates(["column", "rule", "row"]).reset_index(drop=True)
    return pd.DataFrame(columns=["column", "rule", "row", "value"])


def validate(
    table: str, df: pd.DataFrame, *, lenient: bool = False, max_rows: int = 5
) -> pd.DataFrame:
    """Validate ``df`` against the contract of ``table``.

    Parameters
    ----------
    table : str
        Contract name, one of :data:`TABLES`.
    df : pandas.DataFrame
        The table. Extra columns are allowed and passed through.
    lenient : bool, default False
        If False, raise on the first broken contract and otherwise return ``df`` unchanged.
        If True, return the offending rows (with their original index and a ``reason``
        column) instead of raising; an empty frame means the table is valid. Problems that
        concern a whole column (missing column, wrong dtype) raise in both modes.
    max_rows : int, default 5
        How many offending rows the error message shows per rule.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself (strict) or the offending rows (lenient).

    Raises
    ------
    ContractError
        Naming the table, the column, the rule and the first offending rows; the full list is
        in its ``failures`` attribute.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.schemas import validate
    >>> ids = pd.DataFrame({"actor_key": ["a1", "a2", "a2"], "employee_id": ["e1", "e2", "e3"]})
    >>> validate("identities", ids)
    Traceback (most recent call last):
    ...
    talentml.exceptions.ContractError: table 'identities' breaks its contract: column 'actor_key' rule unique(actor_key) fails in 2 row(s), first rows [1, 2] with values ['a2', 'a2']
    >>> validate("identities", ids, lenient=True)
      actor_key employee_id                        reason
    1        a2          e2  actor_key: unique(actor_key)
    2        a2          e3  actor_key: unique(actor_key)
    """
    contract = _contract(table)
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"table {table!r} must be a pandas DataFrame, got {type(df).__name__}")
    failures = _failures(contract, df)
    if lenient:
        return _offending(df, failures)
    if len(failures):
        raise ContractError(
            _message(contract.name, failures, max_rows), table=contract.name, failures=failures
        )
    return df


def split(table: str, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Separate the rows that keep the contract from those that break it.

    Returns
    -------
    valid : pandas.DataFrame
        Rows that pass every rule.
    quarantine : pandas.DataFrame
        Rows that break at least one rule, with a ``reason`` column naming column and rule.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.schemas import split
    >>> ids = pd.DataFrame({"actor_key": ["a1", " "], "employee_id": ["e1", "e2"]})
    >>> good, bad = split("identities", ids)
    >>> len(good), bad["reason"].tolist()
    (1, ['actor_key: non_blank'])
    """
    bad = validate(table, df, lenient=True)
    return df.drop(index=bad.index), bad


def _offending(df: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    if failures.empty:
        out = df.iloc[:0].copy()
        out["reason"] = pd.Series(dtype="string")
        return out
    reasons = (
        failures.assign(text=failures["column"] + ": " + failures["rule"])
        .groupby("row", sort=False)["text"]
        .agg(lambda t: "; ".join(dict.fromkeys(t)))
    )
    labels = [label for label in df.index if label in reasons.index]
    out = df.loc[labels].copy()
    out["reason"] = reasons.reindex(labels).to_numpy()
    out["reason"] = out["reason"].astype("string")
    return out


def _message(table: str, failures: pd.DataFrame, max_rows: int) -> str:
    parts = []
    for (column, rule), grp in failures.groupby(["column", "rule"], sort=False):
        rows = grp["row"].tolist()
        values = grp["value"].tolist()
        parts.append(
            f"column {column!r} rule {rule} fails in {len(rows)} row(s), "
            f"first rows {rows[:max_rows]} with values {values[:max_rows]}"
        )
    return f"table {table!r} breaks its contract: " + "; ".join(parts)


def empty(table: str) -> pd.DataFrame:
    """An empty DataFrame with the contract's columns and dtypes.

    Examples
    --------
    >>> from talentml.schemas import empty
    >>> empty("identities").dtypes.astype(str).to_dict()
    {'actor_key': 'string', 'employee_id': 'string'}
    """
    contract = _contract(table)
    return pd.DataFrame(
        {c.name: pd.Series(dtype=_KIND_DTYPES[c.kind]) for c in contract.columns if c.required}
    )


def describe(table: str | None = None) -> pd.DataFrame:
    """The contracts as a table: one row per column with type, nullability and rules.

    Examples
    --------
    >>> from talentml.schemas import describe
    >>> describe("identities")[["table", "column", "type", "nullable"]]
            table       column    type  nullable
    0  identities    actor_key  string     False
    1  identities  employee_id  string     False
    """
    names = [table] if table is not None else list(TABLES)
    rows = []
    for name in names:
        contract = _contract(name)
        for col in contract.columns:
            rules = [n for n, _ in col.checks]
            rules += [r.name for r in contract.rules if col.name in r.columns]
            if col.name in contract.unique:
                rules.append("unique(" + ", ".join(contract.unique) + ")")
            rows.append(
                {
                    "table": name,
                    "column": col.name,
                    "type": _KIND_DTYPES[col.kind],
                    "nullable": col.nullable,
                    "required": col.required,
                    "rules": ", ".join(rules),
                    "description": col.description,
                }
            )
    return pd.DataFrame(rows)
