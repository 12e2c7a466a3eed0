"""Learning impact: did completing a track change later ratings? A matched comparison.

The question is causal and the data are observational: people are *nominated* to a track for
the very qualities that raise their ratings. :func:`learning_impact` therefore compares each
completer with similar people who had not started the track (propensity-score or coarsened
exact matching on what the reviews knew before the track started), and takes a
*difference in differences* of the outcome rating: the completer's change from the last
review before the track to the first review after it, minus the same change of the matched
comparisons over the same two cycles. Time-invariant differences between the groups cancel;
the bootstrap (resampling completers and comparison employees) gives the confidence interval.
The naive comparisons are reported next to it, to show how far they are off.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..config import show_progress as _show_progress
from ._rules import _require, _utc

__all__ = ["LearningImpact", "learning_impact", "track_completions"]

logger = logging.getLogger(__name__)

_DONE_VERBS = frozenset({"completed", "passed", "mastered"})
_ESTIMATES = (
    ("did", "matched difference in differences"),
    ("naive_difference", "naive: completers vs others after"),
    ("naive_before_after", "naive: completers before vs after"),
    ("pre_trend", "placebo: pre-track trend (should be 0)"),
)


def track_completions(
    statements: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    program: str | None = "leadership",
    activities: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Who started and who completed a learning track, and when, from the learning records.

    A track is a program of the catalog (or a list of activities). An employee *started* it
    at their first statement on any of its activities and *completed* it when they had
    completed or passed every one of them (the time of the last first completion).

    Parameters
    ----------
    statements : pandas.DataFrame
        Normalized statements: ``employee_id``, ``object_id``, ``verb``, ``timestamp`` and
        optionally ``success``, ``completion``.
    catalog : pandas.DataFrame
        The learning catalog (``activity_id``, ``program``).
    program : str, default "leadership"
        The catalog program of the track (ignored when ``activities`` is given).
    activities : sequence of str, optional
        The track's activity ids.

    Returns
    -------
    pandas.DataFrame
        One row per employee who started: ``employee_id``, ``started_at``,
        ``completed_at`` (missing when not completed), ``n_completed``, ``n_activities``.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import track_completions
    >>> catalog = pd.DataFrame({"activity_id": ["l1", "l2"], "program": ["leadership"] * 2})
    >>> st = pd.DataFrame({"employee_id": ["a", "a", "b"], "object_id": ["l1", "l2", "l1"],
    ...     "verb": ["completed", "passed", "launched"],
    ...     "timestamp": pd.to_datetime(["2024-03-05", "2024-06-20", "2024-03-09"], utc=True)})
    >>> track_completions(st, catalog)[["employee_id", "n_completed", "completed_at"]]
      employee_id  n_completed              completed_at
    0           a            2 2024-06-20 00:00:00+00:00
    1           b            0                       NaT
    """
    _require(statements, ("employee_id", "object_id", "verb", "timestamp"), "statements")
    if activities is None:
        _require(catalog, ("activity_id", "program"), "catalog")
        acts = catalog.loc[catalog["program"].astype(str) == str(program), "activity_id"]
        acts = sorted(acts.astype(str).unique())
        if not acts:
            raise ValueError(
                f"the catalog has no activity in program {program!r}; programs: "
                f"{sorted(catalog['program'].dropna().astype(str).unique())}"
            )
    else:
        acts = sorted({str(a) for a in activities})
    st = statements[
        statements["object_id"].astype(str).isin(acts) & statements["employee_id"].notna()
    ]
    ts = _utc(st["timestamp"], "statements", "timestamp")
    verb = st["verb"].astype("string").str.lower()
    success = (
        st["success"].astype("boolean")
        if "success" in st.columns
        else pd.Series(pd.NA, index=st.index, dtype="boolean")
    )
    completion = (
        st["completion"].astype("boolean")
        if "completion" in st.columns
        else pd.Series(pd.NA, index=st.index, dtype="boolean")
    )
    done = (
        (verb.isin(list(_DONE_VERBS)) | completion.fillna(False))
        & ~success.eq(False).fillna(False)
        & (verb != "failed")
    )
    ev = pd.DataFrame(
        {
            "employee_id": st["employee_id"].astype(str).to_numpy(),
            "activity": st["object_id"].astype(str).to_numpy(),
            "t": ts.to_numpy(),
            "done": done.fillna(False).to_numpy(bool),
        }
    )
    started = ev.groupby("employee_id")["t"].min()
    first_done = ev[ev["done"]].groupby(["employee_id", "activity"])["t"].min()
    n_done = first_done.groupby(level=0).size()
    last_done = first_done.groupby(level=0).max()
    out = pd.DataFrame({"employee_id": started.index.astype(str)})
    out["started_at"] = started.to_numpy()
    out["n_completed"] = out["employee_id"].map(n_done).fillna(0).astype(int)
    out["n_activities"] = len(acts)
    complete = out["n_completed"] >= len(acts)
    out["completed_at"] = out["employee_id"].map(last_done).where(complete)
    for col in ("started_at", "completed_at"):
        out[col] = pd.to_datetime(out[col], utc=True).astype("datetime64[ns, UTC]")
    out = out[["employee_id", "started_at", "completed_at", "n_completed", "n_activities"]]
    return out.astype({"employee_id": "string"}).sort_values("employee_id").reset_index(drop=True)


