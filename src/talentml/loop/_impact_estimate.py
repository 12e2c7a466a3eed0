"""The matched difference-in-differences estimator behind :func:`talentml.loop.learning_impact`.

:func:`_contrasts` pairs each completer's last review before the track with the first after
it (and finds the comparison employees rated in the same two cycles, not started by then),
:class:`_Design` holds both groups' covariates, :func:`_estimate` matches (propensity score
within a caliper, or coarsened exact strata) and takes the difference in differences with the
naive comparisons next to it, and :func:`_bootstrap` / :func:`_intervals` give the intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._validation import rng_from
from ..config import show_progress as _show_progress
from ._tables import _utc

__all__: list[str] = []

_ESTIMATES = (
    ("did", "matched difference in differences"),
    ("naive_difference", "naive: completers vs others after"),
    ("naive_before_after", "naive: completers before vs after"),
    ("pre_trend", "placebo: pre-track trend (should be 0)"),
)


class _Design:
    """Arrays of the treated units and the control pool, shared by every bootstrap draw."""

    def __init__(self, treated: pd.DataFrame, controls: pd.DataFrame, covs: list[str]):
        self.t = treated.reset_index(drop=True)
        self.c = controls.reset_index(drop=True)
        self.covs = covs
        cohorts = sorted(set(self.t["cohort"]))
        self.cohort_index = {k: i for i, k in enumerate(cohorts)}
        self.t_cohort = self.t["cohort"].map(self.cohort_index).to_numpy(int)
        self.c_cohort = self.c["cohort"].map(self.cohort_index).to_numpy(int)
        self.t_x = self.t[covs].to_numpy(float)
        self.c_x = self.c[covs].to_numpy(float)
        self.t_d = self.t["change"].to_numpy(float)
        self.c_d = self.c["change"].to_numpy(float)
        self.t_post = self.t["post_value"].to_numpy(float)
        self.c_post = self.c["post_value"].to_numpy(float)
        self.t_pd = self.t["pre_change"].to_numpy(float)
        self.c_pd = self.c["pre_change"].to_numpy(float)
        self.c_emp = self.c["employee_id"].to_numpy(str)
        self.employees = np.unique(self.c_emp)
        emp_index = {e: i for i, e in enumerate(self.employees)}
        self.c_emp_idx = np.array([emp_index[e] for e in self.c_emp], dtype=int)
        self.n_cohorts = len(cohorts)
        x = np.vstack([self.t_x, self.c_x])
        self.mu = x.mean(axis=0)
        self.sd = x.std(axis=0)
        self.sd[self.sd == 0] = 1.0
        self.coef: np.ndarray | None = None  # full-sample propensity coefficients (warm start)


def _fit_logit(
    design: np.ndarray,
    y: np.ndarray,
    *,
    C: float = 1.0,
    max_iter: int = 50,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """L2-penalized logistic regression by Newton's method; returns ``[intercept, coef...]``.

    Minimizes ``sum(log-loss) + ||coef||^2 / (2 C)`` with an unpenalized intercept: the
    objective of scikit-learn's ``LogisticRegression(C=C)`` (checked against it in the
    tests), solved directly because the bootstrap refits it hundreds of times.
    """
    n, p = design.shape
    x = np.hstack([np.ones((n, 1)), design])
    w = np.zeros(p + 1) if start is None else np.array(start, dtype=float)
    penalty = np.full(p + 1, 1.0 / C)
    penalty[0] = 0.0
    for _ in range(max_iter):
        z = x @ w
        prob = 1.0 / (1.0 + np.exp(-z))
        grad = x.T @ (prob - y) + penalty * w
        weight = prob * (1.0 - prob)
        hess = (x * weight[:, None]).T @ x + np.diag(penalty) + 1e-10 * np.eye(p + 1)
        step = np.linalg.solve(hess, grad)
        w = w - step
        if np.max(np.abs(step)) < 1e-9:
            break
    return w


def _logit_scores(d: _Design, ti: np.ndarray, ci: np.ndarray, start: np.ndarray | None):
    """Propensity logits of treated rows ``ti`` and control rows ``ci`` (and the coefficients)."""
    z = (np.vstack([d.t_x[ti], d.c_x[ci]]) - d.mu) / d.sd
    coh = np.concatenate([d.t_cohort[ti], d.c_cohort[ci]])
    dummies = np.zeros((len(coh), max(d.n_cohorts - 1, 0)))
    for k in range(1, d.n_cohorts):
        dummies[coh == k, k - 1] = 1.0
    design = np.hstack([z, dummies])
    y = np.concatenate([np.ones(len(ti)), np.zeros(len(ci))])
    w = _fit_logit(design, y, start=start)
    score = w[0] + design @ w[1:]
    return score[: len(ti)], score[len(ti) :], w


def _strata(x_t, x_c, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Coarsened covariates: each column cut at quantiles of the pooled values."""
    x = np.vstack([x_t, x_c])
    codes = np.zeros(x.shape, dtype=np.int64)
    for j in range(x.shape[1]):
        col = x[:, j]
        uniq = np.unique(col)
        if len(uniq) <= bins:
            codes[:, j] = np.searchsorted(uniq, col)
        else:
            edges = np.unique(np.quantile(col, np.linspace(0, 1, bins + 1)[1:-1]))
            codes[:, j] = np.searchsorted(edges, col, side="right")
    key = np.zeros(len(x), dtype=np.int64)
    for j in range(x.shape[1]):
        key = key * (bins + 2) + codes[:, j]
    return key[: len(x_t)], key[len(x_t) :]


