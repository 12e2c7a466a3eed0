"""The loop on the demo output: the parquet tables ``talentml demo`` writes, read back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import talentml as tml
from talentml.loop import (
    Role,
    RuleSet,
    bench_strength,
    calibration_flags,
    potential_bias,
    skill_profile,
)
from talentml.models import nine_box

AS_OF = "2025-03-01"
TALENTML = Path(sys.executable).parent / "talentml"

# `talentml demo` runs as a user runs it (a subprocess, like tests/test_cli.py): ~20 s.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("demo")
    args = ["--n-employees", "150", "--start", "2024-01-01", "--end", "2025-03-31", "--no-report"]
    res = subprocess.run(
        [str(TALENTML), "demo", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={"TALENTML_SHOW_PROGRESS": "0", "PATH": "/usr/bin:/bin", "HOME": str(out)},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    tables = {p.stem: pd.read_parquet(p) for p in sorted(Path(out, "tables").glob("*.parquet"))}
    assert {"statements", "employees", "reviews", "catalog", "sensitive"} <= set(tables)
    return tables


@pytest.fixture(scope="module")
def X(demo) -> pd.DataFrame:
    spine = tml.features.make_spine(demo["employees"], start=AS_OF, end=AS_OF, freq="MS")
    return tml.features.build(
        spine,
        statements=demo["statements"],
        employees=demo["employees"],
        reviews=demo["reviews"],
        competency_ratings=demo["competency_ratings"],
        job_events=demo["job_events"],
        course_catalog=demo["catalog"],
    )


def test_flags_nine_box_and_bench_on_the_demo_output(demo, X) -> None:
    # the catalog's skill lists come back from parquet as arrays: everything still reads them
    assert not isinstance(demo["catalog"]["skills"].iloc[0], list)
    flags = calibration_flags(
        X,
        model_score="potential_latest",
        manager_rating="rating_latest",
        statements=demo["statements"],
        course_catalog=demo["catalog"],
    )
    assert {"top_rating_noncompliant", "hidden_gem"} <= set(flags["flag"])
    grid = nine_box(X, potential=X["potential_latest"], agility="agility_standard_365d")
    assert grid["box"].notna().sum() > 100
    check = potential_bias(grid, demo["sensitive"], min_group=10)
    assert check.by_group["n"].sum() == (grid["performance_band"] == "high").sum()
    profile = skill_profile(demo["statements"], demo["catalog"], as_of=AS_OF)
    bench = bench_strength(Role("Analytics Lead", {"Data Analysis": 3, "SQL": 2}), X, profile)
    assert bench.summary().sum() == len(bench.candidates) > 0
    paths = bench.learning_paths(demo["catalog"])
    assert paths["target"].isin(demo["catalog"]["activity_id"]).all()


def test_rules_on_the_demo_output(demo, X) -> None:
    rules = RuleSet(
        [
            {
                "id": "pm-remediation",
                "when": [{"competency": "Project Management", "op": "<", "value": 3}],
                "then": [
                    {
                        "action": "enroll",
                        "target": "https://lms.acme.example/course/project-management-foundations",
                        "due_days": 30,
                    }
                ],
            }
        ]
    )
    actions = rules.evaluate(
        X, competency_ratings=demo["competency_ratings"], course_catalog=demo["catalog"]
    )
    assert len(actions) > 0
    assert actions["title"].eq("Project Management Foundations").all()  # from the catalog
