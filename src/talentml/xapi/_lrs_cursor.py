"""The LRS client's resumable :class:`Cursor` and request helpers (see :mod:`talentml.xapi._lrs`)."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from .._http import retry_after_seconds
from ._lrs_base import _FILTER_NAMES, _IFI_KEYS, CURSOR_FORMAT, ERR_NAIVE_TIME

logger = logging.getLogger("talentml.xapi._lrs")


@dataclasses.dataclass
class Cursor:
    """The position of a statement read, serializable to JSON, to resume it later.

    A cursor is updated in place by :meth:`LRSClient.iter_statements` *before* each
    statement is handed out: whenever you save it, it describes exactly the statements
    you have received. Resuming from it yields every remaining statement once, none
    twice, as long as the LRS keeps serving the page (its ``more`` link) it points at.
    Create an empty one (``Cursor()``) to start a read.

    Parameters
    ----------
    params : dict of str to str, optional
        The query parameters of the first page (``None`` until the read starts).
    page_url : str, optional
        The page to fetch next: ``None`` for the first page, else a ``more`` link.
    page_delivered_ids : list of str
        Ids already delivered from ``page_url`` (skipped when the page is fetched again).
    n_statements : int
        Statements delivered so far over the whole read.
    n_pages : int
        Pages fetched and fully delivered so far.
    last_id, last_stored : str, optional
        ``id`` and ``stored`` of the last statement delivered.
    exhausted : bool
        ``True`` once the last page has been delivered.

    Examples
    --------
    >>> cursor = Cursor()
    >>> cursor.started, cursor.exhausted
    (False, False)
    >>> Cursor.from_json(cursor.to_json()) == cursor
    True
    """

    params: dict[str, str] | None = None
    page_url: str | None = None
    page_delivered_ids: list[str] = dataclasses.field(default_factory=list)
    n_statements: int = 0
    n_pages: int = 0
    last_id: str | None = None
    last_stored: str | None = None
    exhausted: bool = False

    @property
    def started(self) -> bool:
        """Whether a read has started from this cursor."""
        return self.params is not None

    def to_dict(self) -> dict[str, Any]:
        """Return the cursor as a JSON-compatible dict.

        Returns
        -------
        dict
            The fields, plus ``"format": "talentml.lrs.cursor/1"``.
        """
        return {"format": CURSOR_FORMAT, **dataclasses.asdict(self)}

    def to_json(self) -> str:
        """Return the cursor as a JSON string.

        Returns
        -------
        str
            :meth:`to_dict` as JSON, keys sorted.
        """
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cursor:
        """Rebuild a cursor from :meth:`to_dict` output.

        Parameters
        ----------
        data : mapping
            A dict made by :meth:`to_dict`.

        Returns
        -------
        Cursor
            The cursor, ready to resume a read.

        Raises
        ------
        ValueError
            When ``data`` is not a cursor of this format.
        """
        if not isinstance(data, Mapping) or data.get("format") != CURSOR_FORMAT:
            raise ValueError(f"not a {CURSOR_FORMAT} cursor: {str(data)[:200]}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names - {"format"}
        if unknown:
            raise ValueError(f"unknown cursor fields {sorted(unknown)}")
        fields = {k: v for k, v in data.items() if k in names}
        fields["page_delivered_ids"] = list(fields.get("page_delivered_ids") or [])
        return cls(**fields)

    @classmethod
    def from_json(cls, text: str | bytes) -> Cursor:
        """Rebuild a cursor from :meth:`to_json` output.

        Parameters
        ----------
        text : str or bytes
            A JSON string made by :meth:`to_json`.

        Returns
        -------
        Cursor
            The cursor, ready to resume a read.
        """
        return cls.from_dict(json.loads(text))


def _format_time(value: Any, name: str) -> str:
    if isinstance(value, datetime | pd.Timestamp | str):
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"LRS filter `{name}` is not a time: {value!r}") from exc
    else:
        raise TypeError(f"LRS filter `{name}` must be a datetime or ISO 8601 str, got {value!r}")
    if pd.isna(stamp):
        raise ValueError(f"LRS filter `{name}` is not a time: {value!r}")
    if stamp.tzinfo is None:
        raise ValueError(ERR_NAIVE_TIME.format(name=name, value=value))
    stamp = stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_iri(value: Any, name: str) -> str:
    if not isinstance(value, str) or not urlsplit(value).scheme or " " in value:
        raise ValueError(f"LRS filter `{name}` must be an absolute IRI, got {value!r}")
    return value


def _format_agent(agent: Any) -> str:
    if isinstance(agent, str):
        try:
            agent = json.loads(agent)
        except ValueError as exc:
            raise ValueError(f"LRS filter `agent` is not an xAPI Agent: {agent!r}") from exc
    if not isinstance(agent, Mapping):
        raise TypeError(f"LRS filter `agent` must be an xAPI Agent dict, got {agent!r}")
    present = [key for key in _IFI_KEYS if agent.get(key)]
    if len(present) != 1:
        raise ValueError(
            "LRS filter `agent` needs exactly one identifier out of "
            f"{', '.join(_IFI_KEYS)}; got {dict(agent)!r}"
        )
    account = agent.get("account")
    if account is not None and not (
        isinstance(account, Mapping) and account.get("name") and account.get("homePage")
    ):
        raise ValueError(f"LRS filter `agent` has an account without name and homePage: {agent!r}")
    return json.dumps(dict(agent), separators=(",", ":"), sort_keys=True)


def _build_params(filters: Mapping[str, Any]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name in _FILTER_NAMES:
        value = filters.get(name)
        if value is None:
            continue
        if name in ("since", "until"):
            params[name] = _format_time(value, name)
        elif name == "limit":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"LRS filter `limit` must be an int >= 0, got {value!r}")
            params[name] = str(value)
        elif name == "agent":
            params[name] = _format_agent(value)
        elif name in ("verb", "activity"):
            params[name] = _check_iri(value, name)
        elif name == "registration":
            try:
                params[name] = str(uuid.UUID(str(value)))
            except ValueError as exc:
                raise ValueError(
                    f"LRS filter `registration` must be a UUID, got {value!r}"
                ) from exc
        else:
            if not isinstance(value, bool):
                raise TypeError(f"LRS filter `{name}` must be a bool, got {value!r}")
            params[name] = "true" if value else "false"
    if "since" in params and "until" in params and params["since"] >= params["until"]:
        raise ValueError(
            f"LRS filters select nothing: since={params['since']} is not before "
            f"until={params['until']}"
        )
    return params


#: The one ``Retry-After`` parser (base layer), under the name the LRS client calls.
_retry_after_seconds = retry_after_seconds


def _content_id(statement: Mapping[str, Any]) -> str:
    # The same id ingest gives an id-less statement, so write-back and ingest agree.
    from ._ingest import content_id

    return content_id(dict(statement))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
