"""Persistence without pickle: boosters as UBJ, everything else as ``model.json``.

A saved model is a directory::

    model.json              format, class, params, fitted attributes, library versions
    booster.ubj             the main booster (XGBoost's Universal Binary JSON)
    survival_booster.ubj    FlightRisk's Cox booster, when fitted

``model.json`` holds only JSON values (arrays as ``{"__ndarray__": [...], "dtype": ...}``;
floats are written with Python's shortest round-trip repr, so they come back bit for bit).
Nothing is ever unpickled, so loading works where ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` is
``false``, and a model file cannot run code.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

__all__ = ["FORMAT", "load_model", "save_model"]

logger = logging.getLogger(__name__)

#: Identifier of the on-disk format (bumped on incompatible changes).
FORMAT = "talentml.models/1"
_PRIVATE_STATE = ("_names", "_seed")


def _classes() -> dict[str, type]:
    from ._flight_risk import FlightRisk
    from ._high_potential import HighPotential
    from ._ramp_up import RampUp

    return {c.__name__: c for c in (FlightRisk, HighPotential, RampUp)}


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufUO":
            raise TypeError(f"{where}: cannot save an array of dtype {value.dtype}")
        return {
            "__ndarray__": [_encode(v, where) for v in value.tolist()],
            "dtype": value.dtype.str if value.dtype.kind != "O" else "object",
        }
    if isinstance(value, (list, tuple)):
        return [_encode(v, where) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where}: dict keys must be strings to be saved")
        return {k: _encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(f"{where}: cannot save a value of type {type(value).__name__} without pickle")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            dtype = value["dtype"]
            items = [_decode(v) for v in value["__ndarray__"]]
            if dtype == "object":
                out = np.empty(len(items), dtype=object)
                out[:] = items
                return out
            return np.asarray(items, dtype=np.dtype(dtype))
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def save_model(model: Any, path: str | os.PathLike) -> Path:
    """Save a fitted talentml model to a directory, without pickle.

    Parameters
    ----------
    model : FlightRisk, HighPotential or RampUp
        A fitted model.
    path : str or os.PathLike
        Directory to write (created if needed; existing model files are replaced).

    Returns
    -------
    pathlib.Path
        The directory.

    Raises
    ------
    TypeError
        If a parameter or fitted attribute cannot be written as JSON (for example a
        ``numpy.random.RandomState`` as ``random_state``: it is saved as None, with a log).

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from talentml.models import HighPotential, load_model, save_model
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["u", "v"], 300)})
    >>> y = (X["a"] > 0).astype(int)
    >>> model = HighPotential(n_estimators=20, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     sorted(p.name for p in save_model(model, d).iterdir())
    ['booster.ubj', 'model.json']
    """
    from sklearn.utils.validation import check_is_fitted

    classes = _classes()
    name = type(model).__name__
    if name not in classes or not isinstance(model, classes[name]):
        raise TypeError(f"save_model saves talentml models {sorted(classes)}, got {name}")
    check_is_fitted(model)
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    params = model.get_params(deep=False)
    if params.get("random_state") is not None and not isinstance(
        params["random_state"], (int, np.integer)
    ):
        logger.warning(
            "save_model: random_state %r is not an int and is saved as None",
            type(params["random_state"]).__name__,
        )
        params["random_state"] = None
    state: dict[str, Any] = {}
    boosters: dict[str, str] = {}
    for key, value in vars(model).items():
        if not (key.endswith("_") and not key.startswith("_")) and key not in _PRIVATE_STATE:
            continue
        if key in params:
            continue
        if isinstance(value, xgb.Booster):
            filename = f"{key.rstrip('_')}.ubj"
            value.save_model(str(out / filename))
            boosters[key] = filename
            continue
        state[key] = _encode(value, key)
    document = {
        "format": FORMAT,
        "class": name,
        "params": _encode(params, "params"),
        "state": state,
        "boosters": boosters,
        "versions": {"talentml": _version(), "xgboost": xgb.__version__},
    }
    (out / "model.json").write_text(json.dumps(document, indent=1, allow_nan=True) + "\n")
    logger.info("saved %s to %s (%s)", name, out, ", ".join(sorted(boosters.values())))
    return out


def load_model(path: str | os.PathLike) -> Any:
    """Load a model saved by :func:`save_model` (no pickle involved).

    Parameters
    ----------
    path : str or os.PathLike
        The directory written by :func:`save_model`.

    Returns
    -------
    FlightRisk, HighPotential or RampUp
        The model, giving identical predictions.

    Raises
    ------
    ValueError
        If the directory is not a saved talentml model, or its format is unknown.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from talentml.models import RampUp, load_model
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=300)})
    >>> model = RampUp(n_estimators=20, random_state=0).fit(X, np.exp(4 + X["a"]))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = model.save(d)
    ...     again = load_model(d)
    >>> bool(np.array_equal(again.predict(X), model.predict(X)))
    True
    """
    root = Path(path)
    doc_path = root / "model.json"
    if not doc_path.is_file():
        raise ValueError(f"{root} is not a saved talentml model: model.json is missing")
    document = json.loads(doc_path.read_text())
    if document.get("format") != FORMAT:
        raise ValueError(
            f"{doc_path}: unknown format {document.get('format')!r} (this talentml reads "
            f"{FORMAT!r})"
        )
    classes = _classes()
    name = document.get("class")
    if name not in classes:
        raise ValueError(f"{doc_path}: unknown model class {name!r}")
    cls = classes[name]
    params = _decode(document["params"])
    valid = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"{doc_path}: parameters {unknown} are not parameters of {name}")
    model = cls(**params)
    for key, value in document["state"].items():
        setattr(model, key, _decode(value))
    for key, filename in document.get("boosters", {}).items():
        booster = xgb.Booster()
        booster.load_model(str(root / filename))
        setattr(model, key, booster)
    saved = document.get("versions", {}).get("xgboost")
    if saved and saved != xgb.__version__:
        logger.info("%s was saved with xgboost %s, loaded with %s", root, saved, xgb.__version__)
    return model


def _version() -> str:
    from .._version import __version__

    return __version__
