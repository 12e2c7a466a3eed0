"""Succession bench strength: who could fill a role, how soon, and what they still need.

A candidate's skill levels come from their learning records (the highest catalog level they
completed in each skill, known before ``as_of``); the role's requirements from a job profile.
Candidates are ranked by readiness (*Ready Now*, *Ready in 1-2 years*, *Ready later*), with
each one's gaps, and the gaps become learning paths (enroll actions) through the same
channels as the trigger rules.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import renamed_parameters
from ._action_table import action_key, normalize_actions
from ._tables import _require, _utc

__all__ = ["READINESS", "BenchStrength", "Role", "bench_strength", "skill_profile"]

logger = logging.getLogger(__name__)

#: Readiness levels, best first.
READINESS = ("Ready Now", "Ready in 1-2 years", "Ready later")
_DONE_VERBS = frozenset({"completed", "passed", "mastered"})


@renamed_parameters(catalog="course_catalog")
def skill_profile(
    statements: pd.DataFrame,
    course_catalog: pd.DataFrame,
    *,
    as_of: Any,
    ontology: Any = None,
) -> pd.DataFrame:
    """Each employee's level in each skill at ``as_of``, from completed catalog activities.

    A skill's level is the highest catalog ``level`` among the activities teaching it that the
    employee completed or passed (and did not fail) in a statement stored before ``as_of``.

    Parameters
    ----------
    statements : pandas.DataFrame
        Normalized statements (:func:`talentml.xapi.ingest`): ``employee_id``,
        ``object_id``, ``verb``, ``success``, ``completion``, ``stored``.
    course_catalog : pandas.DataFrame
        The learning course_catalog: ``activity_id``, ``skills`` (lists) and ``level``; or the
        output of :meth:`SkillOntology.map_activities` (``activity_id``, ``skill``,
        ``level``).
    as_of : str or Timestamp
        Only statements stored strictly before it count.
    ontology : SkillOntology, optional
        Normalize skill names to the ontology's vocabulary.

    Returns
    -------
    pandas.DataFrame
        ``employee_id``, ``skill``, ``level`` (int), ``n_activities`` and ``last_at`` (the
        latest completion), one row per employee and skill.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import skill_profile
    >>> catalog = pd.DataFrame({"activity_id": ["c1", "c2"], "skills": [["SQL"], ["SQL"]],
    ...                         "level": [1, 2]})
    >>> st = pd.DataFrame({"employee_id": ["e1", "e1"], "object_id": ["c1", "c2"],
    ...     "verb": ["completed", "passed"], "success": [None, True], "completion": [True, True],
    ...     "stored": pd.to_datetime(["2025-01-05", "2025-02-10"], utc=True)})
    >>> skill_profile(st, catalog, as_of="2025-02-01")[["employee_id", "skill", "level"]]
      employee_id skill  level
    0          e1   SQL      1
    """
    _require(statements, ("employee_id", "object_id", "verb", "stored"), "statements")
    t = pd.Timestamp(as_of)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    acts = _activity_skills(course_catalog, ontology)
    st = statements
    stored = _utc(st["stored"], "statements", "stored")
    verb = st["verb"].astype("string").str.lower()
    success = st["success"] if "success" in st.columns else pd.Series(pd.NA, index=st.index)
    completion = (
        st["completion"] if "completion" in st.columns else pd.Series(pd.NA, index=st.index)
    )
    failed = (verb == "failed") | success.astype("boolean").eq(False).fillna(False)
    done = (verb.isin(list(_DONE_VERBS)) | completion.astype("boolean").fillna(False)) & ~failed
    keep = (done.fillna(False) & (stored < t) & st["employee_id"].notna()).to_numpy(bool)
    ev = pd.DataFrame(
        {
            "employee_id": st["employee_id"].astype("string").to_numpy()[keep],
            "activity_id": st["object_id"].astype("string").to_numpy()[keep],
            "at": stored.to_numpy()[keep],
        }
    )
    merged = ev.merge(acts, on="activity_id", how="inner")
    if merged.empty:
        return pd.DataFrame(
            {
                "employee_id": pd.Series([], dtype="string"),
                "skill": pd.Series([], dtype="string"),
                "level": pd.Series([], dtype="int64"),
                "n_activities": pd.Series([], dtype="int64"),
                "last_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            }
        )
    out = (
        merged.groupby(["employee_id", "skill"], as_index=False)
        .agg(
            level=("level", "max"),
            n_activities=("activity_id", "nunique"),
            last_at=("at", "max"),
        )
        .sort_values(["employee_id", "skill"], kind="stable")
        .reset_index(drop=True)
    )
    out["level"] = out["level"].astype("int64")
    out["last_at"] = pd.to_datetime(out["last_at"], utc=True).astype("datetime64[ns, UTC]")
    return out.astype({"employee_id": "string", "skill": "string"})


def _activity_skills(catalog: pd.DataFrame, ontology: Any) -> pd.DataFrame:
    if {"activity_id", "skill", "level"} <= set(catalog.columns):
        acts = catalog[["activity_id", "skill", "level"]].dropna(subset=["skill", "level"])
        if ontology is not None:
            acts = acts.assign(skill=ontology.normalize(acts["skill"]).to_numpy())
    else:
        _require(catalog, ("activity_id", "skills", "level"), "catalog")
        if ontology is not None:
            acts = ontology.map_activities(catalog).dropna(subset=["skill", "level"])
            acts = acts[["activity_id", "skill", "level"]]
        else:
            acts = catalog[["activity_id", "skills", "level"]].explode("skills")
            acts = acts.rename(columns={"skills": "skill"}).dropna(subset=["skill", "level"])
    return pd.DataFrame(
        {
            "activity_id": acts["activity_id"].astype("string").to_numpy(),
            "skill": acts["skill"].astype("string").to_numpy(),
            "level": pd.to_numeric(acts["level"]).astype(float).to_numpy(),
        }
    ).drop_duplicates()


@dataclass(frozen=True)
class Role:
    """A role to fill and the skill levels it requires (a job profile).

    Parameters
    ----------
    name : str
        The role, e.g. ``"Engineering Manager"``.
    skills : mapping of str to int
        Required level (1-4) of each skill.
    min_job_level : int, optional
        Candidates below this job level are not considered.
    job_families : sequence of str, optional
        Only candidates from these job families are considered.

    Examples
    --------
    >>> Role("Team Lead", {"People Management": 3, "Coaching": 2}).total_required
    5
    """

    name: str
    skills: Mapping[str, int]
    min_job_level: int | None = None
    job_families: Sequence[str] | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"a role needs a name, got {self.name!r}")
        if not isinstance(self.skills, Mapping) or not self.skills:
            raise ValueError(f"role {self.name!r}: skills must be a non-empty mapping")
        for skill, level in self.skills.items():
            if not isinstance(skill, str) or not skill.strip():
                raise ValueError(f"role {self.name!r}: skill names must be strings, got {skill!r}")
            if (
                isinstance(level, bool)
                or not isinstance(level, int | np.integer)
                or not 1 <= level <= 4
            ):
                raise ValueError(
                    f"role {self.name!r}: the level of {skill!r} must be an int in 1-4, got {level!r}"
                )

    @property
    def total_required(self) -> int:
        """Sum of the required levels."""
        return int(sum(self.skills.values()))

    @property
    def slug(self) -> str:
        """The role's name as an identifier (used in action keys)."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "role"


