"""Leading indicators: early behaviours of new hires that precede a later outcome."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml.datasets import SIMULATION_SECRET
from talentml.exceptions import PurposeLimitationError
from talentml.loop import LeadingIndicators, RuleSet, early_behaviours, leading_indicators

DAY = pd.Timedelta(days=1)


# ----------------------------------------------------------------------- a small world
def small_world(n: int = 400, seed: int = 0, effect: float = -0.3):
    """Hires in two departments; Sales hires do the welcome module more often and ramp up
    faster anyway (confounding by department); doing it changes log days by ``effect``."""
    rng = np.random.default_rng(seed)
    hire = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 200, n), "D")
    dept = rng.choice(["Sales", "Ops"], n)
    ids = [f"E{i:04d}" for i in range(n)]
    emp = pd.DataFrame(
        {
            "employee_id": ids,
            "hire_date": hire,
            "department": dept,
            "job_level": rng.integers(1, 3, n),
            "job_family": dept,
        }
    )
    sales = dept == "Sales"
    keen = rng.random(n) < np.where(sales, 0.75, 0.3)
    st = pd.DataFrame(
        {
            "employee_id": np.array(ids)[keen],
            "verb": "completed",
            "object_id": "welcome",
            "timestamp": hire[keen] + pd.to_timedelta(rng.integers(1, 20, keen.sum()), "D"),
        }
    )
    st["stored"] = st["timestamp"] + pd.Timedelta("1min")
    cat = pd.DataFrame({"activity_id": ["welcome", "deep-dive"], "program": ["onboarding"] * 2})
    days = 90 * np.exp(effect * keen - 0.4 * sales + rng.normal(0, 0.2, n))
    y = pd.DataFrame(
        {"employee_id": ids, "value": days, "measured_at": hire + pd.Timedelta("200D")}
    )
    return emp, st, cat, y


def _run(y, emp, st, cat, **kw):
    kw.setdefault("windows", ["30D"])
    kw.setdefault("n_bootstrap", 100)
    kw.setdefault("scale", "log")
    kw.setdefault("outcome_name", "days to productivity")
    return leading_indicators(y, employees=emp, statements=st, course_catalog=cat, **kw)


def test_adjusts_for_confounding_at_hire():
    emp, st, cat, y = small_world(seed=1)
    r = _run(y, emp, st, cat, behaviours=["completed_onboarding"])
    row = r.to_frame().iloc[0]
    assert row["column"] == "completed_onboarding_first_30d"
    # the naive difference mixes in the department (Sales ramps up faster and does it more)
    assert row["naive"] < -0.4
    assert row["ci_low"] <= -0.3 <= row["ci_high"]
    assert row["significant"]
    matched = _run(y, emp, st, cat, behaviours=["completed_onboarding"], method="matched")
    m = matched.to_frame().iloc[0]
    assert m["ci_low"] <= -0.3 <= m["ci_high"]
    assert abs(m["estimate"] - row["estimate"]) < 0.02
    # the same seed gives the same result
    again = _run(y, emp, st, cat, behaviours=["completed_onboarding"])
    pd.testing.assert_frame_equal(r.to_frame(), again.to_frame())


def test_statements_after_the_window_change_nothing():
    emp, st, cat, y = small_world()
    base = _run(y, emp, st, cat)
    hire = emp.set_index("employee_id")["hire_date"]
    late = st.copy()
    late["timestamp"] = late["employee_id"].map(hire) + pd.Timedelta("30D")  # closes the window
    late["stored"] = late["timestamp"]
    unknown = st.copy()  # inside the window, but only stored after it closed
    unknown["object_id"] = "deep-dive"
    unknown["stored"] = unknown["employee_id"].map(hire) + pd.Timedelta("31D")
    before = st.copy()
    before["timestamp"] = before["employee_id"].map(hire) - DAY
    before["object_id"] = "deep-dive"
    more = pd.concat([st, late, unknown, before], ignore_index=True)
    pd.testing.assert_frame_equal(base.to_frame(), _run(y, emp, more, cat).to_frame())
    # ... and one inside the window does change the counts
    eb = early_behaviours(emp, more, course_catalog=cat, windows=["30D"])
    assert eb["completed_onboarding_first_30d"].max() == 1.0
    inside = unknown.assign(stored=unknown["timestamp"])
    eb = early_behaviours(emp, pd.concat([st, inside]), course_catalog=cat, windows=["30D"])
    assert eb["completed_onboarding_first_30d"].max() == 2.0


def test_outcome_measured_before_the_window_closes_is_refused():
    emp, st, cat, y = small_world()
    early = y.copy()
    early.loc[:4, "measured_at"] = emp.loc[:4, "hire_date"] + pd.Timedelta("20D")
    with pytest.raises(ValueError, match=r"5 row\(s\) have a measured_at before the 30-day"):
        _run(early, emp, st, cat)
    r = _run(early, emp, st, cat, early_outcomes="drop")
    assert r.to_frame()["n"].max() == len(y) - 5
    assert (r.excluded["reason"] == "outcome measured before the window closed").sum() == 5


def test_own_behaviour_observed_after_the_window_is_refused():
    emp, st, cat, y = small_world(n=120)
    own = pd.DataFrame(
        {
            "employee_id": emp["employee_id"],
            "behaviour": "mentor_meetings",
            "window": "30D",
            "value": np.arange(len(emp)) % 3,
            "observed_at": emp["hire_date"] + pd.Timedelta("10D"),
        }
    )
    r = _run(y, emp, st, cat, behaviours=own, n_bootstrap=20)
    assert "mentor_meetings_first_30d" in set(r.to_frame()["column"])
    own.loc[3, "observed_at"] = emp.loc[3, "hire_date"] + pd.Timedelta("45D")
    with pytest.raises(ValueError, match="observed_at outside"):
        _run(y, emp, st, cat, behaviours=own, n_bootstrap=20)


def test_sensitive_covariates_and_bad_arguments_are_refused():
    emp, st, cat, y = small_world(n=60)
    emp = emp.assign(sex="F")
    with pytest.raises(PurposeLimitationError, match="sex"):
        _run(y, emp, st, cat, covariates=["department", "sex"])
    with pytest.raises(ValueError, match="method"):
        _run(y, emp, st, cat, method="naive")
    with pytest.raises(ValueError, match="outcome must be a table or one of"):
        _run("ramp_up_days", emp, st, cat)
    with pytest.raises(ValueError, match="not in employees"):
        _run(pd.concat([y, y.assign(employee_id="nobody").head(1)]), emp, st, cat)


def test_outputs_and_nudge_rules():
    emp, st, cat, y = small_world()
    r = _run(y, emp, st, cat, higher_is_better=False)
    assert isinstance(r, LeadingIndicators)
    # a behaviour that goes with a longer ramp-up would never be nudged
    assert _run(y, emp, st, cat).nudge_rules(as_dicts=True) == []
    data = json.loads(r.to_json())
    assert data["outcome"] == "days to productivity" and data["findings"]
    s = r.sentences()[0]
    assert s.startswith("Hires who completed at least 1 of the 2 onboarding activities in")
    assert "had 2" in s and "% lower days to productivity (95% CI" in s
    ax = r.plot(max_display=3)
    assert len(ax.get_yticklabels()) == min(3, len(r.table))
    rules = r.nudge_rules()
    assert isinstance(rules, RuleSet) and len(rules.rules) >= 1
    rule = r.nudge_rules(as_dicts=True)[0]
    assert rule["then"][0] == {"action": "notify", "target": "manager"}
    iri = "https://lms.acme.example/course/welcome"
    recommend = r.nudge_rules(action="recommend", targets={"completed_onboarding": iri})
    assert recommend.rules[0].then[0].target == iri
    with pytest.raises(ValueError, match="needs the activity IRI"):
        r.nudge_rules(action="enroll")
    # evaluated on the behaviour so far: hires still in their first 30 days who have not done it
    as_of = pd.Timestamp("2024-04-01", tz="UTC")
    X = early_behaviours(emp, st, course_catalog=cat, windows=["30D"], as_of=as_of)
    assert (X["days_since_hire"] < 30).all() and (X["days_since_hire"] >= 0).all()
    actions = rules.evaluate(X)
    nudged = set(actions["employee_id"])
    done = set(X.loc[X["completed_onboarding_first_30d"] >= 1, "employee_id"])
    assert nudged and not nudged & done
    assert nudged == set(X["employee_id"]) - done


# ------------------------------------------------------------------ the simulator's effect
_STATEMENTS: dict[int, pd.DataFrame] = {}


def _new_hire_statements(org) -> pd.DataFrame:
    """The statements of hires made during the simulation, from their first 45 days (a
    subset of the raw statements, so the ingest stays fast)."""
    emp = org.employees
    new = emp[emp["hire_date"] >= org.start].set_index("employee_id")["hire_date"]
    ids = org.hris_identities[org.hris_identities["employee_id"].isin(new.index)]
    by_mail = dict(zip("mailto:" + ids["email"], ids["employee_id"], strict=True))
    by_user = dict(zip(ids["lms_user"], ids["employee_id"], strict=True))
    if id(org) in _STATEMENTS:
        return _STATEMENTS[id(org)]
    # the date part of the ISO timestamp, compared as text (45 days > the 30-day window)
    cutoff = (new + pd.Timedelta("45D")).dt.strftime("%Y-%m-%d").to_dict()
    keep = []
    for s in org.raw_statements:
        actor = s.get("actor") or {}
        who = by_mail.get(actor.get("mbox")) or by_user.get(
            (actor.get("account") or {}).get("name")
        )
        if who is not None and str(s.get("timestamp", ""))[:10] < cutoff[who]:
            keep.append(s)
    ing = tml.xapi.ingest(keep, identities=org.identities, secret=SIMULATION_SECRET)
    return _STATEMENTS.setdefault(id(org), ing.statements)


def _indicators(org, **kw):
    return leading_indicators(
        "ramp_up",
        employees=org.employees,
        statements=_new_hire_statements(org),
        course_catalog=org.catalog,
        productivity=org.productivity,
        windows=("14D", "30D"),
        **kw,
    )


@pytest.mark.statistical
def test_recovers_the_planted_onboarding_effect(org):
    """The simulator draws log days to productivity = log(base by department) - 0.3 x
    onboarding engagement - 0.1 x potential + N(0, 0.25), and engagement also makes hires do
    more onboarding modules, sooner. Completing the onboarding modules is thus a *marker* of
    engagement: its true effect is -0.3 x (mean engagement of hires who did it - of those who
    did not). The oracle computes exactly that with the same estimator on the noise-free truth
    (``Truth.ramp_up_oracle``'s ``log_median``) for the same hires and the same behaviour."""
    r = _indicators(org)
    t = r.to_frame().set_index("column")
    row = t.loc["completed_onboarding_first_30d"]
    assert row["significant"] and row["q_value"] < 0.001
    oracle_outcome = org.truth.ramp_up_oracle(job_events=org.job_events)
    sample = set(
        tml.labels.ramp_up(org.employees, org.productivity).query("observed")["employee_id"]
    )
    oracle_outcome = oracle_outcome[oracle_outcome["employee_id"].isin(sample)]
    truth_table = pd.DataFrame(
        {
            "employee_id": oracle_outcome["employee_id"],
            "value": np.exp(oracle_outcome["log_median"]),
            "measured_at": oracle_outcome["hire_date"] + pd.Timedelta("365D"),
        }
    )
    oracle = (
        leading_indicators(
            truth_table,
            employees=org.employees,
            statements=_new_hire_statements(org),
            course_catalog=org.catalog,
            windows=("30D",),
            behaviours=["completed_onboarding"],
            scale="log",
            n_bootstrap=20,
        )
        .to_frame()
        .iloc[0]
    )
    assert oracle["threshold"] == row["threshold"] and oracle["n"] == row["n"]
    truth = oracle["estimate"]
    assert truth < -0.25  # a large planted effect, not a trivial one
    assert row["ci_low"] <= truth <= row["ci_high"], (truth, row["ci_low"], row["ci_high"])
    # and a behaviour no effect drives (electives) is not among the findings
    assert not t.loc["completed_elective_first_30d", "significant"]


@pytest.mark.statistical
def test_finds_nothing_when_the_effects_are_off(org_null):
    r = _indicators(org_null)
    t = r.to_frame()
    assert len(t) >= 10
    assert not t["significant"].any(), t[["column", "estimate", "q_value"]]
    assert r.sentences() == [] and r.nudge_rules(as_dicts=True) == []
