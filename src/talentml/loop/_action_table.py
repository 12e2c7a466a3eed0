"""The actions table: its columns, each action's key, and which actions are already open.

Every producer of actions (:meth:`talentml.loop.RuleSet.evaluate`,
:meth:`talentml.loop.BenchStrength.learning_paths`) returns this table, and every channel
(:class:`talentml.loop.ActionStore`, :func:`talentml.loop.emit_xapi`,
:class:`talentml.loop.WebhookSender`) reads it. An action already open for the same rule,
employee, action and target is never opened twice (:func:`action_key`, :func:`_dedupe`).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from ._tables import _ns, _require, _utc

__all__ = ["ACTION_COLUMNS", "action_key", "empty_actions", "normalize_actions"]

#: Columns of the actions table returned by :meth:`RuleSet.evaluate`.
ACTION_COLUMNS = (
    "action_key",
    "rule_id",
    "rule_name",
    "kind",
    "action",
    "target",
    "title",
    "recipient",
    "employee_id",
    "as_of",
    "due_date",
    "open_until",
    "status",
    "facts",
    "reason",
    "explanation",
    "source",
)
_STRING_COLUMNS = (
    "action_key",
    "rule_id",
    "rule_name",
    "kind",
    "action",
    "target",
    "title",
    "recipient",
    "employee_id",
    "status",
    "facts",
    "reason",
    "explanation",
    "source",
)
_TIME_COLUMNS = ("as_of", "due_date", "open_until")


def action_key(rule_id: str, employee_id: str, action: str, target: str, opened: Any) -> str:
    """Stable identity of an action: rule, employee, action, target and the day it opened.

    The same firing always gets the same key, so a re-run recognizes an action it already
    opened; statement ids (UUID 5) and webhook idempotency keys derive from it.

    Parameters
    ----------
    rule_id, employee_id, action, target : str
        What fired, for whom, and what it asks for.
    opened : Timestamp or str
        The ``as_of`` at which the action opened (its open period starts there).

    Returns
    -------
    str
        32 hexadecimal characters (a truncated SHA-256).

    Examples
    --------
    >>> k = action_key("pm-remediation", "E000042", "enroll", "https://lms.example/c/pm-1",
    ...                "2025-03-01")
    >>> len(k), k == action_key("pm-remediation", "E000042", "enroll",
    ...                         "https://lms.example/c/pm-1", "2025-03-01T00:00:00Z")
    (32, True)
    """
    ts = pd.Timestamp(opened)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    text = "\x1f".join((rule_id, employee_id, action, target, ts.isoformat()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _existing(open_actions: pd.DataFrame | None, store: Any) -> pd.DataFrame:
    frames = []
    if open_actions is not None:
        _require(
            open_actions,
            ("rule_id", "employee_id", "action", "target", "as_of", "open_until"),
            "open_actions",
        )
        frames.append(open_actions)
    if store is not None:
        frames.append(store.actions())
    cols = ["rule_id", "employee_id", "action", "target", "start", "end"]
    if not frames:
        return pd.DataFrame(columns=cols)
    parts = []
    for f in frames:
        if f.empty:
            continue
        start = _utc(f["as_of"], "open_actions", "as_of")
        end = _utc(f["open_until"], "open_actions", "open_until")
        if "closed_at" in f.columns:
            closed = pd.to_datetime(f["closed_at"], utc=True).astype("datetime64[ns, UTC]")
            end = end.where(closed.isna() | (closed > end), closed)
        if "status" in f.columns:
            # a cancelled action never blocks; a done one blocks until it was closed
            keep = f["status"].astype(str) != "cancelled"
        else:
            keep = pd.Series(True, index=f.index)
        parts.append(
            pd.DataFrame(
                {
                    "rule_id": f["rule_id"].astype(str).to_numpy(),
                    "employee_id": f["employee_id"].astype(str).to_numpy(),
                    "action": f["action"].astype(str).to_numpy(),
                    "target": f["target"].astype(str).to_numpy(),
                    "start": start.to_numpy(),
                    "end": end.to_numpy(),
                }
            )[keep.to_numpy(bool)]
        )
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def _dedupe(candidates: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Keep candidates whose open period overlaps no existing or earlier-kept action."""
    if candidates.empty:
        return candidates
    group_cols = ["rule_id", "employee_id", "action", "target"]
    intervals: dict[tuple, list[tuple[int, int]]] = {}
    for rec in existing.itertuples(index=False):
        key = (rec.rule_id, rec.employee_id, rec.action, rec.target)
        intervals.setdefault(key, []).append(
            (pd.Timestamp(rec.start).value, pd.Timestamp(rec.end).value)
        )
    keys = list(zip(*(candidates[c].astype(str).tolist() for c in group_cols), strict=True))
    starts = _ns(candidates["as_of"])
    ends = _ns(candidates["open_until"])
    keep = np.zeros(len(candidates), dtype=bool)
    for i in np.argsort(starts, kind="stable"):
        spans = intervals.setdefault(keys[i], [])
        s, e = int(starts[i]), int(ends[i])
        if any(a < e and s < b for a, b in spans):
            continue
        keep[i] = True
        spans.append((s, e))
    return candidates[keep].reset_index(drop=True)


def normalize_actions(actions: pd.DataFrame) -> pd.DataFrame:
    """An actions table with the canonical columns and dtypes (strings, UTC timestamps)."""
    missing = [c for c in ACTION_COLUMNS if c not in actions.columns]
    if missing:
        raise ValueError(f"table 'actions' is missing column(s) {missing}")
    out = actions.loc[
        :, [*ACTION_COLUMNS, *[c for c in actions.columns if c not in ACTION_COLUMNS]]
    ].copy()
    for col in _STRING_COLUMNS:
        out[col] = out[col].astype("string")
    for col in _TIME_COLUMNS:
        out[col] = pd.to_datetime(out[col], utc=True).astype("datetime64[ns, UTC]")
    return out.reset_index(drop=True)


def empty_actions() -> pd.DataFrame:
    """An actions table with no rows."""
    return normalize_actions(pd.DataFrame({c: [] for c in ACTION_COLUMNS}))
