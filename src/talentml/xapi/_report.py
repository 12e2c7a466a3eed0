"""The report of an ingest: outcomes that reconcile, people mapped, times filled in.

:class:`IngestReport` proves that nothing was lost (``read = accepted + duplicates + voided +
quarantined``, per reason code) and says how usable the accepted statements are: how many map
to an employee (and how many actors do), and how many had their ``stored`` time (when the
statement became known, the available time of point-in-time features) filled in from the
``timestamp`` or from ``received`` because the source did not carry one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..exceptions import TalentMLError

__all__ = ["COVERAGE_MEASURES", "IngestReport", "ReconciliationError"]

OUTCOMES = ("accepted", "duplicate", "voided", "quarantined")

#: Rows of :meth:`IngestReport.coverage`, in order, with what each counts.
COVERAGE_MEASURES: dict[str, str] = {
    "statements_mapped": "accepted statements whose actor maps to an employee",
    "statements_unmapped": "accepted statements whose actor maps to no employee (features skip them)",
    "actors_mapped": "distinct actors that map to an employee",
    "actors_unmapped": "distinct actors that map to no employee",
    "stored_given": "accepted statements that carried their own stored time",
    "stored_from_timestamp": "accepted statements without stored, taken to be known at their timestamp",
    "stored_from_received": "accepted statements without stored, taken to be known at received",
    "timestamp_from_stored": "accepted statements without timestamp, taken to happen at stored",
}

_MAPPING_FIELDS = ("mapped_statements", "unmapped_statements", "mapped_actors", "unmapped_actors")
_TIME_FIELDS = ("stored_from_timestamp", "stored_from_received", "timestamp_from_stored")

#: Note of a report whose statements took their ``stored`` time from their ``timestamp``.
NOTE_STORED_FROM_TIMESTAMP = (
    "{n:,} of {accepted:,} statements ({share:.0%}) had no `stored` time: each is taken to be "
    "known at its own `timestamp`. Point-in-time features then assume the LRS knew every such "
    "statement the moment it happened: right for live tracking, optimistic for records "
    "imported or synced later (they become visible at earlier as_of dates than they really "
    "were). If the export was received at a known time, ingest(..., received=<that time>) "
    "makes them known only from then on."
)
#: Note of a report whose statements took their ``stored`` time from ``received``.
NOTE_STORED_FROM_RECEIVED = (
    "{n:,} of {accepted:,} statements ({share:.0%}) had no `stored` time and are taken to be "
    "known at `received`: point-in-time features see them only from then on."
)
#: Note of a report whose statements took their ``timestamp`` from ``stored``.
NOTE_TIMESTAMP_FROM_STORED = (
    "{n:,} of {accepted:,} statements ({share:.0%}) had no `timestamp` and are taken to have "
    "happened when they were stored."
)
#: Note of a report made without an identities table.
NOTE_NO_IDENTITIES = (
    "No identities table was given, so none of the {accepted:,} statements ({actors:,} actors) "
    "maps to an employee and features will skip them all. Ingest.actors() lists the actors "
    "(identifier kind, account home page or e-mail domain, statement count); build the "
    "mapping with build_identities(...) and apply it with Ingest.map_identities(...) without "
    "reading the source again."
)
#: Note of a report with statements whose actor maps to no employee.
NOTE_UNMAPPED = (
    "{n:,} of {accepted:,} statements ({share:.0%}), from {actors:,} of {total_actors:,} "
    "actors, map to no employee: features skip them. Ingest.actors() shows which identifier "
    "kinds and systems they use; Ingest.map_identities(...) maps them without reading the "
    "source again."
)


class ReconciliationError(TalentMLError, RuntimeError):
    """The counts of an ingest do not add up (a bug: please report it)."""


@dataclass(frozen=True)
class IngestReport:
    """Counts of an ingest, by outcome and by reason, and how usable the accepted rows are.

    ``read == accepted + duplicates + voided + quarantined`` always holds; it is checked when
    the report is made, and so are the coverage counts when they are given
    (``mapped_statements + unmapped_statements == accepted``, and no more statements had a
    time filled in than were accepted).

    Attributes
    ----------
    read : int
        Records read from the source (blank lines are not records).
    accepted : int
        Rows of :attr:`Ingest.statements`.
    duplicates : int
        Re-sent copies of a statement already read (same id, same content).
    voided : int
        Statements removed by voiding, plus the voiding statements themselves.
    quarantined : int
        Rows of :attr:`Ingest.quarantine`: invalid statements and id conflicts.
    reasons : pandas.DataFrame
        ``outcome``, ``reason``, ``count``, ``rule``: one row per reason seen.
    mapped_statements, unmapped_statements : int or None
        Accepted statements whose ``employee_id`` is known / null (None: not counted, as in a
        report made by hand).
    mapped_actors, unmapped_actors : int or None
        Distinct ``actor_key`` of the accepted statements that map / do not map to an
        employee.
    stored_from_timestamp : int or None
        Accepted statements without ``stored`` that were taken to be known at their
        ``timestamp`` (see :attr:`notes` for what that means for point-in-time features).
    stored_from_received : int or None
        Accepted statements without ``stored`` that took the ``received`` time of the ingest.
    timestamp_from_stored : int or None
        Accepted statements without ``timestamp`` that took their ``stored`` time.
    identities_given : bool or None
        Whether the ingest (or :meth:`Ingest.map_identities`) had an identities table.

    Examples
    --------
    >>> from talentml.xapi import ingest
    >>> s = {"actor": {"mbox": "mailto:ada@example.com"},
    ...      "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    ...      "object": {"id": "https://lms.example.com/course/7"},
    ...      "timestamp": "2024-05-01T09:30:00Z"}
    >>> report = ingest([s, s], secret="a-secret-of-some-length").report
    >>> report.read, report.accepted, report.duplicates
    (2, 1, 1)
    >>> report.read == report.accepted + report.duplicates + report.voided + report.quarantined
    True
    >>> report.unmapped_statements, report.stored_from_timestamp
    (1, 1)
    """

    read: int
    accepted: int
    duplicates: int
    voided: int
    quarantined: int
    reasons: pd.DataFrame = field(repr=False)
    mapped_statements: int | None = None
    unmapped_statements: int | None = None
    mapped_actors: int | None = None
    unmapped_actors: int | None = None
    stored_from_timestamp: int | None = None
    stored_from_received: int | None = None
    timestamp_from_stored: int | None = None
    identities_given: bool | None = None

    def __post_init__(self) -> None:
        total = self.accepted + self.duplicates + self.voided + self.quarantined
        if total != self.read:
            raise ReconciliationError(
                f"ingest does not reconcile: read {self.read} != accepted {self.accepted} + "
                f"duplicates {self.duplicates} + voided {self.voided} + quarantined {self.quarantined}"
            )
        by_outcome = self.reasons.groupby("outcome", observed=True)["count"].sum()
        for outcome, attr in zip(
            OUTCOMES, ("accepted", "duplicates", "voided", "quarantined"), strict=True
        ):
            if int(by_outcome.get(outcome, 0)) != getattr(self, attr):
                raise ReconciliationError(
                    f"ingest reasons do not add up to {attr} = {getattr(self, attr)}"
                )
        for name in (*_MAPPING_FIELDS, *_TIME_FIELDS):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ReconciliationError(f"ingest count {name} is negative: {value}")
        mapping = [getattr(self, n) for n in _MAPPING_FIELDS]
        if any(v is not None for v in mapping) and any(v is None for v in mapping):
            raise ReconciliationError(
                f"ingest coverage counts {list(_MAPPING_FIELDS)} go together: give all or none"
            )
        if self.mapped_statements is not None:
            if self.mapped_statements + self.unmapped_statements != self.accepted:
                raise ReconciliationError(
                    f"ingest coverage does not reconcile: mapped {self.mapped_statements} + "
                    f"unmapped {self.unmapped_statements} statements != accepted {self.accepted}"
                )
            if (self.mapped_actors > 0) != (self.mapped_statements > 0) or (
                self.unmapped_actors > 0
            ) != (self.unmapped_statements > 0):
                raise ReconciliationError(
                    "ingest coverage does not reconcile: statements and actors disagree on "
                    "whether any are mapped / unmapped"
                )
        filled = (self.stored_from_timestamp or 0) + (self.stored_from_received or 0)
        if filled > self.accepted or (self.timestamp_from_stored or 0) > self.accepted:
            raise ReconciliationError(
                f"ingest time counts exceed the {self.accepted} accepted statements"
            )

    @property
    def actors(self) -> int | None:
        """Distinct actors of the accepted statements (None when not counted).

        Examples
        --------
        >>> from talentml.xapi import ingest
        >>> s = {"actor": {"mbox": "mailto:ada@example.com"},
        ...      "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        ...      "object": {"id": "https://lms.example.com/course/7"},
        ...      "timestamp": "2024-05-01T09:30:00Z"}
        >>> ingest([s], secret="a-secret-of-some-length").report.actors
        1
        """
        if self.mapped_actors is None:
            return None
        return self.mapped_actors + self.unmapped_actors

    def to_frame(self) -> pd.DataFrame:
        """The counts as a one-row-per-outcome table (``outcome``, ``count``), ``read`` first.

        Examples
        --------
        >>> from talentml.xapi import ingest
        >>> stmt = {
        ...     "id": "2557db94-bd34-46d7-9684-d928c824963a",
        ...     "actor": {"account": {"homePage": "https://lms.example.com", "name": "u42"}},
        ...     "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        ...     "object": {"id": "https://lms.example.com/course/7"},
        ...     "timestamp": "2024-05-01T09:30:00Z",
        ... }
        >>> result = ingest([stmt, stmt], secret="a-secret-of-some-length")
        >>> result.report.to_frame()
               outcome  count
        0         read      2
        1     accepted      1
        2   duplicates      1
        3       voided      0
        4  quarantined      0
        """
        names = ["read", "accepted", "duplicates", "voided", "quarantined"]
        return pd.DataFrame({"outcome": names, "count": [getattr(self, n) for n in names]})

    def coverage(self) -> pd.DataFrame:
        """How usable the accepted statements are: people mapped, times filled in.

        Returns
        -------
        pandas.DataFrame
            One row per measure of :data:`COVERAGE_MEASURES` that was counted: ``measure``,
            ``count``, ``total`` (accepted statements, or distinct actors), ``share`` and
            ``meaning``. Empty for a report made without these counts.

        Examples
        --------
        >>> from talentml.xapi import ingest
        >>> s = {"actor": {"mbox": "mailto:ada@example.com"},
        ...      "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        ...      "object": {"id": "https://lms.example.com/course/7"},
        ...      "timestamp": "2024-05-01T09:30:00Z"}
        >>> table = ingest([s], secret="a-secret-of-some-length").report.coverage()
        >>> table[["measure", "count", "total"]].head(3)
                       measure  count  total
        0    statements_mapped      0      1
        1  statements_unmapped      1      1
        2        actors_mapped      0      1
        """
        rows: list[tuple[str, int, int]] = []
        if self.mapped_statements is not None:
            actors = self.actors or 0
            rows += [
                ("statements_mapped", self.mapped_statements, self.accepted),
                ("statements_unmapped", self.unmapped_statements, self.accepted),
                ("actors_mapped", self.mapped_actors, actors),
                ("actors_unmapped", self.unmapped_actors, actors),
            ]
        if any(getattr(self, n) is not None for n in _TIME_FIELDS):
            from_ts = self.stored_from_timestamp or 0
            from_received = self.stored_from_received or 0
            rows += [
                ("stored_given", self.accepted - from_ts - from_received, self.accepted),
                ("stored_from_timestamp", from_ts, self.accepted),
                ("stored_from_received", from_received, self.accepted),
                ("timestamp_from_stored", self.timestamp_from_stored or 0, self.accepted),
            ]
        table = pd.DataFrame(rows, columns=["measure", "count", "total"]).astype(
            {"measure": "string", "count": "int64", "total": "int64"}
        )
        total = table["total"].astype("float64")
        table["share"] = table["count"].astype("float64") / total.where(total > 0)
        table["meaning"] = pd.array(
            [COVERAGE_MEASURES[m] for m in table["measure"]], dtype="string"
        )
        return table

    @property
    def notes(self) -> tuple[str, ...]:
        """What the counts mean for the analysis, in plain language (empty when all is well).

        Examples
        --------
        >>> from talentml.xapi import ingest
        >>> s = {"actor": {"mbox": "mailto:ada@example.com"},
        ...      "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        ...      "object": {"id": "https://lms.example.com/course/7"},
        ...      "timestamp": "2024-05-01T09:30:00Z"}
        >>> for note in ingest([s], secret="a-secret-of-some-length").report.notes:
        ...     print(note[:45], "...")
        1 of 1 statements (100%) had no `stored` time ...
        No identities table was given, so none of the ...
        """
        out: list[str] = []
        n = self.accepted
        for count, template in (
            (self.stored_from_timestamp, NOTE_STORED_FROM_TIMESTAMP),
            (self.stored_from_received, NOTE_STORED_FROM_RECEIVED),
            (self.timestamp_from_stored, NOTE_TIMESTAMP_FROM_STORED),
        ):
            if count:
                out.append(template.format(n=count, accepted=n, share=count / n))
        if self.unmapped_statements:
            if self.identities_given is False:
                out.append(NOTE_NO_IDENTITIES.format(accepted=n, actors=self.actors))
            else:
                out.append(
                    NOTE_UNMAPPED.format(
                        n=self.unmapped_statements,
                        accepted=n,
                        share=self.unmapped_statements / n,
                        actors=self.unmapped_actors,
                        total_actors=self.actors,
                    )
                )
        return tuple(out)

    def __str__(self) -> str:
        text = (
            f"read {self.read}: accepted {self.accepted}, duplicates {self.duplicates}, "
            f"voided {self.voided}, quarantined {self.quarantined}"
        )
        if self.mapped_statements is not None:
            text += (
                f"\nmapped to employees: {self.mapped_statements} of {self.accepted} statements, "
                f"{self.mapped_actors} of {self.actors} actors"
            )
        filled = [
            f"{count} {what}"
            for count, what in (
                (self.stored_from_timestamp, "stored taken from timestamp"),
                (self.stored_from_received, "stored taken from received"),
                (self.timestamp_from_stored, "timestamp taken from stored"),
            )
            if count
        ]
        if filled:
            text += "\ntimes filled in: " + ", ".join(filled)
        return text
