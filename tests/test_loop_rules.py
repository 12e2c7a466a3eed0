"""Trigger rules: validation, point-in-time evaluation against a brute force, idempotency."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from talentml.loop import (
    ACTION_COLUMNS,
    ActionStore,
    Rule,
    RuleError,
    RuleSet,
    action_key,
    competency_snapshot,
)
from test_loop_world import small_world

PM_COURSE = "https://lms.acme.example/course/project-management-foundations"
LEADERS = "https://lms.acme.example/program/leadership"

RULES_YAML = """
version: 1
rules:
  - id: pm-remediation
    name: Project Management remediation
    kind: remediation
    when:
      - {{competency: Project Management, op: "<", value: 3}}
    then:
      - action: enroll
        target: {pm}
        title: Project Management Fundamentals
        due_days: 30
  - id: emerging-leaders
    name: Emerging Leaders nomination
    kind: acceleration
    when:
      - {{feature: rating_latest, op: ">=", value: Exceeds}}
      - {{feature: tenure_days, op: ">", value: 730}}
    then:
      - {{action: recommend, target: "{leaders}", title: Emerging Leaders Program, open_days: 180}}
      - {{action: notify, target: talent-team, open_days: 180}}
  - id: flight-risk-dropoff
    name: Retention check-in
    kind: retention
    when:
      - {{score: flight_risk, op: ">", value: {threshold}}}
      - {{feature: voluntary_dropoff_30d_vs_prior_90d, op: ">=", value: 0.5}}
    then:
      - {{action: alert, target: manager, open_days: 45}}
  - id: compliance-sales-eng
    kind: other
    when:
      - {{column: department, op: in, value: [Sales, Engineering]}}
      - {{feature: mandatory_compliant, op: "==", value: 0}}
    then:
      - {{action: notify, target: compliance-team, open_days: 20}}
