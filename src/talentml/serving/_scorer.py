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

* **Guard.** Every request is checked against the model's training profile
  (:class:`~talentml.serving.TrainingProfile`) by the :class:`~talentml.serving.InputGuard`:
  sensitive attributes or labels are refused; each row gets ``input_warnings`` (a value
  missing where training never was, outside the training range, an unknown category, a
  value of the wrong type converted, columns the model does not use); a row on imputed
  evidence is answered with the band ``"low confidence"`` (``on_missing="flag"``) or refused
  (``on_missing="refuse"``).

A scorer is saved as a directory (``model/`` from :func:`talentml.models.save_model`,
``serving.json``, ``catalog.json``, ``reasons.json``, ``profile.json`` and ``manifest.json``
with the SHA-256 of every file): JSON and UBJ only, never pickle.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from .._validation import renamed_parameters
from ..explain import ReasonCoder
from ._bands import (
    _DEFAULT_LABELS,
    BANDS_DOC,
    MAX_K,
    Bands,
    _catalog_frame,
    _catalog_records,
    _check_k,
    _digest_rows,
    _missing,
    _new_ids,
)
from ._guard import LOW_CONFIDENCE, ON_MISSING, REFUSED, InputGuard, warning_codes
from ._inputs import encode_frame, encode_values
from ._integrity import MANIFEST, verify_model_dir, write_manifest
from ._predlog import canonical_digests
from ._profile import TrainingProfile

__all__ = ["BANDS_DOC", "MAX_K", "SERVING_FORMAT", "Bands", "Scorer"]

logger = logging.getLogger(__name__)

