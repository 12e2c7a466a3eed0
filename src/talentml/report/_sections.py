"""The sections of the report: one renderer per section, each returning its HTML.

Each renderer takes the checked inputs of :func:`~talentml.report.build_report` and shows
what the library already computed (tables, inline PNG figures, notes); nothing is re-fitted
or re-scored here.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from .._html import esc, fmt, kv_table, note, png_figure, scalar, table

__all__ = ["CSS", "SECTIONS"]


#: Section anchors (``id`` and ``data-section`` of each ``<section>``) and titles, in order.
SECTIONS: dict[str, str] = {
    "summary": "Organization and data",
    "flight-risk": "Flight risk: calibration and lift",
    "shap": "What drives the flight-risk score (SHAP)",
    "reasons": "Top reasons of the highest-risk employees",
    "nine-box": "9-box and personas",
    "ramp-up": "Ramp-up: predicted vs observed",
    "fairness": "Fairness",
    "actions": "Triggered actions",
    "calibration-flags": "Calibration flags",
    "team": "A manager's team view",
    "roi": "Return on the loop (ROI)",
    "mlflow": "MLflow runs",
}

_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}

#: The report's style sheet (inlined: the page loads nothing).
CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;
background:#fafafa;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:1.2em 2em}
header h1{margin:0 0 .2em 0;font-size:1.6em}
header p{margin:0;color:#d6e2f0}
nav{background:#fff;border-bottom:1px solid #ddd;padding:.6em 2em;position:sticky;top:0;z-index:1}
nav a{margin-right:1.1em;color:#1f3a5f;text-decoration:none;font-size:.92em}
nav a:hover{text-decoration:underline}
main{padding:0 2em 3em 2em;max-width:1200px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:1.5em 0;padding:.5em 1.5em 1.2em}
h2{color:#1f3a5f;border-bottom:2px solid #e8eef6;padding-bottom:.2em}
h3{color:#333;margin-top:1.3em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
thead th{background:#f0f4f9}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.sev-high td{background:#fdecea}
tr.sev-medium td{background:#fff4e5}
.figures{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}
figure{margin:.4em 0;display:table}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{display:table-caption;caption-side:bottom;font-size:.85em;color:#555;padding-top:.3em}
td.date{white-space:nowrap}
p.note,span.note{color:#666;font-size:.88em}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
"""


# ------------------------------------------------------------------------------ sections
def _summary(
    organization: dict[str, Any] | None,
    tables: dict[str, Any] | None,
    ingest: Any,
    settings: dict[str, Any] | None,
    max_rows: int,
) -> str:
    parts = []
    if organization:
        parts.append("<h3>The organization</h3>")
        parts.append(kv_table(organization.items()))
    if tables:
        parts.append("<h3>Tables (rows)</h3>")
        parts.append(kv_table(tables.items()))
    if ingest is not None:
        parts.append("<h3>xAPI ingest</h3>")
        parts.append(
            note(
                "Every statement read is accepted, a duplicate, voided or quarantined with a "
                "reason: <code>read = accepted + duplicates + voided + quarantined</code>."
            )
        )
        counts = [
            (k, int(getattr(ingest, k)))
            for k in ("read", "accepted", "duplicates", "voided", "quarantined")
        ]
        parts.append(kv_table(counts))
        reasons = getattr(ingest, "reasons", None)
        if isinstance(reasons, pd.DataFrame) and len(reasons):
            shown = reasons[reasons["outcome"].astype(str) != "accepted"]
            shown = shown.sort_values("count", ascending=False, kind="mergesort").head(max_rows)
            if len(shown):
                parts.append(
                    table(
                        shown,
                        [
                            ("outcome", "outcome", None),
                            ("reason", "reason", None),
                            ("count", "count", ",d"),
                        ],
                    )
                )
    if settings:
        parts.append("<h3>How this report was made</h3>")
        parts.append(kv_table(settings.items()))
    return "".join(parts)


