"""Retention of a program's participants against matched non-participants, behind :func:`roi`.

A completer enters follow-up at the start of the month after completion (the *index* date);
the comparison pool of a (start month, index month) *cohort* is everyone hired before the
start month, still employed at the index date and not started on the program by then (a
comparison who starts later is censored at their start). Both are described by what was
known before the start month: the latest review submitted before it and the tenure then.
Completers are matched to their cohort's pool on the propensity score of
:mod:`talentml.loop._impact_estimate` (the same logistic model and caliper as
:func:`talentml.loop.learning_impact`); each completer weighs 1, its matched comparisons
``1 / k`` each. Weighted Kaplan-Meier curves of a *voluntary* exit (involuntary exits, the
end of the data and a later start censor) give the exit probability within the horizon of
both groups; the cluster bootstrap (completers and comparison employees resampled, matching
redone) gives the intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import bootstrap_clusters, rng_from
from ._impact_estimate import _fit_logit
from ._tables import _ns, _require, _utc

__all__: list[str] = []

_DAY_NS = 86_400 * 10**9


@dataclass
class _Retention:
    """Rows of completers (``treated``) and comparisons, and their matching covariates."""

    t_emp: np.ndarray
    t_cohort: np.ndarray
    t_x: np.ndarray
    t_days: np.ndarray
    t_event: np.ndarray
    c_emp: np.ndarray
    c_cohort: np.ndarray
    c_x: np.ndarray
    c_days: np.ndarray
    c_event: np.ndarray
    covariates: list[str]
    excluded: list[tuple[str, str]]
    coef: np.ndarray | None = None


def _as_utc(values: pd.Series) -> pd.Series:
    """Times as ``datetime64[ns, UTC]`` (missing kept); naive or text times are read as UTC."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        values = pd.to_datetime(values, utc=True)
    return values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")


def _month_start(ns: np.ndarray, add: int = 0) -> np.ndarray:
    months = ns.astype("datetime64[ns]").astype("datetime64[M]") + np.timedelta64(add, "M")
    return months.astype("datetime64[ns]").astype(np.int64)


def _latest_reviews(reviews: pd.DataFrame, covariates: Sequence[str], before: int) -> pd.DataFrame:
    """Each employee's covariates of the latest review submitted strictly before ``before``."""
    known = reviews[reviews["_sub"] < before]
    if known.empty:
        return pd.DataFrame(columns=list(covariates), dtype=float)
    last = known.sort_values("_sub", kind="stable").groupby("employee_id", sort=False).tail(1)
    return last.set_index("employee_id")[list(covariates)].astype(float)


