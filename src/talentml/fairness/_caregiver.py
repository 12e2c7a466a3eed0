"""The caregiver-hours check: does a model penalize people who cannot learn off-hours?

A "learning agility" counted from voluntary completions started in evenings and at weekends
measures free time as much as agility: caregivers (more often women) have less of it. One call
of :func:`caregiver_hours`

(a) measures the gap for caregivers (and for sex) in the naive agility, in the
    opportunity-normalized agility, and in the model built on the naive one (a full
    :func:`~talentml.fairness.audit`);
(b) attributes the model's gap to the off-hours and weekend features (group-mean TreeSHAP
    differences);
(c) re-scores with those features *neutralized* (their contributions removed: everyone gets
    their average effect) and, given training data, *re-trained* with the
    opportunity-normalized agility in their place;
(d) reports the change in impact ratios and in ROC AUC for each variant.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from tqdm.auto import tqdm

from .._validation import (
    ID_COLUMNS,
    RandomStateLike,
    bootstrap_clusters,
    derive_seed,
    renamed_parameters,
    rng_from,
)
from ..config import show_progress as _show_progress
from ._audit import BiasAudit, audit
from ._caregiver_result import CaregiverHours
from ._groups import UNKNOWN_VALUES, check_purpose, resolve_attributes
from ._impact import rate_table, scoring_selection
from ._metrics import _auc
from ._scores import contributions, label_values, model_frame, resolve_scores

__all__ = ["OFFHOURS_PREFIXES", "CaregiverHours", "caregiver_hours"]

logger = logging.getLogger(__name__)

#: Name prefixes of off-hours and weekend features (besides the catalog's sensitive proxies).
OFFHOURS_PREFIXES = ("offhours_", "weekend_", "agility_offhours_")

_WINDOW = re.compile(r"_(\d+d|since_hire)$")


def _window(name: str) -> str | None:
    m = _WINDOW.search(name)
    return m.group(1) if m else None


def _catalog_proxies() -> set[str]:
    try:
        from ..features import catalog

        cat = catalog()
        return set(cat.loc[cat["sensitive_proxy"].astype(bool), "name"])
    except Exception as exc:  # the catalog only adds names; prefixes still apply
        logger.info("feature catalog unavailable (%s)", exc)
        return set()


def _offhours(features: Iterable[str]) -> list[str]:
    proxies = _catalog_proxies()
    return [f for f in features if f in proxies or f.startswith(OFFHOURS_PREFIXES)]


def _normalized_for(naive: str, columns: Iterable[str]) -> str | None:
    cols = set(columns)
    w = _window(naive)
    for stem in ("agility_per_workday_", "agility_standard_"):
        if w and f"{stem}{w}" in cols:
            return f"{stem}{w}"
    return None


def _measure_table(
    X: pd.DataFrame,
    columns: Mapping[str, str],
    attributes: Sequence[Any],
    *,
    clusters: np.ndarray | None,
    min_n: int,
    exclude_below: float | None,
    n_bootstrap: int,
    random_state: int | None,
) -> pd.DataFrame:
    parts = []
    for j, (column, role) in enumerate(columns.items()):
        values = pd.to_numeric(X[column], errors="coerce").to_numpy(dtype=np.float64)
        ok = ~np.isnan(values)
        above, _ = scoring_selection(values)
        for i, attr in enumerate(attributes):
            groups = attr.values[ok]
            table = rate_table(
                above[ok],
                groups,
                clusters=None if clusters is None else clusters[ok],
                exclude_below=exclude_below,
                min_n=min_n,
                n_bootstrap=n_bootstrap,
                random_state=derive_seed(random_state, 31 * i + 1009 * j),
            )
            means = pd.Series(values[ok]).groupby(groups).mean()
            table["mean"] = means.reindex(table.index).to_numpy()
            ref = table.index[table["reference"].to_numpy()]
            ref_mean = float(table.loc[ref[0], "mean"]) if len(ref) else np.nan
            table["mean_ratio"] = table["mean"] / ref_mean if ref_mean else np.nan
            table.loc[table["excluded"], "mean_ratio"] = np.nan
            table["role"] = role
            table = table.rename(columns={"rate": "scoring_rate"})
            keep = [
                "role",
                "n",
                "mean",
                "mean_ratio",
                "scoring_rate",
                "impact_ratio",
                "ci_low",
                "ci_high",
                "p_value",
                "reference",
                "excluded",
            ]
            parts.append(
                pd.concat({(column, attr.name): table[keep]}, names=["measure", "attribute"])
            )
    return pd.concat(parts) if parts else pd.DataFrame()


def _probability_map(margin: np.ndarray, proba: np.ndarray):
    """The model's monotone margin -> probability map, read off its own predictions."""
    order = np.argsort(margin, kind="mergesort")
    m, p = margin[order], np.maximum.accumulate(proba[order])

    def apply(values: np.ndarray) -> np.ndarray:
        return np.interp(values, m, p)

    return apply


