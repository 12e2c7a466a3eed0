"""Render docs/img/team_heatmap.png and docs/img/team_progress.png for docs/team-view.md.

Run from the repository root: ``python docs/scripts/team_view_figures.py``. It simulates the
2,000-employee organization of the tests (``random_state=0``, default effects), ingests the
learning records, and draws the team view of manager ``E002485`` on 2025-06-01 (11 direct
reports in Customer Success; the export's snapshot puts them under another manager, who took
the team over in August 2025: the view rebuilds the team as it was). It also prints the
numbers quoted on the docs page.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, simulate_workforce
from talentml.loop import Role, RuleSet, team_view

IMG = Path(__file__).resolve().parents[1] / "img"
logger = logging.getLogger("team_view_figures")

ROLES = {
    "Customer Support": Role(
        "Support Specialist", {"Client Management": 2, "Product Knowledge": 2}
    ),
    "Marketing": Role("Marketer", {"Presentation Skills": 2, "Data Visualization": 1}),
}
RULES = RuleSet(
    [
        {
            "id": "pm-remediation",
            "kind": "remediation",
            "when": [{"competency": "Project Management", "op": "<", "value": 3}],
            "then": [
                {
                    "action": "enroll",
                    "target": "https://lms.acme.example/course/project-management-foundations",
                    "title": "Project Management Fundamentals",
                    "due_days": 30,
                }
            ],
        }
    ]
)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    org = simulate_workforce(n_employees=2_000, random_state=0, show_progress=False)
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET, show_progress=False
    ).statements
    view = team_view(
        "E002485",
        "2025-06-01",
        employees=org.employees,
        competency_ratings=org.competency_ratings,
        statements=statements,
        reviews=org.reviews,
        job_events=org.job_events,
        course_catalog=org.catalog,
        roles=ROLES,
        ruleset=RULES,
    )
    IMG.mkdir(parents=True, exist_ok=True)
    ax = view.plot_heatmap()
    ax.figure.savefig(IMG / "team_heatmap.png", dpi=110, bbox_inches="tight")
    ax = view.plot_progress()
    ax.figure.savefig(IMG / "team_progress.png", dpi=110, bbox_inches="tight")
    logger.info("%r", view)
    logger.info("heatmap statuses:\n%s", view.heatmap["status"].value_counts().to_string())
    logger.info("agility ranking:\n%s", view.agility.to_string())
    logger.info("suggestions:\n%s", view.suggestions[["employee_id", "action", "title"]])


if __name__ == "__main__":
    main()
