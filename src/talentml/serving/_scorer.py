"""The scorer behind every predict path: score, band, reason codes, version and prediction id.

A :class:`Scorer` wraps a fitted talentml model with what serving needs and nothing else:

* **Score.** The calibrated probability (FlightRisk, HighPotential) or the median days to
  productivity (RampUp), from the booster's margin as the model's own ``predict_proba`` /
  ``predict`` (to 1e-5: one employee sums the leaves in float64, XGBoost in float32).
* **Band.** ``labels[i]`` where ``thresholds[i-1] <= score < thresholds[i]``; the thresholds
  are stored with the model and printed in its model card. By default (:meth:`Bands.from_scores`
  of the training rows) a probability is ``low`` below the base rate (the mean training
  score), ``medium`` from it and ``high`` from twice it; RampUp days are ``fast`` below the
  25th percentile, ``typical``, and ``slow`` from the 75th.
* **Reasons.** The top ``k`` TreeSHAP drivers in words with stable codes, worded by the
  model's :class:`talentml.explain.ReasonCoder` - the one that words
  :meth:`talentml.explain.Explanation.top_reasons`, so a served reason is the text
  ``explain`` gives for the same row and reference. The coder keeps the column descriptions
  and the peer medians of the reference population (by ``as_of`` and peer group, groups of at
  least ``min_peers``; no row of data); a request row is compared with the latest snapshot
  at or before its ``as_of`` (the latest one without ``as_of``). One employee needs no
  DataFrame between the input and the answer (about a millisecond).

A scorer is saved as a directory (``model/`` from :func:`talentml.models.save_model`,
``serving.json``, ``catalog.json``, ``reasons.json``): JSON and UBJ only, never pickle.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from ..explain import ReasonCoder
from ..tracking._log import canonical_digests

__all__ = ["BANDS_DOC", "SERVING_FORMAT", "Bands", "Scorer"]

logger = logging.getLogger(__name__)

#: Identifier of the on-disk format of a saved scorer.
SERVING_FORMAT = "talentml.serving/1"
#: Rows up to which the lean one-employee path is used.
SMALL_ROWS = 32
#: Output columns, after ``employee_id`` when the input has it.
OUTPUT_COLUMNS = ("score", "band", "reasons", "model_name", "model_version", "prediction_id")
MSG_SERVED_PEERS = (
    "Scorer: peers={peers!r} cannot be served: a request carries no employees table to rebuild "
    "teams, nor labels of the reference rows; use peers='auto', 'all', a column of the "
    "request (e.g. 'job_family') or None"
)
#: How bands are defined (quoted in the model card and the docs).
BANDS_DOC = (
    "band = labels[i] where thresholds[i-1] <= score < thresholds[i] (the first label below "
    "the first threshold, the last at or above the last one)"
)
_TASKS = {"FlightRisk": "probability", "HighPotential": "probability", "RampUp": "days"}
_DEFAULT_LABELS = {"probability": ("low", "medium", "high"), "days": ("fast", "typical", "slow")}
MAX_K = 20
_DIRECTIONS = ("both", "up", "down")


class Bands:
    """Ordered score bands: ``labels`` separated by ascending ``thresholds``.

    Parameters
    ----------
    thresholds : sequence of float
        Ascending cut points (one fewer than ``labels``).
    labels : sequence of str
        Band names, lowest scores first.
    source : str, default "given"
        How the thresholds were set (e.g. ``"training percentiles 70, 90"``).

    Examples
    --------
    >>> from talentml.serving import Bands
    >>> bands = Bands([0.2, 0.5], ["low", "medium", "high"])
    >>> bands.assign([0.1, 0.2, 0.7]).tolist()
    ['low', 'medium', 'high']
    """

    def __init__(
        self, thresholds: Sequence[float], labels: Sequence[str], *, source: str = "given"
    ) -> None:
        t = np.asarray(list(thresholds), dtype=np.float64)
        labels = [str(x) for x in labels]
        if t.ndim != 1 or len(labels) != len(t) + 1:
            raise ValueError(
                f"bands need one more label than thresholds, got {len(labels)} labels and "
                f"{t.size} thresholds"
            )
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
            raise ValueError(f"band thresholds must be finite and ascending, got {t.tolist()}")
        self.thresholds = t
        self.labels = labels
        self.source = source
        self._labels = np.asarray(labels, dtype=object)

    def __repr__(self) -> str:
        return f"Bands(thresholds={self.thresholds.tolist()}, labels={self.labels})"

    def assign(self, scores: Any) -> np.ndarray:
        """The band of each score (an object array of labels)."""
        s = np.asarray(scores, dtype=np.float64)
        return self._labels[np.searchsorted(self.thresholds, s, side="right")]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (thresholds, labels, source and the rule)."""
        return {
            "thresholds": self.thresholds.tolist(),
            "labels": list(self.labels),
            "source": self.source,
            "rule": BANDS_DOC,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Bands:
        """Rebuild bands from :meth:`to_dict`."""
        return cls(doc["thresholds"], doc["labels"], source=str(doc.get("source", "given")))

    @classmethod
    def from_scores(cls, scores: Any, *, task: str = "probability") -> Bands:
        """The default bands of a reference population's scores (the training rows).

        * probabilities: ``low`` below the mean score (the population's base rate),
          ``medium`` from it, ``high`` from twice it (capped below 1);
        * days (RampUp): ``fast`` below the 25th percentile, ``typical``, ``slow`` from the
          75th percentile.

        Parameters
        ----------
        scores : array-like
            Scores of the reference rows.
        task : {"probability", "days"}, default "probability"
            What the scores are.

        Returns
        -------
        Bands
            With ``source`` saying how they were set.

        Examples
        --------
        >>> from talentml.serving import Bands
        >>> Bands.from_scores([0.05, 0.1, 0.25]).thresholds.round(3).tolist()
        [0.133, 0.267]
        """
        s = np.asarray(scores, dtype=np.float64)
        s = s[np.isfinite(s)]
        if s.size == 0:
            raise ValueError("cannot set bands from an empty set of scores")
        if task == "days":
            t = np.percentile(s, [25.0, 75.0])
            return cls(
                [float(x) for x in t],
                _DEFAULT_LABELS["days"],
                source="reference percentiles 25 and 75 of predicted days",
            )
        if task != "probability":
            raise ValueError(f"task must be 'probability' or 'days', got {task!r}")
        base = float(np.mean(s))
        high = min(2.0 * base, (1.0 + base) / 2.0)
        return cls(
            [base, high],
            _DEFAULT_LABELS["probability"],
            source="reference mean score (base rate) and twice it",
        )


def _catalog_records(catalog: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v if isinstance(v, list | tuple) or not pd.isna(v) else None) for k, v in r.items()}
        for r in catalog.astype(object).to_dict("records")
    ]


