"""JSON Schemas (draft 2020-12) of the machine-readable reports, versioned by ``schema_version``."""

from __future__ import annotations

from typing import Any

__all__ = ["AUDIT_JSON_SCHEMA", "CAREGIVER_JSON_SCHEMA", "SCHEMA_VERSION"]

#: Version of both report schemas. Bump the major part on any incompatible change.
SCHEMA_VERSION = "1.0"

_NUM = {"type": ["number", "null"]}
_STR = {"type": ["string", "null"]}
_INT = {"type": "integer", "minimum": 0}
_BOOL = {"type": "boolean"}


def _table(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "object", "properties": properties, "required": required},
    }


_IMPACT = _table(
    {
        "attribute": {"type": "string"},
        "kind": {"enum": ["selection", "scoring"]},
        "group": {"type": "string"},
        "n": _INT,
        "share": {"type": "number", "minimum": 0, "maximum": 1},
        "n_selected": _INT,
        "rate": _NUM,
        "impact_ratio": _NUM,
        "ci_low": _NUM,
        "ci_high": _NUM,
        "p_value": _NUM,
        "reference": _BOOL,
        "excluded": _BOOL,
        "small": _BOOL,
        "four_fifths": _BOOL,
        "significant": _BOOL,
    },
    [
        "attribute",
        "kind",
        "group",
        "n",
        "share",
        "n_selected",
        "rate",
        "impact_ratio",
        "ci_low",
        "ci_high",
        "p_value",
        "reference",
        "excluded",
        "small",
        "four_fifths",
        "significant",
    ],
)

_FLAGS = _table(
    {
        "attribute": _STR,
        "group": _STR,
        "kind": _STR,
        "code": {
            "enum": [
                "adverse_impact",
                "four_fifths",
                "significant_difference",
                "small_group",
                "excluded_category",
                "unknown_category",
                "calibration_gap",
                "proxy_feature",
                "repeated_rows",
            ]
        },
        "severity": {"enum": ["high", "medium", "low", "info"]},
        "message": {"type": "string"},
    },
    ["attribute", "group", "kind", "code", "severity", "message"],
)

_BY_GROUP = _table(
    {
        "attribute": {"type": "string"},
        "group": {"type": "string"},
        "n": _INT,
        "share": {"type": "number"},
        "selection_rate": _NUM,
        "scoring_rate": _NUM,
        "mean_score": _NUM,
        "n_labeled": _INT,
        "base_rate": _NUM,
        "tpr": _NUM,
        "fpr": _NUM,
        "precision": _NUM,
        "auc": _NUM,
        "calibration_gap": _NUM,
        "ece": _NUM,
    },
    ["attribute", "group", "n", "share", "mean_score"],
)

_EXCLUSIONS = _table(
    {
        "attribute": {"type": "string"},
        "kind": {"type": "string"},
        "group": {"type": "string"},
        "n": _INT,
        "share": {"type": "number"},
        "rate": _NUM,
        "justification": {"type": "string", "minLength": 1},
    },
    ["attribute", "kind", "group", "n", "share", "rate", "justification"],
)

_LL144 = _table(
    {
        "id": {"type": "string"},
        "requirement": {"type": "string"},
        "rule": {"type": "string"},
        "field": {"type": "string"},
        "status": {"enum": ["covered", "declared", "missing", "not applicable", "employer"]},
        "note": {"type": "string"},
    },
    ["id", "requirement", "rule", "status", "note"],
)

#: JSON Schema of :meth:`talentml.fairness.BiasAudit.to_json`.
AUDIT_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "talentml bias audit",
    "type": "object",
    "required": [
        "schema_version",
        "report",
        "generator",
        "audit",
        "data",
        "model",
        "decision",
        "settings",
        "attributes",
        "overall",
        "by_group",
        "impact_ratios",
        "exclusions",
        "flags",
        "proxies",
        "gaps",
        "gap_attribution",
        "mitigation",
        "ll144",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "report": {"const": "talentml.fairness.audit"},
        "generator": {"type": "object", "required": ["name", "version"]},
        "audit": {
            "type": "object",
            "required": ["purpose", "audit_date", "distribution_date", "auditor"],
        },
        "data": {
            "type": "object",
            "required": ["n_rows", "source"],
            "properties": {
                "n_rows": _INT,
                "source": {"enum": ["historical", "test"]},
                "window": {
                    "type": "object",
                    "required": ["start", "end"],
                    "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
                },
            },
        },
        "model": {"type": "object", "required": ["source", "score"]},
        "decision": {"type": "object", "required": ["favorable", "binary", "rule"]},
        "settings": {"type": "object", "required": ["alpha", "min_n", "test", "n_bootstrap"]},
        "attributes": _table(
            {
                "attribute": {"type": "string"},
                "name": {"type": "string"},
                "parts": {"type": "array", "items": {"type": "string"}},
                "categories": {"type": "array", "items": {"type": "string"}},
                "n_unknown": _INT,
                "share_unknown": {"type": "number"},
            },
            ["name", "parts", "categories", "n_unknown"],
        ),
        "overall": {"type": "object"},
        "by_group": _BY_GROUP,
        "impact_ratios": _IMPACT,
        "exclusions": _EXCLUSIONS,
        "flags": _FLAGS,
        "proxies": {"type": ["array", "null"]},
        "gaps": {"type": ["array", "null"]},
        "gap_attribution": {"type": ["array", "null"]},
        "mitigation": {"type": "array"},
        "ll144": _LL144,
    },
}

#: JSON Schema of :meth:`talentml.fairness.CaregiverHours.to_json`.
CAREGIVER_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "talentml caregiver-hours analysis",
    "type": "object",
    "required": [
        "schema_version",
        "report",
        "generator",
        "settings",
        "offhours_features",
        "measures",
        "attribution",
        "variants",
        "summary",
        "audit",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "report": {"const": "talentml.fairness.caregiver_hours"},
        "generator": {"type": "object"},
        "settings": {"type": "object"},
        "offhours_features": {"type": "array", "items": {"type": "string"}},
        "measures": {"type": "array"},
        "attribution": {"type": "array"},
        "variants": _table(
            {
                "variant": {"type": "string"},
                "attribute": {"type": "string"},
                "kind": {"enum": ["selection", "scoring"]},
                "group": _STR,
                "impact_ratio": _NUM,
                "p_value": _NUM,
                "auc": _NUM,
            },
            ["variant", "attribute", "kind", "group", "impact_ratio", "p_value", "auc"],
        ),
        "summary": _table(
            {
                "attribute": {"type": "string"},
                "group": {"type": "string"},
                "reference": {"type": "string"},
                "model_impact_ratio": _NUM,
                "model_p_value": _NUM,
                "model_auc": _NUM,
                "offhours_share": _NUM,
            },
            [
                "attribute",
                "group",
                "reference",
                "model_impact_ratio",
                "model_auc",
                "offhours_share",
            ],
        ),
        "audit": AUDIT_JSON_SCHEMA,
    },
}
