"""The matching rule of activity resolution: activities, candidate pairs, evidence, status.

:class:`talentml.xapi.ActivityResolver` holds decisions and results; this module holds the
rule it applies (documented in its docstring and in docs/xapi.md): what is known of each
activity IRI (:func:`activity_records`), which pairs are compared (:func:`candidate_pairs`)
and how a pair is judged (:func:`compare`), and the typed merge table.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ContractError
from ._activities import name_key, name_numbers, openedx_key, slug, type_family

__all__ = [
    "MERGE_COLUMNS",
    "MSG_CATALOG_ID",
    "MSG_STATUS",
    "MSG_TABLE",
    "STATUSES",
    "Activity",
    "activity_records",
    "candidate_pairs",
    "check_table",
    "compare",
    "records_from_table",
    "sorted_merges",
    "typed_merges",
]

#: Statuses of a merge.
STATUSES = ("proposed", "accepted", "rejected")
#: Columns of the merge table (:meth:`ActivityResolver.to_frame`).
MERGE_COLUMNS = (
    "source_id",
    "canonical_id",
    "source_name",
    "canonical_name",
    "source_type",
    "canonical_type",
    "slug_match",
    "name_similarity",
    "type_match",
    "evidence",
    "score",
    "status",
    "decided_by",
    "n_statements",
    "canonical_n_statements",
    "canonical_in_catalog",
)

MSG_CATALOG_ID = (
    "table 'catalog' column 'activity_id': {count} row(s) are null or repeated, e.g. rows "
    "{rows}; fix: one row per activity, e.g. catalog.drop_duplicates('activity_id')"
)
MSG_TABLE = (
    "a merge table needs columns {required}; it has {columns}. Use the table of "
    "ActivityResolver.to_frame()"
)
MSG_STATUS = (
    "the merge table's column 'status' has values outside {statuses} in {count} row(s), "
    "e.g. rows {rows}"
)

_WEIGHTS = {"slug": 0.4, "name": 0.4, "type": 0.2}


@dataclass(frozen=True)
class Activity:
    """What is known of one activity IRI."""

    id: str
    in_catalog: bool
    name: str | None
    type: str | None
    family: str | None
    slug: str | None
    edx: tuple[str, ...] | None
    name_key: str | None
    numbers: tuple[int, ...]
    n_statements: int
    platforms: tuple[str, ...]


def _mode(values: pd.Series) -> str | None:
    counts = Counter(v for v in values if isinstance(v, str) and v)
    if not counts:
        return None
    best = max(counts.values())
    return min(v for v, c in counts.items() if c == best)


def activity_records(st: pd.DataFrame, catalog: pd.DataFrame | None) -> dict[str, Activity]:
    """One :class:`Activity` per activity IRI of the statements and of the catalog."""
    ids = st["object_id"].astype(object)
    keep = ids.notna().to_numpy(bool)
    if "object_type" in st.columns:
        keep = keep & (st["object_type"].astype(object) == "Activity").to_numpy(bool)
    frame = pd.DataFrame(
        {
            "id": ids.to_numpy(object)[keep],
            "name": _column(st, "object_name")[keep],
            "type": _column(st, "activity_type")[keep],
            "platform": _column(st, "platform")[keep],
        }
    )
    seen: dict[str, dict[str, Any]] = {}
    for aid, group in frame.groupby("id", sort=True):
        seen[str(aid)] = {
            "name": _mode(group["name"]),
            "type": _mode(group["type"]),
            "n": len(group),
            "platforms": tuple(sorted({p for p in group["platform"] if isinstance(p, str)})),
        }
    catalog_ids: dict[str, dict[str, Any]] = {}
    if catalog is not None:
        catalog_ids = _catalog_facts(catalog)
    records: dict[str, Activity] = {}
    for aid in sorted(set(seen) | set(catalog_ids)):
        s = seen.get(aid, {"name": None, "type": None, "n": 0, "platforms": ()})
        c = catalog_ids.get(aid)
        name = (c or {}).get("title") or s["name"]
        kind = (c or {}).get("activity_type") or s["type"]
        records[aid] = Activity(
            id=aid,
            in_catalog=c is not None,
            name=name,
            type=kind,
            family=type_family(kind),
            slug=slug(aid),
            edx=openedx_key(aid),
            name_key=name_key(name),
            numbers=name_numbers(name),
            n_statements=int(s["n"]),
            platforms=s["platforms"],
        )
    return records


def candidate_pairs(
    records: Mapping[str, Activity], max_group: int
) -> tuple[list[tuple[str, str]], list[str]]:
    """Pairs of IRIs sharing a slug, a name or an Open edX course (each once), and the keys
    skipped as generic (shared by more than ``max_group`` IRIs)."""
    blocks: dict[tuple[str, Any], list[str]] = {}
    for r in records.values():
        if r.slug is not None:
            blocks.setdefault(("slug", r.slug), []).append(r.id)
        if r.name_key is not None:
            blocks.setdefault(("name", r.name_key), []).append(r.id)
        if r.edx is not None:
            blocks.setdefault(("edx", r.edx[:4]), []).append(r.id)
    pairs: set[tuple[str, str]] = set()
    generic: list[str] = []
    for (kind, key), members in sorted(blocks.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        if len(members) < 2:
            continue
        if len(members) > max_group:
            generic.append(f"{kind} {key!r} ({len(members)} IRIs)")
            continue
        for a, b in combinations(sorted(members), 2):
            if records[a].in_catalog and records[b].in_catalog:
                continue
            pairs.add((a, b))
    return sorted(pairs), generic


def compare(a: Activity, b: Activity, *, threshold: float, auto_accept: bool) -> dict[str, Any]:
    """One row of the merge table: the evidence of a pair and the rule's status."""
    # the canonical side: a catalog activity, else more statements, else the smaller id
    canonical, source = sorted((a, b), key=lambda r: (not r.in_catalog, -r.n_statements, r.id))
    slug_match = None if a.slug is None or b.slug is None else a.slug == b.slug
    if a.name_key is None or b.name_key is None:
        name_sim = None
    elif a.name_key == b.name_key:
        name_sim = 1.0
    else:
        name_sim = difflib.SequenceMatcher(None, a.name_key, b.name_key).ratio()
    type_match = None if a.family is None or b.family is None else a.family == b.family
    edx_match = None if a.edx is None or b.edx is None else a.edx == b.edx
    evidence = [
        "slug " + {True: "equal", False: "differs", None: "unknown"}[slug_match],
        "name "
        + (
            "unknown"
            if name_sim is None
            else "equal"
            if name_sim == 1.0
            else f"similar {name_sim:.2f}"
        ),
        "type " + {True: "equal", False: "differs", None: "unknown"}[type_match],
    ]
    veto = []
    if type_match is False:
        veto.append(f"types differ ({a.family} / {b.family})")
    if name_sim is not None and a.numbers != b.numbers:
        veto.append(f"numbers in the names differ ({list(a.numbers)} / {list(b.numbers)})")
    if edx_match is False:
        veto.append("different Open edX courses or blocks")
    if slug_match and name_sim is not None and name_sim < threshold:
        veto.append("same slug, names differ")
    if edx_match:
        evidence.insert(0, "same Open edX course")
    if veto:
        status = "rejected"
        evidence.append("rule: " + "; ".join(veto))
    elif edx_match or (slug_match and name_sim == 1.0):
        status = "accepted" if auto_accept else "proposed"
    else:
        status = "proposed"
    score = (
        1.0
        if edx_match
        else (
            _WEIGHTS["slug"] * _part(slug_match)
            + _WEIGHTS["name"] * (0.5 if name_sim is None else name_sim)
            + _WEIGHTS["type"] * _part(type_match)
        )
    )
    return {
        "source_id": source.id,
        "canonical_id": canonical.id,
        "source_name": source.name,
        "canonical_name": canonical.name,
        "source_type": source.type,
        "canonical_type": canonical.type,
        "slug_match": slug_match,
        "name_similarity": np.nan if name_sim is None else round(name_sim, 4),
        "type_match": type_match,
        "evidence": "; ".join(evidence),
        "score": round(score, 4),
        "status": status,
        "n_statements": source.n_statements,
        "canonical_n_statements": canonical.n_statements,
        "canonical_in_catalog": canonical.in_catalog,
    }


