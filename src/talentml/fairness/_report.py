"""Reports of bias audits: strict JSON (versioned schema) and self-contained HTML.

The HTML holds everything inline (CSS and SVG plots): one file to archive, attach to an MLflow
run or publish as the LL144 summary. Every number comes from the audit object; nothing reads
the clock, so the same audit renders to the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import pandas as pd

from .. import _html
from .._html import badge, dumps, esc, fmt, note, plain, records
from ._ll144 import ll144_status
from ._plots import figure_axes, figure_svg, plot_gap_attribution, plot_impact_ratios
from ._schema import SCHEMA_VERSION

__all__ = ["audit_to_dict", "audit_to_html", "dumps", "records"]

TOP_FEATURES = 10


def _generator() -> dict[str, str]:
    import fairlearn
    import xgboost

    from .._version import __version__

    return {
        "name": "talentml",
        "version": __version__,
        "fairlearn": fairlearn.__version__,
        "xgboost": xgboost.__version__,
    }


def _top_attribution(by_feature: pd.DataFrame | None) -> pd.DataFrame | None:
    """The top features of each gap by |contribution|, the rest summed as one row."""
    if by_feature is None:
        return None
    parts = []
    for _, sub in by_feature.groupby(["attribute", "group"], sort=False):
        order = sub["contribution"].abs().sort_values(ascending=False).index
        top, rest = sub.loc[order[:TOP_FEATURES]], sub.loc[order[TOP_FEATURES:]]
        parts.append(top)
        if len(rest):
            row = rest.iloc[[0]].copy()
            row["feature"] = f"(other {len(rest)} features)"
            row["contribution"] = rest["contribution"].sum()
            row["share"] = rest["share"].sum()
            parts.append(row)
    return pd.concat(parts, ignore_index=True) if parts else by_feature.iloc[0:0]


def audit_to_dict(audit: Any) -> dict[str, Any]:
    """The JSON document of a :class:`~talentml.fairness.BiasAudit`."""
    meta = audit.meta
    attributes = audit.attributes.rename(columns={"attribute": "name"})
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "report": "talentml.fairness.audit",
        "generator": _generator(),
        "audit": plain(meta["audit"]),
        "data": plain(meta["data"]),
        "model": plain(meta["model"]),
        "decision": plain(meta["decision"]),
        "settings": plain(meta["settings"]),
        "attributes": records(attributes),
        "overall": plain(audit.overall.to_dict()),
        "by_group": records(audit.by_group.reset_index()),
        "impact_ratios": records(audit.impact_ratios.reset_index()),
        "exclusions": records(audit.exclusions),
        "flags": records(audit.flags),
        "proxies": records(None if audit.proxies is None else audit.proxies.reset_index()),
        "gaps": records(audit.gaps),
        "gap_attribution": records(_top_attribution(audit.gap_attribution)),
        "mitigation": [m.to_dict() for m in audit.mitigation],
    }
    report["ll144"] = ll144_status(report)
    return report


# ------------------------------------------------------------------------------- HTML
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}h3{font-size:1rem;margin-top:1.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev-high{background:#fdecea}.sev-medium{background:#fff4e5}.sev-low{background:#f4f9ff}
.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:.75rem;color:#fff}
.b-high{background:#c0392b}.b-medium{background:#e67e22}.b-low{background:#2e86c1}
.b-info{background:#7f8c8d}.b-covered{background:#27ae60}.b-declared{background:#2e86c1}
.b-missing{background:#c0392b}.b-employer{background:#7f8c8d}.b-na{background:#95a5a6}
.note{color:#555;font-size:.85rem}figure{margin:1rem 0}svg{max-width:100%;height:auto}
"""


#: What the key/value tables show for a value the audit does not have.
NOT_GIVEN = '<span class="note">not given</span>'


def table(
    frame: pd.DataFrame,
    columns: Iterable[tuple[str, str, str | None]],
    *,
    row_class: Any = None,
) -> str:
    """An HTML table: ``columns`` are (column, header, number format or None for text).

    A listed column the frame lacks is shown with empty cells (the reports' tables keep
    their shape whatever the audit measured).
    """
    return _html.table(frame, columns, row_class=row_class, absent="blank")