def _estimate(
    d: _Design, ti: np.ndarray, ci: np.ndarray, method: str, k: int, caliper: float, bins: int
):
    """Matched DiD (and the naive comparisons) on the rows ``ti`` of treated and ``ci`` of controls."""
    coh_t, coh_c = d.t_cohort[ti], d.c_cohort[ci]
    if method == "propensity":
        s_t, s_c, coef = _logit_scores(d, ti, ci, d.coef)
        if d.coef is None:
            d.coef = coef
        width = caliper * float(np.std(np.concatenate([s_t, s_c])))
    else:
        s_t, s_c = _strata(d.t_x[ti], d.c_x[ci], bins)
        width = 0.0
    effects = np.full(len(ti), np.nan)
    comp = np.full(len(ti), np.nan)
    ncomp = np.zeros(len(ti), dtype=int)
    pre_effects = np.full(len(ti), np.nan)
    naive = np.full(len(ti), np.nan)
    used: list[np.ndarray] = []
    for c in np.unique(coh_t):
        rows_t = np.flatnonzero(coh_t == c)
        rows_c = np.flatnonzero(coh_c == c)
        if len(rows_c) == 0:
            continue
        naive[rows_t] = d.t_post[ti[rows_t]] - d.c_post[ci[rows_c]].mean()
        if method == "propensity":
            dist = np.abs(s_t[rows_t][:, None] - s_c[rows_c][None, :])
            kk = min(k, len(rows_c))
            nn = np.argpartition(dist, kk - 1, axis=1)[:, :kk]
            keep = np.take_along_axis(dist, nn, axis=1) <= width
            members = ci[rows_c[nn]]  # (treated, kk) rows of the control pool
        else:
            strata_c = s_c[rows_c]
            order = np.argsort(strata_c, kind="stable")
            sorted_strata = strata_c[order]
            lo = np.searchsorted(sorted_strata, s_t[rows_t], side="left")
            hi = np.searchsorted(sorted_strata, s_t[rows_t], side="right")
            width_max = int((hi - lo).max()) if len(lo) else 0
            if width_max == 0:
                continue
            pos = lo[:, None] + np.arange(width_max)[None, :]
            keep = pos < hi[:, None]
            members = ci[rows_c[order[np.minimum(pos, len(order) - 1)]]]
        n_kept = keep.sum(axis=1)
        has = n_kept > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            dc = np.where(keep, d.c_d[members], 0.0).sum(axis=1) / n_kept
            pc_vals = d.c_pd[members]
            pc_ok = keep & ~np.isnan(pc_vals)
            pc = np.where(pc_ok, pc_vals, 0.0).sum(axis=1) / pc_ok.sum(axis=1)
        comp[rows_t[has]] = dc[has]
        ncomp[rows_t] = n_kept
        effects[rows_t[has]] = d.t_d[ti[rows_t[has]]] - dc[has]
        own_pre = d.t_pd[ti[rows_t]]
        ok_pre = has & (pc_ok.sum(axis=1) > 0) & ~np.isnan(own_pre)
        pre_effects[rows_t[ok_pre]] = own_pre[ok_pre] - pc[ok_pre]
        used.append(members[keep])
    before_after = d.t_d[ti]
    return {
        "did": float(np.nanmean(effects)) if np.isfinite(effects).any() else np.nan,
        "naive_difference": float(np.nanmean(naive)) if np.isfinite(naive).any() else np.nan,
        "naive_before_after": float(np.mean(before_after)) if len(before_after) else np.nan,
        "pre_trend": float(np.nanmean(pre_effects)) if np.isfinite(pre_effects).any() else np.nan,
        "effects": effects,
        "comparison": comp,
        "n_comparisons": ncomp,
        "used": np.unique(np.concatenate(used)) if used else np.array([], dtype=int),
    }


