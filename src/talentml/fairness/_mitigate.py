"""Mitigation with fairlearn, always reported before and after, never silently applied.

Two options, both fitted on one part of the labelled rows and *evaluated on the other part*:

* ``"threshold_optimizer"`` - :class:`fairlearn.postprocessing.ThresholdOptimizer` on the fitted
  model's probabilities: group-specific (randomized) thresholds. It needs the protected
  attribute *at decision time*; in US employment decisions, adjusting scores or using
  different cut-offs by race, colour, religion, sex or national origin is unlawful
  (42 U.S.C. §2000e-2(l)). Shown as an analysis of what parity would cost, not as a fix.
* ``"exponentiated_gradient"`` - :class:`fairlearn.reductions.ExponentiatedGradient`: the model
  is re-trained (``max_iter`` times, with weights) under a parity constraint; the attribute is
  used only in training. Each re-trained model decides at the original decision's cut (the
  threshold, or the probability at the ``top_fraction`` cut), not at its own ``predict``'s 0.5.

The result holds both decision sets' metrics by group and overall; the original model and its
scores are left untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import clone

from .._compat import pandas4_warnings_ignored
from .._validation import RandomStateLike, renamed_parameters, rng_from
from ._groups import UNKNOWN_VALUES, check_purpose, resolve_attributes
from ._impact import rate_table, threshold_selection, top_fraction_selection
from ._scores import label_values, model_frame, resolve_scores

__all__ = ["CONSTRAINTS", "METHODS", "Mitigation", "mitigate"]

logger = logging.getLogger(__name__)

#: Mitigation methods.
METHODS = ("threshold_optimizer", "exponentiated_gradient")
#: Parity constraints accepted by both methods.
CONSTRAINTS = ("demographic_parity", "equalized_odds", "true_positive_rate_parity")

NOTES = {
    "threshold_optimizer": (
        "ThresholdOptimizer sets group-specific thresholds, so it needs the protected attribute "
        "at decision time; different cut-offs by race, colour, religion, sex or national origin "
        "are unlawful in US employment decisions (42 U.S.C. 2000e-2(l)). Shown to measure what "
        "parity would cost, not to be deployed."
    ),
    "exponentiated_gradient": (
        "ExponentiatedGradient re-trains the model under the parity constraint; the protected "
        "attribute is used in training only. Its predictions are randomized over the fitted "
        "models (random_state fixes them)."
    ),
}


@dataclass
class Mitigation:
    """The outcome of a fairlearn mitigation: metrics before and after, on held-out rows.

    Attributes
    ----------
    method, constraint, attribute : str
        What was tried, under which constraint, for which sensitive attribute.
    summary : pandas.DataFrame
        Overall metrics (index) with columns ``before``, ``after`` and ``change``:
        selection rate, lowest impact ratio, demographic parity difference, equalized odds
        difference (over the categories not excluded), accuracy and balanced accuracy. The
        "after" decisions are the mitigated classifier's own, so their selection rate may
        differ from the "before" rule's.
    by_group : pandas.DataFrame
        Indexed by ``(stage, group)`` (stage ``before`` / ``after``): ``n``, ``selection_rate``,
        ``impact_ratio``, ``p_value``, ``excluded``, ``tpr``, ``fpr``.
    estimator : object
        The fitted fairlearn object (``predict(X, sensitive_features=..., random_state=...)``).
    n_fit, n_eval : int
        Labelled rows used to fit the mitigation and to evaluate it.
    decision : str
        How the model's scores became decisions before mitigation.
    notes : list of str
        What the method implies (legal and practical).

    See Also
    --------
    mitigate : Builds it (with a worked example).

    Examples
    --------
    >>> import dataclasses
    >>> from talentml.fairness import Mitigation
    >>> [f.name for f in dataclasses.fields(Mitigation)][:3]
    ['method', 'constraint', 'attribute']
    """

    method: str
    constraint: str
    attribute: str
    summary: pd.DataFrame
    by_group: pd.DataFrame
    estimator: Any
    n_fit: int
    n_eval: int
    decision: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The mitigation as plain JSON-able data (no fitted object).

        Returns
        -------
        dict
            ``method``, ``constraint``, ``attribute``, ``n_fit``, ``n_eval``, ``decision``,
            ``summary`` and ``by_group`` (lists of records) and ``notes``.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.fairness import Mitigation
        >>> summary = pd.DataFrame({"before": [0.6], "after": [0.9], "change": [0.3]},
        ...                        index=["min_impact_ratio"])
        >>> m = Mitigation("threshold_optimizer", "demographic_parity", "sex", summary,
        ...                pd.DataFrame(), None, 100, 100, "probability >= 0.5")
        >>> m.to_dict()["summary"]
        [{'metric': 'min_impact_ratio', 'before': 0.6, 'after': 0.9, 'change': 0.3}]
        """
        from ._report import records

        return {
            "method": self.method,
            "constraint": self.constraint,
            "attribute": self.attribute,
            "n_fit": self.n_fit,
            "n_eval": self.n_eval,
            "decision": self.decision,
            "summary": records(self.summary.reset_index(names="metric")),
            "by_group": records(self.by_group.reset_index()),
            "notes": list(self.notes),
        }