def _catalog_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records)
    if len(frame) == 0:
        return frame
    for col in frame.columns:
        if col in ("actionable", "sensitive_proxy"):
            frame[col] = frame[col].fillna(False).astype(bool)
        elif col != "levels":
            frame[col] = frame[col].astype("string")
    return frame


def _new_ids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as strings."""
    if n <= 64:
        return [str(uuid.uuid4()) for _ in range(n)]
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = raw.view(f"S{16}").ravel()
    out = []
    for b in hexes:
        h = b.hex() if len(b) == 16 else bytes(b).ljust(16, b"\0").hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


class Scorer:
    """Score, band and reason codes of a fitted talentml model, for serving.

    Parameters
    ----------
    model : FlightRisk, HighPotential or RampUp
        A fitted model.
    model_name : str, optional
        The name predictions carry (the registered model name); default the class name.
    model_version : str, optional
        The registered version predictions carry (default ``"unregistered"``).
    bands : Bands or mapping, optional
        Score bands (a :class:`Bands`, or ``{"thresholds": [...], "labels": [...]}``).
        Default: percentiles of ``reference``'s scores.
    reference : pandas.DataFrame, optional
        Rows (the training population) whose score percentiles set the default bands.
    k : int, default 3
        Reasons per prediction.
    direction : {"up", "down", "both"}, default "up"
        Which drivers are reasons: those raising the score (the default: why the risk, the
        potential or the days are high), lowering it, or both (``k`` of each).
    catalog : pandas.DataFrame or mapping, optional
        How the reason texts say each column: the feature catalog (default
        :func:`talentml.features.catalog`), :func:`talentml.explain.describe_columns` of your
        own columns (alone or with the catalog), or a mapping for it.
    peers : str or None, default "auto"
        Peer groups of the reference medians in the texts: ``"all"``, a column of the
        requests (e.g. ``"job_family"``), ``"auto"`` (job family when the reference has it,
        else all) or None (no peer reference). Needs ``reference``.
    min_peers : int, default 5
        Smallest peer group whose median is kept.
    coder : talentml.explain.ReasonCoder, optional
        A fitted reason coder (then ``catalog``, ``peers`` and ``min_peers`` are its own).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.serving import Scorer
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 400),
    ...                   "tenure_days": rng.uniform(30, 3000, 400)})
    >>> y = (rng.random(400) < X["days_since_last_activity"] / 150).astype(int)
    >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
    >>> scorer = Scorer(model, model_name="flight-risk", reference=X)
    >>> out = scorer.predict(X.head(2))
    >>> out.columns.tolist()
    ['score', 'band', 'reasons', 'model_name', 'model_version', 'prediction_id']
    >>> bool(np.allclose(out["score"], model.predict_proba(X.head(2))[:, 1]))
    True
    """

    def __init__(
        self,
        model: Any,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
        bands: Bands | Mapping[str, Any] | None = None,
        reference: pd.DataFrame | None = None,
        k: int = 3,
        direction: str = "up",
        catalog: pd.DataFrame | Mapping | None = None,
        peers: str | None = "auto",
        min_peers: int = 5,
        coder: ReasonCoder | None = None,
    ) -> None:
        from ..explain._design import model_view
        from ..explain._treeshap import UnsupportedBooster, tree_tables

        cls = type(model).__name__
        if cls not in _TASKS:
            raise TypeError(
                f"Scorer serves talentml models {sorted(_TASKS)}, got {cls}; fit one of them"
            )
        self.model = model
        self.task = _TASKS[cls]
        self.view = model_view(model)
        self.model_name = str(model_name or cls)
        self.model_version = str(model_version) if model_version is not None else "unregistered"
        self.k = _check_k(k)
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
        self.direction = direction
        self.features = list(self.view.feature_names)
        self.categorical = set(self.view.categories)
        if coder is None:
            if peers is not None and (not isinstance(peers, str) or peers == "team"):
                raise ValueError(MSG_SERVED_PEERS.format(peers=peers))
            coder = ReasonCoder(
                catalog=catalog, groups="auto", peers=peers, min_peers=min_peers
            ).fit(model, reference)
            # a served answer never depends on the other rows of a request
            coder.flags_fixed_ = True
        else:
            coder.check_columns(self.features)
            if coder.peer_name_ == "team":
                raise ValueError(MSG_SERVED_PEERS.format(peers="team"))
        self.coder = coder
        self.catalog = coder.catalog_
        self.business = coder.business_
        self._numeric_idx = np.asarray(
            [j for j, c in enumerate(self.features) if c not in self.categorical], dtype=np.int64
        )
        self._categorical_idx = [j for j, c in enumerate(self.features) if c in self.categorical]
        # one-thread copy of the booster for a few rows: XGBoost's thread pool costs tens of
        # milliseconds per call on a busy machine, the prediction itself well under one
        self._booster_one = self.view.booster.copy()
        self._booster_one.set_param({"nthread": 1})
        try:
            self._tables = tree_tables(self.view.booster)
        except UnsupportedBooster as err:  # pragma: no cover - talentml boosters are gbtree
            logger.info("serving: %s; reasons use XGBoost's TreeSHAP", err)
            self._tables = None
        self._link = self._make_link()
        self._explainer = None
        self._column_pos: dict[tuple, tuple] = {}
        self._peer_field = self.coder.peer_field
        if isinstance(bands, Bands):
            self.bands = bands
        elif bands is not None:
            self.bands = Bands.from_dict(
                {"source": "given", **dict(bands)}
                if "labels" in bands
                else {
                    "thresholds": bands["thresholds"],
                    "labels": _DEFAULT_LABELS[self.task],
                    "source": "given",
                }
            )
        elif reference is not None:
            self.bands = Bands.from_scores(self.scores(reference), task=self.task)
        else:
            raise ValueError(
                "Scorer needs bands or a reference population to set them (e.g. the training "
                "rows): pass bands={'thresholds': [...], 'labels': [...]} or reference=X"
            )
        self._warm()

    # ------------------------------------------------------------------ set-up
    def _make_link(self):
        model = self.model
        if self.task == "probability":
            from ..models._calibration import apply_calibrator

            state = getattr(model, "calibrator_", None)
            return lambda margin: apply_calibrator(state, margin)
        from ..models._survival import aft_z

        shift = float(model.distribution_scale) * float(aft_z(model.distribution, [0.5])[0])
        return lambda margin: np.exp(np.asarray(margin, dtype=np.float64) + shift)

    def _warm(self) -> None:
        """Compile and cache the TreeSHAP kernels now, not on the first request."""
        if self._tables is not None:
            probe = np.full((len(self.features), 1), np.nan)
            self._tables.shap(probe, n_jobs=1)

    def __repr__(self) -> str:
        return (
            f"Scorer({type(self.model).__name__} as {self.model_name!r} version "
            f"{self.model_version}, {len(self.features)} features, bands {self.bands.labels})"
        )

    # --------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the scorer to a directory (``model/``, ``serving.json``, ``catalog.json``,
        ``reasons.json``: the reason coder's column descriptions and peer medians).

        Parameters
        ----------
        path : str or os.PathLike
            The directory (created).

        Returns
        -------
        pathlib.Path
            The directory.

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> from talentml.models import HighPotential
        >>> from talentml.serving import Scorer
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"rating_latest": rng.integers(1, 6, 300).astype(float)})
        >>> model = HighPotential(n_estimators=10, random_state=0).fit(X, X["rating_latest"] > 3)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     sorted(p.name for p in Scorer(model, reference=X).save(d).iterdir())
        ['catalog.json', 'model', 'reasons.json', 'serving.json']
        """
        from ..models import save_model

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        save_model(self.model, out / "model")
        (out / "serving.json").write_text(json.dumps(self.config(), indent=1) + "\n")
        (out / "catalog.json").write_bytes(orjson.dumps(_catalog_records(self.catalog)))
        (out / "reasons.json").write_bytes(orjson.dumps(self.coder.to_dict()))
        return out

    def config(self) -> dict[str, Any]:
        """The serving settings saved with the model (``serving.json``)."""
        return {
            "format": SERVING_FORMAT,
            "model_class": type(self.model).__name__,
            "task": self.task,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "bands": self.bands.to_dict(),
            "reasons": {"k": self.k, "direction": self.direction},
            "features": list(self.features),
            "categorical": sorted(self.categorical),
            "peers": self.coder.peer_name_,
        }

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> Scorer:
        """Load a scorer saved by :meth:`save` (no pickle).

        Parameters
        ----------
        path : str or os.PathLike
            The directory.
        model_name, model_version : str, optional
            Override the name and version saved with it.

        Returns
        -------
        Scorer
            The scorer.

        Examples
        --------
        >>> import tempfile, numpy as np, pandas as pd
        >>> from talentml.models import HighPotential
        >>> from talentml.serving import Scorer
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"rating_latest": rng.integers(1, 6, 300).astype(float)})
        >>> model = HighPotential(n_estimators=10, random_state=0).fit(X, X["rating_latest"] > 3)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     again = Scorer.load(Scorer(model, reference=X, model_name="hipo").save(d))
        >>> again.model_name, again.model_version
        ('hipo', 'unregistered')
        """
        from ..models import load_model

        root = Path(path)
        doc_path = root / "serving.json"
        if not doc_path.is_file():
            raise ValueError(f"{root} is not a saved talentml scorer: serving.json is missing")
        doc = json.loads(doc_path.read_text())
        if doc.get("format") != SERVING_FORMAT:
            raise ValueError(
                f"{doc_path}: unknown format {doc.get('format')!r} (this talentml reads "
                f"{SERVING_FORMAT!r})"
            )
        catalog = _catalog_frame(orjson.loads((root / "catalog.json").read_bytes()))
        reasons = doc.get("reasons", {})
        model = load_model(root / "model")
        coder_path = root / "reasons.json"
        if coder_path.is_file():
            coder = ReasonCoder.from_dict(orjson.loads(coder_path.read_bytes()))
        else:  # saved before the reason coder: no peer medians
            coder = ReasonCoder(catalog=catalog, peers=None).fit(model)
            coder.flags_fixed_ = True
        return cls(
            model,
            model_name=model_name or doc.get("model_name"),
            model_version=model_version or doc.get("model_version"),
            bands=Bands.from_dict(doc["bands"]),
            k=int(reasons.get("k", 3)),
            direction=str(reasons.get("direction", "up")),
            coder=coder,
        )

    # -------------------------------------------------------------------- inputs
    def _positions(self, columns: pd.Index) -> tuple[list[int], int | None]:
        key = tuple(columns)
        hit = self._column_pos.get(key)
        if hit is not None:
            return hit
        names = [str(c) for c in columns]
        where = {c: j for j, c in enumerate(names)}
        self._lacks([c for c in self.features if c not in where])
        pos = ([where[c] for c in self.features], where.get("employee_id"))
        if len(self._column_pos) < 64:
            self._column_pos[key] = pos
        return pos

    def _lacks(self, missing: list[str]) -> None:
        if missing:
            more = " ..." if len(missing) > 10 else ""
            raise ValueError(
                f"X lacks {len(missing)} model column(s) of {self.model_name}: {missing[:10]}{more}"
            )

    def _small_design(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(design (n, p), raw values (n, p) as objects, employee ids) for a few rows."""
        pos, id_pos = self._positions(X.columns)
        raw = X.to_numpy(dtype=object)
        ids = raw[:, id_pos] if id_pos is not None else None
        return self._encode(raw[:, pos], list(X.index)), raw[:, pos], ids

    def _records_design(
        self, rows: Sequence[Mapping[str, Any]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """As :meth:`_small_design`, from mappings (no DataFrame on the way)."""
        self._lacks(sorted({c for r in rows for c in self.features if c not in r}))
        values = np.empty((len(rows), len(self.features)), dtype=object)
        for i, r in enumerate(rows):
            values[i] = [r[c] for c in self.features]
        ids = None
        if any("employee_id" in r for r in rows):
            ids = np.asarray([r.get("employee_id") for r in rows], dtype=object)
        return self._encode(values, list(range(len(rows)))), values, ids

    def _encode(self, values: np.ndarray, index: list) -> np.ndarray:
        """The booster's input (float64, NaN missing, category codes) of raw values."""
        n = len(values)
        design = np.empty((n, len(self.features)), dtype=np.float64)
        num = self._numeric_idx
        if len(num):
            block = values[:, num]
            try:
                if any(isinstance(v, str) for v in block.flat):
                    raise ValueError("text in a numeric column")
                design[:, num] = block.astype(np.float64)
            except (TypeError, ValueError):
                for j in num:
                    col = self.features[j]
                    column = values[:, j]
                    bad = [i for i, v in enumerate(column) if not (_missing(v) or _is_number(v))]
                    if bad:
                        raise ValueError(
                            f"X: column {col!r} must be numeric; rows "
                            f"{[index[i] for i in bad[:10]]} hold {[column[i] for i in bad[:3]]}"
                        ) from None
                    design[:, j] = [np.nan if _missing(v) else float(v) for v in column]
        levels = self.view._level_index
        for j in self._categorical_idx:
            index_of = levels[self.features[j]]
            design[:, j] = [
                np.nan if _missing(v) else index_of.get(str(v), np.nan) for v in values[:, j]
            ]
        inf = np.isinf(design)
        if inf.any():
            j = int(np.flatnonzero(inf.any(axis=0))[0])
            rows = [index[i] for i in np.flatnonzero(inf[:, j])[:10]]
            raise ValueError(
                f"X: column {self.features[j]!r} holds infinite values in rows {rows}; use "
                "NaN (null) for unknown values."
            )
        return design

    # ------------------------------------------------------------------- outputs
    def scores(self, X: pd.DataFrame) -> np.ndarray:
        """Scores only (probability, or median days for RampUp), for any number of rows.

        Parameters
        ----------
        X : pandas.DataFrame
            Rows with the model's columns.

        Returns
        -------
        numpy.ndarray
            One score per row.
        """
        design = self._design(X)
        return self._scores(design)

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        if len(X) <= SMALL_ROWS:
            return self._small_design(X)[0]
        self._positions(X.columns)
        return self.view.design_array(X)

    def _scores(self, design: np.ndarray) -> np.ndarray:
        if len(design) == 0:
            return np.zeros(0, dtype=np.float64)
        if len(design) <= SMALL_ROWS and self._tables is not None:
            # a few rows: the sum of the leaves each row reaches, in float64, without a call
            # into XGBoost (its per-call overhead is most of the time for one employee); it
            # equals XGBoost's float32 sum within 1e-5
            margin = self._tables.base_margin + self._tables.leaf_sum(design.T)
        else:
            booster = self._booster_one if len(design) <= SMALL_ROWS else self.view.booster
            margin = booster.inplace_predict(design, predict_type="margin")
        return np.asarray(self._link(np.asarray(margin, dtype=np.float64).reshape(-1)))

    def predict(
        self, X: pd.DataFrame, *, k: int | None = None, direction: str | None = None
    ) -> pd.DataFrame:
        """Score, band, reasons, model name and version and a prediction id for each row.

        Parameters
        ----------
        X : pandas.DataFrame
            Rows with the model's columns (``employee_id`` is passed through; other columns
            are ignored).
        k : int, optional
            Reasons per row (default: the scorer's ``k``).
        direction : {"up", "down", "both"}, optional
            Which drivers are reasons (default: the scorer's).

        Returns
        -------
        pandas.DataFrame
            Index of ``X``; ``employee_id`` (when given), ``score``, ``band``, ``reasons``
            (JSON text: a list of ``{"rank", "direction", "code", "feature", "text",
            "contribution"}``), ``model_name``, ``model_version``, ``prediction_id`` (UUID).

        Examples
        --------
        >>> import json, numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> from talentml.serving import Scorer
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"days_since_last_activity": rng.exponential(30, 400),
        ...                   "tenure_days": rng.uniform(30, 3000, 400)})
        >>> y = (rng.random(400) < X["days_since_last_activity"] / 150).astype(int)
        >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
        >>> one = X.loc[[X["days_since_last_activity"].idxmax()]]
        >>> out = Scorer(model, reference=X).predict(one.assign(employee_id="E1"), k=1)
        >>> out["band"].item(), json.loads(out["reasons"].item())[0]["code"]
        ('high', 'FR-LEARN-INACTIVE-DAYS-UP')
        """
        return self._predict(X, k=k, direction=direction)[0]

    def _predict(
        self,
        X: pd.DataFrame | Sequence[Mapping[str, Any]],
        *,
        k: int | None = None,
        direction: str | None = None,
        digests: bool = False,
        reasons: bool = True,
    ) -> tuple[pd.DataFrame, list[str] | None, list[list[str]]]:
        """(output frame, input digests or None, reason codes per row).

        ``X`` is a DataFrame, or a list of mappings (one per employee: no DataFrame is built
        on the way in, the fastest path for a service).
        """
        records = not isinstance(X, pd.DataFrame)
        if records and not (isinstance(X, list | tuple) and all(isinstance(r, Mapping) for r in X)):
            raise TypeError(
                "X must be a pandas DataFrame or a list of mappings {column: value}, got "
                f"{type(X).__name__}"
            )
        k = self.k if k is None else _check_k(k)
        direction = self.direction if direction is None else direction
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
        n = len(X)
        if records and n > SMALL_ROWS:
            X = pd.DataFrame(list(X))
            records = False
        index = pd.RangeIndex(n) if records else X.index
        if n <= SMALL_ROWS:
            design, values, ids = self._records_design(X) if records else self._small_design(X)
            scores = self._scores(design)
            why = (
                self._reasons(X, design, values, k=k, direction=direction)
                if reasons and n
                else [[] for _ in range(n)]
            )
            digest = None
            if digests:
                digest = canonical_digests(
                    _digest_rows(design, values, self.features, self.categorical), self.features
                )
        else:
            self._positions(X.columns)
            design = self.view.design_array(X)
            scores = self._scores(design)
            why = (
                self._reasons(X, design, None, k=k, direction=direction)
                if reasons
                else [[] for _ in range(n)]
            )
            ids = X["employee_id"].to_numpy(dtype=object) if "employee_id" in X.columns else None
            digest = None
            if digests:
                raw = X[self.features].to_numpy(dtype=object)
                digest = canonical_digests(
                    _digest_rows(design, raw, self.features, self.categorical), self.features
                )
        out: dict[str, Any] = {}
        if ids is not None:
            out["employee_id"] = [None if _missing(v) else str(v) for v in ids]
        out["score"] = scores
        out["band"] = self.bands.assign(scores)
        out["reasons"] = [orjson.dumps(r).decode() for r in why]
        out["model_name"] = [self.model_name] * n
        out["model_version"] = [self.model_version] * n
        out["prediction_id"] = _new_ids(n)
        frame = pd.DataFrame(out, index=index)
        codes = [[r["code"] for r in rs] for rs in why]
        return frame, digest, codes

    # -------------------------------------------------------------------- reasons
    def _shap_rows(self, design: np.ndarray) -> np.ndarray:
        if self._tables is not None:
            return self._tables.shap(design.T, n_jobs=1 if len(design) <= SMALL_ROWS else None)
        import xgboost as xgb  # pragma: no cover - fallback for boosters without tables

        dm = xgb.DMatrix(
            design,
            feature_names=self.view.booster.feature_names,
            feature_types=self.view.booster.feature_types,
            enable_categorical=True,
        )
        return self._booster_one.predict(dm, pred_contribs=True)[:, :-1]

    def _reasons(self, X: Any, design: np.ndarray, raw: Any, *, k: int, direction: str):
        """The reasons of each row (lists of dicts), worded by the model's ReasonCoder.

        ``raw``: the model columns as given (n, p), or None to read categories from ``X``.
        """
        at = labels = None
        name = self._peer_field
        if self.coder.reference_ is not None and isinstance(X, pd.DataFrame):
            at = X["as_of"] if "as_of" in X.columns else None
            labels = X[name].to_numpy(dtype=object) if name in X.columns else None
        elif self.coder.reference_ is not None:  # mappings
            at = [r.get("as_of") for r in X] if any("as_of" in r for r in X) else None
            labels = [r.get(name) for r in X] if name is not None else None
        return self.coder.records(
            self._shap_rows(design),
            design,
            labels={
                (c := self.features[j]): X[c].to_numpy(dtype=object) if raw is None else raw[:, j]
                for j in self._categorical_idx
            },
            as_of=at,
            groups=None if labels is None else [None if _missing(v) else str(v) for v in labels],
            k=k,
            direction=direction,
        )

    def explainer(self):
        """An :class:`talentml.explain.Explainer` wording reasons with this scorer's coder."""
        if self._explainer is None:
            from ..explain import Explainer

            self._explainer = Explainer(self.model, coder=self.coder, show_progress=False)
        return self._explainer


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= MAX_K:
        raise ValueError(f"k (reasons per prediction) must be an integer in 1..{MAX_K}, got {k!r}")
    return int(k)


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and v != v


def _is_number(v: Any) -> bool:
    if isinstance(v, bool | np.bool_ | int | float | np.integer | np.floating):
        return True
    return False


def _digest_rows(
    design: np.ndarray, raw: np.ndarray, features: list[str], categorical: set[str]
) -> list[list[Any]]:
    """Rows of the canonical input: numbers from the design, category labels as given."""
    cat = [j for j, c in enumerate(features) if c in categorical]
    rows = design.astype(object)
    if cat:
        rows[:, cat] = raw[:, cat]
    return rows.tolist()
