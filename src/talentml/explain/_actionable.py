"""Which columns recourse may change, how, and why the others may not.

A column is a candidate when its description (the feature catalog, or
:func:`~talentml.explain.describe_columns`) says it is ``actionable`` with a good
``direction``, it is not a ``sensitive_proxy``, it is not measured over a fixed window that
has closed (``window`` "first 30 days after hire"), the model is not monotone in it the
wrong way, and the reference population gives it a range to move in. A categorical column
moves between its levels in order (``levels`` of its description, lowest first, or the
order of an ordered categorical; booleans go False < True). Every other column gets the
reason it is left out, so that ``recourse`` can say why nothing is actionable.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ._business import value_spec

__all__ = ["CANDIDATE_COLUMNS", "MSG_NOT_ALLOWED", "MSG_NOTHING_ACTIONABLE", "candidates"]

#: Units of counts that add up over nested windows.
ADDITIVE_UNITS = {"statements", "completions", "minutes", "skills", "skill levels"}
_WINDOW = re.compile(r"^(?P<stem>.+)_(?P<days>\d+)d$")

#: How to make a column actionable (the end of both messages below).
FIX = (
    "Describe the columns people can act on, e.g. feature_catalog=describe_columns({{"
    "'TrainingTimesLastYear': {{'actionable': True, 'direction': 'higher_is_better'}}, "
    "'OverTime': {{'actionable': True, 'direction': 'lower_is_better', 'levels': ['No', "
    "'Yes']}}}}, feature_catalog=tml.features.catalog()) (or pass that mapping as feature_catalog=)."
)
MSG_NOTHING_ACTIONABLE = (
    "recourse: none of the model's {n} column(s) can be changed: {reasons}. Recourse only "
    "moves columns described as actionable with a good direction, never a sensitive proxy. " + FIX
)
MSG_NOT_ALLOWED = (
    "recourse may only change actionable, non-proxy features of the model (numbers, or "
    "categories with ordered levels); not allowed: {details}. " + FIX
)

#: Why a column is not a candidate (``Recourse.excluded["reason"]``).
REASONS = {
    "proxy": "a sensitive proxy",
    "not_actionable": "not described as actionable",
    "no_direction": "actionable but without a good direction",
    "closed_window": "measured over a window that has closed",
    "no_order": "a category without ordered levels (give levels=[...], lowest first)",
    "monotone": "the model is monotone in it the wrong way for its good direction",
    "no_range": "no range to move in (constant or missing in the reference)",
}

#: Columns of ``Recourse.candidates``.
CANDIDATE_COLUMNS = [
    "feature",
    "direction",
    "low",
    "high",
    "levels",
    "monotone",
    "linked",
    "link_mode",
]


def linked_windows(name: str, unit: str, columns: set[str]) -> tuple[list[str], str]:
    """Longer-window columns of the same count (and how they move: add or nest)."""
    m = _WINDOW.match(name)
    if not m:
        return [], ""
    stem, days = m["stem"], int(m["days"])
    longer = []
    for col in columns:
        mm = _WINDOW.match(col)
        if mm and mm["stem"] == stem and int(mm["days"]) > days:
            longer.append((int(mm["days"]), col))
    out = [c for _, c in sorted(longer)]
    if f"{stem}_since_hire" in columns:
        out.append(f"{stem}_since_hire")
    mode = "add" if unit in ADDITIVE_UNITS else "nest"
    return out, mode


def _levels(entry: dict[str, Any], col: str, model_levels: list, reference: pd.DataFrame):
    """The ordered levels (strings the model knows, lowest first), or None."""
    known = [str(v) for v in model_levels or []]
    if entry.get("levels"):
        order = [str(v) for v in entry["levels"] if str(v) in known]
    elif set(known) == {"False", "True"}:
        order = ["False", "True"]
    else:
        dtype = reference[col].dtype if col in reference.columns else None
        if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
            order = [str(v) for v in dtype.categories if str(v) in known]
        else:
            return None
    return order if len(order) >= 2 else None


def candidates(
    view: Any,
    coder: Any,
    reference: pd.DataFrame,
    columns: set[str],
    *,
    goal: str,
    bounds: tuple[float, float],
    n_grid: int,
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """(candidate records, excluded columns with their reason) for ``recourse``."""
    lo_q, hi_q = bounds
    sign_goal = -1 if goal == "below" else 1
    records, excluded = [], []
    for col in view.feature_names:
        entry = coder.business_.column_records[col]
        categorical = col in view.categories

        def skip(reason: str, col: str = col) -> None:
            excluded.append({"feature": col, "reason": REASONS[reason], "code": reason})

        if entry["sensitive_proxy"]:
            skip("proxy")
            continue
        if not entry["actionable"]:
            skip("not_actionable")
            continue
        if entry["direction"] not in ("higher_is_better", "lower_is_better"):
            skip("no_direction")
            continue
        # a fixed early window ("first 30 days after hire") has closed: the past cannot move
        if str(entry.get("window") or "").startswith("first "):
            skip("closed_window")
            continue
        good = 1 if entry["direction"] == "higher_is_better" else -1
        mono = int(view.monotone.get(col, 0))
        if mono and mono * good != sign_goal:
            skip("monotone")
            continue
        spec = value_spec(entry["template"])
        record = {
            "feature": col,
            "direction": "increase" if good > 0 else "decrease",
            "monotone": mono,
            "good": good,
            "template": entry["template"],
            "fallback": bool(entry["fallback"]),
            "label": entry["label"] or entry["subject"],
            "spec": spec,
            "flag": col in set(coder.flags_),
        }
        if categorical:
            order = _levels(entry, col, view.categories.get(col), reference)
            if order is None:
                skip("no_order")
                continue
            record.update(
                {
                    "low": np.nan,
                    "high": np.nan,
                    "levels": order,
                    "grid": np.arange(len(order), dtype=np.float64),
                    "integer": True,
                    "span": float(len(order) - 1),
                    "linked": [],
                    "link_mode": "",
                }
            )
            records.append(record)
            continue
        ref = pd.to_numeric(reference[col], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        ref = ref[np.isfinite(ref)]
        if len(ref) == 0:
            skip("no_range")
            continue
        lo, hi = np.quantile(ref, [lo_q, hi_q])
        if hi <= lo:
            skip("no_range")
            continue
        grid = np.unique(np.quantile(ref, np.linspace(lo_q, hi_q, int(n_grid) + 1)))
        dtype = str(entry.get("dtype") or "")
        integer = dtype == "int64" or (not dtype and bool(np.all(ref == np.round(ref))))
        if integer:
            grid = np.unique(np.round(grid))
        linked, mode = linked_windows(col, str(entry["unit"]), columns)
        record.update(
            {
                "low": float(lo),
                "high": float(hi),
                "levels": None,
                "grid": grid,
                "integer": integer,
                "span": max(float(hi - lo), 1e-12),
                "linked": linked,
                "link_mode": mode,
            }
        )
        records.append(record)
    return records, pd.DataFrame(excluded, columns=["feature", "reason", "code"])


def summarize(excluded: pd.DataFrame, limit: int = 4) -> str:
    """ "24 not described as actionable (e.g. ['MonthlyIncome', ...]), ..." for messages."""
    parts = []
    for code, group in excluded.groupby("code", sort=False):
        names = group["feature"].tolist()
        more = ", ..." if len(names) > limit else ""
        shown = ", ".join(repr(n) for n in names[:limit])
        parts.append(f"{len(names)} {REASONS[str(code)]} (e.g. [{shown}{more}])")
    return "; ".join(parts) if parts else "the model has no columns"


def details(features: list[str], excluded: pd.DataFrame, model_columns: list[str]) -> str:
    """Each refused feature and why (for ``features=``)."""
    why = dict(zip(excluded["feature"], excluded["reason"], strict=True))
    out = []
    for f in features:
        if f not in model_columns:
            out.append(f"{f!r} (not a model column)")
        else:
            out.append(f"{f!r} ({why.get(f, 'not a candidate')})")
    return ", ".join(out)