def _metrics_table(ev: Any) -> str:
    cols = [
        ("metric", "metric", None),
        ("value", "value", ".4f"),
        ("ci_low", "CI low", ".4f"),
        ("ci_high", "CI high", ".4f"),
        ("n", "rows", ",d"),
        ("oracle", "oracle", ".4f"),
    ]
    settings = ev.settings
    level = settings.get("ci")
    boot = settings.get("n_bootstrap")
    text = f"{esc(settings.get('model', 'model'))} on {fmt(settings.get('n_rows'))} held-out rows"
    if boot:
        text += f"; {fmt(level, '.0%')} cluster-bootstrap intervals ({fmt(boot)} resamples)"
    if len(ev.excluded):
        left = ", ".join(
            f"{esc(r)} {fmt(int(n))}"
            for r, n in zip(ev.excluded["reason"], ev.excluded["n"], strict=True)
        )
        text += f"; left out: {left}"
    return note(text + ".") + table(ev.metrics, cols)


def _flight_risk(ev: Any) -> str:
    figs = [
        png_figure(
            lambda ax: ev.plot_calibration(ax),
            size=(5.5, 4.8),
            alt="calibration of the flight-risk model",
            caption="Observed exit rate against the mean predicted probability, by equal-mass "
            "bin (95% intervals). A calibrated model lies on the diagonal.",
            key="calibration",
        ),
        png_figure(
            lambda ax: ev.plot_lift(ax),
            size=(5.5, 4.8),
            alt="lift of the flight-risk model",
            caption="Exit rate of each tenth of predicted risk over the overall rate (1 = the "
            "highest risks); the line is the cumulative lift.",
            key="lift",
        ),
    ]
    return _metrics_table(ev) + f'<div class="figures">{"".join(figs)}</div>'


def _shap(ex: Any, max_rows: int) -> str:
    from ..explain import plot_importance

    top = max(5, min(20, max_rows))
    fig = png_figure(
        lambda ax: plot_importance(ex, max_display=top, ax=ax),
        size=(7.5, 0.35 * top + 1.4),
        alt="mean absolute SHAP value of each feature",
        caption=f"Mean |SHAP| of each business feature over {len(ex):,} rows "
        f"({esc(ex.margin_kind)} of the model), colored by family.",
        key="shap",
    )
    fam = ex.importance(by="family")
    fam_table = table(
        fam,
        [
            ("family", "family", None),
            ("mean_abs_contribution", "mean |SHAP|", ".4f"),
            ("share", "share", ".1%"),
        ],
    )
    return (
        note(
            "Exact TreeSHAP values of the model's margin: for every employee they add up to "
            "the score. Business features fold one-hot and grouped columns together."
        )
        + fig
        + "<h3>By feature family</h3>"
        + fam_table
    )


def _reasons(reasons: pd.DataFrame, max_rows: int) -> str:
    keys = ["employee_id", "as_of"] if "as_of" in reasons.columns else ["employee_id"]
    frame = reasons.copy()
    if "score" in frame.columns:
        order = frame.groupby(keys, sort=False)["score"].max().sort_values(ascending=False)
        chosen = order.index[:max_rows]
    else:
        chosen = frame[keys].drop_duplicates().head(max_rows)
        chosen = pd.MultiIndex.from_frame(chosen) if len(keys) > 1 else pd.Index(chosen[keys[0]])
    idx = pd.MultiIndex.from_frame(frame[keys]) if len(keys) > 1 else pd.Index(frame[keys[0]])
    rank = pd.Series(np.arange(len(chosen)), index=chosen)
    frame = frame[idx.isin(chosen)].copy()
    sel = pd.MultiIndex.from_frame(frame[keys]) if len(keys) > 1 else pd.Index(frame[keys[0]])
    frame["_order"] = rank.reindex(sel).to_numpy()
    sort = ["_order", "direction", "rank"] if "direction" in frame.columns else ["_order", "rank"]
    frame = frame.sort_values(sort, kind="mergesort")
    n_people = len(chosen)
    text = (
        f"The {n_people:,} employees with the highest score, and the drivers of their score in "
        "plain language (reason codes are stable; the peer value is the median of the "
        "employee's peer group at the same date). Sensitive proxies are marked and are never "
        "a basis for action."
    )
    if "score" not in reasons.columns:
        text = text.replace("with the highest score", "given")
    return note(text) + table(
        frame,
        [
            ("employee_id", "employee", None),
            ("as_of", "as of", None),
            ("score", "score", ".3f"),
            ("direction", "direction", None),
            ("rank", "rank", "d"),
            ("code", "code", None),
            ("text", "reason", None),
        ],
    )


