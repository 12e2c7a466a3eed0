"""Where actions go: a store of open actions, xAPI assignments on the LRS, signed webhooks.

Every channel is idempotent on the action key of :func:`talentml.loop.action_key`: the xAPI
statement id is the UUID 5 of the key (an LRS answers a re-sent statement with 204 and stores
nothing new), and each webhook carries the key in ``Idempotency-Key`` so the receiver can
recognize a retry or a re-run. The :class:`ActionStore` remembers which actions are open and
which were delivered where, so a re-run neither opens nor sends anything twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import requests
from tqdm.auto import tqdm

from ..config import show_progress as _show_progress
from ._rules import ACTION_COLUMNS, _require, empty_actions, normalize_actions

__all__ = [
    "ACROSSX_PROFILE",
    "ACTION_NAMESPACE",
    "ASSIGNED_VERB",
    "EXTENSION_BASE",
    "SIGNATURE_HEADER",
    "ActionStore",
    "WebhookSender",
    "assignment_statements",
    "emit_xapi",
    "sign_payload",
    "statement_id",
    "verify_signature",
    "webhook_payload",
]

logger = logging.getLogger(__name__)

#: The assignment verb: ``was-assigned`` of the AcrossX profile (xAPI Chinese Community of
#: Practice, https://w3id.org/xapi/acrossx, version 1.0.1; in ``../shared/data/xapi/profiles/
#: acrossx_v1.0.1_acrossx.jsonld``): "Indicates the actor was given or required to access an
#: object."
ASSIGNED_VERB = "https://w3id.org/xapi/acrossx/verbs/was-assigned"
#: The profile version the verb is taken from (put in ``context.contextActivities.category``).
ACROSSX_PROFILE = "https://w3id.org/xapi/acrossx/v1.0.1"
#: Base IRI of talentml's context extensions (``action-key``, ``rule-id``, ``due-date``,
#: ``reason``).
EXTENSION_BASE = "https://talentml.readthedocs.io/xapi/extensions/"
#: Namespace of the statement ids: ``uuid5(ACTION_NAMESPACE, action_key)``.
ACTION_NAMESPACE = uuid.UUID("6f1d3c52-2b7e-5a4f-9c1e-3d2a7b8e4f60")
#: Header carrying the HMAC-SHA256 signature of a webhook body (``sha256=<hex>``).
SIGNATURE_HEADER = "X-Talentml-Signature-256"
#: Header carrying the action key on every webhook attempt.
IDEMPOTENCY_HEADER = "Idempotency-Key"
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_STORE_TIMES = ("as_of", "due_date", "open_until", "closed_at")
_CLOSED_STATUSES = ("done", "cancelled")


def statement_id(key: str) -> str:
    """The xAPI statement id of an action: a UUID 5 of its action key.

    Examples
    --------
    >>> statement_id("0123456789abcdef0123456789abcdef") == statement_id(
    ...     "0123456789abcdef0123456789abcdef")
    True
    """
    return str(uuid.uuid5(ACTION_NAMESPACE, str(key)))


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
        >>> from talentml.loop._rules import empty_actions
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


def _utc_ts(value: Any) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _iso(value: Any) -> str:
    t = _utc_ts(value)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


# -------------------------------------------------------------------------------- xAPI


def _actor_lookup(actors: pd.DataFrame) -> dict[str, dict[str, Any]]:
    if not isinstance(actors, pd.DataFrame) or "employee_id" not in actors.columns:
        raise ValueError(
            "actors must be a DataFrame with employee_id and either lms_homepage + lms_user "
            "(an LMS account) or email (an mbox), like Workforce.hris_identities"
        )
    cols = set(actors.columns)
    pairs = [("lms_homepage", "lms_user"), ("account_homepage", "account_name")]
    account = next((p for p in pairs if set(p) <= cols), None)
    if account is None and "email" not in cols:
        raise ValueError(
            f"table 'actors' needs lms_homepage + lms_user (or account_homepage + account_name) "
            f"or email; it has {sorted(cols)}"
        )
    out: dict[str, dict[str, Any]] = {}
    for rec in actors.drop_duplicates("employee_id").itertuples(index=False):
        eid = str(rec.employee_id)
        if account is not None:
            home, name = getattr(rec, account[0]), getattr(rec, account[1])
            if not pd.isna(home) and not pd.isna(name) and str(name):
                out[eid] = {
                    "objectType": "Agent",
                    "account": {"homePage": str(home), "name": str(name)},
                }
                continue
        email = getattr(rec, "email", None)
        if email is not None and not pd.isna(email) and "@" in str(email):
            address = str(email).strip()
            if not address.lower().startswith("mailto:"):
                address = "mailto:" + address
            out[eid] = {"objectType": "Agent", "mbox": address}
    return out


def assignment_statements(
    actions: pd.DataFrame,
    *,
    actors: pd.DataFrame,
    kinds: Sequence[str] = ("enroll",),
    platform: str = "talentml",
) -> pd.DataFrame:
    """The xAPI ``was-assigned`` statement of each assignment action.

    Learners are identified the way the organization's LRS identifies them: by their LMS
    account (``homePage`` + ``name``) or, without one, their ``mbox``, from the HRIS
    directory (``actors``). When those statements are read back and ingested,
    :func:`talentml.xapi.ingest` pseudonymizes them to the same ``actor_key`` as the
    employee's own learning records. The statement id is :func:`statement_id` of the
    action key, so the same action is always the same statement.

    Parameters
    ----------
    actions : pandas.DataFrame
        An actions table (:meth:`RuleSet.evaluate`, :meth:`BenchStrength.learning_paths`).
    actors : pandas.DataFrame
        ``employee_id`` with ``lms_homepage`` + ``lms_user`` (or ``account_homepage`` +
        ``account_name``) and/or ``email`` (e.g. ``Workforce.hris_identities``).
    kinds : sequence of str, default ("enroll",)
        Action types that are assignments.
    platform : str, default "talentml"
        ``context.platform``.

    Returns
    -------
    pandas.DataFrame
        One row per action: ``action_key``, ``employee_id``, ``statement_id``, ``status``
        (``ready``, ``not_an_assignment`` or ``no_actor``) and ``statement`` (the dict, or
        None).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import RuleSet, assignment_statements
    >>> rules = RuleSet([{"id": "pm", "when": [{"competency": "Project Management",
    ...     "op": "<", "value": 3}], "then": [{"action": "enroll",
    ...     "target": "https://lms.example.com/course/pm-101", "title": "PM Fundamentals",
    ...     "due_days": 30}]}])
    >>> X = pd.DataFrame({"employee_id": ["E1"], "competency[Project Management]": [2.0],
    ...                   "as_of": pd.to_datetime(["2025-03-01"], utc=True)})
    >>> actors = pd.DataFrame({"employee_id": ["E1"], "lms_homepage": ["https://lms.example.com"],
    ...                        "lms_user": ["u42"]})
    >>> out = assignment_statements(rules.evaluate(X), actors=actors)
    >>> s = out.loc[0, "statement"]
    >>> s["actor"]["account"]["name"], s["verb"]["id"], s["object"]["id"]
    ('u42', 'https://w3id.org/xapi/acrossx/verbs/was-assigned', 'https://lms.example.com/course/pm-101')
    """
    actions = normalize_actions(actions)
    lookup = _actor_lookup(actors)
    ext = EXTENSION_BASE
    rows = []
    for rec in actions.itertuples(index=False):
        key = str(rec.action_key)
        sid = statement_id(key)
        if str(rec.action) not in kinds:
            rows.append((key, rec.employee_id, sid, "not_an_assignment", None))
            continue
        actor = lookup.get(str(rec.employee_id))
        if actor is None:
            rows.append((key, rec.employee_id, sid, "no_actor", None))
            continue
        extensions: dict[str, Any] = {
            ext + "action-key": key,
            ext + "rule-id": str(rec.rule_id),
            ext + "reason": str(rec.reason),
        }
        if not pd.isna(rec.due_date):
            extensions[ext + "due-date"] = _iso(rec.due_date)
        statement = {
            "id": sid,
            "actor": dict(actor),
            "verb": {"id": ASSIGNED_VERB, "display": {"en-US": "was assigned"}},
            "object": {
                "objectType": "Activity",
                "id": str(rec.target),
                "definition": {"name": {"en-US": str(rec.title)}},
            },
            "context": {
                "platform": platform,
                "contextActivities": {
                    "category": [{"objectType": "Activity", "id": ACROSSX_PROFILE}]
                },
                "extensions": extensions,
            },
            "timestamp": _iso(rec.as_of),
        }
        rows.append((key, rec.employee_id, sid, "ready", statement))
    out = pd.DataFrame(
        rows, columns=["action_key", "employee_id", "statement_id", "status", "statement"]
    )
    counts = out["status"].value_counts().to_dict()
    if counts.get("no_actor"):
        logger.warning(
            "%d assignment(s) have no LMS account or e-mail in actors; not written",
            counts["no_actor"],
        )
    return out.astype(
        {
            "action_key": "string",
            "employee_id": "string",
            "statement_id": "string",
            "status": "string",
        }
    )


def emit_xapi(
    actions: pd.DataFrame,
    client: Any,
    *,
    actors: pd.DataFrame,
    store: ActionStore | None = None,
    kinds: Sequence[str] = ("enroll",),
    batch_size: int = 100,
    platform: str = "talentml",
) -> pd.DataFrame:
    """Write assignment actions to the LRS as xAPI ``was-assigned`` statements, once.

    Statements are posted with :meth:`talentml.xapi.LRSClient.post_statements` (batches,
    retries with backoff); their ids derive from the action keys, so a batch repeated after a
    lost answer, or a re-run, is recognized by the LRS and stores nothing new. With a
    ``store``, actions already written are skipped and new deliveries are recorded.

    Parameters
    ----------
    actions : pandas.DataFrame
        Actions to emit (only ``kinds`` become statements; the others are reported).
    client : talentml.xapi.LRSClient
        The LRS client.
    actors : pandas.DataFrame
        The HRIS directory (see :func:`assignment_statements`).
    store : ActionStore, optional
        Skip actions already delivered on channel ``"xapi"``, and record the new deliveries.
    kinds : sequence of str, default ("enroll",)
        Action types written as assignments.
    batch_size : int, default 100
        Statements per request.
    platform : str, default "talentml"
        ``context.platform`` of the statements.

    Returns
    -------
    pandas.DataFrame
        One row per action: ``action_key``, ``employee_id``, ``statement_id``, ``status``
        (``stored`` when the LRS listed the id as new, ``already_stored`` when it
        recognized it, ``already_delivered`` (skipped by the store), ``no_actor``,
        ``not_an_assignment``), ``status_code``, ``attempts`` and ``delivered``.

    Raises
    ------
    talentml.xapi.LRSWriteError
        When a batch fails for good (the batches written before are recorded in the store).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import emit_xapi
    >>> from talentml.loop._rules import empty_actions
    >>> from talentml.xapi import LRSClient
    >>> client = LRSClient("http://127.0.0.1:9/xAPI/", progress=False)  # never called
    >>> actors = pd.DataFrame({"employee_id": [], "email": []})
    >>> emit_xapi(empty_actions(), client, actors=actors).empty
    True
    """
    from ..xapi import LRSWriteError

    prepared = assignment_statements(actions, actors=actors, kinds=kinds, platform=platform)
    prepared["status_code"] = pd.array([pd.NA] * len(prepared), dtype="Int64")
    prepared["attempts"] = pd.array([0] * len(prepared), dtype="Int64")
    prepared["delivered"] = False
    if store is not None and len(prepared):
        done = set(store.deliveries("xapi")["action_key"].astype(str))
        seen = prepared["action_key"].astype(str).isin(done) & prepared["status"].eq("ready")
        prepared.loc[seen.to_numpy(bool), "status"] = "already_delivered"
        prepared.loc[seen.to_numpy(bool), "delivered"] = True
    ready = prepared["status"].eq("ready").to_numpy(bool)
    statements = prepared.loc[ready, "statement"].tolist()
    if statements:
        try:
            report = client.post_statements(statements, batch_size=batch_size)
        except LRSWriteError as exc:
            if store is not None and len(exc.report):
                written = exc.report.assign(delivered=True, reference=exc.report["statement_id"])
                by_sid = dict(zip(prepared["statement_id"], prepared["action_key"], strict=True))
                written["action_key"] = written["statement_id"].map(by_sid)
                store.record_deliveries(written, "xapi")
            raise
        by_sid = report.set_index("statement_id")
        sids = prepared.loc[ready, "statement_id"]
        codes = sids.map(by_sid["status_code"]).astype("Int64")
        tries = sids.map(by_sid["attempts"]).astype("Int64")
        echoed = sids.map(by_sid["echoed"]).astype(bool)
        prepared.loc[ready, "status_code"] = codes.to_numpy()
        prepared.loc[ready, "attempts"] = tries.to_numpy()
        prepared.loc[ready, "status"] = np.where(echoed.to_numpy(bool), "stored", "already_stored")
        prepared.loc[ready, "delivered"] = True
        if store is not None:
            store.record_deliveries(
                prepared.loc[ready].assign(reference=prepared.loc[ready, "statement_id"]), "xapi"
            )
    counts = prepared["status"].value_counts().to_dict()
    logger.info("xAPI assignments: %s", counts)
    return prepared.drop(columns="statement").reset_index(drop=True)


# ---------------------------------------------------------------------------- webhooks


def sign_payload(body: bytes, secret: str | bytes) -> str:
    """The signature header value of a webhook body: ``sha256=`` + HMAC-SHA256 hex digest.

    Examples
    --------
    >>> sign_payload(b'{"a":1}', "s3cret-key")[:7]
    'sha256='
    """
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str | None, secret: str | bytes) -> bool:
    """Whether ``signature`` is the valid signature of ``body`` (constant-time comparison).

    Examples
    --------
    >>> body = b'{"a":1}'
    >>> verify_signature(body, sign_payload(body, "s3cret-key"), "s3cret-key")
    True
    >>> verify_signature(body + b" ", sign_payload(body, "s3cret-key"), "s3cret-key")
    False
    """
    if not signature:
        return False
    return hmac.compare_digest(sign_payload(body, secret), str(signature))


def webhook_payload(action: Any) -> dict[str, Any]:
    """The JSON payload of one action (a row of an actions table, as a mapping or namedtuple).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import RuleSet, webhook_payload
    >>> rules = RuleSet([{"id": "r", "when": [{"feature": "rating_latest", "op": ">=",
    ...                   "value": 4}], "then": [{"action": "notify", "target": "talent-team"}]}])
    >>> X = pd.DataFrame({"employee_id": ["a"], "rating_latest": [5.0],
    ...                   "as_of": pd.to_datetime(["2025-01-01"], utc=True)})
    >>> p = webhook_payload(rules.evaluate(X).iloc[0])
    >>> p["type"], p["recipient"], p["facts"]
    ('talentml.action', 'talent-team', {'rating_latest': 5.0})
    """
    get = action.get if hasattr(action, "get") else lambda k: getattr(action, k)

    def text(name: str) -> str | None:
        v = get(name)
        return None if v is None or pd.isna(v) else str(v)

    def when(name: str) -> str | None:
        v = get(name)
        return None if v is None or pd.isna(v) else _iso(v)

    facts = text("facts")
    return {
        "type": "talentml.action",
        "action_key": text("action_key"),
        "rule_id": text("rule_id"),
        "rule_name": text("rule_name"),
        "kind": text("kind"),
        "action": text("action"),
        "target": text("target"),
        "title": text("title"),
        "recipient": text("recipient"),
        "employee_id": text("employee_id"),
        "as_of": when("as_of"),
        "due_date": when("due_date"),
        "open_until": when("open_until"),
        "facts": json.loads(facts) if facts else {},
        "reason": text("reason"),
        "explanation": text("explanation"),
        "source": text("source"),
    }


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookSender:
    """Deliver actions to an HTTP endpoint as signed JSON, with retries, exactly once.

    Each action is one ``POST`` of :func:`webhook_payload` (the same bytes on every
    attempt) with the headers ``Idempotency-Key`` (the action key) and
    ``X-Talentml-Signature-256`` (``sha256=`` HMAC-SHA256 of the body under ``secret``;
    check it with :func:`verify_signature`). A 429, 408, 425, 5xx, a dropped connection or a
    timeout is retried with exponential backoff (``Retry-After`` honoured up to
    ``max_backoff``); 2xx, or 409 (the receiver already has that key), means delivered;
    another status fails the action for good (reported, never raised, left pending in the
    store). A receiver that stores the keys it processed sees every action exactly once
    across retries and re-runs.

    Parameters
    ----------
    url : str
        The endpoint (``http`` or ``https``).
    secret : str or bytes
        The shared signing key (at least 16 bytes).
    max_retries : int, default 5
        Retries per action after a retryable failure.
    backoff_factor : float, default 0.5
        The n-th retry waits ``backoff_factor * 2**n`` seconds, at most ``max_backoff``.
    max_backoff : float, default 30.0
        Longest wait between attempts, in seconds.
    timeout : float or (float, float), default (5.0, 30.0)
        Connect / read timeout of each attempt.
    session : requests.Session, optional
        The HTTP session (a new one by default).
    sleep : callable, default time.sleep
        Waits between retries (injectable).
    show_progress : bool, optional
        Progress bar over the actions (default from :func:`talentml.set_config`).

    Examples
    --------
    >>> from talentml.loop import WebhookSender
    >>> sender = WebhookSender("http://127.0.0.1:9/hooks/talent", secret="a-shared-secret-key")
    >>> sender.channel
    'webhook:http://127.0.0.1:9/hooks/talent'
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | bytes,
        max_retries: int = 5,
        backoff_factor: float = 0.5,
        max_backoff: float = 30.0,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        session: requests.Session | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        show_progress: bool | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"url must be an http(s) URL, got {url!r}")
        key = secret.encode() if isinstance(secret, str) else secret
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValueError("secret must be at least 16 bytes long")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")
        self.url = url
        self._secret = key
        self.max_retries = max_retries
        self.backoff_factor = float(backoff_factor)
        self.max_backoff = float(max_backoff)
        self.timeout = timeout
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self.show_progress = show_progress
        self.n_requests = 0
        self.waits: list[float] = []

    def __repr__(self) -> str:
        return f"WebhookSender({self.url!r})"

    @property
    def channel(self) -> str:
        """The store channel of this endpoint (``webhook:<url>``)."""
        return f"webhook:{self.url}"

    def send(self, actions: pd.DataFrame, *, store: ActionStore | None = None) -> pd.DataFrame:
        """Deliver each action; return a delivery report.

        Parameters
        ----------
        actions : pandas.DataFrame
            An actions table.
        store : ActionStore, optional
            Skip actions already delivered to this endpoint; record new deliveries.

        Returns
        -------
        pandas.DataFrame
            One row per action: ``action_key``, ``status_code`` (last answer, missing after
            a connection failure), ``attempts``, ``delivered`` (bool), ``status``
            (``delivered``, ``duplicate`` (409), ``already_delivered`` (skipped by the
            store) or ``failed``) and ``error``.

        Examples
        --------
        >>> from talentml.loop import WebhookSender
        >>> from talentml.loop._rules import empty_actions
        >>> WebhookSender("http://127.0.0.1:9/h", secret="a-shared-secret-key").send(
        ...     empty_actions()).empty
        True
        """
        from ..xapi._lrs import _retry_after_seconds

        actions = normalize_actions(actions)
        done: set[str] = set()
        if store is not None:
            done = set(store.deliveries(self.channel)["action_key"].astype(str))
        rows = []
        show = _show_progress() if self.show_progress is None else bool(self.show_progress)
        for rec in tqdm(
            list(actions.itertuples(index=False)), desc="webhooks", disable=not show, leave=False
        ):
            key = str(rec.action_key)
            if key in done:
                rows.append((key, pd.NA, 0, True, "already_delivered", None))
                continue
            body = _body(webhook_payload(rec))
            headers = {
                "Content-Type": "application/json",
                IDEMPOTENCY_HEADER: key,
                SIGNATURE_HEADER: sign_payload(body, self._secret),
            }
            attempt, status, error = 0, None, None
            while True:
                self.n_requests += 1
                retry_after = None
                try:
                    response = self._session.post(
                        self.url, data=body, headers=headers, timeout=self.timeout
                    )
                except (
                    requests.ConnectionError,
                    requests.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                ) as exc:
                    status, error = None, f"{type(exc).__name__}: {exc}"
                    retryable = True
                else:
                    status = response.status_code
                    error = None if status < 400 else f"HTTP {status}: {response.text[:200]}"
                    retryable = status in _RETRY_STATUSES
                    retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                if status is not None and (200 <= status < 300 or status == 409):
                    break
                if not retryable or attempt >= self.max_retries:
                    break
                wait = min(
                    self.max_backoff,
                    retry_after
                    if retry_after is not None
                    else self.backoff_factor * (2.0**attempt),
                )
                logger.warning(
                    "webhook %s for action %s: %s; retry %d/%d in %.3g s",
                    self.url,
                    key,
                    error,
                    attempt + 1,
                    self.max_retries,
                    wait,
                )
                self.waits.append(wait)
                self._sleep(wait)
                attempt += 1
            ok = status is not None and (200 <= status < 300 or status == 409)
            state = "duplicate" if status == 409 else "delivered" if ok else "failed"
            rows.append(
                (
                    key,
                    status if status is not None else pd.NA,
                    attempt + 1,
                    ok,
                    state,
                    error if not ok else None,
                )
            )
        report = pd.DataFrame(
            rows, columns=["action_key", "status_code", "attempts", "delivered", "status", "error"]
        ).astype(
            {
                "action_key": "string",
                "status_code": "Int64",
                "attempts": "int64",
                "delivered": bool,
                "status": "string",
                "error": "string",
            }
        )
        failed = int((report["status"] == "failed").sum())
        if failed:
            logger.error(
                "webhook %s: %d of %d action(s) not delivered (left pending)",
                self.url,
                failed,
                len(report),
            )
        if store is not None:
            fresh = report[report["status"].isin(["delivered", "duplicate"])]
            store.record_deliveries(fresh.assign(reference=self.url), self.channel)
        return report