@dataclass
class BenchStrength:
    """The bench for a role at a point in time (the result of :func:`bench_strength`).

    Attributes
    ----------
    role : Role
        The role.
    as_of : pandas.Timestamp
        When the bench was measured.
    candidates : pandas.DataFrame
        Ranked candidates: ``rank``, ``employee_id``, ``readiness``, ``skill_gap`` (levels
        missing, summed), ``skills_met``, ``coverage`` (share of required levels held),
        ``months_to_ready``, ``skill_gain_per_year``, ``rating``, ``potential`` (when given),
        ``job_level``, ``gaps`` (text).
    gaps : pandas.DataFrame
        One row per candidate and required skill: ``employee_id``, ``skill``,
        ``required_level``, ``current_level``, ``gap``.
    excluded : pandas.DataFrame
        Employees not considered and why (``employee_id``, ``reason``).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import Role, bench_strength
    >>> X = pd.DataFrame({"employee_id": ["a", "b"], "as_of": pd.to_datetime(["2025-03-01"] * 2, utc=True),
    ...                   "rating_latest": [4.0, 3.0], "skill_level_gain_365d": [2.0, 6.0]})
    >>> skills = pd.DataFrame({"employee_id": ["a", "b"], "skill": ["SQL", "SQL"], "level": [3, 1]})
    >>> bench = bench_strength(Role("Analyst Lead", {"SQL": 3}), X, skills)
    >>> bench.summary()
    readiness
    Ready Now             1
    Ready in 1-2 years    1
    Ready later           0
    Name: candidates, dtype: int64
    """

    role: Role
    as_of: pd.Timestamp
    candidates: pd.DataFrame
    gaps: pd.DataFrame
    excluded: pd.DataFrame

    def summary(self) -> pd.Series:
        """Number of candidates at each readiness level (the bench strength).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import Role, bench_strength
        >>> X = pd.DataFrame({"employee_id": ["a"], "rating_latest": [4.0],
        ...                   "as_of": pd.to_datetime(["2025-03-01"], utc=True)})
        >>> skills = pd.DataFrame({"employee_id": ["a"], "skill": ["SQL"], "level": [3]})
        >>> int(bench_strength(Role("Lead", {"SQL": 2}), X, skills).summary()["Ready Now"])
        1
        """
        counts = self.candidates["readiness"].value_counts()
        return pd.Series(
            [int(counts.get(r, 0)) for r in READINESS],
            index=pd.Index(READINESS, name="readiness"),
            name="candidates",
            dtype="int64",
        )

    @renamed_parameters(catalog="course_catalog")
    def learning_paths(
        self,
        course_catalog: pd.DataFrame,
        *,
        readiness: Sequence[str] = ("Ready in 1-2 years",),
        due_days: int = 90,
        ontology: Any = None,
        max_per_candidate: int | None = None,
    ) -> pd.DataFrame:
        """Enroll actions that close the gaps of the chosen candidates.

        For each gap, one activity per missing level (from the current level + 1 up to the
        required level), preferring assessed courses; the actions have the columns of the
        trigger rules' actions (``source`` = ``"bench"``, ``kind`` = ``"succession"``), so
        they go to the LRS, to webhooks and to the :class:`ActionStore` the same way.

        Parameters
        ----------
        course_catalog : pandas.DataFrame
            The learning catalog (``activity_id``, ``title``, ``skills``, ``level``;
            ``kind`` and ``assessed`` are used to prefer courses when present).
        readiness : sequence of str, default ("Ready in 1-2 years",)
            Readiness levels whose candidates get learning paths.
        due_days : int, default 90
            Days until each enrollment is due (and stays open).
        ontology : SkillOntology, optional
            Normalize catalog skill names.
        max_per_candidate : int, optional
            Cap on activities per candidate (lowest levels first).

        Returns
        -------
        pandas.DataFrame
            An actions table (see :data:`ACTION_COLUMNS`).

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import Role, bench_strength
        >>> X = pd.DataFrame({"employee_id": ["b"], "rating_latest": [3.0],
        ...                   "skill_level_gain_365d": [6.0],
        ...                   "as_of": pd.to_datetime(["2025-03-01"], utc=True)})
        >>> skills = pd.DataFrame({"employee_id": ["b"], "skill": ["SQL"], "level": [1]})
        >>> catalog = pd.DataFrame({"activity_id": ["https://lms.example/sql-2",
        ...     "https://lms.example/sql-3"], "title": ["SQL Practitioner", "SQL Advanced"],
        ...     "skills": [["SQL"], ["SQL"]], "level": [2, 3]})
        >>> bench = bench_strength(Role("Analyst Lead", {"SQL": 3}), X, skills)
        >>> bench.learning_paths(catalog)["title"].tolist()
        ['SQL Practitioner', 'SQL Advanced']
        """
        unknown = [r for r in readiness if r not in READINESS]
        if unknown:
            raise ValueError(f"unknown readiness {unknown}; one of {list(READINESS)}")
        if isinstance(due_days, bool) or not isinstance(due_days, int) or due_days < 1:
            raise ValueError(f"due_days must be an int >= 1, got {due_days!r}")
        _require(course_catalog, ("activity_id", "title", "skills", "level"), "catalog")
        acts = _activity_skills(course_catalog, ontology).merge(
            course_catalog[
                ["activity_id"]
                + [
                    c
                    for c in ("title", "kind", "assessed", "expected_minutes")
                    if c in course_catalog.columns
                ]
            ].astype({"activity_id": "string"}),
            on="activity_id",
            how="left",
        )
        acts["pref"] = 0
        if "kind" in acts.columns:
            acts["pref"] -= (acts["kind"].astype(str) == "course").astype(int) * 2
        if "assessed" in acts.columns:
            acts["pref"] -= acts["assessed"].fillna(False).astype(bool).astype(int)
        acts = acts.sort_values(["skill", "level", "pref", "activity_id"], kind="stable")
        best = acts.drop_duplicates(["skill", "level"]).set_index(["skill", "level"])
        chosen = self.candidates[self.candidates["readiness"].isin(list(readiness))]
        gaps = self.gaps[
            (self.gaps["gap"] > 0) & self.gaps["employee_id"].isin(chosen["employee_id"])
        ]
        rule_id = f"bench:{self.role.slug}"
        as_of = self.as_of
        due = as_of + pd.Timedelta(days=due_days)
        rows = []
        missing: list[tuple[str, int]] = []
        per: dict[str, int] = {}
        for rec in gaps.sort_values(["employee_id", "skill"], kind="stable").itertuples(
            index=False
        ):
            for level in range(int(rec.current_level) + 1, int(rec.required_level) + 1):
                if (rec.skill, float(level)) not in best.index:
                    missing.append((rec.skill, level))
                    continue
                if (
                    max_per_candidate is not None
                    and per.get(rec.employee_id, 0) >= max_per_candidate
                ):
                    break
                act = best.loc[(rec.skill, float(level))]
                target = str(act["activity_id"])
                title = (
                    str(act["title"])
                    if "title" in act.index and not pd.isna(act["title"])
                    else target
                )
                facts = {
                    "skill": rec.skill,
                    "current_level": int(rec.current_level),
                    "required_level": int(rec.required_level),
                    "role": self.role.name,
                }
                reason = (
                    f"succession bench for {self.role.name}: {rec.skill} at level "
                    f"{int(rec.current_level)} of {int(rec.required_level)} required -> enroll in "
                    f"{title} (level {level}), due in {due_days} days ({due.date().isoformat()})"
                )
                rows.append(
                    {
                        "action_key": action_key(rule_id, rec.employee_id, "enroll", target, as_of),
                        "rule_id": rule_id,
                        "rule_name": f"Succession bench: {self.role.name}",
                        "kind": "succession",
                        "action": "enroll",
                        "target": target,
                        "title": title,
                        "recipient": "employee",
                        "employee_id": rec.employee_id,
                        "as_of": as_of,
                        "due_date": due,
                        "open_until": due,
                        "status": "open",
                        "facts": json.dumps(facts, sort_keys=True),
                        "reason": reason,
                        "explanation": None,
                        "source": "bench",
                    }
                )
                per[rec.employee_id] = per.get(rec.employee_id, 0) + 1
        if missing:
            logger.warning(
                "learning_paths: the catalog has no activity for %d (skill, level) gap step(s), "
                "e.g. %s",
                len(missing),
                sorted(set(missing))[:5],
            )
        from ._action_table import empty_actions

        if not rows:
            return empty_actions()
        return (
            normalize_actions(pd.DataFrame(rows))
            .drop_duplicates("action_key")
            .reset_index(drop=True)
        )


