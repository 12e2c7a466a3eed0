"""Trigger rules: declared in code or YAML, validated on load, evaluated point in time.

A rule is a conjunction of conditions over one spine row (the features at ``as_of``, the
competency ratings known before ``as_of`` and any model scores passed in) and a list of
actions. Evaluating a :class:`RuleSet` returns one action row per firing with the rule, the
facts that fired it and a reason text; an action already open for the same rule, employee,
action and target is never opened twice (see :func:`action_key`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import math
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import TalentMLError

__all__ = [
    "ACTION_COLUMNS",
    "ACTION_TYPES",
    "OPERATORS",
    "RATING_SCALE",
    "RULE_KINDS",
    "ActionSpec",
    "Condition",
    "Rule",
    "RuleError",
    "RuleSet",
    "action_key",
    "competency_column",
    "competency_snapshot",
]

logger = logging.getLogger(__name__)

#: Labels accepted as thresholds on 1-5 rating scales (``rating_latest``, competency ratings).
RATING_SCALE: Mapping[str, float] = MappingProxyType(
    {
        "Unsatisfactory": 1.0,
        "Needs Improvement": 2.0,
        "Meets": 3.0,
        "Exceeds": 4.0,
        "Outstanding": 5.0,
    }
)
#: Comparison operators of a condition; ``missing``/``present`` take no value.
OPERATORS = ("<", "<=", ">", ">=", "==", "!=", "in", "not in", "missing", "present")
#: What an action does: ``enroll`` (an assignment, written to the LRS as an xAPI statement),
#: ``recommend`` a program to the employee, ``notify`` or ``alert`` a recipient.
ACTION_TYPES = ("enroll", "recommend", "notify", "alert")
#: Kinds of rules (for reporting).
RULE_KINDS = ("remediation", "acceleration", "retention", "succession", "other")
#: Where a condition's value comes from.
SOURCES = ("feature", "competency", "score", "column")
#: Days an action stays open when its rule gives neither ``open_days`` nor ``due_days``.
DEFAULT_OPEN_DAYS = 90

#: Columns of the actions table returned by :meth:`RuleSet.evaluate`.
ACTION_COLUMNS = (
    "action_key",
    "rule_id",
    "rule_name",
    "kind",
    "action",
    "target",
    "title",
    "recipient",
    "employee_id",
    "as_of",
    "due_date",
    "open_until",
    "status",
    "facts",
    "reason",
    "explanation",
    "source",
)
_STRING_COLUMNS = (
    "action_key",
    "rule_id",
    "rule_name",
    "kind",
    "action",
    "target",
    "title",
    "recipient",
    "employee_id",
    "status",
    "facts",
    "reason",
    "explanation",
    "source",
)
_TIME_COLUMNS = ("as_of", "due_date", "open_until")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_OP_WORDS = {
    "<": "below",
    "<=": "at or below",
    ">": "above",
    ">=": "at or above",
    "==": "equal to",
    "!=": "not equal to",
    "in": "one of",
    "not in": "none of",
    "missing": "missing",
    "present": "present",
}
_CONDITION_KEYS = (*SOURCES, "op", "value")
_ACTION_KEYS = ("action", "target", "title", "due_days", "open_days")
_RULE_KEYS = ("id", "name", "kind", "description", "when", "then", "reason")


class RuleError(TalentMLError, ValueError):
    """A trigger rule is invalid, or cannot be evaluated on the given table.

    Attributes
    ----------
    rule : str or None
        The rule's id (or its position, ``rules[2]``, when it has no valid id).
    field : str or None
        The offending field, e.g. ``"when[0].value"``.
    """

    def __init__(self, message: str, *, rule: str | None = None, field: str | None = None):
        where = ", ".join(x for x in (f"rule {rule!r}" if rule else "", field or "") if x)
        super().__init__(f"{where}: {message}" if where else message)
        self.rule = rule
        self.field = field


def competency_column(competency: str) -> str:
    """Name of the column that holds a competency's rating in an evaluated table.

    Examples
    --------
    >>> competency_column("Project Management")
    'competency[Project Management]'
    """
    return f"competency[{competency}]"


def action_key(rule_id: str, employee_id: str, action: str, target: str, opened: Any) -> str:
    """Stable identity of an action: rule, employee, action, target and the day it opened.

    The same firing always gets the same key, so a re-run recognizes an action it already
    opened; statement ids (UUID 5) and webhook idempotency keys derive from it.

    Parameters
    ----------
    rule_id, employee_id, action, target : str
        What fired, for whom, and what it asks for.
    opened : Timestamp or str
        The ``as_of`` at which the action opened (its open period starts there).

    Returns
    -------
    str
        32 hexadecimal characters (a truncated SHA-256).

    Examples
    --------
    >>> k = action_key("pm-remediation", "E000042", "enroll", "https://lms.example/c/pm-1",
    ...                "2025-03-01")
    >>> len(k), k == action_key("pm-remediation", "E000042", "enroll",
    ...                         "https://lms.example/c/pm-1", "2025-03-01T00:00:00Z")
    (32, True)
    """
    ts = pd.Timestamp(opened)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    text = "\x1f".join((rule_id, employee_id, action, target, ts.isoformat()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# ------------------------------------------------------------------------------ pieces


@dataclass(frozen=True)
class Condition:
    """One test on one value of a spine row.

    Parameters
    ----------
    source : {"feature", "competency", "score", "column"}
        ``feature``: a feature of :func:`talentml.features.catalog`; ``competency``: the
        latest rating of a competency known before ``as_of``; ``score``: a model score passed
        to :meth:`RuleSet.evaluate`; ``column``: any other column of the evaluated table.
    name : str
        The feature, competency, score or column name.
    op : str
        One of :data:`OPERATORS`.
    value : float, str, bool or list, optional
        The threshold (a number, or a :data:`RATING_SCALE` label on rating scales), a
        category, or a list of them for ``in``/``not in``; none for ``missing``/``present``.

    Examples
    --------
    >>> Condition("competency", "Project Management", "<", 3).column
    'competency[Project Management]'
    """

    source: str
    name: str
    op: str
    value: Any = None

    @property
    def column(self) -> str:
        """The column of the evaluated table this condition reads."""
        return competency_column(self.name) if self.source == "competency" else self.name

    def to_dict(self) -> dict[str, Any]:
        """The YAML/dict form: ``{source: name, op: ..., value: ...}``.

        Examples
        --------
        >>> Condition("feature", "tenure_days", ">", 730).to_dict()
        {'feature': 'tenure_days', 'op': '>', 'value': 730}
        """
        out: dict[str, Any] = {self.source: self.name, "op": self.op}
        if self.op not in ("missing", "present"):
            out["value"] = list(self.value) if isinstance(self.value, tuple) else self.value
        return out


@dataclass(frozen=True)
class ActionSpec:
    """What a rule asks for when it fires.

    Parameters
    ----------
    action : {"enroll", "recommend", "notify", "alert"}
        ``enroll`` assigns a learning activity (xAPI ``was-assigned``); ``recommend`` proposes
        an activity or program; ``notify`` and ``alert`` tell a recipient.
    target : str
        For ``enroll``/``recommend``: the activity or program IRI. For ``notify``/``alert``:
        the recipient, e.g. ``"manager"`` or ``"talent-team"``.
    title : str, optional
        Human name of the target (default: the target).
    due_days : int, optional
        Days after ``as_of`` the action is due (shown in the reason, ``due_date``).
    open_days : int, optional
        Days the action stays open (no new action for the same rule, employee and target
        meanwhile); default ``due_days``, else 90.

    Examples
    --------
    >>> ActionSpec("alert", "manager").recipient
    'manager'
    """

    action: str
    target: str
    title: str | None = None
    due_days: int | None = None
    open_days: int | None = None

    @property
    def recipient(self) -> str:
        """Who receives the action: the employee, or the named recipient."""
        return "employee" if self.action in ("enroll", "recommend") else self.target

    @property
    def open_period(self) -> int:
        """Days the action stays open."""
        if self.open_days is not None:
            return int(self.open_days)
        return int(self.due_days) if self.due_days is not None else DEFAULT_OPEN_DAYS

    def to_dict(self) -> dict[str, Any]:
        """The YAML/dict form (fields left at their default are omitted).

        Examples
        --------
        >>> ActionSpec("notify", "talent-team", open_days=30).to_dict()
        {'action': 'notify', 'target': 'talent-team', 'open_days': 30}
        """
        out: dict[str, Any] = {"action": self.action, "target": self.target}
        for name in ("title", "due_days", "open_days"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True)
class Rule:
    """A trigger rule: when every condition holds on a spine row, open the actions.

    Parameters
    ----------
    id : str
        Stable identifier (letters, digits, ``_.:-``); part of every action key.
    when : sequence of Condition or dict
        The conditions, all of which must hold (a missing value never satisfies a comparison).
        Dicts are ``{"feature" | "competency" | "score" | "column": name, "op": ..., "value": ...}``.
    then : sequence of ActionSpec or dict
        The actions; dicts are ``{"action": ..., "target": ..., "title": ..., "due_days": ...}``.
    name : str, optional
        Human name (default: the id).
    kind : str, default "other"
        One of :data:`RULE_KINDS`.
    description : str, optional
        Free text.
    reason : str, optional
        Reason template, formatted with the condition columns' values (``{rating_latest}``,
        ``{competency[Leadership]}`` is written ``{competency_Leadership}``) and
        ``employee_id``, ``as_of``, ``title``, ``due_date``; default: generated from the facts.

    Examples
    --------
    >>> rule = Rule("pm-remediation",
    ...             when=[{"competency": "Project Management", "op": "<", "value": 3}],
    ...             then=[{"action": "enroll", "target": "https://lms.example/c/pm-1",
    ...                    "title": "Project Management Fundamentals", "due_days": 30}])
    >>> rule.when[0].column, rule.then[0].open_period
    ('competency[Project Management]', 30)
    """

    id: str
    when: tuple[Condition, ...]
    then: tuple[ActionSpec, ...]
    name: str = ""
    kind: str = "other"
    description: str = ""
    reason: str | None = None

    def __post_init__(self) -> None:
        rid = self.id if isinstance(self.id, str) else repr(self.id)
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise RuleError(
                "the id must be 1-80 letters, digits or '_.:-', starting with a letter or "
                f"digit; got {self.id!r}",
                rule=rid,
                field="id",
            )
        object.__setattr__(self, "when", _coerce_list(self.when, "when", rid, _condition))
        object.__setattr__(self, "then", _coerce_list(self.then, "then", rid, _action))
        if not self.when:
            raise RuleError("a rule needs at least one condition", rule=rid, field="when")
        if not self.then:
            raise RuleError("a rule needs at least one action", rule=rid, field="then")
        if not isinstance(self.name, str):
            raise RuleError(f"must be a string, got {self.name!r}", rule=rid, field="name")
        if not self.name:
            object.__setattr__(self, "name", self.id)
        if self.kind not in RULE_KINDS:
            raise RuleError(
                f"unknown kind {self.kind!r}; one of {list(RULE_KINDS)}", rule=rid, field="kind"
            )
        if not isinstance(self.description, str):
            raise RuleError("must be a string", rule=rid, field="description")
        if self.reason is not None:
            _check_template(self, self.reason)
        seen = set()
        for i, spec in enumerate(self.then):
            key = (spec.action, spec.target)
            if key in seen:
                raise RuleError(
                    f"repeats the action {spec.action!r} on {spec.target!r}",
                    rule=rid,
                    field=f"then[{i}]",
                )
            seen.add(key)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, position: int | None = None) -> Rule:
        """Build a rule from its dict/YAML form, with errors naming the rule and field.

        Examples
        --------
        >>> Rule.from_dict({"id": "r1", "when": [{"feature": "rating_latest", "op": ">=",
        ...                 "value": "Exceeds"}], "then": [{"action": "notify",
        ...                 "target": "talent-team"}]}).when[0].value
        'Exceeds'
        """
        where = f"rules[{position}]" if position is not None else None
        if not isinstance(data, Mapping):
            raise RuleError(f"a rule must be a mapping, got {type(data).__name__}", rule=where)
        rid = data.get("id")
        label = rid if isinstance(rid, str) and rid else where
        unknown = [k for k in data if k not in _RULE_KEYS]
        if unknown:
            raise RuleError(
                f"unknown field(s) {unknown}; a rule has {list(_RULE_KEYS)}",
                rule=label,
                field=str(unknown[0]),
            )
        for required in ("id", "when", "then"):
            if required not in data:
                raise RuleError(f"the field {required!r} is required", rule=label, field=required)
        return cls(
            id=data["id"],
            when=data["when"],
            then=data["then"],
            name=data.get("name") or "",
            kind=data.get("kind", "other"),
            description=data.get("description") or "",
            reason=data.get("reason"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The dict/YAML form of the rule.

        Examples
        --------
        >>> rule = Rule("r", when=[{"score": "flight_risk", "op": ">", "value": 0.4}],
        ...             then=[{"action": "alert", "target": "manager"}])
        >>> rule.to_dict()["when"]
        [{'score': 'flight_risk', 'op': '>', 'value': 0.4}]
        """
        out: dict[str, Any] = {"id": self.id}
        if self.name != self.id:
            out["name"] = self.name
        out["kind"] = self.kind
        if self.description:
            out["description"] = self.description
        out["when"] = [c.to_dict() for c in self.when]
        out["then"] = [a.to_dict() for a in self.then]
        if self.reason is not None:
            out["reason"] = self.reason
        return out


