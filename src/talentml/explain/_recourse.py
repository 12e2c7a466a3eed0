"""Recourse: the smallest changes to actionable features that move a score past a threshold.

For each employee on the wrong side of the threshold (a FlightRisk probability above it, a
HighPotential probability below it), :func:`recourse` searches changes to *actionable*
features only - catalog (or :func:`~talentml.explain.describe_columns`) ``actionable``
True, not a ``sensitive_proxy``, with a direction (``higher_is_better`` or
``lower_is_better``), not measured over a fixed window that has closed
(``onboarding_completions_first_30d``) - moving each feature only in its good direction and
only within a plausible range (by default between the 5th and 95th percentiles of the
reference population; a categorical column between its ordered levels). When no column is
actionable, it raises and says why each is left out and how to describe one
(:mod:`talentml.explain._actionable`). A feature the model is monotone in is used only
if its good direction moves the score the right way. Counts over nested windows stay
consistent: adding 2 completions in the last 30 days adds them to the 90- and 365-day and
since-hire counts too.

The search is greedy and batched: at each step every remaining candidate change (feature x
value on a quantile grid) of every employee is scored with the model's own
``predict_proba``, the best is kept, and once the threshold is crossed the changes are pruned
(a change that is not needed is dropped, each kept change is moved back to the smallest grid
step that still crosses). Every suggestion is finally re-scored with the model; ``valid``
says whether it really crosses.

Recourse explains what the *model* responds to, not what would cause an employee to stay:
on the simulated organization, learning drops because people disengage before they leave,
so raising learning would not change their true exit hazard. Treat suggestions as
conversation starters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._validation import renamed_parameters
from ..config import show_progress as _show_progress
from ._actionable import (
    CANDIDATE_COLUMNS,
    MSG_NOT_ALLOWED,
    MSG_NOTHING_ACTIONABLE,
    candidates,
    details,
    linked_windows,
    summarize,
)
from ._business import FAMILY_CODES, feature_token
from ._coder import ReasonCoder
from ._design import ID_COLUMNS, model_view
from ._reasons import _format, flag_words

__all__ = ["Recourse", "recourse"]

logger = logging.getLogger(__name__)

GOALS = ("auto", "below", "above")
STATUSES = ("already", "found", "not_found", "no_candidates", "unscored")


class Recourse:
    """The result of :func:`recourse`: per-employee suggestions and their changes.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per explained row: ids, ``score``, ``status`` (``already`` past the
        threshold, ``found``, ``not_found`` within ``max_changes``, ``no_candidates``: no
        actionable feature can move, ``unscored``), ``n_changes``, ``score_after``, ``valid``
        (the re-scored suggestion crosses the threshold) and ``text``.
    changes : pandas.DataFrame
        One row per suggested change: ids, ``step``, ``feature``, ``code``, ``from_value``,
        ``to_value``, ``linked`` (nested-window columns moved with it) and ``text``.
    counterfactuals : pandas.DataFrame
        The changed rows of ``X`` (index aligned with ``X``), for the found suggestions.
    threshold : float
        The threshold.
    goal : str
        ``"below"`` or ``"above"``.
    candidates : pandas.DataFrame
        The features recourse may change, with their direction and plausible range
        (``levels`` for a categorical one).
    excluded : pandas.DataFrame
        The model's other columns and why recourse leaves each out (``feature``,
        ``reason``, ``code``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.explain import recourse
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"n_voluntary_completions_90d": rng.poisson(2, 600),
    ...                   "offhours_share_90d": rng.uniform(0, 1, 600)})
    >>> p = 0.5 / (1 + X["n_voluntary_completions_90d"])
    >>> y = (rng.random(600) < p).astype(int)
    >>> model = FlightRisk(n_estimators=30, calibration=None, random_state=0).fit(X, y)
    >>> rec = recourse(model, X.head(50), threshold=0.3, reference=X)
    >>> rec.candidates["feature"].tolist()
    ['n_voluntary_completions_90d']
    >>> bool(rec.summary.loc[rec.summary["status"] == "found", "valid"].all())
    True
    """

    def __init__(
        self,
        *,
        summary: pd.DataFrame,
        changes: pd.DataFrame,
        counterfactuals: pd.DataFrame,
        threshold: float,
        goal: str,
        candidates: pd.DataFrame,
        excluded: pd.DataFrame | None = None,
    ) -> None:
        self.summary = summary
        self.changes = changes
        self.counterfactuals = counterfactuals
        self.threshold = threshold
        self.goal = goal
        self.candidates = candidates
        self.excluded = (
            excluded
            if excluded is not None
            else pd.DataFrame(columns=["feature", "reason", "code"])
        )

    @property
    def validity(self) -> float:
        """Share of offered suggestions whose re-scored score crosses the threshold."""
        found = self.summary["status"] == "found"
        return float(self.summary.loc[found, "valid"].mean()) if found.any() else float("nan")

    def __repr__(self) -> str:
        counts = self.summary["status"].value_counts().to_dict()
        return (
            f"Recourse({len(self.summary)} rows, goal {self.goal} {self.threshold:g}, "
            f"{counts}, validity {self.validity:.1%})"
        )


#: Kept for callers of the private helper: see :func:`._actionable.linked_windows`.
_linked = linked_windows


@renamed_parameters(catalog="feature_catalog")
def recourse(
    model: Any,
    X: pd.DataFrame,
    *,
    threshold: float,
    goal: str = "auto",
    features: list[str] | None = None,
    reference: pd.DataFrame | None = None,
    max_changes: int = 3,
    bounds: tuple[float, float] = (0.05, 0.95),
    n_grid: int = 8,
    feature_catalog: pd.DataFrame | Mapping | None = None,
    show_progress: bool | None = None,
) -> Recourse:
    """Find the smallest changes to actionable features that move each score past a threshold.

    Parameters
    ----------
    model : FlightRisk or HighPotential
        A fitted talentml classifier (its calibrated ``predict_proba`` is the score).
    X : pandas.DataFrame
        Rows to find recourse for (model columns, plus ``employee_id``/``as_of``).
    threshold : float
        Probability the score must end below (FlightRisk) or above (HighPotential).
    goal : {"auto", "below", "above"}, default "auto"
        ``"auto"``: below for FlightRisk, above for HighPotential.
    features : list of str, optional
        Restrict the search to these features (each must be actionable, with a good
        direction, not a sensitive proxy, and not measured over a closed window; else it
        raises, saying why). Default: every such feature of the model.
    reference : pandas.DataFrame, optional
        Population for the plausible ranges and the value grid (default: ``X``).
    max_changes : int, default 3
        Most features changed per employee.
    bounds : tuple of float, default (0.05, 0.95)
        Quantiles of the reference bounding each feature's plausible range.
    n_grid : int, default 8
        Candidate values per feature (quantiles of the reference within the range).
    feature_catalog : pandas.DataFrame or mapping, optional
        Which columns are actionable, and how: the feature catalog (default
        :func:`talentml.features.catalog`), :func:`describe_columns` of your own columns
        (alone or with the feature_catalog), or a mapping for it merged with the catalog.
    show_progress : bool, optional
        tqdm bar over search steps.

    Returns
    -------
    Recourse
        ``summary`` (per row), ``changes`` (per change), ``counterfactuals``,
        ``candidates``, ``excluded`` and ``validity``.

    Raises
    ------
    ValueError
        When no column of the model is actionable (the message says why each is left out
        and how to describe one), or ``features`` names one that is not.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.explain import recourse
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"n_voluntary_completions_90d": rng.poisson(2, 600),
    ...                   "tenure_days": rng.uniform(30, 3000, 600)})
    >>> y = (rng.random(600) < 0.5 / (1 + X["n_voluntary_completions_90d"])).astype(int)
    >>> model = FlightRisk(n_estimators=30, calibration=None, random_state=0).fit(X, y)
    >>> rec = recourse(model, X.head(40), threshold=0.3, reference=X)
    >>> rec.changes["feature"].unique().tolist()
    ['n_voluntary_completions_90d']
    """
    view = model_view(model)
    goal, threshold = _check_args(
        model,
        view,
        goal=goal,
        threshold=threshold,
        bounds=bounds,
        max_changes=max_changes,
        n_grid=n_grid,
    )
    lo_q, hi_q = bounds
    X = view.check_frame(X)
    reference = X if reference is None else view.check_frame(reference, table="reference")
    coder = ReasonCoder(feature_catalog=feature_catalog, peers=None).fit(model, reference)
    model_cols = set(view.feature_names)

    # ------------------------------------------------------------------ candidates
    rows, excluded = _candidate_rows(
        view,
        coder,
        reference,
        model_cols & set(X.columns),
        goal=goal,
        bounds=(lo_q, hi_q),
        n_grid=n_grid,
        features=features,
    )
    candidate_frame = pd.DataFrame(
        [{k: c[k] for k in CANDIDATE_COLUMNS} for c in rows], columns=CANDIDATE_COLUMNS
    )
    by_feature = {c["feature"]: c for c in rows}
    levels = {c["feature"]: c["levels"] for c in rows if c["levels"] is not None}

    def as_given(frame: pd.DataFrame) -> pd.DataFrame:
        return _as_given(frame, levels)

    def proba(frame: pd.DataFrame) -> np.ndarray:
        return model.predict_proba(as_given(frame))[:, 1]

    # --------------------------------------------------------------------- search
    n = len(X)
    score = model.predict_proba(X)[:, 1] if n else np.zeros(0)

    def crossed(s: np.ndarray) -> np.ndarray:
        return s < threshold if goal == "below" else s > threshold

    status = np.where(crossed(score), "already", "not_found").astype(object)
    if not rows:
        status[status == "not_found"] = "no_candidates"
    work = _positions(X, levels)
    current, changed, moved = _search(
        rows,
        by_feature,
        work,
        status,
        score,
        proba=proba,
        crossed=crossed,
        goal=goal,
        max_changes=max_changes,
        show_progress=show_progress,
    )

    # ---------------------------------------------------------------------- prune
    found = np.flatnonzero(status == "found")
    _prune(found, changed, current, work, by_feature, proba, crossed, moved)
    for i in np.flatnonzero(status != "found"):
        changed[i] = {}  # a partial path is not a suggestion

    # --------------------------------------------------------------- verify & report
    after = np.full(n, np.nan)
    valid = np.zeros(n, dtype=bool)
    if len(found):
        rescored = model.predict_proba(as_given(current.iloc[found]))[:, 1]
        after[found] = rescored
        valid[found] = crossed(rescored)
    summary, changes = _tables(
        X,
        found,
        changed,
        by_feature,
        coder=coder,
        prefix=view.prefix,
        score=score,
        threshold=threshold,
        status=status,
        after=after,
        valid=valid,
    )
    if len(found):
        invalid = int((~valid[found]).sum())
        if invalid:
            logger.warning(
                "recourse: %d of %d suggestions do not cross when re-scored", invalid, len(found)
            )
    logger.info(
        "recourse: %s",
        ", ".join(f"{k}={v}" for k, v in pd.Series(status).value_counts().items()),
    )
    return Recourse(
        summary=summary,
        changes=changes,
        counterfactuals=as_given(current.iloc[found]),
        threshold=threshold,
        goal=goal,
        candidates=candidate_frame,
        excluded=excluded,
    )


def _check_args(
    model: Any,
    view: Any,
    *,
    goal: str,
    threshold: float,
    bounds: tuple[float, float],
    max_changes: int,
    n_grid: int,
) -> tuple[str, float]:
    """The goal (``"auto"`` resolved) and threshold of :func:`recourse`, its arguments checked."""
    if not hasattr(model, "predict_proba"):
        raise ValueError(
            f"recourse needs a classifier with predict_proba (FlightRisk, HighPotential), got "
            f"{type(model).__name__}"
        )
    if goal not in GOALS:
        raise ValueError(f"goal must be one of {GOALS}, got {goal!r}")
    if goal == "auto":
        kinds = {"FR": "below", "HP": "above"}
        if view.prefix not in kinds:
            raise ValueError(
                f"goal='auto' needs FlightRisk or HighPotential; pass goal= for {type(model).__name__}"
            )
        goal = kinds[view.prefix]
    threshold = float(threshold)
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be a probability in (0, 1), got {threshold!r}")
    lo_q, hi_q = bounds
    if not 0.0 <= lo_q < hi_q <= 1.0:
        raise ValueError(f"bounds must be quantiles 0 <= low < high <= 1, got {bounds!r}")
    if max_changes < 1 or n_grid < 1:
        raise ValueError("max_changes and n_grid must be >= 1")
    return goal, threshold


def _candidate_rows(
    view: Any,
    coder: ReasonCoder,
    reference: pd.DataFrame,
    columns: set[str],
    *,
    goal: str,
    bounds: tuple[float, float],
    n_grid: int,
    features: list[str] | None,
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """The candidate features (restricted to ``features``) and the excluded columns."""
    rows, excluded = candidates(
        view,
        coder,
        reference,
        columns,
        goal=goal,
        bounds=bounds,
        n_grid=n_grid,
    )
    if features is not None:
        features = [str(f) for f in features]
        allowed = {c["feature"] for c in rows}
        bad = [f for f in features if f not in allowed]
        if bad:
            raise ValueError(
                MSG_NOT_ALLOWED.format(details=details(bad, excluded, view.feature_names))
            )
        rows = [c for c in rows if c["feature"] in set(features)]
    elif not rows:
        raise ValueError(
            MSG_NOTHING_ACTIONABLE.format(n=len(view.feature_names), reasons=summarize(excluded))
        )
    for c in rows:
        if c["monotone"]:
            logger.debug(
                "recourse: %s is monotone (%+d) the right way", c["feature"], c["monotone"]
            )
    return rows, excluded


def _positions(frame: pd.DataFrame, levels: dict[str, Any]) -> pd.DataFrame:
    """Categorical candidates as the position of their level (NaN: not an ordered one)."""
    if not levels:
        return frame
    frame = frame.copy()
    for col, order in levels.items():
        where = {v: float(i) for i, v in enumerate(order)}
        raw = frame[col].astype(object).to_numpy(dtype=object)
        frame[col] = [where.get(str(v), np.nan) if not pd.isna(v) else np.nan for v in raw]
    return frame


def _as_given(frame: pd.DataFrame, levels: dict[str, Any]) -> pd.DataFrame:
    """The inverse of :func:`_positions`: level labels the model reads."""
    if not levels:
        return frame
    frame = frame.copy()
    for col, order in levels.items():
        pos = frame[col].to_numpy(dtype=np.float64, na_value=np.nan)
        frame[col] = pd.array(
            [order[int(p)] if p == p else None for p in pos.tolist()], dtype=object
        )
    return frame


def _search(
    rows: list[dict[str, Any]],
    by_feature: dict[str, dict[str, Any]],
    work: pd.DataFrame,
    status: np.ndarray,
    score: np.ndarray,
    *,
    proba: Callable[[pd.DataFrame], np.ndarray],
    crossed: Callable[[np.ndarray], np.ndarray],
    goal: str,
    max_changes: int,
    show_progress: bool | None,
) -> tuple[pd.DataFrame, list[dict[str, tuple[float, float]]], list[str]]:
    """The greedy, batched search: one change per employee and step (``status`` updated).

    Returns the changed rows (positions for categorical columns), each row's changes and
    the columns the changes move.
    """
    n = len(work)
    current = work.copy()
    moved = sorted({c["feature"] for c in rows} | {g for c in rows for g in c["linked"]})
    if moved:
        current[moved] = current[moved].astype("float64")
    changed: list[dict[str, tuple[float, float]]] = [{} for _ in range(n)]
    score_now = score.copy()
    active = np.flatnonzero(status == "not_found")
    progress = _show_progress() if show_progress is None else bool(show_progress)
    bar = tqdm(
        total=int(max_changes), desc="recourse", unit="step", disable=not progress, leave=False
    )
    spans = {c["feature"]: c["span"] for c in rows}
    for _step in range(int(max_changes)):
        if len(active) == 0:
            break
        owner, what = [], []
        for i in active:
            touched = set(changed[i]) | {g for h in changed[i] for g in by_feature[h]["linked"]}
            for c in rows:
                f = c["feature"]
                # one change per nested-window family keeps every "from" value true
                if f in touched or any(g in changed[i] for g in c["linked"]):
                    continue
                x = float(current.iloc[i][f]) if pd.notna(current.iloc[i][f]) else np.nan
                if np.isnan(x):
                    continue
                g = c["grid"]
                steps = g[g > x] if c["good"] > 0 else g[g < x]
                for v in steps:
                    owner.append(i)
                    what.append((f, x, float(v)))
        if not owner:
            break
        owner_arr = np.asarray(owner)
        trial = current.iloc[owner_arr].copy()
        _apply(trial, what, by_feature, work)
        s = proba(trial)
        score_now_rep = score_now[owner_arr]
        improve = (score_now_rep - s) if goal == "below" else (s - score_now_rep)
        cost = np.asarray([abs(v - x) / spans[f] for f, x, v in what])
        hit = crossed(s)
        next_active = []
        # trials are grouped by employee, in the order of ``active``
        starts = np.searchsorted(owner_arr, active, side="left", sorter=None)
        ends = np.searchsorted(owner_arr, active, side="right", sorter=None)
        for i, a, b in zip(active, starts, ends, strict=True):
            sel = np.arange(a, b)
            if len(sel) == 0:
                continue
            if hit[sel].any():
                cand = sel[hit[sel]]
                best = cand[np.argmin(cost[cand])]
            else:
                best = sel[np.lexsort((cost[sel], -improve[sel]))[0]]
                if improve[best] <= 0:
                    continue
            f, x, v = what[best]
            changed[i][f] = (x, v)
            _apply_one(current, i, f, x, v, by_feature, work)
            score_now[i] = s[best]
            if hit[best]:
                status[i] = "found"
            else:
                next_active.append(i)
        active = np.asarray(next_active, dtype=np.int64)
        bar.update(1)
    bar.close()
    return current, changed, moved


def _tables(
    X: pd.DataFrame,
    found: np.ndarray,
    changed: list[dict[str, tuple[float, float]]],
    by_feature: dict[str, dict[str, Any]],
    *,
    coder: ReasonCoder,
    prefix: str,
    score: np.ndarray,
    threshold: float,
    status: np.ndarray,
    after: np.ndarray,
    valid: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``summary`` (one row per explained row) and ``changes`` (one per change) tables."""
    n = len(X)
    ids = X[[c for c in ID_COLUMNS if c in X.columns]].reset_index(drop=True)
    if ids.shape[1] == 0:
        ids = pd.DataFrame({"row": X.index})
    change_rows = []
    texts = np.full(n, "", dtype=object)
    for i in found:
        parts = []
        for step, (f, (x, v)) in enumerate(changed[i].items(), start=1):
            c = by_feature[f]
            text, shown_x, shown_v = _change_text(c, x, v)
            parts.append(text)
            entry = coder.business_.column_records[f]
            change_rows.append(
                {
                    **ids.iloc[i].to_dict(),
                    "step": step,
                    "feature": f,
                    "code": f"{prefix}-{FAMILY_CODES.get(str(entry['family']), 'FEAT')}-"
                    f"{feature_token(f)}-{'RAISE' if v > x else 'LOWER'}",
                    "from_value": shown_x,
                    "to_value": shown_v,
                    "linked": list(c["linked"]),
                    "text": text,
                }
            )
        texts[i] = "; ".join(parts)
    summary = pd.concat(
        [
            ids,
            pd.DataFrame(
                {
                    "score": score,
                    "threshold": threshold,
                    "status": pd.array(status, dtype="string"),
                    "n_changes": [len(c) for c in changed],
                    "score_after": after,
                    "valid": valid,
                    "text": pd.array(texts, dtype="string"),
                }
            ),
        ],
        axis=1,
    )
    change_cols = [
        *ids.columns,
        "step",
        "feature",
        "code",
        "from_value",
        "to_value",
        "linked",
        "text",
    ]
    changes = pd.DataFrame(change_rows, columns=change_cols)
    return summary, changes


