"""The prediction log, as :mod:`talentml.tracking` exports it.

The log belongs to serving (the layers of DESIGN.md put the prediction log in serving, below
tracking); these names stay importable from
:mod:`talentml.tracking` as before.
"""

from __future__ import annotations

from ..serving import (
    DEFAULT_LOG_PATH,
    LOG_ENV,
    PredictionLog,
    canonical_digests,
    read_prediction_log,
)

__all__ = [
    "DEFAULT_LOG_PATH",
    "LOG_ENV",
    "PredictionLog",
    "canonical_digests",
    "read_prediction_log",
]
