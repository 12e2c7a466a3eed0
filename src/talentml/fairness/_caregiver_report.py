"""The HTML report of a caregiver-hours analysis (self-contained, plots as inline SVG)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._impact import FOUR_FIFTHS
from ._plots import COLORS
from ._report import audit_sections, audit_to_dict, esc, page, svg_of, table
from ._schema import SCHEMA_VERSION

__all__ = ["caregiver_to_html", "plot_variants"]


#: Columns of the summary table (column, label, format), as the reports show them.
SUMMARY_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("attribute", "attribute", None),
    ("group", "category", None),
    ("reference", "against", None),
    ("naive_measure_impact_ratio", "naive agility IR", ".3f"),
    ("normalized_measure_impact_ratio", "normalized agility IR", ".3f"),
    ("model_impact_ratio", "model IR", ".3f"),
    ("model_p_value", "model p", ".3g"),
    ("offhours_share", "gap share off-hours", ".0%"),
    ("neutralized_impact_ratio", "neutralized IR", ".3f"),
    ("normalized_impact_ratio", "re-trained IR", ".3f"),
    ("model_auc", "AUC model", ".4f"),
    ("neutralized_auc", "AUC neutralized", ".4f"),
    ("normalized_auc", "AUC re-trained", ".4f"),
)


def summary_columns(summary) -> list[tuple[str, str, str | None]]:
    """The :data:`SUMMARY_COLUMNS` present in ``summary`` (the identifiers always)."""
    return [c for c in SUMMARY_COLUMNS if c[2] is None or c[0] in summary.columns]


def plot_variants(
    result: Any, *, attribute: str = "caregiver", kind: str | None = None, ax: Any = None
) -> Any:
    """Impact ratio of each variant (with intervals) for one attribute, with the AUCs."""
    from ._plots import new_axes

    kind = kind or result.meta["primary_kind"]
    table_ = result.variants.reset_index()
    table_ = table_[(table_["attribute"] == attribute) & (table_["kind"] == kind)]
    if table_.empty:
        raise ValueError(f"no variant rows for {attribute!r}")
    ax = new_axes(ax, size=(7.0, 3.0))
    labels = []
    for i, r in enumerate(table_.itertuples(index=False)):
        y = len(table_) - 1 - i
        color = COLORS["high"] if r.impact_ratio < FOUR_FIFTHS else COLORS["ok"]
        if not (np.isnan(r.ci_low) or np.isnan(r.ci_high)):
            ax.plot([r.ci_low, r.ci_high], [y, y], color=color, lw=1.5)
        ax.plot([r.impact_ratio], [y], "o", color=color, ms=6)
        labels.append((y, f"{r.variant}: {r.group} (AUC {r.auc:.3f})"))
    ax.axvline(FOUR_FIFTHS, color=COLORS["high"], ls="--", lw=1)
    ax.axvline(1.0, color="#555555", lw=0.8)
    ax.set_yticks([y for y, _ in labels])
    ax.set_yticklabels([t for _, t in labels], fontsize=8)
    ax.set_xlabel(f"{kind}-rate impact ratio")
    ax.set_title(f"{attribute}: original model, neutralized, re-trained", fontsize=10)
    return ax


def caregiver_to_html(result: Any) -> str:
    """The HTML document of a :class:`~talentml.fairness.CaregiverHours`."""
    parts = [
        "<h1>Caregiver-hours analysis</h1>",
        f'<p class="note">Report schema {SCHEMA_VERSION}. Off-hours features: '
        f"{esc(', '.join(result.offhours_features))}. Naive agility: "
        f"{esc(result.meta['naive_measure'])}; opportunity-normalized agility: "
        f"{esc(result.meta['normalized_measure'])}.</p>",
        "<h2>Summary</h2>",
    ]
    summary = result.summary.reset_index()
    parts.append(table(summary, summary_columns(summary)))
    parts.append(
        f'<p class="note">IR: {esc(result.meta["primary_kind"])}-rate impact ratio against the '
        "reference category (scoring-rate IR for the agility measures). Neutralized: the "
        "off-hours features' TreeSHAP contributions removed from the margin (no re-training). "
        "Re-trained: the same model class and parameters, trained with the off-hours features "
        "replaced by the opportunity-normalized agility.</p>"
    )
    if "caregiver" in set(result.variants.index.get_level_values("attribute")):
        parts.append(
            svg_of(lambda ax: plot_variants(result, attribute="caregiver", ax=ax), (7.5, 3.0))
        )
    parts.append("<h2>(a) The gap in the agility measures</h2>")
    m = result.measures.reset_index()
    parts.append(
        table(
            m,
            [
                ("measure", "measure", None),
                ("role", "role", None),
                ("attribute", "attribute", None),
                ("group", "category", None),
                ("n", "n", "d"),
                ("mean", "mean", ".3f"),
                ("mean_ratio", "mean ratio", ".3f"),
                ("scoring_rate", "scoring rate", ".1%"),
                ("impact_ratio", "impact ratio", ".3f"),
                ("ci_low", "CI low", ".3f"),
                ("ci_high", "CI high", ".3f"),
                ("p_value", "p-value", ".3g"),
            ],
        )
    )
    parts.append("<h2>(b) What carries the model's gap</h2>")
    parts.append(
        table(
            result.attribution.reset_index(),
            [
                ("attribute", "attribute", None),
                ("group", "category", None),
                ("reference", "against", None),
                ("n", "n", "d"),
                ("gap", "margin gap", "+.4f"),
                ("offhours_gap", "carried by off-hours features", "+.4f"),
                ("offhours_share", "share", ".0%"),
                ("top_offhours_feature", "main off-hours feature", None),
            ],
        )
    )
    parts.append("<h2>(c, d) Variants</h2>")
    parts.append(
        table(
            result.variants.reset_index(),
            [
                ("variant", "variant", None),
                ("attribute", "attribute", None),
                ("kind", "kind", None),
                ("group", "category", None),
                ("rate", "rate", ".1%"),
                ("impact_ratio", "impact ratio", ".3f"),
                ("ci_low", "CI low", ".3f"),
                ("ci_high", "CI high", ".3f"),
                ("p_value", "p-value", ".3g"),
                ("auc", "AUC", ".4f"),
                ("delta_impact_ratio", "change in IR", "+.3f"),
                ("delta_auc", "change in AUC", "+.4f"),
            ],
        )
    )
    parts.append("<h2>Audit of the original model</h2>")
    parts.append(audit_sections(result.audit, audit_to_dict(result.audit), level=3))
    return page("Caregiver-hours analysis", "".join(parts))
