"""talentml: close the loop between learning and performance.

Point-in-time features from xAPI learning records and HR data, flight-risk, ramp-up and
high-potential models, SHAP reason codes, bias audits and MLflow tracking.

Submodules are imported lazily, so ``import talentml as tml`` stays fast:

>>> import talentml as tml
>>> tml.__version__
'0.1.0.dev0'
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .config import config_context, get_config, set_config
from .exceptions import ConfigurationError, ContractError, PurposeLimitationError, TalentMLError

_SUBMODULES = (
    "datasets",
    "explain",
    "fairness",
    "features",
    "labels",
    "loop",
    "models",
    "report",
    "schemas",
    "serving",
    "tracking",
    "xapi",
)
# names re-exported from a submodule, imported on first use
_NAMES = {"FlightRisk": "models", "HighPotential": "models", "RampUp": "models"}

__all__ = [
    "ConfigurationError",
    "ContractError",
    "PurposeLimitationError",
    "TalentMLError",
    "__version__",
    "config_context",
    "get_config",
    "set_config",
    *_SUBMODULES,
    *_NAMES,
]

logging.getLogger(__name__).addHandler(logging.NullHandler())

if TYPE_CHECKING:  # pragma: no cover
    from . import datasets as datasets
    from . import explain as explain
    from . import fairness as fairness
    from . import features as features
    from . import labels as labels
    from . import loop as loop
    from . import models as models
    from . import report as report
    from . import schemas as schemas
    from . import serving as serving
    from . import tracking as tracking
    from . import xapi as xapi
    from .models import FlightRisk as FlightRisk
    from .models import HighPotential as HighPotential
    from .models import RampUp as RampUp


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'talentml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
