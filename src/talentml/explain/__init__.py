"""Explanations: exact TreeSHAP, reason codes in plain language, and recourse.

Every score of :mod:`talentml.models` can be explained:

* :func:`explain` (or a reusable :class:`Explainer`) computes exact path-dependent TreeSHAP
  values of the booster's margin - with XGBoost's TreeSHAP (GPUTreeShap on CUDA) or
  talentml's path-table algorithm, tens of times faster on CPU - and returns an
  :class:`Explanation`: ``values``, ``to_shap()`` for the shap plots, ``top_reasons(k)`` in
  words with stable codes and peer references, ``importance()`` and ``segments()``;
* :class:`ReasonCoder` is the one reason coder: the same texts for ``top_reasons`` and for
  :class:`talentml.serving.Scorer`; :func:`describe_columns` says how your own columns read
  (label, unit, template, actionable, direction, group), and columns without a description
  read as their name in words, 0/1 flags as yes/no;
* :func:`recourse` finds the smallest changes to actionable features (never sensitive
  proxies) that move a FlightRisk or HighPotential score past a threshold, each checked by
  re-scoring with the model;
* :func:`plot_importance`, :func:`plot_reasons` and :func:`plot_segments` draw them.

>>> from talentml.explain import ReasonCoder, describe_columns, explain, recourse
"""

from __future__ import annotations

from ._coder import ReasonCoder
from ._columns import column_label, describe_columns
from ._design import ModelView, model_view
from ._plots import plot_importance, plot_reasons, plot_segments
from ._recourse import Recourse, recourse
from ._shap import Explainer, Explanation, explain
from ._treeshap import TreeTables, UnsupportedBooster, tree_tables

__all__ = [
    "Explainer",
    "Explanation",
    "ModelView",
    "ReasonCoder",
    "Recourse",
    "TreeTables",
    "UnsupportedBooster",
    "column_label",
    "describe_columns",
    "explain",
    "plot_importance",
    "plot_reasons",
    "plot_segments",
    "model_view",
    "recourse",
    "tree_tables",
]