def bench_strength(
    role: Role | Mapping[str, Any],
    X: pd.DataFrame,
    skills: pd.DataFrame,
    *,
    potential: str | pd.Series | None = None,
    ontology: Any = None,
    rating: str = "rating_latest",
    min_rating: float | None = 3.0,
    learning_rate: str = "skill_level_gain_365d",
    horizon_months: float = 24.0,
    exclude: Sequence[str] = (),
) -> BenchStrength:
    """Rank internal candidates for a role by readiness, with their skill gaps.

    Each candidate's *gap* is the sum over the role's skills of ``max(0, required - level)``.
    *Ready Now* means no gap; otherwise the months to close it are estimated from the
    candidate's own pace of learning (``learning_rate``: skill levels gained in the last
    year): *Ready in 1-2 years* when that is at most ``horizon_months``, else *Ready later*
    (also when the candidate gained no level in the last year). Candidates are ranked by
    readiness, then gap, then potential (when given), then rating.

    Parameters
    ----------
    role : Role or dict
        The role and its required skill levels (``{"name": ..., "skills": {...}}``).
    X : pandas.DataFrame
        One row per candidate at one ``as_of`` (``talentml.features.build`` output):
        ``employee_id``, ``as_of``, and ``rating`` / ``learning_rate`` / ``job_level`` /
        ``job_family`` when used.
    skills : pandas.DataFrame
        Skill levels (:func:`skill_profile`): ``employee_id``, ``skill``, ``level``.
    potential : str or pandas.Series, optional
        A column of ``X`` or values aligned with it (e.g. a :class:`HighPotential`
        probability) used to rank candidates of equal readiness and gap.
    ontology : SkillOntology, optional
        Normalize the role's and the profile's skill names.
    rating : str, default "rating_latest"
        The performance column; candidates below ``min_rating`` (or unrated) are excluded.
    min_rating : float or None, default 3.0
        Minimum rating to be a candidate (None: no minimum, unrated allowed).
    learning_rate : str, default "skill_level_gain_365d"
        Column of skill levels gained per year.
    horizon_months : float, default 24
        Longest estimated time to close the gap for *Ready in 1-2 years*.
    exclude : sequence of str, default ()
        Employees not to consider (e.g. the incumbent).

    Returns
    -------
    BenchStrength
        ``candidates`` (ranked), ``gaps``, ``excluded`` and :meth:`BenchStrength.summary`.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import Role, bench_strength
    >>> X = pd.DataFrame({"employee_id": ["a", "b", "c"],
    ...                   "as_of": pd.to_datetime(["2025-03-01"] * 3, utc=True),
    ...                   "rating_latest": [4.0, 3.0, 2.0], "skill_level_gain_365d": [0.0, 3.0, 9.0]})
    >>> skills = pd.DataFrame({"employee_id": ["a", "b", "c"], "skill": ["Coaching"] * 3,
    ...                        "level": [3, 1, 1]})
    >>> bench = bench_strength(Role("Team Lead", {"Coaching": 3}), X, skills)
    >>> bench.candidates[["rank", "employee_id", "readiness", "skill_gap", "months_to_ready"]]
       rank employee_id           readiness  skill_gap  months_to_ready
    0     1           a           Ready Now          0              0.0
    1     2           b  Ready in 1-2 years          2              8.0
    >>> bench.excluded
      employee_id              reason
    0           c  rating below 3 (2)
    """
    if isinstance(role, Mapping):
        role = Role(**role)
    if not isinstance(role, Role):
        raise TypeError(f"role must be a Role or a dict, got {type(role).__name__}")
    _require(X, ("employee_id", "as_of"), "X")
    _require(skills, ("employee_id", "skill", "level"), "skills")
    if X["employee_id"].duplicated().any():
        dup = X.loc[X["employee_id"].duplicated(), "employee_id"].tolist()[:5]
        raise ValueError(
            f"X must have one row per candidate (one as_of); employee_id repeats, e.g. {dup}"
        )
    as_ofs = _utc(X["as_of"], "X", "as_of").dropna().unique()
    if len(as_ofs) != 1:
        raise ValueError(f"X must be at a single as_of, it has {len(as_ofs)}")
    as_of = pd.Timestamp(as_ofs[0])
    required = dict(role.skills)
    if ontology is not None:
        norm = {}
        for s, lv in required.items():
            c = ontology.canonical(s)
            norm[c] = max(norm.get(c, 0), int(lv))
        required = norm
        skills = skills.assign(skill=ontology.normalize(skills["skill"]).to_numpy())
    keep, excluded = _eligible(X, role, exclude=exclude, min_rating=min_rating, rating=rating)
    cand = X[keep.to_numpy(bool)]
    cid = cand["employee_id"].astype(str).to_numpy()
    gaps = _skill_gaps(cid, skills, required)
    out, text = _readiness_table(
        cand,
        cid,
        gaps,
        required,
        rating=rating,
        learning_rate=learning_rate,
        horizon_months=horizon_months,
    )
    sort_cols, ascending = ["_r", "skill_gap"], [True, True]
    if potential is not None:
        pot = _potential(potential, X, cand, keep)
        out["potential"] = pot.to_numpy(float)
        sort_cols.append("potential")
        ascending.append(False)
    if "rating" in out.columns:
        sort_cols.append("rating")
        ascending.append(False)
    if "job_level" in cand.columns:
        out["job_level"] = pd.to_numeric(cand["job_level"], errors="coerce").to_numpy(float)
    gap_text = text.to_dict()  # employees without a gap have no entry (and may be all)
    out["gaps"] = pd.array([gap_text.get(e, "") for e in out["employee_id"]], dtype="string")
    out["_r"] = out["readiness"].map({r: i for i, r in enumerate(READINESS)})
    out = (
        out.sort_values(
            [*sort_cols, "employee_id"],
            ascending=[*ascending, True],
            kind="stable",
            na_position="last",
        )
        .drop(columns="_r")
        .reset_index(drop=True)
    )
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out["readiness"] = pd.Categorical(out["readiness"], categories=list(READINESS), ordered=True)
    excluded_df = pd.DataFrame(excluded, columns=["employee_id", "reason"]).astype("string")
    logger.info(
        "bench for %s at %s: %s; %d excluded",
        role.name,
        as_of.date(),
        out["readiness"].value_counts().to_dict(),
        len(excluded_df),
    )
    return BenchStrength(
        role=role,
        as_of=as_of,
        candidates=out,
        gaps=gaps.astype({"employee_id": "string", "skill": "string"}),
        excluded=excluded_df,
    )


