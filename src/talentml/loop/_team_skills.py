"""The team view's skill heatmap: each person's proficiency against the requirement.

Two kinds of evidence, both point in time: the latest competency rating submitted before
``as_of`` (:func:`talentml.features.competency_snapshot`) against a target rating (3, Meets, by
default), and the highest catalog level completed in a skill before ``as_of``
(:func:`skill_profile`) against the role's required level (:class:`Role`). Below is a *gap*,
equal *meets*, above a *strength*; without any evidence the cell is *unknown* (no record is
not proof of a gap).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..features import competency_column, competency_snapshot
from ._bench import Role, skill_profile
from ._tables import _utc
from ._team_html import STATUSES

__all__ = ["heatmap_table", "status_of"]


def status_of(level: np.ndarray, required: np.ndarray) -> np.ndarray:
    """gap (below), meets (equal), strength (above), unknown (no evidence)."""
    return np.select(
        [np.isnan(level), level < required, level == required],
        ["unknown", "gap", "meets"],
        "strength",
    )


def _roles_of(members: pd.DataFrame, roles: Any) -> list[Role | None]:
    if roles is None:
        return [None] * len(members)
    if isinstance(roles, Role):
        return [roles] * len(members)
    if not isinstance(roles, Mapping):
        raise TypeError(
            f"roles must be a Role or a mapping of job family to Role, got {type(roles).__name__}"
        )
    built = {str(k): (v if isinstance(v, Role) else Role(**v)) for k, v in roles.items()}
    if "job_family" not in members.columns:
        raise ValueError("roles by job family need employees.job_family")
    return [built.get(str(f)) for f in members["job_family"]]


def heatmap_table(
    members: pd.DataFrame,
    spine: pd.DataFrame,
    *,
    competency_ratings: pd.DataFrame | None,
    competency_target: float | Mapping[str, float],
    statements: pd.DataFrame | None,
    course_catalog: pd.DataFrame | None,
    roles: Any,
    ontology: Any,
) -> pd.DataFrame:
    """One row per member and skill: proficiency against the requirement."""
    parts = []
    ids = members["employee_id"].astype(str).to_numpy()
    as_of = spine["as_of"].iloc[0]
    if competency_ratings is not None and len(competency_ratings):
        snap = competency_snapshot(spine, competency_ratings)
        cr = competency_ratings[competency_ratings["employee_id"].astype(str).isin(ids)]
        submitted = _utc(cr["submitted_at"], "competency_ratings", "submitted_at")
        when = (
            cr.assign(_t=submitted)[submitted < as_of]
            .groupby([cr["employee_id"].astype(str), "competency"])["_t"]
            .max()
        )
        for comp in sorted(competency_ratings["competency"].dropna().astype(str).unique()):
            target = (
                float(competency_target.get(comp, 3.0))
                if isinstance(competency_target, Mapping)
                else float(competency_target)
            )
            level = snap[competency_column(comp)].to_numpy(float)
            parts.append(
                pd.DataFrame(
                    {
                        "employee_id": spine["employee_id"].to_numpy(),
                        "skill": comp,
                        "source": "competency",
                        "role": pd.NA,
                        "required": target,
                        "level": level,
                        "evidence_at": [when.get((e, comp), pd.NaT) for e in spine["employee_id"]],
                    }
                )
            )
    member_roles = _roles_of(members, roles)
    if any(r is not None for r in member_roles):
        if statements is None or course_catalog is None:
            raise ValueError(
                "roles= needs statements= and course_catalog= (skill levels come from the "
                "completed catalog activities, skill_profile)"
            )
        st = statements[statements["employee_id"].astype("string").isin(ids)]
        prof = skill_profile(st, course_catalog, as_of=as_of, ontology=ontology)
        prof = prof.set_index(["employee_id", "skill"])
        rows = []
        for e, role in zip(ids, member_roles, strict=True):
            if role is None:
                continue
            for skill, req in role.skills.items():
                name = ontology.canonical(skill) if ontology is not None else skill
                hit = (e, name) in prof.index
                rows.append(
                    (
                        e,
                        name,
                        "learning",
                        role.name,
                        float(req),
                        float(prof.loc[(e, name), "level"]) if hit else np.nan,
                        prof.loc[(e, name), "last_at"] if hit else pd.NaT,
                    )
                )
        parts.append(
            pd.DataFrame(
                rows,
                columns=[
                    "employee_id",
                    "skill",
                    "source",
                    "role",
                    "required",
                    "level",
                    "evidence_at",
                ],
            )
        )
    if not parts:
        raise ValueError(
            "team_view needs competency_ratings= or roles= (with statements= and "
            "course_catalog=) to draw the skill heatmap"
        )
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    lv, rq = out["level"].to_numpy(float), out["required"].to_numpy(float)
    out["margin"] = lv - rq
    out["status"] = pd.Categorical(status_of(lv, rq), categories=list(STATUSES))
    out["evidence_at"] = pd.to_datetime(out["evidence_at"], utc=True).astype("datetime64[ns, UTC]")
    out = out.astype(
        {"employee_id": "string", "skill": "string", "source": "string", "role": "string"}
    )
    cols = ["employee_id", "skill", "source", "role", "required", "level", "margin", "status"]
    return out[[*cols, "evidence_at"]]
