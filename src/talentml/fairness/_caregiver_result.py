"""``CaregiverHours``: the result of :func:`~talentml.fairness.caregiver_hours` and its reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ._result import BiasAudit
from ._schema import SCHEMA_VERSION

__all__ = ["CaregiverHours"]


@dataclass
class CaregiverHours:
    """The result of :func:`caregiver_hours`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per compared category of each attribute (``attribute``, ``group``; the
        original model's reference category included, with ``reference``): the
        scoring-rate impact ratio of the naive and normalized agility measures
        (``*_measure_impact_ratio``); for the original model (``model_``) and each variant
        (``neutralized_``, ``normalized_``) the category's impact ratio (1 for the
        highest-rate category), its p-value, the lowest impact ratio of the attribute
        (``*_min_impact_ratio``) and the ROC AUC, with each variant's AUC change and its
        paired bootstrap interval (``*_auc_change``, ``*_auc_change_ci_low``,
        ``*_auc_change_ci_high``); and the share of the model's gap carried by the
        off-hours features (``offhours_share``, for categories below the reference).
    measures : pandas.DataFrame
        Indexed by ``(measure, attribute, group)``: ``role`` (naive / normalized), ``n``,
        ``mean``, ``mean_ratio`` (to the reference category), ``scoring_rate``,
        ``impact_ratio``, ``ci_low``, ``ci_high``, ``p_value``, ``reference``, ``excluded``.
    attribution : pandas.DataFrame
        Indexed by ``(attribute, group)``: ``reference``, ``n``, ``gap`` (mean margin
        difference), ``offhours_gap`` (the part carried by the off-hours features),
        ``offhours_share`` and ``top_offhours_feature``.
    variants : pandas.DataFrame
        Indexed by ``(variant, attribute, kind, group)``, every compared category: ``rate``,
        ``impact_ratio`` (1 for the reference category), ``ci_low``, ``ci_high``,
        ``p_value``, ``reference``, ``auc``, ``delta_impact_ratio`` and ``delta_auc``
        (against the original model).
    audit : BiasAudit
        The full audit of the original model.
    audits : dict of str to BiasAudit
        The audit of every variant (``original``, ``neutralized``, ``normalized``).
    offhours_features : list of str
        The model features treated as off-hours features.
    meta : dict
        Settings, measures used and the re-training feature swap.

    See Also
    --------
    caregiver_hours : Builds it (with a worked example).

    Examples
    --------
    >>> import dataclasses
    >>> from talentml.fairness import CaregiverHours
    >>> [f.name for f in dataclasses.fields(CaregiverHours)][:4]
    ['summary', 'measures', 'attribution', 'variants']
    """

    summary: pd.DataFrame
    measures: pd.DataFrame
    attribution: pd.DataFrame
    variants: pd.DataFrame
    audit: BiasAudit
    audits: dict[str, BiasAudit]
    offhours_features: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"<CaregiverHours: {len(self.offhours_features)} off-hours feature(s), variants "
            f"{sorted(self.audits)}>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The analysis as strict-JSON-able data (:data:`CAREGIVER_JSON_SCHEMA`).

        Returns
        -------
        dict
            ``schema_version``, ``settings``, ``measures``, ``attribution``, ``variants``,
            ``summary`` and the original model's ``audit``.

        Examples
        --------
        >>> from talentml.fairness import CaregiverHours
        >>> "to_dict" in dir(CaregiverHours)
        True
        """
        from ._report import _generator, plain, records

        return {
            "schema_version": SCHEMA_VERSION,
            "report": "talentml.fairness.caregiver_hours",
            "generator": _generator(),
            "settings": plain(self.meta),
            "offhours_features": list(self.offhours_features),
            "measures": records(self.measures.reset_index()),
            "attribution": records(self.attribution.reset_index()),
            "variants": records(self.variants.reset_index()),
            "summary": records(self.summary.reset_index()),
            "audit": self.audit.to_dict(),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """Serialize to JSON (and write it when ``path`` is given).

        Parameters
        ----------
        path : str or Path, optional
            File to write.
        indent : int or None, default 2
            JSON indentation.

        Returns
        -------
        str
            Strict JSON text.

        Examples
        --------
        >>> from talentml.fairness import CaregiverHours
        >>> callable(CaregiverHours.to_json)
        True
        """
        from ._report import dumps

        text = dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None) -> str:
        """Render a self-contained HTML report.

        Parameters
        ----------
        path : str or Path, optional
            File to write.

        Returns
        -------
        str
            The HTML document.

        Examples
        --------
        >>> from talentml.fairness import CaregiverHours
        >>> callable(CaregiverHours.to_html)
        True
        """
        from ._caregiver_report import caregiver_to_html

        text = caregiver_to_html(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def summary_columns(self) -> list[tuple[str, str, str | None]]:
        """The columns a report shows of ``summary.reset_index()``: (column, label, format).

        Returns
        -------
        list of tuple
            ``(column, label, number format or None for text)`` for the identifiers and each
            summary column this analysis has, in the reports' order.

        Examples
        --------
        >>> from talentml.fairness import CaregiverHours
        >>> callable(CaregiverHours.summary_columns)
        True
        """
        from ._caregiver_report import summary_columns

        return summary_columns(self.summary.reset_index())

    def plot_variants(
        self, attribute: str = "caregiver", *, kind: str | None = None, ax: Any = None
    ) -> Any:
        """Impact ratio of each variant (original, neutralized, re-trained) with intervals.

        Parameters
        ----------
        attribute : str, default "caregiver"
            The attribute whose worst-off category is shown.
        kind : {"selection", "scoring"}, optional
            Which rates (default: the analysis's primary kind).
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (default: a new figure).

        Returns
        -------
        matplotlib.axes.Axes
            The axes.

        Examples
        --------
        >>> from talentml.fairness import CaregiverHours
        >>> callable(CaregiverHours.plot_variants)
        True
        """
        from ._caregiver_report import plot_variants

        return plot_variants(self, attribute=attribute, kind=kind, ax=ax)
