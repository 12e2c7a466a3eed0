"""``make_spine``: the ``(employee_id, as_of)`` rows features are built for."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from .. import schemas
from ..exceptions import ContractError
from . import _frame
from ._pit import DAY_US, to_utc

__all__ = ["make_spine"]

logger = logging.getLogger(__name__)


def make_spine(
    employees: Any,
    *,
    start: Any = None,
    end: Any = None,
    freq: str = "MS",
    cutoffs: Any = None,
) -> Any:
    """The spine: one row per employee active at each cutoff time.

    An employee is active at ``as_of`` when hired on or before it (``hire_date <= as_of``)
    and not yet gone (no ``termination_date``, or ``as_of`` before the end of that last
    day). Give either a regular calendar (``start``, ``end``, ``freq``) or a ``cutoffs``
    table.

    Parameters
    ----------
    employees : DataFrame
        The ``employees`` contract table (pandas, polars, DuckDB relation or PySpark):
        ``employee_id`` and ``hire_date`` at least. Without ``termination_date`` nobody is
        known to have left: everyone hired by ``as_of`` is active. A pandas or polars table
        is validated in one pass: every problem of it is reported at once
        (:func:`talentml.schemas.validate`).
    start, end : str or Timestamp
        First and last cutoff (inclusive; naive times are UTC). Required with ``freq``:
        nothing here reads the clock.
    freq : str, default "MS"
        pandas frequency of the cutoffs, e.g. ``"MS"`` (month starts), ``"W-MON"``,
        ``"QS"``, ``"7D"``.
    cutoffs : DataFrame, optional
        Instead of a calendar: a pandas table with an ``as_of`` column (every active employee
        at each time) or with ``employee_id`` and ``as_of`` (those rows, kept when the employee
        is active then; other columns, e.g. labels, are passed through). Rows dropped
        because the employee was not active are counted in the log.

    Returns
    -------
    DataFrame
        ``employee_id``, ``as_of`` (UTC) and any passed-through columns, ordered by
        ``as_of`` then ``employee_id`` (calendar) or in ``cutoffs`` order; same kind as
        ``employees``.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.features import make_spine
    >>> employees = pd.DataFrame({
    ...     "employee_id": pd.array(["e1", "e2"], dtype="string"),
    ...     "hire_date": pd.to_datetime(["2023-05-10", "2024-02-15"], utc=True),
    ...     "termination_date": pd.to_datetime(["2024-02-29", None], utc=True),
    ... })
    >>> make_spine(employees, start="2024-01-01", end="2024-04-01", freq="MS")
      employee_id                     as_of
    0          e1 2024-01-01 00:00:00+00:00
    1          e1 2024-02-01 00:00:00+00:00
    2          e2 2024-03-01 00:00:00+00:00
    3          e2 2024-04-01 00:00:00+00:00
    """
    kind = _frame.kind_of(employees, name="employees")
    present = _frame.columns_of(employees)
    if kind in ("pandas", "polars"):
        schemas.validate("employees", _frame.to_pandas_sample(employees, kind, rows=None))
    else:
        missing = [c for c in ("employee_id", "hire_date") if c not in present]
        if missing:
            raise ContractError(
                f"table 'employees' is missing required column(s) {missing}; it has "
                f"{sorted(present)[:20]}. Fix: add them, or map yours: "
                "talentml.schemas.coerce('employees', df, rename={'<your column>': "
                f"{missing[0]!r}}})",
                table="employees",
            )
    has_end = "termination_date" in present
    per_employee = False
    if cutoffs is None:
        start_ts = to_utc(start, name="start")
        end_ts = to_utc(end, name="end")
        if end_ts < start_ts:
            raise ValueError(f"end ({end_ts}) is before start ({start_ts})")
        try:
            dates = pd.date_range(start_ts, end_ts, freq=freq)
        except ValueError as exc:
            raise ValueError(f"freq={freq!r} is not a pandas frequency: {exc}") from None
        if len(dates) == 0:
            raise ValueError(f"no cutoff between {start_ts} and {end_ts} at freq={freq!r}")
        table = pd.DataFrame({"as_of": dates.as_unit("ns")})
    else:
        if start is not None or end is not None:
            raise ValueError("give either cutoffs or start/end/freq, not both")
        if not isinstance(cutoffs, pd.DataFrame) or "as_of" not in cutoffs.columns:
            raise ValueError("cutoffs must be a pandas DataFrame with an 'as_of' column")
        table = cutoffs.reset_index(drop=True).copy()
        if not isinstance(table["as_of"].dtype, pd.DatetimeTZDtype):
            raise ContractError(
                f"table 'cutoffs': column 'as_of' has dtype {table['as_of'].dtype}; it must be "
                "timezone-aware (UTC)",
                table="cutoffs",
            )
        table["as_of"] = table["as_of"].dt.tz_convert("UTC").dt.as_unit("ns")
        bad = table.index[table["as_of"].isna()]
        if len(bad):
            raise ContractError(
                f"table 'cutoffs': column 'as_of' is missing in {len(bad)} row(s), "
                f"first rows {bad[:5].tolist()}",
                table="cutoffs",
            )
        per_employee = "employee_id" in table.columns
    table["_tml_order"] = range(len(table))

    session = _frame.open_session("auto", {"employees": employees})
    d = session.dialect
    ep = d.epoch_us
    try:
        emp = session.register(
            "employees",
            employees,
            columns=["employee_id", "hire_date"] + (["termination_date"] if has_end else []),
            nulls=None if has_end else {"termination_date": "TS"},
        )
        cut = session.register("cutoffs", table)
        active = (
            f"{ep('e.hire_date')} <= {ep('c.as_of')} AND (e.termination_date IS NULL "
            f"OR {ep('c.as_of')} < {ep('e.termination_date')} + {DAY_US})"
        )
        if per_employee:
            extra = [c for c in table.columns if c not in ("employee_id", "as_of", "_tml_order")]
            cols = ", ".join(["c.employee_id", "c.as_of"] + [f"c.{c}" for c in extra])
            sql = (
                f"SELECT {cols} FROM {cut} c JOIN {emp} e ON e.employee_id = c.employee_id "
                f"WHERE {active} ORDER BY c._tml_order"
            )
        else:
            sql = (
                f"SELECT e.employee_id, c.as_of FROM {emp} e JOIN {cut} c ON {active} "
                "ORDER BY c.as_of, e.employee_id"
            )
        if kind in ("pandas", "polars"):
            out = session.run(sql, eager=True)
            result = _frame.from_arrow(out, kind)
            if per_employee and len(result) < len(table):
                logger.info(
                    "make_spine: %d of %d cutoff rows dropped: the employee was unknown or "
                    "not active at as_of",
                    len(table) - len(result),
                    len(table),
                )
            return result
        return session.run(sql, eager=False)
    finally:
        if kind in ("pandas", "polars"):
            session.close()
