"""Metric functions of talentml.models: hand-computed cases, textbook definitions, libraries.

The survival metrics are checked against scikit-survival (``concordance_index_censored``,
``concordance_index_ipcw``, ``integrated_brier_score``) and against brute-force pair loops
written from the definitions; calibration bins against scikit-learn's ``calibration_curve``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sksurv.metrics import (
    concordance_index_censored,
)
from sksurv.metrics import (
    concordance_index_ipcw as sksurv_uno,
)
from sksurv.metrics import (
    integrated_brier_score as sksurv_ibs,
)
from sksurv.nonparametric import CensoringDistributionEstimator
from sksurv.util import Surv

from talentml.models._metrics import (
    _BinaryScores,
    _calibration_bins,
    _censoring_km,
    _step,
    concordance_index,
    concordance_index_ipcw,
    decile_table,
    expected_calibration_error,
    integrated_brier_score,
    interval_concordance_index,
    lift_at,
    mae_observed,
    quantile_coverage,
)

PROPERTY = settings(max_examples=60, deadline=None)


# ----------------------------------------------------------------------------- helpers
def brute_harrell(time, event, risk, weight=None):
    """Harrell's C from its definition, one pair at a time."""
    n = len(time)
    w = np.ones(n) if weight is None else weight
    num = den = 0.0
    for i in range(n):
        if not event[i]:
            continue
        for j in range(n):
            if time[j] > time[i] or (time[j] == time[i] and not event[j]):
                den += w[i] * w[j]
                if risk[i] > risk[j]:
                    num += w[i] * w[j]
                elif risk[i] == risk[j]:
                    num += 0.5 * w[i] * w[j]
    return num / den


def brute_interval(lower, upper, predicted):
    num = den = 0.0
    for i in range(len(lower)):
        for j in range(len(lower)):
            surely = upper[i] < lower[j] or (upper[i] == lower[j] and lower[j] < upper[j])
            if not surely:
                continue
            den += 1
            if predicted[i] < predicted[j]:
                num += 1
            elif predicted[i] == predicted[j]:
                num += 0.5
    return num / den


def survival_data(rng, n, *, censor=0.5, ties=True):
    time = rng.integers(1, 30, n).astype(float) if ties else rng.exponential(10, n)
    event = rng.random(n) > censor
    risk = np.round(rng.normal(size=n), 1) if ties else rng.normal(size=n)
    return time, event, risk


# ------------------------------------------------------------------------- calibration
def test_ece_hand_computed():
    y = [0, 1, 0, 1, 1]
    p = [0.1, 0.2, 0.6, 0.7, 0.8]
    # two equal-width bins: [0, .5] holds (0, .1), (1, .2): |0.5 - 0.15| = 0.35, weight 2/5;
    # (.5, 1] holds (0, .6), (1, .7), (1, .8): |2/3 - 0.7| = 1/30, weight 3/5.
    expected = 2 / 5 * 0.35 + 3 / 5 * (0.7 - 2 / 3)
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(expected)


