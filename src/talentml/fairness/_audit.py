"""``audit``: a bias audit of a model or a score, with LL144 impact ratios and significance.

The audit runs in steps, each a function of this module: check the arguments and the purpose
limitation, resolve the attributes and the scores (:mod:`._groups`, :mod:`._scores`), the
decision rule (:func:`_decision_rule`), the rates and impact ratios of every attribute
(:func:`_measure`), the exclusions and references, the proxies (:func:`_proxy_step`), the
mitigations (:func:`_mitigation_step`), the flags (:mod:`._flags`) and the meta record
(:func:`_meta`). The result and its reports live in :mod:`._result` and :mod:`._report`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .._validation import RandomStateLike, renamed_parameters, spawn_seed
from ..config import show_progress as _show_progress
from ._flags import FLAG_COLUMNS, SEVERITY_ORDER, audit_flags
from ._groups import UNKNOWN_VALUES, Attribute, check_purpose, resolve_attributes
from ._impact import (
    DEFAULT_JUSTIFICATION,
    FOUR_FIFTHS,
    TESTS,
    check_top_fraction,
    rate_table,
    scoring_selection,
    threshold_selection,
    top_fraction_selection,
)
from ._metadata import AuditMetadata, check_data_source
from ._metrics import group_metrics
from ._mitigate import Mitigation, mitigate
from ._proxy import PROXY_THRESHOLD, feature_columns, gap_attribution, predictiveness, proxy_table
from ._result import BiasAudit
from ._schema import SCHEMA_VERSION
from ._scores import (
    Scores,
    contributions,
    contributions_margin,
    label_values,
    model_frame,
    resolve_scores,
)

__all__ = ["FLAG_COLUMNS", "SCHEMA_VERSION", "SEVERITY_ORDER", "BiasAudit", "audit"]

logger = logging.getLogger(__name__)


MSG_BOTH = "give threshold or top_fraction, not both"
MSG_FAVORABLE = "favorable must be 'high' or 'low', got {value!r}"
MSG_X = "X must be a pandas DataFrame (the audited rows), got {kind}"


def _data_window(X: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"n_rows": int(len(X))}
    if "employee_id" in X.columns:
        out["n_employees"] = int(X["employee_id"].nunique())
    if "as_of" in X.columns and len(X):
        as_of = pd.to_datetime(X["as_of"], utc=True)
        out["window"] = {
            "start": as_of.min().isoformat(),
            "end": as_of.max().isoformat(),
            "n_cutoffs": int(as_of.nunique()),
        }
    return out


def _check_arguments(
    X: Any,
    *,
    threshold: float | None,
    top_fraction: float | None,
    favorable: str,
    test: str,
    data_source: str,
    alpha: float,
) -> None:
    """Raise on an argument :func:`audit` cannot use (before any work)."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(MSG_X.format(kind=type(X).__name__))
    if threshold is not None and top_fraction is not None:
        raise ValueError(MSG_BOTH)
    if top_fraction is not None:
        check_top_fraction(top_fraction)
    if favorable not in ("high", "low"):
        raise ValueError(MSG_FAVORABLE.format(value=favorable))
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    check_data_source(data_source)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")