def _eligible(
    X: pd.DataFrame,
    role: Role,
    *,
    exclude: Sequence[str],
    min_rating: float | None,
    rating: str,
) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Which rows of ``X`` are candidates for the role, and why each other one is not."""
    ids = X["employee_id"].astype(str)
    excluded: list[tuple[str, str]] = []
    keep = pd.Series(True, index=X.index)
    ex = ids.isin([str(e) for e in exclude])
    excluded += [(e, "excluded") for e in ids[ex]]
    keep &= ~ex
    if min_rating is not None:
        _require(X, (rating,), "X")
        r = pd.to_numeric(X[rating], errors="coerce")
        low = keep & (r.isna() | (r < float(min_rating)))
        excluded += [
            (e, "unrated" if pd.isna(v) else f"rating below {min_rating:g} ({v:g})")
            for e, v in zip(ids[low], r[low], strict=True)
        ]
        keep &= ~low
    if role.min_job_level is not None:
        _require(X, ("job_level",), "X")
        lv = pd.to_numeric(X["job_level"], errors="coerce")
        low = keep & (lv.isna() | (lv < role.min_job_level))
        excluded += [(e, f"job level below {role.min_job_level}") for e in ids[low]]
        keep &= ~low
    if role.job_families is not None:
        _require(X, ("job_family",), "X")
        other = keep & ~X["job_family"].astype(str).isin(list(role.job_families))
        excluded += [(e, "other job family") for e in ids[other]]
        keep &= ~other
    return keep, excluded


def _skill_gaps(cid: np.ndarray, skills: pd.DataFrame, required: dict[str, int]) -> pd.DataFrame:
    """Each candidate's required, current and missing level of each skill of the role."""
    prof = skills.assign(
        employee_id=skills["employee_id"].astype(str), skill=skills["skill"].astype(str)
    )
    prof = prof[prof["skill"].isin(list(required))]
    prof = prof.groupby(["employee_id", "skill"])["level"].max()
    gap_rows = []
    for e in cid:
        for s, req in required.items():
            cur = int(prof.get((e, s), 0))
            gap_rows.append((e, s, int(req), cur, max(0, int(req) - cur)))
    gaps = pd.DataFrame(
        gap_rows, columns=["employee_id", "skill", "required_level", "current_level", "gap"]
    )
    return gaps


