"""Datasets: a simulated organization with planted effects and ground truth, and loaders of
public HR tables.

>>> from talentml.datasets import simulate_workforce, Effects
"""

from __future__ import annotations

from ._effects import Effects
from ._public import (
    DATA_HOME_ENV,
    get_data_home,
    load_ibm_attrition,
    load_job_change,
    load_xapi_edu,
)
from ._simulate import SIMULATION_SECRET, Workforce, simulate_workforce
from ._truth import Truth

__all__ = [
    "DATA_HOME_ENV",
    "SIMULATION_SECRET",
    "Effects",
    "Truth",
    "Workforce",
    "get_data_home",
    "load_ibm_attrition",
    "load_job_change",
    "load_xapi_edu",
    "simulate_workforce",
]