#: Identifier of the on-disk format of a saved scorer.
SERVING_FORMAT = "talentml.serving/1"
#: Rows up to which the lean one-employee path is used.
SMALL_ROWS = 32
#: Output columns, after ``employee_id`` when the input has it.
OUTPUT_COLUMNS = (
    "score",
    "band",
    "reasons",
    "input_warnings",
    "model_name",
    "model_version",
    "prediction_id",
)
MSG_SERVED_PEERS = (
    "Scorer: peers={peers!r} cannot be served: a request carries no employees table to rebuild "
    "teams, nor labels of the reference rows; use peers='auto', 'all', a column of the "
    "request (e.g. 'job_family') or None"
)
_DIRECTIONS = ("both", "up", "down")


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
    feature_catalog : pandas.DataFrame or mapping, optional
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
        A fitted reason coder (then ``feature_catalog``, ``peers`` and ``min_peers`` are its own).
    profile : TrainingProfile or mapping, optional
        The training profile the input guard checks requests against. Default: made from
        ``reference`` (the training rows); without either, only the model's own category
        levels are known (no ranges, no missing shares; logged).
    on_missing : {"flag", "refuse"}, default "flag"
        What a row on imputed evidence (a value missing where training never was, an unknown
        category) gets: the band ``"low confidence"`` with its score, or a refusal
        (:class:`~talentml.serving.InputRefusedError`). A request may choose per call.

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
    >>> out.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['score', 'band', 'reasons', 'input_warnings', 'model_name', 'model_version',
     'prediction_id']
    >>> bool(np.allclose(out["score"], model.predict_proba(X.head(2))[:, 1]))
    True
    """

    @renamed_parameters(catalog="feature_catalog")
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
        feature_catalog: pd.DataFrame | Mapping | None = None,
        peers: str | None = "auto",
        min_peers: int = 5,
        coder: ReasonCoder | None = None,
        profile: TrainingProfile | Mapping[str, Any] | None = None,
        on_missing: str = "flag",
    ) -> None:
        from ..explain import UnsupportedBooster, model_view, tree_tables

        cls = type(model).__name__
        kind = getattr(type(model), "prediction_kind", None)
        if kind not in ("probability", "days") or not hasattr(model, "prediction_from_margin"):
            raise TypeError(
                "Scorer serves the talentml models (FlightRisk, HighPotential, RampUp: their "
                f"class attribute prediction_kind says what they serve), got {cls}; fit one "
                "of them"
            )
        self.model = model
        self.task = kind
        self.view = model_view(model)
        self.model_name = str(model_name or cls)
        self.model_version = str(model_version) if model_version is not None else "unregistered"
        self.k = _check_k(k)
        if direction not in _DIRECTIONS:
            raise ValueError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
        self.direction = direction
        self.on_missing = _check_on_missing(on_missing)
        self.features = list(self.view.feature_names)
        self.categorical = set(self.view.categories)
        if coder is None:
            if peers is not None and (not isinstance(peers, str) or peers == "team"):
                raise ValueError(MSG_SERVED_PEERS.format(peers=peers))
            coder = ReasonCoder(
                feature_catalog=feature_catalog, groups="auto", peers=peers, min_peers=min_peers
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
        given: Bands | None = None
        if isinstance(bands, Bands):
            given = bands
        elif bands is not None:
            given = Bands.from_dict(
                {"source": "given", **dict(bands)}
                if "labels" in bands
                else {
                    "thresholds": bands["thresholds"],
                    "labels": _DEFAULT_LABELS[self.task],
                    "source": "given",
                }
            )
        elif reference is None:
            raise ValueError(
                "Scorer needs bands or a reference population to set them (e.g. the training "
                "rows): pass bands={'thresholds': [...], 'labels': [...]} or reference=X"
            )
        reference_scores = None
        if reference is not None and (given is None or profile is None):
            reference_scores = self.scores(reference)
        self.bands = (
            given if given is not None else Bands.from_scores(reference_scores, task=self.task)
        )
        if isinstance(profile, TrainingProfile):
            self.profile = profile
        elif profile is not None:
            self.profile = TrainingProfile.from_dict(profile)
        elif reference is not None:
            self.profile = TrainingProfile.from_frame(
                reference,
                features=self.features,
                categorical=self.view.categories,
                scores=reference_scores,
                feature_catalog=self.catalog,
                task=self.task,
            )
        else:
            logger.info(
                "Scorer %s: no reference rows, so no training profile: the input guard knows "
                "the category levels only (no ranges, no missing shares)",
                self.model_name,
            )
            self.profile = TrainingProfile.from_model(self.features, self.view.categories)
        self.guard = InputGuard(
            self.profile,
            self.features,
            self.categorical,
            model_name=self.model_name,
            extra=[self._peer_field] if self._peer_field else (),
        )
        self._warm()

    # ------------------------------------------------------------------ set-up
    def _make_link(self):
        return self.model.prediction_from_margin

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
        ... # doctest: +NORMALIZE_WHITESPACE
        ['catalog.json', 'manifest.json', 'model', 'profile.json', 'reasons.json',
         'serving.json']
        """
        from ..models import save_model

        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        save_model(self.model, out / "model")
        (out / "serving.json").write_text(json.dumps(self.config(), indent=1) + "\n")
        (out / "catalog.json").write_bytes(orjson.dumps(_catalog_records(self.catalog)))
        (out / "reasons.json").write_bytes(orjson.dumps(self.coder.to_dict()))
        (out / "profile.json").write_bytes(
            orjson.dumps(self.profile.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)
        )
        stale = out / MANIFEST
        if stale.exists():
            stale.unlink()
        write_manifest(out)
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
            "on_missing": self.on_missing,
        }

    @classmethod
    def load(
        cls,
        path: str | os.PathLike,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
        expected_digest: str | None = None,
    ) -> Scorer:
        """Load a scorer saved by :meth:`save` (no pickle), after checking its files.

        Parameters
        ----------
        path : str or os.PathLike
            The directory.
        model_name, model_version : str, optional
            Override the name and version saved with it.
        expected_digest : str, optional
            The digest recorded when the model was logged (the tracking store's); the files
            must match it.

        Returns
        -------
        Scorer
            The scorer.

        Raises
        ------
        talentml.serving.ModelIntegrityError
            A pickle in the directory, or files that do not match ``manifest.json`` (or
            ``expected_digest``).

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
        verify_model_dir(root, expected=expected_digest)
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
            coder = ReasonCoder(feature_catalog=catalog, peers=None).fit(model)
            coder.flags_fixed_ = True
        profile_path = root / "profile.json"
        profile = None
        if profile_path.is_file():
            profile = TrainingProfile.from_dict(orjson.loads(profile_path.read_bytes()))
        else:  # saved before the training profile: the guard knows the model's levels only
            logger.warning("%s: no profile.json (saved by an older talentml)", root)
        return cls(
            model,
            model_name=model_name or doc.get("model_name"),
            model_version=model_version or doc.get("model_version"),
            bands=Bands.from_dict(doc["bands"]),
            k=int(reasons.get("k", 3)),
            direction=str(reasons.get("direction", "up")),
            coder=coder,
            profile=profile,
            on_missing=str(doc.get("on_missing", "flag")),
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

    def _small_design(self, X: pd.DataFrame):
        """(design (n, p), raw values (n, p) as objects, employee ids, raw missing, coerced)
        for a few rows."""
        pos, id_pos = self._positions(X.columns)
        raw = X.to_numpy(dtype=object)
        ids = raw[:, id_pos] if id_pos is not None else None
        values = raw[:, pos]
        design, missing, coerced = self._encode(values, list(X.index))
        return design, values, ids, missing, coerced

    def _records_design(self, rows: Sequence[Mapping[str, Any]]):
        """As :meth:`_small_design`, from mappings (no DataFrame on the way)."""
        self._lacks(sorted({c for r in rows for c in self.features if c not in r}))
        values = np.empty((len(rows), len(self.features)), dtype=object)
        for i, r in enumerate(rows):
            values[i] = [r[c] for c in self.features]
        ids = None
        if any("employee_id" in r for r in rows):
            ids = np.asarray([r.get("employee_id") for r in rows], dtype=object)
        design, missing, coerced = self._encode(values, list(range(len(rows))))
        return design, values, ids, missing, coerced

    def _encode(self, values: np.ndarray, index: list):
        """(design: float64, NaN missing, category codes; raw missing; coerced values)."""
        return encode_values(
            values,
            features=self.features,
            numeric_idx=self._numeric_idx,
            categorical_idx=self._categorical_idx,
            level_index=self.view._level_index,
            index=index,
        )

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
        return encode_frame(
            self.view, X, features=self.features, categorical_idx=self._categorical_idx
        )[0]

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
        self,
        X: pd.DataFrame,
        *,
        k: int | None = None,
        direction: str | None = None,
        on_missing: str | None = None,
    ) -> pd.DataFrame:
        """Score, band, reasons, input warnings, model name and version and a prediction id.

        Every request is checked by the input guard first (see
        :class:`~talentml.serving.InputGuard`).

        Parameters
        ----------
        X : pandas.DataFrame
            Rows with the model's columns (``employee_id`` is passed through; ``as_of`` and
            the peer group column are read for the reason texts; other columns are ignored
            and reported in ``input_warnings``; a sensitive attribute or a label column is
            refused).
        k : int, optional
            Reasons per row (default: the scorer's ``k``).
        direction : {"up", "down", "both"}, optional
            Which drivers are reasons (default: the scorer's).
        on_missing : {"flag", "refuse"}, optional
            A row on imputed evidence: band ``"low confidence"``, or refused (default: the
            scorer's ``on_missing``).

        Returns
        -------
        pandas.DataFrame
            Index of ``X``; ``employee_id`` (when given), ``score``, ``band``, ``reasons``
            (JSON text: a list of ``{"rank", "direction", "code", "feature", "text",
            "contribution"}``), ``input_warnings`` (JSON text: a list of ``{"kind",
            "column", "message"}``), ``model_name``, ``model_version``, ``prediction_id``
            (UUID).

        Raises
        ------
        talentml.exceptions.PurposeLimitationError
            A sensitive attribute or a label in ``X``.
        talentml.serving.InputRefusedError
            Rows on imputed evidence with ``on_missing="refuse"``.

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
        >>> scorer = Scorer(model, reference=X)
        >>> one = X.loc[[X["days_since_last_activity"].idxmax()]]
        >>> out = scorer.predict(one.assign(employee_id="E1"), k=1)
        >>> out["band"].item(), json.loads(out["reasons"].item())[0]["code"]
        ('high', 'FR-LEARN-INACTIVE-DAYS-UP')

        A value missing where the training rows always had one is imputed by the model:
        the answer says so, and is never "high" on it.

        >>> gap = one.assign(days_since_last_activity=np.nan)
        >>> out = scorer.predict(gap)
        >>> out["band"].item(), [w["kind"] for w in json.loads(out["input_warnings"].item())]
        ('low confidence', ['missing'])
        """
        return self._predict(X, k=k, direction=direction, on_missing=on_missing)[0]

    def _predict(
        self,
        X: pd.DataFrame | Sequence[Mapping[str, Any]],
        *,
        k: int | None = None,
        direction: str | None = None,
        digests: bool = False,
        reasons: bool = True,
        on_missing: str | None = None,
        refuse_rows: bool = False,
    ) -> tuple[pd.DataFrame, list[str] | None, list[list[str]], list[list[str]]]:
        """(output frame, input digests or None, reason codes per row, warning codes per row).

        ``X`` is a DataFrame, or a list of mappings (one per employee: no DataFrame is built
        on the way in, the fastest path for a service). ``refuse_rows``: with
        ``on_missing="refuse"``, answer refused rows with the band ``"refused"`` (a batch)
        instead of refusing the request.
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
        policy = self.on_missing if on_missing is None else _check_on_missing(on_missing)
        columns = list(dict.fromkeys(c for r in X for c in r)) if records else X.columns
        unused = self.guard.check_columns(columns)
        n = len(X)
        if records and n > SMALL_ROWS:
            X = pd.DataFrame(list(X))
            records = False
        index = pd.RangeIndex(n) if records else X.index
        if n <= SMALL_ROWS:
            design, values, ids, missing, coerced = (
                self._records_design(X) if records else self._small_design(X)
            )
        else:
            self._positions(X.columns)
            design, missing, coerced = encode_frame(
                self.view, X, features=self.features, categorical_idx=self._categorical_idx
            )
            values = None
            ids = X["employee_id"].to_numpy(dtype=object) if "employee_id" in X.columns else None
        warned, flagged = self.guard.check(
            design, raw_missing=missing, coerced=coerced, unused=unused
        )
        refused = None
        if policy == "refuse" and flagged.any():
            if not refuse_rows:
                raise self.guard.refusal(warned, flagged, list(index))
            refused = flagged
        scores = self._scores(design)
        why = (
            self._reasons(X, design, values, k=k, direction=direction)
            if reasons and n
            else [[] for _ in range(n)]
        )
        digest = None
        if digests:
            raw = values if values is not None else X[self.features].to_numpy(dtype=object)
            digest = canonical_digests(
                _digest_rows(design, raw, self.features, self.categorical), self.features
            )
        band = self.bands.assign(scores)
        if refused is not None:
            scores = np.where(refused, np.nan, scores)
            band[refused] = REFUSED
            why = [[] if r else w for r, w in zip(refused, why, strict=True)]
        else:
            band[flagged] = LOW_CONFIDENCE
        out: dict[str, Any] = {}
        if ids is not None:
            out["employee_id"] = [None if _missing(v) else str(v) for v in ids]
        out["score"] = scores
        out["band"] = band
        out["reasons"] = [orjson.dumps(r).decode() for r in why]
        out["input_warnings"] = [orjson.dumps(w).decode() if w else "[]" for w in warned]
        out["model_name"] = [self.model_name] * n
        out["model_version"] = [self.model_version] * n
        out["prediction_id"] = _new_ids(n)
        frame = pd.DataFrame(out, index=index)
        codes = [[r["code"] for r in rs] for rs in why]
        return frame, digest, codes, warning_codes(warned)

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


def _check_on_missing(on_missing: Any) -> str:
    if on_missing not in ON_MISSING:
        raise ValueError(f"on_missing must be one of {ON_MISSING}, got {on_missing!r}")
    return str(on_missing)
