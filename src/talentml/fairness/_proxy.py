"""Proxy analysis: which features stand in for a protected attribute, and which carry the gap.

Two questions per feature and sensitive attribute:

* **Predictiveness.** How well does the feature alone tell a category from the others? The
  one-vs-rest ROC AUC of the feature's value (folded to ``max(AUC, 1 - AUC)``; 0.5 = no
  information), over every compared category; the best-separated category is named.
  Categorical features are target-encoded out of fold (by employee when ``employee_id`` is
  present) so that their AUC is not inflated by the encoding.
* **Gap carried.** How much of the difference in scores between a category and the reference
  category (the one with the highest rate) does the feature carry? The group-mean difference
  of its TreeSHAP contribution to the model margin. Contributions add up to the margin, so the
  shares of all features add up to 100% of the gap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .._validation import ID_COLUMNS, RandomStateLike, rng_from
from ._groups import UNKNOWN, UNKNOWN_VALUES, Attribute, check_purpose, resolve_attributes
from ._scores import contributions, model_frame

__all__ = [
    "PROXY_THRESHOLD",
    "feature_columns",
    "gap_attribution",
    "predictiveness",
    "proxy_analysis",
]

logger = logging.getLogger(__name__)

#: Folded AUC from which a feature is flagged as a proxy of a protected attribute.
PROXY_THRESHOLD = 0.7

MSG_NO_SENSITIVE = (
    "proxy_analysis needs the sensitive table: proxy_analysis(X, sensitive=sensitive, model=model)"
)

GAP_COLUMNS = ("attribute", "group", "reference", "feature", "contribution", "share")


def _is_categorical(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(s.dtype)
        or pd.api.types.is_string_dtype(s.dtype)
        or pd.api.types.is_bool_dtype(s.dtype)
    )


def feature_columns(X: pd.DataFrame, exclude: Iterable[str] = ()) -> list[str]:
    """The feature columns of ``X``: every column but identifiers, datetimes and timedeltas."""
    skip = set(ID_COLUMNS) | set(exclude)
    out = []
    for c in X.columns:
        if c in skip:
            continue
        dt = X[c].dtype
        if isinstance(dt, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dt):
            continue
        if pd.api.types.is_timedelta64_dtype(dt):
            continue
        out.append(str(c))
    return out


def _folds(n: int, clusters: np.ndarray | None, k: int, rng: np.random.Generator) -> np.ndarray:
    if clusters is None:
        return rng.permutation(n) % k
    codes, uniques = pd.factorize(pd.Series(clusters, dtype="object"))
    assign = rng.permutation(max(len(uniques), 1)) % k
    return np.where(codes >= 0, assign[np.maximum(codes, 0)], rng.integers(0, k, n))


def _auc_from_ranks(ranks: np.ndarray, member: np.ndarray) -> np.ndarray:
    """One-vs-rest AUC per column of ``ranks`` for the rows in ``member``."""
    n1 = int(member.sum())
    n0 = len(member) - n1
    return (ranks[member].sum(axis=0) - n1 * (n1 + 1) / 2.0) / (n1 * n0)


def predictiveness(
    X: pd.DataFrame,
    attributes: Sequence[Attribute],
    *,
    features: Sequence[str],
    compared: dict[str, list[str]],
    clusters: np.ndarray | None = None,
    n_folds: int = 5,
    random_state: RandomStateLike = 0,
) -> pd.DataFrame:
    """Folded one-vs-rest AUC of each feature for each attribute's compared categories."""
    rng = rng_from(random_state)
    rows = []
    numeric = [f for f in features if not _is_categorical(X[f])]
    categorical = [f for f in features if _is_categorical(X[f])]
    for attr in attributes:
        cats = compared.get(attr.name, [])
        known = attr.values != UNKNOWN
        labels = attr.values[known]
        m = int(known.sum())
        cats = [c for c in cats if 0 < int(np.sum(labels == c)) < m]
        if not cats:
            continue
        best = {f: (0.5, None, None) for f in features}
        if numeric:
            vals = X.loc[known, numeric].apply(pd.to_numeric, errors="coerce")
            arr = vals.to_numpy(dtype=np.float64)
            arr = np.where(np.isnan(arr), -np.inf, arr)
            ranks = rankdata(arr, axis=0)
            for c in cats:
                auc = _auc_from_ranks(ranks, labels == c)
                for j, f in enumerate(numeric):
                    folded = max(auc[j], 1.0 - auc[j])
                    if folded > best[f][0]:
                        best[f] = (float(folded), c, "higher" if auc[j] >= 0.5 else "lower")
        if categorical:
            cl = None if clusters is None else np.asarray(clusters, dtype=object)[known]
            fold = _folds(m, cl, n_folds, rng)
            for f in categorical:
                level = X.loc[known, f].astype("object").where(X.loc[known, f].notna(), "<missing>")
                level_codes, _ = pd.factorize(level.astype(str))
                for c in cats:
                    member = (labels == c).astype(float)
                    prior = member.mean()
                    enc = np.empty(m)
                    for k in range(n_folds):
                        test = fold == k
                        if not test.any():
                            continue
                        train = ~test
                        nl = np.bincount(level_codes[train], minlength=level_codes.max() + 1)
                        hl = np.bincount(
                            level_codes[train],
                            weights=member[train],
                            minlength=level_codes.max() + 1,
                        )
                        rate = (hl + 10.0 * prior) / (nl + 10.0)
                        enc[test] = rate[level_codes[test]]
                    auc = _auc_from_ranks(rankdata(enc)[:, None], labels == c)[0]
                    folded = max(auc, 1.0 - auc)
                    if folded > best[f][0]:
                        best[f] = (
                            float(folded),
                            c,
                            "more frequent" if auc >= 0.5 else "less frequent",
                        )
        for f in features:
            auc, group, direction = best[f]
            rows.append(
                {
                    "attribute": attr.name,
                    "feature": f,
                    "auc": auc,
                    "group": group,
                    "direction": direction,
                    "n": m,
                }
            )
    return pd.DataFrame(rows, columns=["attribute", "feature", "auc", "group", "direction", "n"])


