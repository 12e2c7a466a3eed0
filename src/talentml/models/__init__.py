"""Models: flight risk, ramp-up and high potential, calibrated and censoring-aware.

Scikit-learn estimators on XGBoost with native categoricals and documented monotone
constraints, taking a feature DataFrame (``talentml.features.build`` output or any tabular
frame) and the label frames of :mod:`talentml.labels`:

* :class:`FlightRisk` - calibrated probability of a voluntary exit within the horizon, and a
  Cox survival view (exit probability at 3, 6 and 12 months, conditional on tenure);
* :class:`RampUp` - interval-censored AFT model of the days to productivity;
* :class:`HighPotential` - calibrated probability of a promotion; :func:`nine_box` places
  people on the performance x potential grid with personas.

Models are saved without pickle (:func:`save_model`, :func:`load_model`). :func:`evaluate`
and :func:`backtest` (time-based, with :class:`TimeSplit`) measure them with bootstrap
confidence intervals, against an oracle where one is known.

>>> from talentml.models import FlightRisk
>>> FlightRisk().get_params()["calibration"]
'isotonic'
"""

from __future__ import annotations

from ._backtest import Backtest, TimeSplit, backtest
from ._base import PROTECTED_NAMES, SENSITIVE_COLUMNS
from ._evaluate import Evaluation, evaluate
from ._flight_risk import FLIGHT_RISK_MONOTONE, FlightRisk
from ._high_potential import HIGH_POTENTIAL_MONOTONE, HighPotential
from ._metrics import (
    concordance_index,
    concordance_index_ipcw,
    decile_table,
    expected_calibration_error,
    integrated_brier_score,
    interval_concordance_index,
    lift_at,
    mae_observed,
    quantile_coverage,
)
from ._nine_box import NINE_BOX_PERSONAS, nine_box, plot_nine_box
from ._persist import load_model, save_model
from ._plots import plot_calibration, plot_lift
from ._ramp_up import RAMP_UP_MONOTONE, RampUp

__all__ = [
    "Backtest",
    "Evaluation",
    "TimeSplit",
    "backtest",
    "concordance_index",
    "concordance_index_ipcw",
    "decile_table",
    "evaluate",
    "expected_calibration_error",
    "integrated_brier_score",
    "interval_concordance_index",
    "lift_at",
    "mae_observed",
    "plot_calibration",
    "plot_lift",
    "quantile_coverage",
    "FLIGHT_RISK_MONOTONE",
    "HIGH_POTENTIAL_MONOTONE",
    "NINE_BOX_PERSONAS",
    "RAMP_UP_MONOTONE",
    "PROTECTED_NAMES",
    "SENSITIVE_COLUMNS",
    "FlightRisk",
    "HighPotential",
    "RampUp",
    "load_model",
    "nine_box",
    "plot_nine_box",
    "save_model",
]
