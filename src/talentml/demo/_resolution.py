"""Activity resolution of the demo: platform IRIs become the catalog's activities.

The simulated video platform plays the catalog's videos under its own IRIs; :func:`_resolve`
decides the merges :class:`talentml.xapi.ActivityResolver` proposes as a reviewer of the
simulated organization would, and :func:`resolution_counts` says what it did.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

__all__ = ["resolution_counts"]

#: The pipeline's logger: the resolution step logs as it did inside ``_pipeline``.
logger = logging.getLogger("talentml.demo._pipeline")


def _resolve(ingested: Any, org: Any) -> tuple[pd.DataFrame, Any]:
    """Activity resolution before features: one catalog activity per learning, any platform.

    The simulated video platform plays the catalog's videos under its own IRIs
    (``https://video.acme.example/watch/<slug>``); unresolved, features count those
    statements as uncatalogued learning, never voluntary. :class:`talentml.xapi.ActivityResolver`
    accepts the merges its rule finds certain; a merge it leaves ``proposed`` is decided as a
    reviewer of the simulated organization would, against the simulator's alias table
    (``org.truth.activity_aliases``): accepted when both IRIs stand for the same catalog
    activity, rejected otherwise. Deterministic: the same statements, in any order, give the
    same decisions and mapping.

    Returns
    -------
    statements : pandas.DataFrame
        The ingested statements with ``object_id`` resolved (``object_id_raw`` kept).
    resolver : ActivityResolver
        The decided resolver (its merge table, summary and mapping).
    """
    from .. import xapi

    resolver = xapi.ActivityResolver().fit(ingested, course_catalog=org.catalog)
    table = resolver.to_frame()
    proposed = table[(table["status"] == "proposed").to_numpy(bool)]
    if len(proposed):
        aliases = org.truth.activity_aliases
        same = dict(
            zip(
                aliases["object_id"].astype(str).tolist(),
                aliases["activity_id"].astype(str).tolist(),
                strict=True,
            )
        )
        pairs = zip(
            proposed["source_id"].astype(str).tolist(),
            proposed["canonical_id"].astype(str).tolist(),
            strict=True,
        )
        for source, canonical in sorted(pairs):
            if same.get(source, source) == same.get(canonical, canonical):
                resolver.accept(source, canonical)
            else:
                resolver.reject(source, canonical)
    statements = resolver.apply(ingested)
    logger.info("demo pipeline: activity resolution %s", resolution_counts(resolver))
    return statements, resolver


def resolution_counts(resolver: Any) -> dict[str, Any]:
    """What activity resolution did, in plain numbers (for the summary and the report).

    Parameters
    ----------
    resolver : ActivityResolver
        Fitted (and decided) on the statements.

    Returns
    -------
    dict
        ``activities`` and ``statements`` by outcome (``catalog``, ``resolved``,
        ``merged``, ``unchanged``, ``total``: :meth:`ActivityResolver.summary
        <talentml.xapi.ActivityResolver.summary>`), and ``merges`` by status
        (``proposed``, ``accepted``, ``rejected``) and by who decided (``rule``, ``user``).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.xapi import ActivityResolver
    >>> from talentml.demo._pipeline import resolution_counts
    >>> cat = pd.DataFrame({"activity_id": ["https://lms.example/course/golf"], "title": ["Golf"]})
    >>> st = pd.DataFrame({"object_id": ["https://video.example/watch/golf"] * 2,
    ...                    "object_name": ["Golf", "Golf"]})
    >>> counts = resolution_counts(ActivityResolver().fit(st, course_catalog=cat))
    >>> counts["statements"]["resolved"], counts["merges"]["accepted"]
    (2, 1)
    """
    summary = resolver.summary().set_index("outcome")
    table = resolver.to_frame()
    status = table["status"].astype(str).value_counts()
    decided = table["decided_by"].astype(str).value_counts()
    return {
        "activities": {str(k): int(v) for k, v in summary["n_activities"].items()},
        "statements": {str(k): int(v) for k, v in summary["n_statements"].items()},
        "merges": {s: int(status.get(s, 0)) for s in ("proposed", "accepted", "rejected")},
        "decided_by": {s: int(decided.get(s, 0)) for s in ("rule", "user")},
    }
