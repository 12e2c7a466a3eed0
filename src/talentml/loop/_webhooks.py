"""Actions to an HTTP endpoint: signed JSON webhooks with retries and idempotency keys.

Each webhook carries the action key in ``Idempotency-Key`` (the same on every attempt) and an
HMAC-SHA256 signature of its body (:func:`sign_payload`, :func:`verify_signature`), so the
receiver can recognize a retry or a re-run; with an :class:`~talentml.loop.ActionStore`,
actions already delivered to the endpoint are not sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import requests
from tqdm.auto import tqdm

from .._http import retry_after_seconds
from ..config import show_progress as _show_progress
from ._action_table import normalize_actions
from ._actions import ActionStore
from ._tables import _iso

__all__ = [
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "WebhookSender",
    "sign_payload",
    "verify_signature",
    "webhook_payload",
]

logger = logging.getLogger(__name__)

#: Header carrying the HMAC-SHA256 signature of a webhook body (``sha256=<hex>``).
SIGNATURE_HEADER = "X-Talentml-Signature-256"
#: Header carrying the action key on every webhook attempt.
IDEMPOTENCY_HEADER = "Idempotency-Key"
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


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
        >>> from talentml.loop._action_table import empty_actions
        >>> WebhookSender("http://127.0.0.1:9/h", secret="a-shared-secret-key").send(
        ...     empty_actions()).empty
        True
        """
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
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
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