def gap_attribution(
    contribs: pd.DataFrame,
    margin: np.ndarray,
    attributes: Sequence[Attribute],
    *,
    references: dict[str, str],
    compared: dict[str, list[str]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group-mean differences of the margin and of each feature's contribution.

    Returns ``(gaps, by_feature)``: one row per attribute and compared category with the
    margin gap to the reference category, and one row per feature with its contribution to
    that gap and its share of it.
    """
    gaps, parts = [], []
    values = contribs.to_numpy()
    names = list(contribs.columns)
    for attr in attributes:
        ref = references.get(attr.name)
        if ref is None:
            continue
        in_ref = attr.values == ref
        if not in_ref.any():
            continue
        ref_margin = float(margin[in_ref].mean())
        ref_phi = values[in_ref].mean(axis=0)
        for g in compared.get(attr.name, []):
            if g == ref:
                continue
            member = attr.values == g
            if not member.any():
                continue
            gap = float(margin[member].mean()) - ref_margin
            contrib = values[member].mean(axis=0) - ref_phi
            gaps.append(
                {
                    "attribute": attr.name,
                    "group": g,
                    "reference": ref,
                    "n": int(member.sum()),
                    "n_reference": int(in_ref.sum()),
                    "gap": gap,
                }
            )
            share = contrib / gap if gap != 0 else np.full(len(names), np.nan)
            parts.append(
                pd.DataFrame(
                    {
                        "attribute": attr.name,
                        "group": g,
                        "reference": ref,
                        "feature": names,
                        "contribution": contrib,
                        "share": share,
                    }
                )
            )
    gap_frame = pd.DataFrame(
        gaps, columns=["attribute", "group", "reference", "n", "n_reference", "gap"]
    )
    by_feature = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(GAP_COLUMNS))
    )
    return gap_frame, by_feature


def proxy_table(
    pred: pd.DataFrame,
    by_feature: pd.DataFrame | None,
    gaps: pd.DataFrame | None,
    *,
    model_features: Sequence[str] | None,
    threshold: float,
    favorable: str = "high",
) -> pd.DataFrame:
    """Join predictiveness with the gap each feature carries for the worst-off category."""
    out = pred.copy()
    try:
        from ..features import catalog

        flagged = dict(
            zip(catalog()["name"], catalog()["sensitive_proxy"].astype(bool), strict=True)
        )
    except Exception as exc:  # the catalog is optional context, never a reason to fail
        logger.info("feature catalog unavailable (%s)", exc)
        flagged = {}
    out["proxy"] = out["auc"] >= threshold
    out["catalog_proxy"] = out["feature"].map(lambda f: flagged.get(f)).astype("boolean")
    used = set(model_features) if model_features is not None else None
    out["used_by_model"] = (
        out["feature"].isin(used) if used is not None else pd.Series(pd.NA, index=out.index)
    ).astype("boolean")
    out["gap_group"] = pd.Series(None, index=out.index, dtype="object")
    out["gap_contribution"] = np.nan
    out["gap_share"] = np.nan
    if by_feature is not None and gaps is not None and not gaps.empty:
        sign = 1.0 if favorable == "high" else -1.0
        worst = (
            gaps.assign(_key=sign * gaps["gap"])
            .sort_values("_key", kind="mergesort")
            .drop_duplicates("attribute")
        )
        for row in worst.itertuples(index=False):
            sub = by_feature[
                (by_feature["attribute"] == row.attribute) & (by_feature["group"] == row.group)
            ]
            lookup = sub.set_index("feature")
            mask = (out["attribute"] == row.attribute).to_numpy()
            if not mask.any():
                continue
            feats = out.loc[mask, "feature"]
            out.loc[mask, "gap_group"] = row.group
            for column, source in (("gap_contribution", "contribution"), ("gap_share", "share")):
                values = feats.map(lookup[source]).to_numpy(dtype=float, na_value=np.nan)
                out.loc[mask, column] = values
    out = out.sort_values(["attribute", "auc"], ascending=[True, False], kind="mergesort")
    return out.set_index(["attribute", "feature"])


def proxy_analysis(
    X: pd.DataFrame,
    sensitive: pd.DataFrame | None = None,
    *,
    model: Any = None,
    attributes: Sequence[str] | None = None,
    features: Sequence[str] | None = None,
    threshold: float = PROXY_THRESHOLD,
    min_n: int = 30,
    unknown_values: Iterable[str] = UNKNOWN_VALUES,
    random_state: RandomStateLike = 0,
) -> pd.DataFrame:
    """For each feature and protected attribute: how well it predicts it, and the gap it carries.

    The preferred form names the sensitive table and the model, as :func:`audit` and
    :func:`mitigate` do: ``proxy_analysis(X, sensitive=sensitive, model=model)``. The
    positional form ``proxy_analysis(X, sensitive)`` keeps working.

    Parameters
    ----------
    X : pandas.DataFrame
        Feature frame (identifier and datetime columns are skipped). It must not hold a
        sensitive attribute.
    sensitive : pandas.DataFrame
        The ``sensitive`` table (joined on ``employee_id``) or a frame aligned with ``X`` by
        index (required; pass it by keyword).
    model : fitted talentml model, optional
        With ``booster_`` and ``design_matrix``: the gap each feature carries is computed from
        its TreeSHAP contributions, and only the model's features are analysed by default.
    attributes : sequence of str, optional
        Sensitive columns to analyse (default: all).
    features : sequence of str, optional
        Features to analyse (default: the model's features, else every feature column of X).
    threshold : float, default 0.7
        Folded AUC from which a feature is flagged as a proxy.
    min_n : int, default 30
        Categories with fewer rows are not compared (nor those under 2% of the rows).
    unknown_values : iterable of str
        Values read as an unknown category.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default 0
        Seed of the out-of-fold encoding of categorical features.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(attribute, feature)``: ``auc`` (folded one-vs-rest AUC), ``group``
        (the best-separated category), ``direction``, ``n``, ``proxy`` (``auc >=
        threshold``), ``catalog_proxy`` (the feature catalog's ``sensitive_proxy``),
        ``used_by_model``, and with a model ``gap_group`` (the category furthest below the
        reference), ``gap_contribution`` (margin units) and ``gap_share`` of that gap.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.fairness import proxy_analysis
    >>> rng = np.random.default_rng(0)
    >>> care = rng.random(600) < 0.3
    >>> X = pd.DataFrame({"offhours_share": np.where(care, 0.1, 0.35) + rng.normal(0, 0.05, 600),
    ...                   "tenure_days": rng.uniform(0, 3000, 600)})
    >>> table = proxy_analysis(X, sensitive=pd.DataFrame({"caregiver": care}))
    >>> table["auc"].round(2).to_dict()
    {('caregiver', 'offhours_share'): 1.0, ('caregiver', 'tenure_days'): 0.52}
    >>> bool(table.loc[("caregiver", "offhours_share"), "proxy"])
    True
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    if sensitive is None:
        raise TypeError(MSG_NO_SENSITIVE)
    check_purpose(
        X,
        sensitive_columns=list(getattr(sensitive, "columns", [])),
        model_features=getattr(model, "feature_names_in_", None),
    )
    attrs, _ = resolve_attributes(
        X, sensitive, attributes=attributes, intersections=None, unknown_values=unknown_values
    )
    if features is None:
        names = getattr(model, "feature_names_in_", None)
        features = [str(c) for c in names] if names is not None else feature_columns(X)
    missing = [f for f in features if f not in X.columns]
    if missing:
        raise ValueError(f"X has no feature column(s) {missing[:8]}")
    n = len(X)
    compared = {}
    for a in attrs:
        vals, counts = np.unique(a.values.astype(str), return_counts=True)
        compared[a.name] = [
            str(v)
            for v, c in zip(vals, counts, strict=True)
            if v != UNKNOWN and c >= min_n and c / n >= 0.02
        ]
    clusters = X["employee_id"].to_numpy(dtype=object) if "employee_id" in X.columns else None
    pred = predictiveness(
        X,
        attrs,
        features=list(features),
        compared=compared,
        clusters=clusters,
        random_state=random_state,
    )
    by_feature = gaps = None
    if model is not None:
        res = contributions(model, model_frame(model, X))
        if res is not None:
            contribs, margin = res
            refs = {}
            for a in attrs:
                cats = compared[a.name]
                if cats:
                    means = {c: float(margin[a.values == c].mean()) for c in cats}
                    refs[a.name] = max(means, key=means.get)
            gaps, by_feature = gap_attribution(
                contribs, margin, attrs, references=refs, compared=compared
            )
    return proxy_table(
        pred,
        by_feature,
        gaps,
        model_features=getattr(model, "feature_names_in_", None),
        threshold=threshold,
    )
