"""Competency ratings as of each spine row: the latest rating known strictly before ``as_of``.

A competency rating is known from its ``submitted_at`` (the review features see reviews the
same way). :func:`competency_snapshot` is the point-in-time view the trigger rules of
:mod:`talentml.loop` read; :func:`competency_column` names its columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validation import as_utc as _utc
from .._validation import require_columns as _require

__all__ = ["competency_column", "competency_snapshot"]


def competency_column(competency: str) -> str:
    """Name of the column that holds a competency's rating in an evaluated table.

    Examples
    --------
    >>> competency_column("Project Management")
    'competency[Project Management]'
    """
    return f"competency[{competency}]"


def competency_snapshot(
    spine: pd.DataFrame,
    competency_ratings: pd.DataFrame,
    *,
    competencies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each spine row's latest rating of each competency, known strictly before ``as_of``.

    A rating is known from its ``submitted_at``; the latest one submitted before ``as_of``
    counts (missing when there is none), exactly as the review features see reviews.

    Parameters
    ----------
    spine : pandas.DataFrame
        ``employee_id`` and ``as_of`` (timezone-aware).
    competency_ratings : pandas.DataFrame
        The ``competency_ratings`` contract table (``employee_id``, ``competency``,
        ``rating``, ``submitted_at``, ``cycle_id``).
    competencies : sequence of str, optional
        The competencies wanted (default: every competency in the table).

    Returns
    -------
    pandas.DataFrame
        Index aligned with ``spine``; one float column per competency, named by
        :func:`competency_column`.

    Examples
    --------
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"employee_id": ["e1", "e1"], "cycle_id": ["H1", "H2"],
    ...     "competency": ["Leadership", "Leadership"], "rating": [2.0, 4.0],
    ...     "submitted_at": pd.to_datetime(["2024-07-10", "2025-01-20"], utc=True)})
    >>> spine = pd.DataFrame({"employee_id": ["e1", "e1"],
    ...                       "as_of": pd.to_datetime(["2025-01-01", "2025-02-01"], utc=True)})
    >>> competency_snapshot(spine, ratings)["competency[Leadership]"].tolist()
    [2.0, 4.0]
    """
    _require(spine, ("employee_id", "as_of"), "spine")
    _require(
        competency_ratings,
        ("employee_id", "competency", "rating", "submitted_at"),
        "competency_ratings",
    )
    as_of = _utc(spine["as_of"], "spine", "as_of")
    cr = competency_ratings
    submitted = _utc(cr["submitted_at"], "competency_ratings", "submitted_at")
    wanted = (
        list(dict.fromkeys(competencies))
        if competencies is not None
        else sorted(cr["competency"].dropna().astype(str).unique())
    )
    n = len(spine)
    out = pd.DataFrame(index=spine.index)
    left = pd.DataFrame(
        {
            "employee_id": spine["employee_id"].astype("string").to_numpy(),
            "as_of": as_of.to_numpy(),
            "_row": np.arange(n),
        }
    )
    left = left[left["employee_id"].notna() & left["as_of"].notna()].sort_values(
        "as_of", kind="stable"
    )
    right_all = pd.DataFrame(
        {
            "employee_id": cr["employee_id"].astype("string").to_numpy(),
            "competency": cr["competency"].astype("string").to_numpy(),
            "submitted_at": submitted.to_numpy(),
            "cycle_id": cr["cycle_id"].astype("string").to_numpy()
            if "cycle_id" in cr.columns
            else pd.array([""] * len(cr), dtype="string"),
            "rating": pd.to_numeric(cr["rating"], errors="coerce").to_numpy(float),
        }
    )
    right_all = right_all[
        right_all["employee_id"].notna()
        & right_all["submitted_at"].notna()
        & ~np.isnan(right_all["rating"].to_numpy(float))
    ]
    for comp in wanted:
        values = np.full(n, np.nan)
        right = right_all[right_all["competency"] == comp]
        if len(right) and len(left):
            right = right.sort_values(["submitted_at", "cycle_id"], kind="stable")[
                ["employee_id", "submitted_at", "rating"]
            ]
            merged = pd.merge_asof(
                left,
                right,
                left_on="as_of",
                right_on="submitted_at",
                by="employee_id",
                allow_exact_matches=False,
                direction="backward",
            )
            values[merged["_row"].to_numpy()] = merged["rating"].to_numpy(float)
        out[competency_column(comp)] = values
    return out
