"""The model card logged with every tracked training run (Markdown and JSON)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["INTENDED_USES", "model_card"]

#: Intended use, permitted and prohibited uses, and limitations of each talentml model.
INTENDED_USES: dict[str, dict[str, Any]] = {
    "FlightRisk": {
        "purpose": (
            "Estimate the probability that an employee leaves voluntarily within the label "
            "horizon, with the reasons, so that managers and HR can offer support early "
            "(development, workload, recognition) to groups and individuals."
        ),
        "permitted": [
            "prioritizing retention conversations and stay interviews",
            "planning learning and development offers, reviewing them with the employee",
            "aggregate workforce planning (expected exits by team and quarter)",
        ],
        "prohibited": [
            "termination, demotion, pay or promotion decisions",
            "any automated decision about an individual without human review",
            "monitoring individuals' private lives or health; inferring protected traits",
        ],
    },
    "HighPotential": {
        "purpose": (
            "Estimate the probability of a promotion within the label horizon as one input to "
            "talent reviews and succession planning, with the reasons."
        ),
        "permitted": [
            "widening the pool considered in talent reviews (candidates humans may overlook)",
            "checking calibration of potential ratings across teams",
        ],
        "prohibited": [
            "excluding anyone from development or promotion on the score alone",
            "any automated decision about an individual without human review",
        ],
    },
    "RampUp": {
        "purpose": (
            "Estimate the days a new hire needs to reach productivity, with the reasons, to "
            "plan onboarding support and set fair expectations."
        ),
        "permitted": [
            "planning onboarding and mentoring capacity",
            "spotting new hires who may need more onboarding support",
        ],
        "prohibited": [
            "probation or termination decisions",
            "performance ratings of new hires",
        ],
    },
}

LIMITATIONS = [
    "Trained on historical records: it reproduces the patterns, and the biases, of past "
    "decisions and of who got recorded; see the bias audit before any use.",
    "Scores are probabilities for groups of similar employees, not certainties about a person.",
    "Reasons are the model's drivers (TreeSHAP), not causes: changing a driver need not change "
    "the outcome.",
    "Features reflect only the systems they come from (LRS, HRIS, reviews); learning done "
    "elsewhere, or off the record, is invisible.",
    "Performance degrades as the organization changes: monitor the prediction log and "
    "re-train on recent data; the evaluation below holds for the data window shown only.",
]


def _fmt(v: Any, spec: str = ".3f") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    if isinstance(v, float | np.floating):
        return format(float(v), spec)
    return str(v)


def model_card(
    *,
    model_class: str,
    model_name: str,
    model_version: str | None,
    data: dict[str, Any],
    metrics: pd.DataFrame,
    bands: dict[str, Any],
    features: list[str],
    by_group: pd.DataFrame | None = None,
    audit_flags: pd.DataFrame | None = None,
    run_id: str | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The model card as Markdown and as a JSON-able dict.

    Parameters
    ----------
    model_class : str
        ``FlightRisk``, ``HighPotential`` or ``RampUp``.
    model_name, model_version : str
        Registered name and version (version None when not registered).
    data : dict
        The data window and sizes (``as_of_min``, ``as_of_max``, ``n_train``, ``n_test``,
        ``n_employees``, ``split``, digests).
    metrics : pandas.DataFrame
        ``metric``, ``value``, ``ci_low``, ``ci_high``, ``n`` (from ``evaluate``).
    bands : dict
        The band thresholds (``Bands.to_dict()``).
    features : list of str
        Model columns.
    by_group : pandas.DataFrame, optional
        The bias audit's metrics by group (index ``attribute``, ``group``).
    audit_flags : pandas.DataFrame, optional
        The audit's flags.
    run_id : str, optional
        The MLflow run.
    params : dict, optional
        Hyperparameters.

    Returns
    -------
    tuple of (str, dict)
        Markdown text and the same content as a dict.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.tracking import model_card
    >>> text, doc = model_card(
    ...     model_class="FlightRisk", model_name="flight-risk", model_version="1",
    ...     data={"as_of_min": "2024-01-01", "as_of_max": "2024-12-01"},
    ...     metrics=pd.DataFrame({"metric": ["roc_auc"], "value": [0.8], "ci_low": [0.75],
    ...                           "ci_high": [0.85], "n": [500]}),
    ...     bands={"thresholds": [0.1, 0.2], "labels": ["low", "medium", "high"]},
    ...     features=["tenure_days"])
    >>> text.splitlines()[0]
    '# Model card: flight-risk (FlightRisk), version 1'
    >>> doc["uses"]["prohibited"][0]
    'termination, demotion, pay or promotion decisions'
    """
    uses = INTENDED_USES.get(model_class, {"purpose": "", "permitted": [], "prohibited": []})
    version = model_version or "unregistered"
    lines = [f"# Model card: {model_name} ({model_class}), version {version}", ""]
    if run_id:
        lines += [f"MLflow run `{run_id}`.", ""]
    lines += ["## Intended use", "", uses["purpose"], "", "Permitted uses:", ""]
    lines += [f"- {u}" for u in uses["permitted"]]
    lines += ["", "Prohibited uses:", ""]
    lines += [f"- {u}" for u in uses["prohibited"]]
    lines += [
        "",
        "Every prediction carries its reasons, the model name and version and a prediction id, "
        "and is appended to the prediction log (EU AI Act Art. 12 record-keeping). A human "
        "reviews every decision the score informs.",
        "",
        "## Data",
        "",
    ]
    lines += [f"- {k.replace('_', ' ')}: {v}" for k, v in data.items()]
    lines += ["", f"{len(features)} features (the catalog is logged with the run).", ""]
    lines += ["## Score bands", ""]
    labels = list(bands.get("labels", []))
    thresholds = list(bands.get("thresholds", []))
    for i, label in enumerate(labels):
        lo = thresholds[i - 1] if i > 0 else None
        hi = thresholds[i] if i < len(thresholds) else None
        rule = (
            f"score < {_fmt(hi, '.4g')}"
            if lo is None
            else (
                f"score >= {_fmt(lo, '.4g')}"
                if hi is None
                else f"{_fmt(lo, '.4g')} <= score < {_fmt(hi, '.4g')}"
            )
        )
        lines.append(f"- **{label}**: {rule}")
    if bands.get("source"):
        lines += ["", f"Set from: {bands['source']}."]
    lines += ["", "## Metrics (held-out rows, bootstrap 95% intervals)", ""]
    lines += ["| metric | value | 95% CI | n |", "|---|---|---|---|"]
    for r in metrics.to_dict("records"):
        lines.append(
            f"| {r['metric']} | {_fmt(r.get('value'))} | "
            f"[{_fmt(r.get('ci_low'))}, {_fmt(r.get('ci_high'))}] | {_fmt(r.get('n'))} |"
        )
    groups: list[dict[str, Any]] = []
    if by_group is not None and len(by_group):
        frame = by_group.reset_index()
        keep = [
            c
            for c in ("attribute", "group", "n", "selection_rate", "scoring_rate", "mean_score")
            if c in frame.columns
        ]
        keep += [c for c in ("base_rate", "tpr", "fpr", "auc", "calibration_gap") if c in frame]
        frame = frame[keep]
        groups = [
            {k: (None if pd.isna(v) else v) for k, v in r.items()} for r in frame.to_dict("records")
        ]
        lines += ["", "## Metrics by group (bias audit)", ""]
        lines += ["| " + " | ".join(keep) + " |", "|" + "---|" * len(keep)]
        for r in groups:
            lines.append("| " + " | ".join(_fmt(r[c]) for c in keep) + " |")
    flags: list[dict[str, Any]] = []
    if audit_flags is not None and len(audit_flags):
        flags = audit_flags.astype(object).to_dict("records")
        serious = [f for f in flags if f.get("severity") in ("high", "medium")]
        lines += ["", f"Audit flags: {len(flags)} ({len(serious)} high or medium severity).", ""]
        lines += [f"- [{f['severity']}] {f['message']}" for f in serious[:20]]
    elif by_group is None:
        lines += [
            "",
            "## Metrics by group",
            "",
            "No bias audit was run with this training (no sensitive table was given): audit the "
            "model with `talentml.fairness.audit` before any use.",
        ]
    lines += ["", "## Limitations", ""]
    lines += [f"- {x}" for x in LIMITATIONS]
    doc = {
        "model_name": model_name,
        "model_class": model_class,
        "model_version": version,
        "run_id": run_id,
        "uses": uses,
        "data": data,
        "features": list(features),
        "bands": bands,
        "metrics": [
            {k: (None if pd.isna(v) else v) for k, v in r.items()}
            for r in metrics.to_dict("records")
        ],
        "metrics_by_group": groups,
        "audit_flags": flags,
        "limitations": LIMITATIONS,
        "params": params or {},
    }
    return "\n".join(lines) + "\n", doc
