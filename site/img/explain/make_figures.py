"""Figures of docs/explain.md, from a simulated organization (run from the repository root).

    .venv/bin/python docs/img/explain/make_figures.py

Simulates 600 employees over 2023-2025 (the default effects), builds every feature at monthly
cutoffs, fits a FlightRisk model, explains it, and writes the PNGs next to this script. It
also prints the figures quoted in the page (the planted disengaged leavers' reasons and the
recourse validity).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import talentml as tml
from talentml.datasets import SIMULATION_SECRET
from talentml.explain import (
    explain,
    plot_importance,
    plot_reasons,
    plot_segments,
    recourse,
)
from talentml.explain._design import import_shap
from talentml.models import FlightRisk

HERE = Path(__file__).resolve().parent


def save(name: str) -> None:
    plt.gcf().savefig(HERE / name, dpi=110, bbox_inches="tight")
    plt.close("all")
    print("wrote", name)  # noqa: T201


def main() -> None:
    os.environ.setdefault("TALENTML_SHOW_PROGRESS", "0")
    shap = import_shap()
    org = tml.datasets.simulate_workforce(
        n_employees=600, start="2023-01-01", end="2025-12-31", random_state=7, show_progress=False
    )
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    spine = tml.features.make_spine(org.employees, start="2023-06-01", end="2025-12-01", freq="MS")
    X = tml.features.build(
        spine,
        statements=statements,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
    )
    y = tml.labels.flight_risk(spine, org.employees, horizon="180D")
    model = FlightRisk(
        n_estimators=100, max_depth=4, learning_rate=0.1, max_bin=64, survival=False, random_state=0
    ).fit(X, y)
    ex = explain(model, X, employees=org.employees, job_events=org.job_events)

    # planted disengaged leavers: how often the drop-off is among their top-3 reasons
    people = org.employees.set_index("employee_id")
    disengaged = X["employee_id"].map(org.truth.latent.set_index("employee_id")["disengaged_at"])
    exit_at = X["employee_id"].map(people["termination_date"])
    voluntary = X["employee_id"].map(people["termination_type"]).eq("voluntary")
    leavers = (
        (disengaged < X["as_of"]) & voluntary & (exit_at - X["as_of"]).dt.days.between(0, 180)
    ).to_numpy()
    stayers = (disengaged.isna() & exit_at.isna()).to_numpy()
    reasons = ex.top_reasons(3, direction="up")
    named = reasons.loc[reasons["code"] == "FR-LEARN-DROPOFF-UP", ["employee_id", "as_of"]]
    keys = X[["employee_id", "as_of"]].merge(named.assign(hit=True), how="left")
    hit = keys["hit"].notna().to_numpy()
    print(  # noqa: T201
        f"drop-off among the top-3 reasons: planted leavers {hit[leavers].mean():.1%} "
        f"({leavers.sum()} rows), engaged stayers {hit[stayers].mean():.1%}"
    )

    # figures on the last cutoff
    last = X["as_of"] == X["as_of"].max()
    now = explain(model, X[last], employees=org.employees, job_events=org.job_events)
    sv = now.to_shap(grouped=True)
    shap.plots.beeswarm(sv, max_display=12, show=False)
    save("beeswarm.png")
    risk = now.margin.to_numpy()
    top = int(np.argmax(risk))
    shap.plots.waterfall(sv[top], max_display=10, show=False)
    save("waterfall.png")
    plot_importance(now, max_display=12)
    save("importance.png")
    plot_importance(now, by="family")
    save("families.png")
    plot_reasons(now, row=top, k=3)
    save("reasons.png")
    plot_segments(now, "department", max_display=8)
    save("segments.png")
    print(now.top_reasons(3, direction="up").iloc[:3][["code", "text"]].to_string(index=False))  # noqa: T201

    # recourse for the 40 highest-risk employees at the last cutoff, threshold: top quintile
    current = X[last].reset_index(drop=True)
    score = model.predict_proba(current)[:, 1]
    threshold = float(np.quantile(score, 0.8))
    rec = recourse(
        model, current.iloc[np.argsort(-score)[:40]], threshold=threshold, reference=current
    )
    counts = rec.summary["status"].value_counts().to_dict()
    print(f"recourse: {counts}, validity {rec.validity:.1%} (threshold {threshold:.3f})")  # noqa: T201
    print(rec.changes[["feature", "text"]].head(6).to_string(index=False))  # noqa: T201


if __name__ == "__main__":
    main()
