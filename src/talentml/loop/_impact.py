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

from .._validation import RandomStateLike, renamed_parameters
from ._impact_estimate import (
    _bootstrap,
    _contrasts,
    _covariates,
    _Design,
    _estimate,
    _intervals,
)
from ._tables import _require, _utc

__all__ = ["LearningImpact", "learning_impact", "track_completions"]

logger = logging.getLogger(__name__)

_DONE_VERBS = frozenset({"completed", "passed", "mastered"})


@renamed_parameters(catalog="course_catalog")
def track_completions(
    statements: pd.DataFrame,
    course_catalog: pd.DataFrame,
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
    course_catalog : pandas.DataFrame
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
        _require(course_catalog, ("activity_id", "program"), "catalog")
        acts = course_catalog.loc[
            course_catalog["program"].astype(str) == str(program), "activity_id"
        ]
        acts = sorted(acts.astype(str).unique())
        if not acts:
            raise ValueError(
                f"the catalog has no activity in program {program!r}; programs: "
                f"{sorted(course_catalog['program'].dropna().astype(str).unique())}"
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


def _result(
    design: _Design,
    full: dict[str, Any],
    estimates: pd.DataFrame,
    reps: dict[str, list[float]],
    excluded: list[tuple[str, str]],
    *,
    confidence: float,
    outcome: str,
    method: str,
) -> LearningImpact:
    """The :class:`LearningImpact` of the estimates, contrasts and exclusions (logged)."""
    matched = np.isfinite(full["effects"])
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
    random_state: RandomStateLike = 0,
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
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
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
    cov, cov_names = _covariates(reviews, competency_ratings, outcome, covariates)
    # one table of outcome values by employee x cycle
    wide = y.unstack("cycle_id").reindex(columns=names)
    treated, controls, excluded = _contrasts(participation, cycles, wide, cov, cov_names, outcome)
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
    reps = _bootstrap(
        design,
        method=method,
        n_neighbors=n_neighbors,
        caliper=caliper,
        bins=bins,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        show_progress=show_progress,
    )
    estimates = _intervals(reps, full, confidence)
    return _result(
        design,
        full,
        estimates,
        reps,
        excluded,
        confidence=confidence,
        outcome=outcome,
        method=method,
    )
