"""Render docs/img/leading_indicators.png and print the figures of docs/leading-indicators.md.

Run from the repository root: ``python docs/scripts/leading_indicators_figures.py``. It
simulates the 2,000-employee organization of the tests (``random_state=0``, default effects)
and its null twin (``random_state=1``, every effect off), finds the leading indicators of
ramp-up in the first 14 and 30 days, and compares the onboarding behaviour with the oracle:
the same estimator on the simulator's noise-free log days to productivity.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, Effects, simulate_workforce
from talentml.loop import leading_indicators

OUT = Path(__file__).resolve().parents[1] / "img" / "leading_indicators.png"
logger = logging.getLogger("leading_indicators_figures")


def _indicators(org, statements):
    return leading_indicators(
        "ramp_up",
        employees=org.employees,
        statements=statements,
        course_catalog=org.catalog,
        productivity=org.productivity,
        windows=("14D", "30D"),
    )


def _oracle(org, statements, sample) -> float:
    truth = org.truth.ramp_up_oracle(job_events=org.job_events)
    truth = truth[truth["employee_id"].isin(sample)]
    table = pd.DataFrame(
        {
            "employee_id": truth["employee_id"],
            "value": np.exp(truth["log_median"]),
            "measured_at": truth["hire_date"] + pd.Timedelta("365D"),
        }
    )
    r = leading_indicators(
        table,
        employees=org.employees,
        statements=statements,
        course_catalog=org.catalog,
        windows=("30D",),
        behaviours=["completed_onboarding"],
        scale="log",
        n_bootstrap=20,
    )
    return float(r.to_frame().iloc[0]["estimate"])


def main() -> Path:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = {}
    for name, org in (
        (
            "default effects",
            simulate_workforce(n_employees=2_000, random_state=0, show_progress=False),
        ),
        (
            "every effect off",
            simulate_workforce(
                n_employees=2_000, random_state=1, effects=Effects.none(), show_progress=False
            ),
        ),
    ):
        st = tml.xapi.ingest(
            org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
        ).statements
        r = _indicators(org, st)
        results[name] = r
        t = r.to_frame()
        logger.info("%s: %d tested, %d significant", name, len(t), int(t["significant"].sum()))
        for s in r.sentences(significant_only=False)[:14]:
            logger.info("  %s", s)
        if name == "default effects":
            sample = set(
                tml.labels.ramp_up(org.employees, org.productivity).query("observed")["employee_id"]
            )
            truth = _oracle(org, st, sample)
            row = t.set_index("column").loc["completed_onboarding_first_30d"]
            logger.info(
                "onboarding (30 days): estimate %.3f [%.3f, %.3f] (log days), oracle %.3f; "
                "%.1f%% [%.1f%%, %.1f%%] vs oracle %.1f%%",
                row["estimate"],
                row["ci_low"],
                row["ci_high"],
                truth,
                100 * row["effect"],
                100 * row["effect_low"],
                100 * row["effect_high"],
                100 * np.expm1(truth),
            )
            ax = r.plot(max_display=10)
            OUT.parent.mkdir(parents=True, exist_ok=True)
            ax.figure.savefig(OUT, dpi=110, bbox_inches="tight")
    return OUT


if __name__ == "__main__":
    main()