def kv_table(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column key/value table (values as text; missing values shown as "not given")."""
    return _html.kv_table(pairs, missing=NOT_GIVEN, numbers=False)


def svg_of(draw: Any, size: tuple[float, float]) -> str:
    """Run ``draw(ax)`` on a fresh figure and return the inline SVG inside a <figure>."""
    fig, ax = figure_axes(size)
    draw(ax)
    return f"<figure>{figure_svg(fig)}</figure>"


def page(title: str, body: str) -> str:
    """A complete, self-contained HTML document with the audit reports' style sheet."""
    return _html.page(title, body, css=CSS)


def _ratio_notes(r: pd.Series) -> str:
    notes = []
    if r["reference"]:
        notes.append("reference")
    if r["excluded"]:
        notes.append("excluded (<2%)")
    if r["small"]:
        notes.append("small n")
    if r["four_fifths"]:
        notes.append("below 0.8")
    if r["significant"]:
        notes.append("significant")
    return ", ".join(notes)


def _ll144_html(items: list[dict[str, str]]) -> str:
    kinds = {"not applicable": "na"}
    rows = []
    for it in items:
        status = it["status"]
        rows.append(
            f"<tr><td>{html.escape(it['requirement'])}</td><td>{html.escape(it['rule'])}</td>"
            f"<td>{badge(status, kinds.get(status, status))}</td>"
            f"<td>{html.escape(it['note'])}</td></tr>"
        )
    return (
        "<table><thead><tr><th>LL144 requirement</th><th>rule</th><th>status</th>"
        f"<th>in this report</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _scope_section(audit: Any, h: str, h3: str) -> list[str]:
    """The scope table: metadata, data, model and decision rule."""
    meta = audit.meta
    parts: list[str] = []
    data, model, decision = meta["data"], meta["model"], meta["decision"]
    window = data.get("window") or {}
    parts.append(f"<{h}>Scope</{h}>")
    parts.append(
        kv_table(
            [
                ("purpose", meta["audit"].get("purpose")),
                ("audit date", meta["audit"].get("audit_date")),
                ("distribution date of the tool", meta["audit"].get("distribution_date")),
                ("independent auditor (declared)", meta["audit"].get("auditor")),
                ("data", f"{data.get('source')} data"),
                ("data description", data.get("description")),
                (
                    "data window (as_of)",
                    f"{window['start']} to {window['end']}" if window else None,
                ),
                ("rows audited", data.get("n_rows")),
                ("employees", data.get("n_employees")),
                ("rows with outcomes", data.get("n_labeled")),
                ("rows without a sensitive record", data.get("rows_without_sensitive_record")),
                ("score", model.get("score")),
                ("model", model.get("class")),
                ("model version", model.get("label")),
                ("model fingerprint (booster sha256)", model.get("booster_sha256")),
                ("decision rule", decision.get("rule")),
                ("median score (full sample)", decision.get("median_score")),
                ("selected", decision.get("n_selected")),
            ]
        )
    )
    return parts


def _findings_section(audit: Any, h: str, h3: str) -> list[str]:
    """The findings (high, medium, low) and the notes (info)."""
    parts: list[str] = []
    flags = audit.flags
    parts.append(f"<{h}>Findings</{h}>")
    serious = flags[flags["severity"].isin(["high", "medium", "low"])] if len(flags) else flags
    if len(serious):
        parts.append(
            table(
                serious,
                [
                    ("severity", "severity", None),
                    ("code", "code", None),
                    ("message", "finding", None),
                ],
                row_class=lambda r: f"sev-{r['severity']}",
            )
        )
    else:
        parts.append("<p>No impact ratio under four-fifths and no significant disparity.</p>")
    info = flags[flags["severity"] == "info"] if len(flags) else flags
    if len(info):
        parts.append(f"<{h3}>Notes</{h3}>")
        parts.append(table(info, [("code", "code", None), ("message", "note", None)]))
    return parts


def _rates_section(audit: Any, h: str, h3: str) -> list[str]:
    """Impact-ratio plots, the rate tables, unknown categories and exclusions."""
    meta = audit.meta
    parts: list[str] = []
    parts.append(f"<{h}>Rates and impact ratios</{h}>")
    parts.append(
        note(
            "Impact ratio: a category's rate divided by the highest rate among the compared "
            "categories. Scoring rate: share of the category scoring above the full sample's "
            f"median. Intervals: percentile bootstrap ({meta['settings']['n_bootstrap']} "
            f"replicates, resampling {meta['settings']['bootstrap_unit']}s). p-value: "
            f"{meta['settings']['test']} test against the reference category."
        )
    )
    impact = audit.impact_ratios.reset_index()
    for kind in impact["kind"].unique():
        try:
            parts.append(
                svg_of(
                    lambda ax, k=kind: plot_impact_ratios(audit, kind=k, ax=ax),
                    (7.5, max(2.5, 0.3 * int((impact["kind"] == kind).sum()) + 1.2)),
                )
            )
        except ValueError:
            pass
    for (attr, kind), sub in impact.groupby(["attribute", "kind"], sort=False):
        sub = sub.assign(notes=sub.apply(_ratio_notes, axis=1))
        parts.append(f"<{h3}>{esc(attr)}: {esc(kind)} rates</{h3}>")
        parts.append(
            table(
                sub,
                [
                    ("group", "category", None),
                    ("n", "n", "d"),
                    ("share", "share", ".1%"),
                    ("n_selected", "n above" if kind == "scoring" else "n selected", "d"),
                    ("rate", f"{kind} rate", ".1%"),
                    ("impact_ratio", "impact ratio", ".3f"),
                    ("ci_low", "CI low", ".3f"),
                    ("ci_high", "CI high", ".3f"),
                    ("p_value", "p-value", ".3g"),
                    ("notes", "notes", None),
                ],
                row_class=lambda r: (
                    "sev-high"
                    if r["four_fifths"] and r["significant"]
                    else ("sev-medium" if r["four_fifths"] else "")
                ),
            )
        )
    parts.append(f"<{h3}>Unknown categories and exclusions</{h3}>")
    parts.append(
        table(
            audit.attributes.assign(parts=audit.attributes["parts"].map(" × ".join)),
            [
                ("attribute", "attribute", None),
                ("n_unknown", "unknown (not in any ratio)", "d"),
                ("share_unknown", "share", ".1%"),
            ],
        )
    )
    if len(audit.exclusions):
        parts.append(
            table(
                audit.exclusions,
                [
                    ("attribute", "attribute", None),
                    ("kind", "kind", None),
                    ("group", "category", None),
                    ("n", "n", "d"),
                    ("share", "share", ".2%"),
                    ("rate", "rate", ".1%"),
                    ("justification", "justification", None),
                ],
            )
        )
    else:
        parts.append("<p>No category was excluded.</p>")
    return parts


def _by_group_section(audit: Any, h: str, h3: str) -> list[str]:
    """Error rates and calibration by group."""
    parts: list[str] = []
    parts.append(f"<{h}>Error rates and calibration by group</{h}>")
    by = audit.by_group.reset_index()
    cols = [("attribute", "attribute", None), ("group", "category", None), ("n", "n", "d")]
    for c, label, spec in (
        ("selection_rate", "selection rate", ".1%"),
        ("scoring_rate", "scoring rate", ".1%"),
        ("mean_score", "mean score", ".3f"),
        ("n_labeled", "with outcome", "d"),
        ("base_rate", "outcome rate", ".1%"),
        ("tpr", "TPR", ".3f"),
        ("fpr", "FPR", ".3f"),
        ("precision", "precision", ".3f"),
        ("auc", "AUC", ".3f"),
        ("calibration_gap", "calibration gap", "+.3f"),
        ("ece", "ECE", ".3f"),
    ):
        if c in by.columns:
            cols.append((c, label, spec))
    parts.append(table(by, cols))
    return parts


def _proxies_section(audit: Any, h: str, h3: str) -> list[str]:
    """The proxy table (when the audit has one)."""
    parts: list[str] = []
    if audit.proxies is not None and len(audit.proxies):
        parts.append(f"<{h}>Proxies</{h}>")
        parts.append(
            note(
                "AUC: how well the feature alone separates a category from the others (0.5 = "
                "not at all). Gap share: the part of the worst-off category's score gap to the "
                "reference category that the feature carries (TreeSHAP, model margin)."
            )
        )
        px = audit.proxies.reset_index()
        px = px.sort_values(["proxy", "auc"], ascending=[False, False], kind="mergesort")
        px = px.groupby("attribute", sort=False).head(8)
        parts.append(
            table(
                px,
                [
                    ("attribute", "attribute", None),
                    ("feature", "feature", None),
                    ("auc", "AUC", ".3f"),
                    ("group", "separates", None),
                    ("direction", "direction", None),
                    ("proxy", "proxy", ".3f"),
                    ("catalog_proxy", "catalog proxy", ".3f"),
                    ("gap_group", "gap of", None),
                    ("gap_share", "gap share", ".1%"),
                ],
            )
        )
    return parts


def _gaps_section(audit: Any, h: str, h3: str) -> list[str]:
    """What carries the score gaps (TreeSHAP attribution)."""
    meta = audit.meta
    parts: list[str] = []
    if audit.gaps is not None and len(audit.gaps) and audit.gap_attribution is not None:
        parts.append(f"<{h}>What carries the score gaps</{h}>")
        fav = meta["decision"].get("favorable", "high")
        sign = 1.0 if fav == "high" else -1.0
        gaps = audit.gaps.assign(_k=sign * audit.gaps["gap"]).sort_values("_k")
        singles = gaps[~gaps["attribute"].str.contains(" × ", regex=False)]
        proxies = set()
        if audit.proxies is not None:
            px = audit.proxies.reset_index()
            proxies = set(px.loc[px["catalog_proxy"].fillna(False).astype(bool), "feature"])
        for r in singles.drop_duplicates("attribute").itertuples(index=False):
            parts.append(
                f"<p>{esc(r.attribute)} = {esc(r.group)} against {esc(r.reference)}: mean margin "
                f"gap {r.gap:+.3f} ({esc(r.scale)}).</p>"
            )
            parts.append(
                svg_of(
                    lambda ax, a=r.attribute, g=r.group: plot_gap_attribution(
                        audit.gap_attribution, attribute=a, group=g, highlight=proxies, ax=ax
                    ),
                    (7.5, 3.6),
                )
            )
    return parts


def _mitigation_section(audit: Any, h: str, h3: str) -> list[str]:
    """The mitigations tried (reported, not applied)."""
    parts: list[str] = []
    if audit.mitigation:
        parts.append(f"<{h}>Mitigation (reported, not applied)</{h}>")
        for m in audit.mitigation:
            parts.append(
                f"<{h3}>{esc(m.method)} ({esc(m.constraint)}) for {esc(m.attribute)}</{h3}>"
                + note(
                    f"Fitted on {m.n_fit} labelled rows, evaluated on {m.n_eval} others. "
                    f"Before: {esc(m.decision)}. {esc(' '.join(m.notes))}"
                )
            )
            parts.append(
                table(
                    m.summary.reset_index(names="metric"),
                    [
                        ("metric", "metric", None),
                        ("before", "before", ".3f"),
                        ("after", "after", ".3f"),
                        ("change", "change", "+.3f"),
                    ],
                )
            )
            parts.append(
                table(
                    m.by_group.reset_index(),
                    [
                        ("stage", "stage", None),
                        ("group", "category", None),
                        ("n", "n", "d"),
                        ("selection_rate", "selection rate", ".1%"),
                        ("impact_ratio", "impact ratio", ".3f"),
                        ("p_value", "p-value", ".3g"),
                        ("excluded", "excluded", ".0f"),
                        ("tpr", "TPR", ".3f"),
                        ("fpr", "FPR", ".3f"),
                    ],
                )
            )
    return parts


def _method_section(audit: Any, h: str, h3: str) -> list[str]:
    """The method notes (sources of the rules, exclusions, disclaimer)."""
    meta = audit.meta
    parts: list[str] = []
    parts.append(f"<{h}>Method</{h}>")
    parts.append(
        "<ul>"
        "<li>Protected attributes come only from the <code>sensitive</code> table and are "
        "joined inside the audit; this report holds aggregates only, no employee identifier.</li>"
        "<li>Four-fifths rule: EEOC Uniform Guidelines, 29 CFR 1607.4(D). Impact and scoring "
        "rates: 6 RCNY §5-300 and §5-301.</li>"
        f"<li>Categories under {fmt(meta['settings']['exclude_below'], '.0%')} of the rows are "
        "excluded from the ratios and listed with their count and rate; the unknown category is "
        "counted and never compared.</li>"
        "<li>This report documents what an audit measured; it is not legal advice, and the "
        "independence of the auditor is declared by the user.</li>"
        "</ul>"
    )
    return parts


def audit_sections(audit: Any, report: dict[str, Any], *, level: int = 2) -> str:
    """The HTML body sections of an audit (shared by the caregiver-hours report)."""
    h = f"h{level}"
    h3 = f"h{level + 1}"
    parts = _scope_section(audit, h, h3) + _findings_section(audit, h, h3)
    parts.append(f"<{h}>NYC Local Law 144 checklist</{h}>")
    parts.append(_ll144_html(report["ll144"]))
    for section in (
        _rates_section,
        _by_group_section,
        _proxies_section,
        _gaps_section,
        _mitigation_section,
        _method_section,
    ):
        parts += section(audit, h, h3)
    return "".join(parts)


def audit_to_html(audit: Any) -> str:
    """The self-contained HTML report of a :class:`~talentml.fairness.BiasAudit`."""
    report = audit_to_dict(audit)
    purpose = audit.meta["audit"].get("purpose") or "automated employment decision tool"
    body = (
        f"<h1>Bias audit: {esc(purpose)}</h1>"
        + note(
            f"talentml {esc(report['generator']['version'])}, report schema {SCHEMA_VERSION}. "
            "Machine-readable twin: <code>BiasAudit.to_json()</code>."
        )
        + audit_sections(audit, report)
    )
    return page(f"Bias audit: {purpose}", body)
