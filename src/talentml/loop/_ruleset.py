"""An ordered, validated set of trigger rules: build it, read it, evaluate it.

:class:`RuleSet` checks every rule against the feature catalog when it is built (the rule
model and its dict/YAML form are in ``_rules.py``) and evaluates point in time over a spine
into the actions table (the steps are in ``_evaluate.py``); an action already open for the
same rule, employee, action and target is never opened twice (see
:func:`talentml.loop.action_key`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .._validation import renamed_parameters
from ._action_table import _dedupe, _existing
from ._evaluate import _candidates, _match, _render, _table, _titles
from ._rules import RATING_SCALE, Rule, RuleError, _check_rule, _load_yaml, _rule_list

__all__ = ["RuleSet"]

logger = logging.getLogger(__name__)


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
            _check_rule(rule, self._catalog, self.rating_scale)

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
        return cls.from_dict(
            _load_yaml(source), feature_catalog=feature_catalog, rating_scale=rating_scale
        )

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
        return cls(_rule_list(data), feature_catalog=feature_catalog, rating_scale=rating_scale)

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

    # ------------------------------------------------------------------ reading

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

    # --------------------------------------------------------------- evaluation
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
        data = _table(self, X, competency_ratings, scores)
        return _match(self, data)

    @renamed_parameters(catalog="course_catalog")
    def evaluate(
        self,
        X: pd.DataFrame,
        *,
        competency_ratings: pd.DataFrame | None = None,
        scores: Any = None,
        explanations: pd.DataFrame | None = None,
        open_actions: pd.DataFrame | None = None,
        store: Any = None,
        course_catalog: pd.DataFrame | None = None,
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
        course_catalog : pandas.DataFrame, optional
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
        data = _table(self, X, competency_ratings, scores)
        matched = _match(self, data)
        existing = _existing(open_actions, store)
        titles = _titles(course_catalog)
        blocks = []
        for order, rule in enumerate(self.rules):
            rows = np.flatnonzero(matched[rule.id].to_numpy(bool))
            if len(rows) == 0:
                continue
            for a_order, spec in enumerate(rule.then):
                blocks.append((order, a_order, rule, spec, rows))
        candidates = _candidates(data, blocks, titles)
        fresh = _dedupe(candidates, existing)
        n_fired = len(candidates)
        actions = _render(self, fresh, data, explanations, max_reasons)
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
