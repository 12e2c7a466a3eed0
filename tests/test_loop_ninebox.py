"""The 9-box's potential axis by group: the check finds planted rater bias, and only it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentml.datasets import simulate_workforce
from talentml.loop import PotentialBias, plot_potential_bias, potential_bias
from talentml.models import nine_box
from test_loop_world import small_world

AS_OF = pd.Timestamp("2025-03-01", tz="UTC")


def _latest_reviews(org) -> pd.DataFrame:
    """Active employees at AS_OF with their latest review submitted before it (plain pandas)."""
    emp = org.employees
    active = emp[
        (emp["hire_date"] <= AS_OF)
        & (emp["termination_date"].isna() | (emp["termination_date"] >= AS_OF))
    ]
    known = org.reviews[org.reviews["submitted_at"] < AS_OF].sort_values("submitted_at")
    last = known.groupby("employee_id").last()
    X = pd.DataFrame({"employee_id": active["employee_id"].to_numpy(), "as_of": AS_OF})
    X = X.join(last[["overall_rating", "potential_rating"]], on="employee_id")
    return X.rename(
        columns={"overall_rating": "rating_latest", "potential_rating": "potential_latest"}
    )


def _grid(org) -> pd.DataFrame:
    """The 9-box of calibration meetings: reviews' performance x the managers' potential rating."""
    X = _latest_reviews(org)
    return nine_box(X, performance="rating_latest", potential=X["potential_latest"], agility=None)


@pytest.fixture(scope="module", params=[True, False], ids=["rater_bias", "no_rater_bias"])
def case(request):
    org = simulate_workforce(
        n_employees=1_200,
        start="2024-01-01",
        end="2025-03-31",
        random_state=0,
        effects={"rater_bias": request.param},
        show_progress=False,
    )
    return request.param, org, potential_bias(_grid(org), org.sensitive, reference="male")


def test_planted_rater_bias_is_found_and_only_then(case) -> None:
    planted, org, result = case
    by = result.by_group
    female = by.loc["female"]
    assert female["n"] > 100 and by.loc["male", "n"] > 100
    if planted:
        # women with the same performance are placed "high performer / low potential" more
        assert result.flagged == ["female"]
        assert female["ratio_low_potential"] > 1.8 and female["p_value"] < 0.01
        assert result.p_value < 0.01
        assert "flagged female" in result.summary()
    else:
        assert result.flagged == []
        assert female["p_value"] > 0.05
    # the counts add up: every high performer is in exactly one potential band
    bands = by[["low_potential", "moderate_potential", "high_potential"]].sum(axis=1)
    assert (bands == by["n"]).all()
    assert by.loc["male", "ratio_low_potential"] == 1.0 and np.isnan(by.loc["male", "p_value"])


def test_brute_force_shares(case) -> None:
    _, org, result = case
    grid = _grid(org)
    sex = grid["employee_id"].map(org.sensitive.set_index("employee_id")["sex"])
    for group, row in result.by_group.iterrows():
        high = grid[(grid["performance_band"] == "high") & (sex == group)]
        n = len(high)
        assert row["n"] == n
        if n:
            assert row["share_low_potential"] == pytest.approx(
                (high["potential_band"] == "low").mean()
            )
            solid = (high["persona"] == "Solid Professional").mean()
            assert row["share_low_potential"] == pytest.approx(solid)  # box 3 is the persona


def test_plot_and_personas(case) -> None:
    _, _, result = case
    ax = plot_potential_bias(result)
    assert len(ax.patches) == 3 * len(result.by_group)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(lab.startswith("female (n=") for lab in labels)
    assert set(result.personas.columns) <= set(result.by_group.index)
    np.testing.assert_allclose(result.personas.sum(axis=0).to_numpy(), 1.0)
    assert isinstance(result, PotentialBias)


def test_on_model_potential_with_agility() -> None:
    """The data-driven 9-box (potential from a probability and learning agility) works too."""
    world = small_world()
    X = world.X[world.X["as_of"] == AS_OF].reset_index(drop=True)
    lat = world.org.truth.latent.set_index("employee_id")
    probability = X["employee_id"].map(lat["potential"]).rank(pct=True)
    grid = nine_box(X, potential=probability.to_numpy())
    result = potential_bias(grid, world.org.sensitive, min_group=10)
    assert result.reference == result.by_group["n"].idxmax()
    assert result.by_group["n_placed"].sum() == grid["box"].notna().sum()


def test_input_errors() -> None:
    grid = pd.DataFrame(
        {
            "employee_id": ["a", "a"],
            "performance_band": ["high", "high"],
            "potential_band": ["low", "high"],
        }
    )
    s = pd.DataFrame({"employee_id": ["a"], "sex": ["female"]})
    with pytest.raises(ValueError, match="single as_of"):
        potential_bias(grid, s)
    with pytest.raises(ValueError, match="among must be"):
        potential_bias(grid.head(1), s, among="top")
    with pytest.raises(ValueError, match="reference group 'male'"):
        potential_bias(grid.head(1), s, reference="male")
    # an employee missing from the sensitive table is its own group, not dropped
    out = potential_bias(grid.head(1).assign(employee_id="zz"), s)
    assert out.by_group.index.tolist() == ["(missing)"]
