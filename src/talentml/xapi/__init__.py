"""xAPI statements in: parse, validate, normalize, deduplicate, void, quarantine.

:func:`ingest` reads xAPI statements from a list of dicts, JSON or JSON-lines files (gzipped
too), a directory or a Learning Record Store, validates each against xAPI 1.0.3 or 2.0 (IEEE
9274.1.1), and returns the normalized ``statements`` table, a quarantine of every rejected
statement with its reason code, and a report where ``read = accepted + duplicates + voided +
quarantined``. Actors are pseudonymized with a keyed hash; :func:`build_identities` keys HRIS
records the same way so statements map to employees, the report counts the statements and
actors that map (and the ``stored`` times filled in), :meth:`Ingest.actors` lists the actors
and :meth:`Ingest.map_identities` maps them without reading the source again.
:func:`infer_catalog` builds a learning catalog from the statements themselves, and
:class:`ActivityResolver` resolves the IRIs of one activity across platforms into one
canonical id, reviewably, before features are built.

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

from ._activities import LEVEL_WORDS
from ._catalog import infer_catalog
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
from ._resolve import ActivityResolver
from ._validate import VERSIONS, Violation, validate, validate_statement

__all__ = [
    "ID_NAMESPACE",
    "ActivityResolver",
    "LEVEL_WORDS",
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
    "infer_catalog",
    "ingest",
    "reason_table",
    "validate",
    "validate_statement",
]
