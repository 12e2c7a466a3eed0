"""``AuditMetadata``: what a bias-audit report says about itself (not what the audit measured).

Purpose, dates, the declared auditor, the kind and description of the data and a model
version label are report metadata: they change the first table of the report, never a rate,
a ratio or a flag. :func:`~talentml.fairness.audit` accepts them as defaults;
:meth:`BiasAudit.to_json(metadata=...) <talentml.fairness.BiasAudit.to_json>`,
:meth:`~talentml.fairness.BiasAudit.to_html` and
:meth:`~talentml.fairness.BiasAudit.with_metadata` set them on an audit already measured.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = [
    "DATA_SOURCES",
    "AuditMetadata",
    "MetadataLike",
    "check_data_source",
    "resolve_metadata",
]

#: The kinds of data an audit may use (NYC Local Law 144 terms).
DATA_SOURCES: tuple[str, ...] = ("historical", "test")

MSG_DATA_SOURCE = "data_source must be 'historical' or 'test', got {value!r}"
MSG_METADATA = "metadata must be an AuditMetadata or a dict with keys among {fields}, got {value!r}"


def check_data_source(value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is one of :data:`DATA_SOURCES`."""
    if value not in DATA_SOURCES:
        raise ValueError(MSG_DATA_SOURCE.format(value=value))


@dataclass(frozen=True)
class AuditMetadata:
    """Report metadata of a bias audit (the report's "Scope" table and LL144 summary).

    Attributes
    ----------
    purpose : str, optional
        What the tool is used for (the report's first line).
    audit_date, distribution_date : str, optional
        Dates for the LL144 summary (nothing reads the clock).
    auditor : str, optional
        The independent auditor, as declared by the user.
    data_source : {"historical", "test"}, default "historical"
        The kind of data (LL144 terms).
    data_description : str, optional
        Where the data come from (and, for test data, why historical data were insufficient).
    model_version : str, optional
        A version label (e.g. a registry version); the report also fingerprints the model.

    Examples
    --------
    >>> from talentml.fairness import AuditMetadata
    >>> meta = AuditMetadata(purpose="promotion shortlist", auditor="Example Audit LLP")
    >>> meta.data_source
    'historical'
    >>> AuditMetadata(data_source="survey")
    Traceback (most recent call last):
    ...
    ValueError: data_source must be 'historical' or 'test', got 'survey'
    """

    purpose: str | None = None
    audit_date: str | None = None
    distribution_date: str | None = None
    auditor: str | None = None
    data_source: str = "historical"
    data_description: str | None = None
    model_version: str | None = None

    def __post_init__(self) -> None:
        check_data_source(self.data_source)

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> AuditMetadata:
        """The metadata recorded in a :attr:`BiasAudit.meta` dict."""
        head = meta.get("audit", {})
        data = meta.get("data", {})
        label = meta.get("model", {}).get("label")
        return cls(
            purpose=head.get("purpose"),
            audit_date=head.get("audit_date"),
            distribution_date=head.get("distribution_date"),
            auditor=head.get("auditor"),
            data_source=data.get("source", "historical"),
            data_description=data.get("description"),
            model_version=None if label is None else str(label),
        )

    def apply(self, meta: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of an audit's ``meta`` dict with this metadata in it (key order kept)."""
        out = copy.deepcopy(dict(meta))
        out["audit"] = {
            "purpose": self.purpose,
            "audit_date": self.audit_date,
            "distribution_date": self.distribution_date,
            "auditor": self.auditor,
        }
        data = out.setdefault("data", {})
        data["source"] = self.data_source
        data["description"] = self.data_description
        model = out.setdefault("model", {})
        if self.model_version is None:
            model.pop("label", None)
        else:
            model["label"] = str(self.model_version)
        return out


#: What the ``metadata=`` parameters take: an :class:`AuditMetadata` (replaces the audit's),
#: a dict of some of its fields (updates the audit's), or None (the audit's own).
MetadataLike = AuditMetadata | Mapping[str, Any] | None


def resolve_metadata(metadata: MetadataLike, default: AuditMetadata) -> AuditMetadata:
    """The metadata a report uses: ``default`` updated (dict) or replaced (AuditMetadata)."""
    if metadata is None:
        return default
    if isinstance(metadata, AuditMetadata):
        return metadata
    names = [f.name for f in fields(AuditMetadata)]
    if not isinstance(metadata, Mapping) or any(k not in names for k in metadata):
        raise TypeError(MSG_METADATA.format(fields=names, value=metadata))
    return replace(default, **dict(metadata))
