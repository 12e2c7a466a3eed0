"""The high-potential label: a promotion or designation in ``(as_of, as_of + horizon]``."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import schemas
from ..exceptions import ContractError
from ._common import (
    _DAY,
    _EMPLOYEE_DATES,
    _FLIGHT_COLUMNS,
    _SPELL_EVENTS,
    EXIT,
    HORIZON_UNOBSERVED,
    NOT_ACTIVE,
    UNKNOWN_EMPLOYEE,
    _active,
    _assemble,
    _check_on_inactive,
    _check_spine,
    _days,
    _fail,
    _horizon,
    _ns,
    _raise_inactive,
    _reasons,
    _report,
    _resolve_observed_until,
    _Spells,
)


# --------------------------------------------------------------------------- high potential
def hipo_designations(reviews: pd.DataFrame, *, min_potential: float = 3) -> pd.DataFrame:
    """High-potential designations from review potential ratings, dated when submitted.

    A designation is a review whose ``potential_rating`` is at least ``min_potential``; it is
    dated ``submitted_at`` (when the rating was given and became known), not ``period_end``.
    Pass the result to :func:`high_potential` as ``designations``.

    Parameters
    ----------
    reviews : pandas.DataFrame
        The ``reviews`` table (validated; it needs the optional ``potential_rating`` column).
    min_potential : float, default 3
        The lowest potential rating that counts as a designation (ratings run 1 to 3).

    Returns
    -------
    pandas.DataFrame
        ``employee_id``, ``designated_at`` (UTC) and ``cycle_id``, one row per designation.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.labels import hipo_designations
    >>> reviews = pd.DataFrame({
    ...     "employee_id": ["a", "b"], "cycle_id": ["2024H1", "2024H1"],
    ...     "period_end": pd.to_datetime(["2024-06-30"] * 2, utc=True),
    ...     "submitted_at": pd.to_datetime(["2024-07-20", "2024-07-22"], utc=True),
    ...     "overall_rating": [4.0, 3.0], "potential_rating": [3.0, 2.0],
    ... })
    >>> hipo_designations(reviews)
      employee_id             designated_at cycle_id
    0           a 2024-07-20 00:00:00+00:00   2024H1
    """
    schemas.validate("reviews", reviews)
    if "potential_rating" not in reviews.columns:
        raise ContractError(
            "table 'reviews' has no column 'potential_rating' (optional in its contract, "
            "needed for high-potential designations)",
            table="reviews",
        )
    hit = reviews["potential_rating"].ge(min_potential).fillna(False).to_numpy(bool)
    out = reviews.loc[hit, ["employee_id", "submitted_at", "cycle_id"]]
    out = out.rename(columns={"submitted_at": "designated_at"}).reset_index(drop=True)
    out["employee_id"] = out["employee_id"].astype("string")
    return out


def _check_designations(designations: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(designations, pd.DataFrame):
        raise TypeError(
            "designations must be a pandas DataFrame, got " + type(designations).__name__
        )
    missing = [c for c in ("employee_id", "designated_at") if c not in designations.columns]
    if missing:
        raise ContractError(
            f"table 'designations' is missing column(s) {missing}; it needs employee_id and "
            "designated_at (UTC), see hipo_designations()",
            table="designations",
        )
    when = designations["designated_at"]
    if not isinstance(when.dtype, pd.DatetimeTZDtype):
        raise ContractError(
            "table 'designations' column 'designated_at' must hold timezone-aware timestamps "
            f"(UTC), got dtype {when.dtype}",
            table="designations",
        )
    bad = when.isna() | designations["employee_id"].isna()
    if bad.any():
        _fail(
            "designations",
            "designated_at",
            "not_null",
            designations.index[bad],
            when[bad],
            "employee_id or designated_at is missing",
        )
    return pd.DataFrame(
        {
            "employee_id": designations["employee_id"].astype("string").to_numpy(object),
            "at": _ns(when),
        }
    )


def _first_after(
    ids: np.ndarray, as_of: np.ndarray, facts: pd.DataFrame, until: np.datetime64
) -> np.ndarray:
    """For each (id, as_of), the first fact time strictly after as_of (and <= until), or NaT."""
    facts = facts[facts["at"] <= until]
    n = len(ids)
    if n == 0 or facts.empty:
        return np.full(n, np.datetime64("NaT", "ns"))
    # the join key as Python objects on both sides: pandas 3 infers its str dtype from an
    # object array of strings and refuses to join str with object
    left = pd.DataFrame(
        {"employee_id": pd.Series(ids, dtype=object), "as_of": as_of, "row": np.arange(n)}
    )
    left = left.sort_values("as_of", kind="stable")
    right = facts.rename(columns={"at": "as_of"}).assign(
        first=lambda d: d["as_of"], employee_id=lambda d: d["employee_id"].astype(object)
    )
    right = right.sort_values("as_of", kind="stable")
    merged = pd.merge_asof(
        left,
        right[["employee_id", "as_of", "first"]],
        on="as_of",
        by="employee_id",
        direction="forward",
        allow_exact_matches=False,
    )
    out = np.full(n, np.datetime64("NaT", "ns"))
    out[merged["row"].to_numpy()] = merged["first"].to_numpy("datetime64[ns]")
    return out


def _facts(
    job_events: pd.DataFrame,
    events: tuple[str, ...],
    employees: pd.DataFrame | None,
    spells: _Spells,
    designations: pd.DataFrame | None,
) -> tuple[pd.DataFrame, dict[str, np.datetime64]]:
    """The dated events that make a label (``employee_id``, ``at``), and the candidate ends of
    observation (the latest date of each table)."""
    facts = pd.DataFrame(
        {
            "employee_id": job_events["employee_id"].astype("string").to_numpy(object),
            "at": _ns(job_events["effective_date"]),
        }
    )[job_events["event"].isin(events).to_numpy(bool)]
    effective = _ns(job_events["effective_date"])
    ends = job_events["event"].eq("termination").to_numpy(bool)
    effective = np.where(ends, effective + _DAY, effective)
    candidates = {
        "job_events (effective_date, terminations + 1 day)": (
            effective.max() if len(effective) else np.datetime64("NaT", "ns")
        )
    }
    if employees is not None:
        candidates[_EMPLOYEE_DATES] = spells.latest()
    if designations is not None:
        extra = _check_designations(designations)
        facts = pd.concat([facts, extra], ignore_index=True)
    return facts, candidates


def high_potential(
    spine: pd.DataFrame,
    job_events: pd.DataFrame,
    *,
    horizon: str | pd.Timedelta | _dt.timedelta,
    employees: pd.DataFrame | None = None,
    observed_until: str | pd.Timestamp | None = None,
    events: Iterable[str] = ("promotion",),
    designations: pd.DataFrame | None = None,
    on_inactive: str = "flag",
) -> pd.DataFrame:
    """High-potential labels: a promotion (or designation) in ``(as_of, as_of + horizon]``.

    * ``label = 1``: a job event of a kind in ``events`` (by default a promotion), or a
      designation, effective in ``(as_of, as_of + horizon]``;
    * ``label = 0``: none of them, and still employed at ``as_of + horizon``;
    * ``label = <NA>``: the employee left inside the horizon before any of them (``"exit"``),
      the horizon ends after ``observed_until`` (``"horizon_unobserved"``), the employee is
      not active at ``as_of`` (``"not_active"``) or unknown (``"unknown_employee"``).

    Events are dated by ``effective_date``; ``recorded_at`` plays no part (a label may be
    recorded after ``as_of``). ``duration_days`` and ``event`` describe the time to the first
    such event (``event = 1``) or to censoring by an exit or ``observed_until``.

    Parameters
    ----------
    spine : pandas.DataFrame
        ``employee_id`` and ``as_of`` (timezone-aware, UTC), plus columns to pass through.
    job_events : pandas.DataFrame
        The ``job_events`` table (validated).
    horizon : str or Timedelta
        Length of the outcome window, for example ``"365D"``.
    employees : pandas.DataFrame, optional
        The ``employees`` table: hire and termination dates decide who is active and who
        left. Without it they come from ``job_events``: the first ``hire`` and the last
        ``termination`` event of each employee, whose ``effective_date`` is the last day like
        ``termination_date``; an employee without a hire event is taken as hired before every
        ``as_of``.
    observed_until : str or Timestamp, optional
        The last moment at which outcomes are known. Facts effective after it are ignored.
        Default: the latest date among ``job_events.effective_date`` (a day later for
        terminations) and, when given, the employees' hire and termination dates, logged.
        Designations do not move it: when they are known later than the HR record, pass
        ``observed_until``.
    events : iterable of str, default ("promotion",)
        The job events that count, any of ``"promotion"``, ``"transfer"``,
        ``"manager_change"``.
    designations : pandas.DataFrame, optional
        High-potential designations, ``employee_id`` and ``designated_at`` (UTC), for example
        from :func:`hipo_designations`; a designation inside the horizon counts as an event.
    on_inactive : {"flag", "raise"}, default "flag"
        Keep rows whose employee is not active at ``as_of`` with ``censored = "not_active"``,
        or raise naming them.

    Returns
    -------
    pandas.DataFrame
        The spine (same index and order) plus ``label``, ``censored``, ``duration_days`` and
        ``event``, as in :func:`flight_risk`.

    Raises
    ------
    ContractError
        If an input breaks its contract or a spine row is inactive with ``on_inactive="raise"``.
    ValueError
        If ``events`` names an unknown or unusable job event.

    See Also
    --------
    flight_risk : Voluntary exit within the horizon.
    hipo_designations : Designations from review potential ratings.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.labels import high_potential
    >>> job_events = pd.DataFrame({
    ...     "employee_id": ["a", "a", "b", "b", "c"],
    ...     "effective_date": pd.to_datetime(
    ...         ["2020-01-01", "2024-03-01", "2020-01-01", "2024-02-10", "2020-01-01"], utc=True),
    ...     "recorded_at": pd.to_datetime(
    ...         ["2020-01-01", "2024-03-15", "2020-01-01", "2024-02-12", "2020-01-01"], utc=True),
    ...     "event": ["hire", "promotion", "hire", "termination", "hire"],
    ...     "from_value": [None, "2", None, "voluntary", None],
    ...     "to_value": ["2", "3", "2", None, "2"],
    ... })
    >>> spine = pd.DataFrame({
    ...     "employee_id": ["a", "b", "c"],
    ...     "as_of": pd.to_datetime(["2024-01-01"] * 3, utc=True),
    ... })
    >>> y = high_potential(spine, job_events, horizon="180D", observed_until="2024-12-31")
    >>> y[["employee_id", "label", "censored", "duration_days", "event"]]
      employee_id  label censored  duration_days  event
    0           a      1     <NA>           60.0      1
    1           b   <NA>     exit           41.0      0
    2           c      0     <NA>          365.0      0
    """
    _check_on_inactive(on_inactive)
    h = np.timedelta64(_horizon(horizon).as_unit("ns").value, "ns")
    if isinstance(events, str):
        events = (events,)
    events = tuple(events)
    usable = [e for e in schemas.JOB_EVENTS if e not in _SPELL_EVENTS]
    wrong = [e for e in events if e not in usable]
    if wrong or not events:
        raise ValueError(f"events must be a non-empty subset of {usable}, got {list(events)}")
    ids, as_of = _check_spine(spine, _FLIGHT_COLUMNS)
    schemas.validate("job_events", job_events)
    if employees is not None:
        spells = _Spells.from_employees(employees)
    else:
        spells = _Spells.from_job_events(job_events)
    facts, candidates = _facts(job_events, events, employees, spells, designations)
    ou = _resolve_observed_until(observed_until, candidates, "high_potential")
    known, hire, gone, _ = spells.lookup(ids, ou)
    if employees is None:
        known = np.ones(len(ids), dtype=bool)  # job_events define the population
        hire = np.where(np.isnat(hire), as_of, hire)
    n = len(ids)
    end = as_of + h
    active = _active(known, hire, gone, as_of)
    if on_inactive == "raise" and (known & ~active).any():
        _raise_inactive(spine, known & ~active, "high_potential")

    first = _first_after(ids, as_of, facts, ou)
    left = ~np.isnat(gone) & (gone > as_of)
    hit = ~np.isnat(first) & (first <= end)
    exited = left & (gone <= end) & ~hit
    reason = _reasons(n)
    label = np.full(n, -1, dtype=np.int64)
    reason[~known] = UNKNOWN_EMPLOYEE
    reason[known & ~active] = NOT_ACTIVE
    rest = active & (end <= ou)
    reason[active & ~rest] = HORIZON_UNOBSERVED
    reason[rest & exited] = EXIT
    ok = rest & ~exited
    label[ok] = hit[ok].astype(np.int64)

    at_risk = active & (as_of < ou)
    has_first = ~np.isnat(first)
    stop = np.where(left, gone, ou)
    happened = has_first & (first <= stop)
    stop = np.where(happened, first, stop)
    duration = np.where(at_risk, _days(stop - as_of), np.nan)
    event = np.where(at_risk, happened.astype(np.int64), -1)
    _report("high_potential", label, reason)
    return _assemble(spine, label, reason, duration, event)
