"""A data-driven 9-box: performance from reviews x potential from the model and learning agility."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import PurposeLimitationError

__all__ = ["BANDS", "NINE_BOX_PERSONAS", "nine_box", "plot_nine_box"]

logger = logging.getLogger(__name__)

#: Band names, low to high, on both axes.
BANDS: tuple[str, str, str] = ("low", "moderate", "high")

#: Box number -> persona. Boxes count along performance first:
#: ``box = 3 * potential_band + performance_band + 1`` (bands 0, 1, 2 = low, moderate, high),
#: so box 1 is low/low, box 3 high performance / low potential, box 7 low performance / high
#: potential and box 9 high/high.
NINE_BOX_PERSONAS: Mapping[int, str] = MappingProxyType(
    {
        1: "Underperformer",
        2: "Effective Employee",
        3: "Solid Professional",
        4: "Inconsistent Player",
        5: "Core Player",
        6: "High Performer",
        7: "Miscast Talent",
        8: "Growth Employee",
        9: "High Potential",
    }
)

NO_PERFORMANCE = "no_performance"
NO_POTENTIAL = "no_potential"


def _column(X: pd.DataFrame | None, value: Any, what: str, index: pd.Index | None) -> pd.Series:
    if isinstance(value, str):
        if X is None:
            raise ValueError(f"{what}={value!r} names a column, but no X was given")
        if value not in X.columns:
            raise ValueError(
                f"X has no column {value!r} (the {what}); columns: {list(X.columns)[:8]}..."
            )
        series = X[value]
    elif isinstance(value, pd.Series):
        series = value
        if index is not None and not series.index.equals(index):
            raise ValueError(f"the {what} Series is not aligned with X (different index)")
    else:
        arr = np.asarray(value)
        if arr.ndim != 1:
            raise ValueError(f"the {what} must be 1-D, got shape {arr.shape}")
        if index is not None and len(arr) != len(index):
            raise ValueError(f"the {what} has {len(arr)} values but X has {len(index)} rows")
        series = pd.Series(arr, index=index if index is not None else pd.RangeIndex(len(arr)))
    try:
        return pd.to_numeric(series, errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the {what} must be numeric: {exc}") from exc


def _check_agility_name(name: str) -> None:
    from ..features import catalog

    cat = catalog()
    flagged = set(cat.loc[cat["sensitive_proxy"].astype(bool), "name"])
    if name in flagged or "offhours" in name:
        raise PurposeLimitationError(
            f"agility={name!r} is a sensitive proxy (off-hours learning penalizes caregivers); "
            "use the opportunity-normalized agility_standard_* features"
        )


def _bands(values: pd.Series, thresholds: tuple[float, float] | None, what: str) -> pd.Series:
    """Band index 0/1/2 (NaN where the value is missing)."""
    out = pd.Series(np.nan, index=values.index)
    ok = values.notna()
    if thresholds is None:
        pct = values[ok].rank(method="average", pct=True)
        out[ok] = np.where(pct <= 1 / 3, 0, np.where(pct <= 2 / 3, 1, 2))
        return out
    lo, hi = (float(t) for t in thresholds)
    if not lo < hi:
        raise ValueError(f"{what}_thresholds must be increasing (low, high), got {thresholds!r}")
    v = values[ok]
    out[ok] = np.where(v < lo, 0, np.where(v < hi, 1, 2))
    return out


def nine_box(
    X: pd.DataFrame | None = None,
    *,
    model: Any = None,
    performance: str | pd.Series | np.ndarray = "rating_latest",
    potential: pd.Series | np.ndarray | None = None,
    agility: str | pd.Series | np.ndarray | None = "agility_standard_365d",
    agility_weight: float = 0.5,
    performance_thresholds: tuple[float, float] | None = None,
    potential_thresholds: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Place people on the 9-box grid: performance from reviews x potential from data.

    *Performance* is a review outcome (default the ``rating_latest`` feature). *Potential*
    blends, by rank, the calibrated probability of :class:`HighPotential` (or any given
    probability) with learning agility (default the opportunity-normalized
    ``agility_standard_365d``; the off-hours variants are refused: they penalize people with
    less free time, such as caregivers)::

        potential_score = (1 - agility_weight) * rank%(probability) + agility_weight * rank%(agility)

    (the probability's rank alone where agility is missing). Each axis is cut into three bands:
    by tercile of rank (ties share a band) or at the given ``(low, high)`` thresholds
    (``value < low``: low; ``low <= value < high``: moderate; else high). Rows without a
    performance or a potential are kept, unplaced, with the reason in ``unplaced``.

    Parameters
    ----------
    X : pandas.DataFrame, optional
        Feature rows (e.g. ``talentml.features.build`` output). ``employee_id``/``as_of`` are
        passed through. Needed when a column is named or a model is given.
    model : HighPotential, optional
        A fitted classifier; its ``predict_proba(X)[:, 1]`` is the probability of potential.
    performance : str, pandas.Series or array-like, default "rating_latest"
        Column of ``X``, or values aligned with ``X``.
    potential : pandas.Series or array-like, optional
        Probabilities of potential (instead of ``model``).
    agility : str, pandas.Series, array-like or None, default "agility_standard_365d"
        Learning agility (column of ``X`` or values); None: potential is the probability alone.
        A named column absent from ``X`` is an error.
    agility_weight : float, default 0.5
        Weight of agility's rank in the potential score, in [0, 1].
    performance_thresholds : tuple of float, optional
        ``(low, high)`` cut points on the performance scale (e.g. ``(3, 4)`` on 1-5 ratings);
        default: terciles.
    potential_thresholds : tuple of float, optional
        ``(low, high)`` cut points on the potential score (in [0, 1]); default: terciles.

    Returns
    -------
    pandas.DataFrame
        Index aligned with ``X``: ``employee_id``/``as_of`` (when in ``X``), ``performance``,
        ``potential_probability``, ``agility``, ``potential_score``, ``performance_band`` and
        ``potential_band`` (ordered categoricals low < moderate < high), ``box`` (Int64, 1-9,
        see :data:`NINE_BOX_PERSONAS`), ``persona`` and ``unplaced`` (reason, or missing).

    See Also
    --------
    plot_nine_box : Draw the grid with the personas and counts.
    HighPotential : The model behind the potential axis.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.models import nine_box
    >>> X = pd.DataFrame({"employee_id": ["a", "b", "c"], "rating_latest": [5.0, 3.0, 1.0],
    ...                   "agility_standard_365d": [0.9, 0.5, 0.1]})
    >>> grid = nine_box(X, potential=[0.8, 0.5, 0.2])
    >>> grid[["employee_id", "box", "persona"]]
      employee_id  box         persona
    0           a    9  High Potential
    1           b    5     Core Player
    2           c    1  Underperformer
    """
    if not 0.0 <= float(agility_weight) <= 1.0:
        raise ValueError(f"agility_weight must be in [0, 1], got {agility_weight!r}")
    if X is not None and not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    index = X.index if X is not None else None
    perf = _column(X, performance, "performance", index)
    index = perf.index
    if potential is not None and model is not None:
        raise ValueError("give either potential or model, not both")
    if potential is None:
        if model is None:
            raise ValueError("give a fitted HighPotential as model, or the potential probabilities")
        if X is None:
            raise ValueError("model needs X to predict the potential")
        prob = pd.Series(model.predict_proba(X)[:, 1], index=index, dtype="float64")
    else:
        prob = _column(None, potential, "potential", index)
    if isinstance(agility, str):
        _check_agility_name(agility)
        agil = _column(X, agility, "agility", index)
    elif agility is None:
        agil = pd.Series(np.nan, index=index)
    else:
        agil = _column(None, agility, "agility", index)
    r_prob = prob.rank(method="average", pct=True)
    r_agil = agil.rank(method="average", pct=True)
    w = float(agility_weight) if agility is not None else 0.0
    score = (1.0 - w) * r_prob + w * r_agil
    score = score.where(r_agil.notna(), r_prob)
    n_no_agility = int((prob.notna() & agil.isna()).sum()) if agility is not None else 0
    perf_band = _bands(perf, performance_thresholds, "performance")
    pot_band = _bands(score, potential_thresholds, "potential")
    placed = perf_band.notna() & pot_band.notna()
    box = pd.array(
        np.where(placed, 3 * pot_band.fillna(0) + perf_band.fillna(0) + 1, 0).astype(int),
        dtype="Int64",
    )
    box[~placed.to_numpy()] = pd.NA
    band_type = pd.CategoricalDtype(list(BANDS), ordered=True)
    out = pd.DataFrame(index=index)
    if X is not None:
        for key in ("employee_id", "as_of"):
            if key in X.columns:
                out[key] = X[key]
    out["performance"] = perf
    out["potential_probability"] = prob
    out["agility"] = agil
    out["potential_score"] = score
    out["performance_band"] = pd.Categorical.from_codes(
        perf_band.fillna(-1).astype(int), dtype=band_type
    )
    out["potential_band"] = pd.Categorical.from_codes(
        pot_band.fillna(-1).astype(int), dtype=band_type
    )
    out["box"] = box
    out["persona"] = pd.array(
        [NINE_BOX_PERSONAS[int(b)] if b is not pd.NA else pd.NA for b in box], dtype="string"
    )
    reason = np.where(
        perf_band.isna(), NO_PERFORMANCE, np.where(pot_band.isna(), NO_POTENTIAL, None)
    )
    out["unplaced"] = pd.array(reason, dtype="string")
    n_unplaced = int((~placed).sum())
    logger.info(
        "nine_box: %d placed, %d unplaced (%s), %d with potential from the probability alone "
        "(no agility)",
        int(placed.sum()),
        n_unplaced,
        out["unplaced"].value_counts().to_dict(),
        n_no_agility,
    )
    return out


