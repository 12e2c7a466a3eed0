"""Datasets: a simulated organization with planted effects and ground truth.

>>> from talentml.datasets import simulate_workforce, Effects
"""

from __future__ import annotations

from ._effects import Effects
from ._simulate import SIMULATION_SECRET, Workforce, simulate_workforce
from ._truth import Truth

__all__ = ["SIMULATION_SECRET", "Effects", "Truth", "Workforce", "simulate_workforce"]
