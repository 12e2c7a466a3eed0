"""Bias audits: fairlearn metrics, LL144 impact ratios, proxies and the caregiver-hours effect.

* :func:`audit` - audit a fitted model or a score on a dataset: per-group metrics (fairlearn
  ``MetricFrame``) for each sensitive attribute and intersection, selection and scoring rates,
  impact ratios as NYC Local Law 144 defines them, the four-fifths flag with Fisher's exact
  test and bootstrap intervals, minimum-n flags, unknown categories and justified exclusions,
  proxy analysis and optional mitigation. Returns a :class:`BiasAudit` with ``to_json()``
  (versioned schema, :data:`AUDIT_JSON_SCHEMA`) and ``to_html(path)`` (self-contained).
  Assessment only: the report metadata (purpose, dates, auditor, data, model version) is an
  :class:`AuditMetadata` that ``to_json(metadata=...)``, ``to_html(metadata=...)`` and
  ``BiasAudit.with_metadata`` set; ``audit``'s keywords of the same names are its defaults.
* :func:`caregiver_hours` - the one-call check of the caregiver-hours effect: the gap in a
  naive off-hours learning agility and in the model built on it, the share carried by
  off-hours features, and the model re-scored with them neutralized or with the
  opportunity-normalized agility.
* :func:`proxy_analysis` and :func:`mitigate` (fairlearn ``ThresholdOptimizer`` and
  ``ExponentiatedGradient``, reported before and after, never applied); :func:`audit` takes
  their results (``proxies=<table>``, ``mitigation=[<Mitigation>, ...]``).

Sensitive attributes come only from the ``sensitive`` table passed to these functions; a
sensitive column in the feature frame, or among a model's inputs, raises
:class:`~talentml.exceptions.PurposeLimitationError`.

>>> from talentml.fairness import audit, caregiver_hours
"""

from __future__ import annotations

from ._audit import audit
from ._caregiver import caregiver_hours
from ._caregiver_result import CaregiverHours
from ._groups import UNKNOWN, age_band
from ._impact import FOUR_FIFTHS
from ._ll144 import LL144_CHECKLIST
from ._metadata import AuditMetadata
from ._mitigate import Mitigation, mitigate
from ._proxy import PROXY_THRESHOLD, proxy_analysis
from ._result import BiasAudit
from ._schema import AUDIT_JSON_SCHEMA, CAREGIVER_JSON_SCHEMA, SCHEMA_VERSION

__all__ = [
    "AUDIT_JSON_SCHEMA",
    "CAREGIVER_JSON_SCHEMA",
    "FOUR_FIFTHS",
    "LL144_CHECKLIST",
    "PROXY_THRESHOLD",
    "SCHEMA_VERSION",
    "UNKNOWN",
    "AuditMetadata",
    "BiasAudit",
    "CaregiverHours",
    "Mitigation",
    "age_band",
    "audit",
    "caregiver_hours",
    "mitigate",
    "proxy_analysis",
]