@dataclass
class LearningImpact:
    """The estimated effect of completing a track on a later rating (:func:`learning_impact`).

    Attributes
    ----------
    estimate : float
        The matched difference in differences: the average effect on the completers
        (rating points).
    ci_low, ci_high : float
        Its bootstrap percentile confidence interval.
    std_error : float
        Bootstrap standard deviation of the estimate.
    confidence : float
        Confidence level of the intervals.
    outcome : str
        The rating analysed.
    method : str
        ``"propensity"`` or ``"exact"``.
    n_treated : int
        Completers matched (and used).
    n_controls : int
        Distinct comparison employees used.
    estimates : pandas.DataFrame
        The matched estimate and the naive ones (completers vs others after the track;
        completers before vs after) and the pre-track placebo, each with its interval.
    contrasts : pandas.DataFrame
        One row per completer: cycles, own change, matched comparisons' change, effect.
    excluded : pandas.DataFrame
        Completers not used and why (no rating before or after, no comparable match).
    bootstrap : numpy.ndarray
        The bootstrap replicates of the estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from talentml.loop import LearningImpact
    >>> LearningImpact(estimate=0.5, ci_low=0.3, ci_high=0.7).covers(0.6)
    True
    """

    estimate: float
    ci_low: float
    ci_high: float
    std_error: float = np.nan
    confidence: float = 0.95
    outcome: str = ""
    method: str = "propensity"
    n_treated: int = 0
    n_controls: int = 0
    estimates: pd.DataFrame = field(default_factory=pd.DataFrame)
    contrasts: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    bootstrap: np.ndarray = field(default_factory=lambda: np.array([]))

    def covers(self, value: float) -> bool:
        """Whether the confidence interval contains ``value``.

        Examples
        --------
        >>> from talentml.loop import LearningImpact
        >>> LearningImpact(estimate=0.5, ci_low=0.3, ci_high=0.7).covers(0.0)
        False
        """
        return bool(self.ci_low <= value <= self.ci_high)

    def summary(self) -> pd.DataFrame:
        """The estimates with their intervals (a copy of :attr:`estimates`).

        Examples
        --------
        >>> from talentml.loop import LearningImpact
        >>> LearningImpact(estimate=0.5, ci_low=0.3, ci_high=0.7).summary().empty
        True
        """
        return self.estimates.copy()

    def plot(self, *, ax: Any = None, truth: float | None = None):
        """The matched and naive estimates with their intervals (and the truth when known).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (default: a new figure).
        truth : float, optional
            A known effect to draw as a vertical line (e.g. the simulator's).

        Returns
        -------
        matplotlib.axes.Axes
            The axes.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import LearningImpact
        >>> est = pd.DataFrame({"estimate": [0.5], "ci_low": [0.3], "ci_high": [0.7]},
        ...                    index=["matched difference in differences"])
        >>> LearningImpact(0.5, 0.3, 0.7, estimates=est).plot().get_xlabel()
        'Effect on the rating (rating points)'
        """
        from matplotlib.figure import Figure

        if ax is None:
            fig = Figure(figsize=(7.5, 3.0))
            ax = fig.add_subplot()
        est = self.estimates
        y = np.arange(len(est))
        lo = (est["estimate"] - est["ci_low"]).to_numpy(float)
        hi = (est["ci_high"] - est["estimate"]).to_numpy(float)
        ax.errorbar(est["estimate"], y, xerr=[lo, hi], fmt="o", color="#1f4e79", capsize=4)
        ax.axvline(0.0, color="#999999", lw=1)
        if truth is not None:
            ax.axvline(truth, color="#38761d", lw=1.5, ls="--", label=f"truth {truth:.2f}")
            ax.legend(frameon=False, fontsize=9)
        ax.set_yticks(y, est.index.tolist())
        ax.invert_yaxis()
        ax.set_xlabel("Effect on the rating (rating points)")
        ax.set_title(f"Learning impact on {self.outcome} ({self.confidence:.0%} intervals)")
        return ax


