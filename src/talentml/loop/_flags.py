"""Calibration flags: what a talent calibration meeting should look at, with the evidence.

* ``top_rating_noncompliant``: a top rating while mandatory compliance training is overdue
  or was failed and not passed since;
* ``hidden_gem``: high learning agility and skill acquisition with an average rating;
* ``rating_model_gap``: a manager's rating far from the model's view of the same person;
* ``manager_rating_gap``: a manager whose ratings of their team sit systematically away
  from the model's view.

Percentiles are taken within each ``as_of`` (people are compared with their peers at the same
time); every flag carries its evidence as text and as JSON.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
from scipy import stats

from .._validation import renamed_parameters
from ._rules import RATING_SCALE
from ._tables import _require, _utc

__all__ = ["FLAGS", "calibration_flags", "failed_mandatory"]

logger = logging.getLogger(__name__)

#: The flags :func:`calibration_flags` can raise.
FLAGS = ("top_rating_noncompliant", "hidden_gem", "rating_model_gap", "manager_rating_gap")
_PASS_VERBS = frozenset({"passed", "completed", "mastered"})
_COLUMNS = ["employee_id", "as_of", "flag", "direction", "score", "evidence", "details"]


def _label(value: float) -> str:
    label = next((k for k, v in RATING_SCALE.items() if v == value), None)
    return f"{value:g} ({label})" if label else f"{value:g}"


@renamed_parameters(catalog="course_catalog")
def failed_mandatory(
    spine: pd.DataFrame,
    statements: pd.DataFrame,
    course_catalog: pd.DataFrame,
    *,
    window: str = "365D",
) -> pd.Series:
    """Mandatory courses failed and not passed since, per spine row, known before ``as_of``.

    A mandatory course (``catalog.mandatory``) counts when its latest failure (verb
    ``failed`` or ``success`` false) stored before ``as_of`` and inside ``window`` is later
    than its latest pass or completion stored before ``as_of``.

    Parameters
    ----------
    spine : pandas.DataFrame
        ``employee_id`` and ``as_of``.
    statements : pandas.DataFrame
        Normalized statements: ``employee_id``, ``object_id``, ``verb``, ``success``,
        ``stored``.
    course_catalog : pandas.DataFrame
        ``activity_id`` and ``mandatory``.
    window : str, default "365D"
        How far back a failure counts.

    Returns
    -------
    pandas.Series
        Count per spine row (int64), aligned with ``spine``.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import failed_mandatory
    >>> cat = pd.DataFrame({"activity_id": ["sec"], "mandatory": [True]})
    >>> st = pd.DataFrame({"employee_id": ["a", "a"], "object_id": ["sec", "sec"],
    ...     "verb": ["failed", "passed"], "success": [False, True],
    ...     "stored": pd.to_datetime(["2025-01-10", "2025-02-10"], utc=True)})
    >>> spine = pd.DataFrame({"employee_id": ["a", "a"],
    ...                       "as_of": pd.to_datetime(["2025-02-01", "2025-03-01"], utc=True)})
    >>> failed_mandatory(spine, st, cat).tolist()
    [1, 0]
    """
    _require(spine, ("employee_id", "as_of"), "spine")
    _require(statements, ("employee_id", "object_id", "verb", "stored"), "statements")
    _require(course_catalog, ("activity_id", "mandatory"), "catalog")
    w = pd.Timedelta(window)
    mand = set(
        course_catalog.loc[
            course_catalog["mandatory"].fillna(False).astype(bool), "activity_id"
        ].astype(str)
    )
    st = statements[
        statements["object_id"].astype(str).isin(mand) & statements["employee_id"].notna()
    ]
    verb = st["verb"].astype("string").str.lower()
    success = (
        st["success"].astype("boolean")
        if "success" in st.columns
        else pd.Series(pd.NA, index=st.index, dtype="boolean")
    )
    fail = (verb == "failed") | success.eq(False).fillna(False)
    ok = (verb.isin(list(_PASS_VERBS)) | success.eq(True).fillna(False)) & ~fail
    stored = _utc(st["stored"], "statements", "stored")
    as_of = _utc(spine["as_of"], "spine", "as_of")
    n = len(spine)
    left = pd.DataFrame(
        {
            "employee_id": spine["employee_id"].astype(str).to_numpy(),
            "as_of": as_of.to_numpy(),
            "row": np.arange(n),
        }
    ).sort_values("as_of", kind="stable")
    counts = np.zeros(n, dtype=np.int64)
    for act in sorted(mand):
        on = (st["object_id"].astype(str) == act).to_numpy(bool)
        last = {}
        for name, mask in (("fail", fail.to_numpy(bool)), ("pass", ok.to_numpy(bool))):
            right = pd.DataFrame(
                {
                    "employee_id": st["employee_id"].astype(str).to_numpy()[on & mask],
                    "t": stored.to_numpy()[on & mask],
                }
            ).sort_values("t", kind="stable")
            right[name] = right["t"]
            if right.empty:
                last[name] = np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
                continue
            m = pd.merge_asof(
                left,
                right,
                left_on="as_of",
                right_on="t",
                by="employee_id",
                allow_exact_matches=False,
                direction="backward",
            )
            vals = np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
            vals[m["row"].to_numpy()] = (
                m[name].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
            )
            last[name] = vals
        a = as_of.dt.tz_localize(None).to_numpy("datetime64[ns]")
        lf, lp = last["fail"], last["pass"]
        has_fail = ~np.isnat(lf)
        recent = has_fail & (lf >= a - w.to_timedelta64())
        unresolved = recent & (np.isnat(lp) | (lp < lf))
        counts += unresolved.astype(np.int64)
    return pd.Series(counts, index=spine.index, name="failed_mandatory")


def _pct(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Percentile rank (0-1, ties averaged) within each group; NaN stays NaN."""
    return values.groupby(groups, sort=False).rank(method="average", pct=True)


