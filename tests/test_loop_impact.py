"""Learning impact: the matched difference in differences recovers the simulator's effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from talentml.datasets import Effects, simulate_workforce
from talentml.loop import LearningImpact, learning_impact, track_completions
from talentml.loop._impact_estimate import _fit_logit
from test_loop_world import small_world

# How the simulator (datasets/_hr.py) writes a Leadership competency rating: latent
# base = 3 + 0.6 perf + 0.15 potential (+ 2 x size once the track is completed) + N(0, 0.7),
# rounded and clipped to 1-5; perf = performance + 0.12 potential min(years, 6) - 0.35 once
# disengaged (+ size once completed). The effect of completing is 2.6 x size on the latent
# scale; on the observed 1-5 scale, the ceiling at 5 makes it smaller for good performers.
RATING_SD = 0.7


def _expected_rating(mu: np.ndarray) -> np.ndarray:
    """E[clip(round(mu + N(0, sd)), 1, 5)] = 1 + sum_j P(mu + e >= j + 0.5), j = 1..4."""
    return 1.0 + sum(norm.cdf((mu - j - 0.5) / RATING_SD) for j in range(1, 5))


def planted_effect(org, contrasts: pd.DataFrame) -> tuple[float, float]:
    """The simulator's effect on the completers' observed post-track ratings: (observed, latent)."""
    size = org.effects.learning_impact_size
    lat = org.truth.latent.set_index("employee_id")
    hire = org.employees.set_index("employee_id")["hire_date"]
    ends = org.reviews.groupby("cycle_id")["period_end"].max()
    c = contrasts[np.isfinite(contrasts["effect"])]
    ids = c["employee_id"]
    at = c["post_cycle"].map(ends).to_numpy()
    pot = ids.map(lat["potential"]).to_numpy(float)
    years = np.minimum((at - ids.map(hire).to_numpy()) / pd.Timedelta(days=365.25), 6.0)
    dis = ids.map(lat["disengaged_at"]).to_numpy()
    dropped = np.array([not pd.isna(d) and d < t for d, t in zip(dis, at, strict=True)])
    perf = ids.map(lat["performance"]).to_numpy(float) + 0.12 * pot * years.astype(float)
    perf = perf - 0.35 * dropped
    without = 3.0 + 0.6 * perf + 0.15 * pot
    with_track = without + 0.6 * size + 2 * size
    observed = float(np.mean(_expected_rating(with_track) - _expected_rating(without)))
    return observed, 2.6 * size


def _participation(org) -> pd.DataFrame:
    lat = org.truth.latent
    started = lat[lat["track_start"].notna()]
    return pd.DataFrame(
        {
            "employee_id": started["employee_id"],
            "started_at": started["track_start"],
            "completed_at": started["track_end"],
        }
    )


@pytest.fixture(scope="module")
def org_no_impact():
    """The default organization of conftest's ``org`` with the learning impact switched off."""
    return simulate_workforce(
        n_employees=2_000,
        random_state=0,
        effects=Effects(learning_impact=False),
        show_progress=False,
    )


@pytest.fixture(scope="module")
def impact(org) -> LearningImpact:
    return learning_impact(
        _participation(org),
        org.reviews,
        competency_ratings=org.competency_ratings,
        outcome="Leadership",
        n_bootstrap=200,
        random_state=0,
    )


def test_recovers_the_planted_effect_within_its_interval(org, impact) -> None:
    observed, latent = planted_effect(org, impact.contrasts)
    assert latent == pytest.approx(0.65)
    assert 0.4 < observed < latent  # the rating ceiling shrinks the effect on the 1-5 scale
    assert impact.covers(observed), (impact.estimates, observed)
    assert impact.ci_high - impact.ci_low < 0.5
    assert impact.n_treated > 150 and impact.n_controls > 300
    # the naive comparison of completers with everyone else is far off (nomination is
    # confounded by performance and potential), outside the interval
    naive = impact.estimates.loc["naive: completers vs others after"]
    assert naive["estimate"] > impact.ci_high + 0.4
    assert naive["ci_low"] > observed
    # the placebo on the two cycles before the track is compatible with parallel trends
    placebo = impact.estimates.loc["placebo: pre-track trend (should be 0)"]
    assert placebo["ci_low"] <= 0.0 <= placebo["ci_high"]
    # every completer is either used or excluded with a reason
    completers = _participation(org)["completed_at"].notna().sum()
    assert impact.n_treated + len(impact.excluded) == completers
    assert impact.excluded["reason"].notna().all()