# ------------------------------------------------------------------------- estimation


def _cycles(reviews: pd.DataFrame) -> pd.Series:
    ends = reviews.groupby("cycle_id")["period_end"].agg(["min", "max"])
    bad = ends.index[ends["min"] != ends["max"]]
    if len(bad):
        raise ValueError(
            f"table 'reviews': cycles {bad[:5].tolist()} have several period_end values; a "
            "cycle must cover one period"
        )
    return ends["max"].sort_values()


def _outcome_table(reviews, competency_ratings, outcome) -> pd.Series:
    if outcome in reviews.columns:
        v = reviews[["employee_id", "cycle_id", outcome]].dropna()
        return v.groupby(["employee_id", "cycle_id"])[outcome].mean().astype(float)
    if competency_ratings is None:
        raise ValueError(
            f"outcome {outcome!r} is not a column of reviews; pass competency_ratings= to use "
            "a competency"
        )
    _require(
        competency_ratings,
        ("employee_id", "cycle_id", "competency", "rating"),
        "competency_ratings",
    )
    cr = competency_ratings[competency_ratings["competency"].astype(str) == outcome]
    if cr.empty:
        raise ValueError(
            f"no competency rating for {outcome!r}; competencies: "
            f"{sorted(competency_ratings['competency'].dropna().astype(str).unique())}"
        )
    return (
        cr.dropna(subset=["rating"])
        .groupby(["employee_id", "cycle_id"])["rating"]
        .mean()
        .astype(float)
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


def learning_impact(
    participation: pd.DataFrame,
    reviews: pd.DataFrame,
    *,
    competency_ratings: pd.DataFrame | None = None,
    outcome: str = "Leadership",
    covariates: Sequence[str] = ("overall_rating", "potential_rating", "goal_attainment"),
    method: str = "propensity",
    n_neighbors: int = 5,
    caliper: float = 0.2,
    bins: int = 3,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    random_state: int | None = None,
    show_progress: bool | None = None,
) -> LearningImpact:
    """Estimate the effect of completing a learning track on a later rating.

    For each completer, the *pre* cycle is the last review cycle whose period ended before they
    started the track and the *post* cycle the first one ending after they completed it. The
    comparison pool of that (pre, post) pair is everyone rated in both cycles who had not
    started the track by the end of the post period. Completers are matched to comparisons of
    the same pair on the covariates of the pre review (never on the pre outcome itself, which
    would bring regression to the mean):

    * ``method="propensity"``: a logistic regression (scikit-learn) of completing on the
      standardized covariates and the cycle pair gives a propensity score; each completer is
      matched, with replacement, to its ``n_neighbors`` nearest comparisons on the logit of
      the score within ``caliper`` standard deviations;
    * ``method="exact"``: coarsened exact matching, each covariate cut into ``bins`` quantile
      bins; all comparisons in the completer's stratum are used.

    The effect is the mean over matched completers of (own change from pre to post) minus (the
    matched comparisons' mean change). The confidence interval is the percentile interval of
    ``n_bootstrap`` replicates resampling completers and comparison employees (with all their
    rows), re-fitting and re-matching each time. The *pre-track placebo* repeats the
    comparison on the two cycles before the track (it should be near 0 when the trends of the
    matched groups were parallel).

    Parameters
    ----------
    participation : pandas.DataFrame
        ``employee_id``, ``started_at`` and ``completed_at`` (missing when not completed), e.g.
        :func:`track_completions`. Employees absent from it never started.
    reviews : pandas.DataFrame
        The ``reviews`` table: cycles and their ``period_end``, the covariates, and the
        outcome when it is a review column.
    competency_ratings : pandas.DataFrame, optional
        The ``competency_ratings`` table when ``outcome`` is a competency.
    outcome : str, default "Leadership"
        A competency (from ``competency_ratings``) or a column of ``reviews`` (e.g.
        ``"overall_rating"``).
    covariates : sequence of str, default ("overall_rating", "potential_rating", "goal_attainment")
        Columns of ``reviews`` (at the pre cycle) to match on; when the outcome is a
        competency, the mean of the *other* competencies at the pre cycle is added. Missing
        values are filled with the cycle's mean.
    method : {"propensity", "exact"}, default "propensity"
        The matching.
    n_neighbors : int, default 5
        Comparisons per completer (propensity matching).
    caliper : float, default 0.2
        Maximum logit distance, in standard deviations of the logit.
    bins : int, default 3
        Quantile bins per covariate (exact matching).
    n_bootstrap : int, default 200
        Bootstrap replicates.
    confidence : float, default 0.95
        Confidence level.
    random_state : int, optional
        Seed of the bootstrap.
    show_progress : bool, optional
        Progress bar over the replicates (default from :func:`talentml.set_config`).

    Returns
    -------
    LearningImpact
        The estimate, its interval, the naive comparisons and the placebo, per-completer
        contrasts and the excluded completers.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.loop import learning_impact
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> ids = [f"e{i}" for i in range(n)]
    >>> skill = rng.normal(0, 1, n)
    >>> treated = rng.random(n) < 1 / (1 + np.exp(-(skill - 1.5)))
    >>> ends = pd.to_datetime(["2024-06-30", "2024-12-31"], utc=True)
    >>> reviews = pd.DataFrame({"employee_id": ids * 2, "cycle_id": ["H1"] * n + ["H2"] * n,
    ...     "period_end": np.repeat(ends, n),
    ...     "overall_rating": np.concatenate([3 + skill, 3 + skill + 0.5 * treated])
    ...                       + rng.normal(0, 0.3, 2 * n)})
    >>> part = pd.DataFrame({"employee_id": np.array(ids)[treated],
    ...     "started_at": pd.Timestamp("2024-08-01", tz="UTC"),
    ...     "completed_at": pd.Timestamp("2024-11-01", tz="UTC")})
    >>> result = learning_impact(part, reviews, outcome="overall_rating", covariates=(),
    ...                          n_bootstrap=50, random_state=0)
    >>> result.covers(0.5), bool(result.estimates.loc["naive: completers vs others after", "estimate"] > 1)
    (True, True)
    """
    if method not in ("propensity", "exact"):
        raise ValueError(f"method must be 'propensity' or 'exact', got {method!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    for name, v, lo in (
        ("n_neighbors", n_neighbors, 1),
        ("n_bootstrap", n_bootstrap, 0),
        ("bins", bins, 1),
    ):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    _require(participation, ("employee_id", "started_at", "completed_at"), "participation")
    _require(reviews, ("employee_id", "cycle_id", "period_end"), "reviews")
    missing = [c for c in covariates if c not in reviews.columns]
    if missing:
        raise ValueError(f"covariate(s) {missing} are not columns of reviews")
    cycles = _cycles(reviews)
    _utc(reviews["period_end"], "reviews", "period_end")
    names = cycles.index.astype(str).tolist()
    y = _outcome_table(reviews, competency_ratings, outcome)
    y.index = y.index.set_levels([y.index.levels[0].astype(str), y.index.levels[1].astype(str)])
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
    # one table of outcome values by employee x cycle
    wide = y.unstack("cycle_id").reindex(columns=names)
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
    feats = cov_names or []
    if not feats:
        treated["_const"] = 0.0
        controls["_const"] = 0.0
        feats = ["_const"]
    design = _Design(treated, controls, feats)
    full = _estimate(
        design,
        np.arange(len(design.t)),
        np.arange(len(design.c)),
        method,
        n_neighbors,
        caliper,
        bins,
    )
    matched = np.isfinite(full["effects"])
    for eid in design.t.loc[~matched, "employee_id"]:
        excluded.append(
            (
                eid,
                "no comparable employee within the caliper"
                if method == "propensity"
                else "no comparison in the stratum",
            )
        )
    rng = np.random.default_rng(random_state)
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
    contrasts = design.t[
        ["employee_id", "cohort", "pre_cycle", "post_cycle", "pre_value", "post_value", "change"]
    ].copy()
    contrasts["comparison_change"] = full["comparison"]
    contrasts["n_comparisons"] = full["n_comparisons"]
    contrasts["effect"] = full["effects"]
    did = estimates.iloc[0]
    result = LearningImpact(
        estimate=float(did["estimate"]),
        ci_low=float(did["ci_low"]),
        ci_high=float(did["ci_high"]),
        std_error=float(did["std_error"]),
        confidence=float(confidence),
        outcome=outcome,
        method=method,
        n_treated=int(matched.sum()),
        n_controls=int(len(np.unique(design.c_emp[full["used"]]))) if len(full["used"]) else 0,
        estimates=estimates,
        contrasts=contrasts,
        excluded=pd.DataFrame(excluded, columns=["employee_id", "reason"]).astype("string"),
        bootstrap=np.asarray(reps["did"], dtype=float),
    )
    logger.info(
        "learning impact on %s: %.3f [%.3f, %.3f] (%d completers, %d comparisons; naive %.3f)",
        outcome,
        result.estimate,
        result.ci_low,
        result.ci_high,
        result.n_treated,
        result.n_controls,
        float(estimates.iloc[1]["estimate"]),
    )
    return result
