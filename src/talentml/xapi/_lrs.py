"""A client for xAPI Learning Record Stores (LRS): read with paging, resume, write back.

The client speaks the statements resource of the xAPI 1.0.3 / 2.0 communication spec
over :mod:`requests`: basic auth or OAuth-style bearer tokens, the
``X-Experience-API-Version`` header, the ``since`` / ``until`` / ``limit`` / ``agent`` /
``verb`` / ``activity`` filters, ``more`` paging (relative and absolute links), retries
with exponential backoff on 429 and 5xx that honour ``Retry-After``, a JSON-serializable
:class:`Cursor` that resumes an interrupted read with no statement lost or repeated, and
batched, idempotent write-back.

The client is here; its errors and bearer tokens are in ``_lrs_base``, the :class:`Cursor` and
the request helpers in ``_lrs_cursor`` (all importable from this module).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import pandas as pd
import requests
from tqdm.auto import tqdm

from .._validation import renamed_parameters
from ..config import show_progress as _show_progress
from ._lrs_base import (  # noqa: F401 - the client's names, importable from here
    _FILTER_NAMES,
    _IFI_KEYS,
    _REPORT_COLUMNS,
    _XAPI_VERSION_HEADER,
    CURSOR_FORMAT,
    DEFAULT_XAPI_VERSION,
    ERR_CROSS_ORIGIN,
    ERR_CURSOR_FILTERS,
    ERR_NAIVE_TIME,
    RETRY_STATUSES,
    BearerToken,
    LRSAuthError,
    LRSError,
    LRSWriteError,
    OAuth2ClientCredentials,
)
from ._lrs_cursor import (  # noqa: F401 - the client's names, importable from here
    Cursor,
    _build_params,
    _check_iri,
    _content_id,
    _format_agent,
    _format_time,
    _origin,
    _retry_after_seconds,
)

__all__ = [
    "BearerToken",
    "Cursor",
    "LRSAuthError",
    "LRSClient",
    "LRSError",
    "LRSWriteError",
    "OAuth2ClientCredentials",
]

logger = logging.getLogger(__name__)


class LRSClient:
    """Read and write xAPI statements on a Learning Record Store.

    Parameters
    ----------
    endpoint : str
        The LRS's xAPI base URL, e.g. ``"https://lrs.example.org/xAPI/"``; the
        statements resource is ``<endpoint>/statements``.
    auth : (str, str), requests.auth.AuthBase or None
        ``(username, password)`` for HTTP basic auth, a :class:`BearerToken` /
        :class:`OAuth2ClientCredentials` for bearer tokens, any other ``requests``
        auth object, or ``None``.
    xapi_version : str
        Sent as ``X-Experience-API-Version`` on every request (``"1.0.3"`` or ``"2.0.0"``).
    timeout : float or (float, float)
        Connect / read timeout of every request, in seconds.
    max_retries : int
        Retries per request after a 429, a 5xx, a dropped connection or a timeout.
    backoff_factor : float
        The n-th retry (n = 0, 1, ...) waits ``backoff_factor * 2**n`` seconds, at most
        ``max_backoff``, unless the LRS says otherwise in ``Retry-After``.
    max_backoff : float
        Upper bound of the exponential backoff, in seconds.
    max_retry_after : float
        Longest ``Retry-After`` honoured, in seconds; a longer one raises :class:`LRSError`.
    show_progress : bool, optional
        Show tqdm progress bars on reads and writes (can be overridden per call); default
        from :func:`talentml.set_config`, read at each call.
    sleep : callable
        The function that waits between retries (``time.sleep``; injectable for tests).
    session : requests.Session, optional
        The HTTP session to use (a new one by default).

    Attributes
    ----------
    version : str or None
        The ``X-Experience-API-Version`` header of the LRS's latest response; ``None``
        before the first response or when the LRS does not send it.
    n_requests : int
        HTTP requests sent, retries included.
    n_retries : int
        Requests repeated after a retryable failure.
    waits : list of float
        Every wait before a retry, in seconds, in order.

    Examples
    --------
    >>> client = LRSClient("https://lrs.example.org/xAPI/", auth=("key", "secret"))
    >>> client.statements_url
    'https://lrs.example.org/xAPI/statements'
    >>> client.version is None
    True
    >>> for statement in client.iter_statements(since="2025-01-01T00:00:00Z"):  # doctest: +SKIP
    ...     print(statement["id"])
    """

    @renamed_parameters(progress="show_progress")
    def __init__(
        self,
        endpoint: str,
        *,
        auth: tuple[str, str] | requests.auth.AuthBase | None = None,
        xapi_version: str = DEFAULT_XAPI_VERSION,
        timeout: float | tuple[float, float] = (5.0, 60.0),
        max_retries: int = 5,
        backoff_factor: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 300.0,
        show_progress: bool | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        session: requests.Session | None = None,
    ):
        scheme, netloc = _origin(endpoint)
        if scheme not in ("http", "https") or not netloc:
            raise ValueError(f"LRS endpoint must be an http(s) URL, got {endpoint!r}")
        if isinstance(auth, tuple):
            if len(auth) != 2 or not all(isinstance(x, str) for x in auth):
                raise TypeError("basic auth must be a (username, password) tuple of str")
            auth = requests.auth.HTTPBasicAuth(*auth)
        elif auth is not None and not isinstance(auth, requests.auth.AuthBase):
            raise TypeError(
                "auth must be (username, password), a requests AuthBase "
                f"(e.g. BearerToken) or None, got {type(auth).__name__}"
            )
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self.statements_url = urljoin(self.endpoint, "statements")
        self.auth = auth
        self.xapi_version = xapi_version
        self.timeout = timeout
        self.max_retries = int(max_retries)
        self.backoff_factor = float(backoff_factor)
        self.max_backoff = float(max_backoff)
        self.max_retry_after = float(max_retry_after)
        self.show_progress = show_progress
        self._sleep = sleep
        self._session = session if session is not None else requests.Session()
        self._session.headers.update(
            {_XAPI_VERSION_HEADER: xapi_version, "Accept": "application/json"}
        )
        self.version: str | None = None
        self.n_requests = 0
        self.n_retries = 0
        self.waits: list[float] = []

    def __repr__(self) -> str:
        return f"LRSClient({self.endpoint!r}, version={self.version!r})"

    def __enter__(self) -> LRSClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session (and its pooled connections)."""
        self._session.close()

    # ------------------------------------------------------------------ HTTP core

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff_factor * (2.0**attempt))

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        what: str,
    ) -> tuple[requests.Response, int]:
        """Send one request with retries; return the final response and attempts used."""
        headers = {"Content-Type": "application/json"} if body is not None else None
        attempt = 0
        refreshed = False
        while True:
            self.n_requests += 1
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=body,
                    headers=headers,
                    auth=self.auth,
                    timeout=self.timeout,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                if attempt >= self.max_retries:
                    raise LRSError(
                        f"{what} failed after {attempt + 1} attempts: {problem}", url=url
                    ) from exc
                wait = self._backoff(attempt)
            else:
                version = response.headers.get(_XAPI_VERSION_HEADER)
                if version:
                    self.version = version
                status = response.status_code
                if status == 401 and not refreshed and isinstance(self.auth, BearerToken):
                    refreshed = True
                    if self.auth.refresh():
                        logger.info("LRS answered 401 to %s; renewing the bearer token", what)
                        continue
                if status == 401 or status == 403:
                    raise LRSAuthError(
                        f"{what} was refused ({status}): {response.text[:300]}",
                        status_code=status,
                        url=url,
                    )
                if status not in RETRY_STATUSES:
                    return response, attempt + 1
                problem = f"HTTP {status}"
                if attempt >= self.max_retries:
                    raise LRSError(
                        f"{what} failed after {attempt + 1} attempts: {problem}: "
                        f"{response.text[:300]}",
                        status_code=status,
                        url=url,
                    )
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                if retry_after is not None and retry_after > self.max_retry_after:
                    raise LRSError(
                        f"{what}: the LRS asked to retry after {retry_after:g} s "
                        f"(> max_retry_after={self.max_retry_after:g} s)",
                        status_code=status,
                        url=url,
                    )
                wait = retry_after if retry_after is not None else self._backoff(attempt)
            logger.warning(
                "%s: %s; retry %d/%d in %.3g s", what, problem, attempt + 1, self.max_retries, wait
            )
            self.waits.append(wait)
            self.n_retries += 1
            self._sleep(wait)
            attempt += 1

    def _resolve(self, link: str) -> str:
        url = urljoin(self.endpoint, link)
        if _origin(url) != _origin(self.endpoint):
            raise LRSError(ERR_CROSS_ORIGIN.format(link=link, endpoint=self.endpoint), url=url)
        return url

    @staticmethod
    def _decode(response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise LRSError(
                f"{what}: the LRS answered {response.status_code} with a body that is "
                f"not JSON: {response.text[:200]!r}",
                status_code=response.status_code,
                url=response.url,
            ) from exc

    # ------------------------------------------------------------------ reading

    @renamed_parameters(progress="show_progress")
    def iter_statements(
        self,
        *,
        since: datetime | pd.Timestamp | str | None = None,
        until: datetime | pd.Timestamp | str | None = None,
        limit: int | None = None,
        agent: Mapping[str, Any] | str | None = None,
        verb: str | None = None,
        activity: str | None = None,
        registration: str | uuid.UUID | None = None,
        related_agents: bool | None = None,
        related_activities: bool | None = None,
        ascending: bool | None = None,
        cursor: Cursor | None = None,
        show_progress: bool | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield the statements matching the filters, page by page, following ``more``.

        Parameters
        ----------
        since, until : datetime, pandas.Timestamp or str, optional
            Statements stored after ``since`` (exclusive) and at or before ``until``.
            Must be timezone-aware; sent as UTC ISO 8601 with a ``Z``.
        limit : int, optional
            Page size asked of the LRS (``0``: the server's maximum). Every page is
            read: this does not cap the total.
        agent : dict, optional
            An xAPI Agent with one identifier (``mbox``, ``mbox_sha1sum``, ``openid`` or
            ``account``), e.g. ``{"account": {"homePage": ..., "name": ...}}``.
        verb, activity : str, optional
            Verb id / Activity id (IRIs).
        registration : str or uuid.UUID, optional
            A registration UUID.
        related_agents, related_activities, ascending : bool, optional
            The xAPI flags of the same names.
        cursor : Cursor, optional
            Record the position in this cursor (updated in place before each statement
            is yielded). A cursor that already started resumes where it stopped; pass
            no filters then, or the same ones.
        show_progress : bool, optional
            Show a progress bar (default: the client's ``show_progress``).

        Returns
        -------
        iterator of dict
            The xAPI statements as returned by the LRS, fetched lazily page by page
            (filters are checked at the call, before any request).

        Raises
        ------
        LRSError
            When a page cannot be fetched after retries or is malformed.
        ValueError
            For invalid filters (e.g. a naive ``since``) or a cursor with other filters.

        Examples
        --------
        >>> client = LRSClient("https://lrs.example.org/xAPI/", auth=("key", "secret"))
        >>> cursor = Cursor()
        >>> stream = client.iter_statements(since="2025-01-01T00:00:00Z", cursor=cursor)
        >>> first = next(stream)  # doctest: +SKIP
        >>> saved = cursor.to_json()  # doctest: +SKIP
        >>> rest = list(client.iter_statements(cursor=Cursor.from_json(saved)))  # doctest: +SKIP
        """
        filters = {
            "since": since,
            "until": until,
            "limit": limit,
            "agent": agent,
            "verb": verb,
            "activity": activity,
            "registration": registration,
            "related_agents": related_agents,
            "related_activities": related_activities,
            "ascending": ascending,
        }
        params = _build_params(filters)
        if cursor is None:
            cursor = Cursor()
        if cursor.started:
            if params and params != cursor.params:
                raise ValueError(ERR_CURSOR_FILTERS.format(started=cursor.params, given=params))
        else:
            cursor.params = params
        return self._iter_pages(cursor, progress=self._show(show_progress))

    def _show(self, show_progress: bool | None) -> bool:
        """Whether to show a progress bar: the call's choice, the client's, then talentml's."""
        if show_progress is not None:
            return bool(show_progress)
        if self.show_progress is not None:
            return bool(self.show_progress)
        return _show_progress()

    def _iter_pages(self, cursor: Cursor, *, progress: bool) -> Iterator[dict[str, Any]]:
        bar = tqdm(
            desc="LRS statements",
            unit=" statements",
            initial=cursor.n_statements,
            disable=not progress,
            leave=False,
        )
        n_start = cursor.n_statements
        try:
            while not cursor.exhausted:
                if cursor.page_url is None:
                    url, params = self.statements_url, cursor.params
                else:
                    url, params = self._resolve(cursor.page_url), None
                what = f"GET page {cursor.n_pages + 1} of {self.statements_url}"
                response, _ = self._request("GET", url, params=params, what=what)
                if response.status_code != 200:
                    raise LRSError(
                        f"{what}: the LRS answered {response.status_code}: {response.text[:300]}",
                        status_code=response.status_code,
                        url=response.url,
                    )
                statements, more = self._parse_page(self._decode(response, what), what)
                if more is not None and more == cursor.page_url:
                    raise LRSError(f"{what}: the `more` link points at the same page: {more!r}")
                skip = set(cursor.page_delivered_ids)
                todo = [s for s in statements if s["id"] not in skip]
                missing = skip - {s["id"] for s in statements}
                if missing:
                    logger.warning(
                        "%s: %d statement(s) delivered before the resume are no longer on "
                        "this page (the LRS changed it); continuing",
                        what,
                        len(missing),
                    )
                logger.debug("%s: %d statements, more=%r", what, len(statements), more)
                if not todo:
                    self._finish_page(cursor, more)
                    continue
                for index, statement in enumerate(todo):
                    if index == len(todo) - 1:
                        self._finish_page(cursor, more)
                    else:
                        cursor.page_delivered_ids.append(statement["id"])
                    cursor.n_statements += 1
                    cursor.last_id = statement["id"]
                    stored = statement.get("stored")
                    cursor.last_stored = stored if isinstance(stored, str) else None
                    bar.update(1)
                    yield statement
        finally:
            bar.close()
        logger.info(
            "read %d statements from %s (%d pages, %d retries so far)",
            cursor.n_statements - n_start,
            self.statements_url,
            cursor.n_pages,
            self.n_retries,
        )

    @staticmethod
    def _finish_page(cursor: Cursor, more: str | None) -> None:
        cursor.n_pages += 1
        cursor.page_delivered_ids = []
        if more:
            cursor.page_url = more
        else:
            cursor.exhausted = True

    @staticmethod
    def _parse_page(payload: Any, what: str) -> tuple[list[dict[str, Any]], str | None]:
        if not isinstance(payload, Mapping) or not isinstance(payload.get("statements"), list):
            raise LRSError(f"{what}: expected a StatementResult object, got {str(payload)[:200]}")
        statements = payload["statements"]
        bad = [
            i
            for i, s in enumerate(statements)
            if not isinstance(s, Mapping) or not isinstance(s.get("id"), str)
        ]
        if bad:
            raise LRSError(
                f"{what}: {len(bad)} statement(s) without an `id` at positions {bad[:10]}"
            )
        more = payload.get("more") or None
        if more is not None and not isinstance(more, str):
            raise LRSError(f"{what}: `more` is not a string: {more!r}")
        return statements, more

    def get_statement(self, statement_id: str | uuid.UUID) -> dict[str, Any] | None:
        """Fetch one statement by id (``GET statements?statementId=``).

        Parameters
        ----------
        statement_id : str or uuid.UUID
            The statement's id.

        Returns
        -------
        dict or None
            The statement, or ``None`` when the LRS does not have it.

        Examples
        --------
        >>> client = LRSClient("https://lrs.example.org/xAPI/")
        >>> client.get_statement("not-a-uuid")
        Traceback (most recent call last):
        ...
        ValueError: statement_id must be a UUID, got 'not-a-uuid'
        """
        try:
            sid = str(uuid.UUID(str(statement_id)))
        except ValueError as exc:
            raise ValueError(f"statement_id must be a UUID, got {statement_id!r}") from exc
        what = f"GET statement {sid}"
        response, _ = self._request(
            "GET", self.statements_url, params={"statementId": sid}, what=what
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise LRSError(
                f"{what}: the LRS answered {response.status_code}: {response.text[:300]}",
                status_code=response.status_code,
                url=response.url,
            )
        payload = self._decode(response, what)
        # The spec returns the statement itself; some LRSs (ralph) wrap it in a
        # StatementResult.
        if isinstance(payload, Mapping) and isinstance(payload.get("statements"), list):
            found = [s for s in payload["statements"] if s.get("id") == sid]
            return dict(found[0]) if found else None
        if isinstance(payload, Mapping) and payload.get("id") == sid:
            return dict(payload)
        raise LRSError(f"{what}: unexpected answer {str(payload)[:200]}", url=response.url)

    # ------------------------------------------------------------------ writing

    @renamed_parameters(progress="show_progress")
    def post_statements(
        self,
        statements: Iterable[Mapping[str, Any]],
        *,
        batch_size: int = 100,
        show_progress: bool | None = None,
    ) -> pd.DataFrame:
        """Write statements to the LRS in batches (``POST statements``), idempotently.

        Each statement keeps its ``id``; one without an ``id`` gets a deterministic
        UUID 5 derived from its content (the input dicts are not modified), so sending
        the same statement twice never stores it twice: a batch repeated after a
        dropped connection is recognized by the LRS as already stored (204, or 200 with
        the ids). Batches are retried like reads.

        Parameters
        ----------
        statements : iterable of dict
            The xAPI statements; read lazily, one batch at a time.
        batch_size : int
            Statements per request.
        show_progress : bool, optional
            Show a progress bar (default: the client's ``show_progress``).

        Returns
        -------
        pandas.DataFrame
            One row per statement: ``statement_id``, ``batch`` (0-based), ``status_code``
            of its batch, ``attempts`` (requests the batch took), ``echoed`` (whether
            the LRS listed the id in its answer; a conformant LRS lists every id, ralph
            lists only newly stored ones and answers 204 when all were stored before).

        Raises
        ------
        LRSWriteError
            When a batch fails for good; ``report`` holds the batches written before.
        TypeError, ValueError
            For a statement that is not a dict, has a malformed ``id``, or repeats an
            ``id`` seen earlier in the same call (nothing of that batch is sent).

        Examples
        --------
        >>> client = LRSClient("https://lrs.example.org/xAPI/", auth=("key", "secret"))
        >>> statement = {
        ...     "actor": {"account": {"homePage": "https://hr.example.com", "name": "E00042"}},
        ...     "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        ...     "object": {"id": "https://lms.example.com/courses/negotiation-101"},
        ...     "timestamp": "2025-03-01T09:30:00Z",
        ... }
        >>> report = client.post_statements([statement], batch_size=50)  # doctest: +SKIP
        >>> report.columns.tolist()  # doctest: +SKIP
        ['statement_id', 'batch', 'status_code', 'attempts', 'echoed']
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if isinstance(statements, Mapping | str | bytes):
            raise TypeError("post_statements takes an iterable of statement dicts, not one")
        show = self._show(show_progress)
        rows: list[tuple[str, int, int, int, bool]] = []
        seen: dict[str, int] = {}
        batch: list[dict[str, Any]] = []
        n_batches = 0
        with tqdm(desc="LRS write", unit=" statements", disable=not show, leave=False) as bar:
            for index, statement in enumerate(statements):
                batch.append(self._prepare(statement, index, seen))
                if len(batch) == batch_size:
                    rows.extend(self._post_batch(batch, n_batches, rows))
                    bar.update(len(batch))
                    n_batches += 1
                    batch = []
            if batch:
                rows.extend(self._post_batch(batch, n_batches, rows))
                bar.update(len(batch))
                n_batches += 1
        logger.info(
            "wrote %d statements in %d batches to %s", len(rows), n_batches, self.statements_url
        )
        return pd.DataFrame(rows, columns=_REPORT_COLUMNS)

    @staticmethod
    def _prepare(statement: Any, index: int, seen: dict[str, int]) -> dict[str, Any]:
        if not isinstance(statement, Mapping):
            raise TypeError(
                f"statement #{index} is a {type(statement).__name__}, not a dict: "
                f"{str(statement)[:120]}"
            )
        prepared = dict(statement)
        if prepared.get("id") is None:
            prepared["id"] = _content_id(prepared)
        else:
            try:
                prepared["id"] = str(uuid.UUID(str(prepared["id"])))
            except ValueError as exc:
                raise ValueError(
                    f"statement #{index} has an `id` that is not a UUID: {prepared['id']!r}"
                ) from exc
        sid = prepared["id"]
        if sid in seen:
            raise ValueError(
                f"statements #{seen[sid]} and #{index} share the id {sid}; an LRS rejects "
                "the batch (or keeps only one) -- remove the duplicate or give it its own id"
            )
        seen[sid] = index
        return prepared

    def _post_batch(
        self, batch: list[dict[str, Any]], number: int, done: list[tuple[Any, ...]]
    ) -> list[tuple[str, int, int, int, bool]]:
        what = f"POST batch {number} ({len(batch)} statements) to {self.statements_url}"
        body = json.dumps(batch, separators=(",", ":")).encode("utf-8")
        try:
            response, attempts = self._request("POST", self.statements_url, body=body, what=what)
            if response.status_code not in (200, 204):
                raise LRSError(
                    f"{what}: the LRS answered {response.status_code}: {response.text[:500]}",
                    status_code=response.status_code,
                    url=self.statements_url,
                )
            echoed: set[str] = set()
            if response.status_code == 200 and response.content:
                answer = self._decode(response, what)
                if not isinstance(answer, list):
                    raise LRSError(
                        f"{what}: expected a list of statement ids, got {str(answer)[:200]}",
                        status_code=200,
                        url=self.statements_url,
                    )
                echoed = {str(x) for x in answer}
        except LRSError as exc:
            raise LRSWriteError(
                f"{exc} -- batches 0..{number - 1} ({len(done)} statements) were written; "
                f"batch {number} ({len(batch)} statements) was not",
                report=pd.DataFrame(done, columns=_REPORT_COLUMNS),
                failed_batch=number,
                n_unwritten=len(batch),
                status_code=exc.status_code,
                url=exc.url,
            ) from exc
        logger.debug("%s: %d in %d attempt(s)", what, response.status_code, attempts)
        return [(s["id"], number, response.status_code, attempts, s["id"] in echoed) for s in batch]