"""


@pytest.fixture(scope="module")
def world():
    return small_world()


@pytest.fixture(scope="module")
def threshold(world) -> float:
    return round(float(world.flight_risk.quantile(0.7)), 4)


@pytest.fixture(scope="module")
def rules(threshold) -> RuleSet:
    return RuleSet.from_yaml(RULES_YAML.format(pm=PM_COURSE, leaders=LEADERS, threshold=threshold))


# ------------------------------------------------------------------- brute force


def _latest_rating(by_emp: dict, eid: str, as_of: pd.Timestamp, competency: str) -> float:
    """Plain Python: the latest rating of the competency submitted strictly before as_of."""
    best, best_key = math.nan, None
    for rec in by_emp.get(eid, []):
        if rec["competency"] != competency or not rec["submitted_at"] < as_of:
            continue
        if rec["rating"] is None or math.isnan(rec["rating"]):
            continue
        key = (rec["submitted_at"], rec["cycle_id"])
        if best_key is None or key >= best_key:
            best, best_key = rec["rating"], key
    return best


def _brute_force(world, threshold: float) -> set[tuple[str, str, pd.Timestamp]]:
    """Evaluate every rule row by row with plain pandas/Python; (rule, employee, as_of) fired."""
    cr = world.org.competency_ratings
    by_emp: dict[str, list] = {}
    for rec in cr.to_dict("records"):
        by_emp.setdefault(rec["employee_id"], []).append(rec)
    fired = set()
    for i, row in world.X.iterrows():
        eid, t = row["employee_id"], row["as_of"]
        pm = _latest_rating(by_emp, eid, t, "Project Management")
        if not math.isnan(pm) and pm < 3:
            fired.add(("pm-remediation", eid, t))
        r, ten = row["rating_latest"], row["tenure_days"]
        if not pd.isna(r) and not pd.isna(ten) and r >= 4 and ten > 730:
            fired.add(("emerging-leaders", eid, t))
        risk, drop = world.flight_risk[i], row["voluntary_dropoff_30d_vs_prior_90d"]
        if not pd.isna(risk) and not pd.isna(drop) and risk > threshold and drop >= 0.5:
            fired.add(("flight-risk-dropoff", eid, t))
        if row["department"] in ("Sales", "Engineering") and row["mandatory_compliant"] == 0:
            fired.add(("compliance-sales-eng", eid, t))
    return fired


def _open_days(rules: RuleSet, rule_id: str) -> dict[tuple[str, str], int]:
    return {(a.action, a.target): a.open_period for a in rules[rule_id].then}


# ------------------------------------------------------------------------- tests


def test_each_rule_fires_for_exactly_the_brute_force_rows(world, rules, threshold) -> None:
    expected = _brute_force(world, threshold)
    matched = rules.match(
        world.X,
        competency_ratings=world.org.competency_ratings,
        scores={"flight_risk": world.flight_risk},
    )
    got = {
        (rule_id, world.X.at[i, "employee_id"], world.X.at[i, "as_of"])
        for rule_id in matched.columns
        for i in matched.index[matched[rule_id]]
    }
    assert got == expected
    per_rule = pd.Series([r for r, _, _ in got]).value_counts()
    # every rule fires somewhere, and not everywhere: the comparison is not vacuous
    assert set(per_rule.index) == {r.id for r in rules}
    assert (per_rule < len(world.X)).all()


def test_actions_of_one_as_of_are_the_firings_times_the_actions(world, rules, threshold) -> None:
    t = pd.Timestamp("2025-02-01", tz="UTC")
    X = world.X[world.X["as_of"] == t]
    actions = rules.evaluate(
        X,
        competency_ratings=world.org.competency_ratings,
        scores={"flight_risk": world.flight_risk[X.index]},
        course_catalog=world.org.catalog,
    )
    assert list(actions.columns) == list(ACTION_COLUMNS)
    fired = {(r, e) for r, e, a in _brute_force(world, threshold) if a == t}
    expected = {
        (rule.id, e, spec.action, spec.target)
        for rule in rules
        for spec in rule.then
        for r, e in fired
        if r == rule.id
    }
    got = set(actions[["rule_id", "employee_id", "action", "target"]].itertuples(index=False))
    assert got == expected
    assert actions["action_key"].is_unique
    assert (actions["as_of"] == t).all() and actions["status"].eq("open").all()
    enroll = actions[actions["action"] == "enroll"]
    assert (enroll["due_date"] == t + pd.Timedelta(days=30)).all()
    assert enroll["title"].eq("Project Management Fundamentals").all()
    assert enroll["recipient"].eq("employee").all()
    alerts = actions[actions["action"] == "alert"]
    assert alerts["recipient"].eq("manager").all() and alerts["due_date"].isna().all()


def test_facts_are_the_row_values_and_the_reason_quotes_them(world, rules) -> None:
    t = pd.Timestamp("2025-03-01", tz="UTC")
    X = world.X[world.X["as_of"] == t]
    snap = competency_snapshot(X, world.org.competency_ratings)
    actions = rules.evaluate(
        X,
        competency_ratings=world.org.competency_ratings,
        scores={"flight_risk": world.flight_risk[X.index]},
    )
    rows = X.set_index("employee_id")
    for rec in actions.itertuples(index=False):
        facts = json.loads(rec.facts)
        if rec.rule_id == "pm-remediation":
            value = snap.loc[X["employee_id"] == rec.employee_id, "competency[Project Management]"]
            assert facts == {"competency[Project Management]": float(value.iloc[0])}
            assert (
                f"Project Management competency rating {facts['competency[Project Management]']:g}"
                in rec.reason
            )
            assert (
                "enroll in Project Management Fundamentals, due in 30 days (2025-03-31)"
                in rec.reason
            )
        elif rec.rule_id == "emerging-leaders":
            assert facts["rating_latest"] == rows.at[rec.employee_id, "rating_latest"]
            assert facts["tenure_days"] == rows.at[rec.employee_id, "tenure_days"]
            assert "at or above 4 (Exceeds)" in rec.reason
        elif rec.rule_id == "flight-risk-dropoff":
            drop = rows.at[rec.employee_id, "voluntary_dropoff_30d_vs_prior_90d"]
            assert facts["voluntary_dropoff_30d_vs_prior_90d"] == drop
            assert f"voluntary learning dropped {drop:.0%}" in rec.reason
            assert rec.reason.endswith("-> alert manager")
        assert rec.action_key == action_key(
            rec.rule_id, rec.employee_id, rec.action, rec.target, rec.as_of
        )


def test_over_a_spine_an_action_opens_once_per_open_period(world, rules, threshold) -> None:
    actions = rules.evaluate(
        world.X,
        competency_ratings=world.org.competency_ratings,
        scores={"flight_risk": world.flight_risk},
    )
    # brute force: rows in as_of order; a firing opens an action unless one is still open
    fired = sorted(_brute_force(world, threshold), key=lambda x: (x[2], x[0], x[1]))
    expected = set()
    for rule in rules:
        for spec in rule.then:
            open_until: dict[str, pd.Timestamp] = {}
            for r, e, t in fired:
                if r != rule.id:
                    continue
                if e in open_until and t < open_until[e]:
                    continue
                open_until[e] = t + pd.Timedelta(days=spec.open_period)
                expected.add((rule.id, e, spec.action, spec.target, t))
    got = set(
        actions[["rule_id", "employee_id", "action", "target", "as_of"]].itertuples(index=False)
    )
    assert got == expected
    # the 20-day compliance notice re-opens a month later; the 30-day enrollment does not
    comp = actions[actions["rule_id"] == "compliance-sales-eng"].groupby("employee_id").size()
    pm = actions[actions["rule_id"] == "pm-remediation"].groupby("employee_id").size()
    assert comp.max() > 1 and pm.max() == 2  # 2025-01-01 and 2025-02-01 (> 30 days)


def test_re_runs_open_nothing_new(world, rules, tmp_path: Path) -> None:
    kwargs = dict(
        competency_ratings=world.org.competency_ratings, scores={"flight_risk": world.flight_risk}
    )
    first = rules.evaluate(world.X, **kwargs)
    assert len(first) > 50
    # the same call gives the same keys
    assert rules.evaluate(world.X, **kwargs)["action_key"].tolist() == first["action_key"].tolist()
    # with the open actions passed in, nothing is new
    assert rules.evaluate(world.X, open_actions=first, **kwargs).empty
    # the same with a store, across "processes" (a new ActionStore on the same file)
    store = ActionStore(tmp_path / "actions.duckdb")
    t0 = pd.Timestamp("2025-01-01", tz="UTC")
    X0 = world.X[world.X["as_of"] == t0]
    opened = rules.evaluate(X0, store=store, **_kw(kwargs, X0))
    assert len(opened) and len(store.actions()) == len(opened)
    again = ActionStore(tmp_path / "actions.duckdb")
    assert rules.evaluate(X0, store=again, **_kw(kwargs, X0)).empty
    assert len(again.actions()) == len(opened)
    # a month later only actions whose period ended (or never opened) are new
    t1 = pd.Timestamp("2025-02-01", tz="UTC")
    X1 = world.X[world.X["as_of"] == t1]
    later = rules.evaluate(X1, store=again, **_kw(kwargs, X1))
    both = rules.evaluate(pd.concat([X0, X1]), **_kw(kwargs, pd.concat([X0, X1])))
    assert set(later["action_key"]) == set(both.loc[both["as_of"] == t1, "action_key"])
    # closing an action as cancelled lets the rule fire again for that employee
    enroll = opened[opened["action"] == "enroll"].iloc[0]
    assert again.close([enroll["action_key"]], at=t0, status="cancelled") == 1
    refired = rules.evaluate(X0, store=again, **_kw(kwargs, X0))
    assert refired["action_key"].tolist() == [enroll["action_key"]]
    assert enroll["action_key"] in set(again.open_actions()["action_key"])
    assert rules.evaluate(X0, store=again, **_kw(kwargs, X0)).empty


def _kw(kwargs: dict, X: pd.DataFrame) -> dict:
    return {**kwargs, "scores": {"flight_risk": kwargs["scores"]["flight_risk"][X.index]}}


def test_model_reasons_are_quoted_in_retention_actions(world, rules) -> None:
    t = pd.Timestamp("2025-03-01", tz="UTC")
    X = world.X[world.X["as_of"] == t]
    scores = {"flight_risk": world.flight_risk[X.index]}
    base = rules.evaluate(X, competency_ratings=world.org.competency_ratings, scores=scores)
    retention = base[base["rule_id"] == "flight-risk-dropoff"]
    assert len(retention)
    rows = []
    for e in X["employee_id"]:
        rows += [
            {"employee_id": e, "as_of": t, "rank": 2, "direction": "up", "text": f"{e}: second"},
            {"employee_id": e, "as_of": t, "rank": 1, "direction": "up", "text": f"{e}: first"},
            {"employee_id": e, "as_of": t, "rank": 1, "direction": "down", "text": "protective"},
            {"employee_id": e, "as_of": t, "rank": 0, "direction": "up", "text": "off-hours"},
        ]
    explanations = pd.DataFrame(rows)
    # a proxy of a protected attribute (off-hours learning) is never quoted to a manager
    explanations["sensitive_proxy"] = explanations["text"].eq("off-hours")
    out = rules.evaluate(
        X,
        competency_ratings=world.org.competency_ratings,
        scores=scores,
        explanations=explanations,
        max_reasons=2,
    )
    got = out.set_index("action_key")
    for key, rec in retention.set_index("action_key").iterrows():
        e = rec["employee_id"]
        assert got.at[key, "explanation"] == f"{e}: first; {e}: second"
        assert got.at[key, "reason"] == f"{rec['reason']}. Model reasons: {e}: first; {e}: second"
    # rules without a score condition do not quote the model
    others = out[out["rule_id"] != "flight-risk-dropoff"]
    assert others["explanation"].isna().all()


def test_scores_can_be_keyed_by_employee_and_as_of(world, rules) -> None:
    keyed = world.X[["employee_id", "as_of"]].assign(flight_risk=world.flight_risk.to_numpy())
    keyed = keyed.sample(frac=1.0, random_state=0)  # any order
    a = rules.match(world.X, competency_ratings=world.org.competency_ratings, scores=keyed)
    b = rules.match(
        world.X,
        competency_ratings=world.org.competency_ratings,
        scores={"flight_risk": world.flight_risk},
    )
    pd.testing.assert_frame_equal(a, b)


def test_competency_ratings_are_seen_only_after_submission() -> None:
    ratings = pd.DataFrame(
        {
            "employee_id": ["e1", "e1", "e1"],
            "cycle_id": ["2024H1", "2024H2", "2024H2"],
            "competency": ["Leadership", "Leadership", "Communication"],
            "rating": [2.0, 4.0, np.nan],
            "submitted_at": pd.to_datetime(
                ["2024-07-10T10:00:00Z", "2025-01-20T09:00:00Z", "2025-01-05T09:00:00Z"]
            ),
        }
    )
    spine = pd.DataFrame(
        {
            "employee_id": ["e1", "e1", "e1", "e2"],
            "as_of": pd.to_datetime(
                [
                    "2024-07-10T10:00:00Z",  # the exact submission time: not yet known
                    "2025-01-20T09:00:00.000001Z",
                    "2024-07-10T10:00:01Z",
                    "2025-06-01T00:00:00Z",
                ],
                format="ISO8601",
            ),
        },
        index=[10, 11, 12, 13],
    )
    snap = competency_snapshot(spine, ratings)
    assert list(snap.index) == [10, 11, 12, 13]
    assert snap["competency[Leadership]"].tolist()[:3] == [
        pytest.approx(np.nan, nan_ok=True),
        4.0,
        2.0,
    ]
    assert np.isnan(snap.at[10, "competency[Leadership]"]) and np.isnan(
        snap.at[13, "competency[Leadership]"]
    )
    assert snap["competency[Communication]"].isna().all()  # a missing rating is no rating


# ------------------------------------------------------------------ validation


BASE = {
    "id": "r1",
    "when": [{"feature": "rating_latest", "op": ">=", "value": 4}],
    "then": [{"action": "notify", "target": "talent-team"}],
}


def _with(**changes) -> dict:
    rule = json.loads(json.dumps(BASE))
    for path, value in changes.items():
        node = rule
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        last = keys[-1]
        if value is KeyError:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return rule


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        (
            _with(when__0__feature="rating_lastest"),
            "when[0]",
            r"unknown feature 'rating_lastest'.*rating_latest",
        ),
        (_with(when__0__op="=>"), "when[0].op", "unknown operator '=>'"),
        (_with(when__0__value="high"), "when[0].value", "rating label"),
        (_with(when__0__value=True), "when[0].value", "number or a rating label"),
        (_with(when__0__value=KeyError), "when[0].value", "needs a value"),
        (
            _with(when__0={"feature": "department", "op": ">", "value": "Sales"}),
            "when[0].op",
            "is a category; use ==, !=, in or not in",
        ),
        (
            _with(when__0={"score": "flight_risk", "op": ">", "value": "Exceeds"}),
            "when[0].value",
            "numeric; the value must be a number",
        ),
        (
            _with(when__0={"feature": "department", "op": "==", "value": 3}),
            "when[0].value",
            "must be text",
        ),
        (
            _with(when__0={"feature": "tenure_days", "op": ">", "value": "Exceeds"}),
            "when[0].value",
            "numeric",
        ),
        (
            _with(when__0={"feature": "rating_latest", "score": "x", "op": ">", "value": 1}),
            "when[0]",
            "exactly one",
        ),
        (
            _with(when__0={"feture": "rating_latest", "op": ">", "value": 1}),
            "when[0]",
            "unknown key",
        ),
        (
            _with(when__0={"column": "x", "op": "in", "value": "abc"}),
            "when[0].value",
            "list of values",
        ),
        (
            _with(when__0={"column": "x", "op": "missing", "value": 1}),
            "when[0].value",
            "takes no value",
        ),
        (
            _with(when__0={"score": "s", "op": "<", "value": float("nan")}),
            "when[0].value",
            "finite",
        ),
        (_with(then__0__action="email"), "then[0].action", "unknown action 'email'"),
        (_with(then__0={"action": "enroll", "target": "PM course"}), "then[0].target", "IRI"),
        (
            _with(then__0={"action": "enroll", "target": PM_COURSE, "due_days": 0}),
            "then[0].due_days",
            ">= 1",
        ),
        (
            _with(then__0={"action": "enroll", "target": PM_COURSE, "due_days": 1.5}),
            "then[0].due_days",
            "whole number",
        ),
        (_with(then=[]), "then", "at least one action"),
        (_with(when=[]), "when", "at least one condition"),
        (_with(kind="urgent"), "kind", "unknown kind"),
        (_with(id="has space"), "id", "the id must be"),
        (
            _with(reason="{employee_id} has {rating}"),
            "reason",
            r"unknown placeholder\(s\) \['rating'\]",
        ),
        (_with(colour="red"), "colour", "unknown field"),
    ],
)
def test_invalid_rules_name_the_rule_and_the_field(rule, field, message) -> None:
    with pytest.raises(RuleError, match=message) as info:
        RuleSet([rule])
    assert info.value.field == field
    assert info.value.rule == rule["id"]
    assert str(info.value).startswith(f"rule {rule['id']!r}, {field}: ")


def test_a_custom_rating_scale() -> None:
    scale = {"Low": 1.0, "Solid": 2.0, "Strong": 3.0}
    rules = RuleSet(
        [{**BASE, "when": [{"feature": "rating_latest", "op": ">=", "value": "Strong"}]}],
        rating_scale=scale,
    )
    X = pd.DataFrame(
        {
            "employee_id": ["a", "b"],
            "as_of": pd.to_datetime(["2025-01-01"] * 2, utc=True),
            "rating_latest": [3.0, 2.0],
        }
    )
    out = rules.evaluate(X)
    assert out["employee_id"].tolist() == ["a"]
    assert "rating 3 (Strong), at or above 3 (Strong)" in out.loc[0, "reason"]
    with pytest.raises(RuleError, match="unknown rating label 'Exceeds'"):
        RuleSet(
            [BASE | {"when": [{"feature": "rating_latest", "op": ">", "value": "Exceeds"}]}],
            rating_scale=scale,
        )


def test_rule_set_level_errors() -> None:
    with pytest.raises(RuleError, match="unique.*'r1'"):
        RuleSet([BASE, BASE])
    with pytest.raises(RuleError, match="unsupported rules version"):
        RuleSet.from_dict({"version": 3, "rules": [BASE]})
    with pytest.raises(RuleError, match="not valid YAML"):
        RuleSet.from_yaml("rules: [\n  - id: x\n  when: {")
    with pytest.raises(RuleError, match="rules\\[1\\].*'id' is required"):
        RuleSet.from_dict({"rules": [BASE, {"when": [], "then": []}]})
    with pytest.raises(TypeError, match="list of Rule"):
        RuleSet(BASE)


def test_evaluation_errors_name_the_rule(world) -> None:
    X = world.X.head(5)
    rules = RuleSet([{**BASE, "when": [{"score": "flight_risk", "op": ">", "value": 0.5}]}])
    with pytest.raises(
        RuleError,
        match=r"rule 'r1', when\[0\]: score 'flight_risk' is not in the evaluated table.*scores=",
    ):
        rules.evaluate(X)
    pm = RuleSet([{**BASE, "when": [{"competency": "Leadership", "op": "<", "value": 3}]}])
    with pytest.raises(RuleError, match="pass competency_ratings="):
        pm.evaluate(X)
    text = RuleSet([{**BASE, "when": [{"column": "department", "op": "==", "value": 2}]}])
    with pytest.raises(RuleError, match="holds string values; the value 2 is not text"):
        text.evaluate(X)
    with pytest.raises(ValueError, match="not aligned"):
        rules.evaluate(X, scores={"flight_risk": pd.Series([0.1] * 5, index=range(100, 105))})
    with pytest.raises(ValueError, match="repeat column"):
        rules.evaluate(X, scores={"department": np.zeros(5)})


def test_yaml_round_trip_and_file(tmp_path: Path, rules) -> None:
    again = RuleSet.from_yaml(rules.to_yaml())
    assert again.to_dict() == rules.to_dict()
    path = tmp_path / "rules.yaml"
    path.write_text(rules.to_yaml())
    assert RuleSet.from_yaml(path).to_dict() == rules.to_dict()
    assert RuleSet.from_yaml(str(path)).to_dict() == rules.to_dict()
    with pytest.raises(FileNotFoundError):
        RuleSet.from_yaml(tmp_path / "missing.yaml")
    # rules declared in code are the same objects
    code = RuleSet([Rule.from_dict(r) for r in rules.to_dict()["rules"]])
    assert code.to_dict() == rules.to_dict()


def test_reason_template_and_missing_operator() -> None:
    rules = RuleSet(
        [
            {
                "id": "no-review",
                "when": [
                    {"feature": "rating_latest", "op": "missing"},
                    {"competency": "Leadership", "op": "present"},
                ],
                "then": [{"action": "notify", "target": "hrbp", "open_days": 10}],
                "reason": "{employee_id} has a Leadership rating ({competency_Leadership}) "
                "but no review as of {as_of}",
            }
        ]
    )
    X = pd.DataFrame(
        {
            "employee_id": ["a", "b", "c"],
            "as_of": pd.to_datetime(["2025-01-01"] * 3, utc=True),
            "rating_latest": [np.nan, 3.0, np.nan],
            "competency[Leadership]": [4.0, 4.0, np.nan],
        }
    )
    out = rules.evaluate(X)
    assert out["employee_id"].tolist() == ["a"]
    assert out.loc[0, "reason"] == "a has a Leadership rating (4.0) but no review as of 2025-01-01"
    assert json.loads(out.loc[0, "facts"]) == {
        "rating_latest": None,
        "competency[Leadership]": 4.0,
    }
