"""The outcome of :func:`talentml.loop.leading_indicators`: a table, or a named shortcut.

An outcome is one row per hire: ``employee_id``, the value and ``measured_at`` (when the
outcome was measured: it must come after the behaviour window closes). The shortcuts build
it from the organization's tables: ``"ramp_up"`` (days from hire to sustained productivity,
from :func:`talentml.labels.ramp_up`), ``"exit_1y"`` (left within a year of the hire date)
and ``"first_rating"`` (the first overall rating of a review period ending at least 180 days
after the hire date).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._tables import _require, _utc

if TYPE_CHECKING:
    from ._indicators_estimate import _Cell

__all__: list[str] = []

#: The outcome shortcuts of :func:`talentml.loop.leading_indicators`.
OUTCOMES = ("ramp_up", "exit_1y", "first_rating")


@dataclass(frozen=True)
class _OutcomeSpec:
    name: str
    scale: str  # "log", "binary" or "linear"
    higher_is_better: bool
    more: str = "higher"  # words for a positive effect
    less: str = "lower"


_SPECS = {
    "ramp_up": _OutcomeSpec("days to productivity", "log", False, "later", "sooner"),
    "exit_1y": _OutcomeSpec("leaving within a year", "binary", False),
    "first_rating": _OutcomeSpec("first rating after six months", "linear", True),
}


def _ramp_up(employees, productivity) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    from ..labels import ramp_up

    if productivity is None:
        raise ValueError("outcome='ramp_up' needs productivity= (the productivity table)")
    r = ramp_up(employees, productivity)
    excluded = [
        (e, "right-censored: not productive yet") for e in r.loc[~r["observed"], "employee_id"]
    ]
    r = r[r["observed"]]
    mid = (r["lower_days"] + r["upper_days"]) / 2
    out = pd.DataFrame(
        {
            "employee_id": r["employee_id"].astype(str).to_numpy(),
            "value": np.maximum(mid.to_numpy(float), 1.0),
            "measured_at": (r["hire_date"] + pd.to_timedelta(r["upper_days"], unit="D")).to_numpy(),
        }
    )
    return out, excluded


def _exit_1y(employees, observed_until) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    if observed_until is None:
        raise ValueError(
            "outcome='exit_1y' needs observed_until= (the date up to which exits are known)"
        )
    until = pd.Timestamp(observed_until)
    until = until.tz_localize("UTC") if until.tzinfo is None else until.tz_convert("UTC")
    _require(employees, ("employee_id", "hire_date", "termination_date"), "employees")
    hire = _utc(employees["hire_date"], "employees", "hire_date")
    term = pd.to_datetime(employees["termination_date"], utc=True)
    year = hire + pd.Timedelta(days=365)
    known = (year <= until).to_numpy(bool)
    ids = employees["employee_id"].astype(str).to_numpy()
    excluded = [(e, "hired less than a year before observed_until") for e in ids[~known]]
    left = (term < year).fillna(False).to_numpy(bool)
    out = pd.DataFrame(
        {
            "employee_id": ids[known],
            "value": left[known].astype(float),
            "measured_at": year[known].to_numpy(),
        }
    )
    return out, excluded


def _first_rating(employees, reviews) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    if reviews is None:
        raise ValueError("outcome='first_rating' needs reviews= (the reviews table)")
    _require(reviews, ("employee_id", "period_end", "submitted_at", "overall_rating"), "reviews")
    hire = pd.Series(
        _utc(employees["hire_date"], "employees", "hire_date").to_numpy(),
        index=employees["employee_id"].astype(str).to_numpy(),
    )
    rv = reviews.dropna(subset=["overall_rating"]).assign(
        employee_id=reviews["employee_id"].astype(str)
    )
    h = rv["employee_id"].map(hire)
    end = _utc(rv["period_end"], "reviews", "period_end")
    rv = rv[(end >= h + pd.Timedelta(days=180)).fillna(False).to_numpy(bool)]
    first = rv.sort_values(["employee_id", "period_end"]).drop_duplicates("employee_id")
    out = pd.DataFrame(
        {
            "employee_id": first["employee_id"].to_numpy(),
            "value": first["overall_rating"].astype(float).to_numpy(),
            "measured_at": _utc(first["submitted_at"], "reviews", "submitted_at").to_numpy(),
        }
    )
    return out, []


def _outcome_table(
    outcome,
    *,
    employees: pd.DataFrame,
    productivity: pd.DataFrame | None,
    reviews: pd.DataFrame | None,
    observed_until,
    value_column: str,
    outcome_name: str | None,
    scale: str,
    higher_is_better: bool | None,
) -> tuple[pd.DataFrame, _OutcomeSpec, list[tuple[str, str]]]:
    """``employee_id``, ``value``, ``measured_at`` (UTC), the outcome's spec, exclusions."""
    if isinstance(outcome, str):
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be a table or one of {list(OUTCOMES)}, got {outcome!r}")
        if outcome == "ramp_up":
            table, excluded = _ramp_up(employees, productivity)
        elif outcome == "exit_1y":
            table, excluded = _exit_1y(employees, observed_until)
        else:
            table, excluded = _first_rating(employees, reviews)
        spec = _SPECS[outcome]
    elif isinstance(outcome, pd.DataFrame):
        _require(outcome, ("employee_id", value_column, "measured_at"), "outcome")
        table = pd.DataFrame(
            {
                "employee_id": outcome["employee_id"].astype(str).to_numpy(),
                "value": pd.to_numeric(outcome[value_column], errors="raise")
                .astype(float)
                .to_numpy(),
                "measured_at": _utc(outcome["measured_at"], "outcome", "measured_at").to_numpy(),
            }
        )
        v = table["value"].dropna()
        if scale == "auto":
            scale = "binary" if v.isin([0.0, 1.0]).all() else "linear"
        spec = _OutcomeSpec(
            outcome_name or value_column,
            scale,
            True if higher_is_better is None else bool(higher_is_better),
        )
        excluded = []
    else:
        raise TypeError(f"outcome must be a DataFrame or a string, got {type(outcome).__name__}")
    if isinstance(outcome, str) and (
        outcome_name or scale != "auto" or higher_is_better is not None
    ):
        spec = _OutcomeSpec(
            outcome_name or spec.name,
            spec.scale if scale == "auto" else scale,
            spec.higher_is_better if higher_is_better is None else bool(higher_is_better),
            spec.more,
            spec.less,
        )
    if spec.scale not in ("log", "binary", "linear"):
        raise ValueError(f"scale must be 'auto', 'log', 'binary' or 'linear', got {spec.scale!r}")
    dup = table["employee_id"][table["employee_id"].duplicated()]
    if len(dup):
        raise ValueError(
            f"table 'outcome': column 'employee_id' must be unique; {len(dup)} repeated, e.g. "
            f"{dup.head(5).tolist()}"
        )
    missing = table["value"].isna()
    excluded += [(e, "outcome missing") for e in table.loc[missing, "employee_id"]]
    table = table[~missing]
    if spec.scale == "log" and (table["value"] <= 0).any():
        bad = table.loc[table["value"] <= 0, "employee_id"].head(5).tolist()
        raise ValueError(
            f"table 'outcome': scale 'log' needs positive values; {int((table['value'] <= 0).sum())} "
            f"rows are not, e.g. employee_id {bad}"
        )
    table["measured_at"] = pd.to_datetime(table["measured_at"], utc=True)
    return table.reset_index(drop=True), spec, excluded


