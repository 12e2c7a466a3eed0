"""The manager's team view: skills against the role, learning against performance, agility.

:func:`team_view` gathers, for one manager at one ``as_of``, what the seed article asks a
manager to see: the team's skill x person heatmap (proficiency against the role's
requirements: gap, meets, strength, unknown), learning progress against performance, the
learning-agility ranking (opportunity-normalized, never the off-hours share), the open
actions and the rule set's suggested assignments, each assignable once through the existing
channels (:func:`emit_xapi`, :class:`WebhookSender`, :class:`ActionStore`). Everything is point
in time (only facts known before ``as_of``), the team is rebuilt as it was at ``as_of``, and
no sensitive attribute ever reaches the view: only pseudonymous ``employee_id`` values and an
allow-list of job columns.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_purpose
from ..exceptions import PurposeLimitationError
from ..features import catalog as feature_catalog_table
from ..features import make_spine
from ._action_table import empty_actions, normalize_actions
from ._bench import Role
from ._tables import _require, _utc, _utc_ts
from ._team_result import STATUSES, TeamView
from ._team_skills import heatmap_table

__all__ = ["STATUSES", "TeamView", "team_view"]

logger = logging.getLogger(__name__)

#: Employee columns a team view shows (an allow-list: nothing else of ``employees`` is read).
#: The job family has no history (the snapshot's); level and department are the HRIS features
#: rebuilt at ``as_of`` (a later promotion or transfer is not shown).
MEMBER_COLUMNS = ("job_family",)
MEMBER_FEATURES = ("job_level", "department")
#: Learning-agility measures a team view may rank by: opportunity-normalized, independent of
#: the time of day (never the off-hours share, a known proxy for caregiving).
AGILITY_MEASURES = (
    "agility_per_workday_30d",
    "agility_per_workday_90d",
    "agility_per_workday_365d",
    "mastery_per_activity_365d",
)
_CONTEXT_FEATURES = (
    "mastery_per_activity_365d",
    "skill_level_gain_365d",
    "n_voluntary_completions_365d",
    "rating_change",
)
MSG_UNKNOWN_MANAGER = (
    "employees: manager_id {manager!r} is not an employee_id of the table ({n} rows); "
    "pass the manager's pseudonymous employee_id"
)
MSG_NO_REPORTS = (
    "manager {manager!r} has no active {scope} reports at {as_of} (employees.manager_id as "
    "known then, with job_events manager_change history)"
)
MSG_AGILITY = (
    "agility={value!r}: rank learning agility by an opportunity-normalized measure, one of "
    "{options}; the off-hours share rewards learning in evenings and weekends, which "
    "caregivers have less of (a proxy for caregiving), and is never used to judge people"
)


# ---------------------------------------------------------------------------- the team
def managers_at(
    employees: pd.DataFrame, as_of: Any, job_events: pd.DataFrame | None = None
) -> pd.Series:
    """Each employee's manager as known at ``as_of``.

    The rule of the team features (:mod:`talentml.features`): the ``to_value`` of the latest
    ``manager_change`` recorded before ``as_of`` and effective by then, else the
    ``from_value`` of the earliest later one, else the snapshot's ``manager_id``.

    Parameters
    ----------
    employees : pandas.DataFrame
        ``employee_id`` and ``manager_id`` (the export's snapshot).
    as_of : str or Timestamp
        The time.
    job_events : pandas.DataFrame, optional
        The ``job_events`` table (``manager_change`` rows); without it the snapshot is used.

    Returns
    -------
    pandas.Series
        Manager ids (string, missing without a manager), indexed by ``employee_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import managers_at
    >>> emp = pd.DataFrame({"employee_id": ["a", "b", "m1", "m2"],
    ...                     "manager_id": ["m2", "m1", None, None]})
    >>> ev = pd.DataFrame({"employee_id": ["a"], "event": ["manager_change"],
    ...     "effective_date": pd.to_datetime(["2025-03-01"], utc=True),
    ...     "recorded_at": pd.to_datetime(["2025-03-02"], utc=True),
    ...     "from_value": ["m1"], "to_value": ["m2"]})
    >>> managers_at(emp, "2025-02-01", ev).to_dict()["a"], managers_at(emp, "2025-04-01", ev).to_dict()["a"]
    ('m1', 'm2')
    """
    _require(employees, ("employee_id", "manager_id"), "employees")
    t = _utc_ts(as_of)
    snap = employees.drop_duplicates("employee_id")
    out = pd.Series(
        snap["manager_id"].astype("string").to_numpy(),
        index=pd.Index(snap["employee_id"].astype("string").to_numpy(), name="employee_id"),
        name="manager_id",
        dtype="string",
    )
    if job_events is None or len(job_events) == 0:
        return out
    _require(
        job_events,
        ("employee_id", "event", "effective_date", "recorded_at", "from_value", "to_value"),
        "job_events",
    )
    ev = job_events[job_events["event"].astype("string") == "manager_change"]
    if ev.empty:
        return out
    ev = pd.DataFrame(
        {
            "employee_id": ev["employee_id"].astype("string").to_numpy(),
            "eff": _utc(ev["effective_date"], "job_events", "effective_date").to_numpy(),
            "rec": _utc(ev["recorded_at"], "job_events", "recorded_at").to_numpy(),
            "from_value": ev["from_value"].astype("string").to_numpy(),
            "to_value": ev["to_value"].astype("string").to_numpy(),
        }
    )
    known = ((ev["rec"] < t) & (ev["eff"] <= t)).to_numpy(bool)
    later = ev[~known].sort_values(["employee_id", "eff", "rec"], kind="stable")
    later = later.drop_duplicates("employee_id", keep="first").set_index("employee_id")
    latest = ev[known].sort_values(["employee_id", "eff", "rec"], kind="stable")
    latest = latest.drop_duplicates("employee_id", keep="last").set_index("employee_id")
    out = out.copy()
    ids = later.index.intersection(out.index)
    out.loc[ids] = later.loc[ids, "from_value"].to_numpy()
    ids = latest.index.intersection(out.index)
    out.loc[ids] = latest.loc[ids, "to_value"].to_numpy()
    return out


def _members(
    manager_id: str,
    as_of: pd.Timestamp,
    employees: pd.DataFrame,
    job_events: pd.DataFrame | None,
    indirect: bool,
) -> pd.DataFrame:
    """The manager's active reports at ``as_of``: direct, or the whole subtree."""
    _require(employees, ("employee_id", "hire_date", "manager_id"), "employees")
    ids = employees["employee_id"].astype("string")
    if not ids.eq(manager_id).any():
        raise ValueError(MSG_UNKNOWN_MANAGER.format(manager=manager_id, n=len(employees)))
    boss = managers_at(employees, as_of, job_events)
    active = set(
        make_spine(
            employees[
                [c for c in ("employee_id", "hire_date", "termination_date") if c in employees]
            ],
            cutoffs=pd.DataFrame({"as_of": [as_of]}),
        )["employee_id"].astype(str)
    )
    children: dict[str, list[str]] = {}
    for emp, mgr in boss.dropna().items():
        if emp != mgr:
            children.setdefault(str(mgr), []).append(str(emp))
    rows: list[tuple[str, int, str]] = []
    seen = {manager_id}
    frontier = [(manager_id, 0)]
    while frontier:
        node, depth = frontier.pop(0)
        for child in sorted(children.get(node, [])):
            if child in seen:
                continue
            seen.add(child)
            if child in active:
                rows.append((child, depth + 1, node))
            if indirect:
                frontier.append((child, depth + 1))
    if not rows:
        raise ValueError(
            MSG_NO_REPORTS.format(
                manager=manager_id,
                scope="direct or indirect" if indirect else "direct",
                as_of=as_of.isoformat(),
            )
        )
    members = pd.DataFrame(rows, columns=["employee_id", "level", "reports_to"])
    members["relation"] = np.where(members["level"] == 1, "direct", "indirect")
    snap = employees.drop_duplicates("employee_id").set_index(ids.drop_duplicates().to_numpy())
    for col in MEMBER_COLUMNS:
        if col in employees.columns:
            members[col] = snap.loc[members["employee_id"], col].to_numpy()
    hire = _utc(snap["hire_date"], "employees", "hire_date")
    members["tenure_days"] = (
        (as_of - hire.loc[members["employee_id"]]).dt.days.astype(float).to_numpy()
    )
    members = members.sort_values(["level", "employee_id"], kind="stable").reset_index(drop=True)
    return members.astype({"employee_id": "string", "reports_to": "string", "relation": "string"})


# ------------------------------------------------------------------------- features
def _safe_feature(name: str, what: str, fcat: pd.DataFrame) -> None:
    """Refuse a feature flagged as a proxy of a sensitive attribute (e.g. off-hours share)."""
    row = fcat.loc[fcat["name"] == name]
    if len(row) and bool(row["sensitive_proxy"].iloc[0]):
        raise PurposeLimitationError(
            f"{what}={name!r} is flagged sensitive_proxy in the feature catalog (it tracks a "
            "protected attribute, e.g. caregiving): a team view never ranks or shows people by it"
        )


def _features(
    spine: pd.DataFrame,
    X: pd.DataFrame | None,
    wanted: list[str],
    *,
    statements: Any,
    employees: pd.DataFrame,
    reviews: Any,
    competency_ratings: Any,
    job_events: Any,
    course_catalog: Any,
) -> pd.DataFrame:
    """The team's feature rows at ``as_of``: from ``X`` or built point in time."""
    if X is not None:
        _require(X, ("employee_id", "as_of"), "X")
        t = spine["as_of"].iloc[0]
        rows = X[
            (_utc(X["as_of"], "X", "as_of") == t)
            & X["employee_id"].astype("string").isin(spine["employee_id"])
        ]
        rows = rows.assign(employee_id=rows["employee_id"].astype("string"))
        missing = sorted(set(spine["employee_id"]) - set(rows["employee_id"]))
        if missing:
            raise ValueError(
                f"X has no row at as_of {t.isoformat()} for {len(missing)} team member(s), "
                f"e.g. {missing[:5]}: build X at that as_of (or pass statements= to build it)"
            )
        if rows["employee_id"].duplicated().any():
            dup = rows.loc[rows["employee_id"].duplicated(), "employee_id"].tolist()[:5]
            raise ValueError(f"X repeats (employee_id, as_of) rows, e.g. {dup}")
        keep = ["employee_id", "as_of", *[c for c in wanted if c in rows.columns]]
        return spine[["employee_id"]].merge(rows[keep], on="employee_id", how="left")
    if statements is None:
        raise ValueError(
            "team_view needs statements= (the learning records, to build the features at "
            "as_of) or X= (features already built at as_of)"
        )
    from ..features import build

    known = set(feature_catalog_table()["name"])
    built = build(
        spine,
        statements=statements,
        employees=employees[
            [c for c in employees.columns if c in _EMPLOYEE_CONTRACT]
        ],  # the contract's columns only: sensitive columns never reach the features
        reviews=reviews,
        competency_ratings=competency_ratings,
        job_events=job_events,
        course_catalog=course_catalog,
        features=[c for c in dict.fromkeys(wanted) if c in known],
        show_progress=False,
    )
    return built.assign(employee_id=built["employee_id"].astype("string"))


_EMPLOYEE_CONTRACT = (
    "employee_id",
    "hire_date",
    "termination_date",
    "termination_type",
    "job_family",
    "job_level",
    "department",
    "location",
    "timezone",
    "manager_id",
)


# -------------------------------------------------------------------------- actions
def _open_actions(
    open_actions: pd.DataFrame | None, store: Any, ids: set[str], as_of
) -> pd.DataFrame:
    parts = []
    if open_actions is not None:
        parts.append(normalize_actions(open_actions))
    if store is not None:
        parts.append(store.actions())
    if not parts:
        return empty_actions()
    acts = pd.concat(parts, ignore_index=True).drop_duplicates("action_key")
    still = (acts["status"] == "open") & (acts["as_of"] <= as_of) & (acts["open_until"] > as_of)
    if "closed_at" in acts.columns:
        still &= acts["closed_at"].isna() | (acts["closed_at"] > as_of)
    keep = still.fillna(False).to_numpy(bool) & acts["employee_id"].astype(str).isin(ids).to_numpy()
    out = normalize_actions(acts[keep])
    return out.drop(columns=[c for c in out.columns if c == "closed_at"])


# ------------------------------------------------------------------------ the view
def team_view(
    manager_id: str,
    as_of: Any,
    *,
    employees: pd.DataFrame,
    competency_ratings: pd.DataFrame | None = None,
    statements: pd.DataFrame | None = None,
    reviews: pd.DataFrame | None = None,
    roles: Role | Mapping[str, Any] | None = None,
    ruleset: Any = None,
    indirect: bool = False,
    job_events: pd.DataFrame | None = None,
    course_catalog: pd.DataFrame | None = None,
    X: pd.DataFrame | None = None,
    scores: Any = None,
    explanations: pd.DataFrame | None = None,
    open_actions: pd.DataFrame | None = None,
    store: Any = None,
    ontology: Any = None,
    competency_target: float | Mapping[str, float] = 3.0,
    agility: str = "agility_per_workday_365d",
    learning: str = "n_voluntary_completions_90d",
    performance: str = "rating_latest",
) -> TeamView:
    """The manager's team at ``as_of``: skills, learning against performance, agility, actions.

    Who: the manager's direct reports at ``as_of`` (``employees.manager_id`` rebuilt at
    ``as_of`` from ``job_events``' ``manager_change`` history, :func:`managers_at`), or with
    ``indirect=True`` the whole subtree; only employees active at ``as_of``. What: only facts
    known strictly before ``as_of`` (competency ratings and reviews by ``submitted_at``,
    statements by ``stored``, HR events by ``recorded_at``). Sensitive attributes never
    appear: only ``employee_id`` and ``job_family``, ``job_level``, ``department`` are read
    from ``employees``.

    Parameters
    ----------
    manager_id : str
        The manager's pseudonymous ``employee_id``.
    as_of : str or Timestamp
        The time of the view (naive times are UTC).
    employees : pandas.DataFrame
        The ``employees`` table (``employee_id``, ``hire_date``, ``manager_id``;
        ``termination_date`` and the job columns when present).
    competency_ratings : pandas.DataFrame, optional
        The ``competency_ratings`` table: the latest rating of each competency before
        ``as_of`` against ``competency_target`` (heatmap rows of source ``competency``).
    statements : pandas.DataFrame, optional
        Normalized statements (:func:`talentml.xapi.ingest`): skill levels (with ``roles``)
        and the learning features (unless ``X`` is given).
    reviews : pandas.DataFrame, optional
        The ``reviews`` table (the performance features).
    roles : Role or mapping of str to Role, optional
        Required skill levels (1-4): one :class:`Role` for everyone, or one per job family;
        each member's level is the highest catalog level completed before ``as_of``
        (:func:`skill_profile`; heatmap rows of source ``learning``).
    ruleset : RuleSet, optional
        Trigger rules evaluated on the team's rows: their new actions are the suggestions.
    indirect : bool, default False
        Include indirect reports (the whole subtree).
    job_events : pandas.DataFrame, optional
        The ``job_events`` table (manager history; HR features).
    course_catalog : pandas.DataFrame, optional
        The learning catalog (skills and levels of activities; titles of actions).
    X : pandas.DataFrame, optional
        Features already built at ``as_of`` (:func:`talentml.features.build`); built from
        the tables otherwise.
    scores, explanations : optional
        Passed to :meth:`RuleSet.evaluate` (scores keyed by ``employee_id`` and ``as_of``).
    open_actions : pandas.DataFrame, optional
        Actions already opened; those of the team open at ``as_of`` are listed.
    store : ActionStore, optional
        Read open actions from it (nothing is written: assigning is :meth:`TeamView.assign`).
    ontology : SkillOntology, optional
        Normalize role and catalog skill names.
    competency_target : float or mapping, default 3.0
        Required competency rating (3 = Meets), one for all or per competency.
    agility : str, default "agility_per_workday_365d"
        The learning-agility measure ranked, one of :data:`AGILITY_MEASURES`
        (opportunity-normalized; never ``agility_offhours_*``).
    learning : str, default "n_voluntary_completions_90d"
        The learning-progress feature (x axis of :meth:`TeamView.plot_progress`).
    performance : str, default "rating_latest"
        The performance feature (y axis).

    Returns
    -------
    TeamView
        ``members``, ``heatmap``, ``progress``, ``agility``, ``open_actions``,
        ``suggestions``; :meth:`TeamView.plot_heatmap`, :meth:`TeamView.plot_progress`,
        :meth:`TeamView.to_html`, :meth:`TeamView.to_json`, :meth:`TeamView.assign`.

    Raises
    ------
    ValueError
        For an unknown manager id, a manager without active reports, or missing inputs.
    PurposeLimitationError
        When asked to rank or plot by a sensitive proxy, or when the rule set reads a
        sensitive column.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import team_view
    >>> utc = lambda *d: pd.to_datetime(list(d), utc=True)
    >>> employees = pd.DataFrame({"employee_id": ["m", "a", "b"],
    ...     "hire_date": utc("2020-01-01", "2021-03-01", "2022-06-01"),
    ...     "manager_id": [None, "m", "m"], "job_family": ["Sales"] * 3})
    >>> ratings = pd.DataFrame({"employee_id": ["a", "b"], "cycle_id": ["H2", "H2"],
    ...     "competency": ["Negotiation"] * 2, "rating": [2.0, 4.0],
    ...     "submitted_at": utc("2025-01-10", "2025-01-12")})
    >>> X = pd.DataFrame({"employee_id": ["a", "b"], "as_of": utc("2025-03-01", "2025-03-01"),
    ...     "rating_latest": [3.0, 4.0], "n_voluntary_completions_90d": [1, 5],
    ...     "agility_per_workday_365d": [0.01, 0.03]})
    >>> view = team_view("m", "2025-03-01", employees=employees, competency_ratings=ratings, X=X)
    >>> view.heatmap[["employee_id", "skill", "level", "status"]]
      employee_id        skill  level    status
    0           a  Negotiation    2.0       gap
    1           b  Negotiation    4.0  strength
    >>> view.agility[["rank", "employee_id"]].to_dict("list")
    {'rank': [1, 2], 'employee_id': ['b', 'a']}
    """
    manager_id = str(manager_id)
    t = _utc_ts(as_of)
    fcat = feature_catalog_table()
    if agility not in AGILITY_MEASURES:
        if agility in set(fcat["name"]):
            _safe_feature(agility, "agility", fcat)
        raise ValueError(MSG_AGILITY.format(value=agility, options=list(AGILITY_MEASURES)))
    for name, what in ((learning, "learning"), (performance, "performance")):
        _safe_feature(name, what, fcat)
    if ruleset is not None:
        check_purpose(
            ruleset.columns,
            table="ruleset",
            message="a team view never acts on a protected attribute (purpose limitation)",
        )
        for col in ruleset.columns:
            _safe_feature(col, "ruleset column", fcat)
    members = _members(manager_id, t, employees, job_events, bool(indirect))
    spine = pd.DataFrame(
        {"employee_id": members["employee_id"].to_numpy(), "as_of": pd.Series([t] * len(members))}
    )
    spine["as_of"] = spine["as_of"].astype("datetime64[ns, UTC]")
    rule_cols = [] if ruleset is None else list(ruleset.columns)
    wanted = list(
        dict.fromkeys(
            [learning, performance, agility, *_CONTEXT_FEATURES, *MEMBER_FEATURES, *rule_cols]
        )
    )
    feats = _features(
        spine,
        X,
        wanted,
        statements=statements,
        employees=employees,
        reviews=reviews,
        competency_ratings=competency_ratings,
        job_events=job_events,
        course_catalog=course_catalog,
    )
    heatmap = heatmap_table(
        members,
        spine,
        competency_ratings=competency_ratings,
        competency_target=competency_target,
        statements=statements,
        course_catalog=course_catalog,
        roles=roles,
        ontology=ontology,
    )
    for col in MEMBER_FEATURES:
        if col in feats.columns:
            members.insert(members.columns.get_loc("tenure_days"), col, feats[col].to_numpy())
    progress = _progress(feats, learning, performance)
    ranking = _agility(feats, agility)
    ids = set(members["employee_id"].astype(str))
    existing = _open_actions(open_actions, store, ids, t)
    if ruleset is not None:
        rows = feats.drop(
            columns=[c for c in feats.columns if c not in {"employee_id", "as_of", *rule_cols}]
        )
        rows["as_of"] = spine["as_of"].to_numpy()
        known = [normalize_actions(open_actions)] if open_actions is not None else []
        if store is not None:
            known.append(store.actions())
        prior = pd.concat(known, ignore_index=True) if known else None
        suggestions = ruleset.evaluate(
            rows,
            competency_ratings=competency_ratings,
            scores=scores,
            explanations=explanations,
            open_actions=prior,
            course_catalog=course_catalog,
        )
    else:
        suggestions = empty_actions()
    logger.info(
        "team view of %s at %s: %d member(s), heatmap %s, %d open action(s), %d suggestion(s)",
        manager_id,
        t.date(),
        len(members),
        heatmap["status"].value_counts().to_dict(),
        len(existing),
        len(suggestions),
    )
    return TeamView(
        manager_id=manager_id,
        as_of=t,
        indirect=bool(indirect),
        members=members,
        heatmap=heatmap,
        progress=progress,
        agility=ranking,
        open_actions=existing,
        suggestions=suggestions,
        settings={
            "agility": agility,
            "learning": learning,
            "performance": performance,
            "competency_target": competency_target
            if not isinstance(competency_target, Mapping)
            else dict(competency_target),
            "roles": _role_names(roles),
            "rules": [] if ruleset is None else [r.id for r in ruleset.rules],
        },
    )


def _role_names(roles: Any) -> Any:
    if roles is None:
        return None
    if isinstance(roles, Role):
        return roles.name
    return {
        str(k): (v.name if isinstance(v, Role) else str(v.get("name"))) for k, v in roles.items()
    }


def _num(feats: pd.DataFrame, name: str) -> np.ndarray:
    if name not in feats.columns:
        logger.warning("team view: feature %r is not available; shown as missing", name)
        return np.full(len(feats), np.nan)
    return pd.to_numeric(feats[name], errors="coerce").to_numpy(float)


def _progress(feats: pd.DataFrame, learning: str, performance: str) -> pd.DataFrame:
    out = pd.DataFrame({"employee_id": feats["employee_id"].astype("string").to_numpy()})
    out[learning] = _num(feats, learning)
    out["skill_level_gain_365d"] = _num(feats, "skill_level_gain_365d")
    out[performance] = _num(feats, performance)
    out["rating_change"] = _num(feats, "rating_change")
    return out.loc[:, ~out.columns.duplicated()]


def _agility(feats: pd.DataFrame, agility: str) -> pd.DataFrame:
    out = pd.DataFrame({"employee_id": feats["employee_id"].astype("string").to_numpy()})
    out[agility] = _num(feats, agility)
    for c in ("mastery_per_activity_365d", "skill_level_gain_365d", "n_voluntary_completions_365d"):
        out[c] = _num(feats, c)
    out = out.loc[:, ~out.columns.duplicated()]
    out = out.sort_values(
        [agility, "employee_id"], ascending=[False, True], kind="stable", na_position="last"
    ).reset_index(drop=True)
    rank = pd.array(np.arange(1, len(out) + 1), dtype="Int64")
    rank[out[agility].isna().to_numpy()] = pd.NA
    out.insert(0, "rank", rank)
    return out
