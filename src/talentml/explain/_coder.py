"""``ReasonCoder``: SHAP values to reasons in words, one implementation for explain and serving.

The coder knows, for every model column, how to say it: the catalog's template for the
simulator's features, a :func:`~talentml.explain.describe_columns` entry for an
organization's own columns, and a readable fallback for the rest (the name in words, 0/1
flags as yes/no, categories as "job role: Sales Executive"). It folds columns into business
features (:mod:`talentml.explain._business`), compares each value with the peer reference
(:mod:`talentml.explain._peers`), and ranks the drivers (:mod:`talentml.explain._reasons`).

:class:`~talentml.explain.Explainer` builds one from its arguments; a
:class:`~talentml.serving.Scorer` saves one with the model as JSON (descriptions and peer
medians, no row of data), so that a served reason is the text ``top_reasons`` gives.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import renamed_parameters
from ._business import business_features
from ._columns import DESCRIPTION_COLUMNS, looks_like_flag, resolve_catalog
from ._design import ID_COLUMNS, model_view
from ._peers import ALL, PeerReference, instants, peer_labels
from ._reasons import Rows, reason_arrays, reason_frame, reason_records

__all__ = ["REASONS_FORMAT", "RECORD_KEYS", "ReasonCoder"]

logger = logging.getLogger(__name__)

#: Fields of a served reason (:meth:`ReasonCoder.records`).
RECORD_KEYS = ("rank", "direction", "code", "feature", "text", "vs_peers", "contribution")
#: Identifier of :meth:`ReasonCoder.to_dict`'s format.
REASONS_FORMAT = "talentml.reasons/1"
MSG_NOT_FITTED = (
    "this ReasonCoder is not fitted: call coder.fit(model, reference) first (or build it with "
    "ReasonCoder.from_dict)"
)
MSG_COLUMNS = (
    "the ReasonCoder was fitted for other columns: the model has {model} column(s), the coder "
    "{coder}; columns only in the model: {only_model}, only in the coder: {only_coder}. Fit "
    "the coder on this model."
)
MSG_TEAM_SAVE = (
    "a ReasonCoder with team peers cannot be saved: serving has no employees table to rebuild "
    "each employee's team; use peers='all' or a column of the model's input (e.g. "
    "'job_family')"
)
MSG_VALUES = "values must have shape ({n}, {p}) (rows of X x model columns), got {shape}"


def _jsonable(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


class ReasonCoder:
    """Turn SHAP values into reasons in words: the one reason coder of explain and serving.

    Parameters
    ----------
    feature_catalog : pandas.DataFrame or mapping, optional
        How columns are said: :func:`talentml.features.catalog` (the default),
        :func:`describe_columns` of your own columns (alone or concatenated with the
        catalog; later rows override earlier ones), or a mapping ``{column: description}``
        (then merged with the default catalog). Columns in none of them get readable
        fallbacks.
    groups : "auto", mapping or None, default "auto"
        How columns fold into business features (see :class:`Explainer`).
    peers : str or array-like or None, default "auto"
        Peer groups of the reference (see :class:`Explainer`); None: no peer reference.
    min_peers : int, default 5
        Smallest peer group whose median is shown.

    Attributes
    ----------
    feature_names_ : list of str
        The model's columns.
    business_ : BusinessFeatures
        Columns folded into business features, with their texts.
    flags_ : list of str
        Columns that read yes/no (0/1 columns outside the catalog, booleans, ``unit="flag"``).
    flags_fixed_ : bool
        True when ``flags_`` were learned from a reference (or loaded): every explanation
        uses exactly them. False: an explanation adds the 0/1 columns of its own rows.
    reference_ : PeerReference or None
        Peer medians by ``as_of`` and group (None: taken from the explained rows).
    prefix_ : str
        Code prefix (``FR``, ``HP``, ``RU``, ``M``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from talentml.models import FlightRisk
    >>> from talentml.explain import ReasonCoder, describe_columns, explain
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"monthly_hrs_avg": rng.normal(200, 40, 500).round(),
    ...                   "had_accident": (rng.random(500) < 0.15).astype(int)})
    >>> y = (rng.random(500) < 0.1 + 0.4 * (X["monthly_hrs_avg"] > 250)).astype(int)
    >>> model = FlightRisk(n_estimators=30, random_state=0).fit(X, y)
    >>> coder = ReasonCoder(feature_catalog=describe_columns(
    ...     {"monthly_hrs_avg": {"label": "average monthly hours", "unit": "hours"}}),
    ...     peers="all").fit(model, X)
    >>> one = X.loc[[X["monthly_hrs_avg"].idxmax()]]
    >>> explain(model, one, coder=coder).top_reasons(1, direction="up")["text"].item()
    'average monthly hours: 323 hours (median of all employees: 198)'
    """

    @renamed_parameters(catalog="feature_catalog")
    def __init__(
        self,
        *,
        feature_catalog: pd.DataFrame | Mapping | None = None,
        groups: Mapping | str | None = "auto",
        peers: Any = "auto",
        min_peers: int = 5,
    ) -> None:
        self.feature_catalog = feature_catalog
        self.groups = groups
        self.peers = peers
        self.min_peers = min_peers

    # ------------------------------------------------------------------------- fit
    def fit(
        self,
        model: Any,
        reference: pd.DataFrame | None = None,
        *,
        employees: pd.DataFrame | None = None,
        job_events: pd.DataFrame | None = None,
    ) -> ReasonCoder:
        """Learn the model's columns, their texts, flags and the peer medians of ``reference``.

        Parameters
        ----------
        model : FlightRisk, HighPotential, RampUp, xgboost.Booster or XGBoost sklearn model
            A fitted model.
        reference : pandas.DataFrame, optional
            Rows the peer medians come from (e.g. the training rows, with ``as_of``).
            Without it, every explanation compares its rows with themselves.
        employees, job_events : pandas.DataFrame, optional
            For ``peers="team"``.

        Returns
        -------
        ReasonCoder
            self.
        """
        if int(self.min_peers) < 1:
            raise ValueError(f"min_peers must be >= 1, got {self.min_peers}")
        view = model_view(model)
        self.feature_names_ = list(view.feature_names)
        categories = dict(view.categories)
        self.categorical_ = sorted(set(categories) | set(getattr(view, "raw_categoricals", [])))
        self.prefix_ = view.prefix
        self._index()
        self.catalog_ = resolve_catalog(self.feature_catalog)
        self.business_ = business_features(
            self.feature_names_,
            self.catalog_,
            groups=self.groups,
            categorical=set(self.categorical_),
        )
        self.employees_ = employees
        self.job_events_ = job_events
        bools = [
            c for c, levels in categories.items() if levels and set(levels) == {"False", "True"}
        ]
        fixed = [c for c in self.feature_names_ if self._entry(c)["unit"] == "flag"]
        self._fixed_flags = set(bools) | {
            c for c in fixed if c not in self.categorical_ and self._entry(c)["fallback"]
        }
        self.flags_fixed_ = reference is not None
        self.reference_ = None
        self.peer_name_: str | None = None
        if reference is not None:
            reference = view.check_frame(reference, table="reference")
            self.flags_ = sorted(self._fixed_flags | self._data_flags(reference))
            if self.peers is not None:
                labels, name = peer_labels(
                    reference,
                    self.peers,
                    employees=employees,
                    job_events=job_events,
                    table="reference",
                )
                self.peer_name_ = name
                self.reference_ = PeerReference(
                    reference,
                    self._peer_columns(reference),
                    labels,
                    name,
                    min_peers=int(self.min_peers),
                )
        else:
            self.flags_ = sorted(self._fixed_flags)
        return self

    def _index(self) -> None:
        self._position = {c: j for j, c in enumerate(self.feature_names_)}
        self._categorical = set(self.categorical_)
        self._peer_of: dict[tuple, np.ndarray] = {}

    def _entry(self, column: str) -> dict[str, Any]:
        return self.business_.column_records[column]

    def _check_fitted(self) -> None:
        if not hasattr(self, "flags_"):
            raise ValueError(MSG_NOT_FITTED)

    def check_columns(self, columns: list[str]) -> None:
        """Raise unless the coder was fitted for exactly these model columns."""
        self._check_fitted()
        if list(columns) != self.feature_names_:
            raise ValueError(
                MSG_COLUMNS.format(
                    model=len(columns),
                    coder=len(self.feature_names_),
                    only_model=[c for c in columns if c not in self._position][:10],
                    only_coder=[c for c in self.feature_names_ if c not in set(columns)][:10],
                )
            )

    def _data_flags(self, frame: pd.DataFrame) -> set[str]:
        out = set()
        for col in self.feature_names_:
            if col in self._categorical or col not in frame.columns:
                continue
            if not self._entry(col)["fallback"]:
                continue
            values = frame[col]
            if not pd.api.types.is_numeric_dtype(values.dtype):
                continue
            if looks_like_flag(col, values.to_numpy(dtype=np.float64, na_value=np.nan)):
                out.add(col)
        return out

    def _peer_columns(self, frame: pd.DataFrame) -> list[str]:
        flags = set(self.flags_) if hasattr(self, "flags_") else set()
        out = []
        for c in self.feature_names_:
            if c not in frame.columns:
                continue
            dtype = frame[c].dtype
            if c in self._categorical:
                if c in flags and pd.api.types.is_bool_dtype(dtype):
                    out.append(c)
                continue
            if pd.api.types.is_numeric_dtype(dtype):
                out.append(c)
        return out

    # ----------------------------------------------------------------- per request
    def flags_for(self, X: pd.DataFrame) -> set[str]:
        """Columns that read yes/no for the rows of ``X`` (learned at fit when possible)."""
        self._check_fitted()
        if self.flags_fixed_:
            return set(self.flags_)
        return set(self.flags_) | self._data_flags(X)

    def peer_lookup(self, X: pd.DataFrame) -> tuple[pd.DataFrame | None, np.ndarray | None]:
        """Peer medians (one column per compared column) and scope texts of ``X``'s rows."""
        self._check_fitted()
        if self.peers is None:
            return None, None
        if self.reference_ is not None:
            if not isinstance(self.peers, str):
                raise ValueError(
                    "peers given as labels describe the rows of X; with a separate reference, "
                    "pass peers as 'auto', 'team', 'all' or a column name"
                )
            return self.reference_.lookup(X, self.labels_of(X))
        labels, name = peer_labels(
            X, self.peers, employees=self.employees_, job_events=self.job_events_
        )
        flags = self.flags_for(X)
        columns = [c for c in self._peer_columns(X) if c not in self._categorical or c in flags]
        reference = PeerReference(X, columns, labels, name, min_peers=int(self.min_peers))
        return reference.lookup(X, labels)

    def labels_of(self, X: pd.DataFrame | Mapping[str, Any] | None) -> np.ndarray | None:
        """The peer-group label of each row of ``X`` for the fitted reference."""
        name = self.peer_name_
        if name is None or name == ALL or X is None:
            return None
        if name == "team":
            labels, _ = peer_labels(
                X, "team", employees=self.employees_, job_events=self.job_events_
            )
            return labels
        if isinstance(X, pd.DataFrame):
            if name not in X.columns:
                return None
            raw = X[name].to_numpy(dtype=object)
            return np.asarray([None if pd.isna(v) else str(v) for v in raw], dtype=object)
        return None

    def rows(
        self,
        *,
        values: np.ndarray,
        numbers: np.ndarray,
        labels: Mapping[str, np.ndarray],
        peers: np.ndarray | None,
        scope: np.ndarray | None,
        peer_columns: list[str] | None,
        flags: set[str],
        G: np.ndarray | None = None,
    ) -> Rows:
        """The inputs of :func:`~talentml.explain._reasons.reason_arrays` for ``n`` rows."""
        position = self._position
        peer_of = None
        if peer_columns is not None:
            key = tuple(peer_columns)
            peer_of = self._peer_of.get(key)
            if peer_of is None:
                peer_of = np.full(len(self.feature_names_), -1, dtype=np.int64)
                for j, c in enumerate(peer_columns):
                    if c in position:
                        peer_of[position[c]] = j
                if len(self._peer_of) < 16:
                    self._peer_of[key] = peer_of
        return Rows(
            G=self.business_.fold(values) if G is None else G,
            V=values,
            numbers=numbers,
            labels={position[c]: v for c, v in labels.items()},
            peers=peers,
            scope=scope,
            peer_of=peer_of,
            flags={position[c] for c in flags if c in position},
        )

    def arrays(
        self,
        rows: Rows,
        *,
        k: int = 3,
        direction: str = "both",
        include_proxies: bool = True,
        same_as_peers: str = "drop",
    ) -> dict[str, np.ndarray]:
        """The reasons of ``rows`` as arrays (see :meth:`top_reasons`)."""
        return reason_arrays(
            rows,
            self.business_,
            k=k,
            direction=direction,
            prefix=self.prefix_,
            include_proxies=include_proxies,
            same_as_peers=same_as_peers,
        )

    # ----------------------------------------------------------------- public API
    @property
    def peer_field(self) -> str | None:
        """The column of a request that holds each row's peer group (None: one group)."""
        self._check_fitted()
        if self.reference_ is None or self.peer_name_ in (None, ALL):
            return None
        return self.peer_name_

    def records(
        self,
        values: np.ndarray,
        numbers: np.ndarray,
        *,
        labels: Mapping[str, np.ndarray],
        as_of: Any = None,
        groups: Any = None,
        k: int = 3,
        direction: str = "both",
        keys: tuple[str, ...] = RECORD_KEYS,
    ) -> list[list[dict[str, Any]]]:
        """Per row, its reasons as plain dicts: the lean path of a served prediction.

        The same words as :meth:`top_reasons`, without a DataFrame on the way (one employee
        in well under a millisecond), compared with the fitted reference only.

        Parameters
        ----------
        values : numpy.ndarray
            SHAP values (n, model columns).
        numbers : numpy.ndarray
            The model's input (n, model columns): numbers, category codes.
        labels : mapping
            Categorical columns' values as given, ``{column: array of n}``.
        as_of : array-like, optional
            Each row's ``as_of`` (the latest reference snapshot at or before it is used;
            None: the latest snapshot).
        groups : array-like, optional
            Each row's peer group (the values of :attr:`peer_field`).
        k : int, default 3
            Reasons per row and direction.
        direction : {"both", "up", "down"}, default "both"
            Which drivers.
        keys : tuple of str
            The fields of each reason (columns of :meth:`top_reasons`).

        Returns
        -------
        list of list of dict
            One list per row.
        """
        self._check_fitted()
        n = len(values)
        peers = scope = columns = None
        if self.reference_ is not None:
            at = None
            if as_of is not None:
                at = instants(
                    as_of if isinstance(as_of, pd.Series) else pd.Series(as_of, dtype=object)
                )
            peers, scope = self.reference_.lookup_at(at, groups, n)
            columns = self.reference_.columns
        rows = self.rows(
            values=values,
            numbers=numbers,
            labels=labels,
            peers=peers,
            scope=scope,
            peer_columns=columns,
            flags=set(self.flags_),
        )
        arrays = self.arrays(rows, k=k, direction=direction)
        return reason_records(arrays, n, keys)

    def top_reasons(
        self,
        values: Any,
        X: pd.DataFrame,
        *,
        k: int = 3,
        direction: str = "both",
        include_proxies: bool = True,
        same_as_peers: str = "drop",
    ) -> pd.DataFrame:
        """The top ``k`` drivers raising and lowering each row's score, in words.

        Parameters
        ----------
        values : array-like or pandas.DataFrame
            SHAP values, one row per row of ``X`` and one column per model column (e.g.
            ``Explanation.values``).
        X : pandas.DataFrame
            The rows (the model columns, plus ``employee_id``/``as_of`` and peer columns).
        k : int, default 3
            Reasons per row and direction.
        direction : {"both", "up", "down"}, default "both"
            Drivers raising the score, lowering it, or both.
        include_proxies : bool, default True
            Rank sensitive proxies too (marked).
        same_as_peers : {"drop", "mark"}, default "drop"
            A driver whose value reads the same as its peer reference: ``"drop"`` leaves it
            out (the next driver takes its place), ``"mark"`` keeps it (``vs_peers`` is
            ``"same"`` and the text says "the same as the ...").

        Returns
        -------
        pandas.DataFrame
            As :meth:`Explanation.top_reasons`.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> from talentml.explain import ReasonCoder, explain
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"OverTime": rng.choice(["No", "Yes"], 400),
        ...                   "YearsAtCompany": rng.integers(0, 20, 400)})
        >>> y = (rng.random(400) < np.where(X["OverTime"] == "Yes", 0.4, 0.1)).astype(int)
        >>> model = FlightRisk(n_estimators=20, random_state=0).fit(X, y)
        >>> coder = ReasonCoder(peers="all").fit(model, X)
        >>> shap_values = explain(model, X.head(2), coder=coder).values
        >>> coder.top_reasons(shap_values, X.head(2), k=1, direction="up")["text"].tolist()
        ['over time: Yes', 'over time: Yes']
        """
        self._check_fitted()
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        V = np.asarray(values, dtype=np.float64)
        if V.shape != (len(X), len(self.feature_names_)):
            raise ValueError(MSG_VALUES.format(n=len(X), p=len(self.feature_names_), shape=V.shape))
        view_numbers = self._numbers(X)
        peers, scope = self.peer_lookup(X)
        rows = self.rows(
            values=V,
            numbers=view_numbers,
            labels=self.display_labels(X),
            peers=None if peers is None else peers.to_numpy(),
            scope=scope,
            peer_columns=None if peers is None else list(peers.columns),
            flags=self.flags_for(X),
        )
        arrays = self.arrays(
            rows,
            k=k,
            direction=direction,
            include_proxies=include_proxies,
            same_as_peers=same_as_peers,
        )
        return reason_frame(arrays, self.ids(X))

    def _numbers(self, X: pd.DataFrame) -> np.ndarray:
        """Model input of ``X`` as numbers (category codes for categoricals)."""
        n = len(X)
        out = np.full((n, len(self.feature_names_)), np.nan)
        for j, col in enumerate(self.feature_names_):
            s = X[col]
            if col in self._categorical:
                if col in set(self.flags_) or col in self._fixed_flags:
                    out[:, j] = flag_numbers(s)
                continue
            out[:, j] = pd.to_numeric(s, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
        return out

    def display_labels(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """The categorical columns of ``X`` as given (missing as None)."""
        out = {}
        for col in self.categorical_:
            if col in X.columns:
                s = X[col]
                out[col] = s.astype(object).where(s.notna(), None).to_numpy(dtype=object)
        return out

    @staticmethod
    def ids(X: pd.DataFrame) -> pd.DataFrame:
        """``employee_id``/``as_of`` of ``X``, else ``row`` (the index labels)."""
        cols = [c for c in ID_COLUMNS if c in X.columns]
        if not cols:
            return pd.DataFrame({"row": X.index})
        return X[cols]

    def describe(self) -> pd.DataFrame:
        """One row per model column: its business feature, label, template and flags.

        Returns
        -------
        pandas.DataFrame
            ``column``, ``business_feature``, ``kind``, ``label``, ``template``, ``flag``,
            ``peer_compared``, ``actionable``, ``direction``, ``sensitive_proxy``,
            ``in_catalog``.
        """
        self._check_fitted()
        b = self.business_
        peers = set(self.reference_.columns) if self.reference_ is not None else set()
        rows = []
        for j, col in enumerate(self.feature_names_):
            e = b.column_records[col]
            rows.append(
                {
                    "column": col,
                    "business_feature": b.names[b.member[j]],
                    "kind": b.kind[b.member[j]],
                    "label": e["label"] or e["subject"],
                    "template": e["template"],
                    "flag": col in set(self.flags_),
                    "peer_compared": col in peers,
                    "actionable": bool(e["actionable"]),
                    "direction": e["direction"],
                    "sensitive_proxy": bool(e["sensitive_proxy"]),
                    "in_catalog": bool(e["in_catalog"]),
                }
            )
        return pd.DataFrame(rows)

    # --------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy: column descriptions, groups, flags and peer medians (no rows).

        Examples
        --------
        >>> import json, numpy as np, pandas as pd
        >>> from talentml.models import FlightRisk
        >>> from talentml.explain import ReasonCoder
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"tenure_days": rng.uniform(30, 3000, 200)})
        >>> model = FlightRisk(n_estimators=5, random_state=0).fit(X, rng.random(200) < 0.2)
        >>> doc = ReasonCoder(peers="all").fit(model, X).to_dict()
        >>> again = ReasonCoder.from_dict(json.loads(json.dumps(doc)))
        >>> again.feature_names_, again.reference_.name
        (['tenure_days'], 'all')
        """
        self._check_fitted()
        if self.peer_name_ == "team":
            raise ValueError(MSG_TEAM_SAVE)
        needed = set(self.feature_names_) | set(self.business_.names)
        catalog = self.catalog_
        rows = []
        if len(catalog):
            keep = catalog[catalog["name"].astype(str).isin(needed)]
            fields = [c for c in DESCRIPTION_COLUMNS if c in keep.columns]
            for r in keep[fields].to_dict("records"):
                rows.append({k: _jsonable(v) for k, v in r.items()})
        groups = self.groups
        if isinstance(groups, Mapping):
            groups = {str(k): _jsonable(v) for k, v in groups.items()}
        return {
            "format": REASONS_FORMAT,
            "prefix": self.prefix_,
            "features": list(self.feature_names_),
            "categorical": list(self.categorical_),
            "catalog": rows,
            "groups": groups,
            "flags": list(self.flags_),
            "fixed_flags": sorted(self._fixed_flags),
            "flags_fixed": True,
            "peers": self.peer_name_ if self.peers is not None else None,
            "min_peers": int(self.min_peers),
            "reference": None if self.reference_ is None else self.reference_.to_dict(),
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> ReasonCoder:
        """A fitted coder from :meth:`to_dict` (no model and no data needed)."""
        if doc.get("format") != REASONS_FORMAT:
            raise ValueError(
                f"unknown reason coder format {doc.get('format')!r} (this talentml reads "
                f"{REASONS_FORMAT!r})"
            )
        catalog = pd.DataFrame.from_records(list(doc["catalog"]))
        if len(catalog) == 0:
            catalog = pd.DataFrame(columns=["name"])
        self = cls(
            feature_catalog=catalog,
            groups=doc.get("groups"),
            peers=doc.get("peers"),
            min_peers=int(doc.get("min_peers", 5)),
        )
        self.feature_names_ = list(doc["features"])
        self.categorical_ = list(doc["categorical"])
        self.prefix_ = str(doc["prefix"])
        self.catalog_ = catalog
        self.business_ = business_features(
            self.feature_names_, catalog, groups=self.groups, categorical=set(self.categorical_)
        )
        self.employees_ = None
        self.job_events_ = None
        self.flags_ = list(doc.get("flags", []))
        self._fixed_flags = set(doc.get("fixed_flags", []))
        self.flags_fixed_ = bool(doc.get("flags_fixed", True))
        ref = doc.get("reference")
        self.reference_ = None if ref is None else PeerReference.from_dict(ref)
        self.peer_name_ = None if self.reference_ is None else self.reference_.name
        self._index()
        return self

    def __repr__(self) -> str:
        if not hasattr(self, "flags_"):
            return "ReasonCoder(not fitted)"
        ref = "no reference" if self.reference_ is None else f"peers {self.reference_.name!r}"
        return (
            f"ReasonCoder({len(self.feature_names_)} columns, {len(self.business_.names)} "
            f"business features, {len(self.flags_)} flags, {ref})"
        )


def flag_numbers(values: pd.Series) -> np.ndarray:
    """A boolean-like column as 1.0 / 0.0 (NaN when missing or not a truth value)."""
    obj = values.astype(object).to_numpy(dtype=object)
    out = np.full(len(obj), np.nan)
    for i, v in enumerate(obj.tolist()):
        if isinstance(v, bool | np.bool_):
            out[i] = float(v)
        elif isinstance(v, str) and v in ("True", "False"):
            out[i] = 1.0 if v == "True" else 0.0
        elif isinstance(v, int | float | np.integer | np.floating) and v in (0, 1):
            out[i] = float(v)
    return out
