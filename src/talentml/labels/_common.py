"""The shared pieces of the labels: censoring reasons, spine and horizon checks, spells."""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from .. import schemas
from ..exceptions import ContractError

logger = logging.getLogger("talentml.labels")

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
