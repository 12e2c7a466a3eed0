"""The closed loop: review outputs become learning inputs, learning outputs succession inputs.

* :class:`RuleSet` - trigger rules declared in code or YAML, validated on load, evaluated point
  in time over a spine into an actions table (rule, facts, reason), idempotent across re-runs;
* where actions go - :class:`ActionStore` (open actions and deliveries), :func:`emit_xapi`
  (xAPI ``was-assigned`` statements on the LRS, once) and :class:`WebhookSender` (signed
  webhooks with retries and idempotency keys);
* :func:`calibration_flags` - top ratings with overdue compliance, hidden gems, gaps between
  managers' ratings and the model, each with its evidence;
* :func:`potential_bias` - the 9-box's potential axis by group (with
  :func:`talentml.models.nine_box`), and :func:`plot_potential_bias`;
* :class:`SkillOntology`, :func:`skill_profile` and :func:`bench_strength` - one skills
  vocabulary, skill levels from learning records, succession readiness and learning paths;
* :func:`learning_impact` - did completing a track change later ratings (matched difference
  in differences with bootstrap intervals);
* :func:`leading_indicators` - which early learning behaviours of new hires precede a later
  outcome (doubly robust or matched, bootstrap intervals, multiple-testing control), with
  :func:`early_behaviours` and nudge rules (:class:`LeadingIndicators`);
* :func:`roi` - the return on a program: participants' retention against matched
  non-participants (Kaplan-Meier), rating change, ramp-up of early completers against
  matched hires, automated actions, and the money from the
  user's stated assumptions, with intervals and a sensitivity table (:class:`ROI`);
* :func:`team_view` - a manager's team at a point in time (:class:`TeamView`): skill heatmap
  against the role, learning against performance, caregiver-safe agility ranking, open and
  suggested actions with an idempotent ``assign``, plots and a static HTML page.

>>> from talentml.loop import RuleSet
>>> RuleSet([{"id": "r", "when": [{"feature": "rating_latest", "op": ">=", "value": "Exceeds"}],
...           "then": [{"action": "notify", "target": "talent-team"}]}])
RuleSet(['r'])
"""

from __future__ import annotations

from ..features import competency_column, competency_snapshot
from ._action_table import ACTION_COLUMNS, action_key
from ._actions import ActionStore
from ._bench import READINESS, BenchStrength, Role, bench_strength, skill_profile
from ._flags import FLAGS, calibration_flags, failed_mandatory
from ._impact import LearningImpact, learning_impact, track_completions
from ._indicators import LeadingIndicators, early_behaviours, leading_indicators
from ._ninebox import PotentialBias, plot_potential_bias, potential_bias
from ._ontology import DEFAULT_ABBREVIATIONS, DEFAULT_SYNONYMS, LEVEL_WORDS, SkillOntology
from ._roi import DEFAULT_ASSUMPTIONS, roi, roi_money
from ._roi_result import ROI
from ._rules import (
    ACTION_TYPES,
    OPERATORS,
    RATING_SCALE,
    RULE_KINDS,
    ActionSpec,
    Condition,
    Rule,
    RuleError,
)
from ._ruleset import RuleSet
from ._team import TeamView, managers_at, team_view
from ._webhooks import (
    SIGNATURE_HEADER,
    WebhookSender,
    sign_payload,
    verify_signature,
    webhook_payload,
)
from ._xapi_sink import (
    ACROSSX_PROFILE,
    ACTION_NAMESPACE,
    ASSIGNED_VERB,
    assignment_statements,
    emit_xapi,
    statement_id,
)

__all__ = [
    "ACROSSX_PROFILE",
    "ACTION_COLUMNS",
    "ACTION_NAMESPACE",
    "ASSIGNED_VERB",
    "DEFAULT_ABBREVIATIONS",
    "DEFAULT_ASSUMPTIONS",
    "DEFAULT_SYNONYMS",
    "FLAGS",
    "LearningImpact",
    "ROI",
    "roi",
    "roi_money",
    "LeadingIndicators",
    "early_behaviours",
    "leading_indicators",
    "LEVEL_WORDS",
    "SIGNATURE_HEADER",
    "SkillOntology",
    "TeamView",
    "ActionStore",
    "BenchStrength",
    "WebhookSender",
    "assignment_statements",
    "bench_strength",
    "calibration_flags",
    "emit_xapi",
    "failed_mandatory",
    "learning_impact",
    "managers_at",
    "plot_potential_bias",
    "potential_bias",
    "sign_payload",
    "skill_profile",
    "statement_id",
    "team_view",
    "track_completions",
    "verify_signature",
    "webhook_payload",
    "ACTION_TYPES",
    "OPERATORS",
    "PotentialBias",
    "RATING_SCALE",
    "READINESS",
    "RULE_KINDS",
    "ActionSpec",
    "Condition",
    "Role",
    "Rule",
    "RuleError",
    "RuleSet",
    "action_key",
    "competency_column",
    "competency_snapshot",
]
