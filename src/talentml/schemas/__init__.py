"""Data contracts: the tables every part of talentml speaks, their validation and adapters.

Each table of the design (``statements``, ``employees``, ``job_events``, ``reviews``,
``competency_ratings``, ``catalog``, ``productivity``, ``sensitive``, ``identities``) has a
contract: column names, logical types, which columns are required and which may be absent
(unknown), nullability, value rules, unique keys and row rules.

* :func:`validate` checks a DataFrame in one pass and raises a
  :class:`~talentml.exceptions.ContractError` listing every problem: table, column, rule,
  count, the first offending rows and the fix; ``lenient=True`` returns the offending rows
  instead, and :func:`split` separates usable rows from rows to quarantine.
* :func:`coerce` adapts a real table (an HRIS export, a spreadsheet) to its contract: dates
  to UTC, identifiers to text, integer-like floats to integers, yes/no to booleans, text
  trimmed, and reports every change; no row is dropped.
* :func:`describe` and :func:`empty` give the contracts as tables.

All times are timezone-aware UTC, in any resolution (pandas 3 parses text to microseconds,
pandas 2 to nanoseconds; talentml writes nanoseconds); identifiers are strings, as ``object``,
``string`` or pandas 3's ``str``. The contracts are data: :class:`Contract`, :class:`Col` and
:class:`RowRule` objects in :data:`TABLES`.

>>> from talentml import schemas
>>> schemas.TABLES["employees"].required_columns
['employee_id', 'hire_date']
"""

from __future__ import annotations

from ._coerce import Coerced, coerce
from ._contracts import (
    JOB_EVENTS,
    MAX_CLOCK_SKEW,
    OBJECT_TYPES,
    PROGRAMS,
    TABLES,
    TERMINATION_TYPES,
)
from ._contracts import Col as Col  # importable, like TABLES; documented on the page
from ._contracts import Contract as Contract
from ._contracts import RowRule as RowRule
from ._validate import describe, empty, split, validate

__all__ = [
    "JOB_EVENTS",
    "MAX_CLOCK_SKEW",
    "OBJECT_TYPES",
    "PROGRAMS",
    "TABLES",
    "TERMINATION_TYPES",
    "Coerced",
    "coerce",
    "describe",
    "empty",
    "split",
    "validate",
]
