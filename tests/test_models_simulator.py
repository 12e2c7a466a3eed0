"""The simulator's oracles, and a small time-based backtest of FlightRisk against them.

The organization is the session's 2,000-employee one (``conftest.org``, shared with
``test_simulate.py`` and ``test_labels.py``, so the whole suite simulates it once).
``experiments/simulator_models.py`` runs the full-size version (5,000 employees, every model,
cluster-bootstrap intervals) and ``docs/backtests.md`` reports it.
"""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, simulate_workforce
from talentml.datasets import _truth as truth_module
from talentml.models import FlightRisk


@pytest.fixture(scope="module")
def month_spine(org):
    """Every employee active at each month start of the simulation."""
    return org.truth.hazard[["employee_id", "month"]].rename(columns={"month": "as_of"})


@pytest.fixture(scope="module")
def hipo(org, month_spine):
    y = tml.labels.high_potential(
        month_spine, org.job_events, horizon="365D", employees=org.employees
    )
    return y.assign(p=org.truth.high_potential_probability(month_spine, "365D").to_numpy())


# ------------------------------------------------------------------- high potential oracle
def test_high_potential_oracle_is_calibrated_and_sharp(hipo):
    lab = hipo[hipo["label"].notna()]
    # Every labelled row gets a probability (NaN only where the label is censored anyway).
    assert lab["p"].notna().all()
    assert lab["p"].between(0, 1).all()
    y = lab["label"].astype(int)
    assert roc_auc_score(y, lab["p"]) > 0.82
    assert lab["p"].mean() == pytest.approx(y.mean(), rel=0.1)
    bins = pd.qcut(lab["p"], 5, labels=False, duplicates="drop")
    by_bin = lab.assign(y=y).groupby(bins).agg(p=("p", "mean"), y=("y", "mean"))
    assert (by_bin["p"] - by_bin["y"]).abs().max() < 0.04
    assert by_bin["y"].is_monotonic_increasing


def test_high_potential_oracle_is_zero_until_eligible(org):
    """Promoted at a cycle, an employee is not eligible at the next one, six months later."""
    promo = org.job_events[org.job_events["event"] == "promotion"]
    cycle = promo["effective_date"]
    rows = pd.DataFrame(
        {"employee_id": promo["employee_id"], "as_of": cycle + pd.offsets.MonthBegin(1)}
    )
    rows = rows[rows["as_of"] + pd.Timedelta("180D") <= org.end]
    emp = org.employees.set_index("employee_id")
    ends = rows["employee_id"].map(emp["termination_date"])
    rows = rows[(ends.isna() | (ends > rows["as_of"] + pd.Timedelta("180D"))).to_numpy()]
    assert len(rows) > 50
    p = org.truth.high_potential_probability(rows, "180D")
    assert (p == 0).all()
    # A year on they are eligible again: the 365-day window reaches the cycle after next
    # (unless they reached the top level or left before it).
    rows = rows[(rows["as_of"] + pd.Timedelta("365D") <= org.end).to_numpy()]
    p_year = org.truth.high_potential_probability(rows, "365D").dropna()
    assert len(p_year) > 50 and (p_year > 0).mean() > 0.95


def test_high_potential_oracle_is_aligned_and_missing_outside(org, month_spine):
    sample = month_spine.sample(500, random_state=0)  # shuffled, non-range index
    p = org.truth.high_potential_probability(sample, "365D")
    assert p.index.equals(sample.index) and p.name == "p_promotion"
    direct = org.truth.high_potential_probability(sample.reset_index(drop=True), "365D")
    np.testing.assert_array_equal(p.to_numpy(), direct.to_numpy())
    outside = pd.DataFrame(
        {
            "employee_id": [
                sample["employee_id"].iloc[0],
                "E999999",
                sample["employee_id"].iloc[1],
            ],
            # before the simulation, an unknown employee, a window past the last cycle
            "as_of": pd.to_datetime(["2020-01-01", "2024-01-01", "2025-06-01"], utc=True),
        }
    )
    assert org.truth.high_potential_probability(outside, "365D").isna().all()
    assert org.truth.high_potential_probability(outside.iloc[:0], "365D").empty


