"""Peer references for reason texts: medians of the same rows at the same ``as_of``.

A reason says how the employee compares with peers ("... (team median: 12)"). Peers are the
rows of the reference frame (by default the explained ``X`` itself) with the same ``as_of``
and the same peer group, so the reference is point in time by construction: it is computed
from the very feature values the model saw, at the same cutoff. Peer groups:

* ``"team"``: everyone with the same manager at ``as_of``. The manager is rebuilt point in
  time from ``employees`` and ``job_events`` (the ``to_value`` of the latest
  ``manager_change`` recorded before ``as_of`` and effective by then, else the ``from_value``
  of the earliest later one, else the snapshot's ``manager_id``) - the same rule as the team
  features of :mod:`talentml.features`;
* a column of ``X`` such as ``"job_family"`` or ``"department"``;
* ``"all"``: everyone at the same ``as_of``;
* an array of group labels aligned with ``X``.

A group smaller than ``min_peers`` (5 by default; the employee included) is never shown - a
median of two people discloses a colleague's value: the reference falls back to everyone at
the same ``as_of`` ("median of all employees").
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["PeerReference", "manager_at", "peer_labels"]

ALL = "all"
_SCOPE_TEXT = {"team": "team median", ALL: "median of all employees"}


def manager_at(
    keys: pd.DataFrame, employees: pd.DataFrame, job_events: pd.DataFrame | None = None
) -> pd.Series:
    """The manager of each ``(employee_id, as_of)`` row, as known at ``as_of``.

    Parameters
    ----------
    keys : pandas.DataFrame
        ``employee_id`` and ``as_of`` (timezone-aware UTC).
    employees : pandas.DataFrame
        The ``employees`` table (``employee_id``, ``manager_id``: the snapshot).
    job_events : pandas.DataFrame, optional
        The ``job_events`` table; without it the snapshot's manager is used.

    Returns
    -------
    pandas.Series
        Manager ids (string, missing without a manager), index aligned with ``keys``.
    """
    for col in ("employee_id", "as_of"):
        if col not in keys.columns:
            raise ValueError(f"X: team peers need the column {col!r}")
    for col in ("employee_id", "manager_id"):
        if col not in employees.columns:
            raise ValueError(f"employees: team peers need the column {col!r}")
    snap = employees.drop_duplicates("employee_id").set_index("employee_id")["manager_id"]
    base = keys[["employee_id", "as_of"]].reset_index(drop=True)
    out = base["employee_id"].map(snap).astype("string")
    if job_events is None or len(job_events) == 0:
        return pd.Series(out.to_numpy(), index=keys.index, dtype="string")
    need = ["employee_id", "effective_date", "recorded_at", "event", "from_value", "to_value"]
    missing = [c for c in need if c not in job_events.columns]
    if missing:
        raise ValueError(f"job_events: team peers need the column(s) {missing}")
    ev = job_events.loc[job_events["event"] == "manager_change", need[:3] + need[4:]]
    ev = ev[ev["employee_id"].isin(base["employee_id"].unique())]
    if len(ev) == 0:
        return pd.Series(out.to_numpy(), index=keys.index, dtype="string")
    base["_row"] = np.arange(len(base))
    m = base.merge(ev, on="employee_id", how="inner")
    known = (m["recorded_at"] < m["as_of"]) & (m["effective_date"] <= m["as_of"])
    k = m[known.to_numpy()].sort_values(
        ["_row", "effective_date", "recorded_at"], ascending=[True, False, False]
    )
    k = k.drop_duplicates("_row")
    u = m[~known.to_numpy()].sort_values(
        ["_row", "effective_date", "recorded_at"], ascending=[True, True, True]
    )
    u = u.drop_duplicates("_row")
    value = out.copy()
    later = u.set_index("_row")["from_value"].astype("string")
    value.iloc[later.index.to_numpy()] = later.to_numpy()
    latest = k.set_index("_row")["to_value"].astype("string")
    value.iloc[latest.index.to_numpy()] = latest.to_numpy()
    return pd.Series(value.to_numpy(), index=keys.index, dtype="string")


def peer_labels(
    X: pd.DataFrame,
    peers: Any,
    *,
    employees: pd.DataFrame | None = None,
    job_events: pd.DataFrame | None = None,
    table: str = "X",
) -> tuple[np.ndarray, str]:
    """Peer-group labels of the rows of ``X`` and the name of the grouping."""
    if isinstance(peers, str):
        if peers == "auto":
            if employees is not None and "employee_id" in X.columns and "as_of" in X.columns:
                peers = "team"
            elif "job_family" in X.columns:
                peers = "job_family"
            else:
                peers = ALL
        if peers == ALL:
            return np.zeros(len(X), dtype=object), ALL
        if peers == "team":
            if employees is None:
                raise ValueError("peers='team' needs employees= (and job_events= for history)")
            labels = manager_at(X, employees, job_events)
            return labels.to_numpy(dtype=object, na_value=None), "team"
        if peers in X.columns:
            values = X[peers].astype("string").to_numpy(dtype=object, na_value=None)
            return values, peers
        raise ValueError(
            f"peers={peers!r}: not 'auto', 'team', 'all' nor a column of {table} "
            f"(columns include {list(X.columns)[:8]})"
        )
    values = np.asarray(peers, dtype=object)
    if values.ndim != 1 or len(values) != len(X):
        raise ValueError(
            f"peers as labels must be 1-D with one label per row of {table} ({len(X)}), got "
            f"shape {values.shape}"
        )
    return values, "group"


def scope_text(name: str) -> str:
    """How a reference is named in texts ("team median", "job family median", ...)."""
    if name in _SCOPE_TEXT:
        return _SCOPE_TEXT[name]
    return f"{name.replace('_', ' ')} median"


_NAT = np.iinfo(np.int64).min


def _no_label(g: Any) -> bool:
    """A missing peer-group label (None, NA, NaN)."""
    return g is None or g is pd.NA or (isinstance(g, float) and g != g)


def instants(frame: Any) -> np.ndarray | None:
    """``as_of`` of the rows as int64 nanoseconds since the epoch (UTC), or None without it.

    A missing ``as_of`` is the smallest int64 (before every snapshot); naive times are UTC.
    """
    if isinstance(frame, pd.DataFrame):
        if "as_of" not in frame.columns:
            return None
        values = frame["as_of"]
    else:
        values = frame
    array = values.array if isinstance(values, pd.Series) else None
    if isinstance(array, pd.arrays.DatetimeArray):
        # the common case, without parsing: integers in the array's unit, scaled to ns
        raw = np.asarray(array.asi8, dtype=np.int64)
        scale = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[array.unit]
        missing = raw == _NAT
        out = raw * scale
        out[missing] = _NAT
        return out
    if len(values) <= 64:  # a request: a few Timestamps or ISO strings, without parsing machinery
        out = np.empty(len(values), dtype=np.int64)
        for i, v in enumerate(list(values)):
            t = pd.NaT if _no_label(v) else pd.Timestamp(v)
            out[i] = _NAT if t is pd.NaT else int(t.value)
        return out
    s = pd.to_datetime(pd.Series(values).reset_index(drop=True), utc=True)
    return s.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64).copy()


def _float_list(values: np.ndarray) -> list[float | None]:
    return [None if v != v else float(v) for v in np.asarray(values, dtype=np.float64).tolist()]


class PeerReference:
    """Medians of numeric columns by ``(as_of, peer group)``, from a reference frame.

    A row is compared with the latest reference snapshot at or before its ``as_of`` (the
    same ``as_of`` when the reference is the explained frame itself); a row without
    ``as_of`` with the latest snapshot; a reference without ``as_of`` is one snapshot for
    every row.

    Parameters
    ----------
    reference : pandas.DataFrame
        Rows the medians are computed from (with ``as_of`` when there are several cutoffs).
    columns : list of str
        Numeric columns to summarize.
    labels : numpy.ndarray
        Peer-group label of each reference row (missing: no group).
    name : str
        Name of the grouping (``"team"``, ``"job_family"``, ...).
    min_peers : int
        Smallest group whose median is shown (else the ``as_of`` median is).
    """

    def __init__(
        self,
        reference: pd.DataFrame,
        columns: list[str],
        labels: np.ndarray,
        name: str,
        *,
        min_peers: int = 5,
    ) -> None:
        if min_peers < 1:
            raise ValueError(f"min_peers must be >= 1, got {min_peers}")
        self.columns = list(columns)
        self.name = name
        self.min_peers = int(min_peers)
        values = reference[self.columns].astype("float64")
        at = instants(reference)
        self.static = at is None
        at = np.zeros(len(reference), dtype=np.int64) if at is None else at
        frame = values.reset_index(drop=True).assign(
            _at=at, _g=pd.Series(np.asarray(labels, dtype=object), dtype=object)
        )
        frame = frame[frame["_at"] != _NAT]
        by_at = frame.drop(columns="_g").groupby("_at", sort=True)
        med_all = by_at.median()
        size_all = by_at.size()
        #: snapshot instants (sorted), their medians and whether they have enough rows
        self.keys = med_all.index.to_numpy(dtype=np.int64)
        self.all_ok = (size_all >= self.min_peers).to_numpy()
        self.all_values = med_all.to_numpy(dtype=np.float64).reshape(len(self.keys), -1)
        self.group_index: dict[tuple[int, str], int] = {}
        self.group_values = np.zeros((0, len(self.columns)))
        small = 0
        if name != ALL:
            grouped = frame[frame["_g"].notna()].groupby(["_at", "_g"], sort=True)
            med = grouped.median()
            size = grouped.size()
            keep = (size >= self.min_peers).to_numpy()
            small = int((~keep).sum())
            self.group_values = med.to_numpy(dtype=np.float64)[keep]
            position = {int(k): i for i, k in enumerate(self.keys)}
            self.group_index = {
                (position[int(a)], str(g)): i for i, (a, g) in enumerate(med.index[keep])
            }
        if small:
            logger.info(
                "peer reference: %d %s group(s) smaller than %d fall back to all employees",
                small,
                name,
                self.min_peers,
            )

    def snapshot(self, at: np.ndarray | None, n: int) -> np.ndarray:
        """Position of the reference snapshot of each row (-1: none at or before it)."""
        if len(self.keys) == 0:
            return np.full(n, -1, dtype=np.int64)
        if self.static or at is None:
            return np.full(n, 0 if self.static else len(self.keys) - 1, dtype=np.int64)
        pos = np.searchsorted(self.keys, at, side="right") - 1
        pos[at == _NAT] = -1
        return pos.astype(np.int64)

    def lookup_at(
        self, at: np.ndarray | None, labels: Any, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Medians (n, columns) and scope texts of rows given their instants and labels."""
        pos = self.snapshot(at, n)
        out = np.full((n, len(self.columns)), np.nan)
        scope = np.full(n, "", dtype=object)
        hit = np.zeros(n, dtype=bool)
        if self.group_index and labels is not None:
            get = self.group_index.get
            group = np.asarray(
                [
                    get((p, str(g)), -1) if p >= 0 and not _no_label(g) else -1
                    for p, g in zip(pos.tolist(), list(labels), strict=True)
                ],
                dtype=np.int64,
            )
            hit = group >= 0
            if hit.any():
                out[hit] = self.group_values[group[hit]]
                scope[hit] = scope_text(self.name)
        rest = ~hit & (pos >= 0)
        if rest.any():
            ok = rest.copy()
            ok[rest] = self.all_ok[pos[rest]]
            out[ok] = self.all_values[pos[ok]]
            scope[ok] = scope_text(ALL)
        return out, scope

    def lookup(self, X: pd.DataFrame, labels: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        """Medians for the rows of ``X`` (one column per numeric column) and their scope.

        The scope of a row is the grouping's text ("team median"), the fallback ("median of
        all employees"), or ``""`` when no reference snapshot is at or before its ``as_of``.
        """
        out, scope = self.lookup_at(instants(X), labels, len(X))
        return pd.DataFrame(out, index=X.index, columns=self.columns), scope

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy (medians only: no row of the reference)."""
        keys = (
            [None]
            if self.static
            else [pd.Timestamp(int(k), tz="UTC").isoformat() for k in self.keys.tolist()]
        )
        groups: dict[str, list] = {}
        for (p, g), i in self.group_index.items():
            groups.setdefault(str(p), []).append([g, _float_list(self.group_values[i])])
        return {
            "name": self.name,
            "min_peers": self.min_peers,
            "columns": list(self.columns),
            "snapshots": keys if len(self.keys) else [],
            "all": [_float_list(r) for r in self.all_values],
            "all_ok": [bool(v) for v in self.all_ok.tolist()],
            "groups": groups,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> PeerReference:
        """Rebuild a reference saved by :meth:`to_dict`."""
        self = cls.__new__(cls)
        self.columns = list(doc["columns"])
        self.name = str(doc["name"])
        self.min_peers = int(doc["min_peers"])
        snaps = list(doc["snapshots"])
        self.static = len(snaps) == 1 and snaps[0] is None
        if self.static:
            self.keys = np.zeros(1, dtype=np.int64)
        else:
            self.keys = instants(pd.Series(snaps, dtype=object)) if snaps else np.zeros(0, np.int64)
        q = len(self.columns)
        self.all_values = np.asarray(
            [[np.nan if v is None else v for v in r] for r in doc["all"]], dtype=np.float64
        ).reshape(len(self.keys), q)
        self.all_ok = np.asarray(doc["all_ok"], dtype=bool)
        index: dict[tuple[int, str], int] = {}
        values = []
        for p, entries in doc.get("groups", {}).items():
            for g, vals in entries:
                index[(int(p), str(g))] = len(values)
                values.append([np.nan if v is None else v for v in vals])
        self.group_index = index
        self.group_values = np.asarray(values, dtype=np.float64).reshape(len(values), q)
        return self