def _part(match: bool | None) -> float:
    return 0.5 if match is None else (1.0 if match else 0.0)


def _column(st: pd.DataFrame, name: str) -> np.ndarray:
    if name in st.columns:
        return st[name].astype(object).to_numpy()
    return np.full(len(st), None, dtype=object)


def _catalog_facts(catalog: pd.DataFrame) -> dict[str, dict[str, Any]]:
    if not isinstance(catalog, pd.DataFrame) or "activity_id" not in catalog.columns:
        raise ContractError(
            "table 'catalog' needs a column 'activity_id' (the activity IRI, as in "
            "statements.object_id)",
            table="catalog",
        )
    ids = catalog["activity_id"].astype(object)
    bad = (ids.isna() | ids.duplicated(keep=False)).to_numpy(bool)
    if bad.any():
        raise ContractError(
            MSG_CATALOG_ID.format(count=int(bad.sum()), rows=catalog.index[bad][:5].tolist()),
            table="catalog",
        )
    titles = _column(catalog, "title")
    types = _column(catalog, "activity_type")
    return {
        str(a): {
            "title": t if isinstance(t, str) and t else None,
            "activity_type": k if isinstance(k, str) and k else None,
        }
        for a, t, k in zip(ids.tolist(), titles, types, strict=True)
    }


