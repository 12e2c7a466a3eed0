"""Where actions go: a store of open actions, xAPI assignments on the LRS, signed webhooks.

Every channel is idempotent on the action key of :func:`talentml.loop.action_key`: the xAPI
statement id is the UUID 5 of the key (an LRS answers a re-sent statement with 204 and stores
nothing new), and each webhook carries the key in ``Idempotency-Key`` so the receiver can
recognize a retry or a re-run. The :class:`ActionStore` (here) remembers which actions are
open and which were delivered where, so a re-run neither opens nor sends anything twice; the
xAPI channel is in ``_xapi_sink.py``, the webhook channel in ``_webhooks.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._action_table import ACTION_COLUMNS, empty_actions, normalize_actions
from ._tables import _require, _utc_ts

__all__ = ["ActionStore"]

logger = logging.getLogger(__name__)

_STORE_TIMES = ("as_of", "due_date", "open_until", "closed_at")
_CLOSED_STATUSES = ("done", "cancelled")


# ------------------------------------------------------------------------------- store


class ActionStore:
    """A DuckDB file of every action opened, its status and its deliveries.

    The store is what makes re-runs idempotent across processes: pass it to
    :meth:`RuleSet.evaluate` (open actions are read from it, new ones recorded), to
    :func:`emit_xapi` and to :meth:`WebhookSender.send` (actions already delivered on a
    channel are not sent again). One process writes at a time (DuckDB's file lock).

    Parameters
    ----------
    path : str or Path
        The DuckDB database file (created on first use).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from talentml.loop import ActionStore, RuleSet
    >>> rules = RuleSet([{"id": "r", "when": [{"feature": "mandatory_compliant", "op": "==",
    ...                   "value": 0}], "then": [{"action": "notify", "target": "hr"}]}])
    >>> X = pd.DataFrame({"employee_id": ["a"], "mandatory_compliant": [0],
    ...                   "as_of": pd.to_datetime(["2025-01-01"], utc=True)})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     store = ActionStore(f"{tmp}/actions.duckdb")
    ...     first = rules.evaluate(X, store=store)
    ...     again = rules.evaluate(X, store=store)
    ...     len(first), len(again), len(store.open_actions())
    (1, 0, 1)
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect():
            pass

    def __repr__(self) -> str:
        return f"ActionStore({str(self.path)!r})"

    def _connect(self):
        import duckdb

        con = duckdb.connect(str(self.path))
        con.execute(
            """CREATE TABLE IF NOT EXISTS actions (
                action_key VARCHAR PRIMARY KEY, rule_id VARCHAR, rule_name VARCHAR,
                kind VARCHAR, action VARCHAR, target VARCHAR, title VARCHAR, recipient VARCHAR,
                employee_id VARCHAR, as_of TIMESTAMP, due_date TIMESTAMP, open_until TIMESTAMP,
                status VARCHAR, facts VARCHAR, reason VARCHAR, explanation VARCHAR,
                source VARCHAR, closed_at TIMESTAMP)"""
        )
        con.execute(
            """CREATE TABLE IF NOT EXISTS deliveries (
                action_key VARCHAR, channel VARCHAR, reference VARCHAR, status_code INTEGER,
                attempts INTEGER, PRIMARY KEY (action_key, channel))"""
        )
        return con

    def record(self, actions: pd.DataFrame) -> pd.DataFrame:
        """Add actions not yet in the store (by ``action_key``); return those added.

        An action whose key is stored as ``cancelled`` (the same rule fired again at the same
        ``as_of`` after a cancellation) is re-opened.

        Examples
        --------
        >>> import tempfile
        >>> from talentml.loop import ActionStore
        >>> from talentml.loop._action_table import empty_actions
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     ActionStore(f"{tmp}/a.duckdb").record(empty_actions()).empty
        True
        """
        actions = normalize_actions(actions)
        if actions["action_key"].duplicated().any():
            dup = actions.loc[actions["action_key"].duplicated(), "action_key"].tolist()[:5]
            raise ValueError(f"table 'actions': action_key repeats in the input, e.g. {dup}")
        if actions.empty:
            return actions
        table = actions[list(ACTION_COLUMNS)].copy()
        table["closed_at"] = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns, UTC]")
        for col in _STORE_TIMES:
            table[col] = table[col].dt.tz_convert("UTC").dt.tz_localize(None)
        for col in table.columns:
            if col not in _STORE_TIMES:
                table[col] = table[col].astype(object).where(table[col].notna(), None)
        with self._connect() as con:
            con.register("incoming", table)
            # a cancelled action that fires again at the same as_of (same key) is re-opened
            con.execute(
                "DELETE FROM actions WHERE status = 'cancelled' "
                "AND action_key IN (SELECT action_key FROM incoming)"
            )
            known = {
                r[0]
                for r in con.execute(
                    "SELECT a.action_key FROM actions a JOIN incoming i USING (action_key)"
                ).fetchall()
            }
            con.execute(
                "INSERT INTO actions SELECT * FROM incoming "
                "WHERE action_key NOT IN (SELECT action_key FROM actions)"
            )
            con.unregister("incoming")
        added = actions[~actions["action_key"].isin(known)].reset_index(drop=True)
        logger.info(
            "action store %s: %d added, %d already known", self.path, len(added), len(known)
        )
        return added

    def actions(self, *, status: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Every stored action (optionally of the given status), with ``closed_at``.

        Examples
        --------
        >>> import tempfile
        >>> from talentml.loop import ActionStore
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     list(ActionStore(f"{tmp}/a.duckdb").actions().columns[-2:])
        ['source', 'closed_at']
        """
        where, params = "", []
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            where = f"WHERE status IN ({', '.join('?' for _ in wanted)})"
            params = wanted
        with self._connect() as con:
            df = con.execute(
                f"SELECT * FROM actions {where} ORDER BY as_of, rule_id, employee_id, action_key",
                params,
            ).df()
        for col in _STORE_TIMES:
            df[col] = pd.to_datetime(df[col]).dt.tz_localize("UTC").astype("datetime64[ns, UTC]")
        if df.empty:
            base = empty_actions()
            base["closed_at"] = pd.Series([], dtype="datetime64[ns, UTC]")
            return base
        out = normalize_actions(df)
        return out

    def open_actions(self, as_of: Any = None) -> pd.DataFrame:
        """Actions with status ``open`` (and, given ``as_of``, still open at that time).

        Examples
        --------
        >>> import tempfile
        >>> from talentml.loop import ActionStore
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     ActionStore(f"{tmp}/a.duckdb").open_actions("2025-01-01").empty
        True
        """
        df = self.actions(status="open")
        if as_of is not None:
            t = _utc_ts(as_of)
            df = df[(df["as_of"] <= t) & (df["open_until"] > t)].reset_index(drop=True)
        return df

    def close(self, action_keys: Iterable[str], *, at: Any, status: str = "done") -> int:
        """Close open actions (``done`` or ``cancelled``) at a given time; return how many.

        A ``done`` action keeps blocking new ones until ``at``; a ``cancelled`` one no longer
        blocks anything.

        Examples
        --------
        >>> import tempfile
        >>> from talentml.loop import ActionStore
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     ActionStore(f"{tmp}/a.duckdb").close(["nope"], at="2025-01-01")
        0
        """
        if status not in _CLOSED_STATUSES:
            raise ValueError(f"status must be one of {_CLOSED_STATUSES}, got {status!r}")
        keys = [str(k) for k in action_keys]
        if not keys:
            return 0
        t = _utc_ts(at).tz_localize(None).to_pydatetime()
        with self._connect() as con:
            con.register("closing", pd.DataFrame({"action_key": keys}))
            n = con.execute(
                "SELECT COUNT(*) FROM actions WHERE status = 'open' "
                "AND action_key IN (SELECT action_key FROM closing)"
            ).fetchone()[0]
            con.execute(
                "UPDATE actions SET status = ?, closed_at = ? WHERE status = 'open' "
                "AND action_key IN (SELECT action_key FROM closing)",
                [status, t],
            )
            con.unregister("closing")
        return int(n)

    def record_deliveries(self, report: pd.DataFrame, channel: str) -> int:
        """Remember the actions of a delivery report that reached ``channel``.

        Parameters
        ----------
        report : pandas.DataFrame
            ``action_key``, ``delivered`` (bool) and optionally ``reference``,
            ``status_code``, ``attempts``.
        channel : str
            E.g. ``"xapi"`` or ``"webhook:<url>"``.

        Returns
        -------
        int
            Deliveries newly recorded.

        Examples
        --------
        >>> import tempfile, pandas as pd
        >>> from talentml.loop import ActionStore
        >>> report = pd.DataFrame({"action_key": ["k1"], "delivered": [True]})
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     store = ActionStore(f"{tmp}/a.duckdb")
        ...     store.record_deliveries(report, "xapi"), store.record_deliveries(report, "xapi")
        (1, 0)
        """
        _require(report, ("action_key", "delivered"), "report")
        done = report[report["delivered"].astype(bool)]
        if done.empty:
            return 0
        table = pd.DataFrame(
            {
                "action_key": done["action_key"].astype(str).to_numpy(),
                "channel": channel,
                "reference": done["reference"].astype(object).to_numpy()
                if "reference" in done.columns
                else None,
                "status_code": pd.to_numeric(done.get("status_code"), errors="coerce")
                if "status_code" in done.columns
                else np.nan,
                "attempts": pd.to_numeric(done.get("attempts"), errors="coerce")
                if "attempts" in done.columns
                else np.nan,
            }
        ).drop_duplicates("action_key")
        with self._connect() as con:
            con.register("incoming", table)
            n = con.execute(
                "SELECT COUNT(*) FROM incoming i WHERE NOT EXISTS (SELECT 1 FROM deliveries d "
                "WHERE d.action_key = i.action_key AND d.channel = i.channel)"
            ).fetchone()[0]
            con.execute(
                "INSERT OR IGNORE INTO deliveries SELECT action_key, channel, "
                "CAST(reference AS VARCHAR), CAST(status_code AS INTEGER), "
                "CAST(attempts AS INTEGER) FROM incoming"
            )
            con.unregister("incoming")
        return int(n)

    def deliveries(self, channel: str | None = None) -> pd.DataFrame:
        """Recorded deliveries: ``action_key``, ``channel``, ``reference``, ``status_code``, ``attempts``.

        Examples
        --------
        >>> import tempfile
        >>> from talentml.loop import ActionStore
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     ActionStore(f"{tmp}/a.duckdb").deliveries().columns.tolist()
        ['action_key', 'channel', 'reference', 'status_code', 'attempts']
        """
        with self._connect() as con:
            if channel is None:
                df = con.execute("SELECT * FROM deliveries ORDER BY channel, action_key").df()
            else:
                df = con.execute(
                    "SELECT * FROM deliveries WHERE channel = ? ORDER BY action_key", [channel]
                ).df()
        return df.astype({"action_key": "string", "channel": "string", "reference": "string"})

    def pending(self, channel: str, *, actions: Sequence[str] | None = None) -> pd.DataFrame:
        """Open actions not yet delivered on ``channel`` (optionally of the given action types).

        Examples
        --------
        >>> import tempfile
        >>> from talentml.loop import ActionStore
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     ActionStore(f"{tmp}/a.duckdb").pending("xapi", actions=["enroll"]).empty
        True
        """
        open_ = self.actions(status="open")
        done = set(self.deliveries(channel)["action_key"].astype(str))
        keep = ~open_["action_key"].astype(str).isin(done)
        if actions is not None:
            keep &= open_["action"].astype(str).isin(list(actions))
        return open_[keep.to_numpy(bool)].reset_index(drop=True)
