"""``BiasAudit``: the result of :func:`~talentml.fairness.audit` and its reports."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ._metadata import AuditMetadata, MetadataLike, resolve_metadata

__all__ = ["BiasAudit"]


@dataclass
class BiasAudit:
    """The result of :func:`audit`: rates, impact ratios, flags, proxies and mitigation.

    Attributes
    ----------
    by_group : pandas.DataFrame
        Indexed by ``(attribute, group)`` (single attributes, then intersections; the unknown
        category included): ``n``, ``share``, ``selection_rate`` and/or ``scoring_rate``,
        ``mean_score``, and with outcomes ``n_labeled``, ``base_rate``, ``tpr``, ``fpr``,
        ``precision``, ``auc``, ``calibration_gap`` (mean probability minus observed rate)
        and ``ece``. Computed with fairlearn's ``MetricFrame``.
    overall : pandas.Series
        The same metrics over every audited row.
    impact_ratios : pandas.DataFrame
        Indexed by ``(attribute, kind, group)``, ``kind`` being ``"selection"`` or
        ``"scoring"``: ``n``, ``share``, ``n_selected``, ``rate``, ``impact_ratio``,
        ``ci_low``, ``ci_high`` (bootstrap), ``p_value`` (against the reference category),
        ``reference``, ``excluded`` (under 2%), ``small`` (under ``min_n``), ``four_fifths``
        (ratio under 0.8) and ``significant`` (``p_value < alpha``).
    flags : pandas.DataFrame
        One row per finding: ``attribute``, ``group``, ``kind``, ``code`` (``adverse_impact``,
        ``four_fifths``, ``significant_difference``, ``small_group``, ``excluded_category``,
        ``unknown_category``, ``calibration_gap``, ``proxy_feature``, ``repeated_rows``),
        ``severity`` (high, medium, low, info) and a plain-language ``message``.
    exclusions : pandas.DataFrame
        Categories left out of the impact ratios, with count, rate and justification.
    attributes : pandas.DataFrame
        One row per audited attribute: its parts, known categories and unknown count.
    proxies : pandas.DataFrame or None
        :func:`proxy_analysis` of the model's features (None when not computed).
    gaps : pandas.DataFrame or None
        Margin gap of each compared category to the reference category.
    gap_attribution : pandas.DataFrame or None
        Each feature's TreeSHAP contribution to each gap (long format).
    mitigation : list of Mitigation
        Mitigations tried (reported, never applied).
    meta : dict
        Purpose, dates, auditor, data window, model version, decision rule and settings.
    metadata : AuditMetadata
        The report metadata held in ``meta`` (purpose, dates, auditor, data source and
        description, model version label); reports may override it (``metadata=``).

    See Also
    --------
    audit : Builds it.
    AuditMetadata : The report metadata (``to_json(metadata=...)``, ``with_metadata``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.fairness import audit
    >>> rng = np.random.default_rng(0)
    >>> result = audit(rng.random(400), pd.DataFrame(index=range(400)),
    ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 400)}),
    ...                n_bootstrap=0)
    >>> result.by_group.index.names
    FrozenList(['attribute', 'group'])
    >>> list(result.impact_ratios.index.names)
    ['attribute', 'kind', 'group']
    """

    by_group: pd.DataFrame
    overall: pd.Series
    impact_ratios: pd.DataFrame
    flags: pd.DataFrame
    exclusions: pd.DataFrame
    attributes: pd.DataFrame
    meta: dict[str, Any]
    proxies: pd.DataFrame | None = None
    gaps: pd.DataFrame | None = None
    gap_attribution: pd.DataFrame | None = None
    mitigation: list[Any] = field(default_factory=list)

    def __repr__(self) -> str:
        n = self.meta.get("data", {}).get("n_rows", 0)
        high = int((self.flags["severity"] == "high").sum()) if len(self.flags) else 0
        attrs = ", ".join(self.attributes["attribute"].tolist())
        return f"<BiasAudit of {n} rows on {attrs}: {high} high-severity flag(s)>"

    def worst(self, kind: str | None = None) -> pd.DataFrame:
        """The lowest compared impact ratio of each attribute.

        Parameters
        ----------
        kind : {"selection", "scoring"}, optional
            Restrict to one kind of rate (default: both).

        Returns
        -------
        pandas.DataFrame
            One row per ``(attribute, kind)``: ``group``, ``impact_ratio``, ``p_value``,
            ``ci_low``, ``ci_high``, ``n``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> sex = rng.choice(["female", "male"], 1000)
        >>> score = rng.random(1000) + 0.2 * (sex == "male")
        >>> result = audit(score, pd.DataFrame(index=range(1000)),
        ...                sensitive=pd.DataFrame({"sex": sex}), n_bootstrap=0)
        >>> result.worst()["group"].tolist()
        ['female']
        """
        table = self.impact_ratios.reset_index()
        table = table[~table["excluded"] & table["impact_ratio"].notna()]
        if kind is not None:
            table = table[table["kind"] == kind]
        table = table.sort_values("impact_ratio", kind="mergesort")
        keep = ["attribute", "kind", "group", "impact_ratio", "p_value", "ci_low", "ci_high", "n"]
        return table.drop_duplicates(["attribute", "kind"])[keep].set_index(["attribute", "kind"])

    @property
    def metadata(self) -> AuditMetadata:
        """The report metadata this audit carries (set by :func:`audit` or :meth:`with_metadata`)."""
        return AuditMetadata.from_meta(self.meta)

    def with_metadata(self, metadata: MetadataLike = None, **fields: Any) -> BiasAudit:
        """A copy of the audit with other report metadata (the measurements are shared).

        Parameters
        ----------
        metadata : AuditMetadata or dict, optional
            An :class:`AuditMetadata` replaces the audit's metadata; a dict updates the
            fields it names.
        **fields
            Fields of :class:`AuditMetadata` to update (after ``metadata``).

        Returns
        -------
        BiasAudit
            The same audit whose reports carry the new metadata.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> result = audit(rng.random(300), pd.DataFrame(index=range(300)),
        ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 300)}),
        ...                n_bootstrap=0, purpose="promotion shortlist")
        >>> signed = result.with_metadata(auditor="Example Audit LLP", audit_date="2025-02-01")
        >>> signed.metadata.purpose, signed.metadata.auditor, result.metadata.auditor
        ('promotion shortlist', 'Example Audit LLP', None)
        """
        chosen = resolve_metadata(metadata, self.metadata)
        if fields:
            chosen = resolve_metadata(fields, chosen)
        return replace(self, meta=chosen.apply(self.meta))

    def _for_report(self, metadata: MetadataLike) -> BiasAudit:
        return self if metadata is None else self.with_metadata(metadata)

    def to_dict(self, *, metadata: MetadataLike = None) -> dict[str, Any]:
        """The report as plain, strict-JSON-able data (the versioned schema).

        Parameters
        ----------
        metadata : AuditMetadata or dict, optional
            Report metadata to use instead of the audit's (a dict updates the fields it names).

        Returns
        -------
        dict
            With ``schema_version`` and every section of the report; no row-level data.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> result = audit(rng.random(300), pd.DataFrame(index=range(300)),
        ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 300)}),
        ...                n_bootstrap=0)
        >>> result.to_dict()["schema_version"]
        '1.0'
        """
        from ._report import audit_to_dict

        return audit_to_dict(self._for_report(metadata))

    def to_json(
        self,
        path: str | Path | None = None,
        *,
        indent: int | None = 2,
        metadata: MetadataLike = None,
    ) -> str:
        """Serialize the report to JSON (and write it when ``path`` is given).

        Parameters
        ----------
        path : str or Path, optional
            File to write.
        indent : int or None, default 2
            JSON indentation.
        metadata : AuditMetadata or dict, optional
            Report metadata (purpose, dates, auditor, data source and description, model
            version label) to use instead of the audit's; a dict updates the fields it names.

        Returns
        -------
        str
            The JSON text (strict JSON: missing values are ``null``).

        Examples
        --------
        >>> import json, numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> result = audit(rng.random(300), pd.DataFrame(index=range(300)),
        ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 300)}),
        ...                n_bootstrap=0)
        >>> json.loads(result.to_json())["report"]
        'talentml.fairness.audit'
        >>> json.loads(result.to_json(metadata={"auditor": "Example Audit LLP"}))["audit"]["auditor"]
        'Example Audit LLP'
        """
        from ._report import dumps

        text = dumps(self.to_dict(metadata=metadata), indent=indent)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None, *, metadata: MetadataLike = None) -> str:
        """Render a self-contained HTML report (plots embedded as SVG).

        Parameters
        ----------
        path : str or Path, optional
            File to write.
        metadata : AuditMetadata or dict, optional
            Report metadata to use instead of the audit's (a dict updates the fields it names).

        Returns
        -------
        str
            The HTML document.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> result = audit(rng.random(300), pd.DataFrame(index=range(300)),
        ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 300)}),
        ...                n_bootstrap=0)
        >>> html = result.to_html()
        >>> "<svg" in html and "Local Law 144" in html
        True
        >>> from talentml.fairness import AuditMetadata
        >>> "Bias audit: promotion shortlist" in result.to_html(
        ...     metadata=AuditMetadata(purpose="promotion shortlist"))
        True
        """
        from ._report import audit_to_html

        html = audit_to_html(self._for_report(metadata))
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html

    def plot_impact_ratios(self, kind: str | None = None, ax: Any = None) -> Any:
        """Forest plot of the impact ratios with their bootstrap intervals and the 0.8 line.

        Parameters
        ----------
        kind : {"selection", "scoring"}, optional
            Which rates (default: selection when present, else scoring).
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (default: a new figure).

        Returns
        -------
        matplotlib.axes.Axes
            The axes.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np, pandas as pd
        >>> from talentml.fairness import audit
        >>> rng = np.random.default_rng(0)
        >>> result = audit(rng.random(300), pd.DataFrame(index=range(300)),
        ...                sensitive=pd.DataFrame({"sex": rng.choice(["f", "m"], 300)}),
        ...                n_bootstrap=50)
        >>> result.plot_impact_ratios().get_xlabel()
        'impact ratio (rate / highest rate)'
        """
        from ._plots import plot_impact_ratios

        return plot_impact_ratios(self, kind=kind, ax=ax)
