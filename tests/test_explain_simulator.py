"""Explanations on the simulated organization: planted disengaged leavers, recourse, teams.

One 600-employee organization over 2023-2025 with the default effects, monthly cutoffs from
June 2023 (about 18,000 spine rows), every feature, and a FlightRisk model. The planted
disengagement (docs/simulator.md): employees who will leave first disengage, and their
voluntary learning drops to a fifth. The truth (``org.truth.latent["disengaged_at"]``) is
read here, in the test, never by the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml.datasets import SIMULATION_SECRET
from talentml.explain import Explainer, explain, recourse
from talentml.explain._peers import manager_at
from talentml.models import FlightRisk


@pytest.fixture(scope="module")
def world():
    org = tml.datasets.simulate_workforce(
        n_employees=600, start="2023-01-01", end="2025-12-31", random_state=7, show_progress=False
    )
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
    ).statements
    spine = tml.features.make_spine(org.employees, start="2023-06-01", end="2025-12-01", freq="MS")
    X = tml.features.build(
        spine,
        statements=statements,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
    )
    y = tml.labels.flight_risk(spine, org.employees, horizon="180D")
    model = FlightRisk(
        n_estimators=100,
        max_depth=4,
        learning_rate=0.1,
        max_bin=64,
        survival=False,
        random_state=0,
        n_jobs=1,
    ).fit(X, y)
    return org, X, y, model


def planted(org, X):
    """Rows of employees already disengaged at as_of who leave voluntarily within 180 days."""
    people = org.employees.set_index("employee_id")
    disengaged = X["employee_id"].map(org.truth.latent.set_index("employee_id")["disengaged_at"])
    exit_at = X["employee_id"].map(people["termination_date"])
    voluntary = X["employee_id"].map(people["termination_type"]).eq("voluntary")
    days = (exit_at - X["as_of"]).dt.days
    leavers = (disengaged < X["as_of"]) & voluntary & days.between(0, 180)
    stayers = disengaged.isna() & exit_at.isna()
    return leavers.to_numpy(dtype=bool), stayers.to_numpy(dtype=bool)


def test_planted_disengaged_leavers_are_told_their_learning_dropped(world):
    org, X, _, model = world
    leavers, stayers = planted(org, X)
    assert leavers.sum() > 300
    ex = explain(model, X, employees=org.employees, job_events=org.job_events)
    reasons = ex.top_reasons(3, direction="up")
    keys = X[["employee_id", "as_of"]].assign(leaver=leavers, stayer=stayers)
    named = reasons[reasons["code"] == "FR-LEARN-DROPOFF-UP"][["employee_id", "as_of"]]
    keys = keys.merge(named.assign(named=True), on=["employee_id", "as_of"], how="left")
    keys["named"] = keys["named"].notna()
    share_leavers = keys.loc[keys["leaver"], "named"].mean()
    share_stayers = keys.loc[keys["stayer"], "named"].mean()
    # the drop-off is among the top three reasons for most planted leavers, and far more
    # often than for engaged employees who stay
    assert share_leavers >= 0.5, (share_leavers, share_stayers)
    assert share_leavers >= 2 * share_stayers, (share_leavers, share_stayers)
    # it raises their risk on average and lowers the stayers'
    dropoff = ex.business_values["learning_dropoff"].to_numpy()
    assert dropoff[leavers].mean() > 0 > dropoff[stayers].mean()
    # the texts say so, with the peer reference of the same cutoff
    texts = reasons.merge(keys[["employee_id", "as_of", "leaver"]], on=["employee_id", "as_of"])
    texts = texts[texts["leaver"] & (texts["code"] == "FR-LEARN-DROPOFF-UP")]
    assert texts["peer_scope"].isin(["team median", "median of all employees"]).all()
    # the evidence: no learning for weeks, or a slowdown against the person's own pace
    inactive = texts[texts["evidence"].isin(["days_since_last_activity", "voluntary_drop_llr"])]
    assert len(inactive) > 50
    said = (
        r"(no learning activity for \d+ days|evidence of a slowdown in voluntary learning "
        r"against this person's usual pace: [\d.]+ \(0 = none, 3 or more = strong\)) \("
    )
    assert inactive["text"].str.match(said).all()
    worse = (inactive["value"].astype(float) > inactive["peer_value"]).mean()
    assert worse > 0.9


def test_recourse_moves_the_score_and_only_actionable_features(world):
    org, X, _, model = world
    last = X[X["as_of"] == X["as_of"].max()].reset_index(drop=True)
    score = model.predict_proba(last)[:, 1]
    threshold = float(np.quantile(score, 0.8))
    at_risk = last.iloc[np.argsort(-score)[:40]]
    rec = recourse(model, at_risk, threshold=threshold, reference=last)
    found = rec.summary["status"] == "found"
    assert found.sum() >= 10
    assert rec.validity >= 0.95
    # re-scored independently: the suggested rows really cross the threshold
    rescored = model.predict_proba(rec.counterfactuals)[:, 1]
    assert (rescored < threshold).mean() >= 0.95
    cat = tml.features.catalog().set_index("name")
    changed = cat.loc[rec.changes["feature"].unique()]
    assert changed["actionable"].all() and not changed["sensitive_proxy"].any()
    # within the plausible range, in the good direction, at most three changes
    bounds = rec.candidates.set_index("feature")
    for r in rec.changes.itertuples():
        b = bounds.loc[r.feature]
        assert b["low"] - 1e-9 <= r.to_value <= b["high"] + 1e-9
        assert (r.to_value > r.from_value) == (b["direction"] == "increase")
    assert rec.summary.loc[found, "n_changes"].between(1, 3).all()
    # untouched columns stay as they were
    untouched = [c for c in X.columns if c not in set(bounds.index) and c not in {"as_of"}]
    before = at_risk.loc[rec.counterfactuals.index, untouched]
    pd.testing.assert_frame_equal(rec.counterfactuals[untouched], before, check_dtype=False)


def test_team_is_the_manager_at_as_of(world):
    org, X, _, _ = world
    manager = manager_at(X, org.employees, org.job_events)
    size = X.assign(_m=manager.to_numpy()).groupby(["as_of", "_m"])["employee_id"].transform("size")
    has = manager.notna().to_numpy() & X["team_size"].notna().to_numpy()
    ours = size.to_numpy()[has]
    feature = X["team_size"].to_numpy()[has]
    # the same teams as the team-size feature, except that the feature still counts a
    # colleague whose exit is not yet recorded at as_of while the spine no longer has them
    assert (ours == feature).mean() > 0.95
    assert (ours <= feature).all() and (feature - ours).max() <= 3


def test_one_employee_with_an_explainer(world):
    org, X, _, model = world
    last = X[X["as_of"] == X["as_of"].max()]
    explainer = Explainer(model, reference=last, employees=org.employees, job_events=org.job_events)
    one = explainer.explain(last.iloc[[0]])
    everyone = explain(model, last, employees=org.employees, job_events=org.job_events)
    assert np.allclose(one.values.to_numpy()[0], everyone.values.to_numpy()[0], atol=1e-5)
    a = one.top_reasons(3)
    b = everyone.top_reasons(3)
    b = b[(b["employee_id"] == a["employee_id"].iloc[0])]
    assert a["code"].tolist() == b["code"].tolist()
    assert a["text"].tolist() == b["text"].tolist()
