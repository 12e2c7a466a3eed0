"""A skills ontology: one vocabulary for catalogs, reviews and job profiles.

Names that differ only in spelling (case, punctuation, ``&``/``and``, plurals, common
abbreviations such as ``Mgmt``) share a *key* and merge automatically. Names that may mean the
same skill (synonyms such as ``Client Management`` / ``Account Management``, or close
spellings) are only *suggested*: a person accepts or rejects each suggestion, and manual
overrides always win. Activities are mapped to canonical skills and levels.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

import pandas as pd

from .._validation import renamed_parameters
from ..xapi import LEVEL_WORDS

__all__ = ["DEFAULT_ABBREVIATIONS", "DEFAULT_SYNONYMS", "LEVEL_WORDS", "SkillOntology"]

logger = logging.getLogger(__name__)

#: Abbreviations expanded before comparing names (whole words only).
DEFAULT_ABBREVIATIONS: Mapping[str, str] = {
    "mgmt": "management",
    "mgt": "management",
    "mngmt": "management",
    "comms": "communication",
    "dev": "development",
    "viz": "visualization",
    "visualisation": "visualization",
    "ml": "machine learning",
    "ai": "artificial intelligence",
    "bi": "business intelligence",
    "pres": "presentation",
}
#: Groups of words that may mean the same in a skill name; names equal up to these words are
#: suggested as merges (never merged without review).
DEFAULT_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("client", "customer", "account"),
    ("management", "managing", "manager"),
    ("people", "team", "staff"),
    ("coaching", "mentoring"),
    ("analysis", "analytics", "analytic"),
    ("strategic", "strategy"),
    ("communication", "communicating"),
    ("negotiation", "negotiating"),
    ("presentation", "presenting", "public speaking"),
    ("leadership", "leading"),
)
#: Words of activity titles that tell a level (1 to 4) when the catalog has no ``level``
#: (one list, shared with :func:`talentml.xapi.infer_catalog`).
_STOP = frozenset({"the", "of", "for", "in", "to", "a", "an", "with", "on"})
_STATUSES = ("suggested", "accepted", "rejected")


def _singular(t: str) -> str:
    if len(t) > 4 and t.endswith("s") and not t.endswith(("ss", "us", "is", "ics")):
        return t[:-1]
    return t


def _tokens(text: str, abbreviations: Mapping[str, str]) -> list[str]:
    s = text.casefold().replace("&", " and ").replace("+", " plus ")
    s = re.sub(r"[^\w\s]", " ", s)
    out: list[str] = []
    for tok in s.split():
        tok = abbreviations.get(tok) or abbreviations.get(_singular(tok)) or tok
        for t in tok.split():
            if t in _STOP or t == "and":
                continue
            out.append(_singular(t))
    return out


class SkillOntology:
    """One vocabulary of skills, built from catalogs, reviews and job profiles.

    Parameters
    ----------
    synonyms : sequence of sequence of str, optional
        Word groups that may mean the same (default :data:`DEFAULT_SYNONYMS`); names equal up
        to them are suggested as merges.
    abbreviations : mapping, optional
        Words expanded before comparing (default :data:`DEFAULT_ABBREVIATIONS`).
    threshold : float, default 0.85
        Minimum spelling similarity (difflib ratio of the keys) of a suggestion that is not a
        synonym.

    Examples
    --------
    >>> from talentml.loop import SkillOntology
    >>> onto = SkillOntology()
    >>> onto.add(["Client Management", "Project Mgmt", "Data Analysis"], source="catalog")
    SkillOntology(3 terms, 3 skills, 0 suggestion(s))
    >>> onto.add(["Account Management", "project management"], source="job profiles")
    SkillOntology(5 terms, 4 skills, 1 suggestion(s))
    >>> onto.canonical("PROJECT MANAGEMENT")
    'Project Mgmt'
    >>> onto.suggestions()[["variant", "canonical", "reason", "status"]]
                  variant          canonical                      reason     status
    0  Account Management  Client Management  synonyms: account ~ client  suggested
    >>> onto.accept("Account Management", "Client Management").canonical("account management")
    'Client Management'
    """

    def __init__(
        self,
        *,
        synonyms: Sequence[Sequence[str]] | None = None,
        abbreviations: Mapping[str, str] | None = None,
        threshold: float = 0.85,
    ) -> None:
        if not 0.0 < float(threshold) <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        self.threshold = float(threshold)
        self.abbreviations = {
            k.casefold(): v.casefold()
            for k, v in (DEFAULT_ABBREVIATIONS if abbreviations is None else abbreviations).items()
        }
        groups = DEFAULT_SYNONYMS if synonyms is None else synonyms
        self._synonym: dict[str, str] = {}
        for group in groups:
            words = [w.casefold() for w in group]
            for w in words:
                self._synonym[w] = words[0]
        self._terms: dict[str, dict[str, Any]] = {}  # raw term -> key, sources, count, order
        self._decisions: dict[tuple[str, str], str] = {}  # (variant key, canonical key)
        self._overrides: dict[str, str] = {}  # term key -> canonical term

    def __repr__(self) -> str:
        n_sugg = int((self.suggestions()["status"] == "suggested").sum()) if self._terms else 0
        return (
            f"SkillOntology({len(self._terms)} terms, {len(self._groups())} skills, "
            f"{n_sugg} suggestion(s))"
        )

    # ------------------------------------------------------------------ adding terms
    def key(self, term: str) -> str:
        """The spelling-insensitive key of a name (case, punctuation, plurals, abbreviations).

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> SkillOntology().key("Stakeholder Mgmt & Presentations")
        'stakeholder management presentation'
        """
        if not isinstance(term, str):
            raise TypeError(f"a skill name must be a string, got {type(term).__name__}")
        return " ".join(_tokens(term, self.abbreviations))

    def _synonym_key(self, key: str) -> str:
        return " ".join(self._synonym.get(t, t) for t in key.split())

    def add(self, terms: Iterable[Any], *, source: str) -> SkillOntology:
        """Add skill names from a source (names, or lists of names, e.g. a catalog's ``skills``).

        Parameters
        ----------
        terms : iterable
            Strings, or lists of strings; missing values are skipped.
        source : str
            Where the names come from (``"catalog"``, ``"reviews"``, ``"job profiles"``...).
            Earlier sources win when choosing the canonical spelling of a skill.

        Returns
        -------
        SkillOntology
            ``self``.

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> len(SkillOntology().add([["SQL", "Python"], "sql"], source="catalog").vocabulary())
        2
        """
        if not isinstance(source, str) or not source:
            raise ValueError("source must be a non-empty string")
        for raw in _flatten(terms):
            name = " ".join(raw.split())
            key = self.key(name)
            if not key:
                logger.warning("skill name %r from %s has no letters; skipped", raw, source)
                continue
            entry = self._terms.get(name)
            if entry is None:
                entry = {"key": key, "sources": [], "count": 0, "order": len(self._terms)}
                self._terms[name] = entry
            entry["count"] += 1
            if source not in entry["sources"]:
                entry["sources"].append(source)
        return self

    @renamed_parameters(catalog="course_catalog")
    def add_catalog(
        self, course_catalog: pd.DataFrame, *, source: str = "catalog"
    ) -> SkillOntology:
        """Add the skills of a learning catalog (its ``skills`` column of lists).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import SkillOntology
        >>> cat = pd.DataFrame({"activity_id": ["a"], "title": ["SQL 101"], "skills": [["SQL"]]})
        >>> SkillOntology().add_catalog(cat).canonical("sql")
        'SQL'
        """
        if "skills" not in course_catalog.columns:
            raise ValueError(
                f"table 'catalog' has no 'skills' column; it has {list(course_catalog.columns)}"
            )
        return self.add(course_catalog["skills"], source=source)

    # ------------------------------------------------------------------ decisions
    def accept(self, variant: str, canonical: str) -> SkillOntology:
        """Accept a merge: ``variant`` is the same skill as ``canonical``.

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> onto = SkillOntology().add(["Coaching", "Mentoring"], source="catalog")
        >>> onto.accept("Mentoring", "Coaching").canonical("mentoring")
        'Coaching'
        """
        self._decide(variant, canonical, "accepted")
        return self

    def reject(self, variant: str, canonical: str) -> SkillOntology:
        """Reject a merge: ``variant`` and ``canonical`` stay distinct skills.

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> onto = SkillOntology().add(["Coaching", "Mentoring"], source="catalog")
        >>> onto.reject("Mentoring", "Coaching").suggestions()["status"].tolist()
        ['rejected']
        """
        self._decide(variant, canonical, "rejected")
        return self

    def _decide(self, variant: str, canonical: str, status: str) -> None:
        kv, kc = self.key(variant), self.key(canonical)
        if kv == kc:
            raise ValueError(f"{variant!r} and {canonical!r} are already the same skill")
        self._decisions[(kv, kc)] = status
        self._decisions.pop((kc, kv), None)

    def override(self, mapping: Mapping[str, str]) -> SkillOntology:
        """Manual overrides: map names to a canonical name, whatever else says.

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> SkillOntology().override({"Excel": "Data Analysis"}).canonical("excel")
        'Data Analysis'
        """
        for term, target in mapping.items():
            if not isinstance(term, str) or not isinstance(target, str) or not target.strip():
                raise ValueError(f"override {term!r} -> {target!r}: both must be names")
            self._overrides[self.key(term)] = " ".join(target.split())
        return self

    def review(self, reviewed: pd.DataFrame) -> SkillOntology:
        """Apply a reviewed :meth:`suggestions` table (its ``status`` set by a person).

        Rows with ``status`` ``accepted`` or ``rejected`` are applied; ``suggested`` ones are
        left open.

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> onto = SkillOntology().add(["Client Management", "Account Management"],
        ...                            source="catalog")
        >>> table = onto.suggestions().assign(status="accepted")
        >>> onto.review(table).canonical("Account Management")
        'Client Management'
        """
        missing = [c for c in ("variant", "canonical", "status") if c not in reviewed.columns]
        if missing:
            raise ValueError(f"the reviewed table is missing column(s) {missing}")
        bad = reviewed.index[~reviewed["status"].isin(_STATUSES)]
        if len(bad):
            raise ValueError(
                f"the reviewed table has status values outside {_STATUSES} in rows "
                f"{bad[:5].tolist()}"
            )
        for rec in reviewed.itertuples(index=False):
            if rec.status in ("accepted", "rejected"):
                self._decide(rec.variant, rec.canonical, rec.status)
        return self

    # ------------------------------------------------------------------ structure
    def _display(self, keys: Iterable[str]) -> str:
        """The canonical spelling among terms of these keys: the one added first."""
        cands = [(n, e) for n, e in self._terms.items() if e["key"] in set(keys)]
        if not cands:
            return ""
        return min(cands, key=lambda ne: ne[1]["order"])[0]

    def _groups(self) -> dict[str, list[str]]:
        """Canonical name -> keys merged into it (spelling keys, accepted merges, overrides)."""
        keys = list(dict.fromkeys(e["key"] for e in self._terms.values()))
        parent = {k: k for k in keys}

        def find(k: str) -> str:
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        for (kv, kc), status in self._decisions.items():
            if status == "accepted" and kv in parent and kc in parent:
                rv, rc = find(kv), find(kc)
                if rv != rc:
                    parent[rv] = rc
        members: dict[str, list[str]] = {}
        for k in keys:
            members.setdefault(find(k), []).append(k)
        groups: dict[str, list[str]] = {}
        for root, ks in members.items():
            # the canonical side of accepted merges names the group
            name = self._display([root]) or self._display(ks)
            groups.setdefault(name, []).extend(ks)
        return groups

    def canonical(self, term: str) -> str:
        """The canonical name of a skill name (overrides, then merges, then itself).

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> SkillOntology().add(["Data Visualization"], source="catalog").canonical(
        ...     "data visualisations")
        'Data Visualization'
        """
        key = self.key(term)
        if key in self._overrides:
            return self._overrides[key]
        for name, keys in self._groups().items():
            if key in keys:
                return name
        return " ".join(term.split())

    def normalize(self, values: Iterable[Any]) -> pd.Series:
        """Canonical names of many names (lists are normalized element-wise).

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> onto = SkillOntology().add(["SQL"], source="catalog")
        >>> onto.normalize(["sql", ["SQL", "Python"]]).tolist()
        ['SQL', ['SQL', 'Python']]
        """
        lookup = self._lookup()

        def one(v: Any) -> Any:
            if isinstance(v, str):
                return lookup.get(self.key(v), " ".join(v.split()))
            if v is None or (isinstance(v, float) and pd.isna(v)):
                return v
            return list(dict.fromkeys(one(x) for x in v))

        index = values.index if isinstance(values, pd.Series) else None
        return pd.Series([one(v) for v in values], index=index, dtype=object)

    def _lookup(self) -> dict[str, str]:
        out = {}
        for name, keys in self._groups().items():
            for k in keys:
                out[k] = name
        out.update(self._overrides)
        return out

    def suggestions(self) -> pd.DataFrame:
        """Possible merges to review: synonyms and close spellings between distinct skills.

        Returns
        -------
        pandas.DataFrame
            ``variant``, ``canonical`` (the side that would name the merged skill: the
            earlier source), ``score`` (1 for synonyms, else spelling similarity), ``reason``,
            ``status`` (``suggested``, ``accepted``, ``rejected``) and ``sources``.

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> onto = SkillOntology().add(["Cybersecurity", "Cyber Security"], source="x")
        >>> onto.suggestions()[["variant", "canonical", "score", "reason"]].round(2)
                  variant      canonical  score                   reason
        0  Cyber Security  Cybersecurity   0.96  similar spelling (0.96)
        """
        cols = ["variant", "canonical", "score", "reason", "status", "sources"]
        reps: dict[str, str] = {}
        for name, e in sorted(self._terms.items(), key=lambda ne: ne[1]["order"]):
            reps.setdefault(e["key"], name)
        rows = []
        for ka, kb in combinations(list(reps), 2):
            sa, sb = self._synonym_key(ka), self._synonym_key(kb)
            synonym = sa == sb
            score = 1.0 if synonym else difflib.SequenceMatcher(None, sa, sb).ratio()
            if score < self.threshold:
                continue
            # the earlier term names the merged skill, unless a decision says otherwise
            canon, variant = (
                (ka, kb)
                if self._terms[reps[ka]]["order"] <= self._terms[reps[kb]]["order"]
                else (kb, ka)
            )
            status = self._decisions.get((variant, canon))
            if status is None and (canon, variant) in self._decisions:
                status = self._decisions[(canon, variant)]
                canon, variant = variant, canon
            if synonym:
                pairs = zip(variant.split(), canon.split(), strict=False)
                words = ", ".join(dict.fromkeys(f"{x} ~ {y}" for x, y in pairs if x != y))
                reason = f"synonyms: {words}"
            else:
                reason = f"similar spelling ({score:.2f})"
            a, b = reps[variant], reps[canon]
            sources = sorted(set(self._terms[a]["sources"]) | set(self._terms[b]["sources"]))
            rows.append((a, b, score, reason, status or "suggested", ", ".join(sources)))
        out = pd.DataFrame(rows, columns=cols)
        return out.sort_values(
            ["status", "score"], ascending=[True, False], kind="stable"
        ).reset_index(drop=True)

    def vocabulary(self) -> pd.DataFrame:
        """One row per canonical skill: its variants and sources.

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> SkillOntology().add(["SQL", "sql"], source="catalog").vocabulary()
          skill  variants  sources
        0   SQL  SQL, sql  catalog
        """
        rows = []
        for name, keys in self._groups().items():
            terms = [n for n, e in self._terms.items() if e["key"] in keys]
            sources = sorted({s for n in terms for s in self._terms[n]["sources"]})
            rows.append((name, ", ".join(terms), ", ".join(sources)))
        for target in self._overrides.values():
            if not any(r[0] == target for r in rows):
                rows.append((target, "", "override"))
        return (
            pd.DataFrame(rows, columns=["skill", "variants", "sources"])
            .sort_values("skill", kind="stable")
            .reset_index(drop=True)
        )

    # ------------------------------------------------------------------ activities
    @renamed_parameters(catalog="course_catalog")
    def map_activities(self, course_catalog: pd.DataFrame) -> pd.DataFrame:
        """Map catalog activities to canonical skills and levels.

        Skills come from the catalog's ``skills`` lists, or, for an activity without any,
        from vocabulary names found in its title. Levels come from the catalog's ``level``
        (1-4), or from words of the title (:data:`LEVEL_WORDS`), else they are missing.

        Parameters
        ----------
        course_catalog : pandas.DataFrame
            ``activity_id``, ``title`` and optionally ``skills``, ``level``, ``program``.

        Returns
        -------
        pandas.DataFrame
            One row per activity and skill: ``activity_id``, ``title``, ``skill``,
            ``level`` (Int64), ``skill_source`` (``catalog`` / ``title``), ``level_source``
            (``catalog`` / ``title`` / ``unknown``), and ``program`` when given. Activities
            with no skill at all are listed with a missing ``skill`` and ``skill_source``
            ``none`` (nothing dropped silently).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import SkillOntology
        >>> onto = SkillOntology().add(["Negotiation", "Python"], source="catalog")
        >>> cat = pd.DataFrame({"activity_id": ["a1", "a2"],
        ...                     "title": ["Advanced negotiations", "Python Foundations"],
        ...                     "skills": [[], ["python"]]})
        >>> onto.map_activities(cat)[["activity_id", "skill", "level", "skill_source"]]
          activity_id        skill  level skill_source
        0          a1  Negotiation      3        title
        1          a2       Python      1      catalog
        """
        missing = [c for c in ("activity_id", "title") if c not in course_catalog.columns]
        if missing:
            raise ValueError(f"table 'catalog' is missing column(s) {missing}")
        lookup = self._lookup()
        vocab = sorted(lookup.items(), key=lambda kv: -len(kv[0]))
        rows = []
        for rec in course_catalog.itertuples(index=False):
            title = str(rec.title)
            raw = getattr(rec, "skills", None) if "skills" in course_catalog.columns else None
            skills = [s for s in _flatten([raw])] if raw is not None else []
            source = "catalog"
            canon = [lookup.get(self.key(s), " ".join(s.split())) for s in skills]
            if not canon:
                title_key = f" {self.key(title)} "
                canon = [name for k, name in vocab if f" {k} " in title_key]
                source = "title"
            level, lsource = None, "unknown"
            if (
                "level" in course_catalog.columns
                and not pd.isna(rec.level)
                and 1 <= int(rec.level) <= 4
            ):
                level, lsource = int(rec.level), "catalog"
            else:
                words = re.findall(r"\w+", title.casefold())
                found = [LEVEL_WORDS[w] for w in words if w in LEVEL_WORDS]
                if found:
                    level, lsource = max(found), "title"
            program = getattr(rec, "program", None) if "program" in course_catalog.columns else None
            for skill in dict.fromkeys(canon) or [None]:
                rows.append(
                    (
                        rec.activity_id,
                        title,
                        skill,
                        level,
                        source if skill is not None else "none",
                        lsource,
                        program,
                    )
                )
        out = pd.DataFrame(
            rows,
            columns=[
                "activity_id",
                "title",
                "skill",
                "level",
                "skill_source",
                "level_source",
                "program",
            ],
        )
        out["level"] = out["level"].astype("Int64")
        if "program" not in course_catalog.columns:
            out = out.drop(columns="program")
        n_none = int((out["skill_source"] == "none").sum())
        if n_none:
            logger.info("map_activities: %d activit(ies) teach no known skill", n_none)
        return out

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """The terms, decisions and overrides as plain data (for review files).

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> onto = SkillOntology().add(["SQL"], source="catalog")
        >>> SkillOntology.from_dict(onto.to_dict()).canonical("sql")
        'SQL'
        """
        return {
            "terms": [
                {"name": n, "sources": list(e["sources"]), "count": e["count"]}
                for n, e in sorted(self._terms.items(), key=lambda ne: ne[1]["order"])
            ],
            "decisions": [
                {"variant_key": kv, "canonical_key": kc, "status": s}
                for (kv, kc), s in self._decisions.items()
            ],
            "overrides": dict(self._overrides),
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **kwargs: Any) -> SkillOntology:
        """Rebuild an ontology from :meth:`to_dict` output.

        Examples
        --------
        >>> from talentml.loop import SkillOntology
        >>> SkillOntology.from_dict({"terms": [{"name": "SQL", "sources": ["x"]}]}).canonical("sql")
        'SQL'
        """
        onto = cls(threshold=data.get("threshold", 0.85), **kwargs)
        for t in data.get("terms", []):
            sources = t.get("sources") or ["unknown"]
            for s in sources:
                onto.add([t["name"]], source=s)
            onto._terms[" ".join(t["name"].split())]["count"] = int(t.get("count", len(sources)))
        for d in data.get("decisions", []):
            if d["status"] not in ("accepted", "rejected"):
                raise ValueError(f"unknown decision status {d['status']!r}")
            onto._decisions[(d["variant_key"], d["canonical_key"])] = d["status"]
        onto._overrides.update(data.get("overrides", {}))
        return onto


def _flatten(values: Iterable[Any]) -> Iterable[str]:
    for v in values:
        if v is None:
            continue
        if isinstance(v, str):
            if v.strip():
                yield v
        elif isinstance(v, float) and pd.isna(v):
            continue
        elif hasattr(v, "__iter__"):
            yield from _flatten(v)
        else:
            raise TypeError(f"a skill name must be a string, got {type(v).__name__} {v!r}")
