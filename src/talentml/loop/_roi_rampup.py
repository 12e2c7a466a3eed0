"""Ramp-up of hires who completed a program early against hires who did not, behind :func:`roi`.

A *landmark* comparison at ``window`` days after hire. A hire is *treated* when they completed
the program within their first ``window`` days, a *comparison* when they had not completed it
by then (a later completion does not change that: it is unknown at the landmark). Only hires
still at risk at the landmark count, in both groups alike: employed at ``hire + window``, not
yet productive for sure (``upper_days > window``) and followed past it (an unfinished ramp-up
with ``lower_days < window`` is left out). A completion must come before the ramp-up ended: a
treated hire whose first productive period ended at or before the completion is left out
(and listed in ``excluded``).

Matching is exact on department x job level x hire quarter (the employees table's current
department and level): each treated hire weighs 1, the comparisons of a stratum share the
stratum's treated count. Ramp-up is interval-censored (:func:`talentml.labels.ramp_up`): an
observed hire's time is the midpoint of ``(lower_days, upper_days]``, an unfinished one is
censored at ``lower_days``; each group's median days comes from its weighted Kaplan-Meier
curve, so censored hires count honestly instead of being dropped. The difference of the
medians (treated minus comparison; negative = faster) gets a cluster-bootstrap interval
(treated and comparison hires resampled, weights redone).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import bootstrap_clusters, rng_from
from ._roi_retention import _as_utc
from ._tables import _require

__all__: list[str] = []

logger = logging.getLogger(__name__)

_KEYS = ("median_days_participants", "median_days_comparison", "difference")


@dataclass
class _Ramp:
    """Treated and comparison hires: stratum, time (days), event (ramp-up observed)."""

    t_emp: np.ndarray
    t_stratum: np.ndarray
    t_days: np.ndarray
    t_event: np.ndarray
    c_emp: np.ndarray
    c_stratum: np.ndarray
    c_days: np.ndarray
    c_event: np.ndarray
    excluded: list[tuple[str, str]]


def _ramp_design(
    ramp: pd.DataFrame,
    participation: pd.DataFrame,
    employees: pd.DataFrame,
    *,
    window_days: float,
) -> _Ramp:
    """The treated and comparison hires of the landmark at ``window_days`` after hire."""
    _require(ramp, ("employee_id", "hire_date", "lower_days", "upper_days", "observed"), "ramp_up")
    _require(participation, ("employee_id", "completed_at"), "participation")
    _require(employees, ("employee_id", "department", "job_level"), "employees")
    r = ramp.assign(employee_id=ramp["employee_id"].astype(str)).reset_index(drop=True)
    dup = r["employee_id"][r["employee_id"].duplicated()]
    if len(dup):
        raise ValueError(
            f"table 'ramp_up': column 'employee_id' has several rows for "
            f"{dup.unique()[:5].tolist()}; one row per hire (talentml.labels.ramp_up)"
        )
    lower = pd.to_numeric(r["lower_days"], errors="coerce").to_numpy(float)
    upper = pd.to_numeric(r["upper_days"], errors="coerce").to_numpy(float)
    observed = r["observed"].astype("boolean").fillna(False).to_numpy(bool)
    bad = np.isnan(lower) | np.isnan(upper) | (upper < lower) | (observed & np.isinf(upper))
    if bad.any():
        raise ValueError(
            f"table 'ramp_up': columns 'lower_days'/'upper_days' are not an interval for "
            f"{r.loc[bad, 'employee_id'].head(5).tolist()} ({int(bad.sum())} rows)"
        )
    hire = _as_utc(r["hire_date"])
    emp = employees.assign(employee_id=employees["employee_id"].astype(str))
    emp = emp.drop_duplicates("employee_id").set_index("employee_id")
    term = (
        _as_utc(r["termination_date"])
        if "termination_date" in r
        else r["employee_id"].map(_as_utc(emp["termination_date"]))
        if "termination_date" in emp
        else pd.Series(pd.NaT, index=r.index, dtype="datetime64[ns, UTC]")
    )
    part = participation.assign(employee_id=participation["employee_id"].astype(str))
    done = _as_utc(part["completed_at"])
    first_done = done[done.notna()].groupby(part.loc[done.notna(), "employee_id"]).min()
    done_days = ((r["employee_id"].map(first_done) - hire) / pd.Timedelta(days=1)).to_numpy(float)
    treated = done_days < window_days  # NaN (never completed) is False
    treated &= ~(done_days < 0)  # completed before the hire: not the hire's program
    landmark = (hire + pd.Timedelta(days=window_days)).reset_index(drop=True)
    alive = (term.isna() | (term.reset_index(drop=True) > landmark)).to_numpy(bool)
    excluded: list[tuple[str, str]] = []
    ids = r["employee_id"].to_numpy(object)
    late = treated & observed & (upper <= done_days)
    for e in ids[late]:
        excluded.append((e, "completed after the ramp-up ended"))
    reasons = (
        (~alive, "left before the landmark (window days after hire)"),
        (observed & (upper <= window_days), "productive within the window"),
        (~observed & (lower < window_days), "ramp-up not followed past the window"),
    )
    keep = ~late
    for mask, why in reasons:
        hit = keep & mask
        for e in ids[hit & treated]:
            excluded.append((e, why))
        keep &= ~mask
    known = r["employee_id"].isin(emp.index).to_numpy(bool)
    for e in ids[keep & treated & ~known]:
        excluded.append((e, "not in the employees table"))
    keep &= known
    dept = r["employee_id"].map(emp["department"]).astype("string").fillna("?")
    level = r["employee_id"].map(emp["job_level"]).astype("string").fillna("?")
    quarter = hire.dt.tz_localize(None).dt.to_period("Q").astype("string")
    stratum = pd.factorize(dept + "|" + level + "|" + quarter.to_numpy(str))[0]
    days = np.where(observed, (lower + upper) / 2.0, lower)
    t_keep, c_keep = keep & treated, keep & ~treated
    has_c = np.isin(stratum, stratum[c_keep])
    for e in ids[t_keep & ~has_c]:
        excluded.append((e, "no comparison hire in the stratum (department, level, quarter)"))
    t_keep &= has_c
    if not t_keep.any():
        raise ValueError(
            f"no hire completed the program within the first {window_days:g} days and is still "
            "ramping up with comparison hires: check participation and ramp_up "
            f"({len(excluded)} completers excluded)"
        )
    return _Ramp(
        t_emp=ids[t_keep], t_stratum=stratum[t_keep], t_days=days[t_keep],
        t_event=observed[t_keep], c_emp=ids[c_keep], c_stratum=stratum[c_keep],
        c_days=days[c_keep], c_event=observed[c_keep], excluded=excluded,
    )  # fmt: skip


def _km_median(days: np.ndarray, event: np.ndarray, weight: np.ndarray) -> float:
    """Median of a weighted Kaplan-Meier curve (NaN when it never reaches 0.5).

    Examples
    --------
    >>> import numpy as np
    >>> from talentml.loop._roi_rampup import _km_median
    >>> float(_km_median(np.array([10.0, 20, 30, 40]), np.ones(4, bool), np.ones(4)))
    20.0
    >>> float(_km_median(np.array([10.0, 20, 30]), np.array([1, 0, 1], bool), np.ones(3)))
    30.0
    """
    use = weight > 0
    d, e, w = days[use], event[use].astype(float), weight[use]
    if len(d) == 0:
        return np.nan
    times, inverse = np.unique(d, return_inverse=True)
    at_risk = np.bincount(inverse, weights=w, minlength=len(times))[::-1].cumsum()[::-1]
    events = np.bincount(inverse, weights=w * e, minlength=len(times))
    surv = np.cumprod(1.0 - events / at_risk)
    hit = np.flatnonzero(surv <= 0.5 + 1e-12)
    return float(times[hit[0]]) if len(hit) else np.nan


def _ramp_statistics(d: _Ramp, ti: np.ndarray, ci: np.ndarray) -> dict[str, float]:
    """Weighted medians of both groups and their difference on the rows ``ti`` and ``ci``."""
    s_t, s_c = d.t_stratum[ti], d.c_stratum[ci]
    n_t = np.bincount(s_t, minlength=max(s_t.max(initial=0), s_c.max(initial=0)) + 1)
    n_c = np.bincount(s_c, minlength=len(n_t))
    wt = (n_c[s_t] > 0).astype(float)
    n_t_used = np.bincount(s_t, weights=wt, minlength=len(n_t))
    wc = np.where(n_c[s_c] > 0, n_t_used[s_c] / np.maximum(n_c[s_c], 1), 0.0)
    m_t = _km_median(d.t_days[ti], d.t_event[ti], wt)
    m_c = _km_median(d.c_days[ci], d.c_event[ci], wc)
    return {
        "median_days_participants": m_t,
        "median_days_comparison": m_c,
        "difference": m_t - m_c,
        "n_participants": int(np.unique(d.t_emp[ti][wt > 0]).size),
        "n_comparison": int(np.unique(d.c_emp[ci][wc > 0]).size),
    }


def _ramp_up(
    d: _Ramp, *, n_bootstrap: int, random_state, progress
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """The full-sample statistics and their cluster-bootstrap replicates."""
    full = _ramp_statistics(d, np.arange(len(d.t_emp)), np.arange(len(d.c_emp)))
    rng = rng_from(random_state)
    t_codes, t_k = bootstrap_clusters(d.t_emp)
    c_codes, c_k = bootstrap_clusters(d.c_emp)
    t_rows = [np.flatnonzero(t_codes == j) for j in range(t_k)]
    order = np.argsort(c_codes, kind="stable")
    bounds = np.searchsorted(c_codes[order], np.arange(c_k + 1))
    c_rows = [order[bounds[j] : bounds[j + 1]] for j in range(c_k)]
    reps: dict[str, list[float]] = {k: [] for k in _KEYS}
    for _ in progress(range(n_bootstrap)):
        ti = np.concatenate([t_rows[j] for j in rng.integers(0, t_k, t_k)])
        ci = np.concatenate([c_rows[j] for j in rng.integers(0, c_k, c_k)])
        s = _ramp_statistics(d, ti, ci)
        for key in _KEYS:
            reps[key].append(s[key])
    logger.info(
        "ramp-up: median %.1f days (completers, n=%d) vs %.1f (matched comparisons, n=%d)",
        full["median_days_participants"], full["n_participants"],
        full["median_days_comparison"], full["n_comparison"],
    )  # fmt: skip
    return full, {k: np.asarray(v, dtype=float) for k, v in reps.items()}
