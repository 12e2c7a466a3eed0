"""Plots of explanations (matplotlib; every function returns its Axes).

The shap plots work on :meth:`Explanation.to_shap` directly (``shap.plots.beeswarm``,
``waterfall``, ``bar``, ``scatter`` for dependence); these add the business views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import renamed_parameters

if TYPE_CHECKING:  # pragma: no cover
    from ._shap import Explanation

__all__ = ["plot_importance", "plot_reasons", "plot_segments"]

FAMILY_COLORS = {
    "learning": "#3b6fb6",
    "learning_baseline": "#6f9fd8",
    "reviews": "#d08c2b",
    "hris": "#5b9e5b",
    "other": "#8a8a8a",
}


def _axes(ax: Any, size: tuple[float, float]):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax


@renamed_parameters(top="max_display")
def plot_importance(
    explanation: Explanation, *, by: str = "business", max_display: int = 15, ax: Any = None
):
    """Bar chart of the global importance (mean |SHAP|), colored by feature family.

    Parameters
    ----------
    explanation : Explanation
        From :func:`talentml.explain.explain`.
    by : {"business", "feature", "family"}, default "business"
        What the bars are (see :meth:`Explanation.importance`).
    max_display : int, default 15
        Largest bars shown.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.explain import explain, plot_importance
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 300),
    ...                   "tenure_days": rng.uniform(30, 3000, 300)})
    >>> y = (rng.random(300) < X.iloc[:, 0] / 150).astype(int)
    >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, y)
    >>> ax = plot_importance(explain(model, X))
    >>> ax.get_xlabel()
    'mean |SHAP| (log-odds)'
    """
    imp = explanation.importance(by=by).head(int(max_display))
    name = "family" if by == "family" else ("feature" if by == "business" else by)
    ax = _axes(ax, (7, 0.35 * len(imp) + 1.2))
    fam = imp[name] if by == "family" else imp["family"]
    colors = [FAMILY_COLORS.get(str(f), FAMILY_COLORS["other"]) for f in fam]
    ax.barh(np.arange(len(imp))[::-1], imp["mean_abs_contribution"], color=colors)
    ax.set_yticks(np.arange(len(imp))[::-1])
    ax.set_yticklabels([str(v) for v in imp[name]])
    ax.set_xlabel(f"mean |SHAP| ({explanation.margin_kind})")
    if by != "family":
        from matplotlib.patches import Patch

        seen = list(dict.fromkeys(str(f) for f in fam))
        ax.legend(
            handles=[Patch(color=FAMILY_COLORS.get(f, "#8a8a8a"), label=f) for f in seen],
            loc="lower right",
            frameon=False,
        )
    ax.set_title(f"What drives the score ({len(explanation):,} rows)")
    return ax


def plot_reasons(explanation: Explanation, row: int = 0, *, k: int = 4, ax: Any = None):
    """The top reasons of one row as a bar chart of contributions, labeled with their texts.

    Parameters
    ----------
    explanation : Explanation
        From :func:`talentml.explain.explain`.
    row : int, default 0
        Position of the row in the explanation.
    k : int, default 4
        Reasons per direction.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.explain import explain, plot_reasons
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 300),
    ...                   "tenure_days": rng.uniform(30, 3000, 300)})
    >>> y = (rng.random(300) < X.iloc[:, 0] / 150).astype(int)
    >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, y)
    >>> ax = plot_reasons(explain(model, X, peers="all"), row=3)
    >>> len(ax.patches) >= 1
    True
    """
    from ._shap import Explanation as _Explanation

    if not isinstance(explanation, _Explanation):
        raise TypeError("plot_reasons needs an Explanation from talentml.explain.explain")
    n = len(explanation)
    if not 0 <= row < n:
        raise IndexError(f"row {row} is out of range for {n} rows")
    reasons = explanation.top_reasons(k)
    ids = explanation.ids
    if ids.shape[1]:
        key = ids.iloc[row]
        mask = np.ones(len(reasons), dtype=bool)
        for col in ids.columns:
            mask &= (reasons[col] == key[col]).to_numpy(dtype=bool)
    else:
        mask = (reasons["row"] == explanation.index[row]).to_numpy()
    rs = reasons[mask].sort_values("contribution")
    ax = _axes(ax, (9, 0.45 * max(len(rs), 1) + 1.5))
    colors = ["#c0392b" if c > 0 else "#2e86c1" for c in rs["contribution"]]
    ax.barh(np.arange(len(rs)), rs["contribution"], color=colors)
    ax.set_yticks(np.arange(len(rs)))
    ax.set_yticklabels(
        [f"{t}\n[{c}]" for t, c in zip(rs["text"], rs["code"], strict=True)], fontsize=8
    )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"contribution to the margin ({explanation.margin_kind})")
    margin = float(explanation.margin.iloc[row])
    ax.set_title(
        f"Why this score? margin {margin:+.2f}, base {explanation.base_values.iloc[0]:+.2f}"
    )
    return ax


@renamed_parameters(top="max_display")
def plot_segments(explanation: Explanation, by: Any, *, max_display: int = 8, ax: Any = None):
    """Heat map of the mean contribution of the top business features in each segment.

    Parameters
    ----------
    explanation : Explanation
        From :func:`talentml.explain.explain`.
    by : str or array-like
        A column of ``X`` (``"department"``, ``"job_level"``) or one label per row.
    max_display : int, default 8
        Business features shown (largest mean |SHAP| overall).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        The plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.explain import explain, plot_segments
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 300),
    ...                   "department": rng.choice(["Sales", "Data"], 300)})
    >>> y = (rng.random(300) < X.iloc[:, 0] / 150).astype(int)
    >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, y)
    >>> ax = plot_segments(explain(model, X), "department")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Data', 'Sales']
    """
    names = explanation.importance(by="business")["feature"].head(int(max_display)).tolist()
    seg = explanation.segments(by, k=len(explanation.business))
    label = seg.columns[0]
    table = seg[seg["feature"].isin(names)].pivot_table(
        index=label, columns="feature", values="mean_contribution", dropna=False
    )[names]
    ax = _axes(ax, (1.0 * len(names) + 3, 0.4 * len(table) + 2))
    lim = float(np.nanmax(np.abs(table.to_numpy()))) if table.size else 1.0
    image = ax.imshow(table.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(np.arange(len(names)))
    ax.set_xticklabels(names, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(np.arange(len(table)))
    ax.set_yticklabels([str(v) for v in table.index])
    ax.figure.colorbar(image, ax=ax, label=f"mean contribution ({explanation.margin_kind})")
    ax.set_title(f"Drivers by {label}")
    return ax