def _decision_rule(
    scores: Scores,
    X: pd.DataFrame,
    *,
    threshold: float | None,
    top_fraction: float | None,
    favorable: str,
    random_state: int | None,
) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, Any]]:
    """The selected rows, the rows above the median, and the record of the decision rule."""
    values = scores.values
    decision_info: dict[str, Any] = {"favorable": favorable, "binary": scores.binary}
    selected = above = None
    if scores.binary:
        if threshold is not None or top_fraction is not None:
            logger.info("scores are binary decisions: threshold/top_fraction ignored")
        selected = values == (1.0 if favorable == "high" else 0.0)
        decision_info["rule"] = "binary decision (1 = selected)"
    else:
        above, median = scoring_selection(values, favorable=favorable)
        decision_info["median_score"] = median
        if top_fraction is not None:
            tiebreak = None
            if scores.source == "model" and hasattr(scores.model, "booster_"):
                tiebreak = contributions_margin(scores.model, X)
            selected, cut, ties = top_fraction_selection(
                values,
                top_fraction,
                favorable=favorable,
                tiebreak=tiebreak,
                random_state=random_state,
            )
            decision_info["top_fraction"] = top_fraction
            decision_info["cutoff"] = cut
            decision_info["ties"] = ties
            decision_info["rule"] = (
                f"top {top_fraction} ({'highest' if favorable == 'high' else 'lowest'} scores)"
            )
        elif threshold is not None:
            selected = threshold_selection(values, float(threshold), favorable=favorable)
            decision_info["threshold"] = float(threshold)
            decision_info["cutoff"] = float(threshold)
            sign = ">=" if favorable == "high" else "<="
            decision_info["rule"] = f"score {sign} {float(threshold):g}"
        else:
            decision_info["rule"] = "continuous score: scoring rates only"
    if selected is not None:
        decision_info["n_selected"] = int(selected.sum())
    return selected, above, decision_info


def _kinds(selected: np.ndarray | None, above: np.ndarray | None) -> dict[str, np.ndarray]:
    """The rates the audit compares: ``selection`` (a decision) and/or ``scoring`` (median)."""
    kinds: dict[str, np.ndarray] = {}
    if selected is not None:
        kinds["selection"] = selected
    if above is not None:
        kinds["scoring"] = above
    return kinds


def _is_probability(scores: Scores, probability: bool | None) -> bool:
    """Whether the scores are probabilities of the outcome (calibration is then reported)."""
    values = scores.values
    in_unit = bool(values.min() >= 0.0 and values.max() <= 1.0)
    if probability is None:
        probability = scores.source == "model" and hasattr(scores.model, "predict_proba")
    elif probability and not in_unit:
        raise ValueError("probability=True, but the scores are not all in [0, 1]")
    return bool(probability and in_unit and not scores.binary)


def _employee_clusters(X: pd.DataFrame) -> tuple[np.ndarray | None, int]:
    """Bootstrap clusters (employee ids, when some repeat) and the number of repeated ids."""
    clusters = None
    repeated = 0
    if "employee_id" in X.columns:
        ids = X["employee_id"]
        counts = ids.value_counts()
        repeated = int((counts > 1).sum())
        if repeated:
            clusters = ids.astype("object").to_numpy()
    return clusters, repeated


