"""Explanations: exact TreeSHAP, reason codes in plain language, and recourse.

Every score of :mod:`talentml.models` can be explained:

* :func:`explain` (or a reusable :class:`Explainer`) computes exact path-dependent TreeSHAP
  values of the booster's margin - with XGBoost's TreeSHAP (GPUTreeShap on CUDA) or
  talentml's path-table algorithm, tens of times faster on CPU - and returns an
  :class:`Explanation`: ``values``, ``to_shap()`` for the shap plots, ``top_reasons(k)`` in
  words with stable codes and peer references, ``importance()`` and ``segments()``;
* :func:`recourse` finds the smallest changes to actionable features (never sensitive
  proxies) that move a FlightRisk or HighPotential score past a threshold, each checked by
  re-scoring with the model;
* :func:`plot_importance`, :func:`plot_reasons` and :func:`plot_segments` draw them.

>>> from talentml.explain import explain, recourse
"""

from __future__ import annotations

from ._plots import plot_importance, plot_reasons, plot_segments
from ._recourse import Recourse, recourse
from ._shap import Explainer, Explanation, explain

__all__ = [
    "Explainer",
    "Explanation",
    "Recourse",
    "explain",
    "plot_importance",
    "plot_reasons",
    "plot_segments",
    "recourse",
]
