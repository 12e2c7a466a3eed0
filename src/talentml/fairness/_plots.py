"""Plots of bias audits (matplotlib; each returns its Axes) and their SVG embedding."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from ._impact import FOUR_FIFTHS

__all__ = ["figure_svg", "new_axes", "plot_gap_attribution", "plot_impact_ratios"]

COLORS = {"high": "#c0392b", "medium": "#e67e22", "ok": "#2e86c1", "reference": "#7f8c8d"}


def new_axes(ax: Any = None, *, size: tuple[float, float] = (7.0, 4.0)) -> Any:
    """The given Axes, or a new one on a pyplot figure."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax


def figure_axes(size: tuple[float, float]) -> tuple[Any, Any]:
    """A figure outside pyplot (no GUI, no global state) and its Axes, for reports."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def figure_svg(fig: Any) -> str:
    """The figure as an inline ``<svg>`` element (text kept as text, no date: reproducible)."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "talentml"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _forest_rows(table: pd.DataFrame) -> pd.DataFrame:
    t = table.reset_index()
    t = t[~t["excluded"] & t["impact_ratio"].notna()].copy()
    t["label"] = t["attribute"] + ": " + t["group"].astype(str)
    return t


def plot_impact_ratios(audit: Any, *, kind: str | None = None, ax: Any = None) -> Any:
    """Forest plot of impact ratios (bootstrap intervals), with the four-fifths line."""
    table = audit.impact_ratios
    kinds = table.index.get_level_values("kind").unique().tolist()
    if kind is None:
        kind = "selection" if "selection" in kinds else "scoring"
    if kind not in kinds:
        raise ValueError(f"the audit has no {kind!r} rates; it has {kinds}")
    rows = _forest_rows(table.xs(kind, level="kind", drop_level=False))
    ax = new_axes(ax, size=(7.0, max(2.5, 0.28 * len(rows) + 1.2)))
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows.itertuples(index=False), strict=True):
        if r.reference:
            color = COLORS["reference"]
        elif r.four_fifths and r.significant:
            color = COLORS["high"]
        elif r.four_fifths:
            color = COLORS["medium"]
        else:
            color = COLORS["ok"]
        if not (np.isnan(r.ci_low) or np.isnan(r.ci_high)):
            ax.plot([r.ci_low, r.ci_high], [yi, yi], color=color, lw=1.5)
        ax.plot([r.impact_ratio], [yi], "o", color=color, ms=5)
    ax.axvline(FOUR_FIFTHS, color=COLORS["high"], ls="--", lw=1, label="four-fifths (0.8)")
    ax.axvline(1.0, color="#555555", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(rows["label"].tolist(), fontsize=8)
    ax.set_xlabel("impact ratio (rate / highest rate)")
    ax.set_title(
        f"{kind.capitalize()}-rate impact ratios with 95% bootstrap intervals", fontsize=10
    )
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_gap_attribution(
    by_feature: pd.DataFrame,
    *,
    attribute: str,
    group: str,
    max_display: int = 10,
    highlight: set[str] | None = None,
    ax: Any = None,
) -> Any:
    """Horizontal bars: each feature's contribution to a group's score gap (margin units)."""
    sub = by_feature[(by_feature["attribute"] == attribute) & (by_feature["group"] == group)]
    if sub.empty:
        raise ValueError(f"no gap attribution for {attribute} = {group}")
    sub = sub.reindex(sub["contribution"].abs().sort_values(ascending=False).index).head(
        max_display
    )
    ax = new_axes(ax, size=(7.0, 0.3 * len(sub) + 1.2))
    y = np.arange(len(sub))[::-1]
    hl = highlight or set()
    colors = [COLORS["high"] if f in hl else COLORS["ok"] for f in sub["feature"]]
    ax.barh(y, sub["contribution"].to_numpy(), color=colors)
    ax.set_yticks(y)
    ax.set_yticklabels(sub["feature"].tolist(), fontsize=8)
    ax.axvline(0.0, color="#555555", lw=0.8)
    ref = sub["reference"].iloc[0]
    ax.set_xlabel(f"mean contribution, {group} minus {ref} (model margin)")
    ax.set_title(f"What carries the score gap of {attribute} = {group}", fontsize=10)
    return ax
