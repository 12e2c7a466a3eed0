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


class PeerReference:
    """Medians of numeric columns by ``(as_of, peer group)``, from a reference frame.

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
        at = self._as_of(reference)
        frame = values.assign(_at=at, _g=pd.Series(labels, index=reference.index, dtype=object))
        by_at = frame.drop(columns="_g").groupby("_at", sort=False, dropna=False)
        med_all = by_at.median()
        size_all = by_at.size()
        enough = (size_all >= self.min_peers).to_numpy()
        self._all_values = med_all.to_numpy()[enough]
        self._all_keys = med_all.index[enough]
        if name == ALL:
            # one group per as_of: the group medians are the as_of medians
            keep = enough
            self._group_values = self._all_values[:0]
            self._group_index: dict = {}
        else:
            grouped = frame[frame["_g"].notna()].groupby(["_at", "_g"], sort=False)
            med = grouped.median()
            size = grouped.size()
            keep = (size >= self.min_peers).to_numpy()
            self._group_values = med.to_numpy()[keep]
            self._group_index = {key: i for i, key in enumerate(med.index[keep])}
        self._small = int((~keep).sum())
        if self._small:
            logger.info(
                "peer reference: %d %s group(s) smaller than %d fall back to all employees",
                self._small,
                name,
                self.min_peers,
            )

    @staticmethod
    def _as_of(frame: pd.DataFrame) -> pd.Series:
        if "as_of" in frame.columns:
            return frame["as_of"]
        return pd.Series(0, index=frame.index)

    def lookup(self, X: pd.DataFrame, labels: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        """Medians for the rows of ``X`` (one column per numeric column) and their scope.

        The scope of a row is the grouping's text ("team median"), the fallback ("median of
        all employees"), or ``""`` when no reference row shares its ``as_of``.
        """
        at = self._as_of(X)
        n = len(at)
        out = np.full((n, len(self.columns)), np.nan)
        scope = np.full(n, "", dtype=object)
        pos_group = np.full(n, -1, dtype=np.int64)
        if self._group_index:
            get_group = self._group_index.get
            pos_group[:] = [
                get_group((a, g), -1) if g is not None else -1
                for a, g in zip(at.tolist(), np.asarray(labels, dtype=object).tolist(), strict=True)
            ]
        hit = pos_group >= 0
        if hit.any():
            out[hit] = self._group_values[pos_group[hit]]
            scope[hit] = scope_text(self.name)
        rest = np.flatnonzero(~hit)
        if len(rest):
            pos_all = self._all_keys.get_indexer(pd.Index(at.iloc[rest]))
            found = pos_all >= 0
            out[rest[found]] = self._all_values[pos_all[found]]
            scope[rest[found]] = scope_text(ALL)
        return pd.DataFrame(out, index=X.index, columns=self.columns), scope
