"""ROI of a program: retention recovered against the simulator's planted effect, the money."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest

from talentml.datasets import Effects, simulate_workforce
from talentml.loop import DEFAULT_ASSUMPTIONS, ROI, roi, roi_money
from talentml.loop._roi import _sensitivity
from talentml.loop._roi_retention import _design, _km

PLANTED_RATIO = 0.4
COSTS = {"per_participant": 3000.0, "hours_per_participant": 40.0}


def _participation(org) -> pd.DataFrame:
    lat = org.truth.latent.dropna(subset=["track_start"])
    return pd.DataFrame(
        {
            "employee_id": lat["employee_id"],
            "started_at": lat["track_start"],
            "completed_at": lat["track_end"],
        }
    )


@pytest.fixture(scope="module")
def world():
    """1,500 employees, three years, default effects plus the program's retention effect."""
    return simulate_workforce(
        n_employees=1_500,
        random_state=0,
        effects={"program_retention": True, "program_retention_hazard_ratio": PLANTED_RATIO},
        show_progress=False,
    )


@pytest.fixture(scope="module")
def result(world) -> ROI:
    return roi(
        "Emerging Leaders",
        employees=world.employees,
        participation=_participation(world),
        reviews=world.reviews,
        costs=COSTS,
        values={"annual_salary": 90_000, "value_per_rating_point": 1_000},
        assumptions={"minutes_per_manual_action": 12},
        actions=2_000,
        end=world.truth.end,
        n_bootstrap=200,
        random_state=0,
    )


# ------------------------------------------------------------------------ the simulator
def _value(v) -> str:
    if isinstance(v, list | tuple | np.ndarray):
        return repr([_value(x) for x in v])
    return "NA" if pd.isna(v) else repr(v)


def _digest(org) -> str:
    h = hashlib.sha256()
    for name in sorted(org.tables):
        table = org.tables[name]
        h.update(name.encode())
        for c in table.columns:
            h.update(str(c).encode())
            h.update("|".join(_value(v) for v in table[c].tolist()).encode())
    h.update(json.dumps(org.raw_statements, sort_keys=True, default=str).encode())
    for name in ("latent", "hazard"):
        t = getattr(org.truth, name)
        h.update("|".join(_value(v) for c in t.columns for v in t[c].tolist()).encode())
    return h.hexdigest()


# Digests of these organizations simulated before the program retention effect existed
# (pandas 2 and 3 alike): switched off, it leaves the world bit-for-bit as it was.
DIGESTS = {
    "default": "de40d47f276ee64776ea9077695458a6a6a01e321d76809da18967f47c8a1599",
    "none": "1edf65deb80fca87aa78847c6dc69abd13b08c8b0ea9a3953a8df96555895e98",
}


@pytest.mark.parametrize("name", ["default", "none"])
def test_retention_effect_off_leaves_the_world_unchanged(name):
    fx = None if name == "default" else Effects.none()
    org = simulate_workforce(
        n_employees=150, start="2024-01-01", end="2025-06-30", random_state=3, effects=fx,
        show_progress=False,
    )  # fmt: skip
    assert not org.effects.program_retention
    assert _digest(org) == DIGESTS[name]


def test_retention_effect_draws_no_random_number():
    """On with a ratio of 1, the world is the one simulated with the effect off."""
    kw = {"n_employees": 150, "start": "2024-01-01", "end": "2025-06-30", "random_state": 3}
    off = simulate_workforce(**kw, show_progress=False)
    on = simulate_workforce(
        **kw, effects={"program_retention": True, "program_retention_hazard_ratio": 1.0},
        show_progress=False,
    )  # fmt: skip
    for name in off.tables:
        pd.testing.assert_frame_equal(off.tables[name], on.tables[name])
    pd.testing.assert_frame_equal(off.truth.hazard, on.truth.hazard)