def _covariates(
    reviews: pd.DataFrame,
    competency_ratings: pd.DataFrame | None,
    outcome: str,
    covariates: Sequence[str],
) -> tuple[pd.DataFrame, list[str]]:
    """Covariates by employee x cycle (missing values filled with the cycle's mean), and names."""
    cov = reviews.assign(
        employee_id=reviews["employee_id"].astype(str), cycle_id=reviews["cycle_id"].astype(str)
    )
    cov = (
        cov.groupby(["employee_id", "cycle_id"])[list(covariates)].mean()
        if covariates
        else pd.DataFrame(
            index=pd.MultiIndex.from_frame(cov[["employee_id", "cycle_id"]].drop_duplicates())
        )
    )
    cov_names = list(covariates)
    if competency_ratings is not None and outcome not in reviews.columns:
        others = competency_ratings[competency_ratings["competency"].astype(str) != outcome]
        if len(others):
            other = (
                others.assign(
                    employee_id=others["employee_id"].astype(str),
                    cycle_id=others["cycle_id"].astype(str),
                )
                .groupby(["employee_id", "cycle_id"])["rating"]
                .mean()
            )
            cov = cov.join(other.rename("other_competencies"), how="left")
            cov_names.append("other_competencies")
    if cov_names:
        cycle_mean = cov.groupby(level="cycle_id")[cov_names].transform("mean")
        cov[cov_names] = cov[cov_names].fillna(cycle_mean).fillna(cov[cov_names].mean())
    return cov, cov_names


