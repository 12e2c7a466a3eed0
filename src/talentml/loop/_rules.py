"""Trigger rules, the model: conditions, actions, rules, and their dict/YAML form.

A rule is a conjunction of conditions over one spine row (the features at ``as_of``, the
competency ratings known before ``as_of`` and any model scores passed in) and a list of
actions. Everything here is checked when a rule is built, with errors naming the rule and
the field (:class:`RuleError`); :class:`talentml.loop.RuleSet` (``_ruleset.py``) holds an
ordered set of rules and evaluates it (``_evaluate.py``) into the actions table
(``_action_table.py``).
"""

from __future__ import annotations

import difflib
import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import TalentMLError
from ..features import competency_column

__all__ = [
    "ACTION_TYPES",
    "OPERATORS",
    "RATING_SCALE",
    "RULE_KINDS",
    "ActionSpec",
    "Condition",
    "Rule",
    "RuleError",
]

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


# ------------------------------------------------------------------------- documents


def _load_yaml(source: str | Path | Any) -> Any:
    """The parsed YAML document of rules: from text, a ``.yml``/``.yaml`` path or a file."""
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
    return data


def _rule_list(data: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> list:
    """The rules of a ``{"version": 1, "rules": [...]}`` document or of a list of rules."""
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
    return list(rules)


# ------------------------------------------------------------- checks against the catalog


def _check_rule(rule: Rule, catalog: pd.DataFrame, rating_scale: Mapping[str, float]) -> None:
    """Check a rule's features against the feature catalog (indexed by name) and their values."""
    for i, cond in enumerate(rule.when):
        where = f"when[{i}]"
        if cond.source == "feature":
            if cond.name not in catalog.index:
                hints = difflib.get_close_matches(cond.name, list(catalog.index), n=3)
                raise RuleError(
                    f"unknown feature {cond.name!r}; not in the feature catalog "
                    f"(close matches: {hints}); use 'column' or 'score' for other columns",
                    rule=rule.id,
                    field=where,
                )
            dtype = str(catalog.at[cond.name, "dtype"])
            unit = str(catalog.at[cond.name, "unit"])
            _typed(
                cond,
                rule,
                where,
                numeric=dtype != "string",
                rating="rating" in unit,
                rating_scale=rating_scale,
            )
        elif cond.source == "competency":
            _typed(cond, rule, where, numeric=True, rating=True, rating_scale=rating_scale)
        elif cond.source == "score":
            _typed(cond, rule, where, numeric=True, rating=False, rating_scale=rating_scale)


def _typed(
    cond: Condition,
    rule: Rule,
    where: str,
    *,
    numeric: bool,
    rating: bool,
    rating_scale: Mapping[str, float],
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
                if v not in rating_scale:
                    raise RuleError(
                        f"unknown rating label {v!r}; labels: {list(rating_scale)}",
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