def _coerce_list(values: Any, name: str, rid: str, make) -> tuple:
    if isinstance(values, Mapping | str) or not isinstance(values, Iterable):
        raise RuleError(f"must be a list, got {type(values).__name__}", rule=rid, field=name)
    return tuple(make(v, rid, f"{name}[{i}]") for i, v in enumerate(values))


def _condition(value: Any, rid: str, where: str) -> Condition:
    if isinstance(value, Condition):
        data = value.to_dict()
    elif isinstance(value, Mapping):
        data = dict(value)
    else:
        raise RuleError(
            f"a condition must be a mapping or a Condition, got {type(value).__name__}",
            rule=rid,
            field=where,
        )
    unknown = [k for k in data if k not in _CONDITION_KEYS]
    if unknown:
        hints = {k: difflib.get_close_matches(str(k), _CONDITION_KEYS, n=1) for k in unknown}
        raise RuleError(
            f"unknown key(s) {unknown} (close: {hints}); a condition has one of "
            f"{list(SOURCES)}, then 'op' and 'value'",
            rule=rid,
            field=where,
        )
    sources = [s for s in SOURCES if s in data]
    if len(sources) != 1:
        raise RuleError(
            f"a condition names exactly one of {list(SOURCES)}; got {sources or 'none'}",
            rule=rid,
            field=where,
        )
    source = sources[0]
    name = data[source]
    if not isinstance(name, str) or not name.strip():
        raise RuleError(f"{source} must be a non-empty string, got {name!r}", rule=rid, field=where)
    op = data.get("op")
    if op not in OPERATORS:
        raise RuleError(
            f"unknown operator {op!r}; one of {list(OPERATORS)}", rule=rid, field=f"{where}.op"
        )
    if op in ("missing", "present"):
        if data.get("value") is not None:
            raise RuleError(f"operator {op!r} takes no value", rule=rid, field=f"{where}.value")
        return Condition(source, name, op, None)
    if "value" not in data or data["value"] is None:
        raise RuleError(f"operator {op!r} needs a value", rule=rid, field=f"{where}.value")
    val = data["value"]
    if op in ("in", "not in"):
        if isinstance(val, str | bytes) or not isinstance(val, Iterable):
            raise RuleError(
                f"operator {op!r} needs a list of values, got {val!r}",
                rule=rid,
                field=f"{where}.value",
            )
        val = tuple(val)
        if not val:
            raise RuleError("the list of values is empty", rule=rid, field=f"{where}.value")
        for v in val:
            _scalar(v, rid, f"{where}.value")
    else:
        _scalar(val, rid, f"{where}.value")
        if op in ("<", "<=", ">", ">=") and isinstance(val, bool):
            raise RuleError(
                f"operator {op!r} needs a number or a rating label, got {val!r}",
                rule=rid,
                field=f"{where}.value",
            )
    return Condition(source, name, op, val)


