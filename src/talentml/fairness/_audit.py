"""``audit``: a bias audit of a model or a score, with LL144 impact ratios and significance."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..config import show_progress as _show_progress
from ._groups import UNKNOWN, UNKNOWN_VALUES, Attribute, check_purpose, resolve_attributes
from ._impact import (
    DEFAULT_JUSTIFICATION,
    FOUR_FIFTHS,
    TESTS,
    rate_table,
    scoring_selection,
    threshold_selection,
    top_k_selection,
)
from ._metrics import group_metrics
from ._proxy import PROXY_THRESHOLD, _feature_columns, gap_attribution, predictiveness, proxy_table
from ._schema import SCHEMA_VERSION
from ._scores import (
    Scores,
    contributions,
    contributions_margin,
    label_values,
    model_frame,
    resolve_scores,
)

__all__ = ["SCHEMA_VERSION", "BiasAudit", "audit"]

logger = logging.getLogger(__name__)


SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
FLAG_COLUMNS = ("attribute", "group", "kind", "code", "severity", "message")

MSG_BOTH = "give threshold or top_k, not both"
MSG_FAVORABLE = "favorable must be 'high' or 'low', got {value!r}"
MSG_X = "X must be a pandas DataFrame (the audited rows), got {kind}"


@dataclass
class BiasAudit:
    """The result of :func:`audit`: rates, impact ratios, flags, proxies and mitigation.

    Attributes
    ----------
    by_group : pandas.DataFrame
        Indexed by ``(attribute, group)`` (single attributes, then intersections; the unknown
        category included): ``n``, ``share``, ``selection_rate`` and/or ``scoring_rate``,
        ``mean_score``, and with outcomes ``n_labeled``, ``base_rate``, ``tpr``, ``fpr``,
        ``precision``, ``auc``, ``calibration_gap`` (mean probability minus observed rate)
        and ``ece``. Computed with fairlearn's ``MetricFrame``.
    overall : pandas.Series
        The same metrics over every audited row.
    impact_ratios : pandas.DataFrame
        Indexed by ``(attribute, kind, group)``, ``kind`` being ``"selection"`` or
        ``"scoring"``: ``n``, ``share``, ``n_selected``, ``rate``, ``impact_ratio``,
        ``ci_low``, ``ci_high`` (bootstrap), ``p_value`` (against the reference category),
        ``reference``, ``excluded`` (under 2%), ``small`` (under ``min_n``), ``four_fifths``
        (ratio under 0.8) and ``significant`` (``p_value < alpha``).
    flags : pandas.DataFrame
        One row per finding: ``attribute``, ``group``, ``kind``, ``code`` (``adverse_impact``,
        ``four_fifths``, ``significant_difference``, ``small_group``, ``excluded_category``,
        ``unknown_category``, ``calibration_gap``, ``proxy_feature``, ``repeated_rows``),
        ``severity`` (high, medium, low, info) and a plain-language ``message``.
    exclusions : pandas.DataFrame
        Categories left out of the impact ratios, with count, rate and justification.
    attributes : pandas.DataFrame
        One row per audited attribute: its parts, known categories and unknown count.
    proxies : pandas.DataFrame or None
        :func:`proxy_analysis` of the model's features (None when not computed).
    gaps : pandas.DataFrame or None
        Margin gap of each compared category to the reference category.
    gap_attribution : pandas.DataFrame or None
        Each feature's TreeSHAP contribution to each gap (long format).
    mitigation : list of Mitigation
        Mitigations tried (reported, never applied).
    meta : dict
        Purpose, dates, auditor, data window, model version, decision rule and settings.

    See Also
    --------
    audit : Builds it.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.fairness import audit
    >>> rng = np.random.default_rng(0)
    >>> result = audit(rng.random(400), pd.DataFrame(index=range(400)),
    ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 400)}),
    ...                n_bootstrap=0)
    >>> result.by_group.index.names
    FrozenList(['attribute', 'group'])
    >>> list(result.impact_ratios.index.names)
    ['attribute', 'kind', 'group']
    """

    by_group: pd.DataFrame
    overall: pd.Series
    impact_ratios: pd.DataFrame
    flags: pd.DataFrame
    exclusions: pd.DataFrame
    attributes: pd.DataFrame
    meta: dict[str, Any]
    proxies: pd.DataFrame | None = None
    gaps: pd.DataFrame | None = None
    gap_attribution: pd.DataFrame | None = None
    mitigation: list[Any] = field(default_factory=list)

    def __repr__(self) -> str:
        n = self.meta.get("data", {}).get("n_rows", 0)
        high = int((self.flags["severity"] == "high").sum()) if len(self.flags) else 0
        attrs = ", ".join(self.attributes["attribute"].tolist())
        return f"<BiasAudit of {n} rows on {attrs}: {high} high-severity flag(s)>"

    def worst(self, kind: str | None = None) -> pd.DataFrame:
        """The lowest compared impact ratio of each attribute.

        Parameters
        ----------
        kind : {"selection", "scoring"}, optional
            Restrict to one kind of rate (default: both).

        Returns
        -------
        pandas.DataFrame
            One row per ``(attribute, kind)``: ``group``, ``impact_ratio``, ``p_value``,
            ``ci_low``, ``ci_high``, ``n``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> sex = rng.choice(["female", "male"], 1000)
        >>> score = rng.random(1000) + 0.2 * (sex == "male")
        >>> result = audit(score, pd.DataFrame(index=range(1000)),
        ...                sensitive=pd.DataFrame({"sex": sex}), n_bootstrap=0)
        >>> result.worst()["group"].tolist()
        ['female']
        """
        table = self.impact_ratios.reset_index()
        table = table[~table["excluded"] & table["impact_ratio"].notna()]
        if kind is not None:
            table = table[table["kind"] == kind]
        table = table.sort_values("impact_ratio", kind="mergesort")
        keep = ["attribute", "kind", "group", "impact_ratio", "p_value", "ci_low", "ci_high", "n"]
        return table.drop_duplicates(["attribute", "kind"])[keep].set_index(["attribute", "kind"])

    def to_dict(self) -> dict[str, Any]:
        """The report as plain, strict-JSON-able data (the versioned schema).

        Returns
        -------
        dict
            With ``schema_version`` and every section of the report; no row-level data.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> result = audit(rng.random(300), pd.DataFrame(index=range(300)),
        ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 300)}),
        ...                n_bootstrap=0)
        >>> result.to_dict()["schema_version"]
        '1.0'
        """
        from ._report import audit_to_dict

        return audit_to_dict(self)

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """Serialize the report to JSON (and write it when ``path`` is given).

        Parameters
        ----------
        path : str or Path, optional
            File to write.
        indent : int or None, default 2
            JSON indentation.

        Returns
        -------
        str
            The JSON text (strict JSON: missing values are ``null``).

        Examples
        --------
        >>> import json, numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> result = audit(rng.random(300), pd.DataFrame(index=range(300)),
        ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 300)}),
        ...                n_bootstrap=0)
        >>> json.loads(result.to_json())["report"]
        'talentml.fairness.audit'
        """
        from ._report import dumps

        text = dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None) -> str:
        """Render a self-contained HTML report (plots embedded as SVG).

        Parameters
        ----------
        path : str or Path, optional
            File to write.

        Returns
        -------
        str
            The HTML document.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> result = audit(rng.random(300), pd.DataFrame(index=range(300)),
        ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 300)}),
        ...                n_bootstrap=0)
        >>> html = result.to_html()
        >>> "<svg" in html and "Local Law 144" in html
        True
        """
        from ._report import audit_to_html

        html = audit_to_html(self)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def plot_impact_ratios(self, kind: str | None = None, ax: Any = None) -> Any:
        """Forest plot of the impact ratios with their bootstrap intervals and the 0.8 line.

        Parameters
        ----------
        kind : {"selection", "scoring"}, optional
            Which rates (default: selection when present, else scoring).
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (default: a new figure).

        Returns
        -------
        matplotlib.axes.Axes
            The axes.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> result = audit(rng.random(300), pd.DataFrame(index=range(300)),
        ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 300)}),
        ...                n_bootstrap=50)
        >>> result.plot_impact_ratios().get_xlabel()
        'impact ratio (rate / highest rate)'
        """
        from ._plots import plot_impact_ratios

        return plot_impact_ratios(self, kind=kind, ax=ax)


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


def _flags(
    impact: pd.DataFrame,
    by_group: pd.DataFrame,
    attributes: Sequence[Attribute],
    proxies: pd.DataFrame | None,
    *,
    alpha: float,
    min_n: int,
    repeated: int,
    calibration_tolerance: float,
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    table = impact.reset_index()
    for (attr, kind), sub in table.groupby(["attribute", "kind"], sort=False):
        ref = sub[sub["reference"]]
        ref_group = ref["group"].iloc[0] if len(ref) else None
        ref_rate = float(ref["rate"].iloc[0]) if len(ref) else float("nan")
        for r in sub.itertuples(index=False):
            label = f"{attr} = {r.group}"
            if r.excluded:
                rows.append(
                    {
                        "attribute": attr,
                        "group": r.group,
                        "kind": kind,
                        "code": "excluded_category",
                        "severity": "info",
                        "message": f"{label}: {r.n} rows ({r.share:.1%}) excluded from the "
                        f"{kind} impact ratios; its {kind} rate is {r.rate:.1%}",
                    }
                )
                continue
            if r.small:
                rows.append(
                    {
                        "attribute": attr,
                        "group": r.group,
                        "kind": kind,
                        "code": "small_group",
                        "severity": "info",
                        "message": f"{label}: only {r.n} rows (fewer than {min_n}); its {kind} "
                        "rate and impact ratio are unreliable",
                    }
                )
            if r.reference or np.isnan(r.impact_ratio):
                continue
            ci = (
                f", 95% CI {r.ci_low:.2f}-{r.ci_high:.2f}"
                if not (np.isnan(r.ci_low) or np.isnan(r.ci_high))
                else ""
            )
            detail = (
                f"{kind} rate {r.rate:.1%} against {ref_rate:.1%} for {ref_group} "
                f"(impact ratio {r.impact_ratio:.2f}{ci}, p = {r.p_value:.2g}, n = {r.n})"
            )
            if r.four_fifths and r.significant:
                code, sev = "adverse_impact", "high"
                text = f"{label}: {detail}: below four-fifths and significant at {alpha:g}"
            elif r.four_fifths:
                code, sev = "four_fifths", "medium"
                text = f"{label}: {detail}: below four-fifths, not significant at {alpha:g}"
            elif r.significant and r.impact_ratio < 1.0:
                code, sev = "significant_difference", "low"
                text = f"{label}: {detail}: significant, but above four-fifths"
            else:
                continue
            rows.append(
                {
                    "attribute": attr,
                    "group": r.group,
                    "kind": kind,
                    "code": code,
                    "severity": sev,
                    "message": text,
                }
            )
    for attr in attributes:
        k = attr.n_unknown
        if k:
            rows.append(
                {
                    "attribute": attr.name,
                    "group": UNKNOWN,
                    "kind": None,
                    "code": "unknown_category",
                    "severity": "info",
                    "message": f"{attr.name}: {k} rows ({k / len(attr.values):.1%}) in an unknown "
                    "category; not part of any impact ratio",
                }
            )
    if "calibration_gap" in by_group.columns:
        for (attr, group), r in by_group.iterrows():
            gap = r.get("calibration_gap")
            if (
                group != UNKNOWN
                and r.get("n_labeled", 0) >= min_n
                and gap is not None
                and not np.isnan(gap)
                and abs(gap) > calibration_tolerance
            ):
                word = "over" if gap > 0 else "under"
                rows.append(
                    {
                        "attribute": attr,
                        "group": group,
                        "kind": None,
                        "code": "calibration_gap",
                        "severity": "low",
                        "message": f"{attr} = {group}: probabilities {word}state the observed "
                        f"rate by {abs(gap):.3f} (mean {r['mean_score']:.3f}, observed "
                        f"{r['base_rate']:.3f}, n = {int(r['n_labeled'])})",
                    }
                )
    if proxies is not None and len(proxies):
        p = proxies.reset_index()
        hits = p[p["proxy"] & p["used_by_model"].fillna(False).astype(bool)]
        for r in hits.itertuples(index=False):
            share = (
                f"; it carries {r.gap_share:.0%} of the score gap of {r.attribute} = {r.gap_group}"
                if isinstance(r.gap_share, float) and not np.isnan(r.gap_share)
                else ""
            )
            rows.append(
                {
                    "attribute": r.attribute,
                    "group": r.group,
                    "kind": None,
                    "code": "proxy_feature",
                    "severity": "medium",
                    "message": f"model feature {r.feature!r} predicts {r.attribute} "
                    f"(AUC {r.auc:.2f}, {r.direction} for {r.group}){share}",
                }
            )
    if repeated:
        rows.append(
            {
                "attribute": None,
                "group": None,
                "kind": None,
                "code": "repeated_rows",
                "severity": "info",
                "message": f"{repeated} employees appear in more than one audited row: p-values "
                "treat rows as independent (optimistic); the bootstrap intervals resample "
                "employees. Audit one row per employee for exact tests.",
            }
        )
    out = pd.DataFrame(rows, columns=list(FLAG_COLUMNS))
    if len(out):
        order = out["severity"].map(SEVERITY_ORDER)
        out = out.assign(_o=order).sort_values("_o", kind="mergesort").drop(columns="_o")
        out = out.reset_index(drop=True)
    return out


def audit(
    model_or_scores: Any,
    X: pd.DataFrame,
    y: Any = None,
    *,
    sensitive: pd.DataFrame,
    threshold: float | None = None,
    top_k: float | None = None,
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
    mitigation: str | Sequence[str] | None = None,
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
    random_state: int | None = 0,
    show_progress: bool | None = None,
) -> BiasAudit:
    """Audit a model or a score for bias: rates, LL144 impact ratios, significance and proxies.

    The ``sensitive`` table is joined to the audited rows here and nowhere else; the report
    holds only aggregates (no employee id ever sits next to a protected attribute).

    * **Rates.** Continuous scores get the *scoring rate* of each category (share above the
      full sample's median); a ``threshold`` or ``top_k`` adds the *selection rate*; binary
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
    top_k : float or int, optional
        Selection: exactly the top fraction (0 < top_k < 1) or number of rows. Rows tied at
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
    mitigation : str or sequence of str, optional
        ``"threshold_optimizer"`` and/or ``"exponentiated_gradient"`` (needs ``y``).
    mitigation_attribute : str, optional
        Attribute to mitigate for (default: the single attribute with the lowest ratio).
    mitigation_constraint : str, default "demographic_parity"
        Parity constraint of the mitigation.
    purpose : str, optional
        What the tool is used for (the report's first line).
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
    random_state : int, optional
        Seed of the bootstrap, the proxy encoding and the mitigation.
    show_progress : bool, optional
        Progress bar over the attributes (default: :func:`talentml.get_config`).

    Returns
    -------
    BiasAudit
        ``by_group``, ``impact_ratios``, ``flags``, ``to_json()``, ``to_html(path)``.

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
    >>> result = audit("score", X, sensitive=sensitive, top_k=0.2, random_state=0)
    >>> ratios = result.impact_ratios.loc[("caregiver", "scoring")]
    >>> ratios["rate"].round(2).to_dict(), ratios["impact_ratio"].round(2).to_dict()
    ({'False': 0.58, 'True': 0.32}, {'False': 1.0, 'True': 0.55})
    >>> result.flags["code"].iloc[0]
    'adverse_impact'
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(MSG_X.format(kind=type(X).__name__))
    if threshold is not None and top_k is not None:
        raise ValueError(MSG_BOTH)
    if favorable not in ("high", "low"):
        raise ValueError(MSG_FAVORABLE.format(value=favorable))
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    if data_source not in ("historical", "test"):
        raise ValueError(f"data_source must be 'historical' or 'test', got {data_source!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
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

    decision_info: dict[str, Any] = {"favorable": favorable, "binary": scores.binary}
    selected = above = None
    if scores.binary:
        if threshold is not None or top_k is not None:
            logger.info("scores are binary decisions: threshold/top_k ignored")
        selected = values == (1.0 if favorable == "high" else 0.0)
        decision_info["rule"] = "binary decision (1 = selected)"
    else:
        above, median = scoring_selection(values, favorable=favorable)
        decision_info["median_score"] = median
        if top_k is not None:
            tiebreak = None
            if scores.source == "model" and hasattr(scores.model, "booster_"):
                tiebreak = contributions_margin(scores.model, X)
            selected, cut, ties = top_k_selection(
                values, top_k, favorable=favorable, tiebreak=tiebreak, random_state=random_state
            )
            decision_info["top_k"] = top_k
            decision_info["cutoff"] = cut
            decision_info["ties"] = ties
            decision_info["rule"] = (
                f"top {top_k} ({'highest' if favorable == 'high' else 'lowest'} scores)"
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
    kinds: dict[str, np.ndarray] = {}
    if selected is not None:
        kinds["selection"] = selected
    if above is not None:
        kinds["scoring"] = above
    decision = selected if selected is not None else above
    in_unit = bool(values.min() >= 0.0 and values.max() <= 1.0)
    if probability is None:
        probability = scores.source == "model" and hasattr(scores.model, "predict_proba")
    elif probability and not in_unit:
        raise ValueError("probability=True, but the scores are not all in [0, 1]")
    probability = bool(probability and in_unit and not scores.binary)

    clusters = None
    repeated = 0
    if "employee_id" in X.columns:
        ids = X["employee_id"]
        counts = ids.value_counts()
        repeated = int((counts > 1).sum())
        if repeated:
            clusters = ids.astype("object").to_numpy()

    n_rows = len(X)
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
                random_state=None if random_state is None else random_state + 7919 * i,
            )
            impact_parts.append(pd.concat({(attr.name, kind): table}, names=["attribute", "kind"]))
    by_group = pd.concat(by_parts).sort_index()
    impact = pd.concat(impact_parts).sort_index()
    overall = overall.copy()
    overall["share"] = 1.0

    justification = exclusion_justification or DEFAULT_JUSTIFICATION
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
    exclusions = pd.DataFrame(
        excl_rows, columns=["attribute", "kind", "group", "n", "share", "rate", "justification"]
    )
    attr_table = pd.DataFrame(
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

    primary = "selection" if "selection" in kinds else "scoring"
    references: dict[str, str] = {}
    compared: dict[str, list[str]] = {}
    flat = impact.reset_index()
    for a in attrs:
        sub = flat[(flat["attribute"] == a.name) & (flat["kind"] == primary) & ~flat["excluded"]]
        compared[a.name] = [str(g) for g in sub["group"]]
        if sub["reference"].any():
            references[a.name] = str(sub.loc[sub["reference"], "group"].iloc[0])

    proxy_frame = gaps = by_feature = None
    if isinstance(proxies, pd.DataFrame):
        proxy_frame = proxies
    elif proxies and scores.source == "model":
        frame = model_frame(scores.model, X)
        feats = _feature_columns(frame)
        singles = [a for a in attrs if len(a.parts) == 1]
        sizes = dict(
            zip(zip(flat["attribute"], flat["group"], strict=True), flat["n"], strict=True)
        )
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

    mitigations = []
    if mitigation:
        from ._mitigate import mitigate

        if labels is None:
            raise ValueError("mitigation needs outcomes: pass y")
        if scores.source != "model":
            raise ValueError("mitigation needs a fitted model, not scores")
        methods = [mitigation] if isinstance(mitigation, str) else list(mitigation)
        target = mitigation_attribute
        if target is None:
            singles_worst = impact.reset_index()
            singles_worst = singles_worst[
                ~singles_worst["attribute"].str.contains(" × ", regex=False)
                & singles_worst["impact_ratio"].notna()
                & ~singles_worst["excluded"]
            ]
            if singles_worst.empty:
                raise ValueError("no impact ratio to mitigate: pass mitigation_attribute")
            target = str(singles_worst.sort_values("impact_ratio").iloc[0]["attribute"])
        for method in methods:
            mitigations.append(
                mitigate(
                    scores.model,
                    X,
                    labels,
                    sensitive=sensitive,
                    attribute=target,
                    method=method,
                    constraint=mitigation_constraint,
                    threshold=threshold,
                    top_k=top_k,
                    unknown_values=unknown_values,
                    random_state=random_state,
                )
            )

    flags = _flags(
        impact,
        by_group,
        attrs,
        proxy_frame,
        alpha=alpha,
        min_n=min_n,
        repeated=repeated,
        calibration_tolerance=calibration_tolerance,
    )
    version = dict(scores.version)
    if model_version is not None:
        version["label"] = str(model_version)
    data = _data_window(X)
    data.update(
        {
            "source": data_source,
            "description": data_description,
            "n_labeled": None if labels is None else int((~np.isnan(labels)).sum()),
            "rows_without_sensitive_record": join["rows_without_sensitive_record"],
        }
    )
    meta = {
        "audit": {
            "purpose": purpose,
            "audit_date": audit_date,
            "distribution_date": distribution_date,
            "auditor": auditor,
        },
        "data": data,
        "model": {"source": scores.source, "score": scores.description, **version},
        "decision": decision_info,
        "settings": {
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
        },
    }
    result = BiasAudit(
        by_group=by_group,
        overall=overall,
        impact_ratios=impact,
        flags=flags,
        exclusions=exclusions,
        attributes=attr_table,
        meta=meta,
        proxies=proxy_frame,
        gaps=gaps,
        gap_attribution=by_feature,
        mitigation=mitigations,
    )
    n_high = int((flags["severity"] == "high").sum()) if len(flags) else 0
    logger.info("bias audit of %d rows: %d high-severity flag(s)", n_rows, n_high)
    return result
