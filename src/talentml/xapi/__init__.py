"""xAPI statements in: parse, validate, normalize, deduplicate, void, quarantine.

:func:`ingest` reads xAPI statements from a list of dicts, JSON or JSON-lines files (gzipped
too), a directory or a Learning Record Store, validates each against xAPI 1.0.3 or 2.0 (IEEE
9274.1.1), and returns the normalized ``statements`` table, a quarantine of every rejected
statement with its reason code, and a report where ``read = accepted + duplicates + voided +
quarantined``. Actors are pseudonymized with a keyed hash; :func:`build_identities` keys HRIS
records the same way so statements map to employees.

>>> import talentml as tml
>>> stmt = {
...     "actor": {"account": {"homePage": "https://lms.example.com", "name": "u42"}},
...     "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
...     "object": {"id": "https://lms.example.com/course/7"},
...     "timestamp": "2024-05-01T09:30:00Z",
... }
>>> result = tml.xapi.ingest([stmt], secret="a-secret-of-some-length")
>>> result.report.accepted, list(result.statements.columns[:3])
(1, ['statement_id', 'actor_key', 'employee_id'])
"""

from __future__ import annotations

from ._identities import build_identities
from ._ingest import ID_NAMESPACE, Ingest, IngestReport, content_id, ingest
from ._lrs import (
    BearerToken,
    Cursor,
    LRSAuthError,
    LRSClient,
    LRSError,
    LRSWriteError,
    OAuth2ClientCredentials,
)
from ._reasons import REASONS, Reason, reason_table
from ._validate import VERSIONS, Violation, validate, validate_statement

__all__ = [
    "ID_NAMESPACE",
    "BearerToken",
    "Cursor",
    "LRSAuthError",
    "LRSClient",
    "LRSError",
    "LRSWriteError",
    "OAuth2ClientCredentials",
    "content_id",
    "REASONS",
    "VERSIONS",
    "Ingest",
    "IngestReport",
    "Reason",
    "Violation",
    "build_identities",
    "ingest",
    "reason_table",
    "validate",
    "validate_statement",
]
