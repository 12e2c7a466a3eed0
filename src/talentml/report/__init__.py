"""The demo report: one self-contained HTML page of a talentml run.

:func:`build_report` takes the objects the library returns - :class:`~talentml.models.Evaluation`
of the flight-risk, high-potential and ramp-up models, an
:class:`~talentml.explain.Explanation` and its top reasons, the :func:`~talentml.models.nine_box`
grid, a :class:`~talentml.fairness.BiasAudit` and :class:`~talentml.fairness.CaregiverHours`,
the actions and calibration flags of :mod:`talentml.loop`, MLflow run ids - and writes one HTML
file with inline figures that opens from disk in any browser.

Examples
--------
>>> from talentml.report import SECTIONS
>>> list(SECTIONS)[:3]
['summary', 'flight-risk', 'shap']
"""

from __future__ import annotations

from ._build import SECTIONS, build_report

__all__ = ["SECTIONS", "build_report"]
