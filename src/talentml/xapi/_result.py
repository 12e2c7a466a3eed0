"""The result of an ingest: the statements table, the quarantine, the report, the actors.

:class:`Ingest` holds what :func:`talentml.xapi.ingest` made, reads raw statements back from
the spool, lists the actors (:meth:`Ingest.actors`) and re-keys ``employee_id``
(:meth:`Ingest.map_identities`) without reading the source again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pandas as pd

from ._actors import actors_table, coverage_counts, identity_map
from ._report import IngestReport
from ._spool import Spool, redact_statement

__all__ = ["Ingest"]

logger = logging.getLogger(__name__)


class Ingest:
    """The result of :func:`ingest`.

    Attributes
    ----------
    statements : pandas.DataFrame
        The ``statements`` contract table, one row per accepted statement, in the order read.
    quarantine : pandas.DataFrame
        One row per rejected statement version: ``statement_id`` (null when unknown),
        ``reason`` (a code of :data:`talentml.xapi.REASONS`), ``rule`` (section and rule),
        ``path`` (JSON path of the offending value), ``detail``, ``source`` (``file:line``,
        ``file[index]``, ``[index]`` or ``lrs[index]``) and ``raw`` (the JSON text, redacted
        unless ``ingest(..., redact=False)``).
    report : IngestReport
        Counts by outcome and reason.

    Examples
    --------
    >>> from talentml.xapi import ingest
    >>> good = {"actor": {"mbox": "mailto:ada@example.com"},
    ...         "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    ...         "object": {"id": "https://lms.example.com/course/7"},
    ...         "timestamp": "2024-05-01T09:30:00Z"}
    >>> bad = dict(good, verb={"id": "completed"})
    >>> result = ingest([good, good, bad], secret="a-secret-of-some-length")
    >>> len(result.statements), result.quarantine["reason"].tolist()
    (1, ['verb.id.not_iri'])
    >>> raw = result.raw(result.statements["statement_id"].iloc[0])
    >>> raw["verb"]["id"]
    'http://adlnet.gov/expapi/verbs/completed'
    """

    def __init__(
        self,
        statements: pd.DataFrame,
        quarantine: pd.DataFrame,
        report: IngestReport,
        *,
        spool: Spool,
        index: dict[str, int],
        excluded: frozenset[int],
        redact: bool,
        actors: dict[str, tuple] | None = None,
        secret: bytes | None = None,
    ) -> None:
        self.statements = statements
        self.quarantine = quarantine
        self.report = report
        self._spool = spool
        self._index = index
        self._excluded = excluded
        self._redact = redact
        self._actors = actors if actors is not None else {}
        self._secret = secret  # kept in memory only, to key raw identifiers in map_identities

    def actors(self) -> pd.DataFrame:
        """The distinct actors of the accepted statements: what a mapping to employees needs.

        Raw identifiers stay out of it unless the ingest ran with ``redact=False``: each actor
        is its keyed hash (``actor_key``, the key of the ``identities`` table), the kind of
        its identifier and the system it belongs to, so a person can see which identifiers
        the HRIS extract must carry (e.g. "accounts on https://openedx.example.org") and
        build the mapping with :func:`build_identities` without anyone's identifier leaving
        the HRIS.

        Returns
        -------
        pandas.DataFrame
            One row per ``actor_key``, most statements first: ``kind`` (``account``,
            ``mbox``, ``mbox_sha1sum``, ``openid`` or ``group`` for an anonymous group),
            ``homepage`` (an account's ``homePage``), ``domain`` (of an e-mail address or an
            OpenID), ``value`` (the raw identifier: the account name, the ``mailto:`` IRI,
            the SHA-1 or the OpenID; null unless ``ingest(..., redact=False)``),
            ``employee_id`` (the current mapping, null when unmapped), ``n_statements`` and
            ``platforms`` (sorted list of ``context.platform`` values).

        See Also
        --------
        map_identities : Apply a mapping without reading the source again.

        Examples
        --------
        >>> from talentml.xapi import ingest
        >>> done = {"id": "http://adlnet.gov/expapi/verbs/completed"}
        >>> lms = {"account": {"homePage": "https://lms.example.com", "name": "u42"}}
        >>> video = {"mbox": "mailto:ada@example.com"}
        >>> statements = [
        ...     {"actor": lms, "verb": done, "object": {"id": "https://lms.example.com/c/1"},
        ...      "timestamp": "2024-05-01T09:30:00Z"},
        ...     {"actor": lms, "verb": done, "object": {"id": "https://lms.example.com/c/2"},
        ...      "timestamp": "2024-05-02T09:30:00Z"},
        ...     {"actor": video, "verb": done, "object": {"id": "https://video.example/v/1"},
        ...      "timestamp": "2024-05-03T09:30:00Z"},
        ... ]
        >>> result = ingest(statements, secret="a-secret-of-some-length")
        >>> result.actors()[["kind", "homepage", "domain", "value", "n_statements"]]
              kind                 homepage       domain value  n_statements
        0  account  https://lms.example.com         <NA>  <NA>             2
        1     mbox                     <NA>  example.com  <NA>             1
        """
        return actors_table(self.statements, self._actors, redacted=self._redact)

    def map_identities(self, identities: pd.DataFrame, *, keep_existing: bool = False) -> Ingest:
        """A copy of this ingest with ``employee_id`` re-keyed, without reading the source.

        Parameters
        ----------
        identities : pandas.DataFrame
            Either the ``identities`` table (``actor_key``, ``employee_id``), as made by
            :func:`build_identities` with the same secret as the ingest, or by filling in
            ``employee_id`` in :meth:`actors`; or a table of raw identifiers: ``kind`` (one of
            ``mbox``, ``email``, ``mbox_sha1sum``, ``openid``, ``account``), ``value`` (the
            address, hash, OpenID or account name), ``employee_id``, and ``homepage`` for
            accounts, which is keyed here with the secret the ingest ran with (no raw
            identifier is kept). Rows with a null ``employee_id`` are skipped (counted in the
            log).
        keep_existing : bool, default False, keyword-only
            Keep the current ``employee_id`` of actors that ``identities`` does not list
            (to add a second mapping, e.g. e-mail addresses after LMS accounts). By default
            the mapping is replaced.

        Returns
        -------
        Ingest
            The same statements, quarantine and raw spool (closing one closes both), with
            ``employee_id`` from ``identities`` and a report with the new mapped / unmapped
            counts (the reconciliation counts are unchanged).

        Raises
        ------
        talentml.ContractError
            If the table has neither layout, a kind is unknown, a value or an account's
            ``homepage`` is missing, or one identifier maps to two employees; the message
            names the column, the rows and the fix.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ingest
        >>> stmt = {"actor": {"account": {"homePage": "https://lms.example.com", "name": "u42"}},
        ...         "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        ...         "object": {"id": "https://lms.example.com/course/7"},
        ...         "timestamp": "2024-05-01T09:30:00Z"}
        >>> result = ingest([stmt], secret="a-secret-of-some-length")
        >>> result.report.mapped_statements
        0
        >>> hris = pd.DataFrame({"kind": ["account"], "homepage": ["https://lms.example.com"],
        ...                      "value": ["u42"], "employee_id": ["E1"]})
        >>> mapped = result.map_identities(hris)
        >>> mapped.statements["employee_id"].tolist(), mapped.report.mapped_statements
        (['E1'], 1)
        """
        if not isinstance(keep_existing, bool):
            raise TypeError(f"keep_existing must be True or False, got {keep_existing!r}")
        if len(self.statements) != self.report.accepted:
            raise ValueError(
                f"this Ingest's statements have {len(self.statements)} rows but "
                f"{self.report.accepted} were accepted: map_identities re-keys the ingest's own "
                "table (map before filtering it)"
            )
        mapping, skipped = identity_map(identities, secret=self._secret)
        if skipped:
            logger.info("map_identities: %d row(s) without employee_id skipped", skipped)
        st = self.statements.copy()
        new = st["actor_key"].astype(object).map(mapping)
        if keep_existing:
            new = new.where(new.notna(), st["employee_id"].astype(object))
        st["employee_id"] = pd.array(new.to_numpy(object), dtype="string")
        report = dataclasses.replace(self.report, identities_given=True, **coverage_counts(st))
        logger.info(
            "map_identities: %d of %d statements, %d of %d actors mapped",
            report.mapped_statements,
            report.accepted,
            report.mapped_actors,
            report.actors,
        )
        return Ingest(
            st,
            self.quarantine,
            report,
            spool=self._spool,
            index=self._index,
            excluded=self._excluded,
            redact=self._redact,
            actors=self._actors,
            secret=self._secret,
        )

    def _iter_raw(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(row of statements, parsed statement)`` of every accepted statement, in file order."""
        rows = [self._index[sid] for sid in self.statements["statement_id"].astype(str)]
        position = {row: i for i, row in enumerate(rows)}
        for row, raw in self._spool.iter_raw(rows):
            yield position[row], orjson.loads(raw)

    def raw(self, statement_id: str) -> dict:
        """The JSON of an accepted (or voided / voiding) statement, by id.

        Personal identifiers (mbox, mbox_sha1sum, openid, account, name) are redacted unless the
        ingest ran with ``redact=False``.

        Raises
        ------
        KeyError
            If no statement with that id was accepted (quarantined ones are in
            :attr:`quarantine`, with their ``raw`` JSON).

        Examples
        --------
        >>> from talentml.xapi import ingest
        >>> stmt = {
        ...     "actor": {"mbox": "mailto:ada@example.com", "name": "Ada"},
        ...     "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        ...     "object": {"id": "https://lms.example.com/course/7"},
        ...     "timestamp": "2024-05-01T09:30:00Z",
        ... }
        >>> result = ingest([stmt], secret="a-secret-of-some-length")
        >>> sid = result.statements["statement_id"].iloc[0]
        >>> result.raw(sid)["actor"]
        {'mbox': '[redacted]', 'name': '[redacted]'}
        """
        key = str(statement_id).lower()
        row = self._index.get(key)
        if row is None or row in self._excluded:
            raise KeyError(
                f"no accepted statement with id {statement_id!r}; rejected statements are in "
                ".quarantine with their raw JSON"
            )
        statement = orjson.loads(self._spool.read(row)[1])
        return redact_statement(statement) if self._redact else statement

    def close(self) -> None:
        """Release the temporary file that holds the raw statements (``raw`` stops working)."""
        self._spool.close()

    def __enter__(self) -> Ingest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Ingest {str(self.report).splitlines()[0]}>"