def test_promotion_oracle_checks_its_mirror_of_the_simulator(org, monkeypatch):
    records, intercept = org.truth._promotion_logits()
    assert len(records) == len(org.truth.promotions)
    assert intercept.notna().all() and intercept.iloc[0] == 0.0
    # The simulator's intercepts are calibrated to 5.2% of headcount a cycle: they move.
    assert intercept.abs().max() > 0.01
    monkeypatch.setattr(truth_module, "PERF_GROWTH_PER_YEAR", 0.10)
    with pytest.raises(RuntimeError, match="no longer mirrors the simulator"):
        org.truth._promotion_logits()


# -------------------------------------------------------------------------- ramp-up oracle
def test_ramp_up_oracle_explains_the_draws(org):
    oracle = org.truth.ramp_up_oracle(job_events=org.job_events)
    assert len(oracle) == len(org.truth.productivity)
    assert oracle["department"].notna().all()
    residual = np.log(oracle["days_to_productivity"]) - oracle["log_median"]
    assert abs(residual.mean()) < 0.03
    assert residual.std() == pytest.approx(truth_module.RAMP_UP_LOG_SD, abs=0.02)
    # The latent traits explain most of the spread of the days to productivity.
    assert np.corrcoef(oracle["log_median"], np.log(oracle["days_to_productivity"]))[0, 1] > 0.8
    assert (oracle["mean_days"] > oracle["median_days"]).all()


def test_ramp_up_oracle_department_at_hire(org):
    with_events = org.truth.ramp_up_oracle(job_events=org.job_events).set_index("employee_id")
    snapshot = org.truth.ramp_up_oracle().set_index("employee_id")
    moves = org.job_events[org.job_events["event"] == "transfer"]
    moved = set(moves["employee_id"])
    differs = set(with_events.index[with_events["department"] != snapshot["department"]])
    assert differs and differs <= moved
    first = moves.sort_values("effective_date").drop_duplicates("employee_id")
    first = first.set_index("employee_id")["from_value"]
    both = first.index.intersection(with_events.index)
    assert (with_events.loc[both, "department"] == first[both]).all()


def test_ramp_up_oracle_conditional_on_days_after_hire(org):
    plain = org.truth.ramp_up_oracle(job_events=org.job_events)
    later = org.truth.ramp_up_oracle(job_events=org.job_events, days_after_hire=60)
    assert (later["median_days"] > 60).all()
    assert (later["median_days"] >= plain["median_days"] - 1e-9).all()
    assert (later["mean_days"] >= plain["mean_days"] - 1e-9).all()
    for bad in (-1, True, 1.5):
        with pytest.raises(ValueError, match="days_after_hire"):
            org.truth.ramp_up_oracle(days_after_hire=bad)


def test_ramp_up_oracle_ranks_the_labels(org):
    """Harrell's C of the oracle's median on the observed interval-censored ramp-ups."""
    ramp = tml.labels.ramp_up(org.employees, org.productivity, hired_after=org.start)
    oracle = org.truth.ramp_up_oracle(job_events=org.job_events).set_index("employee_id")
    seen = ramp[ramp["observed"]]
    t = seen["upper_days"].to_numpy()
    m = seen["employee_id"].map(oracle["median_days"]).to_numpy()
    earlier = t[:, None] < t[None, :]
    concordant = (m[:, None] < m[None, :]) & earlier
    ties = (m[:, None] == m[None, :]) & earlier
    c_index = (concordant.sum() + 0.5 * ties.sum()) / earlier.sum()
    assert c_index > 0.75