def _contrasts(
    participation: pd.DataFrame,
    cycles: pd.Series,
    wide: pd.DataFrame,
    cov: pd.DataFrame,
    cov_names: list[str],
    outcome: str,
) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, str]]]:
    """Completers' and comparison employees' pre/post outcome values; completers left out, why."""
    names = cycles.index.astype(str).tolist()
    part = participation.assign(employee_id=participation["employee_id"].astype(str))
    if part["employee_id"].duplicated().any():
        raise ValueError("participation has several rows for some employees")
    start = _utc(part["started_at"], "participation", "started_at")
    done = pd.to_datetime(part["completed_at"], utc=True).astype("datetime64[ns, UTC]")

    ends_ns = np.array([pd.Timestamp(e).value for e in cycles.to_numpy()], dtype=np.int64)
    emp_pos = {e: i for i, e in enumerate(wide.index.astype(str))}
    values = wide.to_numpy(float)
    treated_rows, excluded = [], []
    for eid, s, c in zip(part["employee_id"], start, done, strict=True):
        if pd.isna(c):
            continue
        pre = int(np.searchsorted(ends_ns, pd.Timestamp(s).value, side="left")) - 1
        post = int(np.searchsorted(ends_ns, pd.Timestamp(c).value, side="right"))
        e = emp_pos.get(eid)
        if pre < 0:
            excluded.append((eid, "no review cycle before the track"))
        elif post >= len(names):
            excluded.append((eid, "no review cycle after completion"))
        elif e is None or np.isnan(values[e, pre]):
            excluded.append((eid, f"no {outcome} rating before the track"))
        elif np.isnan(values[e, post]):
            excluded.append((eid, f"no {outcome} rating after completion"))
        else:
            treated_rows.append((e, pre, post))
    if not treated_rows:
        raise ValueError("no completer has a rating before and after the track")
    # comparison rows: rated in both cycles, not started by the end of the post period
    first_start = np.full(len(wide), np.iinfo(np.int64).max, dtype=np.int64)
    for eid, s in zip(part["employee_id"], start, strict=True):
        e = emp_pos.get(eid)
        if e is not None and not pd.isna(s):
            first_start[e] = pd.Timestamp(s).value
    c_rows = []
    for pre, post in sorted({(p, q) for _, p, q in treated_rows}):
        ok = ~np.isnan(values[:, pre]) & ~np.isnan(values[:, post]) & (first_start > ends_ns[post])
        idx = np.flatnonzero(ok)
        c_rows.append(np.column_stack([idx, np.full(len(idx), pre), np.full(len(idx), post)]))
    covs = {
        c: cov[c].unstack("cycle_id").reindex(index=wide.index, columns=names).to_numpy(float)
        for c in cov_names
    }

    def frame(rows: np.ndarray) -> pd.DataFrame:
        e, pre, post = rows[:, 0], rows[:, 1], rows[:, 2]
        pv, qv = values[e, pre], values[e, post]
        prepre = np.where(pre >= 1, values[e, np.maximum(pre - 1, 0)], np.nan)
        out = pd.DataFrame(
            {
                "employee_id": wide.index.astype(str).to_numpy()[e],
                "cohort": [f"{names[a]}->{names[b]}" for a, b in zip(pre, post, strict=True)],
                "pre_cycle": np.asarray(names, dtype=object)[pre],
                "post_cycle": np.asarray(names, dtype=object)[post],
                "pre_value": pv,
                "post_value": qv,
                "change": qv - pv,
                "pre_change": pv - prepre,
            }
        )
        for c in cov_names:
            out[c] = covs[c][e, pre]
        return out

    treated = frame(np.asarray(treated_rows, dtype=np.int64))
    controls = frame(np.vstack(c_rows).astype(np.int64))
    if controls.empty:
        raise ValueError("no comparison employee is rated in the completers' cycles")
    if cov_names:
        # covariates missing at the pre cycle (no review row) are filled with the pool mean
        pool_mean = pd.concat([treated[cov_names], controls[cov_names]]).mean()
        treated[cov_names] = treated[cov_names].fillna(pool_mean).fillna(0.0)
        controls[cov_names] = controls[cov_names].fillna(pool_mean).fillna(0.0)
    return treated, controls, excluded


def _bootstrap(
    design: _Design,
    *,
    method: str,
    n_neighbors: int,
    caliper: float,
    bins: int,
    n_bootstrap: int,
    random_state: int | None,
    show_progress: bool | None,
) -> dict[str, list[float]]:
    """Bootstrap replicates of every estimate (completers and comparison employees resampled)."""
    rng = rng_from(random_state)
    reps = {k: [] for k, _ in _ESTIMATES}
    show = _show_progress() if show_progress is None else bool(show_progress)
    nt, ne = len(design.t), len(design.employees)
    rows_by_emp = [np.flatnonzero(design.c_emp_idx == j) for j in range(ne)]
    from threadpoolctl import threadpool_limits

    # small matrices: one BLAS thread is faster than several competing ones
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in tqdm(range(n_bootstrap), desc="bootstrap", disable=not show, leave=False):
            ti = rng.integers(0, nt, nt)
            emps = rng.integers(0, ne, ne)
            ci = np.concatenate([rows_by_emp[j] for j in emps])
            est = _estimate(design, ti, ci, method, n_neighbors, caliper, bins)
            for k, _ in _ESTIMATES:
                reps[k].append(est[k])
    return reps


def _intervals(
    reps: dict[str, list[float]], full: dict[str, Any], confidence: float
) -> pd.DataFrame:
    """Each estimate with its percentile bootstrap interval and standard error."""
    a = (1 - confidence) / 2
    table = []
    for k, label in _ESTIMATES:
        r = np.asarray(reps[k], dtype=float)
        r = r[np.isfinite(r)]
        lo, hi = np.quantile(r, [a, 1 - a]) if len(r) else (np.nan, np.nan)
        table.append(
            (label, full[k], float(lo), float(hi), float(r.std(ddof=1)) if len(r) > 1 else np.nan)
        )
    estimates = pd.DataFrame(
        table, columns=["name", "estimate", "ci_low", "ci_high", "std_error"]
    ).set_index("name")
    estimates.index.name = None
    return estimates