def _measure(
    attrs: Sequence[Attribute],
    scores: Scores,
    labels: np.ndarray | None,
    kinds: dict[str, np.ndarray],
    *,
    selected: np.ndarray | None,
    above: np.ndarray | None,
    probability: bool,
    clusters: np.ndarray | None,
    exclude_below: float | None,
    min_n: int,
    alpha: float,
    test: str,
    n_bootstrap: int,
    ci: float,
    random_state: int | None,
    show_progress: bool | None,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Metrics by group (fairlearn), overall, and the rate tables of every attribute and kind."""
    values = scores.values
    decision = selected if selected is not None else above
    n_rows = len(values)
    by_parts, overall = [], None
    impact_parts = []
    progress = _show_progress() if show_progress is None else bool(show_progress)
    for i, attr in enumerate(
        tqdm(attrs, desc="bias audit", unit="attribute", disable=not progress)
    ):
        by, ov = group_metrics(
            attr.values,
            name=attr.name,
            scores=values,
            decision=decision,
            selected=selected,
            above_median=above,
            labels=labels,
            probability=probability,
        )
        by.insert(1, "share", by["n"] / n_rows)
        by_parts.append(pd.concat({attr.name: by}, names=["attribute"]))
        overall = ov if overall is None else overall
        for kind, flag in kinds.items():
            table = rate_table(
                flag,
                attr.values,
                clusters=clusters,
                exclude_below=exclude_below,
                min_n=min_n,
                alpha=alpha,
                test=test,
                n_bootstrap=n_bootstrap,
                ci=ci,
                random_state=spawn_seed(random_state, i),
            )
            impact_parts.append(pd.concat({(attr.name, kind): table}, names=["attribute", "kind"]))
    by_group = pd.concat(by_parts).sort_index()
    impact = pd.concat(impact_parts).sort_index()
    overall = overall.copy()
    overall["share"] = 1.0
    return by_group, overall, impact


def _exclusions(
    impact: pd.DataFrame, *, justification: str | None, exclude_below: float | None
) -> pd.DataFrame:
    """The categories left out of the impact ratios, with count, rate and justification."""
    justification = justification or DEFAULT_JUSTIFICATION
    excl_rows = []
    for (attr_name, kind, group), r in impact[impact["excluded"]].iterrows():
        excl_rows.append(
            {
                "attribute": attr_name,
                "kind": kind,
                "group": group,
                "n": int(r["n"]),
                "share": float(r["share"]),
                "rate": float(r["rate"]),
                "justification": justification.format(
                    limit=exclude_below, share=float(r["share"]), n=int(r["n"])
                ),
            }
        )
    return pd.DataFrame(
        excl_rows, columns=["attribute", "kind", "group", "n", "share", "rate", "justification"]
    )


def _attribute_table(attrs: Sequence[Attribute], n_rows: int) -> pd.DataFrame:
    """One row per audited attribute: parts, known categories, unknown count and share."""
    return pd.DataFrame(
        [
            {
                "attribute": a.name,
                "parts": list(a.parts),
                "categories": a.categories,
                "n_unknown": a.n_unknown,
                "share_unknown": a.n_unknown / n_rows if n_rows else 0.0,
            }
            for a in attrs
        ]
    )


def _references(
    attrs: Sequence[Attribute], impact: pd.DataFrame, primary: str
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The reference category and the compared categories of each attribute (primary kind)."""
    references: dict[str, str] = {}
    compared: dict[str, list[str]] = {}
    flat = impact.reset_index()
    for a in attrs:
        sub = flat[(flat["attribute"] == a.name) & (flat["kind"] == primary) & ~flat["excluded"]]
        compared[a.name] = [str(g) for g in sub["group"]]
        if sub["reference"].any():
            references[a.name] = str(sub.loc[sub["reference"], "group"].iloc[0])
    return references, compared


def _proxy_step(
    proxies: bool | pd.DataFrame,
    scores: Scores,
    X: pd.DataFrame,
    attrs: Sequence[Attribute],
    impact: pd.DataFrame,
    *,
    references: dict[str, str],
    compared: dict[str, list[str]],
    clusters: np.ndarray | None,
    min_n: int,
    proxy_threshold: float,
    favorable: str,
    random_state: int | None,
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """The proxy table (given, or computed for a fitted model), the gaps and their attribution."""
    proxy_frame = gaps = by_feature = None
    if isinstance(proxies, pd.DataFrame):
        return proxies, None, None
    if not (proxies and scores.source == "model"):
        return None, None, None
    flat = impact.reset_index()
    frame = model_frame(scores.model, X)
    feats = feature_columns(frame)
    singles = [a for a in attrs if len(a.parts) == 1]
    sizes = dict(zip(zip(flat["attribute"], flat["group"], strict=True), flat["n"], strict=True))
    proxy_compared = {
        a: [g for g in cats if sizes.get((a, g), 0) >= min_n] for a, cats in compared.items()
    }
    pred = predictiveness(
        frame,
        singles,
        features=feats,
        compared=proxy_compared,
        clusters=clusters,
        random_state=random_state,
    )
    res = contributions(scores.model, frame)
    if res is not None:
        contribs, margin = res
        gaps, by_feature = gap_attribution(
            contribs, margin, attrs, references=references, compared=compared
        )
        gaps["scale"] = str(getattr(scores.model, "margin_kind_", "margin"))
    proxy_frame = proxy_table(
        pred,
        by_feature,
        gaps,
        model_features=feats,
        threshold=proxy_threshold,
        favorable=favorable,
    )
    return proxy_frame, gaps, by_feature


def _mitigation_target(impact: pd.DataFrame, attribute: str | None) -> str:
    """The attribute to mitigate for: the given one, or the single one with the lowest ratio."""
    if attribute is not None:
        return attribute
    singles_worst = impact.reset_index()
    singles_worst = singles_worst[
        ~singles_worst["attribute"].str.contains(" × ", regex=False)
        & singles_worst["impact_ratio"].notna()
        & ~singles_worst["excluded"]
    ]
    if singles_worst.empty:
        raise ValueError("no impact ratio to mitigate: pass mitigation_attribute")
    return str(singles_worst.sort_values("impact_ratio").iloc[0]["attribute"])


def _mitigation_step(
    mitigation: str | Mitigation | Sequence[str | Mitigation] | None,
    scores: Scores,
    X: pd.DataFrame,
    labels: np.ndarray | None,
    impact: pd.DataFrame,
    *,
    sensitive: pd.DataFrame,
    attribute: str | None,
    constraint: str,
    threshold: float | None,
    top_fraction: float | None,
    unknown_values: Iterable[str],
    random_state: int | None,
) -> list[Mitigation]:
    """The mitigations of the report: results passed in as they are, method names run here."""
    if not mitigation:
        return []
    items = [mitigation] if isinstance(mitigation, str | Mitigation) else list(mitigation)
    target = None
    if any(not isinstance(m, Mitigation) for m in items):
        if labels is None:
            raise ValueError("mitigation needs outcomes: pass y")
        if scores.source != "model":
            raise ValueError("mitigation needs a fitted model, not scores")
        target = _mitigation_target(impact, attribute)
    out: list[Mitigation] = []
    for method in items:
        if isinstance(method, Mitigation):
            out.append(method)
            continue
        out.append(
            mitigate(
                scores.model,
                X,
                labels,
                sensitive=sensitive,
                attribute=target,
                method=method,
                constraint=constraint,
                threshold=threshold,
                top_fraction=top_fraction,
                unknown_values=unknown_values,
                random_state=random_state,
            )
        )
    return out


def _meta(
    X: pd.DataFrame,
    scores: Scores,
    labels: np.ndarray | None,
    *,
    join: dict[str, Any],
    decision_info: dict[str, Any],
    settings: dict[str, Any],
    metadata: AuditMetadata,
) -> dict[str, Any]:
    """The audit's meta record: report metadata, data window, model, decision and settings."""
    version = dict(scores.version)
    if metadata.model_version is not None:
        version["label"] = str(metadata.model_version)
    data = _data_window(X)
    data.update(
        {
            "source": metadata.data_source,
            "description": metadata.data_description,
            "n_labeled": None if labels is None else int((~np.isnan(labels)).sum()),
            "rows_without_sensitive_record": join["rows_without_sensitive_record"],
        }
    )
    return {
        "audit": {
            "purpose": metadata.purpose,
            "audit_date": metadata.audit_date,
            "distribution_date": metadata.distribution_date,
            "auditor": metadata.auditor,
        },
        "data": data,
        "model": {"source": scores.source, "score": scores.description, **version},
        "decision": decision_info,
        "settings": settings,
    }


@renamed_parameters(top_k="top_fraction")
def audit(
    model_or_scores: Any,
    X: pd.DataFrame,
    y: Any = None,
    *,
    sensitive: pd.DataFrame,
    threshold: float | None = None,
    top_fraction: float | None = None,
    favorable: str = "high",
    probability: bool | None = None,
    attributes: Sequence[str] | None = None,
    intersections: Sequence[Sequence[str]] | str | None = "auto",
    alpha: float = 0.05,
    min_n: int = 30,
    exclude_below: float | None = 0.02,
    exclusion_justification: str | None = None,
    test: str = "fisher",
    n_bootstrap: int = 1000,
    ci: float = 0.95,
    proxies: bool | pd.DataFrame = True,
    proxy_threshold: float = PROXY_THRESHOLD,
    calibration_tolerance: float = 0.05,
    mitigation: str | Mitigation | Sequence[str | Mitigation] | None = None,
    mitigation_attribute: str | None = None,
    mitigation_constraint: str = "demographic_parity",
    purpose: str | None = None,
    audit_date: str | None = None,
    distribution_date: str | None = None,
    auditor: str | None = None,
    data_source: str = "historical",
    data_description: str | None = None,
    model_version: str | None = None,
    unknown_values: Iterable[str] = UNKNOWN_VALUES,
    random_state: RandomStateLike = 0,
    show_progress: bool | None = None,
) -> BiasAudit:
    """Audit a model or a score for bias: rates, LL144 impact ratios, significance and proxies.

    The ``sensitive`` table is joined to the audited rows here and nowhere else; the report
    holds only aggregates (no employee id ever sits next to a protected attribute).

    * **Rates.** Continuous scores get the *scoring rate* of each category (share above the
      full sample's median); a ``threshold`` or ``top_fraction`` adds the *selection rate*; binary
      scores (0/1) are decisions and get the selection rate only.
    * **Impact ratios** of each category against the highest-rate category, per single
      attribute and per intersection (``sex × race_ethnicity`` when both exist); Fisher's
      exact (or two-proportion) test against that category; percentile bootstrap intervals
      (resampling employees when they repeat); the four-fifths flag; ``min_n`` flags;
      categories under ``exclude_below`` excluded with their count, rate and justification;
      unknown categories counted.
    * **By group** (fairlearn ``MetricFrame``): counts, rates, mean score, and with outcomes
      TPR, FPR, precision, AUC, calibration within the group.
    * **Proxies** (a fitted talentml model): how well each model feature predicts each
      attribute, and the share of each group's score gap it carries (TreeSHAP).
    * **Mitigation** (optional): fairlearn methods fitted and evaluated on held-out rows,
      reported before and after, never applied.

    Parameters
    ----------
    model_or_scores : fitted model, str or array-like
        A fitted classifier (``predict_proba``; its probability of the event is the score) or
        regressor (``predict``), the name of a score column of ``X``, or one score per row.
    X : pandas.DataFrame
        The audited rows (features for a model; ``employee_id`` joins ``sensitive``). It must
        not hold a sensitive attribute.
    y : array-like, pandas.DataFrame or str, optional
        Binary outcomes (a ``talentml.labels`` frame works; unlabelled rows are left out of
        the outcome metrics only).
    sensitive : pandas.DataFrame
        The ``sensitive`` table (joined on ``employee_id``) or a frame aligned with ``X`` by
        index.
    threshold : float, optional
        Selection: scores at or above it (at or below with ``favorable="low"``).
    top_fraction : float, optional
        Selection: exactly the share ``top_fraction`` (in (0, 1]) of the rows with the most
        favourable scores (``ceil(top_fraction * n)`` rows, at least one). Rows tied at
        the cut (a calibrated probability has steps) are ordered by the model's raw margin
        when it has one, then at random (``random_state``); ``decision.ties`` says how.
    favorable : {"high", "low"}, default "high"
        Whether a high score is the favourable outcome.
    probability : bool, optional
        Whether the scores are probabilities of the outcome (then calibration within groups
        is reported). Default: True for a classifier's ``predict_proba``, else False.
    attributes : sequence of str, optional
        Sensitive columns to audit (default: all).
    intersections : "auto", None or list of tuples, default "auto"
        Intersections to audit; "auto" is ``("sex", "race_ethnicity")`` when both exist.
    alpha : float, default 0.05
        Significance level of the flags.
    min_n : int, default 30
        Categories with fewer rows are flagged as small.
    exclude_below : float or None, default 0.02
        Categories under this share of the rows are excluded from impact ratios (reported).
    exclusion_justification : str, optional
        The auditor's justification of exclusions (default: a stated statistical reason).
    test : {"fisher", "two-proportion"}, default "fisher"
        Significance test against the reference category.
    n_bootstrap : int, default 1000
        Bootstrap replicates of the impact-ratio intervals (0 to skip).
    ci : float, default 0.95
        Coverage of the intervals.
    proxies : bool or pandas.DataFrame, default True
        Run the proxy analysis of the model's features (a fitted model only); or a table
        from :func:`proxy_analysis` to include as is (e.g. for cross-validated scores).
    proxy_threshold : float, default 0.7
        Folded AUC from which a feature is a proxy.
    calibration_tolerance : float, default 0.05
        Calibration gap within a group that is flagged.
    mitigation : str, Mitigation or sequence of them, optional
        Results of :func:`mitigate` to include as they are (preferred: mitigation is its own
        step), and/or method names to run here: ``"threshold_optimizer"``,
        ``"exponentiated_gradient"`` (these need ``y`` and a fitted model).
    mitigation_attribute : str, optional
        Attribute to mitigate for, for the method names (default: the single attribute with
        the lowest ratio).
    mitigation_constraint : str, default "demographic_parity"
        Parity constraint of the mitigation, for the method names.
    purpose : str, optional
        Report metadata, as the seven parameters from ``purpose`` to ``model_version``: the
        audit's default :class:`AuditMetadata` (``BiasAudit.to_json(metadata=...)``,
        ``to_html(metadata=...)`` and ``with_metadata`` set them on the report; nothing
        measured depends on them). What the tool is used for (the report's first line).
    audit_date, distribution_date : str, optional
        Dates for the LL144 summary (nothing reads the clock).
    auditor : str, optional
        The independent auditor, as declared by the user.
    data_source : {"historical", "test"}, default "historical"
        The kind of data (LL144 terms).
    data_description : str, optional
        Where the data come from (and, for test data, why historical data were insufficient).
    model_version : str, optional
        A version label (e.g. a registry version); the report also fingerprints the model.
    unknown_values : iterable of str
        Values read as an unknown category.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed of the bootstrap, the proxy encoding and the mitigation.
    show_progress : bool, optional
        Progress bar over the attributes (default: :func:`talentml.get_config`).

    Returns
    -------
    BiasAudit
        ``by_group``, ``impact_ratios``, ``flags``, ``to_json()``, ``to_html(path)``.

    See Also
    --------
    proxy_analysis : The proxy table on its own (pass it as ``proxies=``).
    mitigate : One mitigation on its own (pass the results as ``mitigation=``).
    AuditMetadata : The report metadata.

    Raises
    ------
    PurposeLimitationError
        If ``X`` or the model's features hold a sensitive attribute.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.fairness import audit
    >>> rng = np.random.default_rng(0)
    >>> sensitive = pd.DataFrame({"employee_id": [f"E{i}" for i in range(2000)],
    ...                           "caregiver": rng.random(2000) < 0.3})
    >>> X = pd.DataFrame({"employee_id": sensitive["employee_id"],
    ...                   "score": rng.random(2000) - 0.25 * sensitive["caregiver"]})
    >>> result = audit("score", X, sensitive=sensitive, top_fraction=0.2, random_state=0)
    >>> ratios = result.impact_ratios.loc[("caregiver", "scoring")]
    >>> ratios["rate"].round(2).to_dict(), ratios["impact_ratio"].round(2).to_dict()
    ({'False': 0.58, 'True': 0.32}, {'False': 1.0, 'True': 0.55})
    >>> result.flags["code"].iloc[0]
    'adverse_impact'
    """
    _check_arguments(
        X,
        threshold=threshold,
        top_fraction=top_fraction,
        favorable=favorable,
        test=test,
        data_source=data_source,
        alpha=alpha,
    )
    metadata = AuditMetadata(
        purpose=purpose,
        audit_date=audit_date,
        distribution_date=distribution_date,
        auditor=auditor,
        data_source=data_source,
        data_description=data_description,
        model_version=model_version,
    )
    sens_cols = list(getattr(sensitive, "columns", []))
    model_features = None
    if not isinstance(model_or_scores, str | pd.Series | np.ndarray | list):
        model_features = getattr(model_or_scores, "feature_names_in_", None)
    check_purpose(X, sensitive_columns=sens_cols, model_features=model_features)
    attrs, join = resolve_attributes(
        X,
        sensitive,
        attributes=attributes,
        intersections=intersections,
        unknown_values=unknown_values,
    )
    scores: Scores = resolve_scores(model_or_scores, X)
    labels = label_values(y, X)
    values = scores.values
    if np.isnan(values).any():
        bad = list(X.index[np.isnan(values)][:10])
        raise ValueError(f"scores are missing for {int(np.isnan(values).sum())} rows: {bad}")

    selected, above, decision_info = _decision_rule(
        scores,
        X,
        threshold=threshold,
        top_fraction=top_fraction,
        favorable=favorable,
        random_state=random_state,
    )
    kinds = _kinds(selected, above)
    probability = _is_probability(scores, probability)
    clusters, repeated = _employee_clusters(X)
    by_group, overall, impact = _measure(
        attrs,
        scores,
        labels,
        kinds,
        selected=selected,
        above=above,
        probability=probability,
        clusters=clusters,
        exclude_below=exclude_below,
        min_n=min_n,
        alpha=alpha,
        test=test,
        n_bootstrap=n_bootstrap,
        ci=ci,
        random_state=random_state,
        show_progress=show_progress,
    )
    exclusions = _exclusions(
        impact, justification=exclusion_justification, exclude_below=exclude_below
    )
    references, compared = _references(
        attrs, impact, "selection" if "selection" in kinds else "scoring"
    )
    proxy_frame, gaps, by_feature = _proxy_step(
        proxies,
        scores,
        X,
        attrs,
        impact,
        references=references,
        compared=compared,
        clusters=clusters,
        min_n=min_n,
        proxy_threshold=proxy_threshold,
        favorable=favorable,
        random_state=random_state,
    )
    mitigations = _mitigation_step(
        mitigation,
        scores,
        X,
        labels,
        impact,
        sensitive=sensitive,
        attribute=mitigation_attribute,
        constraint=mitigation_constraint,
        threshold=threshold,
        top_fraction=top_fraction,
        unknown_values=unknown_values,
        random_state=random_state,
    )
    flags = audit_flags(
        impact,
        by_group,
        attrs,
        proxy_frame,
        alpha=alpha,
        min_n=min_n,
        repeated=repeated,
        calibration_tolerance=calibration_tolerance,
    )
    settings = {
        "alpha": alpha,
        "min_n": min_n,
        "exclude_below": exclude_below,
        "test": test,
        "n_bootstrap": n_bootstrap,
        "ci": ci,
        "four_fifths": FOUR_FIFTHS,
        "proxy_threshold": proxy_threshold,
        "calibration_tolerance": calibration_tolerance,
        "random_state": random_state,
        "bootstrap_unit": "employee" if clusters is not None else "row",
    }
    meta = _meta(
        X,
        scores,
        labels,
        join=join,
        decision_info=decision_info,
        settings=settings,
        metadata=metadata,
    )
    result = BiasAudit(
        by_group=by_group,
        overall=overall,
        impact_ratios=impact,
        flags=flags,
        exclusions=exclusions,
        attributes=_attribute_table(attrs, len(X)),
        meta=meta,
        proxies=proxy_frame,
        gaps=gaps,
        gap_attribution=by_feature,
        mitigation=mitigations,
    )
    n_high = int((flags["severity"] == "high").sum()) if len(flags) else 0
    logger.info("bias audit of %d rows: %d high-severity flag(s)", len(X), n_high)
    return result
