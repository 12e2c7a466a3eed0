"""Global views of an explanation: importance by feature and family, per-segment summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._business import BusinessFeatures

__all__ = ["BY", "importance_frame", "segment_frame"]

#: Levels of :meth:`Explanation.importance`.
BY = ("business", "feature", "family")


def importance_frame(
    values: np.ndarray, columns: list[str], business: BusinessFeatures, *, by: str
) -> pd.DataFrame:
    """Mean |SHAP| (and mean SHAP) per model column, business feature or family."""
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, got {by!r}")
    V = np.asarray(values, dtype=np.float64)
    info = business.info
    if by == "feature":
        names = list(columns)
        fam = info["family"].to_numpy(dtype=object)[business.member]
        M = V
    else:
        M = business.fold(V)
        names = list(business.names)
        fam = info["family"].to_numpy(dtype=object)
        if by == "family":
            families = list(dict.fromkeys(fam))
            idx = np.asarray([families.index(f) for f in fam])
            F = np.zeros((M.shape[0], len(families)))
            for j, i in enumerate(idx):
                F[:, i] += M[:, j]
            M, names, fam = F, families, np.asarray(families, dtype=object)
    mean_abs = np.abs(M).mean(axis=0) if len(M) else np.zeros(len(names))
    mean = M.mean(axis=0) if len(M) else np.zeros(len(names))
    total = mean_abs.sum()
    columns = {by if by != "business" else "feature": names}
    if by != "family":
        columns["family"] = fam
    out = pd.DataFrame(
        {
            **columns,
            "mean_abs_contribution": mean_abs,
            "mean_contribution": mean,
            "share": mean_abs / total if total > 0 else np.zeros(len(names)),
        }
    )
    out = out.sort_values("mean_abs_contribution", ascending=False, kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def segment_frame(
    G: np.ndarray,
    margin: np.ndarray,
    business: BusinessFeatures,
    labels: np.ndarray,
    *,
    name: str,
    k: int,
) -> pd.DataFrame:
    """Per segment: size, mean margin and the top business features by mean |SHAP|."""
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    G = np.asarray(G, dtype=np.float64)
    codes, uniques = pd.factorize(pd.Series(labels, dtype=object), sort=True)
    fam = business.info["family"].to_numpy(dtype=object)
    overall = G.mean(axis=0) if len(G) else np.zeros(G.shape[1])
    rows = []
    for i, seg in enumerate(uniques):
        sel = codes == i
        Gs = G[sel]
        mean_abs = np.abs(Gs).mean(axis=0)
        mean = Gs.mean(axis=0)
        order = np.argsort(-mean_abs, kind="stable")[: int(k)]
        for rank, j in enumerate(order, start=1):
            rows.append(
                {
                    name: seg,
                    "n": int(sel.sum()),
                    "mean_margin": float(margin[sel].mean()),
                    "rank": rank,
                    "feature": business.names[j],
                    "family": fam[j],
                    "mean_contribution": float(mean[j]),
                    "mean_abs_contribution": float(mean_abs[j]),
                    "vs_overall": float(mean[j] - overall[j]),
                }
            )
    if (codes < 0).any():
        # rows without a segment are summarized under a missing label
        sel = codes < 0
        Gs = G[sel]
        mean_abs = np.abs(Gs).mean(axis=0)
        mean = Gs.mean(axis=0)
        for rank, j in enumerate(np.argsort(-mean_abs, kind="stable")[: int(k)], start=1):
            rows.append(
                {
                    name: None,
                    "n": int(sel.sum()),
                    "mean_margin": float(margin[sel].mean()),
                    "rank": rank,
                    "feature": business.names[j],
                    "family": fam[j],
                    "mean_contribution": float(mean[j]),
                    "mean_abs_contribution": float(mean_abs[j]),
                    "vs_overall": float(mean[j] - overall[j]),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            name,
            "n",
            "mean_margin",
            "rank",
            "feature",
            "family",
            "mean_contribution",
            "mean_abs_contribution",
            "vs_overall",
        ],
    )