def test_no_effect_when_none_was_planted(org_no_impact) -> None:
    result = learning_impact(
        _participation(org_no_impact),
        org_no_impact.reviews,
        competency_ratings=org_no_impact.competency_ratings,
        n_bootstrap=200,
        random_state=0,
    )
    assert result.covers(0.0), result.estimates
    naive = result.estimates.loc["naive: completers vs others after"]
    assert naive["ci_low"] > 0.5  # the naive comparison finds an "effect" that is not there


def test_exact_matching_agrees(org, impact) -> None:
    exact = learning_impact(
        _participation(org),
        org.reviews,
        competency_ratings=org.competency_ratings,
        method="exact",
        n_bootstrap=100,
        random_state=0,
    )
    observed, _ = planted_effect(org, exact.contrasts)
    assert exact.covers(observed)
    assert abs(exact.estimate - impact.estimate) < 0.15
    # the same seed gives the same answer
    again = learning_impact(
        _participation(org),
        org.reviews,
        competency_ratings=org.competency_ratings,
        method="exact",
        n_bootstrap=100,
        random_state=0,
    )
    pd.testing.assert_frame_equal(again.estimates, exact.estimates)


def test_newton_logit_is_scikit_learns_logistic_regression() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 6))
    y = (rng.random(3000) < 1 / (1 + np.exp(-(X @ rng.normal(size=6) - 2)))).astype(float)
    w = _fit_logit(X, y, C=1.0)
    ref = LogisticRegression(C=1.0, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(w[0], ref.intercept_[0], atol=1e-5)
    np.testing.assert_allclose(w[1:], ref.coef_[0], atol=1e-5)


def test_track_completions_from_the_learning_records() -> None:
    world = small_world()
    got = track_completions(world.statements, world.org.catalog, program="leadership")
    lat = world.org.truth.latent.set_index("employee_id")
    truth_start = got["employee_id"].map(lat["track_start"])
    assert truth_start.notna().all()  # only nominated people touch the track
    # the first module starts 3 days after the nomination (weekends shift it a little)
    delay = (got["started_at"] - truth_start) / pd.Timedelta(days=1)
    assert delay.between(2, 7).mean() > 0.95
    done = got["completed_at"].notna()
    truth_end = got["employee_id"].map(lat["track_end"])
    gap = ((got.loc[done, "completed_at"] - truth_end[done]) / pd.Timedelta(days=1)).abs()
    assert done.sum() > 5 and (gap <= 4).mean() > 0.9
    # nobody completes a track the simulator says they did not finish
    assert truth_end[done].notna().all()


def test_input_errors() -> None:
    org = small_world().org
    part = _participation(org)
    with pytest.raises(ValueError, match="no competency rating for 'Leadership Skills'"):
        learning_impact(
            part,
            org.reviews,
            competency_ratings=org.competency_ratings,
            outcome="Leadership Skills",
        )
    with pytest.raises(ValueError, match="pass competency_ratings="):
        learning_impact(part, org.reviews)
    with pytest.raises(ValueError, match="method must be"):
        learning_impact(part, org.reviews, outcome="overall_rating", method="ols")
    with pytest.raises(ValueError, match=r"covariate\(s\) \['tenure'\]"):
        learning_impact(part, org.reviews, outcome="overall_rating", covariates=("tenure",))
    with pytest.raises(ValueError, match="several rows"):
        learning_impact(pd.concat([part, part]), org.reviews, outcome="overall_rating")
    with pytest.raises(ValueError, match="program 'mba'"):
        track_completions(small_world().statements, org.catalog, program="mba")