def test_retention_effect_truth(world, org_null):
    truth = world.truth.program_retention("365D")
    assert truth["hazard_ratio"] == PLANTED_RATIO
    assert truth["n_completers"] > 100
    assert truth["difference"] < -0.02
    assert truth["p_exit_completed"] < truth["p_exit_without"]
    null = org_null.truth.program_retention("365D")
    assert null["hazard_ratio"] == 1.0 and null["difference"] == 0.0
    # the completers' recorded hazards carry the ratio from the month after completion
    lat = world.truth.latent.dropna(subset=["track_end"]).set_index("employee_id")
    hz = world.truth.hazard
    end = hz["employee_id"].map(lat["track_end"])
    after = end.notna() & (end < hz["month"])
    assert np.allclose(hz.loc[after, "h_engaged"], 0.0018 * PLANTED_RATIO)
    assert np.allclose(hz.loc[~after, "h_engaged"], 0.0018)


def test_effects_refuse_a_ratio_that_is_not_positive():
    with pytest.raises(ValueError, match="program_retention_hazard_ratio must be > 0"):
        Effects(program_retention=True, program_retention_hazard_ratio=0.0)


# ------------------------------------------------------------------------ retention
@pytest.mark.statistical
def test_retention_recovers_the_planted_effect(world, result):
    truth = world.truth.program_retention("365D")["difference"]
    row = result.retention.loc["difference"]
    assert row["ci_low"] <= truth <= row["ci_high"], (row.to_dict(), truth)
    assert row["estimate"] < 0
    assert result.n_participants == pytest.approx(
        world.truth.program_retention("365D")["n_completers"], abs=5
    )
    # the survival curves start near 1 (exits on day 0 count), fall, end at 1 - exit probability
    c = result.curves
    assert c["participants"].iloc[0] > 0.99 and c["comparison"].iloc[0] > 0.99
    assert (np.diff(c["participants"]) <= 0).all() and (np.diff(c["comparison"]) <= 0).all()
    assert 1 - c["participants"].iloc[-1] == pytest.approx(
        result.retention.loc["p exit participants", "estimate"]
    )


@pytest.mark.statistical
def test_retention_finds_nothing_when_switched_off(org_null):
    null = roi(
        "Emerging Leaders",
        employees=org_null.employees,
        participation=_participation(org_null),
        reviews=org_null.reviews,
        costs=COSTS,
        outcome=None,
        end=org_null.truth.end,
        n_bootstrap=100,
        random_state=0,
    )
    diff = null.retention.loc["difference"]
    assert diff["ci_low"] <= 0.0 <= diff["ci_high"], diff.to_dict()
    ratio = null.retention.loc["rate ratio"]
    assert ratio["ci_low"] <= 1.0 <= ratio["ci_high"], ratio.to_dict()
    assert null.productivity.empty
    assert null.money.set_index("item").loc["productivity value", "value"] == 0.0


def test_kaplan_meier_by_hand():
    # 4 people: exit at 1, censored at 2, exit at 3, censored at 4
    s = _km(np.array([1.0, 2, 3, 4]), np.array([1, 0, 1, 0]), np.ones(4), np.array([0, 1, 3, 5]))
    assert s.tolist() == [1.0, 0.75, 0.375, 0.375]
    # weights count as copies
    w = _km(np.array([1.0, 3]), np.array([1, 1]), np.array([2.0, 1.0]), np.array([2.0]))
    assert w.tolist() == pytest.approx([1 / 3])


def test_matching_sees_only_reviews_submitted_before_the_start_month(world):
    part = _participation(world)
    done = part.dropna(subset=["completed_at"]).iloc[0]
    as_of = done["started_at"].tz_convert("UTC").tz_localize(None).to_period("M")
    as_of = as_of.to_timestamp().tz_localize("UTC")
    base = _design(
        world.employees, part, world.reviews, covariates=["overall_rating"], end=world.truth.end
    )
    row = int(np.flatnonzero(base.t_emp == done["employee_id"])[0])

    def with_review(at):
        extra = world.reviews.iloc[:1].copy()
        extra["employee_id"] = done["employee_id"]
        extra["submitted_at"] = at
        extra["overall_rating"] = 1.0 if base.t_x[row, 0] != 1.0 else 5.0
        reviews = pd.concat([world.reviews, extra], ignore_index=True)
        d = _design(
            world.employees, part, reviews, covariates=["overall_rating"], end=world.truth.end
        )
        return d.t_x[row, 0]

    assert with_review(as_of) == base.t_x[row, 0]  # known at the start month: not before it
    assert with_review(as_of - pd.Timedelta(seconds=1)) != base.t_x[row, 0]


