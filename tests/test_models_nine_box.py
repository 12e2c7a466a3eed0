"""The 9-box: bands, boxes and personas on known inputs; the plot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from talentml.exceptions import PurposeLimitationError
from talentml.models import NINE_BOX_PERSONAS, HighPotential, nine_box, plot_nine_box


def test_personas_of_the_article_sit_in_their_boxes():
    assert NINE_BOX_PERSONAS[9] == "High Potential"
    assert NINE_BOX_PERSONAS[3] == "Solid Professional"  # high performance, low potential
    assert NINE_BOX_PERSONAS[7] == "Miscast Talent"  # low performance, high potential
    assert len(set(NINE_BOX_PERSONAS.values())) == 9


def test_every_box_on_a_known_grid():
    # 9 people, one per cell: performance band = i % 3, potential band = i // 3
    perf = np.array([1.0, 3.0, 5.0] * 3)
    pot = np.repeat([0.1, 0.5, 0.9], 3)
    X = pd.DataFrame({"employee_id": [f"e{i}" for i in range(9)], "rating_latest": perf})
    grid = nine_box(X, potential=pot, agility=None)
    assert grid["box"].tolist() == list(range(1, 10))
    assert grid["persona"].tolist() == [NINE_BOX_PERSONAS[b] for b in range(1, 10)]
    assert grid["performance_band"].tolist() == ["low", "moderate", "high"] * 3
    assert grid["potential_band"].tolist() == ["low"] * 3 + ["moderate"] * 3 + ["high"] * 3
    assert grid["performance_band"].cat.ordered
    assert grid["employee_id"].tolist() == X["employee_id"].tolist()
    assert grid["unplaced"].isna().all()
    assert grid.loc[2, "persona"] == "Solid Professional"
    assert grid.loc[6, "persona"] == "Miscast Talent"


def test_agility_blends_by_rank():
    X = pd.DataFrame(
        {
            "rating_latest": [4.0, 4.0, 4.0],
            "agility_standard_365d": [0.1, 0.2, 10.0],
        }
    )
    prob = [0.30, 0.20, 0.10]
    grid = nine_box(X, potential=prob, agility_weight=0.5)
    # ranks: prob (1, 2/3, 1/3), agility (1/3, 2/3, 1) -> all 2/3: a tie, one band
    assert np.allclose(grid["potential_score"], 2 / 3)
    only_model = nine_box(X, potential=prob, agility_weight=0.0)
    assert only_model["potential_band"].tolist() == ["high", "moderate", "low"]
    only_agility = nine_box(X, potential=prob, agility_weight=1.0)
    assert only_agility["potential_band"].tolist() == ["low", "moderate", "high"]
    # missing agility: the probability's rank alone
    X.loc[0, "agility_standard_365d"] = np.nan
    partial = nine_box(X, potential=prob)
    assert partial.loc[0, "potential_score"] == pytest.approx(1.0)


def test_thresholds_and_unplaced_rows():
    X = pd.DataFrame({"rating_latest": [1.0, 2.9, 3.0, 3.99, 4.0, 5.0, np.nan]})
    grid = nine_box(
        X,
        potential=[0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
        agility=None,
        performance_thresholds=(3, 4),
        potential_thresholds=(0.2, 0.5),
    )
    assert grid["performance_band"].tolist()[:6] == [
        "low",
        "low",
        "moderate",
        "moderate",
        "high",
        "high",
    ]
    assert grid["box"].tolist()[:6] == [7, 7, 8, 8, 9, 9]
    assert grid["box"].isna().iloc[6] and grid["persona"].isna().iloc[6]
    assert grid["unplaced"].tolist()[6] == "no_performance"
    missing_pot = nine_box(X.iloc[:3], potential=[0.5, np.nan, 0.2], agility=None)
    assert missing_pot["unplaced"].tolist()[1] == "no_potential"
    with pytest.raises(ValueError, match="increasing"):
        nine_box(X, potential=[0.5] * 7, agility=None, performance_thresholds=(4, 3))


def test_terciles_with_ties_share_a_band():
    ratings = pd.Series([1, 2, 3, 3, 3, 3, 4, 5, 5], dtype=float)
    grid = nine_box(performance=ratings, potential=np.linspace(0, 1, 9), agility=None)
    bands = grid.groupby("performance")["performance_band"].nunique()
    assert (bands == 1).all()
    assert set(grid.loc[grid["performance"] == 3, "performance_band"]) == {"moderate"}


def test_off_hours_agility_is_refused():
    X = pd.DataFrame({"rating_latest": [3.0], "agility_offhours_365d": [2]})
    with pytest.raises(PurposeLimitationError, match="caregivers"):
        nine_box(X, potential=[0.5], agility="agility_offhours_365d")
    with pytest.raises(ValueError, match="no column 'agility_standard_90d'"):
        nine_box(X, potential=[0.5], agility="agility_standard_90d")
    with pytest.raises(ValueError, match="either potential or model"):
        nine_box(X, potential=[0.5], model=object(), agility=None)


def test_with_a_high_potential_model():
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame(
        {
            "rating_latest": rng.integers(1, 6, n).astype(float),
            "agility_standard_365d": rng.gamma(2.0, 1.0, n),
        }
    )
    p = 1 / (1 + np.exp(-(-3 + 0.5 * X["rating_latest"] + 0.5 * X["agility_standard_365d"])))
    y = (rng.random(n) < p).astype(int)
    model = HighPotential(n_estimators=30, random_state=0, n_jobs=1).fit(X, y)
    grid = nine_box(X, model=model)
    assert np.allclose(grid["potential_probability"], model.predict_proba(X)[:, 1])
    assert grid["box"].notna().all()
    assert grid["box"].value_counts().size == 9
    # higher potential score, never a lower potential band
    order = grid.sort_values("potential_score")
    codes = order["potential_band"].cat.codes.to_numpy()
    assert np.all(np.diff(codes) >= 0)


def test_plot_nine_box():
    grid = nine_box(
        performance=pd.Series([1.0, 3.0, 5.0, 5.0]), potential=[0.1, 0.5, 0.9, 0.95], agility=None
    )
    ax = plot_nine_box(grid)
    assert len(ax.patches) == 9
    texts = [t.get_text() for t in ax.texts]
    for persona in NINE_BOX_PERSONAS.values():
        assert persona in texts
    assert "2 (50%)" in texts  # box 9 holds two of the four
    assert ax.get_xlabel() == "Performance (reviews)"
    with pytest.raises(ValueError, match="output of nine_box"):
        plot_nine_box(pd.DataFrame({"x": [1]}))