def typed_merges(table: pd.DataFrame) -> pd.DataFrame:
    """The merge table in :data:`MERGE_COLUMNS` order with its dtypes (missing columns NA)."""
    out = table.reindex(columns=list(MERGE_COLUMNS)).copy()
    for c in ("source_id", "canonical_id", "source_name", "canonical_name", "source_type",
              "canonical_type", "evidence", "status", "decided_by"):  # fmt: skip
        out[c] = pd.array(
            out[c].astype(object).where(out[c].notna(), None).tolist(), dtype="string"
        )
    for c in ("slug_match", "type_match"):
        out[c] = pd.array(
            out[c].astype(object).where(out[c].notna(), None).tolist(), dtype="boolean"
        )
    for c in ("name_similarity", "score"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    for c in ("n_statements", "canonical_n_statements"):
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0).astype("int64")
    flags = [_flag(v) is True for v in out["canonical_in_catalog"].astype(object).tolist()]
    out["canonical_in_catalog"] = np.array(flags, dtype=bool)
    return out


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        return value.strip().casefold() in ("true", "1", "yes")
    return None


def sorted_merges(table: pd.DataFrame) -> pd.DataFrame:
    """Best evidence first; ties by canonical then source id (row order never matters)."""
    order = table.sort_values(
        ["score", "canonical_id", "source_id"], ascending=[False, True, True], kind="stable",
        na_position="last",
    )  # fmt: skip
    return order.reset_index(drop=True)


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    """A merge table given by a person: the columns it needs and valid statuses."""
    required = ["source_id", "canonical_id", "status"]
    if not isinstance(table, pd.DataFrame) or not set(required) <= set(table.columns):
        columns = list(table.columns) if isinstance(table, pd.DataFrame) else type(table).__name__
        raise ContractError(MSG_TABLE.format(required=required, columns=columns), table="merges")
    bad = ~table["status"].astype(object).isin(STATUSES).to_numpy(bool)
    if bad.any():
        raise ContractError(
            MSG_STATUS.format(
                statuses=list(STATUSES), count=int(bad.sum()), rows=table.index[bad][:5].tolist()
            ),
            table="merges",
        )
    return table


def records_from_table(table: pd.DataFrame) -> dict[str, Activity]:
    """Activities known from a merge table alone (names, types, statement counts)."""
    out: dict[str, Activity] = {}
    for side in ("canonical", "source"):
        for rec in table.itertuples(index=False):
            aid = str(getattr(rec, f"{side}_id"))
            if aid in out:
                continue
            name = getattr(rec, f"{side}_name")
            kind = getattr(rec, f"{side}_type")
            name = name if isinstance(name, str) else None
            kind = kind if isinstance(kind, str) else None
            canonical = side == "canonical"
            out[aid] = Activity(
                id=aid, in_catalog=canonical and bool(rec.canonical_in_catalog), name=name,
                type=kind, family=type_family(kind), slug=slug(aid), edx=openedx_key(aid),
                name_key=name_key(name), numbers=name_numbers(name),
                n_statements=int(rec.canonical_n_statements if canonical else rec.n_statements),
                platforms=(),
            )  # fmt: skip
    return out