def _nine_box(grid: pd.DataFrame, hipo: Any) -> str:
    from ..models import NINE_BOX_PERSONAS, plot_nine_box

    fig = png_figure(
        lambda ax: plot_nine_box(grid, ax=ax),
        size=(7.0, 6.0),
        alt="the 9-box grid with counts",
        caption="Performance from reviews (left to right) against potential from the "
        "high-potential model blended with learning agility (bottom to top); each box shows "
        "its count and share of the placed employees.",
        key="nine-box",
    )
    boxes = grid["box"].dropna().astype(int)
    counts = boxes.value_counts()
    total = int(counts.sum())
    personas = pd.DataFrame(
        {
            "box": list(NINE_BOX_PERSONAS),
            "persona": list(NINE_BOX_PERSONAS.values()),
            "n": [int(counts.get(b, 0)) for b in NINE_BOX_PERSONAS],
        }
    )
    personas["share"] = personas["n"] / total if total else np.nan
    parts = [fig, "<h3>Personas</h3>"]
    parts.append(
        table(
            personas.sort_values("box", ascending=False),
            [
                ("box", "box", "d"),
                ("persona", "persona", None),
                ("n", "employees", ",d"),
                ("share", "share", ".1%"),
            ],
        )
    )
    if "unplaced" in grid.columns:
        unplaced = grid["unplaced"].dropna().value_counts()
        if len(unplaced):
            parts.append(
                note(
                    "Not placed: "
                    + ", ".join(f"{fmt(int(n))} ({esc(r)})" for r, n in unplaced.items())
                    + "."
                )
            )
    if hipo is not None:
        parts.append("<h3>The high-potential model behind the potential axis</h3>")
        parts.append(_metrics_table(hipo))
    return "".join(parts)


def _ramp_up(ev: Any) -> str:
    pred = ev.predictions
    lo = pred["lower_days"].to_numpy(dtype=np.float64)
    up = pred["upper_days"].to_numpy(dtype=np.float64)
    days = pred["predicted_days"].to_numpy(dtype=np.float64)
    observed = np.isfinite(up)
    parts = [_metrics_table(ev)]
    figs = []
    if observed.any():
        qs = ev.settings.get("quantiles") or []
        names = [f"q{100 * q:g}" for q in qs]
        band = None
        if len(names) >= 2 and all(n in pred.columns for n in names):
            band = (
                pred[names[0]].to_numpy(dtype=np.float64)[observed],
                pred[names[-1]].to_numpy(dtype=np.float64)[observed],
            )

        def draw(ax: Any) -> None:
            mid = (lo[observed] + up[observed]) / 2.0
            y = days[observed]
            yerr = None
            if band is not None:
                yerr = np.vstack([np.clip(y - band[0], 0, None), np.clip(band[1] - y, 0, None)])
            xerr = np.vstack([mid - lo[observed], up[observed] - mid])
            ax.errorbar(
                mid,
                y,
                xerr=xerr,
                yerr=yerr,
                fmt="o",
                ms=3,
                alpha=0.6,
                elinewidth=0.6,
                color="tab:blue",
                ecolor="#9bb7d4",
                label="hires (observed ramp-up)",
            )
            hi = float(np.nanmax(np.r_[up[observed], y])) * 1.05
            ax.plot([0, hi], [0, hi], color="grey", linestyle=":", linewidth=1, label="perfect")
            ax.set_xlim(0, hi)
            ax.set_ylim(0, hi)
            ax.set_xlabel("observed days to productivity (interval)")
            ax.set_ylabel("predicted days (median)")
            ax.set_title(f"Ramp-up: predicted vs observed ({int(observed.sum()):,} hires)")
            ax.legend(loc="upper left", fontsize="small")

        figs.append(
            png_figure(
                draw,
                size=(5.5, 5.0),
                alt="predicted against observed ramp-up days",
                caption="Each point is a hire whose ramp-up was observed: the horizontal bar "
                "is the interval it happened in (productivity is measured monthly), the "
                "vertical bar the predicted 10-90% range.",
                key="ramp-up",
            )
        )
        if ev.settings.get("quantiles"):
            figs.append(
                png_figure(
                    lambda ax: ev.plot_calibration(ax),
                    size=(5.0, 5.0),
                    alt="quantile calibration of the ramp-up model",
                    caption="Share of observed ramp-ups below each predicted quantile; a "
                    "calibrated model lies on the diagonal.",
                    key="ramp-up-calibration",
                )
            )
    n_censored = int((~observed).sum())
    if n_censored:
        parts.append(
            note(
                f"{n_censored:,} hires had not ramped up when observation ended (right-censored):"
                " they count in the interval C-index, not in the plots."
            )
        )
    if figs:
        parts.append(f'<div class="figures">{"".join(figs)}</div>')
    return "".join(parts)