def _ranges(sizes: np.ndarray) -> np.ndarray:
    """0..size-1 for each size, concatenated."""
    ends = np.cumsum(sizes)
    return np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - sizes, sizes)


def _auc_change_intervals(
    labels: np.ndarray | None,
    scores: Mapping[str, np.ndarray],
    *,
    clusters: np.ndarray | None,
    n_bootstrap: int,
    random_state: int | None,
    ci: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Paired bootstrap intervals of each variant's AUC minus the original's (same resamples)."""
    if labels is None or not n_bootstrap:
        return {}
    ok = ~np.isnan(labels)
    y = labels[ok].astype(bool)
    if y.all() or not y.any():
        return {}
    rng = rng_from(derive_seed(random_state, 4241))
    n = int(ok.sum())
    codes, k = bootstrap_clusters(None if clusters is None else clusters[ok], n)
    order = np.argsort(codes, kind="mergesort")
    starts = np.searchsorted(codes[order], np.arange(k))
    sizes = np.diff(np.r_[starts, n])
    diffs: dict[str, list[float]] = {name: [] for name in scores if name != "original"}
    base = scores["original"][ok]
    for _ in range(n_bootstrap):
        pick = rng.integers(0, k, k)
        if k == n:
            idx = pick
        else:  # every row of each drawn employee
            idx = order[np.repeat(starts[pick], sizes[pick]) + _ranges(sizes[pick])]
        yb = y[idx]
        if yb.all() or not yb.any():
            continue
        a0 = _auc(yb, None, score=base[idx])
        for name in diffs:
            diffs[name].append(_auc(yb, None, score=scores[name][ok][idx]) - a0)
    q = (1.0 - ci) / 2.0
    return {
        name: (float(np.quantile(d, q)), float(np.quantile(d, 1.0 - q)))
        for name, d in diffs.items()
        if len(d) >= 10
    }


def _check_inputs(
    model: Any,
    X: pd.DataFrame,
    sensitive: pd.DataFrame,
    *,
    attributes: Sequence[str],
    offhours: Sequence[str] | None,
    naive: str | None,
    normalized: str | None,
    threshold: float | None,
    top_fraction: float | None,
    X_train: pd.DataFrame | None,
    y_train: Any,
) -> tuple[list[str], list[str], list[str], str | None, str | None]:
    """Check the inputs; return the attributes, features, off-hours features and agilities."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    if not (hasattr(model, "booster_") and hasattr(model, "design_matrix")):
        raise TypeError(
            "caregiver_hours needs a fitted talentml model (booster_ and design_matrix) to "
            f"attribute the gap to features; got {type(model).__name__}"
        )
    if threshold is not None and top_fraction is not None:
        raise ValueError("give threshold or top_fraction, not both")
    if (X_train is None) != (y_train is None):
        raise ValueError("give both X_train and y_train (or neither)")
    sens_cols = list(sensitive.columns)
    check_purpose(X, sensitive_columns=sens_cols, model_features=model.feature_names_in_)
    if X_train is not None:
        check_purpose(X_train, sensitive_columns=sens_cols)
    present = [a for a in attributes if a in sens_cols]
    if not present:
        raise ValueError(
            f"sensitive has none of the attributes {list(attributes)}; its columns: {sens_cols}"
        )
    features = [str(c) for c in model.feature_names_in_]
    off = list(offhours) if offhours is not None else _offhours(features)
    unknown = [f for f in off if f not in features]
    if unknown:
        raise ValueError(f"offhours names features the model does not use: {unknown}")
    if not off:
        raise ValueError(
            "the model uses no off-hours or weekend feature (none flagged sensitive_proxy in "
            "the catalog, none named offhours_*/weekend_*/agility_offhours_*): nothing to check"
        )
    if naive is None:
        candidates = [c for c in X.columns if str(c).startswith("agility_offhours_")]
        order = {"30d": 0, "90d": 1, "365d": 2, "since_hire": 3}
        candidates.sort(key=lambda c: order.get(_window(c) or "", -1))
        naive = candidates[-1] if candidates else None
    if normalized is None and naive is not None:
        normalized = _normalized_for(naive, X.columns)
    for name, col in (("naive", naive), ("normalized", normalized)):
        if col is not None and col not in X.columns:
            raise ValueError(f"X has no {name} agility column {col!r}")
    return present, features, off, naive, normalized


def _offhours_attribution(original: BiasAudit, off: Sequence[str]) -> pd.DataFrame:
    """(b) The part of each group's margin gap carried by the off-hours features."""
    rows = []
    by_feature = original.gap_attribution
    for g in original.gaps.itertuples(index=False):
        sub = by_feature[
            (by_feature["attribute"] == g.attribute) & (by_feature["group"] == g.group)
        ]
        sub_off = sub[sub["feature"].isin(off)]
        off_gap = float(sub_off["contribution"].sum())
        top = (
            str(sub_off.loc[sub_off["contribution"].abs().idxmax(), "feature"])
            if len(sub_off)
            else None
        )
        rows.append(
            {
                "attribute": g.attribute,
                "group": g.group,
                "reference": g.reference,
                "n": g.n,
                "gap": g.gap,
                "offhours_gap": off_gap,
                "offhours_share": off_gap / g.gap if g.gap else np.nan,
                "top_offhours_feature": top,
            }
        )
    attribution = pd.DataFrame(
        rows,
        columns=[
            "attribute",
            "group",
            "reference",
            "n",
            "gap",
            "offhours_gap",
            "offhours_share",
            "top_offhours_feature",
        ],
    ).set_index(["attribute", "group"])
    return attribution


def _variant_scores(
    model: Any,
    X: pd.DataFrame,
    *,
    features: Sequence[str],
    off: Sequence[str],
    X_train: pd.DataFrame | None,
    y_train: Any,
    replacements: Mapping[str, str | None] | None,
) -> tuple[dict[str, np.ndarray], dict[str, str | None]]:
    """(c) The scores of each variant: original, neutralized, re-trained (with ``X_train``)."""
    scores = resolve_scores(model, X).values
    contribs, margin = contributions(model, model_frame(model, X))
    to_proba = _probability_map(margin, scores)
    neutral_margin = margin - contribs[off].to_numpy().sum(axis=1)
    variant_scores = {"original": scores, "neutralized": to_proba(neutral_margin)}
    swap: dict[str, str | None] = {}
    if X_train is not None:
        if replacements is None:
            for f in off:
                rep = _normalized_for(f, X.columns) if f.startswith("agility_offhours_") else None
                swap[f] = rep if rep is not None and rep in X_train.columns else None
        else:
            swap = {f: replacements.get(f) for f in off}
        new = [f for f in features if f not in off]
        for rep in swap.values():
            if rep is not None and rep not in new:
                new.append(rep)
        missing = [c for c in new if c not in X.columns or c not in X_train.columns]
        if missing:
            raise ValueError(
                f"the re-trained variant needs columns missing from X or X_train: {missing}"
            )
        ids = [c for c in ID_COLUMNS if c in X_train.columns]
        refit = clone(model).fit(X_train[ids + new], y_train)
        ids_x = [c for c in ID_COLUMNS if c in X.columns]
        variant_scores["normalized"] = resolve_scores(refit, X[ids_x + new]).values
    return variant_scores, swap


def _variants_table(
    variant_scores: Mapping[str, np.ndarray],
    audits: Mapping[str, BiasAudit],
    labels: np.ndarray | None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """(d) Impact ratios and AUC of every variant, with the change from the original."""
    var_rows = []
    aucs = {}
    for name, vals in variant_scores.items():
        aucs[name] = (
            _auc(labels[~np.isnan(labels)], None, score=vals[~np.isnan(labels)])
            if labels is not None
            else np.nan
        )
        table = audits[name].impact_ratios.reset_index()
        table = table[~table["excluded"]]
        for r in table.itertuples(index=False):
            var_rows.append(
                {
                    "variant": name,
                    "attribute": r.attribute,
                    "kind": r.kind,
                    "group": r.group,
                    "rate": r.rate,
                    "impact_ratio": r.impact_ratio,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "p_value": r.p_value,
                    "reference": r.reference,
                    "auc": aucs[name],
                }
            )
    variants = pd.DataFrame(
        var_rows,
        columns=[
            "variant",
            "attribute",
            "kind",
            "group",
            "rate",
            "impact_ratio",
            "ci_low",
            "ci_high",
            "p_value",
            "reference",
            "auc",
        ],
    )
    base = variants[variants["variant"] == "original"].set_index(["attribute", "kind", "group"])
    keyed = variants.set_index(["attribute", "kind", "group"])
    variants["delta_impact_ratio"] = (
        keyed["impact_ratio"] - base["impact_ratio"].reindex(keyed.index)
    ).to_numpy()
    variants["delta_auc"] = variants["auc"] - aucs["original"]
    variants = variants.set_index(["variant", "attribute", "kind", "group"])
    return variants, aucs


def _summary_table(
    variants: pd.DataFrame,
    measures: pd.DataFrame,
    attribution: pd.DataFrame,
    *,
    measure_cols: Mapping[str, str],
    variant_names: Iterable[str],
    aucs: Mapping[str, float],
    auc_ci: Mapping[str, tuple[float, float]],
    primary: str,
) -> pd.DataFrame:
    """One row per compared category: every measure's and variant's ratio, AUCs, share."""
    summary_rows = []
    compared = variants.xs(("original", primary), level=("variant", "kind"))
    for attr_name, group in compared.index:
        att = (attr_name, group)
        ref = compared.xs(attr_name, level="attribute")
        row: dict[str, Any] = {
            "attribute": attr_name,
            "group": group,
            "reference": str(ref.index[ref["reference"].to_numpy(dtype=bool)][0]),
        }
        for col, role in measure_cols.items():
            key = (col, attr_name, group)
            row[f"{role}_measure_impact_ratio"] = (
                float(measures.loc[key, "impact_ratio"]) if key in measures.index else np.nan
            )
        for name in variant_names:
            key = (name, attr_name, primary, group)
            ok = key in variants.index
            prefix = "model" if name == "original" else name
            row[f"{prefix}_impact_ratio"] = (
                float(variants.loc[key, "impact_ratio"]) if ok else np.nan
            )
            row[f"{prefix}_p_value"] = float(variants.loc[key, "p_value"]) if ok else np.nan
            same = variants.xs((name, attr_name, primary), level=("variant", "attribute", "kind"))
            row[f"{prefix}_min_impact_ratio"] = float(same["impact_ratio"].min())
            row[f"{prefix}_auc"] = aucs[name]
            if name != "original":
                row[f"{prefix}_auc_change"] = aucs[name] - aucs["original"]
                row[f"{prefix}_auc_change_ci_low"] = auc_ci.get(name, (np.nan, np.nan))[0]
                row[f"{prefix}_auc_change_ci_high"] = auc_ci.get(name, (np.nan, np.nan))[1]
        row["offhours_share"] = (
            float(attribution.loc[att, "offhours_share"]) if att in attribution.index else np.nan
        )
        summary_rows.append(row)
    summary = pd.DataFrame(summary_rows).set_index(["attribute", "group"])
    return summary


@renamed_parameters(top_k="top_fraction")
def caregiver_hours(
    model: Any,
    X: pd.DataFrame,
    y: Any = None,
    *,
    sensitive: pd.DataFrame,
    X_train: pd.DataFrame | None = None,
    y_train: Any = None,
    attributes: Sequence[str] = ("caregiver", "sex"),
    offhours: Sequence[str] | None = None,
    naive: str | None = None,
    normalized: str | None = None,
    replacements: Mapping[str, str | None] | None = None,
    threshold: float | None = None,
    top_fraction: float | None = None,
    alpha: float = 0.05,
    min_n: int = 30,
    exclude_below: float | None = 0.02,
    n_bootstrap: int = 1000,
    unknown_values: Iterable[str] = UNKNOWN_VALUES,
    random_state: RandomStateLike = 0,
    show_progress: bool | None = None,
    **audit_options: Any,
) -> CaregiverHours:
    """Check a model for the caregiver-hours effect, and re-score it without it.

    Parameters
    ----------
    model : fitted talentml model
        A model with ``booster_`` and ``design_matrix`` (TreeSHAP attribution), e.g. a
        :class:`~talentml.models.HighPotential` built on features that include off-hours
        learning.
    X : pandas.DataFrame
        The audited rows: the model's features (extra columns such as the normalized agility
        are fine), with ``employee_id`` to join ``sensitive``.
    y : array-like or pandas.DataFrame, optional
        Outcomes of the audited rows (for the AUCs and the error rates).
    sensitive : pandas.DataFrame
        The ``sensitive`` table (``caregiver``, ``sex``, ...).
    X_train, y_train : optional
        Training rows of the model: with them, a copy of the model (``sklearn.clone``) is
        re-trained with the off-hours features replaced by the opportunity-normalized agility.
    attributes : sequence of str, default ("caregiver", "sex")
        Sensitive columns to analyse (those present are used).
    offhours : sequence of str, optional
        The off-hours features; default: the model's features flagged ``sensitive_proxy`` in
        the feature catalog or named ``offhours_*``, ``weekend_*``, ``agility_offhours_*``.
    naive : str, optional
        The naive agility column of ``X`` to measure (default: the longest-window
        ``agility_offhours_*`` column).
    normalized : str, optional
        The opportunity-normalized agility column (default: ``agility_per_workday_<window>``,
        else ``agility_standard_<window>``).
    replacements : mapping, optional
        For the re-trained variant: off-hours feature -> the feature that replaces it (None:
        dropped). Default: each ``agility_offhours_<w>`` -> ``agility_per_workday_<w>``
        (or ``agility_standard_<w>``); other off-hours features dropped.
    threshold, top_fraction : float, optional
        A selection rule (as in :func:`audit`: ``top_fraction`` is the share of rows
        selected, in (0, 1]); scoring rates are always reported.
    alpha, min_n, exclude_below, n_bootstrap, unknown_values, random_state
        As in :func:`audit`.
    show_progress : bool, optional
        Progress bar over the steps.
    **audit_options
        Passed to :func:`audit` for the original model (e.g. ``purpose``, ``audit_date``).

    Returns
    -------
    CaregiverHours
        ``summary``, ``measures``, ``attribution``, ``variants``, ``audit``, ``to_json()``,
        ``to_html(path)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import HighPotential
    >>> from talentml.fairness import caregiver_hours
    >>> rng = np.random.default_rng(0)
    >>> n = 3000
    >>> care = rng.random(n) < 0.3
    >>> potential = rng.normal(size=n)
    >>> learning = np.exp(0.5 * potential) * rng.gamma(4, 1, n)
    >>> X = pd.DataFrame({"employee_id": [f"E{i}" for i in range(n)],
    ...                   "agility_offhours_365d": learning * np.where(care, 0.1, 0.4),
    ...                   "agility_per_workday_365d": learning / 250,
    ...                   "tenure_days": rng.uniform(100, 3000, n)})
    >>> y = (potential + rng.normal(size=n) > 1.2).astype(int)
    >>> feats = ["employee_id", "agility_offhours_365d", "tenure_days"]
    >>> model = HighPotential(n_estimators=40, random_state=0).fit(X[feats][:2000], y[:2000])
    >>> check = caregiver_hours(model, X[2000:], y[2000:], X_train=X[:2000], y_train=y[:2000],
    ...                         sensitive=pd.DataFrame({"employee_id": X["employee_id"],
    ...                                                 "caregiver": care}),
    ...                         n_bootstrap=0, show_progress=False)
    >>> row = check.summary.loc[("caregiver", "True")]
    >>> bool(row["model_impact_ratio"] < 0.8 and row["normalized_impact_ratio"] > 0.9)
    True
    >>> bool(row["offhours_share"] > 0.5)
    True
    """
    present, features, off, naive, normalized = _check_inputs(
        model,
        X,
        sensitive,
        attributes=attributes,
        offhours=offhours,
        naive=naive,
        normalized=normalized,
        threshold=threshold,
        top_fraction=top_fraction,
        X_train=X_train,
        y_train=y_train,
    )

    progress = _show_progress() if show_progress is None else bool(show_progress)
    steps = tqdm(total=4, desc="caregiver hours", unit="step", disable=not progress)
    attrs, _ = resolve_attributes(
        X, sensitive, attributes=present, intersections=None, unknown_values=unknown_values
    )
    clusters = None
    if "employee_id" in X.columns and X["employee_id"].duplicated().any():
        clusters = X["employee_id"].astype("object").to_numpy()
    measure_cols = {c: r for c, r in ((naive, "naive"), (normalized, "normalized")) if c}
    measures = _measure_table(
        X,
        measure_cols,
        attrs,
        clusters=clusters,
        min_n=min_n,
        exclude_below=exclude_below,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )
    steps.update()

    common = {
        "sensitive": sensitive,
        "threshold": threshold,
        "top_fraction": top_fraction,
        "attributes": present,
        "intersections": None,
        "alpha": alpha,
        "min_n": min_n,
        "exclude_below": exclude_below,
        "n_bootstrap": n_bootstrap,
        "unknown_values": unknown_values,
        "random_state": random_state,
        "show_progress": False,
    }
    original = audit(model, X, y, proxies=True, **common, **audit_options)
    steps.update()

    # (b) attribution of each gap to the off-hours features
    attribution = _offhours_attribution(original, off)

    # (c) variants: neutralized (no re-training) and re-trained with the normalized agility
    labels = label_values(y, X)
    variant_scores, swap = _variant_scores(
        model,
        X,
        features=features,
        off=off,
        X_train=X_train,
        y_train=y_train,
        replacements=replacements,
    )
    steps.update()

    audits: dict[str, BiasAudit] = {"original": original}
    for name, vals in variant_scores.items():
        if name == "original":
            continue
        audits[name] = audit(vals, X, y, proxies=False, **common)
    steps.update()
    steps.close()

    variants, aucs = _variants_table(variant_scores, audits, labels)
    auc_ci = _auc_change_intervals(
        labels,
        variant_scores,
        clusters=None
        if "employee_id" not in X.columns
        else X["employee_id"].to_numpy(dtype=object),
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )

    primary = "selection" if (threshold is not None or top_fraction is not None) else "scoring"
    summary = _summary_table(
        variants,
        measures,
        attribution,
        measure_cols=measure_cols,
        variant_names=list(variant_scores),
        aucs=aucs,
        auc_ci=auc_ci,
        primary=primary,
    )
    meta = {
        "naive_measure": naive,
        "normalized_measure": normalized,
        "offhours_features": off,
        "retrained_swap": swap or None,
        "primary_kind": primary,
        "threshold": threshold,
        "top_fraction": top_fraction,
        "alpha": alpha,
        "min_n": min_n,
        "exclude_below": exclude_below,
        "n_bootstrap": n_bootstrap,
        "random_state": random_state,
        "n_rows": int(len(X)),
        "n_train_rows": None if X_train is None else int(len(X_train)),
        "auc": aucs,
    }
    logger.info(
        "caregiver hours: %s",
        "; ".join(
            f"{k[0]}={k[1]}: model ratio {v['model_impact_ratio']:.3f}, off-hours share "
            f"{v['offhours_share']:.0%}"
            for k, v in summary.iterrows()
        ),
    )
    return CaregiverHours(
        summary=summary,
        measures=measures,
        attribution=attribution,
        variants=variants,
        audit=original,
        audits=audits,
        offhours_features=off,
        meta=meta,
    )