def _constraint(name: str):
    from fairlearn.reductions import DemographicParity, EqualizedOdds, TruePositiveRateParity

    return {
        "demographic_parity": DemographicParity,
        "equalized_odds": EqualizedOdds,
        "true_positive_rate_parity": TruePositiveRateParity,
    }[name]()


def _split(
    n: int, clusters: np.ndarray | None, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Boolean mask of the rows used to fit the mitigation (whole employees when known)."""
    if clusters is None:
        mask = np.zeros(n, dtype=bool)
        mask[rng.permutation(n)[: int(round(fraction * n))]] = True
        return mask
    codes, uniques = pd.factorize(pd.Series(clusters, dtype="object"))
    chosen = rng.random(len(uniques)) < fraction
    return np.where(codes >= 0, chosen[np.maximum(codes, 0)], rng.random(n) < fraction)


def _group_stats(
    decision: np.ndarray, y: np.ndarray, groups: np.ndarray, exclude_below: float | None
) -> pd.DataFrame:
    table = rate_table(decision, groups, exclude_below=exclude_below, n_bootstrap=0, min_n=0)
    tpr, fpr = {}, {}
    for g in table.index:
        m = groups == g
        pos, neg = m & (y == 1), m & (y == 0)
        tpr[g] = float(decision[pos].mean()) if pos.any() else np.nan
        fpr[g] = float(decision[neg].mean()) if neg.any() else np.nan
    out = table[["n", "rate", "impact_ratio", "p_value", "excluded"]].rename(
        columns={"rate": "selection_rate"}
    )
    out["tpr"] = pd.Series(tpr)
    out["fpr"] = pd.Series(fpr)
    return out


def _overall(decision: np.ndarray, y: np.ndarray, by: pd.DataFrame) -> dict[str, float]:
    by = by[~by["excluded"].astype(bool)]
    pos, neg = y == 1, y == 0
    tpr = float(decision[pos].mean()) if pos.any() else np.nan
    tnr = float((~decision[neg]).mean()) if neg.any() else np.nan

    def spread(col: str) -> float:
        v = by[col].dropna()
        return float(v.max() - v.min()) if len(v) else np.nan

    return {
        "selection_rate": float(decision.mean()),
        "min_impact_ratio": float(by["impact_ratio"].min())
        if by["impact_ratio"].notna().any()
        else np.nan,
        "demographic_parity_difference": spread("selection_rate"),
        "equalized_odds_difference": max(spread("tpr"), spread("fpr")),
        "accuracy": float((decision == (y == 1)).mean()),
        "balanced_accuracy": float(np.nanmean([tpr, tnr])),
    }


@renamed_parameters(top_k="top_fraction")
def mitigate(
    model: Any,
    X: pd.DataFrame,
    y: Any,
    *,
    sensitive: pd.DataFrame,
    attribute: str,
    method: str = "threshold_optimizer",
    constraint: str = "demographic_parity",
    threshold: float | None = None,
    top_fraction: float | None = None,
    objective: str = "balanced_accuracy_score",
    X_fit: pd.DataFrame | None = None,
    y_fit: Any = None,
    fit_fraction: float = 0.5,
    max_iter: int = 20,
    eps: float = 0.01,
    exclude_below: float | None = 0.02,
    unknown_values: Any = UNKNOWN_VALUES,
    random_state: RandomStateLike = 0,
) -> Mitigation:
    """Try a fairlearn mitigation and report decisions before and after, on held-out rows.

    Nothing is applied: the model is not changed, and the returned :class:`Mitigation` holds
    the before/after comparison and the fitted fairlearn object.

    Parameters
    ----------
    model : fitted classifier
        A model with ``predict_proba`` (a talentml model or any scikit-learn classifier).
    X : pandas.DataFrame
        Features of the rows to evaluate on (and to fit on, when ``X_fit`` is not given).
    y : array-like or pandas.DataFrame
        Binary outcomes (a ``talentml.labels`` frame works; unlabelled rows are left out).
    sensitive : pandas.DataFrame
        The ``sensitive`` table (joined on ``employee_id``) or a frame aligned with ``X``.
    attribute : str
        The sensitive column to mitigate for.
    method : {"threshold_optimizer", "exponentiated_gradient"}, default "threshold_optimizer"
        The fairlearn method.
    constraint : {"demographic_parity", "equalized_odds", "true_positive_rate_parity"}
        The parity constraint.
    threshold, top_fraction : float, optional
        How the model's probability becomes a decision *before* mitigation (at most one;
        default a threshold of 0.5): scores at or above ``threshold``, or the share
        ``top_fraction`` (in (0, 1]) with the highest scores.
    objective : str, default "balanced_accuracy_score"
        ThresholdOptimizer's objective.
    X_fit, y_fit : optional
        Rows to fit the mitigation on; default: a ``fit_fraction`` of the labelled rows of
        ``X`` (whole employees), the rest being the evaluation rows.
    fit_fraction : float, default 0.5
        Share of the labelled rows used to fit when ``X_fit`` is not given.
    max_iter, eps : int, float
        ExponentiatedGradient's iterations and constraint slack.
    exclude_below : float or None, default 0.02
        Categories under this share of the evaluation rows get no impact ratio and are left
        out of the overall differences (as in :func:`audit`); they stay in ``by_group``.
    unknown_values : iterable of str
        Values read as an unknown category (kept as their own group here).
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed of the split and of the randomized predictions.

    Returns
    -------
    Mitigation
        The before/after comparison.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import HighPotential
    >>> from talentml.fairness import mitigate
    >>> rng = np.random.default_rng(0)
    >>> care = rng.random(2000) < 0.3
    >>> talent = rng.normal(size=2000)
    >>> X = pd.DataFrame({"agility": talent - 0.8 * care + 0.3 * rng.normal(size=2000),
    ...                   "rating": rng.normal(size=2000)})
    >>> y = (talent + X["rating"] + rng.normal(size=2000) > 1.5).astype(int)
    >>> model = HighPotential(n_estimators=30, random_state=0).fit(X, y)
    >>> result = mitigate(model, X, y, sensitive=pd.DataFrame({"caregiver": care}),
    ...                   attribute="caregiver", threshold=0.3)
    >>> list(result.summary.columns)
    ['before', 'after', 'change']
    >>> bool(result.summary.loc["min_impact_ratio", "after"]
    ...      >= result.summary.loc["min_impact_ratio", "before"])
    True
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if constraint not in CONSTRAINTS:
        raise ValueError(f"constraint must be one of {CONSTRAINTS}, got {constraint!r}")
    if threshold is not None and top_fraction is not None:
        raise ValueError("give threshold or top_fraction, not both")
    if not hasattr(model, "predict_proba"):
        raise TypeError("mitigation needs a fitted classifier with predict_proba")
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    cols = list(sensitive.columns)
    check_purpose(
        X, sensitive_columns=cols, model_features=getattr(model, "feature_names_in_", None)
    )
    rng = rng_from(random_state)
    seed = int(rng.integers(2**31 - 1))

    def prepared(frame: pd.DataFrame, target: Any) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        labels = label_values(target, frame)
        if labels is None:
            raise ValueError("mitigation needs outcomes y")
        attr = resolve_attributes(
            frame,
            sensitive,
            attributes=[attribute],
            intersections=None,
            unknown_values=unknown_values,
        )[0][0]
        ok = ~np.isnan(labels)
        return frame.loc[ok], labels[ok].astype(int), attr.values[ok]

    if X_fit is not None:
        check_purpose(X_fit, sensitive_columns=cols)
        Xf, yf, gf = prepared(X_fit, y_fit)
        Xe, ye, ge = prepared(X, y)
    else:
        Xa, ya, ga = prepared(X, y)
        clusters = Xa["employee_id"].to_numpy(dtype=object) if "employee_id" in Xa.columns else None
        fit = _split(len(Xa), clusters, fit_fraction, rng)
        Xf, yf, gf = Xa.loc[fit], ya[fit], ga[fit]
        Xe, ye, ge = Xa.loc[~fit], ya[~fit], ga[~fit]
    if len(np.unique(yf)) < 2 or len(Xe) == 0:
        raise ValueError(
            "the fit rows need both outcomes and the evaluation rows must not be empty"
        )
    scores = resolve_scores(model, Xe).values
    if top_fraction is not None:
        before, cut, _ = top_fraction_selection(scores, top_fraction, random_state=seed)
        decision = f"top {top_fraction} of the model's probability (cut {cut:.4g})"
        t = float(cut)
    else:
        t = 0.5 if threshold is None else float(threshold)
        before = threshold_selection(scores, t)
        decision = f"probability >= {t:g}"
    fit_frame, eval_frame = model_frame(model, Xf), model_frame(model, Xe)
    if method == "threshold_optimizer":
        from fairlearn.postprocessing import ThresholdOptimizer

        est = ThresholdOptimizer(
            estimator=model,
            constraints=constraint,
            objective=objective,
            prefit=True,
            predict_method="predict_proba",
        )
        est.fit(fit_frame, yf, sensitive_features=gf)
        after = np.asarray(est.predict(eval_frame, sensitive_features=ge, random_state=seed))
    else:
        from fairlearn.reductions import ExponentiatedGradient
        from sklearn.model_selection import FixedThresholdClassifier

        # each retrained model decides as the original does (the same probability cut), not
        # at its own predict()'s 0.5: otherwise "after" compares another decision rule
        # (scikit-learn routes ExponentiatedGradient's sample weights through the wrapper only
        # with metadata routing on, so it is on for this fit alone)
        with sklearn.config_context(enable_metadata_routing=True):
            inner = FixedThresholdClassifier(
                clone(model).set_fit_request(sample_weight=True),
                threshold=t,
                response_method="predict_proba",
            )
            est = ExponentiatedGradient(inner, _constraint(constraint), eps=eps, max_iter=max_iter)
            # fairlearn 0.15 grows a float Series with .at and fills it with booleans, which
            # pandas 3 deprecates (fairlearn's code, not the caller's data)
            with pandas4_warnings_ignored(
                "Setting a value on a Series via .at", "Setting an item of incompatible dtype"
            ):
                est.fit(fit_frame, yf, sensitive_features=gf)
        after = np.asarray(est.predict(eval_frame, random_state=seed))
    after = after.astype(bool)
    by_before = _group_stats(before, ye, ge, exclude_below)
    by_after = _group_stats(after, ye, ge, exclude_below)
    o_before, o_after = _overall(before, ye, by_before), _overall(after, ye, by_after)
    summary = pd.DataFrame({"before": pd.Series(o_before), "after": pd.Series(o_after)})
    summary["change"] = summary["after"] - summary["before"]
    by_group = pd.concat({"before": by_before, "after": by_after}, names=["stage", "group"])
    logger.info(
        "mitigation %s (%s) on %s: lowest impact ratio %.3f -> %.3f, accuracy %.3f -> %.3f",
        method,
        constraint,
        attribute,
        o_before["min_impact_ratio"],
        o_after["min_impact_ratio"],
        o_before["accuracy"],
        o_after["accuracy"],
    )
    return Mitigation(
        method=method,
        constraint=constraint,
        attribute=attribute,
        summary=summary,
        by_group=by_group,
        estimator=est,
        n_fit=len(Xf),
        n_eval=len(Xe),
        decision=decision,
        notes=[NOTES[method]],
    )
