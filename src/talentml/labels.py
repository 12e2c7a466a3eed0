"""Labels: flight risk, high potential and ramp-up, point in time.

A label is an outcome that happens *after* a point in time ``as_of``. Every function here
takes the rows to label explicitly (a *spine* of ``employee_id`` and ``as_of``, or the hires
of an ``employees`` table) and returns pandas, aligned with its input:

* :func:`flight_risk` - a voluntary exit in ``(as_of, as_of + horizon]``; involuntary exits
  and horizons that run past ``observed_until`` are censored (missing label) and keep a
  duration for survival models;
* :func:`high_potential` - a promotion (or another job event, or a high-potential
  designation such as :func:`hipo_designations`) in ``(as_of, as_of + horizon]``; an exit
  inside the horizon before it is censored;
* :func:`ramp_up` - the interval-censored time from hire to sustained productivity, as
  ``lower_days`` / ``upper_days`` (what XGBoost's ``survival:aft`` objective wants);
  :func:`ramp_up_spine` attaches it to ``hire + k days`` rows.

Point in time. A label uses only facts *effective after* ``as_of`` (they may be recorded
long after it: that is what a label is). The one fact at or before ``as_of`` that matters is
whether the row is at risk at all: an employee not yet hired, or whose termination is
effective at or before ``as_of``, is not active and gets no label (``censored =
"not_active"``). Nothing reads the clock: the end of observation is ``observed_until``, given
or derived from the data (and logged). Facts effective after ``observed_until`` are ignored.

Dates. ``hire_date`` is the first day of employment, effective at its start;
``termination_date`` is the *last* day (the contract), so a termination takes effect at the
end of that day, ``termination_date + 1 day``: an employee is active at ``as_of`` when
``hire_date <= as_of < termination_date + 1 day``, exactly as
:func:`talentml.features.make_spine` selects them, and a termination dated ``as_of`` is an
exit inside ``(as_of, as_of + horizon]``. Other job events (promotions, transfers) take effect
at the start of their ``effective_date``.

Censoring reasons are listed in :data:`CENSORING_REASONS`; ``docs/labels.md`` explains each
label, its censoring and its point-in-time rule.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from . import schemas
from .exceptions import ContractError

__all__ = [
    "CENSORING_REASONS",
    "flight_risk",
    "high_potential",
    "hipo_designations",
    "ramp_up",
    "ramp_up_spine",
]

logger = logging.getLogger(__name__)

UNKNOWN_EMPLOYEE = "unknown_employee"
NOT_ACTIVE = "not_active"
HORIZON_UNOBSERVED = "horizon_unobserved"
INVOLUNTARY_EXIT = "involuntary_exit"
EXIT = "exit"
PRODUCTIVE_BY_AS_OF = "productive_by_as_of"

#: Every censoring reason a label can carry, with its meaning.
CENSORING_REASONS: Mapping[str, str] = MappingProxyType(
    {
        UNKNOWN_EMPLOYEE: "the spine's employee_id is not in the employees table",
        NOT_ACTIVE: "not at risk at as_of: hired after as_of, or last day (termination_date) "
        "before as_of",
        HORIZON_UNOBSERVED: "as_of + horizon is after observed_until: the outcome is not known "
        "for the whole horizon",
        INVOLUNTARY_EXIT: "flight risk: an involuntary exit inside the horizon ends the "
        "observation (a competing event, not a 0)",
        EXIT: "high potential: the employee left inside the horizon without the event",
        PRODUCTIVE_BY_AS_OF: "ramp-up: the hire's first sustained productive period ended at or "
        "before as_of: nothing is left to predict",
    }
)

_DAY_NS = 86_400_000_000_000
_DAY = np.timedelta64(1, "D")
_SPINE_COLUMNS = ("employee_id", "as_of")
_FLIGHT_COLUMNS = ("label", "censored", "duration_days", "event")
_SPELL_EVENTS = ("hire", "termination")
_EMPLOYEE_DATES = "employees (hire_date, termination_date + 1 day)"

MSG_HORIZON = (
    "horizon must be a positive duration, as a pandas Timedelta, a datetime.timedelta or a "
    "string such as '180D' or '26W' (calendar units like months or years are ambiguous: use "
    "days); got {value!r}"
)
MSG_ON_INACTIVE = "on_inactive must be 'flag' or 'raise', got {value!r}"


# --------------------------------------------------------------------------------- helpers
def _horizon(horizon: object) -> pd.Timedelta:
    if not isinstance(horizon, str | pd.Timedelta | _dt.timedelta | np.timedelta64):
        raise TypeError(MSG_HORIZON.format(value=horizon))
    try:
        value = pd.Timedelta(horizon)
    except ValueError:
        raise ValueError(MSG_HORIZON.format(value=horizon)) from None
    if value is pd.NaT or pd.isna(value) or value <= pd.Timedelta(0):
        raise ValueError(MSG_HORIZON.format(value=horizon))
    return value


def _utc(value: object, name: str) -> pd.Timestamp:
    """A timestamp in UTC; naive values are read as UTC."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a timestamp, got {value!r}") from None
    if ts is pd.NaT or pd.isna(ts):
        raise ValueError(f"{name} must be a timestamp, got {value!r}")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _ns(values: pd.Series) -> np.ndarray:
    """UTC datetimes as numpy ``datetime64[ns]`` (NaT kept)."""
    return values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")


