"""The observable oracle of the simulator: the disengaged state inferred from the records.

``Truth.disengagement_posterior`` (a Bayes filter over the voluntary learning sessions, with
the simulator's own process) and ``Truth.observable_exit_probability`` (the exit probability
mixed by it) on small simulated organizations: the gap between what the records can show and
the full oracle is a measured figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import talentml as tml
from talentml.datasets import SIMULATION_SECRET, Truth, simulate_workforce
from talentml.datasets._observable import MSG_NO_CATALOG

VIDEO = "Acme Video"


def _world(**effects):
    org = simulate_workforce(
        n_employees=600,
        start="2023-01-01",
        end="2025-06-30",
        random_state=1,
        show_progress=False,
        effects=effects or None,
    )
    statements = tml.xapi.ingest(
        org.raw_statements, identities=org.identities, secret=SIMULATION_SECRET, show_progress=False
    ).statements
    return org, statements


@pytest.fixture(scope="module")
def world():
    return _world()


@pytest.fixture(scope="module")
def null_world():
    """Disengagement switched off: learning no longer changes with the state."""
    return _world(disengagement=False)


def _oracles(org, statements):
    table = org.truth.flight_risk_oracle("180D")
    rows = table[["employee_id", "as_of"]]
    return table, {
        "state_free": org.truth.exit_probability(rows, p_disengaged=0.0),
        "observable": org.truth.observable_exit_probability(rows, statements),
        "full": org.truth.exit_probability(rows),
    }


def test_observable_oracle_lies_between_the_state_free_and_the_full_oracle(world):
    org, statements = world
    table, oracles = _oracles(org, statements)
    assert np.allclose(oracles["full"], table["p_exit"])  # the full oracle of the table
    auc = {k: roc_auc_score(table["label"], p) for k, p in oracles.items()}
    # measured on this organization: 0.627 < 0.714 < 0.789; the margins are the gaps that
    # what the records show closes (state-free -> observable) and leaves (observable -> full)
    assert auc["state_free"] + 0.03 < auc["observable"] < auc["full"] - 0.03, auc
    p = oracles["observable"].to_numpy()
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    # mixing: never below the engaged case nor above the disengaged one
    disengaged = org.truth.exit_probability(table[["employee_id", "as_of"]], p_disengaged=1.0)
    assert (oracles["state_free"].to_numpy() <= p + 1e-12).all()
    assert (p <= disengaged.to_numpy() + 1e-12).all()


def test_the_posterior_ranks_the_true_state(world):
    org, statements = world
    post = org.truth.disengagement_posterior(statements)
    hz = org.truth.hazard
    assert len(post) == len(hz)
    assert post["employee_id"].astype(str).tolist() == hz["employee_id"].astype(str).tolist()
    assert (post["month"].to_numpy() == hz["month"].to_numpy()).all()
    p = post["p_disengaged"].to_numpy()
    assert ((p >= 0) & (p <= 1)).all()
    # measured: 0.87; a posterior that ignored the records would be near 0.5
    assert roc_auc_score(hz["disengaged"], p) > 0.8
    # and it is calibrated enough to be a probability: mean close to the true share
    assert abs(p.mean() - hz["disengaged"].mean()) < 0.02


def test_video_statements_count_resolved_or_not(world):
    """The video platform's IRIs are the catalog's videos: raw or resolved, same posterior;
    without the videos the records show less (a different posterior)."""
    org, statements = world
    raw = org.truth.disengagement_posterior(statements)
    resolver = tml.xapi.ActivityResolver().fit(statements, course_catalog=org.catalog)
    resolved = org.truth.disengagement_posterior(resolver.apply(statements))
    np.testing.assert_array_equal(raw["p_disengaged"], resolved["p_disengaged"])
    aliases = org.truth.activity_aliases
    video = set(aliases.loc[aliases["platform"] == VIDEO, "object_id"])
    assert statements["object_id"].isin(video).any()
    no_video = statements[~statements["object_id"].isin(video).to_numpy()]
    without = org.truth.disengagement_posterior(no_video)
    assert not np.allclose(without["p_disengaged"], raw["p_disengaged"])


@pytest.mark.statistical
def test_without_disengagement_the_records_carry_no_information(null_world):
    org, statements = null_world
    post = org.truth.disengagement_posterior(statements)
    nothing = org.truth.disengagement_posterior(statements.iloc[:0])
    # the posterior is the prior: the same with every statement or none
    np.testing.assert_allclose(post["p_disengaged"], nothing["p_disengaged"], atol=1e-12)
    # the prior of a flat 0.95% monthly hazard of disengaging against a 20% monthly exit
    # hazard once disengaged: a few percent, never more than its fixed point (~4.5%)
    assert post["p_disengaged"].max() < 0.05
    assert org.truth.hazard["disengaged"].any()  # the state still exists; it is invisible


def test_exit_probability_mixes_the_two_states(world):
    org, _ = world
    rows = org.truth.flight_risk_oracle("180D")[["employee_id", "as_of"]].head(500)
    engaged = org.truth.exit_probability(rows, p_disengaged=0.0).to_numpy()
    disengaged = org.truth.exit_probability(rows, p_disengaged=1.0).to_numpy()
    share = np.linspace(0, 1, len(rows))
    mixed = org.truth.exit_probability(rows, p_disengaged=share).to_numpy()
    np.testing.assert_allclose(mixed, share * disengaged + (1 - share) * engaged, rtol=1e-12)
    assert (disengaged > engaged).all()
    with pytest.raises(ValueError, match="p_disengaged has 3 values for 500 spine rows"):
        org.truth.exit_probability(rows, p_disengaged=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]; 1 values are not"):
        org.truth.exit_probability(rows, p_disengaged=np.r_[1.5, np.zeros(499)])


def test_bad_statements_and_a_truth_without_catalog_are_named(world):
    org, statements = world
    with pytest.raises(ValueError, match=r"lack the column\(s\) \['verb'\]"):
        org.truth.disengagement_posterior(statements.drop(columns="verb"))
    fields = {f: getattr(org.truth, f) for f in Truth.__dataclass_fields__ if f != "catalog"}
    bare = Truth(**fields)
    assert bare.catalog.empty
    with pytest.raises(ValueError, match="has no catalog"):
        bare.disengagement_posterior(statements)
    assert "truth.catalog = org.catalog" in MSG_NO_CATALOG


def test_posterior_at_a_mid_month_as_of_is_the_month_start(world):
    org, statements = world
    rows = org.truth.flight_risk_oracle("180D")[["employee_id", "as_of"]].head(200)
    later = rows.assign(as_of=rows["as_of"] + pd.Timedelta(days=10))
    np.testing.assert_allclose(
        org.truth.observable_exit_probability(later, statements),
        org.truth.observable_exit_probability(rows, statements),
    )
