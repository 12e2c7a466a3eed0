"""The flight-risk label: a voluntary exit in ``(as_of, as_of + horizon]``."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from ._common import (
    _EMPLOYEE_DATES,
    _FLIGHT_COLUMNS,
    HORIZON_UNOBSERVED,
    INVOLUNTARY_EXIT,
    NOT_ACTIVE,
    UNKNOWN_EMPLOYEE,
    _active,
    _assemble,
    _check_on_inactive,
    _check_spine,
    _days,
    _horizon,
    _raise_inactive,
    _reasons,
    _report,
    _resolve_observed_until,
    _Spells,
)


# ------------------------------------------------------------------------------ flight risk
def flight_risk(
    spine: pd.DataFrame,
    employees: pd.DataFrame,
    *,
    horizon: str | pd.Timedelta | _dt.timedelta,
    observed_until: str | pd.Timestamp | None = None,
    on_inactive: str = "flag",
) -> pd.DataFrame:
    """Flight-risk labels: a voluntary exit in ``(as_of, as_of + horizon]``.

    For each spine row, the employee's termination (``employees.termination_date`` and
    ``termination_type``) decides the label. ``termination_date`` is the last day worked, so
    the exit takes effect at the end of it (``termination_date + 1 day``):

    * ``label = 1``: a voluntary exit effective in ``(as_of, as_of + horizon]``, that is a
      ``termination_date`` from ``as_of`` to ``as_of + horizon - 1 day`` for midnight
      ``as_of``;
    * ``label = 0``: still employed at ``as_of + horizon``;
    * ``label = <NA>`` (censored, see ``censored``): an involuntary termination inside the
      horizon (``"involuntary_exit"``, a competing event), a horizon that ends after
      ``observed_until`` (``"horizon_unobserved"``, whatever happened before it: keeping only
      the rows with an exit would inflate the positive rate of recent rows), an employee not
      active at ``as_of`` (``"not_active"``) or absent from ``employees``
      (``"unknown_employee"``).

    For survival models every active row also gets ``duration_days``, the days from ``as_of``
    to the first of: the end of employment (voluntary or involuntary exit) and
    ``observed_until`` (not cut at the horizon), and ``event``, 1 if that duration ends in a
    voluntary exit.

    Parameters
    ----------
    spine : pandas.DataFrame
        The rows to label: ``employee_id`` and ``as_of`` (timezone-aware, UTC), plus any
        columns to pass through (for example from :func:`talentml.features.make_spine`).
    employees : pandas.DataFrame
        The ``employees`` table (validated against its contract).
    horizon : str or Timedelta
        Length of the outcome window, for example ``"180D"``.
    observed_until : str or Timestamp, optional
        The last moment at which outcomes are known (for example the date of the HRIS export).
        Terminations effective after it are ignored. Default: the latest ``hire_date`` or
        ``termination_date + 1 day`` in ``employees`` (logged). With real extracts that hold
        future-dated records (notice periods, pre-boarded hires) pass it explicitly.
    on_inactive : {"flag", "raise"}, default "flag"
        What to do with spine rows whose employee is not active at ``as_of``: keep them with
        ``censored = "not_active"``, or raise a :class:`~talentml.ContractError` naming them.

    Returns
    -------
    pandas.DataFrame
        The spine (same index, same order, its columns passed through) plus ``label``
        (``Int64``: 1, 0 or ``<NA>``), ``censored`` (``string``: the reason, ``<NA>`` when
        labelled), ``duration_days`` (float, NaN for rows not at risk) and ``event``
        (``Int64``).

    Raises
    ------
    ContractError
        If ``employees`` breaks its contract, or the spine lacks ``employee_id`` / ``as_of``,
        has missing or naive ``as_of`` values, or (``on_inactive="raise"``) has rows whose
        employee is not active.

    See Also
    --------
    high_potential : Promotion within the horizon.
    CENSORING_REASONS : Every censoring reason and its meaning.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.labels import flight_risk
    >>> employees = pd.DataFrame({
    ...     "employee_id": ["a", "b", "c", "d"],
    ...     "hire_date": pd.to_datetime(["2020-01-01"] * 4, utc=True),
    ...     "termination_date": pd.to_datetime(
    ...         ["2024-03-10", "2024-02-01", None, "2023-12-15"], utc=True),
    ...     "termination_type": ["voluntary", "involuntary", None, "voluntary"],
    ...     "job_family": "Sales", "job_level": 2, "department": "Sales",
    ...     "location": "Berlin", "timezone": "Europe/Berlin", "manager_id": None,
    ... })
    >>> spine = pd.DataFrame({
    ...     "employee_id": ["a", "b", "c", "d", "c"],
    ...     "as_of": pd.to_datetime(["2024-01-01"] * 4 + ["2024-06-01"], utc=True),
    ... })
    >>> y = flight_risk(spine, employees, horizon="90D", observed_until="2024-06-30")
    >>> y.drop(columns="as_of")
      employee_id  label            censored  duration_days  event
    0           a      1                <NA>           70.0      1
    1           b   <NA>    involuntary_exit           32.0      0
    2           c      0                <NA>          181.0      0
    3           d   <NA>          not_active            NaN   <NA>
    4           c   <NA>  horizon_unobserved           29.0      0

    Classification uses the labelled rows; survival models use every row with a duration:

    >>> y.dropna(subset=["label"])["label"].tolist()
    [1, 0]
    """
    _check_on_inactive(on_inactive)
    h = np.timedelta64(_horizon(horizon).as_unit("ns").value, "ns")
    ids, as_of = _check_spine(spine, _FLIGHT_COLUMNS)
    spells = _Spells.from_employees(employees)
    ou = _resolve_observed_until(observed_until, {_EMPLOYEE_DATES: spells.latest()}, "flight_risk")
    known, hire, gone, ttype = spells.lookup(ids, ou)
    n = len(ids)
    end = as_of + h
    active = _active(known, hire, gone, as_of)
    if on_inactive == "raise" and (known & ~active).any():
        _raise_inactive(spine, known & ~active, "flight_risk")

    left = ~np.isnat(gone) & (gone > as_of)  # a known exit after as_of
    voluntary = ttype == "voluntary"
    inside = left & (gone <= end)
    reason = _reasons(n)
    label = np.full(n, -1, dtype=np.int64)
    reason[~known] = UNKNOWN_EMPLOYEE
    reason[known & ~active] = NOT_ACTIVE
    rest = active & (end <= ou)
    reason[active & ~rest] = HORIZON_UNOBSERVED
    inv = rest & inside & ~voluntary
    reason[inv] = INVOLUNTARY_EXIT
    ok = rest & ~inv
    label[ok] = (inside & voluntary)[ok].astype(np.int64)

    at_risk = active & (as_of < ou)
    stop = np.where(left, gone, ou)
    duration = np.where(at_risk, _days(stop - as_of), np.nan)
    event = np.where(at_risk, (left & voluntary).astype(np.int64), -1)
    _report("flight_risk", label, reason)
    return _assemble(spine, label, reason, duration, event)