def _readiness_table(
    cand: pd.DataFrame,
    cid: np.ndarray,
    gaps: pd.DataFrame,
    required: dict[str, int],
    *,
    rating: str,
    learning_rate: str,
    horizon_months: float,
) -> tuple[pd.DataFrame, pd.Series]:
    """Each candidate's readiness, gap, coverage and time to ready; the gaps as text."""
    by = gaps.groupby("employee_id", sort=False)
    total_gap = by["gap"].sum().reindex(cid).fillna(0).astype(int).to_numpy()
    met = (
        by["gap"].apply(lambda g: int((g == 0).sum())).reindex(cid).fillna(0).astype(int).to_numpy()
    )
    held = (
        gaps.assign(h=np.minimum(gaps["current_level"], gaps["required_level"]))
        .groupby("employee_id", sort=False)["h"]
        .sum()
        .reindex(cid)
        .fillna(0)
        .to_numpy(float)
    )
    if learning_rate in cand.columns:
        rate = pd.to_numeric(cand[learning_rate], errors="coerce").fillna(0.0).to_numpy(float)
    else:
        logger.warning(
            "bench_strength: X has no %r column; candidates with a gap are 'Ready later'",
            learning_rate,
        )
        rate = np.zeros(len(cand))
    with np.errstate(divide="ignore", invalid="ignore"):
        months = np.where(total_gap == 0, 0.0, np.where(rate > 0, 12.0 * total_gap / rate, np.inf))
    readiness = np.where(
        total_gap == 0, READINESS[0], np.where(months <= horizon_months, READINESS[1], READINESS[2])
    )
    text = (
        gaps[gaps["gap"] > 0]
        .assign(
            t=lambda d: (
                d["skill"]
                + " "
                + d["current_level"].astype(str)
                + "->"
                + d["required_level"].astype(str)
            )
        )
        .groupby("employee_id", sort=False)["t"]
        .agg("; ".join)
    )
    out = pd.DataFrame(
        {
            "employee_id": pd.array(cid, dtype="string"),
            "readiness": readiness,
            "skill_gap": total_gap,
            "skills_met": met,
            "coverage": held / max(1, sum(required.values())),
            "months_to_ready": months,
            "skill_gain_per_year": rate,
        }
    )
    if rating in cand.columns:
        out["rating"] = pd.to_numeric(cand[rating], errors="coerce").to_numpy(float)
    return out, text


def _potential(potential: Any, X: pd.DataFrame, cand: pd.DataFrame, keep: pd.Series) -> pd.Series:
    """The candidates' potential: a column of ``X`` or values aligned with ``X``."""
    if isinstance(potential, str):
        _require(X, (potential,), "X")
        pot = pd.to_numeric(cand[potential], errors="coerce")
    else:
        pot = (
            pd.Series(potential, index=X.index)
            if not isinstance(potential, pd.Series)
            else potential
        )
        if not pot.index.equals(X.index):
            raise ValueError("potential is not aligned with X (different index)")
        pot = pd.to_numeric(pot[keep.to_numpy(bool)], errors="coerce")
    return pot