def _fairness(bias: Any, caregiver: Any, max_rows: int) -> str:
    parts = []
    if bias is not None:
        meta = bias.meta
        decision = meta.get("decision", {})
        info = [
            ("purpose", meta.get("audit", {}).get("purpose")),
            ("rows audited", meta.get("data", {}).get("n_rows")),
            ("decision rule", decision.get("rule")),
            ("selected", decision.get("n_selected")),
            ("attributes", ", ".join(bias.attributes["attribute"].astype(str))),
        ]
        parts.append("<h3>Bias audit</h3>")
        parts.append(kv_table([(k, v) for k, v in info if scalar(v) is not None]))
        kinds = bias.impact_ratios.index.get_level_values("kind").unique().tolist()
        figs = []
        for kind in ("selection", "scoring"):
            if kind not in kinds:
                continue
            n = int((bias.impact_ratios.xs(kind, level="kind")["excluded"] == False).sum())  # noqa: E712
            figs.append(
                png_figure(
                    lambda ax, kind=kind: bias.plot_impact_ratios(kind=kind, ax=ax),
                    size=(7.0, max(2.6, 0.28 * n + 1.3)),
                    alt=f"{kind}-rate impact ratios",
                    caption=f"{kind.capitalize()}-rate impact ratio of each category (its rate "
                    "over the highest category's rate) with 95% bootstrap intervals; under 0.8 "
                    "fails the four-fifths rule.",
                    key=f"impact-ratios-{kind}",
                )
            )
        parts.append(f'<div class="figures">{"".join(figs)}</div>')
        worst = bias.worst().reset_index()
        parts.append("<h3>Lowest impact ratio of each attribute</h3>")
        parts.append(
            table(
                worst,
                [
                    ("attribute", "attribute", None),
                    ("kind", "rate", None),
                    ("group", "category", None),
                    ("impact_ratio", "impact ratio", ".3f"),
                    ("ci_low", "CI low", ".3f"),
                    ("ci_high", "CI high", ".3f"),
                    ("p_value", "p-value", ".3g"),
                    ("n", "rows", ",d"),
                ],
            )
        )
        flags = bias.flags
        parts.append(f"<h3>Flags ({len(flags):,})</h3>")
        if len(flags):
            order = flags["severity"].map(_SEVERITY_ORDER).fillna(9)
            shown = flags.assign(_o=order).sort_values("_o", kind="mergesort").head(max_rows)
            parts.append(
                table(
                    shown,
                    [
                        ("severity", "severity", None),
                        ("attribute", "attribute", None),
                        ("group", "category", None),
                        ("kind", "rate", None),
                        ("code", "code", None),
                        ("message", "finding", None),
                    ],
                    row_class=lambda r: f"sev-{esc(r['severity'])}",
                )
            )
            if len(flags) > len(shown):
                parts.append(note(f"{len(flags) - len(shown):,} more flags in the audit."))
        else:
            parts.append(note("No flag: every compared category passes the checks."))
    if caregiver is not None:
        parts.append(_caregiver(caregiver))
    return "".join(parts)


