"""The small simulated organization shared by the ``test_loop_*`` files, and its own checks.

``small_world()`` simulates 300 employees over 2.5 years, ingests their raw xAPI statements
(with the organization's identities) and builds the point-in-time features on a monthly spine
of three ``as_of`` dates. It is built once per process (``functools.lru_cache``), so every
loop test file reuses it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, Workforce, simulate_workforce

AS_OF = ("2025-01-01", "2025-02-01", "2025-03-01")


@dataclass(frozen=True)
class World:
    org: Workforce
    statements: pd.DataFrame
    X: pd.DataFrame
    flight_risk: pd.Series  # the truth's 180-day exit probability: an oracle model score


@functools.cache
def small_world() -> World:
    org = simulate_workforce(
        n_employees=300, start="2023-01-01", end="2025-06-30", random_state=7, show_progress=False
    )
    result = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET, show_progress=False
    )
    spine = tml.features.make_spine(org.employees, start=AS_OF[0], end=AS_OF[-1], freq="MS")
    X = tml.features.build(
        spine,
        statements=result.statements,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
    )
    risk = org.truth.exit_probability(X[["employee_id", "as_of"]], "180D")
    return World(org=org, statements=result.statements, X=X, flight_risk=risk.rename("flight_risk"))


def test_world_is_point_in_time_and_complete() -> None:
    world = small_world()
    X = world.X
    assert sorted(X["as_of"].dt.strftime("%Y-%m-%d").unique()) == list(AS_OF)
    assert not X.duplicated(["employee_id", "as_of"]).any()
    # every statement used was stored before the latest as_of it could feed
    assert world.statements["stored"].notna().all()
    assert world.flight_risk.between(0, 1).all()
    assert world.flight_risk.index.equals(X.index)
