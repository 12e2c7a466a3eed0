"""The text of contract errors: every problem names the table, column, rule, rows and the fix.

The templates are module constants, so tests can match them (fairlearn's habit). A message
lists every problem of a table found in one validation pass, one line each; a rule across
columns is one line that names its columns. Lengths are bounded: at most
:data:`MAX_PROBLEMS` lines, ``max_rows`` example rows per line, values cut to
:data:`MAX_VALUE_CHARS`, and the whole message to :data:`MAX_MESSAGE_CHARS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = [
    "CONTRACT_BROKEN",
    "CONTRACT_BROKEN_MANY",
    "DTYPE_PROBLEM",
    "FIX_BOOL",
    "FIX_DATETIME_NAIVE",
    "FIX_DATETIME_TEXT",
    "FIX_DATETIME_ZONE",
    "FIX_FLOAT",
    "FIX_INT",
    "FIX_ISIN",
    "FIX_LIST",
    "FIX_MISSING_COLUMN",
    "FIX_NOT_NULL",
    "FIX_RANGE",
    "FIX_STRING",
    "FIX_TIMEZONE",
    "FIX_UNIQUE",
    "MAX_MESSAGE_CHARS",
    "MAX_PROBLEMS",
    "MAX_VALUE_CHARS",
    "MISSING_COLUMNS",
    "MORE_PROBLEMS",
    "ROW_PROBLEM",
    "Problem",
    "contract_message",
]

#: Problem lines shown in one message (the rest are counted; every failure is in
#: ``ContractError.failures``).
MAX_PROBLEMS = 12
#: Characters of one example value shown.
MAX_VALUE_CHARS = 48
#: Upper bound of a whole message.
MAX_MESSAGE_CHARS = 6000

#: A message with one problem.
CONTRACT_BROKEN = "table {table!r} breaks its contract: {problem}"
#: The first line of a message with several problems (each follows on its own line).
CONTRACT_BROKEN_MANY = (
    "table {table!r} breaks its contract in {n} ways ({rules}); every failing row is in "
    "error.failures:"
)
#: The last line when more problems were found than are shown.
MORE_PROBLEMS = "... and {n} more problem(s) (rules {rules}): see error.failures"
#: Required columns that are absent.
MISSING_COLUMNS = (
    "missing required column(s) {columns} (all {n_rows} row(s)); it has {present}. Fix: {fix}"
)
#: A column whose dtype is not the contract's kind.
DTYPE_PROBLEM = (
    "column {column!r} has dtype {dtype}, the contract wants {kind} ({want}): {count} value(s), "
    "first rows {rows} with values {values}. Fix: {fix}"
)
#: Rows that break a value rule, a unique key or a rule across columns.
ROW_PROBLEM = (
    "{columns} rule {rule} fails in {count} row(s), first rows {rows} with values {values}. "
    "Fix: {fix}"
)

# ------------------------------------------------------------------------------ fixes
FIX_MISSING_COLUMN = (
    "add it, or map the column that holds it: "
    'schemas.coerce("{table}", df, rename={{"<your column>": "{column}"}})'
)
FIX_DATETIME_TEXT = (
    'df["{column}"] = pd.to_datetime(df["{column}"], utc=True), or '
    'schemas.coerce("{table}", df, timezone="<zone of naive values>")'
)
FIX_DATETIME_NAIVE = (
    'naive times: df["{column}"] = df["{column}"].dt.tz_localize("<their zone>")'
    '.dt.tz_convert("UTC"), or schemas.coerce("{table}", df, timezone="<their zone>")'
)
FIX_DATETIME_ZONE = 'df["{column}"] = df["{column}"].dt.tz_convert("UTC")'
FIX_STRING = (
    'df["{column}"] = df["{column}"].astype("string"), or schemas.coerce("{table}", df) '
    '(which also writes integer-like floats such as 1001.0 as "1001")'
)
FIX_INT = (
    'df["{column}"] = pd.to_numeric(df["{column}"]).astype("Int64"), or '
    'schemas.coerce("{table}", df)'
)
FIX_FLOAT = (
    'df["{column}"] = pd.to_numeric(df["{column}"], errors="coerce"), or '
    'schemas.coerce("{table}", df)'
)
FIX_BOOL = (
    'schemas.coerce("{table}", df) (reads yes/no, true/false, y/n, 1/0), or '
    'df["{column}"] = df["{column}"].map({{"yes": True, "no": False}}).astype("boolean")'
)
FIX_LIST = (
    'schemas.coerce("{table}", df) (splits text on , ; |), or '
    'df["{column}"] = df["{column}"].str.split(";")'
)
FIX_NOT_NULL = 'fill them, or quarantine the rows: good, bad = schemas.split("{table}", df)'
FIX_UNIQUE = (
    'keep one row per key: df = df.drop_duplicates(subset={key}, keep="last"), or '
    'quarantine them: good, bad = schemas.split("{table}", df)'
)
FIX_ISIN = (
    "use one of {allowed} (schemas.coerce trims and matches case), or quarantine the rows: "
    'good, bad = schemas.split("{table}", df)'
)
FIX_RANGE = (
    'correct the values ({what}), or quarantine the rows: good, bad = schemas.split("{table}", df)'
)
FIX_TIMEZONE = (
    'use IANA names such as "Europe/Berlin" or "America/New_York" '
    "(zoneinfo.available_timezones()), or leave them missing (unknown)"
)
_FIX_ROW_RULE_DEFAULT = (
    'correct the rows, or quarantine them: good, bad = schemas.split("{table}", df)'
)


@dataclass
class Problem:
    """One problem of a table: a whole column (missing, wrong dtype) or failing rows."""

    rule: str
    columns: tuple[str, ...]
    count: int
    rows: list[Any] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    fix: str = ""
    #: for dtype problems: (dtype, kind, wanted dtype); for missing columns: (present columns,)
    detail: tuple[Any, ...] = ()
    whole_column: bool = False


def short(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """``repr`` of a value, cut to ``limit`` characters."""
    if isinstance(value, dict):  # the values of a row rule's columns: cut each one
        return "{" + ", ".join(f"{k}: {short(v, limit)}" for k, v in value.items()) + "}"
    else:
        try:
            text = "NA" if value is pd.NA else ("NaT" if value is pd.NaT else repr(value))
        except Exception:  # a value whose repr fails still gets a place in the message
            text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _listing(items: list[Any], limit: int) -> str:
    return "[" + ", ".join(short(v, limit) for v in items) + "]"


def _columns_text(columns: tuple[str, ...]) -> str:
    if len(columns) == 1:
        return f"column {columns[0]!r}"
    return "columns " + ", ".join(repr(c) for c in columns)


def problem_text(p: Problem, max_rows: int) -> str:
    """One line: what is wrong, where, how often, and the fix."""
    rows = _listing(p.rows[:max_rows], MAX_VALUE_CHARS)
    values = _listing(p.values[:max_rows], MAX_VALUE_CHARS)
    if p.rule == "missing_column":
        (present,) = p.detail
        shown = [c for c in present[:20]]
        more = f" and {len(present) - 20} more" if len(present) > 20 else ""
        return MISSING_COLUMNS.format(
            columns=list(p.columns), n_rows=p.count, present=f"{shown}{more}", fix=p.fix
        )
    if p.rule == "dtype":
        dtype, kind, want = p.detail
        return DTYPE_PROBLEM.format(
            column=p.columns[0],
            dtype=dtype,
            kind=kind,
            want=want,
            count=p.count,
            rows=rows,
            values=values,
            fix=p.fix,
        )
    return ROW_PROBLEM.format(
        columns=_columns_text(p.columns),
        rule=p.rule,
        count=p.count,
        rows=rows,
        values=values,
        fix=p.fix,
    )


def contract_message(table: str, problems: list[Problem], max_rows: int) -> str:
    """The message of a :class:`~talentml.exceptions.ContractError` for ``problems``."""
    max_rows = max(0, int(max_rows))
    if len(problems) == 1:
        text = CONTRACT_BROKEN.format(table=table, problem=problem_text(problems[0], max_rows))
        return _bounded(text)
    rules = list(dict.fromkeys(p.rule for p in problems))
    lines = [CONTRACT_BROKEN_MANY.format(table=table, n=len(problems), rules=", ".join(rules))]
    for p in problems[:MAX_PROBLEMS]:
        lines.append(f"- table {table!r}: {problem_text(p, max_rows)}")
    rest = problems[MAX_PROBLEMS:]
    if rest:
        more = list(dict.fromkeys(p.rule for p in rest))
        lines.append(MORE_PROBLEMS.format(n=len(rest), rules=", ".join(more[:10])))
    return _bounded("\n".join(lines))


def _bounded(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    tail = " ... (cut: see error.failures)"
    return text[: MAX_MESSAGE_CHARS - len(tail)] + tail