def _change_text(c: dict[str, Any], x: float, v: float) -> tuple[str, Any, Any]:
    """(text, from value, to value) of one change, in the column's words."""
    if c["levels"] is not None:
        shown_x, shown_v = c["levels"][int(x)], c["levels"][int(v)]
    else:
        shown_x, shown_v = x, v
    if c["flag"] and not c["spec"]:
        word_x, word_v = flag_words(np.asarray([shown_x, shown_v], dtype=object)).tolist()
    else:
        word_x, word_v = (_format(shown_x, c["spec"]), _format(shown_v, c["spec"]))
    if c["levels"] is not None and not c["flag"]:
        word_x, word_v = str(shown_x), str(shown_v)
    if c["fallback"]:
        verb = "change" if c["levels"] is not None or c["flag"] else ("raise" if v > x else "lower")
        return f"{verb} {c['label']} from {word_x} to {word_v}", shown_x, shown_v
    try:
        goal_text = c["template"].format(value=shown_v)
    except (ValueError, TypeError, KeyError, IndexError):
        goal_text = f"{c['label']}: {word_v}"
    return f"aim for: {goal_text} (now: {word_x})", shown_x, shown_v


def _apply_one(frame, i, f, x, v, by_feature, original) -> None:
    """Set feature ``f`` of row position ``i`` from ``x`` to ``v`` (and its linked windows)."""
    c = by_feature[f]
    j = frame.columns.get_loc(f)
    frame.iloc[i, j] = v
    delta = v - x
    for g in c["linked"]:
        k = frame.columns.get_loc(g)
        old = frame.iloc[i, k]
        if pd.isna(old):
            continue
        frame.iloc[i, k] = old + delta if c["link_mode"] == "add" else max(float(old), v)


