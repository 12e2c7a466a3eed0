"""The ramp-up label: interval-censored time from hire to sustained productivity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schemas
from ..exceptions import ContractError
from ._common import (
    _DAY,
    NOT_ACTIVE,
    PRODUCTIVE_BY_AS_OF,
    UNKNOWN_EMPLOYEE,
    _days,
    _fail,
    _ns,
    _reasons,
    _utc,
    logger,
)

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
    prod, cutoff = _records(productivity, metric, observed_until)
    emp_ids = pd.Index(employees["employee_id"].astype("string").to_numpy(object))
    hire_all = _ns(employees["hire_date"])
    term_all = _ns(employees["termination_date"])
    if not np.isnat(cutoff):  # terminations effective after the end of observation are unknown
        term_all = np.where(term_all + _DAY <= cutoff, term_all, np.datetime64("NaT", "ns"))

    pos, pend, use = _usable(prod, emp_ids, hire_all, term_all, hired_after)
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


def _records(
    productivity: pd.DataFrame, metric: str | None, observed_until: object
) -> tuple[pd.DataFrame, np.datetime64]:
    """The productivity records of ``metric`` known at ``observed_until``, and that cutoff."""
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
    return prod, cutoff


def _usable(
    prod: pd.DataFrame,
    emp_ids: pd.Index,
    hire_all: np.ndarray,
    term_all: np.ndarray,
    hired_after: object,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Employee positions, period ends and the usable records (the others logged, left out)."""
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
    return pos, pend, use


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
