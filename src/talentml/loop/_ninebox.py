"""A bias check of the 9-box's potential axis by group, with a plot.

A documented pattern of talent reviews is that women are placed *high performance / low
potential* more often than men with the same performance. :func:`potential_bias` measures,
among the high performers of a :func:`talentml.models.nine_box` grid, how each group is spread
over the potential bands, compares each group with a reference group (ratio and Fisher's exact
test) and tests the whole table (chi-square). The sensitive attributes are used here for the
audit only, never as model inputs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._tables import _require

__all__ = ["PotentialBias", "plot_potential_bias", "potential_bias"]

logger = logging.getLogger(__name__)

_BANDS = ("low", "moderate", "high")
_MISSING = "(missing)"


@dataclass(frozen=True)
class PotentialBias:
    """Result of :func:`potential_bias`.

    Attributes
    ----------
    attribute : str
        The sensitive attribute compared (e.g. ``"sex"``).
    reference : str
        The reference group.
    among : str
        The performance band analysed (``"high"`` by default).
    by_group : pandas.DataFrame
        One row per group: ``n_placed``, ``n`` (placed in the analysed performance band),
        ``low_potential``/``moderate_potential``/``high_potential`` (counts),
        ``share_low_potential``, ``share_high_potential``, ``mean_potential_score``,
        ``ratio_low_potential`` and ``ratio_high_potential`` (share / reference share),
        ``p_value`` (Fisher's exact test of low potential against the reference; missing for
        the reference and for groups smaller than ``min_group``) and ``flagged`` (placed low
        more often than the reference, significantly).
    personas : pandas.DataFrame
        Share of each persona by group (columns: groups; all placed rows).
    chi2, p_value : float
        Chi-square test of independence of group and potential band among the analysed rows
        (groups of at least ``min_group``).
    alpha : float
        Significance level.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import potential_bias
    >>> grid = pd.DataFrame({"employee_id": list("abcdefgh"),
    ...     "performance_band": ["high"] * 8,
    ...     "potential_band": ["low", "low", "low", "high", "high", "high", "low", "high"],
    ...     "potential_score": [0.1, 0.2, 0.1, 0.9, 0.8, 0.9, 0.2, 0.7],
    ...     "persona": ["Solid Professional"] * 3 + ["High Potential"] * 3 + ["Solid Professional", "High Potential"]})
    >>> sensitive = pd.DataFrame({"employee_id": list("abcdefgh"), "sex": ["female"] * 4 + ["male"] * 4})
    >>> result = potential_bias(grid, sensitive, reference="male", min_group=1)
    >>> result.by_group.loc["female", ["n", "share_low_potential", "ratio_low_potential"]].to_dict()
    {'n': 4.0, 'share_low_potential': 0.75, 'ratio_low_potential': 3.0}
    """

    attribute: str
    reference: str
    among: str
    by_group: pd.DataFrame
    personas: pd.DataFrame
    chi2: float
    p_value: float
    alpha: float

    @property
    def flagged(self) -> list[str]:
        """Groups placed at low potential significantly more often than the reference."""
        return [str(g) for g in self.by_group.index[self.by_group["flagged"].to_numpy(bool)]]

    def summary(self) -> str:
        """A plain-language summary of the check.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import potential_bias
        >>> grid = pd.DataFrame({"employee_id": ["a", "b"], "performance_band": ["high"] * 2,
        ...     "potential_band": ["low", "high"], "potential_score": [0.1, 0.9],
        ...     "persona": ["Solid Professional", "High Potential"]})
        >>> s = pd.DataFrame({"employee_id": ["a", "b"], "sex": ["female", "male"]})
        >>> potential_bias(grid, s, reference="male").summary().splitlines()[0]
        'Potential axis by sex among high performers (reference: male): no group flagged at alpha 0.05.'
        """
        head = (
            f"Potential axis by {self.attribute} among {self.among} performers "
            f"(reference: {self.reference}): "
        )
        if self.flagged:
            head += f"flagged {', '.join(self.flagged)} at alpha {self.alpha:g}."
        else:
            head += f"no group flagged at alpha {self.alpha:g}."
        lines = [head]
        for g, r in self.by_group.iterrows():
            lines.append(
                f"  {g}: n={int(r['n'])}, low potential {r['share_low_potential']:.0%}, "
                f"high potential {r['share_high_potential']:.0%}"
                + (
                    f", ratio to {self.reference} {r['ratio_low_potential']:.2f} (p={r['p_value']:.3g})"
                    if not pd.isna(r["p_value"])
                    else ""
                )
            )
        if not np.isnan(self.p_value):
            lines.append(f"  chi-square {self.chi2:.2f}, p={self.p_value:.3g}")
        return "\n".join(lines)


def potential_bias(
    grid: pd.DataFrame,
    sensitive: pd.DataFrame,
    *,
    attribute: str = "sex",
    reference: str | None = None,
    among: str = "high",
    alpha: float = 0.05,
    min_group: int = 20,
) -> PotentialBias:
    """Check the potential axis of a 9-box by group: who is placed *high performer / low potential*.

    Parameters
    ----------
    grid : pandas.DataFrame
        A :func:`talentml.models.nine_box` result at one ``as_of`` (``employee_id``,
        ``performance_band``, ``potential_band``, and ``potential_score``/``persona`` when
        available). Unplaced rows are left out (counted in the log).
    sensitive : pandas.DataFrame
        The ``sensitive`` table (``employee_id`` and ``attribute``); a missing value is its
        own group, ``"(missing)"``.
    attribute : str, default "sex"
        The column of ``sensitive`` to compare.
    reference : str, optional
        The reference group (default: the largest group among the analysed rows).
    among : {"high", "moderate", "low"}, default "high"
        The performance band whose potential placement is compared.
    alpha : float, default 0.05
        Significance level of the flags.
    min_group : int, default 20
        Groups with fewer analysed rows are reported without a test.

    Returns
    -------
    PotentialBias
        ``by_group``, ``personas``, the chi-square test and the ``flagged`` groups.

    See Also
    --------
    plot_potential_bias : The check as a stacked bar chart.
    talentml.models.nine_box : The grid.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import potential_bias
    >>> grid = pd.DataFrame({"employee_id": ["a", "b", "c", "d"],
    ...     "performance_band": ["high", "high", "high", "low"],
    ...     "potential_band": ["low", "high", "high", "low"]})
    >>> s = pd.DataFrame({"employee_id": ["a", "b", "c", "d"], "sex": ["female", "male", "male", "female"]})
    >>> potential_bias(grid, s).by_group["n"].to_dict()
    {'female': 1.0, 'male': 2.0}
    """
    _require(grid, ("employee_id", "performance_band", "potential_band"), "grid")
    _require(sensitive, ("employee_id", attribute), "sensitive")
    if among not in _BANDS:
        raise ValueError(f"among must be one of {_BANDS}, got {among!r}")
    if grid["employee_id"].duplicated().any():
        raise ValueError(
            "grid has several rows for some employees: pass the 9-box of a single as_of"
        )
    groups = sensitive.drop_duplicates("employee_id").set_index(
        sensitive.drop_duplicates("employee_id")["employee_id"].astype(str)
    )[attribute]
    g = grid["employee_id"].astype(str).map(groups)
    unknown = int((~grid["employee_id"].astype(str).isin(groups.index)).sum())
    if unknown:
        logger.warning(
            "potential_bias: %d grid row(s) have no row in the sensitive table; group '%s'",
            unknown,
            _MISSING,
        )
    group = g.astype("string").fillna(_MISSING)
    perf = grid["performance_band"].astype("string")
    pot = grid["potential_band"].astype("string")
    placed = perf.notna() & pot.notna()
    n_unplaced = int((~placed).sum())
    if n_unplaced:
        logger.info("potential_bias: %d unplaced row(s) left out", n_unplaced)
    rows = placed & (perf == among)
    score = (
        pd.to_numeric(grid["potential_score"], errors="coerce")
        if "potential_score" in grid.columns
        else pd.Series(np.nan, index=grid.index)
    )
    table = pd.crosstab(group[rows], pot[rows]).reindex(columns=list(_BANDS), fill_value=0)
    n_placed = group[placed].value_counts()
    table = table.reindex(sorted(set(group[placed]) | set(table.index)), fill_value=0)
    n = table.sum(axis=1)
    if reference is None:
        if n.sum() == 0:
            raise ValueError(f"no placed row in the {among!r} performance band")
        reference = str(n.idxmax())
    elif reference not in table.index:
        raise ValueError(
            f"reference group {reference!r} has no analysed row; groups: {table.index.tolist()}"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        share_low = table["low"] / n
        share_high = table["high"] / n
    by = pd.DataFrame(
        {
            "n_placed": n_placed.reindex(table.index).fillna(0).astype(float),
            "n": n.astype(float),
            "low_potential": table["low"].astype(float),
            "moderate_potential": table["moderate"].astype(float),
            "high_potential": table["high"].astype(float),
            "share_low_potential": share_low,
            "share_high_potential": share_high,
            "mean_potential_score": score[rows].groupby(group[rows]).mean().reindex(table.index),
        }
    )
    ref = by.loc[reference]
    with np.errstate(invalid="ignore", divide="ignore"):
        by["ratio_low_potential"] = by["share_low_potential"] / ref["share_low_potential"]
        by["ratio_high_potential"] = by["share_high_potential"] / ref["share_high_potential"]
    pvals = []
    for name, r in by.iterrows():
        if name == reference or r["n"] < min_group or ref["n"] < min_group:
            pvals.append(np.nan)
            continue
        a, b = int(r["low_potential"]), int(r["n"] - r["low_potential"])
        c, d = int(ref["low_potential"]), int(ref["n"] - ref["low_potential"])
        pvals.append(float(stats.fisher_exact([[a, b], [c, d]], alternative="two-sided").pvalue))
    by["p_value"] = pvals
    by["flagged"] = (by["p_value"] < alpha) & (by["ratio_low_potential"] > 1)
    by.index.name = attribute
    tested = table[n >= min_group]
    tested = tested.loc[:, tested.sum(axis=0) > 0]
    chi2, p = np.nan, np.nan
    if tested.shape[0] >= 2 and tested.shape[1] >= 2:
        res = stats.chi2_contingency(tested.to_numpy())
        chi2, p = float(res.statistic), float(res.pvalue)
    if "persona" in grid.columns:
        personas = pd.crosstab(
            grid.loc[placed, "persona"].astype("string"), group[placed], normalize="columns"
        )
    else:
        personas = pd.DataFrame()
    result = PotentialBias(
        attribute=attribute,
        reference=reference,
        among=among,
        by_group=by,
        personas=personas,
        chi2=chi2,
        p_value=p,
        alpha=float(alpha),
    )
    logger.info("potential_bias: %s", result.summary().splitlines()[0])
    return result


def plot_potential_bias(result: PotentialBias, *, ax: Any = None, title: str | None = None):
    """Stacked bars: how each group's high performers are spread over the potential bands.

    Parameters
    ----------
    result : PotentialBias
        The output of :func:`potential_bias`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure; no pyplot state is touched).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
        The axes.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import plot_potential_bias, potential_bias
    >>> grid = pd.DataFrame({"employee_id": ["a", "b"], "performance_band": ["high"] * 2,
    ...                      "potential_band": ["low", "high"]})
    >>> s = pd.DataFrame({"employee_id": ["a", "b"], "sex": ["female", "male"]})
    >>> ax = plot_potential_bias(potential_bias(grid, s))
    >>> ax.get_xlabel()
    'Share of high performers'
    """
    from matplotlib.figure import Figure

    if not isinstance(result, PotentialBias):
        raise TypeError(f"result must be a PotentialBias, got {type(result).__name__}")
    if ax is None:
        fig = Figure(figsize=(7.5, 0.6 * len(result.by_group) + 1.8))
        ax = fig.add_subplot()
    by = result.by_group
    colors = {"low": "#e06666", "moderate": "#ffd966", "high": "#93c47d"}
    y = np.arange(len(by))
    left = np.zeros(len(by))
    with np.errstate(invalid="ignore", divide="ignore"):
        for band in _BANDS:
            share = (by[f"{band}_potential"] / by["n"]).fillna(0.0).to_numpy(float)
            ax.barh(
                y,
                share,
                left=left,
                color=colors[band],
                edgecolor="white",
                label=f"{band} potential",
            )
            for yi, (l0, s) in enumerate(zip(left, share, strict=True)):
                if s >= 0.06:
                    ax.text(l0 + s / 2, yi, f"{s:.0%}", ha="center", va="center", fontsize=9)
            left += share
    labels = []
    for g, r in by.iterrows():
        mark = " *" if bool(r["flagged"]) else ""
        labels.append(f"{g} (n={int(r['n'])}){mark}")
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel(f"Share of {result.among} performers")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=9)
    ax.set_title(
        title
        or f"Potential placement by {result.attribute} (* flagged vs {result.reference}, "
        f"alpha {result.alpha:g})",
        pad=24,
    )
    return ax