def test_ece_perfectly_calibrated_is_near_zero_and_distorted_is_large():
    rng = np.random.default_rng(0)
    p = rng.beta(1.2, 6, size=200_000)
    y = (rng.random(p.size) < p).astype(int)
    for strategy in ("uniform", "quantile"):
        assert expected_calibration_error(y, p, strategy=strategy) < 0.005
    # the same ranking, distorted probabilities (over-confident): ECE is large
    logit = np.log(p / (1 - p))
    distorted = 1 / (1 + np.exp(-(2.5 * logit + 1.5)))
    assert expected_calibration_error(y, distorted) > 0.05
    assert expected_calibration_error(y, distorted, strategy="quantile") > 0.05
    # a constant shift of 0.05 gives an ECE of about 0.05
    assert expected_calibration_error(y, np.clip(p + 0.05, 0, 1)) == pytest.approx(0.05, abs=0.005)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_bins_match_sklearn(strategy):
    rng = np.random.default_rng(1)
    p = rng.uniform(size=3000) ** 2
    y = (rng.random(p.size) < p).astype(int)
    bins = _calibration_bins(y, p, n_bins=10, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
    np.testing.assert_allclose(bins["observed_rate"], prob_true)
    np.testing.assert_allclose(bins["mean_predicted"], prob_pred)
    assert bins["n"].sum() == p.size


def test_binary_inputs_are_validated_with_rows_named():
    with pytest.raises(ValueError, match=r"y_true must hold 0/1 only; rows \[1\]"):
        expected_calibration_error([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]; rows \[2\]"):
        decile_table([0, 1, 1], [0.1, 0.2, 1.3])
    with pytest.raises(ValueError, match=r"y_prob must be finite; rows \[0\]"):
        lift_at([0, 1, 1], [np.nan, 0.2, 1.3])  # lift takes any score, finite
    with pytest.raises(ValueError, match="different lengths"):
        lift_at([0, 1], [0.1])
    with pytest.raises(ValueError, match="strategy"):
        expected_calibration_error([0, 1], [0.1, 0.2], strategy="kmeans")


# --------------------------------------------------------------------------- lift, deciles
def test_decile_table_hand_computed():
    y = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    p = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    table = decile_table(y, p, n_bins=5)
    assert table["n"].tolist() == [2] * 5
    assert table["events"].tolist() == [2, 1, 0, 0, 0]
    assert table["observed_rate"].tolist() == [1.0, 0.5, 0.0, 0.0, 0.0]
    assert table["lift"].tolist() == pytest.approx([1 / 0.3, 0.5 / 0.3, 0, 0, 0])
    assert table["mean_predicted"].tolist() == pytest.approx([0.85, 0.65, 0.45, 0.25, 0.075])
    assert table["cumulative_events_share"].tolist() == pytest.approx([2 / 3, 1, 1, 1, 1])
    assert table["cumulative_lift"].iloc[-1] == pytest.approx(1.0)
    assert table["min_predicted"].iloc[0] == 0.8 and table["max_predicted"].iloc[0] == 0.9


def test_lift_hand_computed_and_bounded():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    p = np.linspace(1, 0.1, 10)
    assert lift_at(y, p, top_fraction=0.1) == pytest.approx(5.0)  # 1 of 1 vs 2 of 10
    assert lift_at(y, p, top_fraction=1.0) == pytest.approx(1.0)
    assert lift_at(y, -p, top_fraction=0.1) == pytest.approx(5.0)  # the last row is an event too
    with pytest.raises(ValueError, match="single class"):
        lift_at(np.zeros(10), p)


@PROPERTY
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5)), min_size=5, max_size=60),
    st.sampled_from([0.1, 0.2, 0.25, 0.5, 1.0]),
    st.randoms(use_true_random=False),
)
def test_lift_does_not_depend_on_row_order(rows, top, rnd):
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] / 5 for r in rows])  # many ties
    if y.sum() == 0:
        return
    order = list(range(len(rows)))
    rnd.shuffle(order)
    assert lift_at(y, p, top_fraction=top) == pytest.approx(
        lift_at(y[order], p[order], top_fraction=top)
    )
    assert lift_at(y, p, top_fraction=top) <= 1 / (y.mean() * 1) + 1e-9
    assert lift_at(y, p, top_fraction=top) <= 1 / top + 1e-9


# --------------------------------------------------------------------- right-censored
def test_harrell_hand_computed():
    time = [2, 4, 6, 8, 10]
    event = [1, 1, 0, 1, 0]
    # comparable pairs: (2: 4,6,8,10), (4: 6,8,10), (8: 10) = 8 pairs
    risk = [5, 4, 3, 2, 1]
    assert concordance_index(time, event, risk) == 1.0
    risk = [5, 4, 3, 1, 2]  # (8, 10) discordant
    assert concordance_index(time, event, risk) == pytest.approx(7 / 8)
    risk = [5, 4, 4, 2, 1]  # (4, 6) tied: one half
    assert concordance_index(time, event, risk) == pytest.approx(7.5 / 8)
    # an event and a censoring at the same time are comparable (the censored one outlived it)
    assert concordance_index([3, 3], [1, 0], [2, 1]) == 1.0
    # two events at the same time are not
    with pytest.raises(ValueError, match="no comparable pairs"):
        concordance_index([3, 3], [1, 1], [2, 1])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ties", [True, False])