def test_ramp_up_oracle_without_effects():
    org = simulate_workforce(
        n_employees=150,
        start="2024-01-01",
        end="2024-09-30",
        random_state=2,
        effects={"onboarding": False, "potential": False},
        show_progress=False,
    )
    oracle = org.truth.ramp_up_oracle(job_events=org.job_events)
    per_department = oracle.groupby("department")["median_days"].nunique()
    assert (per_department == 1).all()  # the department's base days, nothing else


# --------------------------------------------------- a small backtest against the oracle
@pytest.fixture(scope="module")
def small_org():
    """1,500 employees over four years: two years of history before the first test cutoff."""
    return simulate_workforce(
        n_employees=1_500, start="2022-01-01", end="2025-12-31", random_state=0, show_progress=False
    )


@pytest.fixture(scope="module")
def flight_features(small_org):
    """Features and 180-day labels on monthly cutoffs, six months after the records begin."""
    org = small_org
    gc.collect()
    gc.freeze()  # the raw statements are ~350k dicts: keep the collector off them
    try:
        stmts = tml.xapi.ingest(
            org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET
        ).statements
    finally:
        gc.unfreeze()
    spine = tml.features.make_spine(org.employees, start="2022-07-01", end="2025-06-01", freq="MS")
    X = tml.features.build(
        spine,
        statements=stmts,
        employees=org.employees,
        reviews=org.reviews,
        competency_ratings=org.competency_ratings,
        job_events=org.job_events,
        course_catalog=org.catalog,
        learning_since=org.start,
    )
    y = tml.labels.flight_risk(spine, org.employees, horizon="180D")
    oracle = org.truth.exit_probability(spine, "180D").to_numpy()
    return X, y, oracle


@pytest.mark.statistical
@pytest.mark.slow
def test_flight_risk_backtest_against_the_oracle(flight_features):
    """Trained on cutoffs whose horizon closed before T, scored after T, next to the oracle.

    The oracle knows which employees are disengaged (a 20% monthly exit hazard against
    0.18%): its AUC (~0.81) is a ceiling no model of the observable data reaches; a Bayes
    filter on the learning records reaches ~0.73 and the models ~0.65-0.68
    (docs/backtests.md). A model above the oracle would mean label leakage. About a minute
    on two quiet cores (simulation, ingestion, features, two boosters).
    """
    X, y, oracle = flight_features
    T = pd.Timestamp("2024-07-01", tz="UTC")
    has_oracle = ~np.isnan(oracle)
    train = has_oracle & (X["as_of"] + pd.Timedelta("180D") <= T).to_numpy()
    test = has_oracle & (X["as_of"] >= T).to_numpy() & y["label"].notna().to_numpy()
    assert X.loc[train, "as_of"].max() + pd.Timedelta("180D") <= T
    model = FlightRisk(
        n_estimators=150, learning_rate=0.08, max_depth=4, min_child_weight=5, random_state=0
    ).fit(X[train], y[train])
    proba = model.predict_proba(X[test])[:, 1]
    label = y["label"][test].astype(int).to_numpy()
    auc = roc_auc_score(label, proba)
    auc_oracle = roc_auc_score(label, oracle[test])
    assert 0.77 < auc_oracle < 0.86, auc_oracle
    assert 0.62 < auc < auc_oracle, (auc, auc_oracle)  # the oracle is the ceiling
    assert auc_oracle - auc < 0.2
    # Calibrated in the large on a later period (within 2 points of the observed rate).
    assert abs(proba.mean() - label.mean()) < 0.02, (proba.mean(), label.mean())
    # The survival view ranks too, and its exit probabilities grow with time.
    exit_p = model.predict_exit_probability(X[test])
    assert (exit_p["exit_3m"] <= exit_p["exit_6m"]).all()
    assert (exit_p["exit_6m"] <= exit_p["exit_12m"]).all()
    assert roc_auc_score(label, model.predict_risk(X[test])) > 0.6
