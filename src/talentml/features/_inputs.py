"""Which inputs a build has, and what that means for each feature: the build report.

An input (:data:`~talentml.features._catalog.INPUTS`) is a table (``reviews``) or a column
of one (``catalog.voluntary``). Its status is

* ``ok``: present, every value known;
* ``partial``: present, some values missing: features that need it are computed where the
  value is known and missing (NaN) on the rows where it is not (see the guards of
  :class:`~talentml.features._catalog.Guard` and docs/features.md);
* ``no_table`` / ``absent``: the table / the column is not given; ``empty``: given, but
  every value is missing. A feature that needs an absent or empty input is missing (NaN) on every row,
  never 0, and is named once in the build report and the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ._catalog import FeatureSpec

__all__ = [
    "REPORT_ATTR",
    "REPORT_COLUMNS",
    "STATUSES",
    "InputStatus",
    "input_status",
    "attrs_report",
    "log_report",
    "report_frame",
]

logger = logging.getLogger("talentml.features")

#: Key of the build report in ``DataFrame.attrs`` of a pandas result (set only when a
#: feature is missing on some or all rows because of its inputs).
REPORT_ATTR = "talentml_build_report"
#: Columns of :func:`talentml.features.build_report`.
REPORT_COLUMNS = ("name", "family", "inputs", "status", "reason")
#: Status of a feature in the build report.
STATUSES = ("computed", "partial", "missing")
#: Tables whose rows a feature can need (the others are read column by column).
_TABLE_INPUTS = ("statements", "job_events", "reviews", "competency_ratings")
#: Row nouns of the tables, for the report's text.
#: Inputs whose missing values mean "none" rather than "unknown" (no manager, still
#: employed, not rated): a column that is present is known, however many values it lacks.
#: (Judging them by their values would also leak: a termination recorded after ``as_of``
#: would decide whether team exits are computed before it.)
_MISSING_MEANS_NONE = frozenset(
    {
        "employees.manager_id",
        "employees.termination_type",
        "reviews.potential_rating",
        "reviews.goal_attainment",
    }
)
#: Statuses of an input that make a feature missing on every row.
_MISSING = ("no_table", "absent", "empty")
_ROWS = {"employees": "employees", "catalog": "activities", "reviews": "reviews"}


class InputStatus(dict):
    """``input -> (status, missing values, rows)``, with a readable reason per input."""

    def status(self, name: str) -> str:
        return self[name][0]

    def reason(self, name: str) -> str:
        status, n_missing, n_rows = self[name]
        table, _, column = name.partition(".")
        if status == "no_table":
            return f"no {table} table"
        if status == "absent":
            return f"no column {name}"
        if status == "empty":
            return f"{name} is empty (all {n_rows:,} values missing)"
        if status == "partial":
            rows = _ROWS.get(table, "rows")
            return f"{name} is missing for {n_missing:,} of {n_rows:,} {rows}"
        return "ok"


def input_status(
    session: Any,
    t: dict[str, str],
    given: dict[str, bool],
    columns: dict[str, set[str]],
    inputs: Sequence[str],
) -> InputStatus:
    """The status of each of ``inputs``.

    ``given`` says which tables were passed, ``columns`` holds their columns and ``t``
    their SQL names in ``session``; missing values are counted with one query per table.
    """
    out = InputStatus()
    wanted: dict[str, list[str]] = {}
    for name in inputs:
        table, _, column = name.partition(".")
        if not given.get(table):
            out[name] = ("no_table", 0, 0)
        elif not column or name in _TABLE_INPUTS:
            out[name] = ("ok", 0, 0)
        elif column not in columns.get(table, set()):
            out[name] = ("absent", 0, 0)
        else:
            wanted.setdefault(table, []).append(column)
    for table, cols in wanted.items():
        counts = ", ".join(f"COUNT({c})" for c in cols)
        n, *known = session.rows(f"SELECT COUNT(*), {counts} FROM {t[table]}")[0]
        for column, k in zip(cols, known, strict=True):
            n, k = int(n), int(k)
            name = f"{table}.{column}"
            status = "empty" if k == 0 else ("partial" if k < n else "ok")
            if name in _MISSING_MEANS_NONE:
                status = "ok"
            out[name] = (status, n - k, n)
    return out


def report_frame(specs: list[FeatureSpec], status: InputStatus) -> pd.DataFrame:
    """One row per feature: ``name``, ``family``, ``inputs``, ``status``, ``reason``."""
    rows = []
    for s in specs:
        gone = [n for n in s.needs if status.status(n) in _MISSING]
        some = [n for n in s.needs if status.status(n) == "partial"]
        if gone:
            state, reason = "missing", "; ".join(dict.fromkeys(status.reason(n) for n in gone))
        elif some:
            state = "partial"
            reason = "; ".join(dict.fromkeys(status.reason(n) for n in some))
        else:
            state, reason = "computed", ""
        rows.append(
            {
                "name": s.name,
                "family": s.family,
                "inputs": "; ".join(s.needs),
                "status": state,
                "reason": reason,
            }
        )
    out = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    for col in REPORT_COLUMNS:
        out[col] = out[col].astype("string")
    return out


def attrs_report(report: pd.DataFrame) -> dict[str, dict[str, str]] | None:
    """The compact form kept in ``DataFrame.attrs``: features not computed everywhere."""
    part = report[report["status"] != "computed"]
    if part.empty:
        return None
    return {
        state: dict(zip(grp["name"].tolist(), grp["reason"].tolist(), strict=True))
        for state, grp in part.groupby("status", sort=False)
    }


def log_report(report: pd.DataFrame) -> None:
    """One warning naming every feature missing on all rows, grouped by why; one for those
    missing on some rows."""
    for state, lead in (
        ("missing", "missing (NaN) on every row because an input is absent"),
        ("partial", "missing (NaN) on the rows where a partly known input is unknown"),
    ):
        part = report[report["status"] == state]
        if part.empty:
            continue
        groups = [
            f"[{reason}] {len(grp)}: {', '.join(grp['name'].tolist())}"
            for reason, grp in part.groupby("reason", sort=False)
        ]
        logger.warning(
            "%d feature(s) are %s (talentml.features.build_report(...) lists every feature "
            "with its inputs): %s",
            len(part),
            lead,
            "; ".join(groups),
        )