def _design(
    employees: pd.DataFrame,
    participation: pd.DataFrame,
    reviews: pd.DataFrame,
    *,
    covariates: Sequence[str],
    end: pd.Timestamp,
) -> _Retention:
    """The completers' and comparison rows of every cohort, with follow-up and covariates."""
    _require(
        employees, ("employee_id", "hire_date", "termination_date", "termination_type"), "employees"
    )
    _require(participation, ("employee_id", "started_at", "completed_at"), "participation")
    _require(reviews, ("employee_id", "submitted_at", *covariates), "reviews")
    emp_id = employees["employee_id"].astype(str).to_numpy(object)
    hire = _ns(_utc(employees["hire_date"], "employees", "hire_date"))
    term_t = _as_utc(employees["termination_date"])
    term = np.where(
        term_t.isna().to_numpy(),
        np.iinfo(np.int64).max,
        _ns(term_t.fillna(pd.Timestamp(0, tz="UTC"))),
    )
    vol = (
        employees["termination_type"]
        .astype("string")
        .str.lower()
        .eq("voluntary")
        .fillna(False)
        .to_numpy(bool)
    )
    part = participation.assign(employee_id=participation["employee_id"].astype(str))
    dup = part["employee_id"][part["employee_id"].duplicated()]
    if len(dup):
        raise ValueError(
            f"table 'participation': column 'employee_id' has several rows for "
            f"{dup.unique()[:5].tolist()} ({dup.nunique()} employees); one row per employee"
        )
    started = _ns(_utc(part["started_at"], "participation", "started_at"))
    done_t = _as_utc(part["completed_at"])
    pos = pd.Series(np.arange(len(emp_id)), index=pd.Index(emp_id))
    if pos.index.duplicated().any():
        raise ValueError("table 'employees': column 'employee_id' has duplicated ids")
    first_start = np.full(len(emp_id), np.iinfo(np.int64).max, dtype=np.int64)
    where = part["employee_id"].map(pos)
    known = where.notna().to_numpy()
    first_start[where[known].astype(int).to_numpy()] = started[known]
    unknown = part.loc[~known, "employee_id"]
    excluded = [(e, "not in the employees table") for e in unknown]
    end_ns = int(end.value)
    rev = reviews.assign(employee_id=reviews["employee_id"].astype(str))
    rev["_sub"] = _ns(_utc(reviews["submitted_at"], "reviews", "submitted_at"))
    comp = done_t.notna().to_numpy() & known
    comp_idx = where[comp].astype(int).to_numpy()
    comp_as_of = _month_start(started[comp])
    comp_index = _month_start(_ns(done_t[comp]), 1)
    cols = list(covariates) + ["tenure_years", "no_review"]
    t_rows, c_rows = [], []
    cohorts = sorted(set(zip(comp_as_of.tolist(), comp_index.tolist(), strict=True)))
    for k, (as_of, index) in enumerate(cohorts):
        if index >= end_ns:
            for e in comp_idx[(comp_as_of == as_of) & (comp_index == index)]:
                excluded.append((emp_id[e], "completed too late for any follow-up"))
            continue
        mine = comp_idx[(comp_as_of == as_of) & (comp_index == index)]
        gone = term[mine] < index
        for e in mine[gone]:
            excluded.append((emp_id[e], "left before the month after completion"))
        mine = mine[~gone]
        pool = np.flatnonzero((hire < as_of) & (term >= index) & (first_start >= index))
        if len(mine) == 0 or len(pool) == 0:
            for e in mine:
                excluded.append((emp_id[e], "no comparison employee in the cohort"))
            continue
        last = _latest_reviews(rev, covariates, as_of)
        for rows, out, is_t in ((mine, t_rows, True), (pool, c_rows, False)):
            x = last.reindex(emp_id[rows]).to_numpy(float).reshape(len(rows), len(covariates))
            tenure = (as_of - hire[rows]) / (365.25 * _DAY_NS)
            stop = np.minimum(
                np.minimum(term[rows], end_ns),
                np.iinfo(np.int64).max if is_t else first_start[rows],
            )
            event = vol[rows] & (term[rows] <= stop) & (term[rows] <= end_ns)
            days = (stop - index) / _DAY_NS
            out.append(
                (
                    rows,
                    np.full(len(rows), k),
                    np.column_stack([x, tenure, np.zeros(len(rows))]),
                    days,
                    event,
                )
            )
    if not t_rows:
        raise ValueError(
            "no completer of the program has a follow-up and comparison employees: check that "
            "participation holds completions before the end of the data"
        )
    t = [np.concatenate(p) for p in zip(*t_rows, strict=True)]
    c = [np.concatenate(p) for p in zip(*c_rows, strict=True)]
    x_all = np.vstack([t[2], c[2]])
    miss = np.isnan(x_all[:, : len(covariates)]).any(axis=1)
    x_all[:, -1] = miss
    seen = ~np.isnan(x_all)
    col_mean = np.where(seen, x_all, 0.0).sum(axis=0) / np.maximum(seen.sum(axis=0), 1)
    x_all = np.where(seen, x_all, col_mean[None, :])
    keep = x_all.std(axis=0) > 0
    x_all = x_all[:, keep]
    nt = len(t[0])
    return _Retention(
        t_emp=emp_id[t[0]], t_cohort=t[1], t_x=x_all[:nt], t_days=t[3], t_event=t[4],
        c_emp=emp_id[c[0]], c_cohort=c[1], c_x=x_all[nt:], c_days=c[3], c_event=c[4],
        covariates=[n for n, kept in zip(cols, keep, strict=True) if kept],
        excluded=excluded,
    )  # fmt: skip


def _match(d: _Retention, ti: np.ndarray, ci: np.ndarray, k: int, caliper: float):
    """Weights of the treated rows ``ti`` (1 when matched) and control rows ``ci``."""
    x = np.vstack([d.t_x[ti], d.c_x[ci]])
    coh = np.concatenate([d.t_cohort[ti], d.c_cohort[ci]])
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    levels = np.unique(coh)
    dummies = (coh[:, None] == levels[None, 1:]).astype(float)
    design = np.hstack([(x - mu) / sd, dummies])
    y = np.concatenate([np.ones(len(ti)), np.zeros(len(ci))])
    start = d.coef if d.coef is not None and len(d.coef) == design.shape[1] + 1 else None
    w = _fit_logit(design, y, start=start)
    if d.coef is None:
        d.coef = w
    score = w[0] + design @ w[1:]
    s_t, s_c = score[: len(ti)], score[len(ti) :]
    width = caliper * float(np.std(score))
    wt = np.zeros(len(ti))
    wc = np.zeros(len(ci))
    coh_t, coh_c = d.t_cohort[ti], d.c_cohort[ci]
    for c in np.unique(coh_t):
        rows_t = np.flatnonzero(coh_t == c)
        rows_c = np.flatnonzero(coh_c == c)
        if len(rows_c) == 0:
            continue
        dist = np.abs(s_t[rows_t][:, None] - s_c[rows_c][None, :])
        kk = min(k, len(rows_c))
        nn = np.argpartition(dist, kk - 1, axis=1)[:, :kk]
        keep = np.take_along_axis(dist, nn, axis=1) <= width
        n_kept = keep.sum(axis=1)
        has = n_kept > 0
        wt[rows_t[has]] = 1.0
        share = np.where(keep, 1.0 / np.maximum(n_kept, 1)[:, None], 0.0)
        np.add.at(wc, rows_c[nn].ravel(), share.ravel())
    return wt, wc