def _scalar(v: Any, rid: str, where: str) -> None:
    if isinstance(v, bool | str):
        return
    if isinstance(v, int | float | np.integer | np.floating):
        if not math.isfinite(float(v)):
            raise RuleError(f"the value must be finite, got {v!r}", rule=rid, field=where)
        return
    raise RuleError(
        f"the value must be a number, a string or a boolean, got {type(v).__name__} {v!r}",
        rule=rid,
        field=where,
    )


def _action(value: Any, rid: str, where: str) -> ActionSpec:
    if isinstance(value, ActionSpec):
        data = value.to_dict()
    elif isinstance(value, Mapping):
        data = dict(value)
    else:
        raise RuleError(
            f"an action must be a mapping or an ActionSpec, got {type(value).__name__}",
            rule=rid,
            field=where,
        )
    unknown = [k for k in data if k not in _ACTION_KEYS]
    if unknown:
        raise RuleError(
            f"unknown key(s) {unknown}; an action has {list(_ACTION_KEYS)}", rule=rid, field=where
        )
    action = data.get("action")
    if action not in ACTION_TYPES:
        raise RuleError(
            f"unknown action {action!r}; one of {list(ACTION_TYPES)}",
            rule=rid,
            field=f"{where}.action",
        )
    target = data.get("target")
    if not isinstance(target, str) or not target.strip():
        raise RuleError(
            f"target must be a non-empty string, got {target!r}", rule=rid, field=f"{where}.target"
        )
    if action in ("enroll", "recommend") and not _IRI.match(target):
        raise RuleError(
            f"the target of {action!r} must be the activity's IRI (e.g. "
            f"'https://lms.example.com/course/pm-101'), got {target!r}",
            rule=rid,
            field=f"{where}.target",
        )
    title = data.get("title")
    if title is not None and (not isinstance(title, str) or not title.strip()):
        raise RuleError(f"title must be a non-empty string, got {title!r}", rule=rid, field=where)
    days = {}
    for name in ("due_days", "open_days"):
        v = data.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1):
            raise RuleError(
                f"{name} must be a whole number of days >= 1, got {v!r}",
                rule=rid,
                field=f"{where}.{name}",
            )
        days[name] = None if v is None else int(v)
    return ActionSpec(action, target, title, days["due_days"], days["open_days"])


