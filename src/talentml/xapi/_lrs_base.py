"""The LRS client's errors, bearer tokens and constants (see :mod:`talentml.xapi._lrs`)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import pandas as pd
import requests

logger = logging.getLogger("talentml.xapi._lrs")

#: The xAPI version sent in the ``X-Experience-API-Version`` request header by default.
DEFAULT_XAPI_VERSION = "1.0.3"
#: HTTP status codes that are retried (with backoff, honouring ``Retry-After``).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Format tag stored in every serialized :class:`Cursor`.
CURSOR_FORMAT = "talentml.lrs.cursor/1"

_XAPI_VERSION_HEADER = "X-Experience-API-Version"
_IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
_FILTER_NAMES = (
    "since",
    "until",
    "limit",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_agents",
    "related_activities",
    "ascending",
)
_REPORT_COLUMNS = ["statement_id", "batch", "status_code", "attempts", "echoed"]

ERR_NAIVE_TIME = (
    "LRS filter `{name}` must be timezone-aware (UTC), got {value!r}; "
    "add a time zone (e.g. 'Z') -- a naive time is ambiguous and some LRSs answer 500"
)
ERR_CROSS_ORIGIN = (
    "the LRS returned a `more` link to another origin ({link!r}, endpoint {endpoint!r}); "
    "refusing to send credentials there"
)
ERR_CURSOR_FILTERS = (
    "this cursor was started with filters {started}; iter_statements got {given}. "
    "Resume with the same filters (or none)"
)


class LRSError(RuntimeError):
    """An LRS request failed for good (after retries) or answered something unusable.

    Parameters
    ----------
    message : str
        What failed and why.
    status_code : int, optional
        The HTTP status of the last response, ``None`` when no response arrived.
    url : str, optional
        The URL of the failed request.
    """

    def __init__(self, message: str, *, status_code: int | None = None, url: str | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.url = url


class LRSAuthError(LRSError):
    """Authentication with the LRS or with the OAuth token endpoint failed.

    Parameters
    ----------
    message : str
        What failed and why.
    status_code : int, optional
        The HTTP status (401 or 403 from the LRS, or the token endpoint's status).
    url : str, optional
        The URL of the refused request.
    """


class LRSWriteError(LRSError):
    """A batch of :meth:`LRSClient.post_statements` failed; earlier batches are stored.

    Parameters
    ----------
    message : str
        What failed and why.
    report : pandas.DataFrame
        One row per statement of the batches written before the failure (same columns
        as the report :meth:`LRSClient.post_statements` returns).
    failed_batch : int
        Zero-based number of the batch that failed.
    n_unwritten : int
        Number of statements of the failed batch (the statements after it were not read).
    status_code : int, optional
        The HTTP status of the failed batch's last response.
    url : str, optional
        The statements URL.
    """

    def __init__(
        self,
        message: str,
        *,
        report: pd.DataFrame,
        failed_batch: int,
        n_unwritten: int,
        status_code: int | None = None,
        url: str | None = None,
    ):
        super().__init__(message, status_code=status_code, url=url)
        self.report = report
        self.failed_batch = failed_batch
        self.n_unwritten = n_unwritten


class BearerToken(requests.auth.AuthBase):
    """OAuth-style bearer authentication: ``Authorization: Bearer <token>``.

    Parameters
    ----------
    token : str or callable
        The access token, or a function without arguments that returns a fresh one.
        With a function, the client asks it again once when the LRS answers 401
        (an expired token), then repeats the request.

    Examples
    --------
    >>> auth = BearerToken("abc123")
    >>> auth.token
    'abc123'
    >>> issued = iter(["expired", "fresh"])
    >>> rotating = BearerToken(lambda: next(issued))
    >>> rotating.token, rotating.refresh(), rotating.token
    ('expired', True, 'fresh')
    """

    def __init__(self, token: str | Callable[[], str]):
        if not callable(token) and not (isinstance(token, str) and token):
            raise TypeError(f"BearerToken needs a non-empty str or a callable, got {token!r}")
        self._provider = token if callable(token) else None
        self._token: str | None = None if callable(token) else token

    @property
    def token(self) -> str:
        """The current access token (fetched from the provider when needed)."""
        if self._token is None and self._provider is not None:
            token = self._provider()
            if not isinstance(token, str) or not token:
                raise LRSAuthError(f"the bearer token provider returned {token!r}, not a str")
            self._token = token
        return str(self._token)

    def refresh(self) -> bool:
        """Drop the current token so the next request gets a new one.

        Returns
        -------
        bool
            ``True`` when a provider can issue a new token, ``False`` for a fixed token.
        """
        if self._provider is None:
            return False
        self._token = None
        return True

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class OAuth2ClientCredentials(BearerToken):
    """Bearer tokens from an OAuth 2 token endpoint (client-credentials grant).

    The token is fetched on first use with ``grant_type=client_credentials`` and HTTP
    basic client authentication (``client_secret_basic``), cached until ``expires_in``
    minus ``leeway`` seconds, and fetched again when it expires or the LRS answers 401.

    Parameters
    ----------
    token_url : str
        The token endpoint of the identity provider.
    client_id, client_secret : str
        The client's credentials at the identity provider.
    scope : str, optional
        Space-separated scopes to request.
    audience : str, optional
        Sent as ``audience`` (some providers require it).
    timeout : float or (float, float)
        Connect / read timeout of the token request, in seconds.
    leeway : float
        Seconds before the announced expiry at which the token is renewed.
    session : requests.Session, optional
        Session for the token requests (a new one by default).

    Examples
    --------
    >>> auth = OAuth2ClientCredentials(
    ...     "https://idp.example.org/token", client_id="talentml", client_secret="s3cret"
    ... )
    >>> auth.n_fetched
    0
    >>> auth.token  # doctest: +SKIP
    'eyJhbGciOi...'
    """

    def __init__(
        self,
        token_url: str,
        *,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        audience: str | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        leeway: float = 30.0,
        session: requests.Session | None = None,
    ):
        super().__init__(self._fetch)
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope
        self.audience = audience
        self.timeout = timeout
        self.leeway = float(leeway)
        self._session = session if session is not None else requests.Session()
        self._expires_at = math.inf
        #: How many tokens were fetched from the token endpoint so far.
        self.n_fetched = 0

    @property
    def token(self) -> str:
        """The current access token, renewed when it is about to expire."""
        if self._token is not None and time.monotonic() >= self._expires_at:
            logger.debug("access token from %s expired; fetching a new one", self.token_url)
            self._token = None
        return super().token

    def _fetch(self) -> str:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        if self.audience:
            data["audience"] = self.audience
        try:
            response = self._session.post(
                self.token_url,
                data=data,
                auth=(self.client_id, self._client_secret),
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise LRSAuthError(
                f"token request to {self.token_url} failed: {exc}", url=self.token_url
            ) from exc
        if response.status_code != 200:
            raise LRSAuthError(
                f"token endpoint {self.token_url} answered {response.status_code}: "
                f"{response.text[:300]}",
                status_code=response.status_code,
                url=self.token_url,
            )
        try:
            payload = response.json()
            token = payload["access_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise LRSAuthError(
                f"token endpoint {self.token_url} returned no `access_token`: "
                f"{response.text[:300]}",
                status_code=response.status_code,
                url=self.token_url,
            ) from exc
        token_type = str(payload.get("token_type", "Bearer"))
        if token_type.lower() != "bearer":
            raise LRSAuthError(
                f"token endpoint {self.token_url} issued a {token_type!r} token, not a bearer",
                url=self.token_url,
            )
        expires_in = payload.get("expires_in")
        self._expires_at = (
            time.monotonic() + float(expires_in) - self.leeway
            if expires_in is not None
            else math.inf
        )
        self.n_fetched += 1
        logger.info("fetched an access token from %s (expires_in=%s)", self.token_url, expires_in)
        return str(token)