_COLORS = {
    1: "#f4cccc",
    2: "#fce5cd",
    3: "#fff2cc",
    4: "#fce5cd",
    5: "#fff2cc",
    6: "#d9ead3",
    7: "#fff2cc",
    8: "#d9ead3",
    9: "#b6d7a8",
}


def plot_nine_box(grid: pd.DataFrame | None = None, *, ax: Any = None, title: str | None = None):
    """Draw the 9-box grid with its personas (and counts when a :func:`nine_box` result is given).

    Performance runs left to right (low, moderate, high), potential bottom to top.

    Parameters
    ----------
    grid : pandas.DataFrame, optional
        Output of :func:`nine_box`; each box then shows its count and share of placed rows.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; default: a new figure (no pyplot state is touched).
    title : str, optional
        Axes title (default "9-box: performance x potential").

    Returns
    -------
    matplotlib.axes.Axes
        The axes.

    Examples
    --------
    >>> from talentml.models import plot_nine_box
    >>> ax = plot_nine_box()
    >>> ax.get_xlabel()
    'Performance (reviews)'
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    if ax is None:
        fig = Figure(figsize=(7.5, 6.5))
        ax = fig.add_subplot()
    counts: dict[int, int] = {}
    total = 0
    if grid is not None:
        if "box" not in grid.columns:
            raise ValueError("grid must be the output of nine_box (no 'box' column)")
        vc = grid["box"].dropna().astype(int).value_counts()
        counts = {int(k): int(v) for k, v in vc.items()}
        total = int(vc.sum())
    for box, persona in NINE_BOX_PERSONAS.items():
        perf, pot = (box - 1) % 3, (box - 1) // 3
        ax.add_patch(
            Rectangle((perf, pot), 1, 1, facecolor=_COLORS[box], edgecolor="#444444", lw=1.5)
        )
        ax.text(perf + 0.05, pot + 0.9, str(box), ha="left", va="top", fontsize=9, color="#555")
        ax.text(
            perf + 0.5, pot + 0.55, persona, ha="center", va="center", fontsize=10, weight="bold"
        )
        if grid is not None:
            n = counts.get(box, 0)
            share = n / total if total else 0.0
            ax.text(
                perf + 0.5, pot + 0.3, f"{n} ({share:.0%})", ha="center", va="center", fontsize=9
            )
    ax.set_xlim(0, 3)
    ax.set_ylim(0, 3)
    ax.set_xticks([0.5, 1.5, 2.5], [b.capitalize() for b in BANDS])
    ax.set_yticks([0.5, 1.5, 2.5], [b.capitalize() for b in BANDS])
    ax.set_xlabel("Performance (reviews)")
    ax.set_ylabel("Potential (model + learning agility)")
    ax.set_title(title or "9-box: performance x potential")
    ax.set_aspect("equal")
    return ax