def _percent(v: float) -> str:
    return f"{abs(v) * 100:.0f}%"


def _sentence(spec: _OutcomeSpec, cell: _Cell, est, lo, hi, q, confidence, alpha) -> tuple:
    """(effect, effect_low, effect_high, sentence) on the reported scale."""
    if spec.scale == "log":
        eff, elo, ehi = np.expm1(est), np.expm1(lo), np.expm1(hi)
    else:
        eff, elo, ehi = est, lo, hi

    def word(v: float) -> str:
        return spec.more if v > 0 else spec.less

    if spec.scale == "log":
        size = _percent(eff)
        if spec.more == "later":
            what = f"reached productivity {size} {word(eff)}"
        else:
            what = f"had {size} {word(eff)} {spec.name}"
        if elo * ehi > 0:
            ci = f"{_percent(min(abs(elo), abs(ehi)))}-{_percent(max(abs(elo), abs(ehi)))}"
        else:
            ci = f"{_percent(elo)} {word(elo)} to {_percent(ehi)} {word(ehi)}"
    elif spec.scale == "binary":
        what = f"were {abs(eff) * 100:.1f} percentage points {'more' if eff > 0 else 'less'} likely {spec.name}"
        ci = f"{elo * 100:+.1f} to {ehi * 100:+.1f} points"
    else:
        what = f"had a {spec.name} {abs(eff):.2f} {word(eff)}"
        ci = f"{elo:+.2f} to {ehi:+.2f}"
    desc = cell.description.format(t=f"{cell.threshold:g}")
    q_text = f"q = {q:.3f}" if q >= 0.001 else "q < 0.001"
    sentence = (
        f"Hires who {desc} in their first {cell.days} days {what} "
        f"({confidence:.0%} CI {ci}), {q_text}" + ("" if q <= alpha else " (not significant)") + "."
    )
    return eff, elo, ehi, sentence