def _template_names(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def _check_template(rule: Rule, template: str) -> None:
    if not isinstance(template, str):
        raise RuleError("reason must be a string", rule=rule.id, field="reason")
    allowed = {"employee_id", "as_of", "title", "target", "due_date"} | {
        _placeholder(c.column) for c in rule.when
    }
    try:
        names = _template_names(template)
    except ValueError as exc:
        raise RuleError(f"malformed template: {exc}", rule=rule.id, field="reason") from exc
    bad = [n for n in names if n.split(".")[0].split("[")[0] not in allowed or not n]
    if bad:
        raise RuleError(
            f"unknown placeholder(s) {bad}; available: {sorted(allowed)}",
            rule=rule.id,
            field="reason",
        )


def _placeholder(column: str) -> str:
    """A format-safe name for a column (``competency[Leadership]`` -> ``competency_Leadership``)."""
    return re.sub(r"\W+", "_", column).strip("_")


# ----------------------------------------------------------------------- point in time


def competency_snapshot(
    spine: pd.DataFrame,
    competency_ratings: pd.DataFrame,
    *,
    competencies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Each spine row's latest rating of each competency, known strictly before ``as_of``.

    A rating is known from its ``submitted_at``; the latest one submitted before ``as_of``
    counts (missing when there is none), exactly as the review features see reviews.

    Parameters
    ----------
    spine : pandas.DataFrame
        ``employee_id`` and ``as_of`` (timezone-aware).
    competency_ratings : pandas.DataFrame
        The ``competency_ratings`` contract table (``employee_id``, ``competency``,
        ``rating``, ``submitted_at``, ``cycle_id``).
    competencies : sequence of str, optional
        The competencies wanted (default: every competency in the table).

    Returns
    -------
    pandas.DataFrame
        Index aligned with ``spine``; one float column per competency, named by
        :func:`competency_column`.

    Examples
    --------
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"employee_id": ["e1", "e1"], "cycle_id": ["H1", "H2"],
    ...     "competency": ["Leadership", "Leadership"], "rating": [2.0, 4.0],
    ...     "submitted_at": pd.to_datetime(["2024-07-10", "2025-01-20"], utc=True)})
    >>> spine = pd.DataFrame({"employee_id": ["e1", "e1"],
    ...                       "as_of": pd.to_datetime(["2025-01-01", "2025-02-01"], utc=True)})
    >>> competency_snapshot(spine, ratings)["competency[Leadership]"].tolist()
    [2.0, 4.0]
    """
    _require(spine, ("employee_id", "as_of"), "spine")
    _require(
        competency_ratings,
        ("employee_id", "competency", "rating", "submitted_at"),
        "competency_ratings",
    )
    as_of = _utc(spine["as_of"], "spine", "as_of")
    cr = competency_ratings
    submitted = _utc(cr["submitted_at"], "competency_ratings", "submitted_at")
    wanted = (
        list(dict.fromkeys(competencies))
        if competencies is not None
        else sorted(cr["competency"].dropna().astype(str).unique())
    )
    n = len(spine)
    out = pd.DataFrame(index=spine.index)
    left = pd.DataFrame(
        {
            "employee_id": spine["employee_id"].astype("string").to_numpy(),
            "as_of": as_of.to_numpy(),
            "_row": np.arange(n),
        }
    )
    left = left[left["employee_id"].notna() & left["as_of"].notna()].sort_values(
        "as_of", kind="stable"
    )
    right_all = pd.DataFrame(
        {
            "employee_id": cr["employee_id"].astype("string").to_numpy(),
            "competency": cr["competency"].astype("string").to_numpy(),
            "submitted_at": submitted.to_numpy(),
            "cycle_id": cr["cycle_id"].astype("string").to_numpy()
            if "cycle_id" in cr.columns
            else pd.array([""] * len(cr), dtype="string"),
            "rating": pd.to_numeric(cr["rating"], errors="coerce").to_numpy(float),
        }
    )
    right_all = right_all[
        right_all["employee_id"].notna()
        & right_all["submitted_at"].notna()
        & ~np.isnan(right_all["rating"].to_numpy(float))
    ]
    for comp in wanted:
        values = np.full(n, np.nan)
        right = right_all[right_all["competency"] == comp]
        if len(right) and len(left):
            right = right.sort_values(["submitted_at", "cycle_id"], kind="stable")[
                ["employee_id", "submitted_at", "rating"]
            ]
            merged = pd.merge_asof(
                left,
                right,
                left_on="as_of",
                right_on="submitted_at",
                by="employee_id",
                allow_exact_matches=False,
                direction="backward",
            )
            values[merged["_row"].to_numpy()] = merged["rating"].to_numpy(float)
        out[competency_column(comp)] = values
    return out


def _require(table: Any, columns: Sequence[str], name: str) -> None:
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table {name!r} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(
            f"table {name!r} is missing column(s) {missing}; it has {list(table.columns)}"
        )


def _utc(values: pd.Series, table: str, column: str) -> pd.Series:
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"table {table!r}: column {column!r} must hold timezone-aware timestamps, "
            f"got dtype {values.dtype}"
        )
    return values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")


# ------------------------------------------------------------------------------- rules


class RuleSet:
    """An ordered, validated set of trigger rules.

    Every condition is checked when the set is built: known source, operator and typed value;
    a ``feature`` must be in the feature catalog (with a close-match hint otherwise), a
    numeric feature takes a number (or a rating label on 1-5 ratings), a text feature takes
    text. ``score`` and ``column`` names are checked against the table at evaluation.

    Parameters
    ----------
    rules : iterable of Rule or dict
        The rules, in order (their order is the order of the actions).
    feature_catalog : pandas.DataFrame, optional
        The catalog to check feature names against (default:
        :func:`talentml.features.catalog`).
    rating_scale : mapping, optional
        Rating labels usable as thresholds (default :data:`RATING_SCALE`).

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.loop import RuleSet
    >>> rules = RuleSet.from_yaml('''
    ... rules:
    ...   - id: emerging-leaders
    ...     kind: acceleration
    ...     when:
    ...       - {feature: rating_latest, op: ">=", value: Exceeds}
    ...       - {feature: tenure_days, op: ">", value: 730}
    ...     then:
    ...       - {action: notify, target: talent-team}
    ... ''')
    >>> X = pd.DataFrame({"employee_id": ["e1", "e2"],
    ...                   "as_of": pd.to_datetime(["2025-03-01"] * 2, utc=True),
    ...                   "rating_latest": [4.0, 5.0], "tenure_days": [900.0, 100.0]})
    >>> actions = rules.evaluate(X)
    >>> actions[["rule_id", "employee_id", "action", "recipient"]]
                rule_id employee_id  action    recipient
    0  emerging-leaders          e1  notify  talent-team
    >>> print(actions.loc[0, "reason"])
    emerging-leaders: rating 4 (Exceeds), at or above 4 (Exceeds); 900 days with the organization, above 730 -> notify talent-team
    """

    def __init__(
        self,
        rules: Iterable[Rule | Mapping[str, Any]],
        *,
        feature_catalog: pd.DataFrame | None = None,
        rating_scale: Mapping[str, float] | None = None,
    ) -> None:
        if isinstance(rules, Mapping | str | Rule):
            raise TypeError("rules must be a list of Rule or dict, not a single one")
        built = []
        for i, r in enumerate(rules):
            built.append(r if isinstance(r, Rule) else Rule.from_dict(r, position=i))
        ids = [r.id for r in built]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise RuleError(f"rule ids must be unique; repeated: {dup}", rule=dup[0], field="id")
        self.rating_scale = MappingProxyType(dict(rating_scale or RATING_SCALE))
        if feature_catalog is None:
            from ..features import catalog

            feature_catalog = catalog()
        self._catalog = feature_catalog.set_index("name")
        self.rules: tuple[Rule, ...] = tuple(built)
        for rule in self.rules:
            self._check_rule(rule)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_yaml(
        cls,
        source: str | Path | Any,
        *,
        feature_catalog: pd.DataFrame | None = None,
        rating_scale: Mapping[str, float] | None = None,
    ) -> RuleSet:
        """Load and validate rules from YAML text, a ``.yml``/``.yaml`` file or a file object.

        The document is ``{"version": 1, "rules": [...]}`` or just the list of rules.

        Examples
        --------
        >>> from talentml.loop import RuleSet
        >>> text = '''
        ... - id: pm-remediation
        ...   when: [{competency: Project Management, op: "<", value: 3}]
        ...   then: [{action: enroll, target: "https://lms.example/c/pm-1", due_days: 30}]
        ... '''
        >>> [r.id for r in RuleSet.from_yaml(text)]
        ['pm-remediation']
        >>> RuleSet.from_yaml(text.replace('"<"', '"<<"'))
        Traceback (most recent call last):
        ...
        talentml.loop._rules.RuleError: rule 'pm-remediation', when[0].op: unknown operator '<<'; one of ['<', '<=', '>', '>=', '==', '!=', 'in', 'not in', 'missing', 'present']
        """
        import yaml

        if isinstance(source, Path) or (
            isinstance(source, str)
            and "\n" not in source
            and source.strip().lower().endswith((".yml", ".yaml"))
        ):
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"no rules file at {path}")
            text = path.read_text(encoding="utf-8")
        elif isinstance(source, str):
            text = source
        elif hasattr(source, "read"):
            text = source.read()
        else:
            raise TypeError(
                f"source must be YAML text, a path or a file object, got {type(source).__name__}"
            )
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RuleError(f"the rules are not valid YAML: {exc}") from exc
        return cls.from_dict(data, feature_catalog=feature_catalog, rating_scale=rating_scale)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        feature_catalog: pd.DataFrame | None = None,
        rating_scale: Mapping[str, float] | None = None,
    ) -> RuleSet:
        """Build from ``{"version": 1, "rules": [...]}`` or a list of rule dicts.

        Examples
        --------
        >>> from talentml.loop import RuleSet
        >>> RuleSet.from_dict({"version": 2, "rules": []})
        Traceback (most recent call last):
        ...
        talentml.loop._rules.RuleError: version: unsupported rules version 2; this is version 1
        """
        if isinstance(data, Mapping):
            unknown = [k for k in data if k not in ("version", "rules")]
            if unknown:
                raise RuleError(
                    f"unknown top-level key(s) {unknown}; expected 'version' and 'rules'",
                    field=str(unknown[0]),
                )
            version = data.get("version", 1)
            if version != 1:
                raise RuleError(
                    f"unsupported rules version {version!r}; this is version 1", field="version"
                )
            rules = data.get("rules")
        else:
            rules = data
        if rules is None or isinstance(rules, str | Mapping) or not isinstance(rules, Iterable):
            raise RuleError("expected a list of rules under 'rules'", field="rules")
        return cls(list(rules), feature_catalog=feature_catalog, rating_scale=rating_scale)

    def to_dict(self) -> dict[str, Any]:
        """The rules as ``{"version": 1, "rules": [...]}`` (round-trips through ``from_dict``).

        Examples
        --------
        >>> from talentml.loop import RuleSet
        >>> rules = RuleSet([{"id": "r", "when": [{"feature": "rating_latest", "op": "<",
        ...                   "value": 2}], "then": [{"action": "notify", "target": "hrbp"}]}])
        >>> RuleSet.from_dict(rules.to_dict()).to_dict() == rules.to_dict()
        True
        """
        return {"version": 1, "rules": [r.to_dict() for r in self.rules]}

    def to_yaml(self) -> str:
        """The rules as YAML text (round-trips through :meth:`from_yaml`).

        Examples
        --------
        >>> from talentml.loop import RuleSet
        >>> rules = RuleSet([{"id": "r", "when": [{"feature": "rating_latest", "op": "<",
        ...                   "value": 2}], "then": [{"action": "notify", "target": "hrbp"}]}])
        >>> print(rules.to_yaml().splitlines()[0])
        version: 1
        """
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"no rule {rule_id!r}; rules: {[r.id for r in self.rules]}")

    def __repr__(self) -> str:
        return f"RuleSet({[r.id for r in self.rules]})"

    # -------------------------------------------------------------- validation
    def _check_rule(self, rule: Rule) -> None:
        for i, cond in enumerate(rule.when):
            where = f"when[{i}]"
            if cond.source == "feature":
                if cond.name not in self._catalog.index:
                    hints = difflib.get_close_matches(cond.name, list(self._catalog.index), n=3)
                    raise RuleError(
                        f"unknown feature {cond.name!r}; not in the feature catalog "
                        f"(close matches: {hints}); use 'column' or 'score' for other columns",
                        rule=rule.id,
                        field=where,
                    )
                dtype = str(self._catalog.at[cond.name, "dtype"])
                unit = str(self._catalog.at[cond.name, "unit"])
                self._typed(cond, rule, where, numeric=dtype != "string", rating="rating" in unit)
            elif cond.source == "competency":
                self._typed(cond, rule, where, numeric=True, rating=True)
            elif cond.source == "score":
                self._typed(cond, rule, where, numeric=True, rating=False)

    def _typed(
        self, cond: Condition, rule: Rule, where: str, *, numeric: bool, rating: bool
    ) -> None:
        if cond.op in ("missing", "present"):
            return
        values = cond.value if isinstance(cond.value, tuple) else (cond.value,)
        for v in values:
            if numeric:
                if isinstance(v, str):
                    if not rating:
                        raise RuleError(
                            f"{cond.name!r} is numeric; the value must be a number, got {v!r}",
                            rule=rule.id,
                            field=f"{where}.value",
                        )
                    if v not in self.rating_scale:
                        raise RuleError(
                            f"unknown rating label {v!r}; labels: {list(self.rating_scale)}",
                            rule=rule.id,
                            field=f"{where}.value",
                        )
                elif isinstance(v, bool):
                    raise RuleError(
                        f"{cond.name!r} is numeric; the value must be a number, got {v!r}",
                        rule=rule.id,
                        field=f"{where}.value",
                    )
            elif not isinstance(v, str):
                raise RuleError(
                    f"{cond.name!r} is a category; the value must be text, got {v!r}",
                    rule=rule.id,
                    field=f"{where}.value",
                )
            elif cond.op in ("<", "<=", ">", ">="):
                raise RuleError(
                    f"{cond.name!r} is a category; use ==, !=, in or not in, not {cond.op!r}",
                    rule=rule.id,
                    field=f"{where}.op",
                )

    @property
    def columns(self) -> list[str]:
        """Every column the rules read, in order of first use."""
        return list(dict.fromkeys(c.column for r in self.rules for c in r.when))

    @property
    def competencies(self) -> list[str]:
        """Competencies the rules read."""
        return list(
            dict.fromkeys(c.name for r in self.rules for c in r.when if c.source == "competency")
        )

    def _threshold(self, value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(self._threshold(v) for v in value)
        if isinstance(value, str) and value in self.rating_scale:
            return float(self.rating_scale[value])
        return value

    # --------------------------------------------------------------- evaluation
    def _table(
        self,
        X: pd.DataFrame,
        competency_ratings: pd.DataFrame | None,
        scores: Any,
    ) -> pd.DataFrame:
        _require(X, ("employee_id", "as_of"), "X")
        _utc(X["as_of"], "X", "as_of")
        if X.index.has_duplicates:
            raise ValueError("X has a duplicated index; reset it (X.reset_index(drop=True))")
        data = X
        extra: dict[str, Any] = {}
        if scores is not None:
            for name, col in _scores(scores, X).items():
                extra[name] = col
        comps = [
            c
            for c in self.competencies
            if competency_column(c) not in X.columns and competency_column(c) not in extra
        ]
        if comps:
            if competency_ratings is None:
                rule = next(
                    r
                    for r in self.rules
                    for c in r.when
                    if c.source == "competency" and c.name in comps
                )
                raise RuleError(
                    f"reads competency ratings ({comps}); pass competency_ratings=",
                    rule=rule.id,
                    field="when",
                )
            snap = competency_snapshot(X, competency_ratings, competencies=comps)
            for c in snap.columns:
                extra[c] = snap[c]
        clash = [k for k in extra if k in X.columns]
        if clash:
            raise ValueError(f"scores repeat column(s) of X: {clash}; rename them")
        if extra:
            data = pd.concat([X, pd.DataFrame(extra, index=X.index)], axis=1)
        for rule in self.rules:
            for i, cond in enumerate(rule.when):
                col = cond.column
                if col not in data.columns:
                    hints = difflib.get_close_matches(col, [str(c) for c in data.columns], n=3)
                    tip = "; pass it in scores=" if cond.source == "score" else ""
                    raise RuleError(
                        f"{cond.source} {col!r} is not in the evaluated table (close "
                        f"matches: {hints}){tip}",
                        rule=rule.id,
                        field=f"when[{i}]",
                    )
                self._check_dtype(rule, i, cond, data[col])
        return data

    def _check_dtype(self, rule: Rule, i: int, cond: Condition, values: pd.Series) -> None:
        if cond.op in ("missing", "present"):
            return
        numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        )
        thresholds = self._threshold(cond.value)
        thresholds = thresholds if isinstance(thresholds, tuple) else (thresholds,)
        for t in thresholds:
            if numeric and isinstance(t, str):
                raise RuleError(
                    f"column {cond.column!r} is numeric ({values.dtype}); the value {t!r} is text",
                    rule=rule.id,
                    field=f"when[{i}].value",
                )
            if (
                not numeric
                and not pd.api.types.is_bool_dtype(values.dtype)
                and not isinstance(t, str)
            ):
                raise RuleError(
                    f"column {cond.column!r} holds {values.dtype} values; the value {t!r} is "
                    "not text",
                    rule=rule.id,
                    field=f"when[{i}].value",
                )
        if not numeric and cond.op in ("<", "<=", ">", ">="):
            raise RuleError(
                f"column {cond.column!r} is not numeric ({values.dtype}); {cond.op!r} needs numbers",
                rule=rule.id,
                field=f"when[{i}].op",
            )

    def _mask(self, cond: Condition, values: pd.Series) -> np.ndarray:
        op = cond.op
        present = values.notna().to_numpy(bool)
        if op == "missing":
            return ~present
        if op == "present":
            return present
        t = self._threshold(cond.value)
        if op in ("in", "not in"):
            hit = values.isin(list(t)).to_numpy(bool) & present
            return hit if op == "in" else present & ~hit
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
            values.dtype
        ):
            v = values.to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                out = {
                    "<": v < t,
                    "<=": v <= t,
                    ">": v > t,
                    ">=": v >= t,
                    "==": v == t,
                    "!=": v != t,
                }[op]
            return out & present
        eq = values.astype(object).eq(t).to_numpy(bool) & present
        return eq if op == "==" else present & ~eq

    def match(
        self,
        X: pd.DataFrame,
        *,
        competency_ratings: pd.DataFrame | None = None,
        scores: Any = None,
    ) -> pd.DataFrame:
        """Which rules hold on which rows (before idempotency).

        Parameters
        ----------
        X : pandas.DataFrame
            Spine rows with features (``talentml.features.build`` output): ``employee_id``,
            ``as_of`` and the columns the rules read.
        competency_ratings : pandas.DataFrame, optional
            Needed when a rule reads a competency not already a column of ``X``.
        scores : pandas.DataFrame, Series or dict, optional
            Model scores: columns aligned with ``X`` (same index), or a table with
            ``employee_id`` and ``as_of`` merged on them.

        Returns
        -------
        pandas.DataFrame
            Boolean, index aligned with ``X``, one column per rule id.

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import RuleSet
        >>> rules = RuleSet([{"id": "r", "when": [{"score": "flight_risk", "op": ">",
        ...                   "value": 0.5}], "then": [{"action": "alert", "target": "manager"}]}])
        >>> X = pd.DataFrame({"employee_id": ["a", "b"],
        ...                   "as_of": pd.to_datetime(["2025-01-01"] * 2, utc=True)})
        >>> rules.match(X, scores={"flight_risk": [0.7, 0.2]})["r"].tolist()
        [True, False]
        """
        data = self._table(X, competency_ratings, scores)
        return self._match(data)

    def _match(self, data: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for rule in self.rules:
            m = np.ones(len(data), dtype=bool)
            for cond in rule.when:
                m &= self._mask(cond, data[cond.column])
            out[rule.id] = m
        return pd.DataFrame(out, index=data.index, columns=[r.id for r in self.rules])

    def evaluate(
        self,
        X: pd.DataFrame,
        *,
        competency_ratings: pd.DataFrame | None = None,
        scores: Any = None,
        explanations: pd.DataFrame | None = None,
        open_actions: pd.DataFrame | None = None,
        store: Any = None,
        catalog: pd.DataFrame | None = None,
        max_reasons: int = 3,
    ) -> pd.DataFrame:
        """Evaluate every rule on every spine row and return the new actions.

        Point in time: a rule sees only the row of ``X`` at its ``as_of`` (features are built
        from facts known before ``as_of``; competency ratings are the latest submitted before
        it; scores are given per row). Idempotent: an action is not opened when an action for
        the same rule, employee, action and target is open over the same period, whether that
        action is in ``open_actions``, in ``store`` or opened earlier in the same call (rows
        are processed in ``as_of`` order). Re-running on the same rows gives the same
        ``action_key`` values.

        Parameters
        ----------
        X : pandas.DataFrame
            Spine rows with features: ``employee_id``, ``as_of`` and the rules' columns.
        competency_ratings : pandas.DataFrame, optional
            The ``competency_ratings`` table, for rules on competencies.
        scores : pandas.DataFrame, Series or dict, optional
            Model scores (e.g. ``{"flight_risk": model.predict_proba(X)[:, 1]}``), aligned
            with ``X`` or keyed by ``employee_id`` and ``as_of``.
        explanations : pandas.DataFrame, optional
            Reason codes of the model behind the scores (e.g.
            ``talentml.explain``'s ``top_reasons``): ``employee_id``, ``text``, optionally
            ``as_of``, ``rank`` and ``direction``. Rules that read a score append the
            employee's top ``max_reasons`` reasons (those raising the score when
            ``direction`` is given; never those flagged ``sensitive_proxy``) to the reason
            text and to ``explanation``.
        open_actions : pandas.DataFrame, optional
            Actions already opened (this function's output, or :meth:`ActionStore.actions`);
            ``status``/``closed_at`` are honoured when present.
        store : ActionStore, optional
            Read open actions from it and record the new ones in it.
        catalog : pandas.DataFrame, optional
            The learning ``catalog``: titles of enroll/recommend targets that have none.
        max_reasons : int, default 3
            Model reasons quoted per action.

        Returns
        -------
        pandas.DataFrame
            One row per new action, columns :data:`ACTION_COLUMNS`: ``action_key``, the rule
            (``rule_id``, ``rule_name``, ``kind``), the action (``action``, ``target``,
            ``title``, ``recipient``), ``employee_id``, ``as_of``, ``due_date``,
            ``open_until``, ``status`` ("open"), ``facts`` (JSON of the values that fired
            it), ``reason``, ``explanation`` and ``source`` ("rule").

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import RuleSet
        >>> rules = RuleSet([{"id": "r", "when": [{"feature": "mandatory_compliant",
        ...                   "op": "==", "value": 0}], "then": [{"action": "notify",
        ...                   "target": "compliance-team", "open_days": 60}]}])
        >>> X = pd.DataFrame({"employee_id": ["a", "a"], "mandatory_compliant": [0, 0],
        ...                   "as_of": pd.to_datetime(["2025-01-01", "2025-02-01"], utc=True)})
        >>> first = rules.evaluate(X)  # the second row is inside the open period
        >>> first[["employee_id", "as_of", "open_until"]]
          employee_id                     as_of                open_until
        0           a 2025-01-01 00:00:00+00:00 2025-03-02 00:00:00+00:00
        >>> rules.evaluate(X, open_actions=first).empty  # a re-run opens nothing new
        True
        """
        if isinstance(max_reasons, bool) or not isinstance(max_reasons, int) or max_reasons < 0:
            raise ValueError(f"max_reasons must be an int >= 0, got {max_reasons!r}")
        data = self._table(X, competency_ratings, scores)
        matched = self._match(data)
        existing = _existing(open_actions, store)
        titles = _titles(catalog)
        blocks = []
        for order, rule in enumerate(self.rules):
            rows = np.flatnonzero(matched[rule.id].to_numpy(bool))
            if len(rows) == 0:
                continue
            for a_order, spec in enumerate(rule.then):
                blocks.append((order, a_order, rule, spec, rows))
        candidates = self._candidates(data, blocks, titles)
        fresh = _dedupe(candidates, existing)
        n_fired = len(candidates)
        actions = self._render(fresh, data, explanations, max_reasons)
        logger.info(
            "rules: %d firing(s) on %d row(s); %d new action(s), %d already open",
            n_fired,
            len(X),
            len(actions),
            n_fired - len(actions),
        )
        if store is not None and len(actions):
            store.record(actions)
        return actions

    def _candidates(self, data, blocks, titles) -> pd.DataFrame:
        cols = ["row_pos", "rule_pos", "action_pos", "rule_id", "action", "target"]
        cols += ["employee_id", "as_of", "open_until", "due_date", "title"]
        parts = []
        for order, a_order, rule, spec, rows in blocks:
            as_of = (
                data["as_of"].iloc[rows].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
            ).reset_index(drop=True)
            if spec.due_days is not None:
                due = as_of + pd.Timedelta(days=spec.due_days)
            else:
                due = pd.Series(pd.NaT, index=as_of.index, dtype="datetime64[ns, UTC]")
            parts.append(
                pd.DataFrame(
                    {
                        "row_pos": rows,
                        "rule_pos": order,
                        "action_pos": a_order,
                        "rule_id": rule.id,
                        "action": spec.action,
                        "target": spec.target,
                        "employee_id": data["employee_id"].iloc[rows].astype(str).to_numpy(),
                        "as_of": as_of,
                        "open_until": as_of + pd.Timedelta(days=spec.open_period),
                        "due_date": due,
                        "title": spec.title or titles.get(spec.target) or spec.target,
                    },
                    columns=cols,
                )
            )
        if not parts:
            empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
            for c in ("as_of", "open_until", "due_date"):
                empty[c] = pd.Series([], dtype="datetime64[ns, UTC]")
            return empty
        out = pd.concat(parts, ignore_index=True)
        return out.sort_values(
            ["as_of", "rule_pos", "employee_id", "action_pos"], kind="stable"
        ).reset_index(drop=True)

    def _render(
        self, fresh: pd.DataFrame, data: pd.DataFrame, explanations, max_reasons: int
    ) -> pd.DataFrame:
        rules = {r.id: r for r in self.rules}
        reasons_by = _explanation_lookup(explanations, max_reasons)
        values = {c: data[c].to_numpy(dtype=object) for c in self.columns}
        rows: dict[str, list] = {c: [] for c in ("key", "facts", "reason", "expl", "name")}
        rows.update(kind=[], recipient=[])
        for rec in fresh.itertuples(index=False):
            rule = rules[rec.rule_id]
            spec = rule.then[int(rec.action_pos)]
            facts = {c.column: _plain(values[c.column][int(rec.row_pos)]) for c in rule.when}
            rows["key"].append(
                action_key(rule.id, rec.employee_id, rec.action, rec.target, rec.as_of)
            )
            rows["facts"].append(json.dumps(facts, sort_keys=True, ensure_ascii=False))
            explanation = None
            if reasons_by is not None and any(c.source == "score" for c in rule.when):
                explanation = reasons_by(rec.employee_id, rec.as_of)
            text = self._reason(rule, spec, rec, facts)
            if explanation:
                text = f"{text}. Model reasons: {explanation}"
            rows["reason"].append(text)
            rows["expl"].append(explanation)
            rows["name"].append(rule.name)
            rows["kind"].append(rule.kind)
            rows["recipient"].append(spec.recipient)
        out = pd.DataFrame(
            {
                "action_key": rows["key"],
                "rule_id": fresh["rule_id"].to_numpy(object),
                "rule_name": rows["name"],
                "kind": rows["kind"],
                "action": fresh["action"].to_numpy(object),
                "target": fresh["target"].to_numpy(object),
                "title": fresh["title"].to_numpy(object),
                "recipient": rows["recipient"],
                "employee_id": fresh["employee_id"].to_numpy(object),
                "as_of": fresh["as_of"],
                "due_date": fresh["due_date"],
                "open_until": fresh["open_until"],
                "status": "open",
                "facts": rows["facts"],
                "reason": rows["reason"],
                "explanation": rows["expl"],
                "source": "rule",
            },
            columns=list(ACTION_COLUMNS),
        )
        return normalize_actions(out)

    def _reason(self, rule: Rule, spec: ActionSpec, rec: Any, facts: dict[str, Any]) -> str:
        due = None if pd.isna(rec.due_date) else pd.Timestamp(rec.due_date)
        if rule.reason is not None:
            values = {_placeholder(k): ("missing" if v is None else v) for k, v in facts.items()}
            values.update(
                employee_id=rec.employee_id,
                as_of=pd.Timestamp(rec.as_of).date().isoformat(),
                title=rec.title,
                target=rec.target,
                due_date=due.date().isoformat() if due is not None else "none",
            )
            return rule.reason.format(**values)
        parts = [self._describe(c, facts[c.column]) for c in rule.when]
        if spec.action == "enroll":
            what = f"enroll in {rec.title}"
        elif spec.action == "recommend":
            what = f"recommend {rec.title}"
        else:
            what = f"{spec.action} {spec.recipient}"
        if due is not None:
            what += f", due in {spec.due_days} days ({due.date().isoformat()})"
        return f"{rule.name}: {'; '.join(parts)} -> {what}"

    def _describe(self, cond: Condition, value: Any) -> str:
        t = self._threshold(cond.value)
        if cond.source == "competency":
            subject = f"{cond.name} competency rating {self._fmt_rating(value)}"
            spec = "g"
        elif cond.source == "feature" and cond.name in self._catalog.index:
            template = str(self._catalog.at[cond.name, "template"])
            spec = _value_spec(template)
            rating = "rating" in str(self._catalog.at[cond.name, "unit"])
            if value is None:
                subject = f"{cond.name} missing"
            elif rating:
                subject = f"{_short(cond.name)} {self._fmt_rating(value)}"
            else:
                try:
                    subject = template.format(value=value)
                except (ValueError, TypeError):
                    subject = f"{cond.name} {value}"
        else:
            spec = ".3g"
            subject = f"{cond.name} {_fmt(value, spec)}"
        if cond.op in ("missing", "present"):
            return f"{subject} ({cond.op})"
        if isinstance(t, tuple):
            shown = ", ".join(_fmt(v, spec) for v in t)
            return f"{subject}, {_OP_WORDS[cond.op]} [{shown}]"
        shown = (
            self._fmt_rating(t)
            if cond.source == "competency"
            or (
                cond.source == "feature"
                and isinstance(cond.value, str)
                and cond.value in self.rating_scale
            )
            else _fmt(t, spec)
        )
        return f"{subject}, {_OP_WORDS[cond.op]} {shown}"

    def _fmt_rating(self, value: Any) -> str:
        if value is None:
            return "missing"
        label = next((k for k, v in self.rating_scale.items() if v == value), None)
        return f"{value:g} ({label})" if label else f"{value:g}"


def _short(name: str) -> str:
    return {"rating_latest": "rating", "competency_min": "lowest competency rating"}.get(
        name, name.replace("_", " ")
    )


def _value_spec(template: str) -> str:
    for _, f, spec, _ in string.Formatter().parse(template):
        if f == "value":
            return spec or ""
    return ""


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "missing"
    if isinstance(value, str):
        return value
    try:
        return (
            format(value, spec)
            if spec
            else format(value, "g")
            if isinstance(value, float)
            else str(value)
        )
    except (ValueError, TypeError):
        return str(value)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return None if math.isnan(v) else v
    return value


def _scores(scores: Any, X: pd.DataFrame) -> dict[str, pd.Series]:
    if isinstance(scores, pd.Series):
        if scores.name is None:
            raise ValueError("a scores Series needs a name (the column rules refer to)")
        scores = scores.to_frame()
    if isinstance(scores, Mapping):
        out = {}
        for name, values in scores.items():
            if isinstance(values, pd.Series):
                if not values.index.equals(X.index):
                    raise ValueError(f"scores[{name!r}] is not aligned with X (different index)")
                out[str(name)] = values
            else:
                arr = np.asarray(values)
                if arr.ndim != 1 or len(arr) != len(X):
                    raise ValueError(
                        f"scores[{name!r}] must be 1-D with one value per row of X ({len(X)}), "
                        f"got shape {arr.shape}"
                    )
                out[str(name)] = pd.Series(arr, index=X.index)
        return out
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(
            f"scores must be a DataFrame, a named Series or a dict, got {type(scores).__name__}"
        )
    if {"employee_id", "as_of"} <= set(scores.columns):
        keys = scores[["employee_id", "as_of"]]
        if keys.duplicated().any():
            raise ValueError("scores has several rows for the same employee_id and as_of")
        left = pd.DataFrame(
            {
                "employee_id": X["employee_id"].astype(str).to_numpy(),
                "as_of": _utc(X["as_of"], "X", "as_of").to_numpy(),
            }
        )
        right = scores.assign(
            employee_id=scores["employee_id"].astype(str),
            as_of=_utc(scores["as_of"], "scores", "as_of"),
        )
        merged = left.merge(right, on=["employee_id", "as_of"], how="left")
        return {
            str(c): pd.Series(merged[c].to_numpy(), index=X.index)
            for c in scores.columns
            if c not in ("employee_id", "as_of")
        }
    if not scores.index.equals(X.index):
        raise ValueError(
            "scores must share X's index, or have employee_id and as_of columns to merge on"
        )
    return {str(c): scores[c] for c in scores.columns}


def _titles(catalog: pd.DataFrame | None) -> dict[str, str]:
    if catalog is None:
        return {}
    _require(catalog, ("activity_id", "title"), "catalog")
    return dict(zip(catalog["activity_id"].astype(str), catalog["title"].astype(str), strict=True))


def _explanation_lookup(explanations: pd.DataFrame | None, k: int):
    if explanations is None:
        return None
    _require(explanations, ("employee_id", "text"), "explanations")
    ex = explanations.copy()
    if "sensitive_proxy" in ex.columns:
        # a proxy of a protected attribute is never a reason to act on someone
        ex = ex[~ex["sensitive_proxy"].fillna(False).astype(bool)]
    if "direction" in ex.columns:
        up = (
            ex["direction"]
            .astype(str)
            .str.lower()
            .isin(["up", "raises", "increase", "+", "positive"])
        )
        if up.any():
            ex = ex[up]
    sort = [c for c in ("employee_id", "as_of", "rank") if c in ex.columns]
    ex = ex.sort_values(sort, kind="stable")
    has_time = "as_of" in ex.columns
    if has_time:
        ex = ex.assign(as_of=_utc(ex["as_of"], "explanations", "as_of"))
        groups = {
            (str(e), pd.Timestamp(t)): g["text"].astype(str).head(k).tolist()
            for (e, t), g in ex.groupby(["employee_id", "as_of"], sort=False)
        }
    else:
        groups = {
            str(e): g["text"].astype(str).head(k).tolist()
            for e, g in ex.groupby("employee_id", sort=False)
        }

    def lookup(employee_id: str, as_of: Any) -> str | None:
        key = (employee_id, pd.Timestamp(as_of)) if has_time else employee_id
        texts = groups.get(key)
        return "; ".join(texts) if texts else None

    return lookup


def _existing(open_actions: pd.DataFrame | None, store: Any) -> pd.DataFrame:
    frames = []
    if open_actions is not None:
        _require(
            open_actions,
            ("rule_id", "employee_id", "action", "target", "as_of", "open_until"),
            "open_actions",
        )
        frames.append(open_actions)
    if store is not None:
        frames.append(store.actions())
    cols = ["rule_id", "employee_id", "action", "target", "start", "end"]
    if not frames:
        return pd.DataFrame(columns=cols)
    parts = []
    for f in frames:
        if f.empty:
            continue
        start = _utc(f["as_of"], "open_actions", "as_of")
        end = _utc(f["open_until"], "open_actions", "open_until")
        if "closed_at" in f.columns:
            closed = pd.to_datetime(f["closed_at"], utc=True).astype("datetime64[ns, UTC]")
            end = end.where(closed.isna() | (closed > end), closed)
        if "status" in f.columns:
            # a cancelled action never blocks; a done one blocks until it was closed
            keep = f["status"].astype(str) != "cancelled"
        else:
            keep = pd.Series(True, index=f.index)
        parts.append(
            pd.DataFrame(
                {
                    "rule_id": f["rule_id"].astype(str).to_numpy(),
                    "employee_id": f["employee_id"].astype(str).to_numpy(),
                    "action": f["action"].astype(str).to_numpy(),
                    "target": f["target"].astype(str).to_numpy(),
                    "start": start.to_numpy(),
                    "end": end.to_numpy(),
                }
            )[keep.to_numpy(bool)]
        )
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)


def _dedupe(candidates: pd.DataFrame, existing: pd.DataFrame) -> pd.DataFrame:
    """Keep candidates whose open period overlaps no existing or earlier-kept action."""
    if candidates.empty:
        return candidates
    group_cols = ["rule_id", "employee_id", "action", "target"]
    intervals: dict[tuple, list[tuple[int, int]]] = {}
    for rec in existing.itertuples(index=False):
        key = (rec.rule_id, rec.employee_id, rec.action, rec.target)
        intervals.setdefault(key, []).append(
            (pd.Timestamp(rec.start).value, pd.Timestamp(rec.end).value)
        )
    keys = list(zip(*(candidates[c].astype(str).tolist() for c in group_cols), strict=True))
    starts = _ns(candidates["as_of"])
    ends = _ns(candidates["open_until"])
    keep = np.zeros(len(candidates), dtype=bool)
    for i in np.argsort(starts, kind="stable"):
        spans = intervals.setdefault(keys[i], [])
        s, e = int(starts[i]), int(ends[i])
        if any(a < e and s < b for a, b in spans):
            continue
        keep[i] = True
        spans.append((s, e))
    return candidates[keep].reset_index(drop=True)


def _ns(values: pd.Series) -> np.ndarray:
    """Nanoseconds since the epoch (UTC) of timezone-aware timestamps."""
    return values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view("int64")


def normalize_actions(actions: pd.DataFrame) -> pd.DataFrame:
    """An actions table with the canonical columns and dtypes (strings, UTC timestamps)."""
    missing = [c for c in ACTION_COLUMNS if c not in actions.columns]
    if missing:
        raise ValueError(f"table 'actions' is missing column(s) {missing}")
    out = actions.loc[
        :, [*ACTION_COLUMNS, *[c for c in actions.columns if c not in ACTION_COLUMNS]]
    ].copy()
    for col in _STRING_COLUMNS:
        out[col] = out[col].astype("string")
    for col in _TIME_COLUMNS:
        out[col] = pd.to_datetime(out[col], utc=True).astype("datetime64[ns, UTC]")
    return out.reset_index(drop=True)


def empty_actions() -> pd.DataFrame:
    """An actions table with no rows."""
    return normalize_actions(pd.DataFrame({c: [] for c in ACTION_COLUMNS}))