# ------------------------------------------------------------------------ money
def _inputs(**overrides) -> dict[str, float]:
    base = {
        "per_participant": 1000.0,
        "hours_per_participant": 10.0,
        "fixed": 5000.0,
        "annual_salary": 100_000.0,
        "replacement_cost_multiple": 0.5,
        "hourly_rate": 50.0,
        "value_per_rating_point": 2000.0,
        "minutes_per_manual_action": 12.0,
    }
    return {**base, **overrides}


def test_money_by_hand():
    m = roi_money(_inputs(), difference=-0.05, rating_change=0.3, n_participants=100, n_actions=500)
    # 5 exits avoided x 0.5 x 100,000; 500 x 12 / 60 = 100 h x 50; 0.3 x 100 x 2,000
    assert m["exits_avoided"] == pytest.approx(5.0)
    assert m["retention_value"] == pytest.approx(250_000.0)
    assert m["hours_saved"] == pytest.approx(100.0)
    assert m["efficiency_value"] == pytest.approx(5_000.0)
    assert m["productivity_value"] == pytest.approx(60_000.0)
    # 5,000 + 100 x (1,000 + 10 x 50)
    assert m["cost"] == pytest.approx(155_000.0)
    assert m["net_value"] == pytest.approx(250_000 + 5_000 + 60_000 - 155_000)
    assert m["roi"] == pytest.approx(160_000 / 155_000)


def test_money_table_matches_the_arithmetic(result):
    items = result.money.set_index("item")
    inputs = dict(zip(result.inputs["name"], result.inputs["value"], strict=True))
    m = roi_money(
        inputs,
        difference=items.loc["difference in exit probability", "value"],
        rating_change=items.loc["rating change", "value"],
        n_participants=result.n_participants,
        n_actions=result.n_actions,
    )
    for key, item in (("net_value", "net value"), ("cost", "cost"), ("roi", "ROI"),
                      ("retention_value", "retention value")):  # fmt: skip
        assert items.loc[item, "value"] == pytest.approx(m[key])
    assert result.net_value == pytest.approx(m["net_value"])
    assert items.loc["hours saved", "value"] == pytest.approx(2_000 * 12 / 60)
    assert result.net_value_ci_low <= result.net_value <= result.net_value_ci_high
    assert result.roi_ci_low <= result.roi <= result.roi_ci_high
    assert len(result.bootstrap) == 200


def test_sensitivity_and_break_even_on_a_linear_case():
    inputs = _inputs()
    measured = {"difference": -0.05, "rating_change": 0.3, "n_participants": 100,
                "n_actions": 500}  # fmt: skip
    table = _sensitivity(inputs, measured).set_index("name")
    assert list(table.index) == list(inputs)
    base = roi_money(inputs, **measured)["net_value"]  # 160,000
    # per participant: net = 315,000 - 5,000 - 100 x 500 - 100 x c = 0 at c = 2,600
    assert table.loc["per_participant", "break_even"] == pytest.approx(2_600.0)
    assert table.loc["per_participant", "net_value_low"] == pytest.approx(base + 100 * 500)
    assert table.loc["per_participant", "net_value_high"] == pytest.approx(base - 100 * 500)
    # annual salary: retention value 2.5 x salary; net = 2.5 s - 90,000 = 0 at s = 36,000
    assert table.loc["annual_salary", "break_even"] == pytest.approx(36_000.0)
    # every break-even value zeroes the net value
    for name, row in table.iterrows():
        if np.isfinite(row["break_even"]):
            m = roi_money({**inputs, name: row["break_even"]}, **measured)
            assert m["net_value"] == pytest.approx(0.0, abs=1e-6)
    # an assumption that does not move the money has no break-even value
    no_actions = _sensitivity(inputs, {**measured, "n_actions": 0}).set_index("name")
    assert math.isnan(no_actions.loc["minutes_per_manual_action", "break_even"])


