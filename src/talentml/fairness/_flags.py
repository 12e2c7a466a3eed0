"""The findings of a bias audit: one row per flag, most severe first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._groups import UNKNOWN, Attribute

__all__ = ["FLAG_COLUMNS", "SEVERITY_ORDER", "audit_flags"]

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
FLAG_COLUMNS = ("attribute", "group", "kind", "code", "severity", "message")


def _impact_flags(impact: pd.DataFrame, *, alpha: float, min_n: int) -> list[dict[str, Any]]:
    """Excluded and small categories, and ratios under four-fifths or significantly lower."""
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
    return rows


def _unknown_flags(attributes: Sequence[Attribute]) -> list[dict[str, Any]]:
    """One note per attribute with rows in the unknown category."""
    rows: list[dict[str, Any]] = []
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
    return rows


def _calibration_flags(
    by_group: pd.DataFrame, *, min_n: int, calibration_tolerance: float
) -> list[dict[str, Any]]:
    """Groups whose probabilities over- or understate their observed rate."""
    rows: list[dict[str, Any]] = []
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
    return rows


def _proxy_flags(proxies: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Model features that predict a protected attribute."""
    rows: list[dict[str, Any]] = []
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
    return rows


def _repeated_flags(repeated: int) -> list[dict[str, Any]]:
    """A note when employees appear in more than one audited row."""
    rows: list[dict[str, Any]] = []
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
    return rows


def audit_flags(
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
    """The flags of an audit (:attr:`BiasAudit.flags`), most severe first (stable order)."""
    rows = (
        _impact_flags(impact, alpha=alpha, min_n=min_n)
        + _unknown_flags(attributes)
        + _calibration_flags(by_group, min_n=min_n, calibration_tolerance=calibration_tolerance)
        + _proxy_flags(proxies)
        + _repeated_flags(repeated)
    )
    out = pd.DataFrame(rows, columns=list(FLAG_COLUMNS))
    if len(out):
        order = out["severity"].map(SEVERITY_ORDER)
        out = out.assign(_o=order).sort_values("_o", kind="mergesort").drop(columns="_o")
        out = out.reset_index(drop=True)
    return out
