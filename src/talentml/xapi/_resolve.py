"""Activity resolution: one canonical activity for the many IRIs of the same learning.

The same course shows up under different IRIs: the LMS's course page, its video on a video
platform, an Open edX block id, a SCORM package re-imported under a new id.
:class:`ActivityResolver` proposes merges from three kinds of evidence (the IRI's slug, the
activity's name and its type), decides the clear ones by a fixed rule, leaves the rest to a
person (accept / reject / override, as :class:`talentml.loop.SkillOntology` does for
skills), and rewrites ``object_id`` of a statements table to the canonical ids before
features are built. Everything is deterministic: the same statements in any row order give
the same table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import renamed_parameters
from ._matching import (
    MERGE_COLUMNS,
    STATUSES,
    activity_records,
    candidate_pairs,
    check_table,
    compare,
    records_from_table,
    sorted_merges,
    typed_merges,
)
from ._report import ReconciliationError
from ._result import Ingest

__all__ = [
    "MERGE_COLUMNS",
    "MSG_NOT_FITTED",
    "MSG_NO_PAIR",
    "OUTCOMES",
    "STATUSES",
    "ActivityResolver",
]

logger = logging.getLogger(__name__)

#: What resolution did to each activity IRI (see :meth:`ActivityResolver.activities`).
OUTCOMES = ("catalog", "resolved", "merged", "unchanged")

MSG_NOT_FITTED = (
    "this ActivityResolver is not fitted yet: call fit(statements, course_catalog=...) or build it "
    "with ActivityResolver.from_frame(table)"
)
MSG_NO_PAIR = (
    "no merge between {source!r} and {canonical!r} in the table; to map one activity to "
    "another anyway, use override({{{source!r}: {canonical!r}}})"
)
MSG_STATEMENTS = (
    "ActivityResolver.{method} needs a statements table (or an Ingest) with column "
    "'object_id'; got {got}"
)


def _check_fitted(resolver: ActivityResolver) -> None:
    if getattr(resolver, "merges_", None) is None:
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(MSG_NOT_FITTED)


def _statements_frame(statements: Any, method: str) -> pd.DataFrame:
    if isinstance(statements, Ingest):
        statements = statements.statements
    if not isinstance(statements, pd.DataFrame) or "object_id" not in statements.columns:
        got = (
            f"a table with columns {list(statements.columns)}"
            if isinstance(statements, pd.DataFrame)
            else type(statements).__name__
        )
        raise TypeError(MSG_STATEMENTS.format(method=method, got=got))
    return statements


class ActivityResolver:
    """Resolve the IRIs of one activity across platforms into one canonical activity id.

    Parameters
    ----------
    threshold : float, default 0.85, keyword-only
        Lowest name similarity (difflib ratio of the normalized names) of a merge proposed
        on an equal slug when the names are not equal.
    auto_accept : bool, default True, keyword-only
        Accept the merges the rule finds certain (see Notes) without review. False leaves
        every merge ``proposed`` until a person decides.
    max_group : int, default 50, keyword-only
        A slug or name shared by more IRIs than this is too generic to be evidence
        ("Introduction", "test_name"): it proposes nothing (the skipped keys are in
        ``generic_``).

    Attributes
    ----------
    merges_ : pandas.DataFrame
        The merge table found by :meth:`fit` (see :meth:`to_frame` for the decided one).
    generic_ : list of str
        Slugs and names skipped as too generic.

    Notes
    -----
    Each distinct activity IRI of the statements (and each ``activity_id`` of the catalog)
    is described by its **slug** (the human-readable end of the IRI, see
    :func:`talentml.xapi._activities.slug`), its **name** (the most frequent
    ``object_name``, or the catalog's ``title``) and its **type family** (course, module,
    media, assessment, ... from ``activity_type``). Two IRIs are compared when they share a
    slug, a normalized name or an Open edX course key; a pair is

    * **rejected** by the rule when the types are of different families, the names carry
      different sequence numbers ("Part 1" / "Part 2"), both are Open edX keys of different
      courses or blocks, or the slugs are equal but the names are not similar;
    * **accepted** by the rule (with ``auto_accept``) when the slugs and the normalized names
      are equal, or when both IRIs name the same Open edX course (a course's root
      ``block-v1`` is the course);
    * **proposed** otherwise: an equal slug with a similar name (``>= threshold``) or no
      name, or an equal name with a different or no slug (a package re-imported under an
      opaque id; also many distinct activities that share a generic name, which is why a
      person decides).

    ``score = 0.4 slug + 0.4 name + 0.2 type`` (1 agree, 0 differ, 0.5 unknown; the name
    part is the similarity) orders the table. Catalog activities are never merged with each
    other; a group with a catalog activity takes its id, any other group the id of its IRI
    with the most statements (ties: the smallest id). Manual overrides win over every merge.
    Limits: IRIs whose activity is named only in the query string (``view.php?id=12``) have
    no slug, so across platforms they can only be matched by name (proposed, never
    accepted); names in different languages do not match.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.xapi import ActivityResolver
    >>> catalog = pd.DataFrame({"activity_id": ["https://lms.example/course/sql-basics"],
    ...                         "title": ["SQL Basics"]})
    >>> statements = pd.DataFrame({
    ...     "object_id": ["https://lms.example/course/sql-basics",
    ...                   "https://video.example/watch/sql-basics",
    ...                   "https://video.example/watch/sql-basics-part-2"],
    ...     "object_type": "Activity",
    ...     "object_name": ["SQL Basics", "SQL Basics", "SQL Basics Part 2"],
    ...     "activity_type": "http://adlnet.gov/expapi/activities/media",
    ... })
    >>> resolver = ActivityResolver().fit(statements, course_catalog=catalog)
    >>> resolver.to_frame()[["source_id", "status"]]
                                    source_id    status
    0  https://video.example/watch/sql-basics  accepted
    >>> resolver.to_frame()["evidence"].iloc[0]
    'slug equal; name equal; type equal'
    >>> resolver.apply(statements)["object_id"].tolist()[:2]
    ['https://lms.example/course/sql-basics', 'https://lms.example/course/sql-basics']
    """

    def __init__(
        self, *, threshold: float = 0.85, auto_accept: bool = True, max_group: int = 50
    ) -> None:
        self.threshold = threshold
        self.auto_accept = auto_accept
        self.max_group = max_group
        self._decisions: dict[tuple[str, str], str] = {}
        self._overrides: dict[str, str] = {}

    def __repr__(self) -> str:
        if getattr(self, "merges_", None) is None:
            return f"ActivityResolver(threshold={self.threshold}, auto_accept={self.auto_accept})"
        status = self.to_frame()["status"].value_counts()
        parts = ", ".join(f"{int(status.get(s, 0))} {s}" for s in STATUSES)
        return f"ActivityResolver({len(self.merges_)} merge(s): {parts})"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn convention).

        Examples
        --------
        >>> from talentml.xapi import ActivityResolver
        >>> ActivityResolver(threshold=0.9).get_params()["threshold"]
        0.9
        """
        return {
            "threshold": self.threshold,
            "auto_accept": self.auto_accept,
            "max_group": self.max_group,
        }

    def _validate_params(self) -> None:
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0.0 < float(t) <= 1.0:
            raise ValueError(f"threshold must be a number in (0, 1], got {t!r}")
        if not isinstance(self.auto_accept, bool):
            raise TypeError(f"auto_accept must be True or False, got {self.auto_accept!r}")
        g = self.max_group
        if isinstance(g, bool) or not isinstance(g, int | np.integer) or g < 2:
            raise ValueError(f"max_group must be an integer >= 2, got {g!r}")

    # ------------------------------------------------------------------------------ fit
    @renamed_parameters(catalog="course_catalog")
    def fit(
        self, statements: Any, *, course_catalog: pd.DataFrame | None = None
    ) -> ActivityResolver:
        """Find the merges among the activities of ``statements`` (and of ``course_catalog``).

        Parameters
        ----------
        statements : pandas.DataFrame or Ingest
            The ``statements`` table (``object_id``; ``object_type``, ``object_name``,
            ``activity_type`` and ``platform`` are used when present). Only Activity objects
            take part.
        course_catalog : pandas.DataFrame, optional, keyword-only
            A catalog (``activity_id``; ``title`` and ``activity_type`` when present, e.g.
            from :func:`infer_catalog`). Its activities are the canonical ids: statements on
            aliases resolve to them, and two catalog activities are never merged.

        Returns
        -------
        ActivityResolver
            ``self``. Decisions already made (accept, reject, override) are kept.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://a.example/x/golf", "https://b.example/y/golf"],
        ...                    "object_name": ["Golf", "Golf"]})
        >>> ActivityResolver().fit(st)
        ActivityResolver(1 merge(s): 0 proposed, 1 accepted, 0 rejected)
        """
        self._validate_params()
        st = _statements_frame(statements, "fit")
        records = activity_records(st, course_catalog)
        pairs, generic = candidate_pairs(records, self.max_group)
        rows = [
            compare(records[a], records[b], threshold=self.threshold, auto_accept=self.auto_accept)
            for a, b in pairs
        ]
        merges = pd.DataFrame(rows, columns=[c for c in MERGE_COLUMNS if c != "decided_by"])
        merges.insert(MERGE_COLUMNS.index("decided_by"), "decided_by", "rule")
        self.merges_ = sorted_merges(typed_merges(merges))
        self._from_table = False
        self.generic_ = generic
        self._records_ = records
        if generic:
            logger.info(
                "ActivityResolver: %d generic slug(s) / name(s) shared by more than %d IRIs "
                "proposed nothing, e.g. %s",
                len(generic),
                self.max_group,
                generic[:3],
            )
        counts = self.merges_["status"].value_counts()
        logger.info(
            "ActivityResolver: %d activities, %d candidate merges (%s)",
            len(records),
            len(self.merges_),
            ", ".join(f"{int(counts.get(s, 0))} {s}" for s in STATUSES),
        )
        return self

    # ------------------------------------------------------------------------- decisions
    def _pair(self, source: str, canonical: str) -> tuple[str, str]:
        _check_fitted(self)
        m = self.merges_
        hit = (m["source_id"] == source) & (m["canonical_id"] == canonical)
        if not hit.any():
            hit = (m["source_id"] == canonical) & (m["canonical_id"] == source)
            if not hit.any():
                raise KeyError(MSG_NO_PAIR.format(source=source, canonical=canonical))
            return canonical, source
        return source, canonical

    def accept(self, source_id: str, canonical_id: str) -> ActivityResolver:
        """Accept the merge of ``source_id`` into ``canonical_id`` (a row of the table).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://lms.example/m/view.php?id=3",
        ...                                  "https://lms.example/m/view.php?id=9"],
        ...                    "object_name": ["Golf Explained", "Golf Explained"]})
        >>> r = ActivityResolver().fit(st)
        >>> r.to_frame()["status"].tolist()
        ['proposed']
        >>> r.accept("https://lms.example/m/view.php?id=9", "https://lms.example/m/view.php?id=3")
        ActivityResolver(1 merge(s): 0 proposed, 1 accepted, 0 rejected)
        """
        self._decisions[self._pair(str(source_id), str(canonical_id))] = "accepted"
        return self

    def reject(self, source_id: str, canonical_id: str) -> ActivityResolver:
        """Reject the merge of ``source_id`` into ``canonical_id``: they stay distinct.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://a.example/c/golf", "https://b.example/v/golf"],
        ...                    "object_name": ["Golf", "Golf"]})
        >>> r = ActivityResolver().fit(st).reject("https://b.example/v/golf", "https://a.example/c/golf")
        >>> r.mapping()
        {}
        """
        self._decisions[self._pair(str(source_id), str(canonical_id))] = "rejected"
        return self

    def override(self, mapping: Mapping[str, str]) -> ActivityResolver:
        """Map activities to a canonical id whatever the merges say (an id to itself: keep it
        apart from every merge).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://yt.example/watch?v=x1"]})
        >>> r = ActivityResolver().fit(st).override(
        ...     {"https://yt.example/watch?v=x1": "https://lms.example/course/golf"})
        >>> r.mapping()
        {'https://yt.example/watch?v=x1': 'https://lms.example/course/golf'}
        """
        if not isinstance(mapping, Mapping):
            raise TypeError(f"mapping must be a mapping of ids, got {type(mapping).__name__}")
        for source, target in mapping.items():
            if not isinstance(source, str) or not isinstance(target, str) or not target.strip():
                raise ValueError(f"override {source!r} -> {target!r}: both must be activity ids")
            self._overrides[source] = target
        return self

    def review(self, reviewed: pd.DataFrame) -> ActivityResolver:
        """Apply a reviewed merge table: every row whose ``status`` a person changed.

        Rows whose ``status`` differs from the rule's, or whose ``decided_by`` is ``user``,
        become decisions; override rows (``evidence`` ``override``) become overrides.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://lms.example/m/view.php?id=3",
        ...                                  "https://lms.example/m/view.php?id=9"],
        ...                    "object_name": ["Golf Explained", "Golf Explained"]})
        >>> r = ActivityResolver().fit(st)
        >>> table = r.to_frame().assign(status="accepted")
        >>> len(r.review(table).mapping())
        1
        """
        _check_fitted(self)
        table = check_table(reviewed)
        rule = self.merges_.set_index(["source_id", "canonical_id"])["status"]
        for rec in table.itertuples(index=False):
            source, canonical, status = str(rec.source_id), str(rec.canonical_id), str(rec.status)
            if getattr(rec, "evidence", None) == "override":
                self._overrides[source] = canonical
                continue
            if (source, canonical) not in rule.index:
                raise KeyError(MSG_NO_PAIR.format(source=source, canonical=canonical))
            by_user = getattr(rec, "decided_by", None) == "user"
            if by_user or status != rule.loc[(source, canonical)]:
                if status == "proposed":
                    self._decisions.pop((source, canonical), None)
                else:
                    self._decisions[(source, canonical)] = status
        return self

    # ---------------------------------------------------------------------------- results
    def to_frame(self) -> pd.DataFrame:
        """The merge table with the decisions applied, best evidence first.

        Returns
        -------
        pandas.DataFrame
            One row per candidate pair (columns :data:`MERGE_COLUMNS`): ``source_id`` and
            ``canonical_id`` (the side that names the merged activity), their names and
            types, ``slug_match`` / ``type_match`` (nullable booleans), ``name_similarity``,
            ``evidence`` (in words, with the rule's reason for a rejection), ``score``,
            ``status`` (``proposed``, ``accepted``, ``rejected``), ``decided_by`` (``rule``
            or ``user``) and ``n_statements`` (of the source). Overrides follow as rows with
            ``evidence`` ``override``.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://a.example/c/part-1", "https://b.example/c/part-2"],
        ...                    "object_name": ["Golf Part 1", "Golf Part 2"]})
        >>> ActivityResolver().fit(st).to_frame()[["status", "evidence"]]
        Empty DataFrame
        Columns: [status, evidence]
        Index: []
        """
        _check_fitted(self)
        out = self.merges_.copy()
        keys = list(zip(out["source_id"].tolist(), out["canonical_id"].tolist(), strict=True))
        status = out["status"].astype(object).to_numpy().copy()
        decided = out["decided_by"].astype(object).to_numpy().copy()
        for i, key in enumerate(keys):
            if key in self._decisions:
                status[i] = self._decisions[key]
                decided[i] = "user"
            if key[0] in self._overrides or key[1] in self._overrides:
                # an overridden activity takes part in no merge but its override
                status[i] = "accepted" if self._overrides.get(key[0]) == key[1] else "rejected"
                decided[i] = "user"
        out["status"] = pd.array(status, dtype="string")
        out["decided_by"] = pd.array(decided, dtype="string")
        if self._overrides:
            extra = pd.DataFrame(
                {
                    "source_id": list(self._overrides),
                    "canonical_id": list(self._overrides.values()),
                    "evidence": "override",
                    "status": "accepted",
                    "decided_by": "user",
                    "n_statements": [
                        self._records_[s].n_statements if s in self._records_ else 0
                        for s in self._overrides
                    ],
                }
            )
            out = pd.concat([out, typed_merges(extra)], ignore_index=True)
        return typed_merges(out)

    def mapping(self) -> dict[str, str]:
        """``{activity IRI: canonical id}`` for every IRI that resolution changes.

        Accepted merges are joined into groups (never two catalog activities in one group);
        overrides win. Deterministic: the same table gives the same mapping.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://a.example/c/golf", "https://b.example/v/golf",
        ...                                  "https://b.example/v/golf"],
        ...                    "object_name": ["Golf", "Golf", "Golf"]})
        >>> ActivityResolver().fit(st).mapping()
        {'https://a.example/c/golf': 'https://b.example/v/golf'}
        """
        table = self.to_frame()
        merges = table[(table["status"] == "accepted") & (table["evidence"] != "override")]
        overridden = set(self._overrides)
        records = getattr(self, "_records_", {})
        in_catalog = {k for k, r in records.items() if r.in_catalog}
        n_statements = {k: r.n_statements for k, r in records.items()}
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            parent.setdefault(x, x)
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        members: dict[str, set[str]] = {}
        ordered = merges.sort_values(
            ["score", "canonical_id", "source_id"], ascending=[False, True, True], kind="stable"
        )
        for source, canonical in zip(
            ordered["source_id"].tolist(), ordered["canonical_id"].tolist(), strict=True
        ):
            if source in overridden or canonical in overridden:
                continue
            ra, rb = find(source), find(canonical)
            if ra == rb:
                continue
            group_a = members.get(ra, {ra})
            group_b = members.get(rb, {rb})
            if (group_a & in_catalog) and (group_b & in_catalog):
                logger.info(
                    "ActivityResolver: merge %s -> %s skipped: it would join two catalog "
                    "activities",
                    source,
                    canonical,
                )
                continue
            parent[ra] = rb
            members[rb] = group_a | group_b
            members.pop(ra, None)
        out: dict[str, str] = {}
        for group in members.values():
            catalog_members = sorted(group & in_catalog)
            if catalog_members:
                head = catalog_members[0]
            else:
                head = min(group, key=lambda x: (-n_statements.get(x, 0), x))
            for x in sorted(group):
                if x != head:
                    out[x] = head
        for source in sorted(overridden):
            target = self._overrides[source]
            target = out.get(target, target)
            if target != source:
                out[source] = target
            else:
                out.pop(source, None)
        return dict(sorted(out.items()))

    def apply(self, statements: Any) -> pd.DataFrame:
        """The statements with ``object_id`` rewritten to canonical activity ids.

        Parameters
        ----------
        statements : pandas.DataFrame or Ingest
            A ``statements`` table (any rows: activities resolution does not know pass
            unchanged).

        Returns
        -------
        pandas.DataFrame
            A copy with ``object_id`` mapped by :meth:`mapping` and the original in an extra
            column ``object_id_raw`` (kept as is when the table already has it, so applying
            twice changes nothing).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://a.example/c/golf", "https://b.example/v/golf"],
        ...                    "object_name": ["Golf", "Golf"]})
        >>> out = ActivityResolver().fit(st).apply(st)
        >>> out[["object_id", "object_id_raw"]].iloc[1].tolist()
        ['https://a.example/c/golf', 'https://b.example/v/golf']
        """
        st = _statements_frame(statements, "apply")
        mapping = self.mapping()
        out = st.copy()
        raw = st["object_id"].astype(object)
        if "object_id_raw" not in out.columns:
            out["object_id_raw"] = pd.array(raw.to_numpy(object), dtype="string")
        mapped = raw.map(lambda x: mapping.get(x, x) if isinstance(x, str) else x)
        changed = int((mapped.to_numpy(object) != raw.to_numpy(object)).sum())
        out["object_id"] = pd.array(mapped.to_numpy(object), dtype="string")
        logger.info(
            "ActivityResolver.apply: %d of %d statements moved to a canonical activity",
            changed,
            len(out),
        )
        return out

    def activities(self) -> pd.DataFrame:
        """Every activity IRI fitted, its canonical id and what resolution did to it.

        Returns
        -------
        pandas.DataFrame
            ``object_id``, ``canonical_id``, ``outcome`` (``catalog``: a catalog
            activity; ``resolved``: an alias of one; ``merged``: an alias of another
            uncatalogued IRI; ``unchanged``), ``in_catalog``, ``name``, ``activity_type``,
            ``slug``, ``platforms`` and ``n_statements``.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> cat = pd.DataFrame({"activity_id": ["https://lms.example/course/golf"], "title": ["Golf"]})
        >>> st = pd.DataFrame({"object_id": ["https://video.example/watch/golf"],
        ...                    "object_name": ["Golf"]})
        >>> ActivityResolver().fit(st, course_catalog=cat).activities()[["outcome", "n_statements"]]
            outcome  n_statements
        0   catalog             0
        1  resolved             1
        """
        _check_fitted(self)
        records = getattr(self, "_records_", None)
        if records is None or getattr(self, "_from_table", False):
            raise ValueError(
                "this ActivityResolver was built from a table: fit it on statements to list "
                "its activities"
            )
        mapping = self.mapping()
        rows = []
        for aid, r in records.items():
            canonical = mapping.get(aid, aid)
            if r.in_catalog:
                outcome = "catalog"
            elif canonical == aid:
                outcome = "unchanged"
            elif canonical in records and records[canonical].in_catalog:
                outcome = "resolved"
            else:
                outcome = "merged"
            rows.append(
                (aid, canonical, outcome, r.in_catalog, r.name, r.type, r.slug,
                 list(r.platforms), r.n_statements)
            )  # fmt: skip
        out = pd.DataFrame(
            rows,
            columns=[
                "object_id",
                "canonical_id",
                "outcome",
                "in_catalog",
                "name",
                "activity_type",
                "slug",
                "platforms",
                "n_statements",
            ],
        )
        return out.astype(
            {
                "object_id": "string",
                "canonical_id": "string",
                "outcome": "string",
                "in_catalog": "bool",
                "name": "string",
                "activity_type": "string",
                "slug": "string",
                "n_statements": "int64",
            }
        )

    def summary(self) -> pd.DataFrame:
        """Activities and statements by outcome; the rows add up to the ``total`` row.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> cat = pd.DataFrame({"activity_id": ["https://lms.example/course/golf"], "title": ["Golf"]})
        >>> st = pd.DataFrame({"object_id": ["https://video.example/watch/golf",
        ...                                  "https://video.example/watch/chess"],
        ...                    "object_name": ["Golf", "Chess"]})
        >>> ActivityResolver().fit(st, course_catalog=cat).summary()
             outcome  n_activities  n_statements
        0    catalog             1             0
        1   resolved             1             1
        2     merged             0             0
        3  unchanged             1             1
        4      total             3             2
        """
        acts = self.activities()
        grouped = acts.groupby("outcome")[["n_statements"]].agg(["size", "sum"])
        rows = []
        for outcome in OUTCOMES:
            if outcome in grouped.index:
                size = int(grouped.loc[outcome, ("n_statements", "size")])
                total = int(grouped.loc[outcome, ("n_statements", "sum")])
            else:
                size = total = 0
            rows.append((outcome, size, total))
        n_act = sum(r[1] for r in rows)
        n_st = sum(r[2] for r in rows)
        fitted = sum(r.n_statements for r in self._records_.values())
        if n_act != len(acts) or n_st != fitted:
            raise ReconciliationError(
                f"activity resolution does not reconcile: {n_act} activities / {n_st} "
                f"statements by outcome, {len(acts)} / {fitted} fitted"
            )
        rows.append(("total", n_act, n_st))
        return pd.DataFrame(rows, columns=["outcome", "n_activities", "n_statements"]).astype(
            {"outcome": "string", "n_activities": "int64", "n_statements": "int64"}
        )

    # ---------------------------------------------------------------------- round trips
    @classmethod
    def from_frame(cls, table: pd.DataFrame, **params: Any) -> ActivityResolver:
        """A resolver from a merge table (e.g. a reviewed :meth:`to_frame`, read back from
        a file): its accepted rows and overrides give the mapping.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://a.example/c/golf", "https://b.example/v/golf"],
        ...                    "object_name": ["Golf", "Golf"]})
        >>> table = ActivityResolver().fit(st).to_frame()
        >>> ActivityResolver.from_frame(table).mapping() == ActivityResolver().fit(st).mapping()
        True
        """
        table = check_table(table)
        resolver = cls(**params)
        resolver._validate_params()
        overrides = table["evidence"].astype(object) == "override" if "evidence" in table else None
        merges = table[~overrides] if overrides is not None else table
        full = merges.reindex(columns=list(MERGE_COLUMNS)).assign(decided_by="rule")
        resolver.merges_ = sorted_merges(typed_merges(full))
        resolver.generic_ = []
        for rec in merges.itertuples(index=False):
            if getattr(rec, "decided_by", None) == "user":
                resolver._decisions[(str(rec.source_id), str(rec.canonical_id))] = str(rec.status)
        if overrides is not None:
            for rec in table[overrides].itertuples(index=False):
                resolver._overrides[str(rec.source_id)] = str(rec.canonical_id)
        resolver._records_ = records_from_table(full)
        resolver._from_table = True
        return resolver

    def to_json(self, path: str | Path | None = None) -> str:
        """The decided merge table and the parameters as JSON (written to ``path`` if given).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://a.example/c/golf", "https://b.example/v/golf"],
        ...                    "object_name": ["Golf", "Golf"]})
        >>> r = ActivityResolver().fit(st)
        >>> ActivityResolver.from_json(r.to_json()).mapping() == r.mapping()
        True
        """
        table = self.to_frame()
        records = []
        for rec in table.to_dict("records"):
            records.append({k: (None if _isna(v) else _plain(v)) for k, v in rec.items()})
        text = json.dumps(
            {"format": "talentml.ActivityResolver", "version": 1, "params": self.get_params(),
             "merges": records},
            indent=1,
            sort_keys=True,
        )  # fmt: skip
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text: str | Path) -> ActivityResolver:
        """A resolver from :meth:`to_json` output (a JSON string or a file path).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.xapi import ActivityResolver
        >>> st = pd.DataFrame({"object_id": ["https://a.example/c/golf", "https://b.example/v/golf"],
        ...                    "object_name": ["Golf", "Golf"]})
        >>> text = ActivityResolver(threshold=0.9).fit(st).to_json()
        >>> ActivityResolver.from_json(text).threshold
        0.9
        """
        if isinstance(text, Path) or (isinstance(text, str) and not text.lstrip().startswith("{")):
            text = Path(text).read_text(encoding="utf-8")
        data = json.loads(text)
        if data.get("format") != "talentml.ActivityResolver":
            raise ValueError("not an ActivityResolver JSON document (see ActivityResolver.to_json)")
        table = pd.DataFrame(data["merges"], columns=list(MERGE_COLUMNS))
        return cls.from_frame(table, **data.get("params", {}))


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