# ------------------------------------------------------------------------ outputs
def test_every_output_names_the_assumptions(result):
    assert set(result.inputs["kind"]) == {"assumption"}
    assert set(result.inputs["name"]) == set(DEFAULT_ASSUMPTIONS)
    src = result.inputs.set_index("name")["source"]
    assert src["per_participant"] == "user" and src["hourly_rate"] == "default"
    frame = result.to_frame()
    assert set(frame["kind"]) == {"measured", "derived", "assumption"}
    # the count of automated actions was typed in (actions=2_000): the user's figure too
    assumed = set(DEFAULT_ASSUMPTIONS) | {"automated actions"}
    assert set(frame.loc[frame["kind"] == "assumption", "item"]) == assumed
    flat = result.to_dict()
    assert flat["assumption.minutes_per_manual_action"] == 12.0
    assert all(isinstance(v, int | float) for v in flat.values())
    doc = json.loads(result.to_json())
    assert "assumption" in doc["assumption_note"]
    assert "Assumptions (set by the user, not measured)" in result.to_html()


def test_json_round_trip(result, tmp_path):
    path = tmp_path / "roi.json"
    text = result.to_json(path)
    assert path.read_text(encoding="utf-8") == text
    back = ROI.from_json(text)
    a, b = result.to_dict(), back.to_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == pytest.approx(b[k]), k
    for name in ("money", "retention", "inputs", "sensitivity", "curves", "productivity"):
        pd.testing.assert_frame_equal(
            getattr(back, name), getattr(result, name), check_dtype=False, check_names=False
        )
    assert back.to_json() == text


def test_html_escapes(result):
    hostile = dataclasses.replace(result, program='<script>alert("x")</script>')
    page = hostile.to_html()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page


def test_plot(result):
    ax = result.plot()
    assert ax.get_xlabel() == "Days after completion"
    assert len(ax.get_lines()) == 2


def test_clear_errors(world):
    kw = {"employees": world.employees, "reviews": world.reviews, "outcome": None,
          "n_bootstrap": 0, "participation": _participation(world)}  # fmt: skip
    with pytest.raises(ValueError, match=r"costs\['per_participant'\].*no default"):
        roi("p", costs={}, **kw)
    with pytest.raises(ValueError, match="unknown values key"):
        roi("p", costs=COSTS, values={"salary": 1}, **kw)
    twice = pd.concat([kw["participation"].iloc[:2]] * 2)
    with pytest.raises(ValueError, match="table 'participation'.*several rows"):
        roi("p", costs=COSTS, **{**kw, "participation": twice})
    with pytest.raises(ValueError, match="missing column"):
        roi("p", costs=COSTS, **{**kw, "reviews": world.reviews.drop(columns="submitted_at")})


# ------------------------------------------------------------------------ ramp-up
def _onboarding(org):
    """Onboarding completions (from the ingested statements on onboarding modules) and the
    ramp-up labels of ``org``."""
    import talentml as tml
    from talentml.datasets import SIMULATION_SECRET
    from talentml.loop import track_completions

    ids = set(org.catalog.loc[org.catalog["program"] == "onboarding", "activity_id"])
    raw = [s for s in org.raw_statements if (s.get("object") or {}).get("id") in ids]
    st = tml.xapi.ingest(raw, identities=org.identities, secret=SIMULATION_SECRET).statements
    part = track_completions(st, course_catalog=org.catalog, program="onboarding")
    return part, tml.labels.ramp_up(org.employees, org.productivity, hired_after=org.start)


