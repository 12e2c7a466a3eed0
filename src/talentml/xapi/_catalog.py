"""A learning catalog inferred from the statements themselves.

An LMS export rarely comes with the hand-made catalog talentml's features read (skills, level,
program, mandatory / voluntary, expected minutes). :func:`infer_catalog` builds one row per
activity the statements are about, from what the statements say and nothing else: the
activity definitions (name, description, type, interaction type, extensions), the verbs and
durations seen, the parent / grouping / category activities of the context, and the evidence
of assignment (an ``assign`` verb, an ``assigned`` / ``mandatory`` flag, a Moodle-style
enrolment type, carried to an assigned course's activities through the registration).
A column the data does not speak to is missing (NA), never guessed.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
import pandas as pd
from tqdm.auto import tqdm

from .. import schemas
from .._compat import as_ns
from .._validation import renamed_parameters
from ..config import show_progress as _show_progress
from ._activities import level_from_title, name_key, slug, type_family
from ._normalize import parse_duration, pick_language
from ._result import Ingest

__all__ = [
    "ASSIGNED_ENROLMENTS",
    "ASSIGNMENT_VERBS",
    "CATALOG_COLUMNS",
    "MSG_CATALOG_SOURCE",
    "SELF_ENROLMENTS",
    "infer_catalog",
]

logger = logging.getLogger(__name__)

#: The columns of the ``catalog`` contract, first in every inferred catalog.
CATALOG_COLUMNS = (
    "activity_id",
    "title",
    "skills",
    "level",
    "mandatory",
    "voluntary",
    "program",
    "expected_minutes",
)
#: Verbs (short names) that say their object was assigned to someone.
ASSIGNMENT_VERBS = frozenset({"assign", "assigned", "was-assigned"})
#: Enrolment types (e.g. Moodle's ``enrolment-type`` context extension) made by someone else.
ASSIGNED_ENROLMENTS = frozenset(
    {"manual", "cohort", "meta", "database", "ldap", "category", "program", "auto", "admin",
     "imsenterprise", "flatfile", "lti", "mandatory", "required", "assigned"}
)  # fmt: skip
#: Enrolment types chosen by the learner.
SELF_ENROLMENTS = frozenset({"self", "guest", "self-enrolment", "selfenrol", "voluntary"})

_ASSIGNED_KEYS = frozenset({"assigned", "is-assigned"})
_MANDATORY_KEYS = frozenset({"mandatory", "required", "compulsory", "is-mandatory", "is-required"})
_VOLUNTARY_KEYS = frozenset(
    {"voluntary", "optional", "elective", "self-enrolled", "self-assigned", "self-directed"}
)
_ENROLMENT_KEYS = frozenset(
    {"enrolment-type", "enrollment-type", "enrolment-method", "enrollment-method", "enrol-method"}
)
_SKILL_KEYS = frozenset({"skills", "skill", "competencies", "competency"})
_LEVEL_KEYS = frozenset({"level", "difficulty", "proficiency-level"})
_PROGRAM_KEYS = frozenset({"program", "programme", "learning-program"})
_DURATION_KEYS = frozenset(
    {"duration", "expected-duration", "estimated-duration", "expected-minutes", "typical-duration"}
)
_COMPLETION_VERBS = frozenset({"completed", "passed", "failed"})
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})

MSG_CATALOG_SOURCE = (
    "infer_catalog needs an Ingest (from talentml.xapi.ingest) or a statements table with "
    "columns {required}; got {got}"
)
_REQUIRED = ("object_id", "object_type", "object_name", "activity_type", "verb", "actor_key")


@renamed_parameters(progress="show_progress")
def infer_catalog(
    source: Ingest | pd.DataFrame,
    *,
    language: str = "en",
    min_completions: int = 3,
    resolver: Any = None,
    show_progress: bool | None = None,
) -> pd.DataFrame:
    """Infer a learning catalog from xAPI statements: one row per activity, NA where unknown.

    Parameters
    ----------
    source : Ingest or pandas.DataFrame
        The result of :func:`ingest` (its raw statements are read back for descriptions,
        interaction types, extensions, context activities and assignment evidence) or a
        ``statements`` table (names, types, verbs, durations and counts only).
    language : str, default "en", keyword-only
        Preferred language of descriptions (titles come from ``object_name``).
    min_completions : int, default 3, keyword-only
        Completions with a duration needed before their median becomes
        ``expected_minutes`` (when no definition extension states it).
    resolver : ActivityResolver, optional, keyword-only
        A fitted :class:`ActivityResolver`: statements are described under their canonical
        activity ids (aliases merged) before anything is counted.
    show_progress : bool, optional, keyword-only
        Progress bar while reading raw statements; default from :func:`talentml.set_config`.

    Returns
    -------
    pandas.DataFrame
        One row per activity (``object_type`` Activity), most statements first. The
        ``catalog`` contract columns: ``activity_id``; ``title`` (most frequent name);
        ``skills`` (list, from ``skills``/``competency`` extensions or competency-typed
        context activities; NA when none); ``level`` (Int64 1-4, from a ``level``
        extension or a level word of the title such as "Foundations" or "Advanced");
        ``mandatory`` and ``voluntary`` ("boolean", see Notes); ``program`` (one of
        :data:`talentml.schemas.PROGRAMS`, from a ``program`` extension or a program
        activity of the context); ``expected_minutes`` (a duration extension, else the median
        duration of at least ``min_completions`` completions). Then descriptive columns:
        ``description``, ``activity_type`` (most frequent), ``type_family``,
        ``interaction_type``, ``slug``, ``verbs`` and ``platforms`` (sorted lists),
        ``parents`` (context parent and grouping activity ids), ``n_statements``,
        ``n_actors``, ``n_completions``, ``duration_n`` and ``duration_median_minutes`` (over
        completions with a duration), ``first_seen`` and ``last_seen`` (timestamps),
        ``n_assigned_evidence`` and ``n_voluntary_evidence`` (statements that say so), and
        ``level_source``, ``program_source``, ``expected_minutes_source``,
        ``voluntary_source`` (where each inferred value came from; NA when not inferred).

    Raises
    ------
    TypeError
        If ``source`` is neither an Ingest nor a statements table.

    Notes
    -----
    Voluntary or assigned is read, never guessed: a statement is evidence of *assignment* of
    its activity when its verb is ``assign`` / ``assigned`` / ``was-assigned``, when an
    ``assigned`` or ``mandatory``/``required`` extension is true or a ``voluntary`` /
    ``optional`` one false, or when an enrolment-type extension names an enrolment made by
    someone else (:data:`ASSIGNED_ENROLMENTS`, e.g. Moodle's ``manual``); it is evidence of
    *voluntary* learning when a ``voluntary``/``optional``/``self-enrolled`` extension is
    true, an ``assigned`` one false, or the enrolment type is the learner's own
    (:data:`SELF_ENROLMENTS`, e.g. ``self``). Evidence about an activity also covers the
    statements of the same registration that name it as their parent or grouping activity
    (a course assigned in a cmi5 registration covers its assignable units). ``voluntary`` is
    False with assignment evidence only, True with voluntary evidence only, NA without
    evidence or with both. ``mandatory`` is True (False) only when a mandatory / required
    extension says so. Statements read from a table alone carry no such evidence: their
    ``voluntary`` and ``mandatory`` are NA.

    Examples
    --------
    >>> from talentml.xapi import infer_catalog, ingest
    >>> actor = {"account": {"homePage": "https://lms.example.com", "name": "u1"}}
    >>> course = {"id": "https://lms.example.com/course/sql-foundations",
    ...           "definition": {"name": {"en": "SQL Foundations"},
    ...                          "type": "http://adlnet.gov/expapi/activities/course"}}
    >>> verb = {"id": "http://adlnet.gov/expapi/verbs/completed"}
    >>> done = {"actor": actor, "verb": verb, "object": course, "result": {"duration": "PT45M"},
    ...         "timestamp": "2024-05-01T09:30:00Z"}
    >>> assign = {"actor": actor, "verb": {"id": "http://activitystrea.ms/schema/1.0/assign"},
    ...           "object": course, "timestamp": "2024-04-01T09:00:00Z"}
    >>> result = ingest([done, assign], secret="a-secret-of-some-length")
    >>> cat = infer_catalog(result, min_completions=1)
    >>> cat[["title", "level", "voluntary", "expected_minutes", "type_family"]]
                 title  level  voluntary  expected_minutes type_family
    0  SQL Foundations      1      False              45.0      course
    """
    if not isinstance(min_completions, int | np.integer) or isinstance(min_completions, bool):
        raise TypeError(f"min_completions must be an integer, got {min_completions!r}")
    if min_completions < 1:
        raise ValueError(f"min_completions must be >= 1, got {min_completions}")
    if isinstance(source, Ingest):
        statements = source.statements
        raw = True
    elif isinstance(source, pd.DataFrame):
        statements = source
        raw = False
    else:
        raise TypeError(
            MSG_CATALOG_SOURCE.format(required=list(_REQUIRED), got=type(source).__name__)
        )
    missing = [c for c in _REQUIRED if c not in statements.columns]
    if missing:
        raise TypeError(
            MSG_CATALOG_SOURCE.format(required=list(_REQUIRED), got=f"a table without {missing}")
        )
    ids = statements["object_id"].astype(object).to_numpy()
    if resolver is not None:
        mapping = resolver.mapping()
        ids = np.array([mapping.get(i, i) for i in ids], dtype=object)
    activity = (statements["object_type"].astype(object).to_numpy() == "Activity") & pd.notna(ids)
    table = _table_facts(statements, ids, activity, min_completions)
    if raw:
        progress = _show_progress() if show_progress is None else show_progress
        facts = _raw_facts(source, ids, activity, language, progress, resolver)
    else:
        facts = {}
    return _assemble(table, facts, min_completions)


# ----------------------------------------------------------------------------- the table
def _mode(values: Iterable[Any]) -> Any:
    """The most frequent non-null value; ties go to the smallest (row order never matters)."""
    counts = Counter(v for v in values if isinstance(v, str) and v)
    if not counts:
        return None
    best = max(counts.values())
    return min(v for v, c in counts.items() if c == best)


def _table_facts(
    statements: pd.DataFrame, ids: np.ndarray, activity: np.ndarray, min_completions: int
) -> pd.DataFrame:
    st = statements.loc[activity]
    ids = ids[activity]
    frame = pd.DataFrame(
        {
            "activity_id": ids,
            "object_name": st["object_name"].astype(object).to_numpy(),
            "activity_type": st["activity_type"].astype(object).to_numpy(),
            "verb": st["verb"].astype(object).to_numpy(),
            "actor_key": st["actor_key"].astype(object).to_numpy(),
            "platform": (
                st["platform"].astype(object).to_numpy()
                if "platform" in st.columns
                else np.full(len(st), None, dtype=object)
            ),
        }
    )
    completion = (
        st["completion"].astype("boolean").fillna(False).to_numpy(bool)
        if "completion" in st.columns
        else np.zeros(len(st), dtype=bool)
    )
    completed = np.isin(frame["verb"].to_numpy(object), list(_COMPLETION_VERBS)) | completion
    frame["completed"] = completed
    duration = (
        pd.to_numeric(st["duration_s"], errors="coerce").to_numpy(float)
        if "duration_s" in st.columns
        else np.full(len(st), np.nan)
    )
    frame["duration_min"] = np.where(completed, duration / 60.0, np.nan)
    if "timestamp" in st.columns:
        frame["timestamp"] = as_ns(st["timestamp"].reset_index(drop=True))
    groups = frame.groupby("activity_id", sort=True)
    out = pd.DataFrame(
        {
            "title": groups["object_name"].agg(_mode),
            "activity_type": groups["activity_type"].agg(_mode),
            "verbs": groups["verb"].agg(lambda s: sorted({v for v in s if isinstance(v, str)})),
            "platforms": groups["platform"].agg(
                lambda s: sorted({v for v in s if isinstance(v, str)})
            ),
            "n_statements": groups.size(),
            "n_actors": groups["actor_key"].nunique(),
            "n_completions": groups["completed"].sum(),
            "duration_n": groups["duration_min"].count(),
            "duration_median_minutes": groups["duration_min"].median(),
        }
    )
    if "timestamp" in frame.columns:
        out["first_seen"] = groups["timestamp"].min()
        out["last_seen"] = groups["timestamp"].max()
    return out


# ----------------------------------------------------------------------------- raw JSON
@lru_cache(maxsize=4096)
def _last_key(key: str) -> str:
    text = str(key).rstrip("/#").casefold()
    for sep in ("#", "/", ":"):
        text = text.rsplit(sep, 1)[-1]
    return "-".join(t for t in text.replace("_", "-").split("-") if t)


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().casefold()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return None


def _strings(value: Any, language: str) -> list[str]:
    """Skill names in an extension value: a string (comma / semicolon separated), a list, a
    language map, or objects with a ``name``."""
    if isinstance(value, str):
        return [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    if isinstance(value, Mapping):
        if "name" in value:
            return _strings(value["name"], language)
        picked = pick_language({k: v for k, v in value.items() if isinstance(v, str)}, language)
        return _strings(picked, language) if picked else []
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, language)]
    return []


class _Facts:
    """What the raw statements say about one activity."""

    __slots__ = (
        "descriptions",
        "interactions",
        "skills",
        "levels",
        "programs",
        "durations",
        "parents",
        "assigned",
        "voluntary",
        "mandatory",
        "reasons",
    )

    def __init__(self) -> None:
        self.descriptions: Counter[str] = Counter()
        self.interactions: Counter[str] = Counter()
        self.skills: set[str] = set()
        self.levels: Counter[int] = Counter()
        self.programs: Counter[str] = Counter()
        self.durations: Counter[float] = Counter()
        self.parents: set[str] = set()
        self.assigned = 0
        self.voluntary = 0
        self.mandatory: Counter[bool] = Counter()
        self.reasons: set[str] = set()


def _program_of(activity: Mapping[str, Any], language: str) -> str | None:
    """The talentml program a context activity stands for, if it is a program."""
    if not isinstance(activity, Mapping) or not isinstance(activity.get("id"), str):
        return None
    iri = activity["id"]
    definition = activity.get("definition") or {}
    kind = type_family(definition.get("type")) or ""
    name = definition.get("name")
    name = pick_language(name, language) if isinstance(name, Mapping) else None
    looks_like = (
        "program" in kind
        or "/program" in iri.casefold()
        or (isinstance(name, str) and "program" in name.casefold())
    )
    if not looks_like:
        return None
    for candidate in (slug(iri), name_key(name)):
        if candidate is None:
            continue
        for word in candidate.replace("-", " ").split():
            if word in schemas.PROGRAMS:
                return word
    return None


def _flags(extensions: Any, facts: _Facts, where: str) -> str | None:
    """Read assignment flags; returns "assigned", "voluntary" or None."""
    if not isinstance(extensions, dict):
        return None
    verdict = None
    for key, value in extensions.items():
        last = _last_key(key)
        if last in _ENROLMENT_KEYS and isinstance(value, str):
            kind = value.strip().casefold()
            if kind in ASSIGNED_ENROLMENTS:
                verdict = "assigned"
                facts.reasons.add(f"{where} {last} {kind}")
            elif kind in SELF_ENROLMENTS:
                verdict = verdict or "voluntary"
                facts.reasons.add(f"{where} {last} {kind}")
            continue
        flag = _truth(value)
        if flag is None:
            continue
        if last in _MANDATORY_KEYS:
            facts.mandatory[flag] += 1
            if flag:
                verdict = "assigned"
                facts.reasons.add(f"{where} {last}")
        elif last in _ASSIGNED_KEYS:
            verdict = "assigned" if flag else (verdict or "voluntary")
            facts.reasons.add(f"{where} {last}={str(flag).lower()}")
        elif last in _VOLUNTARY_KEYS:
            verdict = (verdict or "voluntary") if flag else "assigned"
            facts.reasons.add(f"{where} {last}={str(flag).lower()}")
    return verdict


def _describe(definition: Mapping[str, Any], facts: _Facts, language: str) -> None:
    description = definition.get("description")
    if isinstance(description, dict) and description:
        text = pick_language(description, language)
        if text:
            facts.descriptions[text] += 1
    interaction = definition.get("interactionType")
    if isinstance(interaction, str):
        facts.interactions[interaction] += 1
    extensions = definition.get("extensions")
    if not isinstance(extensions, dict):
        return
    for key, value in extensions.items():
        last = _last_key(key)
        if last in _SKILL_KEYS:
            facts.skills.update(_strings(value, language))
        elif last in _LEVEL_KEYS:
            level = value if isinstance(value, int) and not isinstance(value, bool) else None
            if level is None and isinstance(value, str):
                level = int(value) if value.strip().isdigit() else level_from_title(value)[0]
            if level is not None and 1 <= level <= 4:
                facts.levels[level] += 1
        elif last in _PROGRAM_KEYS and isinstance(value, str):
            key_ = name_key(value)
            if key_ in schemas.PROGRAMS:
                facts.programs[key_] += 1
        elif last in _DURATION_KEYS:
            minutes = None
            if isinstance(value, str):
                seconds = parse_duration(value.strip())
                minutes = seconds / 60.0 if seconds is not None else None
            elif isinstance(value, int | float) and not isinstance(value, bool):
                minutes = float(value)
            if minutes is not None and minutes > 0:
                facts.durations[minutes] += 1


def _raw_facts(
    result: Ingest,
    ids: np.ndarray,
    activity: np.ndarray,
    language: str,
    progress: bool,
    resolver: Any,
) -> dict[str, _Facts]:
    facts: dict[str, _Facts] = defaultdict(_Facts)
    mapping = resolver.mapping() if resolver is not None else {}
    seen_definitions: set[bytes] = set()
    programs_of: dict[bytes, str | None] = {}
    # (registration, activity id) -> verdict, and the statements that may inherit one
    by_registration: dict[tuple[str, str], set[str]] = defaultdict(set)
    inheriting: list[tuple[str, str, tuple[str, ...]]] = []
    n = len(result.statements)
    with tqdm(total=n, desc="reading raw statements", disable=not progress, leave=False) as bar:
        for i, s in result._iter_raw():
            bar.update(1)
            if not activity[i]:
                continue
            aid = ids[i]
            f = facts[aid]
            obj = s.get("object") or {}
            if obj.get("objectType") == "SubStatement":
                obj = obj.get("object") or {}
            definition = obj.get("definition")
            if isinstance(definition, dict) and definition:
                memo = aid.encode() + b"\x00" + orjson.dumps(definition)
                if memo not in seen_definitions:
                    if len(seen_definitions) < 200_000:
                        seen_definitions.add(memo)
                    _describe(definition, f, language)
            context = s.get("context") or {}
            verdicts = []
            verb = str((s.get("verb") or {}).get("id", ""))
            if _last_key(verb) in ASSIGNMENT_VERBS:
                verdicts.append("assigned")
                f.reasons.add(f"verb {_last_key(verb)}")
            verdicts.append(_flags(context.get("extensions"), f, "context"))
            if isinstance(definition, dict):
                verdicts.append(_flags(definition.get("extensions"), f, "definition"))
            verdict = (
                "assigned"
                if "assigned" in verdicts
                else "voluntary"
                if "voluntary" in verdicts
                else None
            )
            if verdict == "assigned":
                f.assigned += 1
            elif verdict == "voluntary":
                f.voluntary += 1
            registration = context.get("registration")
            context_activities = context.get("contextActivities") or {}
            parents: list[str] = []
            for kind in ("parent", "grouping", "category"):
                items = context_activities.get(kind) or []
                if isinstance(items, dict):
                    items = [items]
                for item in items:
                    if type(item) is not dict or type(item.get("id")) is not str:
                        continue
                    memo = orjson.dumps(item)
                    program = programs_of.get(memo, False)
                    if program is False:
                        program = _program_of(item, language)
                        if len(programs_of) < 100_000:
                            programs_of[memo] = program
                    if program is not None:
                        f.programs[program] += 1
                    if kind != "category":
                        pid = mapping.get(item["id"], item["id"])
                        parents.append(pid)
                        f.parents.add(pid)
            if isinstance(registration, str):
                registration = registration.lower()
                if verdict is not None:
                    by_registration[registration, aid].add(verdict)
                if parents:
                    inheriting.append((registration, aid, tuple(parents)))
    for registration, aid, parents in inheriting:
        for parent in parents:
            for verdict in sorted(by_registration.get((registration, parent), ())):
                f = facts[aid]
                if verdict == "assigned":
                    f.assigned += 1
                else:
                    f.voluntary += 1
                article = "an" if verdict == "assigned" else "a"
                f.reasons.add(f"registration of {article} {verdict} parent")
    return dict(facts)


# ----------------------------------------------------------------------------- assembling
def _top(counter: Counter) -> Any:
    if not counter:
        return None
    best = max(counter.values())
    return min(k for k, c in counter.items() if c == best)


def _assemble(table: pd.DataFrame, facts: dict[str, _Facts], min_completions: int) -> pd.DataFrame:
    ids = table.index.to_numpy(object)
    n = len(ids)
    empty = _Facts()
    rows = [facts.get(a, empty) for a in ids]
    titles = table["title"].to_numpy(object)

    levels: list[Any] = []
    level_source: list[Any] = []
    for f, title in zip(rows, titles, strict=True):
        if len(f.levels) == 1:
            levels.append(next(iter(f.levels)))
            level_source.append("definition extension")
            continue
        level, word = level_from_title(title)
        levels.append(level)
        level_source.append(f"title word '{word}'" if level is not None else None)

    programs: list[Any] = []
    program_source: list[Any] = []
    for f in rows:
        if len(f.programs) == 1:
            programs.append(next(iter(f.programs)))
            program_source.append("context or definition")
        else:
            programs.append(None)
            program_source.append(
                f"conflict: {sorted(f.programs)}" if len(f.programs) > 1 else None
            )

    duration_n = table["duration_n"].to_numpy(np.int64)
    median = table["duration_median_minutes"].to_numpy(float)
    expected: list[float] = []
    expected_source: list[Any] = []
    for f, k, m in zip(rows, duration_n, median, strict=True):
        stated = _top(f.durations)
        if stated is not None:
            expected.append(float(stated))
            expected_source.append("definition extension")
        elif k >= min_completions and np.isfinite(m) and m > 0:
            expected.append(float(m))
            expected_source.append(f"median of {int(k)} completions")
        else:
            expected.append(np.nan)
            expected_source.append(None)

    voluntary: list[Any] = []
    mandatory: list[Any] = []
    for f in rows:
        if f.assigned and not f.voluntary:
            voluntary.append(False)
        elif f.voluntary and not f.assigned:
            voluntary.append(True)
        else:
            voluntary.append(None)
        m_true, m_false = f.mandatory.get(True, 0), f.mandatory.get(False, 0)
        mandatory.append(
            True if m_true and not m_false else False if m_false and not m_true else None
        )
    for i in range(n):  # the contract: never both mandatory and voluntary
        if mandatory[i] is True and voluntary[i] is True:
            mandatory[i] = voluntary[i] = None

    out = pd.DataFrame(
        {
            "activity_id": pd.array(ids.tolist(), dtype="string"),
            "title": pd.array(titles.tolist(), dtype="string"),
            "skills": pd.Series(
                [sorted(f.skills) if f.skills else None for f in rows], dtype=object
            ).to_numpy(),
            "level": pd.array(levels, dtype="Int64"),
            "mandatory": pd.array(mandatory, dtype="boolean"),
            "voluntary": pd.array(voluntary, dtype="boolean"),
            "program": pd.array(programs, dtype="string"),
            "expected_minutes": np.array(expected, dtype=float),
            "description": pd.array([_top(f.descriptions) for f in rows], dtype="string"),
            "activity_type": pd.array(table["activity_type"].tolist(), dtype="string"),
            "type_family": pd.array(
                [type_family(t) for t in table["activity_type"].tolist()], dtype="string"
            ),
            "interaction_type": pd.array([_top(f.interactions) for f in rows], dtype="string"),
            "slug": pd.array([slug(a) for a in ids], dtype="string"),
            "verbs": table["verbs"].to_numpy(object),
            "platforms": table["platforms"].to_numpy(object),
            "parents": pd.Series([sorted(f.parents) for f in rows], dtype=object).to_numpy(),
            "n_statements": table["n_statements"].to_numpy(np.int64),
            "n_actors": table["n_actors"].to_numpy(np.int64),
            "n_completions": table["n_completions"].to_numpy(np.int64),
            "duration_n": duration_n,
            "duration_median_minutes": median,
        }
    )
    if "first_seen" in table.columns:
        out["first_seen"] = as_ns(table["first_seen"].reset_index(drop=True))
        out["last_seen"] = as_ns(table["last_seen"].reset_index(drop=True))
    out["n_assigned_evidence"] = np.array([f.assigned for f in rows], dtype=np.int64)
    out["n_voluntary_evidence"] = np.array([f.voluntary for f in rows], dtype=np.int64)
    out["level_source"] = pd.array(level_source, dtype="string")
    out["program_source"] = pd.array(program_source, dtype="string")
    out["expected_minutes_source"] = pd.array(expected_source, dtype="string")
    out["voluntary_source"] = pd.array(
        ["; ".join(sorted(f.reasons)) if f.reasons else None for f in rows], dtype="string"
    )
    order = np.lexsort((ids, -out["n_statements"].to_numpy()))
    out = out.iloc[order].reset_index(drop=True)
    logger.info(
        "infer_catalog: %d activities; known: title %d, level %d, program %d, voluntary %d, "
        "mandatory %d, expected_minutes %d, skills %d",
        len(out),
        int(out["title"].notna().sum()),
        int(out["level"].notna().sum()),
        int(out["program"].notna().sum()),
        int(out["voluntary"].notna().sum()),
        int(out["mandatory"].notna().sum()),
        int(out["expected_minutes"].notna().sum()),
        int(out["skills"].notna().sum()),
    )
    return out
