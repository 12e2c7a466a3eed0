"""The demo: an app on top of the library, the way a people-analytics team would use it.

:func:`run_demo` (``talentml demo`` / ``make demo``) simulates an organization, ingests its
xAPI statements, builds point-in-time features, trains, tracks and registers the three
models in MLflow (:mod:`talentml.tracking`), explains and audits them and writes one HTML
report (:mod:`talentml.report`). Nothing in the library imports this package.

>>> from talentml.demo import run_demo
"""

from __future__ import annotations

from ._models import DEMO_EXPERIMENT, DEMO_MODEL_NAMES, demo_experiment
from ._pipeline import run_pipeline
from ._run import run_demo

__all__ = ["DEMO_EXPERIMENT", "DEMO_MODEL_NAMES", "demo_experiment", "run_demo", "run_pipeline"]