@renamed_parameters(catalog="course_catalog")
def calibration_flags(
    X: pd.DataFrame,
    *,
    model_score: str | pd.Series | np.ndarray | None = None,
    manager_rating: str = "potential_latest",
    rating: str = "rating_latest",
    top_rating: float | str = "Exceeds",
    statements: pd.DataFrame | None = None,
    course_catalog: pd.DataFrame | None = None,
    agility: str = "agility_standard_365d",
    skill_pace: str = "skills_per_quarter_365d",
    gem_quantile: float = 0.8,
    average_ratings: tuple[float, float] = (3.0, 3.0),
    gap_threshold: float = 0.5,
    employees: pd.DataFrame | None = None,
    min_team: int = 4,
    manager_gap_threshold: float = 0.2,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Flags for talent calibration, each with its evidence.

    Parameters
    ----------
    X : pandas.DataFrame
        Spine rows with features (``talentml.features.build`` output): ``employee_id``,
        ``as_of``, ``rating``, ``mandatory_compliant``, ``mandatory_overdue_count``,
        ``mandatory_days_overdue``, ``agility``, ``skill_pace`` and ``manager_rating`` as
        needed; a flag whose columns are absent is skipped (logged).
    model_score : str, pandas.Series or array-like, optional
        The model's view compared with ``manager_rating`` (e.g. the probability of
        :class:`talentml.models.HighPotential`): a column of ``X`` or values aligned with it.
        Without it the two gap flags are skipped.
    manager_rating : str, default "potential_latest"
        The manager's rating compared with the model.
    rating : str, default "rating_latest"
        The performance rating.
    top_rating : float or str, default "Exceeds"
        A top rating is at or above this (a number or a :data:`RATING_SCALE` label).
    statements, course_catalog : pandas.DataFrame, optional
        Normalized statements and the learning course_catalog, to also flag mandatory courses
        *failed* and not passed since (:func:`failed_mandatory`).
    agility, skill_pace : str
        Learning agility and skill-acquisition columns of the hidden-gem flag.
    gem_quantile : float, default 0.8
        A hidden gem is at or above this percentile on both, among peers at the same
        ``as_of``.
    average_ratings : (float, float), default (3.0, 3.0)
        The ratings that count as average (inclusive bounds).
    gap_threshold : float, default 0.5
        Minimum difference of percentiles between the model and the manager's rating.
    employees : pandas.DataFrame, optional
        ``employee_id`` and ``manager_id`` (when ``X`` has no ``manager_id``), for the
        manager-level flag.
    min_team : int, default 4
        Minimum rated reports of a manager for the manager-level flag.
    manager_gap_threshold : float, default 0.2
        Minimum mean percentile gap over a manager's reports.
    alpha : float, default 0.05
        Significance level of the manager-level gap (one-sample t-test).

    Returns
    -------
    pandas.DataFrame
        One row per flag raised: ``employee_id`` (the manager for ``manager_rating_gap``),
        ``as_of``, ``flag`` (see :data:`FLAGS`), ``direction`` (``model_higher`` /
        ``model_lower`` for gaps), ``score`` (the flag's key number), ``evidence`` (text)
        and ``details`` (JSON).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import calibration_flags
    >>> X = pd.DataFrame({"employee_id": ["a", "b"],
    ...     "as_of": pd.to_datetime(["2025-03-01"] * 2, utc=True),
    ...     "rating_latest": [5.0, 3.0], "mandatory_compliant": [0, 1],
    ...     "mandatory_overdue_count": [2, 0], "mandatory_days_overdue": [45.0, 0.0]})
    >>> flags = calibration_flags(X)
    >>> flags[["employee_id", "flag"]]
      employee_id                     flag
    0           a  top_rating_noncompliant
    >>> print(flags.loc[0, "evidence"])
    rated 5 (Outstanding) while 2 mandatory course(s) are overdue, the oldest by 45 days
    """
    _require(X, ("employee_id", "as_of"), "X")
    as_of = _utc(X["as_of"], "X", "as_of")
    if not 0 < gem_quantile < 1:
        raise ValueError(f"gem_quantile must be in (0, 1), got {gem_quantile!r}")
    top = float(RATING_SCALE[top_rating]) if isinstance(top_rating, str) else float(top_rating)
    if isinstance(top_rating, str) and top_rating not in RATING_SCALE:
        raise ValueError(f"unknown rating label {top_rating!r}; labels: {list(RATING_SCALE)}")
    ids = X["employee_id"].astype(str)
    parts: list[pd.DataFrame] = []

    # ---------------------------------------------------------- top rating x compliance
    if rating in X.columns and ("mandatory_compliant" in X.columns or statements is not None):
        parts.append(
            _top_rating_noncompliant(
                X, ids, as_of, rating=rating, top=top, statements=statements, catalog=course_catalog
            )
        )
    else:
        logger.info(
            "calibration_flags: no %r or compliance columns; top-rating flag skipped", rating
        )

    # ---------------------------------------------------------------- hidden gems
    if {rating, agility, skill_pace} <= set(X.columns):
        parts.append(
            _hidden_gems(
                X,
                ids,
                as_of,
                rating=rating,
                agility=agility,
                skill_pace=skill_pace,
                gem_quantile=gem_quantile,
                average_ratings=average_ratings,
            )
        )
    else:
        logger.info(
            "calibration_flags: hidden-gem flag skipped (needs %s)", [rating, agility, skill_pace]
        )

    # ---------------------------------------------------------- manager vs model
    if model_score is not None and manager_rating in X.columns:
        flags, gap = _rating_model_gaps(
            X,
            ids,
            as_of,
            model_score=model_score,
            manager_rating=manager_rating,
            gap_threshold=gap_threshold,
        )
        parts.append(flags)
        parts.append(
            _manager_gaps(
                X, gap, as_of, employees, min_team, manager_gap_threshold, alpha, manager_rating
            )
        )
    else:
        logger.info("calibration_flags: no model_score or %r; gap flags skipped", manager_rating)

    parts = [p for p in parts if len(p)]
    if not parts:
        out = pd.DataFrame({c: [] for c in _COLUMNS})
    else:
        out = pd.concat(parts, ignore_index=True)
    out = out.astype(
        {
            "employee_id": "string",
            "flag": "string",
            "direction": "string",
            "score": "float64",
            "evidence": "string",
            "details": "string",
        }
    )
    out["as_of"] = pd.to_datetime(out["as_of"], utc=True).astype("datetime64[ns, UTC]")
    out["_f"] = out["flag"].map({f: i for i, f in enumerate(FLAGS)})
    out = out.sort_values(["as_of", "_f", "employee_id"], kind="stable").drop(columns="_f")
    logger.info("calibration flags: %s", out["flag"].value_counts().to_dict())
    return out.reset_index(drop=True)


def _top_rating_noncompliant(
    X: pd.DataFrame,
    ids: pd.Series,
    as_of: pd.Series,
    *,
    rating: str,
    top: float,
    statements: pd.DataFrame | None,
    catalog: pd.DataFrame | None,
) -> pd.DataFrame:
    """The ``top_rating_noncompliant`` flags: a top rating with overdue or failed mandatory courses."""
    r = pd.to_numeric(X[rating], errors="coerce")
    overdue = (
        pd.to_numeric(X["mandatory_compliant"], errors="coerce").eq(0)
        if "mandatory_compliant" in X.columns
        else pd.Series(False, index=X.index)
    )
    n_over = (
        pd.to_numeric(X["mandatory_overdue_count"], errors="coerce").fillna(0)
        if "mandatory_overdue_count" in X.columns
        else overdue.astype(float)
    )
    days = (
        pd.to_numeric(X["mandatory_days_overdue"], errors="coerce")
        if "mandatory_days_overdue" in X.columns
        else pd.Series(np.nan, index=X.index)
    )
    failed = pd.Series(0, index=X.index)
    if statements is not None:
        if catalog is None:
            raise ValueError("statements were given without the catalog (mandatory courses)")
        failed = failed_mandatory(X, statements, catalog)
    hit = (r >= top) & (overdue | (failed > 0))
    rows = []
    for i in np.flatnonzero(hit.to_numpy(bool)):
        bits = []
        if overdue.iloc[i]:
            b = f"{int(n_over.iloc[i])} mandatory course(s) are overdue"
            if not pd.isna(days.iloc[i]):
                b += f", the oldest by {days.iloc[i]:.0f} days"
            bits.append(b)
        if failed.iloc[i] > 0:
            bits.append(
                f"{int(failed.iloc[i])} mandatory course(s) were failed and not passed since"
            )
        details = {
            rating: float(r.iloc[i]),
            "mandatory_overdue_count": int(n_over.iloc[i]),
            "mandatory_days_overdue": None if pd.isna(days.iloc[i]) else float(days.iloc[i]),
            "failed_mandatory": int(failed.iloc[i]),
        }
        rows.append(
            (
                ids.iloc[i],
                as_of.iloc[i],
                "top_rating_noncompliant",
                None,
                float(n_over.iloc[i] + failed.iloc[i]),
                f"rated {_label(float(r.iloc[i]))} while " + " and ".join(bits),
                json.dumps(details, sort_keys=True),
            )
        )
    return pd.DataFrame(rows, columns=_COLUMNS)


def _hidden_gems(
    X: pd.DataFrame,
    ids: pd.Series,
    as_of: pd.Series,
    *,
    rating: str,
    agility: str,
    skill_pace: str,
    gem_quantile: float,
    average_ratings: tuple[float, float],
) -> pd.DataFrame:
    """The ``hidden_gem`` flags: top learning agility and skill pace with an average rating."""
    r = pd.to_numeric(X[rating], errors="coerce")
    ag = pd.to_numeric(X[agility], errors="coerce")
    sp = pd.to_numeric(X[skill_pace], errors="coerce")
    pa, ps = _pct(ag, as_of), _pct(sp, as_of)
    lo, hi = (float(v) for v in average_ratings)
    hit = (pa >= gem_quantile) & (ps >= gem_quantile) & r.between(lo, hi) & (ag > 0) & (sp > 0)
    rows = []
    for i in np.flatnonzero(hit.fillna(False).to_numpy(bool)):
        details = {
            agility: float(ag.iloc[i]),
            f"{agility}_percentile": round(float(pa.iloc[i]), 4),
            skill_pace: float(sp.iloc[i]),
            f"{skill_pace}_percentile": round(float(ps.iloc[i]), 4),
            rating: float(r.iloc[i]),
        }
        rows.append(
            (
                ids.iloc[i],
                as_of.iloc[i],
                "hidden_gem",
                None,
                float(min(pa.iloc[i], ps.iloc[i])),
                f"learning agility {ag.iloc[i]:.1f} (top {100 * (1 - pa.iloc[i]) + 0.5:.0f}%) and "
                f"{sp.iloc[i]:.2f} skills acquired per quarter (top {100 * (1 - ps.iloc[i]) + 0.5:.0f}%) "
                f"with an average rating of {_label(float(r.iloc[i]))}",
                json.dumps(details, sort_keys=True),
            )
        )
    return pd.DataFrame(rows, columns=_COLUMNS)


def _rating_model_gaps(
    X: pd.DataFrame,
    ids: pd.Series,
    as_of: pd.Series,
    *,
    model_score: str | pd.Series | np.ndarray,
    manager_rating: str,
    gap_threshold: float,
) -> tuple[pd.DataFrame, pd.Series]:
    """The ``rating_model_gap`` flags, and each row's model-minus-manager percentile gap."""
    if isinstance(model_score, str):
        _require(X, (model_score,), "X")
        score = pd.to_numeric(X[model_score], errors="coerce")
        score_name = model_score
    else:
        score = (
            model_score
            if isinstance(model_score, pd.Series)
            else pd.Series(np.asarray(model_score, dtype=float), index=X.index)
        )
        if not score.index.equals(X.index):
            raise ValueError("model_score is not aligned with X (different index)")
        score = pd.to_numeric(score, errors="coerce")
        score_name = str(score.name) if score.name is not None else "model_score"
    mr = pd.to_numeric(X[manager_rating], errors="coerce")
    both = mr.notna() & score.notna()
    pm = _pct(score.where(both), as_of)
    pr = _pct(mr.where(both), as_of)
    gap = pm - pr
    hit = gap.abs() >= gap_threshold
    rows = []
    for i in np.flatnonzero(hit.fillna(False).to_numpy(bool)):
        direction = "model_higher" if gap.iloc[i] > 0 else "model_lower"
        details = {
            manager_rating: float(mr.iloc[i]),
            f"{manager_rating}_percentile": round(float(pr.iloc[i]), 4),
            score_name: float(score.iloc[i]),
            f"{score_name}_percentile": round(float(pm.iloc[i]), 4),
            "gap": round(float(gap.iloc[i]), 4),
        }
        rows.append(
            (
                ids.iloc[i],
                as_of.iloc[i],
                "rating_model_gap",
                direction,
                float(gap.iloc[i]),
                f"manager's {manager_rating} {mr.iloc[i]:g} (percentile {pr.iloc[i]:.0%}) vs "
                f"model {score_name} {score.iloc[i]:.2f} (percentile {pm.iloc[i]:.0%}): the "
                f"model rates {'higher' if gap.iloc[i] > 0 else 'lower'}",
                json.dumps(details, sort_keys=True),
            )
        )
    return pd.DataFrame(rows, columns=_COLUMNS), gap


def _manager_gaps(
    X, gap, as_of, employees, min_team, threshold, alpha, manager_rating
) -> pd.DataFrame:
    if "manager_id" in X.columns:
        mgr = X["manager_id"].astype("string")
    elif employees is not None:
        _require(employees, ("employee_id", "manager_id"), "employees")
        lookup = dict(
            zip(employees["employee_id"].astype(str), employees["manager_id"], strict=True)
        )
        mgr = X["employee_id"].astype(str).map(lookup).astype("string")
    else:
        logger.info("calibration_flags: no manager_id; the manager-level gap flag is skipped")
        return pd.DataFrame(columns=_COLUMNS)
    df = pd.DataFrame(
        {"manager_id": mgr.to_numpy(), "as_of": as_of.to_numpy(), "gap": gap.to_numpy(float)}
    )
    df = df[df["manager_id"].notna() & df["gap"].notna()]
    rows = []
    for (m, t), g in df.groupby(["manager_id", "as_of"], sort=True):
        n = len(g)
        if n < min_team:
            continue
        mean = float(g["gap"].mean())
        sd = float(g["gap"].std(ddof=1))
        if sd > 0:
            tstat = mean / (sd / np.sqrt(n))
            p = float(2 * stats.t.sf(abs(tstat), n - 1))
        else:
            p = 0.0 if mean != 0 else 1.0
        if abs(mean) < threshold or p >= alpha:
            continue
        direction = "model_higher" if mean > 0 else "model_lower"
        details = {"n_reports": n, "mean_gap": round(mean, 4), "p_value": round(p, 6)}
        rows.append(
            (
                str(m),
                t,
                "manager_rating_gap",
                direction,
                mean,
                f"this manager's {manager_rating} ratings of {n} reports sit {abs(mean):.0%} "
                f"percentile points {'below' if mean > 0 else 'above'} the model's view on average "
                f"(p = {p:.3g})",
                json.dumps(details, sort_keys=True),
            )
        )
    return pd.DataFrame(rows, columns=_COLUMNS)