def _apply(trial, what, by_feature, original) -> None:
    """Apply one change per row of ``trial`` (vectorized by feature)."""
    feats = np.asarray([w[0] for w in what], dtype=object)
    xs = np.asarray([w[1] for w in what])
    vs = np.asarray([w[2] for w in what])
    for f in np.unique(feats):
        sel = np.flatnonzero(feats == f)
        c = by_feature[f]
        j = trial.columns.get_loc(f)
        col = trial.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan).copy()
        col[sel] = vs[sel]
        _set(trial, j, col)
        for g in c["linked"]:
            k = trial.columns.get_loc(g)
            other = trial.iloc[:, k].to_numpy(dtype=np.float64, na_value=np.nan).copy()
            if c["link_mode"] == "add":
                other[sel] = other[sel] + (vs[sel] - xs[sel])
            else:
                other[sel] = np.fmax(other[sel], vs[sel])
            _set(trial, k, other)


def _set(frame: pd.DataFrame, j: int, values: np.ndarray) -> None:
    frame[frame.columns[j]] = values


def _prune(found, changed, current, original, by_feature, proba, crossed, moved) -> None:
    """Drop unneeded changes, then move each kept change back to its smallest crossing step.

    Batched over employees: each round scores every employee's trial rows in one call.
    """
    if len(found) == 0:
        return
    base = original.iloc[found].astype({c: "float64" for c in moved})

    def build(plans: list[tuple[int, dict[str, tuple[float, float]]]]) -> pd.DataFrame:
        """Rows of ``base`` (by position) with the plans applied."""
        rows = base.iloc[[k for k, _ in plans]].copy()
        for r, (_, plan) in enumerate(plans):
            for f, (x, v) in plan.items():
                _apply_one(rows, r, f, x, v, by_feature, original)
        return rows

    plans = {k: dict(changed[i]) for k, i in enumerate(found)}
    # 1. drop a change while the others still cross (repeat while some drop works)
    while True:
        trials = [
            (k, {g: xv for g, xv in plan.items() if g != f}, f)
            for k, plan in plans.items()
            if len(plan) > 1
            for f in plan
        ]
        if not trials:
            break
        scores = proba(build([(k, p) for k, p, _ in trials]))
        ok = crossed(scores)
        dropped = set()
        for (k, plan, _), good in zip(trials, ok, strict=True):
            if good and k not in dropped:
                plans[k] = plan
                dropped.add(k)
        if not dropped:
            break
    # 2. move each kept change back to the smallest grid step that still crosses
    depth = max((len(p) for p in plans.values()), default=0)
    for position in range(depth):
        trials = []
        for k, plan in plans.items():
            if position >= len(plan):
                continue
            f = list(plan)[position]
            x, v = plan[f]
            grid = by_feature[f]["grid"]
            steps = grid[(grid > x) & (grid < v)] if v > x else grid[(grid < x) & (grid > v)][::-1]
            for step in steps:
                trial = dict(plan)
                trial[f] = (x, float(step))
                trials.append((k, trial, f, float(step)))
        if not trials:
            continue
        scores = proba(build([(k, p) for k, p, _, _ in trials]))
        ok = crossed(scores)
        done = set()
        for (k, _, f, step), good in zip(trials, ok, strict=True):
            if good and k not in done:  # steps are ordered from the smallest change
                plans[k][f] = (plans[k][f][0], step)
                done.add(k)
    final = build(list(plans.items()))
    for k, i in enumerate(found):
        changed[i] = plans[k]
    positions = [current.columns.get_loc(col) for col in moved]
    current.iloc[found, positions] = final[moved].to_numpy(dtype=np.float64)
