"""Render docs/img/roi.png: the ROI table and the survival curves, on the simulator.

Run from the repository root: ``python docs/scripts/roi_figures.py``. A 1,500-employee
organization (seed 0) is simulated with the Emerging Leaders retention effect on (hazard ratio
0.4); :func:`talentml.loop.roi` compares completers with matched non-participants. The figures
it logs are the ones quoted in ``docs/roi.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from talentml.datasets import simulate_workforce
from talentml.loop import roi

OUT = Path(__file__).resolve().parents[1] / "img" / "roi.png"
logger = logging.getLogger("roi_figures")


def main() -> Path:
    org = simulate_workforce(
        n_employees=1_500,
        random_state=0,
        effects={"program_retention": True, "program_retention_hazard_ratio": 0.4},
        show_progress=False,
    )
    lat = org.truth.latent.dropna(subset=["track_start"])
    participation = pd.DataFrame(
        {
            "employee_id": lat["employee_id"],
            "started_at": lat["track_start"],
            "completed_at": lat["track_end"],
        }
    )
    result = roi(
        "Emerging Leaders",
        employees=org.employees,
        participation=participation,
        reviews=org.reviews,
        costs={"per_participant": 3000, "hours_per_participant": 40},
        values={"annual_salary": 90_000, "value_per_rating_point": 1_000},
        assumptions={"minutes_per_manual_action": 12},
        actions=2_000,
        end=org.truth.end,
        n_bootstrap=200,
        random_state=0,
    )
    truth = org.truth.program_retention("365D")
    logger.info("truth: %s", truth)
    logger.info("retention:\n%s", result.retention.to_string())
    logger.info("productivity:\n%s", result.productivity.to_string())
    logger.info("money:\n%s", result.to_frame().to_string())
    logger.info("sensitivity:\n%s", result.sensitivity.to_string())

    fig = Figure(figsize=(13, 5.2))
    ax_curve, ax_table = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.25]})
    result.plot(ax=ax_curve)
    ax_curve.axhline(1 - truth["p_exit_without"], color="#999999", ls=":", lw=1)
    ax_curve.axhline(1 - truth["p_exit_completed"], color="#38761d", ls=":", lw=1)
    items = result.to_frame()
    shown = items[items["item"].isin([
        "participants", "difference in exit probability", "rating change", "exits avoided",
        "retention value", "hours saved", "efficiency value", "productivity value", "cost",
        "net value", "ROI", "per_participant", "annual_salary", "replacement_cost_multiple",
        "hourly_rate", "minutes_per_manual_action",
    ])]  # fmt: skip

    def num(v: float, item: str) -> str:
        if item in ("difference in exit probability", "rating change"):
            return f"{v:+.3f}"
        if item == "ROI":
            return f"{v:.0%}"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"

    cells = [
        [r["item"], num(r["value"], r["item"]),
         "" if r["kind"] == "assumption" or r["ci_low"] == r["ci_high"]
         else f"[{num(r['ci_low'], r['item'])}, {num(r['ci_high'], r['item'])}]", r["kind"]]
        for _, r in shown.iterrows()
    ]  # fmt: skip
    ax_table.axis("off")
    table = ax_table.table(
        cellText=cells, colLabels=["item", "value", "95% interval", "kind"], loc="center",
        colWidths=[0.42, 0.17, 0.29, 0.14],
    )  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1, 1.25)
    for (row, _), cell in table.get_celld().items():
        if row > 0 and cells[row - 1][3] == "assumption":
            cell.set_facecolor("#fff2cc")
    ax_table.set_title("Business case (yellow rows: assumptions set by the user)", fontsize=10)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=100, bbox_inches="tight")
    return OUT


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
