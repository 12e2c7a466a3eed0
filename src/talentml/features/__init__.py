"""Point-in-time features: the spine, the feature families, the feature catalog.

A feature at ``(employee_id, as_of)`` sees only facts available strictly before ``as_of``:
statements by ``stored``, reviews and competency ratings by ``submitted_at``, HR events by
``recorded_at``. Windows are explicit, nothing reads the clock. Statement-scale work runs as
SQL on DuckDB, or on Spark when PySpark DataFrames are passed in; results come back in the
kind that went in.

>>> import talentml as tml
>>> cat = tml.features.catalog()
>>> sorted(cat["family"].unique())
['hris', 'learning', 'learning_baseline', 'reviews']
"""

from __future__ import annotations

from ._build import DEFAULT_WINDOWS, build, build_report, catalog
from ._competency import competency_column, competency_snapshot
from ._spine import make_spine

__all__ = [
    "DEFAULT_WINDOWS",
    "build",
    "build_report",
    "catalog",
    "competency_column",
    "competency_snapshot",
    "make_spine",
]