def _caregiver(result: Any) -> str:
    meta = result.meta
    parts = [
        "<h3>Caregiver hours</h3>",
        note(
            "Learning counted outside working hours penalizes people with less free time, "
            "such as caregivers. The original model is compared with the off-hours "
            "contributions removed (neutralized) and with a model re-trained on the "
            "opportunity-normalized agility. Off-hours features: "
            f"{esc(', '.join(result.offhours_features)) or 'none'}."
        ),
    ]
    summary = result.summary.reset_index()
    parts.append(table(summary, result.summary_columns()))
    attrs = result.variants.index.get_level_values("attribute").unique().tolist()
    if "caregiver" in attrs:
        parts.append(
            png_figure(
                lambda ax: result.plot_variants("caregiver", ax=ax),
                size=(7.0, 3.2),
                alt="caregiver impact ratio of each variant",
                caption=f"{esc(meta.get('primary_kind', ''))}-rate impact ratio of caregivers: "
                "original model, off-hours contributions neutralized, re-trained (AUC in "
                "brackets).",
                key="caregiver",
            )
        )
    return "".join(parts)


def _actions(actions: pd.DataFrame, max_rows: int) -> str:
    group = [c for c in ("rule_id", "rule_name", "kind", "action") if c in actions.columns]
    counts = actions.groupby(group, dropna=False, sort=True).size().rename("n").reset_index()
    people = actions.groupby(group, dropna=False, sort=True)["employee_id"].nunique()
    counts["employees"] = people.to_numpy()
    parts = [
        note(
            f"{len(actions):,} actions for {actions['employee_id'].nunique():,} employees, "
            "each with the rule that fired, the facts it saw and a reason."
        ),
        table(
            counts,
            [
                ("rule_id", "rule", None),
                ("rule_name", "name", None),
                ("kind", "kind", None),
                ("action", "action", None),
                ("n", "actions", ",d"),
                ("employees", "employees", ",d"),
            ],
        ),
        "<h3>Actions</h3>",
        table(
            actions.head(max_rows),
            [
                ("employee_id", "employee", None),
                ("as_of", "as of", None),
                ("rule_id", "rule", None),
                ("action", "action", None),
                ("title", "title", None),
                ("target", "target", None),
                ("due_date", "due", None),
                ("reason", "reason", None),
            ],
        ),
    ]
    if len(actions) > max_rows:
        parts.append(note(f"First {max_rows:,} of {len(actions):,} actions."))
    return "".join(parts)


def _calibration_flags(flags: pd.DataFrame, max_rows: int) -> str:
    counts = flags["flag"].value_counts().rename_axis("flag").rename("n").reset_index()
    per_flag = max(1, max_rows // max(1, len(counts)))
    shown = flags.groupby("flag", sort=False).head(per_flag)
    return (
        note(
            f"{len(flags):,} flags for the calibration meeting, each with its evidence: a top "
            "rating with overdue or failed mandatory training, hidden gems, and gaps between "
            "managers' ratings and the model."
        )
        + table(counts, [("flag", "flag", None), ("n", "employees", ",d")])
        + f"<h3>Examples (up to {per_flag:,} per flag)</h3>"
        + table(
            shown,
            [
                ("employee_id", "employee", None),
                ("as_of", "as of", None),
                ("flag", "flag", None),
                ("direction", "direction", None),
                ("score", "score", ".3f"),
                ("evidence", "evidence", None),
            ],
        )
    )


def _mlflow(runs: pd.DataFrame, tracking_uri: str | None, ui: str | None) -> str:
    rows = []
    for r in runs.to_dict("records"):
        url = r.get("url")
        if scalar(url) is None and ui and scalar(r.get("experiment_id")) is not None:
            url = f"{ui.rstrip('/')}/#/experiments/{r['experiment_id']}/runs/{r['run_id']}"
        run = esc(r["run_id"])
        cell = f'<a href="{html.escape(str(url))}">{run}</a>' if scalar(url) is not None else run
        exp = esc(r.get("experiment_id"))
        rows.append(f"<tr><td>{esc(r['name'])}</td><td>{exp}</td><td><code>{cell}</code></td></tr>")
    parts = [
        "<table><thead><tr><th>run</th><th>experiment</th><th>run id</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    ]
    if tracking_uri:
        parts.append(
            note(
                f"Tracking store: <code>{esc(tracking_uri)}</code>. Open the MLflow UI with "
                f"<code>mlflow ui --backend-store-uri {esc(tracking_uri)} --host 127.0.0.1"
                "</code>" + (f" and browse to <code>{esc(ui)}</code>." if ui else ".")
            )
        )
    return "".join(parts)