def _km(days: np.ndarray, event: np.ndarray, weight: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Weighted Kaplan-Meier survival at the ``grid`` days (censored rows at risk at their day).

    Examples
    --------
    >>> import numpy as np
    >>> from talentml.loop._roi_retention import _km
    >>> _km(np.array([1.0, 2, 3, 4]), np.array([1, 0, 1, 0]), np.ones(4), np.array([0, 1, 3, 5]))
    array([1.   , 0.75 , 0.375, 0.375])
    """
    use = weight > 0
    d, e, w = days[use], event[use].astype(float), weight[use]
    if len(d) == 0:
        return np.full(len(grid), np.nan)
    times, inverse = np.unique(d, return_inverse=True)
    at_or_after = np.bincount(inverse, weights=w, minlength=len(times))[::-1].cumsum()[::-1]
    events = np.bincount(inverse, weights=w * e, minlength=len(times))
    surv = np.cumprod(1.0 - events / at_or_after)
    pos = np.searchsorted(times, grid, side="right") - 1
    return np.where(pos >= 0, surv[np.maximum(pos, 0)], 1.0)


def _rate(days: np.ndarray, event: np.ndarray, weight: np.ndarray, horizon: float) -> float:
    """Weighted voluntary exits per person-day within the horizon."""
    exposure = float(np.sum(weight * np.clip(days, 0.0, horizon)))
    exits = float(np.sum(weight * (event & (days <= horizon))))
    return exits / exposure if exposure > 0 else np.nan


def _statistics(d: _Retention, ti, ci, k, caliper, horizon: float, grid: np.ndarray) -> dict:
    """Exit probabilities, their difference, the rate ratio and both curves on the rows."""
    wt, wc = _match(d, ti, ci, k, caliper)
    s_t = _km(d.t_days[ti], d.t_event[ti], wt, grid)
    s_c = _km(d.c_days[ci], d.c_event[ci], wc, grid)
    rt = _rate(d.t_days[ti], d.t_event[ti], wt, horizon)
    rc = _rate(d.c_days[ci], d.c_event[ci], wc, horizon)
    p_t, p_c = 1.0 - s_t[-1], 1.0 - s_c[-1]
    return {
        "p_exit_participants": p_t,
        "p_exit_comparison": p_c,
        "difference": p_t - p_c,
        "rate_ratio": rt / rc if rc and rc > 0 else np.nan,
        "curve_participants": s_t,
        "curve_comparison": s_c,
        "weights": (wt, wc),
    }


def _retention(
    d: _Retention,
    *,
    horizon_days: float,
    n_neighbors: int,
    caliper: float,
    n_bootstrap: int,
    random_state,
    progress,
) -> tuple[dict, dict[str, np.ndarray]]:
    """The full-sample statistics and their bootstrap replicates (cluster bootstrap)."""
    grid = np.unique(np.append(np.linspace(0.0, horizon_days, 53), horizon_days))
    full = _statistics(
        d,
        np.arange(len(d.t_emp)),
        np.arange(len(d.c_emp)),
        n_neighbors,
        caliper,
        horizon_days,
        grid,
    )
    full["grid"] = grid
    rng = rng_from(random_state)
    t_codes, t_k = bootstrap_clusters(d.t_emp)
    c_codes, c_k = bootstrap_clusters(d.c_emp)
    t_rows = [np.flatnonzero(t_codes == j) for j in range(t_k)]
    order = np.argsort(c_codes, kind="stable")
    bounds = np.searchsorted(c_codes[order], np.arange(c_k + 1))
    c_rows = [order[bounds[j] : bounds[j + 1]] for j in range(c_k)]
    keys = ("p_exit_participants", "p_exit_comparison", "difference", "rate_ratio")
    reps: dict[str, list] = {k: [] for k in (*keys, "curve_participants", "curve_comparison")}
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        for _ in progress(range(n_bootstrap)):
            ti = np.concatenate([t_rows[j] for j in rng.integers(0, t_k, t_k)])
            ci = np.concatenate([c_rows[j] for j in rng.integers(0, c_k, c_k)])
            s = _statistics(d, ti, ci, n_neighbors, caliper, horizon_days, grid)
            for key in reps:
                reps[key].append(s[key])
    return full, {k: np.asarray(v, dtype=float) for k, v in reps.items()}