def test_harrell_equals_sksurv_and_definition(seed, ties):
    rng = np.random.default_rng(seed)
    time, event, risk = survival_data(rng, 300, ties=ties)
    ours = concordance_index(time, event, risk)
    assert ours == pytest.approx(concordance_index_censored(event, time, risk)[0], abs=1e-12)
    assert ours == pytest.approx(brute_harrell(time, event, risk), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("tau", [None, 20.0])
def test_uno_equals_sksurv(seed, tau):
    rng = np.random.default_rng(seed)
    time, event, risk = survival_data(rng, 400, censor=0.6)
    y = Surv.from_arrays(event, time)
    tau_ = tau if tau is not None else None
    if tau is None:  # without truncation G must stay positive at the last event time
        event[time == time.max()] = True
        y = Surv.from_arrays(event, time)
    ours = concordance_index_ipcw(time, event, risk, tau=tau_)
    assert ours == pytest.approx(sksurv_uno(y, y, risk, tau=tau_)[0], abs=1e-12)
    # the censoring distribution from other (training) data
    t_train = rng.integers(1, 40, 500).astype(float)
    e_train = rng.random(500) > 0.5
    y_train = Surv.from_arrays(e_train, t_train)
    ours = concordance_index_ipcw(
        time, event, risk, tau=tau_, time_train=t_train, event_train=e_train
    )
    assert ours == pytest.approx(sksurv_uno(y_train, y, risk, tau=tau_)[0], abs=1e-12)


def test_uno_textbook_case():
    # G (Kaplan-Meier of the censoring) is 1 before t=2, 0.8 on [2, 4), 0.8 * 2/3 on [4, 6).
    time = [1, 2, 3, 4, 5, 6]
    event = [1, 0, 1, 0, 1, 0]
    risk = [6, 1, 2, 3, 4, 5]
    w = [1.0, 1 / 0.8**2, 1 / (0.8 * 2 / 3) ** 2]  # weights of the events at 1, 3, 5
    expected = (w[0] * 5) / (w[0] * 5 + w[1] * 3 + w[2] * 1)
    assert concordance_index_ipcw(time, event, risk) == pytest.approx(expected)
    # truncated at tau=4: the event at 5 no longer counts as the earlier member
    expected = (w[0] * 5) / (w[0] * 5 + w[1] * 3)
    assert concordance_index_ipcw(time, event, risk, tau=4) == pytest.approx(expected)
    # without censoring Uno's C is Harrell's C
    assert concordance_index_ipcw(time, [1] * 6, risk) == pytest.approx(
        concordance_index(time, [1] * 6, risk)
    )


def test_uno_needs_positive_censoring_survival():
    # the last two rows: an event and a censoring at t=5 -> G(5) = 0
    with pytest.raises(ValueError, match="smaller tau"):
        concordance_index_ipcw([1, 2, 5, 5], [1, 0, 1, 0], [4, 3, 2, 1])
    assert concordance_index_ipcw([1, 2, 5, 5], [1, 0, 1, 0], [4, 3, 2, 1], tau=4) == 1.0


def test_censoring_km_equals_sksurv():
    rng = np.random.default_rng(3)
    time, event, _ = survival_data(rng, 500)
    est = CensoringDistributionEstimator().fit(Surv.from_arrays(event, time))
    times, g = _censoring_km(time, event, np.ones(len(time)))
    at = np.unique(time)[:-1]
    np.testing.assert_allclose(_step(times, g, at), est.predict_proba(at), atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_integrated_brier_equals_sksurv(seed):
    rng = np.random.default_rng(seed)
    time, event, _ = survival_data(rng, 400, ties=seed == 0)
    grid = np.linspace(np.quantile(time, 0.05), np.quantile(time, 0.9), 9)
    survival = np.sort(rng.uniform(size=(len(time), len(grid))), axis=1)[:, ::-1]
    y = Surv.from_arrays(event, time)
    ours = integrated_brier_score(time, event, survival, grid)
    assert ours == pytest.approx(sksurv_ibs(y, y, survival, grid), abs=1e-12)
    t_train = np.r_[rng.exponential(12, 600) + 0.5, time.max() + 1]  # follow-up covers the test
    e_train = np.r_[rng.random(600) > 0.5, False]
    ours = integrated_brier_score(
        time, event, survival, grid, time_train=t_train, event_train=e_train
    )
    expected = sksurv_ibs(Surv.from_arrays(e_train, t_train), y, survival, grid)
    assert ours == pytest.approx(expected, abs=1e-12)


def test_integrated_brier_hand_computed():
    time = np.array([1.0, 2.0, 3.0, 4.0])
    event = np.array([1, 1, 1, 1])
    grid = np.array([1.5, 2.5, 3.5])
    truth = (time[:, None] > grid[None, :]).astype(float)
    assert integrated_brier_score(time, event, truth, grid) == 0.0
    assert integrated_brier_score(time, event, 1 - truth, grid) == 1.0
    assert integrated_brier_score(time, event, np.full((4, 3), 0.5), grid) == 0.25
    with pytest.raises(ValueError, match="within the follow-up"):
        integrated_brier_score(time, event, np.full((4, 2), 0.5), [1.5, 4.0])
    with pytest.raises(ValueError, match="at least two"):
        integrated_brier_score(time, event, np.full((4, 1), 0.5), [1.5])


@PROPERTY
@given(st.integers(0, 10_000), st.integers(5, 60))
def test_weights_are_multiplicities(seed, n):
    """A row with weight k counts as k copies (what the cluster bootstrap relies on)."""
    rng = np.random.default_rng(seed)
    time, event, risk = survival_data(rng, n)
    event[0] = True
    time[0] = 0.5  # an event before every other time: comparable pairs exist
    w = rng.integers(0, 4, n)
    w[:2] = np.maximum(w[:2], 1)  # row 0 and a later row are kept: a comparable pair
    rep = np.repeat(np.arange(n), w)
    assert concordance_index(time, event, risk, sample_weight=w) == pytest.approx(
        concordance_index(time[rep], event[rep], risk[rep])
    )
    tau = float(np.max(time[rep]))
    assert concordance_index_ipcw(time, event, risk, tau=tau, sample_weight=w) == pytest.approx(
        concordance_index_ipcw(time[rep], event[rep], risk[rep], tau=tau)
    )
    lower = np.where(event, time - 0.5, time)
    upper = np.where(event, time, np.inf)
    assert interval_concordance_index(lower, upper, -risk, sample_weight=w) == pytest.approx(
        interval_concordance_index(lower[rep], upper[rep], -risk[rep])
    )


# -------------------------------------------------------------------- interval-censored
def test_interval_concordance_hand_computed():
    lower = [0, 30, 30, 90]
    upper = [30, 60, np.inf, 90]
    # surely ordered: 0->1 (30 <= 30, (30, 60] is open at 30), 0->2, 0->3, 1->3 (60 < 90)
    predicted = [10, 40, 50, 100]
    assert interval_concordance_index(lower, upper, predicted) == 1.0
    predicted = [40, 40, 50, 30]  # 0-1 tied, 0-2 right, 0-3 wrong, 1-3 wrong
    assert interval_concordance_index(lower, upper, predicted) == pytest.approx(1.5 / 4)
    # an exact time equal to another interval's upper bound: not surely ordered
    assert interval_concordance_index([0, 30, 40], [30, 30, 50], [1, 2, 3]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no comparable pairs"):
        interval_concordance_index([0, 0], [np.inf, np.inf], [1, 2])
    with pytest.raises(ValueError, match=r"lower <= upper.*rows \[1\]"):
        interval_concordance_index([0, 50], [30, 40], [1, 2])


@pytest.mark.parametrize("seed", range(3))
def test_interval_concordance_equals_definition_and_harrell(seed):
    rng = np.random.default_rng(seed)
    n = 150
    lower = rng.integers(0, 8, n) * 30.0
    width = rng.choice([0.0, 30.0, 60.0, np.inf], n)
    upper = lower + width
    predicted = np.round(rng.normal(100, 50, n), -1)
    assert interval_concordance_index(lower, upper, predicted) == pytest.approx(
        brute_interval(lower, upper, predicted), abs=1e-12
    )
    # exact times and right-censoring: Harrell's C on -predicted
    time, event, risk = survival_data(rng, n)
    lower = time
    upper = np.where(event, time, np.inf)
    assert interval_concordance_index(lower, upper, -risk) == pytest.approx(
        concordance_index(time, event, risk), abs=1e-12
    )


def test_mae_and_coverage_hand_computed():
    lower = [0, 30, 60, 90]
    upper = [30, 60, 90, np.inf]
    assert mae_observed(lower, upper, [15, 55, 65, 1000]) == pytest.approx((0 + 10 + 10) / 3)
    # midpoints 15, 45, 75: inside [0, 20], outside [50, 60], inside [70, 80]
    assert quantile_coverage(lower, upper, [0, 50, 70, 0], [20, 60, 80, 1]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="no observed row"):
        mae_observed([0, 10], [np.inf, np.inf], [1, 2])
    with pytest.raises(ValueError, match=r"q_low > q_high in rows \[0\]"):
        quantile_coverage([0], [10], [5], [4])


def test_survival_inputs_are_validated():
    with pytest.raises(ValueError, match=r"time must be finite and >= 0; rows \[1\]"):
        concordance_index([1, -2], [1, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"event must hold 0/1"):
        concordance_index([1, 2], [1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"risk must be finite; rows \[0\]"):
        concordance_index([1, 2], [1, 0], [math.nan, 0.2])


@PROPERTY
@given(st.integers(0, 10_000), st.integers(4, 80), st.sampled_from([0.1, 0.25, 0.5]))
def test_bootstrap_binary_scores_equal_repeated_rows(seed, n, top):
    """The O(n) weighted scores of the bootstrap equal scikit-learn's on repeated rows."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(float)
    p = np.round(rng.uniform(size=n), 1)  # ties
    w = rng.integers(0, 4, n).astype(float)
    rep = np.repeat(np.arange(n), w.astype(int))
    yr, pr = y[rep], p[rep]
    assume_both = len(np.unique(yr)) == 2
    got = _BinaryScores(y, p, n_bins=10, top_fraction=top).values(w)
    if len(rep) == 0:
        assert got == {}
        return
    assert got["brier"] == pytest.approx(brier_score_loss(yr, pr, labels=[0, 1]), abs=1e-12)
    assert got["ece"] == pytest.approx(expected_calibration_error(yr, pr), abs=1e-12)
    assert got["mean_predicted"] == pytest.approx(pr.mean(), abs=1e-12)
    assert got["observed_rate"] == pytest.approx(yr.mean(), abs=1e-12)
    if assume_both:
        assert got["roc_auc"] == pytest.approx(roc_auc_score(yr, pr), abs=1e-12)
        assert got["pr_auc"] == pytest.approx(average_precision_score(yr, pr), abs=1e-12)
    else:
        assert math.isnan(got["roc_auc"])
    if yr.sum() > 0:
        assert got["lift"] == pytest.approx(lift_at(yr, pr, top_fraction=top), abs=1e-12)
    else:
        assert math.isnan(got["lift"])
