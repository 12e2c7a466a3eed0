"""The input tables of a build: required and optional columns, checks, registration.

Everything here runs before a feature is computed: column checks on every kind of table,
contract validation of pandas and polars tables (one pass each, every problem at once, see
:func:`talentml.schemas.validate`), spine problems, rows no feature can use (counted), and the
registration of the tables in the session with an all-missing column for each absent
optional one.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from .. import schemas
from ..exceptions import ContractError
from . import _frame
from ._catalog import INPUTS
from ._inputs import input_status
from ._sql import Dialect

logger = logging.getLogger("talentml.features._build")

#: Columns each input table must have (beyond the contract's optional ones).
_REQUIRED = {
    "spine": ("employee_id", "as_of"),
    "statements": (
        "employee_id",
        "verb",
        "object_id",
        "success",
        "completion",
        "score_scaled",
        "duration_s",
        "timestamp",
        "stored",
    ),
    "employees": ("employee_id", "hire_date"),
    "job_events": (
        "employee_id",
        "effective_date",
        "recorded_at",
        "event",
        "from_value",
        "to_value",
    ),
    "reviews": ("employee_id", "cycle_id", "period_end", "submitted_at", "overall_rating"),
    "competency_ratings": ("employee_id", "cycle_id", "competency", "rating", "submitted_at"),
    "catalog": ("activity_id",),
}
#: Optional columns the features read. An absent one is unknown: the features that need it
#: are missing (see ``_inputs``); the SQL reads an all-missing column of this type instead.
_OPTIONAL = {
    "employees": {
        "termination_date": "TS",
        "termination_type": "STR",
        "job_family": "STR",
        "job_level": "BIGINT",
        "department": "STR",
        "timezone": "STR",
        "manager_id": "STR",
    },
    "catalog": {
        "skills": "LIST",
        "level": "BIGINT",
        "mandatory": "BOOLEAN",
        "voluntary": "BOOLEAN",
        "program": "STR",
    },
    "reviews": {"potential_rating": "DOUBLE", "goal_attainment": "DOUBLE"},
}
#: Tables of a build besides the spine, in the order of ``build``'s parameters.
_TABLES = ("statements", "employees", "reviews", "competency_ratings", "job_events", "catalog")
MISSING_COLUMNS = (
    "table {table!r} is missing required column(s) {missing}; it has {present}. Fix: add "
    "them, or map yours: talentml.schemas.coerce({table!r}, df, rename={{'<your column>': "
    "{first!r}}})"
)
# Typed empty tables stand in for optional inputs that are not given.
_EMPTY = {
    "job_events": {
        "employee_id": "STR",
        "effective_date": "TS",
        "recorded_at": "TS",
        "event": "STR",
        "from_value": "STR",
        "to_value": "STR",
    },
    "reviews": {
        "employee_id": "STR",
        "cycle_id": "STR",
        "period_end": "TS",
        "submitted_at": "TS",
        "overall_rating": "DOUBLE",
    },
    "competency_ratings": {
        "employee_id": "STR",
        "cycle_id": "STR",
        "competency": "STR",
        "rating": "DOUBLE",
        "submitted_at": "TS",
    },
    "catalog": {
        "activity_id": "STR",
        "skills": "LIST",
        "level": "BIGINT",
        "mandatory": "BOOLEAN",
        "voluntary": "BOOLEAN",
        "program": "STR",
    },
}


# ------------------------------------------------------------------------ validation
def _check_columns(table: str, obj: Any) -> set[str]:
    cols = set(_frame.columns_of(obj))
    missing = [c for c in _REQUIRED[table] if c not in cols]
    if missing:
        shown = sorted(cols)[:20] + (["..."] if len(cols) > 20 else [])
        raise ContractError(
            MISSING_COLUMNS.format(table=table, missing=missing, present=shown, first=missing[0]),
            table=table,
        )
    return cols


def _validate_pandas(tables: dict[str, Any]) -> None:
    """Contract validation of pandas/polars inputs (statements: structure and types only)."""
    for name, obj in tables.items():
        if obj is None or name == "spine":
            continue
        kind = _frame.kind_of(obj, name=name)
        if kind not in ("pandas", "polars"):
            continue
        # Statements are the big table: check columns and dtypes on an empty slice; the
        # row rules were enforced by talentml.xapi.ingest, and rows that cannot be used are
        # counted below.
        sample = _frame.to_pandas_sample(obj, kind, rows=0 if name == "statements" else None)
        schemas.validate(name, sample)


def _check_spine_pandas(spine: pd.DataFrame) -> None:
    if (
        not isinstance(spine["as_of"].dtype, pd.DatetimeTZDtype)
        or str(spine["as_of"].dt.tz) != "UTC"
    ):
        raise ContractError(
            f"table 'spine': column 'as_of' has dtype {spine['as_of'].dtype}, it must be "
            "timezone-aware UTC datetimes (use talentml.features.make_spine, or "
            "pd.to_datetime(spine['as_of'], utc=True))",
            table="spine",
        )
    bad = spine.index[spine["as_of"].isna() | spine["employee_id"].isna()]
    if len(bad):
        raise ContractError(
            f"table 'spine': columns 'employee_id', 'as_of' must not be missing; "
            f"{len(bad)} row(s), first rows {bad[:5].tolist()}",
            table="spine",
        )


def _spine_problems(session: _frame.Session, t: dict[str, str], ep) -> None:
    """Spine rows whose employee is unknown or not yet hired: a clear error with rows."""
    rows = session.rows(
        f"""SELECT s.{_frame.RID}, s.employee_id, e.employee_id IS NULL AS unknown
        FROM {t["spine"]} s LEFT JOIN {t["employees"]} e ON e.employee_id = s.employee_id
        WHERE e.employee_id IS NULL OR {ep("s.as_of")} < {ep("e.hire_date")}
           OR s.as_of IS NULL
        ORDER BY s.{_frame.RID} LIMIT 5"""
    )
    if rows:
        n = session.rows(
            f"""SELECT COUNT(*) FROM {t["spine"]} s
            LEFT JOIN {t["employees"]} e ON e.employee_id = s.employee_id
            WHERE e.employee_id IS NULL OR {ep("s.as_of")} < {ep("e.hire_date")}
               OR s.as_of IS NULL"""
        )[0][0]
        detail = ", ".join(
            f"row {r[0]} ({r[1]}: {'not in employees' if r[2] else 'as_of before hire_date or missing'})"
            for r in rows
        )
        raise ContractError(
            f"table 'spine': {n} row(s) cannot have features: employee_id must be in "
            f"employees and as_of at or after hire_date; first: {detail}",
            table="spine",
        )
    dup = session.rows(f"SELECT COUNT(*) - COUNT(DISTINCT employee_id) FROM {t['employees']}")[0][0]
    if dup:
        raise ContractError(
            f"table 'employees': column 'employee_id' rule unique(employee_id) fails in "
            f"{dup} row(s)",
            table="employees",
        )


def _count_unused(session: _frame.Session, t: dict[str, str], given: set[str]) -> dict:
    """Rows of the inputs that no feature can use, by table and reason (logged, returned)."""
    parts = [
        f"""SELECT 'statements' AS tbl,
          CASE WHEN x.employee_id IS NULL THEN 'unmapped_actor'
               WHEN e.employee_id IS NULL THEN 'unknown_employee'
               ELSE 'missing_time' END AS reason, COUNT(*) AS n
        FROM {t["statements"]} x LEFT JOIN {t["employees"]} e ON e.employee_id = x.employee_id
        WHERE x.employee_id IS NULL OR e.employee_id IS NULL OR x.stored IS NULL
           OR x.timestamp IS NULL
        GROUP BY 1, 2"""
    ]
    for table in ("reviews", "competency_ratings", "job_events"):
        if table in given:
            parts.append(
                f"""SELECT '{table}' AS tbl, 'unknown_employee' AS reason, COUNT(*) AS n
                FROM {t[table]} x LEFT JOIN {t["employees"]} e ON e.employee_id = x.employee_id
                WHERE e.employee_id IS NULL HAVING COUNT(*) > 0"""
            )
    rows = session.rows("\nUNION ALL\n".join(parts))
    counts: dict[str, dict[str, int]] = {}
    for tbl, reason, n in rows:
        counts.setdefault(tbl, {})[reason] = int(n)
    for tbl, reasons in counts.items():
        detail = ", ".join(f"{r}: {n:,}" for r, n in sorted(reasons.items()))
        logger.warning(
            "%s: %s row(s) not used by any feature (%s)", tbl, f"{sum(reasons.values()):,}", detail
        )
    return counts


def _register_tables(session, inputs: dict[str, Any], columns: dict[str, set[str]]) -> dict:
    """Register the tables (not the spine) with the columns the features read.

    A table not given is an empty one of its kind (``_EMPTY``); an optional column a table
    does not have is an all-missing column (its features are left out by the build report,
    the SQL still names it).
    """
    d = session.dialect
    t: dict[str, str] = {}
    for name, obj in inputs.items():
        if name == "spine":
            continue
        if obj is None:
            if name in _EMPTY:
                t[name] = session.register_sql(name, _empty_sql(d, name))
            continue
        have = columns[name]
        optional = _OPTIONAL.get(name, {})
        select = None
        if name in ("statements", "employees", "catalog", "reviews"):
            select = list(_REQUIRED[name]) + [c for c in optional if c in have]
        nulls = None
        if name in ("employees", "catalog"):
            nulls = {c: kind for c, kind in optional.items() if c not in have} or None
        t[name] = session.register(name, obj, columns=select, nulls=nulls)
    return t


def _status(session, t, inputs: dict[str, Any], columns: dict[str, set[str]]):
    given = {name: obj is not None for name, obj in inputs.items()}
    return input_status(session, t, given, columns, INPUTS)


# --------------------------------------------------------------------------------- SQL
def _empty_sql(d: Dialect, table: str) -> str:
    types = {
        "STR": d.string,
        "TS": "TIMESTAMP",
        "DOUBLE": "DOUBLE",
        "BIGINT": "BIGINT",
        "BOOLEAN": "BOOLEAN",
        "LIST": "ARRAY<STRING>" if d.name == "spark" else "VARCHAR[]",
    }
    cols = ", ".join(f"CAST(NULL AS {types[k]}) AS {c}" for c, k in _EMPTY[table].items())
    return (
        f"SELECT {cols} WHERE 1 = 0"
        if d.name == "duckdb"
        else f"SELECT {cols} FROM (SELECT 1) z WHERE 1 = 0"
    )
