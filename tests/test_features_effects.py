"""The simulator's planted effects are visible in the features (docs/simulator.md).

One 2,000-employee organization over 2023-2025 (the session fixture ``org``), monthly cutoffs
from February 2023: about 71,000 spine rows. Sensitive attributes (caregiver status) are read
here, in the test, to check the features; the features themselves never see them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml.datasets import SIMULATION_SECRET

# the simulator's planted effects, seen through the features (run once: see conftest.py)
pytestmark = pytest.mark.statistical


@pytest.fixture(scope="module")
def features(org):
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    spine = tml.features.make_spine(org.employees, start="2023-02-01", end="2025-12-01", freq="MS")
    X = tml.features.build(
        spine,
        statements=statements,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
    )
    people = org.employees[["employee_id", "hire_date", "termination_date", "termination_type"]]
    return X.merge(people, on="employee_id", how="left")


def test_learning_drops_off_before_voluntary_exits(features):
    X = features
    days_to_exit = (X["termination_date"] - X["as_of"]).dt.days
    leaving = X[(X["termination_type"] == "voluntary") & days_to_exit.between(1, 90)]
    staying = X[X["termination_date"].isna()]
    assert len(leaving) > 500
    drop = "voluntary_dropoff_30d_vs_prior_90d"
    # voluntary learning falls in the months before a voluntary exit (disengagement)
    assert leaving[drop].mean() > staying[drop].mean() + 0.2
    assert (
        leaving["n_voluntary_completions_90d"].mean()
        < 0.8 * staying["n_voluntary_completions_90d"].mean()
    )
    assert (
        leaving["days_since_last_activity"].mean()
        > 1.4 * staying["days_since_last_activity"].mean()
    )


def test_offhours_share_by_caregiver_status(features, org):
    X = features.merge(org.sensitive[["employee_id", "caregiver"]], on="employee_id")
    active = X[X["n_statements_90d"] >= 5]
    by = active.groupby("caregiver")
    share = by["offhours_share_90d"].mean()
    # planted: caregivers start 9% of their learning off-hours, others 35%
    assert share[True] == pytest.approx(0.09, abs=0.03)
    assert share[False] == pytest.approx(0.35, abs=0.03)
    # the same amount of learning...
    volume = by["n_statements_90d"].mean()
    assert volume[True] == pytest.approx(volume[False], rel=0.06)
    # ...so the naive off-hours agility penalizes caregivers, the normalized one does not
    naive = by["agility_offhours_90d"].mean()
    assert naive[True] < 0.5 * naive[False]
    fair = by["agility_per_workday_90d"].mean()
    assert fair[True] == pytest.approx(fair[False], rel=0.06)
    standard = by["agility_standard_90d"].mean()
    assert standard[True] == pytest.approx(standard[False], rel=0.06)


def test_onboarding_engagement_predicts_ramp_up(features, org):
    X = features
    hires = X[X["hire_date"] >= pd.Timestamp("2023-01-01", tz="UTC")]
    # the first monthly cutoff at least 31 days after the hire date: the first 30 days are known
    after = hires[hires["as_of"] >= hires["hire_date"] + pd.Timedelta(days=31)]
    first = after.sort_values("as_of").groupby("employee_id", as_index=False).head(1)
    ramp = first.merge(org.truth.productivity, on="employee_id")
    assert len(ramp) > 300
    r = np.corrcoef(ramp["onboarding_completions_first_30d"], np.log(ramp["days_to_productivity"]))[
        0, 1
    ]
    # planted: about -0.55
    assert -0.7 < r < -0.35


@pytest.mark.slow
def test_no_effect_in_the_null_world(org_null):
    statements = tml.xapi.ingest(
        org_null.raw_statements, identities=org_null.identities, secret=SIMULATION_SECRET
    ).statements
    spine = tml.features.make_spine(
        org_null.employees, start="2024-01-01", end="2025-12-01", freq="QS"
    )
    X = tml.features.build(
        spine,
        statements=statements,
        employees=org_null.employees,
        course_catalog=org_null.catalog,
        features=["offhours_share_90d", "n_statements_90d"],
    ).merge(org_null.sensitive[["employee_id", "caregiver"]], on="employee_id")
    share = X[X["n_statements_90d"] >= 5].groupby("caregiver")["offhours_share_90d"].mean()
    assert share[True] == pytest.approx(share[False], abs=0.03)