@pytest.mark.statistical
@pytest.mark.parametrize("name", ["org", "org_null"])
def test_ramp_up_recovers_the_planted_onboarding_effect(name, request):
    """Engaged hires complete onboarding early and ramp up faster (log days - 0.3 x engagement):
    early completers ramp up faster on ``org``; with every effect off, the interval covers 0.
    The core :func:`roi` runs for ramp-up (its retention part on this many comparisons is
    exercised by the integration test below)."""
    from talentml.loop._roi_rampup import _ramp_design, _ramp_up

    org = request.getfixturevalue(name)
    part, ramp = _onboarding(org)
    d = _ramp_design(ramp, part, org.employees, window_days=30.0)
    full, reps = _ramp_up(d, n_bootstrap=200, random_state=0, progress=lambda it: it)
    lo, hi = np.quantile(reps["difference"], [0.025, 0.975])
    assert full["n_participants"] > 100 and full["n_comparison"] > 200
    if name == "org":
        assert hi < 0, (full, lo, hi)
        # the truth: completers are more engaged, engagement shortens the ramp-up
        lat = org.truth.latent.set_index("employee_id")["onboarding_engagement"]
        assert lat[d.t_emp].mean() > lat[d.c_emp].mean() + 0.3
    else:
        assert lo <= 0 <= hi, (full, lo, hi)
    # completions after the first productive period are never counted as participants
    done = part.set_index("employee_id")["completed_at"]
    r = ramp.set_index("employee_id")
    after = (done[d.t_emp] - r.loc[d.t_emp, "hire_date"]) / pd.Timedelta(days=1)
    assert (after.to_numpy() < r.loc[d.t_emp, "upper_days"].to_numpy()).all()


def test_ramp_up_in_roi_money_and_outputs(org):
    """roi(..., ramp_up=...) on the hires made during the simulation: rows, JSON, HTML."""
    part, ramp = _onboarding(org)
    hires = org.employees[org.employees["hire_date"] >= org.start]
    reviews = org.reviews[org.reviews["employee_id"].isin(hires["employee_id"])]
    r = roi(
        "Onboarding", employees=hires, participation=part, reviews=reviews,
        costs={"per_participant": 500.0}, values={"annual_salary": 73_000.0},
        assumptions={"productivity_share_while_ramping": 0.4}, ramp_up=ramp, outcome=None,
        end=org.truth.end, n_bootstrap=20, random_state=0,
    )  # fmt: skip
    items = r.money.set_index("item")
    saved = items.loc["ramp-up days saved", "value"]
    n = items.loc["ramp-up participants", "value"]
    assert saved == pytest.approx(-r.ramp_up.loc["difference", "estimate"])
    assert items.loc["ramp-up days saved", "kind"] == "measured"
    # by hand: days x participants x 73,000 / 365 (= 200 a calendar day) x (1 - 0.4)
    assert items.loc["ramp-up value", "value"] == pytest.approx(saved * n * 200.0 * 0.6)
    assert items.loc["ramp-up value", "kind"] == "derived"
    assert "bootstrap" not in r.excluded and set(r.excluded["analysis"]) <= {"retention", "ramp-up"}
    assert len(r.bootstrap["ramp_up_days_saved"]) == 20
    flat = r.to_dict()
    assert flat["assumption.productivity_share_while_ramping"] == 0.4
    assert flat["ramp_up.difference.estimate"] == r.ramp_up.loc["difference", "estimate"]
    back = ROI.from_json(r.to_json())
    pd.testing.assert_frame_equal(back.ramp_up, r.ramp_up, check_dtype=False, check_names=False)
    assert "Ramp-up (measured" in r.to_html()


def test_ramp_up_money_by_hand():
    base = roi_money(_inputs(), difference=0.0, rating_change=0.0, n_participants=100,
                     n_actions=0)  # fmt: skip
    m = roi_money(
        _inputs(productivity_share_while_ramping=0.5), difference=0.0, rating_change=0.0,
        n_participants=100, n_actions=0, ramp_up_days_saved=20.0, n_ramp_up=50,
    )  # fmt: skip
    # 20 days x 50 hires x 100,000 / 365 x (1 - 0.5)
    assert m["ramp_up_value"] == pytest.approx(20 * 50 * 100_000 / 365 * 0.5)
    assert m["net_value"] - base["net_value"] == pytest.approx(m["ramp_up_value"])
    nan = roi_money(_inputs(), difference=0.0, rating_change=0.0, n_participants=1, n_actions=0,
                    ramp_up_days_saved=float("nan"), n_ramp_up=5)  # fmt: skip
    assert nan["ramp_up_value"] == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        roi("p", employees=None, participation=None, reviews=None, costs=COSTS,
            assumptions={"productivity_share_while_ramping": 1.5})  # fmt: skip
