"""Assignment actions on the LRS: xAPI ``was-assigned`` statements, written once.

The statement id of an action is the UUID 5 of its action key (:func:`statement_id`), so an
LRS answers a re-sent statement with 204 and stores nothing new; with an
:class:`~talentml.loop.ActionStore`, actions already written are not sent again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._action_table import normalize_actions
from ._actions import ActionStore
from ._tables import _iso

__all__ = [
    "ACROSSX_PROFILE",
    "ACTION_NAMESPACE",
    "ASSIGNED_VERB",
    "EXTENSION_BASE",
    "assignment_statements",
    "emit_xapi",
    "statement_id",
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


def statement_id(key: str) -> str:
    """The xAPI statement id of an action: a UUID 5 of its action key.

    Examples
    --------
    >>> statement_id("0123456789abcdef0123456789abcdef") == statement_id(
    ...     "0123456789abcdef0123456789abcdef")
    True
    """
    return str(uuid.uuid5(ACTION_NAMESPACE, str(key)))


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
    >>> from talentml.loop._action_table import empty_actions
    >>> from talentml.xapi import LRSClient
    >>> client = LRSClient("http://127.0.0.1:9/xAPI/", show_progress=False)  # never called
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