def _days(delta: np.ndarray) -> np.ndarray:
    """numpy ``timedelta64[ns]`` to float days (NaT to NaN)."""
    out = delta.astype("timedelta64[ns]").astype(np.int64) / _DAY_NS
    out[np.isnat(delta)] = np.nan
    return out


def _fail(table: str, column: str, rule: str, rows: pd.Index, values, message: str) -> None:
    rows = list(rows)
    values = list(values)
    failures = pd.DataFrame(
        {"column": column, "rule": rule, "row": rows, "value": values},
        columns=["column", "rule", "row", "value"],
    )
    raise ContractError(
        f"table {table!r} column {column!r}: {message} in {len(rows)} row(s), "
        f"first rows {rows[:5]} with values {values[:5]}",
        table=table,
        failures=failures,
    )


def _check_spine(spine: object, added: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Validate a spine; return its employee ids (object array) and as_of (datetime64[ns])."""
    if not isinstance(spine, pd.DataFrame):
        raise TypeError(f"table 'spine' must be a pandas DataFrame, got {type(spine).__name__}")
    missing = [c for c in _SPINE_COLUMNS if c not in spine.columns]
    if missing:
        raise ContractError(
            f"table 'spine' is missing required column(s) {missing}; a spine has "
            f"{list(_SPINE_COLUMNS)} (plus any columns to pass through)",
            table="spine",
        )
    clash = [c for c in added if c in spine.columns]
    if clash:
        raise ContractError(
            f"table 'spine' already has column(s) {clash}, which the labels add; "
            "rename or drop them first",
            table="spine",
        )
    as_of = spine["as_of"]
    if not isinstance(as_of.dtype, pd.DatetimeTZDtype):
        raise ContractError(
            f"table 'spine' column 'as_of' must hold timezone-aware timestamps (UTC), got dtype "
            f"{as_of.dtype}; use pd.to_datetime(..., utc=True)",
            table="spine",
        )
    bad = as_of.isna()
    if bad.any():
        _fail("spine", "as_of", "not_null", spine.index[bad], as_of[bad], "as_of is missing")
    ids = spine["employee_id"]
    blank = ids.isna() | (ids.astype("string").str.strip().str.len() == 0).fillna(True)
    if blank.any():
        _fail(
            "spine",
            "employee_id",
            "non_blank",
            spine.index[blank],
            ids[blank],
            "employee_id is missing or blank",
        )
    return ids.astype("string").to_numpy(dtype=object), _ns(as_of)


def _check_on_inactive(on_inactive: str) -> None:
    if on_inactive not in ("flag", "raise"):
        raise ValueError(MSG_ON_INACTIVE.format(value=on_inactive))


class _Spells:
    """One employment spell per employee (numpy arrays).

    ``hire`` is when employment starts, ``gone`` when it ends: the end of the termination
    date's day (``termination_date + 1 day``), NaT while employed; ``ttype`` the termination
    type.
    """

    def __init__(self, ids: pd.Index, hire: np.ndarray, gone: np.ndarray, ttype: np.ndarray):
        self.ids = ids
        self.hire = hire
        self.gone = gone
        self.ttype = ttype

    @classmethod
    def from_employees(cls, employees: pd.DataFrame) -> _Spells:
        # who left, when and how: optional in the contract, needed by every exit label
        schemas.validate("employees", employees, require=("termination_date", "termination_type"))
        return cls(
            pd.Index(employees["employee_id"].astype("string").to_numpy(dtype=object)),
            _ns(employees["hire_date"]),
            _ns(employees["termination_date"]) + _DAY,
            employees["termination_type"].astype("string").fillna("").to_numpy(dtype=object),
        )

    @classmethod
    def from_job_events(cls, job_events: pd.DataFrame) -> _Spells:
        """First hire and last termination of each employee in ``job_events``."""
        ev = job_events[job_events["event"].isin(_SPELL_EVENTS)]
        ids = pd.Index(pd.unique(job_events["employee_id"].astype("string").to_numpy(object)))
        hires = ev[ev["event"] == "hire"].groupby("employee_id")["effective_date"].min()
        terms = (
            ev[ev["event"] == "termination"]
            .sort_values("effective_date", kind="stable")
            .drop_duplicates("employee_id", keep="last")
            .set_index("employee_id")
        )
        hire = hires.reindex(ids)
        term = terms["effective_date"].reindex(ids)
        ttype = terms["from_value"].astype("string").reindex(ids).fillna("")
        return cls(
            ids,
            _ns(hire.astype("datetime64[ns, UTC]")),
            _ns(term.astype("datetime64[ns, UTC]")) + _DAY,
            ttype.to_numpy(dtype=object),
        )

    def lookup(
        self, ids: np.ndarray, observed_until: np.datetime64
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Known (position >= 0), hire, end of employment (NaT if after observed_until), type."""
        pos = self.ids.get_indexer(ids)  # -1 for unknown ids: the padding below
        known = pos >= 0
        nat = np.datetime64("NaT", "ns")
        hire = np.append(self.hire, nat)[pos]
        gone = np.append(self.gone, nat)[pos]
        gone = np.where(gone <= observed_until, gone, nat)  # facts after the end are unknown
        ttype = np.where(np.isnat(gone), "", np.append(self.ttype, "")[pos])
        return known, hire, gone, ttype

    def latest(self) -> np.datetime64:
        values = np.concatenate([self.hire, self.gone])
        values = values[~np.isnat(values)]
        return values.max() if len(values) else np.datetime64("NaT", "ns")


def _resolve_observed_until(
    observed_until: object, candidates: Mapping[str, np.datetime64], what: str
) -> np.datetime64:
    if observed_until is not None:
        ts = _utc(observed_until, "observed_until")
        logger.info("%s: observed_until = %s (given)", what, ts)
    else:
        known = {k: v for k, v in candidates.items() if not np.isnat(v)}
        if not known:
            raise ValueError(
                f"{what}: observed_until cannot be derived from empty tables; pass it explicitly"
            )
        source = max(known, key=lambda k: known[k])
        ts = pd.Timestamp(known[source]).tz_localize("UTC")
        logger.info(
            "%s: observed_until = %s, derived as the latest date in %s "
            "(pass observed_until= to set the end of observation explicitly)",
            what,
            ts,
            source,
        )
    return np.datetime64(ts.tz_convert("UTC").tz_localize(None).as_unit("ns"), "ns")


def _active(known, hire, gone, as_of) -> np.ndarray:
    return known & (hire <= as_of) & ~(gone <= as_of)


def _reasons(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def _report(what: str, label: np.ndarray, reason: np.ndarray) -> None:
    counts = pd.Series(reason[reason != None]).value_counts()  # noqa: E711
    labelled = int((label >= 0).sum())
    logger.info(
        "%s: %d rows, %d labelled (%d positive), censored: %s",
        what,
        len(label),
        labelled,
        int((label == 1).sum()),
        ", ".join(f"{k}={v}" for k, v in counts.items()) or "none",
    )
    if UNKNOWN_EMPLOYEE in counts.index:
        logger.warning(
            "%s: %d spine row(s) name an employee_id absent from the employees table",
            what,
            int(counts[UNKNOWN_EMPLOYEE]),
        )


def _raise_inactive(spine: pd.DataFrame, mask: np.ndarray, what: str) -> None:
    ids = spine["employee_id"].to_numpy()[mask]
    as_of = spine["as_of"].to_numpy()[mask]
    _fail(
        "spine",
        "as_of",
        NOT_ACTIVE,
        spine.index[mask],
        [f"{e} @ {pd.Timestamp(a)}" for e, a in zip(ids, as_of, strict=True)],
        f"{what}: the employee is not active at as_of (hired later, or last day before it); "
        "pass on_inactive='flag' to keep these rows with censored='not_active'",
    )


def _nullable_int(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Int64 with <NA> where ``values`` is negative."""
    return pd.arrays.IntegerArray(np.maximum(values, 0).astype(np.int64), values < 0)


def _assemble(
    spine: pd.DataFrame,
    label: np.ndarray,
    reason: np.ndarray,
    duration: np.ndarray,
    event: np.ndarray,
) -> pd.DataFrame:
    out = spine.copy()
    out["label"] = _nullable_int(label)
    out["censored"] = pd.array(reason, dtype="string")
    out["duration_days"] = duration.astype("float64")
    out["event"] = _nullable_int(event)
    return out


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


# ----------------------------------------------------------------------------------- ramp-up
_RAMP_COLUMNS = (
    "employee_id",
    "hire_date",
    "termination_date",
    "lower_days",
    "upper_days",
    "observed",
    "first_productive_period",
    "last_period_end",
    "n_periods",
)


def ramp_up(
    employees: pd.DataFrame,
    productivity: pd.DataFrame,
    *,
    threshold: float = 0.9,
    sustain: int = 2,
    observed_until: str | pd.Timestamp | None = None,
    hired_after: str | pd.Timestamp | None = None,
    metric: str | None = None,
) -> pd.DataFrame:
    """Ramp-up labels: interval-censored time from hire to sustained productivity.

    A hire is productive from the first period of the first run of ``sustain`` consecutive
    recorded periods whose ``value / target`` is at least ``threshold``. The time from hire to
    productivity is known to lie in ``(lower_days, upper_days]``:

    * ``upper_days``: days from ``hire_date`` to the end of that first period;
    * ``lower_days``: days from ``hire_date`` to the end of the period before it (below the
      threshold), or 0 when it is the hire's first period;
    * right-censored (``observed = False``, no such run yet): ``upper_days = inf`` and
      ``lower_days`` = days to the end of the last period below the threshold (0 if none): a
      trailing run shorter than ``sustain`` may still become the productive run.

    These are the ``label_lower_bound`` / ``label_upper_bound`` of XGBoost's ``survival:aft``
    objective. Runs are made of consecutive *recorded* periods in ``period_end`` order: a
    period without a record is skipped, it does not break a run.

    Parameters
    ----------
    employees : pandas.DataFrame
        The ``employees`` table (validated).
    productivity : pandas.DataFrame
        The ``productivity`` table (validated): one row per employee, period and metric.
    threshold : float, default 0.9
        The share of target that counts as productive.
    sustain : int, default 2
        How many consecutive periods at or above ``threshold`` make productivity sustained.
    observed_until : str or Timestamp, optional
        Use only productivity records with ``recorded_at`` at or before it (the data as known
        then). Default: every record (the latest ``recorded_at``, logged).
    hired_after : str or Timestamp, optional
        Keep only hires with ``hire_date`` on or after this date (for example the start of a
        simulation, to leave out people hired before records began).
    metric : str, optional
        The productivity metric to use. Required when an employee has several metrics in the
        same period.

    Returns
    -------
    pandas.DataFrame
        One row per hire with usable productivity records: ``employee_id``, ``hire_date``,
        ``termination_date`` (NaT if none known), ``lower_days``, ``upper_days`` (float, inf
        when right-censored), ``observed`` (bool), ``first_productive_period`` (the
        ``period_end`` that starts the run, NaT if right-censored), ``last_period_end`` and
        ``n_periods``.

    Raises
    ------
    ContractError
        If an input breaks its contract, or an employee has several metrics in one period and
        ``metric`` is not given.

    See Also
    --------
    ramp_up_spine : The same labels on ``hire + k days`` rows, for models with features.

    Notes
    -----
    Productivity records of employees absent from ``employees``, of periods that end before
    the hire date or after the termination date, are left out, counted and logged as warnings.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.labels import ramp_up
    >>> employees = pd.DataFrame({
    ...     "employee_id": ["a", "b"],
    ...     "hire_date": pd.to_datetime(["2024-01-01", "2024-01-01"], utc=True),
    ...     "termination_date": pd.to_datetime([None, None], utc=True),
    ...     "termination_type": None, "job_family": "Sales", "job_level": 1,
    ...     "department": "Sales", "location": "Berlin", "timezone": "Europe/Berlin",
    ...     "manager_id": None,
    ... })
    >>> ends = pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"], utc=True)
    >>> productivity = pd.DataFrame({
    ...     "employee_id": ["a"] * 4 + ["b"] * 4,
    ...     "period_end": list(ends) * 2,
    ...     "recorded_at": list(ends + pd.Timedelta("5D")) * 2,
    ...     "metric": "pipeline",
    ...     "value": [20.0, 95.0, 98.0, 101.0, 10.0, 40.0, 70.0, 92.0],
    ...     "target": 100.0,
    ... })
    >>> r = ramp_up(employees, productivity)
    >>> r[["employee_id", "lower_days", "upper_days", "observed"]]
      employee_id  lower_days  upper_days  observed
    0           a        30.0        59.0      True
    1           b        90.0         inf     False
    """
    if not isinstance(sustain, int | np.integer) or isinstance(sustain, bool) or sustain < 1:
        raise ValueError(f"sustain must be an integer >= 1, got {sustain!r}")
    if not isinstance(threshold, float | int | np.floating | np.integer) or not (
        np.isfinite(threshold) and threshold > 0
    ):
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
    schemas.validate("employees", employees, require=("termination_date",))
    schemas.validate("productivity", productivity)
    prod = productivity
    if metric is not None:
        prod = prod[prod["metric"] == metric]
        if prod.empty:
            raise ValueError(
                f"no productivity records with metric {metric!r}; metrics present: "
                f"{sorted(productivity['metric'].dropna().unique().tolist())}"
            )
    cutoff = np.datetime64("NaT", "ns")
    if observed_until is not None:
        ou = _utc(observed_until, "observed_until")
        logger.info("ramp_up: observed_until = %s (given): records recorded later are unused", ou)
        prod = prod[(prod["recorded_at"] <= ou).to_numpy(bool)]
        cutoff = np.datetime64(ou.tz_localize(None).as_unit("ns"), "ns")
    else:
        logger.info(
            "ramp_up: observed_until not given: every productivity record is used "
            "(the latest recorded_at is %s)",
            prod["recorded_at"].max() if len(prod) else None,
        )
    several = prod.duplicated(["employee_id", "period_end"], keep=False)
    if several.any():
        _fail(
            "productivity",
            "metric",
            "one_metric_per_period",
            prod.index[several],
            prod["metric"][several],
            "an employee has several metrics in one period; pass metric= to choose one",
        )
    emp_ids = pd.Index(employees["employee_id"].astype("string").to_numpy(object))
    hire_all = _ns(employees["hire_date"])
    term_all = _ns(employees["termination_date"])
    if not np.isnat(cutoff):  # terminations effective after the end of observation are unknown
        term_all = np.where(term_all + _DAY <= cutoff, term_all, np.datetime64("NaT", "ns"))

    pid = prod["employee_id"].astype("string").to_numpy(object)
    pos = emp_ids.get_indexer(pid)
    pend = _ns(prod["period_end"])
    safe = np.where(pos >= 0, pos, 0)
    quarantine = {
        UNKNOWN_EMPLOYEE: pos < 0,
        "before_hire": (pos >= 0) & (pend < hire_all[safe]),
        "after_termination": (pos >= 0) & (pend > term_all[safe]),
    }
    bad = np.zeros(len(prod), dtype=bool)
    for code, mask in quarantine.items():
        mask = mask & ~bad
        if mask.any():
            logger.warning(
                "ramp_up: %d productivity row(s) left out (%s), first rows %s",
                int(mask.sum()),
                code,
                list(prod.index[mask][:5]),
            )
        bad |= mask
    use = ~bad
    if hired_after is not None:
        after = np.datetime64(_utc(hired_after, "hired_after").tz_localize(None).as_unit("ns"))
        use &= hire_all[safe] >= after
    rec = pd.DataFrame(
        {
            "pos": pos[use],
            "period_end": pend[use],
            "ok": (prod["value"] / prod["target"]).to_numpy(float)[use] >= threshold,
        }
    ).sort_values(["pos", "period_end"], kind="stable", ignore_index=True)

    runs = _first_runs(
        rec["pos"].to_numpy(np.int64),
        rec["period_end"].to_numpy("datetime64[ns]"),
        rec["ok"].to_numpy(bool),
        int(sustain),
    )
    hires = runs["pos"]
    hire = hire_all[hires]
    utc = _utc_series
    out = pd.DataFrame(
        {
            "employee_id": pd.array(emp_ids[hires].to_numpy(object), dtype="string"),
            "hire_date": utc(hire),
            "termination_date": utc(term_all[hires]),
            "lower_days": _days(runs["lower_end"] - hire),
            "upper_days": np.where(runs["observed"], _days(runs["upper_end"] - hire), np.inf),
            "observed": runs["observed"],
            "first_productive_period": utc(runs["upper_end"]),
            "last_period_end": utc(runs["last_end"]),
            "n_periods": runs["n_periods"],
        },
        columns=list(_RAMP_COLUMNS),
    )
    out["lower_days"] = out["lower_days"].fillna(0.0)
    logger.info(
        "ramp_up: %d hires, %d observed productive, %d right-censored",
        len(out),
        int(out["observed"].sum()),
        int((~out["observed"]).sum()),
    )
    return out


def _utc_series(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype="datetime64[ns]")).dt.tz_localize("UTC")


def _first_runs(pos: np.ndarray, ends: np.ndarray, ok: np.ndarray, sustain: int) -> dict:
    """The first run of ``sustain`` productive periods of each hire.

    ``pos``, ``ends`` and ``ok`` are sorted by hire then period end. Returns, per hire: its
    ``pos``, ``observed``, ``upper_end`` (end of the run's first period, NaT if none),
    ``lower_end`` (end of the period before the run, or before the trailing productive periods
    when right-censored; NaT if none), ``last_end`` and ``n_periods``.
    """
    n = len(pos)
    nat = np.datetime64("NaT", "ns")
    if n == 0:
        none = np.zeros(0, dtype="datetime64[ns]")
        return {
            "pos": np.zeros(0, np.int64),
            "observed": np.zeros(0, bool),
            "upper_end": none,
            "lower_end": none,
            "last_end": none,
            "n_periods": np.zeros(0, np.int64),
        }
    first_row = np.r_[True, pos[1:] != pos[:-1]]
    starts = np.flatnonzero(first_row)
    stops = np.r_[starts[1:], n]
    # Length of the streak of productive periods ending at each row, within each hire.
    block = np.cumsum(first_row | np.r_[True, ok[1:] != ok[:-1]])
    streak = np.where(ok, pd.Series(block).groupby(block).cumcount().to_numpy() + 1, 0)
    done = np.where(streak >= sustain, np.arange(n), n)
    first_done = np.minimum.reduceat(done, starts)
    observed = first_done < stops
    last = stops - 1
    # The run starts sustain - 1 rows before it completes; when right-censored, the trailing
    # productive periods (shorter than sustain) may still start the run.
    anchor = np.where(observed, first_done - sustain + 1, last - streak[last] + 1)
    prev = anchor - 1
    lower_end = np.where(prev >= starts, ends[np.maximum(prev, 0)], nat)
    upper_end = np.where(observed, ends[np.minimum(anchor, n - 1)], nat)
    return {
        "pos": pos[starts],
        "observed": observed,
        "upper_end": upper_end,
        "lower_end": lower_end,
        "last_end": ends[last],
        "n_periods": (stops - starts).astype(np.int64),
    }


def ramp_up_spine(ramp: pd.DataFrame, *, days_after_hire: int = 30) -> pd.DataFrame:
    """Ramp-up labels on ``hire + days_after_hire`` rows: features then, the label after.

    Each hire of ``ramp`` (the result of :func:`ramp_up`) gets one row with ``as_of =
    hire_date + days_after_hire`` days. The interval stays in days from hire, but it is
    conditional on the hire not being productive yet at ``as_of``: ``lower_days`` is at least
    ``days_after_hire``. Rows with no label to predict are censored, with ``lower_days`` and
    ``upper_days`` missing:

    * ``"productive_by_as_of"``: the first productive period ended at or before ``as_of``;
    * ``"not_active"``: the hire's last day was before ``as_of``.

    For rows at risk the label depends only on periods that end after ``as_of``: changing
    earlier periods either leaves it unchanged or makes the hire productive by ``as_of``.

    Parameters
    ----------
    ramp : pandas.DataFrame
        The result of :func:`ramp_up`.
    days_after_hire : int, default 30
        When the prediction is made, in days after the hire date.

    Returns
    -------
    pandas.DataFrame
        ``employee_id``, ``as_of`` (UTC), ``hire_date``, ``lower_days``, ``upper_days``,
        ``observed`` and ``censored`` (``string``, ``<NA>`` for rows at risk), in the order of
        ``ramp``.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.labels import ramp_up_spine
    >>> ramp = pd.DataFrame({
    ...     "employee_id": ["a", "b", "c"],
    ...     "hire_date": pd.to_datetime(["2024-01-01"] * 3, utc=True),
    ...     "termination_date": pd.to_datetime([None, None, "2024-01-20"], utc=True),
    ...     "lower_days": [30.0, 0.0, 0.0], "upper_days": [59.0, 30.0, float("inf")],
    ...     "observed": [True, True, False],
    ... })
    >>> y = ramp_up_spine(ramp, days_after_hire=30)
    >>> y["as_of"].iloc[0]
    Timestamp('2024-01-31 00:00:00+0000', tz='UTC')
    >>> y[["employee_id", "lower_days", "upper_days", "censored"]]
      employee_id  lower_days  upper_days             censored
    0           a        30.0        59.0                 <NA>
    1           b         NaN         NaN  productive_by_as_of
    2           c         NaN         NaN           not_active
    """
    need = ["employee_id", "hire_date", "termination_date", "lower_days", "upper_days", "observed"]
    if not isinstance(ramp, pd.DataFrame):
        raise TypeError(f"ramp must be a pandas DataFrame, got {type(ramp).__name__}")
    missing = [c for c in need if c not in ramp.columns]
    if missing:
        raise ContractError(
            f"table 'ramp' is missing column(s) {missing}: pass the result of ramp_up()",
            table="ramp",
        )
    if not isinstance(days_after_hire, int | np.integer) or isinstance(days_after_hire, bool):
        raise ValueError(f"days_after_hire must be an integer, got {days_after_hire!r}")
    if days_after_hire < 0:
        raise ValueError(f"days_after_hire must be >= 0, got {days_after_hire}")
    k = float(days_after_hire)
    as_of = ramp["hire_date"] + pd.Timedelta(days=int(days_after_hire))
    upper = ramp["upper_days"].to_numpy(float)
    lower = ramp["lower_days"].to_numpy(float)
    ended = ramp["termination_date"] + pd.Timedelta(days=1)  # the end of the last day
    gone = (ended.notna() & (ended <= as_of)).to_numpy(bool)
    done = ~gone & (upper <= k)
    reason = _reasons(len(ramp))
    reason[gone] = NOT_ACTIVE
    reason[done] = PRODUCTIVE_BY_AS_OF
    censored = gone | done
    out = pd.DataFrame(
        {
            "employee_id": ramp["employee_id"].to_numpy(),
            "as_of": as_of.to_numpy(),
            "hire_date": ramp["hire_date"].to_numpy(),
            "lower_days": np.where(censored, np.nan, np.maximum(lower, k)),
            "upper_days": np.where(censored, np.nan, upper),
            "observed": ramp["observed"].to_numpy(bool),
            "censored": pd.array(reason, dtype="string"),
        },
        index=ramp.index,
    )
    out["employee_id"] = out["employee_id"].astype("string")
    out["as_of"] = pd.to_datetime(out["as_of"], utc=True)
    out["hire_date"] = pd.to_datetime(out["hire_date"], utc=True)
    logger.info(
        "ramp_up_spine: %d hires at hire + %d days, %d at risk (%s)",
        len(out),
        days_after_hire,
        int((~censored).sum()),
        ", ".join(f"{c}={int((reason == c).sum())}" for c in (NOT_ACTIVE, PRODUCTIVE_BY_AS_OF)),
    )
    return out
